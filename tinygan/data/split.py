"""Parts of a labelled image set: a class-balanced subset, and the held-out split of the embedded digits.

    keep = balanced_subset(labels, 1000, seed=0)         # 100 of each class, drawn with the seed
    (train_images, train_labels), (test_images, test_labels) = embedded_split()   # 4,000 and 1,000 digits
"""
import numpy as np

from .mnist import load_embedded_mnist

HELD_OUT_PER_CLASS = 100     # embedded digits 400-499 of each class are held out


def balanced_subset(labels, n, seed):
    """Indices (sorted) of n samples: n // C of each of the C classes, the first n % C classes one more.

    Each class's share is drawn with the seed. The embedded digits are stored sorted by class, so the
    first n of them would be zeros only; this subset keeps every class. A class with fewer samples
    than its share gives all it has.
    """
    labels = np.asarray(labels)
    if n >= len(labels):
        return np.arange(len(labels))
    classes = np.unique(labels)
    shares = [n // len(classes) + (i < n % len(classes)) for i in range(len(classes))]
    rng = np.random.default_rng([seed, 20])
    chosen = [rng.permutation(np.flatnonzero(labels == c))[:share] for c, share in zip(classes, shares)]
    return np.sort(np.concatenate(chosen))


def embedded_split():
    """The embedded 5,000 digits split into 4,000 for training and 1,000 held out (digits 400-499 of each class)."""
    images, labels = load_embedded_mnist()
    rank = np.zeros(len(labels), dtype=np.int64)               # position of each digit within its class
    for digit in range(10):
        rank[labels == digit] = np.arange((labels == digit).sum())
    held_out = rank >= 500 - HELD_OUT_PER_CLASS
    return (images[~held_out], labels[~held_out]), (images[held_out], labels[held_out])
