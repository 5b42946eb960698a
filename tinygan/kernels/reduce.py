"""The fast sum: the reference's `x.sum(axis=axes)`, with the per-channel sums of images as one product.

A convolution's bias gradient sums dL/dy over (0, 2, 3). NumPy's sum over those outer axes of a channels-last
image strides across the batch for every channel; `layout.channel_sum` reads the image as rows of its channel
pattern and multiplies them by a row of ones, several times faster. Every other sum is NumPy's.
"""
from .layout import channel_sum


def sum(x, axes, keepdims=False):
    """x summed over `axes` (a sorted tuple of axes), like x.sum(axis=axes, keepdims=keepdims)."""
    if axes == (0, 2, 3) and not keepdims and x.ndim == 4 and x.dtype.kind == "f":
        return channel_sum(x)
    return x.sum(axis=axes, keepdims=keepdims)
