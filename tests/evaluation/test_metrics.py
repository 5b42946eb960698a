"""Metrics against known answers, the shipped classifier, and `tinygan eval` end to end."""
import argparse
import json

import numpy as np
import pytest

import tinygan
from tinygan import backend
from tinygan.evaluation import metrics
from tinygan.autograd import Tensor, no_grad
from tinygan.evaluation.classifier import accuracy, classify, load_classifier
from tinygan.data import DataError, load_embedded_mnist, load_mnist, ring8
from tinygan.cli import add_eval_parser, run_eval
from tinygan.data import embedded_split
from tinygan.models import MLPVAE
from tinygan.train.config import make_config
from tinygan.train.run import Run

from paths import OFFICIAL_MNIST


def random_covariance(rng, d, rank=None):
    b = rng.standard_normal((d, rank or d))
    return b @ b.T / d


# -- Fréchet distance -------------------------------------------------------------------------

def test_frechet_distance_of_a_set_with_itself_is_zero():
    features = np.random.default_rng(0).standard_normal((400, 16)) @ np.random.default_rng(1).standard_normal((16, 16))
    assert abs(metrics.frechet_distance_from_features(features, features)) < 1e-8


def test_frechet_distance_of_diagonal_gaussians_has_closed_form():
    # For commuting (here diagonal) covariances (S1 S2)^{1/2} = diag(sqrt(s1 s2)), so
    # d^2 = ||mu1 - mu2||^2 + sum_i (sqrt(s1_i) - sqrt(s2_i))^2.
    rng = np.random.default_rng(2)
    mu1, mu2 = rng.standard_normal(6), rng.standard_normal(6)
    s1, s2 = rng.uniform(0.1, 3, 6), rng.uniform(0.1, 3, 6)
    expected = np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(s1) - np.sqrt(s2)) ** 2)
    assert metrics.frechet_distance(mu1, np.diag(s1), mu2, np.diag(s2)) == pytest.approx(expected, rel=1e-10)
    # the same Gaussians in a rotated basis: the distance does not change
    q, _ = np.linalg.qr(rng.standard_normal((6, 6)))
    rotated = metrics.frechet_distance(q @ mu1, q @ np.diag(s1) @ q.T, q @ mu2, q @ np.diag(s2) @ q.T)
    assert rotated == pytest.approx(expected, rel=1e-9)


def test_frechet_distance_of_a_shift_is_the_squared_shift():
    rng = np.random.default_rng(3)
    sigma = random_covariance(rng, 8)
    mu1, mu2 = rng.standard_normal(8), rng.standard_normal(8)
    assert metrics.frechet_distance(mu1, sigma, mu2, sigma) == pytest.approx(np.sum((mu1 - mu2) ** 2), abs=1e-9)


def test_frechet_distance_of_non_commuting_covariances_matches_eigenvalues_of_the_product():
    # Tr((S1 S2)^{1/2}) = sum of square roots of the eigenvalues of S1 S2 (an independent computation)
    rng = np.random.default_rng(4)
    s1, s2 = random_covariance(rng, 10), random_covariance(rng, 10)
    expected_trace = np.sum(np.sqrt(np.clip(np.linalg.eigvals(s1 @ s2).real, 0, None)))
    assert metrics.trace_sqrt_product(s1, s2) == pytest.approx(expected_trace, rel=1e-9)
    mu = np.zeros(10)
    expected = np.trace(s1) + np.trace(s2) - 2 * expected_trace
    assert metrics.frechet_distance(mu, s1, mu, s2) == pytest.approx(expected, rel=1e-8)


def test_frechet_distance_accepts_tensors_and_checks_shapes():
    features = np.random.default_rng(5).standard_normal((50, 3)).astype(np.float32)
    assert metrics.frechet_distance_from_features(Tensor(features), features + 1) == pytest.approx(3.0, rel=1e-5)
    with pytest.raises(ValueError, match="do not fit"):
        metrics.frechet_distance(np.zeros(3), np.eye(3), np.zeros(4), np.eye(4))


@pytest.mark.parametrize("rank", [12, 5])
def test_matrix_square_root_squares_back(rank):
    a = random_covariance(np.random.default_rng(rank), 12, rank)       # rank 5: singular, still PSD
    root = metrics.sqrtm_psd(a)
    np.testing.assert_allclose(root @ root, a, atol=1e-10)
    np.testing.assert_allclose(root, root.T, atol=1e-12)
    assert np.linalg.eigvalsh(root).min() > -1e-10


# -- classifier-based scores -------------------------------------------------------------------

def test_classifier_score_bounds():
    confident_uniform = np.eye(10)[np.arange(1000) % 10]       # each sample sure, classes equally often
    assert metrics.classifier_score(confident_uniform) == pytest.approx(10.0)
    one_class = np.eye(10)[np.full(1000, 3)]
    assert metrics.classifier_score(one_class) == pytest.approx(1.0)
    undecided = np.full((100, 10), 0.1)
    assert metrics.classifier_score(undecided) == pytest.approx(1.0)
    half = np.eye(10)[np.arange(1000) % 5]                     # 5 classes used
    assert metrics.classifier_score(half) == pytest.approx(5.0)


def test_class_histogram_rarest_class_and_label_accuracy():
    labels = np.array([0] * 50 + [1] * 30 + [2] * 20)
    np.testing.assert_allclose(metrics.class_histogram(labels, 3), [0.5, 0.3, 0.2])
    np.testing.assert_allclose(metrics.class_histogram(np.eye(3)[labels], 3), [0.5, 0.3, 0.2])
    assert metrics.rarest_class_fraction(labels, 3) == pytest.approx(0.2)
    assert metrics.rarest_class_fraction(labels, 4) == 0.0          # a class never produced
    probs = np.eye(3)[labels]
    requested = labels.copy()
    requested[:10] = 2
    assert metrics.label_accuracy(probs, requested) == pytest.approx(0.9)


# -- toy sets ----------------------------------------------------------------------------------

def test_mode_metrics_on_constructed_points():
    ring = ring8()
    rng = np.random.default_rng(0)
    at_every_mode = np.repeat(ring.modes, 10, axis=0) + 0.5 * ring.std * rng.standard_normal((80, 2))
    assert metrics.mode_metrics(at_every_mode, ring.modes, ring.std) == {
        "modes_covered": 8, "n_modes": 8, "high_quality_fraction": 1.0}
    at_one_mode = ring.modes[[2]] + 0.5 * ring.std * rng.standard_normal((100, 2))
    result = metrics.mode_metrics(at_one_mode, ring.modes, ring.std)
    assert result["modes_covered"] == 1 and result["high_quality_fraction"] == 1.0
    far_away = 10 * ring.modes                                      # nearest modes exist, but 8 away
    assert metrics.mode_metrics(far_away, ring.modes, ring.std) == {
        "modes_covered": 0, "n_modes": 8, "high_quality_fraction": 0.0}
    between = (ring.modes + np.roll(ring.modes, 1, axis=0)) / 2     # halfway between modes: not high quality
    mixed = np.concatenate([at_one_mode[:50], between[:1].repeat(50, axis=0)])
    result = metrics.mode_metrics(mixed, ring.modes, ring.std)
    assert result["modes_covered"] == 1 and result["high_quality_fraction"] == pytest.approx(0.5)


def test_mode_metrics_of_real_samples():
    # ||x - mode|| / std is Rayleigh distributed in 2-D: P(within 3 std) = 1 - exp(-9/2) = 0.9889
    ring = ring8()
    result = metrics.mode_metrics(ring.sample(2500, 0), ring.modes, ring.std)
    assert result["modes_covered"] == 8
    assert result["high_quality_fraction"] == pytest.approx(1 - np.exp(-4.5), abs=0.006)


# -- log-mean-exp and the VAE bounds -----------------------------------------------------------

@pytest.mark.parametrize("a", [1e4, -1e4, 0.0])
def test_log_mean_exp_is_stable(a):
    values = np.array([[a, a], [a, a + np.log(3.0)], [a, -np.inf]])
    # mean(e^a, e^a) = e^a; mean(e^a, 3 e^a) = 2 e^a; mean(e^a, 0) = e^a / 2
    np.testing.assert_allclose(metrics.log_mean_exp(values, axis=1), [a, a + np.log(2.0), a - np.log(2.0)],
                               rtol=1e-12, atol=1e-9)
    with np.errstate(all="raise"):
        assert metrics.log_mean_exp(np.array([-np.inf, -np.inf])) == -np.inf


@pytest.fixture
def tiny_vae():
    """A VAE with a 1-D latent over 8 binary pixels, whose log p(x) can be integrated on a grid."""
    backend.manual_seed(0)
    model = MLPVAE(in_features=8, hidden=16, latent_dim=1)
    for layer in (model.fc3, model.fc4):                     # a decoder that depends strongly on z
        for p in layer.parameters():
            p.array *= 4
    x = (np.random.default_rng(1).random((300, 8)) > 0.5).astype(np.float64)
    return model, x


def exact_negative_log_likelihood(model, x):
    """-log p(x) = -log integral p(x|z) N(z; 0, 1) dz, by the rectangle rule on [-10, 10]."""
    grid = np.linspace(-10, 10, 20001)
    with no_grad():
        logits = metrics.as_float64(model.decode(tinygan.tensor(grid[:, None].astype(np.float32))))
    log_joint = np.stack([metrics.bernoulli_log_likelihood(logits, np.broadcast_to(xi, logits.shape)) for xi in x])
    log_joint += metrics.standard_normal_log_density(grid[:, None])
    return -(metrics.log_mean_exp(log_joint, axis=1) + np.log(grid[-1] - grid[0] + (grid[1] - grid[0])))


def test_iwae_bound_lies_below_the_elbo_and_rises_to_log_likelihood(tiny_vae):
    model, x = tiny_vae
    nll = exact_negative_log_likelihood(model, x).mean()
    losses = {k: metrics.vae_test_losses(model, x, k=k, seed=0) for k in (1, 10, 100, 1000)}
    elbo = losses[1]["elbo_loss"]
    iwae = {k: r["iwae_loss"] for k, r in losses.items()}
    # K = 1 is the ELBO with a sampled KL: equal in expectation. Each is a one-sample estimate per image,
    # so compare them over the images repeated 40 times (12,000 draws): their gap is then a few hundredths.
    many = np.repeat(x, 40, axis=0)
    one_sample = metrics.vae_test_losses(model, many, k=1, seed=0)
    assert one_sample["iwae_loss"] == pytest.approx(one_sample["elbo_loss"], abs=0.25)
    # -log p(x) <= -IWAE_K <= -ELBO, and -IWAE_K falls as K grows
    assert elbo > iwae[10] > iwae[100]
    assert iwae[1000] == pytest.approx(nll, abs=0.03)
    assert iwae[100] > nll - 0.03


def test_iwae_on_a_digit_vae_is_below_its_elbo():
    backend.manual_seed(0)
    model = MLPVAE()                                          # 784-400-20, untrained
    images, _ = load_embedded_mnist()
    x = images[::50]                                          # 100 digits, uint8 (scaled to [0, 1] inside)
    elbo = metrics.vae_test_losses(model, x, k=0, seed=0)["elbo_loss"]
    iwae5 = metrics.vae_test_losses(model, x, k=5, seed=0)["iwae_loss"]
    iwae50 = metrics.vae_test_losses(model, x, k=50, seed=0)["iwae_loss"]
    assert 400 < iwae50 < iwae5 < elbo                          # 784 pixels at ~log 2 nats each, minus what z explains


# -- the shipped classifier --------------------------------------------------------------------

def test_shipped_classifier_classifies_the_embedded_digits():
    images, labels = load_embedded_mnist()
    net = load_classifier()
    assert not net.training
    assert accuracy(images[::5], labels[::5], classifier=net) > 0.95     # 1,000 digits, 100 of each class
    probs, features = classify(images[:10], classifier=net)
    assert probs.shape == (10, 10) and features.shape == (10, 128)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)
    # the same answer from floats in [-1, 1] (a tanh generator's range)
    signed = images[:10].astype(np.float32) / 127.5 - 1
    np.testing.assert_allclose(classify(signed, classifier=net, value_range=(-1, 1))[0], probs, atol=1e-5)


@pytest.mark.skipif(not OFFICIAL_MNIST.is_dir(), reason=f"official MNIST test set not found at {OFFICIAL_MNIST}")
def test_shipped_classifier_reaches_97_percent_on_the_official_test_set():
    images, labels = load_mnist("test", folder=OFFICIAL_MNIST)
    assert accuracy(images, labels) >= 0.97


# -- tinygan eval ------------------------------------------------------------------------------

def eval_args(*argv):
    parser = argparse.ArgumentParser(prog="tinygan")
    add_eval_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(["eval", *argv])


def trained_run(tmp_path, model, **overrides):
    folder = tmp_path / model
    run = Run(make_config(model, epochs=1, **overrides), str(folder))
    run.train(quiet=True)
    return folder


def test_eval_of_a_dcgan_and_a_cgan(tmp_path, capsys):
    for model in ("dcgan", "cgan"):
        folder = trained_run(tmp_path, model, limit=128, batch_size=64, width=8, latent_dim=16)
        result = run_eval(eval_args(str(folder), "--n", "200", "--json", str(tmp_path / "eval.json")))
        out = capsys.readouterr().out
        assert "embedded digits 400-499" in out and "FID" in out and "real data" in out
        scores, floors = result["images"]["model"], result["images"]["floor"]
        assert scores["fid"] > floors["fid"] > 0
        assert 1 <= scores["classifier_score"] <= 10 and floors["classifier_score"] > 8
        assert ("label_accuracy" in scores) == (model == "cgan")
        assert json.loads((tmp_path / "eval.json").read_text())["model"] == model


@pytest.mark.skipif(not OFFICIAL_MNIST.is_dir(), reason=f"official MNIST test set not found at {OFFICIAL_MNIST}")
def test_eval_download_fetches_the_official_test_set_into_the_cache(tmp_path, capsys, monkeypatch):
    """`tinygan eval RUN --download`: the official files, md5-checked, land in the cache and are used.

    The mirror is the shared copy of the official files (file:// URLs), so no network is needed here.
    """
    from tinygan.data import mnist as mnist_module
    official = mnist_module.SOURCES["mnist"]
    mirror = mnist_module.IdxSource(official.title, official.licence, (OFFICIAL_MNIST.as_uri() + "/",), official.md5)
    monkeypatch.setitem(mnist_module.SOURCES, "mnist", mirror)
    monkeypatch.setenv("TINYGAN_CACHE", str(tmp_path / "cache"))
    folder = trained_run(tmp_path, "dcgan", limit=128, batch_size=64, width=8, latent_dim=16)
    result = run_eval(eval_args(str(folder), "--download", "--n", "200"))
    cached = sorted(path.name for path in (tmp_path / "cache" / "mnist").iterdir())
    assert cached == ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]
    assert "official MNIST test set (10000 images" in result["reference"]
    monkeypatch.setitem(mnist_module.SOURCES, "mnist", mnist_module.IdxSource(
        official.title, official.licence, ((tmp_path / "no-network").as_uri() + "/",), official.md5))
    assert "official MNIST test set" in run_eval(eval_args(str(folder), "--download", "--n", "200"))["reference"]


def test_eval_download_without_a_network_says_what_to_do(tmp_path, monkeypatch):
    from tinygan.data import mnist as mnist_module
    official = mnist_module.SOURCES["mnist"]
    monkeypatch.setitem(mnist_module.SOURCES, "mnist", mnist_module.IdxSource(
        official.title, official.licence, ((tmp_path / "no-network").as_uri() + "/",), official.md5))
    monkeypatch.setenv("TINYGAN_CACHE", str(tmp_path / "cache"))
    folder = trained_run(tmp_path, "dcgan", limit=128, batch_size=64, width=8, latent_dim=16)
    with pytest.raises(DataError, match=r"(?s)could not download t10k-.*Without a network.*--test-data FOLDER"):
        run_eval(eval_args(str(folder), "--download"))


def test_eval_of_a_vae(tmp_path, capsys):
    folder = trained_run(tmp_path, "vae", limit=256)
    result = run_eval(eval_args(str(folder / "checkpoint.npz"), "--n", "200", "--k", "5"))
    out = capsys.readouterr().out
    assert "-ELBO" in out and "-IWAE" in out and "K=5" in out
    vae = result["vae"]["model"]
    assert vae["n"] == 1000 and vae["iwae_loss"] < vae["elbo_loss"]


def test_eval_of_a_ring8_gan(tmp_path, capsys):
    folder = trained_run(tmp_path, "gan", data="ring8", steps_per_epoch=20, batch_size=64, width=16, latent_dim=8)
    result = run_eval(eval_args(str(folder)))
    out = capsys.readouterr().out
    assert "modes covered" in out and "high-quality" in out
    assert result["n"] == 2500 and result["toy"]["floor"]["modes_covered"] == 8
    assert 0 <= result["toy"]["model"]["high_quality_fraction"] <= 1


def test_embedded_split_holds_out_100_digits_per_class():
    (train_images, train_labels), (held_images, held_labels) = embedded_split()
    assert len(train_images) == 4000 and np.bincount(held_labels).tolist() == [100] * 10
