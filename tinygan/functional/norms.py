"""Layer, group and instance normalisation, and normalize: BatchNorm's x_hat over other sets of values.

All three standardise x over a set S of its values, with the biased variance, then scale and shift:

    x_hat = (x - mean_S x) / sqrt(var_S x + eps),    y = gamma x_hat + beta

and differ only in S, for an input (N, C, H, W):
    layer norm     S = the last dimensions (normalized_shape) of one sample   (Ba et al., 2016)
    group norm     S = one sample's C/G channels of one group, all pixels     (Wu & He, 2018)
    instance norm  S = one sample's one channel, all pixels                   (Ulyanov et al., 2016)
None of them mixes samples, so each behaves the same in training and evaluation (unlike BatchNorm).

They are compositions of differentiable ops: their gradients, and gradients of gradients (for
gradient penalties), come from those ops.
"""
from ..autograd import Tensor
from ._util import as_tensor, xp_of
from .arithmetic import clamp


def standardize(x, axes, eps):
    """(x - mean) / sqrt(var + eps) over `axes`, with the biased variance (divided by the count)."""
    mean = x.mean(axis=axes, keepdims=True)
    centered = x - mean
    var = (centered * centered).mean(axis=axes, keepdims=True)
    return centered * (var + eps) ** -0.5


def _affine(op, x_hat, weight, bias, shape, broadcast_shape):
    """x_hat * weight + bias, each (if given) checked to have `shape` and reshaped to `broadcast_shape`."""
    for name, value in (("weight", weight), ("bias", bias)):
        if value is not None and tuple(value.shape) != tuple(shape):
            raise ValueError(f"{op}: {name} must have shape {tuple(shape)} for an input of shape "
                             f"{tuple(x_hat.shape)}, got {tuple(value.shape)}")
    if weight is not None:
        x_hat = x_hat * as_tensor(weight, like=x_hat).reshape(broadcast_shape)
    if bias is not None:
        x_hat = x_hat + as_tensor(bias, like=x_hat).reshape(broadcast_shape)
    return x_hat


def _count(shape):
    count = 1
    for n in shape:
        count *= n
    return count


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalise each sample over its last len(normalized_shape) dimensions; weight and bias have that shape."""
    if isinstance(normalized_shape, int):
        normalized_shape = (normalized_shape,)
    normalized_shape = tuple(normalized_shape)
    k = len(normalized_shape)
    if k == 0 or input.ndim < k or tuple(input.shape[input.ndim - k:]) != normalized_shape:
        raise ValueError(f"layer_norm: normalized_shape {normalized_shape} must be the last dimensions of the "
                         f"input, got input of shape {tuple(input.shape)}")
    x_hat = standardize(input, tuple(range(input.ndim - k, input.ndim)), eps)  # [formula: layer-norm]
    return _affine("layer_norm", x_hat, weight, bias, normalized_shape, normalized_shape)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Split the C channels of (N, C, *) into num_groups groups and normalise each sample's group;
    weight and bias (C,) scale and shift per channel."""
    if input.ndim < 2:
        raise ValueError(f"group_norm: expected an input of shape (N, C, *), got {tuple(input.shape)}")
    N, C = input.shape[:2]
    if num_groups < 1 or C % num_groups:
        raise ValueError(f"group_norm: the {C} channels of the input (shape {tuple(input.shape)}) cannot be "
                         f"split into num_groups={num_groups} groups of equal size")
    grouped = input.reshape(N, num_groups, -1)                                  # (N, G, C/G * H * W)
    x_hat = standardize(grouped, (2,), eps).reshape(tuple(input.shape))  # [formula: group-norm]
    return _affine("group_norm", x_hat, weight, bias, (C,), (1, C) + (1,) * (input.ndim - 2))


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats=True,
                  momentum=0.1, eps=1e-5):
    """Normalise each channel of each sample of (N, C, *) over its pixels; weight and bias (C,).

    With running statistics (C,) and use_input_stats, they move towards the batch's average of the
    per-instance means and unbiased variances, in place; use_input_stats=False normalises with them.
    """
    if input.ndim < 3:
        raise ValueError(f"instance_norm: expected an input of shape (N, C, *) with at least one spatial "
                         f"dimension, got {tuple(input.shape)}")
    C = input.shape[1]
    for name, value in (("running_mean", running_mean), ("running_var", running_var)):
        if value is not None and tuple(value.shape) != (C,):
            raise ValueError(f"instance_norm: {name} must have shape ({C},) for input {tuple(input.shape)}, "
                             f"got {tuple(value.shape)}")
    channel = (1, C) + (1,) * (input.ndim - 2)
    spatial = tuple(range(2, input.ndim))
    if use_input_stats:
        if _count(input.shape[2:]) < 2:
            raise ValueError(f"instance_norm: expected more than 1 spatial element when training, got input of "
                             f"shape {tuple(input.shape)}")
        x_hat = standardize(input, spatial, eps)  # [formula: instance-norm]
        if running_mean is not None and running_var is not None:
            _update_running_stats(input.array, spatial, running_mean, running_var, momentum)
    else:
        if running_mean is None or running_var is None:
            raise ValueError("instance_norm: use_input_stats=False needs running_mean and running_var")
        mean, var = (Tensor(_array(v).astype(input.dtype)).reshape(channel) for v in (running_mean, running_var))
        x_hat = (input - mean) * (var + eps) ** -0.5
    return _affine("instance_norm", x_hat, weight, bias, (C,), channel)


def _array(value):
    return value.array if isinstance(value, Tensor) else value


def _update_running_stats(x, spatial, running_mean, running_var, momentum):
    """running = (1 - momentum) running + momentum (batch average of the per-instance statistic), in place."""
    count = _count(x.shape[2:])
    mean = x.mean(axis=spatial)                                                 # (N, C)
    unbiased_var = x.var(axis=spatial) * count / (count - 1)
    running_mean, running_var = _array(running_mean), _array(running_var)
    running_mean[...] = (1 - momentum) * running_mean + momentum * mean.mean(axis=0)  # [formula: instance-norm-running-mean]
    running_var[...] = (1 - momentum) * running_var + momentum * unbiased_var.mean(axis=0)  # [formula: instance-norm-running-var]


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """x / max(||x||_p, eps) along `dim`: unit vectors, with eps keeping a zero vector finite."""
    if out is not None:
        raise TypeError("normalize: out= is not supported (tinygan computes out of place); use the result")
    if p <= 0:
        raise ValueError(f"normalize: p must be positive, got {p}")
    magnitude = input * Tensor(xp_of(input.array).sign(input.array))             # |x|, with gradient sign(x)
    if p == float("inf"):
        norm = clamp(magnitude.max(axis=dim, keepdims=True), min=eps)
    else:
        # max(||x||_p, eps) as max(sum |x|^p, eps^p)^(1/p): the root's derivative is infinite at 0, so the sum
        # is clamped before the root, and a zero vector gets a finite gradient (x / eps's), as in PyTorch
        floor = max(eps ** p, float(xp_of(input.array).finfo(input.dtype).tiny))   # eps^p may underflow
        norm = clamp((magnitude ** p).sum(axis=dim, keepdims=True), min=floor) ** (1.0 / p)
    return input / norm  # [formula: normalize]
