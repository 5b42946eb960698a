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
# # Lesson 17: from generating images to mapping images
#
# A full run draws, among its figures, this one: [`docs/images/lessons/17_image_to_image.png`](../docs/images/lessons/17_image_to_image.png) (`pix2pix.png`).
#
# **What you will see.** Until now every network turned noise into an image. Here a network turns an image
# into another image of the same size: a label map (segmentation) or a repaired digit (restoration). You
# compute the pixelwise cross-entropy by hand; you see on a scene of digits, where background is most of
# the pixels, why pixel accuracy flatters a lazy model and IoU does not; you train the U-Net with and
# without its skip connections and see which one keeps the detail; and you train pix2pix, the U-Net with
# an L1 loss and a PatchGAN critic, against the same U-Net trained on L1 alone.
#
# | step | formula id (see `docs/formulas.md`) | where the code lives |
# | --- | --- | --- |
# | the U-Net: encoder, decoder, skip concatenations | - | `tinygan/models/unet.py` (`UNet`) |
# | the pixelwise softmax cross-entropy | `cross-entropy` | `tinygan/functional/loss.py` |
# | damaged digits: a 14x14 square cut out | - | `tinygan/data/damage.py` |
# | the PatchGAN discriminator on (input, output) pairs | - | `tinygan/models/pix2pix.py` |
# | the pix2pix losses of D and G | `pix2pix-discriminator`, `pix2pix-generator`, `l1` | `tinygan/train/pix2pix.py` |
# | PSNR over the damaged region | `psnr` | `tinygan/evaluation/restoration.py` |
#
# Run it with `python lessons/17_image_to_image.py` (full mode: 11 minutes measured on a 2-core CPU shared with other jobs, less on an idle one) or add
# `--quick` for a seconds-long smoke run whose numbers are not the lesson's promises. Figures go to
# `lessons/output/17_image_to_image/`. The same training from the command line: `tinygan train pix2pix`
# (and `--gan-weight 0` for the L1-only baseline).

# %%
import time

import matplotlib.pyplot as plt
import numpy as np

import tinygan
import tinygan.functional as F
from tinygan import optim
from tinygan.autograd import Tensor
from tinygan.data import embedded_split
from tinygan.data.damage import PairLoader, fixed_test_damage
from tinygan.models import UNet, dcgan_init_, pix2pix_networks
from tinygan.evaluation.restoration import accuracy, region_l1, region_psnr, restore
from tinygan.teach import Lesson
from tinygan.train.pix2pix import Pix2PixStep

QUICK = False   # True: tiny settings, a run of seconds (a script takes --quick or TINYGAN_QUICK=1)
lesson = Lesson("17_image_to_image", quick=QUICK)
started = time.perf_counter()
tinygan.manual_seed(0)
rng = np.random.default_rng(0)

(train_images, train_labels), (test_images, test_labels) = embedded_split()   # 4,000 to train, 1,000 held out
EPOCHS = 1 if lesson.quick else 3               # passes over the 4,000 training digits
BATCH = 16 if lesson.quick else 32
STEPS = 6 if lesson.quick else None             # quick mode: a few steps per model only
LR = 1e-3                                       # the paper's 2e-4 needs more epochs than a lesson has (see below)
if lesson.quick:
    test_images, test_labels = test_images[::10], test_labels[::10]

# %% [markdown]
# ## Step 1: the pixelwise cross-entropy
#
# A segmentation network outputs, at every pixel $(i, j)$, one logit per class: a tensor $z$ of shape
# $(N, C, H, W)$. The loss is the ordinary softmax cross-entropy, taken at every pixel and averaged over
# all $N H W$ of them:
#
# $$\ell = -\frac{1}{N H W} \sum_{n, i, j} \log \frac{e^{z_{n, y_{nij}, i, j}}}{\sum_{c} e^{z_{n, c, i, j}}}$$
#
# `F.cross_entropy` takes such logits with labels of shape $(N, H, W)$, as PyTorch's does.

# %%
N, C, H, W = 2, 11, 5, 6
logits = rng.standard_normal((N, C, H, W))
labels = rng.integers(0, C, size=(N, H, W))
shifted = logits - logits.max(axis=1, keepdims=True)
log_softmax = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
by_hand = -np.take_along_axis(log_softmax, labels[:, None], axis=1).mean()
ce_error = abs(F.cross_entropy(Tensor(logits), Tensor(labels)).item() - by_hand)
print(f"pixelwise cross-entropy: by hand {by_hand:.6f}, F.cross_entropy differs by {ce_error:.1e}")

# %% [markdown]
# ## Step 2: IoU against pixel accuracy, where background is most of the pixels
#
# A scene: three digits pasted on a 64x64 canvas (canvas = max(canvas, digit)); each pixel is labelled with
# the class of the brightest digit there if that brightness is at least 0.5, else background (class 10).
# Background then covers about nine pixels in ten. Compare two predictions:
#
# - **lazy**: background everywhere;
# - **sloppy**: every digit found with its right class, but its region grown by two pixels all round.
#
# Pixel accuracy is the fraction of pixels labelled right. The IoU of class $c$ is
# $|\text{pred} = c \wedge \text{true} = c| \,/\, |\text{pred} = c \vee \text{true} = c|$; mIoU averages it over
# the classes, so the background, however many pixels it has, counts once.

# %%
def scene(digits, classes, rng, size=64):
    """(canvas (size, size) on [0, 1], labels (size, size)): three digits pasted at uniform corners in [0, size-28]."""
    brightest = np.zeros((size, size))
    owner = np.full((size, size), 10)
    for _ in range(3):
        k = rng.integers(len(digits))
        r, c = rng.integers(0, size - 28 + 1, size=2)
        digit = digits[k] / 255.0
        window = brightest[r:r + 28, c:c + 28]
        brighter = digit > window
        owner[r:r + 28, c:c + 28][brighter] = classes[k]
        brightest[r:r + 28, c:c + 28] = np.maximum(window, digit)
    return brightest, np.where(brightest >= 0.5, owner, 10)


def grow(labels):
    """Every background pixel next to a digit pixel (4-neighbours) takes that digit's class."""
    grown = labels.copy()
    for shift, axis in ((1, 0), (-1, 0), (1, 1), (-1, 1)):
        neighbour = np.roll(labels, shift, axis=axis)
        take = (grown == 10) & (neighbour != 10)
        grown[take] = neighbour[take]
    return grown


def pixel_accuracy(pred, true):
    return float((pred == true).mean())


def iou_per_class(pred, true, classes=11):
    """IoU of each class that appears in the truth or the prediction (NaN for the others)."""
    ious = np.full(classes, np.nan)
    for c in range(classes):
        union = ((pred == c) | (true == c)).sum()
        if union:
            ious[c] = ((pred == c) & (true == c)).sum() / union
    return ious


scenes = [scene(train_images, train_labels, rng) for _ in range(20)]
canvas = np.stack([s[0] for s in scenes])
truth = np.stack([s[1] for s in scenes])
predictions = {"lazy (all background)": np.full_like(truth, 10), "sloppy (regions grown by 2 px)":
               np.stack([grow(grow(t)) for t in truth])}
background_share = float((truth == 10).mean())
scores = {name: (pixel_accuracy(p, truth), float(np.nanmean(iou_per_class(p, truth)))) for name, p in predictions.items()}
print(f"background: {background_share:.1%} of the pixels of 20 scenes")
for name, (acc, miou) in scores.items():
    print(f"{name:>32}: pixel accuracy {acc:.3f}, mIoU {miou:.3f}")

fig, axes = plt.subplots(1, 4, figsize=(11, 3))
cmap = plt.get_cmap("tab20", 11)
for ax, (title, image) in zip(axes, [("scene", canvas[0]), ("true labels", truth[0]),
                                     ("lazy", predictions["lazy (all background)"][0]),
                                     ("sloppy", predictions["sloppy (regions grown by 2 px)"][0])]):
    if title == "scene":
        ax.imshow(image, cmap="gray")
    else:
        ax.imshow(image, cmap=cmap, vmin=-0.5, vmax=10.5, interpolation="nearest")
        name = [k for k in scores if k.startswith(title)]
        if name:
            title += f"\nacc {scores[name[0]][0]:.2f}, mIoU {scores[name[0]][1]:.2f}"
    ax.set_title(title, fontsize=9)
    ax.axis("off")
lesson.savefig(fig, "iou_vs_accuracy.png")
plt.close(fig)

# %% [markdown]
# ## Step 3: why the skip connections keep the detail
#
# The U-Net halves the image twice (28 → 14 → 7) and doubles it back. Without skips, everything the
# decoder draws has passed through the 7x7 bottleneck; with them, each decoder step also receives the
# encoder's features at its own size, so the pixels the input already has can be handed straight through.
# Train both on the restoration task (a 14x14 square of the digit cut out, `tinygan/data/damage.py`) with
# the L1 loss alone, and look at the pixels *outside* the square: they only need copying.
#
# All three networks of this lesson train for 3 epochs at batch 32 with Adam at $10^{-3}$, five times the
# paper's $2 \cdot 10^{-4}$: at that rate the tanh output needs several hundred steps just to turn the
# background from grey to black (`tinygan train pix2pix` keeps the paper's rate and trains 10 epochs).

# %%
def train_generator(G, gan_weight, seed=0):
    """Train G (with a PatchGAN D when gan_weight > 0) on the pix2pix objective; return G."""
    tinygan.manual_seed(seed)
    D = pix2pix_networks()["D"]
    adam = dict(lr=LR, betas=(0.5, 0.999))
    step = Pix2PixStep(G, D, optim.Adam(G.parameters(), **adam), optim.Adam(D.parameters(), **adam),
                       l1_weight=100.0, gan_weight=gan_weight)
    loader = PairLoader(train_images, task="inpaint", batch_size=BATCH, seed=seed)
    G.train(), D.train()
    for epoch in range(EPOCHS):
        loader.set_epoch(epoch)
        for i, (damaged, original) in enumerate(loader):
            if STEPS and i >= STEPS:
                break
            figures = step(damaged, original)
    print(f"   trained (gan weight {gan_weight}): last step {', '.join(f'{k} {v:.3f}' for k, v in figures.items())}")
    return G


damaged, mask = fixed_test_damage(test_images, "inpaint")
original = test_images / np.float32(255)
tinygan.manual_seed(0)
generators = {"U-Net without skips, L1": train_generator(dcgan_init_(UNet(1, 1, skips=False, output="tanh")), 0.0),
              "U-Net, L1": train_generator(pix2pix_networks()["G"], 0.0)}
restored = {name: restore(G, damaged) for name, G in generators.items()}
outside = {name: region_l1(out, original, ~mask) for name, out in restored.items()}
for name, error in outside.items():
    print(f"{name:>24}: L1 outside the square {error:.4f}, inside {region_l1(restored[name], original, mask):.4f}")

# %% [markdown]
# ## Step 4: the pix2pix objective, L1 alone against L1 + GAN
#
# L1 alone asks for the *median* of the plausible digits under the square: where several strokes are
# possible it draws a grey compromise. pix2pix (Isola et al., 2017) adds a critic that sees the pair
# (damaged input, output) and calls each 18x18 patch real or fake (a PatchGAN: a map of logits, not
# one number). $G$ minimises
#
# $$\mathcal{L}_G = \operatorname{BCE}\big(D(x, G(x)), 1\big) + 100\, \lVert y - G(x) \rVert_1$$
#
# and $D$ minimises $\tfrac{1}{2}[\operatorname{BCE}(D(x, y), 1) + \operatorname{BCE}(D(x, G(x)), 0)]$ with $G(x)$
# detached (`Pix2PixStep`: D's step first, then G's through the frozen D). We measure three things on
# 1,000 held-out digits with fixed damage: the shipped classifier's accuracy on the restorations, the
# L1 and PSNR over the square, and *greyness* inside the square, the mean of $p(1 - p)$ over its pixels
# $p \in [0, 1]$: a blurred stroke is grey, a sharp one is black or white.
#
# A full run measured: accuracy 0.552 on the damaged digits, 0.734 restored without skips,
# 0.770 with L1 alone, 0.794 with L1 + GAN (originals 0.990); greyness in the square 0.060 for L1 alone,
# 0.053 for L1 + GAN, 0.034 for the originals.

# %%
generators["U-Net, L1 + GAN (pix2pix)"] = train_generator(pix2pix_networks()["G"], 1.0)
restored["U-Net, L1 + GAN (pix2pix)"] = restore(generators["U-Net, L1 + GAN (pix2pix)"], damaged)


def greyness(images):
    return float((images * (1 - images))[mask].mean())


table = {name: {"accuracy": accuracy(out, test_labels), "l1": region_l1(out, original, mask),
                "psnr": region_psnr(out, original, mask), "grey": greyness(out)} for name, out in restored.items()}
table["damaged"] = {"accuracy": accuracy(damaged, test_labels), "l1": region_l1(damaged / np.float32(255), original, mask),
                    "psnr": region_psnr(damaged / np.float32(255), original, mask), "grey": greyness(damaged / 255.0)}
table["original"] = {"accuracy": accuracy(test_images, test_labels), "l1": 0.0, "psnr": float("inf"),
                     "grey": greyness(original)}
print(f"{'':>28}  accuracy  L1 (square)  PSNR (square)  greyness")
for name, row in table.items():
    print(f"{name:>28}  {row['accuracy']:8.3f}  {row['l1']:11.4f}  {row['psnr']:13.2f}  {row['grey']:8.4f}")

shown = np.linspace(0, len(test_images) - 1, 10).astype(int)
rows = [("damaged", damaged / 255.0)] + [(name, out) for name, out in restored.items()] + [("original", original)]
fig, axes = plt.subplots(len(rows), len(shown), figsize=(len(shown) * 0.9, len(rows) * 1.0))
for r, (name, images) in enumerate(rows):
    for c, k in enumerate(shown):
        axes[r, c].imshow(images[k], cmap="gray", vmin=0, vmax=1)
        axes[r, c].set_xticks([]), axes[r, c].set_yticks([])
    axes[r, 0].set_ylabel(name.replace(", ", ",\n").replace(" (pix2pix)", ""), fontsize=7, rotation=0,
                          ha="right", va="center")
fig.suptitle("restoring a cut-out square: without skips, L1 alone, L1 + GAN", fontsize=9)
lesson.savefig(fig, "pix2pix.png")
plt.close(fig)

# %% [markdown]
# ## Checks

# %%
lazy, sloppy = scores["lazy (all background)"], scores["sloppy (regions grown by 2 px)"]
pix2pix, l1_only = table["U-Net, L1 + GAN (pix2pix)"], table["U-Net, L1"]
lesson.check("the pixelwise cross-entropy by hand equals F.cross_entropy on (N, C, H, W)", ce_error < 1e-12,
             f"{ce_error:.1e}")
lesson.check("background is most of the pixels of the scenes", background_share > 0.8, f"{background_share:.1%}")
lesson.check("pixel accuracy ranks the lazy prediction above the sloppy one", lazy[0] > sloppy[0],
             f"{lazy[0]:.3f} > {sloppy[0]:.3f}")
lesson.check("mIoU ranks them the other way round, by far", sloppy[1] > 3 * lazy[1], f"{sloppy[1]:.3f} vs {lazy[1]:.3f}")
if not lesson.quick:
    lesson.check("with skips the U-Net copies the undamaged pixels more closely than without",
                 outside["U-Net, L1"] < outside["U-Net without skips, L1"],
                 f"L1 outside the square {outside['U-Net, L1']:.4f} vs {outside['U-Net without skips, L1']:.4f}")
    lesson.check("L1 alone restores digits the classifier reads better than the damaged ones",
                 l1_only["accuracy"] > table["damaged"]["accuracy"] + 0.1,
                 f"{l1_only['accuracy']:.3f} vs {table['damaged']['accuracy']:.3f}")
    lesson.check("pix2pix too", pix2pix["accuracy"] > table["damaged"]["accuracy"] + 0.1,
                 f"{pix2pix['accuracy']:.3f} vs {table['damaged']['accuracy']:.3f}")
    lesson.check("the GAN term makes the strokes in the square less grey than L1 alone",
                 pix2pix["grey"] < l1_only["grey"], f"greyness {pix2pix['grey']:.4f} vs {l1_only['grey']:.4f} "
                                                    f"(originals {table['original']['grey']:.4f})")
print(f"({time.perf_counter() - started:.0f} s)")
lesson.finish()
