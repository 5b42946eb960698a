"""Activation functions and their derivatives.

Each backward multiplies the incoming gradient by the derivative written in
the docstring. Where the derivative is a function of the output (sigmoid,
tanh), the output tensor is reused instead of recomputing the forward; the
sigmoid's 1 - sigma(x) is computed as sigma(-x), which keeps its digits.
"""
from ..autograd import Function
from ._util import constant, xp_of


class ReLU(Function):
    """relu(x) = max(x, 0);  relu'(x) = 1 if x > 0 else 0."""

    def forward(self, x):
        self.positive = x > 0
        return xp_of(x).maximum(x, 0)  # [formula: relu]

    def backward(self, grad):
        return grad * constant(self.positive.astype(grad.dtype))  # [formula: relu-derivative]


class LeakyReLU(Function):
    """leaky_relu(x) = x if x > 0 else a x;  derivative 1 if x > 0 else a."""

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


def relu(x):
    return ReLU.apply(x)


def leaky_relu(x, negative_slope=0.01):
    return LeakyReLU.apply(x, negative_slope=negative_slope)


def sigmoid(x):
    return Sigmoid.apply(x)


def tanh(x):
    return Tanh.apply(x)


def softplus(x):
    return Softplus.apply(x)
