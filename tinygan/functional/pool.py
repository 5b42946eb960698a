"""Pooling and upsampling, built from im2col, reductions and broadcasting.

They need no backward of their own: each is a short chain of operations that
already have one (im2col's gradient is col2im, max's goes to the maximum). Max
pooling over windows that tile the image has a fast twin (tinygan/kernels/pool.py,
chosen by kernels.twin) that reads the windows in place.

The 1-d poolings pool a height-1 image (N, C, 1, L) with a height-1 window, as conv1d convolves one.
"""
from .. import kernels
from ..autograd import Tensor
from .conv import ConvGeometry, Im2Col, single, unfold
from .reduce import broadcast_to, max as reduce_max, sum as reduce_sum
from ._util import xp_of
from .shape import as_batch_of_one, pad_widths, reshape


def _windows(op, x, kernel_size, stride, padding, dilation=1):
    """(N, C, H, W) -> (N, C, KH*KW, OH, OW): every pooling window as one axis (zero padding)."""
    stride = kernel_size if stride is None else stride
    geometry = ConvGeometry(op, kernel_size, stride, padding, dilation)
    N, C, H, W = x.shape
    OH, OW = geometry.output_hw(H, W)
    cols = Im2Col.apply(x, geometry=geometry)                     # (N, C*KH*KW, OH*OW)
    return reshape(cols, (N, C, geometry.KH * geometry.KW, OH, OW))


def _check_4d(op, x, unbatched=False):
    if x.ndim != 4:
        also = " or 3-D (C, H, W)" if unbatched else ""
        raise ValueError(f"{op}: input must be 4-D (N, C, H, W){also}, got shape {x.shape}")


def pool_output_size(size, kernel, stride, padding, dilation=1, ceil_mode=False):
    """OH = floor((H + 2 PH - DH (KH - 1) - 1) / SH) + 1, or with ceil_mode the ceiling, less one where the
    last window would start past the input and its left padding (PyTorch's rule)."""
    span = size + 2 * padding - dilation * (kernel - 1) - 1
    out = (span + (stride - 1 if ceil_mode else 0)) // stride + 1          # [formula: pool-output-size]
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1
    return out


def _pool_geometry(op, x, kernel_size, stride, padding, dilation, ceil_mode):
    """(geometry, (OH, OW), (extra rows, extra columns)): the checked window geometry, PyTorch's output size and
    the positions that ceil_mode's last windows reach past the padded input (0 without ceil_mode)."""
    geometry = ConvGeometry(op, kernel_size, kernel_size if stride is None else stride, padding, dilation)
    H, W = x.shape[2:]
    kernel, strides = (geometry.KH, geometry.KW), (geometry.SH, geometry.SW)
    pad, dilation = (geometry.PH, geometry.PW), (geometry.DH, geometry.DW)
    if any(p > k // 2 for p, k in zip(pad, kernel)):
        raise ValueError(f"{op}: padding {pad} must be at most half the kernel {kernel}")
    out = tuple(pool_output_size(n, k, s, p, d, ceil_mode)
                for n, k, s, p, d in zip((H, W), kernel, strides, pad, dilation))
    if min(out) < 1:
        raise ValueError(f"{op}: input of size {(H, W)} (padded to {(H + 2 * pad[0], W + 2 * pad[1])}) is smaller "
                         f"than the kernel {kernel} with dilation {dilation}")
    extra = tuple(max(0, (o - 1) * s + d * (k - 1) + 1 - (n + 2 * p))
                  for o, n, k, s, p, d in zip(out, (H, W), kernel, strides, pad, dilation))
    return geometry, out, extra


def _pad_after(x, extra, value):
    """x padded with `value` after its last rows and columns: ceil_mode's windows past the padded input."""
    if not any(extra):
        return x
    return pad_widths(x, ((0, 0), (0, 0), (0, extra[0]), (0, extra[1])), value=value)


def _window_sizes(n, kernel, stride, padding, n_out, count_include_pad, xp):
    """How many positions each window of one axis divides by, as PyTorch: those inside the padded input, or with
    count_include_pad=False inside the input only; never those past the padding that ceil_mode reaches."""
    start = xp.arange(n_out) * stride - padding
    end = xp.minimum(start + kernel, n + padding)
    if not count_include_pad:
        start, end = xp.maximum(start, 0), xp.minimum(end, n)
    return end - start                                                     # [formula: avg-pool-divisor]


def avg_pool2d(x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True, divisor_override=None):
    """y[n, c, oh, ow] = sum of the KH x KW window / divisor, like torch.nn.functional.avg_pool2d.

    The divisor counts the window's positions in the zero-padded input (count_include_pad=True, the default)
    or in the input only (False); divisor_override=d divides every window's sum by d instead.
    ceil_mode=True rounds the output size up: the last windows may reach past the padding, and what they
    reach there is neither summed nor counted.
    """
    if x.ndim == 3:
        return as_batch_of_one(avg_pool2d, x, kernel_size, stride, padding, ceil_mode, count_include_pad,
                                divisor_override)
    _check_4d("avg_pool2d", x, unbatched=True)
    if divisor_override is not None and divisor_override == 0:
        raise ValueError("avg_pool2d: divisor_override must not be 0")
    geometry, (OH, OW), extra = _pool_geometry("avg_pool2d", x, kernel_size, stride, padding, 1, ceil_mode)
    sums = reduce_sum(_windows("avg_pool2d", _pad_after(x, extra, 0.0), kernel_size, stride, padding), axis=2)
    if divisor_override is not None:
        return sums / divisor_override
    xp, (H, W) = xp_of(x.array), x.shape[2:]
    rows = _window_sizes(H, geometry.KH, geometry.SH, geometry.PH, OH, count_include_pad, xp)
    cols = _window_sizes(W, geometry.KW, geometry.SW, geometry.PW, OW, count_include_pad, xp)
    return sums / Tensor((rows[:, None] * cols[None, :]).astype(x.dtype))


def max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """y[n, c, oh, ow] = max of the KH x KW window, like torch.nn.functional.max_pool2d; the gradient goes to the
    maximum (split equally among tied maxima).

    Padding is with -inf, as in PyTorch, so a padded border never wins the max. ceil_mode=True rounds the
    output size up (the last windows may reach past the padding). return_indices=True also returns, for each
    window, the flat index h W + w of its first maximum in the input's (H, W) plane.
    """
    if x.ndim == 3:
        return as_batch_of_one(max_pool2d, x, kernel_size, stride, padding, dilation, ceil_mode, return_indices)
    _check_4d("max_pool2d", x, unbatched=True)
    geometry, _, extra = _pool_geometry("max_pool2d", x, kernel_size, stride, padding, dilation, ceil_mode)
    stride = kernel_size if stride is None else stride
    y = kernels.twin("max_pool2d", _max_pool)(_pad_after(x, extra, -float("inf")), kernel_size, stride, padding,
                                              dilation)
    return (y, _max_indices(x, geometry, extra)) if return_indices else y


def _max_pool(x, kernel_size, stride, padding, dilation):
    """The maximum of every window of x padded with -inf."""
    if padding:
        p = (padding, padding) if isinstance(padding, int) else tuple(padding)
        if min(p) < 0:
            raise ValueError(f"max_pool2d: padding must be >= 0, got {p}")
        x = pad_widths(x, ((0, 0), (0, 0), (p[0], p[0]), (p[1], p[1])), value=-float("inf"))
    return reduce_max(_windows("max_pool2d", x, kernel_size, stride, 0, dilation), axis=2)  # [formula: max-pool2d]


def _max_indices(x, geometry, extra):
    """(N, C, OH, OW) int64: the flat index h W + w, in x's (H, W) plane, of each window's first maximum in
    row-major order (PyTorch's indices); not differentiable."""
    N, C, H, W = x.shape
    KH, KW, PH, PW = geometry.KH, geometry.KW, geometry.PH, geometry.PW
    xp = xp_of(x.array)
    padded = xp.pad(x.array, ((0, 0), (0, 0), (PH, PH + extra[0]), (PW, PW + extra[1])),
                    constant_values=-float("inf"))
    unpadded = ConvGeometry(geometry.op, (KH, KW), (geometry.SH, geometry.SW), 0, (geometry.DH, geometry.DW))
    OH, OW = unpadded.output_hw(*padded.shape[2:])
    tap = unfold(padded, unpadded).reshape(N, C, KH * KW, OH, OW).argmax(axis=2)
    rows = xp.arange(OH)[:, None] * geometry.SH + (tap // KW) * geometry.DH - PH
    cols = xp.arange(OW)[None, :] * geometry.SW + (tap % KW) * geometry.DW - PW
    return Tensor((rows * W + cols).astype(xp.int64))


# -- 1-d pooling: a height-1 image ----------------------------------------------------------------------

def _as_image(op, x):
    """(N, C, L) -> (N, C, 1, L)."""
    if x.ndim != 3:
        raise ValueError(f"{op}: input must be 3-D (N, C, L) or 2-D (C, L), got shape {tuple(x.shape)}")
    N, C, L = x.shape
    return reshape(x, (N, C, 1, L))


def _as_signal(y):
    """(N, C, 1, L) -> (N, C, L), for an output and for its indices."""
    N, C, _, L = y.shape
    return reshape(y, (N, C, L))


def _window_1d(op, x, kernel_size, stride, padding, dilation=1, ceil_mode=False):
    """The window's (kernel, stride, padding, dilation), checked against the input's length, as the height-1 pairs
    that the 2-d pooling takes; stride defaults to the kernel size."""
    kernel = single(kernel_size, "kernel_size", op)
    stride = kernel if stride is None else single(stride, "stride", op)
    padding, dilation = single(padding, "padding", op), single(dilation, "dilation", op)
    if min(kernel, stride, dilation) < 1 or padding < 0:
        raise ValueError(f"{op}: kernel_size, stride and dilation must be >= 1 and padding >= 0, got kernel_size="
                         f"{kernel}, stride={stride}, padding={padding}, dilation={dilation}")
    if padding > kernel // 2:
        raise ValueError(f"{op}: padding {padding} must be at most half the kernel size {kernel}")
    L = x.shape[-1]
    if pool_output_size(L, kernel, stride, padding, dilation, ceil_mode) < 1:
        raise ValueError(f"{op}: input of length {L} (padded to {L + 2 * padding}) is shorter than the kernel "
                         f"{kernel} with dilation {dilation}")
    return (1, kernel), (1, stride), (0, padding), (1, dilation)


def max_pool1d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """y[n, c, l] = max of x_pad[n, c, l S + k D] over k < K, like torch.nn.functional.max_pool1d:
    max_pool2d of a height-1 image. The indices (return_indices=True) are positions along L."""
    if x.ndim == 2:
        return as_batch_of_one(max_pool1d, x, kernel_size, stride, padding, dilation, ceil_mode, return_indices)
    image = _as_image("max_pool1d", x)
    kernel, stride, padding, dilation = _window_1d("max_pool1d", x, kernel_size, stride, padding, dilation, ceil_mode)
    y = max_pool2d(image, kernel, stride, padding, dilation, ceil_mode, return_indices)
    return (_as_signal(y[0]), _as_signal(y[1])) if return_indices else _as_signal(y)


def avg_pool1d(x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """y[n, c, l] = sum of x_pad[n, c, l S + k] over k < K / divisor, like torch.nn.functional.avg_pool1d:
    avg_pool2d of a height-1 image, with its divisor (count_include_pad) and ceil_mode."""
    if x.ndim == 2:
        return as_batch_of_one(avg_pool1d, x, kernel_size, stride, padding, ceil_mode, count_include_pad)
    image = _as_image("avg_pool1d", x)
    kernel, stride, padding, _ = _window_1d("avg_pool1d", x, kernel_size, stride, padding, ceil_mode=ceil_mode)
    return _as_signal(avg_pool2d(image, kernel, stride, padding, ceil_mode, count_include_pad))


def upsample_nearest2d(x, scale_factor=2):
    """Repeat every pixel scale_factor x scale_factor times: (N, C, H, W) -> (N, C, s H, s W)."""
    _check_4d("upsample_nearest2d", x)
    if not isinstance(scale_factor, int) or scale_factor < 1:
        raise ValueError(f"upsample_nearest2d: scale_factor must be a positive int, got {scale_factor!r}")
    N, C, H, W = x.shape
    s = scale_factor
    copies = broadcast_to(reshape(x, (N, C, H, 1, W, 1)), (N, C, H, s, W, s))
    return reshape(copies, (N, C, H * s, W * s))
