"""Datasets and batching: the embedded MNIST subset, MNIST-family IDX files, toy 2-D sets, DataLoader.

Files are parsed on the host with NumPy; `DataLoader` moves each batch to the
current backend's device as a Tensor.
"""
from .datasets import DATASET_NAMES, IMAGE_DATASETS, balanced_subset, dataset_by_name
from .idx import DataError, file_md5, read_idx, verify_md5, write_idx
from .loader import DataLoader, scale_images
from .mnist import ImageData, default_cache_dir, download_file, load_embedded_mnist, load_mnist
from .toy import (TOY_DATASETS, GaussianMixture, SwissRoll, ToyDistribution, TwoMoons, grid25, ring8, swiss_roll,
                  two_moons)

__all__ = [
    "DATASET_NAMES", "IMAGE_DATASETS", "TOY_DATASETS",
    "DataError", "DataLoader", "GaussianMixture", "ImageData", "SwissRoll", "ToyDistribution", "TwoMoons",
    "balanced_subset", "dataset_by_name", "default_cache_dir", "download_file", "file_md5", "grid25", "load_embedded_mnist",
    "load_mnist", "read_idx", "ring8", "scale_images", "swiss_roll", "two_moons", "verify_md5", "write_idx",
]
