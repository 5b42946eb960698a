"""Files tinygan writes and reads: temporary outputs renamed into place, and .npz archives read within a byte budget.

tempfile.mkstemp makes its files readable by their owner only (0600), which is right for a secret
and wrong for a checkpoint or a log that is renamed into a run folder beside 0644 pictures. So the
temporary file gets the mode an ordinary new file would get: 0666 less the process's umask.

An .npz archive (what np.savez writes: a zip of .npy entries) is read with every size checked before
its memory is allocated: the sizes the entries declare once uncompressed must fit a byte budget, and
each entry's .npy header must agree with the size stored, so a damaged or hostile file (a zip bomb, a
header claiming a terabyte) is refused instead of exhausting memory. Entries holding Python objects
(pickles) are refused too. `tinygan.load` and checkpoints both read this way.
"""
import os
import tempfile
import zipfile

import numpy as np

MAX_ARCHIVE_BYTES = 2**31  # far above any model here; an archive declaring more is refused
_NPY_VERSIONS = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}


class ArchiveError(ValueError):
    """An .npz archive that is damaged, hostile or over its budget; the message says what, the caller names the file.

    `pickled` is True where the file may be a pickle (as torch.save writes): a caller can say what to write instead.
    """

    def __init__(self, message, pickled=False):
        super().__init__(message)
        self.pickled = pickled


def ordinary_file_mode():
    """0666 less the umask: the mode open() gives a new file."""
    umask = os.umask(0)       # reading the umask means setting it; put it straight back
    os.umask(umask)
    return 0o666 & ~umask


def output_temporary(folder, prefix, suffix):
    """(file descriptor, path) of a new temporary file in `folder`, with an ordinary file's mode."""
    handle, path = tempfile.mkstemp(dir=folder, prefix=prefix, suffix=suffix)
    os.fchmod(handle, ordinary_file_mode())
    return handle, path


def read_npz(file, max_bytes=MAX_ARCHIVE_BYTES, names=None):
    """{entry name without ".npy": NumPy array} of the .npz `file` (a path or a binary file object).

    names     -- read only these entries (default: all); those the archive lacks are left out
    max_bytes -- the most bytes the entries read may declare once uncompressed, headers included
    ArchiveError, saying what is wrong, for anything but an .npz of plain arrays within the budget.
    """
    try:
        with _open_zip(file) as archive:
            infos = _entries(archive, names)
            _check_declared_sizes(infos, max_bytes)
            return {info.filename[:-len(".npy")]: _read_entry(archive, info) for info in infos}
    except ArchiveError:
        raise
    except Exception as error:  # zipfile, zlib, bz2, lzma and the .npy header parser each raise their own kinds
        raise ArchiveError(f"damaged ({type(error).__name__}: {error})") from None


def _open_zip(file):
    """An open ZipFile; ArchiveError for a file that is missing or not a zip at all."""
    try:
        return zipfile.ZipFile(file)
    except FileNotFoundError:
        raise ArchiveError("file not found") from None
    except OSError as error:  # a folder, no permission...
        raise ArchiveError(f"cannot be opened ({error.strerror or error})") from None
    except zipfile.BadZipFile:
        raise ArchiveError("not an .npz archive (a zip of .npy arrays), or a damaged one whose end is missing; "
                           "tinygan never loads pickled objects, such as the files torch.save writes",
                           pickled=True) from None


def _entries(archive, names):
    """The archive's .npy entries that are wanted; ArchiveError for an entry that is not .npy."""
    infos = archive.infolist()
    for info in infos:
        if not info.filename.endswith(".npy"):
            raise ArchiveError(f"unexpected entry {info.filename!r}: an .npz archive holds only .npy arrays",
                               pickled=info.filename.endswith(".pkl"))                # torch.save's data.pkl
    if names is None:
        return infos
    wanted = {name + ".npy" for name in names}
    return [info for info in infos if info.filename in wanted]


def _check_declared_sizes(infos, max_bytes):
    """Refuse, before anything is inflated, entries whose uncompressed sizes add up to more than `max_bytes`."""
    declared = sum(info.file_size for info in infos)
    if declared > max_bytes:
        raise ArchiveError(f"its entries declare {declared:,} bytes once uncompressed, more than the budget of "
                           f"{max_bytes:,} bytes; the file is damaged or hostile (a zip bomb)")


def _read_entry(archive, info):
    """One .npy entry as an array, its header checked against its stored size before the data is read."""
    name = info.filename[:-len(".npy")]
    with archive.open(info) as stream:
        version = np.lib.format.read_magic(stream)
        if version not in _NPY_VERSIONS:
            raise ArchiveError(f"entry {name!r} is .npy format version {version}; "
                               f"expected one of {list(_NPY_VERSIONS)}")
        shape, fortran_order, dtype = _NPY_VERSIONS[version](stream)
        if dtype.hasobject:
            raise ArchiveError(f"entry {name!r} holds Python objects: not an archive of plain arrays, "
                               "and tinygan never loads pickled objects", pickled=True)
        size = _array_bytes(shape, dtype, name)
        stored = info.file_size - stream.tell()
        if size != stored:
            raise ArchiveError(f"entry {name!r} claims shape {shape} of {dtype} ({size:,} bytes) "
                               f"but stores {stored:,} bytes")
        data = stream.read(size)
    if len(data) != size:
        raise ArchiveError(f"entry {name!r} is truncated: {len(data):,} of {size:,} bytes")
    return np.frombuffer(data, dtype=dtype).reshape(shape, order="F" if fortran_order else "C").copy()


def _array_bytes(shape, dtype, name):
    """The bytes an array of `shape` and `dtype` holds (Python ints: no overflow); ArchiveError for a negative size."""
    count = 1
    for n in shape:
        if n < 0:
            raise ArchiveError(f"entry {name!r} claims shape {shape}, with a negative size")
        count *= n
    return count * dtype.itemsize
