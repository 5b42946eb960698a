"""MNIST-family datasets: the embedded 5k subset, and the official files from a folder or the web.

    images, labels = load_embedded_mnist()                      # 5,000 digits, no network
    images, labels = load_mnist("test", folder="path/to/mnist")   # the folder of the t10k files
    images, labels = load_mnist("train", kind="fashion", download=True)

Images come back as uint8 (N, 28, 28), labels as uint8 (N,), both NumPy arrays on
the host. Official .gz files are checked against their published md5 before use.
"""
import os
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ..runtime.files import output_temporary
from .idx import DataError, check_regular_file, file_md5, read_idx, verify_md5

EMBEDDED_FOLDER = Path(__file__).resolve().parent / "mnist5k"
EMBEDDED_SIZE = 5000

SPLITS = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


@dataclass(frozen=True)
class IdxSource:
    """Where one MNIST-family dataset comes from, and the md5 of each official .gz file."""

    title: str
    licence: str
    mirrors: tuple
    md5: dict


SOURCES = {
    "mnist": IdxSource(
        title="MNIST (Yann LeCun, Corinna Cortes, Christopher J.C. Burges)",
        licence="CC BY-SA 3.0",
        mirrors=(
            "https://ossci-datasets.s3.amazonaws.com/mnist/",
            "https://storage.googleapis.com/cvdf-datasets/mnist/",
            "http://yann.lecun.com/exdb/mnist/",
        ),
        md5={
            "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
            "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
            "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
            "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
        },
    ),
    "fashion": IdxSource(
        title="Fashion-MNIST (Han Xiao, Kashif Rasul, Roland Vollgraf; Zalando Research)",
        licence="MIT",
        mirrors=("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
        md5={
            "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
            "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
            "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
            "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
        },
    ),
    "kmnist": IdxSource(
        title="Kuzushiji-MNIST (Tarin Clanuwat et al.; ROIS-DS CODH)",
        licence="CC BY-SA 4.0",
        mirrors=("http://codh.rois.ac.jp/kmnist/dataset/kmnist/",),
        md5={
            "train-images-idx3-ubyte.gz": "bdb82020997e1d708af4cf47b453dcf7",
            "train-labels-idx1-ubyte.gz": "e144d726b3acfaa3e44228e80efcd344",
            "t10k-images-idx3-ubyte.gz": "5c965bf0a639b31b8f53240b1b52f4d7",
            "t10k-labels-idx1-ubyte.gz": "7320c461ea6c1c855c0b718fb2a4b134",
        },
    ),
}


class ImageData(NamedTuple):
    """Images uint8 (N, 28, 28) and labels uint8 (N,); unpacks as `images, labels = ...`."""

    images: np.ndarray
    labels: np.ndarray


def default_cache_dir():
    """Where downloads go: $TINYGAN_CACHE if set, else ~/.cache/tinygan."""
    return Path(os.environ.get("TINYGAN_CACHE") or Path.home() / ".cache" / "tinygan").expanduser()


def download_file(url, destination, md5, timeout=60):
    """Download `url` to `destination`, keeping it only if its md5 is `md5`.

    The bytes go to a temporary file in the same folder, renamed into place only
    after the checksum matches, so a failed or interrupted download leaves nothing behind.
    """
    destination = Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    handle, partial = output_temporary(destination.parent, prefix=f".{destination.name}.", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as response:
            for chunk in iter(lambda: response.read(1 << 20), b""):
                out.write(chunk)
        actual = file_md5(partial)
        if actual != md5:
            raise DataError(
                f"checksum mismatch for {destination.name} downloaded from {url}: md5 is {actual}, expected {md5}"
            )
        os.replace(partial, destination)
    finally:
        if os.path.exists(partial):
            os.remove(partial)
    return destination


def _download_official(source, filename, folder):
    """Fetch one official file into `folder`, trying each mirror in turn."""
    failures = []
    for mirror in source.mirrors:
        try:
            return download_file(mirror + filename, folder / filename, source.md5[filename])
        except (OSError, DataError) as error:  # URLError and timeouts are OSErrors
            failures.append(f"  {mirror}{filename}: {error}")
    raise DataError(
        f"could not download {filename} of {source.title}:\n" + "\n".join(failures)
        + f"\nWithout a network: put the file in {folder} by hand, or name the folder that holds the files "
        "(tinygan eval --test-data FOLDER; from Python, folder=)."
    )


def _locate(folder, stem, kind, download):
    """The path of `stem`.gz or `stem` in `folder`, downloading the .gz if allowed."""
    for name in (stem + ".gz", stem):
        if os.path.lexists(folder / name):  # a folder or FIFO there is named as such, not "not found"
            return folder / name
    if download:
        return _download_official(SOURCES[kind], stem + ".gz", folder)
    raise DataError(
        f"load_mnist: {stem}.gz (or {stem}) not found in {folder}. Put the official files there. "
        f"`tinygan train --data {kind}` reads them from $TINYGAN_CACHE/{kind} (default ~/.cache/tinygan/"
        f"{kind}), and `tinygan eval` from --test-data FOLDER; from Python, pass folder= to read "
        "them from elsewhere, or download=True to fetch them."
    )


def check_image_data(images, labels, where):
    """Raise DataError unless images are uint8 (N, 28, 28) and labels uint8 (N,) in 0..9."""
    if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != (28, 28):
        raise DataError(f"{where}: expected images uint8 (N, 28, 28), got {images.dtype} {images.shape}")
    if labels.dtype != np.uint8 or labels.ndim != 1:
        raise DataError(f"{where}: expected labels uint8 (N,), got {labels.dtype} {labels.shape}")
    if len(images) != len(labels):
        raise DataError(f"{where}: {len(images)} images but {len(labels)} labels")
    if len(labels) and labels.max() > 9:
        raise DataError(f"{where}: labels must be digits 0..9, found {labels.max()}")


def load_mnist(split="train", folder=None, kind="mnist", download=False, verify=True):
    """Load an official MNIST-family split: (images uint8 (N, 28, 28), labels uint8 (N,)).

    split    -- "train" (60,000) or "test" (10,000)
    folder   -- where the IDX files are (gzip or raw); default: default_cache_dir()/kind
    kind     -- "mnist", "fashion" (Fashion-MNIST) or "kmnist" (Kuzushiji-MNIST)
    download -- fetch missing files into `folder` (each verified by md5 before it is kept)
    verify   -- check official .gz files against their md5 (raw files have no published md5;
                they get the format checks only)
    """
    if split not in SPLITS:
        raise DataError(f"load_mnist: unknown split {split!r}; expected one of {list(SPLITS)}")
    if kind not in SOURCES:
        raise DataError(f"load_mnist: unknown kind {kind!r}; expected one of {list(SOURCES)}")
    source = SOURCES[kind]
    folder = Path(folder).expanduser() if folder is not None else default_cache_dir() / kind
    paths = [_locate(folder, stem, kind, download) for stem in SPLITS[split]]
    for path in paths:
        check_regular_file(path, "load_mnist")  # before the md5 reads it: reading a FIFO would wait forever
        if verify and path.name in source.md5:
            verify_md5(path, source.md5[path.name])
    images, labels = (read_idx(path) for path in paths)
    check_image_data(images, labels, f"load_mnist({split!r}, kind={kind!r}) from {folder}")
    return ImageData(images, labels)


def load_mnist5k(split="train", folder=None, download=False):
    """The dataset 'mnist5k': the embedded digits, which have a 'train' split only (no folder, no network)."""
    if split != "train":
        raise DataError("dataset 'mnist5k' has only a 'train' split; for evaluation load the official "
                        "test set with load_dataset('mnist', split='test', folder=...)")
    return load_embedded_mnist()


def load_embedded_mnist():
    """The 5,000 MNIST training digits shipped with tinygan (500 per class), sorted by label.

    See tinygan/data/mnist5k/SOURCE.md for source and licence (CC BY-SA 3.0).
    """
    images = read_idx(EMBEDDED_FOLDER / "train-images-idx3-ubyte.gz")
    labels = read_idx(EMBEDDED_FOLDER / "train-labels-idx1-ubyte.gz")
    check_image_data(images, labels, f"embedded MNIST subset in {EMBEDDED_FOLDER}")
    if len(images) != EMBEDDED_SIZE:
        raise DataError(
            f"embedded MNIST subset in {EMBEDDED_FOLDER} has {len(images)} digits, expected {EMBEDDED_SIZE}"
        )
    return ImageData(images, labels)
