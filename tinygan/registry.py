"""One registry of what tinygan trains: the models and the datasets, read by the command line, training,
evaluation and the benchmarks, so that a name, a size or a default is written in one place.

A new model is one ModelSpec in MODELS (its configuration defaults and its family, the key of tinygan/train's
table of families), and, when it needs new networks, one builder in ARCHITECTURES. A new dataset is one
DatasetSpec in DATASETS, which names its loader (a function of tinygan/data/).

    images, labels = load_dataset("mnist", split="test", folder="path/to/mnist")
    ring = load_dataset("ring8")                   # a toy distribution with sample(n, rng)

Why each recipe has the defaults it has, with what was measured: docs/recipes.md.
"""
import functools
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from . import models
from .data import toy
from .data.cifar import load_cifar10
from .data.captions import captioned_test, captioned_train
from .data.colour import load_colour_mnist5k
from .data.idx import DataError
from .data.mnist import load_mnist, load_mnist5k
from .data.scene import load_scene_views
from .data.scenes import load_scenes


@dataclass(frozen=True)
class DatasetSpec:
    """A dataset by name: what one sample is, what the metrics can say about it, and its loader."""
    name: str
    kind: str                      # "images": a fixed set loaded from files; "toy": a 2-D distribution sampled anew;
                                   # "scenes": scenes of digits with label maps; "views": views of a 3-D scene
    sample_shape: tuple            # one sample's shape: (1, 28, 28) for the digit images, (2,) for toy points
    num_classes: int = None        # labels 0..num_classes-1 (None: unlabelled)
    digits: bool = False           # handwritten digits: the digit classifier's metrics (FID, score) apply
    made: str = ""                 # how a derived set is made from others (empty for the sets as published)
    load: Callable = None          # load(split="train", folder=None, download=False) -> the data

    @property
    def channels(self):
        """Colour channels of an image set: 1 (grey) or 3 (RGB); the models are built for this many."""
        return self.sample_shape[0]

    @property
    def is_toy(self):
        return self.kind == "toy"


def _image_set(name, digits, load):
    return DatasetSpec(name, "images", (1, 28, 28), num_classes=10, digits=digits, load=load)


def _mnist_family(kind):
    """The loader of an MNIST-family set of IDX files: load_mnist(split, folder, kind, download)."""
    return functools.partial(load_mnist, kind=kind)


def _toy(name, make):
    """A toy 2-D distribution: one distribution whatever the split (it is sampled anew every time)."""
    return DatasetSpec(name, "toy", (2,), load=lambda split="train", folder=None, download=False: make())


def _captions(split="train", folder=None, download=False):
    """CaptionedDigits: the embedded digits as captioned in training epoch 0, or the captioned test digits."""
    return captioned_train() if split == "train" else captioned_test(folder=folder, download=download)


DATASETS = {spec.name: spec for spec in [
    _image_set("mnist5k", digits=True, load=load_mnist5k),      # the 5,000 digits embedded in the package
    _image_set("mnist", digits=True, load=_mnist_family("mnist")),
    _image_set("fashion", digits=False, load=_mnist_family("fashion")),
    _image_set("kmnist", digits=False, load=_mnist_family("kmnist")),
    _toy("ring8", toy.ring8),
    _toy("grid25", toy.grid25),
    _toy("moons", toy.two_moons),
    _toy("swissroll", toy.swiss_roll),
    # colour
    DatasetSpec("colour-mnist5k", "images", (3, 28, 28), num_classes=10, digits=False,
                made="the embedded 5,000 digits, each tinted with a colour ~ U(0.5, 1)^3 on a darker background "
                     "~ U(0, 0.4)^3 (per image, seed 17): pixel = d * colour + (1 - d) * background, d = digit/255 "
                     "(tinygan/data/colour.py)",
                load=load_colour_mnist5k),
    DatasetSpec("cifar10", "images", (3, 32, 32), num_classes=10,
                made="the official binary archive cifar-10-binary.tar.gz (md5-checked), read straight out of the tar "
                     "from $TINYGAN_CACHE/cifar10 (tinygan/data/cifar.py)",
                load=load_cifar10),
    # 40 exact 32x32 views of a procedural 3-D scene (32 train, 8 held out), for the NeRF
    DatasetSpec("scene3d", "views", (3, 32, 32),
                made="a sphere, a box and a torus (signed distance functions), Lambertian shading, black background, "
                     "sphere-traced from 40 seeded cameras on a hemisphere of radius 4 (tinygan/data/scene.py)",
                load=lambda split="train", folder=None, download=False: load_scene_views()),
    # captioned colour digits, for dalle: one digit in one of 6 colours on one of 3 backgrounds, and its caption
    DatasetSpec("captions", "captions", (3, 28, 28), num_classes=10,
                made="the embedded 5,000 digits, each coloured afresh every epoch with one of its digit's 16 training "
                     "(foreground, background) pairs (20 of the 180 captions held out), default_rng(seed + epoch); "
                     "test: the official 10k test digits over all 18 pairs, default_rng(1234) "
                     "(tinygan/data/captions.py)",
                load=_captions),
    # scenes of digits with a class per pixel, for the segmentation model
    DatasetSpec("scenes", "scenes", (1, 64, 64), num_classes=11,
                made="64x64 scenes of 3 digits each, drawn with replacement and pasted by max at top-left corners "
                     "uniform in [0, 36]; a pixel's class is the brightest digit's there if it is >= 0.5, else "
                     "background (10). Train: 5,000 fresh scenes per epoch from the embedded digits, "
                     "default_rng(seed + epoch); test: 2,000 scenes from the official 10k test digits, "
                     "default_rng(1234) (tinygan/data/scenes.py)",
                load=load_scenes),
]}


def load_dataset(name, split="train", folder=None, download=False):
    """A dataset by name, as its DatasetSpec's loader gives it: (images, labels) uint8 for an image set, a
    ToyDistribution with `sample(n, rng)` for a toy set, (scenes, label maps) for 'scenes', SceneViews for the 3-D
    scene. folder: where the files are; download=True fetches missing official files into the cache."""
    if name not in DATASETS:
        raise DataError(f"unknown dataset {name!r}; choose one of: {', '.join(DATASETS)}")
    return DATASETS[name].load(split, folder=folder, download=download)


@dataclass(frozen=True)
class ModelSpec:
    """A model by name: its family (how it trains: the key of tinygan/train's table of families, one of gan, vae,
    rnn, vaegan, nerf, pix2pix, segmentation, dalle) and its configuration defaults (architecture, loss, ...)."""
    name: str
    family: str
    defaults: dict = field(default_factory=dict)
    conditional: bool = False      # G and D take class labels

    @property
    def is_vae(self):
        return self.family == "vae"

    @property
    def value_range(self):
        """The range of its images: a VAE's (or a recurrent generator's) Bernoulli pixels, a NeRF's colours and the
        segmentation scenes and DALL-E's drawings in [0, 1]; a GAN's tanh output (pix2pix's too) in [-1, 1]."""
        return (0, 1) if self.is_vae or self.family in ("rnn", "nerf", "segmentation", "dalle") else (-1, 1)


_VAE_TRAINING = dict(batch_size=128, lr=1e-3, beta1=0.9, beta=1.0, likelihood="bernoulli")

MODELS = {spec.name: spec for spec in [
    ModelSpec("gan", "gan", dict(arch="mlp", loss="nonsaturating")),
    ModelSpec("dcgan", "gan", dict(arch="dcgan", loss="nonsaturating")),
    ModelSpec("cgan", "gan", dict(arch="cdcgan", loss="nonsaturating", epochs=10), conditional=True),
    ModelSpec("lsgan", "gan", dict(arch="dcgan", loss="lsgan")),
    ModelSpec("wgan-gp", "gan", dict(arch="dcgan-nobn", loss="wgan-gp", n_critic=5, lr=1e-4, beta1=0.5, beta2=0.9)),
    ModelSpec("vae", "vae", dict(arch="mlp-vae", epochs=30, latent_dim=20, **_VAE_TRAINING)),
    ModelSpec("conv-vae", "vae", dict(arch="conv-vae", epochs=20, latent_dim=16, width=32, **_VAE_TRAINING)),
    # a recurrent generator writing binarised digits row by row; its noise is one N(0, 1) per pixel
    # (latent_dim 784), turned into the Bernoulli draws of sampling; width is the LSTM's hidden size
    ModelSpec("rnn", "rnn", dict(arch="row-lstm", epochs=30, batch_size=64, lr=1e-3, beta1=0.9, latent_dim=784,
                                 width=256)),
    # VAE-GAN (Larsen et al., 2016): three Adams at 2e-4, betas 0.5/0.999, batch 64; gamma weighs L_llike against
    # the GAN terms in the decoder's loss (docs/recipes.md says why 0.1)
    ModelSpec("vaegan", "vaegan", dict(arch="vaegan", epochs=30, latent_dim=20, gamma=0.1)),
    # the VAE-GAN's encoder and decoder trained as a plain VAE (KL + Bernoulli pixels, no discriminator) on the
    # VAE-GAN's recipe: the two models differ only in the reconstruction term (docs/recipes.md: why Bernoulli)
    ModelSpec("vaegan-vae", "vae", dict(arch="vaegan-vae", epochs=30, latent_dim=20, batch_size=64, lr=2e-4,
                                        beta1=0.5, beta=1.0, likelihood="bernoulli")),
    # a tiny NeRF (Mildenhall et al., 2020): 32 samples per ray in [2, 6], L = 6 frequencies, 4 hidden layers of
    # 128, Adam 5e-4, 1024 random rays a step; an "epoch" is 100 steps, so the default 20 epochs are 2,000
    # iterations. Images in [0, 1]. Its scores: benchmarks/results/quality.md (nerf).
    ModelSpec("nerf", "nerf", dict(arch="nerf", data="scene3d", epochs=20, steps_per_epoch=100, batch_size=1024,
                                   lr=5e-4, beta1=0.9, beta2=0.999, width=128, num_samples=32, num_frequencies=6)),
    # pix2pix (Isola et al., 2017) restoring damaged digits: U-Net generator, PatchGAN discriminator,
    # lambda = 100, Adam 2e-4 betas 0.5/0.999, batch 64; --task inpaint|superres; --gan-weight 0 is the L1-only
    # baseline. Its scores: benchmarks/results/quality.md (pix2pix).
    ModelSpec("pix2pix", "pix2pix", dict(arch="pix2pix", epochs=10, task="inpaint", l1_weight=100.0,
                                         gan_weight=1.0)),
    # the U-Net segmenting scenes of digits: pixelwise cross-entropy, Adam 1e-3 (PyTorch's betas), batch 32
    ModelSpec("unet", "segmentation", dict(arch="unet", data="scenes", epochs=10, batch_size=32, lr=1e-3, beta1=0.9,
                                           beta2=0.999)),
    # a tiny DALL-E (Ramesh et al., 2021) drawing captioned colour digits: epochs 1..vq_epochs train the VQ-VAE
    # (Adam lr, batch 64), the rest the transformer prior over [BOS, 4 words, 49 codes] (AdamW prior_lr, betas
    # 0.9/0.95, weight decay 0.01 on matrices, 100 warm-up steps then cosine to 0, clipping at 1); width is the
    # prior's (tinygan/train/dalle.py)
    ModelSpec("dalle", "dalle", dict(arch="dalle", data="captions", epochs=45, vq_epochs=15, batch_size=64, lr=1e-3,
                                     beta1=0.9, beta2=0.999, width=128, prior_lr=3e-4)),
]}


# -- the networks of each architecture --------------------------------------------------------------

def _mlp(config, sample_shape):
    return {"G": models.MLPGenerator(config["latent_dim"], out_shape=sample_shape),
            "D": models.MLPDiscriminator(in_shape=sample_shape, pack=config.get("pack", 1))}


def _mlp_toy(config, sample_shape):
    width = config["width"]
    return {"G": models.MLPGenerator(config["latent_dim"], hidden=(width, width), out_shape=sample_shape,
                                     batchnorm=False, activation="relu", output="linear"),
            "D": models.MLPDiscriminator(in_shape=sample_shape, hidden=(width, width), activation="relu",
                                         pack=config.get("pack", 1))}


def _dcgan(batchnorm):
    def build(config, sample_shape):
        channels, size = sample_shape[0], sample_shape[-1]
        return {"G": models.dcgan_init_(models.DCGANGenerator(config["latent_dim"], config["width"], channels,
                                                              size=size)),
                "D": models.dcgan_init_(models.DCGANDiscriminator(config["width"], channels, batchnorm=batchnorm,
                                                                  size=size))}
    return build


def _cdcgan(config, sample_shape):
    channels, size = sample_shape[0], sample_shape[-1]
    return {"G": models.dcgan_init_(models.ConditionalDCGANGenerator(config["latent_dim"], config["width"], channels,
                                                                     size=size)),
            "D": models.dcgan_init_(models.ConditionalDCGANDiscriminator(config["width"], channels, size=size))}


def _mlp_vae(config, sample_shape):
    return {"vae": models.MLPVAE(in_features=int(np.prod(sample_shape)), latent_dim=config["latent_dim"])}


def _conv_vae(config, sample_shape):
    return {"vae": models.ConvVAE(latent_dim=config["latent_dim"], width=config["width"], channels=sample_shape[0],
                                  size=sample_shape[-1])}


def _row_lstm(config, sample_shape):
    return {"rnn": models.RowLSTM(hidden=config["width"])}


def _vaegan(config, sample_shape):
    """Encoder, decoder (= generator) and discriminator of the VAE-GAN, for images of sample_shape[0] channels."""
    channels, size = sample_shape[0], sample_shape[-1]
    networks = {"E": models.VAEGANEncoder(config["latent_dim"], channels, size=size),
                "G": models.VAEGANDecoder(config["latent_dim"], channels, size=size),
                "D": models.VAEGANDiscriminator(channels, size=size)}
    return {name: models.dcgan_init_(net) for name, net in networks.items()}


def _vaegan_vae(config, sample_shape):
    """The VAE-GAN's encoder and decoder as one plain VAE, with the VAE-GAN's initialisation."""
    channels, size = sample_shape[0], sample_shape[-1]
    return {"vae": models.dcgan_init_(models.VAEGANPlainVAE(config["latent_dim"], channels, size=size))}


def _nerf(config, sample_shape):
    """The radiance field, 4 hidden layers of `width`."""
    return {"nerf": models.NeRF(num_frequencies=config["num_frequencies"], width=config["width"])}


def _unet(config, sample_shape):
    """The U-Net: one logit per class and pixel."""
    return {"unet": models.UNet(in_channels=sample_shape[0], out_channels=DATASETS[config["data"]].num_classes)}


def _dalle(config, sample_shape):
    """The VQ-VAE (128 codes of 32 numbers on a 7x7 grid, EMA codebook) and the transformer prior of `width`."""
    vqvae = models.VQVAE(channels=sample_shape[0])
    return {"vqvae": vqvae, "prior": models.DallePrior(num_codes=vqvae.num_codes, width=config["width"],
                                                       feedforward=4 * config["width"])}


# arch -> builder(config, sample_shape) -> the networks by name: {"G": ..., "D": ...}, {"vae": ...},
# {"E": ..., "G": ..., "D": ...}, {"rnn": ...}, {"nerf": ...}, {"unet": ...} or {"vqvae": ..., "prior": ...}
ARCHITECTURES = {
    "mlp": _mlp,
    "mlp-toy": _mlp_toy,
    "dcgan": _dcgan(batchnorm=True),
    "dcgan-nobn": _dcgan(batchnorm=False),
    "cdcgan": _cdcgan,
    "mlp-vae": _mlp_vae,
    "conv-vae": _conv_vae,
    "row-lstm": _row_lstm,
    "vaegan": _vaegan,
    "vaegan-vae": _vaegan_vae,
    "nerf": _nerf,
    "pix2pix": lambda config, sample_shape: models.pix2pix_networks(sample_shape[0], config["width"]),
    "unet": _unet,
    "dalle": _dalle,
}


# The architectures whose layers `width` sizes (a GAN's or VAE's first convolution's channels, the hidden units of
# an MLP, an LSTM or a NeRF, the prior's width); the others are built at fixed sizes, so --width is refused for them
# instead of ignored.
SIZED_BY_WIDTH = ("mlp-toy", "dcgan", "dcgan-nobn", "cdcgan", "conv-vae", "row-lstm", "nerf", "pix2pix", "dalle")


def model_of(config):
    """The ModelSpec of a run's configuration."""
    return MODELS[config["model"]]


def dataset_of(config):
    """The DatasetSpec of a run's configuration."""
    return DATASETS[config["data"]]


def build_networks(config):
    """The networks of a run, by its configuration's `arch`, sized for its dataset's samples."""
    return ARCHITECTURES[config["arch"]](config, dataset_of(config).sample_shape)
