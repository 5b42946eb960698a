"""Colour: coloured digits, models that take their channel count from the data, RGB grids, and the refusals."""
import numpy as np
import pytest

from tinygan import backend, registry
from tinygan.data import load_embedded_mnist
from tinygan.registry import load_dataset
from tinygan.data.colour import colourise
from tinygan.train.evaluate import evaluate_run, reconstruct
from tinygan.train import ConfigError, Run, make_config
from tinygan.train.family import check_channels
from tinygan.viz import image_grid, save_image_grid

pytestmark = pytest.mark.skipif(backend.current() != "numpy", reason="training runs on the NumPy backend")

TINY = dict(epochs=1, limit=64, batch_size=16, width=8, latent_dim=8, steps_per_epoch=2, data="colour-mnist5k")


def test_colour_digits_are_tinted_on_a_darker_background_and_seeded():
    grey, labels = load_embedded_mnist()
    images, colour_labels = load_dataset("colour-mnist5k")
    assert images.shape == (5000, 3, 28, 28) and images.dtype == np.uint8
    np.testing.assert_array_equal(colour_labels, labels)
    np.testing.assert_array_equal(images, load_dataset("colour-mnist5k")[0])      # seeded: the same each time
    assert not np.array_equal(colourise(grey[:50], seed=1), colourise(grey[:50], seed=2))
    stroke, paper = grey >= 200, grey == 0
    for i in range(0, 5000, 250):
        assert images[i][:, stroke[i]].mean() > images[i][:, paper[i]].mean() + 50   # the digit is brighter
        assert len({tuple(images[i][:, 0, 0]), tuple(images[i + 1][:, 0, 0])}) == 2    # each its own background
    spec = registry.DATASETS["colour-mnist5k"]
    assert spec.channels == 3 and "colour.py" in spec.made


@pytest.mark.parametrize("model", ["dcgan", "cgan", "wgan-gp", "vae", "conv-vae", "vaegan", "vaegan-vae"])
def test_each_image_model_trains_on_colour_and_samples_rgb(tmp_path, model):
    run = Run(make_config(model, **TINY), str(tmp_path / model))
    run.train(quiet=True)
    assert tuple(run.sample(4).shape) == (4, 3, 28, 28)
    assert (tmp_path / model / "samples" / "epoch_001.png").stat().st_size > 0


def test_rgb_grid_keeps_the_colours():
    images = np.zeros((2, 3, 4, 4), dtype=np.float32)
    images[0, 0] = 1.0                       # a red image
    images[1, 2] = 1.0                       # a blue one
    grid = image_grid(images, ncols=2, value_range=(0, 1))
    assert grid.shape == (6, 11, 3)
    np.testing.assert_array_equal(grid[1, 1], [1, 0, 0])
    np.testing.assert_array_equal(grid[1, 6], [0, 0, 1])
    assert image_grid(images[:, :1], ncols=2, value_range=(0, 1)).ndim == 2   # grey stays 2-D


def test_rgb_grid_saves(tmp_path):
    save_image_grid(np.random.default_rng(0).uniform(-1, 1, (4, 3, 28, 28)), tmp_path / "g.png")
    assert (tmp_path / "g.png").stat().st_size > 0


def test_eval_says_the_digit_classifier_is_for_grey_digits(tmp_path):
    run = Run(make_config("dcgan", **TINY), str(tmp_path / "run"))
    result = evaluate_run(run, n=16)
    assert "1-channel" in result["note"] and "3 channels" in result["note"]
    assert "images" not in result


def test_a_grey_model_given_colour_images_is_refused_naming_both():
    colour, _ = load_dataset("colour-mnist5k")
    with pytest.raises(ConfigError, match=r"dcgan.*1-channel.*'mnist5k'.*colour-mnist5k.*3-channel"):
        check_channels(make_config("dcgan"), colour[:4], "colour-mnist5k")


def test_a_colour_model_given_grey_images_is_refused_naming_both(tmp_path):
    run = Run(make_config("vaegan", **TINY), str(tmp_path / "run"))
    grey, _ = load_embedded_mnist()
    with pytest.raises(ConfigError, match=r"vaegan.*3-channel.*colour-mnist5k.*1-channel"):
        reconstruct(run, grey[:4])
    assert reconstruct(run, load_dataset("colour-mnist5k")[0][:4]).shape == (4, 3, 28, 28)
