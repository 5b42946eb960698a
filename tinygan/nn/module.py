"""`Parameter` and `Module`: the bookkeeping every layer shares, with PyTorch's names and behaviour.

A Module keeps three ordered tables, filled by plain attribute assignment:

    self.weight = Parameter(...)        -> _parameters  (trained by an optimizer)
    self.register_buffer("running_mean", array)
                                        -> _buffers     (state that is not trained: BatchNorm's statistics)
    self.fc = Linear(...)               -> _modules     (sub-layers; their names become dotted prefixes)

From these come `parameters()`, `named_parameters()` ("0.weight", "fc.bias", ...),
`state_dict()` and `load_state_dict()` with the same key names PyTorch gives the
same structure, so weights move between tinygan and PyTorch unchanged.

The layers build their weights with `_new_parameter` (zeros, filled by their reset_parameters) and
check their sizes with `_positive_int`.
"""
import numbers
from collections import OrderedDict, namedtuple

import numpy as np

from .. import backend
from ..autograd import Tensor


class Parameter(Tensor):
    """A Tensor that is a trainable weight of a Module: requires_grad=True by default.

    Assigning one to a Module attribute registers it, so `module.parameters()` finds it.
    Its values must be floating point (integers are converted to the default dtype).
    """

    __slots__ = ()

    def __init__(self, data, requires_grad=True):
        if isinstance(data, Tensor):
            data = data.array
        super().__init__(data)
        if self.array.dtype.kind != "f":
            self.array = self.array.astype(backend.get_default_dtype())
        self.requires_grad = bool(requires_grad)

    def __repr__(self):
        return f"Parameter containing:\n{self.array!r}"


def _new_parameter(*shape):
    """An uninitialised (zero) Parameter of the default dtype on the current backend."""
    return Parameter(backend.xp().zeros(shape, dtype=backend.get_default_dtype()))


def _int(value):
    """A Python int from an int or a NumPy integer (np.prod(shape) is common); None for anything else."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return int(value)
    return None


def _positive_int(value, name, layer):
    """`value` as a Python int, or a clear error if it is not a positive integer."""
    if _int(value) is None or value < 1:
        raise ValueError(f"{layer}: {name} must be a positive int, got {value!r}")
    return int(value)


IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])
IncompatibleKeys.__doc__ = "What load_state_dict(strict=False) skipped: keys missing from the state, keys it did not use."


class RemovableHandle:
    """Returned by `register_forward_hook`; `handle.remove()` removes the hook again."""

    def __init__(self, hooks, key):
        self._hooks, self._key = hooks, key

    def remove(self):
        self._hooks.pop(self._key, None)


def _is_array(value):
    return isinstance(value, np.ndarray) or backend.device_of(value) == "gpu"


def _as_host_or_device_array(value, key):
    """An array (NumPy or CuPy) from whatever a state dict may hold: Tensor, array, number, torch tensor."""
    if isinstance(value, Tensor):
        return value.array
    if _is_array(value):
        return value
    try:
        return np.asarray(value)  # numbers, lists, and objects with __array__ (e.g. a CPU torch.Tensor)
    except Exception as error:
        raise TypeError(f"load_state_dict: the value of {key!r} ({type(value).__name__}) cannot be read as an "
                        f"array: {error}") from None


def _loadable(dtype, target_dtype):
    """Whether values of `dtype` can be cast into a weight or buffer of `target_dtype`: numbers and booleans only
    (never text, objects, dates or raw bytes), and complex numbers only into a complex one."""
    return dtype.kind in ("biufc" if target_dtype.kind == "c" else "biuf")


class Module:
    """The base class of every layer and model.

    Subclasses call `super().__init__()` first, assign their Parameters, buffers
    and sub-modules as attributes, and define `forward`. Calling the module
    (`module(x)`) runs `forward(x)`.
    """

    def __init__(self):
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent_buffers", set())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_forward_hooks", OrderedDict())
        object.__setattr__(self, "_forward_pre_hooks", OrderedDict())

    def forward(self, *inputs):
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *inputs, **kwargs):
        for hook in list(self._forward_pre_hooks.values()):
            result = hook(self, inputs)
            if result is not None:
                inputs = result if isinstance(result, tuple) else (result,)
        output = self.forward(*inputs, **kwargs)
        if self._forward_hooks:
            for hook in list(self._forward_hooks.values()):
                result = hook(self, inputs, output)
                if result is not None:
                    output = result
        return output

    def register_forward_hook(self, hook):
        """Call `hook(module, inputs, output)` after every forward; a non-None result replaces the output."""
        key = max(self._forward_hooks, default=-1) + 1
        self._forward_hooks[key] = hook
        return RemovableHandle(self._forward_hooks, key)

    def register_forward_pre_hook(self, hook):
        """Call `hook(module, inputs)` before every forward; a non-None result replaces the inputs."""
        key = max(self._forward_pre_hooks, default=-1) + 1
        self._forward_pre_hooks[key] = hook
        return RemovableHandle(self._forward_pre_hooks, key)

    # -- registration -----------------------------------------------------
    def _require_init(self, what):
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"cannot assign {what} before Module.__init__() call: "
                                 f"call super().__init__() first in {type(self).__name__}.__init__")

    def _forget(self, name):
        for table in ("_parameters", "_buffers", "_modules"):
            self.__dict__[table].pop(name, None)
        self.__dict__["_non_persistent_buffers"].discard(name)
        self.__dict__.pop(name, None)

    def __setattr__(self, name, value):
        params = self.__dict__.get("_parameters")
        if isinstance(value, Parameter):
            self._require_init("parameters")
            self._forget(name)
            params[name] = value
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(f"cannot assign {type(value).__name__} as parameter {name!r} of "
                                f"{type(self).__name__} (a tinygan.nn.Parameter or None expected)")
            params[name] = None
        elif isinstance(value, Module):
            self._require_init("a sub-module")
            self._forget(name)
            self._modules[name] = value
        elif "_modules" in self.__dict__ and name in self._modules:
            if value is not None:
                raise TypeError(f"cannot assign {type(value).__name__} as sub-module {name!r} of "
                                f"{type(self).__name__} (a tinygan.nn.Module or None expected)")
            self._modules[name] = None
        elif "_buffers" in self.__dict__ and name in self._buffers:
            self._buffers[name] = self._as_buffer(name, value)
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name):
        # Only called when ordinary lookup fails: look in the three tables.
        d = self.__dict__
        for table in ("_parameters", "_buffers", "_modules"):
            if table in d and name in d[table]:
                return d[table][name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __delattr__(self, name):
        if any(name in self.__dict__.get(t, ()) for t in ("_parameters", "_buffers", "_modules")):
            self._forget(name)
        else:
            object.__delattr__(self, name)

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(self._parameters) | set(self._buffers) | set(self._modules))

    @staticmethod
    def _as_buffer(name, value):
        if value is None or isinstance(value, Tensor):
            return value
        if _is_array(value):
            return Tensor(value)
        raise TypeError(f"cannot assign {type(value).__name__} as buffer {name!r} (an array, a Tensor or None expected)")

    def register_parameter(self, name, param):
        """Add a Parameter (or None, a declared but absent parameter such as a disabled bias)."""
        self._require_init("parameters")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"register_parameter: {name!r} must be a tinygan.nn.Parameter or None, "
                            f"got {type(param).__name__}")
        self._check_name(name, "parameter")
        self._forget(name)
        self._parameters[name] = param

    def register_buffer(self, name, tensor, persistent=True):
        """Add state that is not trained but belongs to the module (BatchNorm's running statistics).

        `tensor` is an array, a Tensor (stored as is) or None. Buffers move with
        `to(device)` and, when `persistent`, appear in `state_dict()`.
        """
        self._require_init("buffers")
        self._check_name(name, "buffer")
        value = self._as_buffer(name, tensor)
        self._forget(name)
        self._buffers[name] = value
        if not persistent:
            self._non_persistent_buffers.add(name)

    def add_module(self, name, module):
        """Add a sub-module under `name` (as `self.name = module` does)."""
        self._require_init("a sub-module")
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module: {name!r} must be a tinygan.nn.Module or None, got {type(module).__name__}")
        self._check_name(name, "sub-module")
        self._forget(name)
        self._modules[name] = module

    register_module = add_module

    def _check_name(self, name, what):
        if not isinstance(name, str) or not name or "." in name:
            raise KeyError(f"{what} name must be a non-empty string without '.', got {name!r}")
        if name in self.__dict__ and not any(name in t for t in (self._parameters, self._buffers, self._modules)):
            raise KeyError(f"{what} name {name!r} is already an attribute of {type(self).__name__}")

    # -- walking the tree -------------------------------------------------
    def named_modules(self, prefix="", memo=None):
        """(name, module) for this module and every descendant, depth first; each module once."""
        memo = set() if memo is None else memo
        if id(self) in memo:
            return
        memo.add(id(self))
        yield prefix, self
        for name, module in self._modules.items():
            if module is not None:
                yield from module.named_modules(f"{prefix}.{name}" if prefix else name, memo)

    def modules(self):
        for _, module in self.named_modules():
            yield module

    def named_children(self):
        seen = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def children(self):
        for _, module in self.named_children():
            yield module

    def _named_members(self, table, prefix, recurse):
        seen = set()
        modules = self.named_modules(prefix) if recurse else [(prefix, self)]
        for module_prefix, module in modules:
            for name, value in module.__dict__[table].items():
                if value is None or id(value) in seen:
                    continue
                seen.add(id(value))
                yield (f"{module_prefix}.{name}" if module_prefix else name), value

    def named_parameters(self, prefix="", recurse=True):
        """(dotted name, Parameter) pairs, e.g. ("0.weight", ...), ("fc.bias", ...); a shared Parameter once."""
        yield from self._named_members("_parameters", prefix, recurse)

    def parameters(self, recurse=True):
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix="", recurse=True):
        yield from self._named_members("_buffers", prefix, recurse)

    def buffers(self, recurse=True):
        for _, buffer in self.named_buffers(recurse=recurse):
            yield buffer

    def apply(self, fn):
        """Call fn(m) for every sub-module m (children first) and then for self; returns self.

        The usual way to re-initialise a model: `model.apply(weights_init)`.
        """
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # -- modes and gradients ----------------------------------------------
    def train(self, mode=True):
        """Set training mode (True) or evaluation mode (False) here and in every sub-module; returns self.

        It changes what Dropout and BatchNorm do: Dropout drops only in training;
        BatchNorm uses batch statistics (and updates its running ones) only in training.
        """
        if not isinstance(mode, bool):
            raise TypeError(f"train: mode must be a bool, got {type(mode).__name__}")
        for module in self.modules():
            object.__setattr__(module, "training", mode)
        return self

    def eval(self):
        """Evaluation mode: `train(False)`."""
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        """Switch gradient tracking of every parameter on or off (e.g. freeze D while G trains); returns self."""
        for param in self.parameters():
            param.requires_grad = bool(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        """Forget every parameter's gradient (`.grad = None`, PyTorch's default), or set it to zeros."""
        for param in self.parameters():
            if set_to_none or param.grad is None:
                param.grad = None
            else:
                param.grad.array = backend.get_array_module(param.array).zeros_like(param.grad.array)

    # -- devices and dtypes -----------------------------------------------
    def _convert(self, fn, floats_only):
        """Replace the array of every parameter (and its gradient) and buffer by fn(array)."""
        for module in self.modules():
            for table in (module._parameters, module._buffers):
                for tensor in table.values():
                    if tensor is None or (floats_only and tensor.array.dtype.kind != "f"):
                        continue
                    tensor.array = fn(tensor.array)
                    if tensor.grad is not None:
                        tensor.grad.array = fn(tensor.grad.array)
        return self

    def to(self, *args, device=None, dtype=None, non_blocking=False):
        """Move every parameter and buffer to 'cpu' or 'gpu' ('cuda') and/or cast the floating ones to `dtype`.

        Called as PyTorch's: `to(device)`, `to(dtype)`, `to(device, dtype)`, `to(tensor)` (its device
        and dtype). Works in place (the same Parameter objects, so an optimizer built before
        keeps working) and returns self: `model = Generator().to("cuda")`.
        """
        if len(args) > 2:
            raise TypeError(f"to: expected at most a device and a dtype, got {len(args)} arguments")
        for arg in args:
            if isinstance(arg, Tensor):
                device, dtype = arg.device, arg.dtype
            elif isinstance(arg, str) or isinstance(getattr(arg, "type", None), str):   # "cuda", device("cuda")
                device = arg
            else:
                dtype = arg
        if device is not None:
            device = getattr(device, "type", device)
            device = backend.normalize_device(device)
            self._convert(lambda a: backend.to_device(a, device), floats_only=False)
        if dtype is not None:
            dtype = np.dtype(dtype)
            if dtype.kind != "f":
                raise TypeError(f"to: dtype must be floating point, got {dtype}")
            self._convert(lambda a: a if a.dtype == dtype else a.astype(dtype), floats_only=True)
        return self

    def cpu(self):
        """Move every parameter and buffer to the host (NumPy); returns self."""
        return self.to("cpu")

    def cuda(self, device=None):
        """Move every parameter and buffer to the GPU (CuPy); returns self."""
        return self.to("gpu")

    def double(self):
        """Cast floating parameters and buffers to float64 (for gradient checks); returns self."""
        return self.to(dtype=np.float64)

    def float(self):
        """Cast floating parameters and buffers to float32; returns self."""
        return self.to(dtype=np.float32)

    def half(self):
        """Cast floating parameters and buffers to float16, as PyTorch; returns self.

        Every layer computes in float16 then, on NumPy as on CuPy. As in PyTorch, an optimizer's eps
        below float16's smallest number (Adam's 1e-8) rounds to 0 in the update.
        """
        return self.to(dtype=np.float16)

    # -- saving and loading -----------------------------------------------
    def _state_tensors(self, prefix=""):
        """(key, Tensor) in state_dict order: own parameters, own persistent buffers, then each child's."""
        for name, param in self._parameters.items():
            if param is not None:
                yield prefix + name, param
        for name, buffer in self._buffers.items():
            if buffer is not None and name not in self._non_persistent_buffers:
                yield prefix + name, buffer
        for name, module in self._modules.items():
            if module is not None:
                yield from module._state_tensors(f"{prefix}{name}.")

    def state_dict(self):
        """An ordered dict from dotted names to copies of the arrays of every parameter and buffer.

        The keys are those PyTorch gives the same structure ("0.weight",
        "1.running_mean", "fc.bias", ...). The arrays stay on the module's device;
        use `tinygan.backend.to_numpy` to bring them to the host.
        """
        return OrderedDict((key, tensor.array.copy()) for key, tensor in self._state_tensors())

    def load_state_dict(self, state_dict, strict=True):
        """Copy the arrays of `state_dict` into this module's parameters and buffers, in place.

        Values may be NumPy or CuPy arrays, Tensors (or CPU torch tensors); each
        is moved to the device of the parameter it fills and cast to its dtype.
        Every problem is reported in one error: keys the module has but the state
        lacks (missing), keys of the state the module does not have (unexpected),
        keys whose shapes differ, and keys whose values are not numbers or booleans
        (text, objects, dates, raw bytes). Nothing is changed when there is an error.
        With strict=False, missing and unexpected keys are allowed (shapes must
        still fit) and returned as `IncompatibleKeys(missing_keys, unexpected_keys)`.
        """
        if not hasattr(state_dict, "keys") or not hasattr(state_dict, "__getitem__"):
            raise TypeError(f"load_state_dict: expected a dict from names to arrays, got {type(state_dict).__name__}")
        targets = OrderedDict(self._state_tensors())
        missing = [key for key in targets if key not in state_dict]
        unexpected = [key for key in state_dict.keys() if key not in targets]
        arrays, mis_shaped, mis_typed = {}, [], []
        for key, target in targets.items():
            if key not in state_dict:
                continue
            array = _as_host_or_device_array(state_dict[key], key)
            if tuple(array.shape) != tuple(target.shape):
                mis_shaped.append(f"{key!r}: the module's is {tuple(target.shape)}, the state's is {tuple(array.shape)}")
            if not _loadable(array.dtype, target.array.dtype):
                mis_typed.append(f"{key!r}: the module's is {target.array.dtype} {tuple(target.shape)}, "
                                 f"the state's is {array.dtype} {tuple(array.shape)}")
            arrays[key] = array
        problems = []
        if strict and missing:
            problems.append(f"missing keys (in the module, not in the state): {', '.join(map(repr, missing))}")
        if strict and unexpected:
            problems.append(f"unexpected keys (in the state, not in the module): {', '.join(map(repr, unexpected))}")
        if mis_shaped:
            problems.append("mis-shaped keys: " + "; ".join(mis_shaped))
        if mis_typed:
            problems.append("keys of a dtype that cannot load (numbers and booleans can; complex numbers only into "
                            "complex weights): " + "; ".join(mis_typed))
        if problems:
            raise RuntimeError(f"{type(self).__name__}.load_state_dict: the state does not fit this module "
                               f"(nothing was loaded):\n  " + "\n  ".join(problems))
        ready = {}
        for key, array in arrays.items():  # all moved and cast before the first is written: a failure changes nothing
            target = targets[key].array
            ready[key] = backend.to_device(array, backend.device_of(target)).astype(target.dtype, copy=False)
        for key, array in ready.items():
            targets[key].array[...] = array
        return IncompatibleKeys(missing, unexpected)

    # -- printing -----------------------------------------------------------
    def extra_repr(self):
        """The text inside the parentheses of this module's repr (its constructor's arguments)."""
        return ""

    def __repr__(self):
        lines = []
        extra = self.extra_repr()
        if extra:
            lines = extra.split("\n")
        for name, module in self._modules.items():
            child = repr(module).replace("\n", "\n  ")
            lines.append(f"({name}): {child}")
        main = type(self).__name__ + "("
        if lines:
            if len(lines) == 1 and not self._modules:
                main += lines[0]
            else:
                main += "\n  " + "\n  ".join(lines) + "\n"
        return main + ")"
