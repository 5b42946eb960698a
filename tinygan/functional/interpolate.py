"""Resizing images: interpolate (nearest and bilinear) and adaptive average and max pooling, as in PyTorch.

Bilinear interpolation and adaptive average pooling are linear in the image and act on the two
axes separately, so each is two matrix products with small constant matrices:

    y[n, c] = A_H x[n, c] A_W^T,    A_H of shape (OH, H), A_W of shape (OW, W)

A row of A holds the weights that one output pixel gives the input pixels of its row (or column).
The gradient (dL/dx = A_H^T dL/dy A_W) and the gradient of the gradient come from matmul's own.
Nearest interpolation copies pixels, so it is indexing: y = x[:, :, rows][:, :, :, cols].
Adaptive max pooling is indexing too: it finds each bin's first maximum, then gathers it (so its gradient goes there).

Source coordinates follow PyTorch (aten/src/ATen/native/UpSample.h), so sizes and values agree:
    align_corners=True:   src = dst (in - 1) / (out - 1)
    align_corners=False:  src = max((dst + 1/2) scale - 1/2, 0)   (bilinear)
                          src = floor(dst scale)                   (nearest)
with scale = 1 / scale_factor when a scale_factor is given, else in / out.
"""
import math
import numbers

import numpy as np

from ..autograd import Tensor
from ._util import xp_of
from .arithmetic import matmul
from .shape import gather, getitem, reshape

MODES = ("nearest", "bilinear")


def _pair_of_sizes(value, name, op="interpolate"):
    """One value or a pair of them, as a pair (height, width)."""
    values = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
    if len(values) != 2:
        raise ValueError(f"{op}: {name} must be one value or a pair (height, width), got {value!r}")
    return values


def _output_size_and_scales(x, size, scale_factor, recompute_scale_factor):
    """((OH, OW), (scale_h, scale_w)): scale is 1/scale_factor when one is given, else None (use in/out)."""
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: give exactly one of size and scale_factor, got "
                         f"size={size!r}, scale_factor={scale_factor!r}")
    H, W = x.shape[2:]
    if size is not None:
        OH, OW = _pair_of_sizes(size, "size")
        if not all(isinstance(n, numbers.Integral) and n > 0 for n in (OH, OW)):
            raise ValueError(f"interpolate: size must be positive ints, got {size!r}")
        return (int(OH), int(OW)), (None, None)
    factors = _pair_of_sizes(scale_factor, "scale_factor")
    if not all(isinstance(f, numbers.Real) and f > 0 for f in factors):
        raise ValueError(f"interpolate: scale_factor must be positive numbers, got {scale_factor!r}")
    OH, OW = (int(math.floor(n * float(f))) for n, f in zip((H, W), factors))
    if min(OH, OW) < 1:
        raise ValueError(f"interpolate: scale_factor {scale_factor!r} makes the input of size {(H, W)} "
                         f"into {(OH, OW)}, an empty image")
    scales = (None, None) if recompute_scale_factor else tuple(1.0 / float(f) for f in factors)
    return (OH, OW), scales


def _nearest_indices(n_in, n_out, scale):
    """src = min(floor(dst scale), in - 1), in float32 with PyTorch's two exact cases, so ties fall the same way."""
    dst = np.arange(n_out)
    if n_out == n_in:
        return dst
    if n_out == 2 * n_in:
        return dst // 2
    scale = np.float32(n_in) / np.float32(n_out) if scale is None else np.float32(scale)
    return np.minimum(np.floor(dst.astype(np.float32) * scale).astype(np.int64), n_in - 1)


def _linear_matrix(n_in, n_out, scale, align_corners, like):
    """A (out, in): row `dst` puts weight 1 - lambda on pixel i0 and lambda on i1 = min(i0 + 1, in - 1)."""
    xp = xp_of(like)
    dst = xp.arange(n_out, dtype=np.float64)
    if align_corners:
        src = dst * ((n_in - 1) / (n_out - 1) if n_out > 1 else 0.0)
    else:
        src = xp.maximum((dst + 0.5) * (n_in / n_out if scale is None else scale) - 0.5, 0.0)
    i0 = xp.minimum(xp.floor(src).astype(np.int64), n_in - 1)
    i1 = xp.minimum(i0 + 1, n_in - 1)
    lam = (src - i0)[:, None]
    pixels = xp.arange(n_in)[None, :]
    A = (1 - lam) * (pixels == i0[:, None]) + lam * (pixels == i1[:, None])   # [formula: bilinear-interpolation]
    return Tensor(A.astype(like.dtype))


def _apply_separably(x, A_H, A_W):
    """y[n, c] = A_H x[n, c] A_W^T: (N, C, H, W) -> (N, C, OH, OW)."""
    return matmul(matmul(A_H, x), A_W.T)


def _check_image(op, x):
    if x.ndim != 4:
        raise ValueError(f"{op}: input must be 4-D (N, C, H, W), got shape {tuple(x.shape)}")


def interpolate(x, size=None, scale_factor=None, mode="nearest", align_corners=None, recompute_scale_factor=None):
    """Resize x (N, C, H, W) to `size` or by `scale_factor`, like torch.nn.functional.interpolate.

    mode "nearest": y[n, c, i, j] = x[n, c, src(i), src(j)], src = min(floor(dst scale), in - 1).
    mode "bilinear": each output pixel is the weighted mean of the four input pixels around its source
    point, weights (1 - a)(1 - b), (1 - a) b, a (1 - b), a b for its fractional offsets a, b.
    """
    _check_image("interpolate", x)
    if mode not in MODES:
        raise ValueError(f"interpolate: mode must be one of {MODES} (for 4-D inputs), got {mode!r}")
    if mode == "nearest" and align_corners is not None:
        raise ValueError("interpolate: align_corners only applies to mode='bilinear'; leave it None for 'nearest'")
    (OH, OW), (scale_h, scale_w) = _output_size_and_scales(x, size, scale_factor, recompute_scale_factor)
    H, W = x.shape[2:]
    if mode == "nearest":
        rows = _nearest_indices(H, OH, scale_h)[:, None]
        cols = _nearest_indices(W, OW, scale_w)[None, :]
        xp = xp_of(x.array)
        return getitem(x, (slice(None), slice(None), xp.asarray(rows), xp.asarray(cols)))
    align_corners = bool(align_corners)
    A_H = _linear_matrix(H, OH, scale_h, align_corners, x.array)
    A_W = _linear_matrix(W, OW, scale_w, align_corners, x.array)
    return _apply_separably(x, A_H, A_W)


def _adaptive_bins(n_in, n_out, xp):
    """(start, end) of the bins of an axis of n_in positions pooled to n_out: bin i is
    [floor(i in / out), ceil((i + 1) in / out))."""
    i = xp.arange(n_out)
    return (i * n_in) // n_out, -((-(i + 1) * n_in) // n_out)                # [formula: adaptive-pool-bins]


def _adaptive_matrix(n_in, n_out, like):
    """P (out, in): row i averages the input's bin i, [floor(i in / out), ceil((i + 1) in / out))."""
    xp = xp_of(like)
    start, end = _adaptive_bins(n_in, n_out, xp)
    pixels = xp.arange(n_in)[None, :]
    inside = (pixels >= start[:, None]) & (pixels < end[:, None])
    return Tensor((inside / (end - start)[:, None]).astype(like.dtype))


def _adaptive_output_size(op, x, output_size):
    """(OH, OW) of an adaptive pooling: an int, a pair, None in the pair keeping that input size."""
    _check_image(op, x)
    OH, OW = _pair_of_sizes(output_size, "output_size", op)
    H, W = x.shape[2:]
    OH, OW = H if OH is None else OH, W if OW is None else OW
    if not all(isinstance(n, numbers.Integral) and n > 0 for n in (OH, OW)):
        raise ValueError(f"{op}: output_size must be positive ints (or None), got {output_size!r}")
    return int(OH), int(OW)


def adaptive_avg_pool2d(x, output_size):
    """Average pooling to a given output size (OH, OW), like torch.nn.functional.adaptive_avg_pool2d.

    y[n, c, i, j] = mean of x[n, c, h0:h1, w0:w1], h0 = floor(i H / OH), h1 = ceil((i + 1) H / OH)
    (and so for w); None in output_size keeps that input size.
    """
    OH, OW = _adaptive_output_size("adaptive_avg_pool2d", x, output_size)
    H, W = x.shape[2:]
    return _apply_separably(x, _adaptive_matrix(H, OH, x.array), _adaptive_matrix(W, OW, x.array))


def _bin_positions(n_in, n_out, xp):
    """(out, longest bin): the positions of each bin, a short bin's last one repeated to fill its row (a repeat
    changes neither the bin's maximum nor which position reaches it first)."""
    start, end = _adaptive_bins(n_in, n_out, xp)
    longest = int((end - start).max())
    return xp.minimum(start[:, None] + xp.arange(longest)[None, :], (end - 1)[:, None])


def _adaptive_max_indices(x, OH, OW):
    """(N, C, OH, OW) int64: the flat index h W + w of each bin's first maximum, its positions read row by row
    (PyTorch's choice among ties)."""
    N, C, H, W = x.shape
    xp = xp_of(x.array)
    rows, cols = _bin_positions(H, OH, xp), _bin_positions(W, OW, xp)          # (OH, KH), (OW, KW)
    flat = rows[:, None, :, None] * W + cols[None, :, None, :]                 # (OH, OW, KH, KW)
    flat = flat.reshape(OH, OW, -1)
    first = x.array.reshape(N, C, H * W)[:, :, flat].argmax(axis=-1)           # (N, C, OH, OW)
    return flat[xp.arange(OH)[:, None], xp.arange(OW)[None, :], first]


def adaptive_max_pool2d(x, output_size, return_indices=False):
    """Max pooling to a given output size (OH, OW), like torch.nn.functional.adaptive_max_pool2d.

    y[n, c, i, j] = max of x[n, c, h0:h1, w0:w1], the bins of adaptive_avg_pool2d; the gradient goes to each
    bin's first maximum (row by row), as in PyTorch. return_indices=True also returns those maxima's flat
    indices h W + w in the input's (H, W) plane.
    """
    OH, OW = _adaptive_output_size("adaptive_max_pool2d", x, output_size)
    N, C, H, W = x.shape
    indices = _adaptive_max_indices(x, OH, OW)
    picks = gather(reshape(x, (N, C, H * W)), 2, indices.reshape(N, C, OH * OW))  # [formula: adaptive-max-pool2d]
    y = reshape(picks, (N, C, OH, OW))
    return (y, Tensor(indices)) if return_indices else y
