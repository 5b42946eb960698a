"""cgan: the conditional DCGAN's label accuracy (and FID, score, rarest class) after 10 epochs."""
import os

from tinygan.evaluation.reference import load_reference
from tinygan.train.config import make_config
from tinygan.train.run import Run

from .common import image_eval, log, train_until

# What a PyTorch run of the same recipe reached on the same data.
TARGETS = {"label_accuracy": 0.70}


def experiment(args, folder):
    """Conditional DCGAN: label accuracy (and FID, score) after 10 epochs."""
    reference = load_reference(args.test_data, args.n)
    epochs, seed = args.epochs or 10, args.seeds[0]
    run = Run(make_config("cgan", epochs=epochs, seed=seed, steps_per_epoch=args.steps_per_epoch),
              os.path.join(folder, "cgan"))
    train_seconds = train_until(run, epochs)
    row = {"epoch": epochs, "train_seconds": round(train_seconds, 1), **image_eval(run, reference, args.n, seed)}
    log(f"cgan: {row}")
    return {"recipe": f"cgan defaults, seed {seed}, {args.n} samples, n/10 per requested digit", "result": row,
            "checks": {"label_accuracy >= 0.70": row["label_accuracy"] >= TARGETS["label_accuracy"]}}


def markdown(entry):
    r = entry["result"]
    return ["| epoch | label accuracy | FID | classifier score | rarest class | train s |",
            "|---|---|---|---|---|---|",
            f"| {r['epoch']} | {r['label_accuracy']:.3f} | {r['fid']:.2f} | {r['classifier_score']:.2f} | "
            f"{r['rarest_class']:.3f} | {r['train_seconds']} |"]
