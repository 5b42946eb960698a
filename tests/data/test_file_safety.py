"""Files that cannot hurt: every loader refuses damaged or hostile files with its one documented error,
naming the file and what is wrong, without allocating more memory than the file can justify.

Loaders and their errors: tinygan.load -> LoadError, checkpoints -> CheckpointError, IDX -> DataError,
the CIFAR-10 archive -> DataError. The checkpoint and IDX fuzz tests live in test_robustness.py.
"""
import gzip
import io
import json
import shlex
import tarfile
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tinygan
from tinygan import backend, nn
from tinygan.autograd import Tensor
from tinygan.data import DataError
from tinygan.data import cifar
from tinygan.serialization import LoadError, SerializationError
from tinygan.train.checkpoint import MAX_CHECKPOINT_BYTES

from hostile import damaged, peak_memory


def _npy_header(shape, descr="<f4"):
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": descr, "fortran_order": False, "shape": shape})
    return buffer.getvalue()


# -- tinygan.load: byte budget ---------------------------------------------------------------------------

def _saved_file(path, arrays=(), structure=None):
    """A file laid out as tinygan.save writes it: arrays as members "0", "1", ..., and the structure as JSON."""
    members = {str(i): array for i, array in enumerate(arrays)}
    text = structure if isinstance(structure, bytes) else json.dumps(structure).encode("utf-8")
    members["__structure__"] = np.frombuffer(text, dtype=np.uint8)
    with open(path, "wb") as file:
        np.savez(file, **members)
    return path


def test_load_shares_the_checkpoint_byte_budget():
    import inspect
    assert inspect.signature(tinygan.load).parameters["max_bytes"].default == MAX_CHECKPOINT_BYTES


def test_load_refuses_a_zip_bomb_before_inflating_it(tmp_path):
    """64 MB of zeros compressed into a 64 KB file: the declared size is refused before a byte is inflated."""
    path = _saved_file(tmp_path / "bomb.npz", structure={"array": 0})
    megabytes = 64
    with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        with archive.open("0.npy", "w", force_zip64=True) as entry:
            entry.write(_npy_header((megabytes * 2**20 // 4,)))
            for _ in range(megabytes):
                entry.write(bytes(2**20))
    assert path.stat().st_size < 2**20
    with peak_memory(8 * 2**20), pytest.raises(LoadError, match=r"bomb\.npz: .*declare .* bytes"):
        tinygan.load(path, max_bytes=16 * 2**20)


def test_load_refuses_a_header_claiming_a_tebibyte(tmp_path):
    """A .npy header that promises 1 TiB over 8 stored bytes: the documented error, not a MemoryError."""
    path = _saved_file(tmp_path / "huge.npz", structure={"array": 0})
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("0.npy", _npy_header((2**38,)) + bytes(8))
    with peak_memory(8 * 2**20), pytest.raises(LoadError, match=r"huge\.npz: .*'0'.*claims shape \(274877906944,\)"):
        tinygan.load(path)


# -- tinygan.load: damaged files -------------------------------------------------------------------------

def _valid_saved_bytes(tmp_path):
    path = tmp_path / "valid.pt"
    tinygan.save({"model": nn.Linear(2, 3).state_dict(), "epoch": 4, "betas": (0.5, 0.9), "t": tinygan.ones(2)}, path)
    return path.read_bytes()


DEEP = 100_000  # nesting that overflows Python's recursion limit in json or in a recursive decoder

DAMAGED_FILES = {
    # name: (what the file holds, a phrase the error must contain)
    "not a zip": (lambda tmp: b"not a zip file", "not an .npz archive"),
    "truncated zip": (lambda tmp: _valid_saved_bytes(tmp)[:-40], "damaged"),
    "a .npy, not a .npz": (lambda tmp: _npy_bytes(np.zeros(3)), "not an .npz archive"),
    "bad JSON": (lambda tmp: _saved(tmp, structure=b"{not json"), "__structure__"),
    "not UTF-8": (lambda tmp: _saved(tmp, structure=b"\xff\xfe\x00"), "UTF-8"),
    "deeply nested JSON": (lambda tmp: _saved(tmp, structure=b"[" * DEEP + b"]" * DEEP), "nested too deeply"),
    "deeply nested lists": (lambda tmp: _saved(tmp, structure=_nested_lists(150)), "more than 100 levels"),
    "unknown kind": (lambda tmp: _saved(tmp, structure={"blob": 1}), "'blob'"),
    "two kinds in one": (lambda tmp: _saved(tmp, structure={"value": 1, "list": []}), "one kind"),
    "not an object": (lambda tmp: _saved(tmp, structure=[1, 2]), "list"),
    "missing array": (lambda tmp: _saved(tmp, structure={"dict": [["w", {"array": 5}]]}), "array 5"),
    "array index of the wrong type": (lambda tmp: _saved(tmp, structure={"array": "0"}, arrays=[np.zeros(2)]),
                                      "array '0'"),
    "dict of the wrong type": (lambda tmp: _saved(tmp, structure={"dict": 3}), "dict"),
    "dict item without a value": (lambda tmp: _saved(tmp, structure={"dict": [["a"]]}), "dict"),
    "dict key of the wrong type": (lambda tmp: _saved(tmp, structure={"dict": [[[1], {"value": 1}]]}), "key"),
    "list of the wrong type": (lambda tmp: _saved(tmp, structure={"list": 5}), "list"),
    "value that is not a number or string": (lambda tmp: _saved(tmp, structure={"value": [1, 2]}), "value"),
    "tensor of text": (lambda tmp: _saved(tmp, structure={"tensor": 0}, arrays=[np.array(["a", "b"])]), "tensor"),
    "no structure": (lambda tmp: _npz_bytes({"0": np.zeros(2)}), "not one written by tinygan.save"),
    "pickled objects": (lambda tmp: _npz_bytes({"0": np.array([{"a": 1}], dtype=object)}),
                        "pickled"),
    "a member that is not .npy": (lambda tmp: _zip_bytes({"notes.txt": b"hello"}), "'notes.txt'"),
}


def _npy_bytes(array):
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def _npz_bytes(members):
    buffer = io.BytesIO()
    np.savez(buffer, **members)  # np.savez pickles object arrays, as a hostile file would hold them
    return buffer.getvalue()


def _zip_bytes(members):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _saved(tmp_path, structure, arrays=()):
    return _saved_file(tmp_path / "made.npz", arrays, structure).read_bytes()


def _nested_lists(depth):
    """The description of a value inside `depth` lists, as tinygan.save would write it."""
    return (b'{"list": [' * depth) + b'{"value": 1}' + (b"]}" * depth)


@pytest.mark.parametrize("damage", DAMAGED_FILES)
def test_every_damaged_file_raises_load_error_naming_file_and_problem(tmp_path, damage):
    make, phrase = DAMAGED_FILES[damage]
    path = tmp_path / "damaged.pt"
    path.write_bytes(make(tmp_path))
    with pytest.raises(LoadError) as error:
        tinygan.load(path)
    message = str(error.value)
    assert message.startswith(f"load: {path}") and phrase in message, message
    assert isinstance(error.value, ValueError) and isinstance(error.value, SerializationError)


def test_load_error_names_a_file_object_and_a_missing_file(tmp_path):
    assert tinygan.LoadError is LoadError                  # `except tinygan.LoadError` works, as the docstring says
    with pytest.raises(LoadError, match="BytesIO"):
        tinygan.load(io.BytesIO(b"not a zip file"))
    with pytest.raises(LoadError, match=r"missing\.pt.*not found"):
        tinygan.load(tmp_path / "missing.pt")


def test_save_refuses_what_load_would_refuse_as_too_deep():
    deep = 1
    for _ in range(150):
        deep = [deep]
    with pytest.raises(SerializationError, match="more than 100 levels deep"):
        tinygan.save(deep, io.BytesIO())
    shallow = 1
    for _ in range(100):
        shallow = [shallow]
    buffer = io.BytesIO()
    tinygan.save(shallow, buffer)
    buffer.seek(0)
    assert tinygan.load(buffer) == shallow


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_broken_saved_files_raise_load_error(tmp_path, data):
    """Hundreds of damaged tinygan.save files: LoadError naming the file, or a load of no more than the file held."""
    valid = _valid_saved_bytes(tmp_path)
    path = tmp_path / "broken.pt"
    path.write_bytes(damaged(valid, data, data.draw(st.sampled_from(["truncate", "flip", "random"]))))
    try:
        loaded = tinygan.load(path)
    except LoadError as error:
        assert str(error).startswith(f"load: {path}"), str(error)
    else:  # a flipped byte that no check sees (zip padding, a digit of a number) leaves a readable file
        assert isinstance(loaded, dict)
        arrays = [backend.to_numpy(v.array if isinstance(v, Tensor) else v) for v in loaded.get("model", {}).values()]
        assert sum(a.nbytes for a in arrays if isinstance(a, np.ndarray)) <= len(valid)


# -- checkpoints: a JSON part that does not describe the arrays stored ---------------------------------------

CHECKPOINT_METAS = {
    "a missing array": {"__dict__": [["w", {"__array__": "s/w"}]]},
    "an unhashable array name": {"__array__": [1]},
    "a dict of the wrong type": {"__dict__": 5},
    "deeply nested JSON": "[" * DEEP + "]" * DEEP,
}


@pytest.mark.parametrize("meta", CHECKPOINT_METAS)
def test_checkpoint_whose_json_does_not_fit_its_arrays_raises_checkpoint_error(tmp_path, meta):
    from tinygan.train.checkpoint import META_KEY, CheckpointError, load_checkpoint
    text = CHECKPOINT_METAS[meta]
    text = text if isinstance(text, str) else json.dumps(text)
    path = tmp_path / "odd.npz"
    with open(path, "wb") as file:
        np.savez(file, **{META_KEY: np.frombuffer(text.encode("utf-8"), dtype=np.uint8)})
    with pytest.raises(CheckpointError, match=rf"checkpoint {path}: entry '{META_KEY}'"):
        load_checkpoint(str(path))


# -- Module.load_state_dict ------------------------------------------------------------------------------

def _host_state(model):
    return {key: backend.to_numpy(value).copy() for key, value in model.state_dict().items()}


def test_load_state_dict_with_text_in_the_last_key_changes_nothing():
    model = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    before = _host_state(model)
    state = {key: np.full(value.shape, 7, dtype=value.dtype) for key, value in before.items()}
    last = list(state)[-1]
    state[last] = np.full(before[last].shape, "7")
    with pytest.raises(RuntimeError, match=rf"'{last}'.*<U1"):
        model.load_state_dict(state)
    for key, value in _host_state(model).items():
        np.testing.assert_array_equal(value, before[key], err_msg=key)


@pytest.mark.parametrize("dtype", ["datetime64[D]", "timedelta64[s]", "U3", "S2", "V4", "O", "complex64"])
def test_load_state_dict_refuses_non_numeric_arrays_naming_key_dtypes_and_shapes(dtype):
    layer = nn.Linear(3, 2)
    before = _host_state(layer)
    weight = np.zeros((2, 3), dtype=dtype)
    with pytest.raises(RuntimeError) as error:
        layer.load_state_dict({"weight": weight, "bias": np.ones(2, dtype=np.float32)})
    message = str(error.value)
    assert "'weight'" in message and "float32" in message and str(weight.dtype) in message and "(2, 3)" in message
    assert "'bias'" not in message, message
    for key, value in _host_state(layer).items():
        np.testing.assert_array_equal(value, before[key], err_msg=key)


def test_load_state_dict_takes_bool_and_integer_arrays():
    layer = nn.Linear(2, 1)
    layer.load_state_dict({"weight": np.array([[True, False]]), "bias": np.array([3], dtype=np.int16)})
    np.testing.assert_array_equal(backend.to_numpy(layer.weight.array), [[1.0, 0.0]])
    np.testing.assert_array_equal(backend.to_numpy(layer.bias.array), [3.0])


# -- the CIFAR-10 archive --------------------------------------------------------------------------------

RECORDS = 1  # one record per batch keeps the archives tiny


def _member(name, data, declared=None):
    """One tar member in GNU format: header (declaring `declared` bytes, default the real size), data, padding."""
    info = tarfile.TarInfo(f"{cifar.FOLDER_IN_ARCHIVE}/{name}")
    info.size = len(data) if declared is None else declared
    padding = -len(data) % tarfile.BLOCKSIZE
    return info.tobuf(format=tarfile.GNU_FORMAT) + data + bytes(padding)


def _cifar_tar(declared=None):
    """The bytes of an uncompressed tar of the six batch files; `declared`: {name: size its header claims}."""
    declared = declared or {}
    members = []
    for i, name in enumerate(cifar.SPLITS["train"] + cifar.SPLITS["test"]):
        record = bytes([i]) + bytes(range(256)) * 12
        members.append(_member(name, record, declared.get(name)))
    return b"".join(members) + bytes(2 * tarfile.BLOCKSIZE)


def _load_cifar(folder):
    return cifar.load_cifar10("train", folder=folder, verify=False, records_per_batch=RECORDS)


def test_cifar_tar_member_is_refused_by_its_declared_size_before_it_is_read(tmp_path):
    """A 64 KB archive whose first batch holds 64 MB of zeros: refused by its header, never inflated."""
    class Zeros(io.RawIOBase):
        def __init__(self, size):
            self.left = size

        def readable(self):
            return True

        def readinto(self, buffer):
            count = min(len(buffer), self.left)
            buffer[:count] = bytes(count)
            self.left -= count
            return count

    path = tmp_path / cifar.ARCHIVE
    with tarfile.open(path, "w:gz", compresslevel=1) as archive:
        info = tarfile.TarInfo(f"{cifar.FOLDER_IN_ARCHIVE}/data_batch_1.bin")
        info.size = 64 * 2**20
        archive.addfile(info, Zeros(info.size))
    assert path.stat().st_size < 2**20
    with peak_memory(16 * 2**20), pytest.raises(DataError, match=r"data_batch_1\.bin.*67,108,864 bytes"):
        _load_cifar(tmp_path)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_broken_cifar_archives_raise_data_error(tmp_path, data):
    """Damaged tars (any byte, any declared member size) and damaged gzip: DataError naming the archive."""
    kind = data.draw(st.sampled_from(["truncate", "flip", "random", "size", "gzip"]))
    if kind == "size":
        name = data.draw(st.sampled_from(cifar.SPLITS["train"]))
        broken = gzip.compress(_cifar_tar({name: data.draw(st.integers(0, 2**40))}), mtime=0)
    elif kind == "gzip":
        broken = damaged(gzip.compress(_cifar_tar(), mtime=0), data, data.draw(st.sampled_from(["truncate", "flip"])))
    else:
        broken = gzip.compress(damaged(_cifar_tar(), data, kind), mtime=0)
    (tmp_path / cifar.ARCHIVE).write_bytes(broken)
    try:
        images, labels = _load_cifar(tmp_path)
    except DataError as error:
        assert cifar.ARCHIVE in str(error), str(error)
    else:
        assert images.shape == (5 * RECORDS, 3, 32, 32) and labels.shape == (5 * RECORDS,)


def test_missing_cifar_says_where_to_put_the_archive(tmp_path, monkeypatch, capsys):
    """The command line has no download option: the message says which folder and how, true from Python too."""
    from tinygan.cli import main
    monkeypatch.setenv("TINYGAN_CACHE", str(tmp_path / "cache"))
    folder = tmp_path / "cache" / "cifar10"
    assert main(["train", "dcgan", "--data", "cifar10", "--epochs", "1", "--quiet",
                 "--out", str(tmp_path / "run")]) == 2
    message = capsys.readouterr().err
    assert "pass download=True" not in message, message
    assert f"mkdir -p {shlex.quote(str(folder))}" in message and cifar.URL in message, message
    assert f"{shlex.quote(str(folder / cifar.ARCHIVE))}" in message, message
    with pytest.raises(DataError) as error:
        cifar.load_cifar10(folder=tmp_path / "elsewhere")
    assert str(tmp_path / "elsewhere") in str(error.value) and "download=True" in str(error.value)
