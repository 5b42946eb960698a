"""Checkpoints: one .npz file holding every array, plus the rest as JSON inside it. Never pickle.

A checkpoint is written to a temporary file in the same folder and renamed
over the old one only when complete (os.replace is atomic), so a run killed
mid-write leaves the previous checkpoint intact.
"""
import contextlib
import json
import os
import zipfile

import numpy as np

from .._files import output_temporary
from .. import backend

META_KEY = "__meta__"
MAX_CHECKPOINT_BYTES = 2**31  # far above any model here; a header claiming more is refused
MAX_META_BYTES = 64 * 2**20   # the JSON part: configuration, history, random state


class CheckpointError(ValueError):
    """A checkpoint file is missing, damaged, or does not fit the model."""


def _split(obj, prefix, arrays):
    """JSON-able copy of `obj` with every array replaced by a reference to an entry of `arrays`."""
    if isinstance(obj, np.ndarray) or backend.device_of(obj) == "gpu":
        arrays[prefix] = backend.to_numpy(obj)
        return {"__array__": prefix}
    if isinstance(obj, dict):
        # keys kept with their type (optimizer state is keyed by parameter index)
        return {"__dict__": [[key, _split(value, f"{prefix}/{key}", arrays)] for key, value in obj.items()]}
    if isinstance(obj, (list, tuple)):
        return [_split(value, f"{prefix}/{i}", arrays) for i, value in enumerate(obj)]
    if isinstance(obj, np.generic):
        return obj.item()
    return obj


def _join(meta, arrays):
    """The inverse of _split."""
    if isinstance(meta, dict) and "__array__" in meta:
        return arrays[meta["__array__"]]
    if isinstance(meta, dict) and "__dict__" in meta:
        return {key: _join(value, arrays) for key, value in meta["__dict__"]}
    if isinstance(meta, list):
        return [_join(value, arrays) for value in meta]
    return meta


def save_checkpoint(path, state):
    """Write `state` (nested dicts of arrays, numbers, strings) to `path` atomically."""
    arrays = {}
    meta = _split(state, "s", arrays)
    arrays[META_KEY] = np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    handle, temporary = output_temporary(folder, prefix=".checkpoint-", suffix=".npz.tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            np.savez(file, **arrays)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise


def _read_member(archive, info, path, budget):
    """One .npy member, checked before anything is allocated: no objects (pickle), size as claimed."""
    with archive.open(info) as stream:
        version = np.lib.format.read_magic(stream)
        if version == (1, 0):
            shape, fortran_order, dtype = np.lib.format.read_array_header_1_0(stream)
        else:
            shape, fortran_order, dtype = np.lib.format.read_array_header_2_0(stream)
        if dtype.hasobject:
            raise CheckpointError(f"checkpoint {path}: entry {info.filename!r} holds Python objects "
                                  "(a pickle); tinygan never loads those")
        count = 1
        for n in shape:
            count *= n
        size = count * dtype.itemsize
        if size != info.file_size - stream.tell() or size > budget:
            raise CheckpointError(f"checkpoint {path}: entry {info.filename!r} claims shape {shape} of {dtype} "
                                  f"({size} bytes) but stores {info.file_size - stream.tell()} bytes")
        data = stream.read(size)
    if len(data) != size:
        raise CheckpointError(f"checkpoint {path}: entry {info.filename!r} is truncated")
    return np.frombuffer(data, dtype=dtype).reshape(shape, order="F" if fortran_order else "C").copy(), size


def load_checkpoint(path, max_bytes=MAX_CHECKPOINT_BYTES):
    """Read a checkpoint written by save_checkpoint; a clear CheckpointError if it is not one.

    The sizes its entries declare must add up to at most `max_bytes` (pass what the model
    needs, see Run.checkpoint_budget), and every entry's header is checked against its stored
    size before its memory is allocated, so a damaged or hostile file (a zip bomb) cannot make
    us allocate more than that.
    """
    with _open_checkpoint(path) as archive:
        infos = archive.infolist()
        _check_declared_sizes(infos, max_bytes, path)
        arrays, budget = {}, max_bytes
        for info in infos:
            arrays[info.filename[:-4]], size = _read_member(archive, info, path, budget)
            budget -= size
    return _join(_meta(arrays.pop(META_KEY, None), path), arrays)


def load_checkpoint_meta(path):
    """The checkpoint's state with every array left out (None): its configuration, epoch, history..."""
    with _open_checkpoint(path) as archive:
        info = _meta_info(archive, path)
        array, _ = _read_member(archive, info, path, MAX_META_BYTES)
    return _join(_meta(array, path), _NoArrays())


class _NoArrays(dict):
    def __missing__(self, key):
        return None


@contextlib.contextmanager
def _open_checkpoint(path):
    """The checkpoint as an open ZipFile of .npy entries; every reading error becomes a CheckpointError."""
    if not os.path.exists(path):
        raise CheckpointError(f"checkpoint {path}: file not found")
    try:
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                if not info.filename.endswith(".npy"):
                    raise CheckpointError(f"checkpoint {path}: unexpected entry {info.filename!r}")
            yield archive
    except CheckpointError:
        raise
    except Exception as error:  # zipfile, zlib, header and JSON parsers each raise their own kinds
        raise CheckpointError(f"checkpoint {path}: damaged or not an .npz checkpoint "
                              f"({type(error).__name__}: {error})") from None


def _meta_info(archive, path):
    try:
        return archive.getinfo(META_KEY + ".npy")
    except KeyError:
        raise CheckpointError(f"checkpoint {path}: not a tinygan checkpoint (no {META_KEY} entry)") from None


def _check_declared_sizes(infos, max_bytes, path):
    """Refuse, before reading anything, entries whose uncompressed sizes add up to more than `max_bytes`."""
    declared = sum(info.file_size for info in infos)
    if declared > max_bytes:
        raise CheckpointError(f"checkpoint {path}: its entries declare {declared:,} bytes once uncompressed, "
                              f"more than the {max_bytes:,} bytes this model's checkpoint can hold; "
                              "the file is damaged or hostile (a zip bomb)")


def _meta(array, path):
    """The JSON part of a checkpoint, parsed."""
    if array is None:
        raise CheckpointError(f"checkpoint {path}: not a tinygan checkpoint (no {META_KEY} entry)")
    try:
        return json.loads(array.tobytes().decode("utf-8"))
    except ValueError as error:  # UnicodeDecodeError and JSONDecodeError
        raise CheckpointError(f"checkpoint {path}: entry {META_KEY!r} is damaged ({error})") from None
