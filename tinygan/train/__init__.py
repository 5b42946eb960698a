"""Training: runs with logs, figures and exact-resume checkpoints (run.py), one file per model family with its step
(gan.py, vae.py, rnn.py, vaegan.py, pix2pix.py, segmentation.py, nerf.py), the losses, and evaluating a run."""
from . import losses
from .checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from .config import MODELS, ConfigError, make_config
from .family import TrainingDiverged, check_finite
from .gan import GANStep
from .nerf import NeRFStep
from .pix2pix import Pix2PixStep
from .rnn import RNNStep
from .run import Run, build_models
from .segmentation import SegmentationStep
from .vae import VAEStep
from .vaegan import VAEGANStep

__all__ = ["losses", "CheckpointError", "load_checkpoint", "save_checkpoint", "MODELS", "ConfigError",
           "make_config", "Run", "build_models", "TrainingDiverged", "check_finite", "GANStep", "VAEStep", "RNNStep",
           "VAEGANStep", "Pix2PixStep", "SegmentationStep", "NeRFStep"]
