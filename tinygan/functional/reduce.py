"""Reductions and broadcasting: sum, mean, max, sum_to, broadcast_to.

`sum_to` and `broadcast_to` are each other's adjoint: broadcasting copies a
value to many places, so its gradient sums the copies back.
"""
import builtins
import warnings
from collections import namedtuple

from .. import kernels
from ..autograd import Function, Tensor
from ._util import constant, normalize_axis, xp_of


def _kept_shape(shape, axes):
    """The shape of a reduction over `axes` with keepdims=True."""
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _array_sum(x, axes, keepdims):
    """The array x summed over `axes`."""
    return x.sum(axis=axes, keepdims=keepdims)


class Sum(Function):
    """y = sum of x over `axis`;  dy/dx = 1 for every summed element."""

    reads_in_backward = ()

    def forward(self, x, axis=None, keepdims=False):
        self.axes = normalize_axis(axis, x.ndim)
        return kernels.twin("sum", _array_sum)(x, self.axes, keepdims)

    def backward(self, grad):
        x = self.inputs[0]
        return broadcast_to(grad.reshape(_kept_shape(x.shape, self.axes)), x.shape)


class Mean(Function):
    """y = (1/n) sum of x over `axis`;  dy/dx = 1/n."""

    reads_in_backward = ()

    def forward(self, x, axis=None, keepdims=False):
        self.axes = normalize_axis(axis, x.ndim)
        return x.mean(axis=self.axes, keepdims=keepdims)

    def backward(self, grad):
        x = self.inputs[0]
        count = x.numel() // _prod(_kept_shape(x.shape, self.axes))  # elements averaged per output
        return broadcast_to(grad.reshape(_kept_shape(x.shape, self.axes)), x.shape) * (1.0 / count)


class Max(Function):
    """y = max of x over `axis`;  the gradient goes to the maximal elements (split equally on ties)."""

    def forward(self, x, axis=None, keepdims=False):
        self.axes = normalize_axis(axis, x.ndim)
        self.largest = x.max(axis=self.axes, keepdims=True)
        return self.largest if keepdims else self.largest.reshape(
            [n for i, n in enumerate(x.shape) if i not in self.axes])

    def backward(self, grad):
        # Which elements were maximal is found here, not in the forward: a max that only shifts values (as in
        # logsumexp, where it is detached) never pays for it.
        x = self.inputs[0]
        is_max = (x.array == self.largest).astype(x.dtype)
        share = is_max / is_max.sum(axis=self.axes, keepdims=True)
        return broadcast_to(grad.reshape(_kept_shape(x.shape, self.axes)), x.shape) * constant(share)


class BroadcastTo(Function):
    """y = x repeated to `shape` (NumPy broadcasting);  dL/dx = sum_to(dL/dy, x.shape)."""

    reads_in_backward = ()

    def forward(self, x, shape):
        try:
            return xp_of(x).broadcast_to(x, shape)
        except ValueError as error:
            raise ValueError(f"broadcast_to: cannot broadcast shape {x.shape} to {tuple(shape)}") from error

    def backward(self, grad):
        return sum_to(grad, self.inputs[0].shape)


class SumTo(Function):
    """y = x summed over the axes that broadcasting to x.shape would have added or stretched."""

    reads_in_backward = ()

    def forward(self, x, shape):
        self.shape = tuple(shape)
        lead = x.ndim - len(self.shape)
        if lead < 0:
            raise ValueError(f"sum_to: cannot sum shape {x.shape} to the larger shape {self.shape}")
        if any(n != 1 and n != x.shape[lead + i] for i, n in enumerate(self.shape)):
            raise ValueError(f"sum_to: cannot sum shape {x.shape} to {self.shape}, "
                             f"which does not broadcast to {x.shape}")
        stretched = tuple(lead + i for i, n in enumerate(self.shape) if n == 1 and x.shape[lead + i] != 1)
        y = x.sum(axis=tuple(range(lead)) + stretched, keepdims=True) if lead or stretched else x
        return y.reshape(self.shape)

    def backward(self, grad):
        return broadcast_to(grad, self.inputs[0].shape)


max_ = builtins.max  # this module defines its own max and min


def _prod(shape):
    result = 1
    for n in shape:
        result *= n
    return result


def sum(x, axis=None, keepdims=False):
    return Sum.apply(x, axis=axis, keepdims=keepdims)


def mean(x, axis=None, keepdims=False):
    return Mean.apply(x, axis=axis, keepdims=keepdims)


def max(x, axis=None, keepdims=False):
    return Max.apply(x, axis=axis, keepdims=keepdims)


def broadcast_to(x, shape):
    if tuple(x.shape) == tuple(shape):
        return x
    return BroadcastTo.apply(x, shape=tuple(shape))


def sum_to(x, shape):
    """Sum `x` down to `shape`: the gradient of a broadcast (identity when the shapes agree)."""
    if tuple(x.shape) == tuple(shape):
        return x
    return SumTo.apply(x, shape=tuple(shape))


# -- reductions that PyTorch code uses (min, var, std, max/min with indices) ---------------------------

def min(x, axis=None, keepdims=False):
    """The smallest value over `axis`: min(x) = -max(-x), so ties split the gradient as max does."""
    return -max(-x, axis=axis, keepdims=keepdims)


def var(x, axis=None, correction=1, keepdims=False):
    """s^2 = sum_i (x_i - mean)^2 / (n - correction) over `axis`.

    correction=1 (PyTorch's default) is Bessel's unbiased estimate; correction=0 the biased, maximum-likelihood one.
    With no degrees of freedom left (n <= correction) the result is nan (inf where the values differ), with a
    warning, as in PyTorch.
    """
    axes = normalize_axis(axis, x.ndim)
    count = _prod(x.shape[a] for a in axes)
    if count <= correction:
        warnings.warn(f"var: correction={correction} over {count} value{'s' * (count != 1)} leaves no degrees of "
                      f"freedom; the result is nan (as in PyTorch)", stacklevel=2)
    scale = 1.0 / (count - correction) if count > correction else float("inf")
    centered = x - mean(x, axis=axes, keepdims=True)
    return sum(centered * centered, axis=axes, keepdims=keepdims) * scale  # [formula: variance]


def std(x, axis=None, correction=1, keepdims=False):
    """s = sqrt(var(x)), with var's `correction` (1: unbiased, as in PyTorch).

    Where all the values are equal (s = 0) the gradient is 0, as in PyTorch, not the 0 * inf = nan of the root's
    infinite slope: there the root is taken of 0 + 1 and multiplied by 0.
    """
    variance = var(x, axis=axis, correction=correction, keepdims=keepdims)
    equal = variance.array == 0
    return (variance + constant(equal.astype(variance.dtype))) ** 0.5 * constant((~equal).astype(variance.dtype))


MaxResult = namedtuple("max", ["values", "indices"])
MinResult = namedtuple("min", ["values", "indices"])


def _pick_along(x, indices, dim, keepdim):
    """x's elements at `indices` (one per position, along `dim`): a differentiable gather.

    The gradient goes to the picked element only, as in PyTorch's max(dim) (not split on ties).
    """
    xp = xp_of(indices)
    rest = [n for i, n in enumerate(x.shape) if i != dim]
    index, position = [], 0
    for i, n in enumerate(x.shape):
        if i == dim:
            index.append(indices)
            continue
        shape = [1] * len(rest)
        shape[position] = n
        index.append(xp.arange(n).reshape(shape))
        position += 1
    values = x[tuple(index)]
    if keepdim:
        return values.reshape(_kept_shape(x.shape, (dim,))), xp.expand_dims(indices, dim)
    return values, indices


def _dim_of(op_name, dim, ndim):
    if not -max_(ndim, 1) <= dim < max_(ndim, 1):
        raise IndexError(f"{op_name}: dimension out of range (expected to be in range of "
                         f"[{-max_(ndim, 1)}, {max_(ndim, 1) - 1}], but got {dim})")
    return dim % max_(ndim, 1)


def max_with_indices(x, dim, keepdim=False):
    """(values, indices) of the largest element along `dim`, like torch.max(x, dim)."""
    dim = _dim_of("max", dim, x.ndim)
    values, indices = _pick_along(x, x.array.argmax(axis=dim), dim, keepdim)
    return MaxResult(values, Tensor(indices))


def min_with_indices(x, dim, keepdim=False):
    """(values, indices) of the smallest element along `dim`, like torch.min(x, dim)."""
    dim = _dim_of("min", dim, x.ndim)
    values, indices = _pick_along(x, x.array.argmin(axis=dim), dim, keepdim)
    return MinResult(values, Tensor(indices))
