"""How well a pix2pix generator restores damaged digits: run it, score it, draw it.

Scores, all on pixels in [0, 1], over the damaged region only (the mask of tinygan/data/damage.py: the
14x14 square of inpainting, every pixel for super-resolution):

    L1    = mean over the region of |restored - original|
    PSNR  = 10 log10(1 / MSE), MSE = mean over the region of (restored - original)^2, pooled over all
            test digits (one MSE, then one PSNR, so a perfectly restored digit cannot make it infinite)

and the shipped digit classifier's accuracy on the restored digits, beside its accuracy on the damaged
and on the original ones. The restored digit is G's whole output: the undamaged pixels are not pasted
back from the input.
"""
import numpy as np

from . import backend, viz
from .autograd import Tensor, no_grad
from .classifier import classify
from .data.damage import fixed_test_damage
from .metrics import psnr


def restore(generator, damaged, batch_size=500):
    """G(x) of uint8 damaged digits (N, 28, 28), generator in eval mode, as float32 (N, 28, 28) on [0, 1]."""
    generator.eval()
    out = []
    with no_grad():
        for start in range(0, len(damaged), batch_size):
            chunk = damaged[start:start + batch_size, None].astype(np.float32) / np.float32(127.5) - np.float32(1)
            y = generator(Tensor(backend.to_device(chunk, backend.current_device())))
            out.append((backend.to_numpy(y.data)[:, 0] + 1) * 0.5)
    return np.concatenate(out).astype(np.float32)


def region_l1(restored, original, mask):
    """Mean |restored - original| over the masked pixels; images on [0, 1]."""
    return float(np.abs(restored - original)[mask].mean())


def region_psnr(restored, original, mask):
    """Peak signal-to-noise ratio in dB over the masked pixels of all digits at once (peak 1: images on [0, 1])."""
    return psnr(restored[mask], original[mask], peak=1.0)


def accuracy(images, labels, value_range=(0, 1)):
    """Fraction of digits the shipped classifier labels correctly (uint8, or floats on value_range)."""
    probs, _ = classify(images, value_range=value_range)
    return float((probs.argmax(axis=1) == labels).mean())


def restoration_scores(restored, damaged, original, labels, mask, inputs=True):
    """{"restored": {...}, "damaged": {...}, "original": {...}}: region L1 and PSNR, and classifier accuracy.

    restored: floats (N, 28, 28) on [0, 1]; damaged, original: uint8 (N, 28, 28); mask: bool (N, 28, 28).
    inputs=False leaves out the damaged and original digits' scores (the same for every model).
    """
    target = original.astype(np.float32) / 255
    scores = {"restored": {"l1": region_l1(restored, target, mask), "psnr": region_psnr(restored, target, mask),
                           "accuracy": accuracy(restored, labels)}}
    if not inputs:
        return scores
    damaged_unit = damaged.astype(np.float32) / 255
    scores["damaged"] = {"l1": region_l1(damaged_unit, target, mask), "psnr": region_psnr(damaged_unit, target, mask),
                         "accuracy": accuracy(damaged, labels)}
    scores["original"] = {"accuracy": accuracy(original, labels)}
    return scores


# The cut-out square in a figure's damaged digits: black like the background otherwise, so a reader could not
# see where it was. A blue no digit pixel has; only the figure is painted, never the data.
HOLE_COLOUR = (0.2, 0.3, 0.8)


def _rgb(images):
    """Grey digits (N, 28, 28), uint8 or floats on [0, 1], as RGB (N, 3, 28, 28) on [0, 1]."""
    images = np.asarray(images)
    unit = images.astype(np.float32) / (255 if images.dtype == np.uint8 else 1)
    return np.repeat(unit[:, None], 3, axis=1)


def mark_holes(damaged, mask):
    """Damaged digits (N, 28, 28) as RGB (N, 3, 28, 28) on [0, 1], the damaged pixels painted HOLE_COLOUR.

    A mask of every pixel (super-resolution: the whole digit is damaged) marks nothing.
    """
    rgb = _rgb(damaged)
    for image, hole in zip(rgb, np.asarray(mask, dtype=bool)):
        if not hole.all():
            image[:, hole] = np.asarray(HOLE_COLOUR, np.float32)[:, None]
    return rgb


def save_restorations(damaged, restored, original, path, per_row=16, title=None, mask=None):
    """Bands of three rows, `per_row` digits wide: damaged digits, their restorations, the originals.

    Each array is uint8 (N, 28, 28) or floats on [0, 1]; a last band that is not full is padded with blanks.
    mask  -- bool (N, 28, 28), the damaged pixels: painted HOLE_COLOUR in the damaged row (None: not marked)
    title -- what the picture shows (the data, the epoch), said after the names of the rows
    """
    marked = mask is not None and not np.asarray(mask).all()
    rows_of = (mark_holes(damaged, mask) if marked else _rgb(damaged), _rgb(restored), _rgb(original))
    n = len(damaged)
    per_row = min(per_row, n)
    padded = -(-n // per_row) * per_row
    bands = []
    for start in range(0, padded, per_row):
        for images in rows_of:
            band = np.zeros((per_row, 3, 28, 28), np.float32)
            chunk = images[start:start + per_row]
            band[:len(chunk)] = chunk
            bands.append(band)
    rows = "damaged (the cut-out square in blue) | restored | original" if marked else "damaged | restored | original"
    viz.save_image_grid(np.concatenate(bands), path, ncols=per_row, value_range=(0, 1),
                        title=f"{rows}, {title}" if title else rows)


def evaluate_restoration(generator, images, labels, task):
    """Damage `images` with the fixed test damage of `task`, restore them, score them:
    (scores, (damaged, restored, mask)) for the pictures."""
    damaged, mask = fixed_test_damage(images, task)
    restored = restore(generator, damaged)
    return restoration_scores(restored, damaged, images, labels, mask), (damaged, restored, mask)


def format_restoration(scores):
    """The scores of `restoration_scores` as report lines: one column each for restored, damaged and original."""
    rows = [("L1 over the damaged region (pixels on [0, 1]; lower is better)", "l1", "{:.4f}"),
            ("PSNR over the damaged region (dB; higher is better)", "psnr", "{:.2f}"),
            ("classifier accuracy (shipped digit classifier)", "accuracy", "{:.4f}")]
    width = max(len(label) for label, _, _ in rows)
    lines = [f"{'metric':<{width}}  {'restored':>9}  {'damaged':>9}  {'original':>9}"]
    for label, key, fmt in rows:
        cells = [fmt.format(scores[column][key]) if key in scores[column] else "" for column in
                 ("restored", "damaged", "original")]
        lines.append(f"{label:<{width}}  " + "  ".join(f"{cell:>9}" for cell in cells))
    return lines


def sample_restorations(run, n, seed, path):
    """`tinygan sample` for pix2pix: n embedded digits (all of them at most) chosen and damaged with
    default_rng(seed), restored, drawn; returns how many."""
    from .data import load_embedded_mnist
    from .data.damage import damage
    images, _ = load_embedded_mnist()
    rng = np.random.default_rng(seed)
    chosen = images[rng.choice(len(images), size=min(n, len(images)), replace=False)]
    damaged, mask = damage(chosen, run.config["task"], rng)
    save_restorations(damaged, restore(run.nets["G"], damaged), chosen, path, mask=mask)
    return len(chosen)
