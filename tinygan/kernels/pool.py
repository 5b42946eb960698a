"""The fast max pooling, for windows that tile the image (stride = kernel, no padding, no dilation: a U-Net's
2 x 2 pooling): the twin of max_pool2d in tinygan/functional/pool.py, which copies every window out with im2col
into the (N, C*KH*KW, OH*OW) layout and reduces it; here the windows are read in place. Other windows go to
the reference (`windows_tile` says which).

An (N, C, H, W) image, stored in any layout, is viewed as (N, C, OH, KH, OW, KW) (splitting an axis never
copies), and each of the KH*KW taps (i, j) is the strided view x6[:, :, :, i, :, j] of shape (N, C, OH, OW):

    y = max over the taps;   share_tap = [tap == y] / (number of taps equal to y)

so a window's gradient is split equally among its tied maxima, as the reference's max does.
"""
import numbers

from ..autograd import Function, Tensor, is_grad_enabled
from .layout import xp_of


def _int_pair(value):
    """An int or a pair of ints as a pair of ints, else None (the reference then explains what is wrong)."""
    values = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
    if len(values) != 2 or not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in values):
        return None
    return tuple(int(v) for v in values)


def windows_tile(x, kernel_size, stride, padding, dilation):
    """Whether max_pool2d's windows tile the image exactly: stride = kernel, no padding, no dilation, H and W
    multiples of the kernel. Then max_pool2d below reads them in place."""
    kernel = _int_pair(kernel_size)
    return (kernel is not None and min(kernel) >= 1 and kernel == _int_pair(stride) and not padding
            and dilation == 1 and x.shape[2] % kernel[0] == 0 and x.shape[3] % kernel[1] == 0)


def max_pool2d(x, kernel_size, stride, padding, dilation):
    """The twin of the reference's max pooling, for windows that tile the image (windows_tile)."""
    return MaxPoolTiles.apply(x, kernel=_int_pair(kernel_size))


class MaxPoolTiles(Function):
    """Max pooling with windows that tile the image, read in place:
    dL/dx = share * dL/dy repeated over each window, share = 1/(number of tied maxima) at a window's maxima."""

    def forward(self, x, kernel=None):
        self.kernel = kernel
        return max_pool_tiles_forward(x, *kernel)

    def backward(self, grad):
        kh, kw = self.kernel
        x = self.inputs[0]
        share = max_pool_tiles_share(x.array, self.output.array, kh, kw)
        if not is_grad_enabled():
            return Tensor(max_pool_tiles_backward(grad.array, share, kh, kw))
        N, C, OH, OW = grad.shape                              # create_graph: the same product, in tinygan ops
        repeated = grad.reshape((N, C, OH, 1, OW, 1)).broadcast_to((N, C, OH, kh, OW, kw))
        return repeated.reshape(x.shape) * Tensor(share)


def _taps(a, kh, kw):
    """The KH*KW strided (N, C, OH, OW) views of the windows' taps, and the (N, C, OH, KH, OW, KW) view of a."""
    N, C, H, W = a.shape
    a6 = a.reshape(N, C, H // kh, kh, W // kw, kw)
    return [a6[:, :, :, i, :, j] for i in range(kh) for j in range(kw)], a6


def max_pool_tiles_forward(x, kh, kw):
    """y (N, C, H/KH, W/KW): the windows' maxima, in x's memory order (channels-last stays so)."""
    xp = xp_of(x)
    taps, _ = _taps(x, kh, kw)
    y = taps[0].copy(order="K")
    for tap in taps[1:]:
        xp.maximum(y, tap, out=y)
    return y


def max_pool_tiles_share(x, y, kh, kw):
    """share (like x): each input's part of its window's gradient, 1 at a window's only maximum, 1/k at each of
    k tied maxima, 0 elsewhere. Made for the backward only, so that a forward without one does none of it."""
    xp = xp_of(x)
    taps, _ = _taps(x, kh, kw)
    share = xp.empty_like(x)                                     # x's memory layout
    share_taps, _ = _taps(share, kh, kw)
    for tap, is_max in zip(taps, share_taps):
        xp.equal(tap, y, out=is_max)                             # 1.0 where the tap is its window's maximum
    ties = share_taps[0].copy(order="K")
    for is_max in share_taps[1:]:
        ties += is_max
    if (ties > 1).any():                                         # split a window's gradient among tied maxima
        for is_max in share_taps:
            is_max /= ties
    return share


def max_pool_tiles_backward(grad, share, kh, kw):
    """dL/dx = share times dL/dy repeated over each window."""
    grad_x = xp_of(share).empty_like(share)
    _, grad_x6 = _taps(grad_x, kh, kw)
    _, share6 = _taps(share, kh, kw)
    N, C, OH, OW = grad.shape
    xp_of(share).multiply(share6, grad.reshape(N, C, OH, 1, OW, 1), out=grad_x6)
    return grad_x
