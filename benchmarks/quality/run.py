"""The quality each tinygan model reaches: train, evaluate, write benchmarks/results/quality.{json,md}.

    python -m benchmarks.quality --only vae                  # VAE test loss at 10 and 30 epochs (~1 min)
    python -m benchmarks.quality --only ring8 --seeds 0 1    # GAN on 8 Gaussians, 10k steps per seed
    python -m benchmarks.quality --only dcgan --epochs 30 --eval-every 5   # FID over epochs (long on a CPU)
    python -m benchmarks.quality --only cgan                 # conditional DCGAN label accuracy at 10 epochs
    python -m benchmarks.quality --only unet --seeds 0 1     # U-Net mIoU at 10 epochs beside PyTorch
    python -m benchmarks.quality --only dalle                # tiny DALL-E caption accuracy, seeds 0 1, beside PyTorch
    python -m benchmarks.quality                             # every experiment (hours on a CPU)

Run it from the repository root. On a small shared CPU, OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 can be
much faster: with other jobs on the cores, two BLAS threads spend most of a small step waiting for each other.

Every experiment uses tinygan's default recipe for its model (tinygan/train/config.py) on the
embedded 5,000 digits, and measures on the official 10k MNIST test set: --test-data FOLDER (or the
environment variable TINYGAN_TEST_DATA) names a folder that holds its two t10k files, or --download
fetches them once into the cache (md5-checked, as `tinygan eval --download` does). ring8 and nerf
need no test set. Each experiment's entry in quality.json is replaced when it is rerun, so subsets
can be run at different times; quality.md is rewritten from the JSON.

The experiments are the table EXPERIMENTS below, one module each in this folder; where torch is installed,
the experiments from vaegan on train the PyTorch twins (benchmarks/twins/) of the same recipe beside tinygan.
"""
import argparse
import datetime
import json
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tinygan.data import default_cache_dir, load_mnist

from . import cgan, dalle, dcgan, nerf, pix2pix, ring8, rnn, unet, vae, vaegan
from .common import log
from .report import machine, write_json, write_markdown

RESULTS = Path(__file__).resolve().parents[1] / "results"
TEST_DATA_VARIABLE = "TINYGAN_TEST_DATA"     # names the folder of the official t10k files when --test-data does not


@dataclass(frozen=True)
class Experiment:
    run: object            # run(args, folder) -> the experiment's entry in quality.json
    markdown: object       # markdown(entry) -> the lines of its table in quality.md
    test_set: bool = True  # whether it measures on the official MNIST test set
    seeds: tuple = (0,)    # its seeds when --seeds is not given


EXPERIMENTS = {
    "vae": Experiment(vae.experiment, vae.markdown),
    "dcgan": Experiment(dcgan.experiment, dcgan.markdown),
    "cgan": Experiment(cgan.experiment, cgan.markdown),
    "ring8": Experiment(ring8.experiment, ring8.markdown, test_set=False, seeds=tuple(range(ring8.SEEDS_ASKED))),
    "vaegan": Experiment(vaegan.experiment, vaegan.markdown),
    "rnn": Experiment(rnn.experiment, rnn.markdown),
    "nerf": Experiment(nerf.experiment, nerf.markdown, test_set=False),
    "pix2pix": Experiment(pix2pix.experiment, pix2pix.markdown),
    "pix2pix-superres": Experiment(pix2pix.superres, pix2pix.markdown),
    "unet": Experiment(unet.experiment, unet.markdown),
    "dalle": Experiment(dalle.experiment, dalle.markdown, seeds=(0, 1)),
}


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.quality", description=__doc__.split("\n")[0])
    parser.add_argument("--only", nargs="+", choices=EXPERIMENTS, default=list(EXPERIMENTS))
    parser.add_argument("--epochs", type=int, help="override the experiment's epochs (vae, dcgan, vaegan, rnn 30; "
                                                    "cgan, pix2pix, unet 10; ring8 20 x 500 steps; nerf 20 x 100; "
                                                    "dalle: each of its two stages, 15 and 30)")
    parser.add_argument("--seeds", type=int, nargs="+", help="seeds (default: 0; ring8: 0 1 2 3 4)")
    parser.add_argument("--steps-per-epoch", type=int, help="cut every epoch short (for a quick smoke test)")
    parser.add_argument("--eval-every", type=int, default=5, help="dcgan: epochs between FID measurements")
    parser.add_argument("--n", type=int, default=5000, help="generated images per evaluation")
    parser.add_argument("--k", type=int, default=50, help="vae: importance samples of the IWAE bound at the end")
    parser.add_argument("--test-data", metavar="FOLDER", default=os.environ.get(TEST_DATA_VARIABLE) or None,
                        help=f"folder of the official MNIST t10k files (default: ${TEST_DATA_VARIABLE})")
    parser.add_argument("--download", action="store_true",
                        help="fetch the official MNIST test set into the cache ($TINYGAN_CACHE, default "
                             "~/.cache/tinygan), md5-checked, and use it (needs the network once)")
    parser.add_argument("--runs", help="keep the run folders here (default: a temporary folder)")
    parser.add_argument("--results", default=str(RESULTS), help="where quality.json and quality.md go")
    args = parser.parse_args(argv)
    if args.download and not args.test_data:
        args.test_data = str(default_cache_dir() / "mnist")
        log(f"official MNIST test set: {args.test_data}")
        load_mnist("test", folder=args.test_data, download=True)
    needs_test_data = [name for name in args.only if EXPERIMENTS[name].test_set]
    if needs_test_data and not args.test_data:
        parser.error(f"the official MNIST test set is needed ({', '.join(needs_test_data)}): name the folder of its "
                     f"two t10k files with --test-data FOLDER or {TEST_DATA_VARIABLE}=FOLDER, or fetch it once "
                     f"with --download")
    if args.test_data and not Path(args.test_data).is_dir():
        parser.error(f"--test-data {args.test_data}: no such folder (the official MNIST t10k files are needed)")

    results_dir = Path(args.results)
    results_dir.mkdir(parents=True, exist_ok=True)
    json_path = results_dir / "quality.json"
    results = json.loads(json_path.read_text()) if json_path.exists() else {}
    seeds_given = args.seeds
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.runs or scratch
        for name in args.only:
            args.seeds = seeds_given or list(EXPERIMENTS[name].seeds)
            load = [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None
            started = time.perf_counter()
            entry = EXPERIMENTS[name].run(args, folder)
            entry.update(wall_seconds=round(time.perf_counter() - started, 1),
                         date=datetime.datetime.now().isoformat(timespec="seconds"),
                         command=command_line(argv),
                         machine=machine(load))
            results[name] = entry
            write_json(results, json_path)
            write_markdown(results, EXPERIMENTS, results_dir / "quality.md")
            log(f"{name}: {entry['wall_seconds']} s -> {json_path}")


def command_line(argv):
    """How this run was started, with the BLAS thread settings that change its speed."""
    threads = " ".join(f"{k}={os.environ[k]}" for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
                       if k in os.environ)
    args = " ".join(argv if argv is not None else sys.argv[1:])
    return f"{threads + ' ' if threads else ''}python -m benchmarks.quality {args}"
