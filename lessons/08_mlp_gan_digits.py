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
# # Lesson 08: a GAN that writes digits (fully-connected networks)
#
# A full run draws, among its figures, this one: [`docs/images/lessons/08_mlp_gan_digits.png`](../docs/images/lessons/08_mlp_gan_digits.png) (`samples_by_epoch.png`).
#
# **What you will see.** Lesson 07's GAN, moved from 2-D points to 784-pixel images: a generator made of
# linear layers learns to draw handwritten digits from noise. You will watch the two players' beliefs,
# $D(x)$ on real digits and $D(G(z))$ on fakes, settle into a tug of war on either side of the stalemate
# value 1/2, and the samples go from grey noise to digit-like strokes.
#
# **What you will build.** The whole training loop, by hand, from tinygan's pieces:
#
# | step | formula ids (`docs/formulas.md`) | where the code lives |
# | --- | --- | --- |
# | generator and discriminator | `linear`, `leaky-relu`, `tanh`, `batchnorm-normalize` | `tinygan/models/gan.py` (`MLPGenerator`, `MLPDiscriminator`) |
# | the value function D maximises | `gan-value-function` | `tinygan/train/losses.py` |
# | D's loss: BCE against labels 1 (real) and 0 (fake) | `gan-discriminator-loss`, `bce-with-logits` | `tinygan/train/losses.py`, `tinygan/functional/loss.py` |
# | G's non-saturating loss $-\log D(G(z))$ | `gan-generator-nonsaturating`, `softplus` | `tinygan/train/losses.py` |
# | Adam | `adam-moments`, `adam-bias-correction`, `adam-update` | `tinygan/optim/adam.py` |
#
# Run: `python lessons/08_mlp_gan_digits.py` (full mode: 60 epochs over 5,000 digits, 1-3 minutes on a
# 2-core CPU) or add `--quick` (seconds; the samples are still noise).

# %%
import time

import matplotlib.pyplot as plt
import numpy as np

import tinygan
from tinygan import nn, optim, viz
from tinygan.evaluation import classifier, metrics
from tinygan.autograd import no_grad
from tinygan.data import ImageLoader, load_embedded_mnist
from tinygan.models import MLPDiscriminator, MLPGenerator
from tinygan.teach import Lesson
from tinygan.train import losses

QUICK = False   # True: tiny settings, a run of seconds (a script takes --quick or TINYGAN_QUICK=1)
lesson = Lesson("08_mlp_gan_digits", quick=QUICK)
started = time.perf_counter()
tinygan.manual_seed(0)

EPOCHS = 1 if lesson.quick else 60
STEPS_PER_EPOCH = 20 if lesson.quick else None
LATENT = 100
N_SCORED = 100 if lesson.quick else 2000
SCORE_BAR = 4.0            # full mode: classifier score of the samples (real digits: about 9.3)
HAVE_CLASSIFIER = classifier.WEIGHTS.exists()

# %% [markdown]
# ## Step 1: real digits, scaled to [-1, 1]
#
# The 5,000 embedded MNIST digits (`tinygan/data/mnist.py`). The generator ends in tanh, so real images
# are scaled to the same range: $x / 127.5 - 1$ (`ImageLoader(value_range=(-1, 1))`, `tinygan/data/loader.py`).

# %%
images, labels = load_embedded_mnist()
loader = ImageLoader(images, batch_size=64, drop_last=True, seed=0, value_range=(-1, 1))
first_batch = next(iter(loader))
print(f"{len(images)} digits, {len(loader)} batches of 64 per epoch; a batch: shape {first_batch.shape}, "
      f"values from {first_batch.array.min():.0f} to {first_batch.array.max():.0f}")
fig, ax = plt.subplots(figsize=(4, 4))
ax.imshow(viz.image_grid(first_batch.array[:36], ncols=6), cmap="gray")
ax.set_title("real digits", fontsize=9), ax.axis("off")
lesson.savefig(fig, "real_digits.png")
plt.close(fig)

# %% [markdown]
# ## Step 2: two multilayer perceptrons
#
# G: $z \in \mathbb{R}^{100}$ -> 256 -> 512 -> 784 pixels, with BatchNorm and LeakyReLU(0.2) between the
# linear layers and tanh at the end. D: 784 -> 512 -> 256 -> 1 logit, with LeakyReLU(0.2). D returns a
# *logit* $l$; its probability that the input is real is $D(x) = \sigma(l)$, and the losses work on
# logits because that is numerically safe (`bce-with-logits`).

# %%
G = MLPGenerator(latent_dim=LATENT, hidden=(256, 512))
D = MLPDiscriminator(hidden=(512, 256))
print(nn.summary(G, (1, LATENT)))
print(nn.summary(D, (1, 1, 28, 28)))

# %% [markdown]
# ## Step 3: the losses
#
# D maximises the value function (Goodfellow et al. 2014, eq. 1; `gan-value-function`)
#
# $$V(D, G) = \mathbb{E}_x[\log D(x)] + \mathbb{E}_z[\log(1 - D(G(z)))],$$
#
# which is the same as *minimising* the binary cross-entropy with label 1 for real and 0 for fake images,
# $L_D = -V$ (`gan-discriminator-loss`). G minimises the non-saturating loss
# $L_G = -\mathbb{E}_z[\log D(G(z))]$ (`gan-generator-nonsaturating`), which has strong gradients exactly
# when D rejects its fakes (lesson 07 compared it with the minimax form; lesson 11 shows the curves).
# First a check that $L_D = -V$ on an untrained pair:

# %%
z = tinygan.randn(64, LATENT)
with no_grad():
    real_logits, fake_logits = D(first_batch), D(G(z))
    d_loss = losses.discriminator_loss(real_logits, fake_logits)
    value = losses.gan_value(real_logits, fake_logits)
print(f"untrained: L_D = {d_loss.item():.4f}, V = {value.item():.4f}; "
      f"2 log 2 = {2 * np.log(2):.4f} is L_D when D says 1/2 to everything")
lesson.check("the discriminator's loss is minus the value function (D maximises V)",
             abs(d_loss.item() + value.item()) < 1e-5, f"L_D + V = {d_loss.item() + value.item():.1e}")

# The promise above, measured: per fake, dL_G/ds = -(1 - D(G(z))) for the non-saturating loss, so a fake
# D rejects (logit -5, D = 0.007) gets a gradient near 1, and one D is fooled by (logit +5) nearly none.
scores = tinygan.tensor(np.array([-5.0, 0.0, 5.0]), requires_grad=True, dtype=np.float64)
losses.generator_loss_nonsaturating(scores).backward()
per_fake = scores.grad.numpy() * len(scores)            # the loss averages over the fakes
print(f"dL_G/ds at logits -5, 0, 5: {np.round(per_fake, 4)}")
lesson.check("G's non-saturating loss pushes hardest where D rejects the fakes: |dL/ds| ~ 1 at logit -5, ~ 0 at +5",
             abs(per_fake[0] + 1) < 0.01 and abs(per_fake[1] + 0.5) < 1e-9 and abs(per_fake[2]) < 0.01,
             f"{np.round(per_fake, 4)}")

# %% [markdown]
# ## Step 4: the training loop
#
# Each step: (1) D takes one Adam step on a real batch and a batch of fakes; the fakes are made under
# `no_grad()`, because D's step needs G's *images*, not G's graph. (2) G takes one step through D; D's
# weights are frozen with `requires_grad_(False)` so no gradient is computed for weights no optimizer
# will use in this step. Adam with lr 2e-4 and $\beta_1 = 0.5$ (Radford et al. 2016): a smaller $\beta_1$
# makes the momentum forget faster, which helps when the other player keeps moving the target.
# (`GANStep` in `tinygan/train/gan.py` is these same lines; lesson 09 uses it.)

# %%
opt_g = optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
opt_d = optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
fixed_z = tinygan.randn(64, LATENT)            # the same noise after every epoch: watch one set of samples


def sample(z):
    G.eval()                                    # BatchNorm uses its running statistics (lesson 09 shows why)
    with no_grad():
        out = G(z)
    G.train()
    return out


steps, snapshots = [], {}
snapshot_epochs = sorted({1, 5, 20, EPOCHS} & set(range(1, EPOCHS + 1)))
for epoch in range(1, EPOCHS + 1):
    for i, x in enumerate(loader):
        if STEPS_PER_EPOCH and i >= STEPS_PER_EPOCH:
            break
        n = x.shape[0]
        # (1) discriminator: minimise BCE(D(x), 1) + BCE(D(G(z)), 0)
        with no_grad():
            fake = G(tinygan.randn(n, LATENT))
        real_logits, fake_logits = D(x), D(fake)
        d_loss = losses.discriminator_loss(real_logits, fake_logits)              # [gan-discriminator-loss]
        opt_d.zero_grad()
        d_loss.backward()
        opt_d.step()
        # (2) generator: minimise -log D(G(z)) with D fixed
        D.requires_grad_(False)
        g_loss = losses.generator_loss_nonsaturating(D(G(tinygan.randn(n, LATENT))))   # [gan-generator-nonsaturating]
        opt_g.zero_grad()
        g_loss.backward()
        opt_g.step()
        D.requires_grad_(True)
        steps.append({"loss_d": d_loss.item(), "loss_g": g_loss.item(),
                      "D(x)": float(real_logits.sigmoid().array.mean()),
                      "D(G(z))": float(fake_logits.sigmoid().array.mean())})
    if epoch in snapshot_epochs:
        snapshots[epoch] = sample(fixed_z)
    if epoch in snapshot_epochs or epoch % 10 == 0:
        recent = steps[-len(loader):]
        print(f"epoch {epoch:3d}: L_D {np.mean([s['loss_d'] for s in recent]):.3f}  "
              f"L_G {np.mean([s['loss_g'] for s in recent]):.3f}  D(x) {np.mean([s['D(x)'] for s in recent]):.2f}  "
              f"D(G(z)) {np.mean([s['D(G(z))'] for s in recent]):.2f}  ({time.perf_counter() - started:.0f} s)")

# %% [markdown]
# ## Step 5: the two players over time, and the samples
#
# If G matched the data perfectly, the best D could do is say 1/2 to everything: $D(x) = D(G(z)) = 1/2$,
# $L_D = 2\log 2 \approx 1.386$ and $L_G = \log 2 \approx 0.693$ (dotted lines). Real GAN training does not
# converge there; it hovers, with D usually a little ahead.

# %%
def smooth(values, k=25):
    k = max(1, min(k, len(values)))
    return np.convolve(values, np.ones(k) / k, mode="valid")


fig, axes = plt.subplots(1, 2, figsize=(12, 3.5))
axes[0].plot(smooth([s["D(x)"] for s in steps]), label="D(x): real digits")
axes[0].plot(smooth([s["D(G(z))"] for s in steps]), label="D(G(z)): fakes")
axes[0].axhline(0.5, color="gray", ls=":")
axes[0].set_ylim(0, 1), axes[0].set_title("what D believes (moving average over 25 steps)")
axes[1].plot(smooth([s["loss_d"] for s in steps]), label="L_D")
axes[1].plot(smooth([s["loss_g"] for s in steps]), label="L_G")
axes[1].axhline(2 * np.log(2), color="C0", ls=":"), axes[1].axhline(np.log(2), color="C1", ls=":")
axes[1].set_title("losses")
for ax in axes:
    ax.set_xlabel("step"), ax.grid(alpha=0.3), ax.legend(fontsize=8)
fig.tight_layout()
lesson.savefig(fig, "players_over_time.png")
plt.close(fig)

fig, axes = plt.subplots(1, len(snapshots), figsize=(3.2 * len(snapshots), 3.4))
for ax, (epoch, batch) in zip(np.atleast_1d(axes), snapshots.items()):
    ax.imshow(viz.image_grid(batch.array[:36], ncols=6), cmap="gray")
    ax.set_title(f"after epoch {epoch}", fontsize=9), ax.axis("off")
fig.tight_layout()
lesson.savefig(fig, "samples_by_epoch.png")
plt.close(fig)

# %% [markdown]
# ## Step 6: a number for "do these look like digits?"
#
# The shipped classifier (`tinygan/evaluation/classifier.py`) labels the samples; the classifier score
# (`classifier-score`, `tinygan/evaluation/metrics.py`; lesson 14) is high when each sample is confidently one digit
# and all ten digits occur. The class histogram shows whether G dropped some digits (mode collapse).

# %%
if HAVE_CLASSIFIER:
    probs, _ = classifier.classify(sample(tinygan.randn(N_SCORED, LATENT)), value_range=(-1, 1))
    score = metrics.classifier_score(probs)
    rarest = metrics.rarest_class_fraction(probs)
    print(f"classifier score of {N_SCORED} samples: {score:.2f} (10 at best; one digit only: 1)")
    print("fraction of samples per digit:", " ".join(f"{d}:{p:.2f}" for d, p in enumerate(metrics.class_histogram(probs))))
else:
    print("note: tinygan/weights/classifier.npz is missing, so the samples cannot be scored here")

# %% [markdown]
# ## Checks

# %%
finite = all(np.isfinite(s["loss_d"]) and np.isfinite(s["loss_g"]) for s in steps)
lesson.check("both losses stayed finite", finite)
if not lesson.quick:
    last = steps[-len(loader):]
    d_real, d_fake = np.mean([s["D(x)"] for s in last]), np.mean([s["D(G(z))"] for s in last])
    lesson.check("no player won outright in the last epoch: 0.1 < D(G(z)) < D(x) < 0.9",
                 0.1 < d_fake < d_real < 0.9, f"D(x) {d_real:.2f}, D(G(z)) {d_fake:.2f}")
    if HAVE_CLASSIFIER:
        lesson.check(f"the samples look like digits: classifier score above {SCORE_BAR}", score > SCORE_BAR,
                     f"{score:.2f}")
        lesson.check("no digit dropped: every digit is at least 2% of the samples", rarest > 0.02, f"rarest {rarest:.3f}")
print(f"wall time: {time.perf_counter() - started:.1f} s")
lesson.finish()
