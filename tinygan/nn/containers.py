"""Containers: `Sequential` (layers applied in order) and `ModuleList` (a list that registers its modules)."""
from collections import OrderedDict

from .module import Module


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
