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
from ._util import as_tensor, constant, floating, xp_of
from .arithmetic import abs as absolute, clamp, exp, expm1, where
from .shape import _dim


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
    """x clamped to [min_val, max_val]; the gradient is 1 strictly inside and 0 at and beyond the bounds, as in
    PyTorch. inplace is accepted and ignored."""
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val ({min_val}) must not be greater than max_val ({max_val})")
    return _clip_open(input, min_val, max_val)


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


# -- PyTorch's piecewise and shrinking activations, each written with the ops above -----------------------
# At a kink the gradient is PyTorch's: the open interval's (relu6' is 0 at 0 and at 6; hardswish' is 0 at -3
# and 1 at 3; threshold, hardshrink and softshrink have gradient 0 at their thresholds).

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def _clip_open(x, low, high):
    """x clamped to [low, high], with gradient 1 strictly inside and 0 at and beyond the bounds (PyTorch's
    hardtanh and relu6)."""
    inside = (x.array > low) & (x.array < high)
    return where(inside, x, clamp(x.detach(), low, high))


def relu6(input, inplace=False):
    """relu6(x) = min(max(x, 0), 6); the gradient is 1 for 0 < x < 6, else 0. inplace is accepted and ignored."""
    return _clip_open(input, 0.0, 6.0)  # [formula: relu6]


def hardsigmoid(input, inplace=False):
    """hardsigmoid(x) = relu6(x + 3) / 6: 0 below -3, 1 above 3, a line between. inplace is accepted and ignored."""
    return relu6(input + 3.0) / 6.0  # [formula: hardsigmoid]


def hardswish(input, inplace=False):
    """hardswish(x) = x relu6(x + 3) / 6 (Howard et al., 2019); inplace is accepted and ignored."""
    return input * relu6(input + 3.0) / 6.0  # [formula: hardswish]


def selu(input, inplace=False):
    """selu(x) = scale elu(x, alpha), with scale and alpha of Klambauer et al. (2017), which keep activations near
    mean 0 and variance 1. inplace is accepted and ignored."""
    return elu(input, SELU_ALPHA) * SELU_SCALE  # [formula: selu]


def celu(input, alpha=1.0, inplace=False):
    """celu(x) = x if x > 0 else alpha (e^{x / alpha} - 1) (Barron, 2017). inplace is accepted and ignored."""
    if alpha == 0:
        raise ValueError(f"celu: alpha must not be 0, got {alpha}")
    negative_part = expm1(clamp(input, max=0.0) / alpha) * alpha   # clamp keeps e^{x / alpha} finite for x > 0
    return where(input.array > 0, input, negative_part)  # [formula: celu]


def glu(input, dim=-1):
    """glu(a, b) = a sigmoid(b), a and b the two halves of the input along dim (Dauphin et al., 2017)."""
    if input.ndim == 0:
        raise ValueError("glu: expects a tensor of at least 1 dimension, got a 0-d tensor")
    axis = _dim("glu", dim, input.ndim)
    size = input.shape[axis]
    if size % 2:
        raise ValueError(f"glu: halving dimension must be even, but dimension {dim} is size {size}")
    before = (slice(None),) * axis
    a, b = input[before + (slice(0, size // 2),)], input[before + (slice(size // 2, size),)]
    return a * sigmoid(b)  # [formula: glu]


def softsign(input):
    """softsign(x) = x / (1 + |x|)."""
    return input / (absolute(input) + 1.0)  # [formula: softsign]


def tanhshrink(input):
    """tanhshrink(x) = x - tanh(x)."""
    return input - tanh(input)  # [formula: tanhshrink]


def threshold(input, threshold, value, inplace=False):
    """threshold(x) = x if x > threshold else value. inplace is accepted and ignored."""
    return where(input.array > threshold, input, as_tensor(float(value), like=input))  # [formula: threshold]


def hardshrink(input, lambd=0.5):
    """hardshrink(x) = x if |x| > lambd else 0."""
    outside = (input.array > lambd) | (input.array < -lambd)
    return where(outside, input, as_tensor(0.0, like=input))  # [formula: hardshrink]


def softshrink(input, lambd=0.5):
    """softshrink(x) = x - clamp(x, -lambd, lambd): x - lambd above lambd, x + lambd below -lambd, else 0."""
    if lambd < 0:
        raise ValueError(f"softshrink: lambd must be >= 0, got {lambd}")
    return input - clamp(input, -lambd, lambd)  # [formula: softshrink]
