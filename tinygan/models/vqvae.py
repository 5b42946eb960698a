"""The VQ-VAE (van den Oord et al., 2017, "Neural Discrete Representation Learning") with the moving-average
codebook of VQ-VAE-2 (Razavi et al., 2019): an autoencoder whose latent grid holds one of K learned codes at each
position, so an image becomes 7 x 7 = 49 tokens that a prior (DALL-E's transformer) can learn to write.

    encoder   x (N, 3, 28, 28) -> z_e (N, D, 7, 7)
    quantiser each position's z_e -> its nearest code e_k; z_q = z_e + sg[e - z_e] (straight-through)
    decoder   z_q -> x_hat (N, 3, 28, 28) on [0, 1]
    loss      MSE(x_hat, x) + beta ||z_e - sg[e]||^2          (each term a mean; beta = 0.25)

How the codes learn (`codebook=`):
    'ema'   the VQ-VAE-2 rule: each code moves to the running mean of the encoder outputs that chose it, updated
            in `forward` during training (as BatchNorm's running statistics are); the codebook is a buffer.
    'loss'  the original paper's rule: the codebook is a Parameter, trained by the optimizer with the extra
            term ||sg[z_e] - e||^2 in the loss.

A training loop, in either case:

    model.init_codebook(model.encode(first_batch), rng)      # once, before the first step
    out = model(x); loss, terms = model.loss(x, out); loss.backward(); optimizer.step()
    model.restart_dead_codes(rng)                             # at the end of each epoch

The maths of the quantiser is in tinygan/functional/quantize.py.
"""
from typing import NamedTuple

import numpy as np

from .. import backend, nn
from ..autograd import Tensor, no_grad
from ..functional import embedding, mse_loss
from ..functional.quantize import (code_counts, codebook_loss, commitment_loss, ema_update, nearest_code, perplexity,
                                   straight_through)

CODEBOOK_UPDATES = ("ema", "loss")


class VQOutput(NamedTuple):
    """What the VQ-VAE computes for a batch."""

    reconstruction: Tensor    # x_hat (N, C, H, W) on [0, 1]
    z_e: Tensor               # the encoder's output (N, D, h, w)
    z_q: Tensor               # the decoder's input: the codes, with the straight-through gradient to z_e
    codes: Tensor             # e: the chosen codes (N, D, h, w); in 'loss' mode their gradient reaches the codebook
    indices: Tensor           # k: the chosen codes' indices (N, h, w), int64


class VQVAE(nn.Module):
    """A VQ-VAE for 28x28 images (any side divisible by 4): K codes of D numbers on a (side/4)^2 grid.

    channels        -- image channels (3: colour)
    num_codes       -- K, the size of the codebook
    code_dim        -- D, the numbers in a code (the encoder's output channels)
    hidden, width   -- the convolutions' channels: 3 -> width -> hidden -> D, and back D -> hidden -> width -> 3
    codebook        -- 'ema' (moving averages, VQ-VAE-2) or 'loss' (a Parameter trained by the codebook loss)
    beta            -- the weight of the commitment term
    decay, eps      -- the moving averages' decay and Laplace smoothing
    """

    def __init__(self, channels=3, num_codes=128, code_dim=32, hidden=128, width=64, codebook="ema", beta=0.25,
                 decay=0.99, eps=1e-5):
        super().__init__()
        if codebook not in CODEBOOK_UPDATES:
            raise ValueError(f"VQVAE: codebook must be one of {CODEBOOK_UPDATES}, got {codebook!r}")
        self.channels, self.num_codes, self.code_dim = int(channels), int(num_codes), int(code_dim)
        self.codebook_update, self.beta, self.decay, self.eps = codebook, float(beta), float(decay), float(eps)
        self.encoder = nn.Sequential(
            nn.Conv2d(channels, width, 4, stride=2, padding=1),              # (N, 64, 14, 14)
            nn.ReLU(),
            nn.Conv2d(width, hidden, 4, stride=2, padding=1),                # (N, 128, 7, 7)
            nn.ReLU(),
            nn.Conv2d(hidden, code_dim, 1),                                  # (N, 32, 7, 7): z_e
        )
        self.decoder = nn.Sequential(
            nn.Conv2d(code_dim, hidden, 3, padding=1),                       # (N, 128, 7, 7)
            nn.ReLU(),
            nn.ConvTranspose2d(hidden, width, 4, stride=2, padding=1),       # (N, 64, 14, 14)
            nn.ReLU(),
            nn.ConvTranspose2d(width, channels, 4, stride=2, padding=1),     # (N, 3, 28, 28)
            nn.Sigmoid(),
        )
        xp, dtype = backend.xp(), backend.get_default_dtype()
        # U(-1/K, 1/K) until init_codebook puts the codes among the encoder's outputs
        codes = nn.init.uniform_(xp.zeros((num_codes, code_dim), dtype=dtype), -1 / num_codes, 1 / num_codes)
        if codebook == "loss":
            self.codebook = nn.Parameter(codes)
        else:
            self.register_buffer("codebook", codes)
            # Each code starts as if one output equal to it had chosen it: m_k / N_k = e_k, and an unused code
            # stays where it is instead of being divided by a size near 0.
            self.register_buffer("cluster_size", xp.ones(num_codes, dtype=dtype))
            self.register_buffer("code_sum", codes.copy())
        self.register_buffer("epoch_counts", xp.zeros(num_codes, dtype="int64"))   # n_k summed over this epoch
        self.register_buffer("last_z_e", None, persistent=False)                   # (M, D) of the last training batch

    def extra_repr(self):
        return (f"num_codes={self.num_codes}, code_dim={self.code_dim}, codebook={self.codebook_update!r}, "
                f"beta={self.beta}" + (f", decay={self.decay}" if self.codebook_update == "ema" else ""))

    # -- the three parts ---------------------------------------------------------------------------------
    def encode(self, x):
        """Images (N, C, H, W) -> z_e (N, D, H/4, W/4)."""
        shape = tuple(x.shape)
        if len(shape) != 4 or shape[1] != self.channels or shape[2] % 4 or shape[3] % 4:
            raise ValueError(f"VQVAE.encode: expected images (N, {self.channels}, H, W) with H and W divisible by 4 "
                             f"(e.g. (N, {self.channels}, 28, 28)), got shape {shape}")
        return self.encoder(x)

    def quantize(self, z_e):
        """z_e (N, D, h, w) -> (z_q, codes, indices): each position's nearest code, with the straight-through
        gradient. In training, also counts the codes chosen and, in 'ema' mode, updates the codebook."""
        N, D, h, w = self._check_latent("VQVAE.quantize", z_e)
        flat = z_e.permute(0, 2, 3, 1).reshape(-1, D)                       # (M, D), M = N h w
        indices = nearest_code(flat.array, self.codebook.array)             # (M,)
        codes = embedding(Tensor(indices), self.codebook)                    # (M, D)
        if self.training:
            self._track(flat.array, indices)
        codes = codes.reshape(N, h, w, D).permute(0, 3, 1, 2)               # (N, D, h, w)
        return straight_through(z_e, codes), codes, Tensor(indices.reshape(N, h, w))

    def decode(self, z_q):
        """z_q (N, D, h, w) -> images (N, C, 4h, 4w) on [0, 1]."""
        self._check_latent("VQVAE.decode", z_q)
        return self.decoder(z_q)

    def forward(self, x):
        """The whole pass: a VQOutput of x (N, C, H, W)."""
        z_e = self.encode(x)
        z_q, codes, indices = self.quantize(z_e)
        return VQOutput(self.decode(z_q), z_e, z_q, codes, indices)

    def loss(self, x, output):
        """(loss, {"reconstruction", "commitment", "codebook"}) of the VQOutput of x:

            MSE(x_hat, x) + beta ||z_e - sg[e]||^2          (+ ||sg[z_e] - e||^2 in 'loss' mode)

        each term a mean over its numbers. The codebook term is None in 'ema' mode, where it is not trained by
        the loss.
        """
        reconstruction = mse_loss(output.reconstruction, x)
        commitment = commitment_loss(output.z_e, output.codes)
        loss = reconstruction + self.beta * commitment  # [formula: vqvae-loss]
        codebook = None
        if self.codebook_update == "loss":
            codebook = codebook_loss(output.z_e, output.codes)
            loss = loss + codebook
        return loss, {"reconstruction": reconstruction, "commitment": commitment, "codebook": codebook}

    # -- tokens for a prior ------------------------------------------------------------------------------
    def encode_to_indices(self, x):
        """Images (N, C, H, W) -> int64 tokens (N, h w): the code index of each position, row by row."""
        with no_grad():
            z_e = self.encode(x)
        N, D, h, w = z_e.shape
        flat = z_e.array.transpose(0, 2, 3, 1).reshape(-1, D)
        return Tensor(nearest_code(flat, self.codebook.array).reshape(N, h * w))

    def decode_indices(self, indices):
        """int tokens (N, h w) (h = w) or (N, h, w) -> images (N, C, 4h, 4w): the decoder of their codes."""
        xp = backend.get_array_module(self.codebook.array)
        array = indices.array if isinstance(indices, Tensor) else xp.asarray(indices)
        shape = tuple(array.shape)
        side = int(round(shape[-1] ** 0.5)) if len(shape) == 2 else None
        if len(shape) == 2 and side * side == shape[1]:
            array = array.reshape(shape[0], side, side)
        elif len(shape) != 3:
            raise ValueError(f"VQVAE.decode_indices: expected code indices (N, h*w) with h = w, or (N, h, w), "
                             f"e.g. (N, 49) or (N, 7, 7), got shape {shape}")
        N, h, w = array.shape
        codes = embedding(Tensor(array.reshape(-1)), self.codebook)               # (N h w, D)
        return self.decode(codes.reshape(N, h, w, self.code_dim).permute(0, 3, 1, 2))

    # -- the codebook's bookkeeping ------------------------------------------------------------------------
    def _check_latent(self, op, z):
        shape = tuple(z.shape)
        if len(shape) != 4 or shape[1] != self.code_dim:
            raise ValueError(f"{op}: expected a latent grid (N, {self.code_dim}, h, w), got shape {shape}")
        return shape

    def _track(self, z, indices):
        """In training: count this batch's codes, keep its outputs for a restart, and move the EMA codebook."""
        with no_grad():
            self.epoch_counts.array[...] += code_counts(indices, self.num_codes)
            self.last_z_e = z.copy()
            if self.codebook_update == "ema":
                ema_update(self.codebook.array, self.cluster_size.array, self.code_sum.array, z, indices,
                           self.decay, self.eps)

    def init_codebook(self, z_e, rng):
        """Set the K codes to K different encoder outputs of z_e (N, D, h, w) (the first batch's), chosen with the
        NumPy Generator rng; the moving averages restart from them."""
        z = _positions(z_e, self.code_dim, "VQVAE.init_codebook")
        if len(z) < self.num_codes:
            raise ValueError(f"VQVAE.init_codebook: needs at least {self.num_codes} encoder outputs to choose "
                             f"{self.num_codes} codes from, got {len(z)} (a batch of N images gives N h w)")
        chosen = z[backend.get_array_module(z).asarray(rng.choice(len(z), self.num_codes, replace=False))]
        self._set_codes(np.arange(self.num_codes), chosen)

    def restart_dead_codes(self, rng):
        """At the end of an epoch: move every code that no position chose during the epoch to an encoder output of
        the epoch's last batch, chosen with the NumPy Generator rng; start the next epoch's counts. Returns how
        many codes restarted. Call it before the epoch's checkpoint is saved: that batch's outputs are not saved."""
        dead = np.flatnonzero(backend.to_numpy(self.epoch_counts.array) == 0)
        if len(dead):
            if self.last_z_e is None:
                raise RuntimeError("VQVAE.restart_dead_codes: no training batch has passed since the model was "
                                   "made or loaded, so there are no encoder outputs to restart codes at")
            z = self.last_z_e.array
            pick = rng.choice(len(z), len(dead), replace=len(dead) > len(z))
            chosen = z[backend.get_array_module(z).asarray(pick)]
            self._set_codes(dead, chosen)
        self.epoch_counts.array[...] = 0
        return len(dead)

    def _set_codes(self, which, values):
        """Put codes `which` (host indices) at `values` (K', D); their moving averages restart there (N_k = 1)."""
        which = backend.get_array_module(self.codebook.array).asarray(which)
        with no_grad():
            self.codebook.array[which] = values
            if self.codebook_update == "ema":
                self.code_sum.array[which] = values
                self.cluster_size.array[which] = 1

    def code_use(self, counts=None):
        """{"perplexity": exp(-sum p_k log p_k), "unused_codes": codes chosen by no position} of `counts` (K,)
        (code_counts of some indices), or of this epoch's counts so far."""
        counts = self.epoch_counts if counts is None else counts
        counts = counts.array if isinstance(counts, Tensor) else counts
        return {"perplexity": perplexity(counts), "unused_codes": int((counts == 0).sum())}


def _positions(z_e, code_dim, op):
    """Encoder outputs (N, D, h, w), Tensor or array, as the array of positions (N h w, D)."""
    array = z_e.array if isinstance(z_e, Tensor) else z_e
    if array.ndim != 4 or array.shape[1] != code_dim:
        raise ValueError(f"{op}: expected encoder outputs (N, {code_dim}, h, w), got shape {tuple(array.shape)}")
    return array.transpose(0, 2, 3, 1).reshape(-1, code_dim)
