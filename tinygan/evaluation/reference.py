"""The real digits that generated ones are compared with, and the digit classifier's scores of a set of images.

    reference = load_reference(test_data="path/to/mnist")     # the official test set, else the embedded held out
    probs, features = classify(samples)                         # tinygan.evaluation.classifier
    image_scores(probs, features, reference)                    # FID against the reference, score, rarest class
    image_floors(reference)                                     # the same scores for real training digits

The reference is the official MNIST test set in a folder of its t10k files, else the embedded digits 400-499
of each class (1,000 images that a model, and the classifier, may have trained on; a report says which).
A floor is what a perfect model would get with the same number of samples: real training digits scored the
same way.
"""
import functools
from dataclasses import dataclass, field

import numpy as np

from ..data import embedded_split, load_embedded_mnist, load_mnist
from . import metrics
from .classifier import classify

EMBEDDED_REFERENCE = "embedded digits 400-499 of each class"
OFFICIAL_INSTEAD = ("--download (needs the network once) or --test-data FOLDER (its t10k files) uses the official "
                    "MNIST test set instead")


@dataclass
class Reference:
    """Real digits to compare with: a reference (test) set and a training set, and their classifier outputs."""

    description: str
    images: np.ndarray            # uint8 (N, 28, 28): the reference (test) digits
    labels: np.ndarray
    train_images: np.ndarray      # uint8: real training digits, for the floors
    train_labels: np.ndarray
    _cache: dict = field(default_factory=dict, repr=False)

    def outputs(self, which):
        """(probs, features) of the reference ('test') or training ('train') images, computed once."""
        if which not in self._cache:
            self._cache[which] = classify(self.images if which == "test" else self.train_images)
        return self._cache[which]


def embedded_reference(count):
    """How a report names the fallback reference, and how to use the official test set instead."""
    return (f"{EMBEDDED_REFERENCE} ({count:,} images, which the model and the classifier may have trained on; "
            f"{OFFICIAL_INSTEAD})")


@functools.lru_cache(maxsize=4)
def load_reference(test_data=None, n=5000, seed=0):
    """The reference set: the official test set in `test_data`, else the embedded digits 400-499 of each class.

    The training floor uses up to `n` real training digits (a seeded random choice of the embedded ones).
    Cached, with the classifier's outputs, so evaluating many runs classifies the real digits once.
    """
    if test_data:
        images, labels = load_mnist("test", folder=test_data)
        train_images, train_labels = load_embedded_mnist()
        description = f"official MNIST test set ({len(images)} images in {test_data})"
    else:
        (train_images, train_labels), (images, labels) = embedded_split()
        description = embedded_reference(len(images))
    choice = np.random.default_rng(seed).permutation(len(train_images))[:n]
    return Reference(description, images, labels, train_images[choice], train_labels[choice])


def image_scores(probs, features, reference, requested=None):
    """FID against the reference, classifier score, rarest class (and label accuracy) of classified images."""
    _, test_features = reference.outputs("test")
    scores = {
        "fid": metrics.frechet_distance_from_features(features, test_features),
        "classifier_score": metrics.classifier_score(probs),
        "rarest_class": metrics.rarest_class_fraction(probs),
    }
    if requested is not None:
        scores["label_accuracy"] = metrics.label_accuracy(probs, requested)
    return scores


def image_floors(reference, conditional=False):
    """The same scores for real digits: training digits vs the reference; label accuracy on the reference."""
    probs, features = reference.outputs("train")
    floors = image_scores(probs, features, reference)
    if conditional:
        test_probs, _ = reference.outputs("test")
        floors["label_accuracy"] = metrics.label_accuracy(test_probs, reference.labels)
    return floors
