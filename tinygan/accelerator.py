"""`tinygan.accelerator`, the device-agnostic questions current PyTorch examples ask:

    device = tinygan.accelerator.current_accelerator().type if tinygan.accelerator.is_available() else "cpu"

tinygan's one accelerator is an NVIDIA GPU through CuPy, which PyTorch code calls "cuda". Without CuPy or
a GPU there is none: `is_available()` is False and `current_accelerator()` None, as in PyTorch.
"""
from . import backend, cuda


def is_available():
    """Whether there is an accelerator: CuPy imports and sees a GPU."""
    return cuda.is_available()


def current_accelerator(check_available=False):
    """`device('cuda')` where a GPU is available, else None (as PyTorch on a machine without one)."""
    return backend.Device("gpu") if is_available() else None


def device_count():
    """How many GPUs CuPy sees (0 without one)."""
    return cuda.device_count()


def current_device_index():
    """The index of the GPU in use (CuPy's current device); raises where there is no accelerator, as in PyTorch."""
    if not is_available():
        raise RuntimeError("Cannot access accelerator device when none is available.")
    return backend.module_for("cupy").cuda.runtime.getDevice()


def synchronize(device=None):
    """Wait until the GPU has finished its queued work (nothing to wait for on the CPU)."""
    if is_available():
        backend.module_for("cupy").cuda.Device().synchronize()
