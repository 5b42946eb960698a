"""Conv1d, Conv2d, ConvTranspose1d and ConvTranspose2d with PyTorch's arguments, weight shapes and
initialisation; the convolutions and their gradients are F.conv2d's and F.conv_transpose2d's
(tinygan.functional), the 1-d ones (F.conv1d, F.conv_transpose1d) running them on a height-1 image.
padding_mode 'reflect', 'replicate' or 'circular' pads with F.pad in that mode and convolves without padding.
"""
from .. import functional as F
from . import init
from ..functional.conv import pair as _pair
from ..functional.conv import single as _single
from .module import Module, _new_parameter, _positive_int

PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


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
        if padding_mode not in PADDING_MODES:
            raise ValueError(f"{name}: padding_mode must be one of {PADDING_MODES}, got {padding_mode!r}")
        if padding_mode != "zeros" and name.startswith("ConvTranspose"):
            raise ValueError(f"{name}: only padding_mode='zeros' is implemented, got {padding_mode!r} (as in PyTorch)")
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

    @property
    def _reversed_padding_repeated_twice(self):
        """The padding as F.pad's tuple, last axis first: (left, right, top, bottom) for 2-D, (left, right) for 1-D.

        padding='same' pads d (k - 1) in all, the smaller half `floor(d (k - 1) / 2)` before, as F.conv2d does.
        PyTorch's name, kept for code that reads it.
        """
        if self.padding == "valid":
            return (0, 0) * len(self.kernel_size)
        if self.padding == "same":
            totals = [d * (k - 1) for d, k in zip(self.dilation, self.kernel_size)]
            return tuple(width for total in reversed(totals) for width in (total // 2, total - total // 2))
        return tuple(p for p in reversed(self.padding) for _ in range(2))

    def _padded(self, x):
        """x padded in padding_mode for a convolution without padding; x itself for padding_mode='zeros'."""
        if self.padding_mode == "zeros":
            return x
        return F.pad(x, self._reversed_padding_repeated_twice, mode=self.padding_mode)

    def _conv_padding(self):
        """The padding the convolution itself adds: none when _padded has padded in padding_mode."""
        return self.padding if self.padding_mode == "zeros" else 0

    def extra_repr(self):
        zeros, ones = (0,) * len(self.kernel_size), (1,) * len(self.kernel_size)   # (0, 0) for 2-D, (0,) for 1-D
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}")
        if self.padding != zeros:
            s += f", padding={self.padding}"
        if self.dilation != ones:
            s += f", dilation={self.dilation}"
        if self.output_padding != zeros:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class Conv2d(_ConvNd):
    """2-D convolution (cross-correlation) of an (N, C, H, W) input; weight (out, in/groups, KH, KW), bias (out,).

    Output size OH = floor((H + 2 padding - dilation (KH - 1) - 1) / stride) + 1; padding='same' keeps
    the input size (stride 1), padding='valid' is no padding. With groups G, each of G groups of
    in/G input channels makes out/G output channels. padding_mode says what the padding holds: 'zeros',
    or the input's mirror image ('reflect'), edge values ('replicate') or wrap-around ('circular').
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
        return F.conv2d(self._padded(x), self.weight, self.bias, stride=self.stride, padding=self._conv_padding(),
                        dilation=self.dilation, groups=self.groups)


class Conv1d(_ConvNd):
    """1-D convolution (cross-correlation) of an (N, C, L) input; weight (out, in/groups, K), bias (out,).

    Output length floor((L + 2 padding - dilation (K - 1) - 1) / stride) + 1; padding='same' keeps the
    length (stride 1), padding='valid' is no padding. F.conv1d computes it as conv2d on a height-1 image.
    padding_mode is 'zeros', 'reflect', 'replicate' or 'circular', as for Conv2d.
    Initialised as PyTorch: values in [-1/sqrt(fan_in), 1/sqrt(fan_in)], fan_in = in/groups * K.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True,
                 padding_mode="zeros", device=None, dtype=None):
        kernel_size, stride = _single(kernel_size, "kernel_size", "Conv1d"), _single(stride, "stride", "Conv1d")
        dilation = _single(dilation, "dilation", "Conv1d")
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"Conv1d: padding must be an int, a 1-tuple, 'valid' or 'same', got {padding!r}")
            if padding == "same" and stride != 1:
                raise ValueError(f"Conv1d: padding='same' is not supported for strided convolutions (stride={stride})")
        else:
            padding = _single(padding, "padding", "Conv1d")
        super().__init__("Conv1d", in_channels, out_channels, (1, kernel_size), (1, stride),
                         padding if isinstance(padding, str) else (0, padding), (1, dilation), 0, groups, bias,
                         padding_mode, lambda i, o, k: (o, i // groups, k[1]), device, dtype)
        self.kernel_size, self.stride, self.dilation = (kernel_size,), (stride,), (dilation,)
        self.padding = padding if isinstance(padding, str) else (padding,)
        self.output_padding = (0,)

    def forward(self, x):
        return F.conv1d(self._padded(x), self.weight, self.bias, stride=self.stride, padding=self._conv_padding(),
                        dilation=self.dilation, groups=self.groups)


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


class ConvTranspose1d(_ConvNd):
    """Transposed 1-D convolution (the adjoint of Conv1d) of an (N, C, L) input: weight (in, out/groups, K),
    bias (out,).

    Output length (L - 1) stride - 2 padding + dilation (K - 1) + output_padding + 1; F.conv_transpose1d computes
    it as conv_transpose2d on a height-1 image. Initialised as PyTorch, whose fan_in for this weight comes from
    its dimension 1: fan_in = out/groups * K.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1,
                 bias=True, dilation=1, padding_mode="zeros", device=None, dtype=None):
        if isinstance(padding, str):
            raise ValueError(f"ConvTranspose1d: padding must be an int or a 1-tuple, got {padding!r} "
                             "(PyTorch has no 'same' or 'valid' for it either)")
        name = "ConvTranspose1d"
        kernel_size, stride = _single(kernel_size, "kernel_size", name), _single(stride, "stride", name)
        padding, dilation = _single(padding, "padding", name), _single(dilation, "dilation", name)
        output_padding = _single(output_padding, "output_padding", name)
        super().__init__(name, in_channels, out_channels, (1, kernel_size), (1, stride), (0, padding), (1, dilation),
                         (0, output_padding), groups, bias, padding_mode, lambda i, o, k: (i, o // groups, k[1]),
                         device, dtype)
        if not 0 <= output_padding < stride:
            raise ValueError(f"{name}: output_padding {output_padding} must be >= 0 and smaller than the stride "
                             f"{stride}")
        self.kernel_size, self.stride, self.padding = (kernel_size,), (stride,), (padding,)
        self.dilation, self.output_padding = (dilation,), (output_padding,)

    def forward(self, x):
        return F.conv_transpose1d(x, self.weight, self.bias, stride=self.stride, padding=self.padding,
                                  output_padding=self.output_padding, groups=self.groups, dilation=self.dilation)
