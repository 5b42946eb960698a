"""rnn: the row-by-row LSTM generator's exact test NLL at 10 and 30 epochs and its sample scores, in tinygan and in
PyTorch on the same data."""
import os
import time

import numpy as np

from tinygan.data import load_embedded_mnist, load_mnist
from tinygan.evaluation.classifier import classify
from tinygan.evaluation.reference import image_scores, load_reference
from tinygan.train.config import make_config
from tinygan.train.evaluate import generate
from tinygan.train.rnn import evaluate_rnn
from tinygan.train.run import Run

from .common import floor, log, train_until


def experiment(args, folder):
    """Row-by-row LSTM generator: test NLL at 10 and 30 epochs and sample scores, tinygan and PyTorch."""
    reference = load_reference(args.test_data, args.n)
    epochs = args.epochs or 30
    checkpoints = sorted({e for e in (10, 30) if e <= epochs} | {epochs})
    runs = []
    for seed in args.seeds:
        entry = {"seed": seed, "tinygan": _tinygan_rnn(args, folder, seed, checkpoints, reference)}
        try:
            entry["torch"] = _torch_rnn(args, seed, checkpoints, reference)
        except ImportError:
            entry["torch"] = None
        runs.append(entry)
    checks = {}
    paired = [r for r in runs if r["torch"]]
    if paired:
        gap = float(np.mean([r["tinygan"][-1]["test_nll"] for r in paired])
                    - np.mean([r["torch"][-1]["test_nll"] for r in paired]))
        checks[f"tinygan's mean test NLL at epoch {epochs} within 1.5 nats of PyTorch's (gap {gap:+.2f})"] = gap <= 1.5
    return {"recipe": f"rnn: LSTM(28, 256) + Linear(256, 28) row by row, Adam 1e-3, batch 64, {epochs} epochs on the "
                      f"embedded 5k digits binarised at 0.5; test NLL (nats per image, exact) on the official 10k "
                      f"test set binarised; {args.n} samples scored against {reference.description}",
            "runs": runs, "checks": checks,
            "floor": floor(reference)}


def markdown(entry):
    lines = ["| seed | framework | epoch | test NLL | FID | classifier score | rarest class | train s |",
             "|---|---|---|---|---|---|---|---|"]
    for run in entry["runs"]:
        for framework in ("tinygan", "torch"):
            for r in run[framework] or []:
                scores = (f"{r['fid']:.2f} | {r['classifier_score']:.2f} | {r['rarest_class']:.3f}" if "fid" in r
                          else " | | ")
                lines.append(f"| {run['seed']} | {framework} | {r['epoch']} | {r['test_nll']} | {scores} | "
                             f"{r['train_seconds']} |")
    f = entry["floor"]
    lines.append(f"| | real digits | | | {f['fid']:.2f} | {f['classifier_score']:.2f} | {f['rarest_class']:.3f} | |")
    return lines


def _binary_test_set(test_data):
    """The official 10k test digits binarised (pixel = 1 where intensity >= 0.5), float32 (N, 1, 28, 28)."""
    images, _ = load_mnist("test", folder=test_data)
    return (images.reshape(-1, 1, 28, 28) >= 128).astype(np.float32)


def _scores(samples, reference):
    probs, features = classify(samples, value_range=(0, 1))
    return {key: round(value, 4) for key, value in image_scores(probs, features, reference).items()}


def _tinygan_rnn(args, folder, seed, checkpoints, reference):
    test_images, _ = load_mnist("test", folder=args.test_data)
    run = Run(make_config("rnn", epochs=checkpoints[-1], seed=seed, steps_per_epoch=args.steps_per_epoch),
              os.path.join(folder, f"rnn-{seed}"))
    rows, train_seconds = [], 0.0
    for epoch in checkpoints:
        train_seconds += train_until(run, epoch)
        row = {"epoch": epoch, "test_nll": round(evaluate_rnn(run, test_images)["model"]["test_nll"], 2),
               "train_seconds": round(train_seconds, 1)}
        if epoch == checkpoints[-1]:
            row.update(_scores(generate(run, args.n, seed)[0], reference))
        rows.append(row)
        log(f"rnn tinygan seed {seed} epoch {epoch}: {row}")
    return rows


def _torch_rnn(args, seed, checkpoints, reference):
    """The same recipe in PyTorch: the twin RowLSTM(28, 256), Adam 1e-3, batch 64, the embedded 5k digits binarised
    and reshuffled each epoch, PyTorch's default initialisation, no clipping."""
    import torch  # optional: only the PyTorch twin needs it

    from ..twins.rnn import RowLSTM
    torch.manual_seed(seed)
    model = RowLSTM(28, 256)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    train = torch.from_numpy((load_embedded_mnist()[0] >= 128).astype(np.float32))          # (5000, 28, 28)
    test = torch.from_numpy(_binary_test_set(args.test_data).reshape(-1, 28, 28))

    def sample(n):
        generator = torch.Generator().manual_seed(seed)
        row, state, rows = torch.zeros(n, 1, 28), None, []
        for _ in range(28):
            h, state = model.lstm(row, state)
            row = torch.bernoulli(torch.sigmoid(model.out(h)), generator=generator)
            rows.append(row)
        return torch.cat(rows, dim=1).numpy()

    rows, train_seconds, epoch = [], 0.0, 0
    for checkpoint in checkpoints:
        started = time.perf_counter()
        while epoch < checkpoint:
            order = torch.from_numpy(np.random.default_rng([seed, epoch]).permutation(len(train)))
            batches = len(train) // 64
            for b in range(min(batches, args.steps_per_epoch or batches)):
                loss = model.nll(train[order[b * 64:(b + 1) * 64], None])        # (64, 1, 28, 28)
                opt.zero_grad()
                loss.backward()
                opt.step()
            epoch += 1
        train_seconds += time.perf_counter() - started
        with torch.no_grad():
            test_nll = sum(model.nll(test[i:i + 500, None]).item() * len(test[i:i + 500])
                           for i in range(0, len(test), 500))
            row = {"epoch": checkpoint, "test_nll": round(test_nll / len(test), 2),
                   "train_seconds": round(train_seconds, 1)}
            if checkpoint == checkpoints[-1]:
                row.update(_scores(np.concatenate([sample(min(500, args.n - i)) for i in range(0, args.n, 500)]),
                                   reference))
        rows.append(row)
        log(f"rnn torch seed {seed} epoch {checkpoint}: {row}")
    return rows
