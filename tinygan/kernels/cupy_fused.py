"""Fused CuPy kernels: each does in one launch what the reference code does in several array expressions.

Every function here takes CuPy arrays and returns the same numbers as its reference twin (up to the
rounding of a fused multiply-add), which tests/gpu/test_gpu.py checks against the NumPy path:

    squared_deviation, inverse_std, batch_norm_normalize, update_running_statistics
                           functional/normalization.py  batch_norm_train_forward
    batch_norm_grad_input  functional/normalization.py  batch_norm_train_backward
    adam_update            optim/adam.py                Adam._adam_step

The per-channel sums stay with the caller (layout.channel_sum): there a matrix-vector
product reads a channels-last activation in whole rows, where a reduction kernel would stride.

The kernels are compiled by CuPy on first use (and cached on disk by CuPy), one per dtype.
"""
import functools

from .. import backend


def applies_to(array):
    """Whether `array` is a CuPy array, the only kind these kernels take."""
    return backend.device_of(array) == "gpu"


def _cupy():
    return backend.module_for("cupy")


@functools.cache
def _squared_deviation_kernel():
    return _cupy().ElementwiseKernel("T x, T mean", "T squared", "squared = (x - mean) * (x - mean)",
                                     "tinygan_squared_deviation")


@functools.cache
def _inverse_std_kernel():
    return _cupy().ElementwiseKernel("T var, T eps", "T inv_std", "inv_std = 1 / sqrt(var + eps)",
                                     "tinygan_inverse_std")


@functools.cache
def _normalize_kernel():
    return _cupy().ElementwiseKernel(
        "T x, T mean, T inv_std, T gamma, T beta", "T x_hat, T y",
        "x_hat = (x - mean) * inv_std; y = x_hat * gamma + beta",
        "tinygan_batch_norm_normalize")


@functools.cache
def _running_statistics_kernel():
    return _cupy().ElementwiseKernel(
        "T mean, T var, U keep, U take, U take_unbiased", "U running_mean, U running_var",
        "running_mean = running_mean * keep + take * mean; running_var = running_var * keep + take_unbiased * var",
        "tinygan_batch_norm_running_statistics")


@functools.cache
def _grad_input_kernel():
    return _cupy().ElementwiseKernel(
        "T g, T x_hat, T gamma, T inv_std, T sum_g, T sum_g_x_hat, T m", "T grad_x",
        "grad_x = (x_hat * -sum_g_x_hat + m * g - sum_g) * (gamma * inv_std / m)",
        "tinygan_batch_norm_grad_input")


@functools.cache
def _adam_kernel():
    return _cupy().ElementwiseKernel(
        "T g, T beta1, T one_minus_beta1, T beta2, T one_minus_beta2, T step_size, T sqrt_bias_correction2, T eps",
        "T p, T m, T v",
        """m = m * beta1 + one_minus_beta1 * g;
           v = v * beta2 + one_minus_beta2 * (g * g);
           p -= m / (sqrt(v) / sqrt_bias_correction2 + eps) * step_size""",
        "tinygan_adam_update")


def squared_deviation(x, mean):
    """(x - mean)^2, elementwise, in one launch (mean broadcasts against x)."""
    return _squared_deviation_kernel()(x, mean)


def inverse_std(var, eps):
    """1 / sqrt(var + eps), in one launch."""
    return _inverse_std_kernel()(var, eps)


def batch_norm_normalize(x, mean, inv_std, gamma, beta):
    """x_hat = (x - mean) inv_std and y = gamma x_hat + beta, in one launch; returns (x_hat, y)."""
    return _normalize_kernel()(x, mean, inv_std, gamma, beta)


def update_running_statistics(running_mean, running_var, mean, var, momentum, m):
    """running = (1 - momentum) running + momentum batch (the variance unbiased by m / (m - 1)), in place."""
    _running_statistics_kernel()(mean, var, 1 - momentum, momentum, momentum * m / (m - 1), running_mean, running_var)


def batch_norm_grad_input(g, x_hat, gamma, inv_std, grad_beta, grad_gamma, m):
    """dL/dx = gamma / (m sqrt(var + eps)) (m g - sum g - x_hat sum(g x_hat)), in one launch."""
    return _grad_input_kernel()(g, x_hat, gamma, inv_std, grad_beta, grad_gamma, m)


def adam_update(p, g, m, v, beta1, beta2, step_size, sqrt_bias_correction2, eps):
    """Adam's moment updates and parameter step, in place on p, m and v, in one launch."""
    _adam_kernel()(g, beta1, 1 - beta1, beta2, 1 - beta2, step_size, sqrt_bias_correction2, eps, p, m, v)
