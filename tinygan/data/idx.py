"""Reading and writing IDX files, the format of MNIST, Fashion-MNIST and KMNIST.

An IDX file is a small header followed by the raw values, big-endian:

    bytes 0-1   two zero bytes
    byte  2     dtype code (0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64)
    byte  3     number of dimensions D
    then        D sizes, each a 4-byte big-endian unsigned integer
    then        prod(sizes) values of that dtype, row-major

Files may be gzip-compressed (recognised by their first bytes, not their name).
Every check happens before the data is read, and data is read in chunks of at most
what the header promises, so a broken or hostile header (one claiming 2**31 images,
say) is rejected without allocating that much memory.

Parsing is host-side NumPy; callers move arrays to the device themselves.
"""
import gzip
import hashlib
import math
import os
import stat
import zlib
from pathlib import Path

import numpy as np

# dtype code -> big-endian NumPy dtype, as in the IDX specification (LeCun et al., MNIST page).
IDX_DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
IDX_CODES = {dtype.newbyteorder("="): code for code, dtype in IDX_DTYPES.items()}

# Refuse headers that promise more than this; the MNIST training images are 47 MB.
MAX_IDX_BYTES = 2**31
_CHUNK = 1 << 20
_GZIP_MAGIC = b"\x1f\x8b"


class DataError(ValueError):
    """A data file is missing, malformed, or not the file it should be."""


def file_md5(path):
    """The md5 hex digest of a file's bytes (read in chunks)."""
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as stream:
        for chunk in iter(lambda: stream.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify_md5(path, expected_md5):
    """Raise DataError unless the file's md5 is `expected_md5`."""
    actual = file_md5(path)
    if actual != expected_md5:
        raise DataError(
            f"checksum mismatch for {path}: md5 is {actual}, expected {expected_md5}. "
            "The file is damaged or is not the official one; delete it and fetch it again."
        )


def check_regular_file(path, where="read_idx"):
    """DataError unless `path` is a regular file (after symlinks): missing, or a folder, FIFO, device..."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise DataError(f"{where}: file not found: {path}") from None
    if not stat.S_ISREG(mode):
        kind = ("a folder" if stat.S_ISDIR(mode) else "a FIFO (named pipe)" if stat.S_ISFIFO(mode)
                else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "a socket or other special file")
        raise DataError(f"{where}: {path} is not a regular file but {kind}; a data file must be a plain file")


def _is_gzip(path):
    """True when the file starts with the gzip magic bytes."""
    with open(path, "rb") as stream:
        return stream.read(2) == _GZIP_MAGIC


def _read_exactly(stream, size, path, what):
    """Read `size` bytes in chunks; a short read means the file is truncated."""
    buffer = bytearray()
    while len(buffer) < size:
        chunk = stream.read(min(_CHUNK, size - len(buffer)))
        if not chunk:
            raise DataError(
                f"read_idx: {path} is truncated: {what} needs {size:,} bytes but the file ends after {len(buffer):,}"
            )
        buffer += chunk
    return buffer


def _parse_magic(magic, path):
    """Check the 4-byte magic number; return (dtype, number of dimensions)."""
    if magic[0] != 0 or magic[1] != 0:
        raise DataError(
            f"read_idx: {path} is not an IDX file: its magic number 0x{magic.hex()} "
            "should start with two zero bytes (e.g. 0x00000803 for MNIST images)"
        )
    code, ndim = magic[2], magic[3]
    if code not in IDX_DTYPES:
        known = ", ".join(f"0x{c:02X} {d.name}" for c, d in IDX_DTYPES.items())
        raise DataError(f"read_idx: {path} has unknown dtype code 0x{code:02X} in its magic number (known: {known})")
    if ndim == 0:
        raise DataError(f"read_idx: {path} claims 0 dimensions; an IDX file has at least 1")
    return IDX_DTYPES[code], ndim


def _check_size_limit(size, shape, dtype, path, max_bytes):
    """Refuse absurd headers up front: a gzip file's real size is unknown until it is read,
    and a sparse raw file has the size its header claims without holding the data."""
    if size > max_bytes:
        raise DataError(
            f"read_idx: {path} has header shape {shape} ({dtype.name}), i.e. {size:,} bytes of data, "
            f"more than the limit of {max_bytes:,} bytes; the header is probably corrupt "
            "(pass max_bytes= to read_idx for a genuinely larger file)"
        )


def read_idx(path, max_bytes=MAX_IDX_BYTES):
    """Read an IDX file (raw or gzip) into a writable NumPy array in native byte order.

    Raises DataError naming the file when it is missing, has a bad magic number or
    dtype code, or when its size does not match what the header says, or is not a
    regular file. `max_bytes` bounds what a header may promise, raw or gzip (a raw
    file is also checked against its real size, which a sparse file can fake).
    """
    path = Path(path)
    check_regular_file(path)
    compressed = _is_gzip(path)
    try:
        with (gzip.open(path, "rb") if compressed else open(path, "rb")) as stream:
            return _read_idx_stream(stream, path, compressed, max_bytes)
    except (EOFError, zlib.error, gzip.BadGzipFile) as error:
        raise DataError(f"read_idx: {path} is a damaged or truncated gzip file ({error})") from None


def _read_idx_stream(stream, path, compressed, max_bytes):
    """Parse header, check sizes, then read the data from an open (decompressed) stream."""
    dtype, ndim = _parse_magic(_read_exactly(stream, 4, path, "the magic number"), path)
    header_size = 4 + 4 * ndim
    shape = tuple(int(n) for n in np.frombuffer(_read_exactly(stream, 4 * ndim, path, "the header"), dtype=">u4"))
    size = math.prod(shape) * dtype.itemsize  # Python ints: no overflow
    _check_size_limit(size, shape, dtype, path, max_bytes)
    if not compressed:
        actual = os.fstat(stream.fileno()).st_size - header_size
        if actual != size:
            raise DataError(
                f"read_idx: {path} has header shape {shape} ({dtype.name}), which needs {size:,} bytes "
                f"of data, but the file holds {actual:,}" + (" (truncated)" if actual < size else "")
            )
    data = _read_exactly(stream, size, path, f"header shape {shape} ({dtype.name})")
    if stream.read(1):
        raise DataError(f"read_idx: {path} has more data than its header shape {shape} ({dtype.name}) accounts for")
    array = np.frombuffer(data, dtype=dtype).reshape(shape)
    return array.astype(dtype.newbyteorder("="), copy=False)  # native byte order; no copy for uint8


def encode_idx(array):
    """The bytes of `array` as an IDX file (uncompressed)."""
    array = np.asarray(array)
    native = array.dtype.newbyteorder("=")
    if native not in IDX_CODES:
        raise DataError(f"encode_idx: dtype {array.dtype} has no IDX code; use one of {[d.name for d in IDX_CODES]}")
    if array.ndim == 0 or array.ndim > 255:
        raise DataError(f"encode_idx: an IDX array needs 1 to 255 dimensions, got {array.ndim}")
    if any(n >= 2**32 for n in array.shape):
        raise DataError(f"encode_idx: every dimension must be below 2**32, got shape {array.shape}")
    header = bytes([0, 0, IDX_CODES[native], array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    return header + np.ascontiguousarray(array, dtype=IDX_DTYPES[IDX_CODES[native]]).tobytes()


def write_idx(path, array, compress=None):
    """Write `array` as an IDX file; gzip it when `compress` is True (default: when path ends in .gz).

    Gzip output is deterministic (no file name, mtime 0), so the same array gives the same bytes.
    """
    path = Path(path)
    if compress is None:
        compress = path.suffix == ".gz"
    data = encode_idx(array)
    with open(path, "wb") as out:
        if compress:
            with gzip.GzipFile(filename="", mode="wb", fileobj=out, compresslevel=9, mtime=0) as stream:
                stream.write(data)
        else:
            out.write(data)
