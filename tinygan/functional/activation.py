"""Activation functions and their derivatives.

Each backward multiplies the incoming gradient by the derivative written in
the docstring. Where the derivative is a function of the output (sigmoid,
tanh), the output tensor is reused instead of recomputing the forward; the
sigmoid's 1 - sigma(x) is computed as sigma(-x), which keeps its digits.
"""
import math

from .. import kernels
from ..autograd import Function
from ._special import erfc
from ._util import constant, floating, xp_of
from .arithmetic import exp


class ReLU(Function):
    """relu(x) = max(x, 0);  relu'(x) = 1 if x > 0 else 0."""

    reads_in_backward = ()

    def forward(self, x):
        self.positive = x > 0
        return xp_of(x).maximum(x, 0)  # [formula: relu]

    def backward(self, grad):
        return grad * constant(self.positive.astype(grad.dtype))  # [formula: relu-derivative]


class LeakyReLU(Function):
    """leaky_relu(x) = x if x > 0 else a x;  derivative 1 if x > 0 else a."""

    reads_in_backward = ()

    def forward(self, x, negative_slope=0.01):
        # slope = 1 where x > 0, else a, as (x > 0) (1 - a) + a: three fast passes, where
        # xp.where(x > 0, 1, a) with scalar branches is slow in NumPy (benchmarks/README.md).
        slope = (x > 0).astype(x.dtype)
        slope *= 1 - negative_slope
        slope += negative_slope
        self.slope = slope
        return x * slope  # [formula: leaky-relu]

    def backward(self, grad):
        return grad * constant(self.slope)  # [formula: leaky-relu-derivative]


class Sigmoid(Function):
    """sigmoid(x) = 1 / (1 + e^-x);  sigmoid'(x) = sigmoid(x) (1 - sigmoid(x)) = sigmoid(x) sigmoid(-x)."""

    def forward(self, x):
        xp = xp_of(x)
        # e^min(x, 0) / (1 + e^-|x|) is 1 / (1 + e^-x) for x >= 0 and e^x / (1 + e^x) for x < 0:
        # both exponents are <= 0, so nothing overflows and tiny values keep their digits, and one
        # formula serves both signs (no xp.where, whose per-element branch is slow in NumPy).
        return xp.exp(xp.minimum(x, 0)) / (1 + xp.exp(-xp.abs(x)))  # [formula: sigmoid]

    def backward(self, grad):
        # 1 - sigmoid(x) computed as sigmoid(-x): in float32 the output rounds to 1 for x >= 17,
        # where 1 - y would be 0 but sigmoid(-x) keeps the true value (about e^-x).
        y = self.output
        return grad * (y * sigmoid(-self.inputs[0]))  # [formula: sigmoid-derivative]


class Tanh(Function):
    """tanh(x);  tanh'(x) = 1 - tanh(x)^2."""

    reads_in_backward = ("output",)

    def forward(self, x):
        return xp_of(x).tanh(x)  # [formula: tanh]

    def backward(self, grad):
        y = self.output
        return grad * (1 - y * y)  # [formula: tanh-derivative]


class Softplus(Function):
    """softplus(x) = log(1 + e^x) = max(x, 0) + log(1 + e^-|x|);  softplus'(x) = sigmoid(x).

    The second form never overflows: e^-|x| <= 1.
    """

    def forward(self, x):
        xp = xp_of(x)
        return xp.maximum(x, 0) + xp.log1p(xp.exp(-xp.abs(x)))  # [formula: softplus]

    def backward(self, grad):
        return grad * sigmoid(self.inputs[0])  # [formula: softplus-derivative]


def relu(x, inplace=False):
    """relu(x) = max(x, 0).

    inplace is accepted for PyTorch's signature: the returned tensor holds the same values as PyTorch's,
    but tinygan computes out of place, so x itself keeps its values (use the returned tensor).
    """
    return ReLU.apply(x)


def leaky_relu(x, negative_slope=0.01, inplace=False):
    """leaky_relu(x) = x if x > 0 else negative_slope x; inplace as in relu (computed out of place)."""
    return LeakyReLU.apply(x, negative_slope=negative_slope)


def sigmoid(x):
    return Sigmoid.apply(floating(x))


def tanh(x):
    return Tanh.apply(floating(x))


def softplus(x):
    return Softplus.apply(x)


# -- GELU, SiLU and ELU (PyTorch's torch.nn.functional names and defaults) ----------------------------

class NormalCDF(Function):
    """Phi(x) = P(Z <= x) for Z ~ N(0, 1) = erfc(-x / sqrt 2) / 2;  Phi'(x) = phi(x) = e^{-x^2/2} / sqrt(2 pi).

    erfc, not 1 + erf: for very negative x, Phi(x) is tiny and 1 + erf(x / sqrt 2) would round it to 0.
    """

    def forward(self, x):
        return kernels.twin("erfc", erfc)(-x / math.sqrt(2)) / 2  # [formula: normal-cdf]

    def backward(self, grad):
        x = self.inputs[0]
        return grad * (exp(x * x * -0.5) * (1 / math.sqrt(2 * math.pi)))


def gelu(input, approximate="none"):
    """GELU(x) = x Phi(x), the input weighted by how likely a standard normal is below it
    (Hendrycks & Gimpel, 2016, section 2).

    approximate='tanh': 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), the paper's faster form.
    The derivatives (Phi(x) + x phi(x) for the exact form) come from the ops' own backward passes.
    """
    if approximate == "none":
        return kernels.twin("gelu", _exact_gelu, backward_in_ops=_exact_gelu_backward_in_ops)(input)
    if approximate == "tanh":
        inner = (input + input * input * input * 0.044715) * math.sqrt(2 / math.pi)
        return input * 0.5 * (tanh(inner) + 1)  # [formula: gelu-tanh]
    raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")


def _exact_gelu(input):
    return input * NormalCDF.apply(input)  # [formula: gelu]


def _exact_gelu_backward_in_ops(x, grad):
    """grad (Phi(x) + x phi(x)), GELU's derivative in tinygan ops: the fast twin's backward under create_graph."""
    return grad * (NormalCDF.apply(x) + x * (exp(x * x * -0.5) * (1 / math.sqrt(2 * math.pi))))


def silu(input, inplace=False):
    """SiLU(x) = x sigmoid(x), also called swish (Elfwing et al., 2018; Ramachandran et al., 2017).

    inplace is accepted for PyTorch's signature; tinygan always computes out of place.
    """
    return input * sigmoid(input)  # [formula: silu]


class ELU(Function):
    """elu(x) = x if x > 0 else alpha (e^x - 1) (Clevert et al., 2016);
    derivative 1 if x > 0 else alpha e^x = elu(x) + alpha."""

    reads_in_backward = ("output",)

    def forward(self, x, alpha=1.0):
        self.alpha = alpha
        self.positive = x > 0
        xp = xp_of(x)
        # expm1 keeps the digits of e^x - 1 for x near 0; min(x, 0) keeps e^x from overflowing where x > 0
        return xp.where(self.positive, x, alpha * xp.expm1(xp.minimum(x, 0)))  # [formula: elu]

    def backward(self, grad):
        positive = constant(self.positive.astype(grad.dtype))
        # written with the output, so the second derivative (alpha e^x for x <= 0) follows by itself
        return grad * (positive + (1 - positive) * (self.output + self.alpha))  # [formula: elu-derivative]


def elu(input, alpha=1.0, inplace=False):
    """ELU (see the ELU Function). inplace is accepted for PyTorch's signature; tinygan computes out of place."""
    return ELU.apply(input, alpha=float(alpha))


# -- more of torch.nn.functional's activations, written with the ops above -----------------------------------

def logsigmoid(input):
    """log sigmoid(x) = -softplus(-x): finite for any x, where log(sigmoid(x)) underflows to -inf below -104."""
    return -softplus(-input)  # [formula: logsigmoid]


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """x clamped to [min_val, max_val]; the gradient is 1 inside and 0 outside. inplace is accepted and ignored."""
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val ({min_val}) must not be greater than max_val ({max_val})")
    return input.clamp(min_val, max_val)


def mish(input, inplace=False):
    """Mish(x) = x tanh(softplus(x)) (Misra, 2019). inplace is accepted and ignored."""
    return input * tanh(softplus(input))  # [formula: mish]


def prelu(input, weight):
    """PReLU(x) = max(0, x) + a min(0, x) with a learnt slope a (He et al., 2015): one for every channel (axis 1)
    or one for all, like torch.nn.functional.prelu."""
    a = weight
    if weight.numel() > 1:
        if input.ndim < 2 or input.shape[1] != weight.numel():
            raise ValueError(f"prelu: {weight.numel()} slopes need an input with that many channels on axis 1, got "
                             f"shape {tuple(input.shape)}")
        a = weight.reshape((1, -1) + (1,) * (input.ndim - 2))
    return relu(input) - a * relu(-input)  # [formula: prelu]
