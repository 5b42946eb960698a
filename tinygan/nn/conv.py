"""The layers: each holds its Parameters and calls one operation of `tinygan.functional`.

No math lives here: the formulas (and their gradients) are in tinygan/functional/,
the initialisation formulas in tinygan/init.py. Constructor arguments, weight
shapes, default initialisations and reprs follow PyTorch, so a layer here and
its torch.nn twin share a state_dict.
"""
import numbers

from .. import backend
from .. import functional as F
from .. import init
from ..autograd import Tensor
from ..functional.conv import pair as _pair
from ..functional.interpolate import MODES as _INTERPOLATE_MODES
from .module import Module, Parameter


def _new_parameter(*shape):
    """An uninitialised (zero) Parameter of the default dtype on the current backend."""
    return Parameter(backend.xp().zeros(shape, dtype=backend.get_default_dtype()))


def _int(value):
    """A Python int from an int or a NumPy integer (np.prod(shape) is common); None for anything else."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return int(value)
    return None


def _positive_int(value, name, layer):
    """`value` as a Python int, or a clear error if it is not a positive integer."""
    if _int(value) is None or value < 1:
        raise ValueError(f"{layer}: {name} must be a positive int, got {value!r}")
    return int(value)


class Identity(Module):
    """Returns its input unchanged (a placeholder, e.g. for a removed layer)."""

    def forward(self, x):
        return x


class Linear(Module):
    """y = x W^T + b, with weight W of shape (out_features, in_features) and bias b of shape (out_features,).

    Initialised as PyTorch: every value in [-1/sqrt(in_features), 1/sqrt(in_features)]
    (see init.default_init_).
    """

    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        in_features = _positive_int(in_features, "in_features", "Linear")
        out_features = _positive_int(out_features, "out_features", "Linear")
        self.in_features, self.out_features = in_features, out_features
        self.weight = _new_parameter(out_features, in_features)
        if bias:
            self.bias = _new_parameter(out_features)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        init.default_init_(self.weight, self.bias)

    def forward(self, x):
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class _ConvNd(Module):
    """What Conv2d and ConvTranspose2d share: geometry, groups, parameters, initialisation, repr."""

    def __init__(self, name, in_channels, out_channels, kernel_size, stride, padding, dilation, output_padding,
                 groups, bias, padding_mode, weight_shape, device=None, dtype=None):
        super().__init__()
        in_channels = _positive_int(in_channels, "in_channels", name)
        out_channels = _positive_int(out_channels, "out_channels", name)
        self.groups = _positive_int(groups, "groups", name)
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"{name}: in_channels ({in_channels}) and out_channels ({out_channels}) must both be "
                             f"divisible by groups ({groups})")
        if padding_mode != "zeros":
            raise ValueError(f"{name}: only padding_mode='zeros' is implemented, got {padding_mode!r}")
        self.in_channels, self.out_channels, self.padding_mode = in_channels, out_channels, padding_mode
        self.kernel_size = _pair(kernel_size, "kernel_size", name)
        self.stride = _pair(stride, "stride", name)
        self.padding = padding if isinstance(padding, str) else _pair(padding, "padding", name)
        self.dilation = _pair(dilation, "dilation", name)
        self.output_padding = _pair(output_padding, "output_padding", name)
        if min(self.kernel_size) < 1 or min(self.stride) < 1 or min(self.dilation) < 1:
            raise ValueError(f"{name}: kernel_size, stride and dilation must be >= 1, got kernel_size="
                             f"{self.kernel_size}, stride={self.stride}, dilation={self.dilation}")
        if not isinstance(self.padding, str) and min(self.padding) < 0:
            raise ValueError(f"{name}: padding must be >= 0, got {self.padding}")
        self.weight = _new_parameter(*weight_shape(in_channels, out_channels, self.kernel_size))
        if bias:
            self.bias = _new_parameter(out_channels)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()
        if device is not None or dtype is not None:
            self.to(device, dtype)

    def reset_parameters(self):
        init.default_init_(self.weight, self.bias)

    def extra_repr(self):
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}")
        if self.padding != (0, 0):
            s += f", padding={self.padding}"
        if self.dilation != (1, 1):
            s += f", dilation={self.dilation}"
        if self.output_padding != (0, 0):
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        return s


class Conv2d(_ConvNd):
    """2-D convolution (cross-correlation) of an (N, C, H, W) input; weight (out, in/groups, KH, KW), bias (out,).

    Output size OH = floor((H + 2 padding - dilation (KH - 1) - 1) / stride) + 1; padding='same' keeps
    the input size (stride 1), padding='valid' is no padding. With groups G, each of G groups of
    in/G input channels makes out/G output channels.
    Initialised as PyTorch: values in [-1/sqrt(fan_in), 1/sqrt(fan_in)], fan_in = in/groups * KH * KW.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True,
                 padding_mode="zeros", device=None, dtype=None):
        if isinstance(padding, str) and padding not in ("same", "valid"):
            raise ValueError(f"Conv2d: padding must be an int, a pair, 'valid' or 'same', got {padding!r}")
        if padding == "same" and _pair(stride, "stride", "Conv2d") != (1, 1):
            raise ValueError(f"Conv2d: padding='same' is not supported for strided convolutions (stride={stride!r})")
        super().__init__("Conv2d", in_channels, out_channels, kernel_size, stride, padding, dilation, 0, groups, bias,
                         padding_mode, lambda i, o, k: (o, i // groups) + k, device, dtype)

    def forward(self, x):
        return F.conv2d(x, self.weight, self.bias, stride=self.stride, padding=self.padding, dilation=self.dilation,
                        groups=self.groups)


class ConvTranspose2d(_ConvNd):
    """Transposed 2-D convolution (the adjoint of Conv2d): weight (in, out/groups, KH, KW), bias (out,).

    Output size OH = (H - 1) stride - 2 padding + dilation (KH - 1) + output_padding + 1.
    Initialised as PyTorch, whose fan_in for this weight comes from its dimension 1:
    fan_in = out * KH * KW.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1,
                 bias=True, dilation=1, padding_mode="zeros", device=None, dtype=None):
        if isinstance(padding, str):
            raise ValueError(f"ConvTranspose2d: padding must be an int or a pair, got {padding!r} "
                             "(PyTorch has no 'same' or 'valid' for it either)")
        super().__init__("ConvTranspose2d", in_channels, out_channels, kernel_size, stride, padding, dilation,
                         output_padding, groups, bias, padding_mode, lambda i, o, k: (i, o // groups) + k, device, dtype)
        if not all(0 <= p < s for p, s in zip(self.output_padding, self.stride)):
            raise ValueError(f"ConvTranspose2d: output_padding {self.output_padding} must be >= 0 and smaller "
                             f"than the stride {self.stride}")

    def forward(self, x):
        return F.conv_transpose2d(x, self.weight, self.bias, stride=self.stride, padding=self.padding,
                                  output_padding=self.output_padding, groups=self.groups, dilation=self.dilation)


class _BatchNorm(Module):
    """Batch normalisation (Ioffe & Szegedy, 2015) with PyTorch's parameters, buffers and defaults.

    Training: normalise with the batch's mean and biased variance, and move the
    running statistics towards the batch's (unbiased variance):
        running = (1 - momentum) running + momentum batch
    (momentum=None: a cumulative average, momentum = 1 / num_batches_tracked).
    Evaluation (`eval()`): normalise with the running statistics.
    weight (gamma) starts at ones, bias (beta) at zeros, running_mean at zeros,
    running_var at ones.
    """

    _ranks = ()
    _shapes = ""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True):
        super().__init__()
        num_features = _positive_int(num_features, "num_features", type(self).__name__)
        if momentum is not None and not 0 <= momentum <= 1:
            raise ValueError(f"{type(self).__name__}: momentum must be in [0, 1] or None, got {momentum}")
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        xp, dtype = backend.xp(), backend.get_default_dtype()
        if affine:
            self.weight = Parameter(xp.ones(num_features, dtype=dtype))
            self.bias = Parameter(xp.zeros(num_features, dtype=dtype))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", xp.zeros(num_features, dtype=dtype))
            self.register_buffer("running_var", xp.ones(num_features, dtype=dtype))
            self.register_buffer("num_batches_tracked", xp.zeros((), dtype="int64"))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self):
        if self.track_running_stats:
            init.zeros_(self.running_mean)
            init.ones_(self.running_var)
            self.num_batches_tracked.data[...] = 0

    def _check_input(self, x):
        name = f"{type(self).__name__}({self.num_features})"
        if x.ndim not in self._ranks:
            raise ValueError(f"{name}: expected a {' or '.join(f'{r}-D' for r in self._ranks)} input "
                             f"{self._shapes}, got shape {tuple(x.shape)}")
        if x.shape[1] != self.num_features:
            raise ValueError(f"{name}: input has {x.shape[1]} channels (shape {tuple(x.shape)}) but the layer "
                             f"was built for {self.num_features}")

    def forward(self, x):
        self._check_input(x)
        momentum = self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked.data += 1
            if momentum is None:
                momentum = 1.0 / int(self.num_batches_tracked.data)
        use_batch_stats = self.training or not self.track_running_stats
        if self.affine:
            weight, bias = self.weight, self.bias
        else:
            xp = backend.get_array_module(x.data)
            weight = Tensor(xp.ones(self.num_features, dtype=x.dtype))
            bias = Tensor(xp.zeros(self.num_features, dtype=x.dtype))
        shape = tuple(x.shape)
        if x.ndim == 3:  # (N, C, L) is normalised over N and L, like an image of height L and width 1
            x = x.reshape(shape + (1,))
        y = F.batch_norm(x, self.running_mean, self.running_var, weight, bias, training=use_batch_stats,
                         momentum=momentum if momentum is not None else 0.0, eps=self.eps)
        return y.reshape(shape) if len(shape) == 3 else y

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of (N, C) or (N, C, L) inputs, per feature C. See _BatchNorm."""

    _ranks = (2, 3)
    _shapes = "(N, C) or (N, C, L)"


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of (N, C, H, W) inputs, per channel C. See _BatchNorm."""

    _ranks = (4,)
    _shapes = "(N, C, H, W)"


class Dropout(Module):
    """In training, zero each value with probability p and scale the rest by 1/(1-p); in eval, the identity.

    inplace is accepted for PyTorch's signature; tinygan computes out of place (nn/activations.py).
    """

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if not 0 <= p < 1:
            raise ValueError(f"Dropout: p must be in [0, 1), got {p}")
        self.p, self.inplace = p, inplace

    def forward(self, x):
        return F.dropout(x, self.p, self.training)

    def extra_repr(self):
        return f"p={self.p}" + (", inplace=True" if self.inplace else "")


class ReLU(Module):
    """relu(x) = max(x, 0). inplace is accepted and ignored: tinygan computes out of place (nn/activations.py)."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, x):
        return F.relu(x)

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class LeakyReLU(Module):
    """leaky_relu(x) = x if x > 0 else negative_slope * x (DCGAN's discriminator uses 0.2).

    inplace is accepted and ignored: tinygan computes out of place (nn/activations.py).
    """

    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace

    def forward(self, x):
        return F.leaky_relu(x, self.negative_slope)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class Sigmoid(Module):
    """sigmoid(x) = 1 / (1 + exp(-x))."""

    def forward(self, x):
        return F.sigmoid(x)


class Tanh(Module):
    """tanh(x), values in (-1, 1): the usual last layer of an image generator."""

    def forward(self, x):
        return F.tanh(x)


class Flatten(Module):
    """Merge dimensions start_dim..end_dim into one: (N, C, H, W) -> (N, C*H*W) by default."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x):
        start, end = self.start_dim % x.ndim, self.end_dim % x.ndim
        if end == x.ndim - 1:
            return F.flatten(x, start)
        if start > end:
            raise ValueError(f"Flatten: start_dim {self.start_dim} comes after end_dim {self.end_dim} "
                             f"for an input of shape {tuple(x.shape)}")
        return F.reshape(x, tuple(x.shape[:start]) + (-1,) + tuple(x.shape[end + 1:]))

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split dimension `dim` into `unflattened_size`: Unflatten(1, (64, 7, 7)) turns (N, 3136) into (N, 64, 7, 7)."""

    def __init__(self, dim, unflattened_size):
        super().__init__()
        self.dim, self.unflattened_size = dim, tuple(unflattened_size)

    def forward(self, x):
        dim = self.dim % x.ndim
        size = 1
        for n in self.unflattened_size:
            size *= n
        if -1 not in self.unflattened_size and size != x.shape[dim]:
            raise ValueError(f"Unflatten: dimension {self.dim} of the input (shape {tuple(x.shape)}) has size "
                             f"{x.shape[dim]}, which cannot be split into {self.unflattened_size}")
        return F.reshape(x, tuple(x.shape[:dim]) + self.unflattened_size + tuple(x.shape[dim + 1:]))

    def extra_repr(self):
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


class Embedding(Module):
    """A lookup table: integer indices (e.g. class labels) -> rows of weight (num_embeddings, embedding_dim).

    Initialised from N(0, 1), as in PyTorch.
    """

    def __init__(self, num_embeddings, embedding_dim):
        super().__init__()
        num_embeddings = _positive_int(num_embeddings, "num_embeddings", "Embedding")
        embedding_dim = _positive_int(embedding_dim, "embedding_dim", "Embedding")
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.weight = _new_parameter(num_embeddings, embedding_dim)
        self.reset_parameters()

    def reset_parameters(self):
        init.normal_(self.weight)

    def forward(self, indices):
        return F.embedding(indices, self.weight)

    def extra_repr(self):
        return f"{self.num_embeddings}, {self.embedding_dim}"


class Upsample(Module):
    """Resize images to `size` or by `scale_factor` (mode 'nearest' or 'bilinear'): F.interpolate as a layer."""

    def __init__(self, size=None, scale_factor=None, mode="nearest", align_corners=None, recompute_scale_factor=None):
        super().__init__()
        if (size is None) == (scale_factor is None):
            raise ValueError(f"Upsample: give exactly one of size and scale_factor, got size={size!r}, "
                             f"scale_factor={scale_factor!r}")
        if mode not in _INTERPOLATE_MODES:
            raise ValueError(f"Upsample: mode must be one of {_INTERPOLATE_MODES}, got mode={mode!r}")
        self.size, self.mode, self.align_corners = size, mode, align_corners
        self.scale_factor = (tuple(float(f) for f in scale_factor) if isinstance(scale_factor, (tuple, list))
                             else float(scale_factor) if scale_factor is not None else None)
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, x):
        return F.interpolate(x, self.size, self.scale_factor, self.mode, self.align_corners,
                             self.recompute_scale_factor)

    def extra_repr(self):
        what = f"scale_factor={self.scale_factor!r}" if self.size is None else f"size={self.size!r}"
        return f"{what}, mode={self.mode!r}"


class MaxPool2d(Module):
    """The maximum of each kernel_size window (stride defaults to kernel_size), as F.max_pool2d."""

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False):
        super().__init__()
        self.kernel_size, self.stride = kernel_size, kernel_size if stride is None else stride
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def forward(self, x):
        return F.max_pool2d(x, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
                            self.return_indices)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class AvgPool2d(Module):
    """The mean of each kernel_size window (stride defaults to kernel_size), as F.avg_pool2d."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                 divisor_override=None):
        super().__init__()
        self.kernel_size, self.stride = kernel_size, kernel_size if stride is None else stride
        self.padding, self.ceil_mode = padding, ceil_mode
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override

    def forward(self, x):
        return F.avg_pool2d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad,
                            self.divisor_override)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool2d(Module):
    """Average pooling to a fixed output size, whatever the input's: AdaptiveAvgPool2d(1) is global pooling."""

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, x):
        return F.adaptive_avg_pool2d(x, self.output_size)

    def extra_repr(self):
        return f"output_size={self.output_size}"
