"""The fast convolutions: the twins of conv2d, conv_transpose2d, im2col and col2im of
tinygan/functional/conv.py, computed in a memory layout and an order that NumPy runs several times faster.

Layout rule: inside this module images are channels-last. im2col's rows are
(n, oh, ow) by (kh, kw, c), so every copy and every add below runs over C contiguous numbers;
with the reference's (c, kh, kw) order they would run over rows of only OW numbers.

    rows[(n, oh, ow), (kh, kw, c)] = x_pad[n, c, oh*SH + kh*DH, ow*SW + kw*DW]

The outputs keep that layout: a convolution returns its (N, O, OH, OW) result as a transposed
*view* of the (N, OH, OW, O) product, not a copy. NumPy's elementwise operations keep the memory
order of their inputs, so BatchNorm and the activations pass the channels-last layout on, and
the next convolution (or this one's backward) reads its (N*H*W, C) rows with a reshape instead
of a transposing copy of every activation and gradient. A tensor that arrives in another layout
is copied once by `layout_for_products` (the ChannelsLast op).

More speed-ups, each proved equal to the reference by tests/engine/test_op_contract.py:
- im2col and the transposed product run one slab of whole images at a time (_SLAB_BYTES), so a
  slab's intermediates are still in the cache when they are read again;
- where no dL/dw will want the rows (a convolution that computes a dL/dx, or whose weight needs no
  gradient), they are never written out whole: each slab's product is taken while its rows are in
  the cache;
- col2im adds the windows in classes that never overlap (_add_windows_by_class), or, for one
  channel, tap by tap (_add_windows_by_tap);
- a convolution with few output channels puts the windows of p neighbouring outputs in one row
  (outputs_per_row): fewer numbers copied, and a product with p times the columns, which the BLAS
  runs faster.
"""
import copy

import numpy

from ..autograd import Function, Tensor, is_grad_enabled
from .layout import ChannelPattern, is_channels_last, xp_of


# im2col and the transposed convolution's product go one slab of whole images at a time, each
# slab's rows about this size: a slab's intermediates are then still in the cache when they are
# read again (the padded input four times, the product's rows once), not read back from memory,
# and each GEMM is still large enough to run at full speed (docs/performance.md has the gain).
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


def conv_columns(x, geometry, outputs_per_row=1):
    """This module's im2col: (N, C, H, W) -> rows (N*OH*OW/p, KH*E*C), one receptive field per row.

    With p = outputs_per_row > 1 a row is the window of p outputs side by side (see _wide_weight_matrix):
    E = KW + (p - 1)*SW columns of the image instead of KW.
    """
    N, C, H, W = x.shape
    if _is_pointwise(geometry) and is_channels_last(x):
        return x.transpose(0, 2, 3, 1).reshape(N * H * W, C)     # a 1x1 convolution's rows are its pixels: a view
    OH, OW = geometry.output_hw(H, W)
    width = _window_width(geometry, outputs_per_row)
    rows = xp_of(x).empty((N, OH, OW // outputs_per_row, geometry.KH, width, C), dtype=x.dtype)
    for _ in _column_slabs(x, geometry, rows, outputs_per_row):   # each slab is copied into its place in rows
        pass
    return rows.reshape(N * OH * OW // outputs_per_row, geometry.KH * width * C)


def _is_pointwise(geometry):
    """Whether a convolution is 1x1 with stride 1 and no padding: each output pixel reads one input pixel."""
    g = geometry
    return g.KH == g.KW == 1 and g.SH == g.SW == 1 and g.PH == g.PW == 0


def _column_slabs(x, geometry, rows=None, outputs_per_row=1):
    """im2col one slab of images at a time: yields (first, last, the rows of images first..last-1).

    Per slab: copy the images channels-last into a zero-bordered buffer, then copy every window out
    of it through a strided view (no Python loop). The slab's rows go into their place in `rows`
    (N, OH, OW/p, KH, E, C) when it is given, else into one slab-sized buffer that the next slab reuses.
    """
    N, C, H, W = x.shape
    KH, PH, PW, p = geometry.KH, geometry.PH, geometry.PW, outputs_per_row
    OH, OW = geometry.output_hw(H, W)
    width = _window_width(geometry, p)
    xp = xp_of(x)
    slabs = _slabs(N, OH * OW // p * KH * width * C * x.itemsize, xp)
    largest_slab = slabs[0][1]                                          # the first slab, (0, size), is the largest
    padded = xp.zeros((largest_slab, H + 2 * PH, W + 2 * PW, C), dtype=x.dtype)  # the border stays 0
    slab_rows = xp.empty((largest_slab, OH, OW // p, KH, width, C), dtype=x.dtype) if rows is None else None
    sN, sH, sW, sC = padded.strides
    for first, last in slabs:
        count = last - first
        padded[:count, PH:PH + H, PW:PW + W, :] = x[first:last].transpose(0, 2, 3, 1)
        into = rows[first:last] if rows is not None else slab_rows[:count]
        into[...] = xp.lib.stride_tricks.as_strided(                    # the slab's windows, a view
            padded, shape=(count, OH, OW // p, KH, width, C),
            strides=(sN, sH * geometry.SH, sW * geometry.SW * p, sH * geometry.DH, sW * geometry.DW, sC))
        yield first, last, into.reshape(count * OH * OW // p, KH * width * C)


def _window_width(geometry, outputs_per_row):
    """E, the image columns one row reads: KW taps for one output, KW + (p - 1)*SW for p side by side (DW = 1)."""
    return geometry.KW + (outputs_per_row - 1) * geometry.SW


def _col2im_rows(rows, x_shape, geometry):
    """col2im, the adjoint of conv_columns: rows (N*OH*OW, KH*KW*C) -> (N, C, H, W)."""
    return _col2im([(0, x_shape[0], rows)], x_shape, geometry, xp_of(rows), rows.dtype)


def _col2im(slabs, x_shape, geometry, xp, dtype):
    """col2im of rows that come in slabs: (first, last, rows of images first..last-1) -> (N, C, H, W).

    Every window is added back at the place of the padded input it was read from,
    then the padding is cut off. With several channels the windows are added in
    classes (_add_windows_by_class), with one channel tap by tap (_add_windows_by_tap).
    """
    N, C, H, W = x_shape
    OH, OW = geometry.output_hw(H, W)
    HP, WP = H + 2 * geometry.PH, W + 2 * geometry.PW
    step_h = -(-(geometry.DH * (geometry.KH - 1) + 1) // geometry.SH)                    # ceil(kernel extent / stride)
    step_w = -(-(geometry.DW * (geometry.KW - 1) + 1) // geometry.SW)
    by_class = C > 1
    first_class_tiles = (by_class and geometry.DH == geometry.DW == 1 and geometry.KH == step_h * geometry.SH and geometry.KW == step_w * geometry.SW
                         and -(-OH // step_h) * geometry.KH == HP and -(-OW // step_w) * geometry.KW == WP)
    padded = (xp.empty if first_class_tiles else xp.zeros)((N, HP, WP, C), dtype=dtype)
    for first, last, rows in slabs:
        windows = rows.reshape(last - first, OH, OW, geometry.KH, geometry.KW, C)
        if by_class:
            _add_windows_by_class(windows, padded[first:last], geometry, (step_h, step_w), first_class_tiles, xp)
        else:
            _add_windows_by_tap(windows, padded[first:last], geometry)
    image = xp.ascontiguousarray(padded[:, geometry.PH:geometry.PH + H, geometry.PW:geometry.PW + W, :])   # cut the border off
    return image.transpose(0, 3, 1, 2)                      # (N, C, H, W), channels-last in memory


def _add_windows_by_class(windows, padded, geometry, steps, first_class_tiles, xp):
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
                padded[:, first_h * geometry.SH:, first_w * geometry.SW:], shape=block.shape,
                strides=(sN, sH * geometry.SH * step_h, sW * geometry.SW * step_w, sH * geometry.DH, sW * geometry.DW, sC))
            if first_class_tiles and first_h == first_w == 0:
                target[...] = block                                    # writes every element of padded once
            else:
                target += block


def _add_windows_by_tap(windows, padded, geometry):
    """padded += every window (n, OH, OW, KH, KW, C), one add per kernel tap (kh, kw).

    For one channel: a class's contiguous runs would be only KW numbers long, while a
    tap's add runs over OW numbers at a stride, which NumPy does faster.
    """
    OH, OW = windows.shape[1:3]
    for kh in range(geometry.KH):
        for kw in range(geometry.KW):
            top, left = kh * geometry.DH, kw * geometry.DW                          # where window (0, 0) puts this tap
            heights = slice(top, top + geometry.SH * (OH - 1) + 1, geometry.SH)
            widths = slice(left, left + geometry.SW * (OW - 1) + 1, geometry.SW)
            padded[:, heights, widths] += windows[:, :, :, kh, kw]


def _rows_of(y):
    """(N, O, OH, OW) -> (N*OH*OW, O): one row per output pixel, the GEMM's view of a gradient."""
    N, O, OH, OW = y.shape
    return y.transpose(0, 2, 3, 1).reshape(N * OH * OW, O)


def _conv_weight_matrix(weight):
    """(O, C, KH, KW) -> (O, KH*KW*C), the column order of the rows (any 4-D weight: axis 0 stays)."""
    O = weight.shape[0]
    return weight.transpose(0, 2, 3, 1).reshape(O, -1)


# A product with few columns runs far below the BLAS's speed: rows (M, 144) times a (144, 16) weight at about
# 150 GFLOP/s here, where (M, 288) times (288, 64) runs at about 300 (docs/performance.md). A convolution with
# few output channels therefore takes the windows of p outputs side by side in one row, for p*O up to this.
_WIDE_PRODUCT = 64


def outputs_per_row(x_shape, geometry, O, xp):
    """p, the outputs side by side in one im2col row: 4 or 2 when the product would have few columns (O),
    else 1.

    Neighbouring windows share KW - SW columns of the image, so a row of p windows copies KW + (p - 1)*SW
    columns instead of p*KW, and the product has p*O columns (with zeros where a window does not reach).
    Only where the windows overlap (KW > SW), with DW = 1, and p divides OW; 1 for an empty convolution, and on
    the GPU, where it was not measured.
    """
    N, C, H, W = x_shape
    OH, OW = geometry.output_hw(H, W)
    if xp is not numpy or N * C * OH * OW == 0 or geometry.DW != 1 or geometry.KW <= geometry.SW:
        return 1
    return next((p for p in (4, 2) if p * O <= _WIDE_PRODUCT and OW % p == 0), 1)


def _wide_weight_matrix(weight, geometry, outputs_per_row):
    """(KH*E*C, p*O): column block q is the kernel moved q*SW image columns to the right, zeros elsewhere.

    Row (n, oh, j) of the wide im2col holds image columns j*p*SW .. j*p*SW + E - 1, and its output q is
    y[n, :, oh, j*p + q], whose window starts q*SW columns in: so the product's (N*OH*OW/p, p*O) result
    is y's (N, OH, OW, O) memory, channels-last. With p = 1 it is the plain weight matrix.
    """
    if outputs_per_row == 1:
        return _conv_weight_matrix(weight).T
    O, C, KH, KW = weight.shape
    width, SW = _window_width(geometry, outputs_per_row), geometry.SW
    wide = xp_of(weight).zeros((KH, width, C, outputs_per_row, O), dtype=weight.dtype)
    taps = weight.transpose(2, 3, 1, 0)                                     # (KH, KW, C, O)
    for q in range(outputs_per_row):
        wide[:, q * SW:q * SW + KW, :, q, :] = taps
    return wide.reshape(KH * width * C, outputs_per_row * O)


def _fold_wide_weight_grad(grad_wide, geometry, weight_shape, outputs_per_row):
    """The adjoint of _wide_weight_matrix: (p*O, KH*E*C) -> (O, KH, KW, C), each output's block added back."""
    O, C, KH, KW = weight_shape
    if outputs_per_row == 1:
        return grad_wide.reshape(O, KH, KW, C)
    width, SW = _window_width(geometry, outputs_per_row), geometry.SW
    blocks = grad_wide.reshape(outputs_per_row, O, KH, width, C)
    return sum(blocks[q, :, :, q * SW:q * SW + KW, :] for q in range(outputs_per_row))


def _rows_to_nchw(y, N, OH, OW, bias=None):
    """(N*OH*OW, O) -> (N, O, OH, OW) plus the bias: a view of the rows, channels-last in memory (no copy)."""
    O = y.shape[1]
    image = y.reshape(N, OH, OW, O).transpose(0, 3, 1, 2)
    if bias is not None:
        _add_per_channel(image, bias)
    return image


def _add_per_channel(image, bias):
    """image += bias on every channel, in place: over the rows of the channel pattern when it has one, where
    broadcasting (1, O, 1, 1) would loop over runs of only O numbers in a channels-last image."""
    pattern = ChannelPattern(image)
    if pattern.rows is None:
        image += bias.reshape(1, -1, 1, 1)
    else:
        pattern.rows += pattern.expand(bias)


class ChannelsLast(Function):
    """The same (N, C, H, W) values, stored channels-last: y = x, dL/dx = dL/dy.

    A gradient that comes from a reshape (a Linear layer's, or one given to
    backward) is (N, C, H, W)-contiguous; every product below would otherwise
    copy it into rows of C numbers again. This copies it once.
    """

    def forward(self, x):
        return xp_of(x).ascontiguousarray(x.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)

    def backward(self, grad):
        return (grad,)


def layout_for_products(t):
    """t itself when its data is already channels-last in memory, else ChannelsLast of it."""
    return t if is_channels_last(t.array) else ChannelsLast.apply(t)


def conv2d_forward(x, weight, bias, geometry, columns=None, keep_columns=True):
    """(y, rows): y = rows W_wide + b, returned channels-last.

    The rows are made whole and returned for dL/dw when keep_columns (or given); otherwise each slab's
    product is taken while its rows are in the cache, and rows is None.
    """
    N, O = x.shape[0], weight.shape[0]
    OH, OW = geometry.output_hw(*x.shape[2:])
    xp = xp_of(x)
    p = _outputs_per_row_for(columns, x, geometry, O, N * OH * OW)
    weight_matrix = _wide_weight_matrix(weight, geometry, p)                     # (KH*E*C, p*O)
    if columns is None and not keep_columns and not _is_pointwise(geometry):
        y = xp.empty((N * OH * OW // p, p * O), dtype=x.dtype)
        rows_per_image = OH * OW // p
        for first, last, rows in _column_slabs(x, geometry, outputs_per_row=p):
            xp.matmul(rows, weight_matrix, out=y[first * rows_per_image:last * rows_per_image])
        return _rows_to_nchw(y.reshape(N * OH * OW, O), N, OH, OW, bias), None
    rows = conv_columns(x, geometry, p) if columns is None else columns
    y = rows @ weight_matrix                                                    # (N*OH*OW/p, p*O)
    return _rows_to_nchw(y.reshape(N * OH * OW, O), N, OH, OW, bias), rows if keep_columns else None


def _outputs_per_row_for(columns, x, geometry, O, outputs):
    """p of the given rows (the convolution's N*OH*OW outputs over their count; 1 for none), else the p that
    outputs_per_row chooses for x."""
    if columns is None:
        return outputs_per_row(x.shape, geometry, O, xp_of(x))
    return outputs // columns.shape[0] if columns.shape[0] else 1


def conv2d_weight_grad(x, grad_y, geometry, weight_shape, columns=None):
    """dL/dw = dL/dy's rows^T times x's rows, folded from the wide (p*O, KH*E*C) to (O, C, KH, KW).

    dL/dy's (N*OH*OW, O) rows are read p to a row, (N*OH*OW/p, p*O), to match x's. Without kept rows, the
    product is summed over slabs of images, each slab's rows made again.
    """
    O = weight_shape[0]
    N, _, OH, OW = grad_y.shape
    xp = xp_of(x)
    p = _outputs_per_row_for(columns, x, geometry, O, N * OH * OW)
    grad_rows = _rows_of(grad_y).reshape(N * OH * OW // p, p * O)               # a view of channels-last memory
    if columns is not None:
        grad_wide = grad_rows.T @ columns                                       # (p*O, KH*E*C)
    else:
        rows_per_image = OH * OW // p
        grad_wide = sum(grad_rows[first * rows_per_image:last * rows_per_image].T @ rows
                        for first, last, rows in _column_slabs(x, geometry, outputs_per_row=p))
    grad_w = _fold_wide_weight_grad(grad_wide, geometry, weight_shape, p)       # (O, KH, KW, C)
    return xp.ascontiguousarray(grad_w.transpose(0, 3, 1, 2))


def conv_transpose2d_forward(x, weight, bias, geometry, output_hw):
    """rows = x W (one row per input pixel), made and added into place one slab of images at a time.

    At stride 1 (dilation 1, padding below the kernel) it is a convolution instead, see _as_convolution, unless
    it narrows the channels fourfold or more (_CONVOLUTION_BELOW).
    """
    if _is_a_convolution(geometry, output_hw, x.shape[2:]) and x.shape[1] < _CONVOLUTION_BELOW * weight.shape[1]:
        return _as_convolution(x, weight, bias, geometry)
    N, Cin, H, W = x.shape
    Cout = weight.shape[1]
    xp = xp_of(x)
    x_rows, weight_matrix = _rows_of(x), _conv_weight_matrix(weight)   # (N*H*W, Cin), (Cin, KH*KW*Cout)
    slabs = ((first, last, x_rows[first * H * W:last * H * W] @ weight_matrix)   # made one by one, as used
             for first, last in _slabs(N, H * W * weight_matrix.shape[1] * x.itemsize, xp))
    y = _col2im(slabs, (N, Cout) + tuple(output_hw), geometry, xp, x.dtype)
    if bias is not None:
        _add_per_channel(y, bias)
    return y


# A stride-1 transposed convolution from Cin to Cout channels (the dL/dx of a convolution from Cout to Cin) runs as
# a convolution while Cin < _CONVOLUTION_BELOW * Cout. Its im2col copies KH*KW*Cin numbers per pixel, and its product
# has only Cout columns; the product and col2im way writes KH*KW*Cout numbers per pixel and adds them back. From four
# times as many channels in as out, col2im is faster: 2.96 -> 1.83 ms for Q1's 128 -> 32 at 7 x 7 (batch 64),
# 2.56 -> 1.93 for 64 -> 16 at 16 x 16; at twice as many the convolution wins or ties (32 -> 16 at 64 x 64: 21.1
# against 29.1 ms; 64 -> 32 at 7 x 7: 1.55 against 1.49).
_CONVOLUTION_BELOW = 4


def _is_a_convolution(geometry, output_hw, input_hw):
    """Whether a transposed convolution equals a convolution with the flipped kernel: stride 1, dilation 1,
    padding under the kernel size, and the plain output size (no output_padding)."""
    g = geometry
    plain = tuple(output_hw) == (input_hw[0] + g.KH - 1 - 2 * g.PH, input_hw[1] + g.KW - 1 - 2 * g.PW)
    return g.SH == g.SW == g.DH == g.DW == 1 and g.PH < g.KH and g.PW < g.KW and plain


def _as_convolution(x, weight, bias, geometry):
    """conv_transpose2d at stride 1 as conv2d(x, W', padding K - 1 - P), W'[o, c] = W[c, o] flipped in both axes.

    y[i, j] = sum x[i + P - kh, j + P - kw] W[kh, kw] is a correlation with the flipped kernel. It is how a
    stride-1 convolution's dL/dx is computed here (the 3x3 layers of a U-Net): one im2col copy and one product,
    instead of the product and KH*KW overlapping classes of window adds that col2im needs at stride 1.
    """
    flipped = weight[:, :, ::-1, ::-1].transpose(1, 0, 2, 3)                    # (Cout, Cin, KH, KW)
    as_convolution = copy.copy(geometry)
    as_convolution.PH, as_convolution.PW = geometry.KH - 1 - geometry.PH, geometry.KW - 1 - geometry.PW
    y, _ = conv2d_forward(x, flipped, bias, as_convolution, keep_columns=False)
    return y


def unfold(x, geometry):
    """im2col in the public layout (N, C*KH*KW, OH*OW), from this module's rows."""
    N, C, H, W = x.shape
    OH, OW = geometry.output_hw(H, W)
    rows = conv_columns(x, geometry).reshape(N, OH * OW, geometry.KH * geometry.KW, C)
    return rows.transpose(0, 3, 2, 1).reshape(N, C * geometry.KH * geometry.KW, OH * OW)


def fold(cols, x_shape, geometry):
    """col2im from the public layout (N, C*KH*KW, OH*OW), through this module's rows."""
    N, C, H, W = x_shape
    OH, OW = geometry.output_hw(H, W)
    rows = cols.reshape(N, C, geometry.KH * geometry.KW, OH * OW).transpose(0, 3, 2, 1)
    return _col2im_rows(rows.reshape(N * OH * OW, -1), x_shape, geometry)


# -- the differentiable operations: the twins of Conv2d and ConvTranspose2d in tinygan/functional/conv.py ----
# They keep what the products above can share: a convolution's rows for its dL/dw (only when a dL/dw will want
# them), dL/dy's rows for both products of a transposed convolution's backward, and the channels-last copy that
# layout_for_products makes once of a gradient or an input that two products read.

def conv2d(x, weight, bias=None, geometry=None):
    """The twin of Conv2d.apply(x, weight[, bias], geometry=...): the rows are kept only when a dL/dw will want
    them (grad mode on, and the weight requires a gradient)."""
    inputs = (x, weight) if bias is None else (x, weight, bias)
    keep_columns = is_grad_enabled() and isinstance(weight, Tensor) and weight.requires_grad
    return Conv2d.apply(*inputs, geometry=geometry, keep_columns=keep_columns)


def conv_transpose2d(x, weight, bias=None, geometry=None, output_hw=None):
    """The twin of ConvTranspose2d.apply(x, weight[, bias], geometry=..., output_hw=...): x made channels-last
    first, since its forward product and its dL/dw both read it."""
    x = layout_for_products(x if isinstance(x, Tensor) else Tensor(x))
    inputs = (x, weight) if bias is None else (x, weight, bias)
    return ConvTranspose2d.apply(*inputs, geometry=geometry, output_hw=output_hw)


class Conv2d(Function):
    """y = w * x + b by conv2d_forward, channels-last; dL/dx, dL/dw, dL/db as the reference's Conv2d, each
    product here reading dL/dy channels-last.

    columns: rows made already (a transposed convolution's backward shares dL/dy's between its two products);
    keep_columns: whether to keep x's rows for dL/dw (else they are never made whole).
    """

    reads_in_backward = ("factors",)

    inputs_share_dtype = True

    def forward(self, x, weight, bias=None, geometry=None, columns=None, keep_columns=True):
        self.geometry = geometry
        y, self.columns = conv2d_forward(x, weight, bias, geometry, columns, keep_columns)   # kept for dL/dw
        return y

    def backward(self, grad):
        x, weight = self.inputs[:2]
        geometry = self.geometry
        need_x, need_w = self.needs_input_grad[:2]
        grad = layout_for_products(grad)                    # read by both products below and the bias sum
        grad_x = grad_w = grad_b = None
        if need_w:
            grad_w = Conv2dWeightGrad.apply(x, grad, geometry=geometry, weight_shape=weight.shape,
                                            columns=self.columns)
            self.columns = None  # used: free them before dL/dx's product needs as much memory again
        if need_x:
            grad_x = ConvTranspose2d.apply(grad, weight, geometry=geometry, output_hw=x.shape[2:])
        if len(self.inputs) == 3 and self.needs_input_grad[2]:
            grad_b = grad.sum(axis=(0, 2, 3))
        return grad_x, grad_w, grad_b


class Conv2dWeightGrad(Function):
    """dL/dw by conv2d_weight_grad, from x's rows (kept by the forward, or made again slab by slab); bilinear in
    (x, dL/dy), differentiated as the reference's Conv2dWeightGrad."""

    reads_in_backward = ("factors",)

    inputs_share_dtype = True

    def forward(self, x, grad_y, geometry=None, weight_shape=None, columns=None):
        self.geometry = geometry
        return conv2d_weight_grad(x, grad_y, geometry, weight_shape, columns)

    def backward(self, grad):
        x, grad_y = self.inputs
        geometry = self.geometry
        grad_x = grad_gy = None
        if self.needs_input_grad[0]:
            grad_x = ConvTranspose2d.apply(grad_y, grad, geometry=geometry, output_hw=x.shape[2:])
        if self.needs_input_grad[1]:
            grad_gy = Conv2d.apply(x, grad, geometry=geometry)
        return grad_x, grad_gy


class ConvTranspose2d(Function):
    """y = conv_transpose2d(x, w) + b by conv_transpose2d_forward; its backward makes dL/dy's rows once, for
    both dL/dx (a convolution of dL/dy) and dL/dw."""

    reads_in_backward = ("factors",)

    inputs_share_dtype = True

    def forward(self, x, weight, bias=None, geometry=None, output_hw=None):
        self.geometry = geometry
        return conv_transpose2d_forward(x, weight, bias, geometry, output_hw)

    def backward(self, grad):
        x, weight = self.inputs[:2]
        geometry = self.geometry
        grad_x = grad_w = grad_b = None
        columns = None
        if any(self.needs_input_grad[:2]):              # dL/dy's rows, shared by both products
            columns = conv_columns(grad.array, geometry)
        if self.needs_input_grad[0]:
            grad_x = Conv2d.apply(grad, weight, geometry=geometry, columns=columns)
        if self.needs_input_grad[1]:
            grad_w = Conv2dWeightGrad.apply(grad, x, geometry=geometry, weight_shape=weight.shape, columns=columns)
        if len(self.inputs) == 3 and self.needs_input_grad[2]:
            grad_b = grad.sum(axis=(0, 2, 3))
        return grad_x, grad_w, grad_b
