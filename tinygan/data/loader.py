"""Batches of a uint8 image set as Tensors on the current device, in a seeded order per epoch.

    loader = ImageLoader(images, labels, batch_size=64, seed=0)   # images uint8 (N, 28, 28)
    for x, y in loader:        # x float32 (64, 1, 28, 28) in [-1, 1], y int64 (64,)
        ...

Batches are built on the host with NumPy, then moved to the current backend's
device. The order of epoch e depends only on (seed, e), so a run resumed with
`loader.set_epoch(e)` sees exactly the batches the uninterrupted run would have.

PyTorch's DataLoader, over any dataset, is tinygan.utils.data.DataLoader; this is the image sets' loader
that training runs and lessons use.
"""
import math

import numpy as np

from .. import backend
from ..autograd import Tensor
from .idx import DataError

VALUE_RANGES = ((-1, 1), (0, 1))


def scale_images(images, value_range=(-1, 1)):
    """uint8 pixels to float32: x/127.5 - 1 for (-1, 1) (matches a tanh output), x/255 for (0, 1)."""
    images = images.astype(np.float32)
    if tuple(value_range) == (-1, 1):
        return images / np.float32(127.5) - np.float32(1)
    return images / np.float32(255)


class SeededEpochs:
    """What the seeded loaders share: batches per epoch, and the epoch counter a checkpoint keeps for exact resume.

    A subclass sets batch_size, seed, drop_last and epoch (the epoch the next pass will use), and says how many
    items an epoch visits (`_items`).
    """

    def _items(self):
        raise NotImplementedError

    def __len__(self):
        """Number of batches in one epoch."""
        count = self._items() / self.batch_size
        return math.floor(count) if self.drop_last else math.ceil(count)

    def set_epoch(self, epoch):
        """Make the next pass use the order of `epoch` (for resuming a run)."""
        self.epoch = int(epoch)

    def state_dict(self):
        """What a checkpoint needs to resume with the same batches."""
        return {"epoch": self.epoch, "seed": self.seed}

    def load_state_dict(self, state):
        self.seed = int(state["seed"])
        self.set_epoch(state["epoch"])


class ImageLoader(SeededEpochs):
    """Iterate over uint8 images (and optional labels) in shuffled float32 batches.

    images      -- uint8 array (N, H, W) or (N, C, H, W)
    labels      -- optional integer array (N,); batches are then (x, y) with y an int64 Tensor
    batch_size  -- images per batch
    shuffle     -- a new order each epoch, drawn from a Generator seeded by (seed, epoch)
    seed        -- makes the orders reproducible
    drop_last   -- skip the final batch when it is smaller than batch_size
    value_range -- (-1, 1): x/127.5 - 1, or (0, 1): x/255
    flatten     -- yield (B, H*W*C) instead of (B, C, H, W)
    """

    def __init__(self, images, labels=None, batch_size=64, shuffle=True, seed=0,
                 drop_last=False, value_range=(-1, 1), flatten=False):
        images = np.asarray(images)
        if images.dtype != np.uint8 or images.ndim not in (3, 4):
            raise DataError(
                f"ImageLoader: expected uint8 images (N, H, W) or (N, C, H, W), got {images.dtype} {images.shape}"
            )
        if labels is not None:
            labels = np.asarray(labels)
            if labels.shape != (len(images),) or labels.dtype.kind not in "iu":
                raise DataError(
                    f"ImageLoader: expected integer labels of shape ({len(images)},) to match the images, "
                    f"got {labels.dtype} {labels.shape}"
                )
        if int(batch_size) < 1:
            raise ValueError(f"ImageLoader: batch_size must be at least 1, got {batch_size}")
        if tuple(value_range) not in VALUE_RANGES:
            raise ValueError(f"ImageLoader: value_range must be one of {VALUE_RANGES}, got {value_range}")
        self.images = images if images.ndim == 4 else images[:, None, :, :]  # (N, C, H, W)
        self.labels = labels
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.seed = int(seed)
        self.drop_last = bool(drop_last)
        self.value_range = tuple(value_range)
        self.flatten = bool(flatten)
        self.epoch = 0  # the epoch the next pass will use

    def _items(self):
        return len(self.images)

    def order(self, epoch):
        """The indices of the images, in the order epoch `epoch` visits them."""
        if not self.shuffle:
            return np.arange(len(self.images))
        return np.random.default_rng([self.seed, int(epoch)]).permutation(len(self.images))

    def __iter__(self):
        """One pass over the data; the epoch counter advances as the pass starts."""
        order = self.order(self.epoch)
        self.epoch += 1
        return self._batches(order)

    def _batches(self, order):
        for start in range(0, len(self) * self.batch_size, self.batch_size):
            yield self._batch(order[start:start + self.batch_size])

    def _batch(self, indices):
        """The images (and labels) at `indices`, transformed and moved to the current device."""
        x = scale_images(self.images[indices], self.value_range)
        if self.flatten:
            x = x.reshape(len(x), -1)
        x = Tensor(backend.to_device(x, backend.current_device()))
        if self.labels is None:
            return x
        y = self.labels[indices].astype(np.int64)
        return x, Tensor(backend.to_device(y, backend.current_device()))
