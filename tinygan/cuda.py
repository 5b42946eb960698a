"""`tinygan.cuda`, the few questions PyTorch scripts ask about the GPU, answered for CuPy's.

    if tinygan.cuda.is_available(): ...      # as torch.cuda.is_available()
"""
from . import backend


def is_available():
    """Whether CuPy imports and sees a GPU (tinygan's 'gpu' device, which PyTorch code calls 'cuda')."""
    return backend.cupy_available()


def device_count():
    """How many GPUs CuPy sees (0 without CuPy or a GPU)."""
    return backend.module_for("cupy").cuda.runtime.getDeviceCount() if is_available() else 0


def manual_seed_all(seed):
    """Seed the GPU's generator; tinygan.manual_seed already seeds every backend, so this is the same call."""
    backend.manual_seed(seed)
