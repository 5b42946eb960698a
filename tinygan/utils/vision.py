"""`make_grid` and `save_image` with torchvision.utils' names, arguments and layout.

    from tinygan.utils import make_grid, save_image      # for: from torchvision.utils import ...
    save_image(fake[:25], "fake.png", nrow=5, normalize=True)

A grid is a (C, H', W') tensor: the images in rows of `nrow`, `padding` pixels of `pad_value` around and
between them, grey images repeated into 3 channels as torchvision does. `save_image` writes that grid as
an RGB image through `tinygan.viz` (matplotlib), each value v on [0, 1] becoming the byte
min(255, max(0, floor(255 v + 0.5))), as torchvision's does.
"""
import math

from .. import backend, viz
from ..autograd import Tensor


def _as_array(tensor, where):
    """The plain array of a Tensor, an array, or a list of (C, H, W) tensors (stacked), on its device."""
    if isinstance(tensor, (list, tuple)):
        arrays = [_as_array(t, where) for t in tensor]
        return backend.get_array_module(arrays[0]).stack(arrays)
    if isinstance(tensor, Tensor):
        return tensor.array
    if hasattr(tensor, "shape") and hasattr(tensor, "dtype"):
        return tensor
    raise TypeError(f"{where}: expected a tensor or a list of tensors, got {type(tensor).__name__}")


def make_grid(tensor, nrow=8, padding=2, normalize=False, value_range=None, scale_each=False, pad_value=0.0):
    """Images (N, C, H, W), one image (C, H, W) or (H, W), or a list of (C, H, W) -> one (C, H', W') grid tensor.

    nrow        -- images per row (the last row may be shorter); the grid has ceil(N / nrow) rows
    padding     -- pixels of `pad_value` around every image, so H' = rows * (H + padding) + padding
    normalize   -- shift and scale to [0, 1]: by `value_range` (low, high), values outside clipped, or else
                   by the min and max of the whole batch (of each image with `scale_each=True`)
    One-channel images become three channels; a single image comes back without padding.
    """
    x = _as_array(tensor, "make_grid")
    xp = backend.get_array_module(x)
    if x.ndim == 2:                                             # one image (H, W)
        x = x[None]
    if x.ndim == 3:                                             # one image (C, H, W)
        if x.shape[0] == 1:
            x = xp.concatenate([x, x, x], axis=0)
        x = x[None]
    if x.ndim != 4:
        raise ValueError(f"make_grid: expected images (N, C, H, W), (C, H, W) or (H, W), got shape {tuple(x.shape)}")
    if x.shape[1] == 1:
        x = xp.concatenate([x, x, x], axis=1)                   # (N, 3, H, W)
    if normalize:
        if value_range is not None and not isinstance(value_range, tuple):
            raise TypeError("make_grid: value_range has to be a tuple (min, max) if specified, "
                            f"got {type(value_range).__name__}")
        x = x.copy()

        def scale(part):
            low, high = value_range if value_range is not None else (float(part.min()), float(part.max()))
            part[...] = (xp.clip(part, low, high) - low) / max(high - low, 1e-5)

        for part in (x if scale_each else [x]):
            scale(part)
    if x.shape[0] == 1:
        return Tensor(x[0])
    n, c, h, w = x.shape
    columns = min(nrow, n)
    rows = int(math.ceil(n / columns))
    height, width = h + padding, w + padding
    grid = xp.full((c, rows * height + padding, columns * width + padding), pad_value, dtype=x.dtype)
    for k in range(n):
        r, col = divmod(k, columns)
        grid[:, r * height + padding:(r + 1) * height, col * width + padding:(col + 1) * width] = x[k]
    return Tensor(grid)


def save_image(tensor, fp, format=None, **kwargs):
    """Write `make_grid(tensor, **kwargs)` to the path or binary file `fp` as an RGB image (PNG by default).

    Takes make_grid's arguments (`nrow`, `padding`, `normalize`, `value_range`, `scale_each`, `pad_value`).
    Values are taken to lie on [0, 1]: pass normalize=True (and value_range=(-1, 1) for tanh outputs) otherwise.
    """
    grid = backend.to_numpy(make_grid(tensor, **kwargs).array)
    pixels = (grid * 255 + 0.5).clip(0, 255).astype("uint8").transpose(1, 2, 0)   # (H', W', C)
    if pixels.shape[2] == 1:
        pixels = pixels[:, :, 0]
    viz.save_rgb_png(pixels, fp, format=format)
