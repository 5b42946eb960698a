"""Dropout as a layer: active in training, the identity in evaluation (the formula is F.dropout's).
"""
from .. import functional as F
from .module import Module


class Dropout(Module):
    """In training, zero each value with probability p and scale the rest by 1/(1-p); in eval, the identity.

    inplace is accepted for PyTorch's signature; tinygan computes out of place (nn/activation.py).
    """

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if not 0 <= p < 1:
            raise ValueError(f"Dropout: p must be in [0, 1), got {p}")
        self.p, self.inplace = p, inplace

    def forward(self, x):
        return F.dropout(x, self.p, self.training)

    def extra_repr(self):
        return f"p={self.p}" + (", inplace=True" if self.inplace else "")


class Dropout1d(Module):
    """In training, zero each channel x[n, c, :] of an (N, C, L) or (C, L) input with probability p and
    scale the rest by 1/(1-p) (F.dropout1d); in eval, the identity.

    inplace is accepted for PyTorch's signature; tinygan computes out of place (nn/activation.py).
    """

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if not 0 <= p <= 1:
            raise ValueError(f"Dropout1d: p must be in [0, 1], got {p}")
        self.p, self.inplace = p, inplace

    def forward(self, x):
        return F.dropout1d(x, self.p, self.training)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class Dropout2d(Dropout1d):
    """In training, zero each channel x[n, c] of an (N, C, H, W) input with probability p and scale the
    rest by 1/(1-p) (F.dropout2d, with PyTorch's reading of 3-D input); in eval, the identity.

    inplace is accepted for PyTorch's signature; tinygan computes out of place (nn/activation.py).
    """

    def __init__(self, p=0.5, inplace=False):
        if not 0 <= p <= 1:
            raise ValueError(f"Dropout2d: p must be in [0, 1], got {p}")
        super().__init__(p, inplace)

    def forward(self, x):
        return F.dropout2d(x, self.p, self.training)
