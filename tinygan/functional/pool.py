"""Pooling and upsampling, built from im2col, reductions and broadcasting.

They need no backward of their own: each is a short chain of operations that
already have one (im2col's gradient is col2im, max's goes to the maximum). Max
pooling over windows that tile the image has a fast twin (tinygan/kernels/pool.py,
chosen by kernels.twin) that reads the windows in place.
"""
from .. import kernels
from ..autograd import Tensor
from .conv import ConvGeometry, Im2Col
from .reduce import broadcast_to, max as reduce_max, mean, sum as reduce_sum
from ._util import xp_of
from .shape import pad_widths, reshape


def _windows(op, x, kernel_size, stride, padding, dilation=1):
    """(N, C, H, W) -> (N, C, KH*KW, OH, OW): every pooling window as one axis (zero padding)."""
    stride = kernel_size if stride is None else stride
    geometry = ConvGeometry(op, kernel_size, stride, padding, dilation)
    N, C, H, W = x.shape
    OH, OW = geometry.output_hw(H, W)
    cols = Im2Col.apply(x, geometry=geometry)                     # (N, C*KH*KW, OH*OW)
    return reshape(cols, (N, C, geometry.KH * geometry.KW, OH, OW))


def _check_4d(op, x):
    if x.ndim != 4:
        raise ValueError(f"{op}: input must be 4-D (N, C, H, W), got shape {x.shape}")


def _refuse(op, **options):
    """A clear error for PyTorch options that tinygan's pooling does not implement (each given as its default)."""
    for name, (value, default) in options.items():
        if value != default:
            raise ValueError(f"{op}: {name}={value!r} is not implemented (only {name}={default!r})")


def avg_pool2d(x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True, divisor_override=None):
    """y[n, c, oh, ow] = mean of the KH x KW window, like torch.nn.functional.avg_pool2d.

    The zero padding counts in the mean by default; with count_include_pad=False only the input's
    own pixels do; divisor_override=d divides the window's sum by d instead.
    """
    _check_4d("avg_pool2d", x)
    _refuse("avg_pool2d", ceil_mode=(ceil_mode, False))
    windows = _windows("avg_pool2d", x, kernel_size, stride, padding)
    if divisor_override is not None:
        return reduce_sum(windows, axis=2) / divisor_override
    if not count_include_pad and padding:
        ones = Tensor(xp_of(x.array).ones((1, 1) + tuple(x.shape[2:]), dtype=x.dtype))
        return reduce_sum(windows, axis=2) / reduce_sum(_windows("avg_pool2d", ones, kernel_size, stride, padding), axis=2)
    return mean(windows, axis=2)


def max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """y[n, c, oh, ow] = max of the KH x KW window, like torch.nn.functional.max_pool2d; the gradient goes to the maximum.

    Padding is with -inf, as in PyTorch, so a padded border never wins the max.
    """
    _check_4d("max_pool2d", x)
    _refuse("max_pool2d", ceil_mode=(ceil_mode, False), return_indices=(return_indices, False))
    stride = kernel_size if stride is None else stride
    return kernels.twin("max_pool2d", _max_pool)(x, kernel_size, stride, padding, dilation)


def _max_pool(x, kernel_size, stride, padding, dilation):
    """The maximum of every window of x padded with -inf."""
    if padding:
        p = (padding, padding) if isinstance(padding, int) else tuple(padding)
        if min(p) < 0:
            raise ValueError(f"max_pool2d: padding must be >= 0, got {p}")
        x = pad_widths(x, ((0, 0), (0, 0), (p[0], p[0]), (p[1], p[1])), value=-float("inf"))
    return reduce_max(_windows("max_pool2d", x, kernel_size, stride, 0, dilation), axis=2)  # [formula: max-pool2d]


def upsample_nearest2d(x, scale_factor=2):
    """Repeat every pixel scale_factor x scale_factor times: (N, C, H, W) -> (N, C, s H, s W)."""
    _check_4d("upsample_nearest2d", x)
    if not isinstance(scale_factor, int) or scale_factor < 1:
        raise ValueError(f"upsample_nearest2d: scale_factor must be a positive int, got {scale_factor!r}")
    N, C, H, W = x.shape
    s = scale_factor
    copies = broadcast_to(reshape(x, (N, C, H, 1, W, 1)), (N, C, H, s, W, s))
    return reshape(copies, (N, C, H * s, W * s))
