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
# # Lesson 11: LSGAN and WGAN-GP — other losses, and a gradient of a gradient
#
# A full run draws, among its figures, this one: [`docs/images/lessons/11_lsgan_and_wgan_gp.png`](../docs/images/lessons/11_lsgan_and_wgan_gp.png) (`wgan_gp_samples.png`).
#
# **What you will see.** How much push the generator gets from four losses when the discriminator scores a
# fake at $s$; a gradient penalty whose derivative with respect to the critic's weights goes *through* a
# gradient, checked against finite differences; and two short trainings on digits, a least-squares GAN and
# a Wasserstein GAN with gradient penalty, with the critic's estimate of the Wasserstein distance falling
# as the generator improves.
#
# **What you will build.**
#
# | step | formula ids (`docs/formulas.md`) | where the code lives |
# | --- | --- | --- |
# | the generator losses side by side | `gan-generator-minimax`, `gan-generator-nonsaturating`, `lsgan-generator`, `wgan-generator` | `tinygan/train/losses.py` |
# | LSGAN (Mao et al., 2017) | `lsgan-discriminator`, `lsgan-generator` | `tinygan/train/losses.py` |
# | WGAN critic and generator (Arjovsky et al., 2017) | `wgan-critic`, `wgan-generator` | `tinygan/train/losses.py` |
# | gradient penalty (Gulrajani et al., 2017) | `wgan-gradient-penalty` | `tinygan/train/losses.py` (`gradient_penalty`) |
# | gradients of gradients | `chain-rule` | `tinygan/autograd.py` (`grad(..., create_graph=True)`) |
# | the numerical check | `central-difference` | `tinygan/gradcheck.py` |
#
# Run: `python lessons/11_lsgan_and_wgan_gp.py` (full mode, 4-8 minutes on a 2-core CPU) or with
# `--quick` (seconds; tiny networks, numbers are not the lesson's promises).

# %%
import time

import matplotlib.pyplot as plt
import numpy as np

import tinygan
from tinygan import backend, optim, viz
from tinygan.evaluation import classifier, metrics
from tinygan import functional as F
from tinygan.autograd import Tensor, no_grad
from tinygan.data import ImageLoader, load_embedded_mnist
from tinygan.gradcheck import gradcheck
from tinygan.models import DCGANDiscriminator, DCGANGenerator, dcgan_init_
from tinygan.teach import Lesson
from tinygan.train import GANStep, losses

QUICK = False   # True: tiny settings, a run of seconds (a script takes --quick or TINYGAN_QUICK=1)
lesson = Lesson("11_lsgan_and_wgan_gp", quick=QUICK)
started = time.perf_counter()
tinygan.manual_seed(0)

WIDTH = 8 if lesson.quick else 32           # DCGAN width (64 in lesson 09; 32 keeps this lesson short)
LSGAN_EPOCHS = 1 if lesson.quick else 8
LSGAN_STEPS_PER_EPOCH = 8 if lesson.quick else None
WGAN_STEPS = 6 if lesson.quick else 300      # generator steps; the critic takes N_CRITIC steps before each
N_CRITIC = 5
GP_WEIGHT = 10.0
HAVE_CLASSIFIER = classifier.WEIGHTS.exists()

# %% [markdown]
# ## Step 1: how hard does each loss push the generator?
#
# D (or the critic) gives a fake image the score $s$ (a logit for the BCE losses; any real number for the
# others). The generator's losses, per fake:
#
# | loss | $L_G(s)$ | $dL_G/ds$ |
# | --- | --- | --- |
# | minimax (`gan-generator-minimax`) | $\log(1 - \sigma(s)) = -\operatorname{softplus}(s)$ | $-\sigma(s)$ |
# | non-saturating (`gan-generator-nonsaturating`) | $-\log \sigma(s) = \operatorname{softplus}(-s)$ | $-\sigma(-s)$ |
# | LSGAN (`lsgan-generator`) | $\tfrac12 (s - 1)^2$ | $s - 1$ |
# | WGAN (`wgan-generator`) | $-s$ | $-1$ |
#
# We let autograd compute $dL_G/ds$ for a range of scores and compare with the table. Early in training
# D rejects fakes confidently ($s \ll 0$): the minimax gradient vanishes there, the others do not.
# The LSGAN pull is proportional to the distance from the target 1, so a fake that D already scores as
# real beyond doubt ($s \gg 1$) is still moved, back towards the boundary, where the BCE losses have gone
# flat: Mao et al.'s argument is that BCE ignores fakes on the "real" side of the boundary however far
# from the data they lie. The WGAN loss pushes with the same force everywhere; what keeps it sane is a
# constraint on the critic.

# %%
scores = np.linspace(-6, 6, 241)
generator_losses = {
    "minimax": (losses.generator_loss_minimax, lambda s: -1 / (1 + np.exp(-s))),
    "non-saturating": (losses.generator_loss_nonsaturating, lambda s: -1 / (1 + np.exp(s))),
    "LSGAN": (losses.lsgan_generator_loss, lambda s: s - 1),
    "WGAN": (losses.wasserstein_generator_loss, lambda s: -np.ones_like(s)),
}
fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
worst_gradient_error = 0.0
for name, (loss_fn, derivative) in generator_losses.items():
    s = Tensor(scores, dtype=np.float64, requires_grad=True)
    loss = loss_fn(s)                                   # the mean over the fakes
    loss.backward()
    per_fake_gradient = s.grad.array * len(scores)       # d(mean)/ds_i = (1/N) dL/ds_i
    worst_gradient_error = max(worst_gradient_error, np.abs(per_fake_gradient - derivative(scores)).max())
    per_fake_loss = [loss_fn(Tensor(np.array([v]))).item() for v in scores]
    axes[0].plot(scores, per_fake_loss, label=name)
    axes[1].plot(scores, np.abs(per_fake_gradient), label=name)
axes[0].set_ylim(-4, 8), axes[0].set_title("generator loss of one fake"), axes[0].set_xlabel("score s of the fake")
axes[1].set_ylim(0, 3), axes[1].set_title("|dL/ds|: how hard the fake is pushed"), axes[1].set_xlabel("score s")
for ax in axes:
    ax.axvline(0, color="gray", lw=0.5), ax.grid(alpha=0.3), ax.legend(fontsize=8)
fig.tight_layout()
lesson.savefig(fig, "generator_loss_shapes.png")
plt.close(fig)
print(f"largest difference between autograd and the table's derivatives: {worst_gradient_error:.1e}")
lesson.check("autograd's dL_G/ds matches the derivatives in the table for all four losses",
             worst_gradient_error < 1e-12, f"max error {worst_gradient_error:.1e}")

# %% [markdown]
# The discriminator's side of each game (`tinygan/train/losses.py`):
#
# * LSGAN (`lsgan-discriminator`): $L_D = \tfrac12\mathbb{E}[(D(x) - 1)^2] + \tfrac12\mathbb{E}[D(G(z))^2]$,
#   a regression of real images onto 1 and fakes onto 0, and G pulls its fakes' scores towards 1 (targets
#   a=0, b=1, c=1 in Mao et al.'s eq. 2). The paper shows that with a=-1, b=1, c=0 minimising $L_G$
#   minimises a Pearson $\chi^2$ divergence; the 0-1 targets used here are its other, common choice.
# * WGAN (`wgan-critic`): $L_D = \mathbb{E}[D(G(z))] - \mathbb{E}[D(x)]$, minimised, i.e. the critic
#   *maximises* the gap between its mean score on real and on fake images. For a critic that is
#   1-Lipschitz ($|D(a) - D(b)| \le \|a - b\|$) the largest gap is the Wasserstein-1 (earth mover's)
#   distance between the real and generated distributions (Kantorovich-Rubinstein duality). Without a
#   constraint the gap can grow without bound, so something must keep the critic's slope near 1.
#
# The duality in three sentences, on the simplest case. The Wasserstein-1 distance is the least work
# of moving one distribution onto the other, mass times distance: for all real data at the point $a$ and
# all fakes at $b$, it is $|a - b|$. The duality says the same number is the largest gap
# $\mathbb{E}_{\text{real}}[f] - \mathbb{E}_{\text{fake}}[f]$ over critics $f$ whose slope is at most 1, and here
# a best such critic is the line $f(x) = \text{sign}(a - b)\,x$, whose gap is exactly $|a - b|$. No
# 1-Lipschitz critic gives more, while a critic allowed a slope of 5 would report 5 $|a - b|$: the
# number means nothing without the constraint.

# %%
a, b = 1.5, -0.5                                      # all real data at a, all fakes at b
critic_slopes = np.linspace(-1, 1, 201)               # linear critics f(x) = k x with |k| <= 1
gaps = critic_slopes * a - critic_slopes * b          # E_real[f] - E_fake[f]
best = critic_slopes[np.argmax(gaps)]
print(f"W1 between the point masses at {a} and {b}: |a - b| = {abs(a - b)}; best 1-Lipschitz line "
      f"f(x) = {best:+.0f} x gives the gap {gaps.max():.4f}; a slope of 5 would report {5 * abs(a - b)}")
lesson.check("Kantorovich-Rubinstein on two point masses: the best 1-Lipschitz critic's gap is |a - b|",
             abs(gaps.max() - abs(a - b)) < 1e-12 and best == 1.0, f"gap {gaps.max():.4f}, slope {best:+.0f}")

# %% [markdown]
# ## Step 2: the gradient penalty, a loss made of a gradient
#
# Gulrajani et al. (2017, eq. 3) penalise the critic's slope at points between real and fake images:
#
# $$\mathrm{GP} = \mathbb{E}_{\hat x}\big[(\|\nabla_{\hat x} D(\hat x)\|_2 - 1)^2\big],\qquad
#   \hat x = \epsilon x + (1 - \epsilon) G(z),\ \epsilon \sim U[0, 1].$$
#
# To *train* with it, we need $\partial\,\mathrm{GP}/\partial w$ for the critic's weights $w$, and GP is
# built from $\nabla_{\hat x} D$, itself the output of a backward pass. So the backward pass has to be
# recorded as a graph too: `tinygan.grad(scores.sum(), x_hat, create_graph=True)` (`tinygan/autograd.py`)
# does that, because every `Function.backward` in tinygan is written with tinygan's own differentiable
# operations. Without `create_graph` the gradient comes back as a constant:

# %%
critic = tinygan.nn.Linear(3, 1)
x_hat = tinygan.tensor(np.random.default_rng(0).standard_normal((4, 3)), requires_grad=True, dtype=np.float32)
(plain,) = tinygan.grad(critic(x_hat).sum(), x_hat)
(recorded,) = tinygan.grad(critic(x_hat).sum(), x_hat, create_graph=True)
print(f"gradient without create_graph: requires_grad={plain.requires_grad} (a constant: a penalty built on it "
      f"could not move the weights)")
print(f"gradient with create_graph=True: requires_grad={recorded.requires_grad} (a function of the weights)")
lesson.check("create_graph=True records the backward pass; without it the gradient is a constant",
             recorded.requires_grad and not plain.requires_grad)

# %% [markdown]
# A linear critic $D(x) = w \cdot x + b$ gives a closed form to compare with: its gradient is $w$ at
# every point, so $\mathrm{GP} = (\|w\| - 1)^2$ and $\partial\,\mathrm{GP}/\partial w = 2(\|w\| - 1)\,w/\|w\|$,
# whatever the images. `losses.gradient_penalty` must give exactly that, through two backward passes.

# %%
real = tinygan.tensor(np.random.default_rng(1).standard_normal((8, 3)), dtype=np.float32)
fake = tinygan.tensor(np.random.default_rng(2).standard_normal((8, 3)), dtype=np.float32)
penalty = losses.gradient_penalty(critic, real, fake, np.random.default_rng(3))
critic.zero_grad()
penalty.backward()
w = critic.weight.array.astype(np.float64)
norm = np.linalg.norm(w)
expected_penalty, expected_grad = (norm - 1) ** 2, 2 * (norm - 1) * w / norm
penalty_grad_error = np.abs(critic.weight.grad.array - expected_grad).max()
print(f"||w|| = {norm:.4f}: GP {penalty.item():.6f} (closed form {expected_penalty:.6f}); "
      f"max |dGP/dw - closed form| = {penalty_grad_error:.1e}")
lesson.check("gradient penalty of a linear critic: value and weight gradient match the closed form",
             abs(penalty.item() - expected_penalty) < 1e-5 and penalty_grad_error < 1e-5,
             f"gradient error {penalty_grad_error:.1e}")

# %% [markdown]
# ## Step 3: a numerical check on a non-linear critic
#
# For a critic with a hidden layer the second derivatives are not trivial. `tinygan.gradcheck.gradcheck`
# compares $\partial\,\mathrm{GP}/\partial w$ from the double backward pass with central differences
# $(\mathrm{GP}(w + h e_i) - \mathrm{GP}(w - h e_i)) / 2h$ for every weight (`central-difference`), in
# float64. The mixing weights $\epsilon$ must be the same in every evaluation, so the penalty gets a fresh
# generator with the same seed each time.

# %%
r = np.random.default_rng(4)
real64, fake64 = Tensor(r.standard_normal((5, 3))), Tensor(r.standard_normal((5, 3)))   # float64
weights = [Tensor(r.standard_normal(shape), requires_grad=True) for shape in ((6, 3), (6,), (1, 6), (1,))]


def penalty_of_weights(W1, b1, W2, b2):
    """GP of the critic D(x) = W2 tanh(W1 x + b1) + b2, as a function of its weights."""
    def tiny_critic(x):
        return F.linear(F.tanh(F.linear(x, W1, b1)), W2, b2)
    return losses.gradient_penalty(tiny_critic, real64, fake64, np.random.default_rng(5))


print(f"GP of the tiny critic: {penalty_of_weights(*weights).item():.6f}")
try:
    gradcheck_ok = gradcheck(penalty_of_weights, weights)     # raises GradcheckError naming the worst element
    gradcheck_detail = "all 31 weights agree within atol 1e-5 + rtol 1e-3"
except AssertionError as error:
    gradcheck_ok, gradcheck_detail = False, str(error)
lesson.check("dGP/dweights of a tanh critic (double backward) matches finite differences (float64)",
             gradcheck_ok, gradcheck_detail)

# %% [markdown]
# ## Step 4: a short LSGAN on digits
#
# The DCGAN of lesson 09 (`tinygan/models/gan.py`), at width 32, trained with the least-squares losses.
# `GANStep` (`tinygan/train/gan.py`) holds the alternating updates of lesson 08: one step of D on a real
# and a fake batch, then one step of G through the frozen D; `loss="lsgan"` picks the two LSGAN formulas.
# D's outputs are used as raw scores (no sigmoid).

# %%
images, labels = load_embedded_mnist()
loader = ImageLoader(images, batch_size=64, drop_last=True, seed=0, value_range=(-1, 1))


def new_pair(batchnorm):
    G = dcgan_init_(DCGANGenerator(latent_dim=100, width=WIDTH))
    D = dcgan_init_(DCGANDiscriminator(width=WIDTH, batchnorm=batchnorm))
    return G, D


def sample_grid(G, z, title, filename):
    G.eval()                                             # BatchNorm with running statistics (lesson 09)
    with no_grad():
        samples = G(z)
    G.train()
    fig, ax = plt.subplots(figsize=(4, 4))
    ax.imshow(viz.image_grid(samples.array, ncols=8), cmap="gray")
    ax.set_title(title, fontsize=9), ax.axis("off")
    lesson.savefig(fig, filename)
    plt.close(fig)
    return samples


fixed_z = tinygan.randn(64, 100)
G_ls, D_ls = new_pair(batchnorm=True)
step = GANStep(G_ls, D_ls, optim.Adam(G_ls.parameters(), lr=2e-4, betas=(0.5, 0.999)),
               optim.Adam(D_ls.parameters(), lr=2e-4, betas=(0.5, 0.999)), loss="lsgan", latent_dim=100)
lsgan_history = []
for epoch in range(LSGAN_EPOCHS):
    for i, x in enumerate(loader):
        if LSGAN_STEPS_PER_EPOCH and i >= LSGAN_STEPS_PER_EPOCH:
            break
        lsgan_history.append(step(x))
    recent = lsgan_history[-len(loader):]
    print(f"LSGAN epoch {epoch + 1}: L_D {np.mean([h['loss_d'] for h in recent]):.3f}, "
          f"L_G {np.mean([h['loss_g'] for h in recent]):.3f}  ({time.perf_counter() - started:.0f} s)")
lsgan_samples = sample_grid(G_ls, fixed_z, f"LSGAN after {LSGAN_EPOCHS} epochs", "lsgan_samples.png")

# %% [markdown]
# If G matched the data, the best D could do is score everything 1/2, which gives
# $L_D = \tfrac12 \cdot \tfrac14 + \tfrac12 \cdot \tfrac14 = 0.25$ and $L_G = 0.125$ (the dotted lines in the
# figure below). Real training stays away from that point: in this short run D stays well ahead
# ($L_D$ far below 0.25, $L_G$ above 0.125), and the samples are rougher than lesson 09's DCGAN, which
# is twice as wide and trains longer.
#
# ## Step 5: WGAN-GP, the loop written out
#
# The recipe of Gulrajani et al. (Algorithm 1): per generator step the critic takes `N_CRITIC` = 5 steps,
# each on a fresh real batch, with the penalty weighted by $\lambda = 10$. The paper uses Adam with lr 1e-4
# and betas (0, 0.9); we use lr 2e-4 and betas (0.5, 0.9) so that this short run shows more. The critic
# has **no BatchNorm**: the penalty is a per-image quantity, and BatchNorm would make each image's score
# depend on the rest of the batch. (`GANStep(loss="wgan-gp", n_critic=5)` in `tinygan/train/gan.py`
# does the same, but reuses one real batch for all five critic steps.)

# %%
def endless(loader):
    while True:
        yield from loader


G_w, D_w = new_pair(batchnorm=False)
opt_g = optim.Adam(G_w.parameters(), lr=2e-4, betas=(0.5, 0.9))
opt_d = optim.Adam(D_w.parameters(), lr=2e-4, betas=(0.5, 0.9))
real_batches = endless(loader)
wgan_history = []
for g_step in range(WGAN_STEPS):
    for _ in range(N_CRITIC):
        x = next(real_batches)
        with no_grad():
            fake = G_w(tinygan.randn(x.shape[0], 100))
        gap_loss = losses.wasserstein_critic_loss(D_w(x), D_w(fake))                 # [wgan-critic]
        gp = losses.gradient_penalty(D_w, x, fake, backend.rng())                    # [wgan-gradient-penalty]
        critic_loss = gap_loss + GP_WEIGHT * gp
        opt_d.zero_grad()
        critic_loss.backward()                                                      # through the gradient
        opt_d.step()
    D_w.requires_grad_(False)                                                       # G's step: D is fixed
    g_loss = losses.wasserstein_generator_loss(D_w(G_w(tinygan.randn(64, 100))))    # [wgan-generator]
    opt_g.zero_grad()
    g_loss.backward()
    opt_g.step()
    D_w.requires_grad_(True)
    wgan_history.append({"wasserstein": -gap_loss.item(), "gp": gp.item(), "loss_g": g_loss.item()})
    if (g_step + 1) % max(1, WGAN_STEPS // 6) == 0:
        recent = wgan_history[-max(1, WGAN_STEPS // 6):]
        print(f"WGAN-GP generator step {g_step + 1:4d}: critic's Wasserstein estimate "
              f"{np.mean([h['wasserstein'] for h in recent]):6.2f}, GP {np.mean([h['gp'] for h in recent]):.3f}"
              f"  ({time.perf_counter() - started:.0f} s)")
wgan_samples = sample_grid(G_w, fixed_z, f"WGAN-GP after {WGAN_STEPS} generator steps", "wgan_gp_samples.png")


def smooth(values, k):
    k = max(1, min(k, len(values)))
    return np.convolve(values, np.ones(k) / k, mode="valid")


fig, axes = plt.subplots(1, 3, figsize=(14, 3.4))
axes[0].plot(smooth([h["loss_d"] for h in lsgan_history], 20), label="L_D")
axes[0].plot(smooth([h["loss_g"] for h in lsgan_history], 20), label="L_G")
axes[0].axhline(0.25, color="C0", ls=":", lw=1), axes[0].axhline(0.125, color="C1", ls=":", lw=1)
axes[0].set_title("LSGAN losses (dotted: equilibrium)"), axes[0].set_xlabel("step")
axes[1].plot(smooth([h["wasserstein"] for h in wgan_history], 10))
axes[1].set_title("WGAN-GP: E[D(x)] - E[D(G(z))]"), axes[1].set_xlabel("generator step")
axes[2].plot(smooth([h["gp"] for h in wgan_history], 10))
axes[2].set_title("gradient penalty (||grad D|| - 1)^2"), axes[2].set_xlabel("generator step")
for ax in axes:
    ax.grid(alpha=0.3)
axes[0].legend()
fig.tight_layout()
lesson.savefig(fig, "curves.png")
plt.close(fig)

# %% [markdown]
# The critic's estimate first shoots up (the untrained generator's blobs are easy to tell from digits),
# then falls as the generator's distribution moves towards the data: unlike the BCE losses, this number
# means something, and it tracks sample quality. The penalty starts near 1, because the freshly initialised
# critic is almost flat (gradient norm near 0, so $(0 - 1)^2 = 1$), and falls as the critic's slope
# approaches 1 between real and fake images. After a few hundred generator steps the samples have
# strokes but are not yet digits: WGAN-GP is slower than a DCGAN in wall-clock time (five critic steps,
# each with a double backward pass, per generator step); `tinygan train wgan-gp` runs it longer.
#
# ## Checks

# %%
w_values = np.array([h["wasserstein"] for h in wgan_history])
lsgan_finite = all(np.isfinite(h["loss_d"]) and np.isfinite(h["loss_g"]) for h in lsgan_history)
wgan_finite = bool(np.all(np.isfinite(w_values))) and all(np.isfinite(h["gp"]) for h in wgan_history)
lesson.check("LSGAN losses stayed finite", lsgan_finite)
lesson.check("WGAN-GP critic estimate and penalty stayed finite", wgan_finite)
if not lesson.quick:
    tail = max(1, len(w_values) // 5)
    peak, last = smooth(w_values, 10).max(), w_values[-tail:].mean()
    lesson.check("the Wasserstein estimate fell from its peak as the generator learned (last fifth < 60% of peak)",
                 last < 0.6 * peak, f"peak {peak:.2f}, last fifth {last:.2f}")
    first_gp, last_gp = wgan_history[0]["gp"], np.mean([h["gp"] for h in wgan_history[-tail:]])
    lesson.check("the penalty pulled the critic's slope towards 1: mean GP of the last fifth below half its start",
                 last_gp < 0.5 * first_gp, f"GP {first_gp:.3f} at the start (an almost flat critic), {last_gp:.3f} at the end")
    if HAVE_CLASSIFIER:
        for name, samples in (("LSGAN", lsgan_samples), ("WGAN-GP", wgan_samples)):
            probs, _ = classifier.classify(samples, value_range=(-1, 1))
            score = metrics.classifier_score(probs)
            print(f"{name}: classifier score of 64 samples {score:.2f} (1 = one class or nothing digit-like, 10 = best)")
    else:
        print("note: tinygan's classifier weights are not installed, so the samples get no classifier score here")
print(f"wall time: {time.perf_counter() - started:.1f} s")
lesson.finish()
