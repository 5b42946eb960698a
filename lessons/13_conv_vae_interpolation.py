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
# # Lesson 13: a convolutional VAE, and walking through its latent space
#
# A full run draws, among its figures, this one: [`docs/images/lessons/13_conv_vae_interpolation.png`](../docs/images/lessons/13_conv_vae_interpolation.png) (`interpolations.png`).
#
# **What you will see.** The VAE of lesson 12 with convolutions instead of fully-connected layers, trained
# on the same digits with the same loss; then *latent interpolation*: encode two real digits, walk in a
# straight line from one code to the other, and decode every stop. The digit morphs, a 1 bending into a
# 7, instead of the ghostly double exposure you get by blending the pixels.
#
# **What you will build.**
#
# | step | formula ids (`docs/formulas.md`) | where the code lives |
# | --- | --- | --- |
# | conv encoder and transposed-conv decoder | `conv2d`, `conv-transpose2d`, `conv-output-size` | `tinygan/models/vae.py` (`ConvVAE`), `tinygan/functional/conv.py` |
# | the training step (lesson 12's loss) | `reparameterization`, `bernoulli-reconstruction`, `gaussian-kl`, `negative-elbo` | `tinygan/train/vae.py` (`VAEStep`), `tinygan/train/losses.py` |
# | interpolation $z_t = (1 - t)\,\mu_a + t\,\mu_b$ | - | this lesson |
#
# Run: `python lessons/13_conv_vae_interpolation.py` (full mode: 2-3 minutes on a 2-core CPU)
# or add `--quick` (seconds; blurry pictures).

# %%
import time

import matplotlib.pyplot as plt
import numpy as np

import tinygan
from tinygan import backend, nn, optim, viz
from tinygan.evaluation import classifier
from tinygan.autograd import no_grad
from tinygan.data import ImageLoader, embedded_split, scale_images
from tinygan.models import ConvVAE, MLPVAE
from tinygan.teach import Lesson
from tinygan.train import VAEStep

QUICK = False   # True: tiny settings, a run of seconds (a script takes --quick or TINYGAN_QUICK=1)
lesson = Lesson("13_conv_vae_interpolation", quick=QUICK)
started = time.perf_counter()
tinygan.manual_seed(0)

EPOCHS = 2 if lesson.quick else 40
TRAIN_LIMIT = 1024 if lesson.quick else None   # quick mode: a quarter of the training digits ...
TEST_STRIDE = 4 if lesson.quick else 1          # ... and every 4th held-out digit (they are sorted by label)
LATENT = 16
HELD_OUT_BAR = 115.0            # full mode, nats per held-out image; measured 112.3 after 40 epochs (seed 0)
PAIRS = [(1, 7), (3, 8), (4, 9), (0, 6), (2, 5)]
STOPS = 10
HAVE_CLASSIFIER = classifier.WEIGHTS.exists()

# %% [markdown]
# ## Step 1: data, as in lesson 12
#
# 4,000 embedded digits to train on, 1,000 held out (`tinygan.data.embedded_split`); pixels in [0, 1].

# %%
(train_images, train_labels), (test_images, test_labels) = embedded_split()
train_images = train_images[:TRAIN_LIMIT]
test_images, test_labels = test_images[::TEST_STRIDE], test_labels[::TEST_STRIDE]
loader = ImageLoader(train_images, batch_size=128, value_range=(0, 1), flatten=True, seed=0)
x_test = tinygan.tensor(scale_images(test_images, (0, 1)).reshape(len(test_images), -1))
print(f"{len(train_images)} training digits, {len(test_images)} held out")

# %% [markdown]
# ## Step 2: the convolutional VAE
#
# `ConvVAE` (`tinygan/models/vae.py`): two stride-2 convolutions take a 28x28 digit to 64 maps of 7x7
# ($\lfloor (28 + 2 - 4)/2 \rfloor + 1 = 14$, then 7: `conv-output-size`), two linear heads give $\mu$ and
# $\log\sigma^2$ of a 16-D code; the decoder mirrors it with transposed convolutions. A convolution uses
# the same small filter at every position, so this model has about a third of the parameters of an MLP
# VAE, and it knows from its structure that a stroke is a stroke wherever it appears.

# %%
conv_vae = ConvVAE(latent_dim=LATENT, width=32)
mlp_vae = MLPVAE(latent_dim=LATENT)
print("encoder:")
print(nn.summary(conv_vae.encoder, (1, 1, 28, 28)))
print("decoder:")
print(nn.summary(conv_vae.decoder, (1, LATENT)))
conv_params = sum(p.numel() for p in conv_vae.parameters())
mlp_params = sum(p.numel() for p in mlp_vae.parameters())
print(f"parameters: ConvVAE {conv_params:,}, MLPVAE (784-400-{LATENT}) {mlp_params:,}")

# %% [markdown]
# ## Step 3: train both with the same loss
#
# `VAEStep` (`tinygan/train/vae.py`) holds the lines you wrote in lesson 12: encode, reparameterise
# (`reparameterization`), decode, Bernoulli reconstruction plus KL (`negative-elbo`), one Adam step. It
# works for any model with `encode(x) -> (mu, logvar)` and `decode(z) -> logits`. For comparison we train
# the MLP VAE with the same latent size and the same number of epochs.

# %%
def held_out_loss(model):
    """Negative ELBO per held-out image, one z each from a fixed seed."""
    model.eval()
    with no_grad():
        loss, _, _ = VAEStep(model, None).loss(x_test, np.random.default_rng(123))
    model.train()
    return loss.item()


def train(model, label):
    step = VAEStep(model, optim.Adam(model.parameters(), lr=1e-3))
    untrained, curve = held_out_loss(model), []
    for epoch in range(1, EPOCHS + 1):
        epoch_start = time.perf_counter()
        figures = [step(x) for x in loader]
        curve.append(held_out_loss(model))
        if epoch in (1, EPOCHS) or epoch % 5 == 0:
            print(f"{label} epoch {epoch:3d}: training loss {np.mean([f['loss'] for f in figures]):7.2f}, "
                  f"held-out {curve[-1]:7.2f}  ({time.perf_counter() - epoch_start:.1f} s per epoch)")
    return untrained, curve


conv_untrained, conv_curve = train(conv_vae, "ConvVAE")
mlp_untrained, mlp_curve = train(mlp_vae, "MLPVAE ")

fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(range(1, EPOCHS + 1), conv_curve, marker="o", label=f"ConvVAE ({conv_params:,} parameters)")
ax.plot(range(1, EPOCHS + 1), mlp_curve, marker="o", label=f"MLPVAE ({mlp_params:,} parameters)")
ax.set_xlabel("epoch"), ax.set_ylabel("held-out negative ELBO (nats per image)")
ax.set_ylim(top=min(250, max(conv_curve + mlp_curve))), ax.grid(alpha=0.3), ax.legend()
lesson.savefig(fig, "held_out_loss.png")
plt.close(fig)

# %% [markdown]
# ## Step 4: interpolation in the latent space
#
# For each pair of digits (a, b) we take a *typical* held-out example of each: the one whose code is
# closest to the average code of its class (the first example of a class can be an odd one, an open 4
# that looks like a 9). We encode the two to the means $\mu_a$, $\mu_b$ of $q(z \mid x)$ and decode
# $z_t = (1 - t)\mu_a + t\mu_b$ for ten values of $t$ from 0 to 1. The last row does the naive thing for
# the first pair: blend the *pixels*, $(1 - t)x_a + t x_b$.

# %%
conv_vae.eval()
with no_grad():
    codes = backend.to_numpy(conv_vae.encode(x_test)[0].array)          # (1000, 16): mu of every held-out digit
typical = {}
for d in range(10):
    members = np.flatnonzero(test_labels == d)
    centre = codes[members].mean(axis=0)
    typical[d] = int(members[np.argmin(((codes[members] - centre) ** 2).sum(axis=1))])
t = np.linspace(0, 1, STOPS, dtype=np.float32)[:, None]                   # (10, 1)
rows, endpoints = [], []
with no_grad():
    for a, b in PAIRS:
        pair = x_test[np.array([typical[a], typical[b]])]              # (2, 784)
        mu, _ = conv_vae.encode(pair)                                    # (2, 16)
        mu = backend.to_numpy(mu.array)
        z_path = (1 - t) * mu[0] + t * mu[1]                             # (10, 16): a straight line
        frames = conv_vae.decode(tinygan.tensor(z_path)).sigmoid()               # (10, 784) pixel probabilities
        rows.append(backend.to_numpy(frames.array))
        endpoints.append((a, b))
    first_pair = backend.to_numpy(x_test.array[[typical[PAIRS[0][0]], typical[PAIRS[0][1]]]])
    pixel_blend = (1 - t) * first_pair[0] + t * first_pair[1]           # (10, 784)

fig, ax = plt.subplots(figsize=(8, 5.2))
all_rows = np.concatenate(rows + [pixel_blend])
ax.imshow(viz.image_grid(all_rows.reshape(-1, 28, 28), ncols=STOPS, value_range=(0, 1)), cmap="gray")
ax.set_yticks(np.arange(len(PAIRS) + 1) * 29 + 15,
              [f"{a} -> {b}" for a, b in PAIRS] + [f"pixels {PAIRS[0][0]} -> {PAIRS[0][1]}"])
ax.set_xticks(np.arange(STOPS) * 29 + 15, [f"{v:.2f}" for v in t[:, 0]])
ax.set_xlabel("t"), ax.set_title("decoded latent interpolations (last row: blending pixels instead)", fontsize=9)
lesson.savefig(fig, "interpolations.png")
plt.close(fig)

# %% [markdown]
# How smooth is the walk? We measure the pixel change between neighbouring stops, as a fraction of the
# change from the first stop to the last. A walk with a jump would show one step close to 1. And the
# classifier (`tinygan/evaluation/classifier.py`) reads each stop: where along the path does the digit switch?

# %%
largest_step = 0.0
for (a, b), frames in zip(PAIRS, rows):
    steps = np.linalg.norm(np.diff(frames, axis=0), axis=1)
    total = np.linalg.norm(frames[-1] - frames[0])
    largest_step = max(largest_step, steps.max() / total)
    reading = ""
    if HAVE_CLASSIFIER:
        probs, _ = classifier.classify(frames, value_range=(0, 1))
        reading = "classifier reads " + " ".join(str(int(d)) for d in probs.argmax(axis=1))
    print(f"{a} -> {b}: largest step {steps.max() / total:.2f} of the whole change;  {reading}")
if HAVE_CLASSIFIER:
    ends = np.stack([frames[[0, -1]] for frames in rows]).reshape(-1, 784)
    end_probs, _ = classifier.classify(ends, value_range=(0, 1))
    end_reads = end_probs.argmax(axis=1).reshape(-1, 2)
    ends_ok = all(tuple(r) == pair for r, pair in zip(end_reads.tolist(), PAIRS))

# %% [markdown]
# ## Checks

# %%
finite = bool(np.all(np.isfinite(conv_curve + mlp_curve)))
lesson.check("held-out losses stayed finite", finite)
# The lesson's idea, checked on the first pair: the walk starts at the decoding of mu_a and ends at that
# of mu_b, and its middle is a new image of the decoder, not the average of the two end images (that
# is what blending pixels gives, the last row of the figure).
with no_grad():
    mu_pair = conv_vae.encode(x_test[np.array([typical[PAIRS[0][0]], typical[PAIRS[0][1]]])])[0]
    decoded_ends = backend.to_numpy(conv_vae.decode(mu_pair).sigmoid().array)
end_error = float(np.abs(rows[0][[0, -1]] - decoded_ends).max())
middle = rows[0][STOPS // 2]
blend_of_ends = (1 - t[STOPS // 2, 0]) * rows[0][0] + t[STOPS // 2, 0] * rows[0][-1]
lesson.check("the walk runs from the decoding of mu_a to that of mu_b", end_error < 1e-5, f"max error {end_error:.1e}")
lesson.check("its middle is decoded from the middle code, not a blend of the end images",
             np.abs(middle - blend_of_ends).mean() > 1e-5, f"mean |difference| {np.abs(middle - blend_of_ends).mean():.4f}")
lesson.check("the ConvVAE learned: held-out loss below 70% of the untrained model's",
             conv_curve[-1] < 0.7 * conv_untrained, f"{conv_curve[-1]:.1f} vs {conv_untrained:.1f} untrained")
if not lesson.quick:
    lesson.check(f"ConvVAE held-out negative ELBO below {HELD_OUT_BAR:.0f} nats per image after {EPOCHS} epochs",
                 conv_curve[-1] < HELD_OUT_BAR, f"{conv_curve[-1]:.2f} (MLPVAE: {mlp_curve[-1]:.2f})")
    lesson.check("interpolations are smooth: no step between stops is more than 40% of the whole change",
                 largest_step < 0.4, f"largest step {largest_step:.2f}")
    if HAVE_CLASSIFIER:
        lesson.check("each walk starts at digit a and ends at digit b (as the classifier reads them)", ends_ok,
                     f"read {end_reads.tolist()}")
print(f"wall time: {time.perf_counter() - started:.1f} s")
lesson.finish()
