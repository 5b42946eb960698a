"""Checkpoints that an earlier tinygan wrote (tests/fixtures/checkpoints/) load, sample and resume with today's code."""
import shutil

import numpy as np
import pytest

from tinygan import backend
from tinygan.train import Run

from paths import REPO

FIXTURES = REPO / "tests" / "fixtures" / "checkpoints"
MODELS = sorted(path.stem for path in FIXTURES.glob("*.npz"))

pytestmark = pytest.mark.skipif(backend.current() != "numpy", reason="the checkpoints are resumed on the NumPy backend")


def test_the_fixtures_are_there():
    assert MODELS == ["cgan", "dcgan", "gan", "nerf", "rnn"]


@pytest.mark.parametrize("model", MODELS)
def test_an_earlier_checkpoint_loads_samples_and_resumes(model, tmp_path):
    shutil.copy(FIXTURES / f"{model}.npz", tmp_path / "checkpoint.npz")
    run = Run.from_checkpoint(str(tmp_path / "checkpoint.npz"))
    assert run.config["model"] == model and run.epoch == 1
    samples = backend.to_numpy(run.sample(4).array)
    assert len(samples) == 4 and np.isfinite(samples).all()
    run.train(epochs=2, quiet=True)
    assert run.epoch == 2 and [row["epoch"] for row in run.history] == [1, 2]
    assert Run.from_checkpoint(str(tmp_path / "checkpoint.npz")).epoch == 2
