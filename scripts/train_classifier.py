"""Train the MNIST classifier that tinygan's metrics use, and write its weights.

    python scripts/train_classifier.py                     # writes tinygan/weights/classifier.npz
    python scripts/train_classifier.py --test-data FOLDER    # and its accuracy on the official t10k files in FOLDER

Trained with tinygan itself, on the NumPy backend, on the 5,000 embedded digits: Adam,
cross-entropy, random shifts of up to 2 pixels as augmentation, learning rate halved over the
last epochs. Everything is seeded, so a rerun gives the same weights on the same machine.
"""
import argparse
import json
import time
from pathlib import Path

import numpy as np

from tinygan import backend, optim
from tinygan.autograd import Tensor
from tinygan.evaluation.classifier import WEIGHTS, MNISTClassifier, accuracy, cross_entropy, save_classifier
from tinygan.data import load_embedded_mnist, load_mnist



def random_shift(images, rng, max_shift=2):
    """Shift each (1, 28, 28) image by up to max_shift pixels in x and y, filling with 0 (background)."""
    n = len(images)
    padded = np.pad(images, ((0, 0), (0, 0), (max_shift, max_shift), (max_shift, max_shift)))
    dy, dx = rng.integers(0, 2 * max_shift + 1, size=(2, n))
    rows = dy[:, None] + np.arange(28)[None, :]                       # (n, 28)
    cols = dx[:, None] + np.arange(28)[None, :]                       # (n, 28)
    return padded[np.arange(n)[:, None, None], 0, rows[:, :, None], cols[:, None, :]][:, None]


def train(epochs, batch_size, lr, seed, shift, log=print):
    backend.use("numpy")
    backend.manual_seed(seed)
    images, labels = load_embedded_mnist()
    x_all = images.astype(np.float32)[:, None] / np.float32(255)      # (5000, 1, 28, 28) in [0, 1]
    y_all = labels.astype(np.int64)
    net = MNISTClassifier()
    opt = optim.Adam(net.parameters(), lr=lr)
    rng = np.random.default_rng(seed)
    for epoch in range(epochs):
        net.train()
        # full lr for the first two thirds of the epochs, then halved every epoch
        opt.param_groups[0]["lr"] = lr * 0.5 ** max(0, epoch - (2 * epochs) // 3 + 1)
        order = rng.permutation(len(x_all))
        started, total, count = time.perf_counter(), 0.0, 0
        for start in range(0, len(order), batch_size):
            index = order[start:start + batch_size]
            x = random_shift(x_all[index], rng, shift) if shift else x_all[index]
            loss = cross_entropy(net(Tensor(x)), y_all[index])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total, count = total + loss.item() * len(index), count + len(index)
        log(f"epoch {epoch + 1}/{epochs}: loss {total / count:.4f}, lr {opt.param_groups[0]['lr']:.2e}, "
            f"{time.perf_counter() - started:.1f} s")
    return net.eval()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--shift", type=int, default=2, help="augmentation: random shifts of up to N pixels")
    parser.add_argument("--out", default=str(WEIGHTS))
    parser.add_argument("--test-data", metavar="FOLDER",
                        help="folder with the official t10k files: also report the accuracy on them")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    net = train(args.epochs, args.batch_size, args.lr, args.seed, args.shift)
    seconds = time.perf_counter() - started
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    save_classifier(net, args.out)
    report = {"epochs": args.epochs, "batch_size": args.batch_size, "lr": args.lr, "seed": args.seed,
              "shift": args.shift, "train_seconds": round(seconds, 1),
              "embedded_accuracy": accuracy(*load_embedded_mnist(), classifier=net)}
    if args.test_data:
        report["test_accuracy"] = accuracy(*load_mnist("test", folder=args.test_data), classifier=net)
    print(json.dumps(report, indent=2))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
