"""The fast softmax: the twin of functional.softmax.softmax, one op that keeps its output for the backward.

The reference computes e^{x - logsumexp(x)} from a chain of ops (max, subtract, exp, sum, log, add, subtract,
exp), and its backward goes back through every one of them. For rows along the softmax's axis,

    y = e^{x - m} / sum_j e^{x_j - m}   (m the row's maximum, so nothing overflows)
    dL/dx = y (g - sum_j g_j y_j)        (g = dL/dy)

take five passes forward (the row maxima among them) and four backward, over one buffer each, with the row
sums as matrix-vector products (NumPy's sum along a short last axis, as attention's 53 keys, is several times
slower). Under create_graph the backward is the caller's backward_in_ops, the same formula in tinygan ops.
"""
from ..autograd import Function, Tensor, is_grad_enabled
from .layout import from_rows, row_sums, rows_along, xp_of


def softmax(input, dim, backward_in_ops=None):
    """softmax(input) along `dim` as one op; backward_in_ops(x, grad, dim) is dL/dx in tinygan ops."""
    return Softmax.apply(input, dim=dim, backward_in_ops=backward_in_ops)


class Softmax(Function):
    """y = softmax(x) along `dim`;  dL/dx = y (g - sum(g y)) along `dim`."""

    def forward(self, x, dim=-1, backward_in_ops=None):
        self.dim, self.backward_in_ops = dim, backward_in_ops
        rows = rows_along(x, dim)
        y = rows - rows.max(axis=1, keepdims=True)
        xp_of(x).exp(y, out=y)
        y /= row_sums(y)[:, None]
        self.y = y                                              # the rows of the output, kept for the backward
        return from_rows(y, x.shape, dim)

    def backward(self, grad):
        x = self.inputs[0]
        if is_grad_enabled():
            return (self.backward_in_ops(x, grad, self.dim),)
        grad_x = rows_along(grad.array, self.dim) * self.y       # g y
        grad_x -= self.y * row_sums(grad_x)[:, None]              # g y - y sum(g y)
        return (Tensor(from_rows(grad_x, x.shape, self.dim)),)
