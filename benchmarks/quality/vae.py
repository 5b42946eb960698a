"""vae: the MLP VAE's test loss (-ELBO, one sampled z, per image) at 10 and 30 epochs, and the IWAE bound at the end."""
import os

from tinygan.data import load_mnist
from tinygan.evaluation import metrics
from tinygan.train.config import make_config
from tinygan.train.run import Run

from .common import log, train_until

# epoch: (test loss, tolerance), the band a PyTorch run of the same recipe reached on the same data.
TARGETS = {10: (132.7, 2.0), 30: (115.4, 1.5), 100: (110.4, 1.5)}


def experiment(args, folder):
    """VAE 784-400-20 (Adam 1e-3, batch 128): test loss (-ELBO, one z, per image) at 10 and 30 epochs."""
    test_images, _ = load_mnist("test", folder=args.test_data)
    epochs = args.epochs or 30
    checkpoints = sorted({e for e in (10, 30, 100) if e <= epochs} | {epochs})
    per_seed = []
    for seed in args.seeds:
        run = Run(make_config("vae", epochs=epochs, seed=seed, steps_per_epoch=args.steps_per_epoch),
                  os.path.join(folder, f"vae-{seed}"))
        rows, train_seconds = [], 0.0
        for epoch in checkpoints:
            train_seconds += train_until(run, epoch)
            k = args.k if epoch == checkpoints[-1] else 0
            losses = metrics.vae_test_losses(run.nets["vae"], test_images, k=k, seed=seed)
            row = {"epoch": epoch, "test_loss": round(losses["elbo_loss"], 2), "train_seconds": round(train_seconds, 1)}
            if k:
                row.update(iwae_loss=round(losses["iwae_loss"], 2), k=k)
            target = TARGETS.get(epoch)
            if target:
                row["target"] = f"{target[0]} ± {target[1]}"
                row["in_band"] = abs(losses["elbo_loss"] - target[0]) <= target[1]
            rows.append(row)
            log(f"vae seed {seed} epoch {epoch}: {row}")
        per_seed.append({"seed": seed, "epochs": rows})
    return {"recipe": "vae 784-400-20, Adam 1e-3, batch 128, embedded 5k digits; test loss = BCE summed "
                      "over pixels + KL, one sampled z, per image, official 10k test set",
            "runs": per_seed}


def markdown(entry):
    lines = ["| seed | epoch | test loss | target | in band | -IWAE (K) | train s |",
             "|---|---|---|---|---|---|---|"]
    for run in entry["runs"]:
        for row in run["epochs"]:
            iwae = f"{row['iwae_loss']} (K={row['k']})" if "iwae_loss" in row else ""
            lines.append(f"| {run['seed']} | {row['epoch']} | {row['test_loss']} | {row.get('target', '')} | "
                         f"{row.get('in_band', '')} | {iwae} | {row['train_seconds']} |")
    return lines
