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
# # Lesson 09: DCGAN on digits
#
# A full run draws, among its figures, this one: [`docs/images/lessons/09_dcgan_digits.png`](../docs/images/lessons/09_dcgan_digits.png) (`samples_by_epoch.png`).
#
# **What you will see.** A convolutional GAN turning noise into recognisable handwritten digits within a
# few minutes on a CPU: its layers with their output shapes, the small initial weights it needs, sample
# grids epoch after epoch, and a demonstration of why a generator with BatchNorm must be switched to
# `eval()` before you sample from it.
#
# **What you will build.**
#
# | step | formula ids (`docs/formulas.md`) | where the code lives |
# | --- | --- | --- |
# | the architecture and its shapes | `conv-output-size`, `conv-transpose-output-size`, `conv2d`, `conv-transpose2d` | `tinygan/models/gan.py`, `tinygan/functional/conv.py` |
# | DCGAN initialisation N(0, 0.02) | - | `tinygan/models/gan.py` (`dcgan_init_`) |
# | training step (lesson 08's loop) | `gan-discriminator-loss`, `gan-generator-nonsaturating`, `adam-update` | `tinygan/train/gan.py` (`GANStep`), `tinygan/train/losses.py`, `tinygan/optim/adam.py` |
# | BatchNorm in train and eval mode | `batchnorm-normalize`, `batchnorm-running-mean`, `batchnorm-eval` | `tinygan/functional/normalization.py`, `tinygan/nn/batchnorm.py` |
# | judging the samples | `classifier-score` | `tinygan/evaluation/metrics.py`, `tinygan/evaluation/classifier.py` |
#
# Run: `python lessons/09_dcgan_digits.py` (full mode: 25 epochs, about 6-7 minutes on an idle 2-core CPU,
# longer on one busy with other work) or add `--quick` (seconds, a narrow network and a few steps: the
# pictures are noise).

# %%
import copy
import time

import matplotlib.pyplot as plt
import numpy as np

import tinygan
from tinygan import backend, nn, optim, viz
from tinygan.evaluation import classifier, metrics
from tinygan import functional as F
from tinygan.autograd import no_grad
from tinygan.data import ImageLoader, load_embedded_mnist
from tinygan.models import DCGANDiscriminator, DCGANGenerator, dcgan_init_
from tinygan.teach import Lesson
from tinygan.train import GANStep, losses

QUICK = False   # True: tiny settings, a run of seconds (a script takes --quick or TINYGAN_QUICK=1)
lesson = Lesson("09_dcgan_digits", quick=QUICK)
started = time.perf_counter()
tinygan.manual_seed(0)

WIDTH = 16 if lesson.quick else 64        # channels of the first conv layer (64 in Radford et al.'s spirit)
EPOCHS = 1 if lesson.quick else 25
STEPS_PER_EPOCH = 10 if lesson.quick else None
LATENT = 100
N_SCORED = 100 if lesson.quick else 2000  # samples the classifier judges
SCORE_BAR = 4.5                           # full mode: classifier score of the samples (real digits: about 9.3)
HAVE_CLASSIFIER = classifier.WEIGHTS.exists()

# %% [markdown]
# ## Step 1: the architecture
#
# Radford et al. (2016) found a recipe that made GANs on images train reliably: no pooling and no
# fully-connected hidden layers, but strided convolutions to go down (D) and transposed convolutions to go
# up (G); BatchNorm in both networks except G's output and D's input; ReLU in G with a tanh output;
# LeakyReLU(0.2) in D. For 28x28 digits tinygan's `DCGANGenerator` starts from a 7x7 map:
#
# z (100) -> Linear -> (2w, 7, 7) -> ConvTranspose(4, stride 2, pad 1) -> (w, 14, 14) -> ConvTranspose -> (1, 28, 28)
#
# A transposed convolution's output size is $O = (H - 1)S - 2P + K$ (`conv-transpose-output-size`); a
# convolution's is $O = \lfloor (H + 2P - K)/S \rfloor + 1$ (`conv-output-size`), both in
# `tinygan/functional/conv.py`. With $K=4, S=2, P=1$ they exactly double and halve a size.

# %%
print("transposed conv sizes:", 7, "->", F.conv_transpose_output_size(7, 4, 2, 1), "->",
      F.conv_transpose_output_size(14, 4, 2, 1))
print("conv sizes:           ", 28, "->", F.conv_output_size(28, 4, 2, 1), "->", F.conv_output_size(14, 4, 2, 1))
G = DCGANGenerator(latent_dim=LATENT, width=WIDTH)
D = DCGANDiscriminator(width=WIDTH)
print("\ngenerator")
print(nn.summary(G, (1, LATENT)))
print("\ndiscriminator (one logit per image: the losses apply the sigmoid)")
print(nn.summary(D, (1, 1, 28, 28)))

# %% [markdown]
# ## Step 2: initial weights from N(0, 0.02)
#
# Radford et al. initialise every conv and linear weight from $N(0, 0.02^2)$ and BatchNorm's scale from
# $N(1, 0.02^2)$. `dcgan_init_` (`tinygan/models/gan.py`) does that in place. The layers' default
# initialisation (`default-linear-init` in `tinygan/nn/init.py`, uniform with a bound of $1/\sqrt{\text{fan-in}}$)
# would give a spread that depends on each layer's size.

# %%
first_conv = D.net[0]
before = float(first_conv.weight.array.std())
dcgan_init_(G)
dcgan_init_(D)
conv_stds = {name: float(p.array.std()) for name, p in list(G.named_parameters()) + list(D.named_parameters())
             if p.ndim >= 2}
print(f"std of D's first conv weights: {before:.4f} by default, {float(first_conv.weight.array.std()):.4f} after dcgan_init_")
for name, std in conv_stds.items():
    print(f"  {name:16s} std {std:.4f}")
init_ok = all(abs(std - 0.02) < 0.002 for std in conv_stds.values())
lesson.check("every conv and linear weight has standard deviation 0.02 after dcgan_init_", init_ok,
             f"from {min(conv_stds.values()):.4f} to {max(conv_stds.values()):.4f}")

# %% [markdown]
# ## Step 3: training
#
# The training step is lesson 08's loop, kept in `GANStep` (`tinygan/train/gan.py`): D takes one Adam
# step on `discriminator_loss(D(x), D(G(z).detach()))` (`gan-discriminator-loss`), then G one step on
# `generator_loss_nonsaturating(D(G(z)))` (`gan-generator-nonsaturating`) with D's weights frozen.
# Adam with lr 2e-4 and $\beta_1 = 0.5$, as in the DCGAN paper. The same 64 noise vectors are decoded
# after each epoch, so the grids show one set of "pens" learning to write.

# %% [markdown]
# One step written out, on copies of the two networks, before `GANStep` takes over: D first, on a real
# batch and fakes made without G's graph; then G, through D with D's weights frozen. `GANStep` draws its
# noise the same way (`GANStep.noise`), so from the same seed it must land on the very same weights.

# %%
images, labels = load_embedded_mnist()
loader = ImageLoader(images, batch_size=64, drop_last=True, seed=0, value_range=(-1, 1))   # x/127.5 - 1
first_batch = next(iter(loader))


def adam(net):
    return optim.Adam(net.parameters(), lr=2e-4, betas=(0.5, 0.999))


G_hand, D_hand, G_step, D_step = (copy.deepcopy(net) for net in (G, D, G, D))
opt_g, opt_d = adam(G_hand), adam(D_hand)
random_state = backend.get_rng_state()                       # the demonstration leaves the lesson's noise as it was
tinygan.manual_seed(11)
n = first_batch.shape[0]
z = tinygan.Tensor(backend.rng().standard_normal((n, LATENT), dtype=np.float32))
with no_grad():
    fake = G_hand(z)                                         # D's step needs G's images, not G's graph
d_loss = losses.discriminator_loss(D_hand(first_batch), D_hand(fake))            # [gan-discriminator-loss]
opt_d.zero_grad(), d_loss.backward(), opt_d.step()
z = tinygan.Tensor(backend.rng().standard_normal((n, LATENT), dtype=np.float32))
D_hand.requires_grad_(False)                                 # G's step changes G only
g_loss = losses.generator_loss_nonsaturating(D_hand(G_hand(z)))                  # [gan-generator-nonsaturating]
opt_g.zero_grad(), g_loss.backward(), opt_g.step()
D_hand.requires_grad_(True)
tinygan.manual_seed(11)
GANStep(G_step, D_step, adam(G_step), adam(D_step), loss="nonsaturating", latent_dim=LATENT)(first_batch)
backend.set_rng_state(random_state)
step_difference = max(float(np.abs(a.numpy() - b.numpy()).max())
                      for hand, packaged in ((G_hand, G_step), (D_hand, D_step))
                      for a, b in zip(hand.parameters(), packaged.parameters()))
print(f"one step by hand: L_D {d_loss.item():.4f}, L_G {g_loss.item():.4f}; "
      f"largest weight difference from GANStep's step: {step_difference:.1e}")

# %%
step = GANStep(G, D, optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999)),
               optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999)), loss="nonsaturating", latent_dim=LATENT)
fixed_z = tinygan.randn(64, LATENT)


def sample(G, z):
    """Samples with the generator in eval mode, then back to training mode."""
    G.eval()
    with no_grad():
        images = G(z)
    G.train()
    return images


history, snapshots = [], {}
snapshot_epochs = sorted({1, 2, 5, 10, EPOCHS} & set(range(1, EPOCHS + 1)))
for epoch in range(1, EPOCHS + 1):
    epoch_start, rows = time.perf_counter(), []
    for i, x in enumerate(loader):
        if STEPS_PER_EPOCH and i >= STEPS_PER_EPOCH:
            break
        rows.append(step(x))
    means = {key: float(np.mean([r[key] for r in rows])) for key in rows[0]}
    history.append(dict(means, epoch=epoch))
    if epoch in snapshot_epochs:
        snapshots[epoch] = sample(G, fixed_z)
    print(f"epoch {epoch:2d}: L_D {means['loss_d']:.3f}  L_G {means['loss_g']:.3f}  D(x) {means['D(x)']:.2f}  "
          f"D(G(z)) {means['D(G(z))']:.2f}  ({time.perf_counter() - epoch_start:.1f} s)")

fig, axes = plt.subplots(1, len(snapshots), figsize=(3.2 * len(snapshots), 3.4))
for ax, (epoch, images_epoch) in zip(np.atleast_1d(axes), snapshots.items()):
    ax.imshow(viz.image_grid(images_epoch.array[:36], ncols=6), cmap="gray")
    ax.set_title(f"after epoch {epoch}", fontsize=9)
    ax.axis("off")
fig.tight_layout()
lesson.savefig(fig, "samples_by_epoch.png")
plt.close(fig)

fig, axes = plt.subplots(1, 2, figsize=(10, 3.2))
epochs_axis = [h["epoch"] for h in history]
axes[0].plot(epochs_axis, [h["loss_d"] for h in history], marker="o", label="L_D")
axes[0].plot(epochs_axis, [h["loss_g"] for h in history], marker="o", label="L_G")
axes[1].plot(epochs_axis, [h["D(x)"] for h in history], marker="o", label="D(x)")
axes[1].plot(epochs_axis, [h["D(G(z))"] for h in history], marker="o", label="D(G(z))")
for ax in axes:
    ax.set_xlabel("epoch"), ax.grid(alpha=0.3), ax.legend()
fig.tight_layout()
lesson.savefig(fig, "curves.png")
plt.close(fig)

# %% [markdown]
# ## Step 4: why the generator must be in `eval()` mode when you sample
#
# In training mode BatchNorm normalises each feature with the mean and variance *of the current batch*
# (`batchnorm-mean`, `batchnorm-var`, `batchnorm-normalize`), and nudges its running statistics towards
# them (`batchnorm-running-mean`, `batchnorm-running-var`). In eval mode it uses the running statistics
# instead (`batchnorm-eval`). Three consequences for a generator left in training mode:
#
# 1. the image drawn for one $z$ depends on which other $z$'s share its batch;
# 2. a batch of one image cannot be normalised at all (its variance is 0);
# 3. every sampling call quietly changes the model's running statistics.
#
# We check all three on the trained generator (restoring its state afterwards).

# %%
z16 = fixed_z[:16]
z_other = tinygan.randn(48, LATENT)
saved_state = G.state_dict()                                   # copies of every parameter and buffer

G.eval()
with no_grad():
    eval_alone = G(z16)
    eval_in_big_batch = G(F.concat([z16, z_other], axis=0))[:16]
    eval_pairs = F.concat([G(z16[i:i + 2]) for i in range(0, 16, 2)], axis=0)
eval_difference = float(np.abs(eval_alone.array - eval_in_big_batch.array).max())

G.train()
running_mean_before = G.net[1].running_mean.array.copy()
with no_grad():
    train_alone = G(z16)
    train_in_big_batch = G(F.concat([z16, z_other], axis=0))[:16]
    train_pairs = F.concat([G(z16[i:i + 2]) for i in range(0, 16, 2)], axis=0)
train_difference = float(np.abs(train_alone.array - train_in_big_batch.array).max())
running_mean_moved = float(np.abs(G.net[1].running_mean.array - running_mean_before).max())
try:
    with no_grad():
        G(z16[:1])
    single_error = "no error"
except ValueError as error:
    single_error = str(error)
G.load_state_dict(saved_state)                                 # undo the changes sampling in train mode made

print(f"eval mode:  same z alone vs in a batch of 64 -> max pixel difference {eval_difference:.1e}")
print(f"train mode: same z alone vs in a batch of 64 -> max pixel difference {train_difference:.2f} "
      f"(pixels live in [-1, 1])")
print(f"train mode: sampling moved the first BatchNorm's running mean by up to {running_mean_moved:.4f}")
print(f"train mode, a batch of one image: {single_error}")

fig, axes = plt.subplots(1, 3, figsize=(12, 2.2))
for ax, batch, title in zip(axes, (eval_alone, train_alone, train_pairs),
                            ("eval mode (any batch)", "train mode, batch of 16", "train mode, batches of 2")):
    ax.imshow(viz.image_grid(batch.array, ncols=8), cmap="gray")
    ax.set_title(title, fontsize=9)
    ax.axis("off")
fig.tight_layout()
lesson.savefig(fig, "train_vs_eval_mode.png")
plt.close(fig)

lesson.check("eval mode: an image does not depend on the rest of its batch", eval_difference < 1e-5,
             f"max difference {eval_difference:.1e}")
lesson.check("train mode: the same z gives a different image in another batch (and changes running stats)",
             train_difference > 0.01 and running_mean_moved > 0,
             f"max difference {train_difference:.2f}, running mean moved {running_mean_moved:.4f}")

# %% [markdown]
# With batches of two, BatchNorm can only say which of the two images is "more" of each feature: the
# pairs come out as caricatures. Always `G.eval()` before sampling (tinygan's `Run.sample` does), and
# `G.train()` before training again.
#
# ## Step 5: how good are the digits?
#
# tinygan ships a small MNIST classifier (`tinygan/evaluation/classifier.py`, 98% test accuracy). Its *classifier
# score* (`classifier-score` in `tinygan/evaluation/metrics.py`) is $\exp(\mathbb{E}_x \mathrm{KL}(p(y|x)\,\|\,p(y)))$:
# high when each sample is confidently one digit *and* all ten digits appear; 10 at best. Lesson 14
# explains it and other measures in detail.

# %%
if HAVE_CLASSIFIER:
    generated = sample(G, tinygan.randn(N_SCORED, LATENT))
    probs, _ = classifier.classify(generated, value_range=(-1, 1))
    real_probs, _ = classifier.classify(images[np.random.default_rng(0).permutation(len(images))[:N_SCORED]])
    score, real_score = metrics.classifier_score(probs), metrics.classifier_score(real_probs)
    histogram = metrics.class_histogram(probs)
    print(f"classifier score of {N_SCORED} samples: {score:.2f}   (real digits: {real_score:.2f})")
    print("fraction of samples per predicted digit:", " ".join(f"{d}:{p:.2f}" for d, p in enumerate(histogram)))
else:
    print("note: tinygan/weights/classifier.npz is missing, so the samples cannot be scored here")

# %% [markdown]
# ## Checks

# %%
finite = all(np.isfinite(h["loss_d"]) and np.isfinite(h["loss_g"]) for h in history)
lesson.check("discriminator and generator losses stayed finite", finite)
lesson.check("GANStep is the step written out: the same weights after one step from the same seed",
             step_difference == 0.0, f"largest difference {step_difference:.1e}")
if not lesson.quick:
    last = history[-1]
    lesson.check("neither network won outright: 0.1 < D(G(z)) and D(x) < 0.95 in the last epoch",
                 last["D(G(z))"] > 0.1 and last["D(x)"] < 0.95, f"D(x) {last['D(x)']:.2f}, D(G(z)) {last['D(G(z))']:.2f}")
    if HAVE_CLASSIFIER:
        lesson.check(f"samples look like digits of many kinds: classifier score above {SCORE_BAR}",
                     score > SCORE_BAR, f"{score:.2f} from {N_SCORED} samples")
print(f"wall time: {time.perf_counter() - started:.1f} s")
lesson.finish()
