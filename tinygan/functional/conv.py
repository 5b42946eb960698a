"""Convolution as im2col plus one matrix product, and transposed convolution as its adjoint.

This is the reference: the code a learner reads beside docs/formulas.md. The fast twins that
run by default (tinygan/kernels/conv.py, chosen by kernels.twin) compute the same numbers in
another memory layout; `tinygan.use_kernels("reference")` runs this code instead.

Notation, used verbatim in the code below:
    N   batch size             C   input channels        O   output channels
    H W input height, width    KH KW kernel size         SH SW stride
    PH PW padding              DH DW dilation            OH OW output height, width

im2col copies every receptive field of the zero-padded input into one column,
so that the convolution becomes one matrix product (GEMM) per image:

    cols[n, (c, kh, kw), (oh, ow)] = x_pad[n, c, oh*SH + kh*DH, ow*SW + kw*DW]
    y[n, o, (oh, ow)] = sum over (c, kh, kw) of w[o, (c, kh, kw)] * cols[n, (c, kh, kw), (oh, ow)] + b[o]

The copy goes kernel tap by kernel tap: tap (kh, kw) meets the input at rows
kh*DH, kh*DH + SH, ... and columns kw*DW, kw*DW + SW, ..., one per output pixel.

col2im is the adjoint of im2col: it adds each of the KH*KW taps' slices back at
the place it was read from (overlapping windows add up), then cuts the padding off.

Transposed convolution is the adjoint of convolution with the same weight:
<conv2d(z, w), x> = <z, conv_transpose2d(x, w)>. So the input gradient of one
is the forward of the other, and both share the weight gradient below.
"""
import numbers

from .. import kernels
from ..autograd import Function
from ._util import xp_of
from .shape import as_batch_of_one, concat, getitem, pad_widths


def pair(value, name, op):
    """An int (a Python or NumPy integer) or a pair of them, as a pair of Python ints."""
    def is_int(v):
        return isinstance(v, numbers.Integral) and not isinstance(v, bool)
    values = (value, value) if is_int(value) else tuple(value) if isinstance(value, (tuple, list)) else ()
    if len(values) != 2 or not all(is_int(v) for v in values):
        raise TypeError(f"{op}: {name} must be an int or a pair of ints, got {value!r}")
    return tuple(int(v) for v in values)


def conv_output_size(size, kernel, stride=1, padding=0, dilation=1):
    """OH = floor((H + 2 PH - DH (KH - 1) - 1) / SH) + 1."""
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1  # [formula: conv-output-size]


def conv_transpose_output_size(size, kernel, stride=1, padding=0, output_padding=0, dilation=1):
    """OH = (H - 1) SH - 2 PH + DH (KH - 1) + output_padding + 1, the inverse of conv_output_size."""
    return (size - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1  # [formula: conv-transpose-output-size]


class ConvGeometry:
    """Kernel, stride, padding and dilation of one convolution, checked once, with the sizes they imply."""

    def __init__(self, op, kernel, stride, padding, dilation):
        self.KH, self.KW = pair(kernel, "kernel_size", op)
        self.SH, self.SW = pair(stride, "stride", op)
        self.PH, self.PW = pair(padding, "padding", op)
        self.DH, self.DW = pair(dilation, "dilation", op)
        if min(self.SH, self.SW) < 1:
            raise ValueError(f"{op}: stride must be >= 1, got {(self.SH, self.SW)}")
        if min(self.PH, self.PW) < 0:
            raise ValueError(f"{op}: padding must be >= 0, got {(self.PH, self.PW)}")
        if min(self.DH, self.DW) < 1:
            raise ValueError(f"{op}: dilation must be >= 1, got {(self.DH, self.DW)}")
        if min(self.KH, self.KW) < 1:
            raise ValueError(f"{op}: kernel size must be >= 1, got {(self.KH, self.KW)}")
        self.op = op

    def output_hw(self, H, W):
        """(OH, OW) of a convolution over an H x W input; an error if the kernel does not fit."""
        OH = conv_output_size(H, self.KH, self.SH, self.PH, self.DH)
        OW = conv_output_size(W, self.KW, self.SW, self.PW, self.DW)
        if OH < 1 or OW < 1:
            raise ValueError(
                f"{self.op}: input of size {(H, W)} (padded to {(H + 2 * self.PH, W + 2 * self.PW)}) is smaller than "
                f"the kernel {(self.KH, self.KW)} with dilation {(self.DH, self.DW)}")
        return OH, OW


def _check_conv_inputs(op, x, weight, bias, in_axis, out_axis, groups=1, layout="(N, C, H, W)", unbatched=False):
    """Clear errors for the mistakes people make when calling a convolution (of an input in `layout`, or without
    its batch axis when `unbatched`).

    With groups G, the weight's channel axes hold one group's channels: C / G of them on the
    input side of conv2d's (O, C/G, KH, KW), O / G on the output side of conv_transpose2d's (C, O/G, KH, KW).
    """
    dims = layout.count(",") + 1
    if x.ndim != dims:
        also = f" or {dims - 1}-D {layout.replace('N, ', '')}" if unbatched else ""
        raise ValueError(f"{op}: input must be {dims}-D {layout}{also}, got shape {x.shape}")
    if weight.ndim != dims:
        raise ValueError(f"{op}: weight must be {dims}-D, got shape {weight.shape}")
    if not (isinstance(groups, numbers.Integral) and groups >= 1):
        raise ValueError(f"{op}: groups must be a positive int, got {groups!r}")
    if weight.shape[0] % groups:
        raise ValueError(f"{op}: weight's first axis ({weight.shape[0]}, weight shape {weight.shape}) cannot be "
                         f"split into groups={groups}")
    in_channels = weight.shape[in_axis] * (groups if in_axis == 1 else 1)
    out_channels = weight.shape[out_axis] * (groups if out_axis == 1 else 1)
    if x.shape[1] != in_channels:
        per_group = f"{weight.shape[1]} per group, groups={groups}; " if groups > 1 and in_axis == 1 else ""
        raise ValueError(f"{op}: input has {x.shape[1]} channels but weight expects {in_channels} "
                         f"({per_group}weight shape {weight.shape})")
    if bias is not None and bias.shape != (out_channels,):
        raise ValueError(f"{op}: bias must have shape ({out_channels},), got {bias.shape}")


def _by_groups(groups, x, weight, bias, convolve):
    """Grouped convolution: group g convolves its C/G input channels with its slice of the weight
    (and bias), and the groups' outputs are joined along the channels. One group: convolve(x, weight, bias)."""
    if groups == 1:
        return convolve(x, weight, bias)
    C, K = x.shape[1] // groups, weight.shape[0] // groups       # input channels, weight rows per group
    B = None if bias is None else bias.shape[0] // groups        # outputs per group
    outputs = []
    for g in range(groups):
        x_g = getitem(x, (slice(None), slice(g * C, (g + 1) * C)))
        w_g = getitem(weight, slice(g * K, (g + 1) * K))
        b_g = None if bias is None else getitem(bias, slice(g * B, (g + 1) * B))
        outputs.append(convolve(x_g, w_g, b_g))
    return concat(outputs, axis=1)


def _same_padding(x, weight, stride, dilation):
    """(x, padding) for padding='same': output size = input size, for stride 1 only (as PyTorch).

    Each axis needs DH (KH - 1) zeros in all; an odd total puts the extra zero after (bottom, right).
    """
    if pair(stride, "stride", "conv2d") != (1, 1):
        raise ValueError(f"conv2d: padding='same' is not supported for strided convolutions (stride={stride!r})")
    totals = [d * (k - 1) for d, k in zip(pair(dilation, "dilation", "conv2d"), weight.shape[2:])]
    if any(total % 2 for total in totals):
        x = pad_widths(x, ((0, 0), (0, 0)) + tuple((0, total % 2) for total in totals))
    return x, tuple(total // 2 for total in totals)


# -- the reference computation -----------------------------------------------------------------

def _tap_slices(geometry, kh, kw, OH, OW):
    """The rows and the columns of the padded input that kernel tap (kh, kw) meets, one per output pixel."""
    SH, SW = geometry.SH, geometry.SW
    top, left = kh * geometry.DH, kw * geometry.DW           # where output (0, 0) meets this tap
    return slice(top, top + SH * (OH - 1) + 1, SH), slice(left, left + SW * (OW - 1) + 1, SW)


def unfold(x, geometry):
    """im2col: (N, C, H, W) -> cols (N, C*KH*KW, OH*OW), column (oh, ow) holding one receptive field."""
    N, C, H, W = x.shape
    KH, KW, PH, PW = geometry.KH, geometry.KW, geometry.PH, geometry.PW
    OH, OW = geometry.output_hw(H, W)
    xp = xp_of(x)
    padded = xp.pad(x, ((0, 0), (0, 0), (PH, PH), (PW, PW)))
    cols = xp.empty((N, C, KH, KW, OH, OW), dtype=x.dtype)
    for kh in range(KH):
        for kw in range(KW):
            heights, widths = _tap_slices(geometry, kh, kw, OH, OW)
            cols[:, :, kh, kw] = padded[:, :, heights, widths]
    return cols.reshape(N, C * KH * KW, OH * OW)                           # [formula: im2col]


def fold(cols, x_shape, geometry):
    """col2im, the adjoint of unfold: cols (N, C*KH*KW, OH*OW) -> (N, C, H, W), overlaps added."""
    N, C, H, W = x_shape
    KH, KW, PH, PW = geometry.KH, geometry.KW, geometry.PH, geometry.PW
    OH, OW = geometry.output_hw(H, W)
    xp = xp_of(cols)
    taps = cols.reshape(N, C, KH, KW, OH, OW)
    padded = xp.zeros((N, C, H + 2 * PH, W + 2 * PW), dtype=cols.dtype)
    for kh in range(KH):
        for kw in range(KW):
            heights, widths = _tap_slices(geometry, kh, kw, OH, OW)
            padded[:, :, heights, widths] += taps[:, :, kh, kw]             # [formula: col2im]
    return padded[:, :, PH:PH + H, PW:PW + W]


# -- the differentiable operations ----------------------------------------------------------------
# conv2d and conv_transpose2d run these Functions, or their fast twins (tinygan/kernels/conv.py), as
# kernels.twin chooses; the twins take the same arguments and give the same numbers.

class Conv2d(Function):
    """y = w * x + b (cross-correlation, as in PyTorch): y[n] = W_mat cols[n] + b, with W_mat the weight
    as an (O, C*KH*KW) matrix and cols = im2col(x).

    dL/dx = conv_transpose2d(dL/dy, w);  dL/dw = the product of dL/dy with the columns of x;
    dL/db = sum of dL/dy over N, OH, OW.
    """

    reads_in_backward = ("factors",)

    inputs_share_dtype = True

    def forward(self, x, weight, bias=None, geometry=None):
        N, O = x.shape[0], weight.shape[0]
        OH, OW = geometry.output_hw(*x.shape[2:])
        self.geometry = geometry
        self.cols = unfold(x, geometry)                                         # kept for dL/dw
        y = (weight.reshape(O, -1) @ self.cols).reshape(N, O, OH, OW)          # [formula: conv2d]
        if bias is not None:
            y = y + bias.reshape(1, O, 1, 1)
        return y

    def backward(self, grad):
        x, weight = self.inputs[:2]
        geometry = self.geometry
        grad_x = grad_w = grad_b = None
        if self.needs_input_grad[1]:
            grad_w = Conv2dWeightGrad.apply(x, grad, geometry=geometry, weight_shape=weight.shape, cols=self.cols)
        if self.needs_input_grad[0]:
            grad_x = ConvTranspose2d.apply(grad, weight, geometry=geometry, output_hw=x.shape[2:])  # [formula: conv2d-grad-input]
        if len(self.inputs) == 3 and self.needs_input_grad[2]:
            grad_b = grad.sum(axis=(0, 2, 3))
        return grad_x, grad_w, grad_b


class Conv2dWeightGrad(Function):
    """dL/dw[o, c, kh, kw] = sum over (n, oh, ow) of dL/dy[n, o, oh, ow] * cols[n, (c, kh, kw), (oh, ow)].

    A Function of its own, bilinear in (x, dL/dy), so that gradient penalties can
    differentiate through it: <G, wgrad(x, gy)> = <gy, conv2d(x, G)> = <x, conv_transpose2d(gy, G)>.
    cols are x's columns: those the forward kept, or made again.
    """

    reads_in_backward = ("factors",)

    inputs_share_dtype = True

    def forward(self, x, grad_y, geometry=None, weight_shape=None, cols=None):
        self.geometry = geometry
        cols = unfold(x, geometry) if cols is None else cols
        N, O, OH, OW = grad_y.shape
        grad_w = xp_of(cols).tensordot(grad_y.reshape(N, O, OH * OW), cols, axes=([0, 2], [0, 2]))  # [formula: conv2d-grad-weight]
        return grad_w.reshape(weight_shape)

    def backward(self, grad):
        x, grad_y = self.inputs
        grad_x = grad_gy = None
        if self.needs_input_grad[0]:
            grad_x = ConvTranspose2d.apply(grad_y, grad, geometry=self.geometry, output_hw=x.shape[2:])
        if self.needs_input_grad[1]:
            grad_gy = Conv2d.apply(x, grad, geometry=self.geometry)
        return grad_x, grad_gy


class ConvTranspose2d(Function):
    """y = conv_transpose2d(x, w) + b: the adjoint of conv2d with weight w (shape (C_in, C_out, KH, KW)).

    Each input pixel scatters a weighted copy of the kernel into the output:
    cols = W_mat^T x (a GEMM, one column per input pixel), then col2im adds the columns into place.
    dL/dx = conv2d(dL/dy, w);  dL/dw = the conv2d weight gradient with the roles of x and dL/dy swapped.
    """

    reads_in_backward = ("factors",)

    inputs_share_dtype = True

    def forward(self, x, weight, bias=None, geometry=None, output_hw=None):
        N, Cin, H, W = x.shape
        Cout = weight.shape[1]
        self.geometry = geometry
        cols = weight.reshape(Cin, -1).T @ x.reshape(N, Cin, H * W)            # (N, Cout*KH*KW, H*W)
        y = fold(cols, (N, Cout) + tuple(output_hw), geometry)                 # [formula: conv-transpose2d]
        if bias is not None:
            y = y + bias.reshape(1, Cout, 1, 1)
        return y

    def backward(self, grad):
        x, weight = self.inputs[:2]
        grad_x = grad_w = grad_b = None
        if self.needs_input_grad[0]:
            grad_x = Conv2d.apply(grad, weight, geometry=self.geometry)
        if self.needs_input_grad[1]:
            grad_w = Conv2dWeightGrad.apply(grad, x, geometry=self.geometry, weight_shape=weight.shape)
        if len(self.inputs) == 3 and self.needs_input_grad[2]:
            grad_b = grad.sum(axis=(0, 2, 3))
        return grad_x, grad_w, grad_b


class Im2Col(Function):
    """cols = im2col(x): (N, C, H, W) -> (N, C*KH*KW, OH*OW), the layout of torch.nn.functional.unfold."""

    reads_in_backward = ()

    def forward(self, x, geometry=None):
        self.geometry = geometry
        return kernels.twin("im2col", unfold)(x, geometry)

    def backward(self, grad):
        return Col2Im.apply(grad, geometry=self.geometry, x_shape=self.inputs[0].shape)


class Col2Im(Function):
    """x = col2im(cols): the adjoint of im2col, adding overlapping patches (torch.nn.functional.fold)."""

    reads_in_backward = ()

    def forward(self, cols, geometry=None, x_shape=None):
        self.geometry = geometry
        N, C, H, W = x_shape
        OH, OW = geometry.output_hw(H, W)
        if cols.shape != (N, C * geometry.KH * geometry.KW, OH * OW):
            raise ValueError(f"col2im: columns of shape {cols.shape} do not fit output {tuple(x_shape)}; expected "
                             f"{(N, C * geometry.KH * geometry.KW, OH * OW)}")
        return kernels.twin("col2im", fold)(cols, x_shape, geometry)

    def backward(self, grad):
        return Im2Col.apply(grad, geometry=self.geometry)


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution of x (N, C, H, W), or (C, H, W) without a batch, with weight (O, C/groups, KH, KW), like
    torch.nn.functional.conv2d.

    padding is an int, a pair, 'valid' (no padding) or 'same' (output size = input size, stride 1).
    """
    if x.ndim == 3:
        return as_batch_of_one(conv2d, x, weight, bias, stride, padding, dilation, groups)
    _check_conv_inputs("conv2d", x, weight, bias, in_axis=1, out_axis=0, groups=groups, unbatched=True)
    if isinstance(padding, str):
        if padding not in ("valid", "same"):
            raise ValueError(f"conv2d: padding must be an int, a pair, 'valid' or 'same', got {padding!r}")
        x, padding = _same_padding(x, weight, stride, dilation) if padding == "same" else (x, 0)
    geometry = ConvGeometry("conv2d", weight.shape[2:], stride, padding, dilation)
    geometry.output_hw(*x.shape[2:])

    convolution = kernels.twin("conv2d", Conv2d.apply)

    def convolve(x, weight, bias):
        inputs = (x, weight) if bias is None else (x, weight, bias)
        return convolution(*inputs, geometry=geometry)
    return _by_groups(groups, x, weight, bias, convolve)


def single(value, name, op):
    """An int (a Python or NumPy integer) or a 1-tuple of one, as a Python int."""
    if isinstance(value, (tuple, list)) and len(value) == 1:
        value = value[0]
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        raise TypeError(f"{op}: {name} must be an int or a 1-tuple of an int, got {value!r}")
    return int(value)


def conv1d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D convolution of x (N, C, L), or (C, L) without a batch, with weight (O, C/groups, K), like
    torch.nn.functional.conv1d: conv2d of a height-1 image (N, C, 1, L) with a height-1 kernel (O, C/groups, 1, K).

    Output length floor((L + 2 padding - dilation (K - 1) - 1) / stride) + 1; padding is an int, a 1-tuple,
    'valid' (no padding) or 'same' (output length = input length, stride 1).
    """
    if x.ndim not in (2, 3):
        raise ValueError(f"conv1d: input must be 3-D (N, C, L) or 2-D (C, L), got shape {tuple(x.shape)}")
    if weight.ndim != 3:
        raise ValueError(f"conv1d: weight must be 3-D (out, in/groups, K), got shape {tuple(weight.shape)}")
    if not isinstance(padding, str):
        padding = (0, single(padding, "padding", "conv1d"))
    elif padding not in ("valid", "same"):
        raise ValueError(f"conv1d: padding must be an int, a 1-tuple, 'valid' or 'same', got {padding!r}")
    stride, dilation = single(stride, "stride", "conv1d"), single(dilation, "dilation", "conv1d")
    if padding == "same" and stride != 1:
        raise ValueError(f"conv1d: padding='same' is not supported for strided convolutions (stride={stride})")
    batched = x if x.ndim == 3 else x.reshape((1,) + tuple(x.shape))
    _check_conv_inputs("conv1d", batched, weight, bias, in_axis=1, out_axis=0, groups=groups, layout="(N, C, L)")
    N, C, L = batched.shape
    y = conv2d(batched.reshape(N, C, 1, L), weight.reshape(weight.shape[:2] + (1, weight.shape[2])), bias,  # [formula: conv1d]
               stride=(1, stride), padding=padding, dilation=(1, dilation), groups=groups)
    y = y.reshape(N, y.shape[1], y.shape[3])
    return y if x.ndim == 3 else y.reshape(y.shape[1:])


def conv_transpose2d(x, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """Transposed 2-D convolution of x (N, C_in, H, W), or (C_in, H, W) without a batch, with weight
    (C_in, C_out/groups, KH, KW).

    Output size (H - 1) SH - 2 PH + DH (KH - 1) + output_padding + 1, as in PyTorch.
    """
    if x.ndim == 3:
        return as_batch_of_one(conv_transpose2d, x, weight, bias, stride, padding, output_padding, groups, dilation)
    _check_conv_inputs("conv_transpose2d", x, weight, bias, in_axis=0, out_axis=1, groups=groups, unbatched=True)
    geometry = ConvGeometry("conv_transpose2d", weight.shape[2:], stride, padding, dilation)
    OPH, OPW = pair(output_padding, "output_padding", "conv_transpose2d")
    if not (0 <= OPH < geometry.SH and 0 <= OPW < geometry.SW):
        raise ValueError(f"conv_transpose2d: output_padding {(OPH, OPW)} must be >= 0 and smaller than "
                         f"the stride {(geometry.SH, geometry.SW)}")
    H, W = x.shape[2:]
    output_hw = (conv_transpose_output_size(H, geometry.KH, geometry.SH, geometry.PH, OPH, geometry.DH),
                 conv_transpose_output_size(W, geometry.KW, geometry.SW, geometry.PW, OPW, geometry.DW))
    if min(output_hw) < 1:
        raise ValueError(f"conv_transpose2d: the output size {output_hw} is not positive for input {(H, W)}")
    convolution = kernels.twin("conv_transpose2d", ConvTranspose2d.apply)

    def convolve(x, weight, bias):
        inputs = (x, weight) if bias is None else (x, weight, bias)
        return convolution(*inputs, geometry=geometry, output_hw=output_hw)
    return _by_groups(groups, x, weight, bias, convolve)


def conv_transpose1d(x, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """Transposed 1-D convolution of x (N, C_in, L), or (C_in, L) without a batch, with weight (C_in, C_out/groups, K),
    like torch.nn.functional.conv_transpose1d: conv_transpose2d of a height-1 image with a height-1 kernel.

    Output length (L - 1) stride - 2 padding + dilation (K - 1) + output_padding + 1.
    """
    op = "conv_transpose1d"
    if x.ndim not in (2, 3):
        raise ValueError(f"{op}: input must be 3-D (N, C_in, L) or 2-D (C_in, L), got shape {tuple(x.shape)}")
    batched = x if x.ndim == 3 else x.reshape((1,) + tuple(x.shape))
    _check_conv_inputs(op, batched, weight, bias, in_axis=0, out_axis=1, groups=groups, layout="(N, C, L)")
    stride, padding = single(stride, "stride", op), single(padding, "padding", op)
    output_padding, dilation = single(output_padding, "output_padding", op), single(dilation, "dilation", op)
    if min(stride, dilation) < 1 or padding < 0:
        raise ValueError(f"{op}: stride and dilation must be >= 1 and padding >= 0, got stride={stride}, "
                         f"padding={padding}, dilation={dilation}")
    if not 0 <= output_padding < stride:
        raise ValueError(f"{op}: output_padding {output_padding} must be >= 0 and smaller than the stride {stride}")
    N, C, L = batched.shape
    K = weight.shape[2]
    length = conv_transpose_output_size(L, K, stride, padding, output_padding, dilation)
    if length < 1:
        raise ValueError(f"{op}: the output length {length} is not positive for input length {L} (kernel {K}, "
                         f"stride {stride}, padding {padding}, dilation {dilation})")
    y = conv_transpose2d(batched.reshape(N, C, 1, L), weight.reshape(weight.shape[:2] + (1, K)), bias,
                         stride=(1, stride), padding=(0, padding), output_padding=(0, output_padding), groups=groups,
                         dilation=(1, dilation))
    y = y.reshape(N, y.shape[1], y.shape[3])
    return y if x.ndim == 3 else y.reshape(y.shape[1:])


def im2col(x, kernel_size, stride=1, padding=0, dilation=1):
    """The columns of x: (N, C, H, W) -> (N, C*KH*KW, OH*OW), like torch.nn.functional.unfold."""
    if x.ndim != 4:
        raise ValueError(f"im2col: input must be 4-D (N, C, H, W), got shape {x.shape}")
    geometry = ConvGeometry("im2col", kernel_size, stride, padding, dilation)
    geometry.output_hw(*x.shape[2:])
    return Im2Col.apply(x, geometry=geometry)


def col2im(cols, output_size, kernel_size, stride=1, padding=0, dilation=1):
    """Add columns (N, C*KH*KW, OH*OW) back into an image (N, C, H, W); the adjoint of im2col.

    output_size is (N, C, H, W), or (H, W) with N and C read from the columns, or one int for H = W (as in
    torch.nn.functional.fold).
    """
    geometry = ConvGeometry("col2im", kernel_size, stride, padding, dilation)
    if isinstance(output_size, numbers.Integral):
        output_size = (output_size, output_size)
    if len(output_size) == 2:
        N, CKK = cols.shape[:2]
        output_size = (N, CKK // (geometry.KH * geometry.KW)) + tuple(output_size)
    return Col2Im.apply(cols, geometry=geometry, x_shape=tuple(output_size))
