"""What the `tinygan` command says: one line for every mistake, options refused where a model does not take
them, what `sample` wrote and from which epoch, help texts with their defaults, figures a reader can read,
and run folders that start over cleanly."""
import json
import os
import re

import numpy as np
import pytest

from tinygan import backend
from tinygan.cli import main
from tinygan.train import Run, make_config

pytestmark = pytest.mark.skipif(backend.current() != "numpy", reason="command-line tests run on the NumPy backend")

# The smallest run of each model that the commands accept (one step; nothing here judges quality).
TINY = {
    "dcgan": dict(epochs=1, limit=64, batch_size=32, width=8, latent_dim=8, steps_per_epoch=1),
    "cgan": dict(epochs=1, limit=64, batch_size=32, width=8, latent_dim=8, steps_per_epoch=1),
    "vaegan": dict(epochs=1, limit=64, batch_size=32, latent_dim=8, steps_per_epoch=1),
    "pix2pix": dict(epochs=1, limit=64, batch_size=32, width=8, steps_per_epoch=1),
    "unet": dict(epochs=1, batch_size=4, steps_per_epoch=1),
    "nerf": dict(epochs=1, batch_size=64, width=16, num_samples=8, steps_per_epoch=1),
}
TINY_CLI = ["--epochs", "1", "--limit", "64", "--batch-size", "32", "--width", "8", "--latent-dim", "8",
            "--steps-per-epoch", "1", "--quiet"]


def _one_line_error(capsys, argv, *expected):
    """Run the command: exit status 2 (argparse's SystemExit or main's return), one line on stderr naming
    `expected`, no usage block and no traceback."""
    try:
        status = main(argv)
    except SystemExit as stop:
        status = stop.code
    assert status == 2
    error = capsys.readouterr().err
    assert len(error.strip().splitlines()) == 1 and "usage:" not in error and "Traceback" not in error, error
    for text in expected:
        assert text in error, error
    return error


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """One trained run folder per model of TINY, trained one step: {model: folder}."""
    parent = tmp_path_factory.mktemp("runs")
    folders = {}
    for model, settings in TINY.items():
        folders[model] = parent / model
        Run(make_config(model, threads=1, **settings), str(folders[model])).train(quiet=True)
    return folders


# -- a mistake is one line ------------------------------------------------------------------------------

@pytest.mark.parametrize("argv, expected", [
    (["train", "pix2pix", "--task", "foo"], ("--task", "'foo'", "inpaint", "superres")),
    (["train", "stylegan"], ("MODEL", "'stylegan'", "dcgan")),
    (["train", "dcgan", "--data", "foo"], ("--data", "'foo'", "mnist5k")),
    (["train", "dcgan", "--backend", "tpu"], ("--backend", "'tpu'", "numpy")),
    (["train", "dcgan", "--epochs", "x"], ("--epochs", "'x'")),
    (["frobnicate"], ("COMMAND", "'frobnicate'", "train")),
    (["sample"], ("RUN_OR_CHECKPOINT",)),
])
def test_command_line_mistakes_are_one_line_without_the_usage_block(capsys, argv, expected):
    _one_line_error(capsys, argv, *expected)


# -- options a run does not take ----------------------------------------------------------------------

@pytest.mark.parametrize("model, argv, option", [
    ("pix2pix", ["sample", "RUN", "--label", "12"], "--label is for conditional models"),
    ("unet", ["sample", "RUN", "--label", "3"], "--label is for conditional models"),
    ("nerf", ["sample", "RUN", "--seed", "1"], "--seed"),
    ("dcgan", ["eval", "RUN", "--k", "5"], "--k"),
    ("pix2pix", ["eval", "RUN", "--n", "20"], "--n"),
    ("unet", ["eval", "RUN", "--seed", "1"], "--seed"),
    ("nerf", ["eval", "RUN", "--test-data", "FOLDER"], "--test-data"),
    ("nerf", ["eval", "RUN", "--download"], "--download"),
])
def test_sample_and_eval_refuse_an_option_the_run_does_not_take(tmp_path, capsys, runs, model, argv, option):
    out = tmp_path / "out.png"
    argv = [str(runs[model]) if arg == "RUN" else str(tmp_path) if arg == "FOLDER" else arg for arg in argv]
    if argv[0] == "sample":
        argv += ["--n", "2", "--out", str(out)]
    _one_line_error(capsys, argv, option, f"this {model} run", "does not take it")
    assert not out.exists()


@pytest.mark.parametrize("argv, option", [
    (["pix2pix", "--latent-dim", "8"], "--latent-dim"),
    (["unet", "--latent-dim", "8"], "--latent-dim"),
    (["nerf", "--limit", "64"], "--limit"),
    (["gan", "--data", "ring8", "--limit", "64"], "--limit"),
    (["vaegan", "--ema", "0.9"], "--ema"),
    (["vae", "--ema", "0.9"], "--ema"),
    (["vaegan", "--width", "8"], "--width is for models sized by a width"),
    (["gan", "--width", "8"], "--width is for models sized by a width"),
    (["unet", "--width", "8"], "--width is for models sized by a width"),
])
def test_train_refuses_an_option_the_model_does_not_take(tmp_path, capsys, argv, option):
    tiny = ["--epochs", "1", "--steps-per-epoch", "1", "--batch-size", "4", "--threads", "1", "--quiet"]
    _one_line_error(capsys, ["train", *argv, *tiny, "--out", str(tmp_path / "run")], option)
    assert not (tmp_path / "run").exists()


def test_every_option_that_only_some_runs_take_is_an_option_of_its_command(capsys):
    from tinygan.cli import OPTIONS_OF_SOME_RUNS
    for command, option in OPTIONS_OF_SOME_RUNS:
        with pytest.raises(SystemExit):
            main([command, "--help"])
        assert f" {option} " in capsys.readouterr().out, (command, option)


# -- what sample says ---------------------------------------------------------------------------------

@pytest.mark.parametrize("model", sorted(TINY))
def test_sample_says_what_it_wrote_and_from_which_epoch(tmp_path, capsys, runs, model):
    out = tmp_path / "grid.png"
    assert main(["sample", str(runs[model]), "--n", "3", "--out", str(out)]) == 0
    said = capsys.readouterr().out
    assert out.stat().st_size > 0
    assert said.startswith("wrote 3 ") and f"to {out}" in said, said
    assert "epoch 1" in said and str(runs[model] / "checkpoint.npz") in said, said


# -- help --------------------------------------------------------------------------------------------

def _help(capsys, command):
    """The --help text of a command, with argparse's line wrapping undone."""
    with pytest.raises(SystemExit):
        main([command, "--help"])
    return " ".join(capsys.readouterr().out.split())


def test_sample_help_describes_every_option_with_its_default(capsys):
    options = _help(capsys, "sample").split("options:")[1]
    for option, default in (("--n N", "(default: 64)"), ("--seed SEED", "(default: 0)"),
                            ("--out OUT", "(default: samples.png)")):
        described = re.search(f"{option} (.*?)(?= --|$)", options).group(1)
        assert len(described) > 20 and described.endswith(default), (option, described)


def test_train_help_gives_the_settings_of_one_model_their_own_default(capsys):
    text = _help(capsys, "train")
    assert "nerf: samples per ray between near and far (default: 32)" in text
    assert "pix2pix: weight of the L1 term in G's loss (default: 100)" in text
    assert "against the GAN terms in the decoder's loss (default: 0.1)" in text
    assert "default: none;" not in text.replace("steps (default: none;", "")   # only --steps-per-epoch has none


# -- starting over -----------------------------------------------------------------------------------

OLD_RUN_FIGURES = ["reconstructions.png", "turntable.png", "depth.png", "eval_restorations.png",
                   "segmentation_eval.png", "metrics.png", os.path.join("samples", "epoch_007.png")]


def _train_dcgan(folder, *extra):
    return main(["train", "dcgan", *TINY_CLI, "--threads", "1", "--out", str(folder), *extra])


def test_overwrite_removes_every_file_of_the_old_run_and_keeps_the_users(tmp_path, runs):
    import shutil
    folder = tmp_path / "run"
    shutil.copytree(runs["dcgan"], folder)
    (folder / "samples").mkdir(exist_ok=True)
    for name in OLD_RUN_FIGURES:
        (folder / name).write_bytes(b"old")
    (folder / "notes.txt").write_text("mine")
    (folder / "samples" / "favourite.png").write_bytes(b"mine")
    assert _train_dcgan(folder, "--overwrite") == 0
    assert not [name for name in OLD_RUN_FIGURES if (folder / name).exists()]
    assert (folder / "notes.txt").read_text() == "mine" and (folder / "samples" / "favourite.png").exists()


def test_the_list_of_run_files_names_every_file_any_run_writes(tmp_path, runs):
    from tinygan.train.folder import LOCK_NAME, RUN_FILES
    assert main(["eval", str(runs["pix2pix"])]) == 0
    assert main(["eval", str(runs["unet"]), "--n", "2"]) == 0
    for model, folder in runs.items():
        written = {str(path.relative_to(folder)) for path in folder.rglob("*") if path.is_file()}
        unlisted = {name for name in written - set(RUN_FILES) - {LOCK_NAME}
                    if not (name.startswith("samples" + os.sep) and name.endswith(".png"))}
        assert not unlisted, (model, unlisted)


def _killed_before_its_first_checkpoint(folder):
    """A run folder as a run killed in its first epoch leaves it: configuration and log, no checkpoint."""
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps(make_config("dcgan", **TINY["dcgan"])))
    (folder / "log.jsonl").write_text("")


def test_a_run_killed_before_its_first_checkpoint_is_started_over_by_train(tmp_path, capsys):
    folder = tmp_path / "run"
    _killed_before_its_first_checkpoint(folder)
    assert _train_dcgan(folder) == 0
    assert "stopped before its first checkpoint" in capsys.readouterr().out
    assert (folder / "checkpoint.npz").exists()


def test_resume_of_a_run_killed_before_its_first_checkpoint_says_to_train_it_again(tmp_path, capsys):
    folder = tmp_path / "run"
    _killed_before_its_first_checkpoint(folder)
    error = _one_line_error(capsys, ["resume", str(folder)], "stopped before its first checkpoint",
                            f"tinygan train dcgan --out {folder}")
    assert "--overwrite" not in error


# -- figures a reader can read -----------------------------------------------------------------------

def test_reconstructions_show_every_class(runs, monkeypatch):
    from tinygan import viz
    from tinygan.train.vaegan import save_reconstructions
    drawn = {}
    monkeypatch.setattr(viz, "save_image_grid", lambda images, path, **options: drawn.update(images=images))
    run = Run.from_checkpoint(str(runs["vaegan"]))
    save_reconstructions(run, str(runs["vaegan"] / "unused.png"))
    originals = np.rint(drawn["images"][0::2] * 255).astype(np.uint8)
    images, labels = run.data.images, run.data.labels
    shown = [labels[np.flatnonzero((images == original).all(axis=(1, 2, 3)))[0]] for original in originals]
    assert sorted(set(shown)) == list(range(10)), shown


def _coloured_pixels(path):
    """How many pixels of a PNG are coloured (not grey): blue clearly above red."""
    import matplotlib.image
    rgb = matplotlib.image.imread(str(path))[..., :3]
    return int((rgb[..., 2] - rgb[..., 0] > 0.3).sum())


def test_pix2pix_pictures_mark_the_cut_out_square(tmp_path, runs):
    assert main(["sample", str(runs["pix2pix"]), "--n", "4", "--out", str(tmp_path / "s.png")]) == 0
    assert _coloured_pixels(tmp_path / "s.png") > 0
    assert _coloured_pixels(runs["pix2pix"] / "samples" / "epoch_001.png") > 0


# -- the official test set, said the same way everywhere ----------------------------------------------

def test_nothing_the_command_shows_names_a_folder_of_this_checkout(capsys):
    from tinygan import cli
    from tinygan.train import evaluate
    shown = [cli.__doc__, evaluate.__doc__] + [_help(capsys, command) for command in
                                               ("train", "sample", "resume", "eval", "info")]
    assert not [text for text in shown if "shared" in text]


def test_the_fallback_reference_says_what_it_is_and_how_to_use_the_official_test_set(tmp_path, runs):
    from tinygan.train.evaluate import evaluate_run
    for model in ("dcgan", "pix2pix", "unet"):
        reference = evaluate_run(Run.from_checkpoint(str(runs[model])), n=2)["reference"]
        assert "embedded digits 400-499 of each class" in reference, reference
        assert "--download" in reference and "--test-data FOLDER" in reference, reference
