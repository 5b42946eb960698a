"""`tinygan.save` and `tinygan.load`: state_dicts and nested dicts of arrays and numbers, as .npz, never pickle.

The arrays go into the .npz as members "0", "1", ...; the structure around them (dicts, lists, numbers,
strings) goes in as JSON in one more member. Loading uses `np.load(allow_pickle=False)`, so a file cannot
run code; saving refuses anything that is not plain data, instead of pickling it as torch.save would.
"""
import json
import os

import numpy as np

from . import backend
from .autograd import Tensor

_STRUCTURE = "__structure__"


class SerializationError(TypeError):
    """An object tinygan.save cannot write as plain data, or a file tinygan.load cannot read."""


def _encode(obj, arrays, where):
    """JSON-able description of `obj`, its arrays appended to `arrays`."""
    if isinstance(obj, Tensor):
        arrays.append(obj.numpy())
        return {"tensor": len(arrays) - 1}
    if isinstance(obj, np.ndarray) or backend.device_of(obj) == "gpu":
        array = backend.to_numpy(obj)
        if array.dtype.hasobject:
            raise SerializationError(f"save: {where} is an array of Python objects; only numeric arrays can be saved")
        arrays.append(np.asarray(array))
        return {"array": len(arrays) - 1}
    if isinstance(obj, dict):
        items = []
        for key, value in obj.items():
            if not isinstance(key, (str, int)) or isinstance(key, bool):
                raise SerializationError(f"save: {where} has the key {key!r} of type {type(key).__name__}; "
                                         f"keys must be strings or ints")
            items.append([key, _encode(value, arrays, f"{where}[{key!r}]")])
        return {"dict": items}
    if isinstance(obj, (list, tuple)):
        kind = "list" if isinstance(obj, list) else "tuple"
        return {kind: [_encode(value, arrays, f"{where}[{i}]") for i, value in enumerate(obj)]}
    if isinstance(obj, np.generic):
        obj = obj.item()
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return {"value": obj}
    raise SerializationError(f"save: {where} is a {type(obj).__name__}; tinygan.save writes only dicts, lists and "
                             f"tuples of tensors, arrays, numbers and strings (a state_dict, not a Module or "
                             f"an optimizer: save model.state_dict())")


def _decode(description, arrays):
    (kind, value), = description.items()
    if kind == "tensor":
        return Tensor(backend.to_device(arrays[str(value)], backend.current_device()))
    if kind == "array":
        return arrays[str(value)]
    if kind == "dict":
        return {key: _decode(item, arrays) for key, item in value}
    if kind == "list":
        return [_decode(item, arrays) for item in value]
    if kind == "tuple":
        return tuple(_decode(item, arrays) for item in value)
    return value


def save(obj, f):
    """Write `obj` (a state_dict, or nested dicts/lists of tensors, arrays and numbers) to the path or file `f`.

    The file is an .npz archive whatever its name; `tinygan.load` reads it back.
    """
    arrays = []
    structure = _encode(obj, arrays, "the object")
    members = {str(i): array for i, array in enumerate(arrays)}
    members[_STRUCTURE] = np.frombuffer(json.dumps(structure).encode("utf-8"), dtype=np.uint8)
    if isinstance(f, (str, os.PathLike)):
        with open(f, "wb") as file:  # a path given to np.savez would get ".npz" appended
            np.savez(file, **members)
    else:
        np.savez(f, **members)


def load(f):
    """Read what `tinygan.save` wrote (arrays as NumPy arrays, tensors as tensors on the current device)."""
    try:
        with np.load(f, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
    except ValueError as error:  # allow_pickle=False refusing an object array
        raise SerializationError(f"load: {f} is not an archive of plain arrays, and tinygan never loads pickled "
                                 f"objects (NumPy: {error})") from None
    except (OSError, EOFError) as error:
        raise SerializationError(f"load: {f} is not a file written by tinygan.save ({error})") from None
    if _STRUCTURE not in arrays:
        raise SerializationError(f"load: {f} is an .npz archive but not one written by tinygan.save "
                                 f"(no {_STRUCTURE} entry); read it with numpy.load")
    structure = json.loads(arrays.pop(_STRUCTURE).tobytes().decode("utf-8"))
    return _decode(structure, arrays)
