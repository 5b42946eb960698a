"""vaegan-vae: the VAE-GAN's own encoder and decoder trained as a plain VAE. Its networks are the
VAE-GAN's, its loss is the KL plus a Bernoulli pixel term and nothing else (no discriminator), it resumes
exactly, and the command line trains, samples, resumes and evaluates it with the VAE-GAN's figures."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from tinygan import Tensor, backend, optim
from tinygan.cli import main
from tinygan.models import VAEGANDecoder, VAEGANEncoder, VAEGANPlainVAE
from tinygan.train import Run, make_config
from tinygan.train import VAEStep

from resume import assert_same_weights, saved_weights, straight_and_resumed
from paths import OFFICIAL_MNIST, REPO

pytestmark = pytest.mark.skipif(backend.current() != "numpy", reason="exact-resume tests run on the NumPy backend")

TINY = dict(epochs=2, limit=256, batch_size=32, latent_dim=8, steps_per_epoch=3)
HANG_LIMIT_S = 30 * 60   # against a hang only: a loaded machine may take many times the usual minute


def _images(n, seed=0):
    """n images on [0, 1], flat as the VAE family's loader gives them."""
    return np.random.default_rng(seed).uniform(0, 1, (n, 784)).astype(backend.get_default_dtype())


def _shapes(module):
    return {key: tuple(value.shape) for key, value in module.state_dict().items()}


def test_its_networks_are_the_vaegans_encoder_and_decoder():
    model = VAEGANPlainVAE(latent_dim=20)
    assert _shapes(model.encoder) == _shapes(VAEGANEncoder(latent_dim=20))
    assert _shapes(model.decoder) == _shapes(VAEGANDecoder(latent_dim=20))
    run = Run(make_config("vaegan-vae", **TINY), None)
    assert set(run.nets) == {"vae"} and set(run.optimizers) == {"vae"}          # no discriminator anywhere


def test_its_logits_give_the_decoders_tanh_image_on_0_1():
    backend.manual_seed(0)
    model = VAEGANPlainVAE(latent_dim=6)
    model.eval()
    z = Tensor(np.random.default_rng(1).standard_normal((5, 6)).astype(backend.get_default_dtype()))
    logits = model.decode(z)
    assert logits.shape == (5, 784)
    np.testing.assert_allclose(logits.sigmoid().array, ((model.decoder(z) + 1) * 0.5).array.reshape(5, 784),
                               rtol=1e-5, atol=1e-6)


def test_the_encoder_sees_the_images_on_minus_1_1_as_in_the_vaegan():
    model = VAEGANPlainVAE(latent_dim=6)
    model.eval()
    x = _images(3)
    mu, _ = model.encode(Tensor(x))
    expected, _ = model.encoder(Tensor(x.reshape(3, 1, 28, 28) * 2 - 1))
    np.testing.assert_allclose(mu.array, expected.array, rtol=1e-6)


def _numpy_loss(model, x, eps):
    """KL + Bernoulli pixels, transcribed in NumPy from the model's encoder outputs and decoder logits."""
    mu, logvar = (np.asarray(t.array, dtype=np.float64) for t in model.encode(Tensor(x)))
    z = mu + np.exp(logvar / 2) * eps
    logits = np.asarray(model.decode(Tensor(z.astype(x.dtype))).array, dtype=np.float64)
    bce = np.maximum(logits, 0) - logits * x + np.log1p(np.exp(-np.abs(logits)))
    kl = -0.5 * np.sum(1 + logvar - mu ** 2 - np.exp(logvar))
    return (bce.sum() + kl) / len(x)


def test_its_loss_is_the_kl_plus_the_pixel_term_and_nothing_else():
    backend.set_default_dtype("float64")
    backend.manual_seed(0)
    model = VAEGANPlainVAE(latent_dim=4)
    step = VAEStep(model, optim.Adam(model.parameters(), lr=1e-3), likelihood="bernoulli")
    x = _images(6)
    loss, reconstruction, kl = step.loss(Tensor(x), rng=np.random.default_rng(3))
    np.testing.assert_allclose(loss.item(), reconstruction.item() + kl.item(), rtol=1e-12)
    eps = np.random.default_rng(3).standard_normal((6, 4))          # the eps that step.loss drew
    np.testing.assert_allclose(loss.item(), _numpy_loss(model, x, eps), rtol=1e-9)


def test_its_gradients_equal_pytorchs_twin_in_float64():
    """The quality benchmark's PyTorch twin computes the same loss and the same gradients from the same weights."""
    torch = pytest.importorskip("torch")
    from benchmarks.twins.gan import dcgan_generator
    from benchmarks.twins.vaegan import VAEGANEncoder, plain_vae_loss
    backend.set_default_dtype("float64")
    backend.manual_seed(0)
    model = VAEGANPlainVAE(latent_dim=20)
    step = VAEStep(model, optim.Adam(model.parameters(), lr=1e-3))
    x = _images(8)
    loss, _, _ = step.loss(Tensor(x), rng=np.random.default_rng(5))
    loss.backward()

    E, G = VAEGANEncoder(20, 32).double(), dcgan_generator(20, 64).double()
    state = {key: torch.from_numpy(np.array(value)) for key, value in model.state_dict().items()}
    E.load_state_dict({k[len("encoder."):]: v for k, v in state.items() if k.startswith("encoder.")})
    G.load_state_dict({k[len("decoder.net."):]: v for k, v in state.items() if k.startswith("decoder.")})
    eps = torch.from_numpy(np.random.default_rng(5).standard_normal((8, 20)))
    torch_loss = plain_vae_loss(E, G, torch.from_numpy(x).reshape(8, 1, 28, 28), eps)
    torch_loss.backward()
    np.testing.assert_allclose(loss.item(), torch_loss.item(), rtol=1e-10)
    torch_grads = dict(E.named_parameters(prefix="encoder"))
    torch_grads.update({f"decoder.net.{k}": p for k, p in G.named_parameters()})
    for name, p in model.named_parameters():
        np.testing.assert_allclose(np.asarray(p.grad.array), torch_grads[name].grad.numpy(), rtol=1e-7, atol=1e-10,
                                   err_msg=name)


def test_resumed_vaegan_vae_ends_with_the_same_weights(tmp_path):
    config = make_config("vaegan-vae", **TINY)
    straight, resumed = straight_and_resumed(config, tmp_path)
    assert_same_weights(straight, resumed)
    # the test can fail: training moved the weights away from a fresh model's
    trained, fresh = saved_weights(straight), saved_weights(Run(config, None))
    assert any(not np.array_equal(trained[key], fresh[key]) for key in trained)


def test_command_line_train_sample_resume_eval(tmp_path, capsys):
    folder = tmp_path / "run"
    args = ["--limit", "256", "--batch-size", "32", "--steps-per-epoch", "2", "--threads", "1", "--quiet"]
    assert main(["train", "vaegan-vae", "--epochs", "1", "--out", str(folder), *args]) == 0
    config = json.loads((folder / "config.json").read_text())
    assert (config["arch"], config["lr"], config["beta1"], config["latent_dim"]) == ("vaegan-vae", 2e-4, 0.5, 20)
    assert main(["resume", str(folder), "--epochs", "2", "--quiet"]) == 0
    assert main(["sample", str(folder), "--n", "16", "--out", str(tmp_path / "s.png")]) == 0
    assert (tmp_path / "s.png").stat().st_size > 0
    report = tmp_path / "eval.json"
    assert main(["eval", str(folder), "--n", "200", "--k", "2", "--json", str(report)]) == 0
    result = json.loads(report.read_text())
    assert result["epoch"] == 2
    # the VAE-GAN's figures: prior-sample scores and the test reconstruction error on [0, 1]
    assert {"fid", "classifier_score", "rarest_class"} <= result["images"]["model"].keys()
    assert 0 < result["reconstruction"]["model"]["mse"] < 1
    assert "pixel MSE on [0, 1]" in capsys.readouterr().out


def test_side_by_side_panels_are_saved(tmp_path):
    """viz.save_image_panels, which draws benchmarks/results/vaegan_vs_vae.png: one PNG, one titled grid per panel."""
    from tinygan.viz import save_image_panels
    panels = [np.random.default_rng(i).uniform(0, 1, (32, 1, 28, 28)) for i in range(4)]
    save_image_panels(panels, tmp_path / "p.png", ["a", "b", "c", "d"], ncols=2)
    assert (tmp_path / "p.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.skipif(not OFFICIAL_MNIST.is_dir(),
                    reason="the official MNIST test set is not in ../shared/data/mnist")
def test_the_quality_experiment_runs_as_its_documented_command(tmp_path):
    """`python -m benchmarks.quality --only vaegan ...` from the repository root, as benchmarks/results/quality.md
    records it, with nothing added to PYTHONPATH: its PyTorch twins import benchmarks.twins (one step, 100 samples)."""
    pytest.importorskip("torch")
    repo = REPO
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    done = subprocess.run([sys.executable, "-m", "benchmarks.quality", "--only", "vaegan", "--epochs", "1",
                           "--steps-per-epoch", "1", "--n", "100", "--results", str(tmp_path)],
                          cwd=repo, env=env, capture_output=True, text=True, timeout=HANG_LIMIT_S)
    assert done.returncode == 0, done.stderr[-2000:]
    entry = json.loads((tmp_path / "quality.json").read_text())["vaegan"]
    assert "pytorch vaegan" in json.dumps(entry["rows"])
