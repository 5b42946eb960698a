"""Elementwise arithmetic and matrix products, with NumPy broadcasting.

When an input was broadcast in the forward pass, its gradient is summed back
to the input's shape (`sum_to`): a value used many times collects the gradient
of every use.
"""
import numpy as np

from ..autograd import Function, Tensor
from . import _special
from ._util import as_tensor, constant, floating, xp_of
from .reduce import broadcast_to, max as reduce_max, sum_to
from .shape import _dim, concat, getitem


def _binary_forward(op_name, ufunc, a, b):
    """Apply a broadcasting ufunc, turning NumPy's broadcast error into one that names the op."""
    try:
        return ufunc(a, b)
    except ValueError as error:
        raise ValueError(f"{op_name}: shapes {a.shape} and {b.shape} cannot be broadcast together") from error


class Add(Function):
    """y = a + b;  dy/da = 1, dy/db = 1."""

    reads_in_backward = ()

    def forward(self, a, b):
        return _binary_forward("add", xp_of(a).add, a, b)

    def backward(self, grad):
        a, b = self.inputs
        return (sum_to(grad, a.shape) if self.needs_input_grad[0] else None,
                sum_to(grad, b.shape) if self.needs_input_grad[1] else None)


class Sub(Function):
    """y = a - b;  dy/da = 1, dy/db = -1."""

    reads_in_backward = ()

    def forward(self, a, b):
        return _binary_forward("sub", xp_of(a).subtract, a, b)

    def backward(self, grad):
        a, b = self.inputs
        return (sum_to(grad, a.shape) if self.needs_input_grad[0] else None,
                sum_to(-grad, b.shape) if self.needs_input_grad[1] else None)


class Mul(Function):
    """y = a * b;  dy/da = b, dy/db = a."""

    reads_in_backward = ("factors",)

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

    reads_in_backward = ()

    def forward(self, x):
        return -x

    def backward(self, grad):
        return -grad


class Pow(Function):
    """y = x^p for a constant exponent p;  dy/dx = p x^(p-1)."""

    reads_in_backward = ("inputs",)

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

    reads_in_backward = ("output",)

    def forward(self, x):
        return xp_of(x).exp(x)

    def backward(self, grad):
        return grad * self.output


class Log(Function):
    """y = ln x;  dy/dx = 1/x."""

    reads_in_backward = ("inputs",)

    def forward(self, x):
        return xp_of(x).log(x)

    def backward(self, grad):
        return grad / self.inputs[0]


class Sqrt(Function):
    """y = sqrt(x);  dy/dx = 1 / (2 sqrt(x))."""

    reads_in_backward = ("output",)

    def forward(self, x):
        return xp_of(x).sqrt(x)

    def backward(self, grad):
        return grad * 0.5 / self.output


class Log1p(Function):
    """y = ln(1 + x), exact for small x;  dy/dx = 1 / (1 + x)."""

    reads_in_backward = ("inputs",)

    def forward(self, x):
        return xp_of(x).log1p(x)

    def backward(self, grad):
        return grad / (1 + self.inputs[0])  # [formula: log1p-derivative]


class Expm1(Function):
    """y = e^x - 1, exact for small x;  dy/dx = e^x = y + 1."""

    reads_in_backward = ("output",)

    def forward(self, x):
        return xp_of(x).expm1(x)

    def backward(self, grad):
        return grad * (self.output + 1)  # [formula: expm1-derivative]


class Erf(Function):
    """y = erf(x) = 2/sqrt(pi) int_0^x e^{-t^2} dt;  dy/dx = 2/sqrt(pi) e^{-x^2}."""

    reads_in_backward = ("inputs",)

    def forward(self, x):
        return _special.erf(x)

    def backward(self, grad):
        x = self.inputs[0]
        return grad * (2 / np.sqrt(np.pi)) * exp(-(x * x))  # [formula: erf-derivative]


class Clamp(Function):
    """y = min(max(x, low), high);  dy/dx = 1 inside [low, high], 0 where clamped."""

    reads_in_backward = ()

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

    reads_in_backward = ("factors",)

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
    """Both operands as Tensors, with PyTorch's dtypes where NumPy's differ: a plain number takes the floating
    dtype of the tensor beside it, and a float number beside an integer tensor makes both the default float
    dtype; an integer tensor beside a floating one takes that one's dtype. (NumPy would make float64 of
    float32 * np.float64(2), of int64 * 0.5 and of int64 + float32.)"""
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        b = as_tensor(b)
    if not isinstance(a, Tensor):
        return _number_beside(a, b)
    if not isinstance(b, Tensor):
        number, a = _number_beside(b, a)
        return a, number
    return _float_beside(a, b), _float_beside(b, a)


def _number_beside(value, tensor):
    """(value, tensor) as two tensors for one operation: a float number beside an integer or boolean tensor makes
    both the default float dtype; otherwise the number takes the tensor's dtype (an int beside int32 stays int32)."""
    if tensor.dtype.kind in "iub" and isinstance(value, (float, np.floating)):
        tensor = floating(tensor)
    if tensor.dtype.kind in "iu" and isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return Tensor(xp_of(tensor.array).asarray(value, dtype=tensor.dtype)), tensor
    return as_tensor(value, like=tensor), tensor


def _float_beside(t, other):
    """t, or t in other's dtype when t holds integers (or booleans) and other floats."""
    if t.dtype.kind in "iub" and other.dtype.kind == "f":
        return Tensor(t.array.astype(other.dtype))
    return t


def add(a, b):
    return Add.apply(*_operands(a, b))


def sub(a, b):
    return Sub.apply(*_operands(a, b))


def mul(a, b):
    return Mul.apply(*_operands(a, b))


def div(a, b):
    """a / b, true division: of two integer tensors too, in the default float dtype, as in PyTorch."""
    a, b = _operands(a, b)
    if a.dtype.kind in "iub" and b.dtype.kind in "iub":
        a, b = floating(a), floating(b)
    return Div.apply(a, b)


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
    return Exp.apply(floating(x))


def log(x):
    return Log.apply(floating(x))


def sqrt(x):
    return Sqrt.apply(floating(x))


def log1p(x):
    """ln(1 + x), elementwise, without the loss of digits of log(1 + x) for small x (torch.log1p)."""
    return Log1p.apply(floating(x))


def expm1(x):
    """e^x - 1, elementwise, without the loss of digits of exp(x) - 1 for small x (torch.expm1)."""
    return Expm1.apply(floating(x))


def erf(x):
    """The error function, elementwise (torch.erf)."""
    return Erf.apply(floating(x))


def log2(x):
    """log2(x) = ln x / ln 2, elementwise (torch.log2)."""
    return div(log(x), float(np.log(2.0)))


def log10(x):
    """log10(x) = ln x / ln 10, elementwise (torch.log10)."""
    return div(log(x), float(np.log(10.0)))


def reciprocal(x):
    """1 / x, elementwise (torch.reciprocal)."""
    return div(1.0, x)


def rsqrt(x):
    """1 / sqrt(x), elementwise (torch.rsqrt)."""
    return div(1.0, sqrt(x))


def nan_to_num(x, nan=0.0, posinf=None, neginf=None):
    """x with NaN, +inf and -inf replaced by `nan`, `posinf` and `neginf` (by default 0 and the dtype's largest
    and smallest finite values), like torch.nan_to_num; a replaced value gets no gradient."""
    xp = xp_of(x.array)
    info = xp.finfo(x.dtype) if x.dtype.kind == "f" else xp.iinfo(x.dtype)
    replaced = xp.where(xp.isnan(x.array), nan, xp.where(x.array > 0, info.max if posinf is None else posinf,
                                                          info.min if neginf is None else neginf))
    return where(Tensor(xp.isfinite(x.array)), x, Tensor(replaced.astype(x.dtype)))


def diff(x, n=1, dim=-1, prepend=None, append=None):
    """The differences of neighbours along `dim`, `y_i = x_{i+1} - x_i`, taken n times, like torch.diff;
    prepend and append are joined to x first."""
    dim = _dim("diff", dim, max(x.ndim, 1))
    x = concat([t for t in (prepend, x, append) if t is not None], axis=dim)
    before = (slice(None),) * dim
    for _ in range(int(n)):
        x = sub(getitem(x, before + (slice(1, None),)), getitem(x, before + (slice(None, -1),)))  # [formula: diff]
    return x


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


class Einsum(Function):
    """y = einsum(equation, *operands): sums of products over the subscripts the output leaves out.

    dL/d(operand k) is the einsum of dL/dy with the other operands onto operand k's subscripts; a subscript that
    only operand k has was summed in the forward, so its gradient is copied along that axis.
    """

    reads_in_backward = ("inputs",)

    def forward(self, *operands, inputs, output):
        self.subscripts, self.output_subscripts = inputs, output
        return xp_of(operands[0]).einsum(",".join(inputs) + "->" + output, *operands)

    def backward(self, grad):
        return tuple(self._gradient(k, grad) if needed else None for k, needed in enumerate(self.needs_input_grad))

    def _gradient(self, k, grad):
        target = self.subscripts[k]
        others = [(s, t) for j, (s, t) in enumerate(zip(self.subscripts, self.inputs)) if j != k]
        sources = [self.output_subscripts] + [s for s, _ in others]
        reached = "".join(c for c in target if any(c in source for source in sources))
        g = Einsum.apply(grad, *[t for _, t in others], inputs=sources, output=reached)  # [formula: einsum-gradient]
        shape = tuple(n if c in reached else 1 for c, n in zip(target, self.inputs[k].shape))
        return broadcast_to(g.reshape(shape), tuple(self.inputs[k].shape))


def einsum(equation, *operands):
    """Einstein summation, like torch.einsum("bqd,bkd->bqk", q, k) (operands as arguments or one list).

    Each operand has one letter per axis; letters shared between operands are multiplied along, and letters
    missing from the output (after "->", or else the letters used once, in alphabetical order) are summed over.
    Not supported, each refused by name: "..." and a letter repeated within one operand (a diagonal).
    """
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    inputs, output = _einsum_subscripts(equation, operands)
    return Einsum.apply(*operands, inputs=inputs, output=output)


def _einsum_subscripts(equation, operands):
    """(one subscript string per operand, the output's) of an einsum equation, checked against the operands."""
    text = equation.replace(" ", "")
    if "." in text:
        raise ValueError(f"einsum: '...' is not supported in tinygan, got {equation!r}; name every axis with a letter")
    left, arrow, output = text.partition("->")
    inputs = left.split(",")
    if not arrow:
        letters = "".join(inputs)
        output = "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    if len(inputs) != len(operands):
        raise ValueError(f"einsum: {equation!r} names {len(inputs)} operands, got {len(operands)}")
    sizes = {}
    for i, (subscripts, operand) in enumerate(zip(inputs, operands)):
        if not all(c.isalpha() for c in subscripts) or len(set(subscripts)) != len(subscripts):
            raise ValueError(f"einsum: operand {i}'s subscripts {subscripts!r} must be distinct letters (a letter "
                             f"repeated within one operand, a diagonal, is not supported)")
        if len(subscripts) != operand.ndim:
            raise ValueError(f"einsum: operand {i} has {operand.ndim} dimensions (shape {tuple(operand.shape)}), "
                             f"but {subscripts!r} names {len(subscripts)}")
        for letter, n in zip(subscripts, operand.shape):
            if sizes.setdefault(letter, n) != n:
                raise ValueError(f"einsum: {letter!r} is {sizes[letter]} long in one operand and {n} in operand {i}")
    if not set(output) <= set(sizes) or len(set(output)) != len(output):
        raise ValueError(f"einsum: the output {output!r} must name distinct letters of the operands")
    return inputs, output


def bmm(a, b):
    """Batched matrix product of (B, n, m) and (B, m, p), like torch.bmm: matmul, with its shapes checked."""
    if a.ndim != 3 or b.ndim != 3 or a.shape[0] != b.shape[0]:
        raise ValueError(f"bmm: expects two 3-D tensors with the same batch size, got shapes {tuple(a.shape)} and "
                         f"{tuple(b.shape)}")
    return matmul(a, b)


def outer(a, b):
    """The outer product of two vectors, `out[i, j] = a[i] b[j]`, like torch.outer."""
    if a.ndim != 1 or b.ndim != 1:
        raise ValueError(f"outer: expects two 1-D tensors, got shapes {tuple(a.shape)} and {tuple(b.shape)}")
    return mul(a.reshape(-1, 1), b.reshape(1, -1))


def lerp(start, end, weight):
    """start + weight (end - start), like torch.lerp (a moving average's step is lerp(average, new, 1 - decay))."""
    return add(start, mul(as_tensor(weight, like=start), sub(end, start)))  # [formula: lerp]


# -- elementwise ops that PyTorch code uses (abs, maximum, minimum, where, masked_fill) ------------------

class Abs(Function):
    """y = |x|;  dy/dx = sign(x), taken as 0 at x = 0 (as PyTorch does)."""

    reads_in_backward = ()

    def forward(self, x):
        self.sign = xp_of(x).sign(x)
        return xp_of(x).abs(x)

    def backward(self, grad):
        return grad * constant(self.sign)


class Maximum(Function):
    """y = max(a, b) elementwise;  dL/da = g where a > b, dL/db = g where b > a, and g/2 to each on a tie.

    Splitting ties evenly is PyTorch's choice too: it is the average of the two one-sided derivatives.
    """

    reads_in_backward = ()

    def forward(self, a, b):
        y = _binary_forward("maximum", xp_of(a).maximum, a, b)
        xp = xp_of(y)
        self.share_a = xp.where(a > b, 1.0, xp.where(a == b, 0.5, 0.0)).astype(y.dtype)
        return y

    def backward(self, grad):
        a, b = self.inputs
        share_a = constant(self.share_a)
        return (sum_to(grad * share_a, a.shape) if self.needs_input_grad[0] else None,
                sum_to(grad * (1 - share_a), b.shape) if self.needs_input_grad[1] else None)


class Where(Function):
    """y = a where `condition` holds, else b;  dL/da = g where it holds, dL/db = g elsewhere (0 in the rest).

    The gradient is routed with `where` itself, not multiplied by a 0/1 mask, so an infinite gradient of
    the branch not taken stays out (inf * 0 would be NaN).
    """

    reads_in_backward = ()

    def forward(self, a, b, condition):
        self.condition = condition
        try:
            return xp_of(a).where(condition, a, b)
        except ValueError as error:
            raise ValueError(f"where: condition {condition.shape}, input {a.shape} and other {b.shape} cannot be "
                             f"broadcast together") from error

    def backward(self, grad):
        a, b = self.inputs
        zero = as_tensor(0.0, like=grad)
        return (sum_to(Where.apply(grad, zero, condition=self.condition), a.shape) if self.needs_input_grad[0] else None,
                sum_to(Where.apply(zero, grad, condition=self.condition), b.shape) if self.needs_input_grad[1] else None)


def abs(x):
    """|x| elementwise."""
    return Abs.apply(x)


def maximum(a, b):
    """The larger of a and b, elementwise (broadcasting), like torch.maximum."""
    return Maximum.apply(*_operands(a, b))


def minimum(a, b):
    """The smaller of a and b, elementwise: min(a, b) = -max(-a, -b)."""
    a, b = _operands(a, b)
    return -maximum(-a, -b)


def _condition_array(op_name, condition):
    """A boolean condition (Tensor or array) as a boolean array."""
    array = condition.array if isinstance(condition, Tensor) else condition
    if getattr(array, "dtype", None) is None or array.dtype.kind != "b":
        raise TypeError(f"{op_name}: the condition must be a boolean tensor (e.g. x > 0), got "
                        f"{getattr(array, 'dtype', type(array).__name__)}")
    return array


def where(condition, input, other):
    """input where `condition` is True, else other (broadcasting), like torch.where(condition, input, other)."""
    a, b = _operands(input, other)
    return Where.apply(a, b, condition=_condition_array("where", condition))


def masked_fill(x, mask, value):
    """x with `value` wherever the boolean `mask` is True, like torch.Tensor.masked_fill."""
    try:
        fits = np.broadcast_shapes(tuple(x.shape), tuple(mask.shape)) == tuple(x.shape)
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"masked_fill: mask of shape {tuple(mask.shape)} does not broadcast to the input's shape "
                         f"{tuple(x.shape)}")
    return where(mask, as_tensor(float(value), like=x), x)
