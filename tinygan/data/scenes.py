"""Scenes of digits for segmentation: three digits pasted on a 64x64 canvas, a class for every pixel.

One scene, exactly (so that any framework can draw the same scenes):

    canvas = zeros (64, 64); label = background (class 10) everywhere
    for each of the scene's 3 digits, in the order drawn:
        canvas[r:r+28, c:c+28] = max(canvas[r:r+28, c:c+28], digit)
    label of a pixel = the class of the pasted digit brightest there, if that brightness >= 0.5;
                       otherwise background, class 10 (11 classes in all)

Digit intensities are uint8 / 255 on [0, 1]; brightness >= 0.5 is uint8 >= 128 (127.5 is the exact half).
Where two digits are equally bright at a pixel, the one pasted first names it.

The draw order of `make_scenes(images, labels, count, rng)` (rng a NumPy Generator):

    picks     = rng.integers(0, len(images), size=(count, 3))       # digits, uniform with replacement
    positions = rng.integers(0, 37, size=(count, 3, 2))             # top-left (r, c) of each, uniform in [0, 36]

scene i pastes images[picks[i, 0]] at positions[i, 0], then picks[i, 1], then picks[i, 2].

    train: 5,000 scenes per epoch from the embedded 5k digits, rng = np.random.default_rng(seed + epoch)
    test:  2,000 scenes from the official 10k test digits, rng = np.random.default_rng(1234)
"""
import math

import numpy as np

from .. import backend
from ..autograd import Tensor
from .idx import DataError
from .loader import scale_images
from .mnist import default_cache_dir, load_embedded_mnist, load_mnist

SCENE_SIZE = 64
DIGIT_SIZE = 28
DIGITS_PER_SCENE = 3
BACKGROUND = 10                 # the class of a pixel no digit covers brightly
NUM_CLASSES = 11                # digits 0..9 and the background
BRIGHT = 128                    # uint8 >= 128  <=>  intensity uint8 / 255 >= 0.5
TRAIN_SCENES = 5000
TEST_SCENES = 2000
TEST_SEED = 1234


def paste(canvas, label, digit, digit_class, r, c):
    """Paste one uint8 digit (28, 28) at top-left (r, c), in place: canvas = max(canvas, digit) over its window;
    the window's labels become digit_class where the digit is strictly brighter than what was there."""
    window = (slice(r, r + digit.shape[0]), slice(c, c + digit.shape[1]))
    brighter = digit > canvas[window]            # strictly: on a tie the digit pasted first keeps the pixel
    label[window][brighter] = digit_class
    canvas[window] = np.maximum(canvas[window], digit)


def make_scene(digits, classes, positions):
    """One scene: (canvas uint8 (64, 64), labels uint8 (64, 64)) from digits (k, 28, 28), classes (k,), positions (k, 2).

    `label` holds the class of the brightest digit so far; pixels dimmer than 0.5 are background at the end.
    """
    canvas = np.zeros((SCENE_SIZE, SCENE_SIZE), np.uint8)
    brightest = np.full((SCENE_SIZE, SCENE_SIZE), BACKGROUND, np.uint8)
    for digit, digit_class, (r, c) in zip(digits, classes, positions):
        paste(canvas, brightest, digit, digit_class, int(r), int(c))
    labels = np.where(canvas >= BRIGHT, brightest, np.uint8(BACKGROUND)).astype(np.uint8)
    return canvas, labels


def make_scenes(images, labels, count, rng):
    """`count` scenes drawn with `rng` from digits `images` uint8 (N, 28, 28) of classes `labels` (N,):
    (scenes uint8 (count, 64, 64), label maps uint8 (count, 64, 64)). The draw order is in the module's docstring."""
    images, labels = np.asarray(images), np.asarray(labels)
    if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != (DIGIT_SIZE, DIGIT_SIZE):
        raise DataError(f"make_scenes: expected digits uint8 (N, 28, 28), got {images.dtype} {images.shape}")
    if labels.shape != (len(images),):
        raise DataError(f"make_scenes: expected labels ({len(images)},) for the digits, got {labels.shape}")
    if len(images) == 0:
        raise DataError("make_scenes: no digits to draw from")
    picks = rng.integers(0, len(images), size=(count, DIGITS_PER_SCENE))
    positions = rng.integers(0, SCENE_SIZE - DIGIT_SIZE + 1, size=(count, DIGITS_PER_SCENE, 2))
    scenes = np.empty((count, SCENE_SIZE, SCENE_SIZE), np.uint8)
    label_maps = np.empty((count, SCENE_SIZE, SCENE_SIZE), np.uint8)
    for i in range(count):
        scenes[i], label_maps[i] = make_scene(images[picks[i]], labels[picks[i]], positions[i])
    return scenes, label_maps


def train_scenes(seed, epoch, count=TRAIN_SCENES):
    """The training scenes of one epoch: from the embedded 5k digits with default_rng(seed + epoch)."""
    images, labels = load_embedded_mnist()
    return make_scenes(images, labels, count, np.random.default_rng(seed + epoch))


def official_test_scenes(folder, count=TEST_SCENES):
    """The test scenes: from the official 10k test digits in `folder`, with default_rng(1234), the same every run."""
    images, labels = load_mnist("test", folder=folder)
    return make_scenes(images, labels, count, np.random.default_rng(TEST_SEED))


def load_scenes(split="train", folder=None, download=False):
    """The dataset 'scenes' as (scenes, label maps) uint8 (N, 64, 64): 'train', epoch 0's 5,000 of seed 0; 'test',
    the 2,000 test scenes of the official test digits in `folder` (default: the cache, fetched with download=True)."""
    if split not in ("train", "test"):
        raise DataError(f"dataset 'scenes' has the splits 'train' and 'test', not {split!r}")
    if split == "test":
        return official_test_scenes(folder if folder is not None else _mnist_folder(download))
    return train_scenes(seed=0, epoch=0)


def _mnist_folder(download):
    """The folder of the official MNIST files in the cache (fetched first with download=True)."""
    folder = default_cache_dir() / "mnist"
    if download:
        load_mnist("test", folder=folder, download=True)
    return folder


def scene_batch(scenes, label_maps):
    """uint8 scenes and label maps -> (x float32 (B, 1, 64, 64) on [0, 1], y int64 (B, 64, 64)) on the device."""
    x = scale_images(scenes[:, None], (0, 1))
    device = backend.current_device()
    return Tensor(backend.to_device(x, device)), Tensor(backend.to_device(label_maps.astype(np.int64), device))


class SceneLoader:
    """Fresh training scenes every epoch, in batches: epoch e draws its scenes with default_rng(seed + e).

    Every scene is used: the last batch of an epoch holds the rest (5,000 = 156 x 32 + 8).
    The interface of ImageLoader (set_epoch, len, iteration), so a run resumes with the same scenes.
    """

    def __init__(self, batch_size=32, seed=0, count=TRAIN_SCENES):
        if int(batch_size) < 1:
            raise ValueError(f"SceneLoader: batch_size must be at least 1, got {batch_size}")
        self.batch_size, self.seed, self.count = int(batch_size), int(seed), int(count)
        self.digits = load_embedded_mnist()
        self.epoch = 0

    def __len__(self):
        return math.ceil(self.count / self.batch_size)

    def set_epoch(self, epoch):
        self.epoch = int(epoch)

    def scenes(self, epoch):
        """The scenes and label maps of epoch `epoch` (uint8)."""
        images, labels = self.digits
        return make_scenes(images, labels, self.count, np.random.default_rng(self.seed + int(epoch)))

    def __iter__(self):
        scenes, label_maps = self.scenes(self.epoch)
        self.epoch += 1
        for start in range(0, self.count, self.batch_size):
            yield scene_batch(scenes[start:start + self.batch_size], label_maps[start:start + self.batch_size])
