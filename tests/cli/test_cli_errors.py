"""A person's mistake gets a sentence, not a traceback: command-line values, files that cannot be written,
damaged checkpoints (each entry named), and data files that are not regular files."""
import errno
import io
import os

import numpy as np
import pytest

from tinygan import backend
from tinygan.cli import main
from tinygan.data import DataError, load_mnist
from tinygan.data.idx import encode_idx, read_idx
from tinygan.train import CheckpointError, Run, make_config
from tinygan.train.checkpoint import save_checkpoint

pytestmark = pytest.mark.skipif(backend.current() != "numpy", reason="command-line tests run on the NumPy backend")

TINY = dict(epochs=1, limit=64, batch_size=32, width=8, latent_dim=8, steps_per_epoch=1)
TINY_CLI = ["--epochs", "1", "--limit", "64", "--batch-size", "32", "--width", "8", "--latent-dim", "8", "--quiet"]


def _user_error(capsys, argv, *expected):
    """Run the command: exit status 2, one or two lines on stderr naming `expected`, no traceback."""
    assert main(argv) == 2
    error = capsys.readouterr().err
    assert "Traceback" not in error and 1 <= len(error.strip().splitlines()) <= 2, error
    for text in expected:
        assert text in error, error
    return error


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A tiny DCGAN run folder with one epoch (so the optimizers hold state)."""
    folder = tmp_path_factory.mktemp("cli") / "run"
    Run(make_config("dcgan", **TINY), str(folder)).train(quiet=True)
    return folder


# -- the command line --------------------------------------------------------------------------------

@pytest.mark.parametrize("argv, expected", [
    (["train", "dcgan", "--beta1", "2"], ("--beta1", "[0, 1)", "got 2.0")),
    (["train", "dcgan", "--ema", "5"], ("--ema", "[0, 1)", "got 5.0")),
    (["train", "dcgan", "--seed", "-1"], ("--seed", "at least 0", "got -1")),
    (["train", "dcgan", "--width", "100000000"], ("--width", "between 1 and 1024", "got 100000000")),
    (["sample", "RUN", "--n", "-1"], ("--n", "between 1 and 10,000", "got -1")),
    (["sample", "RUN", "--n", "100000000"], ("--n", "between 1 and 10,000", "got 100000000")),
    (["eval", "RUN", "--n", "100000000"], ("--n", "100,000", "got 100000000")),
    (["eval", "RUN", "--k", "-1"], ("--k", "got -1")),
    (["sample", "RUN", "--out", "x.txt"], ("--out x.txt", ".png")),
    (["sample", "RUN", "--out", "grid"], ("--out grid", ".png")),
])
def test_command_line_mistakes_are_one_sentence_and_status_2(tmp_path, capsys, trained, argv, expected):
    argv = [str(trained) if arg == "RUN" else arg for arg in argv]
    _user_error(capsys, argv, *expected)


def test_debug_shows_the_traceback(capsys):
    with pytest.raises(Exception, match="--beta1"):
        main(["train", "dcgan", "--beta1", "2", "--debug"])
    with pytest.raises(Exception, match="--beta1"):
        main(["--debug", "train", "dcgan", "--beta1", "2"])


def test_out_naming_an_existing_file_is_refused(tmp_path, capsys):
    target = tmp_path / "notes.txt"
    target.write_text("my notes")
    _user_error(capsys, ["train", "dcgan", *TINY_CLI, "--out", str(target)], str(target), "not a folder")
    assert target.read_text() == "my notes"


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes into read-only folders")
def test_out_in_a_read_only_folder_is_named(tmp_path, capsys):
    parent = tmp_path / "locked"
    parent.mkdir()
    parent.chmod(0o500)
    try:
        _user_error(capsys, ["train", "dcgan", *TINY_CLI, "--out", str(parent / "run")], "Permission denied",
                    str(parent))
    finally:
        parent.chmod(0o700)


def test_out_where_nothing_can_be_written_is_named(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    _user_error(capsys, ["train", "dcgan", *TINY_CLI, "--out", str(blocker / "run")], str(blocker))


def test_full_disk_is_a_sentence_and_keeps_the_last_checkpoint(tmp_path, capsys, monkeypatch, trained):
    def no_space(file, **arrays):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(tmp_path / "run" / ".checkpoint-x.npz.tmp"))
    monkeypatch.setattr(np, "savez", no_space)
    error = _user_error(capsys, ["train", "dcgan", *TINY_CLI, "--out", str(tmp_path / "run")], "disk is full")
    assert "checkpoint" in error
    assert not [name for name in os.listdir(tmp_path / "run") if name.endswith(".tmp")]


def test_sample_output_that_cannot_be_written_is_named(tmp_path, capsys, trained):
    _user_error(capsys, ["sample", str(trained), "--out", str(tmp_path / "no" / "such" / "grid.png")], "grid.png")


# -- damaged checkpoints ------------------------------------------------------------------------------

def _remove(key):
    return lambda state: state.pop(key)


def _set(*path_and_value):
    *path, value = path_and_value

    def change(state):
        for key in path[:-1]:
            state = state[key]
        state[path[-1]] = value
    return change


DAMAGES = {
    "no config": (_remove("config"), "'config'"),
    "no models": (_remove("models"), "'models'"),
    "no optimizers": (_remove("optimizers"), "'optimizers'"),
    "no random state": (_remove("rng"), "'rng'"),
    "no epoch": (_remove("epoch"), "'epoch'"),
    "no steps": (_remove("steps"), "'steps'"),
    "no history": (_remove("history"), "'history'"),
    "no G": (lambda state: state["models"].pop("G"), "'models/G' is missing"),
    "no D optimizer": (lambda state: state["optimizers"].pop("D"), "'optimizers/D' is missing"),
    "unknown architecture": (_set("config", "arch", "stylegan"), "architecture 'stylegan'"),
    "unknown backend": (_set("config", "backend", "tpu"), "backend 'tpu'"),
    "config not a dict": (_set("config", [1, 2]), "'config'"),
    "config missing a key": (lambda state: state["config"].pop("lr"), "'config'"),
    "random state a string": (_set("rng", "seed 0"), "'rng'"),
    "malformed random state": (_set("rng", {"bit_generator": "Nonsense", "state": {}}), "'rng'"),
    "epoch a string": (_set("epoch", "three"), "'epoch' should be a whole number, found str 'three'"),
    "epoch negative": (_set("epoch", -2), "'epoch'"),
    "steps a float": (_set("steps", 2.5), "'steps'"),
    "history a number": (_set("history", 7), "'history'"),
    "model weights of the wrong shape": (
        lambda state: state["models"]["G"].update({k: np.zeros(3, np.float32) for k in list(state["models"]["G"])[:1]}),
        "'models/G'"),
    "optimizer state of the wrong shape": (
        lambda state: state["optimizers"]["G"]["state"][0].update(exp_avg=np.zeros(3, np.float32)), "'optimizers/G'"),
    "optimizer without groups": (lambda state: state["optimizers"]["G"].pop("param_groups"), "'optimizers/G'"),
    "not a run": (lambda state: state.clear(), "not a tinygan checkpoint"),
}


@pytest.mark.parametrize("damage", DAMAGES)
def test_damaged_checkpoint_names_the_file_and_the_entry(tmp_path, capsys, trained, damage):
    from tinygan.train.checkpoint import load_checkpoint
    change, entry = DAMAGES[damage]
    state = load_checkpoint(str(trained / "checkpoint.npz"))
    change(state)
    path = tmp_path / "damaged.npz"
    save_checkpoint(str(path), state)
    with pytest.raises(CheckpointError) as error:
        Run.from_checkpoint(str(path))
    assert "damaged.npz" in str(error.value) and entry in str(error.value), str(error.value)
    _user_error(capsys, ["sample", str(path), "--out", str(tmp_path / "g.png")], "damaged.npz", entry)


def test_checkpoint_that_is_not_a_dict_is_named(tmp_path):
    path = tmp_path / "list.npz"
    save_checkpoint(str(path), [1, 2, 3])
    with pytest.raises(CheckpointError, match="list.npz.*not a tinygan checkpoint"):
        Run.from_checkpoint(str(path))


# -- data files ---------------------------------------------------------------------------------------

def _special_files(folder):
    """A folder, a FIFO and a symlink to a device, each where a data file should be."""
    folder.mkdir()
    (folder / "a-folder").mkdir()
    os.mkfifo(folder / "a-fifo")
    os.symlink(os.devnull, folder / "a-device")
    return {"a-folder": "a folder", "a-fifo": "a FIFO", "a-device": "a device"}


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_data_files_that_are_not_regular_files_are_named(tmp_path):
    for name, kind in _special_files(tmp_path / "d").items():
        with pytest.raises(DataError, match=f"{name} is not a regular file but {kind}"):
            read_idx(tmp_path / "d" / name)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_load_mnist_names_a_fifo_in_place_of_an_image_file(tmp_path):
    folder = tmp_path / "mnist"
    folder.mkdir()
    os.mkfifo(folder / "t10k-images-idx3-ubyte.gz")  # reading it would wait forever
    (folder / "t10k-labels-idx1-ubyte.gz").write_bytes(b"")
    with pytest.raises(DataError, match="t10k-images-idx3-ubyte.gz is not a regular file but a FIFO"):
        load_mnist("test", folder=folder)


def test_missing_data_names_the_command_line_ways_to_give_it(tmp_path):
    with pytest.raises(DataError) as error:
        load_mnist("train", folder=tmp_path, kind="fashion")
    message = str(error.value)
    assert "not found" in message and "$TINYGAN_CACHE/fashion" in message and "--test-data" in message


def test_raw_idx_header_is_held_to_the_byte_budget(tmp_path):
    """A sparse raw file has exactly the size its header claims, without the data: the budget refuses it."""
    path = tmp_path / "sparse-idx3-ubyte"
    header = encode_idx(np.zeros((1, 28, 28), np.uint8))[:16]
    claimed = 100_000
    with open(path, "wb") as file:
        file.write(header[:4] + claimed.to_bytes(4, "big") + header[8:])
        file.truncate(16 + claimed * 784)  # 78 MB that hold nothing
    with pytest.raises(DataError, match="sparse-idx3-ubyte.*more than the limit of 1,000,000 bytes"):
        read_idx(path, max_bytes=1_000_000)


# -- bounded resources --------------------------------------------------------------------------------

def _add_zip_bomb(path, megabytes):
    """Append to the checkpoint at `path` an entry of `megabytes` MB of zeros (deflated to about 0.1%)."""
    import zipfile
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f4", "fortran_order": False,
                                                  "shape": (megabytes * 2**20 // 4,)})
    with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        with archive.open("s/bomb.npy", "w", force_zip64=True) as entry:
            entry.write(header.getvalue())
            zeros = bytes(2**20)
            for _ in range(megabytes):
                entry.write(zeros)


def test_checkpoint_zip_bomb_is_refused_before_it_is_inflated(tmp_path, trained):
    import shutil
    import tracemalloc
    path = tmp_path / "bomb.npz"
    shutil.copy(trained / "checkpoint.npz", path)
    _add_zip_bomb(path, 100)
    assert path.stat().st_size < 2**20
    tracemalloc.start()
    try:
        with pytest.raises(CheckpointError, match="bomb.npz: its entries declare .* bytes"):
            Run.from_checkpoint(str(path))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 * 2**20, f"peak {peak / 2**20:.0f} MiB while refusing a 100 MB zip bomb"
