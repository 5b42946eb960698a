"""`MNIST` with torchvision.datasets.MNIST's arguments and items.

    from tinygan.data import MNIST, transforms    # for: from torchvision import transforms
                                                   #      from torchvision.datasets import MNIST
    train = MNIST("../data", train=True, download=True,
                  transform=transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))]))
    loader = tinygan.utils.data.DataLoader(train, batch_size=64)   # (64, 1, 28, 28) float32, targets int64

Where the digits come from:
- When `root` holds the official IDX files of the split (gzip or raw), in `root/MNIST/raw/` as torchvision
  keeps them, or in `root/MNIST/` or `root` itself, they are read (the .gz files checked against their md5):
  60,000 training digits, 10,000 test digits, in the files' order.
- Otherwise `train=True` serves the 5,000 digits embedded in tinygan, with no network: `download=True` never
  fetches the 60,000, the embedded digits stand in for them.
- Otherwise `train=False` downloads the official test files into `root/MNIST/raw/` when `download=True`,
  and fails naming the folder when not.

The order of the embedded digits. They are stored sorted by class (see tinygan/data/mnist5k/SOURCE.md), and
the file keeps no index into the official training set, so their original order cannot be recovered. MNIST
serves them interleaved, in blocks of ten: block k (k = 0 .. 499) holds the k-th stored digit of every class,
the ten classes in an order drawn for that block by numpy.random.default_rng(0). Every ten consecutive items
hold each digit once, so a loader that does not shuffle still sees every class in every batch.

An item is (image, target): the image is a uint8 NumPy array (28, 28) where torchvision gives a PIL image
(tinygan has no PIL), passed through `transform`; `transforms.ToTensor()` turns either into the same
float32 (1, 28, 28) tensor on [0, 1]. The target is a Python int, passed through `target_transform`.
"""
import os
from pathlib import Path

import numpy as np

from ..autograd import Tensor
from .idx import DataError
from .mnist import SPLITS, load_embedded_mnist, load_mnist

EMBEDDED_ORDER_SEED = 0


def embedded_interleaved_order(labels, seed=EMBEDDED_ORDER_SEED):
    """Indices that interleave class-sorted `labels` in blocks: block k holds the k-th sample of every class,
    the classes in an order drawn per block from numpy.random.default_rng(seed). Needs equal class sizes."""
    labels = np.asarray(labels)
    by_class = [np.flatnonzero(labels == c) for c in np.unique(labels)]
    if len({len(indices) for indices in by_class}) != 1:
        raise DataError("embedded_interleaved_order: every class needs the same number of samples, found "
                        f"{[len(indices) for indices in by_class]}")
    rng = np.random.default_rng(seed)
    table = np.stack(by_class)                                 # (classes, per class)
    return np.concatenate([table[rng.permutation(len(by_class)), k] for k in range(table.shape[1])])


class MNIST:
    """The MNIST digits as torchvision.datasets.MNIST serves them: `dataset[i]` is (image, target).

    root             -- the folder that holds (or gets) the official files, as torchvision's `root`
    train            -- the training digits (the official 60,000, else the embedded 5,000), or the 10,000 test digits
    transform        -- applied to each image (a uint8 array (28, 28)), e.g. transforms.ToTensor()
    target_transform -- applied to each target (an int)
    download         -- fetch the official test files when `root` lacks them (the training split never downloads)

    `data` (uint8 (N, 28, 28)) and `targets` (int64 (N,)) are tensors of every digit in serving order;
    `source` says where they came from. The module docstring has the order of the embedded digits.
    """

    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four",
               "5 - five", "6 - six", "7 - seven", "8 - eight", "9 - nine"]

    def __init__(self, root, train=True, transform=None, target_transform=None, download=False):
        self.root = Path(os.path.expanduser(os.fspath(root)))
        self.train, self.transform, self.target_transform = train, transform, target_transform
        split = "train" if train else "test"
        folder = self._folder_with(split)
        if folder is not None:
            images, labels = load_mnist(split, folder=folder)
            self.source = f"the official {split} files in {folder}"
        elif train:
            images, labels = load_embedded_mnist()
            order = embedded_interleaved_order(labels)
            images, labels = images[order], labels[order]
            self.source = "the 5,000 embedded digits (500 per class), interleaved"
        elif download:
            folder = self.root / "MNIST" / "raw"
            images, labels = load_mnist(split, folder=folder, download=True)
            self.source = f"the official {split} files in {folder}"
        else:
            raise DataError(
                f"MNIST(train=False): the official test files ({SPLITS['test'][0]}.gz, {SPLITS['test'][1]}.gz) are "
                f"not in {self.root / 'MNIST' / 'raw'}, {self.root / 'MNIST'} or {self.root}; put them there, or "
                f"pass download=True to fetch them (tinygan embeds training digits only)")
        self._images, self._labels = images, labels.astype(np.int64)
        self.data, self.targets = Tensor(images), Tensor(self._labels)

    def _folder_with(self, split):
        """The first of root/MNIST/raw, root/MNIST, root that holds both files of `split` (.gz or raw), else None."""
        for folder in (self.root / "MNIST" / "raw", self.root / "MNIST", self.root):
            if all(any(os.path.lexists(folder / (stem + end)) for end in (".gz", "")) for stem in SPLITS[split]):
                return folder
        return None

    def __getitem__(self, index):
        image, target = self._images[index], int(self._labels[index])
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target

    def __len__(self):
        return len(self._labels)

    def __repr__(self):
        return (f"Dataset MNIST\n    Number of datapoints: {len(self)}\n    Root location: {self.root}\n"
                f"    Split: {'Train' if self.train else 'Test'}\n    Source: {self.source}")
