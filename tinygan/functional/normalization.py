"""Batch normalisation (Ioffe & Szegedy, 2015) with its closed-form backward.

For each channel, over the m values of the batch (and of every pixel, in 2-D):

    mu = (1/m) sum x,   var = (1/m) sum (x - mu)^2        (the biased variance)
    x_hat = (x - mu) / sqrt(var + eps),   y = gamma x_hat + beta

and in training the running statistics move towards the batch's, with the
*unbiased* variance, as PyTorch does:

    running_mean = (1 - momentum) running_mean + momentum mu
    running_var  = (1 - momentum) running_var  + momentum var m / (m - 1)

The backward pass collapses the whole chain into one formula (the paper's
section 3, simplified), instead of a graph of a dozen elementwise nodes:

    dL/dx = gamma / (m sqrt(var + eps)) (m g - sum g - x_hat sum(g x_hat))

This file is the reference; the fast twins of its two array functions, which run by default
(tinygan/kernels/batch_norm.py, chosen by kernels.twin), compute the same numbers with fewer passes
over memory.
"""
from .. import kernels
from ..autograd import Function, Tensor, is_grad_enabled
from ._util import xp_of


def _channel_axes(x):
    """Axes averaged over: (0,) for (N, C), (0, 2, 3) for (N, C, H, W)."""
    if x.ndim not in (2, 4):
        raise ValueError(f"batch_norm: input must be (N, C) or (N, C, H, W), got shape {x.shape}")
    return (0,) if x.ndim == 2 else (0, 2, 3)


def _per_channel(v, ndim):
    """A (C,) vector shaped to broadcast against (N, C) or (N, C, H, W)."""
    return v.reshape((1, -1) + (1,) * (ndim - 2))


# -- the reference computation -----------------------------------------------------------------
# tinygan/kernels/batch_norm.py has the same two functions, with the same arguments and results.

def batch_norm_train_forward(x, gamma, beta, eps, running_mean=None, running_var=None, momentum=0.1):
    """(y, x_hat, inv_std) of training-mode BatchNorm; updates the running statistics in place."""
    axes = _channel_axes(x)
    m = x.size // x.shape[1]
    mean = x.mean(axis=axes)                                                   # [formula: batchnorm-mean]
    centered = x - _per_channel(mean, x.ndim)
    var = (centered * centered).mean(axis=axes)                                # [formula: batchnorm-var]
    inv_std = _per_channel(1 / xp_of(x).sqrt(var + eps), x.ndim)
    x_hat = centered * inv_std                                                 # [formula: batchnorm-normalize]
    y = _per_channel(gamma, x.ndim) * x_hat + _per_channel(beta, x.ndim)       # [formula: batchnorm-affine]
    if running_mean is not None:                                               # the buffers change in place
        running_mean[...] = (1 - momentum) * running_mean + momentum * mean    # [formula: batchnorm-running-mean]
        running_var[...] = (1 - momentum) * running_var + momentum * var * m / (m - 1)  # [formula: batchnorm-running-var]
    return y, x_hat, inv_std


def batch_norm_train_backward(g, x_hat, inv_std, gamma, need_input_grad):
    """(dL/dx or None, dL/dgamma, dL/dbeta) from the closed form, g = dL/dy."""
    axes = _channel_axes(g)
    m = g.size // g.shape[1]
    grad_beta = g.sum(axis=axes)                                               # [formula: batchnorm-grad-beta]
    grad_gamma = (g * x_hat).sum(axis=axes)                                    # [formula: batchnorm-grad-gamma]
    if not need_input_grad:
        return None, grad_gamma, grad_beta
    grad_x = (_per_channel(gamma, g.ndim) * inv_std / m
              * (m * g - _per_channel(grad_beta, g.ndim) - x_hat * _per_channel(grad_gamma, g.ndim)))  # [formula: batchnorm-grad-input]
    return grad_x, grad_gamma, grad_beta


class BatchNormTrain(Function):
    """Batch normalisation with batch statistics; updates the running statistics in place."""

    inputs_share_dtype = True

    def forward(self, x, gamma, beta, running_mean=None, running_var=None, momentum=0.1, eps=1e-5):
        if x.size // x.shape[1] < 2:
            raise ValueError(f"batch_norm: training needs more than one value per channel, got input shape {x.shape}")
        self.eps = eps
        forward = kernels.twin("batch_norm_train_forward", batch_norm_train_forward)
        y, self.x_hat, self.inv_std = forward(x, gamma, beta, eps, running_mean, running_var, momentum)
        return y

    def backward(self, grad):
        if is_grad_enabled():
            return self._differentiable_backward(grad)
        backward = kernels.twin("batch_norm_train_backward", batch_norm_train_backward)
        grad_x, grad_gamma, grad_beta = backward(grad.array, self.x_hat, self.inv_std, self.inputs[1].array,
                                                 self.needs_input_grad[0])
        return (Tensor(grad_x) if grad_x is not None else None,
                Tensor(grad_gamma) if self.needs_input_grad[1] else None,
                Tensor(grad_beta) if self.needs_input_grad[2] else None)

    def _differentiable_backward(self, grad):
        """The same closed form written with tinygan's ops (create_graph=True): its own gradient is exact.

        x_hat and 1/std are recomputed from x as ops, so that the second derivative sees how they depend on x.
        """
        x, gamma = self.inputs[:2]
        axes = _channel_axes(x)
        m = x.numel() // x.shape[1]
        shape = (1, -1) + (1,) * (x.ndim - 2)
        centered = x - x.mean(axis=axes, keepdims=True)
        inv_std = ((centered * centered).mean(axis=axes, keepdims=True) + self.eps) ** -0.5
        x_hat = centered * inv_std
        grad_beta = grad.sum(axis=axes, keepdims=True)
        grad_gamma = (grad * x_hat).sum(axis=axes, keepdims=True)
        grad_x = gamma.reshape(shape) * inv_std / m * (m * grad - grad_beta - x_hat * grad_gamma)
        return (grad_x if self.needs_input_grad[0] else None,
                grad_gamma.reshape(-1) if self.needs_input_grad[1] else None,
                grad_beta.reshape(-1) if self.needs_input_grad[2] else None)


def batch_norm_composite(x, gamma, beta, axes, eps):
    """The same normalisation as a chain of elementary ops (used for gradients of gradients)."""
    mean = x.mean(axis=axes, keepdims=True)
    centered = x - mean
    var = (centered * centered).mean(axis=axes, keepdims=True)
    shape = (1, -1) + (1,) * (x.ndim - 2)
    return centered / (var + eps) ** 0.5 * gamma.reshape(shape) + beta.reshape(shape)


def batch_norm(x, running_mean, running_var, weight, bias, training=True, momentum=0.1, eps=1e-5):
    """Normalise x per channel, like torch.nn.functional.batch_norm.

    running_mean, running_var -- (C,) arrays (or Tensors), updated in place when training
    weight, bias              -- gamma and beta, (C,) Tensors
    """
    _channel_axes(x)  # checks the input's rank
    C = x.shape[1]
    for name, value in (("weight", weight), ("bias", bias), ("running_mean", running_mean), ("running_var", running_var)):
        if value is not None and tuple(value.shape) != (C,):
            raise ValueError(f"batch_norm: {name} must have shape ({C},) for input {x.shape}, got {tuple(value.shape)}")
    running_mean = running_mean.array if isinstance(running_mean, Tensor) else running_mean
    running_var = running_var.array if isinstance(running_var, Tensor) else running_var
    if training:
        return BatchNormTrain.apply(x, weight, bias, running_mean=running_mean, running_var=running_var,
                                    momentum=momentum, eps=eps)
    # Evaluation: fixed statistics make this an affine map; the ordinary ops differentiate it.
    shape = (1, C) + (1,) * (x.ndim - 2)
    inv_std = Tensor((1 / xp_of(running_var).sqrt(running_var + eps)).astype(x.dtype))
    scale = weight * inv_std
    shift = bias - Tensor(running_mean.astype(x.dtype)) * scale
    return x * scale.reshape(shape) + shift.reshape(shape)       # [formula: batchnorm-eval]
