"""Reverse-mode automatic differentiation: `Tensor`, `Function`, `backward`, `grad`.

A `Tensor` wraps an array of the current backend. Each differentiable operation
is a `Function` subclass with `forward` (arrays in, array out) and `backward`
(the gradient of the output in, the gradients of the inputs out). Calling an
operation on tensors that require gradients records the `Function` on its
output (`tensor.creator`), so the outputs remember the graph that made them.

`backward()` walks that graph once, in reverse topological order, adding up
each tensor's gradient from all its consumers (the multivariate chain rule):

    dL/dx = sum over consumers f of (df/dx)^T dL/df

`backward` of every Function is written with tinygan's own differentiable
operations, so with `create_graph=True` the gradient computation is itself
recorded and can be differentiated again (gradient penalties need this). By
default nothing is recorded during backward, so ordinary training pays nothing.

The operators (`+`, `*`, `@`, `.sum()`, ...) are installed on `Tensor` by
`tinygan.functional` when it is imported; this file only knows the graph.
"""
import contextlib
import os
import sys
import weakref

import numpy as np

from . import backend

_grad_mode = {"enabled": True}


def is_grad_enabled():
    """True when new operations record the graph for backward."""
    return _grad_mode["enabled"]


@contextlib.contextmanager
def set_grad_enabled(enabled):
    """Turn recording of the graph on or off inside a `with` block."""
    previous = _grad_mode["enabled"]
    _grad_mode["enabled"] = bool(enabled)
    try:
        yield
    finally:
        _grad_mode["enabled"] = previous


_anomaly = {"enabled": False}
_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


class AnomalyError(FloatingPointError):
    """An operation produced NaN or Inf while `detect_anomaly()` was on."""


@contextlib.contextmanager
def detect_anomaly():
    """`with detect_anomaly():` checks every forward output and every backward gradient for NaN/Inf.

    The first non-finite value raises AnomalyError naming the operation, forward
    or backward, the shapes, and the line of your code that created the operation.
    Off by default: when off it costs one dictionary lookup per operation.
    """
    previous = _anomaly["enabled"]
    _anomaly["enabled"] = True
    try:
        yield
    finally:
        _anomaly["enabled"] = previous


# The engine's own files: an op is reported at the first frame outside them, which is the model or
# loss code that made it, whether that is the user's script or tinygan's models and training.
_ENGINE_PATHS = tuple(os.path.join(_PACKAGE_DIR, name) for name in
                      ("autograd.py", "backend.py", "functional" + os.sep, "nn" + os.sep, "kernels" + os.sep))


def _in_engine(filename):
    """Whether `filename` is one of the engine's files (a path prefix with its separator: tinygan_x.py is not)."""
    return os.path.abspath(filename).startswith(_ENGINE_PATHS)


def _user_frame():
    """'file:line' of the innermost caller outside the engine's files (where the model code made the op)."""
    frame = sys._getframe(1)
    while frame is not None and _in_engine(frame.f_code.co_filename):
        frame = frame.f_back
    return "an unknown place" if frame is None else f"{frame.f_code.co_filename}:{frame.f_lineno}"


def _check_finite(function, phase, arrays, input_shapes):
    """Raise AnomalyError if any of `arrays` holds NaN or Inf."""
    for index, array in enumerate(arrays):
        if array is None or array.dtype.kind not in "fc":
            continue
        xp = backend.get_array_module(array)
        if bool(xp.isfinite(array).all()):
            continue
        nans, infs = int(xp.isnan(array).sum()), int(xp.isinf(array).sum())
        what = "output" if phase == "forward" else f"gradient for input {index}"
        raise AnomalyError(
            f"detect_anomaly: {type(function).__name__} {phase} produced {nans} NaN and {infs} Inf values in its "
            f"{what} of shape {tuple(array.shape)} (input shapes {input_shapes}); the operation was created at "
            f"{getattr(function, 'created_at', 'an unknown place')}")


def no_grad():
    """`with no_grad():` runs operations without recording a graph (evaluation, sampling)."""
    return set_grad_enabled(False)


def enable_grad():
    """`with enable_grad():` records the graph even inside `no_grad()`."""
    return set_grad_enabled(True)


def inference_mode(mode=True):
    """PyTorch's `with inference_mode():` (or `@inference_mode()`): here `no_grad()`, since tinygan has no
    tensors marked for inference only; `inference_mode(False)` changes nothing."""
    return set_grad_enabled(False) if mode else _grad_mode_unchanged()


@contextlib.contextmanager
def _grad_mode_unchanged():
    yield


def _to_array(data, dtype=None):
    """An array of the current backend from a list, scalar or array (no copy if it already is one)."""
    if type(data) is np.ndarray and dtype is None:  # what every operation's output is: checked first, fast
        return data
    if isinstance(data, Tensor):
        data = data._data
    if isinstance(data, np.generic):  # a NumPy scalar (e.g. a full reduction) keeps its dtype
        data = np.asarray(data)
    if isinstance(data, np.ndarray) or backend.device_of(data) == "gpu":
        return data if dtype is None or data.dtype == dtype else data.astype(dtype)
    array = backend.xp().asarray(data, dtype=dtype)
    if dtype is None and array.dtype.kind == "f":
        array = array.astype(backend.get_default_dtype(), copy=False)
    return array


# -- in place, at the array level: the in-place methods of Tensor, after PyTorch's autograd rules --

def _plain(value):
    """A Tensor or number as something an array accepts (a plain array or the number)."""
    return value._data if isinstance(value, Tensor) else value


def _fill(array, value):
    array[...] = _plain(value)


def _normal(array, mean=0.0, std=1.0):
    """array <- samples of N(mean, std^2), in the array's dtype, from its device's generator."""
    draws = backend.rng_for(array).standard_normal(array.shape, dtype=array.dtype)
    array[...] = draws * array.dtype.type(std) + array.dtype.type(mean)


def _uniform(array, low=0.0, high=1.0):
    """array <- samples of U[low, high), in the array's dtype, from its device's generator."""
    draws = backend.rng_for(array).random(array.shape, dtype=array.dtype)
    array[...] = draws * array.dtype.type(high - low) + array.dtype.type(low)


def _add(array, other, alpha=1):
    other = _plain(other)
    array += other if alpha == 1 else alpha * other


def _mul(array, other):
    array *= _plain(other)


def _divide(array, other):
    array /= _plain(other)


def _power(array, exponent):
    array **= _plain(exponent)


def _copy(array, source):
    """array <- source, broadcast to array's shape, cast to its dtype, moved to its device."""
    array[...] = _on_device_of(array, _plain(source))


def _on_device_of(array, value):
    """`value` (a number or an array) where `array` is: numbers as they are, arrays moved."""
    if isinstance(value, (int, float, bool, np.generic)):
        return value
    return backend.to_device(value, backend.device_of(array))


def _clamp(array, min=None, max=None):
    if min is None and max is None:
        raise ValueError("clamp_: at least one of min and max must be given")
    backend.get_array_module(array).clip(array, min, max, out=array)


class Size(tuple):
    """The shape of a tensor, as `size()` returns it: a tuple, like torch.Size."""

    def numel(self):
        count = 1
        for n in self:
            count *= n
        return count


def _dim_index(op_name, dim, ndim):
    """`dim` as a non-negative axis, or PyTorch's IndexError naming the op and the valid range."""
    low, high = (-1, 0) if ndim == 0 else (-ndim, ndim - 1)
    if not isinstance(dim, (int, np.integer)) or not low <= dim <= high:
        raise IndexError(f"{op_name}: dimension out of range (expected to be in range of [{low}, {high}], "
                         f"but got {dim})")
    return int(dim) % max(ndim, 1)


def _shape_constructor(sizes):
    """`Tensor(3, 1)`, PyTorch's constructor of a tensor of that shape in the default dtype, as the arguments of
    Tensor(data, requires_grad, dtype, name). PyTorch leaves the values unspecified; here they are zeros. One
    int alone, `Tensor(3)`, stays a tensor holding the number 3 (PyTorch's would have shape (3,)): write
    `tinygan.zeros(3)` or `tinygan.empty(3)` for that."""
    sizes = tuple(n for n in sizes if n is not None)
    if not all(type(n) is int and n >= 0 for n in sizes):
        raise TypeError(f"Tensor: expected a shape of non-negative ints, got {sizes!r}")
    return backend.xp().zeros(sizes, dtype=backend.get_default_dtype()), False, None, None


class Tensor:
    """An array together with its gradient and the operation that created it.

    data          -- the values: the NumPy or CuPy array (see below)
    grad          -- a Tensor of the same shape, filled by backward() (leaves only)
    requires_grad -- whether gradients flow to this tensor
    creator       -- the Function that produced it (None for leaves)

    `.array` is the array of values, a NumPy array on the CPU and a CuPy array on the GPU; the engine computes
    with it (`xp.exp(t.array)`, `t.array.shape`). `.data` is what it is in PyTorch: a Tensor that shares that
    array, has no history and does not require grad, so every tensor method works on it and in-place changes
    reach the original: `m.weight.data.normal_(0.0, 0.02)` and `p.data.clamp_(-c, c)` change `m.weight` and
    `p` without autograd's checks. Assigning `t.data = other` (a tensor or an array) replaces the values.

    The in-place methods of a Tensor follow PyTorch's rule: refused on a leaf that requires grad,
    unless inside `no_grad()`. tinygan records no in-place operation, so it also refuses them on a tensor
    computed by a recorded graph, and with an operand that requires grad (its gradient would be lost);
    `x += y` there makes a new, recorded tensor instead, which `x` then names.

    Every in-place change of the values (the in-place methods, `+=` and friends, an optimizer's step,
    assigning `.data` or `.array`) counts one more version, as PyTorch's version counter does; `detach()`
    shares the count, `.data` does not. A backward that would read values changed since its forward used
    them raises instead of computing a wrong gradient (see Function.reads_in_backward). A view made by an
    operation (indexing, reshape, transpose, ...) shares the count of the tensor whose memory it views, as in
    PyTorch, so a change through either is seen by both.
    """

    __slots__ = ("_data", "grad", "requires_grad", "creator", "name", "_version", "__weakref__")
    __array_ufunc__ = None  # make `ndarray * Tensor` call Tensor.__rmul__ instead of NumPy's loop
    __hash__ = object.__hash__  # `==` is elementwise; hashing stays by identity, as in PyTorch

    def __init__(self, data, requires_grad=False, dtype=None, name=None, *more_sizes):
        if type(data) is int and type(requires_grad) is int:  # Tensor(3, 1): PyTorch's shape constructor
            data, requires_grad, dtype, name = _shape_constructor((data, requires_grad, dtype, name) + more_sizes)
        self._data = _to_array(data, dtype)
        self.grad = None
        self.requires_grad = bool(requires_grad)
        self.creator = None
        self.name = name
        self._version = [0]  # in-place changes so far: a box, which detach() shares
        if self.requires_grad and self._data.dtype.kind != "f":
            raise TypeError(f"Tensor: only floating-point tensors can require gradients, got dtype {self._data.dtype}")

    @property
    def array(self):
        """The values as the backend's array: a NumPy array on the CPU, a CuPy array on the GPU."""
        return self._data

    @array.setter
    def array(self, value):
        self._data = _to_array(value)
        self._changed()

    @property
    def data(self):
        """PyTorch's `.data`: a tensor sharing this one's values, with no history, no gradient and its own
        version count, so that changes through it pass autograd's checks, as in PyTorch."""
        return Tensor(self._data)

    @data.setter
    def data(self, value):
        self._data = _to_array(value)
        self._changed()

    # -- what it is -------------------------------------------------------
    @property
    def shape(self):
        return self._data.shape

    @property
    def dtype(self):
        return self._data.dtype

    @property
    def ndim(self):
        return self._data.ndim

    def size(self, dim=None):
        """The shape as a tuple, like torch's `size()`; `size(dim)` is one dimension's length."""
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[_dim_index("size", dim, self.ndim)]

    def numel(self):
        """The number of elements."""
        return int(self._data.size)

    def dim(self):
        """The number of dimensions."""
        return self._data.ndim

    @property
    def device(self):
        """Where the values live: `device('cpu')` or `device('cuda')`, equal to 'cpu' or 'gpu'/'cuda'."""
        return backend.Device(backend.device_of(self._data))

    @property
    def is_cuda(self):
        return backend.device_of(self._data) == "gpu"

    @property
    def is_xpu(self):
        """False: tinygan runs on NumPy (CPU) or CuPy (NVIDIA GPUs), never on an Intel XPU."""
        return False

    @property
    def is_leaf(self):
        return self.creator is None

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self._data)

    def __repr__(self):
        grad = ", requires_grad=True" if self.requires_grad else ""
        name = f", name={self.name!r}" if self.name else ""
        return f"Tensor({self._data!r}{grad}{name})"

    # -- Python's protocols: truth, numbers, formats, equality --------------
    def _one_value(self, what):
        if self._data.size != 1:
            raise ValueError(f"{what}: only one element tensors can be converted to Python scalars "
                             f"(this one has shape {self.shape}, {self._data.size} elements)")
        return self._data.item()

    def __bool__(self):
        if self._data.size != 1:
            raise RuntimeError(f"Boolean value of Tensor with more than one value is ambiguous (shape {self.shape}); "
                               f"use .any() or .all()")
        return bool(self._data.item())

    def __float__(self):
        return float(self._one_value("float"))

    def __int__(self):
        return int(self._one_value("int"))

    def __index__(self):
        if self._data.size != 1 or self._data.dtype.kind not in "iub":
            raise TypeError(f"only integer tensors of a single element can be converted to an index "
                            f"(got dtype {self.dtype}, shape {self.shape})")
        return int(self._data.item())

    def __format__(self, spec):
        if self._data.size == 1:
            return format(self._data.item(), spec)
        if spec:
            raise TypeError(f"unsupported format string passed to Tensor.__format__ (a tensor of shape {self.shape} "
                            f"has {self._data.size} values; format .item() of a one-element tensor)")
        return str(self)

    def __eq__(self, other):
        return self._compare("eq", other)

    def __ne__(self, other):
        return self._compare("ne", other)

    def _compare(self, name, other):
        """Elementwise comparison as a boolean tensor (no gradient), like torch.eq/ne/lt/le/gt/ge."""
        if other is None or isinstance(other, (str, bytes)):
            return NotImplemented
        if isinstance(other, Tensor):
            check_same_device(name, [self, other])
        other_array = _plain(other)
        ufunc = getattr(backend.get_array_module(self._data), _COMPARISONS[name])
        try:
            return Tensor(ufunc(self._data, other_array))
        except ValueError as error:
            raise ValueError(f"{name}: shapes {self.shape} and {np.shape(other_array)} cannot be broadcast "
                             f"together") from error

    def eq(self, other):
        return self._compare("eq", other)

    def ne(self, other):
        return self._compare("ne", other)

    def lt(self, other):
        return self._compare("lt", other)

    def le(self, other):
        return self._compare("le", other)

    def gt(self, other):
        return self._compare("gt", other)

    def ge(self, other):
        return self._compare("ge", other)

    # -- conversions ------------------------------------------------------
    def numpy(self):
        """The values as a NumPy array on the host (a copy if they live on the GPU)."""
        return backend.to_numpy(self._data)

    def item(self):
        """The value of a one-element tensor as a Python number."""
        if self._data.size != 1:
            raise ValueError(f"item: only one-element tensors can become a Python number, got shape {self.shape}")
        return self._data.item()

    def tolist(self):
        return self.numpy().tolist()

    def detach(self):
        """The same values, cut from the graph (no gradient flows back through it); an in-place change of
        either counts for both (see the class docstring)."""
        detached = Tensor(self._data)
        detached._version = self._version
        return detached

    def detach_(self):
        """Cut this tensor from the graph, in place: it becomes a leaf that does not require grad."""
        self.creator = None
        self.requires_grad = False
        return self

    def requires_grad_(self, requires_grad=True):
        """Turn gradient tracking of this leaf on (or off), in place; returns the tensor."""
        if not self.is_leaf and not requires_grad:
            raise RuntimeError("requires_grad_: you can only change requires_grad flags of leaf variables; "
                               "use .detach() to get a tensor cut from the graph")
        if requires_grad and self._data.dtype.kind != "f":
            raise RuntimeError(f"requires_grad_: only tensors of floating point dtype can require gradients, "
                               f"got {self.dtype}")
        self.requires_grad = bool(requires_grad)
        return self

    def to(self, *args, **kwargs):
        """A copy on another device and/or with another dtype, like torch's `to`.

        `to("cpu")`, `to("gpu")`/`to("cuda")`, `to(tinygan.float64)`, `to(other_tensor)` (its device and
        dtype), `to(device, dtype)`. A tensor already there is returned itself. A move to another device
        stays a leaf of the graph; a dtype change is recorded (the gradient is cast back).
        """
        device, dtype = _parse_to(args, kwargs)
        result = self
        if dtype is not None and np.dtype(dtype) != self.dtype:
            result = Cast.apply(self, dtype=np.dtype(dtype)) if self.requires_grad else Tensor(self._data.astype(dtype))
        if device is not None:
            data = backend.to_device(result._data, device)
            if data is not result._data:
                result = Tensor(data, requires_grad=result.requires_grad)
        return result

    def cpu(self):
        return self.to("cpu")

    def cuda(self, device=None):
        return self.to("gpu")

    def double(self):
        return self.to(np.float64)

    def float(self):
        return self.to(np.float32)

    def type_as(self, other):
        """This tensor with `other`'s dtype."""
        return self.to(other.dtype)

    def astype(self, dtype):
        """A copy with another dtype, cut from the graph."""
        return Tensor(self._data.astype(dtype))

    def zero_grad(self):
        self.grad = None

    # -- in place, under PyTorch's rules ----------------------------------
    def _check_in_place(self, op_name, *operands):
        if not _grad_mode["enabled"]:
            return
        if self.requires_grad and self.is_leaf:
            raise RuntimeError(f"{op_name}: a leaf Variable that requires grad is being used in an in-place operation "
                               f"(shape {self.shape}); do it inside `with tinygan.no_grad():`, or on `.data`")
        if self.requires_grad:
            raise RuntimeError(f"{op_name}: in-place operations on a tensor computed by a recorded graph are not "
                               f"supported in tinygan (shape {self.shape}); use the out-of-place operation, or "
                               f"detach() first")
        for operand in operands:
            if isinstance(operand, Tensor) and operand.requires_grad:
                raise RuntimeError(f"{op_name}: the operand of shape {operand.shape} requires grad, and tinygan "
                                   f"records no in-place operation, so its gradient would be lost; use an "
                                   f"out-of-place operation (x = x + y, torch.where, torch.cat), or detach() the "
                                   f"operand")

    def _changed(self):
        """Count one in-place change of the values (see the class docstring), and return self."""
        self._version[0] += 1
        return self

    def fill_(self, value):
        """Set every element to `value`, in place."""
        self._check_in_place("fill_", value)
        _fill(self._data, value)
        return self._changed()

    def zero_(self):
        self._check_in_place("zero_")
        _fill(self._data, 0)
        return self._changed()

    def normal_(self, mean=0.0, std=1.0):
        """Fill with samples of N(mean, std^2), in place."""
        self._check_in_place("normal_")
        _normal(self._data, mean, std)
        return self._changed()

    def uniform_(self, a=0.0, b=1.0):
        """Fill with samples of U[a, b), in place."""
        self._check_in_place("uniform_")
        _uniform(self._data, a, b)
        return self._changed()

    def add_(self, other, alpha=1):
        """self += alpha * other, in place."""
        self._check_in_place("add_", other)
        _add(self._data, other, alpha)
        return self._changed()

    def sub_(self, other, alpha=1):
        """self -= alpha * other, in place."""
        self._check_in_place("sub_", other)
        _add(self._data, other, -alpha)
        return self._changed()

    def mul_(self, other):
        self._check_in_place("mul_", other)
        _mul(self._data, other)
        return self._changed()

    def div_(self, other):
        self._check_in_place("div_", other)
        _divide(self._data, other)
        return self._changed()

    def copy_(self, source):
        """Copy `source`'s values (broadcast, cast, moved to this device) into this tensor, in place."""
        self._check_in_place("copy_", source)
        _copy(self._data, source)
        return self._changed()

    def clamp_(self, min=None, max=None):
        self._check_in_place("clamp_", min, max)
        _clamp(self._data, min, max)
        return self._changed()

    def lerp_(self, end, weight):
        """self += weight * (end - self), in place (a moving average's step: average.lerp_(new, 1 - decay))."""
        self._check_in_place("lerp_", end, weight)
        _add(self._data, _plain(end) - self._data, _plain(weight))
        return self._changed()

    def masked_fill_(self, mask, value):
        """Set the elements where the boolean `mask` (broadcast to this shape) is True to `value`, in place."""
        self._check_in_place("masked_fill_", value)
        xp = backend.get_array_module(self._data)
        xp.copyto(self._data, _on_device_of(self._data, _plain(value)), where=_on_device_of(self._data, _plain(mask)))
        return self._changed()

    def __setitem__(self, index, value):
        """self[index] = value, in place (integers, slices, and integer or boolean tensors as indices)."""
        self._check_in_place("item assignment", value)
        if isinstance(index, tuple):
            index = tuple(_plain(part) for part in index)
        self._data[_plain(index)] = _on_device_of(self._data, _plain(value))
        self._changed()

    # -- x += y and friends ------------------------------------------------
    def _augmented(self, op_name, other, in_place, out_of_place):
        """`x op= other`: in place, as in PyTorch, where neither takes part in a recorded graph; else the new,
        recorded tensor `out_of_place(x, other)`, which `x` is then rebound to (tinygan records no in-place
        operation). A leaf that requires grad is refused, as in PyTorch."""
        recorded = _grad_mode["enabled"] and (self.requires_grad or (isinstance(other, Tensor) and other.requires_grad))
        if not recorded:
            in_place(self._data, other)
            return self._changed()
        if self.requires_grad and self.is_leaf:
            self._check_in_place(op_name)
        return out_of_place(self, other)

    def __iadd__(self, other):
        return self._augmented("+=", other, _add, lambda x, y: x + y)

    def __isub__(self, other):
        return self._augmented("-=", other, lambda array, y: _add(array, y, -1), lambda x, y: x - y)

    def __imul__(self, other):
        return self._augmented("*=", other, _mul, lambda x, y: x * y)

    def __itruediv__(self, other):
        return self._augmented("/=", other, _divide, lambda x, y: x / y)

    def __ipow__(self, exponent):
        return self._augmented("**=", exponent, _power, lambda x, y: x ** y)

    # -- gradients --------------------------------------------------------
    def backward(self, gradient=None, retain_graph=None, create_graph=False):
        """Fill `.grad` of every leaf that requires it with d(self)/d(leaf).

        `gradient` is the weighting dL/d(self); it may be left out only when
        `self` holds a single number (a loss). With `create_graph=True` the
        gradients are themselves recorded, so they can be differentiated again.
        `retain_graph` is accepted for PyTorch code and changes nothing: tinygan never frees a graph
        after backward (it lives as long as its output), so a second backward through it always works,
        where PyTorch, without retain_graph=True, raises.
        """
        if gradient is None:
            if self._data.size != 1:
                raise ValueError(
                    f"backward: a gradient can be implied only for a one-element output, but this tensor has "
                    f"shape {self.shape}; pass gradient= of that shape, or reduce it first (e.g. .sum())")
            gradient = Tensor(backend.get_array_module(self._data).ones_like(self._data))
        elif not isinstance(gradient, Tensor):  # an array: the backward passes expect Tensors
            gradient = Tensor(gradient)
        run_backward([self], [gradient], create_graph=create_graph)


_COMPARISONS = {"eq": "equal", "ne": "not_equal", "lt": "less", "le": "less_equal", "gt": "greater",
                "ge": "greater_equal"}


def _is_dtype(value):
    """Whether `value` names a dtype (np.float32, 'float64', np.dtype(...)) rather than a device."""
    if isinstance(value, (np.dtype, type)):
        return True
    if isinstance(value, str):
        try:
            np.dtype(value)
        except TypeError:
            return False  # not a dtype's name: a device's, checked when the tensor moves
        return True
    return False


def _parse_to(args, kwargs):
    """(device or None, dtype or None) from the arguments of `Tensor.to`."""
    device, dtype = kwargs.pop("device", None), kwargs.pop("dtype", None)
    kwargs.pop("non_blocking", None)
    kwargs.pop("copy", None)
    if kwargs:
        raise TypeError(f"to: unexpected keyword arguments {sorted(kwargs)}")
    for arg in args:
        if isinstance(arg, Tensor):
            device, dtype = arg.device, arg.dtype
        elif _is_dtype(arg):
            dtype = arg
        else:
            device = arg
    if dtype is not None:
        try:
            dtype = np.dtype(dtype)
        except TypeError:
            raise TypeError(f"to: {dtype!r} is neither a device nor a dtype") from None
    return device, dtype


class Function:
    """One differentiable operation: `forward` on arrays, `backward` on Tensors.

    Subclasses write
        forward(self, *arrays, **params) -> array
        backward(self, grad) -> one gradient Tensor (or None) per input
    and are called as `MyFunction.apply(*tensors, **params)`. In `backward`,
    `self.inputs` are the input Tensors, `self.output` is the output Tensor,
    and `self.needs_input_grad[i]` says whether input i wants a gradient, so
    work for gradients nobody uses can be skipped.
    """

    __slots__ = ("inputs", "needs_input_grad", "_output_ref", "_input_versions", "_output_version", "__dict__")
    # True for the products that meet a layer's weights (matmul, linear, convolutions, BatchNorm): as in
    # PyTorch, float32 and float64 inputs there are an error, not a silent float64 model.
    inputs_share_dtype = False
    # What backward reads of the values the forward saw (PyTorch's saved tensors): "inputs", "output", both,
    # "factors" (a product's inputs 0 and 1, each read only for the other's gradient, dL/da = dL/dy b; a bias
    # after them is not read), or nothing (an op whose backward needs only shapes, or arrays its forward
    # kept). The backward is refused when one of these was changed in place since the forward
    # (_check_unchanged). An op that does not say is taken to read its inputs and its output.
    reads_in_backward = ("inputs", "output")

    @classmethod
    def apply(cls, *inputs, **params):
        tensors = [x if isinstance(x, Tensor) else Tensor(x) for x in inputs]
        check_same_device(cls.__name__, tensors)
        if cls.inputs_share_dtype:
            check_same_float_dtype(cls.__name__, tensors)
        function = cls()
        output_data = function.forward(*[t._data for t in tensors], **params)
        if _anomaly["enabled"]:
            function.created_at = _user_frame()
            _check_finite(function, "forward", [output_data], [t.shape for t in tensors])
        output = Tensor(output_data)
        _share_count_with_viewed_input(output, tensors)
        if _grad_mode["enabled"]:
            needs = tuple(t.requires_grad for t in tensors)
            if any(needs):
                function.inputs = tensors
                function.needs_input_grad = needs
                function._input_versions = tuple(t._version[0] for t in tensors)
                function._output_version = output._version[0]   # not 0 when the output views an input
                function._output_ref = weakref.ref(output)  # weak: the output owns the function, not back
                output.requires_grad = True
                output.creator = function
        return output

    @property
    def output(self):
        return self._output_ref()

    def forward(self, *arrays, **params):
        raise NotImplementedError

    def backward(self, grad):
        raise NotImplementedError


class Cast(Function):
    """y = x converted to another dtype;  dL/dx = dL/dy converted back to x's dtype."""

    def forward(self, x, dtype):
        return x.astype(dtype)

    def backward(self, grad):
        return grad.to(self.inputs[0].dtype)


def check_same_device(op_name, tensors):
    """Raise a clear error when one operation receives tensors on two devices."""
    if len(tensors) < 2:
        return
    if all(isinstance(t, Tensor) and type(t._data) is np.ndarray for t in tensors):  # all on the CPU, checked fast
        return
    devices = [backend.device_of(t._data) if isinstance(t, Tensor) else backend.normalize_device(t.device)
               for t in tensors]
    if len(set(devices)) > 1:
        described = ", ".join(f"input {i} on {d} (shape {t.shape})" for i, (t, d) in enumerate(zip(tensors, devices)))
        raise ValueError(f"{op_name}: all inputs must be on one device, got {described}; move them with .to('cpu') or .to('gpu')")


def check_same_float_dtype(op_name, tensors):
    """Raise a clear error when a product receives float32 and float64 tensors together."""
    dtypes = {t.dtype for t in tensors if t.dtype.kind == "f"}
    if len(dtypes) > 1:
        described = ", ".join(f"input {i} {t.dtype} (shape {t.shape})" for i, t in enumerate(tensors))
        raise TypeError(f"{op_name}: inputs must have one floating dtype, got {described}; convert one with "
                        f".astype(...) (NumPy makes float64 arrays: tinygan.tensor(array, dtype=np.float32) gives "
                        f"a float32 model's dtype)")


def _topological_order(roots):
    """Every tensor that leads to `roots`, each after all the tensors it was computed from.

    Iterative depth-first search, so a graph thousands of operations deep needs no recursion.
    """
    order, visited = [], set()
    stack = [(root, False) for root in roots]
    while stack:
        tensor, children_done = stack.pop()
        if children_done:
            order.append(tensor)
            continue
        if id(tensor) in visited:
            continue
        visited.add(id(tensor))
        stack.append((tensor, True))
        if tensor.creator is not None:
            for parent in tensor.creator.inputs:
                if parent.requires_grad and id(parent) not in visited:
                    stack.append((parent, False))
    return order


def _accumulate(total, gradient):
    """total + gradient; recorded in the graph only when grad mode is on (create_graph)."""
    if total is None:
        return gradient
    if _grad_mode["enabled"]:
        return total + gradient
    return Tensor(total._data + gradient._data)


def run_backward(roots, root_grads, create_graph=False, inputs=None):
    """The backward pass shared by `Tensor.backward` and `grad`.

    With `inputs=None`, gradients are added into `.grad` of the leaves. With a
    list of `inputs`, their gradients are returned instead and no `.grad` is
    touched; branches of the graph that do not lead to an input are skipped.
    """
    for root, root_grad in zip(roots, root_grads):
        if not root.requires_grad:
            raise ValueError("backward: this tensor does not require gradients (no input of its graph has requires_grad=True)")
        if root_grad.shape != root.shape:
            raise ValueError(f"backward: gradient has shape {root_grad.shape} but the output has shape {root.shape}")
    order = _topological_order(roots)
    wanted = None if inputs is None else _tensors_leading_to(order, inputs)
    input_ids = set() if inputs is None else {id(x) for x in inputs}
    grads = {}
    for root, root_grad in zip(roots, root_grads):
        grads[id(root)] = _accumulate(grads.get(id(root)), root_grad)
    owners = {id(_memory_owner(g._data)) for g in root_grads}  # arrays a leaf's .grad must not share
    captured = {}
    with set_grad_enabled(create_graph):
        for tensor in reversed(order):
            grad = grads.pop(id(tensor), None)
            if grad is None:
                continue
            if id(tensor) in input_ids:
                captured[id(tensor)] = grad
            function = tensor.creator
            if function is None:
                if inputs is None and tensor.grad is None:
                    tensor.grad = grad if create_graph else _own_gradient(grad, owners)
                elif inputs is None:
                    tensor.grad = _accumulate(tensor.grad, grad)
                continue
            _check_unchanged(function, tensor)
            saved_needs = function.needs_input_grad
            if wanted is not None:
                function.needs_input_grad = tuple(id(x) in wanted for x in function.inputs)
            try:
                input_grads = function.backward(grad)
            except AnomalyError as error:  # raised by an op inside this backward: say whose backward it was
                raise AnomalyError(f"in the backward pass of {type(function).__name__} (created at "
                                   f"{getattr(function, 'created_at', 'an unknown place')}): {error}") from None
            finally:
                function.needs_input_grad = saved_needs
            if not isinstance(input_grads, tuple):
                input_grads = (input_grads,)
            if _anomaly["enabled"]:
                _check_finite(function, "backward", [None if g is None else g._data for g in input_grads],
                              [x.shape for x in function.inputs])
            for parent, parent_grad in zip(function.inputs, input_grads):
                if parent_grad is None or not parent.requires_grad:
                    continue
                if wanted is not None and id(parent) not in wanted:
                    continue
                if parent_grad.shape != parent.shape:
                    raise RuntimeError(
                        f"{type(function).__name__}.backward returned a gradient of shape {parent_grad.shape} "
                        f"for an input of shape {parent.shape}")
                grads[id(parent)] = _accumulate(grads.get(id(parent)), parent_grad)  # [formula: chain-rule]
    return captured


def _check_unchanged(function, output):
    """RuntimeError when `function`'s backward would read an input or its output (`output`) changed in place
    since its forward used them: the gradient would be that of other values. PyTorch refuses it too."""
    reads = type(function).reads_in_backward
    needs = function.needs_input_grad
    for i, (tensor, then) in enumerate(zip(function.inputs, function._input_versions)):
        read = "inputs" in reads or ("factors" in reads and i < 2 and needs[1 - i])
        if read and tensor._version[0] != then:
            _refuse_changed(function, f"input {i}", tensor, then)
    if "output" in reads and output._version[0] != function._output_version:
        _refuse_changed(function, "output", output, function._output_version)


def _refuse_changed(function, what, tensor, then):
    """The error of _check_unchanged, naming the op, the changed value and the way out."""
    raise RuntimeError(
        f"{type(function).__name__}.backward: its {what} (shape {tensor.shape}, {tensor.dtype}) was changed in "
        f"place after the forward used it (version {tensor._version[0]}, expected {then}), so the gradient "
        f"would be computed from the new values. Change it after backward (optimizer.step() after "
        f"loss.backward()), or run the forward again after the change. PyTorch refuses this too: 'one of the "
        f"variables needed for gradient computation has been modified by an inplace operation'")


def _share_count_with_viewed_input(output, inputs):
    """A view of an input's memory (indexing, reshape, transpose, ...) counts its in-place changes in that
    input's count, as PyTorch's views do: a change through either is a change of both."""
    owner = _memory_owner(output._data)
    for tensor in inputs:
        if _memory_owner(tensor._data) is owner:
            output._version = tensor._version
            return


def count_in_place_change(tensor):
    """Count one in-place change of `tensor`'s values made on its array (an optimizer's update)."""
    tensor._changed()


def _memory_owner(array):
    """The array whose memory `array` views (itself when it owns its memory)."""
    while getattr(array, "base", None) is not None:
        array = array.base
    return array


def _own_gradient(gradient, owners):
    """`gradient` made fit to be a leaf's `.grad`: writable, and sharing memory with no other `.grad`.

    Inside the pass one gradient may reach many places: `a + b` hands the same tensor to a and b,
    a reshape's gradient is a view of it, and sum's is a read-only broadcast view. Optimizers (and
    users) may change `.grad` in place, so such a gradient is copied; a fresh one is kept as it is.
    """
    data = gradient._data
    owner = _memory_owner(data)
    if id(owner) in owners or not getattr(data.flags, "writeable", True):
        data = data.copy()
        gradient, owner = Tensor(data), data
    owners.add(id(owner))
    return gradient


def _tensors_leading_to(order, inputs):
    """Ids of the tensors in `order` (topologically sorted) from which some input can be reached.

    Only their gradients are needed by `grad(outputs, inputs)`; the rest of the graph is skipped.
    """
    leading = {id(x) for x in inputs}
    for tensor in order:
        if tensor.creator is not None and any(id(parent) in leading for parent in tensor.creator.inputs):
            leading.add(id(tensor))
    return leading


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, only_inputs=True,
         allow_unused=False):
    """The gradients of `outputs` with respect to `inputs`, returned as a tuple (`.grad` is not touched).

    outputs      -- a Tensor or a list of Tensors
    inputs       -- a Tensor or a list of Tensors that the outputs depend on
    grad_outputs -- the weighting of each output (default: ones, allowed for one-element outputs)
    create_graph -- record the gradient computation, so the result can be differentiated again
                    (e.g. a gradient penalty ||dD(x)/dx||)
    allow_unused -- return None, instead of raising, for an input the outputs do not depend on
    retain_graph -- accepted for PyTorch code; changes nothing, as tinygan never frees a graph after a
                    backward pass (a second pass through it works, where PyTorch without it raises)
    only_inputs  -- accepted and ignored, as in PyTorch (deprecated there): only `inputs` get gradients
    """
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    single_input = isinstance(inputs, Tensor)
    inputs = [inputs] if single_input else list(inputs)
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs]
    weights = []
    for output, weight in zip(outputs, grad_outputs):
        if weight is None:
            if output._data.size != 1:
                raise ValueError(
                    f"grad: grad_outputs must be given for an output of shape {output.shape} (not a single number)")
            weight = Tensor(backend.get_array_module(output._data).ones_like(output._data))
        weights.append(weight if isinstance(weight, Tensor) else Tensor(weight))
    for i, x in enumerate(inputs):
        if not x.requires_grad:
            raise ValueError(f"grad: input {i} (shape {x.shape}) does not require gradients")
    captured = run_backward(outputs, weights, create_graph=create_graph, inputs=inputs)
    results = []
    for i, x in enumerate(inputs):
        g = captured.get(id(x))
        if g is None and not allow_unused:
            raise ValueError(f"grad: input {i} (shape {x.shape}) is not used to compute the outputs; "
                             "pass allow_unused=True to get None for it")
        results.append(g)
    return tuple(results)


def Variable(data, requires_grad=False, volatile=False):
    """PyTorch's old `Variable`, kept for tutorials written before PyTorch 0.4, where it became a Tensor.

    As in PyTorch today, `Variable(t)` is a tensor sharing t's values, cut from t's graph, that requires
    gradients only if `requires_grad=True` (a leaf then). `volatile` is accepted and, as in PyTorch, has no
    effect: write `with tinygan.no_grad():` for that.
    """
    if not isinstance(data, Tensor):
        raise TypeError(f"Variable: expected a Tensor, got {type(data).__name__}; write tinygan.tensor(data)")
    return Tensor(data._data, requires_grad=requires_grad)
