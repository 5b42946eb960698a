"""The top level PyTorch code expects: creation functions, dtype names, devices and a few functions.

`tinygan.zeros(2, 3)`, `tinygan.randn((4, 8), dtype=tinygan.float64, requires_grad=True)`,
`tinygan.cat([a, b], dim=1)`, `tinygan.device("cuda")`: the names, arguments and defaults are PyTorch's.
Shapes may be given as varargs or as one tuple; `device=` takes "cpu", "gpu" or "cuda" (default: the
current backend's device); floating tensors are float32 unless `dtype=` says otherwise.
"""
import builtins

import numpy as np

from . import backend, functional as F
from .autograd import Tensor
from .backend import Device as device
from .functional.tensor_methods import legacy_types

# PyTorch's legacy tensor types (FloatTensor(3, 1), x.type(LongTensor)): see tensor_methods.LegacyTensorType
_LEGACY = legacy_types(gpu=False)
FloatTensor, DoubleTensor, HalfTensor, LongTensor, IntTensor, ShortTensor, CharTensor, ByteTensor, BoolTensor = (
    _LEGACY[name] for name in ("FloatTensor", "DoubleTensor", "HalfTensor", "LongTensor", "IntTensor", "ShortTensor",
                               "CharTensor", "ByteTensor", "BoolTensor"))

float32, float64, int64, bool = np.float32, np.float64, np.int64, np.bool_
float16, int32, int16, int8, uint8 = np.float16, np.int32, np.int16, np.int8, np.uint8
float, double, long, half, int, short = float32, float64, int64, float16, int32, int16


def _shape(size):
    """`f(2, 3)`, `f((2, 3))` and `f([2, 3])` all as the tuple (2, 3)."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    if not builtins.all(isinstance(n, (builtins.int, np.integer)) and n >= 0 for n in size):
        raise TypeError(f"expected a shape of non-negative ints, as varargs or one tuple, got {size!r}")
    return tuple(builtins.int(n) for n in size)


def _xp(device_name):
    """The array module of `device_name` (None: the current backend)."""
    if device_name is None:
        return backend.xp()
    return backend.module_for("cupy" if backend.normalize_device(device_name) == "gpu" else "numpy")


def _finish(array, requires_grad):
    return Tensor(array, requires_grad=requires_grad)


def _float_dtype(dtype):
    return np.dtype(dtype) if dtype is not None else np.dtype(backend.get_default_dtype())


def tensor(data, dtype=None, device=None, requires_grad=False):
    """A new tensor holding a copy of `data` (a list, number, array or tensor).

    Python floats become the default dtype (float32); ints int64, bools bool, as in PyTorch.
    """
    if isinstance(data, Tensor):
        data = data.numpy()
    array = np.array(backend.to_numpy(data) if backend.device_of(data) == "gpu" else data, dtype=dtype)
    if dtype is None and array.dtype.kind == "f" and not isinstance(data, np.ndarray):
        array = array.astype(backend.get_default_dtype())
    target = backend.current_device() if device is None else device
    return _finish(backend.to_device(array, target), requires_grad)


def from_numpy(array):
    """A tensor sharing the memory of a NumPy array (its dtype kept), like torch.from_numpy."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected a NumPy array, got {type(array).__name__}")
    return Tensor(array)


def zeros(*size, dtype=None, device=None, requires_grad=False):
    return _finish(_xp(device).zeros(_shape(size), dtype=_float_dtype(dtype)), requires_grad)


def ones(*size, dtype=None, device=None, requires_grad=False):
    return _finish(_xp(device).ones(_shape(size), dtype=_float_dtype(dtype)), requires_grad)


def empty(*size, dtype=None, device=None, requires_grad=False):
    """An uninitialised tensor: here it is zeros (NumPy's empty would show whatever memory held)."""
    return zeros(*size, dtype=dtype, device=device, requires_grad=requires_grad)


def full(size, fill_value, dtype=None, device=None, requires_grad=False):
    """A tensor of `size` filled with `fill_value`: a float fill gives the default float dtype, an int int64."""
    if dtype is None:
        dtype = backend.get_default_dtype() if isinstance(fill_value, builtins.float) else np.asarray(fill_value).dtype
    return _finish(_xp(device).full(_shape((size,)), fill_value, dtype=dtype), requires_grad)




def randn(*size, dtype=None, device=None, requires_grad=False, generator=None):
    """Samples of N(0, 1) from the seeded generator (tinygan.manual_seed)."""
    rng = backend.random_source(generator, device)
    return _finish(rng.standard_normal(_shape(size), dtype=_float_dtype(dtype)), requires_grad)


def rand(*size, dtype=None, device=None, requires_grad=False, generator=None):
    """Samples of U[0, 1)."""
    rng = backend.random_source(generator, device)
    return _finish(rng.random(_shape(size), dtype=_float_dtype(dtype)), requires_grad)


def randint(low, high=None, size=None, dtype=None, device=None, generator=None):
    """Integers uniform in [low, high) (or [0, low) when high is left out, as in randint(10, (3,))), int64 like
    PyTorch."""
    if size is None and isinstance(high, (tuple, list)):
        low, high, size = 0, low, high
    if high is None:
        low, high = 0, low
    if size is None:
        raise TypeError("randint: size= is required, e.g. randint(0, 10, (3,))")
    rng = backend.random_source(generator, device)
    return Tensor(rng.integers(low, high, _shape((size,))).astype(dtype or np.int64))


def randperm(n, dtype=None, device=None, generator=None, requires_grad=False):
    """A random permutation of 0..n-1 (int64), from the seeded generator, like torch.randperm."""
    rng = backend.random_source(generator, device)
    return _finish(rng.permutation(builtins.int(n)).astype(dtype or np.int64), requires_grad)


def multinomial(input, num_samples, replacement=False, generator=None):
    """Indices drawn with probabilities proportional to the weights in each row of `input`, like torch.multinomial.

    input        -- non-negative weights, one distribution (1-D) or one per row (2-D); they need not sum to 1
    num_samples  -- how many indices to draw from each distribution
    replacement  -- with replacement: independent draws. Without: each index at most once, drawn one after the
                    other from the weights of the indices left (by Efraimidis & Spirakis' keys u^(1/w), 2006,
                    which give that same distribution in one pass); indices of weight 0 come after all the others
    Returns int64 indices of shape (num_samples,) or (rows, num_samples), on input's device, from the seeded
    generator (tinygan.manual_seed). The draws differ from PyTorch's, whose generator is another one.
    """
    weights = input.array if isinstance(input, Tensor) else _xp(None).asarray(input)
    xp = backend.get_array_module(weights)
    if weights.ndim not in (1, 2):
        raise RuntimeError(f"multinomial: prob_dist must be 1 or 2 dim, got shape {tuple(weights.shape)}")
    rows = weights.reshape(1, -1) if weights.ndim == 1 else weights
    categories = rows.shape[1]
    if num_samples <= 0:
        raise RuntimeError(f"multinomial: cannot sample n_sample <= 0 samples (num_samples={num_samples})")
    if not replacement and num_samples > categories:
        raise RuntimeError(f"multinomial: cannot sample n_sample ({num_samples}) > prob_dist.size(-1) ({categories}) "
                         f"samples without replacement; pass replacement=True")
    rows = rows.astype(np.float64)
    if not builtins.bool(xp.isfinite(rows).all()) or builtins.bool((rows < 0).any()):
        raise RuntimeError("multinomial: probability tensor contains either inf, nan or element < 0")
    if builtins.bool((rows.sum(axis=1) <= 0).any()):
        raise RuntimeError("multinomial: invalid multinomial distribution (sum of probabilities <= 0)")
    rng = backend.random_source(generator, backend.device_of(rows))
    if replacement:
        cumulative = xp.cumsum(rows, axis=1)
        draws = rng.random((rows.shape[0], num_samples)) * cumulative[:, -1:]
        picked = xp.stack([xp.searchsorted(c, d, side="right") for c, d in zip(cumulative, draws)])
        picked = xp.minimum(picked, categories - 1)
    else:
        with np.errstate(divide="ignore"):
            keys = xp.log(rng.random(rows.shape)) / rows   # log(u^(1/w)); -inf for weight 0
        keys = xp.where(rows > 0, keys, -xp.inf)
        picked = xp.argsort(-keys, axis=1)[:, :num_samples]
    picked = picked.astype(np.int64)
    return Tensor(picked.reshape(-1) if weights.ndim == 1 else picked)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False):
    """Values from start (0 if only one bound) up to, not including, end: int64 for ints, float32 for floats."""
    if end is None:
        start, end = 0, start
    if dtype is None:
        is_float = builtins.any(isinstance(v, builtins.float) for v in (start, end, step))
        dtype = backend.get_default_dtype() if is_float else np.int64
    return _finish(_xp(device).arange(start, end, step, dtype=dtype), requires_grad)


def linspace(start, end, steps, dtype=None, device=None, requires_grad=False):
    """`steps` evenly spaced values from start to end, both included."""
    return _finish(_xp(device).linspace(start, end, steps, dtype=_float_dtype(dtype)), requires_grad)


def eye(n, m=None, dtype=None, device=None, requires_grad=False):
    """The identity matrix (n rows, m columns; square by default)."""
    return _finish(_xp(device).eye(n, m, dtype=_float_dtype(dtype)), requires_grad)


def _like(x, dtype, device):
    return (x.dtype if dtype is None else dtype), (x.device if device is None else device)


def zeros_like(x, dtype=None, device=None, requires_grad=False):
    dtype, device = _like(x, dtype, device)
    return zeros(*x.shape, dtype=dtype, device=device, requires_grad=requires_grad)


def ones_like(x, dtype=None, device=None, requires_grad=False):
    dtype, device = _like(x, dtype, device)
    return ones(*x.shape, dtype=dtype, device=device, requires_grad=requires_grad)


def full_like(x, fill_value, dtype=None, device=None, requires_grad=False):
    dtype, device = _like(x, dtype, device)
    return full(x.shape, fill_value, dtype=dtype, device=device, requires_grad=requires_grad)


def randn_like(x, dtype=None, device=None, requires_grad=False):
    dtype, device = _like(x, dtype, device)
    return randn(*x.shape, dtype=dtype, device=device, requires_grad=requires_grad)


def rand_like(x, dtype=None, device=None, requires_grad=False):
    dtype, device = _like(x, dtype, device)
    return rand(*x.shape, dtype=dtype, device=device, requires_grad=requires_grad)


def randint_like(x, low=0, high=None, dtype=None, device=None):
    """Integers uniform in [low, high) (or [0, low) with one bound, as torch.randint_like(x, high)) in x's shape,
    with x's dtype and device unless given."""
    dtype, device = _like(x, dtype, device)
    low, high = (0, low) if high is None else (low, high)
    return randint(low, high, tuple(x.shape), device=device).to(dtype)


def empty_like(x, dtype=None, device=None, requires_grad=False):
    """A tensor of x's shape (zeros here, as tinygan's empty), with x's dtype and device unless given."""
    return zeros_like(x, dtype, device, requires_grad)


def normal(mean, std=1.0, size=None, generator=None, dtype=None, device=None):
    """Samples of N(mean, std^2), like torch.normal: elementwise for tensors mean and/or std (broadcast), or of
    `size` for numbers; no gradient flows to mean or std (PyTorch's neither: use mean + std * randn_like(std)
    for the reparameterisation)."""
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        like = mean if isinstance(mean, Tensor) else std
        xp = backend.get_array_module(like.array)
        mean_array, std_array = (v.array if isinstance(v, Tensor) else v for v in (mean, std))
        shape = np.broadcast_shapes(np.shape(mean_array), np.shape(std_array))
        draws = backend.random_source(generator, backend.device_of(like.array)).standard_normal(shape)
        return Tensor((mean_array + std_array * draws).astype(like.dtype))
    if size is None:
        raise TypeError("normal: with a number mean and std, give size=, e.g. normal(0.0, 1.0, size=(3,))")
    rng = backend.random_source(generator, device)
    return Tensor(mean + std * rng.standard_normal(_shape((size,)), dtype=_float_dtype(dtype)))


def is_tensor(obj):
    return isinstance(obj, Tensor)


def cat(tensors, dim=0):
    """Join tensors along an existing dimension, like torch.cat."""
    return F.concat(list(tensors), axis=dim)


def split(tensor, split_size_or_sections, dim=0):
    """Pieces of `tensor` along dim, like torch.split (see Tensor.split)."""
    return tensor.split(split_size_or_sections, dim)


def chunk(tensor, chunks, dim=0):
    """At most `chunks` pieces of `tensor` along dim, like torch.chunk (see Tensor.chunk)."""
    return tensor.chunk(chunks, dim)


def stack(tensors, dim=0):
    return F.stack(tensors, dim=dim)


def where(condition, input=None, other=None):
    """input where condition holds, else other, like torch.where; where(condition) alone is
    nonzero(condition, as_tuple=True), the indices where it holds."""
    if input is None and other is None:
        return condition.nonzero(as_tuple=True)
    return F.where(condition, input, other)


def exp(x):
    return F.exp(x)


def log(x):
    return F.log(x)


def flatten(x, start_dim=0, end_dim=-1):
    """x with dims start_dim..end_dim merged into one, as torch.flatten."""
    return x.flatten(start_dim, end_dim)


def sum(x, dim=None, keepdim=False):
    return x.sum(dim, keepdim)


def mean(x, dim=None, keepdim=False):
    return x.mean(dim, keepdim)


def sigmoid(x):
    return F.sigmoid(x)


def tanh(x):
    return F.tanh(x)


def relu(x):
    return F.relu(x)


def maximum(a, b):
    return F.maximum(a, b)


def minimum(a, b):
    return F.minimum(a, b)


def abs(x):
    return F.abs(x)


def pow(x, exponent):
    return F.pow(x, exponent)


def sqrt(x):
    return F.sqrt(x)


def clamp(x, min=None, max=None):
    return F.clamp(x, min, max)


def _compare(name):
    """torch.eq, ne, lt, le, gt or ge: an elementwise comparison as a boolean tensor."""
    def compare(a, b):
        return getattr(a if isinstance(a, Tensor) else tensor(a), name)(b)
    compare.__name__, compare.__doc__ = name, f"a {name} b elementwise, as a boolean tensor (torch.{name})."
    return compare


eq, ne, lt, le, gt, ge = (_compare(name) for name in ("eq", "ne", "lt", "le", "gt", "ge"))


def max(x, dim=None, keepdim=False):
    """torch.max: the largest value; with dim, (values, indices); with a tensor second argument, elementwise."""
    if isinstance(dim, Tensor):
        return F.maximum(x, dim)
    return x.max() if dim is None else x.max(dim, keepdim)


def min(x, dim=None, keepdim=False):
    """torch.min: the smallest value; with dim, (values, indices); with a tensor second argument, elementwise."""
    if isinstance(dim, Tensor):
        return F.minimum(x, dim)
    return x.min() if dim is None else x.min(dim, keepdim)


bmm, einsum, outer, lerp, tril, triu, flip, roll = F.bmm, F.einsum, F.outer, F.lerp, F.tril, F.triu, F.flip, F.roll
gather, index_select, sort, topk = F.gather, F.index_select, F.sort, F.topk


def numel(x):
    """The number of elements of x, like torch.numel."""
    return x.numel()


def as_tensor(data, dtype=None, device=None):
    """data as a tensor, like torch.as_tensor: a tensor of that dtype and device is returned itself, and a NumPy
    array of that dtype on the CPU is shared, not copied; anything else is copied as by tensor()."""
    same_dtype = dtype is None or np.dtype(dtype) == getattr(data, "dtype", None)
    if isinstance(data, Tensor):
        moved = data.to(device) if device is not None else data
        return moved if same_dtype else moved.to(np.dtype(dtype))
    on_cpu = backend.normalize_device(device or backend.current_device()) == "cpu"
    if isinstance(data, np.ndarray) and same_dtype and on_cpu:
        return Tensor(data)
    return tensor(data, dtype=dtype, device=device)


def clone(x):
    """A copy of x with its own memory, still in the graph, like torch.clone."""
    return F.clone(x)


def square(x):
    """x * x, like torch.square."""
    return x * x


def argsort(x, dim=-1, descending=False):
    """The int64 indices that sort x along dim (ties in their original order), like torch.argsort."""
    return F.sort(x, dim, descending).indices


def meshgrid(*tensors, indexing="ij"):
    """Coordinate grids from 1-D tensors, like torch.meshgrid: with indexing='ij' grid k varies along axis k;
    'xy' swaps the first two axes (NumPy's and matplotlib's convention). Each grid is a broadcast, in the graph."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing not in ("ij", "xy"):
        raise ValueError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    if builtins.any(t.ndim != 1 for t in tensors):
        raise ValueError(f"meshgrid: expects 1-D tensors, got shapes {[tuple(t.shape) for t in tensors]}")
    order = list(range(len(tensors)))
    if indexing == "xy" and len(tensors) >= 2:
        order[0], order[1] = 1, 0
    shape = tuple(tensors[k].shape[0] for k in order)
    axes = [order.index(k) for k in range(len(tensors))]        # the output axis along which tensor k varies
    return tuple(F.expand(t.reshape(tuple(-1 if i == axis else 1 for i in range(len(shape)))), shape)
                 for t, axis in zip(tensors, axes))


def logsumexp(x, dim, keepdim=False):
    """log sum exp of x over `dim` (one axis), computed without overflow, like torch.logsumexp."""
    return F.logsumexp(x, axis=dim, keepdims=keepdim)


def cumsum(x, dim):
    """The running sum of x along `dim`, like torch.cumsum."""
    return F.cumsum(x, dim)


def _elementwise_test(name):
    """torch.isnan, isinf or isfinite (NumPy's and CuPy's function of that name): a boolean tensor, no gradient."""
    def check(x):
        array = x.array if isinstance(x, Tensor) else tensor(x).array
        return Tensor(getattr(backend.get_array_module(array), name)(array))
    check.__name__, check.__doc__ = name, f"Where x is {name[2:]} (torch.{name}), as a boolean tensor."
    return check


isnan, isinf, isfinite = (_elementwise_test(name) for name in ("isnan", "isinf", "isfinite"))


def any(x, dim=None, keepdim=False):
    """Whether any value of x is nonzero (over dim), like torch.any."""
    return x.any(dim, keepdim)


def all(x, dim=None, keepdim=False):
    """Whether every value of x is nonzero (over dim), like torch.all."""
    return x.all(dim, keepdim)


def allclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Whether |a - b| <= atol + rtol |b| everywhere (tensors or arrays), like torch.allclose."""
    a, b = (backend.to_numpy(v.array if isinstance(v, Tensor) else v) for v in (a, b))
    return builtins.bool(np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan))


def _method_as_function(name):
    """torch.<name>(input, ...) as input.<name>(...): the top-level form of a Tensor method."""
    def function(input, *args, **kwargs):
        return getattr(input if isinstance(input, Tensor) else tensor(input), name)(*args, **kwargs)
    function.__name__ = name
    function.__doc__ = f"torch.{name}(input, ...): input.{name}(...), see Tensor.{name}."
    return function


# Functions that PyTorch has at the top level and as Tensor methods, made from the methods.
METHODS_AS_FUNCTIONS = (
    "floor", "ceil", "round", "trunc", "fix", "sign", "sgn", "frac", "remainder", "fmod", "floor_divide", "div",
    "log1p", "expm1", "erf", "log2", "log10", "reciprocal", "rsqrt", "sin", "cos", "clip", "clamp_min", "clamp_max",
    "prod", "median", "kthvalue", "nansum", "nanmean", "var", "std", "var_mean", "std_mean", "count_nonzero",
    "nonzero", "argwhere", "unique", "scatter", "scatter_add", "index_add", "unbind", "select", "movedim",
    "moveaxis", "unflatten", "tile", "repeat_interleave", "diagonal", "diag", "trace", "narrow", "swapaxes",
    "cumprod", "nan_to_num", "diff", "rot90", "take_along_dim", "masked_select", "bernoulli",
    "logical_and", "logical_or", "logical_xor", "logical_not", "bitwise_and", "bitwise_or", "bitwise_xor",
    "bitwise_not",
)
for _name in METHODS_AS_FUNCTIONS:
    globals()[_name] = _method_as_function(_name)


def hstack(tensors):
    """Tensors joined along their second axis (their first, for vectors), like torch.hstack."""
    return F.hstack(tensors)


def vstack(tensors):
    """Tensors joined along their first axis, a vector taken as a row, like torch.vstack."""
    return F.vstack(tensors)


Generator = backend.Generator


__all__ = [
    "Generator",
    "tensor", "from_numpy", "zeros", "ones", "empty", "full", "randn", "rand", "randint", "arange", "linspace", "eye",
    "zeros_like", "ones_like", "full_like", "randn_like", "is_tensor", "randperm", "multinomial",
    "rand_like", "randint_like", "empty_like", "normal",
    "FloatTensor", "DoubleTensor", "HalfTensor", "LongTensor", "IntTensor", "ShortTensor", "CharTensor", "ByteTensor",
    "BoolTensor",
    "cat", "split", "chunk", "stack", "where", "flatten", "exp", "log", "sum", "mean", "sigmoid", "tanh", "relu", "maximum", "minimum", "allclose",
    "abs", "pow", "sqrt", "clamp", "eq", "ne", "lt", "le", "gt", "ge", "max", "min",
    "bmm", "einsum", "outer", "lerp", "tril", "triu", "flip", "roll", "gather", "index_select", "sort", "topk",
    "logsumexp", "cumsum",
    "isnan", "isinf", "isfinite",
    "any", "all", "numel", "as_tensor", "clone", "square", "argsort", "meshgrid",
    "float32", "float64", "int64", "bool", "float", "double", "long", "device",
    "float16", "int32", "int16", "int8", "uint8", "half", "int", "short",
    "hstack", "vstack", *METHODS_AS_FUNCTIONS,
]
