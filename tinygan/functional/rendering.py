"""Volume rendering for neural radiance fields (Mildenhall et al., 2020, section 4), and the cumulative sum it needs.

Notation, for R rays with N samples each:
    t      (R, N)     distances of the samples along each ray, increasing; the ray ends at `far`
    sigma  (R, N)     density at each sample (>= 0): the chance per unit length that the ray stops there
    rgb    (R, N, 3)  colour at each sample
    delta  (R, N)     delta_i = t_{i+1} - t_i, the length of ray that sample i stands for (t_{N+1} = far)

The rendering integral C = int T(t) sigma(t) c(t) dt, with T(t) = exp(-int_near^t sigma), becomes the
quadrature (equation 3 of the paper)

    alpha_i = 1 - exp(-sigma_i delta_i)              the chance the ray stops within segment i
    T_i     = exp(-sum_{j<i} sigma_j delta_j)        the chance it got that far: an EXCLUSIVE cumulative sum
    C       = sum_i T_i alpha_i c_i

exact when sigma and c are constant on each segment. T_1 = 1: nothing stands before the first sample.
"""
import math

from ..autograd import Function
from ._util import xp_of
from .arithmetic import exp
from .reduce import sum
from .shape import concat
from .trigonometric import cos, sin


def _shift_right(xp, y, dim):
    """y moved one place along `dim`, a zero in the first place and the last element dropped."""
    zeros_shape = list(y.shape)
    zeros_shape[dim] = 1
    kept = [slice(None)] * y.ndim
    kept[dim] = slice(0, y.shape[dim] - 1)
    return xp.concatenate([xp.zeros(zeros_shape, dtype=y.dtype), y[tuple(kept)]], axis=dim)


class CumSum(Function):
    """y_i = sum_{j <= i} x_j along `dim` (exclusive: j < i; reverse: sums run from the far end, j >= i or j > i).

    The gradient of a running sum is the running sum of the gradient in the other direction:
    dL/dx_j = sum_{i >= j} dL/dy_i (exclusive: i > j), i.e. the reverse cumulative sum of the same kind.
    """

    reads_in_backward = ()

    def forward(self, x, dim, exclusive=False, reverse=False):
        xp = xp_of(x)
        self.dim, self.exclusive, self.reverse = dim, exclusive, reverse
        if reverse:
            x = xp.flip(x, axis=dim)
        y = xp.cumsum(x, axis=dim)
        if exclusive:
            y = _shift_right(xp, y, dim)    # y_i = x_0 + ... + x_{i-1}; y_0 = 0 (not y - x: that loses digits)
        return xp.ascontiguousarray(xp.flip(y, axis=dim)) if reverse else y

    def backward(self, grad):
        return CumSum.apply(grad, dim=self.dim, exclusive=self.exclusive, reverse=not self.reverse)


def cumsum(x, dim, exclusive=False, reverse=False):
    """Running sum of x along `dim` (torch.cumsum); exclusive=True leaves out the element itself
    (y_0 = 0, y_i = x_0 + ... + x_{i-1}); reverse=True sums from the last element backwards."""
    if not isinstance(dim, int) or not -x.ndim <= dim < max(x.ndim, 1):
        raise ValueError(f"cumsum: dim {dim!r} is out of range for an input of shape {tuple(x.shape)}")
    return CumSum.apply(x, dim=dim % x.ndim, exclusive=bool(exclusive), reverse=bool(reverse))


def positional_encoding(p, num_frequencies):
    """gamma(p) = (p, sin(2^0 pi p), cos(2^0 pi p), ..., sin(2^(L-1) pi p), cos(2^(L-1) pi p)), per coordinate.

    p (..., D) -> (..., D (1 + 2 L)): the coordinates, then for k = 0..L-1 the D sines and the D cosines
    of frequency 2^k pi. Without it an MLP of raw coordinates learns only smooth functions of them
    (Mildenhall et al., 2020, section 5.1; Tancik et al., 2020).
    """
    if p.ndim < 1:
        raise ValueError(f"positional_encoding: expected points (..., D), got a scalar of shape {tuple(p.shape)}")
    if not isinstance(num_frequencies, int) or num_frequencies < 0:
        raise ValueError(f"positional_encoding: num_frequencies must be a whole number >= 0, got {num_frequencies!r}")
    features = [p]
    for k in range(num_frequencies):
        scaled = p * (2.0 ** k * math.pi)
        features += [sin(scaled), cos(scaled)]  # [formula: nerf-positional-encoding]
    return concat(features, axis=-1)


def _check_render_inputs(sigma, rgb, t, far):
    if sigma.ndim != 2 or rgb.shape != sigma.shape + (3,) or tuple(t.shape) != tuple(sigma.shape):
        raise ValueError(f"volume_render: expected sigma (R, N), rgb (R, N, 3) and t (R, N); got sigma "
                         f"{tuple(sigma.shape)}, rgb {tuple(rgb.shape)}, t {tuple(t.shape)}")
    last = float(t.array[:, -1].max()) if t.shape[1] else -math.inf
    if far < last:
        raise ValueError(f"volume_render: far = {far} lies before the last sample (t = {last}); the ray must end "
                         f"after its samples")


def segment_lengths(t, far):
    """delta_i = t_{i+1} - t_i, with t_{N+1} = far: the length of ray each sample stands for, (R, N)."""
    ends = concat([t[:, 1:], t[:, :1] * 0.0 + far], axis=1)
    return ends - t  # [formula: nerf-segment-length]


def render_weights(sigma, t, far):
    """w_i = T_i alpha_i, the chance that the ray stops at sample i, (R, N); and T_i."""
    optical_depth = sigma * segment_lengths(t, far)                         # sigma_i delta_i
    alpha = 1.0 - exp(-optical_depth)  # [formula: nerf-alpha]
    transmittance = exp(-cumsum(optical_depth, dim=1, exclusive=True))  # [formula: nerf-transmittance]
    return transmittance * alpha, transmittance


def volume_render(sigma, rgb, t, far):
    """The colour C = sum_i T_i alpha_i c_i (R, 3) of each ray, its expected depth and its opacity (R,).

    depth   D = sum_i T_i alpha_i t_i, the expected distance at which the ray stops (0 for empty rays);
    opacity A = sum_i T_i alpha_i = 1 - T_{N+1}, the chance it stops at all (the background shows with 1 - A:
    this scene's background is black, so it adds nothing to C).
    """
    _check_render_inputs(sigma, rgb, t, far)
    weights, _ = render_weights(sigma, t, far)
    colour = sum(weights.unsqueeze(-1) * rgb, axis=1)  # [formula: nerf-colour]
    depth = sum(weights * t, axis=1)  # [formula: nerf-expected-depth]
    opacity = sum(weights, axis=1)
    return colour, depth, opacity
