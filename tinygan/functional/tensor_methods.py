"""The Tensor methods PyTorch code calls (`x.view(...)`, `x.max(1)`, `x.std(dim=0)`, ...), installed on Tensor.

Each is a thin call of an op of this package, so it differentiates like the op. Reductions take PyTorch's
`dim=`/`keepdim=` and tinygan's older `axis=`/`keepdims=` alike.
"""
import builtins

import numpy as np

from .. import backend
from ..autograd import Size, Tensor, no_grad
from ._util import as_tensor
from .arithmetic import (abs, add, bmm, clamp, diff, div, erf, expm1, lerp, log1p, log2, log10, logsumexp,
                         masked_fill, matmul, maximum, minimum, mul, nan_to_num, neg, outer, pow, reciprocal, rsqrt,
                         sub, where)
from .reduce import max as reduce_max, max_with_indices, mean, min as reduce_min, min_with_indices, std, sum, var
from .rendering import cumsum
from .rounding import ceil, floor, floor_divide, fmod, frac, remainder, round, rounded_div, sign, trunc
from .scatter import index_add, scatter, scatter_add
from .shape import (_shape_argument, clone, diag, diagonal, expand, flip, gather, getitem, index_select,
                    masked_select, movedim, repeat, repeat_interleave, reshape, roll, rot90, select, sort, squeeze,
                    take_along_dim, tile, topk, transpose, tril, triu, unbind, unflatten, unsqueeze)
from .softmax import log_softmax, softmax
from .statistics import count_nonzero, cumprod, kthvalue, median, nanmean, nansum, nonzero, prod, unique
from .trigonometric import cos, sin


def _axis(dim, axis):
    """One axis argument from PyTorch's dim= and tinygan's axis= (a list becomes a tuple)."""
    if dim is not None and axis is not None:
        raise TypeError("give dim= or axis=, not both")
    chosen = dim if dim is not None else axis
    return tuple(chosen) if isinstance(chosen, list) else chosen


def _sum(self, dim=None, keepdim=False, *, axis=None, keepdims=False):
    """Sum over dim (all by default); keepdim keeps the reduced axes with length 1."""
    return sum(self, axis=_axis(dim, axis), keepdims=keepdim or keepdims)


def _mean(self, dim=None, keepdim=False, *, axis=None, keepdims=False):
    return mean(self, axis=_axis(dim, axis), keepdims=keepdim or keepdims)


def _correction(unbiased, correction):
    if unbiased is not None and correction is not None:
        raise TypeError("give unbiased= or correction=, not both")
    if correction is not None:
        return correction
    return 1 if unbiased is None or unbiased else 0


def _var(self, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None, keepdims=False):
    """Variance over dim, unbiased (correction=1) by default as in PyTorch."""
    return var(self, axis=_axis(dim, axis), correction=_correction(unbiased, correction), keepdims=keepdim or keepdims)


def _std(self, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None, keepdims=False):
    return std(self, axis=_axis(dim, axis), correction=_correction(unbiased, correction), keepdims=keepdim or keepdims)


def _extremum(reduce, with_indices, elementwise):
    """max or min: of all values, (values, indices) along dim, elementwise against a tensor, or over axis=."""
    def method(self, dim=None, keepdim=False, *, axis=None, keepdims=False):
        if isinstance(dim, Tensor):
            return elementwise(self, dim)
        if dim is None or axis is not None or keepdims:
            return reduce(self, axis=axis, keepdims=keepdims)
        return with_indices(self, dim, keepdim)
    method.__doc__ = f"""x.{reduce.__name__}() of all values; x.{reduce.__name__}(dim, keepdim=False) gives (values, indices)
        as in PyTorch; x.{reduce.__name__}(other) is elementwise; x.{reduce.__name__}(axis=..., keepdims=...) the values only."""
    return method


def _arg(name):
    """argmax or argmin: the flat index over all values, or the indices along dim (no gradient)."""
    def method(self, dim=None, keepdim=False):
        data = self.array
        if dim is None:
            return Tensor(getattr(data.ravel(), name)())
        indices = getattr(data, name)(axis=dim)
        if keepdim:
            indices = indices.reshape(tuple(1 if i == dim % self.ndim else n for i, n in enumerate(self.shape)))
        return Tensor(indices)
    method.__name__ = name
    return method


def _add(self, other, *, alpha=1):
    """self + alpha * other, as torch.Tensor.add."""
    return add(self, other if alpha == 1 else other * alpha)


def _sub(self, other, *, alpha=1):
    """self - alpha * other, as torch.Tensor.sub."""
    return sub(self, other if alpha == 1 else other * alpha)


def _div(self, other, *, rounding_mode=None):
    """self / other, as torch.Tensor.div: true division, or rounded down ('floor') or toward zero ('trunc')."""
    if rounding_mode is not None:
        return rounded_div(self, other, rounding_mode)
    return div(self, other)


def _pieces(self, axis, sizes):
    """self cut along `axis` into consecutive pieces of the given sizes, each a slice in the graph."""
    pieces, start = [], 0
    for size in sizes:
        pieces.append(getitem(self, (slice(None),) * axis + (slice(start, start + size),)))
        start += size
    return tuple(pieces)


def split(self, split_size_or_sections, dim=0):
    """torch.split: pieces of split_size_or_sections along dim (the last one smaller if it does not divide), or of
    the listed sizes, which must add up to the dimension."""
    axis = _dim_axis("split", dim, self.ndim)
    size = self.shape[axis]
    if isinstance(split_size_or_sections, (list, tuple)):
        sizes = [int(n) for n in split_size_or_sections]
        if sum(sizes) != size or min(sizes, default=0) < 0:
            raise ValueError(f"split: sizes {sizes} must be non-negative and add up to dimension {dim}'s size {size}")
    else:
        step = int(split_size_or_sections)
        if step <= 0:
            raise ValueError(f"split: split_size must be a positive int, got {split_size_or_sections}")
        sizes = [min(step, size - start) for start in range(0, size, step)] or [0]
    return _pieces(self, axis, sizes)


def chunk(self, chunks, dim=0):
    """torch.chunk: at most `chunks` pieces along dim, each of ceil(size / chunks) (the last may be smaller)."""
    if int(chunks) <= 0:
        raise ValueError(f"chunk: chunks must be a positive int, got {chunks}")
    axis = _dim_axis("chunk", dim, self.ndim)
    return split(self, max(1, -(-self.shape[axis] // int(chunks))), dim)


def _view(self, *shape):
    """x with another shape (-1 infers one dimension). Unlike PyTorch's view it never fails on layout: it copies if needed."""
    return reshape(self, *shape)


def _flatten(self, start_dim=0, end_dim=-1):
    """Merge dimensions start_dim..end_dim into one (all by default, as torch.flatten)."""
    if self.ndim == 0:
        return reshape(self, (1,))
    start, end = start_dim % self.ndim, end_dim % self.ndim
    if start > end:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} for shape {tuple(self.shape)}")
    return reshape(self, tuple(self.shape[:start]) + (-1,) + tuple(self.shape[end + 1:]))


def _t(self):
    """The transpose of a matrix (a tensor of at most 2 dimensions is returned transposed, as torch.t)."""
    if self.ndim > 2:
        raise ValueError(f"t: expects a tensor with <= 2 dimensions, but got shape {tuple(self.shape)}; "
                         f"use transpose(dim0, dim1) or permute")
    return transpose(self, 0, 1) if self.ndim == 2 else self


def _contiguous(self):
    """Itself if its memory is C-contiguous, else a contiguous copy (still in the graph)."""
    return self if self.array.flags.c_contiguous else clone(self)


def _view_as(self, other):
    """x with `other`'s shape, as x.view(other.size())."""
    return reshape(self, tuple(other.shape))


def _expand_as(self, other):
    """x broadcast to `other`'s shape, as x.expand(other.size())."""
    return expand(self, *other.shape)


def _narrow(self, dim, start, length):
    """The `length` entries of dimension `dim` from `start` on (a negative start counts from the end), as
    torch.narrow; a view in the graph, as x[:, start:start + length]."""
    axis = _dim_axis("narrow", dim, self.ndim)
    size = self.shape[axis]
    start = int(start)
    if not -size <= start <= size:
        raise IndexError(f"narrow: start ({start}) out of range for dimension {dim} of size {size}")
    start = start % size if start < 0 else start
    if length < 0 or start + length > size:
        raise RuntimeError(f"narrow: start ({start}) + length ({length}) exceeds dimension size ({size}).")
    return getitem(self, (slice(None),) * axis + (slice(start, start + int(length)),))


def _dim_axis(op_name, dim, ndim):
    if not -builtins.max(ndim, 1) <= dim < builtins.max(ndim, 1):
        raise IndexError(f"{op_name}: dimension out of range (expected to be in range of "
                         f"[{-builtins.max(ndim, 1)}, {builtins.max(ndim, 1) - 1}], but got {dim})")
    return dim % builtins.max(ndim, 1)


def _norm(self, p="fro", dim=None, keepdim=False, dtype=None):
    """The p-norm (sum |x|^p)^(1/p) over `dim` (all values by default), as torch.Tensor.norm.

    p is a number, "fro" (the 2-norm of the values) or inf / -inf (the largest / smallest |x|). Built
    from abs, pow and sum. At a zero vector the root's slope is infinite, so there the root is taken of
    0 + 1 and multiplied by 0: the gradient is 0 for p > 1, as in PyTorch.
    """
    if dtype is not None:
        self = self.to(dtype)
    if p == "fro":
        p = 2
    if isinstance(p, str):
        raise ValueError(f"norm: p={p!r} is not supported; give a number, 'fro', inf or -inf "
                         f"(the nuclear norm needs an SVD, which tinygan does not have)")
    axis = tuple(dim) if isinstance(dim, list) else dim
    magnitude = abs(self)
    if p == float("inf"):
        return reduce_max(magnitude, axis=axis, keepdims=keepdim)
    if p == -float("inf"):
        return reduce_min(magnitude, axis=axis, keepdims=keepdim)
    if p == 0:   # how many values are not zero: no gradient, as in PyTorch
        return Tensor((self.array != 0).sum(axis=axis, keepdims=keepdim).astype(self.dtype))
    if p == 1:
        return sum(magnitude, axis=axis, keepdims=keepdim)
    powered = sum(self * self if p == 2 else pow(magnitude, p), axis=axis, keepdims=keepdim)
    zero = powered.array == 0
    return pow(powered + Tensor(zero.astype(powered.dtype)), 1.0 / p) * Tensor((~zero).astype(powered.dtype))


def _new(fill):
    """new_zeros, new_ones or new_empty: a tensor of `size` with this tensor's dtype and device (unless given)."""
    def method(self, *size, dtype=None, device=None, requires_grad=False):
        return _new_full(self, _sizes(size), fill, dtype=dtype, device=device, requires_grad=requires_grad)
    method.__doc__ = ("A tensor of `size` (varargs or one tuple) with this tensor's dtype and device unless given, "
                      f"filled with {fill}" + (" (new_empty too: PyTorch leaves its values unspecified)." if fill == 0
                                               else "."))
    return method


def _sizes(size):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    if not builtins.all(isinstance(n, (int, np.integer)) and not isinstance(n, bool) and n >= 0 for n in size):
        raise TypeError(f"expected a shape of non-negative ints, as varargs or one tuple, got {size!r}")
    return tuple(int(n) for n in size)


def _new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False):
    """A tensor of `size` filled with `fill_value`, with this tensor's dtype and device unless given, as in PyTorch."""
    xp = backend.get_array_module(self.array)
    array = xp.full(_sizes((size,)), fill_value, dtype=self.dtype if dtype is None else np.dtype(dtype))
    if device is not None:
        array = backend.to_device(array, device)
    return Tensor(array, requires_grad=requires_grad)


# -- dtypes and PyTorch's legacy tensor types -----------------------------------------------------------

_LEGACY_NAMES = {np.dtype(np.float32): "FloatTensor", np.dtype(np.float64): "DoubleTensor",
                 np.dtype(np.float16): "HalfTensor", np.dtype(np.int64): "LongTensor",
                 np.dtype(np.int32): "IntTensor", np.dtype(np.int16): "ShortTensor", np.dtype(np.int8): "CharTensor",
                 np.dtype(np.uint8): "ByteTensor", np.dtype(np.bool_): "BoolTensor"}


class LegacyTensorType:
    """PyTorch's legacy tensor types, `tinygan.FloatTensor`, `LongTensor`, ..., and `tinygan.cuda.FloatTensor`, ...

    Each stands for one dtype on one device. As a constructor: `FloatTensor(3, 1)` (or a `Size`) is a tensor of
    that shape, filled with zeros (PyTorch leaves its values unspecified); `FloatTensor([1, 2])` holds a copy of
    the data in the type's dtype; `FloatTensor()` is empty. As a target: `x.type(LongTensor)`. And
    `isinstance(x, FloatTensor)` asks for the dtype and the device, as in PyTorch. The `cuda` types live on
    the GPU (CuPy); where there is none they raise, as a PyTorch built without CUDA does, naming what to write.
    """

    def __init__(self, name, dtype, gpu=False):
        self.dtype, self.gpu = np.dtype(dtype), gpu
        self.__name__ = name
        self.__qualname__ = name

    @property
    def device(self):
        return "gpu" if self.gpu else "cpu"

    def __repr__(self):
        return f"<class 'tinygan.{'cuda.' if self.gpu else ''}{self.__name__}'>"

    def torch_name(self):
        """The name PyTorch gives this type, as `x.type()` returns it ('torch.FloatTensor')."""
        return f"torch.{'cuda.' if self.gpu else ''}{self.__name__}"

    def check_available(self):
        if self.gpu and not backend.cupy_available():
            raise TypeError(
                f"type tinygan.cuda.{self.__name__} not available: there is no GPU here (CuPy with a GPU is needed), "
                f"as in a PyTorch built without CUDA. Write tinygan.{self.__name__} for the CPU, or better, code that "
                f"runs on either: device = 'cuda' if tinygan.cuda.is_available() else 'cpu', then "
                f"tinygan.zeros(..., device=device) and x.to(device)")

    def __call__(self, *args, device=None):
        self.check_available()
        if device is not None and backend.normalize_device(device) != self.device:
            raise RuntimeError(f"{self!r}: device={device!r} does not match the type's device {self.device!r}")
        if not args or isinstance(args[0], Size) or builtins.all(
                isinstance(n, (int, np.integer)) and not isinstance(n, bool) for n in args):
            shape = (0,) if not args else tuple(args[0]) if isinstance(args[0], Size) else _sizes(args)
            array = np.zeros(shape, dtype=self.dtype)
        elif len(args) == 1:
            data = args[0]
            if isinstance(data, Tensor):
                data = data.array
            array = np.array(backend.to_numpy(data) if backend.device_of(data) == "gpu" else data, dtype=self.dtype)
        else:
            raise TypeError(f"{self!r}: expected a shape as ints, or one sequence of data, got {args!r}")
        return Tensor(backend.to_device(array, self.device))

    def __instancecheck__(self, value):
        return isinstance(value, Tensor) and value.dtype == self.dtype and value.is_cuda == self.gpu

    def __eq__(self, other):
        return isinstance(other, LegacyTensorType) and (self.dtype, self.gpu) == (other.dtype, other.gpu)

    def __hash__(self):
        return hash((self.dtype, self.gpu))


def legacy_types(gpu):
    """{name: LegacyTensorType} for the CPU's types (gpu=False) or the GPU's (tinygan.cuda's)."""
    return {name: LegacyTensorType(name, dtype, gpu) for dtype, name in _LEGACY_NAMES.items()}


def _convert(self, dtype, device=None):
    """This tensor with `dtype` (and on `device`): a float result stays in the graph, an integer or bool one is cut
    from it (integers carry no gradient), as in PyTorch. The tensor itself when nothing changes."""
    dtype = np.dtype(dtype)
    if dtype.kind in "fc":
        return self.to(dtype) if device is None else self.to(device, dtype)
    result = self if self.dtype == dtype else Tensor(self.array.astype(dtype))
    return result if device is None else result.to(device)


def _type(self, dtype=None, non_blocking=False, **kwargs):
    """x.type() is PyTorch's name of its type ('torch.FloatTensor', 'torch.cuda.LongTensor', ...); x.type(target)
    is x converted to `target`: a legacy type (`tinygan.LongTensor`, `tinygan.cuda.FloatTensor`), its name as a
    string ('torch.DoubleTensor'), a dtype (`tinygan.float64`), or `tinygan.Tensor` (the default dtype; the
    device stays). The tensor itself when it already has that type.
    """
    if kwargs:
        raise TypeError(f"type: unexpected keyword arguments {sorted(kwargs)}")
    if dtype is None:
        name = _LEGACY_NAMES.get(self.dtype)
        if name is None:
            raise TypeError(f"type: dtype {self.dtype} has no PyTorch type name")
        return f"torch.{'cuda.' if self.is_cuda else ''}{name}"
    if isinstance(dtype, str) and dtype.startswith(("torch.", "tinygan.")):
        name = dtype.split(".", 1)[1]
        gpu = name.startswith("cuda.")
        name = name[len("cuda."):] if gpu else name
        if name not in _LEGACY_NAMES.values():
            raise ValueError(f"type: invalid type {dtype!r}")
        dtype = LegacyTensorType(name, next(d for d, n in _LEGACY_NAMES.items() if n == name), gpu)
    if isinstance(dtype, LegacyTensorType):
        dtype.check_available()
        return _convert(self, dtype.dtype, dtype.device)
    if dtype is Tensor:
        return _convert(self, backend.get_default_dtype())
    return _convert(self, dtype)


def _long(self):
    """int64, cut from the graph (integers carry no gradient)."""
    return _convert(self, np.int64)


def _int(self):
    """int32, cut from the graph."""
    return _convert(self, np.int32)


def _half(self):
    """float16, in the graph (the gradient is cast back to this tensor's dtype)."""
    return _convert(self, np.float16)


def _bool(self):
    """bool, cut from the graph."""
    return _convert(self, np.bool_)


def _any(self, dim=None, keepdim=False):
    """Whether any value is nonzero (over dim), as a boolean tensor with no gradient, like torch.any."""
    return Tensor(self.array.any(axis=_axis(dim, None), keepdims=keepdim))


def _all(self, dim=None, keepdim=False):
    """Whether every value is nonzero (over dim), as a boolean tensor with no gradient, like torch.all."""
    return Tensor(self.array.all(axis=_axis(dim, None), keepdims=keepdim))


def _amax(self, dim=(), keepdim=False):
    """The largest values over dim (all axes for dim=()), like torch.amax: values only, the gradient shared
    among ties."""
    return reduce_max(self, axis=_axis(dim, None) if dim != () else None, keepdims=keepdim)


def _amin(self, dim=(), keepdim=False):
    return reduce_min(self, axis=_axis(dim, None) if dim != () else None, keepdims=keepdim)


def _flip(self, *dims):
    """x.flip(0, 1) and x.flip((0, 1)), like torch.Tensor.flip."""
    return flip(self, _shape_argument(dims))


def _gather(self, dim, index):
    return gather(self, dim, index)


def _logsumexp(self, dim, keepdim=False):
    return logsumexp(self, axis=dim, keepdims=keepdim)


def _cumsum(self, dim):
    return cumsum(self, dim)


def _var_mean(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """(variance, mean) over dim, as torch.var_mean."""
    return _var(self, dim, unbiased, keepdim, correction=correction), _mean(self, dim, keepdim)


def _std_mean(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """(standard deviation, mean) over dim, as torch.std_mean."""
    return _std(self, dim, unbiased, keepdim, correction=correction), _mean(self, dim, keepdim)


def _softmax(name, function):
    def method(self, dim, dtype=None):
        return function(self if dtype is None else self.to(dtype), dim=dim)
    method.__name__ = name
    method.__doc__ = f"{name} along dim, as torch.Tensor.{name}."
    return method


def _operands(self, other, unary):
    """The arrays (or number) an elementwise operator of self (and other) works on."""
    return (self.array,) if unary else (self.array, other.array if isinstance(other, Tensor) else other)


def _logical(ufunc_name, unary=False):
    """logical_and, logical_or, logical_xor or logical_not: any value but 0 counts as True; a boolean tensor with
    no gradient, as torch.logical_and and the rest."""
    def operator(self, other=None):
        return Tensor(getattr(backend.get_array_module(self.array), ufunc_name)(*_operands(self, other, unary)))
    operator.__name__ = ufunc_name
    return operator


def _bitwise(name, ufunc_name, unary=False):
    """An elementwise bitwise operator (&, |, ^, ~) on boolean or integer tensors; no gradient. PyTorch refuses
    them on floats too."""
    apply = _logical(ufunc_name, unary)

    def operator(self, other=None):
        operands = _operands(self, other, unary)
        if any(isinstance(a, float) or getattr(a, "dtype", np.dtype(bool)).kind == "f" for a in operands):
            raise TypeError(f"{name}: expects boolean or integer tensors, got "
                            f"{', '.join(str(getattr(a, 'dtype', type(a).__name__)) for a in operands)}")
        return apply(self, other)
    operator.__name__ = name
    return operator


def _reflected(function):
    """other (op) self, for Python's reflected operators (2 // x, 3 % x, True & mask); a number takes self's
    floating dtype, as in the other operators."""
    return lambda self, other: function(as_tensor(other, like=self), self)


def _in_place(name, out_of_place):
    """The in-place twin (exp_, floor_, scatter_, ...) of an operation: its result written into this tensor's
    memory, under the rules of every in-place method (refused where autograd would lose track of it)."""
    def method(self, *args, **kwargs):
        self._check_in_place(name, *args, *kwargs.values())
        with no_grad():
            result = out_of_place(self, *args, **kwargs)
        if tuple(result.shape) != tuple(self.shape):
            raise ValueError(f"{name}: the result of shape {tuple(result.shape)} does not fit this tensor's shape "
                             f"{tuple(self.shape)}")
        if not np.can_cast(result.dtype, self.dtype, "same_kind"):
            raise TypeError(f"{name}: the result's dtype {result.dtype} can't be cast to this tensor's {self.dtype}")
        self.array[...] = result.array
        return self._changed()
    method.__name__ = name
    method.__doc__ = f"{name[:-1]}, in place."
    return method


def _trace(self):
    """The sum of the main diagonal of a matrix, as torch.trace."""
    if self.ndim != 2:
        raise ValueError(f"trace: expects a matrix (2 dimensions), got shape {tuple(self.shape)}")
    return sum(diagonal(self))


def _bernoulli(self, p=None, *, generator=None):
    """0 or 1 at each place, 1 with probability self (or p), in self's dtype, as torch.bernoulli; no gradient."""
    xp = backend.get_array_module(self.array)
    chances = self.array if p is None else xp.full(self.shape, p, dtype=self.dtype)
    if bool(((chances < 0) | (chances > 1)).any()):
        raise ValueError("bernoulli: the probabilities must be in [0, 1]")
    draws = backend.random_source(generator, backend.device_of(self.array)).random(self.shape)
    return Tensor((draws < chances).astype(self.dtype))


def _bernoulli_(self, p=0.5, *, generator=None):
    """Fill with 0 or 1, 1 with probability p (a number or a tensor), in place."""
    chances = p if isinstance(p, Tensor) else Tensor(backend.get_array_module(self.array).full(self.shape, p))
    return self.copy_(_bernoulli(chances, generator=generator))


def _exponential_(self, lambd=1.0, *, generator=None):
    """Fill with samples of the exponential distribution of rate lambd (mean 1 / lambd), in place."""
    draws = backend.random_source(generator, backend.device_of(self.array)).exponential(1.0 / lambd, self.shape)
    return self.copy_(Tensor(draws.astype(self.dtype)))


def _new_tensor(self, data, dtype=None, device=None, requires_grad=False):
    """A new tensor of `data`, with this tensor's dtype and device unless given, as torch.Tensor.new_tensor."""
    values = backend.to_numpy(data.array) if isinstance(data, Tensor) else data
    array = np.asarray(values, dtype=self.dtype if dtype is None else dtype)
    return Tensor(backend.to_device(array, backend.device_of(self.array) if device is None else device),
                  requires_grad=requires_grad)


def _scatter(self, dim, index, src=None, value=None, *, reduce=None):
    return scatter(self, dim, index, src, value, reduce)


def _is_contiguous(self, memory_format=None):
    """Whether the values are C-contiguous in memory (channels-last memory is not), as torch.Tensor.is_contiguous."""
    return bool(self.array.flags.c_contiguous)


def _stride(self, dim=None):
    """The steps between neighbouring elements along each dimension, counted in elements, as torch's stride()."""
    steps = tuple(step // self.array.itemsize for step in self.array.strides)
    return steps if dim is None else steps[dim]


# PyTorch's names for the same operations, and its in-place twins of the elementwise ones
ALIASES = {"clip": "clamp", "fix": "trunc", "sgn": "sign", "moveaxis": "movedim", "absolute": "abs",
           "multiply": "mul", "subtract": "sub", "divide": "div", "true_divide": "div", "ndimension": "dim",
           "bitwise_and": "__and__", "bitwise_or": "__or__", "bitwise_xor": "__xor__", "bitwise_not": "__invert__"}
IN_PLACE = ("exp", "log", "sqrt", "abs", "neg", "sigmoid", "tanh", "relu", "pow", "floor", "ceil", "round", "trunc",
            "sign", "frac", "reciprocal", "remainder", "fmod", "clamp_min", "clamp_max", "clip", "log1p", "expm1",
            "rsqrt", "scatter", "scatter_add", "index_add", "floor_divide", "sin", "cos", "erf", "cumprod",
            "nan_to_num")


def install():
    """Put the PyTorch-style methods on Tensor."""
    methods = {
        "sum": _sum, "mean": _mean, "var": _var, "std": _std,
        "max": _extremum(reduce_max, max_with_indices, maximum),
        "min": _extremum(reduce_min, min_with_indices, minimum),
        "argmax": _arg("argmax"), "argmin": _arg("argmin"),
        "view": _view, "flatten": _flatten, "t": _t, "contiguous": _contiguous, "clone": clone,
        "squeeze": squeeze, "unsqueeze": unsqueeze, "expand": expand, "repeat": repeat,
        "add": _add, "sub": _sub, "mul": mul, "div": _div, "neg": neg, "split": split, "chunk": chunk,
        "matmul": matmul, "pow": pow, "abs": abs, "__abs__": abs, "masked_fill": masked_fill,
        "view_as": _view_as, "expand_as": _expand_as, "narrow": _narrow, "norm": _norm,
        "new_zeros": _new(0), "new_ones": _new(1), "new_empty": _new(0), "new_full": _new_full,
        "type": _type, "long": _long, "int": _int, "half": _half, "bool": _bool,
        "any": _any, "all": _all, "amax": _amax, "amin": _amin, "flip": _flip, "gather": _gather,
        "logsumexp": _logsumexp, "cumsum": _cumsum,
        "tril": tril, "triu": triu, "lerp": lerp, "bmm": bmm, "outer": outer, "sort": sort, "topk": topk,
        "roll": roll, "index_select": index_select,
        "floor": floor, "ceil": ceil, "round": round, "trunc": trunc, "sign": sign, "frac": frac,
        "remainder": remainder, "fmod": fmod, "floor_divide": floor_divide,
        "__floordiv__": floor_divide, "__rfloordiv__": _reflected(floor_divide),
        "__mod__": remainder, "__rmod__": _reflected(remainder),
        "log1p": log1p, "expm1": expm1, "erf": erf, "log2": log2, "log10": log10, "reciprocal": reciprocal,
        "rsqrt": rsqrt, "sin": sin, "cos": cos, "square": lambda self: mul(self, self),
        "clamp_min": lambda self, min: clamp(self, min=min), "clamp_max": lambda self, max: clamp(self, max=max),
        "maximum": maximum, "minimum": minimum, "where": lambda self, condition, other: where(condition, self, other),
        "softmax": _softmax("softmax", softmax), "log_softmax": _softmax("log_softmax", log_softmax),
        "prod": prod, "median": median, "kthvalue": kthvalue, "nansum": nansum, "nanmean": nanmean,
        "var_mean": _var_mean, "std_mean": _std_mean, "count_nonzero": count_nonzero, "nonzero": nonzero,
        "argwhere": lambda self: nonzero(self), "unique": unique,
        "scatter": _scatter, "scatter_add": scatter_add, "index_add": index_add,
        "unbind": unbind, "select": select, "movedim": movedim, "unflatten": unflatten, "tile": tile,
        "repeat_interleave": repeat_interleave, "diagonal": diagonal, "diag": diag,
        "trace": _trace,
        "__and__": _bitwise("&", "bitwise_and"), "__or__": _bitwise("|", "bitwise_or"),
        "__xor__": _bitwise("^", "bitwise_xor"), "__invert__": _bitwise("~", "invert", unary=True),
        "logical_and": _logical("logical_and"), "logical_or": _logical("logical_or"),
        "logical_xor": _logical("logical_xor"), "logical_not": _logical("logical_not", unary=True),
        "is_contiguous": _is_contiguous, "stride": _stride,
        "cumprod": cumprod, "nan_to_num": nan_to_num, "diff": diff, "rot90": rot90, "take_along_dim": take_along_dim,
        "masked_select": masked_select, "bernoulli": _bernoulli, "bernoulli_": _bernoulli_,
        "exponential_": _exponential_, "new_tensor": _new_tensor,
        "element_size": lambda self: self.array.itemsize, "is_floating_point": lambda self: self.dtype.kind == "f",
    }
    for name in ("__and__", "__or__", "__xor__"):
        methods["__r" + name[2:]] = _reflected(methods[name])
    for name, function in methods.items():
        setattr(Tensor, name, function)
    for alias, name in ALIASES.items():
        setattr(Tensor, alias, getattr(Tensor, name))
    for name in IN_PLACE:
        setattr(Tensor, name + "_", _in_place(name + "_", getattr(Tensor, name)))

