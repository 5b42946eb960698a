"""Checkpoints: one .npz file holding every array, plus the rest as JSON inside it. Never pickle.

A checkpoint is written to a temporary file in the same folder and renamed
over the old one only when complete (os.replace is atomic), so a run killed
mid-write leaves the previous checkpoint intact.

A run's checkpoint is a dict of FORMAT, its configuration, epoch, steps, history, random state, and
'models' and 'optimizers' by network name; the checks below name the entry that is missing or damaged.
"""
import contextlib
import json
import numbers
import os

import numpy as np

from ..runtime.files import MAX_ARCHIVE_BYTES, ArchiveError, output_temporary, read_npz
from .. import backend

FORMAT = "tinygan-checkpoint-1"
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


# -- checking a run's checkpoint: every damaged entry named ----------------------------------------

KIND_NAMES = {dict: "a dict", list: "a list", numbers.Integral: "a whole number"}


def check_format(state, path):
    """CheckpointError unless `state` is a dict of this FORMAT."""
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        found = state.get("format") if isinstance(state, dict) else type(state).__name__
        raise CheckpointError(f"{path}: not a tinygan checkpoint (format {found!r}, expected {FORMAT!r})")


def entry(state, key, kind, path):
    """state[key], which must be of type `kind`."""
    if key not in state:
        raise CheckpointError(f"{path}: entry {key!r} is missing (the file is damaged or not a run's checkpoint)")
    if not isinstance(state[key], kind):
        raise CheckpointError(f"{path}: entry {key!r} should be {KIND_NAMES[kind]}, "
                              f"found {type(state[key]).__name__} {state[key]!r:.40}")
    return state[key]


def count(state, key, path):
    """state[key] as a whole number >= 0 (epochs, steps)."""
    value = entry(state, key, numbers.Integral, path)
    if isinstance(value, bool) or value < 0:
        raise CheckpointError(f"{path}: entry {key!r} should be a whole number >= 0, found {value!r}")
    return int(value)


@contextlib.contextmanager
def damaged_entry(path, name, problem):
    """Turn the errors of restoring one entry into a CheckpointError naming the file and the entry."""
    try:
        yield
    except CheckpointError:
        raise
    except (KeyError, ValueError, TypeError, AttributeError, IndexError, RuntimeError) as error:
        raise CheckpointError(f"{path}: entry {name!r} {problem}: {error}") from None


def check_finite_weights(arrays, name, path):
    """CheckpointError if any saved weight of model `name` is NaN or infinite (nothing could be drawn from it)."""
    if not isinstance(arrays, dict):
        return  # load_state_dict names the wrong type
    for key, value in arrays.items():
        if isinstance(value, np.ndarray) and value.dtype.kind == "f" and not np.isfinite(value).all():
            bad = int(value.size - np.isfinite(value).sum())
            raise CheckpointError(f"{path}: model {name!r} entry {key!r} holds {bad} non-finite weight(s) "
                                  f"(NaN or Inf) of {value.size}; the checkpoint is unusable: resume from an "
                                  f"earlier copy or train again")
