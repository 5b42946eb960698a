"""VAE-GAN (Larsen et al., 2016): its networks, its losses against NumPy, which network each loss trains,
exact resume, and the command line (train, sample, resume, eval)."""
import json

import numpy as np
import pytest

from tinygan import Tensor, backend, optim
from tinygan.autograd import grad
from tinygan.cli import main
from tinygan.models import VAEGANDecoder, VAEGANDiscriminator, VAEGANEncoder
from tinygan.train import ConfigError, make_config
from tinygan.train import losses
from tinygan.train import VAEGANStep

from resume import assert_same_weights, saved_weights, straight_and_resumed

pytestmark = pytest.mark.skipif(backend.current() != "numpy", reason="exact-resume tests run on the NumPy backend")

TINY = dict(epochs=2, limit=256, batch_size=32, latent_dim=8, steps_per_epoch=3)


def _images(n, seed=0):
    return Tensor(np.random.default_rng(seed).uniform(-1, 1, (n, 1, 28, 28)).astype(backend.get_default_dtype()))


def test_networks_have_the_issue_shapes():
    x = _images(4)
    mu, logvar = VAEGANEncoder(latent_dim=20)(x)
    assert mu.shape == logvar.shape == (4, 20)
    fake = VAEGANDecoder(latent_dim=20)(mu)
    assert fake.shape == (4, 1, 28, 28)
    assert np.abs(fake.array).max() <= 1.0                      # tanh: images on [-1, 1]
    logit, features = VAEGANDiscriminator().logit_and_features(fake)
    np.testing.assert_array_equal(VAEGANDiscriminator()(fake).shape, (4, 1))
    assert logit.shape == (4, 1) and features.shape == (4, 128, 7, 7)   # Dis_l is the 128x7x7 layer


def _bce(logits, target):
    p = 1 / (1 + np.exp(-logits.astype(np.float64)))
    return float(np.mean(-(target * np.log(p) + (1 - target) * np.log(1 - p))))


def test_losses_match_numpy_transcriptions():
    rng = np.random.default_rng(1)
    mu, logvar = rng.normal(size=(5, 3)), rng.normal(size=(5, 3))
    kl = -0.5 * np.sum(1 + logvar - mu ** 2 - np.exp(logvar)) / 5
    np.testing.assert_allclose(losses.vaegan_prior(Tensor(mu), Tensor(logvar)).item(), kl, rtol=1e-10)

    a, b = rng.normal(size=(5, 2, 3, 3)), rng.normal(size=(5, 2, 3, 3))
    np.testing.assert_allclose(losses.vaegan_llike(Tensor(a), Tensor(b)).item(), 0.5 * np.sum((a - b) ** 2) / 5,
                               rtol=1e-10)

    real, rec, prior = (rng.normal(size=(5, 1)) for _ in range(3))
    expected_d = _bce(real, 1) + _bce(rec, 0) + _bce(prior, 0)
    got_d = losses.vaegan_discriminator_loss(Tensor(real), Tensor(rec), Tensor(prior)).item()
    np.testing.assert_allclose(got_d, expected_d, rtol=1e-10)
    expected_g = _bce(rec, 1) + _bce(prior, 1)
    np.testing.assert_allclose(losses.vaegan_generator_gan_loss(Tensor(rec), Tensor(prior)).item(), expected_g,
                               rtol=1e-10)


def _step(gamma=0.5, seed=0):
    backend.manual_seed(seed)
    E, G, D = VAEGANEncoder(latent_dim=4), VAEGANDecoder(latent_dim=4, width=8), VAEGANDiscriminator(width=8)
    opts = [optim.Adam(net.parameters(), lr=1e-3, betas=(0.5, 0.999)) for net in (E, G, D)]
    return VAEGANStep(E, G, D, *opts, gamma=gamma)


def _per_term_gradients(step, x):
    """{term: {net: [gradient per parameter]}} of each loss term, from one seeded forward pass."""
    backend.manual_seed(7)
    terms = step.terms(x)
    out = {}
    for term in ("prior", "llike", "gan_d", "gan_g"):
        out[term] = {}
        for name, net in step.nets.items():
            params = list(net.parameters())
            grads = grad(terms[term], params, allow_unused=True)
            out[term][name] = [np.zeros(p.shape) if g is None else np.array(g.array, dtype=np.float64)
                               for p, g in zip(params, grads)]
    return out


# Which terms each network's update may contain (Larsen et al., 2016, algorithm 1), with their weights.
ALLOWED = {"E": {"prior": 1.0, "llike": 1.0}, "G": {"llike": "gamma", "gan_g": 1.0}, "D": {"gan_d": 1.0}}


def test_each_loss_reaches_only_the_networks_the_paper_lets_it_train():
    backend.set_default_dtype("float64")        # the conv biases before BatchNorm have gradients near 0: no float32 noise
    step, x = _step(gamma=0.5), _images(8)
    per_term = _per_term_gradients(step, x)
    # The test can fail: without the routing, L_llike would reach D and the GAN loss the encoder.
    assert any(np.abs(g).max() > 0 for g in per_term["llike"]["D"])
    assert any(np.abs(g).max() > 0 for g in per_term["gan_g"]["E"])
    assert any(np.abs(g).max() > 0 for g in per_term["gan_g"]["D"])

    backend.manual_seed(7)                      # the same eps and z_p as above
    step(x)
    for name, net in step.nets.items():
        for i, p in enumerate(net.parameters()):
            expected = sum((step.gamma if w == "gamma" else w) * per_term[term][name][i]
                           for term, w in ALLOWED[name].items())
            np.testing.assert_allclose(np.asarray(p.grad.array, dtype=np.float64), expected, rtol=1e-9, atol=1e-12,
                                       err_msg=f"{name} parameter {i}")


def test_gamma_scales_only_the_decoders_share_of_l_llike():
    x = _images(8)
    grads = {}
    for gamma in (0.0, 1.0):
        step = _step(gamma=gamma)
        backend.manual_seed(7)
        step(x)
        grads[gamma] = {name: [np.array(p.grad.array) for p in net.parameters()] for name, net in step.nets.items()}
    for name in ("E", "D"):
        for a, b in zip(grads[0.0][name], grads[1.0][name]):
            np.testing.assert_array_equal(a, b)
    assert any(not np.array_equal(a, b) for a, b in zip(grads[0.0]["G"], grads[1.0]["G"]))


def test_resumed_vaegan_ends_with_the_same_weights(tmp_path):
    straight, resumed = straight_and_resumed(make_config("vaegan", **TINY), tmp_path)
    assert_same_weights(straight, resumed)
    assert {key.split(".")[0] for key in saved_weights(straight)} == {"E", "G", "D"}
    assert set(resumed.optimizers) == {"E", "G", "D"}
    assert (tmp_path / "straight" / "reconstructions.png").stat().st_size > 0    # originals beside reconstructions


def test_gamma_is_refused_for_other_models_and_when_negative():
    with pytest.raises(ConfigError, match="gamma.*vaegan"):
        make_config("dcgan", gamma=1.0)
    with pytest.raises(ConfigError, match="--gamma"):
        make_config("vaegan", gamma=-1.0)


def test_command_line_train_sample_resume_eval(tmp_path, capsys):
    folder = tmp_path / "run"
    args = ["--limit", "256", "--batch-size", "32", "--steps-per-epoch", "2", "--threads", "1", "--quiet"]
    assert main(["train", "vaegan", "--epochs", "1", "--out", str(folder), *args]) == 0
    assert json.loads((folder / "config.json").read_text())["gamma"] == make_config("vaegan")["gamma"]
    assert main(["resume", str(folder), "--epochs", "2", "--quiet"]) == 0
    assert main(["sample", str(folder), "--n", "16", "--out", str(tmp_path / "s.png")]) == 0
    assert (tmp_path / "s.png").stat().st_size > 0
    report = tmp_path / "eval.json"
    assert main(["eval", str(folder), "--n", "200", "--json", str(report)]) == 0
    result = json.loads(report.read_text())
    assert result["epoch"] == 2
    assert {"fid", "classifier_score", "rarest_class"} <= result["images"]["model"].keys()
    mse = result["reconstruction"]["model"]["mse"]
    assert 0 < mse < 1
    assert "pixel MSE on [0, 1]" in capsys.readouterr().out
