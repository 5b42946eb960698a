"""The one switch between NumPy (CPU) and CuPy (GPU).

Every other file asks this module for the array module (`xp()`), for random
numbers (`rng()`), or to move an array between host and device. This is the only
file in tinygan that imports cupy, and it imports it lazily, so `import tinygan`
works on a machine without a GPU.

Choosing the backend:
    TINYGAN_BACKEND=cupy python train.py      # from the environment, or
    tinygan.use("cupy")                        # from code
"""
import copy
import os

import numpy as np

BACKENDS = ("numpy", "cupy")
DEVICES = {"numpy": "cpu", "cupy": "gpu"}

_state = {
    "name": None,          # current backend name, set on first use
    "default_dtype": np.float32,
    "rng": {},             # backend name -> random Generator
    "seed": None,          # the last manual_seed, for a backend's generator made later (None: from the OS)
}
_cupy = None


class BackendError(RuntimeError):
    """Raised when a backend is asked for but cannot be used here."""


def _load_cupy():
    """Import cupy once and check that a GPU is really there."""
    global _cupy
    if _cupy is not None:
        return _cupy
    try:
        import cupy
    except ImportError as error:
        raise BackendError(
            "backend 'cupy' needs CuPy, which is not installed "
            f"({error}). Install it with: pip install 'tinygan[cuda12]' "
            "(or [cuda13], matching your CUDA driver), or use the 'numpy' backend."
        ) from None
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as error:  # CUDA driver missing or broken
        raise BackendError(f"backend 'cupy': CuPy is installed but no usable GPU was found ({error}).") from None
    if count == 0:
        raise BackendError("backend 'cupy': CuPy is installed but no GPU was found.")
    _cupy = cupy
    return cupy


def cupy_available():
    """True when CuPy imports and sees at least one GPU."""
    try:
        _load_cupy()
    except BackendError:
        return False
    return True


def use(name):
    """Make `name` ("numpy" or "cupy") the backend for new tensors."""
    if name not in BACKENDS:
        raise ValueError(f"use: unknown backend {name!r}; expected one of {BACKENDS}")
    if name == "cupy":
        _load_cupy()
    _state["name"] = name


def current():
    """Name of the current backend: TINYGAN_BACKEND on first use, else 'numpy'."""
    if _state["name"] is None:
        use(os.environ.get("TINYGAN_BACKEND", "numpy").strip().lower() or "numpy")
    return _state["name"]


def current_device():
    """'cpu' for NumPy, 'gpu' for CuPy."""
    return DEVICES[current()]


def module_for(name):
    """The array module (numpy or cupy) of a backend name."""
    return _load_cupy() if name == "cupy" else np


def xp():
    """The current backend's array module: use it as you would use `numpy`."""
    return module_for(current())


def get_array_module(array):
    """numpy or cupy, whichever `array` belongs to."""
    if _cupy is not None and isinstance(array, _cupy.ndarray):
        return _cupy
    return np


def device_of(array):
    """'gpu' for a CuPy array, 'cpu' for anything else."""
    return "gpu" if get_array_module(array) is not np else "cpu"


_DEVICE_ALIASES = {"cpu": "cpu", "numpy": "cpu", "gpu": "gpu", "cuda": "gpu", "cupy": "gpu", "cuda:0": "gpu"}


def normalize_device(device):
    """Accept 'cpu'/'gpu' (and 'numpy'/'cupy', 'cuda', 'cuda:0', a `device`) and return 'cpu' or 'gpu'."""
    if isinstance(device, Device):
        return device.name
    key = str(device).lower()
    if key not in _DEVICE_ALIASES:
        raise ValueError(f"to: unknown device {device!r}; expected 'cpu', 'gpu' or 'cuda'")
    return _DEVICE_ALIASES[key]


class Device:
    """Where a tensor lives, like torch.device: `device("cpu")`, `device("cuda")` (the same as "gpu").

    `type` is PyTorch's name ('cpu' or 'cuda'); `name` is tinygan's ('cpu' or 'gpu'). A device equals
    any spelling of itself, so `t.device == "gpu"` and `t.device == "cuda"` are both true on the GPU.
    """

    __slots__ = ("name",)

    def __init__(self, name):
        self.name = normalize_device(name)

    @property
    def type(self):
        return "cuda" if self.name == "gpu" else "cpu"

    def __eq__(self, other):
        try:
            return self.name == normalize_device(other)
        except ValueError:
            return NotImplemented

    def __hash__(self):
        return hash(self.name)

    def __str__(self):
        return self.type

    def __repr__(self):
        return f"device(type={self.type!r})"


def to_device(array, device):
    """Copy `array` to 'cpu' (a NumPy array) or 'gpu' (a CuPy array); no copy if it is there."""
    device = normalize_device(device)
    if device_of(array) == device:
        return array
    if device == "gpu":
        return _load_cupy().asarray(array)
    return array.get()


def to_numpy(array):
    """A NumPy array on the host, whatever backend `array` lives on."""
    return to_device(array, "cpu") if not isinstance(array, np.ndarray) else array


def get_default_dtype():
    """The dtype new floating-point tensors get (float32 unless changed)."""
    return _state["default_dtype"]


def set_default_dtype(dtype):
    """Set the default floating dtype (np.float32 or np.float64)."""
    dtype = np.dtype(dtype).type
    if dtype not in (np.float32, np.float64):
        raise ValueError(f"set_default_dtype: expected float32 or float64, got {np.dtype(dtype).name}")
    _state["default_dtype"] = dtype


def manual_seed(seed):
    """Seed the random generator of every backend, like torch.manual_seed.

    A backend not in use yet is seeded when it is first used (after `use("cupy")`), so the order of
    manual_seed and use does not matter.
    """
    _state["seed"] = seed
    _state["rng"] = {"numpy": np.random.default_rng(seed)}
    if current() == "cupy":
        _state["rng"]["cupy"] = _load_cupy().random.default_rng(seed)


def rng():
    """The current backend's random Generator (numpy.random.Generator or its CuPy twin)."""
    name = current()
    if name not in _state["rng"]:
        _state["rng"][name] = module_for(name).random.default_rng(_state["seed"])
    return _state["rng"][name]


def rng_for(array):
    """The random Generator of the backend `array` lives on (its device's generator, seeded by manual_seed)."""
    name = "cupy" if device_of(array) == "gpu" else "numpy"
    if name not in _state["rng"]:
        _state["rng"][name] = module_for(name).random.default_rng(_state["seed"])
    return _state["rng"][name]


class Generator:
    """torch.Generator: a stream of random numbers of its own, seeded apart from manual_seed's.

    Give it as `generator=` to randn, rand, randint, randperm, multinomial, random_split and DataLoader. Its draws
    are NumPy's (CuPy's on the GPU), so they differ from PyTorch's for the same seed; its state is the bit
    generator's state (a dict), where PyTorch's is a byte tensor.
    """

    DEFAULT_SEED = 67280421310721    # the seed of a new torch.Generator

    def __init__(self, device="cpu"):
        self.device = normalize_device(device)
        self.manual_seed(self.DEFAULT_SEED)

    def manual_seed(self, seed):
        """Start the stream again from `seed`; returns the generator, as PyTorch's does."""
        self._seed = int(seed)
        self.rng = module_for("cupy" if self.device == "gpu" else "numpy").random.default_rng(self._seed)
        return self

    def seed(self):
        """Seed from the operating system's entropy; returns the seed."""
        self.manual_seed(np.random.SeedSequence().entropy % (1 << 63))
        return self._seed

    def initial_seed(self):
        """The seed the stream started from."""
        return self._seed

    def get_state(self):
        """The stream's state, for set_state (the NumPy bit generator's state; not on the GPU)."""
        if self.device == "gpu":
            raise NotImplementedError("Generator.get_state: CuPy's generators do not expose their state")
        return copy.deepcopy(self.rng.bit_generator.state)

    def set_state(self, state):
        """Continue the stream from a state that get_state returned."""
        if self.device == "gpu":
            raise NotImplementedError("Generator.set_state: CuPy's generators do not expose their state")
        self.rng.bit_generator.state = copy.deepcopy(state)
        return self


def random_source(generator, device=None):
    """The NumPy/CuPy Generator to draw from: a tinygan Generator's, a NumPy Generator itself, or (for None) the
    seeded generator of `device` (the current backend's when None)."""
    if generator is None:
        return rng() if device is None else rng_for(module_for(
            "cupy" if normalize_device(device) == "gpu" else "numpy").zeros(0))
    if isinstance(generator, Generator):
        if device is not None and normalize_device(device) != generator.device:
            raise ValueError(f"generator: a generator on {generator.device!r} cannot draw for device {device!r}")
        return generator.rng
    return generator


def get_rng_state():
    """The NumPy generator's state as plain JSON-able data (for checkpoints)."""
    rng_numpy = _state["rng"].setdefault("numpy", np.random.default_rng())
    return rng_numpy.bit_generator.state


def set_rng_state(state):
    """Restore a state returned by `get_rng_state`."""
    rng_numpy = _state["rng"].setdefault("numpy", np.random.default_rng())
    rng_numpy.bit_generator.state = state
