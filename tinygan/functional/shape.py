"""Operations that move values without changing them: reshape, transpose, indexing, concat.

Their gradients move the incoming gradient back to where each value came from.
"""
import numbers
from collections import namedtuple

import numpy as np

from ..autograd import Function, Tensor
from ._util import xp_of
from .reduce import broadcast_to


class Reshape(Function):
    """y = x viewed with another shape;  dL/dx = dL/dy viewed with x's shape."""

    reads_in_backward = ()

    def forward(self, x, shape):
        try:
            return x.reshape(shape)
        except ValueError as error:
            raise ValueError(f"reshape: cannot reshape {x.shape} ({x.size} elements) into {tuple(shape)}") from error

    def backward(self, grad):
        return grad.reshape(self.inputs[0].shape)


class Transpose(Function):
    """y = x with its axes permuted by `axes`;  dL/dx = dL/dy permuted back by the inverse."""

    reads_in_backward = ()

    def forward(self, x, axes):
        if sorted(a % x.ndim for a in axes) != list(range(x.ndim)):
            raise ValueError(f"permute: axes {tuple(axes)} are not a permutation of the {x.ndim} axes of shape {x.shape}")
        self.axes = tuple(a % x.ndim for a in axes)
        return x.transpose(self.axes)

    def backward(self, grad):
        inverse = [0] * len(self.axes)
        for position, axis in enumerate(self.axes):
            inverse[axis] = position
        return grad.permute(*inverse)


def _is_basic_index(index):
    """True when `index` holds only ints, slices, None and Ellipsis (each element picked at most once)."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(p is None or p is Ellipsis or isinstance(p, (int, slice)) for p in parts)


def _unwrap_index(index):
    """Replace Tensors inside an index by their arrays."""
    if isinstance(index, tuple):
        return tuple(p.array if isinstance(p, Tensor) else p for p in index)
    return index.array if isinstance(index, Tensor) else index


class GetItem(Function):
    """y = x[index];  dL/dx is zero except at the picked elements, which collect dL/dy."""

    reads_in_backward = ()

    def forward(self, x, index):
        self.index = index
        return x[index]

    def backward(self, grad):
        return GetItemGrad.apply(grad, index=self.index, shape=self.inputs[0].shape)


class GetItemGrad(Function):
    """The adjoint of x[index]: scatter `grad` into zeros of `shape`, adding where an index repeats."""

    reads_in_backward = ()

    def forward(self, grad, index, shape):
        self.index = index
        xp = xp_of(grad)
        if _is_basic_index(index):
            result = xp.zeros(shape, dtype=grad.dtype)
            result[index] = grad
            return result
        # Advanced (array) indices may pick an element twice: count every pick by
        # summing into flat positions with bincount (a scatter-add without add.at).
        size = 1
        for n in shape:
            size *= n
        positions = xp.arange(size).reshape(shape)[index]
        flat = xp.bincount(positions.ravel(), weights=grad.ravel(), minlength=size)
        return flat.astype(grad.dtype).reshape(shape)

    def backward(self, grad):
        return grad[self.index]


class Concat(Function):
    """y = the inputs joined along `axis`;  each input's gradient is its slice of dL/dy."""

    reads_in_backward = ()

    def forward(self, *arrays, axis=0):
        shapes = [a.shape for a in arrays]
        ndim = arrays[0].ndim
        self.axis = axis % ndim
        for shape in shapes[1:]:
            if len(shape) != ndim or any(n != m for i, (n, m) in enumerate(zip(shape, shapes[0])) if i != self.axis):
                raise ValueError(f"concat: shapes {shapes} differ outside axis {axis}")
        self.sizes = [shape[self.axis] for shape in shapes]
        return xp_of(arrays[0]).concatenate(arrays, axis=self.axis)

    def backward(self, grad):
        grads, start = [], 0
        for size, needed in zip(self.sizes, self.needs_input_grad):
            index = (slice(None),) * self.axis + (slice(start, start + size),)
            grads.append(grad[index] if needed else None)
            start += size
        return tuple(grads)


class Pad(Function):
    """y = x surrounded by `value` (widths per axis as (before, after));  dL/dx = the middle of dL/dy."""

    reads_in_backward = ()

    def forward(self, x, widths, value=0.0):
        if len(widths) != x.ndim or any(before < 0 or after < 0 for before, after in widths):
            raise ValueError(f"pad_widths: widths {widths} must be {x.ndim} non-negative (before, after) pairs for shape {x.shape}")
        self.middle = tuple(slice(before, before + n) for (before, _), n in zip(widths, x.shape))
        return xp_of(x).pad(x, widths, constant_values=value)

    def backward(self, grad):
        return grad[self.middle]


def reshape(x, *shape):
    """x viewed with another shape (one dimension may be -1)."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    if tuple(shape) == tuple(x.shape):
        return x
    return Reshape.apply(x, shape=shape)


def permute(x, *axes):
    """x with its axes reordered, like torch.permute / numpy.transpose."""
    if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
        axes = tuple(axes[0])
    return Transpose.apply(x, axes=axes)


def transpose(x, axis0=-2, axis1=-1):
    """x with two axes swapped (the last two by default, a matrix transpose)."""
    axes = list(range(x.ndim))
    axes[axis0], axes[axis1] = axes[axis1], axes[axis0]
    return Transpose.apply(x, axes=tuple(axes))


def getitem(x, index):
    """x[index] for basic (slices, ints) and advanced (integer or boolean array) indices."""
    return GetItem.apply(x, index=_unwrap_index(index))


def concat(tensors, axis=0):
    """Join tensors along an existing axis, like torch.cat."""
    return Concat.apply(*tensors, axis=axis)


def as_batch_of_one(op, x, *args):
    """op(x, *args) of one sample without a batch axis, (C, H, W) or (C, L), which PyTorch's convolutions and
    poolings accept too: run as a batch of one, the batch axis then dropped (from each output, when op returns
    several, as max pooling with its indices)."""
    y = op(reshape(x, (1,) + tuple(x.shape)), *args)
    if isinstance(y, tuple):
        return tuple(reshape(t, tuple(t.shape[1:])) for t in y)
    return reshape(y, tuple(y.shape[1:]))


def pad_widths(x, widths, value=0.0):
    """Pad x with a constant: widths is one (before, after) pair per axis, like numpy.pad."""
    return Pad.apply(x, widths=tuple(tuple(w) for w in widths), value=value)


def pad(x, pad, mode="constant", value=None):
    """Pad x as torch.nn.functional.pad: `pad` is (left, right, top, bottom, ...), last axis first.

    pad=(1, 2) pads the last axis with 1 value before and 2 after; pad=(1, 1, 2, 2) also pads
    the axis before it by 2 on each side. A negative width crops, as in PyTorch. mode="constant" fills
    with `value`; "reflect" mirrors x about its edges, "replicate" repeats the edge values and "circular"
    wraps x around: these pick each new value from x, so the gradient is getitem's scatter-add.
    """
    pad = tuple(pad)
    if len(pad) % 2 or len(pad) > 2 * x.ndim or not all(isinstance(p, numbers.Integral) for p in pad):
        raise ValueError(f"pad: pad must be an even number (at most {2 * x.ndim}) of ints, (left, right, top, "
                         f"bottom, ...), for an input of shape {tuple(x.shape)}; got {pad}")
    if mode == "constant":
        return _pad_constant(x, pad, value)
    if mode not in _PAD_SOURCES:
        raise ValueError(f"pad: mode must be one of ('constant', 'reflect', 'replicate', 'circular'), got {mode!r}")
    if value is not None and value != 0:
        raise ValueError(f"pad: mode={mode!r} takes no value, got value={value!r}")
    return _pad_by_picking(x, pad, mode)


def _pad_by_picking(x, pad, mode):
    """reflect, replicate or circular padding as `x[..., i, j, k]`: per padded axis an index array that names, for
    each output position, the input position it copies (broadcast against the other axes' arrays)."""
    _check_pad_rank(x, pad, mode)
    pairs = [pad[i:i + 2] for i in range(len(pad) - 2, -1, -2)]        # (before, after) of the padded axes
    sizes = tuple(x.shape[x.ndim - len(pairs):])
    _check_pad_sizes(x, pairs, sizes, mode)
    xp = xp_of(x.array)
    sources = [_PAD_SOURCES[mode](xp.arange(-before, n + after), n, before, after)
               for (before, after), n in zip(pairs, sizes)]
    last = len(sources) - 1
    index = tuple(source.reshape((-1,) + (1,) * (last - i)) for i, source in enumerate(sources))
    return getitem(x, (Ellipsis,) + index)


def _pad_constant(x, pad, value):
    """Constant padding: crop the axes with negative widths, then surround with `value`."""
    pairs = [(0, 0)] * (x.ndim - len(pad) // 2) + [pad[i:i + 2] for i in range(len(pad) - 2, -1, -2)]
    crop = tuple(slice(-before if before < 0 else None, after if after < 0 else None) for before, after in pairs)
    if any(before + after + n < 0 for (before, after), n in zip(pairs, x.shape)):
        raise ValueError(f"pad: pad {pad} crops more than the input of shape {tuple(x.shape)} holds")
    if any(b < 0 or a < 0 for b, a in pairs):
        x = getitem(x, crop)
    widths = tuple((max(b, 0), max(a, 0)) for b, a in pairs)
    return pad_widths(x, widths, value=0.0 if value is None else value)


def _reflect_source(p, n, before, after):
    """`p -> (n - 1) - |(n - 1) - |p||`: position p of x's axis mirrored about its first and last element, the
    edge itself not repeated (`x[2], x[1], x[0], x[1], ...` on the left)."""
    return (n - 1) - abs((n - 1) - abs(p))  # [formula: pad-reflect]


def _replicate_source(p, n, before, after):
    """`p -> min(max(p, 0), n - 1)`: a position before the axis takes its first value, after it its last."""
    return p.clip(0, n - 1)  # [formula: pad-replicate]


def _circular_source(p, n, before, after):
    """`p -> s + (p - s) mod m`: the axis cropped to `[s, s + m)` (s = max(-before, 0)) repeats with period m."""
    start, kept = max(-before, 0), n - max(-before, 0) - max(-after, 0)
    return start + (p - start) % kept  # [formula: pad-circular]


_PAD_SOURCES = {"reflect": _reflect_source, "replicate": _replicate_source, "circular": _circular_source}


def _check_pad_rank(x, pad, mode):
    """PyTorch pads the last 1, 2 or 3 axes in these modes, of an input with one or two axes more (a batch)."""
    padded = len(pad) // 2
    if padded not in (1, 2, 3) or x.ndim not in (padded + 1, padded + 2):
        raise NotImplementedError(
            f"pad: mode={mode!r} pads the last 1, 2 or 3 axes of an input with 1 or 2 axes more (pad of length 2 "
            f"for 2-D or 3-D inputs, 4 for 3-D or 4-D, 6 for 4-D or 5-D); got pad {pad} of length {len(pad)} for "
            f"an input of shape {tuple(x.shape)}")


def _check_pad_sizes(x, pairs, sizes, mode):
    """PyTorch's limits on the pad widths of each mode, for the padded axes of `sizes`."""
    shape = tuple(x.shape)
    outputs = [n + before + after for (before, after), n in zip(pairs, sizes)]
    if any(n < 0 for n in outputs):
        raise ValueError(f"pad: pad {_torch_order(pairs)} crops more than the input of shape {shape} holds")
    if mode == "circular":
        for (before, after), n in zip(pairs, sizes):
            kept = n - max(-before, 0) - max(-after, 0)
            if max(before, after) > kept:
                raise ValueError(f"pad: mode='circular' wraps around at most once: widths (before, after) = "
                                 f"{(before, after)} must be at most the {max(kept, 0)} values the crop leaves of an "
                                 f"axis of size {n} (input of shape {shape})")
        return
    first_kept = 1 if x.ndim == len(sizes) + 2 else 0                  # a batch axis may be empty
    if 0 in shape[first_kept:]:
        raise ValueError(f"pad: mode={mode!r} needs an input with no empty axis (but a batch axis), got shape "
                         f"{shape}")
    if all(n == 0 for n in outputs):
        raise ValueError(f"pad: pad {_torch_order(pairs)} leaves no value of the input of shape {shape}")
    if mode == "reflect" and any(max(before, after) >= n for (before, after), n in zip(pairs, sizes)):
        raise ValueError(f"pad: mode='reflect' needs every width of pad {_torch_order(pairs)} smaller than the size "
                         f"of its axis, {sizes} (input of shape {shape})")


def _torch_order(pairs):
    """(before, after) pairs of the padded axes, first axis first, back as PyTorch's pad tuple (last axis first)."""
    return tuple(width for pair in reversed(pairs) for width in pair)


def flatten(x, start_dim=1):
    """Merge the dimensions from `start_dim` on into one: (N, C, H, W) -> (N, C*H*W)."""
    return reshape(x, tuple(x.shape[:start_dim]) + (-1,))


# -- shape ops that PyTorch code uses (stack, squeeze, unsqueeze, expand, repeat, clone) ------------------

def _shape_argument(sizes):
    """`f(x, 2, 3)` and `f(x, (2, 3))` both as the tuple (2, 3)."""
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        return tuple(sizes[0])
    return tuple(sizes)


def _dim(op_name, dim, ndim):
    """`dim` as a non-negative axis of a tensor with `ndim` dimensions, or PyTorch's IndexError."""
    if not -ndim <= dim < ndim:
        raise IndexError(f"{op_name}: dimension out of range (expected to be in range of [{-ndim}, {ndim - 1}], "
                         f"but got {dim})")
    return dim % ndim


def unsqueeze(x, dim):
    """x with a new axis of length 1 at `dim` (dim may be x.ndim, or negative counting from ndim + 1)."""
    dim = _dim("unsqueeze", dim, x.ndim + 1)
    return reshape(x, tuple(x.shape[:dim]) + (1,) + tuple(x.shape[dim:]))


def squeeze(x, dim=None):
    """x without its axes of length 1 (all of them, or only `dim` if it has length 1), like torch.squeeze."""
    if dim is None:
        return reshape(x, tuple(n for n in x.shape if n != 1))
    dim = _dim("squeeze", dim, max(x.ndim, 1))
    if x.ndim == 0 or x.shape[dim] != 1:
        return x
    return reshape(x, tuple(x.shape[:dim]) + tuple(x.shape[dim + 1:]))


def stack(tensors, dim=0):
    """Join equally shaped tensors along a new axis `dim`, like torch.stack: unsqueeze each, then concat."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("stack: expects a non-empty list of tensors")
    for i, t in enumerate(tensors[1:], 1):
        if tuple(t.shape) != tuple(tensors[0].shape):
            raise ValueError(f"stack: expects each tensor to be equal size, but got {tuple(tensors[0].shape)} at "
                             f"entry 0 and {tuple(t.shape)} at entry {i}")
    dim = _dim("stack", dim, tensors[0].ndim + 1)
    return concat([unsqueeze(t, dim) for t in tensors], axis=dim)


def expand(x, *sizes):
    """x broadcast to `sizes` without copying (-1 keeps a dimension), like torch.Tensor.expand."""
    sizes = _shape_argument(sizes)
    lead = len(sizes) - x.ndim
    if lead < 0:
        raise ValueError(f"expand: the number of sizes provided ({len(sizes)}) must be greater or equal to the "
                         f"number of dimensions in the tensor ({x.ndim})")
    target = tuple(x.shape[i - lead] if n == -1 and i >= lead else n for i, n in enumerate(sizes))
    for i, n in enumerate(x.shape):
        if n != 1 and target[lead + i] != n:
            raise ValueError(f"expand: the expanded size of the tensor ({target[lead + i]}) must match the existing "
                             f"size ({n}) at non-singleton dimension {lead + i}; target sizes {sizes}, tensor "
                             f"sizes {tuple(x.shape)}")
    return broadcast_to(x, target)


def repeat(x, *repeats):
    """x tiled `repeats` times along each axis, like torch.Tensor.repeat (numpy.tile).

    Written as a broadcast: (s0, s1) -> (1, s0, 1, s1) -> (r0, s0, r1, s1) -> (r0*s0, r1*s1), so its gradient
    sums the copies back, and no new Function is needed.
    """
    repeats = _shape_argument(repeats)
    if len(repeats) < x.ndim:
        raise ValueError(f"repeat: number of dimensions of repeat dims ({len(repeats)}) can not be smaller than "
                         f"number of dimensions of tensor ({x.ndim}, shape {tuple(x.shape)})")
    shape = (1,) * (len(repeats) - x.ndim) + tuple(x.shape)
    interleaved = reshape(x, tuple(n for s in shape for n in (1, s)))
    spread = expand(interleaved, tuple(n for r, s in zip(repeats, shape) for n in (r, s)))
    return reshape(spread, tuple(r * s for r, s in zip(repeats, shape)))


class Clone(Function):
    """y = a copy of x (its own memory);  dL/dx = dL/dy."""

    reads_in_backward = ()

    def forward(self, x):
        return x.copy()

    def backward(self, grad):
        return grad


def clone(x):
    """A copy of x with its own memory, still in the graph (like torch.clone)."""
    return Clone.apply(x)


# -- more shape ops that PyTorch code uses (tril, triu, flip, gather, pixel_shuffle) ----------------------

def tril(x, diagonal=0):
    """x with every element above its `diagonal`-th diagonal (over the last two axes) set to 0, like torch.tril:
    0 is the main diagonal, k > 0 keeps k diagonals above it, k < 0 clears k below it too. A causal mask is
    tril(ones(L, L))."""
    return _keep_triangle("tril", x, diagonal)


def triu(x, diagonal=0):
    """x with every element below its `diagonal`-th diagonal set to 0, like torch.triu."""
    return _keep_triangle("triu", x, diagonal)


def _keep_triangle(op_name, x, diagonal):
    """x times the 0/1 triangle numpy's tril or triu keeps: a product, so the gradient is masked the same way."""
    if x.ndim < 2:
        raise ValueError(f"{op_name}: expects a tensor of at least 2 dimensions, got shape {tuple(x.shape)}")
    xp = xp_of(x.array)
    kept = getattr(xp, op_name)(xp.ones(tuple(x.shape[-2:]), dtype=x.dtype), int(diagonal))
    return x * Tensor(kept)  # [formula: tril-triu]


def flip(x, dims):
    """x with the order of its elements reversed along each of `dims` (an int or a sequence), like torch.flip."""
    dims = (dims,) if isinstance(dims, numbers.Integral) else tuple(dims)
    axes = {_dim("flip", d, max(x.ndim, 1)) for d in dims}
    if len(axes) != len(dims):
        raise ValueError(f"flip: dims {dims} name an axis twice")
    return getitem(x, tuple(slice(None, None, -1) if i in axes else slice(None) for i in range(x.ndim)))


def gather(x, dim, index):
    """`out[i, j, k] = x[index[i, j, k], j, k]` for dim = 0 (and so on for other dims), like torch.gather: an
    integer `index` with x's number of dimensions, no larger than x outside `dim`."""
    dim = _dim("gather", dim, max(x.ndim, 1))
    picks = index.array if isinstance(index, Tensor) else index
    if picks.ndim != x.ndim or picks.dtype.kind not in "iu":
        raise ValueError(f"gather: index must be an integer tensor with the input's {x.ndim} dimensions, got shape "
                         f"{tuple(picks.shape)} and dtype {picks.dtype}")
    if any(n > m for i, (n, m) in enumerate(zip(picks.shape, x.shape)) if i != dim):
        raise ValueError(f"gather: index of shape {tuple(picks.shape)} is larger than the input {tuple(x.shape)} "
                         f"outside dim {dim}")
    return getitem(x, along_index(picks, dim))  # [formula: gather]


def along_index(picks, dim):
    """The NumPy index that picks `x[picks[i, j, k], j, k]` for dim = 0 (and so on): `picks` at `dim`, and at
    every other axis its own position, as broadcasting aranges."""
    xp = xp_of(picks)
    positions = [xp.arange(n).reshape((-1,) + (1,) * (picks.ndim - 1 - i)) for i, n in enumerate(picks.shape)]
    positions[dim] = picks
    return tuple(positions)


def pixel_shuffle(x, upscale_factor):
    """(N, C r^2, H, W) -> (N, C, H r, W r), each group of r^2 channels spread over an r x r block of pixels,
    like torch.nn.functional.pixel_shuffle (sub-pixel convolution's upsampling)."""
    r = int(upscale_factor)
    if x.ndim != 4 or r < 1 or x.shape[1] % (r * r):
        raise ValueError(f"pixel_shuffle: expects (N, C * {r}^2, H, W) with a factor of at least 1, got shape "
                         f"{tuple(x.shape)} and factor {upscale_factor}")
    N, C, H, W = x.shape
    blocks = reshape(x, (N, C // (r * r), r, r, H, W))
    return reshape(permute(blocks, 0, 1, 4, 2, 5, 3), (N, C // (r * r), H * r, W * r))  # [formula: pixel-shuffle]


def pixel_unshuffle(x, downscale_factor):
    """(*, C, H r, W r) -> (*, C r^2, H, W), each r x r block of pixels gathered into r^2 channels: the inverse of
    pixel_shuffle, like torch.nn.functional.pixel_unshuffle."""
    r = int(downscale_factor)
    if x.ndim < 3 or r < 1 or x.shape[-2] % r or x.shape[-1] % r:
        raise ValueError(f"pixel_unshuffle: expects (*, C, H * {r}, W * {r}) with a factor of at least 1, got shape "
                         f"{tuple(x.shape)} and factor {downscale_factor}")
    *batch, C, H, W = x.shape
    blocks = reshape(x, (*batch, C, H // r, r, W // r, r))
    k = len(batch)
    order = tuple(range(k)) + (k, k + 2, k + 4, k + 1, k + 3)
    return reshape(permute(blocks, *order), (*batch, C * r * r, H // r, W // r))  # [formula: pixel-unshuffle]


SortResult = namedtuple("sort", ["values", "indices"])
TopkResult = namedtuple("topk", ["values", "indices"])


def sort(x, dim=-1, descending=False, stable=False):
    """(values, indices) of x sorted along `dim`, like torch.sort. The values are gather(x, dim, indices), so each
    value's gradient goes back to the place it came from. Equal values keep their order (a stable sort)."""
    if x.ndim == 0:
        raise ValueError("sort: expects a tensor of at least 1 dimension, got a 0-d tensor")
    dim = _dim("sort", dim, x.ndim)
    order = _order_along(x.array, dim, descending)
    return SortResult(gather(x, dim, Tensor(order)), Tensor(order))


def topk(x, k, dim=-1, largest=True, sorted=True):
    """(values, indices) of the k largest (or smallest) elements along `dim`, like torch.topk; they always come
    in order, largest (or smallest) first, so `sorted` is accepted and changes nothing."""
    if x.ndim == 0:
        raise ValueError("topk: expects a tensor of at least 1 dimension, got a 0-d tensor")
    dim = _dim("topk", dim, x.ndim)
    if not 0 <= k <= x.shape[dim]:
        raise ValueError(f"topk: k = {k} is out of range for {x.shape[dim]} elements along dim {dim} of shape "
                         f"{tuple(x.shape)}")
    order = _order_along(x.array, dim, descending=largest)
    first_k = order[tuple(slice(0, k) if i == dim else slice(None) for i in range(order.ndim))]
    return TopkResult(gather(x, dim, Tensor(first_k)), Tensor(first_k))


def _order_along(array, dim, descending):
    """The int64 indices that sort `array` along `dim`, ties in their original order."""
    xp = xp_of(array)
    key = array if array.dtype.kind == "f" else array.astype(xp.int64)
    return xp.argsort(-key if descending else key, axis=dim, kind="stable").astype(xp.int64)


def index_select(x, dim, index):
    """The slices of x at the integer positions `index` (1-D) along `dim`, like torch.index_select."""
    dim = _dim("index_select", dim, max(x.ndim, 1))
    picks = index.array if isinstance(index, Tensor) else index
    if picks.ndim != 1 or picks.dtype.kind not in "iu":
        raise ValueError(f"index_select: index must be a 1-D integer tensor, got shape {tuple(picks.shape)} and dtype "
                         f"{picks.dtype}")
    return getitem(x, (slice(None),) * dim + (picks,))


def roll(x, shifts, dims=None):
    """x shifted by `shifts` places along `dims`, the elements that fall off the end coming back at the start, like
    torch.roll; without dims, over the flattened x, then back to its shape."""
    if dims is None:
        return reshape(roll(reshape(x, (-1,)), shifts, 0), tuple(x.shape))
    shifts = (shifts,) if isinstance(shifts, numbers.Integral) else tuple(shifts)
    dims = (dims,) if isinstance(dims, numbers.Integral) else tuple(dims)
    if len(shifts) != len(dims):
        raise ValueError(f"roll: shifts {shifts} and dims {dims} must be as many")
    for shift, dim in zip(shifts, dims):
        dim = _dim("roll", dim, max(x.ndim, 1))
        cut = x.shape[dim] - shift % x.shape[dim] if x.shape[dim] else 0
        before = (slice(None),) * dim
        x = concat([getitem(x, before + (slice(cut, None),)), getitem(x, before + (slice(0, cut),))], axis=dim)
    return x


# -- taking apart and rearranging (unbind, select, movedim, unflatten, tile, repeat_interleave, diagonals) ----

def unbind(x, dim=0):
    """The slices of x along `dim`, each without that dimension, as a tuple, like torch.unbind."""
    dim = _dim("unbind", dim, max(x.ndim, 1))
    return tuple(getitem(x, (slice(None),) * dim + (i,)) for i in range(x.shape[dim]))


def select(x, dim, index):
    """The slice of x at `index` along `dim`, without that dimension, like torch.select (`x[:, index]` for dim 1)."""
    dim = _dim("select", dim, max(x.ndim, 1))
    size = x.shape[dim]
    if not -size <= index < size:
        raise IndexError(f"select: index {index} out of range for dimension {dim} of size {size}")
    return getitem(x, (slice(None),) * dim + (int(index),))


def _dims(op_name, dims, ndim):
    """One dim or a sequence of them as a tuple of distinct non-negative axes."""
    axes = tuple(_dim(op_name, d, ndim) for d in ((dims,) if isinstance(dims, numbers.Integral) else dims))
    if len(set(axes)) != len(axes):
        raise ValueError(f"{op_name}: repeated dim in {dims}")
    return axes


def movedim(x, source, destination):
    """x with its dimensions `source` moved to the places `destination` (ints or sequences), the others keeping
    their order, like torch.movedim."""
    sources, destinations = _dims("movedim", source, x.ndim), _dims("movedim", destination, x.ndim)
    if len(sources) != len(destinations):
        raise ValueError(f"movedim: source {source} and destination {destination} must name as many dims")
    order = [axis for axis in range(x.ndim) if axis not in sources]
    for place, axis in sorted(zip(destinations, sources)):
        order.insert(place, axis)
    return permute(x, tuple(order))


def unflatten(x, dim, sizes):
    """x with dimension `dim` split into `sizes` (one of them may be -1), like torch.unflatten."""
    dim = _dim("unflatten", dim, max(x.ndim, 1))
    sizes = tuple(int(n) for n in sizes)
    known = 1
    for n in sizes:
        known *= n if n != -1 else 1
    fits = (sizes.count(-1) == 0 and known == x.shape[dim]) or (sizes.count(-1) == 1 and known and
                                                                 x.shape[dim] % known == 0)
    if not sizes or not fits:
        raise ValueError(f"unflatten: sizes {sizes} do not split dimension {dim} of size {x.shape[dim]} (shape "
                         f"{tuple(x.shape)})")
    return reshape(x, tuple(x.shape[:dim]) + sizes + tuple(x.shape[dim + 1:]))


def tile(x, dims):
    """x repeated dims[i] times along axis i, like torch.tile: fewer dims than x has are taken as 1 for the
    leading axes (where repeat would refuse them)."""
    dims = _shape_argument((dims,))
    return repeat(x, (1,) * (x.ndim - len(dims)) + tuple(dims))


def repeat_interleave(x, repeats, dim=None):
    """Each slice of x along `dim` repeated in place, like torch.repeat_interleave: [a, b] -> [a, a, b, b] for
    repeats=2. `repeats` is one count, or one count per slice (a 1-D integer tensor); without dim, x is flattened
    first. The copies are index_select's picks, so their gradients add up at the slice they came from."""
    if dim is None:
        x, dim = reshape(x, (-1,)), 0
    dim = _dim("repeat_interleave", dim, max(x.ndim, 1))
    counts = repeats.array if isinstance(repeats, Tensor) else repeats
    xp = xp_of(x.array)
    counts = xp.asarray(counts)
    if counts.dtype.kind not in "iu" or counts.ndim > 1 or counts.size not in (1, x.shape[dim]) or (counts < 0).any():
        raise ValueError(f"repeat_interleave: repeats must be a non-negative integer or a 1-D integer tensor of one "
                         f"count per slice ({x.shape[dim]} along dim {dim}), got {repeats!r}")
    return index_select(x, dim, Tensor(xp.repeat(xp.arange(x.shape[dim]), counts.reshape(-1))))


def diagonal(x, offset=0, dim1=0, dim2=1):
    """The elements `x[..., i, i + offset]` over the two dims dim1 and dim2, as a new last dimension, like
    torch.diagonal (offset > 0 above the main diagonal, < 0 below)."""
    return _diagonal(x, offset, dim1, dim2)


def _diagonal(x, offset, dim1, dim2):
    dims = _dims("diagonal", (dim1, dim2), x.ndim)
    rows, cols = x.shape[dims[0]], x.shape[dims[1]]
    length = max(0, min(rows - max(-offset, 0), cols - max(offset, 0)))
    steps = xp_of(x.array).arange(length)
    return getitem(movedim(x, dims, (-2, -1)), (Ellipsis, steps + max(-offset, 0), steps + max(offset, 0)))


def diag(x, diagonal=0):
    """A vector -> the square matrix with it on its `diagonal`-th diagonal; a matrix -> that diagonal of it, like
    torch.diag. The matrix is the adjoint of taking the diagonal (zeros elsewhere)."""
    k = int(diagonal)
    if x.ndim == 2:
        return _diagonal(x, k, 0, 1)
    if x.ndim != 1:
        raise ValueError(f"diag: expects a vector or a matrix, got shape {tuple(x.shape)}")
    size = x.shape[0] + abs(k)
    steps = xp_of(x.array).arange(x.shape[0])
    return GetItemGrad.apply(x, index=(steps + max(-k, 0), steps + max(k, 0)), shape=(size, size))


def hstack(tensors):
    """Tensors joined along their second axis (their first, for vectors), like torch.hstack."""
    tensors = list(tensors)
    return concat(tensors, axis=0 if tensors and tensors[0].ndim == 1 else 1)


def vstack(tensors):
    """Tensors joined along their first axis, a vector taken as a row (1, n), like torch.vstack."""
    return concat([reshape(t, (1, -1)) if t.ndim == 1 else t for t in tensors], axis=0)


def rot90(x, k=1, dims=(0, 1)):
    """x turned k quarter turns in the plane of `dims`, from the first axis toward the second, like torch.rot90:
    one turn is a flip of the second axis, then the two axes swapped."""
    first, second = _dims("rot90", dims, x.ndim)
    if len(dims) != 2:
        raise ValueError(f"rot90: dims must name two axes, got {dims}")
    turns = int(k) % 4
    if turns == 0:
        return clone(x)
    if turns == 2:
        return flip(x, (first, second))
    flipped = flip(x, second if turns == 1 else first)
    return transpose(flipped, first, second)


def take_along_dim(x, indices, dim=None):
    """x's values at `indices` along `dim`, the other dims broadcast between the two, like torch.take_along_dim;
    without dim, of the flattened x. It is gather after broadcasting."""
    if dim is None:
        return gather(reshape(x, (-1,)), 0, reshape(indices, (-1,)))
    dim = _dim("take_along_dim", dim, max(x.ndim, 1))
    if indices.ndim != x.ndim:
        raise ValueError(f"take_along_dim: indices must have the input's {x.ndim} dimensions, got shape "
                         f"{tuple(indices.shape)}")
    shape = []
    for i, (a, b) in enumerate(zip(x.shape, indices.shape)):
        if i != dim and a != b and 1 not in (a, b):
            raise ValueError(f"take_along_dim: input {tuple(x.shape)} and indices {tuple(indices.shape)} do not "
                             f"broadcast outside dim {dim}")
        shape.append(max(a, b))
    x_shape = tuple(x.shape[i] if i == dim else n for i, n in enumerate(shape))
    index_shape = tuple(indices.shape[i] if i == dim else n for i, n in enumerate(shape))
    picks = indices.array if isinstance(indices, Tensor) else indices
    return gather(broadcast_to(x, x_shape), dim, Tensor(xp_of(picks).broadcast_to(picks, index_shape)))


def masked_select(x, mask):
    """The values of x where the boolean `mask` (broadcast against x) is True, as a 1-D tensor, like
    torch.masked_select; the gradient goes back to them."""
    picks = mask.array if isinstance(mask, Tensor) else mask
    if getattr(picks, "dtype", None) is None or picks.dtype.kind != "b":
        raise TypeError(f"masked_select: the mask must be a boolean tensor, got "
                        f"{getattr(picks, 'dtype', type(picks).__name__)}")
    try:
        shape = np.broadcast_shapes(tuple(x.shape), tuple(picks.shape))
    except ValueError:
        raise ValueError(f"masked_select: mask {tuple(picks.shape)} and input {tuple(x.shape)} cannot be broadcast "
                         f"together") from None
    return getitem(broadcast_to(x, shape), xp_of(picks).broadcast_to(picks, shape))
