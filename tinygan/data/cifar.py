"""CIFAR-10 in its official binary format, read straight out of cifar-10-binary.tar.gz (never the pickled
"python version": no pickle anywhere).

The archive holds cifar-10-batches-bin/data_batch_1.bin .. data_batch_5.bin (training) and test_batch.bin,
each 10,000 records of

    1 label byte (0..9) + 3,072 pixel bytes: 1,024 red, then 1,024 green, then 1,024 blue, each 32x32 row-major

so one record is one image (3, 32, 32) in NCHW order as it stands. The archive's md5 is checked against
the published one before anything is read.
"""
import shlex
import tarfile
import zlib
from pathlib import Path

import numpy as np

from .idx import DataError, check_regular_file, verify_md5
from .mnist import ImageData, default_cache_dir, download_file

ARCHIVE = "cifar-10-binary.tar.gz"
MD5 = "c32a1d4ab5d03f1284b67883e8d87530"            # published at https://www.cs.toronto.edu/~kriz/cifar.html
URL = "https://www.cs.toronto.edu/~kriz/" + ARCHIVE
FOLDER_IN_ARCHIVE = "cifar-10-batches-bin"
SPLITS = {"train": [f"data_batch_{i}.bin" for i in range(1, 6)], "test": ["test_batch.bin"]}
IMAGE_SHAPE = (3, 32, 32)
RECORD_BYTES = 1 + 3 * 32 * 32                      # 3,073: the label byte and the pixels
RECORDS_PER_BATCH = 10_000
CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")


def _check_batch_size(size, where, records=RECORDS_PER_BATCH):
    """DataError naming `where` unless a batch file of `size` bytes holds `records` records (truncated, too long,
    or records of another size)."""
    expected = records * RECORD_BYTES
    if size == expected:
        return
    if size < expected and size % RECORD_BYTES == 0:
        problem = f"it is truncated: {size // RECORD_BYTES:,} whole records of {records:,}"
    elif size and size % records == 0:
        problem = (f"its {records:,} records are {size // records:,} bytes each, expected {RECORD_BYTES:,} "
                   f"(1 label byte + 3,072 pixel bytes)")
    elif size < expected:
        problem = f"it is truncated: {size:,} bytes, expected {expected:,} ({records:,} records of {RECORD_BYTES:,})"
    else:
        problem = f"it is too long: {size:,} bytes, expected {expected:,} ({records:,} records of {RECORD_BYTES:,})"
    raise DataError(f"{where}: not a CIFAR-10 batch: {problem}")


def parse_batch(data, where, records=RECORDS_PER_BATCH):
    """The bytes of one batch file -> ImageData(images uint8 (records, 3, 32, 32), labels uint8 (records,)).

    DataError naming `where` for a file of the wrong length (truncated, or records of another size)
    or a label byte outside 0..9.
    """
    _check_batch_size(len(data), where, records)
    table = np.frombuffer(data, dtype=np.uint8).reshape(records, RECORD_BYTES)
    labels = table[:, 0].copy()
    bad = np.flatnonzero(labels > 9)
    if len(bad):
        raise DataError(f"{where}: record {bad[0]} has label byte {labels[bad[0]]}, expected a class 0..9 "
                        f"({len(bad)} bad record(s)); the file is damaged or not a CIFAR-10 batch")
    return ImageData(table[:, 1:].reshape((records,) + IMAGE_SHAPE).copy(), labels)


def _read_member(archive, path, name, records):
    """The bytes of FOLDER_IN_ARCHIVE/name in the open tar `archive` (at `path`), its declared size checked
    before anything is read, so a member claiming gigabytes is refused without reading them."""
    member_name = f"{FOLDER_IN_ARCHIVE}/{name}"
    try:
        member = archive.getmember(member_name)
    except KeyError:
        raise DataError(f"{path}: {member_name} is missing from the archive (is this {ARCHIVE}? the pickled "
                        f"'python version' is not read)") from None
    if not member.isfile():
        raise DataError(f"{path}: {member_name} is not a regular file in the archive")
    _check_batch_size(member.size, f"{path}:{member_name}", records)
    return archive.extractfile(member).read(member.size)


def _missing_archive_message(folder):
    """What to do when the archive is not in `folder`: true from the command line and from Python."""
    path = folder / ARCHIVE
    return (f"load_cifar10: {ARCHIVE} not found in {folder}. Download the official archive from {URL} into that "
            f"folder, for example: mkdir -p {shlex.quote(str(folder))} && curl -L -o {shlex.quote(str(path))} {URL} "
            f"(the tinygan command reads it from $TINYGAN_CACHE/cifar10, default ~/.cache/tinygan/cifar10; "
            f"in Python, load_cifar10(..., download=True) fetches it into the folder)")


def load_cifar10(split="train", folder=None, download=False, verify=True, records_per_batch=None):
    """An official CIFAR-10 split from cifar-10-binary.tar.gz: (images uint8 (N, 3, 32, 32), labels uint8 (N,)).

    split    -- "train" (50,000 images) or "test" (10,000)
    folder   -- the folder holding the archive; default: default_cache_dir()/cifar10
    download -- fetch the archive into `folder` when it is missing (kept only if its md5 matches)
    verify   -- check the archive's md5 against the published one (False: for small archives built in tests)
    records_per_batch -- records in each batch file (default RECORDS_PER_BATCH: 10,000, as in the official archive)
    """
    records_per_batch = records_per_batch or RECORDS_PER_BATCH
    if split not in SPLITS:
        raise DataError(f"load_cifar10: unknown split {split!r}; expected one of {list(SPLITS)}")
    folder = Path(folder).expanduser() if folder is not None else default_cache_dir() / "cifar10"
    path = folder / ARCHIVE
    if not path.exists():
        if not download:
            raise DataError(_missing_archive_message(folder))
        download_file(URL, path, MD5)
    check_regular_file(path, "load_cifar10")
    if verify:
        verify_md5(path, MD5)
    try:
        with tarfile.open(path, "r:gz") as archive:
            parts = [parse_batch(_read_member(archive, path, name, records_per_batch),
                                 f"{path}:{FOLDER_IN_ARCHIVE}/{name}", records_per_batch) for name in SPLITS[split]]
    except (tarfile.TarError, OSError, EOFError, zlib.error) as error:
        raise DataError(f"{path}: not a readable gzip'd tar archive ({error})") from None
    return ImageData(np.concatenate([p.images for p in parts]), np.concatenate([p.labels for p in parts]))
