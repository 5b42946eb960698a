"""pix2pix and pix2pix-superres: pix2pix restoring damaged digits (a square cut out, or a 7x7 downsampling), beside
the same generator trained with L1 alone, in tinygan and in PyTorch on the same pairs: classifier accuracy on the
restored test digits, PSNR and L1 over the damaged region."""
import os
import time

import numpy as np

from tinygan.data import load_embedded_mnist, load_mnist
from tinygan.data.damage import PairLoader, fixed_test_damage
from tinygan.evaluation.restoration import restoration_scores, restore
from tinygan.train.config import make_config
from tinygan.train.run import Run

from .common import log, torch_threads, train_until

# task: (the damage of the training digits, the region the scores are taken over)
TASK_WORDS = {"inpaint": ("a fresh 14x14 square cut out each epoch (default_rng(seed + epoch))", "the square"),
              "superres": ("each digit downsampled to 7x7 (4x4 block means) and upsampled back by nearest neighbour",
                           "the image")}


def experiment(args, folder, task="inpaint"):
    """pix2pix restoring damaged digits (task "inpaint", or "superres"): tinygan pix2pix, tinygan L1-only, and
    their PyTorch twins; classifier accuracy on the restored test digits, PSNR and L1 over the damaged region,
    beside the damaged and the originals."""
    images, labels = load_mnist("test", folder=args.test_data)
    damaged, mask = fixed_test_damage(images, task)
    test = (images, labels, damaged, mask)
    unchanged = damaged.astype(np.float32) / 255                   # the damaged digits "restored" as they are
    scores = restoration_scores(unchanged, damaged, images, labels, mask)
    inputs = {"damaged": {k: round(v, 4) for k, v in scores["damaged"].items()},
              "original": {k: round(v, 4) for k, v in scores["original"].items()}}
    epochs = args.epochs or 10
    runs = []
    for seed in args.seeds:
        rows = {}
        for name, gan_weight in (("pix2pix", 1.0), ("l1", 0.0)):
            rows[f"tinygan {name}"], _ = _tinygan_pix2pix(args, folder, seed, gan_weight, test, task)
            log(f"pix2pix {task} seed {seed} tinygan {name}: {rows[f'tinygan {name}']}")
            try:
                rows[f"pytorch {name}"] = _torch_pix2pix(args, seed, gan_weight, test, task)[0]
            except ImportError:
                rows[f"pytorch {name}"] = {"note": "torch is not installed"}
            log(f"pix2pix {task} seed {seed} pytorch {name}: {rows[f'pytorch {name}']}")
        runs.append({"seed": seed, "rows": rows})
    mean = {model: {key: round(float(np.mean([r["rows"][model][key] for r in runs])), 4)
                    for key in ("accuracy", "psnr", "l1")}
            for model in runs[0]["rows"] if "accuracy" in runs[0]["rows"][model]}
    ours = mean["tinygan pix2pix"]["accuracy"]
    checks = {f"tinygan pix2pix restored accuracy ({ours:.4f}) above the damaged digits' "
              f"({inputs['damaged']['accuracy']:.4f})": ours > inputs["damaged"]["accuracy"]}
    if "pytorch pix2pix" in mean:
        theirs = mean["pytorch pix2pix"]["accuracy"]
        checks[f"tinygan pix2pix restored accuracy within 2 points of PyTorch's ({ours:.4f} vs {theirs:.4f})"] = \
            abs(ours - theirs) <= 0.02
    damage, region = TASK_WORDS[task]
    return {"recipe": f"pix2pix defaults (U-Net G with tanh, PatchGAN D on (input, output) pairs, L1 x 100 + "
                      f"non-saturating GAN, D's loss halved, Adam 2e-4 betas 0.5/0.999, batch 64), --task {task}, "
                      f"{epochs} epochs on the embedded 5k digits with {damage}; 'l1' is the same generator with "
                      f"--gan-weight 0. Scored on the official 10k test digits with the fixed damage (seed 1234): "
                      f"L1 and PSNR over {region} (pixels on [0, 1]), shipped classifier accuracy; seeds "
                      f"{list(args.seeds)}. The PyTorch twins train the same networks, initialisation and losses on "
                      f"the same batches",
            "task": task, "epochs": epochs, "runs": runs, "mean": mean, "inputs": inputs, "checks": checks}


def superres(args, folder):
    """pix2pix-superres: the same experiment on digits downsampled to 7x7."""
    return experiment(args, folder, task="superres")


def markdown(entry):
    region = TASK_WORDS[entry.get("task", "inpaint")][1]                 # an entry without a task is inpainting
    lines = [f"| model | restored accuracy | PSNR over {region} (dB) | L1 over {region} | train s (seed 0) |",
             "|---|---|---|---|---|"]
    first = entry["runs"][0]["rows"]
    for model, m in entry["mean"].items():
        lines.append(f"| {model} | {m['accuracy']:.4f} | {m['psnr']:.2f} | {m['l1']:.4f} | "
                     f"{first[model]['train_seconds']} |")
    d, o = entry["inputs"]["damaged"], entry["inputs"]["original"]
    lines.append(f"| damaged digits (input) | {d['accuracy']:.4f} | {d['psnr']:.2f} | {d['l1']:.4f} | |")
    lines.append(f"| original digits | {o['accuracy']:.4f} | | | |")
    if len(entry["runs"]) > 1:
        lines += ["", "(means over the seeds; per seed in quality.json)"]
    return lines


def _scores(restore_fn, test, seconds):
    """Restoration scores of one trained generator: restore_fn(uint8 damaged (N, 28, 28)) -> floats on [0, 1]."""
    images, labels, damaged, mask = test
    started = time.perf_counter()
    scores = restoration_scores(restore_fn(damaged), damaged, images, labels, mask, inputs=False)
    return {"train_seconds": round(seconds, 1),
            **{key: round(value, 4) for key, value in scores["restored"].items()},
            "eval_seconds": round(time.perf_counter() - started, 1)}, scores


def _tinygan_pix2pix(args, folder, seed, gan_weight, test, task):
    run = Run(make_config("pix2pix", epochs=args.epochs or 10, seed=seed, gan_weight=gan_weight, task=task,
                          steps_per_epoch=args.steps_per_epoch),
              os.path.join(folder, f"pix2pix-{task}-{gan_weight:g}-{seed}"))
    seconds = train_until(run, run.config["epochs"])
    return _scores(lambda damaged: restore(run.nets["G"], damaged), test, seconds)


def _torch_pix2pix(args, seed, gan_weight, test, task, l1_weight=100.0):
    """tinygan's pix2pix recipe in PyTorch, on the (damaged, original) batches of tinygan's PairLoader."""
    import torch  # optional: only the PyTorch twins need it
    from torch.nn import functional as TF

    from ..twins.pix2pix import networks
    torch.manual_seed(seed)
    torch_threads()
    G, D = networks()
    opt_g = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    images, labels = load_embedded_mnist()
    loader = PairLoader(images, labels, task=task, batch_size=64, seed=seed)
    bce = TF.binary_cross_entropy_with_logits
    started = time.perf_counter()
    for epoch in range(args.epochs or 10):
        for step, (x, y) in enumerate(loader.host_batches(epoch)):
            if args.steps_per_epoch and step >= args.steps_per_epoch:
                break
            x, y = torch.from_numpy(x), torch.from_numpy(y)
            fake = G(x)
            if gan_weight:
                real_logits, fake_logits = D(x, y), D(x, fake.detach())
                d_loss = 0.5 * (bce(real_logits, torch.ones_like(real_logits))
                                + bce(fake_logits, torch.zeros_like(fake_logits)))
                opt_d.zero_grad()
                d_loss.backward()
                opt_d.step()
                D.requires_grad_(False)
                logits = D(x, fake)
                g_loss = gan_weight * bce(logits, torch.ones_like(logits)) + l1_weight * TF.l1_loss(fake, y)
            else:
                g_loss = l1_weight * TF.l1_loss(fake, y)
            opt_g.zero_grad()
            g_loss.backward()
            opt_g.step()
            D.requires_grad_(True)
    seconds = time.perf_counter() - started
    G.eval()

    def restore_digits(damaged):
        with torch.no_grad():
            x = torch.from_numpy(damaged[:, None].astype(np.float32) / np.float32(127.5) - np.float32(1))
            return ((G(x)[:, 0] + 1) * 0.5).numpy()

    return _scores(restore_digits, test, seconds)
