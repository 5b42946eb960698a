"""A new user's first hour: the README's commands work in order from a fresh clone and say what the tool
does; threads chosen, not left to luck; help with defaults; --limit that keeps every digit; a final line
with the total time and the outputs; one line per epoch in a log file; ordinary file modes; whole-number
epochs on the curves; lessons writing to one place."""
import os
import re
import shlex
import stat
from pathlib import Path

import matplotlib.figure
import numpy as np
import pytest

from tinygan import cli, viz
from tinygan.runtime import threads
from tinygan.data import balanced_subset, load_embedded_mnist
from tinygan.teach import default_output_root
from tinygan.train.checkpoint import save_checkpoint

from paths import REPO
README = os.path.join(REPO, "README.md")


# -- the README's commands ----------------------------------------------------------------------------

def readme_tinygan_commands():
    """Every `tinygan ...` command of the README's shell blocks, in reading order, as argument lists
    (a line's `&&` chain split into its commands, comments dropped)."""
    text = open(README).read()
    commands = []
    for block in re.findall(r"```(?:bash|sh|console)\n(.*?)```", text, flags=re.S):
        for line in block.splitlines():
            for command in re.split(r"&&|;", line.split(" #")[0]):
                words = shlex.split(command)
                if words and words[0] == "tinygan":
                    commands.append(words[1:])
    return commands


def test_the_readme_commands_work_in_order_on_a_fresh_clone():
    """Read top to bottom, every run folder that a `sample`, `eval` or `resume` line names is one that an
    earlier `train --out` line created (a train without --out writes runs/MODEL-DATA-TIME, which no later
    line can name), no two trains write one folder, and every line is one the command line accepts."""
    commands = readme_tinygan_commands()
    assert any(words[0] == "train" for words in commands) and any(words[0] == "eval" for words in commands)
    created = []
    for words in commands:
        args = cli._parser().parse_args(words)
        line = "tinygan " + " ".join(words)
        if args.command == "train" and args.out is not None:
            folder = os.path.normpath(args.out)
            assert folder not in created or args.overwrite, f"{line}: {folder} already holds a run"
            created.append(folder)
        elif args.command in ("sample", "eval", "resume"):
            folder = os.path.normpath(args.run)
            if folder.endswith(".npz"):                                 # a checkpoint file inside its run folder
                folder = os.path.dirname(folder)
            assert folder in created, f"{line}: no earlier README line trains into {folder}"


def test_the_readme_says_what_eval_falls_back_to():
    """Without the official test set, `tinygan eval` scores against the embedded held-out digits: the
    README names them as the tool does."""
    from tinygan import data
    _, (held_out, _) = data.embedded_split()
    per_class = data.HELD_OUT_PER_CLASS
    assert len(held_out) == 10 * per_class
    wording = f"embedded digits {500 - per_class}-499 of each class ({len(held_out):,} images"
    assert wording in " ".join(open(README).read().split()), wording


def test_nothing_a_user_runs_or_reads_names_the_shared_folder():
    """../shared lies beside this project's own checkout, not beside a user's clone: the README, the lessons,
    the docs, the package and the scripts say how to get the official test set (--download, --test-data FOLDER,
    TINYGAN_TEST_DATA) instead of naming it. Tests may use it to find data; benchmark results record it."""
    root = Path(REPO)
    files = [root / "README.md", *sorted((root / "benchmarks").glob("*.py")), root / "benchmarks" / "README.md",
             *sorted((root / "tinygan").rglob("*.py")), *sorted((root / "scripts").glob("*.py")),
             *sorted((root / "lessons").glob("*.py")), *sorted((root / "lessons").glob("*.md")),
             *sorted((root / "docs").rglob("*.md"))]
    pattern = re.compile(r"\.\./shared|[\"']shared[\"']")
    found = [f"{path.relative_to(root)}:{number}: {line.strip()}" for path in files if path.is_file()
             for number, line in enumerate(path.read_text().splitlines(), 1) if pattern.search(line)]
    assert not found, "\n".join(found)


def test_every_file_of_the_package_that_the_docs_name_exists():
    """A reader who follows `tinygan/...` in the README, a lesson, the docs, a docstring or a comment finds that
    file or folder: moving code means moving the words that point at it."""
    root = Path(REPO)
    files = [root / "README.md", root / "benchmarks" / "README.md", *sorted((root / "lessons").glob("*.py")),
             *sorted((root / "lessons").glob("*.md")), *sorted((root / "docs").rglob("*.md")),
             *sorted((root / "tinygan").rglob("*.py")), *sorted((root / "benchmarks").glob("*.py"))]
    pattern = re.compile(r"(?<![\w/.])tinygan/[\w/.-]*[\w/]")
    missing = [f"{path.relative_to(root)}:{number}: {name}" for path in files if path.is_file()
               for number, line in enumerate(path.read_text().splitlines(), 1)
               for name in pattern.findall(line) if not (root / name).exists()]
    assert not missing, "\n".join(missing)


# -- threads ----------------------------------------------------------------------------------------

def test_auto_threads_leave_busy_cores_alone_and_use_one_for_tiny_products():
    assert threads.choose_threads("auto", "dcgan", cores=2, busy=0)[0] == 2
    count, why = threads.choose_threads("auto", "dcgan", cores=2, busy=1)
    assert count == 1 and "1 busy" in why
    assert threads.choose_threads("auto", "dcgan", cores=4, busy=9)[0] == 1        # never fewer than one
    assert threads.choose_threads("auto", "mlp-toy", cores=8, busy=0)[0] == 1       # 2-D toy GANs
    assert threads.choose_threads(3, "mlp-toy", cores=2, busy=2) == (3, "as asked (--threads)")


@pytest.mark.parametrize("text", ["0", "-2", "two", "1.5"])
def test_bad_thread_counts_are_refused_with_a_sentence(text):
    with pytest.raises(ValueError, match=r"--threads must be 'auto' or a whole number of at least 1"):
        threads.parse_threads(text)
    assert threads.parse_threads("auto") == "auto" and threads.parse_threads("2") == 2


def test_the_blas_thread_count_is_really_set():
    info = threads.blas_info()
    if info["threads"] is None:
        pytest.skip(f"NumPy's BLAS is not OpenBLAS here: {info['library']}")
    try:
        assert threads.set_blas_threads(1) and threads.blas_info()["threads"] == 1
        assert info["kernel"] and info["library"].startswith("OpenBLAS")
    finally:
        threads.set_blas_threads(info["threads"])


def test_info_names_the_blas_its_kernel_and_the_threads_training_would_use(capsys):
    assert cli.main(["info"]) == 0
    out = capsys.readouterr().out
    assert "BLAS: " in out and "training would use" in out


# -- the command line ---------------------------------------------------------------------------------

def test_train_help_gives_every_option_a_text_and_its_defaults(capsys):
    with pytest.raises(SystemExit):
        cli.main(["train", "--help"])
    text = " ".join(capsys.readouterr().out.split())              # argparse wraps lines
    for default in ("passes over the data (default: 20; cgan 10, vae 30", "(default: 64; vae 128",
                    "Adam's learning rate (default: 0.0002", "(default: 100; vae 20, conv-vae 16",
                    "(default: 64; conv-vae 32", "noise (default: 0)", "threads of the matrix products"):
        assert default in text, default


def test_limit_keeps_every_digit_drawn_with_the_seed():
    _, labels = load_embedded_mnist()
    assert (np.diff(labels.astype(int)) >= 0).all()               # stored sorted: the first 500 are all zeros
    keep = balanced_subset(labels, 500, seed=0)
    assert len(keep) == 500 and np.bincount(labels[keep], minlength=10).tolist() == [50] * 10
    np.testing.assert_array_equal(keep, balanced_subset(labels, 500, seed=0))
    assert not np.array_equal(keep, balanced_subset(labels, 500, seed=1))
    assert np.bincount(labels[balanced_subset(labels, 13, seed=0)], minlength=10).tolist() == [2, 2, 2] + [1] * 7


def test_a_run_logged_to_a_file_prints_one_line_per_epoch_and_a_final_line_with_the_total(tmp_path, capfd):
    folder = tmp_path / "ring"
    before = threads.blas_info()["threads"]
    try:
        status = cli.main(["train", "gan", "--data", "ring8", "--epochs", "2", "--steps-per-epoch", "3",
                           "--batch-size", "16", "--out", str(folder)])
    finally:
        if before:
            threads.set_blas_threads(before)                          # the suite's other tests keep theirs
    out, err = capfd.readouterr()
    assert status == 0
    assert "threads: 1 (the mlp-toy model's matrix products are too small" in out
    assert "epoch 1/2  " in out and "epoch 2/2  " in out                # stdout/stderr are not terminals here
    assert "\r" not in err                                            # no progress bar's carriage returns
    assert "done: 2 epochs in " in out and f"outputs in {folder}/" in out


# -- files and figures --------------------------------------------------------------------------------

def test_checkpoints_get_an_ordinary_file_mode(tmp_path):
    previous = os.umask(0o022)
    try:
        save_checkpoint(str(tmp_path / "checkpoint.npz"), {"epoch": 1, "w": np.ones(3)})
        (tmp_path / "other.txt").write_text("x")
    finally:
        os.umask(previous)
    mode = stat.S_IMODE(os.stat(tmp_path / "checkpoint.npz").st_mode)
    assert mode == stat.S_IMODE(os.stat(tmp_path / "other.txt").st_mode) == 0o644


def test_curves_have_whole_epochs_on_their_axis(tmp_path, monkeypatch):
    ticks = []
    original = matplotlib.figure.Figure.savefig

    def keep_ticks(figure, *args, **kwargs):
        ticks.extend(figure.axes[0].get_xticks())
        return original(figure, *args, **kwargs)
    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", keep_ticks)
    viz.save_curves([{"epoch": e, "loss": 1.0 / e} for e in range(1, 5)], str(tmp_path / "curves.png"))
    assert ticks and all(float(t).is_integer() for t in ticks)


def test_lessons_write_to_one_place_whatever_the_working_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert default_output_root() == os.path.join(REPO, "lessons", "output")


def test_the_thread_count_is_recorded_and_a_resume_keeps_it(tmp_path, capfd):
    """Another thread count rounds the matrix products differently: config.json records the count, and
    `tinygan resume` uses it again, so the resumed run stays bit-identical to one that never stopped."""
    import json
    folder = tmp_path / "dcgan"
    before = threads.blas_info()["threads"]
    try:
        assert cli.main(["train", "dcgan", "--epochs", "1", "--limit", "64", "--width", "4", "--latent-dim", "4",
                         "--threads", "2", "--quiet", "--out", str(folder)]) == 0
        assert json.loads((folder / "config.json").read_text())["threads"] == 2
        capfd.readouterr()
        assert cli.main(["resume", str(folder), "--epochs", "2", "--quiet"]) == 0
        assert "threads: 2 (as this run was trained" in capfd.readouterr().out
        assert cli.main(["resume", str(folder), "--epochs", "3", "--threads", "1", "--quiet"]) == 0
        assert json.loads((folder / "config.json").read_text())["threads"] == 1
    finally:
        if before:
            threads.set_blas_threads(before)
