"""dcgan: the DCGAN's FID over the epochs, and its final classifier score and rarest class."""
import os

from tinygan.evaluation.reference import load_reference
from tinygan.train.config import make_config
from tinygan.train.run import Run

from .common import floor, image_eval, log, train_until

# What a PyTorch run of the same recipe reached on the same data.
TARGETS = {"classifier_score": 5.3, "rarest_class": 0.01}


def experiment(args, folder):
    """DCGAN (N(0, 0.02) init, Adam 2e-4, beta1 0.5, batch 64): FID over epochs, final score and rarest class."""
    reference = load_reference(args.test_data, args.n)
    epochs, every = args.epochs or 30, args.eval_every
    seed = args.seeds[0]
    run = Run(make_config("dcgan", epochs=epochs, seed=seed, steps_per_epoch=args.steps_per_epoch),
              os.path.join(folder, "dcgan"))
    curve, train_seconds = [], 0.0
    for epoch in sorted({e for e in range(every, epochs + 1, every)} | {epochs}):
        train_seconds += train_until(run, epoch)
        row = {"epoch": epoch, "train_seconds": round(train_seconds, 1), **image_eval(run, reference, args.n, seed)}
        curve.append(row)
        log(f"dcgan epoch {epoch}: {row}")
    final = curve[-1]
    at5 = next((row for row in curve if row["epoch"] == 5), None)
    checks = {"classifier_score >= 5.3": final["classifier_score"] >= TARGETS["classifier_score"],
              "rarest_class >= 0.01": final["rarest_class"] >= TARGETS["rarest_class"]}
    if at5 and final["epoch"] > 5:
        checks["final FID < FID at epoch 5"] = final["fid"] < at5["fid"]
    return {"recipe": f"dcgan defaults, seed {seed}, {args.n} samples (generator in eval mode) vs "
                      f"{reference.description}", "curve": curve, "checks": checks,
            "floor": floor(reference)}


def markdown(entry):
    lines = ["| epoch | FID | classifier score | rarest class | train s |", "|---|---|---|---|---|"]
    lines += [f"| {r['epoch']} | {r['fid']:.2f} | {r['classifier_score']:.2f} | {r['rarest_class']:.3f} | "
              f"{r['train_seconds']} |" for r in entry["curve"]]
    f = entry["floor"]
    lines.append(f"| real digits | {f['fid']:.2f} | {f['classifier_score']:.2f} | {f['rarest_class']:.3f} | |")
    return lines
