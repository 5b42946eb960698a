"""softmax and log_softmax, both through log-sum-exp.

    log_softmax(x)_i = x_i - log sum_j e^{x_j}        softmax(x)_i = e^{log_softmax(x)_i}

logsumexp (tinygan/functional/arithmetic.py) subtracts the maximum before exponentiating, so nothing
overflows: softmax([1000, 1001]) is [0.269, 0.731], where e^1000 would be inf. Both are compositions
of differentiable ops, so their gradients (and gradients of gradients) come from those ops:

    d log_softmax_i / dx_j = [i = j] - softmax_j,      d softmax_i / dx_j = softmax_i ([i = j] - softmax_j)
"""
import warnings

from .. import backend, kernels
from ..autograd import Function, Tensor
from ._util import xp_of
from .arithmetic import exp, logsumexp


class Cast(Function):
    """y = x converted to another floating dtype;  dL/dx = dL/dy converted back to x's dtype."""

    reads_in_backward = ()

    def forward(self, x, dtype):
        return x.astype(dtype)

    def backward(self, grad):
        return Cast.apply(grad, dtype=self.inputs[0].dtype)


def implicit_dim(op, ndim):
    """PyTorch's choice of axis when dim is left out (deprecated there too): 0 for 0-, 1- and 3-D inputs, else 1."""
    warnings.warn(f"{op}: implicit dimension choice is deprecated; pass dim= (as in PyTorch)", UserWarning,
                  stacklevel=3)
    return 0 if ndim in (0, 1, 3) else 1


def _prepare(op, input, dim, dtype):
    """(input in `dtype`, a checked axis)."""
    if dim is None:
        dim = implicit_dim(op, input.ndim)
    if not -max(input.ndim, 1) <= dim < max(input.ndim, 1):
        raise IndexError(f"{op}: dim {dim} is out of range for an input of shape {tuple(input.shape)} "
                         f"(expected a dim in [{-max(input.ndim, 1)}, {max(input.ndim, 1) - 1}])")
    if input.dtype.kind != "f":
        raise TypeError(f"{op}: input must be floating point, got dtype {input.dtype}")
    if dtype is not None and input.dtype != dtype:
        input = Cast.apply(input, dtype=dtype)
    return input, dim


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """log softmax(x) along `dim`: x - logsumexp(x), exact even where softmax rounds to 0."""
    input, dim = _prepare("log_softmax", input, dim, dtype)
    if input.ndim == 0:
        return input - input  # one class: log 1 = 0
    return input - logsumexp(input, axis=dim, keepdims=True)  # [formula: log-softmax]


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    """softmax(x) along `dim`: e^{x_i} / sum_j e^{x_j}, computed as e^{x_i - logsumexp(x)}."""
    input, dim = _prepare("softmax", input, dim, dtype)
    if input.ndim == 0:
        return exp(input - input)
    return kernels.twin("softmax", _softmax, backward_in_ops=_softmax_backward_in_ops)(input, dim)


def _softmax(input, dim):
    return exp(input - logsumexp(input, axis=dim, keepdims=True))  # [formula: softmax]


def _softmax_backward_in_ops(x, grad, dim):
    """dL/dx = y (g - sum_j g_j y_j) with y = softmax(x) along `dim`, in tinygan ops: the fast twin's backward
    under create_graph, so that it can be differentiated again."""
    y = _softmax(x, dim)
    return y * (grad - (grad * y).sum(axis=dim, keepdims=True))


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    """softmin(x) = softmax(-x) along `dim`: the smallest values get the largest weights."""
    return softmax(-input, dim, dtype=dtype)  # [formula: softmin]


def gumbel_softmax(logits, tau=1, hard=False, eps=1e-10, dim=-1):
    """softmax((logits + g) / tau) along `dim`, g drawn from Gumbel(0, 1) by tinygan's seeded generator: a sample
    from the categorical distribution of the logits relaxed to the simplex (Jang et al., 2017; Maddison et al.,
    2017). hard=True returns the one-hot vector of its largest entry, with the soft sample's gradient
    (straight-through: y_hard - detach(y_soft) + y_soft). eps is accepted for PyTorch's signature and, as there,
    has no effect."""
    if eps != 1e-10:
        warnings.warn("gumbel_softmax: `eps` parameter is deprecated and has no effect.", UserWarning, stacklevel=2)
    return _gumbel_softmax_with_noise(logits, _gumbel_noise(logits), tau, hard, dim)


def _gumbel_noise(logits):
    """Gumbel(0, 1) noise of the logits' shape and dtype: -log E with E ~ Exponential(1), as PyTorch draws it."""
    array = logits.array
    exponential = backend.rng_for(array).standard_exponential(array.shape, dtype=array.dtype)
    return Tensor(-xp_of(array).log(exponential))


def _gumbel_softmax_with_noise(logits, gumbels, tau, hard, dim):
    """gumbel_softmax for given Gumbel noise: softmax((logits + gumbels) / tau), made one-hot when hard."""
    if tau <= 0:
        raise ValueError(f"gumbel_softmax: tau must be > 0, got {tau}")
    y_soft = softmax((logits + gumbels) / tau, dim)  # [formula: gumbel-softmax]
    if not hard:
        return y_soft
    axis = dim % max(y_soft.ndim, 1)
    xp = xp_of(y_soft.array)
    largest = y_soft.array.argmax(axis=axis)
    positions = xp.arange(y_soft.shape[axis]).reshape((-1,) + (1,) * (y_soft.ndim - axis - 1))
    y_hard = Tensor((positions == xp.expand_dims(largest, axis)).astype(y_soft.dtype))
    return y_hard - y_soft.detach() + y_soft  # [formula: gumbel-softmax-straight-through]
