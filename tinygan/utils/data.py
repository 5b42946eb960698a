"""`Dataset`, `TensorDataset`, `Subset`, `random_split` and `DataLoader` with PyTorch's names, arguments and batches.

A DataLoader asks the dataset for items one index at a time and stacks them into batches, as PyTorch's
default collate does: items that are tuples give a tuple of stacked tensors, tensors and arrays a stacked
tensor, numbers a 1-d tensor. With `shuffle=True` the order is a fresh permutation each epoch, drawn
from `generator` (a tinygan.Generator or a NumPy Generator) or from tinygan's seeded generator (`tinygan.manual_seed`).
"""
import numpy as np

from .. import backend
from ..autograd import Tensor
from ..functional import stack


class Dataset:
    """A map-style dataset: subclasses give `__getitem__(index)` and `__len__()`."""

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __len__")


class TensorDataset(Dataset):
    """Item i is the tuple of the i-th rows of the given tensors (which must share their first dimension)."""

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset: expects at least one tensor")
        lengths = [t.shape[0] for t in tensors]
        if len(set(lengths)) != 1:
            raise ValueError(f"TensorDataset: size mismatch between tensors: first dimensions {lengths} "
                             f"(shapes {[tuple(t.shape) for t in tensors]})")
        self.tensors = tuple(t if isinstance(t, Tensor) else Tensor(t) for t in tensors)

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self):
        return self.tensors[0].shape[0]


class Subset(Dataset):
    """The items of `dataset` at `indices`, in that order, like torch.utils.data.Subset."""

    def __init__(self, dataset, indices):
        self.dataset, self.indices = dataset, [int(i) for i in indices]

    def __getitem__(self, index):
        return self.dataset[self.indices[index]]

    def __len__(self):
        return len(self.indices)


def random_split(dataset, lengths, generator=None):
    """Disjoint Subsets of a random order of `dataset`, of the given lengths, like torch.utils.data.random_split.

    lengths -- ints that add up to len(dataset), or fractions that add up to 1: each subset takes
               floor(fraction * n) items, and the items left over go one each to the first subsets, as in PyTorch
    generator -- a tinygan.Generator (or a numpy.random.Generator) for the order (default: tinygan's seeded one)
    """
    n = len(dataset)
    lengths = list(lengths)
    if lengths and all(isinstance(f, float) for f in lengths) and abs(sum(lengths) - 1) < 1e-9:
        counts = [int(np.floor(n * f)) for f in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        lengths = counts
    if sum(lengths) != n or any(length < 0 for length in lengths):
        raise ValueError(f"random_split: lengths {lengths} must be non-negative and add up to the dataset's "
                         f"length {n} (or be fractions that add up to 1)")
    rng = backend.random_source(generator, "cpu")
    order = rng.permutation(n)
    ends = np.cumsum(lengths)
    return [Subset(dataset, order[end - length:end]) for length, end in zip(lengths, ends)]


def default_collate(items):
    """Stack a list of items into a batch, keeping their structure (tuples, lists, dicts) as PyTorch does."""
    first = items[0]
    if isinstance(first, Tensor):
        return stack([item.detach() for item in items])
    if isinstance(first, np.ndarray):
        return Tensor(np.stack(items))
    if isinstance(first, (bool, int, float, np.generic)):
        return Tensor(np.array(items))
    if isinstance(first, dict):
        return {key: default_collate([item[key] for item in items]) for key in first}
    if isinstance(first, (tuple, list)):
        if any(len(item) != len(first) for item in items):
            raise ValueError("default_collate: each item of the batch must have the same number of fields")
        return type(first)(default_collate(list(fields)) for fields in zip(*items)) if isinstance(first, tuple) \
            else [default_collate(list(fields)) for fields in zip(*items)]
    raise TypeError(f"default_collate: items must be tensors, arrays, numbers, or tuples/lists/dicts of them; "
                    f"got {type(first).__name__}")


class DataLoader:
    """Batches of a dataset, like torch.utils.data.DataLoader (single process).

    dataset    -- anything with __getitem__ and __len__
    batch_size -- items per batch (the last one may be smaller unless drop_last)
    shuffle    -- a new random order every epoch (every `for` over the loader)
    generator  -- a tinygan.Generator (or a numpy.random.Generator) for the order (default: tinygan's seeded one)
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, drop_last=False, generator=None,
                 collate_fn=None, num_workers=0, pin_memory=False):
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be a positive int, got {batch_size!r}")
        self.dataset, self.batch_size, self.shuffle, self.drop_last = dataset, batch_size, shuffle, drop_last
        self.generator = generator
        self.collate_fn = collate_fn or default_collate
        self.num_workers = num_workers  # accepted for PyTorch code; batches are always made in this process
        self.pin_memory = pin_memory    # accepted too: there is no page-locked host memory to ask for here

    def _order(self):
        n = len(self.dataset)
        if not self.shuffle:
            return np.arange(n)
        rng = backend.random_source(self.generator, "cpu")
        return rng.permutation(n)

    def __iter__(self):
        order = self._order()
        for start in range(0, len(order), self.batch_size):
            indices = order[start:start + self.batch_size]
            if self.drop_last and len(indices) < self.batch_size:
                return
            yield self.collate_fn([self.dataset[int(i)] for i in indices])

    def __len__(self):
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
