"""`tinygan.cuda`, the few questions PyTorch scripts ask about the GPU, answered for CuPy's.

    if tinygan.cuda.is_available(): ...      # as torch.cuda.is_available()
    Tensor = tinygan.cuda.FloatTensor if cuda else tinygan.FloatTensor   # PyTorch's legacy GPU types

The legacy types (`FloatTensor`, `LongTensor`, ...) make tensors on the GPU; where there is none they raise,
as a PyTorch built without CUDA does, with a message naming what to write instead.
"""
from . import backend
from .functional.tensor_methods import legacy_types

_LEGACY = legacy_types(gpu=True)
FloatTensor, DoubleTensor, HalfTensor, LongTensor, IntTensor, ShortTensor, CharTensor, ByteTensor, BoolTensor = (
    _LEGACY[name] for name in ("FloatTensor", "DoubleTensor", "HalfTensor", "LongTensor", "IntTensor", "ShortTensor",
                               "CharTensor", "ByteTensor", "BoolTensor"))


def is_available():
    """Whether CuPy imports and sees a GPU (tinygan's 'gpu' device, which PyTorch code calls 'cuda')."""
    return backend.cupy_available()


def device_count():
    """How many GPUs CuPy sees (0 without CuPy or a GPU)."""
    return backend.module_for("cupy").cuda.runtime.getDeviceCount() if is_available() else 0


def manual_seed_all(seed):
    """Seed the GPU's generator; tinygan.manual_seed already seeds every backend, so this is the same call."""
    backend.manual_seed(seed)
