"""Elementwise arithmetic and matrix products, with NumPy broadcasting.

When an input was broadcast in the forward pass, its gradient is summed back
to the input's shape (`sum_to`): a value used many times collects the gradient
of every use.
"""
from ..autograd import Function, Tensor
from ._util import as_tensor, constant, xp_of
from .reduce import max as reduce_max, sum_to


def _binary_forward(op_name, ufunc, a, b):
    """Apply a broadcasting ufunc, turning NumPy's broadcast error into one that names the op."""
    try:
        return ufunc(a, b)
    except ValueError as error:
        raise ValueError(f"{op_name}: shapes {a.shape} and {b.shape} cannot be broadcast together") from error


class Add(Function):
    """y = a + b;  dy/da = 1, dy/db = 1."""

    def forward(self, a, b):
        return _binary_forward("add", xp_of(a).add, a, b)

    def backward(self, grad):
        a, b = self.inputs
        return (sum_to(grad, a.shape) if self.needs_input_grad[0] else None,
                sum_to(grad, b.shape) if self.needs_input_grad[1] else None)


class Sub(Function):
    """y = a - b;  dy/da = 1, dy/db = -1."""

    def forward(self, a, b):
        return _binary_forward("sub", xp_of(a).subtract, a, b)

    def backward(self, grad):
        a, b = self.inputs
        return (sum_to(grad, a.shape) if self.needs_input_grad[0] else None,
                sum_to(-grad, b.shape) if self.needs_input_grad[1] else None)


class Mul(Function):
    """y = a * b;  dy/da = b, dy/db = a."""

    def forward(self, a, b):
        return _binary_forward("mul", xp_of(a).multiply, a, b)

    def backward(self, grad):
        a, b = self.inputs
        return (sum_to(grad * b, a.shape) if self.needs_input_grad[0] else None,
                sum_to(grad * a, b.shape) if self.needs_input_grad[1] else None)


class Div(Function):
    """y = a / b;  dy/da = 1/b, dy/db = -a/b^2."""

    def forward(self, a, b):
        return _binary_forward("div", xp_of(a).true_divide, a, b)

    def backward(self, grad):
        a, b = self.inputs
        grad_a = grad / b
        return (sum_to(grad_a, a.shape) if self.needs_input_grad[0] else None,
                sum_to(-grad_a * self.output, b.shape) if self.needs_input_grad[1] else None)  # -g a / b^2


class Neg(Function):
    """y = -x."""

    def forward(self, x):
        return -x

    def backward(self, grad):
        return -grad


class Pow(Function):
    """y = x^p for a constant exponent p;  dy/dx = p x^(p-1)."""

    def forward(self, x, exponent):
        self.exponent = exponent
        return x ** exponent

    def backward(self, grad):
        (x,) = self.inputs
        p = self.exponent
        if p == 2:
            return grad * (2 * x)  # the common square, without a second pow
        return grad * (p * x ** (p - 1))


class Exp(Function):
    """y = e^x;  dy/dx = y."""

    def forward(self, x):
        return xp_of(x).exp(x)

    def backward(self, grad):
        return grad * self.output


class Log(Function):
    """y = ln x;  dy/dx = 1/x."""

    def forward(self, x):
        return xp_of(x).log(x)

    def backward(self, grad):
        return grad / self.inputs[0]


class Sqrt(Function):
    """y = sqrt(x);  dy/dx = 1 / (2 sqrt(x))."""

    def forward(self, x):
        return xp_of(x).sqrt(x)

    def backward(self, grad):
        return grad * 0.5 / self.output


class Clamp(Function):
    """y = min(max(x, low), high);  dy/dx = 1 inside [low, high], 0 where clamped."""

    def forward(self, x, low=None, high=None):
        if x.dtype.kind == "f":  # bounds in x's dtype: a NumPy float64 bound would make float32 x float64 (NEP 50)
            low = None if low is None else x.dtype.type(low)
            high = None if high is None else x.dtype.type(high)
        self.inside = xp_of(x).ones(x.shape, dtype=bool)
        if low is not None:
            self.inside &= x >= low
        if high is not None:
            self.inside &= x <= high
        return xp_of(x).clip(x, low, high)

    def backward(self, grad):
        return grad * constant(self.inside.astype(grad.dtype))


class MatMul(Function):
    """Y = A B (batched over leading axes);  dL/dA = G B^T,  dL/dB = A^T G."""

    inputs_share_dtype = True

    def forward(self, a, b):
        if a.ndim < 2 or b.ndim < 2:
            raise ValueError(f"matmul: expects tensors with at least 2 dimensions, got shapes {a.shape} and {b.shape}")
        if a.shape[-1] != b.shape[-2]:
            raise ValueError(f"matmul: inner dimensions differ: {a.shape} @ {b.shape} "
                             f"({a.shape[-1]} columns vs {b.shape[-2]} rows)")
        return a @ b

    def backward(self, grad):
        a, b = self.inputs
        grad_a = grad_b = None
        if self.needs_input_grad[0]:
            grad_a = sum_to(grad @ b.swapaxes(-1, -2), a.shape)
        if self.needs_input_grad[1]:
            grad_b = sum_to(a.swapaxes(-1, -2) @ grad, b.shape)
        return grad_a, grad_b


def _operands(a, b):
    """Both operands as Tensors; a plain number takes the dtype of the tensor beside it."""
    if isinstance(a, Tensor):
        return a, as_tensor(b, like=a)
    b = as_tensor(b)
    return as_tensor(a, like=b), b


def add(a, b):
    return Add.apply(*_operands(a, b))


def sub(a, b):
    return Sub.apply(*_operands(a, b))


def mul(a, b):
    return Mul.apply(*_operands(a, b))


def div(a, b):
    return Div.apply(*_operands(a, b))


def neg(x):
    return Neg.apply(x)


def pow(x, exponent):
    """x ** exponent for a constant (Python number) exponent."""
    if not isinstance(exponent, (int, float)):
        raise TypeError(f"pow: the exponent must be a Python number, got {type(exponent).__name__}")
    if isinstance(exponent, float):
        exponent = float(exponent)  # a NumPy float64 scalar would turn float32 x into float64 (NEP 50)
    return Pow.apply(x, exponent=exponent)


def exp(x):
    return Exp.apply(x)


def log(x):
    return Log.apply(x)


def sqrt(x):
    return Sqrt.apply(x)


def clamp(x, min=None, max=None):
    """Clip values to [min, max]; the gradient is zero where a value was clipped."""
    return Clamp.apply(x, low=min, high=max)


def matmul(a, b):
    return MatMul.apply(a, b)


def logsumexp(x, axis=-1, keepdims=False):
    """log sum_i e^{x_i}, computed as m + log sum_i e^{x_i - m} with m = max_i x_i, so no e^x overflows.

    The shift m is a constant (detached): the result does not depend on it, so neither does the gradient,
    which is softmax(x).
    """
    shift = reduce_max(x, axis=axis, keepdims=True).detach()
    total = exp(x - shift).sum(axis=axis, keepdims=True)
    result = log(total) + shift  # [formula: log-sum-exp]
    if keepdims:
        return result
    return result.reshape(tuple(n for i, n in enumerate(x.shape) if i != axis % x.ndim))
