"""tinygan: a from-scratch NumPy/CuPy deep-learning engine for learning GANs and VAEs."""
from . import backend
from .autograd import (AnomalyError, Function, Tensor, detect_anomaly, enable_grad, grad, inference_mode,
                       is_grad_enabled, no_grad, set_grad_enabled)
from . import functional
from . import distributions
from .backend import get_array_module, get_default_dtype, manual_seed, set_default_dtype, use
from .kernels import current_kernels, use_kernels
from . import _moved, runtime
from .runtime.malloc import keep_freed_memory, keeps_freed_memory

__version__ = "0.1.0"
runtime.malloc.apply_environment()   # opt-in: see tinygan/runtime/malloc.py
_moved.install()                     # an old import path names its new one: see tinygan/_moved.py


# PyTorch's top level: creation functions, dtype names, devices, functions, save/load, utils.data
from .api import *  # noqa: F401,F403 (the names are listed in api.__all__)
from .serialization import LoadError, SerializationError, load, save
from . import accelerator, backends, cuda, onnx, utils
from . import nn, optim  # noqa: E402  (tinygan.nn and tinygan.optim after `import tinygan`, as torch.nn)
