"""Small helpers shared by the functional operations."""
from .. import backend
from ..autograd import Tensor


def xp_of(array):
    """The array module (numpy or cupy) of `array`."""
    return backend.get_array_module(array)


def as_tensor(value, like=None):
    """`value` as a Tensor; a Python or NumPy scalar takes the dtype of the floating tensor `like`.

    This is what keeps float32 float32: NumPy would turn float32_array * np.float64(2) into float64.
    """
    if isinstance(value, Tensor):
        return value
    if like is not None and like.dtype.kind == "f":
        xp = backend.get_array_module(like.array)
        return Tensor(xp.asarray(value, dtype=like.dtype))
    return Tensor(value)


def floating(x):
    """x itself, or an integer or boolean tensor as the default float dtype: what PyTorch makes of integers in a
    float function (exp, log, sigmoid, true division, ...). NumPy would make float64 of them."""
    if not isinstance(x, Tensor) or x.dtype.kind not in "iub":
        return x
    return Tensor(x.array.astype(backend.get_default_dtype()))


def constant(array):
    """Wrap an array that no gradient flows into (a mask, a fixed weighting)."""
    return Tensor(array)


def normalize_axis(axis, ndim):
    """An axis argument (None, int or tuple) as a sorted tuple of non-negative ints."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, int):
        axis = (axis,)
    return tuple(sorted(a % ndim for a in axis))
