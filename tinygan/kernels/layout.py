"""Memory-layout helpers shared by the kernels (they import only backend, never functional)."""
import functools

from .. import backend


def xp_of(array):
    """The array module (numpy or cupy) of `array`."""
    return backend.get_array_module(array)


def per_channel(v, ndim):
    """A (C,) vector shaped to broadcast against (N, C) or (N, C, H, W)."""
    return v.reshape((1, -1) + (1,) * (ndim - 2))


def rows_along(x, axis):
    """x with `axis` moved last, as rows (P, C), C = x.shape[axis]: a view when `axis` is already the last axis of
    a contiguous x, else a copy. (A softmax's rows, a cross-entropy's classes.)"""
    xp = xp_of(x)
    return xp.ascontiguousarray(xp.moveaxis(x, axis, -1)).reshape(-1, x.shape[axis])


def from_rows(rows, shape, axis):
    """Rows (P, C) made by rows_along back to an array of `shape`: a view, stored with `axis` last."""
    xp = xp_of(rows)
    moved = tuple(n for i, n in enumerate(shape) if i != axis % len(shape)) + (shape[axis],)
    return xp.moveaxis(rows.reshape(moved), -1, axis)


def row_sums(rows):
    """The sum of each row of (P, C), as one matrix-vector product: NumPy's sum along a short last axis loops row
    by row, several times slower."""
    return rows @ xp_of(rows).ones(rows.shape[1], dtype=rows.dtype)


def is_channels_last(array):
    """Whether an (N, C, H, W) array is stored (N, H, W, C)-contiguous: one row of C numbers per pixel."""
    return array.transpose(0, 2, 3, 1).flags.c_contiguous


# Rows of the pattern view below hold about this many numbers: long enough that NumPy's inner loops run
# at full speed, short enough that a row of ones and the pattern stay in the cache.
_PATTERN_NUMBERS = 4096


class ChannelPattern:
    """An (N, C) or (N, C, H, W) array seen as rows that each repeat the same pattern of channels.

    A per-channel vector broadcast against images makes NumPy loop over the short runs where the channel
    is constant (H*W numbers stored (N, C, H, W), or only C numbers stored channels-last, 16 in a U-Net),
    a pass several times slower than one over long contiguous rows. In memory, though, the channels repeat
    with a fixed period: C*H*W numbers (one image) for (N, C, H, W), k*C (k pixels) channels-last. So the
    array is viewed as rows of one period, the vector is expanded once to one row (`expand`), and every
    per-channel step is an elementwise pass over long rows; a sum over rows folds back to channels (`fold`).

    `rows` is None for an array stored in neither layout (then use per_channel broadcasting).
    """

    def __init__(self, a):
        self.shape, self.rows, self.layout, self.repeats = a.shape, None, None, 1
        xp = xp_of(a)
        C = a.shape[1]
        if a.ndim == 2 and a.flags.c_contiguous:
            self.layout, self.rows = "rows", a
        elif a.ndim == 4 and a.flags.c_contiguous:
            self.repeats, self.layout = a.shape[2] * a.shape[3], "images"           # each channel H*W times
            self.rows = a.reshape(a.shape[0], -1)
        elif a.ndim == 4 and is_channels_last(a):
            self.repeats, self.layout = _pixels_per_row(a.size // C, C), "pixels"
            self.rows = a.transpose(0, 2, 3, 1).reshape(-1, self.repeats * C)
        self.xp, self.C = xp, C

    @classmethod
    def of(cls, a):
        """The pattern of a, or of a contiguous copy of a when a is stored in neither layout (a strided view)."""
        pattern = cls(a)
        return pattern if pattern.rows is not None else cls(xp_of(a).ascontiguousarray(a))

    def expand(self, v):
        """A (C,) vector as one row of the pattern."""
        if self.layout == "images":
            return self.xp.repeat(v, self.repeats)
        return self.xp.tile(v, self.repeats) if self.repeats > 1 else v

    def fold(self, row):
        """One row of the pattern (e.g. the rows' sum) summed back to (C,)."""
        if self.layout == "images":
            return row.reshape(self.C, self.repeats).sum(axis=1)
        return row.reshape(self.repeats, self.C).sum(axis=0) if self.repeats > 1 else row

    def sum(self, rows):
        """The per-channel sums of rows in this pattern: a row of ones times them, then folded."""
        return self.fold(self.xp.ones(rows.shape[0], dtype=rows.dtype) @ rows)

    def sum_of_products(self, a_rows, b_rows):
        """The per-channel sums of a * b, without writing a * b out: einsum multiplies and sums in one read."""
        return self.fold(self.xp.einsum("ij,ij->j", a_rows, b_rows))

    def image(self, rows):
        """Rows in this pattern (this array's, or new ones of the same shape) as an array of the original shape."""
        if self.layout == "pixels":
            N, C, H, W = self.shape
            return rows.reshape(N, H, W, C).transpose(0, 3, 1, 2)
        return rows.reshape(self.shape)

    def new(self):
        """Empty rows of this pattern, and the same memory as an array of the original shape and layout."""
        rows = self.xp.empty_like(self.rows)
        return rows, self.image(rows)

    def same_layout(self, b):
        """b's rows in this pattern, copying b only when it is stored otherwise."""
        other = ChannelPattern(b)
        if other.layout == self.layout and other.repeats == self.repeats:
            return other.rows
        rows, image = self.new()
        image[...] = b
        return rows


def channel_sum(a):
    """Sum over every axis but the channels (axis 1): (N, C) or (N, C, H, W) -> (C,), as a row of ones times
    the rows of the channel pattern (NumPy's a.sum(axis=(0, 2, 3)) strides across the batch for every channel)."""
    pattern = ChannelPattern.of(a)
    return pattern.sum(pattern.rows)


@functools.lru_cache(maxsize=256)
def _pixels_per_row(pixels, channels):
    """The most pixels k, dividing their number, whose k * channels numbers fit in one row of the pattern."""
    most = max(1, _PATTERN_NUMBERS // max(channels, 1))
    return max(k for k in range(1, most + 1) if pixels % k == 0)
