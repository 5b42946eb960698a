"""tinygan: a from-scratch NumPy/CuPy deep-learning engine for learning GANs and VAEs."""
from . import _malloc
from . import backend
from .autograd import (AnomalyError, Function, Tensor, detect_anomaly, enable_grad, grad, is_grad_enabled, no_grad,
                       set_grad_enabled)
from . import functional
from .backend import get_array_module, get_default_dtype, manual_seed, set_default_dtype, use
from .kernels import current_kernels, use_kernels
from ._malloc import keep_freed_memory, keeps_freed_memory

__version__ = "0.1.0"
_malloc.apply_environment()   # opt-in: see tinygan/_malloc.py


def tensor(data, requires_grad=False, dtype=None):
    """A new Tensor on the current backend's device (floats become the default dtype, float32)."""
    array = Tensor(data, dtype=dtype).data
    return Tensor(backend.to_device(array, backend.current_device()), requires_grad=requires_grad)


def randn(*shape, requires_grad=False, dtype=None):
    """Standard normal samples from the current backend's generator."""
    dtype = dtype or get_default_dtype()
    return Tensor(backend.rng().standard_normal(shape, dtype=dtype), requires_grad=requires_grad)


def zeros(*shape, requires_grad=False, dtype=None):
    return Tensor(backend.xp().zeros(shape, dtype=dtype or get_default_dtype()), requires_grad=requires_grad)


def ones(*shape, requires_grad=False, dtype=None):
    return Tensor(backend.xp().ones(shape, dtype=dtype or get_default_dtype()), requires_grad=requires_grad)
