"""Pooling and upsampling, built from im2col, reductions and broadcasting.

They need no backward of their own: each is a short chain of operations that
already have one (im2col's gradient is col2im, max's goes to the maximum).
"""
from .conv import ConvGeometry, Im2Col
from .reduce import broadcast_to, max as reduce_max, mean
from .shape import pad_widths, reshape


def _windows(op, x, kernel_size, stride, padding):
    """(N, C, H, W) -> (N, C, KH*KW, OH, OW): every pooling window as one axis (zero padding)."""
    stride = kernel_size if stride is None else stride
    geometry = ConvGeometry(op, kernel_size, stride, padding, 1)
    N, C, H, W = x.shape
    OH, OW = geometry.output_hw(H, W)
    cols = Im2Col.apply(x, geometry=geometry)                     # (N, C*KH*KW, OH*OW)
    return reshape(cols, (N, C, geometry.KH * geometry.KW, OH, OW))


def _check_4d(op, x):
    if x.ndim != 4:
        raise ValueError(f"{op}: input must be 4-D (N, C, H, W), got shape {x.shape}")


def avg_pool2d(x, kernel_size, stride=None, padding=0):
    """y[n, c, oh, ow] = mean of the KH x KW window (zero padding counts, as in PyTorch's default)."""
    _check_4d("avg_pool2d", x)
    return mean(_windows("avg_pool2d", x, kernel_size, stride, padding), axis=2)


def max_pool2d(x, kernel_size, stride=None, padding=0):
    """y[n, c, oh, ow] = max of the KH x KW window; the gradient goes to the maximum.

    Padding is with -inf, as in PyTorch, so a padded border never wins the max.
    """
    _check_4d("max_pool2d", x)
    if padding:
        p = (padding, padding) if isinstance(padding, int) else tuple(padding)
        if min(p) < 0:
            raise ValueError(f"max_pool2d: padding must be >= 0, got {p}")
        x = pad_widths(x, ((0, 0), (0, 0), (p[0], p[0]), (p[1], p[1])), value=-float("inf"))
    return reduce_max(_windows("max_pool2d", x, kernel_size, stride, 0), axis=2)


def upsample_nearest2d(x, scale_factor=2):
    """Repeat every pixel scale_factor x scale_factor times: (N, C, H, W) -> (N, C, s H, s W)."""
    _check_4d("upsample_nearest2d", x)
    if not isinstance(scale_factor, int) or scale_factor < 1:
        raise ValueError(f"upsample_nearest2d: scale_factor must be a positive int, got {scale_factor!r}")
    N, C, H, W = x.shape
    s = scale_factor
    copies = broadcast_to(reshape(x, (N, C, H, 1, W, 1)), (N, C, H, s, W, s))
    return reshape(copies, (N, C, H * s, W * s))
