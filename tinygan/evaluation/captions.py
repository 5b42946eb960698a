"""Does a generated image show its caption? The judge of captioned colour digits (tinygan/data/captions.py).

    reading = caption_accuracy(images, triples)      # images (N, 3, 28, 28) on [0, 1]; triples (N, 3) int
    reading.rates      # {"background", "digit", "foreground", "all"}: the fraction of images right on each
    reading.right      # the same keys: bool (N,) per image
    reading.read       # (N, 3): the (foreground, digit, background) the judge reads in each image

What the judge reads, image by image, with no learned part but the shipped digit classifier:

    background   the per-channel median colour of the border pixels (the outer BORDER rows and columns, where a
                 digit rarely reaches) -> the nearest of the 3 BACKGROUND_RGB colours
    shape        s = ||pixel - background colour|| / max over the image of the same distance, on [0, 1]:
                 for a true captioned digit d * fg + (1 - d) * bg this is d / max d, the grey digit itself
    digit        the shipped classifier's most probable class of the shape (tinygan.evaluation.classifier)
    foreground   the mean colour of the shape's brightest pixels, those with s >= 1 - FOREGROUND_SHARE (the
                 top 20% of its values; the digit's core, not its edges blended with the background)
                 -> the nearest of the 6 FOREGROUND_RGB colours

"Nearest" is the Euclidean distance in RGB. An image is right on "all" when it is right on all three. The FID of
shapes (`shape_fid`) compares the classifier's features of the shapes with those of real digits, as the FID of
grey digits does (tinygan.evaluation.metrics).

Chance: 1/3 for the background, 1/10 for the digit, 1/6 for the foreground, 1/180 for all three, reached by any
reading that ignores the image when the captions are balanced. Real coloured test digits (captioned_test) read
right on the background and the foreground for every image and on the digit for 98% (the classifier's accuracy on
the grey digits): the ceiling a generator is measured against.
"""
from dataclasses import dataclass

import numpy as np

from .. import backend
from ..autograd import Tensor
from ..data.captions import BACKGROUND_RGB, FOREGROUND_RGB
from . import metrics
from .classifier import classify

BORDER = 2                 # the outer rows and columns read as background
FOREGROUND_SHARE = 0.2     # the foreground is the mean colour of the pixels whose shape is in the top 20% of [0, 1]
PARTS = ("background", "digit", "foreground", "all")
CHANCE = {"background": 1 / 3, "digit": 1 / 10, "foreground": 1 / 6, "all": 1 / 180}


@dataclass
class CaptionReading:
    """What caption_accuracy found: per image, the caption read and whether each part of it is right."""

    read: np.ndarray    # int64 (N, 3): the (foreground, digit, background) read in each image
    right: dict         # {"background", "digit", "foreground", "all"} -> bool (N,)

    @property
    def rates(self):
        """{part: fraction of images right on it} (0.0 for no images)."""
        return {part: float(self.right[part].mean()) if len(self.read) else 0.0 for part in PARTS}

    def rates_of(self, which):
        """The rates over the images selected by `which` (a boolean mask or indices)."""
        return {part: float(self.right[part][which].mean()) if self.right[part][which].size else 0.0
                for part in PARTS}


def _host_images(images, op):
    array = images.array if isinstance(images, Tensor) else images
    array = np.asarray(backend.to_numpy(array))
    if array.ndim != 4 or array.shape[1:] != (3, 28, 28):
        raise ValueError(f"{op}: expected colour images (N, 3, 28, 28) on [0, 1], got shape {tuple(array.shape)}"
                         + (" (grey digits? colour them with tinygan.data.captions.colour_digits)"
                            if array.ndim in (3, 4) and array.shape[-2:] == (28, 28) else ""))
    if array.dtype.kind != "f":
        raise ValueError(f"{op}: expected float images on [0, 1], got dtype {array.dtype} (uint8 pixels: divide "
                         f"by 255 first)")
    return array.astype(np.float64)


def _nearest(colours, palette):
    """Index of the nearest palette colour (K, 3) of each colour (N, 3)."""
    return ((colours[:, None, :] - palette[None, :, :]) ** 2).sum(axis=2).argmin(axis=1)


def background_colours(images):
    """The per-channel median colour of each image's border (the outer BORDER rows and columns): (N, 3)."""
    x = _host_images(images, "background_colours")
    border = np.ones((28, 28), dtype=bool)
    border[BORDER:-BORDER, BORDER:-BORDER] = False
    return np.median(x[:, :, border], axis=2)


def shape_images(images, backgrounds=None):
    """The shape of each image: float32 (N, 28, 28) on [0, 1], each pixel's RGB distance from the image's
    background colour divided by the largest such distance in the image (an image all of its background colour
    has an all-zero shape).

    backgrounds -- (N, 3) colours to measure from; default the nearest BACKGROUND_RGB colour of each image's border
    """
    x = _host_images(images, "shape_images")
    if backgrounds is None:
        backgrounds = BACKGROUND_RGB[_nearest(background_colours(x), BACKGROUND_RGB.astype(np.float64))]
    backgrounds = np.asarray(backgrounds, dtype=np.float64)
    if backgrounds.shape != (len(x), 3):
        raise ValueError(f"shape_images: expected one background colour (N, 3) = ({len(x)}, 3) per image, got "
                         f"shape {backgrounds.shape}")
    distance = np.sqrt(((x - backgrounds[:, :, None, None]) ** 2).sum(axis=1))      # (N, 28, 28)
    top = distance.reshape(len(x), -1).max(axis=1)[:, None, None]
    return np.where(top > 0, distance / np.where(top > 0, top, 1), 0).astype(np.float32)


def read_captions(images, classifier=None):
    """The (foreground, digit, background) int64 (N, 3) the judge reads in images (N, 3, 28, 28) on [0, 1],
    and their shapes (N, 28, 28)."""
    x = _host_images(images, "read_captions")
    background = _nearest(background_colours(x), BACKGROUND_RGB.astype(np.float64))
    shapes = shape_images(x, BACKGROUND_RGB[background])
    if len(x):
        digit = classify(shapes, classifier)[0].argmax(axis=1)
    else:
        digit = np.zeros(0, dtype=np.int64)
    brightest = (shapes >= 1 - FOREGROUND_SHARE)[:, None]                          # (N, 1, 28, 28)
    counts = np.maximum(brightest.sum(axis=(2, 3)), 1)                              # (N, 1)
    mean = (x * brightest).sum(axis=(2, 3)) / counts                                # (N, 3)
    foreground = _nearest(mean, FOREGROUND_RGB.astype(np.float64))
    return np.stack([foreground, digit, background], axis=1).astype(np.int64), shapes


def _check_triples(triples, n, op):
    triples = np.asarray(backend.to_numpy(triples.array if isinstance(triples, Tensor) else triples))
    if triples.shape != (n, 3) or triples.dtype.kind not in "iu":
        raise ValueError(f"{op}: expected one caption per image as integer triples (foreground, digit, background) "
                         f"of shape ({n}, 3), got {triples.dtype} {triples.shape}")
    limits = (len(FOREGROUND_RGB), 10, len(BACKGROUND_RGB))
    for column, (name, limit) in enumerate(zip(("foreground", "digit", "background"), limits)):
        bad = (triples[:, column] < 0) | (triples[:, column] >= limit)
        if bad.any():
            raise ValueError(f"{op}: {name} {int(triples[bad, column][0])} is out of range (0..{limit - 1}) in "
                             f"triple {tuple(int(v) for v in triples[bad][0])}")
    return triples.astype(np.int64)


def caption_accuracy(images, triples, classifier=None):
    """How many images show their caption: a CaptionReading of images (N, 3, 28, 28) on [0, 1] (NumPy, CuPy or
    Tensor) against their captions, int triples (N, 3) of (foreground, digit, background)."""
    x = _host_images(images, "caption_accuracy")
    triples = _check_triples(triples, len(x), "caption_accuracy")
    read, _ = read_captions(x, classifier)
    right = {"foreground": read[:, 0] == triples[:, 0], "digit": read[:, 1] == triples[:, 1],
             "background": read[:, 2] == triples[:, 2]}
    right["all"] = right["foreground"] & right["digit"] & right["background"]
    return CaptionReading(read, {part: right[part] for part in PARTS})


def shape_fid(images, reference, classifier=None):
    """The FID of the images' shapes against real digits, on the shipped classifier's features.

    reference -- a tinygan.evaluation.reference.Reference (its test digits, features computed once), or
                 digits: uint8 (M, 28, 28) or floats on [0, 1]
    Like every FID it grows as the number of images falls: compare scores of equally many images.
    """
    _, features = classify(shape_images(images), classifier)
    if hasattr(reference, "outputs"):
        _, reference_features = reference.outputs("test")
    else:
        _, reference_features = classify(reference, classifier)
    return metrics.frechet_distance_from_features(features, reference_features)


__all__ = ["BORDER", "FOREGROUND_SHARE", "CHANCE", "CaptionReading", "background_colours", "shape_images",
           "read_captions", "caption_accuracy", "shape_fid"]
