"""Activation modules with PyTorch's names and arguments; the formulas live in tinygan.functional.

`inplace=True` is accepted where PyTorch has it (ReLU, LeakyReLU, SiLU, ELU, Dropout, Dropout1d and
Dropout2d, and their functional forms F.relu, F.leaky_relu, F.silu, F.elu, F.dropout, F.dropout1d,
F.dropout2d), so PyTorch code runs unchanged, but tinygan always computes out of place: the input is
never overwritten, and the result is a new tensor. The returned values are PyTorch's; only code that
ignores the returned tensor and reads the input again would see a difference.
"""
from .. import functional as F
from ..autograd import no_grad
from .module import Module, _new_parameter, _positive_int


def inplace_repr(inplace):
    return ", inplace=True" if inplace else ""


class ReLU(Module):
    """relu(x) = max(x, 0). inplace is accepted and ignored (see the module docstring)."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, x):
        return F.relu(x)

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class LeakyReLU(Module):
    """leaky_relu(x) = x if x > 0 else negative_slope * x (DCGAN's discriminator uses 0.2).

    inplace is accepted and ignored: tinygan computes out of place (see the module docstring).
    """

    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace

    def forward(self, x):
        return F.leaky_relu(x, self.negative_slope)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class Sigmoid(Module):
    """sigmoid(x) = 1 / (1 + exp(-x))."""

    def forward(self, x):
        return F.sigmoid(x)


class Tanh(Module):
    """tanh(x), values in (-1, 1): the usual last layer of an image generator."""

    def forward(self, x):
        return F.tanh(x)


class Softmax(Module):
    """softmax along `dim`: e^{x_i} / sum_j e^{x_j}, each slice a probability distribution."""

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.softmax(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """log softmax along `dim` (use with NLLLoss, or use CrossEntropyLoss on the logits directly)."""

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.log_softmax(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class GELU(Module):
    """GELU(x) = x Phi(x); approximate='tanh' for the tanh form."""

    def __init__(self, approximate="none"):
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, input):
        return F.gelu(input, approximate=self.approximate)

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class SiLU(Module):
    """SiLU(x) = x sigmoid(x). inplace is accepted and ignored (see the module docstring)."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return F.silu(input)

    def extra_repr(self):
        return inplace_repr(self.inplace).lstrip(", ")


class ELU(Module):
    """elu(x) = x if x > 0 else alpha (e^x - 1). inplace is accepted and ignored (see the module docstring)."""

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def forward(self, input):
        return F.elu(input, self.alpha)

    def extra_repr(self):
        return f"alpha={self.alpha}" + inplace_repr(self.inplace)


class Softplus(Module):
    """softplus(x) = log(1 + e^{beta x}) / beta. threshold is accepted for PyTorch's signature: tinygan computes
    softplus without overflow everywhere, which above the threshold equals x to float precision."""

    def __init__(self, beta=1.0, threshold=20.0):
        super().__init__()
        if beta <= 0:
            raise ValueError(f"Softplus: beta must be > 0, got {beta}")
        self.beta, self.threshold = beta, threshold

    def forward(self, input):
        return F.softplus(input) if self.beta == 1 else F.softplus(self.beta * input) / self.beta

    def extra_repr(self):
        return f"beta={self.beta}, threshold={self.threshold}"


class Hardtanh(Module):
    """x clamped to [min_val, max_val]. inplace is accepted and ignored (see the module docstring)."""

    def __init__(self, min_val=-1.0, max_val=1.0, inplace=False):
        super().__init__()
        if min_val > max_val:
            raise ValueError(f"Hardtanh: min_val ({min_val}) must not be greater than max_val ({max_val})")
        self.min_val, self.max_val, self.inplace = min_val, max_val, inplace

    def forward(self, input):
        return F.hardtanh(input, self.min_val, self.max_val)

    def extra_repr(self):
        return f"min_val={self.min_val}, max_val={self.max_val}" + inplace_repr(self.inplace)


class Mish(Module):
    """Mish(x) = x tanh(softplus(x)). inplace is accepted and ignored (see the module docstring)."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return F.mish(input)


class LogSigmoid(Module):
    """log sigmoid(x) = -softplus(-x)."""

    def forward(self, input):
        return F.logsigmoid(input)


class Softmin(Module):
    """softmin(x) = softmax(-x) along dim."""

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.softmin(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class PReLU(Module):
    """max(0, x) + a min(0, x) with a learnt slope a: one for all (num_parameters=1) or one per channel, each
    starting at `init` (0.25), as in PyTorch."""

    def __init__(self, num_parameters=1, init=0.25):
        super().__init__()
        self.num_parameters = _positive_int(num_parameters, "num_parameters", "PReLU")
        self.init = init
        self.weight = _new_parameter(self.num_parameters)
        with no_grad():
            self.weight.fill_(init)

    def forward(self, input):
        return F.prelu(input, self.weight)

    def extra_repr(self):
        return f"num_parameters={self.num_parameters}"


class ReLU6(Module):
    """relu6(x) = min(max(x, 0), 6). inplace is accepted and ignored (see the module docstring)."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return F.relu6(input)

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class Hardswish(Module):
    """hardswish(x) = x relu6(x + 3) / 6. inplace is accepted and ignored (PyTorch's repr does not show it)."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return F.hardswish(input)


class Hardsigmoid(Module):
    """hardsigmoid(x) = relu6(x + 3) / 6. inplace is accepted and ignored (PyTorch's repr does not show it)."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return F.hardsigmoid(input)


class SELU(Module):
    """selu(x) = scale elu(x, alpha), the self-normalising activation. inplace is accepted and ignored."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return F.selu(input)

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class CELU(Module):
    """celu(x) = x if x > 0 else alpha (e^{x / alpha} - 1). inplace is accepted and ignored."""

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def forward(self, input):
        return F.celu(input, self.alpha)

    def extra_repr(self):
        return f"alpha={self.alpha}" + inplace_repr(self.inplace)


class GLU(Module):
    """glu(a, b) = a sigmoid(b), a and b the halves of the input along dim."""

    def __init__(self, dim=-1):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.glu(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class Softsign(Module):
    """softsign(x) = x / (1 + |x|)."""

    def forward(self, input):
        return F.softsign(input)


class Tanhshrink(Module):
    """tanhshrink(x) = x - tanh(x)."""

    def forward(self, input):
        return F.tanhshrink(input)


class Threshold(Module):
    """threshold(x) = x if x > threshold else value. inplace is accepted and ignored."""

    def __init__(self, threshold, value, inplace=False):
        super().__init__()
        self.threshold, self.value, self.inplace = threshold, value, inplace

    def forward(self, input):
        return F.threshold(input, self.threshold, self.value)

    def extra_repr(self):
        return f"threshold={self.threshold}, value={self.value}" + inplace_repr(self.inplace)


class Hardshrink(Module):
    """hardshrink(x) = x if |x| > lambd else 0."""

    def __init__(self, lambd=0.5):
        super().__init__()
        self.lambd = lambd

    def forward(self, input):
        return F.hardshrink(input, self.lambd)

    def extra_repr(self):
        return f"{self.lambd}"


class Softshrink(Module):
    """softshrink(x) = x - clamp(x, -lambd, lambd)."""

    def __init__(self, lambd=0.5):
        super().__init__()
        self.lambd = lambd

    def forward(self, input):
        return F.softshrink(input, self.lambd)

    def extra_repr(self):
        return f"{self.lambd}"
