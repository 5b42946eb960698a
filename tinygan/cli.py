"""The `tinygan` command: train, sample, resume, eval, info.

    tinygan train dcgan                 # DCGAN on the embedded 5,000 digits, into runs/
    tinygan train vae --epochs 30
    tinygan sample runs/dcgan-... --n 64 --out grid.png
    tinygan resume runs/dcgan-...
    tinygan eval runs/dcgan-... --download      # the official test set (or --test-data FOLDER of its t10k files)
    tinygan info

A mistake on the command line (a bad value, a missing or damaged file, a folder in use) ends in a
message naming the option or file and exit status 2; --debug shows the Python traceback instead.

What a command does with a run is its family's (tinygan/train/): `sample` asks it for its picture, `eval`
for the sections of the report that this file prints.
"""
import argparse
import errno
import json
import os
import sys
import time

from . import __version__, backend, keep_freed_memory, keeps_freed_memory, registry
from .autograd import AnomalyError
from .data import HELD_OUT_PER_CLASS, DataError, load_mnist
from .data.mnist import default_cache_dir
from .evaluation.reference import EMBEDDED_REFERENCE
from .evaluation.segmentation import CLASS_NAMES
from .runtime import threads
from .train.checkpoint import CheckpointError
from .train.config import COMMON, DATASETS, MODELS, TOY_GAN_DEFAULTS, ConfigError, make_config
from .train.evaluate import IMAGE_SAMPLES, TOY_SAMPLES, evaluate_run, scores_for_log
from .train.families import family_of
from .train.family import TrainingDiverged
from .train.folder import (RunFolderError, check_is_folder, holds_run, lock_run_folder, new_default_folder,
                           prepare_new_run, stopped_before_first_checkpoint)
from .train.run import Run, checkpoint_path

USAGE_ERRORS = (ConfigError, DataError, CheckpointError, RunFolderError, backend.BackendError)
RUN_STOPPED = (TrainingDiverged, AnomalyError)  # the run went wrong, not the command: exit status 1
MAX_SAMPLES = 10_000  # one grid image; more would not be seen, and the batch must fit in memory
IMAGE_TYPES = (".png", ".jpg", ".jpeg", ".pdf", ".svg")  # what sample --out can write


def _data_kind(config):
    return registry.dataset_of(config).kind


_TEST_DIGITS = ("models of digit images (a nerf and a GAN on a 2-D toy set bring their own test data)",
                lambda config: family_of(config).scored_on_test_digits and _data_kind(config) != "toy")

def _models_sized_by_width():
    """'models sized by a width (dcgan, ...; gan on a 2-D toy set)', for --width's error."""
    names = [name for name, spec in registry.MODELS.items() if spec.defaults["arch"] in registry.SIZED_BY_WIDTH]
    toy = "; gan on a 2-D toy set" if TOY_GAN_DEFAULTS["arch"] in registry.SIZED_BY_WIDTH else ""
    return f"models sized by a width ({', '.join(names)}{toy})"


# Options that only some runs take: (command, option) -> (the runs that take it, whether a run of this
# configuration does), read from what its family declares (tinygan/train/family.py), its model and its data.
# Every other option every run takes; make_config refuses the settings of one family (--gamma, --task, ...) and
# --ema elsewhere than a GAN. An option that a run does not take is refused, never ignored.
OPTIONS_OF_SOME_RUNS = {
    ("train", "--latent-dim"): ("models that draw from noise or encode to a code",
                                lambda config: family_of(config).draws_from_code),
    ("train", "--width"): (_models_sized_by_width(), lambda config: config["arch"] in registry.SIZED_BY_WIDTH),
    ("train", "--limit"): ("fixed image sets (not the 3-D views, the scenes or the 2-D toy sets)",
                           lambda config: _data_kind(config) == "images"),
    ("sample", "--label"): ("conditional models (cgan)", lambda config: registry.model_of(config).conditional),
    ("sample", "--caption"): ("models that draw from captions (dalle)",
                              lambda config: getattr(family_of(config), "draws_from_captions", False)),
    ("sample", "--seed"): ("models that draw at random (a nerf renders a fixed turntable)",
                           lambda config: family_of(config).draws_at_random),
    ("eval", "--n"): ("models scored on what they draw (nerf and pix2pix are scored on fixed test images)",
                      lambda config: family_of(config).scored_on_draws),
    ("eval", "--seed"): ("models scored on random draws (nerf, pix2pix and unet are scored on fixed test data)",
                         lambda config: family_of(config).scored_at_random),
    ("eval", "--k"): ("VAEs (the importance samples of their IWAE bound)",
                      lambda config: family_of(config).importance_samples),
    ("eval", "--test-data"): _TEST_DIGITS,
    ("eval", "--download"): _TEST_DIGITS,
}


def _refuse_options_not_taken(args, config):
    """ConfigError naming the first option on the command line that a run of `config` does not take."""
    for (command, option), (takers, takes) in OPTIONS_OF_SOME_RUNS.items():
        if command != args.command:
            continue
        given = getattr(args, option[2:].replace("-", "_"))
        if given is not None and given is not False and not takes(config):
            raise ConfigError(f"{option} is for {takers}; this {config['model']} run on {config['data']} "
                              f"does not take it")


def _number(value):
    """A default as help shows it: 0.0002, not 0.00020000000000000001."""
    return f"{value:g}" if isinstance(value, float) else str(value)


def _defaults(key):
    """'default: V' for a training setting, then the models (and the 2-D toy sets) whose default differs.

    A setting of some models only (--gamma, --num-samples) has no common default: it shows theirs.
    """
    own = {name: spec.defaults[key] for name, spec in registry.MODELS.items() if key in spec.defaults}
    if key not in COMMON:
        values = set(own.values())
        return "default: " + (_number(values.pop()) if len(values) == 1 else
                              ", ".join(f"{name} {_number(value)}" for name, value in own.items()))
    common = COMMON[key]
    text = "default: " + ("none" if common is None else _number(common))
    differing = {name: value for name, value in own.items() if value != common}
    if differing:
        text += "; " + ", ".join(f"{name} {_number(value)}" for name, value in differing.items())
    if key in TOY_GAN_DEFAULTS and TOY_GAN_DEFAULTS[key] != common:
        text += f"; gan on a 2-D toy set {_number(TOY_GAN_DEFAULTS[key])}"
    return text


class _Parser(argparse.ArgumentParser):
    """argparse that reports a mistake in one line, as every other error of the command (no usage block)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


def _parser():
    parser = _Parser(prog="tinygan", description="Train and sample GANs and VAEs with tinygan.")
    parser.add_argument("--version", action="version", version=f"tinygan {__version__}")
    parser.add_argument("--debug", action="store_true", help="show the Python traceback of an error")
    debug = _Parser(add_help=False)  # --debug after the command too
    debug.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    train = commands.add_parser("train", parents=[debug],
                                help="train a model (defaults per model; data: embedded 5k digits)")
    train.add_argument("model", choices=MODELS, metavar="MODEL", help=f"one of: {', '.join(MODELS)}")
    train.add_argument("--data", choices=DATASETS, metavar="DATA",
                       help=f"one of: {', '.join(DATASETS)} ({_defaults('data')})")
    train.add_argument("--epochs", type=int,
                       help=f"passes over the data ({_defaults('epochs')}); a nerf's epoch is --steps-per-epoch steps")
    train.add_argument("--batch-size", type=int, help=f"samples per step; for nerf, rays ({_defaults('batch_size')})")
    train.add_argument("--lr", type=float, help=f"Adam's learning rate ({_defaults('lr')})")
    train.add_argument("--beta1", type=float, help=f"Adam's beta1, the momentum of its mean ({_defaults('beta1')})")
    train.add_argument("--latent-dim", type=int,
                       help=f"size of the noise z or the VAE's code; not for nerf, pix2pix or unet "
                            f"({_defaults('latent_dim')})")
    train.add_argument("--width", type=int,
                       help=f"channels of the first conv layer / hidden units, for the models sized by one "
                            f"({_defaults('width')})")
    train.add_argument("--seed", type=int, help=f"seed of the weights, the data order and the noise ({_defaults('seed')})")
    train.add_argument("--pack", type=int, metavar="M",
                       help=f"PacGAN: the MLP discriminator judges M samples at once ('gan' only; {_defaults('pack')})")
    train.add_argument("--ema", type=float, metavar="DECAY",
                       help=f"sample from a moving average of G's weights, e.g. 0.999 (GANs; 0 = off; {_defaults('ema')})")
    train.add_argument("--gamma", type=float,
                       help=f"vaegan: weight of the feature reconstruction L_llike against the GAN terms in the "
                            f"decoder's loss ({_defaults('gamma')})")
    train.add_argument("--num-samples", type=int, metavar="N",
                       help=f"nerf: samples per ray between near and far ({_defaults('num_samples')})")
    # pix2pix
    train.add_argument("--task", choices=("inpaint", "superres"),
                       help=f"pix2pix: the damage to undo, a 14x14 square cut out (inpaint) or the digit at 7x7 "
                            f"(superres) ({_defaults('task')})")
    train.add_argument("--l1-weight", type=float, metavar="LAMBDA",
                       help=f"pix2pix: weight of the L1 term in G's loss ({_defaults('l1_weight')})")
    train.add_argument("--gan-weight", type=float,
                       help=f"pix2pix: weight of the GAN term in G's loss; 0 trains G on L1 alone, the baseline "
                            f"({_defaults('gan_weight')})")
    # dalle
    train.add_argument("--vq-epochs", type=int, metavar="N",
                       help=f"dalle: epochs 1..N train the VQ-VAE, the rest of --epochs the transformer prior "
                            f"({_defaults('vq_epochs')})")
    train.add_argument("--prior-lr", type=float,
                       help=f"dalle: AdamW's peak learning rate for the prior; --lr is the VQ-VAE's Adam's "
                            f"({_defaults('prior_lr')})")
    train.add_argument("--limit", type=int, metavar="N",
                       help="train on N images only: a class-balanced subset (N/10 of each digit), drawn with the "
                            "seed; image sets only (default: all)")
    train.add_argument("--steps-per-epoch", type=int, help=f"stop each epoch after N steps ({_defaults('steps_per_epoch')})")
    train.add_argument("--backend", choices=backend.BACKENDS, help="numpy (CPU) or cupy (GPU) (default: numpy)")
    train.add_argument("--threads", default="auto", metavar="N",
                       help="threads of the matrix products: auto (the cores other programs leave free; 1 for the "
                            "2-D toy GANs) or a number; recorded in config.json, since another count rounds the "
                            "products differently (default: auto)")
    train.add_argument("--out", help="run folder (default: a new runs/MODEL-DATA-TIME)")
    train.add_argument("--overwrite", action="store_true",
                       help="start over in an --out folder that already holds a run: its checkpoint, log and "
                            "figures are removed, other files stay")
    train.add_argument("--eval-every", type=int, metavar="K",
                       help="every K epochs, log FID/score (or modes, or ELBO) and draw them in metrics.png "
                            "(default: 0, never)")
    train.add_argument("--detect-anomaly", action="store_true",
                       help="check every operation for NaN/Inf and name the first that makes one (slower)")
    train.add_argument("--quiet", action="store_true", help="no progress bar and no model summary")

    sample = commands.add_parser("sample", parents=[debug], help="draw a grid of samples from a run or checkpoint")
    sample.add_argument("run", metavar="RUN_OR_CHECKPOINT")
    sample.add_argument("--n", type=int, default=64,
                        help="how many to draw: samples, restored digits (pix2pix), labelled scenes (unet) or views "
                             "around the scene (nerf) (default: 64)")
    sample.add_argument("--label", type=int,
                        help="the digit to draw, 0-9 (conditional models: cgan; default: each digit in turn)")
    sample.add_argument("--caption",
                        help="dalle: what to draw, '<foreground> <digit word> on <background>', e.g. 'red seven on "
                             "white' (default: the 18 captions of one digit)")
    sample.add_argument("--seed", type=int,
                        help="seed of the noise, of the digits pix2pix damages, of the scenes unet labels (default: 0)")
    sample.add_argument("--out", default="samples.png",
                        help=f"image file: {', '.join(IMAGE_TYPES)} (default: samples.png)")

    resume = commands.add_parser("resume", parents=[debug], help="continue a run from its last checkpoint")
    resume.add_argument("run", metavar="RUN_DIR")
    resume.add_argument("--epochs", type=int, help="train until this many epochs in total")
    resume.add_argument("--lr", type=float, help="a new learning rate (e.g. after divergence)")
    resume.add_argument("--threads", metavar="N",
                        help="threads of the matrix products: auto or a number (default: the count the run was "
                             "trained with, which keeps the resumed run bit-identical)")
    resume.add_argument("--quiet", action="store_true", help="no progress bar")

    commands.add_parser("info", parents=[debug], help="version, backend, devices, data cache")
    add_eval_parser(commands, parents=[debug])
    return parser


def _train(args):
    config = make_config(args.model, data=args.data, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                         beta1=args.beta1, latent_dim=args.latent_dim, width=args.width, seed=args.seed,
                         limit=args.limit, ema=args.ema, pack=args.pack, gamma=args.gamma, num_samples=args.num_samples,
                         task=args.task, l1_weight=args.l1_weight, gan_weight=args.gan_weight,
                         vq_epochs=args.vq_epochs, prior_lr=args.prior_lr,
                         steps_per_epoch=args.steps_per_epoch, backend=args.backend,
                         detect_anomaly=args.detect_anomaly or None, eval_every=args.eval_every)
    _refuse_options_not_taken(args, config)
    if args.out:
        check_is_folder(args.out)
    config["threads"] = _use_threads(args.threads, config["arch"])
    run = Run(config, args.out)
    run.batches_per_epoch()  # loads the data: a set too small for one batch is refused before a folder is made
    folder = run.folder = args.out or new_default_folder("runs", f"{args.model}-{config['data']}")
    with lock_run_folder(folder):
        if stopped_before_first_checkpoint(folder) and not args.overwrite:
            print(f"{folder} holds a run that stopped before its first checkpoint (nothing to resume): starting over")
        prepare_new_run(folder, overwrite=args.overwrite)
        print(f"training {args.model} on {config['data']} for {config['epochs']} epoch{'s' * (config['epochs'] != 1)} -> {folder}")
        if not args.quiet:
            print(run.describe())
        _train_and_report(run, quiet=args.quiet)


def _use_threads(requested, arch, recorded=None):
    """Set the BLAS's thread count for this run, say what was chosen and why, and return it.

    A resumed run keeps the count its configuration recorded (`recorded`) unless --threads says
    otherwise: the matrix products round differently with another count, so the resumed run would
    no longer be bit-identical to one that never stopped.
    """
    if requested is None and recorded is not None:
        count, why = recorded, "as this run was trained, so the resumed run is bit-identical"
    else:
        try:
            requested = threads.parse_threads("auto" if requested is None else requested)
        except ValueError as error:
            raise ConfigError(str(error)) from None
        count, why = threads.choose_threads(requested, arch)
    if threads.set_blas_threads(count):
        print(f"threads: {count} ({why})")
    return count


def _duration(seconds):
    """'42 s', or '2.1 min' from two minutes on."""
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def _train_and_report(run, epochs=None, quiet=False):
    first_epoch, started = run.epoch, time.perf_counter()
    history = run.train(epochs=epochs, quiet=quiet, evaluate=scores_for_log)
    trained = run.epoch - first_epoch
    last = history[-1] if history else {}
    figures = ", ".join(f"{k} {v:.4g}" for k, v in last.items() if k not in ("epoch", "step", "seconds"))
    in_all = f", {run.epoch} in all" if first_epoch else ""
    print(f"done: {trained} epoch{'s' * (trained != 1)} in {_duration(time.perf_counter() - started)}{in_all}; "
          f"last epoch: {figures}")
    print(f"outputs in {run.folder}/: samples/ (a grid per epoch), curves.png, log.jsonl, config.json, checkpoint.npz")


def _resume(args):
    path = checkpoint_path(args.run)
    if not os.path.isfile(path):
        if os.path.isdir(args.run) and holds_run(args.run):
            raise CheckpointError(f"{args.run}: the run stopped before its first checkpoint, so there is nothing to "
                                  f"resume; start it again with `tinygan train {_model_in(args.run)} --out {args.run}`")
        raise CheckpointError(f"{args.run}: no checkpoint {path} to resume from")
    with lock_run_folder(os.path.dirname(path)):
        run = Run.from_checkpoint(path, lr=args.lr, epochs=args.epochs)
        _refuse_options_not_taken(args, run.config)
        run.config["threads"] = _use_threads(args.threads, run.config["arch"], run.config.get("threads"))
        epochs = run.config["epochs"]
        if run.epoch >= epochs:
            raise ConfigError(f"the run in {args.run} has already trained {run.epoch} epochs, so resuming until "
                              f"epoch {epochs} trains nothing; --epochs is the total: ask for more than {run.epoch}")
        print(f"resuming {run.config['model']} from epoch {run.epoch} until epoch {epochs}"
              + (f" with learning rate {run.config['lr']:g}" if args.lr is not None else ""))
        _train_and_report(run, epochs=epochs, quiet=args.quiet)


def _model_in(folder):
    """The model that a run folder's config.json names, or MODEL when it cannot be read."""
    try:
        with open(os.path.join(folder, "config.json")) as file:
            return str(json.load(file)["model"])
    except (OSError, ValueError, KeyError, TypeError):
        return "MODEL"


def _sample(args):
    """`tinygan sample`: draw from a run's checkpoint into one image (its family's picture), and say what was drawn
    from which epoch."""
    if not 1 <= args.n <= MAX_SAMPLES:
        raise ConfigError(f"--n (samples to draw) must be between 1 and {MAX_SAMPLES:,}, got {args.n}")
    if os.path.splitext(args.out)[1].lower() not in IMAGE_TYPES:
        raise ConfigError(f"--out {args.out}: cannot write that type of image; name a file ending in "
                          f"{', '.join(IMAGE_TYPES)}")
    run = Run.from_checkpoint(args.run)
    _refuse_options_not_taken(args, run.config)
    seed = 0 if args.seed is None else args.seed
    caption = {} if args.caption is None else {"caption": args.caption}
    drawn = run.family.draw(run, args.n, args.label, seed, args.out, **caption)
    print(f"wrote {drawn} to {args.out}, from the checkpoint of epoch {run.epoch} ({checkpoint_path(args.run)})")


# -- tinygan eval ------------------------------------------------------------------------------------

MAX_EVAL_SAMPLES = 100_000   # generated images are kept on the host: 100,000 of them take 300 MB
MAX_IWAE_K = 5_000
DEFAULT_IWAE_K = 50


def add_eval_parser(subparsers, parents=()):
    """Add the `eval` command to an argparse subparsers object; returns its parser."""
    parser = subparsers.add_parser("eval", parents=list(parents), help="measure a trained model (FID, score, modes, ELBO/IWAE)",
                                   description="Measure a trained model: the metrics that fit it, beside the "
                                               "same metrics for real digits.")
    parser.add_argument("run", metavar="RUN_OR_CHECKPOINT")
    parser.add_argument("--n", type=int, help=f"samples to generate (default: {IMAGE_SAMPLES:,} images, "
                                              f"{TOY_SAMPLES:,} toy points); unet: test scenes to score (default: "
                                              f"all 2,000)")
    parser.add_argument("--test-data", metavar="FOLDER",
                        help=f"folder with the official MNIST t10k files (default: the {EMBEDDED_REFERENCE}, "
                             f"{HELD_OUT_PER_CLASS * 10:,} images the model may have trained on)")
    parser.add_argument("--download", action="store_true",
                        help="fetch the official test set into the cache ($TINYGAN_CACHE, default ~/.cache/tinygan), "
                             "md5-checked, and use it (needs the network once)")
    parser.add_argument("--k", type=int,
                        help=f"importance samples of the IWAE bound (VAEs; default: {DEFAULT_IWAE_K})")
    parser.add_argument("--seed", type=int, help="seed of the noise and of the VAE's samples (default: 0)")
    parser.add_argument("--json", metavar="FILE", help="also write the figures to FILE as JSON")
    return parser


def download_test_set(data):
    """The official test set of a run's dataset kind (mnist for the embedded digits), in the cache: its folder.

    Files already there are used as they are; missing ones are downloaded and kept only if their md5 matches.
    """
    kind = data if data in ("mnist", "fashion", "kmnist") else "mnist"
    folder = default_cache_dir() / kind
    print(f"official {kind} test set: {folder}")
    load_mnist("test", folder=folder, kind=kind, download=True)
    return str(folder)


def check_eval_options(args):
    """DataError naming --n or --k when it is outside what can be computed."""
    if args.n is not None and not 2 <= args.n <= MAX_EVAL_SAMPLES:
        raise DataError(f"--n must be between 2 (a covariance needs two samples) and {MAX_EVAL_SAMPLES:,}, "
                        f"got {args.n}")
    if args.k is not None and not 0 <= args.k <= MAX_IWAE_K:
        raise DataError(f"--k must be between 0 and {MAX_IWAE_K:,}, got {args.k}")


def run_eval(args, run=None):
    """The `tinygan eval` command: load the run (unless given), evaluate, print the report (and write JSON)."""
    check_eval_options(args)
    if run is None:
        run = Run.from_checkpoint(args.run)
    test_data = args.test_data
    if getattr(args, "download", False) and not test_data:
        test_data = download_test_set(run.config["data"])
    k = DEFAULT_IWAE_K if args.k is None else args.k
    seed = 0 if args.seed is None else args.seed
    result = evaluate_run(run, n=args.n, test_data=test_data, k=k, seed=seed)
    result["run"] = str(args.run)
    print(format_report(result))
    if "segmentation" in result:
        print(format_segmentation(result))
    if "captions" in result:
        print(format_captions(result))
    if args.json:
        with open(args.json, "w") as file:
            json.dump(result, file, indent=2)
    return result


def _eval(args):
    """`tinygan eval`: the run's metrics (run_eval), once its options are known to fit the run."""
    check_eval_options(args)
    run = Run.from_checkpoint(args.run)
    _refuse_options_not_taken(args, run.config)
    run_eval(args, run)


ROWS = [
    # (section, key, label, format)
    ("images", "fid", "FID (classifier features; lower is better)", "{:.2f}"),
    ("images", "classifier_score", "classifier score (1..10, higher is better)", "{:.2f}"),
    ("images", "rarest_class", "rarest class (fraction of samples; 0.10 is even)", "{:.3f}"),
    ("images", "label_accuracy", "label accuracy (classifier agrees with the requested digit)", "{:.3f}"),
    ("toy", "modes_covered", "modes covered", "{}"),
    ("toy", "high_quality_fraction", "high-quality samples (within 3 std of a mode)", "{:.1%}"),
    ("vae", "elbo_loss", "test loss: -ELBO per image (nats, one z)", "{:.2f}"),
    ("vae", "iwae_loss", "-IWAE bound per image (nats, K={k})", "{:.2f}"),
    ("rnn", "test_nll", "test NLL per image (nats, binarised digits)", "{:.2f}"),
    ("reconstruction", "mse", "reconstruction error of the reference images (pixel MSE on [0, 1])", "{:.4f}"),
    ("nerf", "test_psnr", "test PSNR over the held-out views (dB; higher is better)", "{:.2f}"),
    ("nerf", "test_mae", "test mean absolute error (pixels on [0, 1])", "{:.4f}"),
    ("segmentation", "pixel_accuracy", "pixel accuracy", "{:.4f}"),
    ("segmentation", "miou", "mIoU over the 11 classes", "{:.4f}"),
    ("segmentation", "miou_digits", "mIoU over the 10 digit classes", "{:.4f}"),
]


def format_report(result):
    """The evaluation as aligned text: metric, model, real-data floor."""
    lines = [f"{result['model']} on {result['data']}, epoch {result['epoch']}"]
    if "reference" in result:
        lines.append(f"reference: {result['reference']}")
    if "n" in result:
        floor = f"; real-data column: {result['floor_n']} training digits" if "floor_n" in result else ""
        lines.append(f"samples: {result['n']} (generator in eval mode){floor}")
    if "note" in result:
        lines.append(f"note: {result['note']}")
    table = []
    for section, key, label, fmt in ROWS:
        part = result.get(section) or {}
        if key not in part.get("model", {}):
            continue
        value = part["model"][key]
        if section == "toy" and key == "modes_covered":
            value = f"{value}/{part['model']['n_modes']}"
        floor = part.get("floor", {}).get(key)
        if section == "toy" and key == "modes_covered" and floor is not None:
            floor = f"{floor}/{part['floor']['n_modes']}"
        label = label.format(k=part["model"].get("k"))
        table.append((label, fmt.format(value), "" if floor is None else fmt.format(floor)))
    if table:
        width = max(len(row[0]) for row in table)
        lines.append(f"{'metric':<{width}}  {'model':>9}  {'real data':>9}")
        lines += [f"{label:<{width}}  {value:>9}  {floor:>9}" for label, value, floor in table]
    if "restoration" in result:
        lines += [f"task: {result['task']}, fixed test damage (seed 1234)"] + format_restoration(result["restoration"])
        lines.append(f"picture: {result['picture']}")
    lines.append(f"({result['seconds']} s)")
    return "\n".join(lines)


def format_restoration(scores):
    """The scores of `restoration_scores` as report lines: one column each for restored, damaged and original."""
    rows = [("L1 over the damaged region (pixels on [0, 1]; lower is better)", "l1", "{:.4f}"),
            ("PSNR over the damaged region (dB; higher is better)", "psnr", "{:.2f}"),
            ("classifier accuracy (shipped digit classifier)", "accuracy", "{:.4f}")]
    width = max(len(label) for label, _, _ in rows)
    lines = [f"{'metric':<{width}}  {'restored':>9}  {'damaged':>9}  {'original':>9}"]
    for label, key, fmt in rows:
        cells = [fmt.format(scores[column][key]) if key in scores[column] else "" for column in
                 ("restored", "damaged", "original")]
        lines.append(f"{label:<{width}}  " + "  ".join(f"{cell:>9}" for cell in cells))
    return lines


def format_segmentation(result):
    """The per-class IoU table and the picture's path of a segmentation evaluation (empty for other models)."""
    part = result.get("segmentation")
    if not part:
        return ""
    lines = [f"test scenes: {result['scenes']} (model in eval mode)", "per-class IoU:"]
    lines += [f"  {name:<10}  " + ("absent" if value is None else f"{value:.4f}")
              for name, value in zip(CLASS_NAMES, part["iou"])]
    lines.append(f"picture of scenes, true and predicted label maps: {result['picture']}")
    return "\n".join(lines)


def format_captions(result):
    """dalle's report: the caption judge's scores of the drawings of seen and of held-out captions, and the VQ-VAE's
    reconstruction error and code use on the test digits."""
    part, lines = result["captions"], []
    if "note" in part:
        lines.append(f"captions: {part['note']}")
    for name, title in (("seen", "captions trained on"), ("held_out", "held-out captions (never trained on)"),
                        ("real", "the captioned test digits themselves (the judge's ceiling)")):
        if name in part:
            scores = ", ".join(f"{key} {value:.4g}" if isinstance(value, float) else f"{key} {value}"
                               for key, value in part[name].items() if isinstance(value, (int, float)))
            lines.append(f"{title}: {scores}")
    codebook = result.get("codebook")
    if codebook:
        lines.append(f"VQ-VAE on the test digits: reconstruction MSE {codebook['mse']:.4f}, perplexity "
                     f"{codebook['perplexity']:.1f}, unused codes {codebook['unused_codes']}")
    return "\n".join(lines)


def _info(args):
    print(f"tinygan {__version__}")
    print(f"backend: {backend.current()} (set TINYGAN_BACKEND or --backend)")
    print(f"numpy: {__import__('numpy').__version__}")
    print(f"cupy/GPU: {'available' if backend.cupy_available() else 'not available'}")
    print(f"malloc keeps freed memory for reuse: {'yes' if keeps_freed_memory() else 'no'} "
          f"(tinygan/runtime/malloc.py; TINYGAN_KEEP_MEMORY=0 turns it off)")
    blas = threads.blas_info()
    print(f"BLAS: {blas['library']}" + (f", {blas['kernel']} kernels, {blas['threads']} threads" if blas["kernel"] else ""))
    count, why = threads.choose_threads("auto")
    print(f"training would use {count} thread{'s' * (count != 1)} now ({why}); --threads sets it")
    if "OPENBLAS_CORETYPE" in os.environ:
        print(f"OPENBLAS_CORETYPE={os.environ['OPENBLAS_CORETYPE']}: NumPy's matrix products use those kernels")
    print(f"data cache: {default_cache_dir()}")


def _describe_os_error(error):
    """An OSError as one sentence: the file, what went wrong, and for a full disk what is safe."""
    where = f"{error.filename}: " if error.filename else ""
    message = f"{where}{error.strerror or error}"
    if error.errno == errno.ENOSPC:
        message += " (the disk is full; the last complete checkpoint is intact: free space, then tinygan resume)"
    return message


def main(argv=None):
    """Run the `tinygan` command; returns the exit status (0 done, 1 the run stopped, 2 a usage error)."""
    args = _parser().parse_args(argv)
    keep_freed_memory()       # a training step's arrays are reused, not page-faulted anew (tinygan/runtime/malloc.py)
    handlers = {"train": _train, "resume": _resume, "sample": _sample, "info": _info, "eval": _eval}
    try:
        handlers[args.command](args)
    except USAGE_ERRORS + RUN_STOPPED + (OSError,) as error:
        if args.debug:
            raise
        message = _describe_os_error(error) if isinstance(error, OSError) else str(error)
        print(f"tinygan {args.command}: error: {message}", file=sys.stderr)
        return 1 if isinstance(error, RUN_STOPPED) else 2
    except KeyboardInterrupt:
        print("\ninterrupted; the last checkpoint is intact (tinygan resume RUN_DIR continues)", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
