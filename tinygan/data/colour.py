"""Coloured digits: the embedded 5,000 MNIST digits, each tinted with its own colour on a darker background.

    pixel = d * foreground + (1 - d) * background,   d = digit / 255 in [0, 1]
    foreground ~ U(0.5, 1)^3 and background ~ U(0, 0.4)^3 per image (RGB), drawn with a fixed seed

so every image keeps its digit's shape and label, and the set needs no files and no network. It gives
tinygan a real 3-channel set that trains in minutes on a laptop.
"""
import numpy as np

from .idx import DataError
from .mnist import load_embedded_mnist

COLOUR_SEED = 17
FOREGROUND = (0.5, 1.0)     # each channel of a digit's colour: bright
BACKGROUND = (0.0, 0.4)     # each channel of its background: darker than any digit colour


def colourise(images, seed=COLOUR_SEED):
    """uint8 digits (N, 28, 28) -> uint8 (N, 3, 28, 28): each digit tinted on a darker background, seeded."""
    rng = np.random.default_rng(seed)
    n = len(images)
    foreground = rng.uniform(*FOREGROUND, size=(n, 3, 1, 1))
    background = rng.uniform(*BACKGROUND, size=(n, 3, 1, 1))
    d = images.reshape(n, 1, *images.shape[-2:]).astype(np.float64) / 255.0
    return np.round(255.0 * (d * foreground + (1 - d) * background)).astype(np.uint8)


def load_colour_mnist5k(split="train", folder=None, download=False):
    """The embedded 5,000 digits coloured by `colourise`: (uint8 (5000, 3, 28, 28), labels (5000,)); a 'train'
    split only."""
    if split != "train":
        raise DataError("dataset 'colour-mnist5k' has only a 'train' split (the embedded digits, coloured)")
    images, labels = load_embedded_mnist()
    return colourise(images), labels
