"""Convolution as im2col plus one matrix product, and transposed convolution as its adjoint.

Notation, used verbatim in the code below:
    N   batch size             C   input channels        O   output channels
    H W input height, width    KH KW kernel size         SH SW stride
    PH PW padding              DH DW dilation            OH OW output height, width

im2col copies every receptive field of the (zero-padded) input into one row,
so that the convolution becomes a single matrix product (GEMM):

    rows[(n, oh, ow), (kh, kw, c)] = x_pad[n, c, oh*SH + kh*DH, ow*SW + kw*DW]
    y[n, o, oh, ow] = sum over (kh, kw, c) of rows[(n, oh, ow), (kh, kw, c)] * w[o, c, kh, kw] + b[o]

The rows are read through a strided *view* of the input (no Python loop) and
copied once, a slab of images at a time so that each slab's padded input is
still in the cache when its windows are copied out (see _SLAB_BYTES). Inside,
the input is laid out channels-last (N, H, W, C), so every copy and every add
below runs over C contiguous numbers; with (N, C, H, W)
they would run over rows of only OW numbers, several times slower in NumPy.

The outputs keep that layout: a convolution returns its (N, O, OH, OW) result
as a transposed *view* of the (N, OH, OW, O) product, not a copy. NumPy's
elementwise operations keep the memory order of their inputs, so BatchNorm and
the activations pass the channels-last layout on, and the next convolution (or
this one's backward) reads its (N*H*W, C) rows with a reshape instead of a
transposing copy of every activation and gradient.

col2im is the adjoint of im2col: it adds each of the KH*KW slices of the rows
back at the offset it was read from (overlapping windows add up).

Transposed convolution is the adjoint of convolution with the same weight:
<conv2d(z, w), x> = <z, conv_transpose2d(x, w)>. So the input gradient of one
is the forward of the other, and both share the weight gradient below.
"""
import numpy

from ..autograd import Function
from ._util import is_channels_last, xp_of


def _pair(value, name, op):
    """An int or a pair of ints as a pair, checked to be ints."""
    pair = (value, value) if isinstance(value, int) else tuple(value) if isinstance(value, (tuple, list)) else ()
    if len(pair) != 2 or not all(isinstance(v, int) for v in pair):
        raise TypeError(f"{op}: {name} must be an int or a pair of ints, got {value!r}")
    return pair


def conv_output_size(size, kernel, stride=1, padding=0, dilation=1):
    """OH = floor((H + 2 PH - DH (KH - 1) - 1) / SH) + 1."""
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1  # [formula: conv-output-size]


def conv_transpose_output_size(size, kernel, stride=1, padding=0, output_padding=0, dilation=1):
    """OH = (H - 1) SH - 2 PH + DH (KH - 1) + output_padding + 1, the inverse of conv_output_size."""
    return (size - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1  # [formula: conv-transpose-output-size]


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


# im2col and the transposed convolution's product go one slab of whole images at a time, each
# slab's rows about this size: a slab's intermediates are then still in the cache when they are
# read again (the padded input four times, the product's rows once), not read back from memory,
# and each GEMM is still large enough to run at full speed. Measured here, one process,
# alternating: W2 63.4 -> 61.9 ms (product) and 66.4 -> 65.6 ms (im2col).
_SLAB_BYTES = 4 << 20


def _slabs(N, bytes_per_image, xp):
    """(first, last) image ranges of nearly equal slabs, each about _SLAB_BYTES or less.

    On a GPU, one slab: there every slab would cost kernel launches, and the cache is not the point.
    An empty batch is one empty slab.
    """
    if xp is not numpy or N == 0:
        return [(0, N)]
    count = max(1, -(-N * bytes_per_image // _SLAB_BYTES))
    size = -(-N // count)
    return [(first, min(first + size, N)) for first in range(0, N, size)]


def _im2col_rows(x, g):
    """im2col: (N, C, H, W) -> rows (N*OH*OW, KH*KW*C), one receptive field per row.

    Per slab of images: copy the slab channels-last into a zero-bordered buffer,
    then copy every window out of it through a strided view (no Python loop).
    """
    N, C, H, W = x.shape
    OH, OW = g.output_hw(H, W)
    xp = xp_of(x)
    rows = xp.empty((N, OH, OW, g.KH, g.KW, C), dtype=x.dtype)
    slabs = _slabs(N, OH * OW * g.KH * g.KW * C * x.itemsize, xp)
    largest_slab = slabs[0][1]                                          # the first slab, (0, size), is the largest
    padded = xp.zeros((largest_slab, H + 2 * g.PH, W + 2 * g.PW, C), dtype=x.dtype)  # the border stays 0
    sN, sH, sW, sC = padded.strides
    for first, last in slabs:
        padded[:last - first, g.PH:g.PH + H, g.PW:g.PW + W, :] = x[first:last].transpose(0, 2, 3, 1)
        rows[first:last] = xp.lib.stride_tricks.as_strided(             # the slab's windows, a view
            padded, shape=(last - first, OH, OW, g.KH, g.KW, C),
            strides=(sN, sH * g.SH, sW * g.SW, sH * g.DH, sW * g.DW, sC))
    return rows.reshape(N * OH * OW, g.KH * g.KW * C)            # [formula: im2col]


def _col2im_rows(rows, x_shape, g):
    """col2im, the adjoint of _im2col_rows: rows (N*OH*OW, KH*KW*C) -> (N, C, H, W)."""
    return _col2im([(0, x_shape[0], rows)], x_shape, g, xp_of(rows), rows.dtype)


def _col2im(slabs, x_shape, g, xp, dtype):
    """col2im of rows that come in slabs: (first, last, rows of images first..last-1) -> (N, C, H, W).

    Every window is added back at the place of the padded input it was read from,
    then the padding is cut off. With several channels the windows are added in
    classes (_add_windows_by_class), with one channel tap by tap (_add_windows_by_tap).
    """
    N, C, H, W = x_shape
    OH, OW = g.output_hw(H, W)
    HP, WP = H + 2 * g.PH, W + 2 * g.PW
    step_h = -(-(g.DH * (g.KH - 1) + 1) // g.SH)                    # ceil(kernel extent / stride)
    step_w = -(-(g.DW * (g.KW - 1) + 1) // g.SW)
    by_class = C > 1
    first_class_tiles = (by_class and g.DH == g.DW == 1 and g.KH == step_h * g.SH and g.KW == step_w * g.SW
                         and -(-OH // step_h) * g.KH == HP and -(-OW // step_w) * g.KW == WP)
    padded = (xp.empty if first_class_tiles else xp.zeros)((N, HP, WP, C), dtype=dtype)
    for first, last, rows in slabs:
        windows = rows.reshape(last - first, OH, OW, g.KH, g.KW, C)
        if by_class:
            _add_windows_by_class(windows, padded[first:last], g, (step_h, step_w), first_class_tiles, xp)
        else:
            _add_windows_by_tap(windows, padded[first:last], g)
    image = xp.ascontiguousarray(padded[:, g.PH:g.PH + H, g.PW:g.PW + W, :])   # cut the border off
    return image.transpose(0, 3, 1, 2)                      # (N, C, H, W), channels-last in memory


def _add_windows_by_class(windows, padded, g, steps, first_class_tiles, xp):
    """padded += every window (n, OH, OW, KH, KW, C), in classes of windows that never overlap.

    Windows closer than the kernel's extent overlap, so they cannot go into one
    strided add; but windows `step` outputs apart never do (step * stride covers
    the kernel). So the windows are split into step_h * step_w classes by
    (oh mod step_h, ow mod step_w), and each class is one add, through a strided
    view of the padded input, of blocks (KH, KW, C) whose (KW, C) part is
    contiguous: 4 large adds for a 4x4 kernel with stride 2, not 16 small ones.
    When the first class's windows tile the padded input exactly (k4 s2 p1 on an
    even size does), that class is copied in rather than added onto zeros.
    """
    step_h, step_w = steps
    OH, OW = windows.shape[1:3]
    sN, sH, sW, sC = padded.strides
    for first_h in range(min(step_h, OH)):
        for first_w in range(min(step_w, OW)):
            block = windows[:, first_h::step_h, first_w::step_w]         # (n, OH', OW', KH, KW, C)
            target = xp.lib.stride_tricks.as_strided(                     # no element twice: see above
                padded[:, first_h * g.SH:, first_w * g.SW:], shape=block.shape,
                strides=(sN, sH * g.SH * step_h, sW * g.SW * step_w, sH * g.DH, sW * g.DW, sC))
            if first_class_tiles and first_h == first_w == 0:
                target[...] = block                                    # writes every element of padded once
            else:
                target += block


def _add_windows_by_tap(windows, padded, g):
    """padded += every window (n, OH, OW, KH, KW, C), one add per kernel tap (kh, kw).

    For one channel: a class's contiguous runs would be only KW numbers long, while a
    tap's add runs over OW numbers at a stride; 2x faster for DCGAN's 28 x 28 images.
    """
    OH, OW = windows.shape[1:3]
    for kh in range(g.KH):
        for kw in range(g.KW):
            top, left = kh * g.DH, kw * g.DW                          # where window (0, 0) puts this tap
            heights = slice(top, top + g.SH * (OH - 1) + 1, g.SH)
            widths = slice(left, left + g.SW * (OW - 1) + 1, g.SW)
            padded[:, heights, widths] += windows[:, :, :, kh, kw]


def _rows_of(y):
    """(N, O, OH, OW) -> (N*OH*OW, O): one row per output pixel, the GEMM's view of a gradient."""
    N, O, OH, OW = y.shape
    return y.transpose(0, 2, 3, 1).reshape(N * OH * OW, O)


def _conv_weight_matrix(weight):
    """(O, C, KH, KW) -> (O, KH*KW*C), the column order of the im2col rows (any 4-D weight: axis 0 stays)."""
    O = weight.shape[0]
    return weight.transpose(0, 2, 3, 1).reshape(O, -1)


def _rows_to_nchw(y, N, OH, OW, bias=None):
    """(N*OH*OW, O) -> (N, O, OH, OW) plus the bias: a view of the rows, channels-last in memory (no copy)."""
    O = y.shape[1]
    image = y.reshape(N, OH, OW, O).transpose(0, 3, 1, 2)
    if bias is not None:
        image += bias.reshape(1, O, 1, 1)
    return image


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


class ChannelsLast(Function):
    """The same (N, C, H, W) values, stored channels-last: y = x, dL/dx = dL/dy.

    A gradient that comes from a reshape (a Linear layer's, or one given to
    backward) is (N, C, H, W)-contiguous; every product below would otherwise
    copy it into rows of C numbers again. This copies it once.
    """

    def forward(self, x):
        return xp_of(x).ascontiguousarray(x.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)  # [formula: channels-last]

    def backward(self, grad):
        return (grad,)


def _channels_last(t):
    """t itself when its data is already channels-last in memory, else ChannelsLast of it."""
    return t if is_channels_last(t.data) else ChannelsLast.apply(t)


class Conv2d(Function):
    """y = w * x + b (cross-correlation, as in PyTorch).

    dL/dx = conv_transpose2d(dL/dy, w);  dL/dw = GEMM of dL/dy with the columns of x;
    dL/db = sum of dL/dy over N, OH, OW.
    """

    def forward(self, x, weight, bias=None, geometry=None, rows=None):
        g = self.geometry = geometry
        N, C, H, W = x.shape
        OH, OW = g.output_hw(H, W)
        self.rows = _im2col_rows(x, g) if rows is None else rows      # (N*OH*OW, KH*KW*C), kept for dL/dw
        y = self.rows @ _conv_weight_matrix(weight).T                  # (N*OH*OW, O)  [formula: conv2d]
        return _rows_to_nchw(y, N, OH, OW, bias)

    def backward(self, grad):
        x, weight = self.inputs[:2]
        g = self.geometry
        need_x, need_w = self.needs_input_grad[:2]
        grad = _channels_last(grad)                  # read as rows by both products below and the bias sum
        grad_x = grad_w = grad_b = None
        if need_w:
            grad_w = Conv2dWeightGrad.apply(x, grad, geometry=g, weight_shape=weight.shape, rows=self.rows)
        self.rows = None  # free the large rows before dL/dx's product needs as much memory again
        if need_x:
            grad_x = ConvTranspose2d.apply(grad, weight, geometry=g, output_hw=x.shape[2:])  # [formula: conv2d-grad-input]
        if len(self.inputs) == 3 and self.needs_input_grad[2]:
            grad_b = grad.sum(axis=(0, 2, 3))
        return grad_x, grad_w, grad_b


class Conv2dWeightGrad(Function):
    """dL/dw[o, c, kh, kw] = sum over (n, oh, ow) of dL/dy[n, o, oh, ow] * rows[(n, oh, ow), (kh, kw, c)].

    A Function of its own, bilinear in (x, dL/dy), so that gradient penalties can
    differentiate through it: <G, wgrad(x, gy)> = <gy, conv2d(x, G)> = <x, conv_transpose2d(gy, G)>.
    """

    def forward(self, x, grad_y, geometry=None, weight_shape=None, rows=None):
        self.geometry = geometry
        if rows is None:
            rows = _im2col_rows(x, geometry)
        O, C, KH, KW = weight_shape
        grad_w = _rows_of(grad_y).T @ rows                       # (O, KH*KW*C)  [formula: conv2d-grad-weight]
        return xp_of(grad_w).ascontiguousarray(grad_w.reshape(O, KH, KW, C).transpose(0, 3, 1, 2))

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
    rows = x w (a GEMM, one row per input pixel), then col2im adds the rows into place.
    dL/dx = conv2d(dL/dy, w);  dL/dw = the conv2d weight gradient with the roles of x and dL/dy swapped.
    """

    def forward(self, x, weight, bias=None, geometry=None, output_hw=None):
        g = self.geometry = geometry
        N, Cin, H, W = x.shape
        Cout = weight.shape[1]
        OH, OW = output_hw
        xp = xp_of(x)
        x_rows, weight_matrix = _rows_of(x), _conv_weight_matrix(weight)   # (N*H*W, Cin), (Cin, KH*KW*Cout)
        slabs = ((first, last, x_rows[first * H * W:last * H * W] @ weight_matrix)   # made one by one, as used
                 for first, last in _slabs(N, H * W * weight_matrix.shape[1] * x.itemsize, xp))
        y = _col2im(slabs, (N, Cout, OH, OW), g, xp, x.dtype)                         # [formula: conv-transpose2d]
        if bias is not None:
            y += bias.reshape(1, Cout, 1, 1)
        return y

    def backward(self, grad):
        x, weight = self.inputs[:2]
        g = self.geometry
        grad_x = grad_w = grad_b = None
        rows = _im2col_rows(grad.data, g) if any(self.needs_input_grad[:2]) else None  # dL/dy's columns, for both
        if self.needs_input_grad[0]:
            grad_x = Conv2d.apply(grad, weight, geometry=g, rows=rows)
        if self.needs_input_grad[1]:
            grad_w = Conv2dWeightGrad.apply(grad, x, geometry=g, weight_shape=weight.shape, rows=rows)
        if len(self.inputs) == 3 and self.needs_input_grad[2]:
            grad_b = grad.sum(axis=(0, 2, 3))
        return grad_x, grad_w, grad_b


class Im2Col(Function):
    """cols = im2col(x): (N, C, H, W) -> (N, C*KH*KW, OH*OW), the layout of torch.nn.functional.unfold."""

    def forward(self, x, geometry=None):
        self.geometry = geometry
        N, C, H, W = x.shape
        OH, OW = geometry.output_hw(H, W)
        rows = _im2col_rows(x, geometry).reshape(N, OH * OW, geometry.KH * geometry.KW, C)
        return rows.transpose(0, 3, 2, 1).reshape(N, C * geometry.KH * geometry.KW, OH * OW)

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
        rows = cols.reshape(N, C, geometry.KH * geometry.KW, OH * OW).transpose(0, 3, 2, 1)
        return _col2im_rows(rows.reshape(N * OH * OW, -1), x_shape, geometry)

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
    x = _channels_last(x)   # its rows are read twice, by the forward product and by dL/dw's
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
