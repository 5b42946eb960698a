"""Sine and cosine (for the positional encoding of a NeRF), each with its derivative."""
from ..autograd import Function
from ._util import floating, xp_of


class Sin(Function):
    """sin(x);  d/dx sin(x) = cos(x)."""

    reads_in_backward = ("inputs",)

    def forward(self, x):
        return xp_of(x).sin(x)

    def backward(self, grad):
        return grad * cos(self.inputs[0])


class Cos(Function):
    """cos(x);  d/dx cos(x) = -sin(x)."""

    reads_in_backward = ("inputs",)

    def forward(self, x):
        return xp_of(x).cos(x)

    def backward(self, grad):
        return -(grad * sin(self.inputs[0]))


def sin(x):
    """Elementwise sine (torch.sin)."""
    return Sin.apply(floating(x))


def cos(x):
    """Elementwise cosine (torch.cos)."""
    return Cos.apply(floating(x))
