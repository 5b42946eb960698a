"""Run configurations: the models tinygan trains, their defaults, and checks that name the valid choices."""
import copy
import math
import numbers

from .. import registry
from ..backend import BACKENDS
from ..data.damage import TASKS

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


class ConfigError(ValueError):
    """A run configuration asks for something tinygan does not have."""


def _check_choice(name, value, choices):
    if value not in choices:
        raise ConfigError(f"unknown {name} {value!r}; valid choices: {', '.join(choices)}")


def make_config(model, **overrides):
    """The full configuration of a run: common defaults, then the model's, then the user's (None = default)."""
    _check_choice("model", model, MODELS)
    config = copy.deepcopy(COMMON)
    config.update(registry.MODELS[model].defaults)
    data = overrides.get("data") or config["data"]
    _check_choice("dataset", data, DATASETS)
    if data in TOY_DATASETS:
        if model != "gan":
            raise ConfigError(f"the 2-D toy set {data!r} is for the 'gan' model (an MLP); {model!r} needs images: "
                              f"{', '.join(d for d in DATASETS if d not in TOY_DATASETS)}")
        config.update(TOY_GAN_DEFAULTS)
    config.update({key: value for key, value in overrides.items() if value is not None})
    config["model"] = model
    check_config(config)
    return config


# Upper bounds that keep a run within a workstation's memory: a DCGAN of width 1024 already holds
# 78 million weights (1.2 GB with Adam's two moments); the batch and latent bounds are as generous.
INTEGER_RANGES = dict(epochs=(1, 10**6), batch_size=(1, 4096), latent_dim=(1, 4096), width=(1, 1024),
                      n_critic=(1, 100), pack=(1, 64), limit=(1, None), steps_per_epoch=(1, None),
                      eval_every=(0, None), seed=(0, None), threads=(1, 1024))
# None: the whole data set / a full pass / the BLAS's own thread count (the command line always records one:
# the matrix products round differently with another count, so a resumed run keeps its run's)
OPTIONAL = ("limit", "steps_per_epoch", "threads")
RATES = dict(beta1="Adam's beta1", beta2="Adam's beta2", ema="the weight average's decay (0 = off)")


def _option(key):
    """How the command line spells a setting (the configuration key with '_' as '-')."""
    return f"--{key.replace('_', '-')}"


def _check_integer(config, key, low, high):
    value = config.get(key)
    if value is None and key in OPTIONAL:
        return
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        raise ConfigError(f"{_option(key)} must be a whole number, got {value!r}")
    if value < low or (high is not None and value > high):
        limit = f"at least {low}" if high is None else f"between {low} and {high}"
        why = " (larger would not fit in memory)" if key in ("width", "batch_size", "latent_dim") else ""
        raise ConfigError(f"{_option(key)} must be {limit}{why}, got {value}")


def _check_real(key, value, low, high, what):
    """value finite and in [low, high)."""
    if not isinstance(value, numbers.Real) or not math.isfinite(value) or not low <= value < high:
        raise ConfigError(f"{_option(key)} ({what}) must be a finite number in [{low:g}, {high:g}), got {value!r}")


def check_config(config):
    """ConfigError naming the first setting of `config` outside its meaning's range."""
    _check_choice("model", config.get("model"), MODELS)
    _check_choice("dataset", config.get("data"), DATASETS)
    _check_choice("architecture", config.get("arch"), ARCHITECTURES)
    _check_choice("backend", config.get("backend"), BACKENDS)
    if config.get("loss") is not None:
        _check_choice("loss", config["loss"], GAN_LOSSES)
    for key, (low, high) in INTEGER_RANGES.items():
        _check_integer(config, key, low, high)
    lr = config.get("lr")
    if not isinstance(lr, numbers.Real) or not math.isfinite(lr) or not lr > 0:
        raise ConfigError(f"{_option('lr')} (the learning rate) must be a finite number > 0, got {lr!r}")
    for key, what in RATES.items():
        value = config.get(key)
        _check_real(key, 0.0 if key == "ema" and value is None else value, 0.0, 1.0, what)
    _check_real("gp_weight", config.get("gp_weight", 0.0), 0.0, math.inf, "the gradient penalty's weight")
    if config["pack"] > 1 and config.get("arch") not in ("mlp", "mlp-toy"):
        raise ConfigError(f"pack (PacGAN) is for the MLP discriminators of 'gan'; {config['model']!r} "
                          f"has {config.get('arch')!r}")
    if config.get("ema") and _family(config) != "gan":
        raise ConfigError(f"--ema (sampling from a moving average of G's weights) is for the noise-to-image GANs; "
                          f"{config['model']!r} draws with the weights it trains")
    if _family(config) == "rnn" and config["latent_dim"] != 784:
        raise ConfigError(f"--latent-dim is fixed at 784 for {config['model']!r}: its noise is one value per pixel "
                          f"(the Bernoulli draw of each of the 28x28 pixels), got {config['latent_dim']}")
    if "gamma" in config:
        if _family(config) != "vaegan":
            raise ConfigError(f"--gamma weighs the VAE-GAN's feature reconstruction; {config['model']!r} has none "
                              f"(use it with vaegan)")
        _check_real("gamma", config["gamma"], 0.0, math.inf, "the weight of L_llike in the decoder's loss")
    _check_nerf(config)
    _check_pix2pix(config)
    _check_segmentation(config)
    if config["batch_size"] % config["pack"]:
        raise ConfigError(f"batch_size {config['batch_size']} must be divisible by pack {config['pack']}")


def _family(config):
    """The family of the configuration's model (gan, vae, rnn, vaegan, nerf, pix2pix, segmentation)."""
    return registry.model_of(config).family


# -- the NeRF renders views of a 3-D scene; no other model reads them, and it reads nothing else --

NERF_INTEGER_RANGES = dict(num_samples=(2, 1024), num_frequencies=(0, 16))


def _check_nerf(config):
    views = registry.dataset_of(config).kind == "views"
    if _family(config) == "nerf":
        if not views:
            raise ConfigError(f"{config['model']!r} learns a 3-D scene from its views; --data must be one of "
                              f"{', '.join(n for n, d in registry.DATASETS.items() if d.kind == 'views')}, "
                              f"got {config['data']!r}")
        for key, (low, high) in NERF_INTEGER_RANGES.items():
            _check_integer(config, key, low, high)
    elif views:
        raise ConfigError(f"the dataset {config['data']!r} holds views of a 3-D scene, for the 'nerf' model; "
                          f"{config['model']!r} needs images")
    else:
        for key in NERF_INTEGER_RANGES:
            if key in config:
                raise ConfigError(f"{_option(key)} is a setting of the 'nerf' model; {config['model']!r} has none")


# -- pix2pix's settings ------------------------------------------------------------------------------------

PIX2PIX_SETTINGS = dict(task="--task", l1_weight="--l1-weight", gan_weight="--gan-weight")


def _check_pix2pix(config):
    """ConfigError for pix2pix's settings on another model, an unknown task, a negative weight, or non-digit data."""
    pix2pix = _family(config) == "pix2pix"
    for key, option in PIX2PIX_SETTINGS.items():
        if key in config and not pix2pix:
            raise ConfigError(f"{option} is a setting of pix2pix (restoring damaged digits); {config['model']!r} "
                              f"has none")
    if not pix2pix:
        return
    _check_choice("task", config.get("task"), TASKS)
    _check_real("l1_weight", config.get("l1_weight"), 0.0, math.inf, "the weight lambda of the L1 term")
    _check_real("gan_weight", config.get("gan_weight"), 0.0, math.inf, "the weight of the GAN term; 0 = L1 only")
    if registry.dataset_of(config).sample_shape != (1, 28, 28):
        raise ConfigError(f"pix2pix restores grey 28x28 digits; {config['data']!r} holds images of shape "
                          f"{registry.dataset_of(config).sample_shape}")


# -- segmentation of scenes of digits ------------------------------------------------------------------------

def _check_segmentation(config):
    """The scenes go with the segmentation model and nothing else; they are drawn fresh, so --limit has no meaning."""
    scenes = registry.dataset_of(config).kind == "scenes"
    segmentation = _family(config) == "segmentation"
    if segmentation and not scenes:
        raise ConfigError(f"{config['model']!r} segments scenes of digits: train it with --data scenes, "
                          f"not {config['data']!r}")
    if scenes and not segmentation:
        raise ConfigError(f"the scenes ({config['data']!r}) come with a label per pixel, for the segmentation "
                          f"model 'unet'; {config['model']!r} trains on images: choose another --data")
    if scenes and config.get("limit") is not None:
        raise ConfigError("--limit keeps part of a fixed image set; the scenes are drawn fresh every epoch "
                          "(5,000 each), so it does not apply to them")
