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
# # Lesson 05: batch normalisation
#
# A full run draws, among its figures, this one: [`docs/images/lessons/05_batchnorm.png`](../docs/images/lessons/05_batchnorm.png) (`running_statistics.png`).
#
# What you will see and build:
#
# - the **forward** pass, per channel: subtract the batch mean, divide by the batch standard deviation,
#   then scale by $\gamma$ and shift by $\beta$; the output of every channel has mean 0 and variance 1;
# - the **running statistics** kept for evaluation, updated with the **unbiased** variance (as PyTorch
#   does), compared with a computation by hand, and watched converging over many batches;
# - the **closed-form backward** (one formula instead of a dozen graph nodes), compared with `gradcheck`
#   and with the gradient of the same computation written as elementary operations;
# - **train vs eval**: in training a sample's output depends on the other samples of its batch; in
#   evaluation it does not.
#
# The code behind this lesson: `tinygan/functional/normalization.py` (formulas `batchnorm-mean`,
# `batchnorm-var`, `batchnorm-normalize`, `batchnorm-affine`, `batchnorm-running-mean`,
# `batchnorm-running-var`, `batchnorm-grad-input`, `batchnorm-grad-gamma`, `batchnorm-grad-beta`,
# `batchnorm-eval`) and `tinygan/nn/batchnorm.py` (`nn.BatchNorm1d`, `nn.BatchNorm2d`).

# %%
import matplotlib.pyplot as plt
import numpy as np

import tinygan
from tinygan import Tensor, backend, nn
from tinygan import functional as F
from tinygan.functional.normalization import batch_norm_composite
from tinygan.gradcheck import GradcheckError, gradcheck
from tinygan.teach import Lesson

QUICK = False   # True: tiny settings, a run of seconds (a script takes --quick or TINYGAN_QUICK=1)
lesson = Lesson("05_batchnorm", quick=QUICK)
tinygan.manual_seed(0)
rng = np.random.default_rng(0)
device = backend.current_device()


def on_device(array, dtype=None):
    return Tensor(backend.to_device(np.asarray(array), device), dtype=dtype)


# %% [markdown]
# ## 1. The forward pass, per channel
#
# For an input `(N, C, H, W)`, each channel c is normalised over its $m = N H W$ values
# (formulas `batchnorm-mean`, `batchnorm-var`, `batchnorm-normalize`, `batchnorm-affine`):
#
# $$\mu_c = \frac1m \sum x, \quad \sigma^2_c = \frac1m \sum (x - \mu_c)^2, \quad
# \hat x = \frac{x - \mu_c}{\sqrt{\sigma^2_c + \epsilon}}, \quad y = \gamma_c \hat x + \beta_c .$$
#
# Note the **biased** variance (divide by $m$) here: it is the variance of the numbers actually being
# normalised. We give three channels very different means and scales.

# %%
N, C, H, W = 16, 3, 6, 6
channel_means, channel_stds = np.array([5.0, -2.0, 0.3]), np.array([3.0, 0.5, 0.01])
raw = rng.standard_normal((N, C, H, W)) * channel_stds[None, :, None, None] + channel_means[None, :, None, None]
x = on_device(raw.astype(np.float32))
bn = nn.BatchNorm2d(C).to(device)          # gamma = 1, beta = 0, running_mean = 0, running_var = 1
y = bn(x)
y_np = y.numpy()
out_mean = y_np.mean(axis=(0, 2, 3))
out_var = y_np.var(axis=(0, 2, 3))
print("input  per-channel mean", np.round(raw.mean(axis=(0, 2, 3)), 3), " var", np.round(raw.var(axis=(0, 2, 3)), 5))
print("output per-channel mean", np.round(out_mean, 7), " var", np.round(out_var, 5))
mu = raw.mean(axis=(0, 2, 3), keepdims=True)
var = raw.var(axis=(0, 2, 3), keepdims=True)
by_hand = (raw - mu) / np.sqrt(var + bn.eps)
forward_error = np.abs(y_np - by_hand).max()
print(f"max |BatchNorm2d(x) - hand computation| = {forward_error:.1e}  (float32)")

# %% [markdown]
# Why the variance is 1 and not exactly 1: the $\epsilon = 10^{-5}$ in the denominator. The third
# channel's variance (1e-4) is close to $\epsilon$, so its output variance is $\sigma^2/(\sigma^2+\epsilon)$,
# about 0.91: $\epsilon$ protects against dividing by ~0 and matters only for nearly constant channels.

# %%
expected_var = var.reshape(-1) / (var.reshape(-1) + bn.eps)
print("expected output variance sigma^2 / (sigma^2 + eps):", np.round(expected_var, 5))

fig, axes = plt.subplots(1, 2, figsize=(9, 3))
for c in range(C):
    axes[0].hist(raw[:, c].ravel(), bins=40, alpha=0.6, label=f"channel {c}")
    axes[1].hist(y_np[:, c].ravel(), bins=40, alpha=0.6, label=f"channel {c}")
axes[0].set_title("input values per channel")
axes[1].set_title("after BatchNorm2d (training mode)")
axes[0].legend(fontsize=7)
fig.tight_layout()
lesson.savefig(fig, "forward_histograms.png")
plt.close(fig)

# %% [markdown]
# ## 2. Running statistics, with the unbiased variance
#
# At evaluation time there may be one image, or a batch of generated images that should not normalise
# each other; so in training the layer also keeps running averages (formulas `batchnorm-running-mean`,
# `batchnorm-running-var`), exactly as PyTorch:
#
# $$r_\mu \leftarrow (1 - m_\text{om}) r_\mu + m_\text{om}\, \mu_c, \qquad
# r_{\sigma^2} \leftarrow (1 - m_\text{om}) r_{\sigma^2} + m_\text{om}\, \sigma^2_c \frac{m}{m - 1},$$
#
# with momentum $m_\text{om} = 0.1$, starting from $r_\mu = 0$, $r_{\sigma^2} = 1$. The factor $m/(m-1)$
# turns the biased batch variance into the **unbiased** estimate of the population's variance
# (`np.var(..., ddof=1)`); using the biased one is a common mistake that makes the running variance
# too small by $(m-1)/m$, most visible for small batches.

# %%
running_mean = bn.running_mean.numpy()
running_var = bn.running_var.numpy()
m = N * H * W
hand_mean = 0.9 * 0.0 + 0.1 * raw.mean(axis=(0, 2, 3))
hand_var = 0.9 * 1.0 + 0.1 * raw.var(axis=(0, 2, 3), ddof=1)
biased_var = 0.9 * 1.0 + 0.1 * raw.var(axis=(0, 2, 3), ddof=0)
print("running_mean after one batch:", np.round(running_mean, 5), " by hand:", np.round(hand_mean, 5))
print("running_var  after one batch:", np.round(running_var, 6), " by hand (unbiased, ddof=1):", np.round(hand_var, 6))
print("   the mistake (biased, ddof=0) would give:                              ", np.round(biased_var, 6))
running_error = max(np.abs(running_mean - hand_mean).max(), np.abs(running_var - hand_var).max())

# %% [markdown]
# Over many batches from the same distribution the running statistics forget their start (0 and 1) and
# approach the true mean and variance of each channel (here standard deviations 3, 0.5 and 1.5). The
# batches are small (4 images of 2 x 2 pixels, m = 16), so every batch's estimate is noisy and the
# running average smooths it; with the biased formula it would settle near $(m - 1)/m = 0.94$ of the truth.

# %%
steps = 60 if lesson.quick else 400
channel_stds = np.array([3.0, 0.5, 1.5])
small = nn.BatchNorm2d(C).to(device)
history_mean, history_var = [], []
for step in range(steps):
    batch = rng.standard_normal((4, C, 2, 2)) * channel_stds[None, :, None, None] + channel_means[None, :, None, None]
    small(on_device(batch.astype(np.float32)))
    history_mean.append(small.running_mean.numpy().copy())
    history_var.append(small.running_var.numpy().copy())
history_mean, history_var = np.array(history_mean), np.array(history_var)
tail = max(1, steps // 2)
late_var = history_var[-tail:].mean(axis=0)  # averaged over the second half, to smooth the noise
print(f"after {steps} batches of m=16: running_mean {np.round(history_mean[-1], 3)} (true {channel_means}),")
print(f"   running_var averaged over the last {tail} batches / true variance = "
      f"{np.round(late_var / channel_stds ** 2, 3)}")

fig, axes = plt.subplots(1, 2, figsize=(9, 3))
for c in range(C):
    axes[0].plot(history_mean[:, c], label=f"channel {c} (true {channel_means[c]})")
    axes[1].plot(history_var[:, c] / channel_stds[c] ** 2, label=f"channel {c}")
axes[0].set_title("running_mean")
axes[1].set_title("running_var / true variance")
axes[1].set_yscale("log")
axes[1].axhline(1.0, color="k", lw=0.8, ls=":")
axes[0].legend(fontsize=7)
axes[1].legend(fontsize=7)
for ax in axes:
    ax.set_xlabel("training batches")
fig.tight_layout()
lesson.savefig(fig, "running_statistics.png")
plt.close(fig)

# %% [markdown]
# ## 3. The closed-form backward
#
# Differentiating the chain mean -> centre -> variance -> normalise -> scale node by node works, but the
# graph collapses into one formula (formulas `batchnorm-grad-input`, `batchnorm-grad-gamma`,
# `batchnorm-grad-beta`; `batch_norm_train_backward` in `tinygan/functional/normalization.py`), with $g = \partial L / \partial y$:
#
# $$\frac{\partial L}{\partial x} = \frac{\gamma}{m \sqrt{\sigma^2 + \epsilon}}
# \Big(m\, g - \sum g - \hat x \sum g \hat x\Big), \qquad
# \frac{\partial L}{\partial \gamma} = \sum g \hat x, \qquad \frac{\partial L}{\partial \beta} = \sum g .$$
#
# We check it against finite differences (`gradcheck`, float64) and against the gradient of the same
# normalisation written as elementary ops (`batch_norm_composite`, which autograd differentiates node by node).
# A random output weighting is essential here: $\sum_i y_i = m \beta$ whatever $x$ is, so a check of
# $\sum y$ alone would see a zero input gradient and could not tell a right formula from a wrong one.

# %%
x64 = Tensor(backend.to_device(rng.standard_normal((6, 3, 4, 4)) * 2 + 1, device), requires_grad=True, dtype=np.float64)
gamma64 = Tensor(backend.to_device(rng.standard_normal(3), device), requires_grad=True, dtype=np.float64)
beta64 = Tensor(backend.to_device(rng.standard_normal(3), device), requires_grad=True, dtype=np.float64)


def bn_train(x_, g_, b_):
    return F.batch_norm(x_, None, None, g_, b_, training=True)


try:
    bn_gradcheck = gradcheck(bn_train, [x64, gamma64, beta64])
except GradcheckError as error:
    bn_gradcheck = False
    print(error)
print("gradcheck of batch_norm (training) w.r.t. x, gamma, beta:", "agrees" if bn_gradcheck else "disagrees")

g_out = Tensor(backend.to_device(rng.standard_normal(x64.shape), device), dtype=np.float64)
closed = tinygan.grad(bn_train(x64, gamma64, beta64), [x64, gamma64, beta64], grad_outputs=g_out)
composite = tinygan.grad(batch_norm_composite(x64, gamma64, beta64, (0, 2, 3), 1e-5), [x64, gamma64, beta64],
                         grad_outputs=g_out)
closed_vs_graph = max(np.abs(a.numpy() - b.numpy()).max() for a, b in zip(closed, composite))
print(f"closed form vs node-by-node gradient: max difference {closed_vs_graph:.1e}")
print(f"input gradient summed per channel (always 0, the normalisation removes any shift): "
      f"{np.round(closed[0].numpy().sum(axis=(0, 2, 3)), 12)}")

# %% [markdown]
# ## 4. Train vs eval
#
# In training mode, a sample's output depends on the **batch** it is in (through $\mu$ and $\sigma$).
# In eval mode (`bn.eval()`) the layer uses its running statistics (formula `batchnorm-eval`): a fixed
# affine map, so a sample gives the same output alone or in any batch. This is why a generator must be
# switched to `eval()` before sampling, and why `nn.BatchNorm1d` refuses to train on a batch of one.

# %%
layer = nn.BatchNorm1d(4).to(device)
for _ in range(20):                     # give it some running statistics
    layer(on_device((rng.standard_normal((32, 4)) * 2 + 3).astype(np.float32)))
sample = (rng.standard_normal((1, 4)) * 2 + 3).astype(np.float32)
batch_a = np.concatenate([sample, (rng.standard_normal((7, 4)) * 2 + 3).astype(np.float32)])
batch_b = np.concatenate([sample, (rng.standard_normal((7, 4)) * 0.5 - 1).astype(np.float32)])

layer.train()
train_a = layer(on_device(batch_a)).numpy()[0]
train_b = layer(on_device(batch_b)).numpy()[0]
try:
    layer(on_device(sample))
    single_error = None
except ValueError as error:
    single_error = str(error)
layer.eval()
with tinygan.no_grad():
    eval_alone = layer(on_device(sample)).numpy()[0]
    eval_a = layer(on_device(batch_a)).numpy()[0]
    eval_b = layer(on_device(batch_b)).numpy()[0]
print("train mode, the sample in batch A:", np.round(train_a, 4))
print("train mode, the sample in batch B:", np.round(train_b, 4), " <- other neighbours, other output")
print("train mode, the sample alone     -> ValueError:", single_error)
print("eval mode,  the sample alone     :", np.round(eval_alone, 4))
print("eval mode,  the sample in A / B  :", np.round(eval_a, 4), "/", np.round(eval_b, 4))
rm, rv = layer.running_mean.numpy(), layer.running_var.numpy()
eval_by_hand = (sample[0] - rm) / np.sqrt(rv + layer.eps)
eval_error = np.abs(eval_alone - eval_by_hand).max()

# %% [markdown]
# ## Checks

# %%
lesson.check("training-mode output has per-channel mean ~0", np.abs(out_mean).max() < 1e-4,
             f"max |mean| {np.abs(out_mean).max():.1e}")
lesson.check("training-mode output has per-channel variance ~1 (sigma^2 / (sigma^2 + eps))",
             np.abs(out_var - expected_var).max() < 1e-3 and np.abs(out_var[:2] - 1).max() < 1e-3,
             f"variances {np.round(out_var, 5)}")
lesson.check("the forward equals (x - mean) / sqrt(var + eps) by hand", forward_error < 1e-4, f"{forward_error:.1e}")
lesson.check("running statistics equal the hand update with the unbiased variance", running_error < 1e-5,
             f"max error {running_error:.1e}")
lesson.check("running statistics approach the true mean and variance",
             np.all(np.abs(history_mean[-1] - channel_means) < 0.5 * channel_stds)
             and np.abs(late_var / channel_stds ** 2 - 1).max() < 0.3,
             f"var ratio {np.round(late_var / channel_stds ** 2, 3)}")
lesson.check("gradcheck of the closed-form backward agrees (x, gamma, beta)", bn_gradcheck)
lesson.check("closed-form backward equals the node-by-node gradient", closed_vs_graph < 1e-10,
             f"max difference {closed_vs_graph:.1e}")
lesson.check("in training, a sample's output depends on its batch", np.abs(train_a - train_b).max() > 0.1,
             f"max difference {np.abs(train_a - train_b).max():.3f}")
lesson.check("in eval, a sample's output is the same alone and in any batch",
             np.abs(eval_alone - eval_a).max() < 1e-6 and np.abs(eval_alone - eval_b).max() < 1e-6)
lesson.check("eval mode uses the running statistics", eval_error < 1e-5, f"max error {eval_error:.1e}")
lesson.finish()
