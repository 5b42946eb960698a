"""Pooling layers: MaxPool1d, MaxPool2d, AvgPool1d, AvgPool2d, AdaptiveAvgPool2d and AdaptiveMaxPool2d, each
calling its F.*_pool*d.
"""
from .. import functional as F
from ..functional.conv import single as _single
from .module import Module


class _MaxPoolNd(Module):
    """The maximum of each kernel_size window (stride defaults to kernel_size): what MaxPool1d and MaxPool2d share,
    each calling its own `pool`."""

    pool = None

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False):
        super().__init__()
        self.kernel_size, self.stride = kernel_size, kernel_size if stride is None else stride
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def forward(self, x):
        return self.pool(x, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
                         self.return_indices)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class MaxPool2d(_MaxPoolNd):
    """The maximum of each kernel_size window of an (N, C, H, W) input, as F.max_pool2d."""

    pool = staticmethod(F.max_pool2d)


class AvgPool2d(Module):
    """The mean of each kernel_size window (stride defaults to kernel_size), as F.avg_pool2d."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                 divisor_override=None):
        super().__init__()
        self.kernel_size, self.stride = kernel_size, kernel_size if stride is None else stride
        self.padding, self.ceil_mode = padding, ceil_mode
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override

    def forward(self, x):
        return F.avg_pool2d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad,
                            self.divisor_override)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool2d(Module):
    """Average pooling to a fixed output size, whatever the input's: AdaptiveAvgPool2d(1) is global pooling."""

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, x):
        return F.adaptive_avg_pool2d(x, self.output_size)

    def extra_repr(self):
        return f"output_size={self.output_size}"


class MaxPool1d(_MaxPoolNd):
    """The maximum of each kernel_size window of an (N, C, L) input, as F.max_pool1d."""

    pool = staticmethod(F.max_pool1d)


class AvgPool1d(Module):
    """The mean of each kernel_size window of an (N, C, L) input (stride defaults to kernel_size), as F.avg_pool1d.

    Its sizes are kept as 1-tuples, as PyTorch keeps them.
    """

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
        super().__init__()
        self.kernel_size = (_single(kernel_size, "kernel_size", "AvgPool1d"),)
        self.stride = self.kernel_size if stride is None else (_single(stride, "stride", "AvgPool1d"),)
        self.padding = (_single(padding, "padding", "AvgPool1d"),)
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad

    def forward(self, x):
        return F.avg_pool1d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveMaxPool2d(Module):
    """Max pooling to a fixed output size, whatever the input's, as F.adaptive_max_pool2d."""

    def __init__(self, output_size, return_indices=False):
        super().__init__()
        self.output_size, self.return_indices = output_size, return_indices

    def forward(self, x):
        return F.adaptive_max_pool2d(x, self.output_size, self.return_indices)

    def extra_repr(self):
        return f"output_size={self.output_size}"
