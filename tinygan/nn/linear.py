"""Identity and Linear, with PyTorch's arguments, weight shape (out_features, in_features) and initialisation;
the formula y = x W^T + b and its gradients are F.linear's (tinygan.functional).
"""
from .. import functional as F
from . import init
from .module import Module, _new_parameter, _positive_int


class Identity(Module):
    """Returns its input unchanged (a placeholder, e.g. for a removed layer)."""

    def forward(self, x):
        return x


class Linear(Module):
    """y = x W^T + b, with weight W of shape (out_features, in_features) and bias b of shape (out_features,).

    Initialised as PyTorch: every value in [-1/sqrt(in_features), 1/sqrt(in_features)]
    (see init.default_init_).
    """

    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        in_features = _positive_int(in_features, "in_features", "Linear")
        out_features = _positive_int(out_features, "out_features", "Linear")
        self.in_features, self.out_features = in_features, out_features
        self.weight = _new_parameter(out_features, in_features)
        if bias:
            self.bias = _new_parameter(out_features)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        init.default_init_(self.weight, self.bias)

    def forward(self, x):
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"
