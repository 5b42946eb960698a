"""Issue 16: the U-Net's segmentation run (`tinygan train unet`): its loss, its scores, its run and its commands."""
from pathlib import Path

import numpy as np
import pytest

from tinygan import Tensor, backend
from tinygan.cli import main
from tinygan.train.evaluate import evaluate_run
from tinygan.gradcheck import gradcheck, gradgradcheck
from tinygan.evaluation.segmentation import class_iou, confusion_matrix, segmentation_scores
from tinygan.train.losses import pixelwise_cross_entropy
from tinygan.train.segmentation import colour_labels, scene_and_map_grid
from tinygan.train import Run, make_config
from tinygan.train.config import ConfigError

from resume import assert_same_weights, straight_and_resumed

from paths import OFFICIAL_MNIST as MNIST
TINY = dict(epochs=2, steps_per_epoch=2, batch_size=4)
RNG = np.random.default_rng(16)
LOGITS = RNG.normal(0.0, 2.0, (2, 4, 3, 3))
LABELS = RNG.integers(0, 4, (2, 3, 3))


# -- the loss ----------------------------------------------------------------------------------------

def test_pixelwise_cross_entropy_is_the_mean_over_pixels_of_minus_log_softmax_of_the_true_class():
    shifted = LOGITS - LOGITS.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    n, _, h, w = LOGITS.shape
    by_hand = -np.mean([log_probs[i, LABELS[i, r, c], r, c] for i in range(n) for r in range(h) for c in range(w)])
    ours = pixelwise_cross_entropy(Tensor(LOGITS), Tensor(LABELS)).item()
    np.testing.assert_allclose(ours, by_hand, rtol=1e-12)


def test_pixelwise_cross_entropy_passes_gradient_checks():
    labels = Tensor(LABELS)
    loss = lambda x: pixelwise_cross_entropy(x, labels)  # noqa: E731
    assert gradcheck(loss, [Tensor(LOGITS.copy(), requires_grad=True)])
    assert gradgradcheck(loss, [Tensor(LOGITS.copy(), requires_grad=True)])


def test_pixelwise_cross_entropy_matches_pytorch_in_float64():
    torch = pytest.importorskip("torch")
    x = Tensor(LOGITS.copy(), requires_grad=True)
    loss = pixelwise_cross_entropy(x, Tensor(LABELS))
    loss.backward()
    tx = torch.tensor(LOGITS, requires_grad=True)
    theirs = torch.nn.functional.cross_entropy(tx, torch.tensor(LABELS))
    theirs.backward()
    np.testing.assert_allclose(loss.item(), theirs.item(), rtol=1e-13)
    np.testing.assert_allclose(backend.to_numpy(x.grad.array), tx.grad.numpy(), rtol=1e-12, atol=1e-15)


# -- the scores ----------------------------------------------------------------------------------------

def test_confusion_matrix_counts_true_against_predicted():
    true = np.array([[0, 0, 1], [2, 2, 2]])
    predicted = np.array([[0, 1, 1], [2, 0, 2]])
    np.testing.assert_array_equal(confusion_matrix(true, predicted, 3), [[1, 1, 0], [0, 1, 0], [1, 0, 2]])


def test_iou_and_pixel_accuracy_of_a_hand_made_case():
    """Class 0: TP 1, FP 1 (a 2 called 0), FN 1 -> 1/3; class 1: TP 1, FP 1, FN 0 -> 1/2; class 2: TP 2, FN 1 -> 2/3."""
    counts = confusion_matrix(np.array([0, 0, 1, 2, 2, 2]), np.array([0, 1, 1, 2, 0, 2]), 3)
    np.testing.assert_allclose(class_iou(counts), [1 / 3, 1 / 2, 2 / 3])
    scores = segmentation_scores(counts, background=2)
    assert scores["pixel_accuracy"] == pytest.approx(4 / 6)
    assert scores["miou"] == pytest.approx((1 / 3 + 1 / 2 + 2 / 3) / 3)
    assert scores["miou_digits"] == pytest.approx((1 / 3 + 1 / 2) / 2)     # the background left out


def test_predicting_only_background_scores_high_accuracy_and_low_miou():
    """The class imbalance of the scenes: accuracy rewards calling everything background, mIoU does not."""
    true = np.full((10, 10), 10)
    true[2:4, 2:4], true[6, 6:9] = 3, 7
    scores = segmentation_scores(confusion_matrix(true, np.full((10, 10), 10)))
    assert scores["pixel_accuracy"] == pytest.approx(93 / 100)
    assert scores["iou"][3] == 0 and scores["iou"][7] == 0 and scores["iou"][10] == pytest.approx(93 / 100)
    assert scores["miou"] == pytest.approx(0.93 / 3)                       # classes absent from both maps skipped
    assert scores["miou_digits"] == 0
    assert scores["iou"][0] is None


def test_a_perfect_prediction_scores_one():
    true = RNG.integers(0, 11, (4, 8, 8))
    scores = segmentation_scores(confusion_matrix(true, true))
    assert scores["pixel_accuracy"] == 1 and scores["miou"] == 1 and scores["miou_digits"] == 1


def test_confusion_matrix_refuses_labels_outside_the_classes():
    with pytest.raises(ValueError, match=r"predicted labels must be classes 0..10, found 0..11"):
        confusion_matrix(np.zeros(3, int), np.array([0, 11, 2]))
    with pytest.raises(ValueError, match="3 true labels but 2 predictions"):
        confusion_matrix(np.zeros(3, int), np.zeros(2, int))


def test_label_colours_and_the_sample_grid():
    colours = colour_labels(np.array([[0, 10]]))
    assert colours.shape == (1, 2, 3) and (colours[0, 1] == 0).all() and colours[0, 0].max() > 0.5
    grid = scene_and_map_grid(np.full((2, 64, 64), 255, np.uint8), np.full((2, 64, 64), 10))
    assert grid.shape == (4, 3, 64, 64) and (grid[0] == 1).all() and (grid[1] == 0).all()


# -- the run ---------------------------------------------------------------------------------------------

def test_unet_recipe_is_the_issues():
    config = make_config("unet")
    assert (config["data"], config["epochs"], config["batch_size"], config["lr"]) == ("scenes", 10, 32, 1e-3)
    assert (config["beta1"], config["beta2"]) == (0.9, 0.999)


def test_unet_and_scenes_go_together():
    with pytest.raises(ConfigError, match="train it with --data scenes"):
        make_config("unet", data="mnist5k")
    with pytest.raises(ConfigError, match="for the segmentation model 'unet'"):
        make_config("dcgan", data="scenes")


def test_training_lowers_the_loss(tmp_path):
    run = Run(make_config("unet", epochs=3, steps_per_epoch=8, batch_size=8), str(tmp_path / "run"))
    history = run.train(quiet=True)
    assert history[-1]["loss"] < history[0]["loss"] - 0.3
    assert (tmp_path / "run" / "samples" / "epoch_003.png").exists() and (tmp_path / "run" / "curves.png").exists()


def test_resumed_run_ends_with_the_same_weights(tmp_path):
    straight, resumed = straight_and_resumed(make_config("unet", **TINY), tmp_path)
    assert_same_weights(straight, resumed)
    a, b = straight.optimizers["unet"].state_dict(), resumed.optimizers["unet"].state_dict()
    assert a["state"].keys() == b["state"].keys()
    assert straight.history == [dict(row, seconds=s["seconds"]) for row, s in zip(resumed.history, straight.history)]


def test_a_segmentation_run_draws_no_samples(tmp_path):
    run = Run(make_config("unet", **TINY), str(tmp_path / "run"))
    with pytest.raises(ConfigError, match="draws no samples"):
        run.sample(4)


def test_eval_scores_the_evaluation_scenes_in_eval_mode(tmp_path):
    run = Run(make_config("unet", **TINY), str(tmp_path / "run"))
    run.train(quiet=True)
    result = evaluate_run(run, n=20)
    scores = result["segmentation"]["model"]
    assert set(scores) == {"pixel_accuracy", "miou", "miou_digits"} and len(result["segmentation"]["iou"]) == 11
    assert 0 <= scores["miou"] <= 1 and 0 <= scores["pixel_accuracy"] <= 1
    assert "embedded digits 400-499" in result["reference"] and result["scenes"] == 20
    assert Path(result["picture"]).exists()
    again = evaluate_run(run, n=20)                                # eval mode: BatchNorm's statistics stay
    assert again["segmentation"] == result["segmentation"]


@pytest.mark.skipif(not MNIST.is_dir(), reason="the official MNIST test set is not in ../shared/data/mnist")
def test_cli_train_resume_sample_eval(tmp_path, capsys):
    out = str(tmp_path / "run")
    assert main(["train", "unet", "--epochs", "1", "--steps-per-epoch", "2", "--batch-size", "4", "--out", out,
                 "--quiet", "--threads", "1"]) == 0
    assert main(["resume", out, "--epochs", "2", "--quiet"]) == 0
    assert main(["sample", out, "--n", "4", "--out", str(tmp_path / "s.png")]) == 0
    assert (tmp_path / "s.png").exists()
    assert main(["eval", out, "--n", "30", "--test-data", str(MNIST), "--json", str(tmp_path / "e.json")]) == 0
    printed = capsys.readouterr().out
    assert "mIoU over the 11 classes" in printed and "per-class IoU" in printed and "background" in printed
    assert "official MNIST test digits" in printed
