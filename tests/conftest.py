"""Shared test setup: the `gpu` and `slow` markers, the backend guard, and seeded float64 tensors.

Markers
    gpu   -- needs CuPy and a GPU; skipped with a reason where `tinygan.backend.cupy_available()` is False.
    slow  -- opt-in: skipped unless pytest runs with --runslow or the environment has TINYGAN_SLOW=1.

Backend guard
    TINYGAN_BACKEND=cupy pytest   runs the whole suite on CuPy where a GPU exists; elsewhere every
    test is skipped with one clear reason, instead of each one failing on the missing GPU.

Random tensors
    The `rand` fixture (and `make_rand(seed)` for hypothesis tests) gives a `Rand`: seeded float64
    tensors on the current backend (`tinygan.backend.xp()`), including kink-free inputs for relu, max,
    clamp and max pooling (values well apart from each other and from the kink).

The official test set
    Where ../shared/data/mnist holds the official MNIST t10k files, TINYGAN_TEST_DATA names it (unless it is
    set already), so `python -m benchmarks.quality` started by a test finds it as a user's environment would.
"""
import os
import zlib

import numpy as np
import pytest

from tinygan import backend
from tinygan.autograd import Tensor

_session = {"skip_all": None}

from paths import OFFICIAL_MNIST  # noqa: E402
if OFFICIAL_MNIST.is_dir():
    os.environ.setdefault("TINYGAN_TEST_DATA", str(OFFICIAL_MNIST))


def pytest_addoption(parser):
    parser.addoption("--runslow", action="store_true", default=False,
                     help="run tests marked slow (also enabled by TINYGAN_SLOW=1)")


def pytest_configure(config):
    config.addinivalue_line("markers", "gpu: needs CuPy and an NVIDIA GPU (skipped elsewhere)")
    config.addinivalue_line("markers", "slow: long-running; opt in with --runslow or TINYGAN_SLOW=1")
    requested = os.environ.get("TINYGAN_BACKEND", "").strip().lower()
    if requested and requested not in backend.BACKENDS:
        raise pytest.UsageError(f"TINYGAN_BACKEND={requested!r} is not a backend; expected one of {backend.BACKENDS}")
    if requested == "cupy" and not backend.cupy_available():
        _session["skip_all"] = _cupy_missing_reason()
        # Collection still imports the test modules; let any module-level tensor code run on NumPy
        # so that it does not fail before the skip below can say why.
        backend.use("numpy")


def _cupy_missing_reason():
    try:
        backend.use("cupy")
    except backend.BackendError as error:
        return f"TINYGAN_BACKEND=cupy but the CuPy backend cannot be used here: {error}"
    return "TINYGAN_BACKEND=cupy but CuPy/GPU is unavailable"


def _slow_enabled(config):
    return config.getoption("--runslow") or os.environ.get("TINYGAN_SLOW", "").strip() not in ("", "0")


def pytest_report_header(config):
    if _session["skip_all"]:
        return f"tinygan: every test skipped: {_session['skip_all']}"
    return f"tinygan backend: {backend.current()}"


def pytest_collection_modifyitems(config, items):
    if _session["skip_all"]:
        skip_all = pytest.mark.skip(reason=_session["skip_all"])
        for item in items:
            item.add_marker(skip_all)
        return
    if not _slow_enabled(config):
        skip_slow = pytest.mark.skip(reason="slow test: run with --runslow or TINYGAN_SLOW=1")
        for item in items:
            if "slow" in item.keywords:
                item.add_marker(skip_slow)
    gpu_items = [item for item in items if "gpu" in item.keywords]
    if gpu_items and not backend.cupy_available():
        skip_gpu = pytest.mark.skip(reason="needs CuPy and a GPU (tinygan.backend.cupy_available() is False)")
        for item in gpu_items:
            item.add_marker(skip_gpu)


class Rand:
    """Seeded random tensors on the current backend, float64 by default (for gradient checks).

    Values are drawn on the host with NumPy (so a seed gives the same numbers on either backend)
    and then placed on the current backend.
    """

    def __init__(self, seed=0):
        # Mixed with a constant so that Rand(s) never replays np.random.default_rng(s), which
        # gradcheck uses for its output weighting: a weighting equal to the input (up to scale)
        # makes some gradients vanish (batch norm's, for one) and hides a wrong backward.
        self.np = np.random.default_rng([seed, 0x7469_6E79])

    def tensor(self, array, requires_grad=True, dtype=np.float64):
        """A Tensor of the current backend holding `array` (a host array) in `dtype`."""
        array = np.asarray(array)
        if dtype is not None:
            array = array.astype(dtype)
        return Tensor(backend.xp().asarray(array), requires_grad=requires_grad)

    def randn(self, *shape, requires_grad=True, dtype=np.float64, scale=1.0, shift=0.0):
        """Normal samples: shift + scale * N(0, 1)."""
        return self.tensor(shift + scale * self.np.standard_normal(shape), requires_grad, dtype)

    def uniform(self, *shape, low=0.0, high=1.0, requires_grad=True, dtype=np.float64):
        return self.tensor(self.np.uniform(low, high, size=shape), requires_grad, dtype)

    def separated(self, *shape, gap=0.05, kink=0.0, requires_grad=True, dtype=np.float64):
        """Distinct values, pairwise at least `gap` apart and at least gap/2 away from `kink`.

        A random permutation of (k + 1/2) * gap for k = 0..n-1, each with a random sign, around
        `kink`: central differences with h = 1e-6 never cross a kink (relu at 0, a max tie,
        a clamp bound) and never meet a tie.
        """
        n = int(np.prod(shape))
        magnitudes = (np.arange(n) + 0.5) * gap
        signs = self.np.choice([-1.0, 1.0], size=n)
        values = kink + self.np.permutation(magnitudes * signs)
        return self.tensor(values.reshape(shape), requires_grad, dtype)

    def ints(self, *shape, low=0, high=10):
        """An integer (int64) array on the current backend (labels, indices)."""
        return backend.xp().asarray(self.np.integers(low, high, size=shape))


@pytest.fixture
def rand(request):
    """A `Rand` seeded from the test's id: the same tensors on every run, different between tests."""
    return Rand(zlib.crc32(request.node.nodeid.encode()))


@pytest.fixture(scope="session")
def make_rand():
    """`make_rand(seed)` -> a `Rand`; session-scoped so hypothesis tests can use it with a drawn seed."""
    return Rand


@pytest.fixture(autouse=True)
def _restore_global_state():
    """Every test starts and ends with float32 as the default dtype and grad mode on."""
    from tinygan.autograd import _grad_mode
    dtype, enabled = backend.get_default_dtype(), _grad_mode["enabled"]
    yield
    backend.set_default_dtype(dtype)
    _grad_mode["enabled"] = enabled


@pytest.fixture
def fast_kernels():
    """Run the test with the fast kernels (the default), whatever TINYGAN_KERNELS says; restore after."""
    from tinygan import kernels
    with kernels.using("fast"):
        yield


@pytest.fixture
def reference_kernels():
    """Run the test with the reference code of every op; restore the previous choice after."""
    from tinygan import kernels
    with kernels.using("reference"):
        yield
