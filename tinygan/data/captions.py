"""Captioned colour digits: one digit in one of 6 colours on one of 3 backgrounds, and its 4-word caption.

    pixel = d * foreground + (1 - d) * background,   d = digit / 255,   float32 (3, 28, 28) on [0, 1]
    caption = "<foreground> <digit word> on <background>",   e.g. "red seven on white"

A caption is the index triple (foreground, digit, background) in (0..5, 0..9, 0..2): 6 x 10 x 3 = 180 captions.

Held out, never trained on: for each digit k the two triples

    (k mod 6, k, k mod 3)   and   ((k + 3) mod 6, k, (k + 1) mod 3)

20 of the 180 captions. Every word still occurs in training (each digit keeps 16 of its 18 colour pairs), so a
model that draws a held-out caption well has combined words it only saw apart.

Words and tokens. The 20 words are numbered in the order of VOCABULARY:

    0-5    the foregrounds   red green blue yellow magenta cyan
    6-15   the digit words   zero one ... nine          (digit k is token 6 + k)
    16     on
    17-19  the backgrounds   black grey white
    20     BOS, the token that begins a prior's sequence (not a word; TEXT_TOKENS = 21 text tokens in all)

A caption's tokens are [foreground, 6 + digit, 16, 17 + background]. The prior reads [BOS, 4 word tokens,
49 image tokens]; a prior with one table for both numbers image code c as TEXT_TOKENS + c.

The draws, exactly (rng a NumPy Generator):

    train, epoch e:  rng = default_rng(seed + e)
                     pair  = rng.integers(0, 16, size=5000)   # digit i gets TRAIN_PAIRS[label_i][pair_i]
                     order = rng.permutation(5000)            # the order of the epoch's batches
                     over the embedded 5,000 digits; TRAIN_PAIRS[k] lists digit k's 16 (foreground, background)
                     pairs in the order (0, 0), (0, 1), ..., (5, 2) with its two held-out pairs left out
    test:            rng = default_rng(1234)
                     pair = rng.integers(0, 18, size=10000)   # foreground pair // 3, background pair % 3
                     over the official 10,000 MNIST test digits, in the order of the file, all 18 pairs
"""
import math
from dataclasses import dataclass

import numpy as np

from .. import backend
from ..autograd import Tensor
from .idx import DataError
from .loader import SeededEpochs
from .mnist import load_embedded_mnist, load_mnist

FOREGROUNDS = {
    "red": (1.0, 0.15, 0.15),
    "green": (0.15, 0.9, 0.15),
    "blue": (0.2, 0.35, 1.0),
    "yellow": (1.0, 0.9, 0.1),
    "magenta": (1.0, 0.2, 1.0),
    "cyan": (0.1, 0.9, 1.0),
}
BACKGROUNDS = {
    "black": (0.0, 0.0, 0.0),
    "grey": (0.5, 0.5, 0.5),
    "white": (1.0, 1.0, 1.0),
}
DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
FOREGROUND_NAMES = tuple(FOREGROUNDS)
BACKGROUND_NAMES = tuple(BACKGROUNDS)
VOCABULARY = FOREGROUND_NAMES + DIGIT_WORDS + ("on",) + BACKGROUND_NAMES    # 20 words: token = position here
TOKEN = {word: i for i, word in enumerate(VOCABULARY)}
DIGIT_TOKEN = TOKEN["zero"]            # digit k is token DIGIT_TOKEN + k
ON_TOKEN = TOKEN["on"]
BACKGROUND_TOKEN = TOKEN["black"]      # background j is token BACKGROUND_TOKEN + j
BOS = len(VOCABULARY)                  # 20: begins a prior's sequence
TEXT_TOKENS = BOS + 1                  # 21: the 20 words and BOS
CAPTION_LENGTH = 4

FOREGROUND_RGB = np.array(list(FOREGROUNDS.values()), dtype=np.float32)     # (6, 3)
BACKGROUND_RGB = np.array(list(BACKGROUNDS.values()), dtype=np.float32)     # (3, 3)

ALL_TRIPLES = tuple((f, k, b) for f in range(6) for k in range(10) for b in range(3))
HELD_OUT = frozenset(triple for k in range(10) for triple in ((k % 6, k, k % 3), ((k + 3) % 6, k, (k + 1) % 3)))
TRAIN_TRIPLES = tuple(t for t in ALL_TRIPLES if t not in HELD_OUT)
HELD_OUT_TRIPLES = tuple(t for t in ALL_TRIPLES if t in HELD_OUT)
# TRAIN_PAIRS[k, i] = the (foreground, background) of digit k's i-th training pair: (10, 16, 2)
TRAIN_PAIRS = np.array([[(f, b) for f in range(6) for b in range(3) if (f, k, b) not in HELD_OUT]
                        for k in range(10)], dtype=np.int64)

TEST_SEED = 1234


# -- captions and tokens -----------------------------------------------------------------------------------

def caption_of(foreground, digit, background):
    """The caption of an index triple: caption_of(0, 7, 2) = 'red seven on white'."""
    return f"{FOREGROUND_NAMES[foreground]} {DIGIT_WORDS[digit]} on {BACKGROUND_NAMES[background]}"


def parse(caption):
    """The index triple (foreground, digit, background) of a caption: parse('red seven on white') = (0, 7, 2)."""
    words = caption.split()
    for word in words:
        if word not in TOKEN:
            raise ValueError(f"parse: unknown word {word!r} in caption {caption!r}; the vocabulary is "
                             f"{', '.join(VOCABULARY)}")
    slots = (("foreground", FOREGROUND_NAMES), ("digit word", DIGIT_WORDS), ("'on'", ("on",)),
             ("background", BACKGROUND_NAMES))
    if len(words) != CAPTION_LENGTH or any(w not in allowed for w, (_, allowed) in zip(words, slots)):
        raise ValueError(f"parse: {caption!r} is not a caption; expected '<foreground> <digit word> on "
                         f"<background>', foreground one of {', '.join(FOREGROUND_NAMES)} and background one of "
                         f"{', '.join(BACKGROUND_NAMES)}, e.g. 'red seven on white'")
    return FOREGROUND_NAMES.index(words[0]), DIGIT_WORDS.index(words[1]), BACKGROUND_NAMES.index(words[3])


def tokens_of(triples):
    """Index triples (..., 3) -> word tokens (..., 4): [foreground, 6 + digit, 16, 17 + background], int64."""
    triples = np.asarray(triples, dtype=np.int64)
    foreground, digit, background = triples[..., 0], triples[..., 1], triples[..., 2]
    return np.stack([foreground, DIGIT_TOKEN + digit, np.full_like(digit, ON_TOKEN), BACKGROUND_TOKEN + background],
                    axis=-1)


def tokenize(caption):
    """A caption's 4 word tokens: tokenize('red seven on white') = [0, 13, 16, 19]."""
    return [int(t) for t in tokens_of(parse(caption))]


def caption_of_tokens(tokens):
    """The caption of 4 word tokens (the inverse of tokenize); a BOS in front is skipped."""
    words = [int(t) for t in tokens]
    if len(words) == CAPTION_LENGTH + 1 and words[0] == BOS:
        words = words[1:]
    unknown = [t for t in words if not 0 <= t < len(VOCABULARY)]
    if unknown:
        raise ValueError(f"caption_of_tokens: {unknown[0]} is not a word token (words are 0..{len(VOCABULARY) - 1})")
    caption = " ".join(VOCABULARY[t] for t in words)
    parse(caption)  # refuses tokens that are words but not a caption
    return caption


def is_held_out(foreground, digit, background):
    """Whether the caption (foreground, digit, background) is one of the 20 never trained on."""
    return (int(foreground), int(digit), int(background)) in HELD_OUT


# -- images ------------------------------------------------------------------------------------------------

def colour_digits(digits, foreground, background):
    """uint8 digits (N, 28, 28) and colour indices (N,), (N,) -> float32 (N, 3, 28, 28) on [0, 1]:

        pixel = d * FOREGROUND_RGB[foreground] + (1 - d) * BACKGROUND_RGB[background],   d = digit / 255
    """
    d = np.asarray(digits, dtype=np.float32)[:, None] / np.float32(255)     # (N, 1, 28, 28)
    fg = FOREGROUND_RGB[np.asarray(foreground)][:, :, None, None]           # (N, 3, 1, 1)
    bg = BACKGROUND_RGB[np.asarray(background)][:, :, None, None]
    return d * fg + (1 - d) * bg


def _check_digits(where, digits, labels):
    digits, labels = np.asarray(digits), np.asarray(labels)
    if digits.dtype != np.uint8 or digits.ndim != 3:
        raise DataError(f"{where}: expected digits uint8 (N, H, W), got {digits.dtype} {digits.shape}")
    if labels.shape != (len(digits),) or labels.dtype.kind not in "iu" or (len(labels) and labels.max() > 9):
        raise DataError(f"{where}: expected digit labels 0..9 of shape ({len(digits)},), got {labels.dtype} "
                        f"{labels.shape}")
    return digits, labels


@dataclass
class CaptionedDigits:
    """Digits and their captions: digits uint8 (N, 28, 28), triples int64 (N, 3) of (foreground, digit, background).

    The images are coloured when asked for, so a set costs its uint8 digits only.
    """

    digits: np.ndarray
    triples: np.ndarray

    def __len__(self):
        return len(self.digits)

    def images(self, indices=slice(None)):
        """float32 (n, 3, 28, 28) on [0, 1], on the host."""
        triples = self.triples[indices]
        return colour_digits(self.digits[indices], triples[:, 0], triples[:, 2])

    def tokens(self, indices=slice(None)):
        """Word tokens int64 (n, 4)."""
        return tokens_of(self.triples[indices])

    def captions(self, indices=slice(None)):
        return [caption_of(*triple) for triple in self.triples[indices]]

    def batch(self, indices):
        """(images float32 (n, 3, 28, 28), word tokens int64 (n, 4)) as Tensors on the current device."""
        device = backend.current_device()
        return (Tensor(backend.to_device(self.images(indices), device)),
                Tensor(backend.to_device(self.tokens(indices), device)))

    def batches(self, batch_size):
        """All of the set in its own order, as `batch`es of `batch_size` (the last one holds the rest)."""
        for start in range(0, len(self), batch_size):
            yield self.batch(np.arange(start, min(start + batch_size, len(self))))


def train_draw(labels, seed, epoch):
    """Epoch `epoch`'s (triples int64 (N, 3), order (N,)) for digits of class `labels`, with default_rng(seed + epoch):
    each digit gets one of its digit's 16 training pairs, uniformly."""
    labels = np.asarray(labels, dtype=np.int64)
    rng = np.random.default_rng(seed + epoch)
    pairs = TRAIN_PAIRS[labels, rng.integers(0, len(TRAIN_PAIRS[0]), size=len(labels))]   # (N, 2)
    order = rng.permutation(len(labels))
    return np.stack([pairs[:, 0], labels, pairs[:, 1]], axis=1), order


def captioned_train(seed=0, epoch=0):
    """The embedded 5,000 digits captioned as in training epoch `epoch` (in the embedded order; see train_draw)."""
    digits, labels = load_embedded_mnist()
    triples, _ = train_draw(labels, seed, epoch)
    return CaptionedDigits(digits, triples)


def captioned_test(folder=None, download=False):
    """The official 10,000 MNIST test digits in `folder` (load_mnist's default: the cache), each coloured with one
    of all 18 pairs drawn by default_rng(1234); held-out captions included. DataError when the files are absent."""
    digits, labels = load_mnist("test", folder=folder, download=download)
    pair = np.random.default_rng(TEST_SEED).integers(0, 18, size=len(labels))
    return CaptionedDigits(digits, np.stack([pair // 3, labels.astype(np.int64), pair % 3], axis=1))


class CaptionLoader(SeededEpochs):
    """Training batches of captioned digits, (images float32 (B, 3, 28, 28) on [0, 1], word tokens int64 (B, 4)).

    Epoch e colours and orders the digits with default_rng(seed + e) (see train_draw), so a run resumed with
    `set_epoch(e)` sees exactly the batches the uninterrupted run would have. The interface of ImageLoader
    (SeededEpochs: len, set_epoch, state_dict), and iteration.

    digits, labels -- uint8 digits (N, 28, 28) and their classes; default: the embedded 5,000
    """

    def __init__(self, batch_size=64, seed=0, drop_last=False, digits=None, labels=None):
        if int(batch_size) < 1:
            raise ValueError(f"CaptionLoader: batch_size must be at least 1, got {batch_size}")
        if (digits is None) != (labels is None):
            raise ValueError("CaptionLoader: give both digits and labels, or neither (the embedded 5,000)")
        if digits is None:
            digits, labels = load_embedded_mnist()
        self.digits, self.labels = _check_digits("CaptionLoader", digits, labels)
        self.batch_size, self.seed, self.drop_last = int(batch_size), int(seed), bool(drop_last)
        self.epoch = 0  # the epoch the next pass will use

    def _items(self):
        return len(self.digits)

    def captioned(self, epoch):
        """(CaptionedDigits of epoch `epoch`, in the digits' own order; the order its batches visit them)."""
        triples, order = train_draw(self.labels, self.seed, int(epoch))
        return CaptionedDigits(self.digits, triples), order

    def __iter__(self):
        """One pass over the data; the epoch counter advances as the pass starts."""
        captioned, order = self.captioned(self.epoch)
        self.epoch += 1
        return (captioned.batch(order[start:start + self.batch_size])
                for start in range(0, len(self) * self.batch_size, self.batch_size))
