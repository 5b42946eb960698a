"""The MNIST classifier that judges generated digits, and its shipped weights.

    net = load_classifier()                       # eval mode, on the current device, no training needed
    probs, features = classify(images)            # images: uint8 (N, 28, 28) or floats in [0, 1]
    # probs (N, 10) float64 p(y|x), features (N, 128) float64: the penultimate layer, for the FID

The network is small and trained with tinygan itself by scripts/train_classifier.py on
the embedded 5,000 digits; tinygan/weights/README.md says how, and what accuracy it reached
on the official 10,000-image test set. Inputs are images in [0, 1] (N, 1, 28, 28).
"""
from pathlib import Path

import numpy as np

from .. import backend, nn
from .. import functional as F
from ..autograd import Tensor, no_grad

WEIGHTS = Path(__file__).resolve().parent.parent / "weights" / "classifier.npz"   # tinygan/weights/
NUM_CLASSES = 10
FEATURES = 128


class MNISTClassifier(nn.Module):
    """Conv(1, 32, 3, p1) ReLU MaxPool2 -> Conv(32, 64, 3, p1) ReLU MaxPool2
    -> Linear(3136, 128) ReLU -> Linear(128, 10).

    `features(x)` is the 128-d output of the hidden Linear+ReLU (what the Fréchet distance
    compares); `forward(x)` adds the last Linear and returns logits of p(y|x).
    """

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, padding=1)     # (N, 32, 28, 28) -> pool (N, 32, 14, 14)
        self.conv2 = nn.Conv2d(32, 64, 3, padding=1)    # (N, 64, 14, 14) -> pool (N, 64, 7, 7)
        self.fc1 = nn.Linear(64 * 7 * 7, FEATURES)      # (N, 128)
        self.fc2 = nn.Linear(FEATURES, NUM_CLASSES)     # (N, 10) logits

    def features(self, x):
        h = F.max_pool2d(self.conv1(x).relu(), 2)       # (N, 32, 14, 14)
        h = F.max_pool2d(self.conv2(h).relu(), 2)       # (N, 64, 7, 7)
        return self.fc1(h.reshape(h.shape[0], -1)).relu()  # (N, 128)

    def forward(self, x):
        return self.fc2(self.features(x))


def cross_entropy(logits, labels):
    """Mean over the batch of -log softmax(logits)[y] = logsumexp(logits) - logits[y].

    F.logsumexp subtracts the row maximum before exp (and adds it back), so exp never overflows.
    """
    xp = backend.get_array_module(logits.array)
    one_hot = Tensor((xp.asarray(labels)[:, None] == xp.arange(logits.shape[1])[None, :]).astype(logits.dtype))
    picked = (logits * one_hot).sum(axis=1)                                    # (N,): logits[y]
    return (F.logsumexp(logits, axis=1) - picked).mean()  # [formula: classifier-cross-entropy]


def to_unit_images(images, value_range=None):
    """Images as float32 (N, 1, 28, 28) in [0, 1] on the host.

    uint8 pixels are divided by 255; floats are mapped from `value_range` ((-1, 1) for a tanh
    generator, (0, 1) for a VAE's sigmoid) and clipped to [0, 1].
    """
    array = backend.to_numpy(images.array if isinstance(images, Tensor) else images)
    if array.dtype == np.uint8:
        array = array.astype(np.float32) / np.float32(255)
    else:
        low, high = value_range if value_range is not None else (0.0, 1.0)
        array = np.clip((array.astype(np.float32) - low) / (high - low), 0.0, 1.0)
    return array.reshape(len(array), 1, 28, 28).astype(np.float32)


def load_classifier(path=WEIGHTS):
    """The shipped classifier (or one saved at `path` by scripts/train_classifier.py), in eval mode."""
    net = MNISTClassifier()
    with np.load(path, allow_pickle=False) as archive:
        state = {name: archive[name] for name in archive.files}
    net.load_state_dict(state)
    net.to(backend.current_device())
    return net.eval()


def save_classifier(net, path):
    """Write the weights as float32 arrays in an .npz (no pickle)."""
    state = {name: backend.to_numpy(array).astype(np.float32) for name, array in net.state_dict().items()}
    np.savez(path, **state)


_cache = {}


def default_classifier():
    """The shipped classifier, loaded once per backend."""
    key = backend.current()
    if key not in _cache:
        _cache[key] = load_classifier()
    return _cache[key]


def classify(images, classifier=None, value_range=None, batch_size=500):
    """p(y|x) (N, 10) and penultimate features (N, 128) of `images`, both float64 NumPy arrays.

    images: uint8 (N, 28, 28), or floats in `value_range` (default (0, 1)), any of
    (N, 784), (N, 28, 28), (N, 1, 28, 28); NumPy, CuPy or Tensor.
    """
    net = classifier or default_classifier()
    net.eval()
    x = to_unit_images(images, value_range)
    probs, features = [], []
    with no_grad():
        for start in range(0, len(x), batch_size):
            batch = Tensor(backend.to_device(x[start:start + batch_size], backend.current_device()))
            h = net.features(batch)
            logits = backend.to_numpy(net.fc2(h).array).astype(np.float64)
            logits -= logits.max(axis=1, keepdims=True)
            p = np.exp(logits)
            probs.append(p / p.sum(axis=1, keepdims=True))
            features.append(backend.to_numpy(h.array).astype(np.float64))
    if not probs:
        return np.zeros((0, NUM_CLASSES)), np.zeros((0, FEATURES))
    return np.concatenate(probs), np.concatenate(features)


def accuracy(images, labels, classifier=None, value_range=None):
    """Fraction of `images` whose most probable class is `labels`."""
    probs, _ = classify(images, classifier, value_range)
    return float((probs.argmax(axis=1) == np.asarray(labels)).mean())
