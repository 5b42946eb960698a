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
"""
from ..autograd import Function, Tensor, grad as autograd_grad, is_grad_enabled
from ..kernels import cupy_fused
from ._util import is_channels_last, xp_of


def _channel_axes(x):
    """Axes averaged over: (0,) for (N, C), (0, 2, 3) for (N, C, H, W)."""
    if x.ndim not in (2, 4):
        raise ValueError(f"batch_norm: input must be (N, C) or (N, C, H, W), got shape {x.shape}")
    return (0,) if x.ndim == 2 else (0, 2, 3)


def _per_channel(v, ndim):
    """A (C,) vector shaped to broadcast against (N, C) or (N, C, H, W)."""
    return v.reshape((1, -1) + (1,) * (ndim - 2))


def _channel_sum(a):
    """Sum over every axis but the channels (axis 1): (N, C) or (N, C, H, W) -> (C,).

    For images it runs as a matrix-vector product over the H*W pixels, then a sum
    over N: NumPy does that several times faster than a.sum(axis=(0, 2, 3)), whose
    reduction strides across the batch for every channel.
    """
    if a.ndim == 2:
        return a.sum(axis=0)
    N, C = a.shape[:2]
    if is_channels_last(a):                  # a convolution's output: one row of C numbers per pixel
        return xp_of(a).ones(N * a.shape[2] * a.shape[3], dtype=a.dtype) @ a.transpose(0, 2, 3, 1).reshape(-1, C)
    pixels = xp_of(a).ones(a.size // (N * C), dtype=a.dtype)
    return (a.reshape(N, C, -1) @ pixels).sum(axis=0)


class BatchNormTrain(Function):
    """Batch normalisation with batch statistics; updates the running statistics in place."""

    def forward(self, x, gamma, beta, running_mean=None, running_var=None, momentum=0.1, eps=1e-5):
        xp = xp_of(x)
        self.axes = _channel_axes(x)
        m = x.size // x.shape[1]
        if m < 2:
            raise ValueError(f"batch_norm: training needs more than one value per channel, got input shape {x.shape}")
        self.eps = eps
        if cupy_fused.applies_to(x):
            return self._fused_forward(x, gamma, beta, running_mean, running_var, momentum, m)
        mean = _channel_sum(x) / m                                   # [formula: batchnorm-mean]
        centered = x - _per_channel(mean, x.ndim)
        var = _channel_sum(centered * centered) / m                  # [formula: batchnorm-var]
        inv_std = 1 / xp.sqrt(var + eps)
        self.inv_std = _per_channel(inv_std, x.ndim)
        self.x_hat = centered
        self.x_hat *= self.inv_std                                   # [formula: batchnorm-normalize]
        if running_mean is not None:
            running_mean *= 1 - momentum                             # [formula: batchnorm-running-mean]
            running_mean += momentum * mean
            running_var *= 1 - momentum                              # [formula: batchnorm-running-var]
            running_var += (momentum * m / (m - 1)) * var
        y = self.x_hat * _per_channel(gamma, x.ndim)
        y += _per_channel(beta, x.ndim)                               # [formula: batchnorm-affine]
        return y

    def _fused_forward(self, x, gamma, beta, running_mean, running_var, momentum, m):
        """The forward above with its elementwise steps fused into CuPy kernels (tinygan/kernels/cupy_fused.py)."""
        mean = _channel_sum(x) / m
        var = _channel_sum(cupy_fused.squared_deviation(x, _per_channel(mean, x.ndim))) / m
        self.inv_std = _per_channel(cupy_fused.inverse_std(var, self.eps), x.ndim)
        self.x_hat, y = cupy_fused.batch_norm_normalize(x, _per_channel(mean, x.ndim), self.inv_std,
                                                        _per_channel(gamma, x.ndim), _per_channel(beta, x.ndim))
        if running_mean is not None:
            cupy_fused.update_running_statistics(running_mean, running_var, mean, var, momentum, m)
        return y

    def backward(self, grad):
        x, gamma, beta = self.inputs
        if is_grad_enabled():
            # create_graph=True: differentiate the composite form, so gradients of gradients are exact.
            y = batch_norm_composite(x, gamma, beta, self.axes, self.eps)
            wanted = [t for t, need in zip(self.inputs, self.needs_input_grad) if need]
            grads = iter(autograd_grad(y, wanted, grad_outputs=grad, create_graph=True, allow_unused=True))
            return tuple(next(grads) if need else None for need in self.needs_input_grad)
        return self._closed_form_backward(grad)

    def _closed_form_backward(self, grad):
        g, x_hat = grad.data, self.x_hat
        m = g.size // g.shape[1]
        if cupy_fused.applies_to(g):
            return self._fused_backward(g, m)
        grad_beta = _channel_sum(g)                                  # [formula: batchnorm-grad-beta]
        grad_gamma = _channel_sum(g * x_hat)                         # [formula: batchnorm-grad-gamma]
        grad_x = None
        if self.needs_input_grad[0]:
            gamma = _per_channel(self.inputs[1].data, g.ndim)
            scale = gamma * self.inv_std / m
            # scale (m g - sum g - x_hat sum(g x_hat)), built in place: each step reuses one buffer
            grad_x = x_hat * _per_channel(-grad_gamma, g.ndim)
            grad_x += m * g
            grad_x -= _per_channel(grad_beta, g.ndim)
            grad_x *= scale                                          # [formula: batchnorm-grad-input]
        return (Tensor(grad_x) if grad_x is not None else None,
                Tensor(grad_gamma) if self.needs_input_grad[1] else None,
                Tensor(grad_beta) if self.needs_input_grad[2] else None)

    def _fused_backward(self, g, m):
        """The closed-form backward above with its elementwise steps fused (tinygan/kernels/cupy_fused.py)."""
        grad_beta = _channel_sum(g)
        grad_gamma = _channel_sum(g * self.x_hat)
        grad_x = None
        if self.needs_input_grad[0]:
            grad_x = cupy_fused.batch_norm_grad_input(
                g, self.x_hat, _per_channel(self.inputs[1].data, g.ndim), self.inv_std,
                _per_channel(grad_beta, g.ndim), _per_channel(grad_gamma, g.ndim), m)
        return (Tensor(grad_x) if grad_x is not None else None,
                Tensor(grad_gamma) if self.needs_input_grad[1] else None,
                Tensor(grad_beta) if self.needs_input_grad[2] else None)


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
    running_mean = running_mean.data if isinstance(running_mean, Tensor) else running_mean
    running_var = running_var.data if isinstance(running_var, Tensor) else running_var
    if training:
        return BatchNormTrain.apply(x, weight, bias, running_mean=running_mean, running_var=running_var,
                                    momentum=momentum, eps=eps)
    # Evaluation: fixed statistics make this an affine map; the ordinary ops differentiate it.
    shape = (1, C) + (1,) * (x.ndim - 2)
    inv_std = Tensor((1 / xp_of(running_var).sqrt(running_var + eps)).astype(x.dtype))
    scale = weight * inv_std
    shift = bias - Tensor(running_mean.astype(x.dtype)) * scale
    return x * scale.reshape(shape) + shift.reshape(shape)       # [formula: batchnorm-eval]
