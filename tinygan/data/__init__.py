"""Datasets: the embedded MNIST subset, MNIST-family IDX files, CIFAR-10, coloured digits, captioned colour digits
(`captions.py`), scenes of digits, the views of a 3-D scene, toy 2-D sets; the held-out split of the embedded
digits; ImageLoader; torchvision's `MNIST` (`mnist_dataset.py`) and `transforms`.

Files are parsed on the host with NumPy; `ImageLoader` moves each batch to the current backend's device as a
Tensor. Datasets by name: tinygan.registry.DATASETS and tinygan.registry.load_dataset.
"""
from . import transforms
from .captions import CaptionedDigits, CaptionLoader
from .mnist_dataset import MNIST
from .idx import DataError, file_md5, read_idx, verify_md5, write_idx
from .loader import ImageLoader, scale_images
from .mnist import ImageData, default_cache_dir, download_file, load_embedded_mnist, load_mnist
from .split import HELD_OUT_PER_CLASS, balanced_subset, embedded_split
from .toy import GaussianMixture, SwissRoll, ToyDistribution, TwoMoons, grid25, ring8, swiss_roll, two_moons

__all__ = [
    "HELD_OUT_PER_CLASS",
    "CaptionLoader", "CaptionedDigits",
    "DataError", "GaussianMixture", "ImageData", "ImageLoader", "MNIST", "SwissRoll", "ToyDistribution", "TwoMoons",
    "balanced_subset", "default_cache_dir", "download_file", "embedded_split", "file_md5", "grid25",
    "load_embedded_mnist", "load_mnist", "read_idx", "ring8", "scale_images", "swiss_roll", "transforms",
    "two_moons", "verify_md5", "write_idx",
]

# Names this package no longer holds, and where they are: an import of one fails with this sentence.
RENAMED = {
    "DataLoader": "tinygan.data.ImageLoader (uint8 image sets in a seeded order per epoch); PyTorch's DataLoader "
                  "is tinygan.utils.data.DataLoader",
    "dataset_by_name": "tinygan.registry.load_dataset",
    "DATASET_NAMES": "tinygan.registry.DATASETS",
    "IMAGE_DATASETS": "tinygan.registry.DATASETS (the specs of kind 'images')",
    "TOY_DATASETS": "tinygan.registry.DATASETS (the specs of kind 'toy')",
}


def __getattr__(name):
    if name in RENAMED:
        raise ImportError(f"tinygan.data.{name} is now {RENAMED[name]}")
    raise AttributeError(f"module 'tinygan.data' has no attribute {name!r}")
