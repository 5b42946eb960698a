"""Convolution as im2col plus one matrix product, and transposed convolution as its adjoint.

Notation, used verbatim in the code below:
    N   batch size             C   input channels        O   output channels
    H W input height, width    KH KW kernel size         SH SW stride
    PH PW padding              DH DW dilation            OH OW output height, width

im2col copies every receptive field of the (padded) input into one column, so
that the convolution becomes a single matrix product (GEMM):

    cols[(c, kh, kw), (n, oh, ow)] = x_pad[n, c, oh*SH + kh*DH, ow*SW + kw*DW]   # [formula: im2col]
    y[n, o, oh, ow] = sum over (c, kh, kw) of w[o, c, kh, kw] * cols[...] + b[o]

The columns are read through a strided *view* of the input (no Python loop),
and copied once into the layout the GEMM wants. col2im is the adjoint of
im2col: it adds each of the KH*KW slices of the columns back at its offset.

Transposed convolution is the adjoint of convolution with the same weight:
<conv2d(z, w), x> = <z, conv_transpose2d(x, w)>. So the input gradient of one
is the forward of the other, and both share the weight gradient below.
"""
from ..autograd import Function
from ._util import xp_of


def _pair(value, name, op):
    """An int or a pair of ints as a pair, checked to be ints."""
    pair = (value, value) if isinstance(value, int) else tuple(value)
    if len(pair) != 2 or not all(isinstance(v, int) for v in pair):
        raise TypeError(f"{op}: {name} must be an int or a pair of ints, got {value!r}")
    return pair


def conv_output_size(size, kernel, stride=1, padding=0, dilation=1):
    """OH = floor((H + 2 PH - DH (KH - 1) - 1) / SH) + 1."""
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1  # [formula: conv-output-size]


def conv_transpose_output_size(size, kernel, stride=1, padding=0, output_padding=0, dilation=1):
    """OH = (H - 1) SH - 2 PH + DH (KH - 1) + output_padding + 1, the inverse of conv_output_size."""
    return (size - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1


class ConvGeometry:
    """Kernel, stride, padding and dilation of one convolution, checked once, with the sizes they imply."""

    def __init__(self, op, kernel, stride, padding, dilation):
        self.KH, self.KW = _pair(kernel, "kernel_size", op)
        self.SH, self.SW = _pair(stride, "stride", op)
        self.PH, self.PW = _pair(padding, "padding", op)
        self.DH, self.DW = _pair(dilation, "dilation", op)
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

    def params(self):
        return dict(kernel=(self.KH, self.KW), stride=(self.SH, self.SW),
                    padding=(self.PH, self.PW), dilation=(self.DH, self.DW))


def _im2col_view(x, g):
    """(N, C, H, W) -> a strided view (N, C, KH, KW, OH, OW) of the zero-padded input; no copy."""
    xp = xp_of(x)
    N, C, H, W = x.shape
    OH, OW = g.output_hw(H, W)
    if g.PH or g.PW:
        x = xp.pad(x, ((0, 0), (0, 0), (g.PH, g.PH), (g.PW, g.PW)))
    sN, sC, sH, sW = x.strides
    return xp.lib.stride_tricks.as_strided(
        x, shape=(N, C, g.KH, g.KW, OH, OW),
        strides=(sN, sC, sH * g.DH, sW * g.DW, sH * g.SH, sW * g.SW))


def _col2im(cols, x_shape, g):
    """The adjoint of _im2col_view: cols (N, C, KH, KW, OH, OW) -> (N, C, H, W).

    Each (kh, kw) slice of the columns is added, as one strided block, at the
    place of the padded input it was read from; then the padding is cut off.
    """
    xp = xp_of(cols)
    N, C, H, W = x_shape
    OH, OW = cols.shape[4:]
    padded = xp.zeros((N, C, H + 2 * g.PH, W + 2 * g.PW), dtype=cols.dtype)
    for kh in range(g.KH):
        h0 = kh * g.DH
        for kw in range(g.KW):
            w0 = kw * g.DW
            padded[:, :, h0:h0 + g.SH * OH:g.SH, w0:w0 + g.SW * OW:g.SW] += cols[:, :, kh, kw]
    return padded[:, :, g.PH:g.PH + H, g.PW:g.PW + W]


def _gemm_columns(x, g):
    """im2col in the layout the GEMM reads: a contiguous (C*KH*KW, N*OH*OW) matrix (one copy)."""
    view = _im2col_view(x, g)                                    # (N, C, KH, KW, OH, OW)
    N, C, KH, KW, OH, OW = view.shape
    return view.transpose(1, 2, 3, 0, 4, 5).reshape(C * KH * KW, N * OH * OW)


def _channels_first(y):
    """(N, O, OH, OW) -> the (O, N*OH*OW) matrix that meets the columns in a GEMM."""
    N, O, OH, OW = y.shape
    return y.transpose(1, 0, 2, 3).reshape(O, N * OH * OW)


def _channels_first_to_nchw(y, N, OH, OW, bias=None):
    """(O, N*OH*OW) -> a contiguous (N, O, OH, OW) array, adding the bias in the same pass."""
    xp = xp_of(y)
    O = y.shape[0]
    out = xp.empty((N, O, OH, OW), dtype=y.dtype)
    source = y.reshape(O, N, OH, OW).transpose(1, 0, 2, 3)
    if bias is None:
        out[...] = source
    else:
        xp.add(source, bias.reshape(1, O, 1, 1), out=out)
    return out


def _check_conv_inputs(op, x, weight, bias, in_axis, out_axis):
    """Clear errors for the mistakes people make when calling a convolution."""
    if x.ndim != 4:
        raise ValueError(f"{op}: input must be 4-D (N, C, H, W), got shape {x.shape}")
    if weight.ndim != 4:
        raise ValueError(f"{op}: weight must be 4-D, got shape {weight.shape}")
    if x.shape[1] != weight.shape[in_axis]:
        raise ValueError(f"{op}: input has {x.shape[1]} channels but weight expects {weight.shape[in_axis]} "
                         f"(weight shape {weight.shape})")
    if bias is not None and bias.shape != (weight.shape[out_axis],):
        raise ValueError(f"{op}: bias must have shape ({weight.shape[out_axis]},), got {bias.shape}")


class Conv2d(Function):
    """y = w * x + b (cross-correlation, as in PyTorch).

    dL/dx = conv_transpose2d(dL/dy, w);  dL/dw = GEMM of dL/dy with the columns of x;
    dL/db = sum of dL/dy over N, OH, OW.
    """

    def forward(self, x, weight, bias=None, geometry=None):
        g = self.geometry = geometry
        N, C, H, W = x.shape
        O = weight.shape[0]
        OH, OW = g.output_hw(H, W)
        self.cols = _gemm_columns(x, g)                          # (C*KH*KW, N*OH*OW), kept for dL/dw
        y = weight.reshape(O, -1) @ self.cols                    # (O, N*OH*OW)  [formula: conv2d]
        return _channels_first_to_nchw(y, N, OH, OW, bias)

    def backward(self, grad):
        x, weight = self.inputs[:2]
        g = self.geometry
        need_x, need_w = self.needs_input_grad[:2]
        grad_x = grad_w = grad_b = None
        if need_x:
            grad_x = ConvTranspose2d.apply(grad, weight, geometry=g, output_hw=x.shape[2:])  # [formula: conv2d-grad-input]
        if need_w:
            grad_w = Conv2dWeightGrad.apply(x, grad, geometry=g, weight_shape=weight.shape, cols=self.cols)
        if len(self.inputs) == 3 and self.needs_input_grad[2]:
            grad_b = grad.sum(axis=(0, 2, 3))
        self.cols = None  # the columns are large; free them once used
        return grad_x, grad_w, grad_b


class Conv2dWeightGrad(Function):
    """dL/dw[o, c, kh, kw] = sum over (n, oh, ow) of dL/dy[n, o, oh, ow] * cols[(c, kh, kw), (n, oh, ow)].

    A Function of its own, bilinear in (x, dL/dy), so that gradient penalties can
    differentiate through it: <G, wgrad(x, gy)> = <gy, conv2d(x, G)> = <x, conv_transpose2d(gy, G)>.
    """

    def forward(self, x, grad_y, geometry=None, weight_shape=None, cols=None):
        self.geometry = geometry
        if cols is None:
            cols = _gemm_columns(x, geometry)
        return (_channels_first(grad_y) @ cols.T).reshape(weight_shape)  # [formula: conv2d-grad-weight]

    def backward(self, grad):
        x, grad_y = self.inputs
        g = self.geometry
        grad_x = grad_gy = None
        if self.needs_input_grad[0]:
            grad_x = ConvTranspose2d.apply(grad_y, grad, geometry=g, output_hw=x.shape[2:])
        if self.needs_input_grad[1]:
            grad_gy = Conv2d.apply(x, grad, geometry=g)
        return grad_x, grad_gy


class ConvTranspose2d(Function):
    """y = conv_transpose2d(x, w) + b: the adjoint of conv2d with weight w (shape (C_in, C_out, KH, KW)).

    Each input pixel scatters a weighted copy of the kernel into the output:
    cols = w^T x (a GEMM), then col2im adds the columns into place.
    dL/dx = conv2d(dL/dy, w);  dL/dw = the conv2d weight gradient with the roles of x and dL/dy swapped.
    """

    def forward(self, x, weight, bias=None, geometry=None, output_hw=None):
        g = self.geometry = geometry
        N, Cin, H, W = x.shape
        Cout = weight.shape[1]
        OH, OW = output_hw
        cols = weight.reshape(Cin, -1).T @ _channels_first(x)    # (Cout*KH*KW, N*H*W)  [formula: conv-transpose2d]
        cols = cols.reshape(Cout, g.KH, g.KW, N, H, W).transpose(3, 0, 1, 2, 4, 5)
        y = _col2im(cols, (N, Cout, OH, OW), g)
        if bias is not None:
            y = y + bias.reshape(1, Cout, 1, 1)
        return xp_of(y).ascontiguousarray(y)

    def backward(self, grad):
        x, weight = self.inputs[:2]
        g = self.geometry
        grad_x = grad_w = grad_b = None
        if self.needs_input_grad[0]:
            grad_x = Conv2d.apply(grad, weight, geometry=g)
        if self.needs_input_grad[1]:
            grad_w = Conv2dWeightGrad.apply(grad, x, geometry=g, weight_shape=weight.shape)
        if len(self.inputs) == 3 and self.needs_input_grad[2]:
            grad_b = grad.sum(axis=(0, 2, 3))
        return grad_x, grad_w, grad_b


class Im2Col(Function):
    """cols = im2col(x): (N, C, H, W) -> (N, C*KH*KW, OH*OW), the layout of torch.nn.functional.unfold."""

    def forward(self, x, geometry=None):
        self.geometry = geometry
        view = _im2col_view(x, geometry)
        N, C, KH, KW, OH, OW = view.shape
        return view.reshape(N, C * KH * KW, OH * OW)

    def backward(self, grad):
        return Col2Im.apply(grad, geometry=self.geometry, x_shape=self.inputs[0].shape)


class Col2Im(Function):
    """x = col2im(cols): the adjoint of im2col, adding overlapping patches (torch.nn.functional.fold)."""

    def forward(self, cols, geometry=None, x_shape=None):
        self.geometry = geometry
        N, C, H, W = x_shape
        OH, OW = geometry.output_hw(H, W)
        if cols.shape != (N, C * geometry.KH * geometry.KW, OH * OW):
            raise ValueError(f"col2im: columns of shape {cols.shape} do not fit output {tuple(x_shape)}; expected "
                             f"{(N, C * geometry.KH * geometry.KW, OH * OW)}")
        return xp_of(cols).ascontiguousarray(
            _col2im(cols.reshape(N, C, geometry.KH, geometry.KW, OH, OW), x_shape, geometry))

    def backward(self, grad):
        return Im2Col.apply(grad, geometry=self.geometry)


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1):
    """2-D convolution of x (N, C, H, W) with weight (O, C, KH, KW), like torch.nn.functional.conv2d."""
    _check_conv_inputs("conv2d", x, weight, bias, in_axis=1, out_axis=0)
    geometry = ConvGeometry("conv2d", weight.shape[2:], stride, padding, dilation)
    geometry.output_hw(*x.shape[2:])
    inputs = (x, weight) if bias is None else (x, weight, bias)
    return Conv2d.apply(*inputs, geometry=geometry)


def conv_transpose2d(x, weight, bias=None, stride=1, padding=0, output_padding=0, dilation=1):
    """Transposed 2-D convolution of x (N, C_in, H, W) with weight (C_in, C_out, KH, KW).

    Output size (H - 1) SH - 2 PH + DH (KH - 1) + output_padding + 1, as in PyTorch.
    """
    _check_conv_inputs("conv_transpose2d", x, weight, bias, in_axis=0, out_axis=1)
    geometry = ConvGeometry("conv_transpose2d", weight.shape[2:], stride, padding, dilation)
    OPH, OPW = _pair(output_padding, "output_padding", "conv_transpose2d")
    if not (0 <= OPH < geometry.SH and 0 <= OPW < geometry.SW):
        raise ValueError(f"conv_transpose2d: output_padding {(OPH, OPW)} must be >= 0 and smaller than "
                         f"the stride {(geometry.SH, geometry.SW)}")
    H, W = x.shape[2:]
    output_hw = (conv_transpose_output_size(H, geometry.KH, geometry.SH, geometry.PH, OPH, geometry.DH),
                 conv_transpose_output_size(W, geometry.KW, geometry.SW, geometry.PW, OPW, geometry.DW))
    if min(output_hw) < 1:
        raise ValueError(f"conv_transpose2d: the output size {output_hw} is not positive for input {(H, W)}")
    inputs = (x, weight) if bias is None else (x, weight, bias)
    return ConvTranspose2d.apply(*inputs, geometry=geometry, output_hw=output_hw)


def im2col(x, kernel_size, stride=1, padding=0, dilation=1):
    """The columns of x: (N, C, H, W) -> (N, C*KH*KW, OH*OW), like torch.nn.functional.unfold."""
    if x.ndim != 4:
        raise ValueError(f"im2col: input must be 4-D (N, C, H, W), got shape {x.shape}")
    geometry = ConvGeometry("im2col", kernel_size, stride, padding, dilation)
    geometry.output_hw(*x.shape[2:])
    return Im2Col.apply(x, geometry=geometry)


def col2im(cols, output_size, kernel_size, stride=1, padding=0, dilation=1):
    """Add columns (N, C*KH*KW, OH*OW) back into an image (N, C, H, W); the adjoint of im2col.

    output_size is (N, C, H, W), or (H, W) with N and C read from the columns.
    """
    geometry = ConvGeometry("col2im", kernel_size, stride, padding, dilation)
    if len(output_size) == 2:
        N, CKK = cols.shape[:2]
        output_size = (N, CKK // (geometry.KH * geometry.KW)) + tuple(output_size)
    return Col2Im.apply(cols, geometry=geometry, x_shape=tuple(output_size))
