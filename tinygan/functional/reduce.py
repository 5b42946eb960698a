"""Reductions and broadcasting: sum, mean, max, sum_to, broadcast_to.

`sum_to` and `broadcast_to` are each other's adjoint: broadcasting copies a
value to many places, so its gradient sums the copies back.
"""
from ..autograd import Function
from ._util import constant, normalize_axis, xp_of


def _kept_shape(shape, axes):
    """The shape of a reduction over `axes` with keepdims=True."""
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


class Sum(Function):
    """y = sum of x over `axis`;  dy/dx = 1 for every summed element."""

    def forward(self, x, axis=None, keepdims=False):
        self.axes = normalize_axis(axis, x.ndim)
        return x.sum(axis=self.axes, keepdims=keepdims)

    def backward(self, grad):
        x = self.inputs[0]
        return broadcast_to(grad.reshape(_kept_shape(x.shape, self.axes)), x.shape)


class Mean(Function):
    """y = (1/n) sum of x over `axis`;  dy/dx = 1/n."""

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
        largest = x.max(axis=self.axes, keepdims=True)
        is_max = (x == largest).astype(x.dtype)
        self.share = is_max / is_max.sum(axis=self.axes, keepdims=True)
        return largest if keepdims else largest.reshape([n for i, n in enumerate(x.shape) if i not in self.axes])

    def backward(self, grad):
        x = self.inputs[0]
        return broadcast_to(grad.reshape(_kept_shape(x.shape, self.axes)), x.shape) * constant(self.share)


class BroadcastTo(Function):
    """y = x repeated to `shape` (NumPy broadcasting);  dL/dx = sum_to(dL/dy, x.shape)."""

    def forward(self, x, shape):
        try:
            return xp_of(x).broadcast_to(x, shape)
        except ValueError as error:
            raise ValueError(f"broadcast_to: cannot broadcast shape {x.shape} to {tuple(shape)}") from error

    def backward(self, grad):
        return sum_to(grad, self.inputs[0].shape)


class SumTo(Function):
    """y = x summed over the axes that broadcasting to x.shape would have added or stretched."""

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
