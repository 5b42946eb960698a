"""pix2pix: the damage by hand, the pair loader, the PatchGAN's map and receptive field, the losses
against NumPy, which network each loss trains, exact resume, the region scores, and the command line."""
import json
from pathlib import Path

import numpy as np
import pytest

from tinygan import Tensor, backend, optim
from tinygan.autograd import grad
from tinygan.cli import main
from tinygan.data import DataError
from tinygan.data.damage import PairLoader, damage, epoch_damage, fixed_test_damage, inpaint, superres
from tinygan.models import PatchGAN, UNet, pix2pix_networks
from tinygan.evaluation.restoration import region_l1, region_psnr, restoration_scores
from tinygan.train import ConfigError, Run, make_config
from tinygan.train.losses import pix2pix_discriminator_loss, pix2pix_generator_loss
from tinygan.train.pix2pix import Pix2PixStep

from resume import assert_same_weights, saved_weights, straight_and_resumed

pytestmark = pytest.mark.skipif(backend.current() != "numpy", reason="exact-resume tests run on the NumPy backend")

TINY = dict(epochs=2, limit=256, batch_size=32, steps_per_epoch=3)
from paths import OFFICIAL_MNIST as TEST_DATA


def _digits(n, seed=0):
    return np.random.default_rng(seed).integers(1, 256, size=(n, 28, 28), dtype=np.uint8)   # no pixel is 0


# -- damage ---------------------------------------------------------------------------------------

def test_inpaint_zeroes_the_square_at_the_drawn_corner_and_nothing_else():
    images = _digits(50)
    damaged, mask = inpaint(images, np.random.default_rng(3))
    corners = np.random.default_rng(3).integers(0, 15, size=(50, 2))      # the draw the docstring states
    for n, (r, c) in enumerate(corners):
        expected = np.zeros((28, 28), bool)
        expected[r:r + 14, c:c + 14] = True
        np.testing.assert_array_equal(mask[n], expected)
    assert (damaged[mask] == 0).all()
    np.testing.assert_array_equal(damaged[~mask], images[~mask])
    assert damaged.dtype == np.uint8 and mask.sum(axis=(1, 2)).tolist() == [196] * 50


def test_inpaint_corners_cover_every_position_that_keeps_the_square_inside():
    _, mask = inpaint(_digits(2000), np.random.default_rng(0))
    tops = mask.any(axis=2).argmax(axis=1)
    lefts = mask.any(axis=1).argmax(axis=1)
    assert set(tops.tolist()) == set(range(15)) and set(lefts.tolist()) == set(range(15))


def test_superres_is_the_rounded_4x4_mean_repeated_by_nearest_neighbour():
    image = np.zeros((1, 28, 28), np.uint8)
    image[0, 0:4, 0:4] = np.arange(16).reshape(4, 4)        # mean 7.5 -> rint 8 (halves to even)
    image[0, 0:4, 4:8] = 1
    image[0, 0, 4] = 7                                       # mean (15 * 1 + 7) / 16 = 1.375 -> 1
    image[0, 24:28, 24:28] = 255
    image[0, 4:8, 0:4] = [[13] * 4, [0] * 4, [0] * 4, [0] * 4]   # mean 3.25 -> 3
    image[0, 4:8, 4:8] = [[6] * 4, [4] * 4, [0] * 4, [0] * 4]    # mean 2.5 -> 2 (halves to even)
    damaged, mask = superres(image)
    small = damaged[0, ::4, ::4]
    assert small[0, 0] == 8 and small[0, 1] == 1 and small[6, 6] == 255 and small[1, 0] == 3 and small[1, 1] == 2
    np.testing.assert_array_equal(damaged[0], small.repeat(4, axis=0).repeat(4, axis=1))
    assert mask.all()


def test_test_damage_is_fixed_and_training_damage_changes_with_the_epoch():
    images = _digits(20)
    a, mask_a = fixed_test_damage(images, "inpaint")
    b, _ = damage(images, "inpaint", np.random.default_rng(1234))
    np.testing.assert_array_equal(a, b)
    e0, m0 = epoch_damage(images, "inpaint", seed=5, epoch=0)
    e0_again, _ = damage(images, "inpaint", np.random.default_rng(5))
    e1, m1 = epoch_damage(images, "inpaint", seed=5, epoch=1)
    np.testing.assert_array_equal(e0, e0_again)
    assert not np.array_equal(m0, m1)


def test_damage_refuses_what_it_cannot_damage():
    with pytest.raises(DataError, match="unknown task 'blur'"):
        damage(_digits(2), "blur", np.random.default_rng(0))
    with pytest.raises(DataError, match=r"inpaint: expected uint8 digits \(N, 28, 28\), got float32"):
        inpaint(np.zeros((2, 28, 28), np.float32), np.random.default_rng(0))


def test_pair_loader_gives_the_epochs_damage_in_the_epochs_order():
    images = _digits(100)
    loader = PairLoader(images, task="inpaint", batch_size=32, seed=2)
    assert len(loader) == 3
    loader.set_epoch(1)
    batches = list(loader)
    damaged, _ = epoch_damage(images, "inpaint", seed=2, epoch=1)
    order = np.random.default_rng([2, 1]).permutation(100)
    x, y = batches[1]
    np.testing.assert_array_equal(x.array[:, 0], damaged[order[32:64]] / np.float32(127.5) - 1)
    np.testing.assert_array_equal(y.array[:, 0], images[order[32:64]] / np.float32(127.5) - 1)
    assert x.shape == y.shape == (32, 1, 28, 28)


# -- networks and losses ------------------------------------------------------------------------------

def _images(n, seed=0):
    return Tensor(np.random.default_rng(seed).uniform(-1, 1, (n, 1, 28, 28)).astype(backend.get_default_dtype()))


def test_patchgan_gives_a_7x7_map_each_logit_seeing_an_18x18_patch():
    D = PatchGAN().eval()                                   # eval: BatchNorm does not mix positions or images
    assert D(_images(3), _images(3, seed=1)).shape == (3, 1, 7, 7)
    x, y = _images(1), _images(1, seed=1)
    x.requires_grad = y.requires_grad = True
    logits = D(x, y)
    gx, gy = grad(logits[0, 0, 3, 3], [x, y])
    touched = (np.abs(gx.array[0, 0]) + np.abs(gy.array[0, 0])) > 0
    rows, cols = np.nonzero(touched)
    assert rows.max() - rows.min() + 1 == 18 and cols.max() - cols.min() + 1 == 18
    with pytest.raises(ValueError, match="PatchGAN: expected an input and an output of the same shape"):
        D(_images(2), Tensor(np.zeros((2, 1, 14, 14), np.float32)))


def _bce(logits, target):
    p = 1 / (1 + np.exp(-logits.astype(np.float64)))
    return float(np.mean(-(target * np.log(p) + (1 - target) * np.log(1 - p))))


def test_losses_match_numpy_transcriptions():
    rng = np.random.default_rng(1)
    real, fake = rng.normal(size=(4, 1, 7, 7)), rng.normal(size=(4, 1, 7, 7))
    np.testing.assert_allclose(pix2pix_discriminator_loss(Tensor(real), Tensor(fake)).item(),
                               0.5 * (_bce(real, 1) + _bce(fake, 0)), rtol=1e-10)
    restored, original = rng.uniform(-1, 1, (4, 1, 28, 28)), rng.uniform(-1, 1, (4, 1, 28, 28))
    loss, gan, l1 = pix2pix_generator_loss(Tensor(fake), Tensor(restored), Tensor(original), 100.0, 0.5)
    np.testing.assert_allclose(loss.item(), 0.5 * _bce(fake, 1) + 100 * np.abs(restored - original).mean(), rtol=1e-10)
    loss, gan, l1 = pix2pix_generator_loss(None, Tensor(restored), Tensor(original), 100.0, 0.0)
    assert gan is None
    np.testing.assert_allclose(loss.item(), 100 * np.abs(restored - original).mean(), rtol=1e-10)


def _step(gan_weight=1.0, seed=0):
    backend.manual_seed(seed)
    G, D = UNet(1, 1, widths=(4, 8, 8), output="tanh"), PatchGAN(width=8)
    opts = [optim.Adam(net.parameters(), lr=1e-3, betas=(0.5, 0.999)) for net in (G, D)]
    return Pix2PixStep(G, D, *opts, l1_weight=100.0, gan_weight=gan_weight)


def _state(net):
    return {k: v.copy() for k, v in net.state_dict().items()}


def _grads(loss, net):
    params = list(net.parameters())
    return [np.zeros(p.shape) if g is None else np.array(g.array, np.float64)
            for p, g in zip(params, grad(loss, params, allow_unused=True))]


def test_each_loss_reaches_only_the_network_it_trains():
    backend.set_default_dtype("float64")        # exact comparisons: no float32 noise
    x, y = _images(6), _images(6, seed=1)
    step = _step()
    G0, D0 = _state(step.G), _state(step.D)
    step(x, y)
    # The reference: D's loss on G's output (not detached) at the starting weights ...
    ref = _step()
    ref.G.load_state_dict(G0), ref.D.load_state_dict(D0)
    restored = ref.G(x)
    d_loss = pix2pix_discriminator_loss(ref.D(x, y), ref.D(x, restored))
    assert any(np.abs(g).max() > 0 for g in _grads(d_loss, ref.G))    # would reach G without the detach
    for p, g in zip(step.D.parameters(), _grads(d_loss, ref.D)):
        np.testing.assert_allclose(np.asarray(p.grad.array, np.float64), g, rtol=1e-9, atol=1e-12)
    # ... and G's loss through D's updated weights, which would reach D without the freeze.
    ref = _step()
    ref.G.load_state_dict(G0), ref.D.load_state_dict(_state(step.D))
    restored = ref.G(x)
    g_loss, _, _ = pix2pix_generator_loss(ref.D(x, restored), restored, y, 100.0, 1.0)
    assert any(np.abs(g).max() > 0 for g in _grads(g_loss, ref.D))
    for p, g in zip(step.G.parameters(), _grads(g_loss, ref.G)):
        np.testing.assert_allclose(np.asarray(p.grad.array, np.float64), g, rtol=1e-9, atol=1e-12)


def test_gan_weight_zero_trains_g_on_l1_alone_and_leaves_d_untouched():
    backend.set_default_dtype("float64")
    x, y = _images(6), _images(6, seed=1)
    step = _step(gan_weight=0.0)
    G0, D0 = _state(step.G), _state(step.D)
    figures = step(x, y)
    assert "loss_d" not in figures and "gan_g" not in figures
    for key, value in _state(step.D).items():
        np.testing.assert_array_equal(value, D0[key])
    ref = _step(gan_weight=0.0)
    ref.G.load_state_dict(G0)
    restored = ref.G(x)
    l1_grads = _grads(100.0 * ((restored - y).abs()).mean(), ref.G)
    for p, g in zip(step.G.parameters(), l1_grads):
        np.testing.assert_allclose(np.asarray(p.grad.array, np.float64), g, rtol=1e-9, atol=1e-12)


def test_the_shipped_networks_are_the_issues():
    nets = pix2pix_networks()
    assert isinstance(nets["G"], UNet) and nets["G"].output == "tanh" and nets["G"].skips
    out = nets["G"](_images(2))
    assert out.shape == (2, 1, 28, 28) and np.abs(out.array).max() <= 1
    assert nets["D"](_images(2), out).shape == (2, 1, 7, 7)


# -- scores ----------------------------------------------------------------------------------------

def test_region_scores_by_hand():
    original = np.zeros((2, 28, 28), np.float32)
    restored = original.copy()
    mask = np.zeros((2, 28, 28), bool)
    mask[0, :2, :2] = mask[1, 5, 5] = True                  # 5 damaged pixels
    restored[0, 0, 0], restored[1, 5, 5] = 0.5, 0.25        # errors 0.5 and 0.25 inside, and one outside:
    restored[1, 20, 20] = 1.0
    assert region_l1(restored, original, mask) == pytest.approx(0.75 / 5)
    assert region_psnr(restored, original, mask) == pytest.approx(10 * np.log10(5 / (0.25 + 0.0625)))


def test_restoration_scores_of_a_perfect_and_of_a_do_nothing_restorer():
    images = (np.random.default_rng(0).random((20, 28, 28)) * 255).astype(np.uint8)
    damaged, mask = fixed_test_damage(images, "inpaint")
    labels = np.zeros(20, np.int64)
    perfect = restoration_scores(images / np.float32(255), damaged, images, labels, mask)
    assert perfect["restored"]["l1"] == 0 and perfect["restored"]["psnr"] == np.inf
    unchanged = restoration_scores(damaged / np.float32(255), damaged, images, labels, mask)
    assert unchanged["restored"] == pytest.approx(unchanged["damaged"])
    assert perfect["restored"]["accuracy"] == perfect["original"]["accuracy"]


# -- runs and the command line ----------------------------------------------------------------------

@pytest.mark.parametrize("task", ["inpaint", "superres"])
def test_resumed_pix2pix_ends_with_the_same_weights(tmp_path, task):
    straight, resumed = straight_and_resumed(make_config("pix2pix", task=task, **TINY), tmp_path)
    assert_same_weights(straight, resumed)
    assert {key.split(".")[0] for key in saved_weights(straight)} == {"G", "D"}
    assert (tmp_path / "straight" / "samples" / "epoch_002.png").stat().st_size > 0


def test_pix2pix_settings_are_checked():
    with pytest.raises(ConfigError, match="--task is a setting of pix2pix"):
        make_config("dcgan", task="inpaint")
    with pytest.raises(ConfigError, match="unknown task 'blur'"):
        make_config("pix2pix", task="blur")
    with pytest.raises(ConfigError, match="--gan-weight"):
        make_config("pix2pix", gan_weight=-1.0)
    with pytest.raises(ConfigError, match="--ema"):
        make_config("pix2pix", ema=0.999)
    with pytest.raises(ConfigError, match="grey 28x28 digits"):
        make_config("pix2pix", data="colour-mnist5k")


def test_command_line_train_sample_resume_eval(tmp_path, capsys):
    folder = tmp_path / "run"
    args = ["--limit", "256", "--batch-size", "32", "--steps-per-epoch", "2", "--threads", "1", "--quiet"]
    assert main(["train", "pix2pix", "--epochs", "1", "--out", str(folder), "--gan-weight", "0", *args]) == 0
    config = json.loads((folder / "config.json").read_text())
    assert config["gan_weight"] == 0 and config["task"] == "inpaint" and config["l1_weight"] == 100
    assert main(["resume", str(folder), "--epochs", "2", "--quiet"]) == 0
    assert main(["sample", str(folder), "--n", "20", "--out", str(tmp_path / "s.png")]) == 0
    assert (tmp_path / "s.png").stat().st_size > 0
    report = tmp_path / "eval.json"
    assert main(["eval", str(folder), "--json", str(report)]) == 0
    result = json.loads(report.read_text())
    assert result["epoch"] == 2 and result["test_images"] == 1000
    scores = result["restoration"]
    assert 0 < scores["restored"]["l1"] < 1 and 0 <= scores["restored"]["accuracy"] <= 1
    assert scores["original"]["accuracy"] > 0.9 > scores["damaged"]["accuracy"]
    assert Path(result["picture"]).stat().st_size > 0
    out = capsys.readouterr().out
    assert "PSNR over the damaged region" in out and "restored" in out


def test_the_pytorch_twins_of_the_quality_table_compute_what_tinygan_computes():
    """The PyTorch twins of pix2pix's U-Net and PatchGAN (benchmarks/twins/pix2pix.py), given tinygan's weights, give
    tinygan's outputs (float64)."""
    torch = pytest.importorskip("torch")
    from benchmarks.twins.pix2pix import networks as twin_networks
    backend.set_default_dtype("float64")
    ours = pix2pix_networks()
    theirs = dict(zip(("G", "D"), twin_networks()))
    x, y = _images(3), _images(3, seed=1)
    for name in ("G", "D"):
        state = ours[name].state_dict()
        twin = theirs[name].double()
        assert set(twin.state_dict()) == set(state), name                 # the same layers under the same names
        twin.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in state.items()})
    ours["G"].eval(), ours["D"].eval(), theirs["G"].eval(), theirs["D"].eval()
    restored = ours["G"](x)
    with torch.no_grad():
        twin_restored = theirs["G"](torch.from_numpy(x.array))
        twin_logits = theirs["D"](torch.from_numpy(x.array), torch.from_numpy(y.array))
    np.testing.assert_allclose(restored.array, twin_restored.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ours["D"](x, y).array, twin_logits.numpy(), rtol=1e-10, atol=1e-12)


def test_eval_every_logs_the_restored_digits_scores(tmp_path):
    from tinygan.train.evaluate import scores_for_log
    run = Run(make_config("pix2pix", epochs=1, limit=256, batch_size=32, steps_per_epoch=1, eval_every=1),
              str(tmp_path / "run"))
    row = run.train(quiet=True, evaluate=scores_for_log)[-1]
    assert {"restored_l1", "restored_psnr", "restored_accuracy"} <= row.keys()
