"""nerf: a tiny NeRF on the views of the 3-D scene, in tinygan and in PyTorch: test PSNR over the 8 held-out views
at 500 and 2,000 iterations, beside the trivial baseline (every pixel the mean training colour)."""
import os
import time

import numpy as np

from tinygan.data.scene import load_scene_views
from tinygan.evaluation import metrics
from tinygan.train.config import make_config
from tinygan.train.nerf import mean_colour_baseline, test_scores
from tinygan.train.run import Run

from .common import log, train_until

ITERATIONS = (500, 2000)     # where the test views are scored


def experiment(args, folder):
    """A tiny NeRF: test PSNR over the 8 held-out views at 500 and 2,000 iterations, tinygan and PyTorch,
    beside the trivial baseline (every pixel the mean training colour)."""
    runs = []
    for seed in args.seeds:
        entry = {"seed": seed, "tinygan": _tinygan_nerf(args, folder, seed)}
        try:
            entry["torch"] = _torch_nerf(args, seed)
        except ImportError:
            entry["torch"] = None
        runs.append(entry)
    checks = {}
    paired = [r for r in runs if r["torch"]]
    seeds = " and ".join(str(r["seed"]) for r in paired)
    for k, row in enumerate(paired[0]["tinygan"] if paired else []):    # each measured iteration count
        gap = float(np.mean([r["tinygan"][k]["test_psnr"] for r in paired])
                    - np.mean([r["torch"][k]["test_psnr"] for r in paired]))
        checks[f"tinygan's mean test PSNR over seeds {seeds} at {row['iterations']} iterations within 0.5 dB of "
               f"PyTorch's (gap {gap:+.2f} dB)"] = gap >= -0.5
    baseline = mean_colour_baseline(load_scene_views())
    return {"recipe": "nerf: 32 stratified samples per ray in [2, 6], positional encoding L = 6, MLP 4 x 128 ReLU, "
                      "softplus density, sigmoid colour, MSE, Adam 5e-4, 1024 random rays a step, on 32 views "
                      "(32x32) of the procedural scene (tinygan/data/scene.py); test PSNR and MAE over the 8 "
                      "held-out views, rendered at the bin centres",
            "runs": runs, "checks": checks,
            "baseline": {k: round(v, 3) for k, v in baseline.items()}}


def markdown(entry):
    lines = ["| seed | framework | iterations | test PSNR (dB) | test MAE | train s |", "|---|---|---|---|---|---|"]
    for run in entry["runs"]:
        for framework in ("tinygan", "torch"):
            for r in run[framework] or []:
                lines.append(f"| {run['seed']} | {framework} | {r['iterations']} | {r['test_psnr']:.2f} | "
                             f"{r['test_mae']:.4f} | {r['train_seconds']} |")
    b = entry["baseline"]
    lines.append(f"| | mean training colour | | {b['test_psnr']:.2f} | {b['test_mae']:.4f} | |")
    return lines


def _checkpoints(args):
    """(epochs, steps per epoch, epochs at which to measure): the recipe's 20 epochs of 100 steps, measured
    after 500 and 2,000 iterations; --epochs and --steps-per-epoch shorten it for a smoke test."""
    steps = args.steps_per_epoch or make_config("nerf")["steps_per_epoch"]
    epochs = args.epochs or make_config("nerf")["epochs"]
    wanted = {i // steps for i in ITERATIONS if i % steps == 0 and i // steps <= epochs}
    return epochs, steps, sorted(wanted | {epochs})


def _tinygan_nerf(args, folder, seed):
    epochs, steps, checkpoints = _checkpoints(args)
    run = Run(make_config("nerf", epochs=epochs, seed=seed, steps_per_epoch=steps, threads=1),
              os.path.join(folder, f"nerf-{seed}"))
    rows, train_seconds = [], 0.0
    for epoch in checkpoints:
        train_seconds += train_until(run, epoch)
        scores = test_scores(run)
        rows.append({"iterations": epoch * steps, "test_psnr": round(scores["test_psnr"], 3),
                     "test_mae": round(scores["test_mae"], 4), "train_seconds": round(train_seconds, 1)})
        log(f"nerf tinygan seed {seed}: {rows[-1]}")
    return rows


def _torch_nerf(args, seed):
    import torch  # optional: only the PyTorch twin needs it

    from ..twins.nerf import NeRF, render_rays, render_views
    torch.set_num_threads(1)
    torch.manual_seed(seed)
    config = make_config("nerf")
    epochs, steps, checkpoints = _checkpoints(args)
    views = load_scene_views()
    origins, directions, colours = (torch.tensor(a, dtype=torch.float32) for a in views.rays(views.train))
    model = NeRF(config["num_frequencies"], config["width"])
    optimizer = torch.optim.Adam(model.parameters(), lr=config["lr"], betas=(config["beta1"], config["beta2"]))
    truth = views.images[views.test]
    rows, train_seconds, done = [], 0.0, 0
    for epoch in checkpoints:
        started = time.perf_counter()
        for _ in range(epoch * steps - done):
            pixels = torch.randint(0, len(origins), (config["batch_size"],))
            u = torch.rand(config["batch_size"], config["num_samples"])
            colour, _, _ = render_rays(model, origins[pixels], directions[pixels], views.near, views.far,
                                       config["num_samples"], u)
            loss = torch.mean((colour - colours[pixels]) ** 2)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        done = epoch * steps
        train_seconds += time.perf_counter() - started
        images = render_views(model, views.poses[views.test], views, config["num_samples"])
        rows.append({"iterations": done, "test_psnr": round(metrics.psnr(images, truth), 3),
                     "test_mae": round(metrics.mean_absolute_error(images, truth), 4),
                     "train_seconds": round(train_seconds, 1)})
        log(f"nerf torch seed {seed}: {rows[-1]}")
    return rows
