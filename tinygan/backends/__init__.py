"""`tinygan.backends`, for PyTorch scripts that set or ask about their compute libraries.

    import tinygan.backends.cudnn as cudnn
    cudnn.benchmark = True                      # accepted; tinygan has no cuDNN, so it changes nothing
    tinygan.backends.mps.is_available()         # False: tinygan runs on NumPy (CPU) or CuPy (NVIDIA GPUs)
"""
from . import cudnn, mps

__all__ = ["cudnn", "mps"]
