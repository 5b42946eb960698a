"""unet: the U-Net segmenting scenes of digits, in tinygan and in PyTorch on the same scenes: mIoU (11 classes and
the 10 digits) and pixel accuracy on the 2,000 test scenes after 10 epochs, per seed and averaged."""
import os
import time

import numpy as np

from tinygan.data.scenes import SceneLoader, official_test_scenes
from tinygan.evaluation.segmentation import confusion_matrix, evaluate_segmentation, segmentation_scores
from tinygan.train.config import make_config
from tinygan.train.run import Run

from .common import log, torch_threads, train_until

MIOU_GAP = 0.03   # the goal: tinygan's mean mIoU (11 classes) within 0.03 of PyTorch's


def experiment(args, folder):
    """U-Net on scenes of digits: mIoU (11 classes, 10 digits) and pixel accuracy on the 2,000 test scenes after
    10 epochs, tinygan and PyTorch, per seed and averaged."""
    epochs = args.epochs or 10
    test = official_test_scenes(args.test_data)
    runs = []
    for seed in args.seeds:
        entry = {"seed": seed, "tinygan": _tinygan_unet(args, folder, seed, epochs, test)}
        log(f"unet tinygan seed {seed}: {entry['tinygan']}")
        try:
            entry["torch"] = _torch_unet(args, seed, epochs, test)
            log(f"unet torch seed {seed}: {entry['torch']}")
        except ImportError:
            entry["torch"] = None
        runs.append(entry)
    return unet_entry(runs, epochs)


def unet_entry(runs, epochs):
    """quality.json's unet entry from the runs of each seed: their means and the check of the goal (also used to
    join seeds trained in separate processes)."""
    means = {}
    for framework in ("tinygan", "torch"):
        rows = [r[framework] for r in runs if r[framework]]
        if rows:
            means[framework] = {key: round(float(np.mean([row[key] for row in rows])), 4)
                                for key in ("miou", "miou_digits", "pixel_accuracy")}
    checks = {}
    if "torch" in means:
        gap = means["tinygan"]["miou"] - means["torch"]["miou"]
        checks[f"tinygan's mean mIoU (11 classes) within {MIOU_GAP} of PyTorch's (gap {gap:+.4f})"] = \
            abs(gap) <= MIOU_GAP
    return {"recipe": f"unet (widths 16/32/64, BN, skips) on scenes of digits: pixelwise cross-entropy, Adam 1e-3, "
                      f"batch 32, {epochs} epochs of 5,000 fresh scenes from the embedded digits "
                      f"(default_rng(seed + epoch)); scored in eval mode on 2,000 test scenes from the official 10k "
                      f"test digits (default_rng(1234)); PyTorch: the same layers with its default initialisation, "
                      f"the same scenes in the same batches",
            "epochs": epochs, "runs": runs, "means": means, "checks": checks}


def markdown(entry):
    lines = ["| seed | framework | mIoU (11) | mIoU (10 digits) | pixel accuracy | train s |", "|---|---|---|---|---|---|"]
    for run in entry["runs"]:
        for framework in ("tinygan", "torch"):
            r = run[framework]
            if r:
                lines.append(f"| {run['seed']} | {framework} | {r['miou']:.4f} | {r['miou_digits']:.4f} | "
                             f"{r['pixel_accuracy']:.4f} | {r['train_seconds']} |")
    for framework, m in entry["means"].items():
        lines.append(f"| mean | {framework} | {m['miou']:.4f} | {m['miou_digits']:.4f} | {m['pixel_accuracy']:.4f} | |")
    return lines


def _row(scores, seconds):
    """The figures of one trained U-Net on the test scenes, rounded for the tables."""
    return {"miou": round(scores["miou"], 4), "miou_digits": round(scores["miou_digits"], 4),
            "pixel_accuracy": round(scores["pixel_accuracy"], 4),
            "iou": [None if v is None else round(v, 4) for v in scores["iou"]], "train_seconds": round(seconds, 1)}


def _tinygan_unet(args, folder, seed, epochs, test):
    run = Run(make_config("unet", epochs=epochs, seed=seed, steps_per_epoch=args.steps_per_epoch),
              os.path.join(folder, f"unet-{seed}"))
    seconds = train_until(run, epochs)
    scores, _ = evaluate_segmentation(run.nets["unet"], *test)
    return _row(scores, seconds)


def _torch_unet(args, seed, epochs, test):
    """The recipe in PyTorch: the same scenes in the same batches (tinygan's SceneLoader draws them), Adam 1e-3,
    batch 32, pixelwise cross-entropy; evaluated in eval mode on the same test scenes with the same scores."""
    import torch  # optional: only the PyTorch twin needs it

    from ..twins.unet import UNet
    torch.manual_seed(seed)
    torch_threads()
    model = UNet()        # PyTorch's default initialisation, from torch.manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loader = SceneLoader(batch_size=32, seed=seed)
    started = time.perf_counter()
    model.train()
    for epoch in range(epochs):
        scenes, label_maps = loader.scenes(epoch)
        for step, start in enumerate(range(0, len(scenes), 32)):
            if args.steps_per_epoch and step >= args.steps_per_epoch:
                break
            x = torch.from_numpy(scenes[start:start + 32, None].astype(np.float32) / np.float32(255))
            y = torch.from_numpy(label_maps[start:start + 32].astype(np.int64))
            loss = torch.nn.functional.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
    seconds = time.perf_counter() - started
    model.eval()
    held_out, test_maps = test
    with torch.no_grad():
        predicted = np.concatenate([
            model(torch.from_numpy(held_out[i:i + 100, None].astype(np.float32) / np.float32(255)))
            .argmax(dim=1).numpy() for i in range(0, len(held_out), 100)])
    return _row(segmentation_scores(confusion_matrix(test_maps, predicted)), seconds)
