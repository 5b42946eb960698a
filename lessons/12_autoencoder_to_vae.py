# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Lesson 12: from autoencoder to VAE
#
# A full run draws, among its figures, this one: [`docs/images/lessons/12_autoencoder_to_vae.png`](../docs/images/lessons/12_autoencoder_to_vae.png) (`vae_reconstructions_and_samples.png`).
#
# **What you will see.** A plain autoencoder that copies digits well but cannot *invent* one; then a
# variational autoencoder (VAE) that can: its reconstructions, its samples from pure noise, and a map of a
# 2-D latent space where every point decodes to a digit and the digits morph smoothly into each other.
#
# **What you will build.** The three formulas that turn an autoencoder into a VAE, each checked numerically:
#
# | step | formula id (see `docs/formulas.md`) | where the code lives |
# | --- | --- | --- |
# | reconstruction term $-\log p(x \mid z)$ for Bernoulli pixels | `bernoulli-reconstruction`, `bce-with-logits` | `tinygan/train/losses.py`, `tinygan/functional/loss.py` |
# | reparameterisation $z = \mu + e^{\log\sigma^2/2} \varepsilon$ | `reparameterization` | `tinygan/train/losses.py` |
# | closed-form KL to $N(0, I)$ | `gaussian-kl` | `tinygan/functional/loss.py` |
# | negative ELBO = reconstruction + KL | `negative-elbo` | `tinygan/train/losses.py` |
# | the 784-400-20 VAE | - | `tinygan/models/vae.py` (`MLPVAE`) |
#
# Run it with `python lessons/12_autoencoder_to_vae.py` (full mode: about 1 minute on an idle 2-core
# CPU, several on a busy one) or add `--quick` for a seconds-long smoke run whose numbers are not the
# lesson's promises. Figures go to `lessons/output/12_autoencoder_to_vae/`.

# %%
import time

import matplotlib.pyplot as plt
import numpy as np

import tinygan
from tinygan import backend, nn, optim, viz
from tinygan.autograd import Tensor, no_grad
from tinygan.data import ImageLoader, embedded_split, scale_images
from tinygan.models import MLPVAE
from tinygan.teach import Lesson
from tinygan.train import losses

QUICK = False   # True: tiny settings, a run of seconds (a script takes --quick or TINYGAN_QUICK=1)
lesson = Lesson("12_autoencoder_to_vae", quick=QUICK)
started = time.perf_counter()
tinygan.manual_seed(0)

TRAIN_LIMIT = 2000 if lesson.quick else None   # quick mode trains on half of the training digits
AE_EPOCHS = 1 if lesson.quick else 20
VAE_EPOCHS = 3 if lesson.quick else 50
MAP_EPOCHS = 1 if lesson.quick else 50
BATCH = 128
HELD_OUT_BAR = 120.0     # full mode: nats per held-out image; measured 116.4 after 50 epochs (seed 0)


def show(ax, images, title, ncols=10):
    """Draw (N, 784) or (N, 1, 28, 28) images in [0, 1] as one grid on a matplotlib axis."""
    array = backend.to_numpy(images.array if isinstance(images, Tensor) else images)
    ax.imshow(viz.image_grid(array.reshape(-1, 28, 28), ncols=ncols, value_range=(0, 1)), cmap="gray")
    ax.set_title(title, fontsize=9)
    ax.axis("off")


# %% [markdown]
# ## Step 1: the digits, and a part we never train on
#
# The 5,000 embedded digits (`tinygan/data/mnist.py`, `load_embedded_mnist`) are split by
# `tinygan.data.embedded_split`: digits 400-499 of each class (1,000 images) are held out, the other
# 4,000 train. Pixels become numbers in [0, 1] (x / 255): a VAE with Bernoulli pixels reads each one as the
# probability that the pixel is ink.

# %%
(train_images, train_labels), (test_images, test_labels) = embedded_split()
train_images, train_labels = train_images[:TRAIN_LIMIT], train_labels[:TRAIN_LIMIT]
loader = ImageLoader(train_images, batch_size=BATCH, value_range=(0, 1), flatten=True, seed=0)
x_test = tinygan.tensor(scale_images(test_images, (0, 1)).reshape(len(test_images), -1))   # (1000, 784)
print(f"training digits {train_images.shape}, held-out digits {test_images.shape}, {len(loader)} batches per epoch")
print(f"pixel values of a batch: min {x_test.array.min():.1f}, max {x_test.array.max():.1f}, "
      f"mean {x_test.array.mean():.3f} (most of a digit is background)")

# %% [markdown]
# ## Step 2: a plain autoencoder
#
# An encoder squeezes 784 pixels into a 20-number *code*, a decoder expands the code back into 784 logits.
# The loss is the reconstruction term alone: binary cross-entropy between the logits and the pixels,
# summed over pixels (`bernoulli-reconstruction` in `tinygan/train/losses.py`, computed stably from logits
# by `bce-with-logits` in `tinygan/functional/loss.py`):
#
# $$-\log p(x \mid \hat x) = \sum_{i=1}^{784} \big[\operatorname{softplus}(l_i) - x_i l_i\big]$$
#
# where $l_i$ is the decoder's logit for pixel $i$ and $\hat x_i = \sigma(l_i)$.

# %%
encoder = nn.Sequential(nn.Linear(784, 400), nn.ReLU(), nn.Linear(400, 20))   # (N, 784) -> (N, 20) code
decoder = nn.Sequential(nn.Linear(20, 400), nn.ReLU(), nn.Linear(400, 784))   # (N, 20) -> (N, 784) logits
ae_optimizer = optim.Adam(list(encoder.parameters()) + list(decoder.parameters()), lr=1e-3)

for epoch in range(AE_EPOCHS):
    total = 0.0
    for x in loader:
        loss = losses.bernoulli_reconstruction(decoder(encoder(x)), x).mean()   # nats per image
        ae_optimizer.zero_grad()
        loss.backward()
        ae_optimizer.step()
        total += loss.item()
    if epoch in (0, AE_EPOCHS - 1) or (epoch + 1) % 5 == 0:
        print(f"autoencoder epoch {epoch + 1:3d}: reconstruction loss {total / len(loader):7.2f} nats per image")

with no_grad():
    codes = encoder(x_test)
    ae_test_loss = losses.bernoulli_reconstruction(decoder(codes), x_test).mean().item()
    ae_reconstructions = decoder(codes).sigmoid()
    ae_samples = decoder(tinygan.randn(20, 20)).sigmoid()        # codes drawn from N(0, I)
code_mean, code_std = codes.array.mean(axis=0), codes.array.std(axis=0)
print(f"held-out reconstruction loss of the autoencoder: {ae_test_loss:.2f} nats per image")
print(f"its codes of held-out digits: per-dimension means from {code_mean.min():.2f} to {code_mean.max():.2f}, "
      f"standard deviations from {code_std.min():.2f} to {code_std.max():.2f}")

fig, axes = plt.subplots(1, 3, figsize=(12, 2.6))
show(axes[0], x_test.array[::100][:10], "held-out digits")
show(axes[1], ae_reconstructions.array[::100][:10], "autoencoder reconstructions")
show(axes[2], ae_samples.array[:10], "autoencoder: decoded z ~ N(0, I)")
lesson.savefig(fig, "autoencoder.png")
plt.close(fig)

# %% [markdown]
# The reconstructions are good, but decoding a random code gives smudges: nothing told the encoder *where*
# to put its codes, so they sit in some odd region (the ranges above), and a code drawn from N(0, I)
# mostly lands where no training digit ever was. A VAE fixes exactly that.
#
# ## Step 3: the three formulas of a VAE
#
# The encoder now outputs a Gaussian $q(z \mid x) = N(\mu, \operatorname{diag}\sigma^2)$ per image: a mean
# $\mu$ and a log-variance $\log\sigma^2$ (`MLPVAE.encode` in `tinygan/models/vae.py`). The loss is the
# negative evidence lower bound (`negative-elbo`, `tinygan/train/losses.py`, Kingma & Welling 2014):
#
# $$\mathcal{L}(x) = \underbrace{\mathbb{E}_{q(z\mid x)}[-\log p(x \mid z)]}_{\text{reconstruction}}
#   + \underbrace{\mathrm{KL}\big(q(z \mid x)\,\|\,N(0, I)\big)}_{\text{keeps codes near } N(0, I)}
#   \;\ge\; -\log p(x).$$
#
# **Where the bound comes from.** For any $q(z \mid x)$, write $\log p(x) = \log p(x, z) - \log p(z \mid x)$,
# add and subtract $\log q(z \mid x)$, and average over $z \sim q$:
#
# $$\log p(x) = \underbrace{\mathbb{E}_q[\log p(x \mid z)] - \mathrm{KL}\big(q(z \mid x)\,\|\,p(z)\big)}_{\text{ELBO} \;=\; -\mathcal{L}(x)}
#   \;+\; \mathrm{KL}\big(q(z \mid x)\,\|\,p(z \mid x)\big).$$
#
# The last KL is at least 0, so the ELBO is a lower bound on $\log p(x)$, tight exactly when $q$ is the true
# posterior: training the encoder closes that gap, training the decoder raises $\log p(x)$. We check the
# identity on a model small enough to integrate: a decoder of 8 binary pixels from a 1-D code, where
# $p(x)$, the posterior and every expectation are sums over a fine grid of $z$.

# %%
tiny = MLPVAE(in_features=8, hidden=16, latent_dim=1).double()
grid = np.linspace(-10, 10, 20001)                                  # z values; dz = 0.001
dz = grid[1] - grid[0]
x_tiny = np.array([1, 0, 1, 1, 0, 0, 1, 0], dtype=np.float64)
with no_grad():
    logits = backend.to_numpy(tiny.decode(tinygan.tensor(grid[:, None], dtype=np.float64)).array)
log_px_given_z = -np.logaddexp(0, -logits) @ x_tiny - np.logaddexp(0, logits) @ (1 - x_tiny)   # Bernoulli
log_prior = -0.5 * grid ** 2 - 0.5 * np.log(2 * np.pi)
log_joint = log_px_given_z + log_prior
log_px = np.log(np.exp(log_joint - log_joint.max()).sum() * dz) + log_joint.max()          # log p(x)
q_mu, q_sigma = 0.4, 0.7                                            # any q(z|x) will do
log_q = -0.5 * ((grid - q_mu) / q_sigma) ** 2 - np.log(q_sigma * np.sqrt(2 * np.pi))
q = np.exp(log_q) * dz                                              # q's mass on each grid cell
elbo = q @ log_px_given_z - q @ (log_q - log_prior)                 # E_q[log p(x|z)] - KL(q || p(z))
posterior_gap = q @ (log_q - (log_joint - log_px))                  # KL(q || p(z|x))
print(f"log p(x) = {log_px:.6f};  ELBO = {elbo:.6f};  KL(q || posterior) = {posterior_gap:.6f};  "
      f"ELBO + KL = {elbo + posterior_gap:.6f}")
lesson.check("log p(x) = ELBO + KL(q || p(z|x)), and that KL is positive: the ELBO is a lower bound",
             abs(log_px - (elbo + posterior_gap)) < 1e-6 and posterior_gap > 0,
             f"gap {posterior_gap:.4f} nats, identity error {abs(log_px - elbo - posterior_gap):.1e}")

# %% [markdown]
# **Reparameterisation** (`reparameterization`). To backpropagate through a random draw, write it as a
# deterministic function of $\mu$, $\log\sigma^2$ and noise $\varepsilon \sim N(0, I)$ drawn outside the graph:
# $z = \mu + \exp(\tfrac12 \log\sigma^2)\,\varepsilon$. Note the $\tfrac12$: $\exp(\log\sigma^2)$ is the
# *variance*; using it as the standard deviation is a common bug. We check both the samples and the
# gradients: $\partial z/\partial\mu = 1$ and $\partial z/\partial\log\sigma^2 = \tfrac12\sigma\varepsilon$.

# %%
n = 200_000
mu = Tensor(np.full((n, 1), 1.5, dtype=np.float32), requires_grad=True)
logvar = Tensor(np.full((n, 1), np.log(0.64), dtype=np.float32), requires_grad=True)   # sigma = 0.8, variance 0.64
rng = np.random.default_rng(0)
z = losses.reparameterize(mu, logvar, rng)
z.sum().backward()
eps = np.random.default_rng(0).standard_normal((n, 1), dtype=np.float32)   # the same noise, drawn again
print(f"z = mu + exp(logvar/2) eps with mu = 1.5, sigma = 0.8: sample mean {z.array.mean():.4f}, "
      f"sample std {z.array.std():.4f}")
print(f"the bug z = mu + exp(logvar) eps would have std {np.exp(np.log(0.64)):.2f} instead of 0.8")
# sigma = 0.8, not 0.5: at 0.5 the variance 0.25 equals sigma / 2, so the bug's gradient sigma^2 eps would
# equal the right one, sigma eps / 2, and the gradient check below could not tell them apart.
grad_mu_error = np.abs(mu.grad.array - 1).max()
grad_logvar_error = np.abs(logvar.grad.array - 0.5 * 0.8 * eps).max()
print(f"dz/dmu: max |autograd - 1| = {grad_mu_error:.1e}; "
      f"dz/dlogvar: max |autograd - sigma eps / 2| = {grad_logvar_error:.1e}")
lesson.check("reparameterised samples have mean mu and standard deviation exp(logvar / 2)",
             abs(z.array.mean() - 1.5) < 0.01 and abs(z.array.std() - 0.8) < 0.01,
             f"mean {z.array.mean():.4f}, std {z.array.std():.4f}")
lesson.check("gradients flow through the sample: dz/dmu = 1 and dz/dlogvar = sigma eps / 2",
             grad_mu_error < 1e-6 and grad_logvar_error < 1e-6,
             f"errors {grad_mu_error:.1e}, {grad_logvar_error:.1e}")

# %% [markdown]
# **Closed-form KL** (`gaussian-kl`, `tinygan/functional/loss.py`; Kingma & Welling 2014, appendix B):
#
# $$\mathrm{KL}\big(N(\mu, \sigma^2)\,\|\,N(0, 1)\big) = -\tfrac12 \sum_j \big(1 + \log\sigma_j^2 - \mu_j^2 - \sigma_j^2\big).$$
#
# It is an expectation, $\mathbb{E}_q[\log q(z) - \log p(z)]$, so we can check it with a Monte-Carlo
# average over many samples of $z$. (The formula without its $-\tfrac12$, or with $\sigma$ where $\sigma^2$
# belongs, fails this check.)

# %%
check_mu = np.array([[0.0, 0.0, 0.0], [1.0, -0.5, 2.0]], dtype=np.float64)
check_logvar = np.array([[0.0, 0.0, 0.0], [-1.0, 0.7, -2.5]], dtype=np.float64)
closed_form = tinygan.functional.gaussian_kl(Tensor(check_mu), Tensor(check_logvar), reduction="none").array
mc_rng = np.random.default_rng(1)
monte_carlo = []
for m, lv in zip(check_mu, check_logvar):
    s = np.exp(lv / 2)
    zs = m + s * mc_rng.standard_normal((400_000, 3))
    log_q = (-0.5 * ((zs - m) / s) ** 2 - np.log(s) - 0.5 * np.log(2 * np.pi)).sum(axis=1)
    log_p = (-0.5 * zs ** 2 - 0.5 * np.log(2 * np.pi)).sum(axis=1)
    monte_carlo.append((log_q - log_p).mean())
for cf, mc in zip(closed_form, monte_carlo):
    print(f"KL closed form {cf:.4f}   Monte Carlo {mc:.4f}")
lesson.check("closed-form KL is 0 for q = N(0, I) and matches a Monte-Carlo estimate otherwise",
             abs(closed_form[0]) < 1e-12 and abs(closed_form[1] - monte_carlo[1]) < 0.02 * closed_form[1],
             f"{closed_form[1]:.4f} vs {monte_carlo[1]:.4f}")

# %% [markdown]
# ## Step 4: train the 784-400-20 VAE
#
# `MLPVAE` (`tinygan/models/vae.py`) is the reference VAE of the PyTorch examples: 784 -> 400 -> ($\mu$,
# $\log\sigma^2$) of size 20, and 20 -> 400 -> 784 logits. One training step is the five lines below
# (`tinygan/train/vae.py`, `VAEStep`, holds the same lines). The held-out loss uses one $z$ per image,
# drawn from a fixed seed, so it is the same number every time the model is the same.

# %%
def negative_elbo(model, x, rng):
    """(negative ELBO, reconstruction, KL), nats per image averaged over the batch."""
    mu, logvar = model.encode(x)
    z = losses.reparameterize(mu, logvar, rng)                                  # [reparameterization]
    reconstruction = losses.bernoulli_reconstruction(model.decode(z), x)        # (N,) [bernoulli-reconstruction]
    return losses.vae_loss(reconstruction, mu, logvar)                          # [negative-elbo], [gaussian-kl]


def held_out_loss(model):
    model.eval()
    with no_grad():
        loss, _, _ = negative_elbo(model, x_test, np.random.default_rng(123))
    model.train()
    return loss.item()


def train_vae(model, epochs, label):
    optimizer = optim.Adam(model.parameters(), lr=1e-3)
    history = []
    for epoch in range(epochs):
        sums = np.zeros(3)
        for x in loader:
            loss, reconstruction, kl = negative_elbo(model, x, backend.rng())
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            sums += (loss.item(), reconstruction.item(), kl.item())
        row = dict(zip(("loss", "reconstruction", "kl"), sums / len(loader)), epoch=epoch + 1,
                   held_out=held_out_loss(model))
        history.append(row)
        if epoch in (0, epochs - 1) or (epoch + 1) % 10 == 0:
            print(f"{label} epoch {epoch + 1:3d}: loss {row['loss']:7.2f} = reconstruction "
                  f"{row['reconstruction']:7.2f} + KL {row['kl']:5.2f};  held-out loss {row['held_out']:7.2f}")
    return history


vae = MLPVAE(latent_dim=20)
untrained_loss = held_out_loss(vae)
print(f"held-out loss of the untrained VAE: {untrained_loss:.1f} nats per image (784 log 2 = {784 * np.log(2):.1f})")
history = train_vae(vae, VAE_EPOCHS, "VAE")
final = history[-1]

fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
epochs_axis = [row["epoch"] for row in history]
axes[0].plot(epochs_axis, [row["loss"] for row in history], label="training (running mean over the epoch)")
axes[0].plot(epochs_axis, [row["held_out"] for row in history], label="held-out digits")
axes[0].set_xlabel("epoch"), axes[0].set_ylabel("negative ELBO (nats per image)"), axes[0].legend()
axes[0].set_ylim(top=min(250, max(row["held_out"] for row in history)))
axes[1].plot(epochs_axis, [row["reconstruction"] for row in history], label="reconstruction")
axes[1].plot(epochs_axis, [row["kl"] for row in history], label="KL")
axes[1].set_xlabel("epoch"), axes[1].set_yscale("log"), axes[1].legend()
for ax in axes:
    ax.grid(alpha=0.3)
fig.tight_layout()
lesson.savefig(fig, "vae_curves.png")
plt.close(fig)

# %% [markdown]
# The KL term rises after the first epochs as the encoder learns to spend information on each digit (the
# KL is the price, in nats, of what the code says about the image); reconstruction falls much more. A gap
# opens between the training and the held-out loss: with only 4,000 training digits the model fits those
# a little better than digits it never saw. (On the official 60,000 MNIST digits and its 10,000 test digits this
# model reaches about 115 nats after 30 epochs.)
#
# ## Step 5: reconstructions and samples
#
# A reconstruction decodes $\mu$ of a held-out digit; a *sample* decodes $z \sim N(0, I)$, which is what
# the KL term made meaningful. Compare with the autoencoder's smudges from Step 2.

# %%
vae.eval()
with no_grad():
    mu_test, _ = vae.encode(x_test)
    reconstructions = vae.decode(mu_test).sigmoid()
    samples = vae.decode(tinygan.randn(40, 20)).sigmoid()

fig, axes = plt.subplots(1, 3, figsize=(14, 3.2), gridspec_kw={"width_ratios": [1, 1, 1]})
show(axes[0], x_test.array[::50][:20], "held-out digits")
show(axes[1], reconstructions.array[::50][:20], "VAE reconstructions (decode mu)")
show(axes[2], samples.array[:20], "VAE samples: decode z ~ N(0, I)")
lesson.savefig(fig, "vae_reconstructions_and_samples.png")
plt.close(fig)
print(f"mean pixel value: held-out digits {x_test.array.mean():.3f}, VAE samples {samples.array.mean():.3f}, "
      f"autoencoder 'samples' {ae_samples.array.mean():.3f}")

# %% [markdown]
# ## Step 6: a 2-D latent space you can look at
#
# With only two latent numbers we can draw the whole latent space. Left: where the encoder puts held-out
# digits ($\mu$, coloured by their label). Right: decode a regular grid of points $z \in [-2.5, 2.5]^2$,
# the region where $N(0, I)$ puts almost all of its mass. Every point decodes to something digit-like,
# and neighbouring points to similar digits. The labels were never shown to the VAE, yet digits of one
# class gather in one region: we measure that with a 5-nearest-neighbour vote among the held-out codes.

# %%
tinygan.manual_seed(1)
vae2 = MLPVAE(latent_dim=2)
history2 = train_vae(vae2, MAP_EPOCHS, "2-D VAE")
vae2.eval()
with no_grad():
    mu2, _ = vae2.encode(x_test)
    side = np.linspace(-2.5, 2.5, 15, dtype=np.float32)
    grid_z = np.array([[a, b] for b in side[::-1] for a in side], dtype=np.float32)   # rows top to bottom
    decoded = vae2.decode(tinygan.tensor(grid_z)).sigmoid()
mu2 = backend.to_numpy(mu2.array)
distances = ((mu2[:, None, :] - mu2[None, :, :]) ** 2).sum(axis=-1)
np.fill_diagonal(distances, np.inf)                                   # leave each digit out of its own vote
neighbours = test_labels[np.argsort(distances, axis=1)[:, :5]]        # (1000, 5) labels of the 5 nearest codes
votes = np.array([np.bincount(row, minlength=10).argmax() for row in neighbours])
knn_accuracy = float((votes == test_labels).mean())
half = 2.5 + 2.5 / 14                                                 # the grid's cells are 5/14 wide

fig, axes = plt.subplots(1, 2, figsize=(13, 6))
scatter = axes[0].scatter(mu2[:, 0], mu2[:, 1], c=test_labels, cmap="tab10", s=8)
axes[0].legend(*scatter.legend_elements(), title="digit", fontsize=7, loc="upper right")
axes[0].set_xlim(-3.5, 3.5), axes[0].set_ylim(-3.5, 3.5), axes[0].set_aspect("equal")
axes[0].set_title("held-out digits: mu of q(z|x)")
axes[1].imshow(viz.image_grid(backend.to_numpy(decoded.array).reshape(-1, 28, 28), ncols=15, value_range=(0, 1)),
               cmap="gray", extent=(-half, half, -half, half))
axes[1].set_title("decoded grid over z in [-2.5, 2.5]^2")
fig.tight_layout()
lesson.savefig(fig, "latent_map_2d.png")
plt.close(fig)
print(f"held-out digits in the 2-D latent space: mean of mu {mu2.mean(axis=0).round(2)}, "
      f"std {mu2.std(axis=0).round(2)} (the KL term pulls them towards N(0, I))")
print(f"a 5-nearest-neighbour vote in the 2-D latent space labels {knn_accuracy:.1%} of held-out digits correctly "
      f"(chance: 10%)")
print(f"2-D VAE held-out loss: {history2[-1]['held_out']:.2f} nats per image (20-D: {final['held_out']:.2f})")

# %% [markdown]
# ## Checks

# %%
finite = all(np.isfinite(row[key]) for h in (history, history2) for row in h for key in ("loss", "held_out"))
lesson.check("every VAE loss stayed finite", finite)
# A floor as well as a ceiling: the reconstruction term, BCE summed over pixels, is at least the entropy
# of the pixel intensities themselves, and the KL is at least 0; a broken loss can fall below that (a
# KL without its -1/2 once drove it to -3e24) and would pass a ceiling alone.
pixels = np.clip(backend.to_numpy(x_test.array).astype(np.float64), 1e-12, 1 - 1e-12)
entropy_floor = float(-(pixels * np.log(pixels) + (1 - pixels) * np.log(1 - pixels)).sum(axis=1).mean())
lesson.check("the VAE learned: held-out loss far below the untrained model's, and above the data's own entropy",
             entropy_floor < final["held_out"] < 0.6 * untrained_loss,
             f"{entropy_floor:.1f} < {final['held_out']:.1f} < 0.6 x {untrained_loss:.1f} untrained")
lesson.check("the KL term is positive (the encoder uses its latent code)", final["kl"] > 0, f"KL {final['kl']:.2f} nats")
if not lesson.quick:
    lesson.check(f"784-400-20 VAE: held-out negative ELBO below {HELD_OUT_BAR:.0f} nats per image after "
                 f"{VAE_EPOCHS} epochs", final["held_out"] < HELD_OUT_BAR, f"{final['held_out']:.2f}")
    lesson.check("2-D VAE: digits of one class gather together (5-nearest-neighbour accuracy above 50%; chance 10%)",
                 knn_accuracy > 0.5, f"{knn_accuracy:.1%}")
print(f"wall time: {time.perf_counter() - started:.1f} s")
lesson.finish()
