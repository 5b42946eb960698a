"""`tinygan.save` and `tinygan.load`: state_dicts and nested dicts of arrays and numbers, as .npz, never pickle.

The arrays go into the .npz as members "0", "1", ...; the structure around them (dicts, lists, numbers,
strings) goes in as JSON in one more member. Loading reads the .npz within a byte budget and never
unpickles (the reader checkpoints use too), so a file can neither run code nor exhaust memory; saving
refuses anything that is not plain data, instead of pickling it as torch.save would.
"""
import json
import os

import numpy as np

from . import backend
from .runtime.files import MAX_ARCHIVE_BYTES, ArchiveError, read_npz
from .autograd import Tensor

_STRUCTURE = "__structure__"
_KINDS = ("tensor", "array", "dict", "list", "tuple", "value")
MAX_DEPTH = 100  # dicts, lists and tuples inside each other; far deeper than any state a model saves


WHOLE_OBJECT = ("Save its state_dict instead: torch.save(model.state_dict(), path), and to load it, build the "
                "model as before and write model.load_state_dict(torch.load(path)) (the same for an optimizer)")


class SerializationError(TypeError):
    """An object tinygan.save cannot write as plain data, or a file tinygan.load cannot read (a LoadError)."""


class LoadError(SerializationError, ValueError):
    """A file tinygan.load cannot read: missing, damaged, hostile, or not written by tinygan.save.

    A ValueError, as a damaged checkpoint or data file is, and a SerializationError, as it always was.
    """


def _encode(obj, arrays, where, depth=0):
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
    if isinstance(obj, (dict, list, tuple)) and depth >= MAX_DEPTH:
        raise SerializationError(f"save: the object nests dicts, lists and tuples more than {MAX_DEPTH} levels deep; "
                                 f"tinygan.load reads at most {MAX_DEPTH}")
    if isinstance(obj, dict):
        items = []
        for key, value in obj.items():
            if not isinstance(key, (str, int)) or isinstance(key, bool):
                raise SerializationError(f"save: {where} has the key {key!r} of type {type(key).__name__}; "
                                         f"keys must be strings or ints")
            items.append([key, _encode(value, arrays, f"{where}[{key!r}]", depth + 1)])
        return {"dict": items}
    if isinstance(obj, (list, tuple)):
        kind = "list" if isinstance(obj, list) else "tuple"
        return {kind: [_encode(value, arrays, f"{where}[{i}]", depth + 1) for i, value in enumerate(obj)]}
    if isinstance(obj, np.generic):
        obj = obj.item()
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return {"value": obj}
    if callable(getattr(obj, "state_dict", None)) and callable(getattr(obj, "load_state_dict", None)):
        raise SerializationError(f"save: {where} is a {type(obj).__name__}: tinygan.save never pickles a whole "
                                 f"model or optimizer (a pickle runs code when it is loaded). {WHOLE_OBJECT}")
    raise SerializationError(f"save: {where} is a {type(obj).__name__}; tinygan.save writes only dicts, lists and "
                             f"tuples of tensors, arrays, numbers and strings (a state_dict, not a Module or "
                             f"an optimizer: save model.state_dict())")


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


def load(f, map_location=None, weights_only=None, max_bytes=MAX_ARCHIVE_BYTES):
    """Read what `tinygan.save` wrote (arrays as NumPy arrays, tensors as tensors on the current device).

    f            -- a path or a binary file object
    map_location -- the device the tensors go to ("cpu", "cuda", a `tinygan.device`); default: the current one
    weights_only -- accepted for PyTorch code and ignored: tinygan.load only ever reads plain data
    max_bytes    -- the most bytes the file's arrays may declare once uncompressed (the budget checkpoints have)

    Raises LoadError (a ValueError and a SerializationError), naming the file and what is wrong, for
    every file it cannot read: missing, not an .npz archive, truncated or damaged, holding pickled
    objects, declaring more than `max_bytes` (a zip bomb), or with a structure tinygan.save does not
    write. Every size is checked before its memory is allocated.
    """
    if map_location is not None and not isinstance(map_location, (str, backend.Device)):
        raise TypeError(f"load: map_location must be a device such as 'cpu' or 'cuda', got "
                        f"{type(map_location).__name__}; tinygan does not remap storages with a dict or a function")
    device = backend.normalize_device(map_location) if map_location is not None else None
    try:
        arrays = read_npz(f, max_bytes)
        structure = _parse_structure(arrays.pop(_STRUCTURE, None))
        return _decode(structure, arrays, "the object", 0, device)
    except ArchiveError as error:
        hint = f". A whole model saved by torch.save(model) cannot be loaded here. {WHOLE_OBJECT}" if error.pickled else ""
        raise LoadError(f"load: {_file_name(f)}: {error}{hint}") from None


def _file_name(f):
    """How messages name `f`: its path, or the file object."""
    if isinstance(f, (str, os.PathLike)):
        return os.fspath(f)
    return getattr(f, "name", None) or repr(f)


def _parse_structure(array):
    """The JSON description that tinygan.save stores beside the arrays; ArchiveError if it is absent or damaged."""
    if array is None:
        raise ArchiveError(f"an .npz archive, but not one written by tinygan.save (no {_STRUCTURE} entry); "
                           f"read it with numpy.load")
    try:
        text = array.tobytes().decode("utf-8")
    except UnicodeDecodeError as error:
        raise ArchiveError(f"entry {_STRUCTURE!r} is not UTF-8 text ({error})") from None
    try:
        return json.loads(text)
    except RecursionError:
        raise ArchiveError(f"entry {_STRUCTURE!r} is nested too deeply for a structure tinygan.save writes "
                           f"(at most {MAX_DEPTH} levels)") from None
    except ValueError as error:  # JSONDecodeError, or an integer too long to convert
        raise ArchiveError(f"entry {_STRUCTURE!r} is not valid JSON ({error})") from None


def _decode(description, arrays, where, depth, device=None):
    """The object `description` stands for (the inverse of _encode), its tensors on `device` (default: the
    current one); ArchiveError naming `where` if it is damaged."""
    kind, value = _kind(description, where)
    if kind == "tensor":
        return Tensor(backend.to_device(_numeric_array(arrays, value, where), device or backend.current_device()))
    if kind == "array":
        return _array(arrays, value, where)
    if kind == "value":
        if value is not None and not isinstance(value, (bool, int, float, str)):
            raise ArchiveError(f"entry {_STRUCTURE!r}: {where} should be a value (a number, a string or null), "
                               f"found {_shown(value)}")
        return value
    if depth >= MAX_DEPTH:
        raise ArchiveError(f"entry {_STRUCTURE!r} nests dicts, lists and tuples more than {MAX_DEPTH} levels deep, "
                           f"deeper than tinygan.save writes")
    if kind == "dict":
        return {key: _decode(item, arrays, f"{where}[{key!r}]", depth + 1, device)
                for key, item in _dict_items(value, where)}
    if not isinstance(value, list):
        raise ArchiveError(f"entry {_STRUCTURE!r}: {where} should be a {kind} of items, found {_shown(value)}")
    items = [_decode(item, arrays, f"{where}[{i}]", depth + 1, device) for i, item in enumerate(value)]
    return items if kind == "list" else tuple(items)


def _kind(description, where):
    """(kind, value) of one node of the structure: an object with exactly one key, a known kind."""
    if not isinstance(description, dict) or len(description) != 1:
        found = f"keys {list(description)}" if isinstance(description, dict) else _shown(description)
        raise ArchiveError(f"entry {_STRUCTURE!r}: {where} should be described by one kind ({', '.join(_KINDS)}), "
                           f"found {found}")
    (kind, value), = description.items()
    if kind not in _KINDS:
        raise ArchiveError(f"entry {_STRUCTURE!r}: {where} has the unknown kind {kind!r}; expected one of {_KINDS}")
    return kind, value


def _array(arrays, index, where):
    """The array member `index` refers to; ArchiveError if the file does not hold it."""
    if not isinstance(index, int) or isinstance(index, bool) or str(index) not in arrays:
        raise ArchiveError(f"entry {_STRUCTURE!r}: {where} refers to array {index!r}, which the file does not hold "
                           f"(it holds {len(arrays)} array(s))")
    return arrays[str(index)]


def _numeric_array(arrays, index, where):
    """The array a tensor is made of: numbers or booleans only."""
    array = _array(arrays, index, where)
    if array.dtype.kind not in "biufc":
        raise ArchiveError(f"entry {_STRUCTURE!r}: {where} is a tensor, but array {index} holds {array.dtype} "
                           f"values; a tensor holds numbers")
    return array


def _dict_items(value, where):
    """The [key, description] pairs of a dict node, each checked: a string or int key, and a description."""
    if not isinstance(value, list):
        raise ArchiveError(f"entry {_STRUCTURE!r}: {where} should be a dict of [key, value] pairs, "
                           f"found {_shown(value)}")
    for pair in value:
        if not isinstance(pair, list) or len(pair) != 2:
            raise ArchiveError(f"entry {_STRUCTURE!r}: {where} should be a dict of [key, value] pairs, "
                               f"found the item {_shown(pair)}")
        key = pair[0]
        if not isinstance(key, (str, int)) or isinstance(key, bool):
            raise ArchiveError(f"entry {_STRUCTURE!r}: {where} has the key {_shown(key)}; keys are strings or ints")
    return value


def _shown(value):
    """A JSON value in a message: its type and the start of its text."""
    return f"{type(value).__name__} {json.dumps(value)[:60]}"
