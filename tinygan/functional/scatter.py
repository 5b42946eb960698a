"""Writing values into places: scatter_add, scatter and index_add, the adjoints of gather and index_select.

For dim = 0, `scatter_add(x, 0, index, src)` adds `src[i][j][k]` into `x[index[i][j][k]][j][k]`: it is x plus the
adjoint of gather (GetItemGrad, which adds where a place repeats), so dL/dx = dL/dy and
dL/dsrc = gather(dL/dy, 0, index). scatter writes instead of adding: the places it writes take their
gradient from src, and x keeps the gradient of the others.
"""
from ..autograd import Tensor
from ._util import as_tensor, xp_of
from .arithmetic import add, mul, where
from .shape import GetItemGrad, _dim, along_index, getitem


def _checked_index(op_name, x, dim, index, src):
    """The integer array of `index`, checked as PyTorch does: x's number of dimensions (and src's, when src is a
    tensor), no larger than src anywhere nor than x outside `dim`, and every entry a place of x along `dim`."""
    picks = index.array if isinstance(index, Tensor) else index
    if getattr(picks, "dtype", None) is None or picks.dtype.kind not in "iu" or picks.ndim != x.ndim:
        raise ValueError(f"{op_name}: index must be an integer tensor with the input's {x.ndim} dimensions, got "
                         f"{getattr(picks, 'shape', picks)} of dtype {getattr(picks, 'dtype', type(picks).__name__)}")
    src_shape = tuple(src.shape) if isinstance(src, Tensor) else tuple(picks.shape)
    if len(src_shape) != x.ndim:
        raise ValueError(f"{op_name}: src must have the input's {x.ndim} dimensions, got shape {src_shape}")
    too_large = any(n > m for n, m in zip(picks.shape, src_shape)) or any(
        n > m for i, (n, m) in enumerate(zip(picks.shape, x.shape)) if i != dim)
    if too_large:
        raise ValueError(f"{op_name}: index of shape {tuple(picks.shape)} is larger than src {tuple(src_shape)}, or "
                         f"than the input {tuple(x.shape)} outside dim {dim}")
    if picks.size and (int(picks.min()) < 0 or int(picks.max()) >= x.shape[dim]):
        raise IndexError(f"{op_name}: index values must be in [0, {x.shape[dim]}) for dim {dim} of the input "
                         f"{tuple(x.shape)}, got values from {int(picks.min())} to {int(picks.max())}")
    return picks


def _source(src, picks, like):
    """The part of src that index covers (its leading block of index's shape), as a tensor; a number fills it."""
    if not isinstance(src, Tensor):
        return as_tensor(xp_of(picks).full(picks.shape, src, dtype=like.dtype))
    if tuple(src.shape) == tuple(picks.shape):
        return src
    return getitem(src, tuple(slice(0, n) for n in picks.shape))


def _placed(src, picks, dim, shape):
    """Zeros of `shape` with src's values added at their places (repeated places add up)."""
    return GetItemGrad.apply(src, index=along_index(picks, dim), shape=tuple(shape))


def scatter_add(x, dim, index, src):
    """x with `src[i][j][k]` added at `x[index[i][j][k]][j][k]` (dim = 0; likewise for the other dims), like
    torch.scatter_add: places named twice receive both."""
    dim = _dim("scatter_add", dim, max(x.ndim, 1))
    picks = _checked_index("scatter_add", x, dim, index, src)
    return add(x, _placed(_source(src, picks, x), picks, dim, x.shape))  # [formula: scatter-add]


def scatter(x, dim, index, src=None, value=None, reduce=None):
    """x with `x[index[i][j][k]][j][k] = src[i][j][k]` (dim = 0; likewise for the other dims), or = value, like
    torch.scatter. A place named twice is refused: PyTorch leaves which value it keeps undefined."""
    if reduce is not None:
        raise ValueError(f"scatter: reduce={reduce!r} is not there; use scatter_add to add")
    if (src is None) == (value is None):
        raise ValueError("scatter: give one of src (a tensor or a number) and value")
    src = value if src is None else src
    dim = _dim("scatter", dim, max(x.ndim, 1))
    picks = _checked_index("scatter", x, dim, index, src)
    written = _placed(Tensor(xp_of(picks).ones(picks.shape, dtype=x.dtype)), picks, dim, x.shape)
    if picks.size and float(written.array.max()) > 1:
        raise ValueError(f"scatter: index {tuple(picks.shape)} names a place of the input twice along dim {dim}; "
                         f"PyTorch keeps either value, so tinygan refuses (scatter_add adds both)")
    placed = _placed(_source(src, picks, x), picks, dim, x.shape)
    return where(written > 0, placed, x)  # [formula: scatter]


def index_add(x, dim, index, source, alpha=1):
    """x with `alpha * source[..., i, ...]` added at `x[..., index[i], ...]` along `dim`, like torch.index_add (the
    adjoint of index_select: indices named twice receive both)."""
    dim = _dim("index_add", dim, max(x.ndim, 1))
    picks = index.array if isinstance(index, Tensor) else index
    expected = tuple(x.shape[:dim]) + (len(picks),) + tuple(x.shape[dim + 1:])
    if getattr(picks, "ndim", None) != 1 or picks.dtype.kind not in "iu" or tuple(source.shape) != expected:
        raise ValueError(f"index_add: expects a 1-D integer index and a source of shape {expected} for the input "
                         f"{tuple(x.shape)} along dim {dim}, got index {getattr(picks, 'shape', picks)} and source "
                         f"{tuple(source.shape)}")
    if picks.size and (int(picks.min()) < 0 or int(picks.max()) >= x.shape[dim]):
        raise IndexError(f"index_add: index values must be in [0, {x.shape[dim]}) for dim {dim}")
    added = GetItemGrad.apply(source, index=(slice(None),) * dim + (picks,), shape=tuple(x.shape))
    return add(x, added if alpha == 1 else mul(added, alpha))
