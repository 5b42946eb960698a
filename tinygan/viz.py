"""Figures: sample grids, loss curves, 2-D point clouds. The only tinygan file that imports matplotlib.

matplotlib is imported inside each function, and each figure is a Figure of its own rather than
pyplot's: `import tinygan` stays fast, works without a display, and never changes the backend that a
program or a notebook chose for its own figures.
"""
import os
import struct
import zlib

import numpy as np

from . import backend
from .autograd import Tensor


def each_class_in_turn(labels, rounds):
    """Indices of samples to show, one of each class in turn: the first of every class, then the second, ...

    A figure of the first samples of a data set sorted by class (the embedded digits are) would show
    only zeros; rows of 10 of these show every digit. Fewer rounds when a class has fewer samples.
    """
    labels = np.asarray(labels)
    by_class = [np.flatnonzero(labels == c) for c in np.unique(labels)]
    rounds = min(rounds, *(len(indices) for indices in by_class))
    return np.stack([indices[:rounds] for indices in by_class], axis=1).ravel()


def _figure(figsize, dpi=100):
    """A matplotlib Figure of its own, outside pyplot: saving it needs no display, and the global
    backend stays whatever the user's program (or notebook) chose."""
    from matplotlib.figure import Figure
    return Figure(figsize=figsize, dpi=dpi)


def image_grid(images, ncols=8, value_range=(-1, 1)):
    """(N, 1, H, W) or (N, H, W) grey images -> one (rows*H, ncols*W) array in [0, 1] with 1-pixel gaps;
    (N, 3, H, W) colour images -> one (rows*H, ncols*W, 3) RGB array."""
    # A Tensor gives its array; a bare CuPy array's own `.data` is a raw memory pointer, not the values.
    images = backend.to_numpy(images.array if isinstance(images, Tensor) else images).astype(np.float32)
    colour = images.ndim == 4 and images.shape[1] == 3
    if colour:
        images = images.transpose(0, 2, 3, 1)                           # (N, H, W, 3)
    else:
        images = images.reshape(images.shape[0], images.shape[-2], images.shape[-1])
    low, high = value_range
    images = np.clip((images - low) / (high - low), 0, 1)
    n, h, w = images.shape[:3]
    nrows = -(-n // ncols)
    grid = np.ones((nrows * (h + 1) + 1, ncols * (w + 1) + 1) + images.shape[3:], dtype=np.float32)
    for i in range(n):
        r, c = divmod(i, ncols)
        grid[1 + r * (h + 1):1 + r * (h + 1) + h, 1 + c * (w + 1):1 + c * (w + 1) + w] = images[i]
    return grid


def save_image_grid(images, path, ncols=8, value_range=(-1, 1), title=None):
    """Save a grid of images (grey or RGB) as a PNG."""
    grid = image_grid(images, ncols, value_range)
    fig = _figure((grid.shape[1] / 40, grid.shape[0] / 40 + (0.3 if title else 0)))
    ax = fig.subplots()
    ax.imshow(grid, cmap="gray" if grid.ndim == 2 else None, vmin=0, vmax=1, interpolation="nearest")
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=8)
    fig.savefig(path, bbox_inches="tight", pad_inches=0.05)


def _integer_ticks():
    from matplotlib.ticker import MaxNLocator
    return MaxNLocator(integer=True)


def save_curves(history, path, keys=None, title="training curves"):
    """Plot per-epoch values (a list of dicts with an 'epoch' key) as lines, one panel per group."""
    keys = keys or [k for k in history[0] if k not in ("epoch", "step", "seconds") and isinstance(history[0][k], (int, float))]
    epochs = [row["epoch"] for row in history]
    fig = _figure((6, 3.5))
    ax = fig.subplots()
    for key in keys:
        ax.plot(epochs, [row.get(key, np.nan) for row in history], marker="o", markersize=3, label=key)
    ax.set_xlabel("epoch")
    ax.xaxis.set_major_locator(_integer_ticks())          # epochs are whole numbers, not 2.5, 7.5
    ax.set_title(title)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)


def save_points(points, path, modes=None, title=None, limit=None):
    """Scatter 2-D samples (N, 2), with the true modes marked if given."""
    points = backend.to_numpy(getattr(points, "data", points) if not isinstance(points, np.ndarray) else points)
    fig = _figure((4, 4))
    ax = fig.subplots()
    ax.scatter(points[:, 0], points[:, 1], s=2, alpha=0.5, label="samples")
    if modes is not None:
        ax.scatter(modes[:, 0], modes[:, 1], s=40, marker="x", color="red", label="true modes")
    if limit:
        ax.set_xlim(-limit, limit)
        ax.set_ylim(-limit, limit)
    ax.set_aspect("equal")
    if title:
        ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    fig.savefig(path)


def save_image_panels(panels, path, titles, ncols=2, value_range=(0, 1), images_per_row=8):
    """Several image grids side by side in one PNG, each with its title: panels[i] is (N, C, H, W) on value_range,
    laid out ncols panels to a row (for comparing models on the same noise or the same inputs)."""
    grids = [image_grid(images, images_per_row, value_range) for images in panels]
    nrows = -(-len(grids) // ncols)
    height, width = grids[0].shape[:2]
    fig = _figure((ncols * width / 40, nrows * (height / 40 + 0.3)))
    axes = np.array(fig.subplots(nrows, ncols)).reshape(-1)
    for ax, grid, title in zip(axes, grids, titles):
        ax.imshow(grid, cmap="gray" if grid.ndim == 2 else None, vmin=0, vmax=1, interpolation="nearest")
        ax.set_title(title, fontsize=8)
    for ax in axes:
        ax.axis("off")
    fig.savefig(path, bbox_inches="tight", pad_inches=0.05)


def save_label_maps(images, true_rgb, predicted_rgb, path, legend, title=None):
    """One row per image: the grey image (on [0, 1]) | its true label map | the predicted one (RGB on [0, 1]),
    with a legend of (colour, name) pairs below."""
    from matplotlib.patches import Patch
    rows = len(images)
    fig = _figure((4.6, 1.5 * rows + 0.6))
    axes = fig.subplots(rows, 3, squeeze=False)
    for row in range(rows):
        panels = (images[row], true_rgb[row], predicted_rgb[row])
        for column, (ax, image) in enumerate(zip(axes[row], panels)):
            ax.imshow(image, cmap="gray" if column == 0 else None, vmin=0, vmax=1, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if row == 0:
                ax.set_title(("scene", "true", "predicted")[column], fontsize=9)
    handles = [Patch(facecolor=colour, edgecolor="grey", label=name) for colour, name in legend]
    fig.legend(handles=handles, loc="lower center", ncol=6, fontsize=7, frameon=False)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout(rect=(0, 0.08 if rows > 2 else 0.15, 1, 1))
    fig.savefig(path, bbox_inches="tight", pad_inches=0.05)



def _png_bytes(pixels):
    """The bytes of an 8-bit PNG (greyscale or RGB) of uint8 `pixels` (H, W) or (H, W, 3): no filter, zlib level 9."""
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    height, width = pixels.shape[:2]
    colour_type = 2 if pixels.ndim == 3 else 0
    rows = np.concatenate([np.zeros((height, 1), np.uint8), pixels.reshape(height, -1)], axis=1)  # filter byte 0
    header = struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows.tobytes(), 9))
            + chunk(b"IEND", b""))


def save_rgb_png(pixels, fp, format=None):
    """Write uint8 pixels (H, W, 3) or (H, W) to the path or binary file `fp`, pixel for pixel (no axes, no resizing).

    format -- "png" (the default, and what a file name without a known suffix gets) writes an 8-bit RGB or grey
              PNG; another format ("jpg", ...) goes through matplotlib's imsave.
    """
    pixels = np.ascontiguousarray(pixels)
    if pixels.dtype != np.uint8 or pixels.ndim not in (2, 3) or (pixels.ndim == 3 and pixels.shape[2] != 3):
        raise ValueError(f"save_rgb_png: expected uint8 pixels (H, W) or (H, W, 3), got {pixels.dtype} {pixels.shape}")
    is_path = isinstance(fp, (str, os.PathLike))
    if format is None:
        suffix = os.path.splitext(os.fspath(fp))[1].lstrip(".").lower() if is_path else ""
        format = suffix if suffix in ("jpg", "jpeg", "tif", "tiff", "webp", "bmp") else "png"
    if format.lower() != "png":
        from matplotlib.image import imsave
        imsave(fp, pixels if pixels.ndim == 3 else np.repeat(pixels[:, :, None], 3, axis=2), format=format)
        return
    data = _png_bytes(pixels)
    if is_path:
        with open(fp, "wb") as file:
            file.write(data)
    else:
        fp.write(data)
