"""`tinygan.backends`, for PyTorch scripts that set or ask about their compute libraries.

    tinygan.backends.cudnn.benchmark = True     # accepted; tinygan has no cuDNN, so it changes nothing
    tinygan.backends.mps.is_available()         # False: tinygan runs on NumPy (CPU) or CuPy (NVIDIA GPUs)
"""
from types import SimpleNamespace

cudnn = SimpleNamespace(benchmark=False, deterministic=True, enabled=False)   # settings with no effect here
mps = SimpleNamespace(is_available=lambda: False, is_built=lambda: False)
