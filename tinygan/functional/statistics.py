"""Reductions that PyTorch code calls beside sum and mean, each built from other differentiable operations: the
product and the running product, the median and the k-th smallest value, sums and means that skip NaN; and
counts (count_nonzero, unique, nonzero), which have no gradient.
"""
from collections import namedtuple

from ..autograd import Tensor
from ._util import xp_of
from .arithmetic import div, mul, where
from .reduce import sum
from .shape import _dim, _order_along, concat, gather, getitem, reshape, squeeze

ValuesIndices = namedtuple("ValuesIndices", ["values", "indices"])


def prod(x, dim=None, keepdim=False):
    """The product of the elements (along `dim`, or of all of them), like torch.prod; 1 for none.

    Multiplied pairwise, the first half by the second, until one is left: each step is a product, so a zero
    among the elements still gets its exact gradient (the product of the others), where dividing the product
    by the element would divide by 0.
    """
    if dim is None:
        return reshape(_product_along(reshape(x, (-1,)), 0), ())
    dim = _dim("prod", dim, max(x.ndim, 1))
    product = _product_along(x, dim)
    return product if keepdim else squeeze(product, dim)


def _product_along(x, dim):
    """x's product along `dim`, that dimension kept with length 1."""
    if x.shape[dim] == 0:
        shape = tuple(1 if i == dim else n for i, n in enumerate(x.shape))
        return Tensor(xp_of(x.array).ones(shape, dtype=x.dtype))
    while x.shape[dim] > 1:
        n, half = x.shape[dim], x.shape[dim] // 2
        before = (slice(None),) * dim
        product = mul(getitem(x, before + (slice(0, half),)), getitem(x, before + (slice(half, 2 * half),)))
        if n % 2:                                             # the odd one out waits for the next step
            product = concat([product, getitem(x, before + (slice(n - 1, n),))], axis=dim)
        x = product  # [formula: prod]
    return x


def cumprod(x, dim=None, *, axis=None):
    """The running product along `dim` (or NumPy's `axis=`, which PyTorch accepts too): `y_i = x_0 x_1 ... x_i`,
    like torch.cumprod (a diffusion model's `alphas_cumprod`).

    A scan of log2(n) steps, each a product: step d multiplies every element by the one d places before it
    (d = 1, 2, 4, ...), so y_i gathers the products of ever longer runs ending at i. Each step is a product, so
    a zero among the elements keeps its exact gradient, where dividing y_i by x_k would divide by 0.
    """
    if (dim is None) == (axis is None):
        raise TypeError("cumprod: give the dim (dim= or axis=), once")
    dim = _dim("cumprod", axis if dim is None else dim, max(x.ndim, 1))
    if x.ndim == 0:
        return x * 1
    n, shift = x.shape[dim], 1
    before = (slice(None),) * dim
    while shift < n:
        head = getitem(x, before + (slice(0, shift),))
        tail = mul(getitem(x, before + (slice(shift, n),)), getitem(x, before + (slice(0, n - shift),)))
        x = concat([head, tail], axis=dim)  # [formula: cumprod]
        shift *= 2
    return x


def kthvalue(x, k, dim=-1, keepdim=False):
    """(values, indices) of the k-th smallest element along `dim` (k = 1 is the smallest), like torch.kthvalue.
    Equal values keep their order, so of several equal k-th values the first is picked."""
    dim = _dim("kthvalue", dim, max(x.ndim, 1))
    size = x.shape[dim] if x.ndim else 1
    if not 1 <= k <= size:
        raise ValueError(f"kthvalue: k = {k} is out of range for {size} elements along dim {dim} of shape "
                         f"{tuple(x.shape)}")
    return _order_statistic(x, k - 1, dim, keepdim)


def median(x, dim=None, keepdim=False):
    """The lower median: the ((n - 1) // 2)-th smallest of n values, like torch.median. Without dim, of all the
    values (a 0-d tensor); with dim, (values, indices) along it."""
    if dim is None:
        flat = reshape(x, (-1,))
        if flat.shape[0] == 0:
            raise ValueError("median: the input has no values")
        return reshape(_order_statistic(flat, (flat.shape[0] - 1) // 2, 0, True).values, ())
    dim = _dim("median", dim, max(x.ndim, 1))
    if x.ndim and x.shape[dim] == 0:
        raise ValueError(f"median: dim {dim} of shape {tuple(x.shape)} is empty")
    return _order_statistic(x, ((x.shape[dim] if x.ndim else 1) - 1) // 2, dim, keepdim)


def _order_statistic(x, position, dim, keepdim):
    """(values, indices) of the element at `position` in x's stable sorted order along `dim`: a gather of x, so
    the gradient goes to the element picked."""
    if x.ndim == 0:
        return ValuesIndices(x, Tensor(xp_of(x.array).zeros((), dtype="int64")))
    order = _order_along(x.array, dim, descending=False)
    picked = order[tuple(slice(position, position + 1) if i == dim else slice(None) for i in range(x.ndim))]
    values, indices = gather(x, dim, Tensor(picked)), Tensor(picked)
    if keepdim:
        return ValuesIndices(values, indices)
    return ValuesIndices(squeeze(values, dim), Tensor(picked.squeeze(dim)))


def nansum(x, dim=None, keepdim=False):
    """The sum of the values that are not NaN (along `dim`), like torch.nansum; a NaN gets no gradient."""
    return _sum_without(x, xp_of(x.array).isnan(x.array), dim, keepdim)


def nanmean(x, dim=None, keepdim=False):
    """The mean of the values that are not NaN (along `dim`), like torch.nanmean."""
    missing = xp_of(x.array).isnan(x.array)
    present = Tensor((~missing).astype(x.dtype))
    return div(_sum_without(x, missing, dim, keepdim), sum(present, axis=dim, keepdims=keepdim))


def _sum_without(x, missing, dim, keepdim):
    """x summed along `dim` with the places of the boolean array `missing` taken as 0 (and given no gradient)."""
    return sum(where(Tensor(missing), 0.0, x), axis=dim, keepdims=keepdim)


def count_nonzero(x, dim=None):
    """How many values are not 0 (along `dim`), as int64, like torch.count_nonzero."""
    array = x.array if isinstance(x, Tensor) else x
    return Tensor(xp_of(array).count_nonzero(array, axis=dim).astype("int64"))


def nonzero(x, as_tuple=False):
    """The indices of the values that are not 0: (count, ndim) int64 rows, or one 1-D tensor per dimension with
    as_tuple=True, like torch.nonzero."""
    places = xp_of(x.array).nonzero(x.array)
    if as_tuple:
        return tuple(Tensor(p.astype("int64")) for p in places)
    return Tensor(xp_of(x.array).stack(places, axis=1).astype("int64").reshape(-1, x.ndim))


def unique(x, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """The distinct values of x in ascending order (of all of x, or the distinct slices along `dim`), like
    torch.unique; with return_inverse, where each value went, and with return_counts, how often each occurs."""
    array = x.array
    xp = xp_of(array)
    if dim is not None:
        dim = _dim("unique", dim, max(x.ndim, 1))
    found = xp.unique(array, return_inverse=return_inverse, return_counts=return_counts, axis=dim)
    if not (return_inverse or return_counts):
        return Tensor(found)
    values, extras = found[0], list(found[1:])
    if return_inverse:
        inverse = extras.pop(0)
        shape = array.shape if dim is None else (array.shape[dim],)
        extras.insert(0, inverse.reshape(shape).astype("int64"))
    return (Tensor(values),) + tuple(Tensor(e.astype("int64")) for e in extras)
