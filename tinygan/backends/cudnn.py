"""`tinygan.backends.cudnn`: PyTorch's cuDNN switches, accepted so that scripts run, with no effect here.

tinygan has no cuDNN: its convolutions are im2col and a matrix product (see tinygan/functional/conv.py),
on NumPy or CuPy. Setting `benchmark` or `deterministic` changes nothing; tinygan's results are already
the same from run to run for the same seed on the same device.
"""
benchmark = False       # no effect: there are no cuDNN algorithms to choose between
deterministic = True    # no effect: nothing here picks a non-deterministic algorithm
enabled = False         # no effect: cuDNN is never used


def is_available():
    """False: tinygan does not use cuDNN (on the GPU it runs CuPy's own kernels and cuBLAS)."""
    return False


def version():
    """None, as PyTorch answers where cuDNN is not available."""
    return None
