"""Run configurations: the models tinygan trains, their defaults, and checks that name the valid choices.

check_config checks the settings every run has, refuses a setting or a dataset that is another family's own, and
asks the run's family (train/families.py) to check its own.
"""
import copy
import math
import numbers

from .. import registry
from ..backend import BACKENDS
from .checks import ConfigError, check_choice, check_integer, check_real, option
from .families import FAMILIES, family_of

# The names come from the one registry of models and datasets (tinygan/registry.py).
MODELS = tuple(registry.MODELS)
DATASETS = tuple(registry.DATASETS)
TOY_DATASETS = tuple(name for name, spec in registry.DATASETS.items() if spec.is_toy)
ARCHITECTURES = tuple(registry.ARCHITECTURES)
GAN_LOSSES = ("minimax", "nonsaturating", "lsgan", "wgan-gp", "hinge")

COMMON = dict(data="mnist5k", epochs=20, batch_size=64, lr=2e-4, beta1=0.5, beta2=0.999, latent_dim=100,
              seed=0, backend="numpy", width=64, limit=None, ema=0.0, n_critic=1, gp_weight=10.0,
              steps_per_epoch=None, eval_every=0, detect_anomaly=False, pack=1, threads=None)

# Settings that runs saved by earlier versions may lack; a resumed run takes these values for them.
ADDED_LATER = dict(ema=0.0, eval_every=0, detect_anomaly=False, pack=1, threads=None)

# A GAN on a 2-D toy set: the recipe of the mode-collapse literature (MLP 128-128, z of 256, batch 512),
# with a discriminator of pairs (PacGAN2), sampled from the moving average of G's weights (docs/recipes.md).
TOY_GAN_DEFAULTS = dict(arch="mlp-toy", epochs=20, steps_per_epoch=500, batch_size=512, lr=1e-3, beta1=0.5,
                        latent_dim=256, width=128, pack=2, ema=0.999)


def make_config(model, **overrides):
    """The full configuration of a run: common defaults, then the model's, then the user's (None = default)."""
    check_choice("model", model, MODELS)
    config = copy.deepcopy(COMMON)
    config.update(registry.MODELS[model].defaults)
    data = overrides.get("data") or config["data"]
    check_choice("dataset", data, DATASETS)
    if data in TOY_DATASETS:
        if model != "gan":
            raise ConfigError(f"the 2-D toy set {data!r} is for the 'gan' model (an MLP); {model!r} needs images: "
                              f"{', '.join(d for d in DATASETS if d not in TOY_DATASETS)}")
        config.update(TOY_GAN_DEFAULTS)
    config.update({key: value for key, value in overrides.items() if value is not None})
    config["model"] = model
    check_config(config)
    return config


# Upper bounds that keep a run within a workstation's memory (MEMORY_BOUNDED): a DCGAN of width 1024 already
# holds 78 million weights (1.2 GB with Adam's two moments); the batch and latent bounds are as generous.
INTEGER_RANGES = dict(epochs=(1, 10**6), batch_size=(1, 4096), latent_dim=(1, 4096), width=(1, 1024),
                      n_critic=(1, 100), pack=(1, 64), limit=(1, None), steps_per_epoch=(1, None),
                      eval_every=(0, None), seed=(0, None), threads=(1, 1024))
# None: the whole data set / a full pass / the BLAS's own thread count (the command line always records one:
# the matrix products round differently with another count, so a resumed run keeps its run's)
OPTIONAL = ("limit", "steps_per_epoch", "threads")
MEMORY_BOUNDED = ("width", "batch_size", "latent_dim")
RATES = dict(beta1="Adam's beta1", beta2="Adam's beta2", ema="the weight average's decay (0 = off)")


def check_config(config):
    """ConfigError naming the first setting of `config` outside its meaning's range."""
    check_choice("model", config.get("model"), MODELS)
    check_choice("dataset", config.get("data"), DATASETS)
    check_choice("architecture", config.get("arch"), ARCHITECTURES)
    check_choice("backend", config.get("backend"), BACKENDS)
    if config.get("loss") is not None:
        check_choice("loss", config["loss"], GAN_LOSSES)
    for key, (low, high) in INTEGER_RANGES.items():
        check_integer(config, key, low, high, optional=key in OPTIONAL, memory=key in MEMORY_BOUNDED)
    lr = config.get("lr")
    if not isinstance(lr, numbers.Real) or not math.isfinite(lr) or not lr > 0:
        raise ConfigError(f"{option('lr')} (the learning rate) must be a finite number > 0, got {lr!r}")
    for key, what in RATES.items():
        value = config.get(key)
        check_real(key, 0.0 if key == "ema" and value is None else value, 0.0, 1.0, what)
    check_real("gp_weight", config.get("gp_weight", 0.0), 0.0, math.inf, "the gradient penalty's weight")
    if config["pack"] > 1 and config.get("arch") not in ("mlp", "mlp-toy"):
        raise ConfigError(f"pack (PacGAN) is for the MLP discriminators of 'gan'; {config['model']!r} "
                          f"has {config.get('arch')!r}")
    family = family_of(config)
    if config.get("ema") and not family.weight_average:
        raise ConfigError(f"--ema (sampling from a moving average of G's weights) is for the noise-to-image GANs; "
                          f"{config['model']!r} draws with the weights it trains")
    _refuse_other_families(config, family)
    family.check_settings(config)
    if config["batch_size"] % config["pack"]:
        raise ConfigError(f"batch_size {config['batch_size']} must be divisible by pack {config['pack']}")


def _refuse_other_families(config, family):
    """ConfigError for a setting that is another family's own, or a dataset that another family alone reads (a
    family that reads its own kind of data refuses every other kind itself)."""
    data = registry.dataset_of(config)
    for other in FAMILIES.values():
        if other is family:
            continue
        for key in other.settings:
            if key in config:
                raise ConfigError(f"{option(key)} is a setting of {other.title}; {config['model']!r} has none")
        if family.own_data is None and other.own_data is not None and data.kind == other.own_data[0]:
            raise ConfigError(f"the dataset {config['data']!r} holds {other.own_data[1]}, for {other.title}; "
                              f"{config['model']!r} needs images: choose another --data")
