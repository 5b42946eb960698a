"""Datasets by name, for the command line and the lessons."""
import numpy as np

from .cifar import load_cifar10
from .colour import load_colour_mnist5k
from .idx import DataError
from .mnist import SOURCES, load_embedded_mnist, load_mnist
from .toy import TOY_DATASETS

IMAGE_DATASETS = ("mnist5k",) + tuple(SOURCES) + ("colour-mnist5k", "cifar10")  # mnist5k, mnist, fashion, kmnist, ...
DATASET_NAMES = IMAGE_DATASETS + tuple(TOY_DATASETS) + ("scenes",)   # scenes: issue 16
DATASET_NAMES += ("scene3d",)   # issue 18: the views of a 3-D scene (tinygan/data/scene.py)


def dataset_by_name(name, split="train", folder=None, download=False):
    """An image set as (images, labels), or a toy 2-D distribution, by name.

    mnist5k                -> the embedded 5,000 digits (train only; no folder, no network)
    mnist, fashion, kmnist -> load_mnist(split, folder, kind=name, download=download)
    colour-mnist5k         -> the embedded digits, each tinted on a darker background (tinygan/data/colour.py)
    cifar10                -> load_cifar10(split, folder, download=download): the official binary archive
    ring8, grid25, moons, swissroll -> a ToyDistribution with `sample(n, rng)`
    scene3d                -> the 40 views of the 3-D scene (SceneViews: images, poses, the train/test split)
    scenes                 -> (scenes, label maps) uint8 (N, 64, 64): train, epoch 0's 5,000 of seed 0; test, the
                              2,000 test scenes of the official test digits in `folder` (tinygan/data/scenes.py)
    """
    if name == "scenes":   # issue 16
        from .scenes import official_test_scenes, train_scenes
        if split not in ("train", "test"):
            raise DataError(f"dataset 'scenes' has the splits 'train' and 'test', not {split!r}")
        if split == "test":
            return official_test_scenes(folder if folder is not None else _mnist_folder(download))
        return train_scenes(seed=0, epoch=0)
    if name == "mnist5k":
        if split != "train":
            raise DataError(
                "dataset 'mnist5k' has only a 'train' split; for evaluation load the official "
                "test set with dataset_by_name('mnist', split='test', folder=...)"
            )
        return load_embedded_mnist()
    if name == "colour-mnist5k":
        if split != "train":
            raise DataError("dataset 'colour-mnist5k' has only a 'train' split (the embedded digits, coloured)")
        return load_colour_mnist5k()
    if name == "cifar10":
        return load_cifar10(split, folder=folder, download=download)
    if name in SOURCES:
        return load_mnist(split, folder=folder, kind=name, download=download)
    if name in TOY_DATASETS:
        return TOY_DATASETS[name]()
    if name == "scene3d":   # issue 18
        from .scene import load_scene_views
        return load_scene_views()
    raise DataError(f"unknown dataset {name!r}; choose one of: {', '.join(DATASET_NAMES)}")


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


def _mnist_folder(download):
    """The folder of the official MNIST files in the cache (fetched first with download=True)."""
    from .mnist import default_cache_dir
    folder = default_cache_dir() / "mnist"
    if download:
        load_mnist("test", folder=folder, download=True)
    return folder
