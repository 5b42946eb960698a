"""Failing clearly and losing nothing: anomaly detection, diverging runs, extreme values, memory,
hostile checkpoint files, interrupted writes, determinism across processes."""
import io
import os
import signal
import subprocess
import sys
import time
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tinygan
from tinygan import backend, optim
from tinygan import functional as F
from tinygan.autograd import AnomalyError, Tensor, detect_anomaly, no_grad
from tinygan.train import CheckpointError, Run, TrainingDiverged, make_config
from tinygan.train import gan as train_gan
from tinygan.train.checkpoint import load_checkpoint, save_checkpoint

from hostile import damaged

numpy_only = pytest.mark.skipif(backend.current() != "numpy", reason="process and memory tests run on NumPy")
TINY = dict(epochs=2, limit=128, batch_size=32, width=8, latent_dim=8, steps_per_epoch=2)


# -- anomaly detection -------------------------------------------------------------------------------

def test_anomaly_in_forward_names_the_op_shapes_and_user_line():
    x = tinygan.tensor([1.0, -1.0, 4.0], requires_grad=True)
    with np.errstate(all="ignore"), detect_anomaly(), pytest.raises(AnomalyError) as error:
        x.log()
    message = str(error.value)
    assert "Log forward" in message and "1 NaN" in message and "(3,)" in message
    assert f"{os.path.basename(__file__)}:" in message  # where the op was created: this file


def test_anomaly_inside_a_tinygan_model_points_at_the_model_code():
    """From the command line every frame is inside tinygan/: the report must stop at the model's line
    (tinygan/models/...), not run out to the console script."""
    from tinygan.models import MLPVAE
    vae = MLPVAE(in_features=4, hidden=3, latent_dim=2)
    vae.fc1.weight.array[0, 0] = np.nan
    with np.errstate(all="ignore"), detect_anomaly(), pytest.raises(AnomalyError) as error:
        vae.encode(tinygan.randn(2, 4))
    assert os.path.join("tinygan", "models", "vae.py") + ":" in str(error.value)


def test_only_the_engines_own_files_are_skipped():
    """A path is the engine's with its separator: a user's tinygan_experiment.py beside the package is not."""
    from tinygan import autograd
    package = autograd._PACKAGE_DIR
    assert autograd._in_engine(os.path.join(package, "functional", "conv.py"))
    assert autograd._in_engine(os.path.join(package, "autograd.py"))
    assert not autograd._in_engine(package + "_experiment.py")
    assert not autograd._in_engine(os.path.join(package, "models", "gan.py"))


def test_anomaly_in_backward_names_whose_backward_it_was():
    x = tinygan.tensor([0.0, 1.0], requires_grad=True)
    with np.errstate(all="ignore"), detect_anomaly():
        y = x.sqrt()  # finite forward, infinite derivative at 0
        with pytest.raises(AnomalyError, match="backward pass of Sqrt"):
            y.sum().backward()


def test_anomaly_detection_is_off_by_default():
    x = tinygan.tensor([1.0, -1.0], requires_grad=True)
    with np.errstate(all="ignore"):
        y = x.log()
    assert np.isnan(y.array).any()
    assert not hasattr(y.creator, "created_at")  # nothing was recorded: no cost when off


# -- diverging runs -----------------------------------------------------------------------------------

@numpy_only
def test_diverging_run_stops_keeps_last_checkpoint_and_resumes(tmp_path, monkeypatch):
    folder = str(tmp_path / "run")
    run = Run(make_config("dcgan", **TINY), folder)
    run.train(epochs=1, quiet=True)
    good = load_checkpoint(os.path.join(folder, "checkpoint.npz"))

    real_loss = train_gan.GAN_LOSS_FUNCTIONS["nonsaturating"]
    monkeypatch.setitem(train_gan.GAN_LOSS_FUNCTIONS, "nonsaturating",
                        (real_loss[0], lambda scores: real_loss[1](scores) * float("nan")))
    broken = Run.from_checkpoint(folder)
    with pytest.raises(TrainingDiverged, match=r"generator loss became nan at step \d+"):
        broken.train(quiet=True)
    monkeypatch.undo()

    after = load_checkpoint(os.path.join(folder, "checkpoint.npz"))
    assert after["epoch"] == good["epoch"] == 1
    for key, value in good["models"]["G"].items():
        np.testing.assert_array_equal(after["models"]["G"][key], value)
    resumed = Run.from_checkpoint(folder, lr=1e-4)  # other settings
    resumed.train(quiet=True)
    assert resumed.epoch == 2 and resumed.config["lr"] == 1e-4


# -- numerics at the edges ----------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_extreme_logits_give_exact_finite_values_and_gradients(dtype):
    logits = np.array([-1e4, -100.0, -20.0, 0.0, 20.0, 100.0, 1e4], dtype=dtype)
    exact_softplus = np.array([0.0, np.exp(-100.0), np.log1p(np.exp(-20.0)), np.log(2.0), 20.0 + np.log1p(np.exp(-20.0)),
                               100.0, 1e4])
    exact_sigmoid = np.array([0.0, np.exp(-100.0), 1 / (1 + np.exp(20.0)), 0.5, 1 / (1 + np.exp(-20.0)), 1.0, 1.0])
    tolerance = dict(rtol=1e-6 if dtype == np.float32 else 1e-12, atol=1e-40)  # atol: float32 subnormals

    for name, fn, exact in [("softplus", F.softplus, exact_softplus), ("sigmoid", F.sigmoid, exact_sigmoid)]:
        x = Tensor(logits.copy(), requires_grad=True)
        y = fn(x)
        y.sum().backward()
        assert np.all(np.isfinite(y.array)) and np.all(np.isfinite(x.grad.array)), name
        np.testing.assert_allclose(y.array, exact.astype(dtype), **tolerance, err_msg=name)

    for target in (0.0, 1.0):
        x = Tensor(logits.copy(), requires_grad=True)
        loss = F.binary_cross_entropy_with_logits(x, Tensor(np.full_like(logits, target)), reduction="none")
        loss.sum().backward()
        x64 = logits.astype(np.float64)
        exact = np.maximum(x64, 0) - x64 * target + np.log1p(np.exp(-np.abs(x64)))  # no cancellation in float64
        assert np.all(np.isfinite(loss.array)) and np.all(np.isfinite(x.grad.array))
        np.testing.assert_allclose(loss.array, exact.astype(dtype), **tolerance)
        with np.errstate(over="ignore"):  # sigmoid(x) - y without cancellation: -sigmoid(-x) when y = 1
            exact_grad = -1 / (1 + np.exp(x64)) if target == 1.0 else 1 / (1 + np.exp(-x64))
        np.testing.assert_allclose(x.grad.array, exact_grad.astype(dtype), **tolerance)

    x = Tensor(np.stack([logits, logits[::-1]]), requires_grad=True)
    lse = F.logsumexp(x, axis=1)
    lse.sum().backward()
    np.testing.assert_allclose(lse.array, [1e4, 1e4], rtol=1e-7)
    assert np.all(np.isfinite(x.grad.array))

    mu = Tensor(np.array([[1e2, -1e2]], dtype=dtype), requires_grad=True)
    logvar = Tensor(np.array([[-50.0, 50.0]], dtype=dtype), requires_grad=True)
    kl = F.gaussian_kl(mu, logvar)
    kl.backward()
    exact_kl = -0.5 * sum(1 + lv - m * m - np.exp(lv) for m, lv in [(1e2, -50.0), (-1e2, 50.0)])
    np.testing.assert_allclose(kl.array, exact_kl, rtol=1e-6)
    assert np.all(np.isfinite(mu.grad.array)) and np.all(np.isfinite(logvar.grad.array))


def test_float32_sigmoid_gradient_keeps_its_positive_tail():
    """sigmoid'(x) for x >= 17 in float32: about e^-x, not 0 (1 - sigmoid(x) rounds to 0 there)."""
    logits = np.array([-80.0, -40.0, -20.0, -17.0, 17.0, 20.0, 40.0, 80.0])
    x = Tensor(logits.astype(np.float32), requires_grad=True)
    F.sigmoid(x).sum().backward()
    exact = np.exp(-np.abs(logits)) / (1 + np.exp(-np.abs(logits))) ** 2  # float64, symmetric in x
    np.testing.assert_allclose(x.grad.array, exact.astype(np.float32), rtol=1e-6, atol=0)
    np.testing.assert_array_equal(x.grad.array, x.grad.array[::-1])  # sigmoid(x) sigmoid(-x) is even in x


# -- memory -------------------------------------------------------------------------------------------

def _resident_mib():
    with open("/proc/self/statm") as file:
        return int(file.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


@numpy_only
@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs /proc to read the resident set")
def test_training_memory_stays_flat_and_no_grad_records_no_graph():
    from tinygan.models import MLPDiscriminator, MLPGenerator
    from tinygan.train import GANStep
    tinygan.manual_seed(0)
    G, D = MLPGenerator(100), MLPDiscriminator()  # the benchmark's W1 networks
    step = GANStep(G, D, optim.Adam(G.parameters(), 2e-4, betas=(0.5, 0.999)),
                   optim.Adam(D.parameters(), 2e-4, betas=(0.5, 0.999)))
    real = Tensor(backend.rng().uniform(-1, 1, (64, 1, 28, 28)).astype(np.float32))
    for _ in range(20):
        step(real)
    warm = _resident_mib()
    for _ in range(180):
        step(real)
    grown = _resident_mib() - warm
    assert grown < 8, f"resident memory grew {grown:.1f} MiB over 180 steps after warm-up"

    with no_grad():
        out = D(G(step.noise(64)))
    assert out.creator is None and not out.requires_grad


# -- hostile checkpoint files -------------------------------------------------------------------------

def _valid_checkpoint_bytes(tmp_path):
    path = str(tmp_path / "valid.npz")
    save_checkpoint(path, {"models": {"G": {"w": np.ones((2, 3), np.float32)}}, "epoch": 1})
    with open(path, "rb") as file:
        return file.read()


def test_checkpoint_with_pickled_objects_is_refused(tmp_path):
    path = tmp_path / "evil.npz"
    buffer = io.BytesIO()
    np.save(buffer, np.array([{"a": 1}], dtype=object), allow_pickle=True)  # an object array is a pickle
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("__meta__.npy", buffer.getvalue())
    with pytest.raises(CheckpointError, match="evil.npz"):
        load_checkpoint(str(path))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_broken_checkpoints_raise_checkpoint_error(tmp_path, data):
    valid = _valid_checkpoint_bytes(tmp_path)
    broken = damaged(valid, data, data.draw(st.sampled_from(["truncate", "flip", "random"])))
    path = tmp_path / "broken.npz"
    path.write_bytes(broken)
    try:
        state = load_checkpoint(str(path))
    except CheckpointError as error:
        assert "broken.npz" in str(error)
    else:  # a flipped byte in a region nobody checks (e.g. zip padding) may leave a readable file
        assert isinstance(state, dict)


# -- interrupted writes -------------------------------------------------------------------------------

WRITER = """
import sys, numpy as np
from tinygan.train.checkpoint import save_checkpoint
print("ready", flush=True)
while True:  # keep writing a large checkpoint until killed
    save_checkpoint(sys.argv[1], {"v": np.full(20_000_000, 2.0, dtype=np.float32)})
"""


@numpy_only
def test_checkpoint_killed_mid_write_leaves_the_previous_file(tmp_path):
    path = str(tmp_path / "checkpoint.npz")
    save_checkpoint(path, {"v": np.zeros(3)})
    writer = subprocess.Popen([sys.executable, "-c", WRITER, path], stdout=subprocess.PIPE)
    assert writer.stdout.readline().strip() == b"ready"
    time.sleep(0.3)  # inside the first write of ~80 MB
    writer.send_signal(signal.SIGKILL)
    writer.wait()
    state = load_checkpoint(path)  # either the old file or a complete new one, never a torn one
    assert state["v"].shape in ((3,), (20_000_000,))
    if state["v"].shape == (3,):
        np.testing.assert_array_equal(state["v"], np.zeros(3))


# -- determinism --------------------------------------------------------------------------------------

TRAINER = """
import hashlib, sys
from tinygan.train import Run, make_config
run = Run(make_config("dcgan", epochs=1, limit=96, batch_size=32, width=8, latent_dim=8), sys.argv[1])
run.train(quiet=True)
digest = hashlib.sha256()
for name, net in sorted(run.nets.items()):
    for key, value in net.state_dict().items():
        digest.update(key.encode()); digest.update(value.tobytes())
print(digest.hexdigest())
"""


@numpy_only
def test_same_seed_gives_bit_identical_weights_in_two_processes(tmp_path):
    digests = [subprocess.run([sys.executable, "-c", TRAINER, str(tmp_path / f"r{i}")], capture_output=True,
                              text=True, check=True).stdout.strip() for i in range(2)]
    assert len(digests[0]) == 64 and digests[0] == digests[1]


# -- hostile IDX files ----------------------------------------------------------------------------------

def _valid_idx_bytes():
    from tinygan.data.idx import encode_idx
    return encode_idx(np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4))


@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_broken_idx_files_raise_data_error_without_allocating(tmp_path, data):
    """Thousands of damaged IDX files: a clear DataError (or a valid read), never a crash or a huge allocation."""
    import gzip
    from tinygan.data.idx import DataError, read_idx
    valid = _valid_idx_bytes()
    kind = data.draw(st.sampled_from(["truncate", "flip", "header", "random"]))
    if kind == "header":  # any magic and any dimensions, e.g. 2**31 images
        ndim = data.draw(st.integers(0, 4))
        dims = data.draw(st.lists(st.integers(0, 2**32 - 1), min_size=ndim, max_size=ndim))
        header = bytes([0, 0, data.draw(st.integers(0, 255)), ndim])
        broken = header + b"".join(int(d).to_bytes(4, "big") for d in dims) + valid[16:]
    else:
        broken = damaged(valid, data, kind)
    if data.draw(st.booleans()):
        broken = gzip.compress(broken, mtime=0)
    path = tmp_path / "broken-idx3-ubyte"
    path.write_bytes(broken)
    try:
        array = read_idx(str(path))
    except DataError as error:
        assert "broken-idx3-ubyte" in str(error)
    else:
        assert array.nbytes <= len(broken) * 1100  # what it read is what the file held (gzip ratio at most ~1000)


# -- interrupted downloads ------------------------------------------------------------------------------

DOWNLOADER = """
import sys
from tinygan.data.mnist import download_file
download_file(sys.argv[1], sys.argv[2], md5="0" * 32)
"""


@numpy_only
def test_download_killed_mid_write_leaves_the_previous_file(tmp_path):
    """A local server sends a file slowly; the downloading process is killed halfway through."""
    import http.server
    import threading

    class SlowHandler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", str(64 * 4096))
            self.end_headers()
            try:
                for _ in range(64):
                    self.wfile.write(b"x" * 4096)
                    self.wfile.flush()
                    time.sleep(0.05)
            except (BrokenPipeError, ConnectionResetError):
                pass

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), SlowHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    destination = tmp_path / "train-images-idx3-ubyte.gz"
    destination.write_bytes(b"the previous good file")
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/file"
        downloader = subprocess.Popen([sys.executable, "-c", DOWNLOADER, url, str(destination)])
        deadline = time.time() + 10
        while not list(tmp_path.glob("*.part")) and time.time() < deadline:  # wait until it is writing
            time.sleep(0.02)
        assert list(tmp_path.glob("*.part")), "the download never started writing"
        time.sleep(0.3)
        assert downloader.poll() is None, "the download finished before it could be interrupted"
        downloader.send_signal(signal.SIGKILL)
        downloader.wait()
    finally:
        server.shutdown()
    assert destination.read_bytes() == b"the previous good file"
