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
from .. import kernels
from ..autograd import Tensor, check_same_float_dtype
from ._util import as_tensor, xp_of
from .arithmetic import clamp, where
from .reduce import max as reduce_max, min as reduce_min, sum as reduce_sum


def standardize(x, axes, eps):
    """(x - mean) / sqrt(var + eps) over `axes`, with the biased variance (divided by the count)."""
    return _standardize_with_inv_std(x, axes, eps)[0]


def _standardize_with_inv_std(x, axes, eps):
    """(x_hat, 1 / sqrt(var + eps)): standardize's result and the factor that scaled the centred x."""
    mean = x.mean(axis=axes, keepdims=True)
    centered = x - mean
    var = (centered * centered).mean(axis=axes, keepdims=True)
    inv_std = (var + eps) ** -0.5
    return centered * inv_std, inv_std


def _check_affine(op, input_shape, weight, bias, shape):
    """Raise a clear error unless weight and bias (where given) have `shape`."""
    for name, value in (("weight", weight), ("bias", bias)):
        if value is not None and tuple(value.shape) != tuple(shape):
            raise ValueError(f"{op}: {name} must have shape {tuple(shape)} for an input of shape "
                             f"{tuple(input_shape)}, got {tuple(value.shape)}")


def _affine(op, x_hat, weight, bias, shape, broadcast_shape):
    """x_hat * weight + bias, each (if given) checked to have `shape` and reshaped to `broadcast_shape`."""
    _check_affine(op, x_hat.shape, weight, bias, shape)
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
    _check_affine("layer_norm", input.shape, weight, bias, normalized_shape)
    weight, bias = (None if t is None else as_tensor(t, like=input) for t in (weight, bias))
    check_same_float_dtype("layer_norm", [t for t in (input, weight, bias) if t is not None])  # as in PyTorch
    return kernels.twin("layer_norm", _layer_norm, backward_in_ops=_layer_norm_backward_in_ops)(
        input, normalized_shape, weight, bias, eps)


def _layer_norm(input, normalized_shape, weight, bias, eps):
    x_hat = standardize(input, _last_axes(input, normalized_shape), eps)  # [formula: layer-norm]
    return _affine("layer_norm", x_hat, weight, bias, normalized_shape, normalized_shape)


def _last_axes(x, normalized_shape):
    return tuple(range(x.ndim - len(normalized_shape), x.ndim))


def _layer_norm_backward_in_ops(x, weight, bias, grad, normalized_shape, eps):
    """The gradients of layer_norm for x, weight and bias (those given), in tinygan ops: the fast twin's
    backward under create_graph, so that it can be differentiated again. Over the normalised axes, with
    x_hat = (x - mean) / std and g = dL/dy:

        dL/dx = (g w - mean(g w) - x_hat mean(g w x_hat)) / std,    dL/dw = sum g x_hat,    dL/db = sum g

    the sums of dL/dw and dL/db running over the other (leading) axes.
    """
    axes = _last_axes(x, normalized_shape)
    leading = tuple(range(x.ndim - len(normalized_shape)))
    x_hat, inv_std = _standardize_with_inv_std(x, axes, eps)
    g_w = grad * weight if weight is not None else grad
    grad_x = (g_w - g_w.mean(axis=axes, keepdims=True)
              - x_hat * (g_w * x_hat).mean(axis=axes, keepdims=True)) * inv_std
    over_leading = (lambda t: t.sum(axis=leading)) if leading else (lambda t: t)
    grads = [grad_x]
    if weight is not None:
        grads.append(over_leading(grad * x_hat))
    if bias is not None:
        grads.append(over_leading(grad))
    return tuple(grads)


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


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """The cosine of the angle between x1 and x2 along `dim`, x1/max(||x1||, eps) . x2/max(||x2||, eps), like
    torch.nn.functional.cosine_similarity (eps keeps a zero vector's similarity 0, with a finite gradient)."""
    unit1, unit2 = normalize(x1, dim=dim, eps=eps), normalize(x2, dim=dim, eps=eps)
    return (unit1 * unit2).sum(axis=dim)  # [formula: cosine-similarity]


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """x / sqrt(mean(x^2) + eps) over the last dimensions, `normalized_shape`, times weight (Zhang & Sennrich,
    2019): layer norm without the centring and the bias. eps=None is the machine epsilon of the input's dtype,
    as in PyTorch."""
    if isinstance(normalized_shape, int):
        normalized_shape = (normalized_shape,)
    normalized_shape = tuple(int(n) for n in normalized_shape)
    k = len(normalized_shape)
    if k == 0 or input.ndim < k or tuple(input.shape[input.ndim - k:]) != normalized_shape:
        raise ValueError(f"rms_norm: normalized_shape {normalized_shape} must be the last dimensions of the "
                         f"input, got input of shape {tuple(input.shape)}")
    _check_affine("rms_norm", input.shape, weight, None, normalized_shape)
    if eps is None:
        eps = float(xp_of(input.array).finfo(input.dtype).eps)
    mean_square = (input * input).mean(axis=_last_axes(input, normalized_shape), keepdims=True)
    y = input * (mean_square + eps) ** -0.5  # [formula: rms-norm]
    return y if weight is None else y * as_tensor(weight, like=y)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """||x1 - x2 + eps||_p along the last dimension, like torch.nn.functional.pairwise_distance: PyTorch adds eps
    to the difference (not to the norm), which keeps the 2-norm's gradient finite where x1 = x2."""
    difference = x1 - x2 + eps  # [formula: pairwise-distance]
    if difference.ndim == 0:
        difference = difference.reshape(1)
    return _vector_norm(difference, float(p), -1, keepdim)


def _vector_norm(x, p, axis, keepdims):
    """(sum |x_i|^p)^(1/p) along `axis`; max |x_i| for p = inf, min |x_i| for p = -inf, the count of non-zero x_i
    for p = 0 (a constant: its gradient is 0). A zero vector has norm 0 and, as in PyTorch, gradient 0, where the
    root's derivative would be infinite."""
    magnitude = x * Tensor(xp_of(x.array).sign(x.array))                    # |x|, with gradient sign(x)
    if p == float("inf"):
        return reduce_max(magnitude, axis=axis, keepdims=keepdims)
    if p == float("-inf"):
        return reduce_min(magnitude, axis=axis, keepdims=keepdims)
    if p == 0:
        return Tensor((x.array != 0).sum(axis=axis, keepdims=keepdims).astype(x.dtype))
    total = reduce_sum(magnitude ** p, axis=axis, keepdims=keepdims)
    positive = total.array > 0
    return where(positive, where(positive, total, 1.0) ** (1.0 / p), 0.0)
