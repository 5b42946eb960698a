"""Normalisation layers that do not mix samples: LayerNorm, GroupNorm, InstanceNorm1d and 2d, RMSNorm, with
PyTorch's names, parameters (weight ones, bias zeros), buffers and defaults. The formulas live in
tinygan/functional/norms.py.
"""
import warnings

from .. import backend
from .. import functional as F
from .module import Module, Parameter


def _affine_parameters(module, shape, affine, bias=True):
    """weight (ones) and bias (zeros, unless bias=False) of `shape` when affine, else both registered as None."""
    xp, dtype = backend.xp(), backend.get_default_dtype()
    if affine:
        module.weight = Parameter(xp.ones(shape, dtype=dtype))
    else:
        module.register_parameter("weight", None)
    if affine and bias:
        module.bias = Parameter(xp.zeros(shape, dtype=dtype))
    else:
        module.register_parameter("bias", None)


class LayerNorm(Module):
    """Normalise each sample over its last dimensions, `normalized_shape` (Ba et al., 2016); with
    elementwise_affine, a learnt weight and bias of that shape."""

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True):
        super().__init__()
        if isinstance(normalized_shape, int):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(int(n) for n in normalized_shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        _affine_parameters(self, self.normalized_shape, elementwise_affine, bias)

    def forward(self, input):
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
                f"bias={self.bias is not None}")


class GroupNorm(Module):
    """Normalise each sample's channels in num_groups groups (Wu & He, 2018); with affine, a learnt weight
    and bias per channel (num_channels,)."""

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, *, bias=True):
        super().__init__()
        if num_groups < 1 or num_channels % num_groups:
            raise ValueError(f"GroupNorm: num_channels ({num_channels}) must be divisible by num_groups "
                             f"({num_groups})")
        self.num_groups, self.num_channels, self.eps, self.affine = num_groups, num_channels, eps, affine
        _affine_parameters(self, (num_channels,), affine, bias)

    def forward(self, input):
        if input.ndim < 2 or input.shape[1] != self.num_channels:
            raise ValueError(f"GroupNorm({self.num_groups}, {self.num_channels}): expected an input (N, "
                             f"{self.num_channels}, *), got shape {tuple(input.shape)}")
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
                f"bias={self.bias is not None}")


class _InstanceNorm(Module):
    """Normalise each channel of each sample over its `spatial_dims` trailing dimensions (Ulyanov et al., 2016),
    batched (N, C, *) or not (C, *).

    As in PyTorch, affine=False and track_running_stats=False by default: no parameters, and the same
    normalisation in training and evaluation. With track_running_stats, training updates running_mean
    and running_var and evaluation uses them.
    """

    spatial_dims = None          # 1 for InstanceNorm1d, 2 for InstanceNorm2d
    layouts = None               # the unbatched and batched layouts, for the error message

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=False, track_running_stats=False, *, bias=True):
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        _affine_parameters(self, (num_features,), affine, bias)
        if track_running_stats:
            xp, dtype = backend.xp(), backend.get_default_dtype()
            self.register_buffer("running_mean", xp.zeros(num_features, dtype=dtype))
            self.register_buffer("running_var", xp.ones(num_features, dtype=dtype))
            self.register_buffer("num_batches_tracked", xp.zeros((), dtype="int64"))
        else:
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                self.register_buffer(name, None)

    def forward(self, input):
        name, k = type(self).__name__, self.spatial_dims
        if input.ndim not in (k + 1, k + 2):
            raise ValueError(f"{name}: expected a {k + 1}-D {self.layouts[0]} or {k + 2}-D {self.layouts[1]} input, "
                             f"got shape {tuple(input.shape)}")
        unbatched = input.ndim == k + 1
        x = input.reshape((1,) + tuple(input.shape)) if unbatched else input
        if x.shape[1] != self.num_features:
            message = (f"{name}: expected input's size at dim={0 if unbatched else 1} to match "
                       f"num_features ({self.num_features}), but got: {x.shape[1]} (input shape {tuple(input.shape)})")
            if self.affine:
                raise ValueError(message)
            warnings.warn(message + "; it is used anyway, since affine=False", UserWarning, stacklevel=2)
        y = F.instance_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                            use_input_stats=self.training or not self.track_running_stats,
                            momentum=self.momentum if self.momentum is not None else 0.0, eps=self.eps)
        return y.reshape(tuple(input.shape)) if unbatched else y

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}")


class InstanceNorm1d(_InstanceNorm):
    """Normalise each channel of each sequence over its length, for (N, C, L) or (C, L) inputs (see _InstanceNorm)."""

    spatial_dims, layouts = 1, ("(C, L)", "(N, C, L)")


class InstanceNorm2d(_InstanceNorm):
    """Normalise each channel of each image over its pixels, for (N, C, H, W) or (C, H, W) inputs (see
    _InstanceNorm)."""

    spatial_dims, layouts = 2, ("(C, H, W)", "(N, C, H, W)")


class RMSNorm(Module):
    """Divide each sample by the root mean square of its last dimensions, `normalized_shape` (Zhang & Sennrich,
    2019); with elementwise_affine, a learnt weight (ones) of that shape. eps=None is the input dtype's machine
    epsilon, as in PyTorch."""

    def __init__(self, normalized_shape, eps=None, elementwise_affine=True):
        super().__init__()
        if isinstance(normalized_shape, int):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(int(n) for n in normalized_shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(backend.xp().ones(self.normalized_shape, dtype=backend.get_default_dtype()))
        else:
            self.register_parameter("weight", None)

    def forward(self, input):
        return F.rms_norm(input, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self):
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"
