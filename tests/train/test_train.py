"""Training runs, checkpoints, exact resume and the `tinygan` command, on tiny settings."""
import json
import os

import numpy as np
import pytest

from tinygan import Tensor, backend
from tinygan.cli import main
from tinygan.train import CheckpointError, ConfigError, Run, make_config
from tinygan.train.checkpoint import load_checkpoint, save_checkpoint
from tinygan.train.ema import WeightAverage
from tinygan.train import TrainingDiverged, check_finite

from resume import assert_same_weights, straight_and_resumed

pytestmark = pytest.mark.skipif(backend.current() != "numpy", reason="exact-resume tests run on the NumPy backend")

TINY = dict(epochs=2, limit=256, batch_size=32, width=8, latent_dim=8, steps_per_epoch=3)


@pytest.mark.parametrize("model, extra", [("dcgan", {}), ("vae", {}), ("wgan-gp", {}), ("cgan", {}),
                                          ("dcgan", {"ema": 0.9})])
def test_resumed_run_ends_with_the_same_weights(tmp_path, model, extra):
    straight, resumed = straight_and_resumed(make_config(model, **TINY, **extra), tmp_path)
    assert_same_weights(straight, resumed)
    assert straight.history[-1]["step"] == resumed.history[-1]["step"]


def test_run_folder_has_samples_curves_log_and_checkpoint(tmp_path):
    run = Run(make_config("dcgan", **TINY), str(tmp_path / "run"))
    run.train(quiet=True)
    folder = tmp_path / "run"
    assert (folder / "samples" / "epoch_001.png").stat().st_size > 0
    assert (folder / "samples" / "epoch_002.png").stat().st_size > 0
    assert (folder / "curves.png").stat().st_size > 0
    rows = [json.loads(line) for line in (folder / "log.jsonl").read_text().splitlines()]
    assert [row["epoch"] for row in rows] == [1, 2]
    assert {"loss_d", "loss_g", "D(x)", "D(G(z))"} <= rows[0].keys()
    assert json.loads((folder / "config.json").read_text())["model"] == "dcgan"


def test_checkpoint_of_another_model_is_a_clear_error(tmp_path):
    run = Run(make_config("dcgan", **TINY), str(tmp_path / "a"))
    run.save()
    other = Run(make_config("dcgan", **dict(TINY, width=4)), str(tmp_path / "b"))
    with pytest.raises(CheckpointError, match="does not fit"):
        other.load_state(load_checkpoint(str(tmp_path / "a" / "checkpoint.npz")))


def test_checkpoint_round_trip_keeps_types(tmp_path):
    state = {"a": np.arange(3, dtype=np.float32), "n": 3, "d": {0: {"m": np.ones(2)}}, "s": "x", "l": [1.5, None]}
    path = str(tmp_path / "c.npz")
    save_checkpoint(path, state)
    back = load_checkpoint(path)
    np.testing.assert_array_equal(back["a"], state["a"])
    assert back["a"].dtype == np.float32 and back["n"] == 3 and back["s"] == "x" and back["l"] == [1.5, None]
    np.testing.assert_array_equal(back["d"][0]["m"], np.ones(2))


def test_damaged_checkpoint_is_a_clear_error(tmp_path):
    path = tmp_path / "bad.npz"
    path.write_bytes(b"PK\x03\x04 not really a zip file")
    with pytest.raises(CheckpointError, match="bad.npz"):
        load_checkpoint(str(path))
    with pytest.raises(CheckpointError, match="not found"):
        load_checkpoint(str(tmp_path / "missing.npz"))


def test_failed_write_leaves_the_previous_checkpoint(tmp_path, monkeypatch):
    path = str(tmp_path / "c.npz")
    save_checkpoint(path, {"v": np.zeros(2)})

    def broken_savez(*args, **kwargs):
        raise OSError("disk full")
    monkeypatch.setattr(np, "savez", broken_savez)
    with pytest.raises(OSError):
        save_checkpoint(path, {"v": np.ones(2)})
    monkeypatch.undo()
    np.testing.assert_array_equal(load_checkpoint(path)["v"], np.zeros(2))
    assert os.listdir(tmp_path) == ["c.npz"]  # no temporary file left behind


def test_config_errors_list_the_choices():
    with pytest.raises(ConfigError, match="dcgan"):
        make_config("stylegan")
    with pytest.raises(ConfigError, match="mnist5k"):
        make_config("dcgan", data="cifar")
    with pytest.raises(ConfigError, match="needs images"):
        make_config("dcgan", data="ring8")


def test_diverging_loss_names_the_loss_and_step():
    with pytest.raises(TrainingDiverged, match="generator loss became nan at step 7"):
        check_finite("generator loss", float("nan"), 7)


def test_cli_train_sample_resume(tmp_path, capsys):
    out = str(tmp_path / "run")
    args = ["--epochs", "1", "--limit", "128", "--batch-size", "32", "--width", "8", "--latent-dim", "8",
            "--quiet", "--out", out]
    assert main(["train", "dcgan"] + args) == 0
    assert main(["sample", out, "--n", "16", "--out", str(tmp_path / "grid.png")]) == 0
    assert (tmp_path / "grid.png").stat().st_size > 0
    assert main(["resume", out, "--epochs", "2", "--quiet"]) == 0
    assert len((tmp_path / "run" / "log.jsonl").read_text().splitlines()) == 2
    assert main(["info"]) == 0


def test_cli_bad_values_are_errors_not_tracebacks(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "stylegan"])
    assert exit_info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err
    assert main(["sample", str(tmp_path / "nothing")]) == 2
    assert "not found" in capsys.readouterr().err


def test_toy_gan_run_trains_and_samples(tmp_path):
    run = Run(make_config("gan", data="ring8", epochs=1, steps_per_epoch=5, batch_size=64, width=16,
                          latent_dim=8), str(tmp_path / "toy"))
    run.train(quiet=True)
    assert run.sample(100).shape == (100, 2)
    assert (tmp_path / "toy" / "samples" / "epoch_001.png").exists()


def test_weight_average_follows_its_formula():
    from tinygan import nn
    net = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    average = WeightAverage(net, decay=0.9)
    before = [p.array.copy() for p in average.model.parameters()]
    for p in net.parameters():
        p.array += 1.0
    net.train()
    net(Tensor(np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)))  # moves BN's statistics
    average.update(net)
    for old, new, current in zip(before, average.model.parameters(), net.parameters()):
        np.testing.assert_allclose(new.array, 0.9 * old + 0.1 * current.array, rtol=1e-6)
        assert not new.requires_grad
    for copied, current in zip(average.model.buffers(), net.buffers()):
        np.testing.assert_array_equal(copied.array, current.array)
    with pytest.raises(ValueError, match="decay"):
        WeightAverage(net, decay=1.0)


def test_weight_average_after_three_steps_is_the_exact_decayed_sum():
    """From 0, decay 3/4, weights 1, 2, 4 at the three steps: 1/4 (9/16 * 1 + 3/4 * 2 + 4) = 1.515625.

    theta_ema = sum_k (1 - decay) decay^(3-k) theta_k; every term is a binary fraction, exact in float32.
    """
    from tinygan import nn
    net = nn.Linear(3, 2)
    for p in net.parameters():
        p.array[...] = 0.0
    average = WeightAverage(net, decay=0.75)
    for value in (1.0, 2.0, 4.0):
        for p in net.parameters():
            p.array[...] = value
        average.update(net)
    for p in average.model.parameters():
        np.testing.assert_array_equal(p.array, np.full(p.shape, 1.515625, dtype=np.float32))


def test_run_with_ema_samples_from_the_average(tmp_path):
    run = Run(make_config("dcgan", **TINY, ema=0.5), str(tmp_path / "ema"))
    run.train(epochs=1, quiet=True)
    z = run.fixed_noise(4)
    trained = run.nets["G"](z).array
    averaged = run.ema.model(z).array
    assert not np.allclose(trained, averaged)
    np.testing.assert_array_equal(run.sample(4, z=z).array, averaged)


def test_packed_discriminator_judges_m_samples_per_logit():
    from tinygan.models import MLPDiscriminator
    packed = MLPDiscriminator(in_shape=(2,), hidden=(8,), activation="relu", pack=2)
    single = MLPDiscriminator(in_shape=(4,), hidden=(8,), activation="relu")
    single.load_state_dict(packed.state_dict())
    x = np.random.default_rng(0).standard_normal((6, 2)).astype(np.float32)
    side_by_side = np.stack([np.concatenate([x[0], x[1]]), np.concatenate([x[2], x[3]]), np.concatenate([x[4], x[5]])])
    np.testing.assert_allclose(packed(Tensor(x)).array, single(Tensor(side_by_side)).array, rtol=1e-6)
    with pytest.raises(ValueError, match="5 samples does not split into packs of 2"):
        packed(Tensor(x[:5]))


def test_pack_is_the_toy_default_and_checked():
    config = make_config("gan", data="ring8")
    assert config["pack"] == 2 and make_config("gan")["pack"] == 1
    with pytest.raises(ConfigError, match="divisible by pack 3"):
        make_config("gan", data="ring8", pack=3)
    with pytest.raises(ConfigError, match="MLP discriminators"):
        make_config("dcgan", pack=2)
