"""The one registry of models and datasets (tinygan/registry.py) agrees with everything that reads it."""
import numpy as np
import pytest

import tinygan
from tinygan import registry
from tinygan.train import config as train_config


def test_the_command_line_and_the_configuration_offer_exactly_the_registry():
    assert train_config.MODELS == tuple(registry.MODELS)
    assert train_config.DATASETS == tuple(registry.DATASETS)
    assert set(train_config.TOY_DATASETS) == {name for name, spec in registry.DATASETS.items() if spec.is_toy}
    assert all(callable(spec.load) for spec in registry.DATASETS.values())   # every registered set names its loader


@pytest.mark.parametrize("name", sorted(registry.MODELS))
def test_every_model_builds_and_maps_its_dataset_samples(name):
    """Each model's defaults make a valid configuration, and its networks take and give the dataset's shapes."""
    tinygan.manual_seed(0)
    rnn = registry.MODELS[name].family == "rnn"    # its noise is one value per pixel: latent_dim is fixed
    config = train_config.make_config(name, width=8, **({} if rnn else dict(latent_dim=4)))
    spec, data = registry.model_of(config), registry.dataset_of(config)
    nets = registry.build_networks(config)
    labels = tinygan.tensor(np.array([1, 7])) if spec.conditional else None
    extra = (labels,) if spec.conditional else ()
    if spec.family == "vaegan":                    # encoder, decoder = generator, discriminator
        mu, logvar = nets["E"](tinygan.randn(2, *data.sample_shape))
        assert mu.shape == logvar.shape == (2, 4)
    if rnn:
        images = (tinygan.rand(2, *data.sample_shape) > 0.5).float()
        assert nets["rnn"](images).shape == (2, 28, 28)                     # the logits of every pixel
        assert nets["rnn"].sample(tinygan.randn(2, 784)).shape == (2,) + data.sample_shape
    elif spec.family == "nerf":                    # points (M, 3) -> density (M,), colour (M, 3)
        sigma, rgb = nets["nerf"](tinygan.randn(5, 3))
        assert sigma.shape == (5,) and rgb.shape == (5, 3) and data.kind == "views"
    elif spec.family == "pix2pix":                 # image to image; D judges (input, output) pairs per patch
        x = tinygan.randn(2, *data.sample_shape)
        fake = nets["G"](x)
        assert fake.shape[1:] == data.sample_shape
        assert nets["D"](x, fake).shape == (2, 1, 7, 7)
    elif spec.family == "dalle":                   # images -> 7x7 codes; the prior's logits over the next code
        codes = nets["vqvae"].encode_to_indices(tinygan.rand(2, *data.sample_shape))
        assert codes.shape == (2, 49)
        assert nets["prior"](tinygan.tensor(np.zeros((2, 53), dtype=np.int64))).shape == (2, 53, 128)
    elif spec.family == "segmentation":            # a logit per class and pixel
        assert nets["unet"](tinygan.rand(2, *data.sample_shape)).shape == (2, data.num_classes) + data.sample_shape[1:]
    elif spec.is_vae:
        mu, logvar = nets["vae"].encode(tinygan.randn(2, *data.sample_shape))
        assert mu.shape == logvar.shape == (2, 4)
        assert nets["vae"].decode(mu).shape == (2, int(np.prod(data.sample_shape)))
    else:
        fake = nets["G"](tinygan.randn(2, 4), *extra)
        assert fake.shape[1:] == data.sample_shape
        assert nets["D"](fake, *extra).shape == (2, 1)


@pytest.mark.parametrize("name", sorted(registry.MODELS))
def test_the_image_range_follows_the_family(name):
    spec = registry.MODELS[name]
    assert spec.value_range == ((0, 1) if spec.family in ("vae", "rnn", "nerf", "segmentation", "dalle") else (-1, 1))


def _configs_of_every_architecture():
    """{arch: a configuration that builds it}: each model's own, and the GAN on a 2-D toy set (mlp-toy)."""
    configs = {spec.defaults["arch"]: dict(model=name) for name, spec in registry.MODELS.items()}
    configs[train_config.TOY_GAN_DEFAULTS["arch"]] = dict(model="gan", data="ring8")
    return configs


def _parameter_count(config):
    return sum(p.numel() for net in registry.build_networks(config).values() for p in net.parameters())


def test_width_sizes_exactly_the_architectures_said_to_be_sized_by_it():
    """--width is refused for the other architectures (tinygan/cli.py), so SIZED_BY_WIDTH must be exactly those
    whose networks grow with it."""
    configs = _configs_of_every_architecture()
    assert set(configs) == set(registry.ARCHITECTURES)
    for arch, chosen in configs.items():
        counts = [_parameter_count(train_config.make_config(chosen["model"], data=chosen.get("data"), width=width))
                  for width in (8, 16)]
        assert (counts[0] != counts[1]) == (arch in registry.SIZED_BY_WIDTH), (arch, counts)
