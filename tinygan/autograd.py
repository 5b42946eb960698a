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


def _to_array(data, dtype=None):
    """An array of the current backend from a list, scalar or array (no copy if it already is one)."""
    if isinstance(data, Tensor):
        data = data.data
    if isinstance(data, np.generic):  # a NumPy scalar (e.g. a full reduction) keeps its dtype
        data = np.asarray(data)
    if isinstance(data, np.ndarray) or backend.device_of(data) == "gpu":
        return data if dtype is None or data.dtype == dtype else data.astype(dtype)
    array = backend.xp().asarray(data, dtype=dtype)
    if dtype is None and array.dtype.kind == "f":
        array = array.astype(backend.get_default_dtype(), copy=False)
    return array


class Tensor:
    """An array together with its gradient and the operation that created it.

    data          -- the NumPy or CuPy array
    grad          -- a Tensor of the same shape, filled by backward() (leaves only)
    requires_grad -- whether gradients flow to this tensor
    creator       -- the Function that produced it (None for leaves)
    """

    __slots__ = ("data", "grad", "requires_grad", "creator", "name", "__weakref__")
    __array_ufunc__ = None  # make `ndarray * Tensor` call Tensor.__rmul__ instead of NumPy's loop

    def __init__(self, data, requires_grad=False, dtype=None, name=None):
        self.data = _to_array(data, dtype)
        self.grad = None
        self.requires_grad = bool(requires_grad)
        self.creator = None
        self.name = name
        if self.requires_grad and self.data.dtype.kind != "f":
            raise TypeError(f"Tensor: only floating-point tensors can require gradients, got dtype {self.data.dtype}")

    # -- what it is -------------------------------------------------------
    @property
    def shape(self):
        return self.data.shape

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def ndim(self):
        return self.data.ndim

    @property
    def size(self):
        return self.data.size

    @property
    def device(self):
        """'cpu' for a NumPy array, 'gpu' for a CuPy array."""
        return backend.device_of(self.data)

    @property
    def is_leaf(self):
        return self.creator is None

    def __len__(self):
        return len(self.data)

    def __repr__(self):
        grad = ", requires_grad=True" if self.requires_grad else ""
        name = f", name={self.name!r}" if self.name else ""
        return f"Tensor({self.data!r}{grad}{name})"

    # -- conversions ------------------------------------------------------
    def numpy(self):
        """The values as a NumPy array on the host (a copy if they live on the GPU)."""
        return backend.to_numpy(self.data)

    def item(self):
        """The value of a one-element tensor as a Python number."""
        if self.data.size != 1:
            raise ValueError(f"item: only one-element tensors can become a Python number, got shape {self.shape}")
        return self.data.item()

    def tolist(self):
        return self.numpy().tolist()

    def detach(self):
        """The same values, cut from the graph (no gradient flows back through it)."""
        return Tensor(self.data)

    def to(self, device):
        """A copy on 'cpu' or 'gpu' (itself when already there); stays a leaf of the graph."""
        data = backend.to_device(self.data, device)
        if data is self.data:
            return self
        return Tensor(data, requires_grad=self.requires_grad)

    def astype(self, dtype):
        """A copy with another dtype, cut from the graph."""
        return Tensor(self.data.astype(dtype))

    def zero_grad(self):
        self.grad = None

    # -- gradients --------------------------------------------------------
    def backward(self, gradient=None, create_graph=False):
        """Fill `.grad` of every leaf that requires it with d(self)/d(leaf).

        `gradient` is the weighting dL/d(self); it may be left out only when
        `self` holds a single number (a loss). With `create_graph=True` the
        gradients are themselves recorded, so they can be differentiated again.
        """
        if gradient is None:
            if self.data.size != 1:
                raise ValueError(
                    f"backward: a gradient can be implied only for a one-element output, but this tensor has "
                    f"shape {self.shape}; pass gradient= of that shape, or reduce it first (e.g. .sum())")
            gradient = Tensor(backend.get_array_module(self.data).ones_like(self.data))
        elif not isinstance(gradient, Tensor):  # an array: the backward passes expect Tensors
            gradient = Tensor(gradient)
        run_backward([self], [gradient], create_graph=create_graph)


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

    __slots__ = ("inputs", "needs_input_grad", "_output_ref", "__dict__")
    # True for the products that meet a layer's weights (matmul, linear, convolutions, BatchNorm): as in
    # PyTorch, float32 and float64 inputs there are an error, not a silent float64 model.
    inputs_share_dtype = False

    @classmethod
    def apply(cls, *inputs, **params):
        tensors = [x if isinstance(x, Tensor) else Tensor(x) for x in inputs]
        check_same_device(cls.__name__, tensors)
        if cls.inputs_share_dtype:
            check_same_float_dtype(cls.__name__, tensors)
        function = cls()
        output_data = function.forward(*[t.data for t in tensors], **params)
        if _anomaly["enabled"]:
            function.created_at = _user_frame()
            _check_finite(function, "forward", [output_data], [t.shape for t in tensors])
        output = Tensor(output_data)
        if _grad_mode["enabled"]:
            needs = tuple(t.requires_grad for t in tensors)
            if any(needs):
                function.inputs = tensors
                function.needs_input_grad = needs
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


def check_same_device(op_name, tensors):
    """Raise a clear error when one operation receives tensors on two devices."""
    if len(tensors) < 2:
        return
    devices = [t.device for t in tensors]
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
    return Tensor(total.data + gradient.data)


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
    owners = {id(_memory_owner(g.data)) for g in root_grads}  # arrays a leaf's .grad must not share
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
                _check_finite(function, "backward", [None if g is None else g.data for g in input_grads],
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
    data = gradient.data
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


def grad(outputs, inputs, grad_outputs=None, create_graph=False, allow_unused=False):
    """The gradients of `outputs` with respect to `inputs`, returned as a tuple (`.grad` is not touched).

    outputs      -- a Tensor or a list of Tensors
    inputs       -- a Tensor or a list of Tensors that the outputs depend on
    grad_outputs -- the weighting of each output (default: ones, allowed for one-element outputs)
    create_graph -- record the gradient computation, so the result can be differentiated again
                    (e.g. a gradient penalty ||dD(x)/dx||)
    allow_unused -- return None, instead of raising, for an input the outputs do not depend on
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
            if output.data.size != 1:
                raise ValueError(
                    f"grad: grad_outputs must be given for an output of shape {output.shape} (not a single number)")
            weight = Tensor(backend.get_array_module(output.data).ones_like(output.data))
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
