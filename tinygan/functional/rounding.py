"""Rounding and remainders with PyTorch's names: floor, ceil, round, trunc, sign, frac; division rounded down or
toward zero; remainder and fmod.

A step function (floor, ceil, round, trunc, sign, a rounded quotient) is flat between its jumps, so its gradient
is 0, as in PyTorch (which gives 0 at the jumps too). frac(x) = x - trunc(x) then has gradient 1. A remainder is
r = a - b q with a quotient q that is a step function of a / b, so dr/da = 1 and dr/db = -q.
"""
from ..autograd import Function, Tensor
from ._util import xp_of
from .arithmetic import _binary_forward, _operands, sub
from .reduce import sum_to

STEPS = ("floor", "ceil", "round", "trunc", "sign")
ROUNDING_MODES = ("floor", "trunc")


class Step(Function):
    """y = floor(x), ceil(x), round(x, decimals), trunc(x) or sign(x);  dy/dx = 0."""

    reads_in_backward = ()

    def forward(self, x, step, decimals=0):
        xp = xp_of(x)
        if x.dtype.kind in "iub" and step != "sign":
            return x.copy()                                   # an integer is already whole
        if step == "round":
            return xp.round(x, decimals)                      # halves to even, as PyTorch rounds
        return getattr(xp, step)(x)

    def backward(self, grad):
        return Tensor(xp_of(grad.array).zeros_like(grad.array))   # [formula: step-gradient]


def _rounded_quotient(a, b, mode):
    """floor(a / b) or trunc(a / b) of two arrays, computed exactly (not by rounding a rounded a / b)."""
    xp = xp_of(a)
    if mode == "floor":
        return _binary_forward("floor_divide", xp.floor_divide, a, b)
    quotient = xp.trunc(_binary_forward("div", xp.true_divide, a, b))
    return quotient.astype(xp.result_type(a, b)) if a.dtype.kind in "iu" else quotient


class RoundedQuotient(Function):
    """q = floor(a / b) or trunc(a / b);  dq/da = dq/db = 0."""

    reads_in_backward = ()

    def forward(self, a, b, mode):
        return _rounded_quotient(a, b, mode)

    def backward(self, grad):
        xp = xp_of(grad.array)
        return tuple(Tensor(xp.zeros(t.shape, dtype=grad.dtype)) if needed else None
                     for t, needed in zip(self.inputs, self.needs_input_grad))


class Remainder(Function):
    """r = a - b q, with q = floor(a / b) (remainder: r has the sign of b) or trunc(a / b) (fmod: the sign of a);
    dr/da = 1, dr/db = -q."""

    reads_in_backward = ("inputs",)

    def forward(self, a, b, mode):
        self.mode = mode
        xp = xp_of(a)
        name, ufunc = ("remainder", xp.remainder) if mode == "floor" else ("fmod", xp.fmod)
        return _binary_forward(name, ufunc, a, b)

    def backward(self, grad):
        a, b = self.inputs
        grad_b = None
        if self.needs_input_grad[1]:
            quotient = Tensor(_rounded_quotient(a.array, b.array, self.mode))
            grad_b = sum_to(-grad * quotient, b.shape)  # [formula: remainder-gradient]
        return (sum_to(grad, a.shape) if self.needs_input_grad[0] else None), grad_b


def _step(op_name, x, step, decimals=0):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op_name}: expects a Tensor, got {type(x).__name__}")
    return Step.apply(x, step=step, decimals=int(decimals))


def floor(x):
    """The largest whole number at or below each element, like torch.floor (gradient 0)."""
    return _step("floor", x, "floor")


def ceil(x):
    """The smallest whole number at or above each element, like torch.ceil (gradient 0)."""
    return _step("ceil", x, "ceil")


def round(x, decimals=0):
    """Each element rounded to `decimals` places, halves to the even neighbour, like torch.round (gradient 0)."""
    return _step("round", x, "round", decimals)


def trunc(x):
    """Each element with its fraction cut off (rounded toward zero), like torch.trunc (gradient 0)."""
    return _step("trunc", x, "trunc")


def sign(x):
    """-1, 0 or 1 as each element is negative, zero or positive, like torch.sign (gradient 0)."""
    return _step("sign", x, "sign")


def frac(x):
    """x - trunc(x): the fraction of each element, with x's sign, like torch.frac (gradient 1)."""
    return sub(x, trunc(x))


def _rounding_mode(op_name, mode):
    if mode not in ROUNDING_MODES:
        raise ValueError(f"{op_name}: rounding_mode must be one of {ROUNDING_MODES} or None, got {mode!r}")
    return mode


def rounded_div(a, b, rounding_mode):
    """a / b rounded down ('floor') or toward zero ('trunc'), like torch.div(a, b, rounding_mode=...)."""
    return RoundedQuotient.apply(*_operands(a, b), mode=_rounding_mode("div", rounding_mode))


def floor_divide(a, b):
    """a // b: a / b rounded down, like torch.floor_divide (gradient 0)."""
    return RoundedQuotient.apply(*_operands(a, b), mode="floor")


def remainder(a, b):
    """a % b = a - b floor(a / b), with the sign of b (Python's %), like torch.remainder."""
    return Remainder.apply(*_operands(a, b), mode="floor")


def fmod(a, b):
    """a - b trunc(a / b), with the sign of a (C's fmod), like torch.fmod."""
    return Remainder.apply(*_operands(a, b), mode="trunc")
