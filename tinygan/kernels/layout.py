"""Memory-layout helpers shared by the kernels (they import only backend, never functional)."""
from .. import backend


def xp_of(array):
    """The array module (numpy or cupy) of `array`."""
    return backend.get_array_module(array)


def per_channel(v, ndim):
    """A (C,) vector shaped to broadcast against (N, C) or (N, C, H, W)."""
    return v.reshape((1, -1) + (1,) * (ndim - 2))


def is_channels_last(array):
    """Whether an (N, C, H, W) array is stored (N, H, W, C)-contiguous: one row of C numbers per pixel."""
    return array.transpose(0, 2, 3, 1).flags.c_contiguous
