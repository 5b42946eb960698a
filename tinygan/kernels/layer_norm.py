"""The fast layer norm: the twin of functional.norms.layer_norm, one op with its backward in closed form.

The reference standardises with a chain of ops (mean, subtract, square, mean, add, power, multiply) and then
scales and shifts, and its backward goes back through each of them: some twenty passes over the activations.
Over rows x of n values (the normalised dimensions), with x_hat = (x - mean) / std and g = dL/dy,

    y = x_hat w + b
    dL/dw = sum over rows of g x_hat,     dL/db = sum over rows of g
    dL/dx = (g w - mean(g w) - x_hat mean(g w x_hat)) / std

which takes six passes forward and nine backward, every sum a matrix-vector product. Under create_graph the
backward is the caller's backward_in_ops, the same derivatives in tinygan ops.
"""
import math

from ..autograd import Function, Tensor, is_grad_enabled
from .layout import channel_sum, row_sums, xp_of


def layer_norm(input, normalized_shape, weight, bias, eps, backward_in_ops=None):
    """layer_norm(input) over its last len(normalized_shape) axes as one op; weight and bias Tensors or None.
    backward_in_ops(x, weight, bias, grad, normalized_shape, eps) gives the gradients in tinygan ops."""
    affine = tuple(t for t in (weight, bias) if t is not None)
    return LayerNorm.apply(input, *affine, normalized_shape=tuple(normalized_shape), eps=eps,
                           has_weight=weight is not None, has_bias=bias is not None, backward_in_ops=backward_in_ops)


class LayerNorm(Function):
    """y = (x - mean) / sqrt(var + eps) * w + b over the last axes; the gradients in closed form (module docstring)."""

    inputs_share_dtype = True

    def forward(self, x, *affine, normalized_shape=(), eps=1e-5, has_weight=False, has_bias=False,
                backward_in_ops=None):
        xp = xp_of(x)
        self.normalized_shape, self.eps, self.backward_in_ops = normalized_shape, eps, backward_in_ops
        self.has_weight, self.has_bias = has_weight, has_bias
        weight = affine[0].reshape(-1) if has_weight else None
        bias = affine[-1].reshape(-1) if has_bias else None
        n = math.prod(normalized_shape)                            # values in one row
        rows = x.reshape(-1, n)
        x_hat = rows - (row_sums(rows) / x.dtype.type(n))[:, None]  # centred, normalised in place below
        variance = xp.einsum("ij,ij->i", x_hat, x_hat) / x.dtype.type(n)
        self.inv_std = 1 / xp.sqrt(variance + x.dtype.type(eps))
        x_hat *= self.inv_std[:, None]
        self.x_hat = x_hat
        if weight is None and bias is None:
            return x_hat.reshape(x.shape)
        y = x_hat * weight if weight is not None else x_hat.copy()
        if bias is not None:
            y += bias
        return y.reshape(x.shape)

    def backward(self, grad):
        x = self.inputs[0]
        weight = self.inputs[1] if self.has_weight else None
        bias = self.inputs[-1] if self.has_bias else None
        if is_grad_enabled():
            return self.backward_in_ops(x, weight, bias, grad, self.normalized_shape, self.eps)
        n = self.x_hat.shape[1]
        g = grad.array.reshape(self.x_hat.shape)
        g_x_hat = g * self.x_hat
        grads = []
        if self.needs_input_grad[0]:
            w = weight.array.reshape(-1) if weight is not None else None
            g_w = g * w if w is not None else g                                    # dL/dx_hat
            g_w_x_hat = g_x_hat @ w if w is not None else row_sums(g_x_hat)        # sum(g w x_hat) of each row
            grad_x = g_w - (row_sums(g_w) / g.dtype.type(n))[:, None]              # g w - mean(g w)
            grad_x -= self.x_hat * (g_w_x_hat / g.dtype.type(n))[:, None]          # - x_hat mean(g w x_hat)
            grad_x *= self.inv_std[:, None]
            grads.append(Tensor(grad_x.reshape(x.shape)))
        else:
            grads.append(None)
        if weight is not None:
            grads.append(Tensor(channel_sum(g_x_hat).reshape(weight.shape)) if self.needs_input_grad[1] else None)
        if bias is not None:
            grads.append(Tensor(channel_sum(g).reshape(bias.shape)) if self.needs_input_grad[-1] else None)
        return tuple(grads)
