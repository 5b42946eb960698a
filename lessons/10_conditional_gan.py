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
# # Lesson 10: conditional GAN — choose the digit
#
# A full run draws, among its figures, this one: [`docs/images/lessons/10_conditional_gan.png`](../docs/images/lessons/10_conditional_gan.png) (`digits_by_row.png`).
#
# **What you will see.** A DCGAN that draws the digit you ask for. In the final grid each *row* is one
# requested digit (0 to 9) and each *column* one noise vector $z$: the label decides *which* digit, $z$
# decides *how* it is written (slant, thickness), and the same $z$ keeps its style across all ten rows.
# A classifier then checks how often the generator drew the digit it was asked for.
#
# **What you will build.**
#
# | step | formula ids (`docs/formulas.md`) | where the code lives |
# | --- | --- | --- |
# | the label as extra input: one-hot to G, one-hot planes to D | `linear`, `conv2d` | `tinygan/models/gan.py` (`ConditionalDCGANGenerator`, `ConditionalDCGANDiscriminator`) |
# | the conditional game $V(D, G) = \mathbb{E}_{x,y}[\log D(x \mid y)] + \mathbb{E}_{z,y}[\log(1 - D(G(z \mid y) \mid y))]$ | `gan-discriminator-loss`, `gan-generator-nonsaturating` | `tinygan/train/losses.py`, `tinygan/train/gan.py` (`GANStep(num_classes=10)`) |
# | label accuracy of the samples | - | `tinygan/evaluation/metrics.py` (`label_accuracy`), `tinygan/evaluation/classifier.py` |
#
# Run: `python lessons/10_conditional_gan.py` (full mode: 12 epochs, 4-9 minutes on a 2-core CPU)
# or add `--quick` (seconds; the samples are still noise).

# %%
import time

import matplotlib.pyplot as plt
import numpy as np

import tinygan
from tinygan import nn, optim, viz
from tinygan.evaluation import classifier, metrics
from tinygan.autograd import Tensor, no_grad
from tinygan.data import ImageLoader, load_embedded_mnist
from tinygan.models import ConditionalDCGANDiscriminator, ConditionalDCGANGenerator, dcgan_init_
from tinygan.teach import Lesson
from tinygan.train import GANStep

QUICK = False   # True: tiny settings, a run of seconds (a script takes --quick or TINYGAN_QUICK=1)
lesson = Lesson("10_conditional_gan", quick=QUICK)
started = time.perf_counter()
tinygan.manual_seed(0)

WIDTH = 16 if lesson.quick else 64
EPOCHS = 1 if lesson.quick else 12
STEPS_PER_EPOCH = 10 if lesson.quick else None
LATENT = 100
PER_DIGIT = 10 if lesson.quick else 100      # samples per requested digit for the label accuracy
ACCURACY_BAR = 0.7                           # full mode
HAVE_CLASSIFIER = classifier.WEIGHTS.exists()

# %% [markdown]
# ## Step 1: how the label gets in (Mirza & Osindero, 2014)
#
# Both players are told the class $y$:
#
# * **G** reads $[z, \mathrm{onehot}(y)]$, a vector of 100 + 10 numbers, through its first linear layer.
# * **D** reads the image with 10 extra channels: channel $k$ is all ones if the claimed label is $k$,
#   all zeros otherwise. Its first convolution sees the pixels and the claim together.
#
# D now judges "is this a real image *of digit y*?". A fake 3 presented as a 7 is easy to reject, so G
# must draw the digit it is told to draw. Real images come with their true labels; fakes with the labels
# G was asked for.

# %%
G = ConditionalDCGANGenerator(latent_dim=LATENT, width=WIDTH, num_classes=10)
D = ConditionalDCGANDiscriminator(width=WIDTH, num_classes=10)
dcgan_init_(G)
dcgan_init_(D)
example_labels = tinygan.tensor(np.array([3, 7]))
print(nn.summary(G, (2, LATENT), example_labels))
print(nn.summary(D, (2, 1, 28, 28), example_labels))
print(f"G's first layer reads {G.net[0].weight.shape[1]} numbers (100 of z + 10 of the one-hot label); "
      f"D's first conv reads {D.net[0].weight.shape[1]} channels (1 image + 10 label planes)")

# %% [markdown]
# ## Step 2: training
#
# The loop is lesson 08's, with labels passed along: `GANStep(..., num_classes=10)` (`tinygan/train/gan.py`)
# calls `D(x, y)` on real digits with their labels, draws random labels $y'$ for the fakes, and calls
# `D(G(z, y'), y')`. The losses are unchanged (`gan-discriminator-loss`, `gan-generator-nonsaturating`).

# %%
images, labels = load_embedded_mnist()
loader = ImageLoader(images, labels, batch_size=64, drop_last=True, seed=0, value_range=(-1, 1))   # (x, y) batches
step = GANStep(G, D, optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999)),
               optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999)), loss="nonsaturating",
               latent_dim=LATENT, num_classes=10)
history = []
for epoch in range(1, EPOCHS + 1):
    epoch_start, rows = time.perf_counter(), []
    for i, (x, y) in enumerate(loader):
        if STEPS_PER_EPOCH and i >= STEPS_PER_EPOCH:
            break
        rows.append(step(x, y))
    means = {key: float(np.mean([r[key] for r in rows])) for key in rows[0]}
    history.append(dict(means, epoch=epoch))
    print(f"epoch {epoch:2d}: L_D {means['loss_d']:.3f}  L_G {means['loss_g']:.3f}  D(x|y) {means['D(x)']:.2f}  "
          f"D(G(z|y)|y) {means['D(G(z))']:.2f}  ({time.perf_counter() - epoch_start:.1f} s)")

# %% [markdown]
# ## Step 3: rows are digits, columns are styles
#
# The same 10 noise vectors are used in every row; only the label changes. The generator is in eval mode
# (lesson 09: BatchNorm must use its running statistics when sampling).

# %%
columns = 10
z_styles = tinygan.randn(columns, LATENT)
z_grid = Tensor(np.tile(z_styles.array, (10, 1)))                       # (100, 100): the 10 styles, for each digit
grid_labels = Tensor(np.repeat(np.arange(10), columns))                # (100,): 0 x10, 1 x10, ...
G.eval()
with no_grad():
    grid_images = G(z_grid, grid_labels)
G.train()
fig, ax = plt.subplots(figsize=(6, 6))
ax.imshow(viz.image_grid(grid_images.array, ncols=columns), cmap="gray")
ax.set_yticks(np.arange(10) * 29 + 15, [f"y = {d}" for d in range(10)])
ax.set_xticks([]), ax.set_title("rows: requested digit; columns: the same z", fontsize=9)
lesson.savefig(fig, "digits_by_row.png")
plt.close(fig)

# %% [markdown]
# ## Step 4: does G draw what it is asked for?
#
# We ask for `PER_DIGIT` samples of each digit and let the shipped classifier (`tinygan/evaluation/classifier.py`,
# 98% accurate on real test digits) read them. The *label accuracy* (`metrics.label_accuracy`,
# `tinygan/evaluation/metrics.py`) is the fraction it reads as the requested digit: 10% by chance, about 98% for
# real digits.

# %%
requested = np.repeat(np.arange(10), PER_DIGIT)
G.eval()
with no_grad():
    generated = G(tinygan.randn(len(requested), LATENT), tinygan.tensor(requested))
G.train()
if HAVE_CLASSIFIER:
    probs, _ = classifier.classify(generated, value_range=(-1, 1))
    accuracy = metrics.label_accuracy(probs, requested)
    predicted = probs.argmax(axis=1)
    per_digit = [(predicted[requested == d] == d).mean() for d in range(10)]
    print(f"label accuracy over {len(requested)} samples: {accuracy:.3f}")
    print("per requested digit:", " ".join(f"{d}:{a:.2f}" for d, a in enumerate(per_digit)))
    confusion = np.zeros((10, 10))
    np.add.at(confusion, (requested, predicted), 1)
    fig, ax = plt.subplots(figsize=(4.5, 4))
    ax.imshow(confusion / PER_DIGIT, cmap="Blues", vmin=0, vmax=1)
    ax.set_xlabel("digit the classifier reads"), ax.set_ylabel("digit requested from G")
    ax.set_xticks(range(10)), ax.set_yticks(range(10)), ax.set_title(f"label accuracy {accuracy:.2f}", fontsize=9)
    lesson.savefig(fig, "requested_vs_read.png")
    plt.close(fig)
else:
    print("note: tinygan/weights/classifier.npz is missing, so the label accuracy cannot be measured here")

# %% [markdown]
# ## Checks

# %%
finite = all(np.isfinite(h["loss_d"]) and np.isfinite(h["loss_g"]) for h in history)
lesson.check("both losses stayed finite", finite)
lesson.check("the generator obeys the label's shape contract: one 28x28 image per requested label",
             generated.shape == (len(requested), 1, 28, 28), f"shape {generated.shape}")
# The lesson's idea: both players are told the class. The same z asked for a 3 and for a 7 must give
# two images, and the same image claimed as a 3 and as a 7 must get two scores; a model that dropped
# the label (a classic bug) gives equal ones.
G.eval(), D.eval()
with no_grad():
    same_z = tinygan.randn(1, LATENT).repeat(2, 1)
    pair = G(same_z, tinygan.tensor(np.array([3, 7])))
    image = pair[:1].repeat(2, 1, 1, 1)
    scores = D(image, tinygan.tensor(np.array([3, 7])))
G.train(), D.train()
image_change = float(np.abs(pair.numpy()[0] - pair.numpy()[1]).max())
score_change = float(np.abs(scores.numpy()[0] - scores.numpy()[1]).max())
lesson.check("the label reaches G: one z drawn as a 3 and as a 7 gives two different images",
             image_change > 1e-6, f"largest pixel difference {image_change:.3f}")
lesson.check("the label reaches D: one image claimed as a 3 and as a 7 gets two different scores",
             score_change > 1e-6, f"logit difference {score_change:.4f}")
if not lesson.quick and HAVE_CLASSIFIER:
    lesson.check(f"G draws the requested digit: label accuracy at least {ACCURACY_BAR} after {EPOCHS} epochs",
                 accuracy >= ACCURACY_BAR, f"{accuracy:.3f} over {len(requested)} samples")
print(f"wall time: {time.perf_counter() - started:.1f} s")
lesson.finish()
