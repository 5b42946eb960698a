"""Nothing a user does loses a run: run folders are never overwritten silently, one process trains in a
folder at a time, options given to `resume` take effect, and runs that would train nothing are refused."""
import json
import math
import os
import signal
import subprocess
import sys

import numpy as np
import pytest

from tinygan import backend
from tinygan.cli import main
from tinygan.train import Run, make_config
from tinygan.train.checkpoint import load_checkpoint, save_checkpoint
from tinygan.train.folder import RunFolderError, lock_run_folder, new_default_folder

pytestmark = pytest.mark.skipif(backend.current() != "numpy", reason="run-folder tests run on the NumPy backend")

TINY_CLI = ["--limit", "64", "--batch-size", "32", "--width", "8", "--latent-dim", "8", "--quiet"]
TINY = dict(limit=64, batch_size=32, width=8, latent_dim=8, steps_per_epoch=1)
from paths import REPO

HOLDER = """
import sys, time
from tinygan.train.folder import lock_run_folder
with lock_run_folder(sys.argv[1]):
    print("locked", flush=True)
    time.sleep(60)
"""


TRY_LOCK = """
import sys
from tinygan.train.folder import RunFolderError, lock_run_folder
try:
    with lock_run_folder(sys.argv[1]):
        print("free")
except RunFolderError:
    print("in use")
"""


def _train(out, *extra):
    return main(["train", "dcgan", "--epochs", "1", *TINY_CLI, "--out", str(out), *extra])


def _epochs_in_log(folder):
    return [json.loads(line)["epoch"] for line in (folder / "log.jsonl").read_text().splitlines()]


def _hold_lock(folder):
    """A live process holding the folder's lock; its pid."""
    env = dict(os.environ, PYTHONPATH=REPO)
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(folder)], stdout=subprocess.PIPE, env=env)
    assert holder.stdout.readline().strip() == b"locked"
    return holder


# -- losing work ----------------------------------------------------------------------------------

def test_train_refuses_a_folder_that_holds_a_run(tmp_path, capsys):
    folder = tmp_path / "run"
    assert main(["train", "dcgan", "--epochs", "2", *TINY_CLI, "--out", str(folder)]) == 0
    checkpoint = (folder / "checkpoint.npz").read_bytes()
    capsys.readouterr()
    assert _train(folder) == 2
    error = capsys.readouterr().err
    assert f"tinygan resume {folder}" in error and "--overwrite" in error and "Traceback" not in error
    assert (folder / "checkpoint.npz").read_bytes() == checkpoint
    assert _epochs_in_log(folder) == [1, 2]


def test_overwrite_starts_the_run_over(tmp_path):
    folder = tmp_path / "run"
    assert main(["train", "dcgan", "--epochs", "2", *TINY_CLI, "--out", str(folder)]) == 0
    assert _train(folder, "--overwrite") == 0
    assert _epochs_in_log(folder) == [1]
    assert load_checkpoint(str(folder / "checkpoint.npz"))["epoch"] == 1
    assert sorted(os.listdir(folder / "samples")) == ["epoch_001.png"]


def test_a_folder_in_use_by_a_live_process_is_refused(tmp_path, capsys):
    folder = tmp_path / "run"
    holder = _hold_lock(folder)
    try:
        assert _train(folder) == 2
        assert f"in use by process {holder.pid}" in capsys.readouterr().err
        with pytest.raises(RunFolderError, match="in use"), lock_run_folder(str(folder)):
            pass
        assert not (folder / "checkpoint.npz").exists()
    finally:
        holder.kill()
        holder.wait()


def test_lock_of_a_killed_process_is_stale_and_taken(tmp_path):
    folder = tmp_path / "run"
    holder = _hold_lock(folder)
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    assert (folder / ".lock").read_text() == str(holder.pid)  # the file stays; the kernel dropped the lock
    assert _train(folder) == 0


def test_lock_is_released_when_training_ends(tmp_path):
    folder = tmp_path / "run"
    assert _train(folder) == 0
    holder = _hold_lock(folder)  # would fail if this process still held it
    holder.kill()
    holder.wait()


def _in_use_for_another_process(folder):
    """Whether another process is refused the folder's lock (this process's own lock is re-entrant for it)."""
    env = dict(os.environ, PYTHONPATH=REPO)
    answer = subprocess.run([sys.executable, "-c", TRY_LOCK, str(folder)], capture_output=True, env=env, check=True)
    return {b"in use": True, b"free": False}[answer.stdout.strip()]


def test_run_train_called_from_python_holds_the_lock_for_every_epoch_and_save(tmp_path, monkeypatch):
    """Without the CLI's own lock around it, Run.train alone keeps other processes out while it trains."""
    run = Run(make_config("dcgan", epochs=2, **TINY), str(tmp_path / "run"))
    seen = []

    def checked(method):
        def call(*args, **kwargs):
            seen.append((method.__name__, _in_use_for_another_process(run.folder)))
            return method(*args, **kwargs)
        return call
    monkeypatch.setattr(run, "train_epoch", checked(run.train_epoch))
    monkeypatch.setattr(run, "save", checked(run.save))
    run.train(quiet=True)
    assert seen == [("train_epoch", True), ("save", True)] * 2
    assert not _in_use_for_another_process(run.folder)      # released when train returns


def test_lock_is_reentrant_within_a_process(tmp_path):
    with lock_run_folder(str(tmp_path)), lock_run_folder(str(tmp_path / ".")):
        pass
    with lock_run_folder(str(tmp_path)):
        pass


def test_default_folders_started_in_the_same_second_differ(tmp_path, monkeypatch):
    monkeypatch.setattr("time.strftime", lambda fmt, *args: "20250101-120000")
    first = new_default_folder(str(tmp_path / "runs"), "dcgan-mnist5k")
    second = new_default_folder(str(tmp_path / "runs"), "dcgan-mnist5k")
    assert first != second and os.path.isdir(first) and os.path.isdir(second)
    monkeypatch.chdir(tmp_path)
    assert main(["train", "dcgan", "--epochs", "1", *TINY_CLI]) == 0
    assert len(os.listdir(tmp_path / "runs")) == 3


def test_temporary_checkpoints_of_a_killed_run_are_removed_on_resume(tmp_path):
    folder = tmp_path / "run"
    assert _train(folder) == 0
    holder = _hold_lock(folder)
    leftover = folder / ".checkpoint-abc123.npz.tmp"
    leftover.write_bytes(b"half a checkpoint")  # a live process may be writing it: left alone
    try:
        assert main(["resume", str(folder), "--epochs", "2", "--quiet"]) == 2
        assert leftover.exists()
    finally:
        holder.kill()
        holder.wait()
    assert main(["resume", str(folder), "--epochs", "2", "--quiet"]) == 0
    assert not leftover.exists()


def test_log_holds_each_epoch_once_after_a_kill_between_log_and_checkpoint(tmp_path):
    folder = tmp_path / "run"
    assert _train(folder) == 0
    with open(folder / "log.jsonl", "a") as log:  # epoch 2 logged, then killed before its checkpoint
        log.write(json.dumps({"epoch": 2, "step": 4}) + "\n")
    assert main(["resume", str(folder), "--epochs", "3", "--quiet"]) == 0
    assert _epochs_in_log(folder) == [1, 2, 3]


# -- silently wrong ---------------------------------------------------------------------------------

def test_resume_lr_reaches_the_optimizers(tmp_path):
    folder = tmp_path / "run"
    assert _train(folder) == 0
    assert main(["resume", str(folder), "--epochs", "2", "--lr", "1e-5", "--quiet"]) == 0
    state = load_checkpoint(str(folder / "checkpoint.npz"))
    assert state["config"]["lr"] == 1e-5
    for name in ("G", "D"):
        assert [group["lr"] for group in state["optimizers"][name]["param_groups"]] == [1e-5]
    run = Run.from_checkpoint(str(folder), lr=3e-4)
    assert all(group["lr"] == 3e-4 for opt in run.optimizers.values() for group in opt.param_groups)


def test_resume_lr_changes_the_step(tmp_path):
    """One Adam step moves each weight by about lr: a resumed step at lr/100 moves them 100 times less."""
    folder = str(tmp_path / "run")
    Run(make_config("gan", data="ring8", epochs=1, batch_size=16, width=8, latent_dim=4), folder).train(quiet=True)
    moves = {}
    for lr in (1e-3, 1e-5):
        run = Run.from_checkpoint(folder, lr=lr)
        before = run.nets["G"].state_dict()
        x, _ = next(iter(run.family.batches(run, run.epoch)))
        run.step(x, None)
        moves[lr] = max(np.abs(run.nets["G"].state_dict()[k] - before[k]).max() for k in before)
    assert 30 < moves[1e-3] / moves[1e-5] < 300


@pytest.mark.parametrize("args, option", [
    (["--limit", "0"], "--limit"),
    (["--limit", "-5"], "--limit"),
    (["--steps-per-epoch", "0"], "--steps-per-epoch"),
    (["--steps-per-epoch", "-1"], "--steps-per-epoch"),
    (["--batch-size", "64", "--limit", "10"], "--batch-size 64"),
    (["--epochs", "0"], "--epochs"),
])
def test_runs_that_train_nothing_are_refused(tmp_path, capsys, monkeypatch, args, option):
    folder = tmp_path / "run"
    assert main(["train", "dcgan", "--width", "8", "--latent-dim", "8", "--quiet", *args, "--out", str(folder)]) == 2
    assert option in capsys.readouterr().err
    assert not folder.exists()
    monkeypatch.chdir(tmp_path)
    assert main(["train", "dcgan", "--width", "8", "--latent-dim", "8", "--quiet", *args]) == 2
    assert not (tmp_path / "runs").exists() or not os.listdir(tmp_path / "runs")  # no empty default folder


def test_toy_runs_with_zero_steps_are_refused_too(tmp_path, capsys):
    assert main(["train", "gan", "--data", "ring8", "--steps-per-epoch", "0", "--out", str(tmp_path / "t")]) == 2
    assert "--steps-per-epoch must be at least 1, got 0" in capsys.readouterr().err


@pytest.mark.parametrize("epochs", ["-1", "0", "1"])
def test_resume_that_trains_nothing_is_refused(tmp_path, capsys, epochs):
    folder = tmp_path / "run"
    assert _train(folder) == 0
    checkpoint = (folder / "checkpoint.npz").read_bytes()
    capsys.readouterr()
    assert main(["resume", str(folder), "--epochs", epochs, "--quiet"]) == 2
    assert "--epochs" in capsys.readouterr().err
    assert (folder / "checkpoint.npz").read_bytes() == checkpoint


def test_resume_of_a_finished_run_without_epochs_is_refused(tmp_path, capsys):
    folder = tmp_path / "run"
    assert _train(folder) == 0
    assert main(["resume", str(folder), "--quiet"]) == 2
    assert "already trained 1 epochs" in capsys.readouterr().err


@pytest.mark.parametrize("args, option, received", [
    (["--beta1", "2"], "--beta1", "2.0"),
    (["--beta1", "-0.5"], "--beta1", "-0.5"),
    (["--ema", "5"], "--ema", "5.0"),
    (["--ema", "nan"], "--ema", "nan"),
    (["--seed", "-1"], "--seed", "-1"),
    (["--width", "100000000"], "--width", "100000000"),
    (["--batch-size", "100000000"], "--batch-size", "100000000"),
    (["--latent-dim", "0"], "--latent-dim", "0"),
    (["--lr", "nan"], "--lr", "nan"),
    (["--lr", "inf"], "--lr", "inf"),
    (["--lr", "0"], "--lr", "0.0"),
    (["--lr=-1e-3"], "--lr", "-0.001"),
    (["--eval-every", "-1"], "--eval-every", "-1"),
    (["--pack", "0"], "--pack", "0"),
])
def test_numeric_options_are_checked_against_their_meaning(tmp_path, capsys, args, option, received):
    assert main(["train", "gan", *args, "--out", str(tmp_path / "run")]) == 2
    error = capsys.readouterr().err
    assert option in error and f"got {received}" in error and "Traceback" not in error
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("lr", ["nan", "inf", "0", "-1"])
def test_resume_with_a_bad_lr_changes_nothing(tmp_path, capsys, lr):
    folder = tmp_path / "run"
    assert _train(folder) == 0
    config = (folder / "config.json").read_text()
    assert main(["resume", str(folder), "--epochs", "2", "--lr", lr, "--quiet"]) == 2
    assert "--lr" in capsys.readouterr().err
    assert (folder / "config.json").read_text() == config


def _saved_run(folder, model="cgan", **overrides):
    run = Run(make_config(model, **dict(TINY, **overrides)), str(folder))
    run.save()
    return run


@pytest.mark.parametrize("label", ["10", "12", "-1"])
def test_sample_refuses_a_label_outside_the_classes(tmp_path, capsys, label):
    _saved_run(tmp_path / "cgan")
    out = tmp_path / "grid.png"
    assert main(["sample", str(tmp_path / "cgan"), "--label", label, "--n", "4", "--out", str(out)]) == 2
    assert f"--label must be a class from 0 to 9, got {label}" in capsys.readouterr().err
    assert not out.exists()
    assert main(["sample", str(tmp_path / "cgan"), "--label", "9", "--n", "4", "--out", str(out)]) == 0


def test_sample_refuses_a_label_for_an_unconditional_model(tmp_path, capsys):
    _saved_run(tmp_path / "dcgan", model="dcgan")
    assert main(["sample", str(tmp_path / "dcgan"), "--label", "3", "--out", str(tmp_path / "g.png")]) == 2
    assert "--label is for conditional models" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["sample", "eval"])
def test_checkpoint_with_nan_weights_is_reported(tmp_path, capsys, command):
    run = _saved_run(tmp_path / "run", model="dcgan")
    path = str(tmp_path / "run" / "checkpoint.npz")
    state = run.state()
    key = next(k for k, v in state["models"]["G"].items() if v.dtype.kind == "f")
    state["models"]["G"][key] = np.full_like(backend.to_numpy(state["models"]["G"][key]), math.nan)
    save_checkpoint(path, state)
    extra = ["--out", str(tmp_path / "g.png")] if command == "sample" else ["--n", "20"]
    assert main([command, path, *extra]) == 2
    error = capsys.readouterr().err
    assert "non-finite" in error and key in error and "checkpoint.npz" in error
