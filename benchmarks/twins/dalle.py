"""PyTorch twins of tinygan.models.vqvae.VQVAE and tinygan.models.dalle.DallePrior, and the tiny DALL-E recipe
trained in PyTorch on the batches tinygan's captions module gives (tinygan/data/captions.py).

    vqvae, prior, seconds = train(seed)                    # both stages, the recipe below
    images = draw(vqvae, prior, triples, seed)             # (N, 3, 28, 28) NumPy on [0, 1], for the caption judge

The recipe, as tinygan's:
    stage 1  VQVAE(): 3 -> 64 -> 128 -> 32 (k4 s2 p1, k4 s2 p1, k1), decoder 32 -> 128 (k3 p1) -> ConvT 64 -> ConvT 3,
             sigmoid; 128 codes of 32, set from 128 encoder outputs of the first batch; MSE + 0.25 commitment; EMA
             codebook (decay 0.99, Laplace 1e-5); dead codes restart at outputs of the epoch's last batch; Adam 1e-3,
             batch 64 (an incomplete last batch dropped), 15 epochs of fresh colourings
    stage 2  DallePrior(): token and position embeddings of 128 (N(0, 0.02^2)), 4 pre-norm encoder layers (4 heads,
             FF 512, GELU, dropout 0.1) under the causal mask, final LayerNorm, head onto 128 codes; CE on the 49
             image positions; AdamW 3e-4, betas (0.9, 0.95), weight decay 0.01 on matrices only, 100 warm-up
             steps then cosine to 0, gradient norm clipped at 1.0, batch 64, 30 epochs, stage 1 frozen
    drawing  top-k 16, temperature 1, with tinygan's sampler (tinygan.models.dalle.sample_top_k) on the same
             NumPy Generator

Every other initialisation is PyTorch's default (tinygan's layers start from the same distributions).
"""
import math
import time

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from tinygan.data.captions import BOS, TEXT_TOKENS, CaptionLoader, tokens_of
from tinygan.models.dalle import sample_top_k

TEXT_LENGTH, IMAGE_TOKENS = 5, 49
SEQUENCE_LENGTH = TEXT_LENGTH + IMAGE_TOKENS
EMBEDDING_STD = 0.02

# the recipe's numbers
VQ = dict(epochs=15, lr=1e-3, batch_size=64)
PRIOR = dict(epochs=30, lr=3e-4, betas=(0.9, 0.95), weight_decay=0.01, warmup=100, clip=1.0, batch_size=64)
TOP_K, TEMPERATURE = 16, 1.0


# -- the networks -------------------------------------------------------------------------------------------

class VQVAE(nn.Module):
    """tinygan.models.vqvae.VQVAE: the same layers, buffers and rules (codebook 'ema' or 'loss')."""

    def __init__(self, channels=3, num_codes=128, code_dim=32, hidden=128, width=64, codebook="ema", beta=0.25,
                 decay=0.99, eps=1e-5):
        super().__init__()
        self.num_codes, self.code_dim, self.codebook_update = num_codes, code_dim, codebook
        self.beta, self.decay, self.eps = beta, decay, eps
        self.encoder = nn.Sequential(
            nn.Conv2d(channels, width, 4, stride=2, padding=1), nn.ReLU(),           # (N, 64, 14, 14)
            nn.Conv2d(width, hidden, 4, stride=2, padding=1), nn.ReLU(),             # (N, 128, 7, 7)
            nn.Conv2d(hidden, code_dim, 1))                                          # (N, 32, 7, 7)
        self.decoder = nn.Sequential(
            nn.Conv2d(code_dim, hidden, 3, padding=1), nn.ReLU(),                    # (N, 128, 7, 7)
            nn.ConvTranspose2d(hidden, width, 4, stride=2, padding=1), nn.ReLU(),    # (N, 64, 14, 14)
            nn.ConvTranspose2d(width, channels, 4, stride=2, padding=1), nn.Sigmoid())   # (N, 3, 28, 28)
        codes = torch.empty(num_codes, code_dim).uniform_(-1 / num_codes, 1 / num_codes)
        if codebook == "loss":
            self.codebook = nn.Parameter(codes)
        else:
            self.register_buffer("codebook", codes)
            self.register_buffer("cluster_size", torch.ones(num_codes))
            self.register_buffer("code_sum", codes.clone())
        self.register_buffer("epoch_counts", torch.zeros(num_codes, dtype=torch.int64))
        self.last_z_e = None

    def nearest(self, flat):
        """Index of the nearest code of each row of flat (M, D), by the expanded squared distance."""
        e = self.codebook.detach()
        distances = (flat * flat).sum(1, keepdim=True) - 2 * flat @ e.T + (e * e).sum(1)
        return distances.argmin(1)

    def quantize(self, z_e):
        N, D, h, w = z_e.shape
        flat = z_e.permute(0, 2, 3, 1).reshape(-1, D)
        indices = self.nearest(flat.detach())
        codes = F.embedding(indices, self.codebook)
        if self.training:
            self._track(flat.detach(), indices)
        codes = codes.reshape(N, h, w, D).permute(0, 3, 1, 2)
        return z_e + (codes - z_e).detach(), codes, indices.reshape(N, h, w)

    @torch.no_grad()
    def _track(self, z, indices):
        self.epoch_counts += torch.bincount(indices, minlength=self.num_codes)
        self.last_z_e = z.clone()
        if self.codebook_update == "ema":
            one_hot = F.one_hot(indices, self.num_codes).to(z.dtype)               # (M, K)
            self.cluster_size.mul_(self.decay).add_((1 - self.decay) * one_hot.sum(0))
            self.code_sum.mul_(self.decay).add_((1 - self.decay) * (one_hot.T @ z))
            n = self.cluster_size.sum()
            smoothed = (self.cluster_size + self.eps) / (n + self.num_codes * self.eps) * n
            self.codebook.copy_(self.code_sum / smoothed[:, None])

    def forward(self, x):
        z_e = self.encoder(x)
        z_q, codes, indices = self.quantize(z_e)
        return self.decoder(z_q), z_e, codes, indices

    def loss(self, x, output):
        reconstruction, z_e, codes, _ = output
        loss = F.mse_loss(reconstruction, x) + self.beta * ((z_e - codes.detach()) ** 2).mean()
        if self.codebook_update == "loss":
            loss = loss + ((z_e.detach() - codes) ** 2).mean()
        return loss

    @torch.no_grad()
    def init_codebook(self, z_e, rng):
        z = z_e.permute(0, 2, 3, 1).reshape(-1, self.code_dim)
        self._set_codes(np.arange(self.num_codes), z[torch.from_numpy(rng.choice(len(z), self.num_codes,
                                                                                  replace=False))])

    @torch.no_grad()
    def restart_dead_codes(self, rng):
        dead = np.flatnonzero(self.epoch_counts.numpy() == 0)
        if len(dead):
            z = self.last_z_e
            self._set_codes(dead, z[torch.from_numpy(rng.choice(len(z), len(dead), replace=len(dead) > len(z)))])
        self.epoch_counts.zero_()
        return len(dead)

    def _set_codes(self, which, values):
        which = torch.from_numpy(np.asarray(which))
        self.codebook.data[which] = values
        if self.codebook_update == "ema":
            self.code_sum[which] = values
            self.cluster_size[which] = 1

    @torch.no_grad()
    def encode_to_indices(self, x):
        z_e = self.encoder(x)
        return self.nearest(z_e.permute(0, 2, 3, 1).reshape(-1, self.code_dim)).reshape(len(x), -1)

    @torch.no_grad()
    def decode_indices(self, indices):
        N = len(indices)
        side = int(round(indices.shape[1] ** 0.5))
        codes = F.embedding(indices.reshape(-1), self.codebook).reshape(N, side, side, self.code_dim)
        return self.decoder(codes.permute(0, 3, 1, 2))


class DallePrior(nn.Module):
    """tinygan.models.dalle.DallePrior: the same parameters under the same names."""

    def __init__(self, num_codes=128, width=128, num_layers=4, num_heads=4, feedforward=512, dropout=0.1):
        super().__init__()
        self.num_codes = num_codes
        self.token_embedding = nn.Embedding(TEXT_TOKENS + num_codes, width)
        self.position_embedding = nn.Embedding(SEQUENCE_LENGTH, width)
        for table in (self.token_embedding, self.position_embedding):
            nn.init.normal_(table.weight, 0.0, EMBEDDING_STD)
        layer = nn.TransformerEncoderLayer(width, num_heads, dim_feedforward=feedforward, dropout=dropout,
                                           activation="gelu", batch_first=True, norm_first=True)
        self.transformer = nn.TransformerEncoder(layer, num_layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(width)
        self.head = nn.Linear(width, num_codes)

    def forward(self, tokens):
        L = tokens.shape[1]
        x = self.token_embedding(tokens) + self.position_embedding(torch.arange(L, device=tokens.device))
        mask = nn.Transformer.generate_square_subsequent_mask(L, device=tokens.device, dtype=x.dtype)
        return self.head(self.norm(self.transformer(x, mask=mask, is_causal=True)))

    @staticmethod
    def sequence(text_tokens, codes=None):
        parts = [torch.full((len(text_tokens), 1), BOS, dtype=torch.int64, device=text_tokens.device), text_tokens]
        if codes is not None:
            parts.append(codes + TEXT_TOKENS)
        return torch.cat(parts, dim=1)

    def loss(self, text_tokens, codes):
        logits = self(self.sequence(text_tokens, codes)[:, :-1])[:, TEXT_LENGTH - 1:]      # (N, 49, K)
        return F.cross_entropy(logits.reshape(-1, self.num_codes), codes.reshape(-1))

    @torch.no_grad()
    def generate(self, text_tokens, top_k=TOP_K, temperature=TEMPERATURE, generator=None):
        rng = np.random.default_rng(0) if generator is None else generator
        was_training = self.training
        self.eval()
        tokens = self.sequence(text_tokens)
        codes = np.zeros((len(tokens), IMAGE_TOKENS), dtype=np.int64)
        for j in range(IMAGE_TOKENS):
            codes[:, j] = sample_top_k(self(tokens)[:, -1].double().numpy(), top_k, temperature, rng)
            tokens = torch.cat([tokens, torch.from_numpy(codes[:, j:j + 1] + TEXT_TOKENS)], dim=1)
        self.train(was_training)
        return torch.from_numpy(codes)

    def weight_decay_groups(self, weight_decay=PRIOR["weight_decay"]):
        decay, no_decay = [], []
        for name, p in self.named_parameters():
            (decay if p.ndim == 2 and "embedding" not in name else no_decay).append(p)
        return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def warmup_cosine(warmup, total):
    """The prior's learning-rate factor at the 0-based step index s (LambdaLR): (s + 1) / warmup for the first
    `warmup` steps, then 0.5 (1 + cos(pi (s - warmup) / (total - warmup))), down to 0 at step `total`
    (tinygan.train.dalle.warmup_cosine)."""
    def factor(step):
        if step < warmup:
            return (step + 1) / warmup
        return 0.5 * (1 + math.cos(math.pi * min(1.0, (step - warmup) / max(1, total - warmup))))
    return factor


# -- the data: tinygan's colourings, as PyTorch tensors -----------------------------------------------------

def caption_batches(seed, epoch, batch_size=64, steps_per_epoch=None, drop_last=True):
    """Epoch `epoch`'s batches of CaptionLoader(batch_size, seed, drop_last), as tinygan's dalle family draws them:
    (images float32 (B, 3, 28, 28), word tokens
    int64 (B, 4)) as PyTorch tensors, in the loader's order."""
    loader = CaptionLoader(batch_size=batch_size, seed=seed, drop_last=drop_last)
    captioned, order = loader.captioned(epoch)
    for step, start in enumerate(range(0, len(loader) * batch_size, batch_size)):
        if steps_per_epoch and step >= steps_per_epoch:
            break
        which = order[start:start + batch_size]
        yield torch.from_numpy(captioned.images(which)), torch.from_numpy(captioned.tokens(which))


def codebook_rng(seed, epoch=None):
    """The NumPy Generators of tinygan's dalle family: default_rng([seed, 0]) places the first codes,
    default_rng([seed, 1, epoch]) restarts epoch `epoch`'s dead codes."""
    return np.random.default_rng([seed, 0] if epoch is None else [seed, 1, epoch])


# -- the recipe ---------------------------------------------------------------------------------------------

def train_vqvae(seed, epochs=VQ["epochs"], steps_per_epoch=None, codebook="ema", init_from_data=True,
                restarts=True):
    """Stage 1; returns (vqvae in eval mode, [per epoch {"loss", "perplexity", "unused_codes", "restarted"}])."""
    torch.manual_seed(seed)
    model = VQVAE(codebook=codebook)
    opt = torch.optim.Adam(model.parameters(), lr=VQ["lr"])
    history = []
    for epoch in range(epochs):
        losses = []
        for step, (x, _) in enumerate(caption_batches(seed, epoch, VQ["batch_size"], steps_per_epoch)):
            if epoch == 0 and step == 0 and init_from_data:
                with torch.no_grad():
                    model.init_codebook(model.encoder(x), codebook_rng(seed))
            loss = model.loss(x, model(x))
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        use = code_use(model.epoch_counts)
        restarted = model.restart_dead_codes(codebook_rng(seed, epoch)) if restarts else 0
        model.epoch_counts.zero_()
        history.append({"loss": float(np.mean(losses)), **use, "restarted": restarted})
    return model.eval(), history


def code_use(counts):
    """{"perplexity", "unused_codes"} of code counts (K,), as tinygan's VQVAE.code_use."""
    counts = np.asarray(counts, dtype=np.float64)
    p = counts / counts.sum()
    nonzero = p[p > 0]
    return {"perplexity": float(np.exp(-(nonzero * np.log(nonzero)).sum())), "unused_codes": int((counts == 0).sum())}


def train_prior(vqvae, seed, epochs=PRIOR["epochs"], steps_per_epoch=None):
    """Stage 2 over the frozen vqvae's tokens of each epoch's colourings; returns (prior in eval mode, mean loss
    per epoch)."""
    torch.manual_seed(seed + 1)
    prior = DallePrior(num_codes=vqvae.num_codes)
    opt = torch.optim.AdamW(prior.weight_decay_groups(), lr=PRIOR["lr"], betas=PRIOR["betas"])
    steps = epochs * sum(1 for _ in caption_batches(seed, 0, PRIOR["batch_size"], steps_per_epoch))
    schedule = torch.optim.lr_scheduler.LambdaLR(opt, warmup_cosine(PRIOR["warmup"], steps))
    vqvae.eval()
    history = []
    for epoch in range(epochs):
        losses = []
        for x, words in caption_batches(seed, epoch, PRIOR["batch_size"], steps_per_epoch):
            codes = vqvae.encode_to_indices(x)
            loss = prior.loss(words, codes)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(prior.parameters(), PRIOR["clip"])
            opt.step()
            schedule.step()
            losses.append(loss.item())
        history.append(float(np.mean(losses)))
    return prior.eval(), history


def train(seed, vq_epochs=VQ["epochs"], prior_epochs=PRIOR["epochs"], steps_per_epoch=None):
    """Both stages: (vqvae, prior, {"vqvae": history, "prior": history, "seconds": wall time})."""
    started = time.perf_counter()
    vqvae, vq_history = train_vqvae(seed, vq_epochs, steps_per_epoch)
    prior, prior_history = train_prior(vqvae, seed, prior_epochs, steps_per_epoch)
    return vqvae, prior, {"vqvae": vq_history, "prior": prior_history, "seconds": time.perf_counter() - started}


@torch.no_grad()
def draw(vqvae, prior, triples, seed, batch_size=500, top_k=TOP_K, temperature=TEMPERATURE):
    """Images (N, 3, 28, 28) float32 NumPy on [0, 1] for caption triples (N, 3), sampled with default_rng(seed)."""
    rng = np.random.default_rng(seed)
    words = torch.from_numpy(tokens_of(np.asarray(triples)))
    out = []
    for start in range(0, len(words), batch_size):
        codes = prior.generate(words[start:start + batch_size], top_k, temperature, rng)
        out.append(vqvae.decode_indices(codes).numpy())
    return np.concatenate(out)


@torch.no_grad()
def reconstruct(vqvae, images, batch_size=500):
    """The VQ-VAE's reconstructions of float images (N, 3, 28, 28) on [0, 1], and the codes (N, 49) it chose."""
    out, codes = [], []
    for start in range(0, len(images), batch_size):
        x = torch.from_numpy(np.ascontiguousarray(images[start:start + batch_size]))
        indices = vqvae.encode_to_indices(x)
        codes.append(indices.numpy())
        out.append(vqvae.decode_indices(indices).numpy())
    return np.concatenate(out), np.concatenate(codes)
