"""Flatten and Unflatten: reshapes as layers, with PyTorch's arguments.
"""
from .. import functional as F
from .module import Module


class Flatten(Module):
    """Merge dimensions start_dim..end_dim into one: (N, C, H, W) -> (N, C*H*W) by default."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x):
        start, end = self.start_dim % x.ndim, self.end_dim % x.ndim
        if end == x.ndim - 1:
            return F.flatten(x, start)
        if start > end:
            raise ValueError(f"Flatten: start_dim {self.start_dim} comes after end_dim {self.end_dim} "
                             f"for an input of shape {tuple(x.shape)}")
        return F.reshape(x, tuple(x.shape[:start]) + (-1,) + tuple(x.shape[end + 1:]))

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split dimension `dim` into `unflattened_size`: Unflatten(1, (64, 7, 7)) turns (N, 3136) into (N, 64, 7, 7)."""

    def __init__(self, dim, unflattened_size):
        super().__init__()
        self.dim, self.unflattened_size = dim, tuple(unflattened_size)

    def forward(self, x):
        dim = self.dim % x.ndim
        size = 1
        for n in self.unflattened_size:
            size *= n
        if -1 not in self.unflattened_size and size != x.shape[dim]:
            raise ValueError(f"Unflatten: dimension {self.dim} of the input (shape {tuple(x.shape)}) has size "
                             f"{x.shape[dim]}, which cannot be split into {self.unflattened_size}")
        return F.reshape(x, tuple(x.shape[:dim]) + self.unflattened_size + tuple(x.shape[dim + 1:]))

    def extra_repr(self):
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
