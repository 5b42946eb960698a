"""GAN and VAE training: losses, steps, runs with logs, figures and exact-resume checkpoints."""
from . import losses
from .checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from .config import MODELS, ConfigError, make_config
from .run import Run, build_models
from .steps import GANStep, TrainingDiverged, VAEStep

__all__ = ["losses", "CheckpointError", "load_checkpoint", "save_checkpoint", "MODELS", "ConfigError",
           "make_config", "Run", "build_models", "GANStep", "VAEStep", "TrainingDiverged"]
