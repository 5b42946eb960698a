"""How well a pix2pix generator restores damaged digits: run it and score it.

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

from .. import backend
from ..autograd import Tensor, no_grad
from ..data.damage import fixed_test_damage
from .classifier import accuracy
from .metrics import psnr


def restore(generator, damaged, batch_size=500):
    """G(x) of uint8 damaged digits (N, 28, 28), generator in eval mode, as float32 (N, 28, 28) on [0, 1]."""
    generator.eval()
    out = []
    with no_grad():
        for start in range(0, len(damaged), batch_size):
            chunk = damaged[start:start + batch_size, None].astype(np.float32) / np.float32(127.5) - np.float32(1)
            y = generator(Tensor(backend.to_device(chunk, backend.current_device())))
            out.append((backend.to_numpy(y.array)[:, 0] + 1) * 0.5)
    return np.concatenate(out).astype(np.float32)


def region_l1(restored, original, mask):
    """Mean |restored - original| over the masked pixels; images on [0, 1]."""
    return float(np.abs(restored - original)[mask].mean())


def region_psnr(restored, original, mask):
    """Peak signal-to-noise ratio in dB over the masked pixels of all digits at once (peak 1: images on [0, 1])."""
    return psnr(restored[mask], original[mask], peak=1.0)


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


def evaluate_restoration(generator, images, labels, task):
    """Damage `images` with the fixed test damage of `task`, restore them, score them:
    (scores, (damaged, restored, mask)) for the pictures."""
    damaged, mask = fixed_test_damage(images, task)
    restored = restore(generator, damaged)
    return restoration_scores(restored, damaged, images, labels, mask), (damaged, restored, mask)
