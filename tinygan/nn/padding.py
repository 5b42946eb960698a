"""Padding layers: F.pad as a layer, with PyTorch's arguments and reprs.

ZeroPad and ConstantPad fill with a value; ReflectionPad mirrors the input about its edges, ReplicationPad
repeats the edge values and CircularPad wraps the input around. The 1d layers pad the last axis of an
(N, C, L) or (C, L) input, the 2d ones the last two axes of an (N, C, H, W) or (C, H, W) input.
"""
import numbers

from .. import functional as F
from .module import Module


def _padding(name, padding, dims):
    """`padding` as PyTorch's pad tuple of 2 * dims ints: one int for every side, or the tuple itself."""
    sides = ("(left, right)", "(left, right, top, bottom)")[dims - 1]
    if isinstance(padding, numbers.Integral):
        return (padding,) * (2 * dims)
    if (not isinstance(padding, (tuple, list)) or len(padding) != 2 * dims
            or not all(isinstance(p, numbers.Integral) for p in padding)):
        raise ValueError(f"{name}: padding must be an int or {sides}, got {padding!r}")
    return tuple(padding)


class _PadNd(Module):
    """Pad the last `dims` axes in `mode`: padding is one int for every side, (left, right) or
    (left, right, top, bottom)."""

    mode, dims = "constant", 1

    def __init__(self, padding):
        super().__init__()
        self.padding = _padding(type(self).__name__, padding, self.dims)

    def forward(self, input):
        return F.pad(input, self.padding, mode=self.mode)

    def extra_repr(self):
        return f"{self.padding}"


class ReflectionPad1d(_PadNd):
    """Pad the last axis with its mirror image, the edge not repeated: `[1, 2, 3]` by 2 is `[3, 2, 1, 2, 3, 2, 1]`."""

    mode, dims = "reflect", 1


class ReflectionPad2d(_PadNd):
    """Pad the last two axes with their mirror images, the edges not repeated."""

    mode, dims = "reflect", 2


class ReplicationPad1d(_PadNd):
    """Pad the last axis with copies of its edge values: `[1, 2, 3]` by 2 is `[1, 1, 1, 2, 3, 3, 3]`."""

    mode, dims = "replicate", 1


class ReplicationPad2d(_PadNd):
    """Pad the last two axes with copies of their edge values."""

    mode, dims = "replicate", 2


class CircularPad1d(_PadNd):
    """Pad the last axis by wrapping it around: `[1, 2, 3]` by 2 is `[2, 3, 1, 2, 3, 1, 2]`."""

    mode, dims = "circular", 1


class CircularPad2d(_PadNd):
    """Pad the last two axes by wrapping them around (a torus)."""

    mode, dims = "circular", 2


class _ConstantPadNd(_PadNd):
    """Pad the last `dims` axes with `value`."""

    def __init__(self, padding, value):
        super().__init__(padding)
        self.value = float(value)

    def forward(self, input):
        return F.pad(input, self.padding, value=self.value)

    def extra_repr(self):
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPadNd):
    """Pad the last axis with `value`: padding is one int for both sides or (left, right)."""

    dims = 1


class ConstantPad2d(_ConstantPadNd):
    """Pad the last two axes with `value`: padding is one int for all four sides or (left, right, top, bottom)."""

    dims = 2


class _ZeroPad:
    """A ConstantPad with value 0, shown as PyTorch shows it: by its padding alone."""

    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f"{self.padding}"


class ZeroPad1d(_ZeroPad, ConstantPad1d):
    """Pad the last axis with zeros."""


class ZeroPad2d(_ZeroPad, ConstantPad2d):
    """Pad the last two axes with zeros."""
