"""The Tensor methods PyTorch code calls (`x.view(...)`, `x.max(1)`, `x.std(dim=0)`, ...), installed on Tensor.

Each is a thin call of an op of this package, so it differentiates like the op. Reductions take PyTorch's
`dim=`/`keepdim=` and tinygan's older `axis=`/`keepdims=` alike.
"""
from ..autograd import Tensor
from .arithmetic import abs, masked_fill, matmul, maximum, minimum, pow
from .reduce import max as reduce_max, max_with_indices, mean, min as reduce_min, min_with_indices, std, sum, var
from .shape import clone, expand, repeat, reshape, squeeze, transpose, unsqueeze


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
        data = self.data
        if dim is None:
            return Tensor(getattr(data.ravel(), name)())
        indices = getattr(data, name)(axis=dim)
        if keepdim:
            indices = indices.reshape(tuple(1 if i == dim % self.ndim else n for i, n in enumerate(self.shape)))
        return Tensor(indices)
    method.__name__ = name
    return method


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
    return self if self.data.flags.c_contiguous else clone(self)


def install():
    """Put the PyTorch-style methods on Tensor."""
    methods = {
        "sum": _sum, "mean": _mean, "var": _var, "std": _std,
        "max": _extremum(reduce_max, max_with_indices, maximum),
        "min": _extremum(reduce_min, min_with_indices, minimum),
        "argmax": _arg("argmax"), "argmin": _arg("argmin"),
        "view": _view, "flatten": _flatten, "t": _t, "contiguous": _contiguous, "clone": clone,
        "squeeze": squeeze, "unsqueeze": unsqueeze, "expand": expand, "repeat": repeat,
        "matmul": matmul, "pow": pow, "abs": abs, "__abs__": abs, "masked_fill": masked_fill,
    }
    for name, function in methods.items():
        setattr(Tensor, name, function)
