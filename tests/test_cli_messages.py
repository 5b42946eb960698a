"""What the `tinygan` command says: one line for every mistake, options refused where a model does not take
them, what `sample` wrote and from which epoch, help texts with their defaults, figures a reader can read,
and run folders that start over cleanly."""
import json
import os

import numpy as np
import pytest

from tinygan import backend
from tinygan.cli import main
from tinygan.train import Run, make_config

pytestmark = pytest.mark.skipif(backend.current() != "numpy", reason="command-line tests run on the NumPy backend")

# The smallest run of each model that the commands accept (one step; nothing here judges quality).
TINY = {
    "dcgan": dict(epochs=1, limit=64, batch_size=32, width=8, latent_dim=8, steps_per_epoch=1),
    "cgan": dict(epochs=1, limit=64, batch_size=32, width=8, latent_dim=8, steps_per_epoch=1),
    "vaegan": dict(epochs=1, limit=64, batch_size=32, latent_dim=8, steps_per_epoch=1),
    "pix2pix": dict(epochs=1, limit=64, batch_size=32, width=8, steps_per_epoch=1),
    "unet": dict(epochs=1, batch_size=4, steps_per_epoch=1),
    "nerf": dict(epochs=1, batch_size=64, width=16, num_samples=8, steps_per_epoch=1),
}
TINY_CLI = ["--epochs", "1", "--limit", "64", "--batch-size", "32", "--width", "8", "--latent-dim", "8",
            "--steps-per-epoch", "1", "--quiet"]


def _one_line_error(capsys, argv, *expected):
    """Run the command: exit status 2 (argparse's SystemExit or main's return), one line on stderr naming
    `expected`, no usage block and no traceback."""
    try:
        status = main(argv)
    except SystemExit as stop:
        status = stop.code
    assert status == 2
    error = capsys.readouterr().err
    assert len(error.strip().splitlines()) == 1 and "usage:" not in error and "Traceback" not in error, error
    for text in expected:
        assert text in error, error
    return error


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """One trained run folder per model of TINY, trained one step: {model: folder}."""
    parent = tmp_path_factory.mktemp("runs")
    folders = {}
    for model, settings in TINY.items():
        folders[model] = parent / model
        Run(make_config(model, threads=1, **settings), str(folders[model])).train(quiet=True)
    return folders


# -- a mistake is one line ------------------------------------------------------------------------------

@pytest.mark.parametrize("argv, expected", [
    (["train", "pix2pix", "--task", "foo"], ("--task", "'foo'", "inpaint", "superres")),
    (["train", "stylegan"], ("MODEL", "'stylegan'", "dcgan")),
    (["train", "dcgan", "--data", "foo"], ("--data", "'foo'", "mnist5k")),
    (["train", "dcgan", "--backend", "tpu"], ("--backend", "'tpu'", "numpy")),
    (["train", "dcgan", "--epochs", "x"], ("--epochs", "'x'")),
    (["frobnicate"], ("COMMAND", "'frobnicate'", "train")),
    (["sample"], ("RUN_OR_CHECKPOINT",)),
])
def test_command_line_mistakes_are_one_line_without_the_usage_block(capsys, argv, expected):
    _one_line_error(capsys, argv, *expected)
