"""Issue 15: the row-by-row digit generator (`tinygan train rnn`): its likelihood, its sampling, its run."""
import math

import numpy as np
import pytest

import tinygan
from tinygan import Tensor
from tinygan.cli import main
from tinygan.train.evaluate import evaluate_run
from tinygan.train.rnn import evaluate_rnn
from tinygan.models import RowLSTM
from tinygan.models.rnn import binarize, normal_cdf
from tinygan.train import Run, make_config

from resume import assert_same_weights, straight_and_resumed

TINY = dict(epochs=2, limit=256, batch_size=32, width=8, steps_per_epoch=3)


def random_binary_images(N, seed=0):
    return Tensor(np.random.default_rng(seed).integers(0, 2, (N, 1, 28, 28)).astype(np.float32))


def test_binarize_thresholds_at_one_half():
    x = Tensor(np.array([0.0, 0.49, 0.5, 0.51, 1.0], dtype=np.float32))
    np.testing.assert_array_equal(binarize(x).array, [0, 0, 1, 1, 1])


def test_nll_is_bce_of_each_row_given_the_rows_above():
    """The logits of row t depend only on rows 0..t-1 (teacher forcing shifted by one), and the NLL sums them."""
    tinygan.manual_seed(0)
    model = RowLSTM(hidden=8)
    x = random_binary_images(2)
    logits = model(x).array
    changed = x.array.copy()
    changed[:, 0, 10] = 1 - changed[:, 0, 10]                 # change row 10
    logits_changed = model(Tensor(changed)).array
    np.testing.assert_array_equal(logits[:, :11], logits_changed[:, :11])   # rows 0..10 do not see row 10
    assert not np.allclose(logits[:, 11:], logits_changed[:, 11:])          # rows below do
    y = x.array.reshape(2, 28, 28)
    by_hand = np.sum(np.maximum(logits, 0) - logits * y + np.log1p(np.exp(-np.abs(logits)))) / 2
    np.testing.assert_allclose(model.nll(x).item(), by_hand, rtol=1e-5)


def test_untrained_nll_is_near_784_log_2():
    tinygan.manual_seed(0)
    nll = RowLSTM().nll(random_binary_images(4)).item()
    assert abs(nll - 784 * math.log(2)) < 30


def test_sampling_feeds_back_the_drawn_rows():
    """Each drawn pixel is 1 exactly where Phi(noise) < sigmoid(logit), with the logits the model gives when the
    drawn image is fed in as if it were data: sampling and teacher forcing are the same model."""
    tinygan.manual_seed(1)
    model = RowLSTM(hidden=16).double()
    noise = Tensor(np.random.default_rng(0).standard_normal((5, 784)))
    images = model.sample(noise)
    assert images.shape == (5, 1, 28, 28)
    p = 1 / (1 + np.exp(-model(images).array))
    expected = (normal_cdf(noise.array).reshape(5, 28, 28) < p).astype(np.float64)
    np.testing.assert_array_equal(images.array.reshape(5, 28, 28), expected)
    with pytest.raises(ValueError, match="latent_dim 784"):
        model.sample(Tensor(np.zeros((2, 100))))


def test_training_lowers_the_nll(tmp_path):
    config = make_config("rnn", epochs=5, limit=256, batch_size=32, width=32)
    run = Run(config, str(tmp_path / "run"))
    history = run.train(quiet=True)
    assert history[-1]["loss"] < history[0]["loss"] - 40


def test_resumed_run_ends_with_the_same_weights(tmp_path):
    straight, resumed = straight_and_resumed(make_config("rnn", **TINY), tmp_path)
    assert_same_weights(straight, resumed)
    assert straight.history == [dict(row, seconds=s["seconds"]) for row, s in zip(resumed.history, straight.history)]


def test_eval_reports_the_test_nll_and_sample_scores(tmp_path):
    config = make_config("rnn", **TINY)
    run = Run(config, str(tmp_path / "run"))
    run.train(quiet=True)
    result = evaluate_run(run, n=100)
    assert set(result["images"]["model"]) >= {"fid", "classifier_score"}
    images = np.random.default_rng(0).integers(0, 256, (7, 28, 28)).astype(np.uint8)
    direct = run.nets["rnn"].nll(Tensor((images.reshape(7, 1, 28, 28) >= 128).astype(np.float32))).item()
    np.testing.assert_allclose(evaluate_rnn(run, images, batch_size=3)["model"]["test_nll"], direct, rtol=1e-5)
    assert 0 < result["rnn"]["model"]["test_nll"] < 784 * math.log(2) + 50


def test_cli_train_sample_eval(tmp_path, capsys):
    out = str(tmp_path / "run")
    assert main(["train", "rnn", "--epochs", "1", "--limit", "64", "--batch-size", "32", "--width", "8",
                 "--out", out, "--quiet", "--threads", "1"]) == 0
    assert main(["sample", out, "--n", "4", "--out", str(tmp_path / "s.png")]) == 0
    assert (tmp_path / "s.png").exists()
    assert main(["eval", out, "--n", "50"]) == 0
    assert "test NLL per image" in capsys.readouterr().out
