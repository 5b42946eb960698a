"""Checkpoints: one .npz file holding every array, plus the rest as JSON inside it. Never pickle.

A checkpoint is written to a temporary file in the same folder and renamed
over the old one only when complete (os.replace is atomic), so a run killed
mid-write leaves the previous checkpoint intact.
"""
import json
import os
import tempfile
import zipfile

import numpy as np

from .. import backend

META_KEY = "__meta__"
MAX_CHECKPOINT_BYTES = 2**31  # far above any model here; a header claiming more is refused


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
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".checkpoint-", suffix=".npz.tmp")
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

    Every entry's header is checked against its stored size before its memory is
    allocated, so a damaged or hostile file cannot make us allocate what it claims.
    """
    if not os.path.exists(path):
        raise CheckpointError(f"checkpoint {path}: file not found")
    try:
        arrays, budget = {}, max_bytes
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                if not info.filename.endswith(".npy"):
                    raise CheckpointError(f"checkpoint {path}: unexpected entry {info.filename!r}")
                arrays[info.filename[:-4]], size = _read_member(archive, info, path, budget)
                budget -= size
        if META_KEY not in arrays:
            raise CheckpointError(f"checkpoint {path}: not a tinygan checkpoint (no {META_KEY} entry)")
        meta = json.loads(arrays.pop(META_KEY).tobytes().decode("utf-8"))
        return _join(meta, arrays)
    except CheckpointError:
        raise
    except Exception as error:  # zipfile, zlib, header and JSON parsers each raise their own kinds
        raise CheckpointError(f"checkpoint {path}: damaged or not an .npz checkpoint "
                              f"({type(error).__name__}: {error})") from None
