"""Checkpoints: one .npz file holding every array, plus the rest as JSON inside it. Never pickle.

A checkpoint is written to a temporary file in the same folder and renamed
over the old one only when complete (os.replace is atomic), so a run killed
mid-write leaves the previous checkpoint intact.
"""
import json
import os

import numpy as np

from ..runtime.files import MAX_ARCHIVE_BYTES, ArchiveError, output_temporary, read_npz
from .. import backend

META_KEY = "__meta__"
MAX_CHECKPOINT_BYTES = MAX_ARCHIVE_BYTES  # the budget tinygan.load has too
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


def load_checkpoint(path, max_bytes=MAX_CHECKPOINT_BYTES):
    """Read a checkpoint written by save_checkpoint; a clear CheckpointError if it is not one.

    The sizes its entries declare must add up to at most `max_bytes` (pass what the model
    needs, see Run.checkpoint_budget), and every entry's header is checked against its stored
    size before its memory is allocated, so a damaged or hostile file (a zip bomb) cannot make
    us allocate more than that.
    """
    arrays = _read_arrays(path, max_bytes)
    return _state(_meta(arrays.pop(META_KEY, None), path), arrays, path)


def load_checkpoint_meta(path):
    """The checkpoint's state with every array left out (None): its configuration, epoch, history..."""
    arrays = _read_arrays(path, MAX_META_BYTES, names=[META_KEY])
    return _state(_meta(arrays.get(META_KEY), path), _NoArrays(), path)


class _NoArrays(dict):
    def __missing__(self, key):
        return None


def _read_arrays(path, max_bytes, names=None):
    """The checkpoint's arrays by entry name (all, or `names`), read within `max_bytes`; CheckpointError if damaged."""
    try:
        return read_npz(path, max_bytes, names)
    except ArchiveError as error:
        raise CheckpointError(f"checkpoint {path}: {error}") from None


def _meta(array, path):
    """The JSON part of a checkpoint, parsed."""
    if array is None:
        raise CheckpointError(f"checkpoint {path}: not a tinygan checkpoint (no {META_KEY} entry)")
    try:
        return json.loads(array.tobytes().decode("utf-8"))
    except (ValueError, RecursionError) as error:  # UnicodeDecodeError, JSONDecodeError, nesting too deep
        raise CheckpointError(f"checkpoint {path}: entry {META_KEY!r} is damaged "
                              f"({type(error).__name__}: {error})") from None


def _state(meta, arrays, path):
    """_join(meta, arrays); a CheckpointError when the JSON part does not describe the arrays stored."""
    try:
        return _join(meta, arrays)
    except (KeyError, TypeError, ValueError, RecursionError) as error:  # a missing array, an unhashable name...
        raise CheckpointError(f"checkpoint {path}: entry {META_KEY!r} does not describe the arrays stored "
                              f"({type(error).__name__}: {error})") from None
