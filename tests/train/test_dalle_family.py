"""The dalle family: a tiny run of both stages, exact resume in stage 1, in stage 2 and across the boundary, the
learning-rate schedule, the settings and their boundaries, and the command line (train, sample with and without
--caption, a bad caption, eval)."""
import json
import math

import numpy as np
import pytest

from tinygan import backend
from tinygan.cli import main
from tinygan.train import ConfigError, Run, make_config
from tinygan.train import dalle as dalle_family
from tinygan.train.dalle import warmup_cosine

from resume import assert_same_weights, saved_weights

pytestmark = pytest.mark.skipif(backend.current() != "numpy", reason="exact-resume tests run on the NumPy backend")

TINY = dict(steps_per_epoch=2, batch_size=8, width=16)


@pytest.fixture(autouse=True)
def small_pictures(monkeypatch):
    """Stage 2's picture draws one image of two captions: drawing is 49 passes of the prior per image."""
    monkeypatch.setattr(dalle_family, "PICTURE_TRIPLES", ((0, 0, 0), (1, 0, 2)))
    monkeypatch.setattr(dalle_family, "PICTURE_SAMPLES", 1)


def test_defaults_are_the_recipe():
    c = make_config("dalle")
    assert (c["data"], c["epochs"], c["vq_epochs"], c["batch_size"], c["lr"], c["prior_lr"], c["width"]) == \
        ("captions", 45, 15, 64, 1e-3, 3e-4, 128)
    assert (c["beta1"], c["beta2"]) == (0.9, 0.999)
    nets = Run(c, "unused").nets
    prior = nets["prior"]
    assert prior.head.out_features == nets["vqvae"].num_codes == 128
    assert len(prior.transformer.layers) == 4 and prior.transformer.layers[0].norm_first
    assert prior.transformer.layers[0].linear1.out_features == 512


def test_settings_and_their_boundaries():
    make_config("dalle", epochs=2, vq_epochs=1)                           # the smallest run: one epoch of each
    with pytest.raises(ConfigError, match=r"--vq-epochs \(2\) must be less than --epochs \(2\)"):
        make_config("dalle", epochs=2, vq_epochs=2)
    with pytest.raises(ConfigError, match="vq_epochs|vq-epochs"):
        make_config("dalle", epochs=2, vq_epochs=0)
    with pytest.raises(ConfigError, match="--prior-lr"):
        make_config("dalle", prior_lr=0.0)
    with pytest.raises(ConfigError, match="divisible by its 4 heads"):
        make_config("dalle", width=18)
    with pytest.raises(ConfigError, match="--data must be captions"):
        make_config("dalle", data="colour-mnist5k")
    with pytest.raises(ConfigError, match="--vq-epochs is a setting of dalle"):
        make_config("dcgan", vq_epochs=3)
    with pytest.raises(ConfigError, match="captioned colour digits, for dalle"):
        make_config("dcgan", data="captions")


def test_warmup_then_cosine_to_zero():
    assert warmup_cosine(0, 1000) == pytest.approx(1 / 100)
    assert warmup_cosine(99, 1000) == pytest.approx(1.0)
    assert warmup_cosine(100, 1000) == pytest.approx(1.0)
    assert warmup_cosine(550, 1000) == pytest.approx(0.5)
    assert warmup_cosine(1000, 1000) == pytest.approx(0.0, abs=1e-12)
    assert warmup_cosine(325, 1000) == pytest.approx(0.5 * (1 + math.cos(math.pi * 0.25)))


def test_a_tiny_run_trains_both_stages(tmp_path):
    run = Run(make_config("dalle", epochs=2, vq_epochs=1, **TINY), str(tmp_path))
    history = run.train(quiet=True)
    first, second = history
    assert {"loss_vq", "reconstruction", "commitment", "perplexity", "unused_codes", "restarted_codes"} <= set(first)
    assert first["restarted_codes"] == first["unused_codes"] and 1 <= first["perplexity"] <= 128
    assert {"loss_prior", "lr"} <= set(second) and "loss_vq" not in second
    assert second["loss_prior"] == pytest.approx(math.log(128), rel=0.2)
    assert not run.nets["vqvae"].training                                   # frozen during stage 2
    assert isinstance(run.optimizers["prior"], dalle_family.optim.AdamW)
    assert run.optimizers["prior"].param_groups[0]["betas"] == (0.9, 0.95)
    assert second["lr"] == pytest.approx(3e-4 * (warmup_cosine(0, 2) + warmup_cosine(1, 2)) / 2)   # epoch's mean
    for name in ("samples/epoch_001.png", "samples/epoch_002.png", "reconstructions.png", "curves.png"):
        assert (tmp_path / name).stat().st_size > 0


def _straight_and_resumed(config, folder, stop):
    """(straight, resumed): `config` trained straight through, and stopped after `stop` epochs, reloaded, finished."""
    straight = Run(config, str(folder / "straight"))
    straight.train(quiet=True)
    interrupted = Run(config, str(folder / "interrupted"))
    interrupted.train(epochs=stop, quiet=True)
    resumed = Run.from_checkpoint(str(folder / "interrupted"))
    assert resumed.epoch == stop
    resumed.train(quiet=True)
    return straight, resumed


@pytest.mark.parametrize("epochs, vq_epochs, stop", [(3, 2, 1), (2, 1, 1), (3, 1, 2)],
                         ids=["in stage 1", "at the boundary", "in stage 2"])
def test_resumed_run_ends_with_the_same_weights(tmp_path, epochs, vq_epochs, stop):
    config = make_config("dalle", epochs=epochs, vq_epochs=vq_epochs, **TINY)
    straight, resumed = _straight_and_resumed(config, tmp_path, stop)
    assert_same_weights(straight, resumed)
    assert {key.split(".")[0] for key in saved_weights(straight)} == {"vqvae", "prior"}
    assert [row["step"] for row in straight.history] == [row["step"] for row in resumed.history]
    for a, b in zip(straight.history, resumed.history):
        assert {k: v for k, v in a.items() if k != "seconds"} == {k: v for k, v in b.items() if k != "seconds"}
    for name in ("vqvae", "prior"):
        sa, sb = straight.optimizers[name].state_dict(), resumed.optimizers[name].state_dict()
        assert sa["state"].keys() == sb["state"].keys()
        for index in sa["state"]:
            for key, value in sa["state"][index].items():
                np.testing.assert_array_equal(value, sb["state"][index][key])


def test_command_line_train_resume_sample_and_a_bad_caption(tmp_path, capsys):
    folder = tmp_path / "run"
    args = ["--steps-per-epoch", "2", "--batch-size", "8", "--width", "16", "--threads", "1", "--quiet"]
    assert main(["train", "dalle", "--epochs", "1", "--vq-epochs", "1", "--out", str(folder), *args]) == 2
    assert "--vq-epochs (1) must be less than --epochs (1)" in capsys.readouterr().err
    assert main(["train", "dalle", "--epochs", "2", "--vq-epochs", "1", "--prior-lr", "1e-3", "--out", str(folder),
                 *args]) == 0
    config = json.loads((folder / "config.json").read_text())
    assert (config["vq_epochs"], config["prior_lr"], config["epochs"]) == (1, 1e-3, 2)
    assert main(["resume", str(folder), "--epochs", "3", "--quiet"]) == 0
    assert main(["sample", str(folder), "--caption", "red seven on white", "--n", "3",
                 "--out", str(tmp_path / "seven.png")]) == 0
    assert "3 drawings of 'red seven on white'" in capsys.readouterr().out
    assert main(["sample", str(folder), "--caption", "red zero on black", "--n", "1",
                 "--out", str(tmp_path / "zero.png")]) == 0
    assert "held-out caption" in capsys.readouterr().out
    assert main(["sample", str(folder), "--n", "18", "--seed", "3", "--out", str(tmp_path / "all.png")]) == 0
    assert "18 drawings of the 18 captions of the digit" in capsys.readouterr().out
    for name in ("seven.png", "zero.png", "all.png"):
        assert (tmp_path / name).stat().st_size > 0
    assert main(["sample", str(folder), "--caption", "purple seven on white", "--out", str(tmp_path / "x.png")]) == 2
    err = capsys.readouterr().err
    assert "unknown word 'purple'" in err and "red, green, blue, yellow, magenta, cyan, zero" in err
    assert main(["sample", str(folder), "--caption", "red seven white", "--out", str(tmp_path / "x.png")]) == 2
    assert "is not a caption" in capsys.readouterr().err
    assert main(["sample", str(folder), "--label", "3", "--out", str(tmp_path / "x.png")]) == 2
    assert not (tmp_path / "x.png").exists()


def test_caption_is_refused_for_other_models(tmp_path, capsys):
    folder = tmp_path / "gan"
    assert main(["train", "gan", "--epochs", "1", "--limit", "64", "--steps-per-epoch", "1", "--threads", "1",
                 "--quiet", "--out", str(folder)]) == 0
    assert main(["sample", str(folder), "--caption", "red seven on white", "--out", str(tmp_path / "s.png")]) == 2
    assert "--caption is for models that draw from captions (dalle)" in capsys.readouterr().err


@pytest.mark.slow
def test_eval_scores_seen_and_held_out_captions_apart(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(dalle_family, "ALL_TRIPLES", ((0, 0, 0), (1, 0, 2)))     # held out, then trained on
    folder = tmp_path / "run"
    assert main(["train", "dalle", "--epochs", "2", "--vq-epochs", "1", "--steps-per-epoch", "2", "--batch-size",
                 "8", "--width", "16", "--threads", "1", "--quiet", "--out", str(folder)]) == 0
    report = tmp_path / "eval.json"
    assert main(["eval", str(folder), "--n", "4", "--json", str(report)]) == 0
    result = json.loads(report.read_text())
    captions = result["captions"]
    assert captions["seen"]["n"] == captions["held_out"]["n"] == 2
    for part in ("seen", "held_out"):
        assert 0 <= captions[part]["all_accuracy"] <= 1 and captions[part]["shape_fid"] > 0
    assert captions["real"]["background_accuracy"] > 0.99
    assert 0 < result["codebook"]["mse"] < 1 and 0 <= result["codebook"]["unused_codes"] <= 128
    out = capsys.readouterr().out
    assert "held-out captions (never trained on)" in out and "reconstruction MSE" in out
