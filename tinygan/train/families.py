"""The model families a run can train, by the registry's family name (ModelSpec.family): one file of train/ each."""
from .. import registry
from .dalle import DalleFamily
from .gan import GANFamily
from .nerf import NeRFFamily
from .pix2pix import Pix2PixFamily
from .rnn import RNNFamily
from .segmentation import SegmentationFamily
from .vae import VAEFamily
from .vaegan import VAEGANFamily

FAMILIES = {
    "gan": GANFamily(),
    "vae": VAEFamily(),
    "rnn": RNNFamily(),
    "vaegan": VAEGANFamily(),
    "pix2pix": Pix2PixFamily(),
    "segmentation": SegmentationFamily(),
    "nerf": NeRFFamily(),
    "dalle": DalleFamily(),
}


def family_of(config):
    """The Family of a configuration's model."""
    return FAMILIES[registry.model_of(config).family]
