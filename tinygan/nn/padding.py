"""ZeroPad2d and ConstantPad2d: F.pad as a layer, with PyTorch's arguments (reflection and replication padding
are refused by F.pad by name).
"""
from .. import functional as F
from .module import Module


class ConstantPad2d(Module):
    """Pad the last two axes with `value`: padding is one int for all four sides or (left, right, top, bottom)."""

    def __init__(self, padding, value):
        super().__init__()
        self.padding = (padding,) * 4 if isinstance(padding, int) else tuple(padding)
        if len(self.padding) != 4:
            raise ValueError(f"{type(self).__name__}: padding must be an int or (left, right, top, bottom), got "
                             f"{padding!r}")
        self.value = float(value)

    def forward(self, input):
        return F.pad(input, self.padding, value=self.value)

    def extra_repr(self):
        return f"padding={self.padding}, value={self.value}"


class ZeroPad2d(ConstantPad2d):
    """Pad the last two axes with zeros."""

    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f"padding={self.padding}"
