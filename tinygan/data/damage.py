"""Damaged digits for restoration (pix2pix): a square cut out (inpainting) or the detail averaged away
(super-resolution). Each function takes uint8 digits (N, 28, 28) and returns the damaged digits, still uint8
(N, 28, 28), with the mask of the pixels the damage touched (bool (N, 28, 28)): the region a restoration is
scored on.

    inpaint   a 14x14 square set to 0 (the background). Its top-left corner (r, c) is drawn per image as
              r, c = rng.integers(0, 15, size=(N, 2)) (rows first, then columns): uniform over the 15 x 15
              positions that keep the square inside the 28x28 image.
    superres  each 4x4 block replaced by its mean (28x28 -> 7x7), rounded to the nearest whole pixel value
              (halves to even, np.rint), then every one of the 7x7 values repeated over its 4x4 block
              (nearest-neighbour upsampling back to 28x28). Every pixel counts as damaged. Draws nothing.

Training damages the digits afresh each epoch with default_rng(seed + epoch); the test set is the official
10k test digits damaged once with default_rng(TEST_SEED), the same in every run and every framework.
"""
import numpy as np

from .. import backend
from ..autograd import Tensor
from .idx import DataError
from .loader import scale_images

TASKS = ("inpaint", "superres")
HOLE = 14              # side of the inpainting square
FACTOR = 4             # super-resolution: 28 -> 7 -> 28
TEST_SEED = 1234


def _check_digits(images, what):
    images = np.asarray(images)
    if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != (28, 28):
        raise DataError(f"{what}: expected uint8 digits (N, 28, 28), got {images.dtype} {images.shape}")
    return images


def square_corners(n, rng, size=28, hole=HOLE):
    """The top-left corners (N, 2) of the inpainting squares: integers in [0, size - hole], rows then columns."""
    return rng.integers(0, size - hole + 1, size=(n, 2))


def inpaint(images, rng):
    """(damaged, mask): each digit with a 14x14 square set to 0, at a corner from `square_corners`."""
    images = _check_digits(images, "inpaint")
    corners = square_corners(len(images), rng)
    rows = np.arange(28)
    inside_rows = (rows >= corners[:, :1]) & (rows < corners[:, :1] + HOLE)      # (N, 28)
    inside_cols = (rows >= corners[:, 1:]) & (rows < corners[:, 1:] + HOLE)      # (N, 28)
    mask = inside_rows[:, :, None] & inside_cols[:, None, :]                     # (N, 28, 28)
    return np.where(mask, np.uint8(0), images), mask


def superres(images, rng=None):
    """(damaged, mask): each digit as its 7x7 block means (4x4 mean, np.rint), upsampled back by nearest neighbour.

    rng is ignored (the damage is the same every time); it is there so both tasks are called alike.
    """
    images = _check_digits(images, "superres")
    n = len(images)
    blocks = images.reshape(n, 28 // FACTOR, FACTOR, 28 // FACTOR, FACTOR).astype(np.float64)
    small = np.rint(blocks.mean(axis=(2, 4))).astype(np.uint8)                  # (N, 7, 7)
    damaged = small.repeat(FACTOR, axis=1).repeat(FACTOR, axis=2)                # (N, 28, 28)
    return damaged, np.ones(images.shape, dtype=bool)


DAMAGE = {"inpaint": inpaint, "superres": superres}


def damage(images, task, rng):
    """(damaged uint8 (N, 28, 28), mask bool (N, 28, 28)) of `images` under `task` ("inpaint" or "superres")."""
    if task not in DAMAGE:
        raise DataError(f"damage: unknown task {task!r}; valid tasks: {', '.join(TASKS)}")
    return DAMAGE[task](images, rng)


def epoch_damage(images, task, seed, epoch):
    """The damage of one training epoch: fresh squares drawn with default_rng(seed + epoch), one per image index."""
    return damage(images, task, np.random.default_rng(seed + epoch))


def fixed_test_damage(images, task):
    """The fixed damage of a test set: default_rng(1234), the same in every run."""
    return damage(images, task, np.random.default_rng(TEST_SEED))


class PairLoader:
    """Batches of (damaged, original) digits as float32 Tensors (B, 1, 28, 28) on [-1, 1] (x/127.5 - 1).

    The order of epoch e is default_rng([seed, e]).permutation(N), as ImageLoader's; the damage of epoch e is
    `epoch_damage(images, task, seed, e)`, drawn for every image index before the order is applied, so a
    resumed run, and a PyTorch twin reading the same loader, see exactly the same pairs.
    """

    def __init__(self, images, labels=None, task="inpaint", batch_size=64, seed=0):
        self.images = _check_digits(images, "PairLoader")
        self.labels = labels
        if task not in DAMAGE:
            raise DataError(f"PairLoader: unknown task {task!r}; valid tasks: {', '.join(TASKS)}")
        if int(batch_size) < 1:
            raise ValueError(f"PairLoader: batch_size must be at least 1, got {batch_size}")
        self.task, self.batch_size, self.seed = task, int(batch_size), int(seed)
        self.epoch = 0

    def __len__(self):
        """Full batches in one epoch (an incomplete last batch is dropped)."""
        return len(self.images) // self.batch_size

    def set_epoch(self, epoch):
        self.epoch = int(epoch)

    def host_batches(self, epoch):
        """The epoch's (damaged, original) batches as float32 NumPy arrays on [-1, 1]."""
        damaged, _ = epoch_damage(self.images, self.task, self.seed, epoch)
        order = np.random.default_rng([self.seed, int(epoch)]).permutation(len(self.images))
        for start in range(0, len(self) * self.batch_size, self.batch_size):
            index = order[start:start + self.batch_size]
            yield scale_images(damaged[index][:, None]), scale_images(self.images[index][:, None])

    def __iter__(self):
        epoch, self.epoch = self.epoch, self.epoch + 1
        device = backend.current_device()
        for damaged, original in self.host_batches(epoch):
            yield Tensor(backend.to_device(damaged, device)), Tensor(backend.to_device(original, device))
