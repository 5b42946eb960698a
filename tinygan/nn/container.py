"""Containers: `Sequential` (layers applied in order), `ModuleList` and `ModuleDict` (a list and a dict that
register their modules), `ParameterList` and `ParameterDict` (the same for Parameters)."""
from collections import OrderedDict

from .module import Module, Parameter


class _ModuleSequence(Module):
    """What Sequential and ModuleList share: length, iteration and append, over children "0", "1", ..."""

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def append(self, module):
        """Add a module at the end; returns self."""
        self.add_module(str(len(self)), module)
        return self


class Sequential(_ModuleSequence):
    """Applies its modules in order: Sequential(a, b, c)(x) = c(b(a(x))).

    The children are named "0", "1", ... (or by the keys of an OrderedDict), so
    their parameters are "0.weight", "0.bias", ... as in PyTorch. Supports
    `len`, iteration, `seq[i]` (negative too) and `seq[i:j]` (a new Sequential
    sharing the same modules), and `append`.
    """

    def __init__(self, *modules):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], OrderedDict):
            for name, module in modules[0].items():
                self.add_module(name, module)
        else:
            for index, module in enumerate(modules):
                if not isinstance(module, Module):
                    raise TypeError(f"Sequential: argument {index} is a {type(module).__name__}, not a Module "
                                    "(did you pass a function? wrap it in a Module)")
                self.add_module(str(index), module)

    def _index(self, index):
        n = len(self._modules)
        if not -n <= index < n:
            raise IndexError(f"Sequential: index {index} is out of range for {n} modules")
        return index % n

    def __getitem__(self, index):
        items = list(self._modules.items())
        if isinstance(index, slice):
            return Sequential(OrderedDict(items[index]))
        return items[self._index(index)][1]

    def __setitem__(self, index, module):
        key = list(self._modules)[self._index(index)]
        self.add_module(key, module)

    def forward(self, x):
        for module in self._modules.values():
            x = module(x)
        return x


class ModuleList(_ModuleSequence):
    """A list of modules whose parameters are registered ("0.weight", "1.weight", ...); no forward of its own."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def __getitem__(self, index):
        items = list(self._modules.values())
        if isinstance(index, slice):
            return ModuleList(items[index])
        return items[index]

    def extend(self, modules):
        for module in modules:
            self.append(module)
        return self


class ModuleDict(Module):
    """A dict of modules whose parameters are registered under their keys ("encoder.weight", ...), as PyTorch's."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key):
        return self._modules[key]

    def __setitem__(self, key, module):
        self.add_module(key, module)

    def __delitem__(self, key):
        del self._modules[key]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def __contains__(self, key):
        return key in self._modules

    def keys(self):
        return self._modules.keys()

    def values(self):
        return self._modules.values()

    def items(self):
        return self._modules.items()

    def pop(self, key):
        module = self._modules[key]
        del self[key]
        return module

    def clear(self):
        self._modules.clear()

    def update(self, modules):
        """Add the (key, module) pairs of a dict (or an iterable of pairs), in order."""
        pairs = modules.items() if hasattr(modules, "items") else modules
        for key, module in pairs:
            self[key] = module


class ParameterList(Module):
    """A list of Parameters, registered as "0", "1", ... so that `parameters()` and `state_dict()` find them."""

    def __init__(self, values=None):
        super().__init__()
        if values is not None:
            self.extend(values)

    def _as_parameter(self, value):
        return value if isinstance(value, Parameter) else Parameter(value)

    def __getitem__(self, index):
        values = list(self._parameters.values())
        if isinstance(index, slice):
            return ParameterList(values[index])
        return values[index]

    def __setitem__(self, index, value):
        key = list(self._parameters)[index]
        self._parameters[key] = self._as_parameter(value)

    def __len__(self):
        return len(self._parameters)

    def __iter__(self):
        return iter(self._parameters.values())

    def append(self, value):
        """Add a Parameter (a Tensor or an array becomes one) at the end; returns self."""
        self.register_parameter(str(len(self)), self._as_parameter(value))
        return self

    def extend(self, values):
        for value in values:
            self.append(value)
        return self

    def extra_repr(self):
        return "\n".join(f"({key}): Parameter containing: {tuple(p.shape)} {p.dtype}"
                         for key, p in self._parameters.items())


class ParameterDict(Module):
    """A dict of Parameters, registered under their keys, as PyTorch's."""

    def __init__(self, parameters=None):
        super().__init__()
        if parameters is not None:
            self.update(parameters)

    def __getitem__(self, key):
        return self._parameters[key]

    def __setitem__(self, key, value):
        self.register_parameter(key, value if isinstance(value, Parameter) else Parameter(value))

    def __delitem__(self, key):
        del self._parameters[key]

    def __len__(self):
        return len(self._parameters)

    def __iter__(self):
        return iter(self._parameters)

    def __contains__(self, key):
        return key in self._parameters

    def keys(self):
        return self._parameters.keys()

    def values(self):
        return self._parameters.values()

    def items(self):
        return self._parameters.items()

    def pop(self, key):
        value = self._parameters[key]
        del self[key]
        return value

    def update(self, parameters):
        """Add the (key, parameter) pairs of a dict (or an iterable of pairs), in order."""
        pairs = parameters.items() if hasattr(parameters, "items") else parameters
        for key, value in pairs:
            self[key] = value

    def extra_repr(self):
        return "\n".join(f"({key}): Parameter containing: {tuple(p.shape)} {p.dtype}"
                         for key, p in self._parameters.items())
