"""The fast BatchNorm kernels: the same functions as the reference in tinygan/functional/normalization.py.

On the CPU the images are read as rows of their channel pattern (layout.ChannelPattern), so that every
per-channel step is a pass over long rows instead of NumPy's short broadcasting loops, the per-channel
sums are matrix-vector products (NumPy does those several times faster than a.sum(axis=(0, 2, 3)), whose
reduction strides across the batch for every channel), and the elementwise steps reuse one buffer in
place. On the GPU the elementwise steps are fused CuPy kernels (cupy_fused.py); the sums stay
matrix-vector products there too, because a reduction kernel would stride across a channels-last
activation.
"""
from . import cupy_fused
from .layout import ChannelPattern, channel_sum
from .layout import per_channel as _per_channel


def batch_norm_train_forward(x, gamma, beta, eps, running_mean=None, running_var=None, momentum=0.1):
    """(y, x_hat, inv_std) of training-mode BatchNorm; updates the running statistics in place.

    On the CPU over the rows of the channel pattern: every per-channel step is one pass over long rows, and
    the sums of squares are taken by einsum without writing the squares out.
    """
    if cupy_fused.applies_to(x):
        return _fused_forward(x, gamma, beta, eps, running_mean, running_var, momentum)
    pattern = ChannelPattern.of(x)
    xp, x_rows = pattern.xp, pattern.rows
    m = x_rows.size // pattern.C
    mean = pattern.sum(x_rows) / m
    x_hat = x_rows - pattern.expand(mean)                        # centered, normalised in place below
    var = pattern.sum_of_products(x_hat, x_hat) / m
    inv_std = 1 / xp.sqrt(var + eps)
    x_hat *= pattern.expand(inv_std)
    if running_mean is not None:
        running_mean *= 1 - momentum
        running_mean += momentum * mean
        running_var *= 1 - momentum
        running_var += (momentum * m / (m - 1)) * var
    y_rows, y = pattern.new()
    xp.multiply(x_hat, pattern.expand(gamma), out=y_rows)
    y_rows += pattern.expand(beta)
    return y, pattern.image(x_hat), _per_channel(inv_std, x.ndim)


def _fused_forward(x, gamma, beta, eps, running_mean, running_var, momentum):
    """The forward above on the GPU: sums as products, the elementwise steps as one kernel each."""
    m = x.size // x.shape[1]
    mean = channel_sum(x) / m
    var = channel_sum(cupy_fused.squared_deviation(x, _per_channel(mean, x.ndim))) / m
    inv_std = _per_channel(cupy_fused.inverse_std(var, eps), x.ndim)
    x_hat, y = cupy_fused.batch_norm_normalize(x, _per_channel(mean, x.ndim), inv_std,
                                               _per_channel(gamma, x.ndim), _per_channel(beta, x.ndim))
    if running_mean is not None:
        cupy_fused.update_running_statistics(running_mean, running_var, mean, var, momentum, m)
    return y, x_hat, inv_std


def batch_norm_train_backward(g, x_hat, inv_std, gamma, need_input_grad):
    """(dL/dx or None, dL/dgamma, dL/dbeta) from the closed form, dL/dx built in one buffer.

    dL/dx = (g - sum g / m - x_hat sum(g x_hat) / m) gamma / std: the reference's (m g - ...) gamma / (m std)
    with the 1/m moved onto the per-channel sums, so that it takes four passes over the images, not five.
    On the CPU over the rows of x_hat's channel pattern, g copied into that layout if it is stored otherwise;
    sum(g x_hat) by einsum, without writing g x_hat out.
    """
    m = g.size // g.shape[1]
    if cupy_fused.applies_to(g):
        return _fused_backward(g, x_hat, inv_std, gamma, need_input_grad, m)
    pattern = ChannelPattern.of(x_hat)
    x_hat_rows = pattern.rows
    g_rows = pattern.same_layout(g)
    grad_beta = pattern.sum(g_rows)
    grad_gamma = pattern.sum_of_products(g_rows, x_hat_rows)
    if not need_input_grad:
        return None, grad_gamma, grad_beta
    grad_x = x_hat_rows * pattern.expand(-grad_gamma / m)
    grad_x += g_rows
    grad_x -= pattern.expand(grad_beta / m)
    grad_x *= pattern.expand(gamma * inv_std.reshape(-1))
    return pattern.image(grad_x), grad_gamma, grad_beta


def _fused_backward(g, x_hat, inv_std, gamma, need_input_grad, m):
    """The backward above on the GPU: sums as products, dL/dx as one kernel."""
    grad_beta = channel_sum(g)
    grad_gamma = channel_sum(g * x_hat)
    if not need_input_grad:
        return None, grad_gamma, grad_beta
    grad_x = cupy_fused.batch_norm_grad_input(g, x_hat, _per_channel(gamma, g.ndim), inv_std,
                                              _per_channel(grad_beta, g.ndim), _per_channel(grad_gamma, g.ndim), m)
    return grad_x, grad_gamma, grad_beta
