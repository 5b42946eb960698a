"""A recurrent generator of binarised digits that writes one row at a time.

The image is a sequence of 28 rows of 28 pixels. An LSTM reads the rows already written and a linear layer
gives the Bernoulli logits of the next row:

    input at step t:  row t-1 of the image (row -1 is zeros)          (N, 28)
    h_t = LSTM(row t-1, state)                                        (N, 256)
    logits of row t = W h_t + b                                       (N, 28)

so p(x) = prod_t prod_j Bernoulli(x_tj | sigmoid(logit_tj)), and the loss, the binary cross-entropy summed
over the 784 pixels and averaged over the batch, is the negative log-likelihood in nats per image.
Training feeds the true rows in (teacher forcing); sampling feeds back the rows it has drawn.
"""
import math

from .. import backend, nn
from .. import functional as F
from ..autograd import Tensor, no_grad
from ..functional._special import erfc

ROWS, COLUMNS = 28, 28


def binarize(images):
    """Pixel = 1 where its intensity (in [0, 1]) is >= 0.5, else 0: the binarised digits of the NLL literature."""
    return Tensor((images.array >= 0.5).astype(images.dtype))


def normal_cdf(z):
    """Phi(z) = erfc(-z / sqrt(2)) / 2 of a plain array: turns N(0, 1) noise into U(0, 1) noise."""
    return 0.5 * erfc(-z / math.sqrt(2))


class RowLSTM(nn.Module):
    """LSTM(28, hidden, batch_first) + Linear(hidden, 28): the logits of each row from the rows above it."""

    def __init__(self, hidden=256):
        super().__init__()
        self.lstm = nn.LSTM(COLUMNS, hidden, batch_first=True)
        self.out = nn.Linear(hidden, COLUMNS)

    def forward(self, images):
        """Logits (N, 28, 28) of every row, each from the true rows above it (teacher forcing)."""
        N = images.shape[0]
        rows = images.reshape(N, ROWS, COLUMNS)                               # (N, 28, 28)
        start = Tensor(backend.get_array_module(rows.array).zeros((N, 1, COLUMNS), dtype=rows.dtype))
        inputs = F.concat([start, rows[:, :-1]], axis=1)                      # row t-1 at step t
        h, _ = self.lstm(inputs)                                              # (N, 28, hidden)
        return self.out(h)                                                    # (N, 28, 28)

    def nll(self, images):
        """-log p(x) in nats per image, averaged over the batch, for binary images (N, 1, 28, 28)."""
        logits = self(images)
        targets = images.reshape(logits.shape)
        return F.binary_cross_entropy_with_logits(logits, targets, reduction="sum") / images.shape[0]

    def sample(self, noise):
        """Images (N, 1, 28, 28) drawn row by row; noise (N, 784) ~ N(0, 1) decides every pixel.

        Pixel j of row t is 1 where Phi(noise) < sigmoid(logit): a Bernoulli draw whose randomness is the
        given noise, so the same noise draws the same images (the fixed grid of each epoch).
        """
        N = noise.shape[0]
        if noise.ndim != 2 or noise.shape[1] != ROWS * COLUMNS:
            raise ValueError(f"RowLSTM.sample: noise must have shape (N, {ROWS * COLUMNS}), one value per pixel; "
                             f"got {tuple(noise.shape)} (the rnn model needs latent_dim {ROWS * COLUMNS})")
        uniforms = normal_cdf(noise.array).reshape(N, ROWS, COLUMNS)
        row = Tensor(backend.get_array_module(noise.array).zeros((N, 1, COLUMNS), dtype=noise.dtype))
        state, rows = None, []
        with no_grad():
            for t in range(ROWS):
                h, state = self.lstm(row, state)                              # one step: (N, 1, hidden)
                p = F.sigmoid(self.out(h)).array                               # (N, 1, 28)
                row = Tensor((uniforms[:, t:t + 1] < p).astype(noise.dtype))  # the drawn row, fed back in
                rows.append(row)
        return F.concat(rows, axis=1).reshape(N, 1, ROWS, COLUMNS)
