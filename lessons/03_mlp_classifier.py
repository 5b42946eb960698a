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
# # Lesson 03: linear layers and an MLP classifier on real digits
#
# A full run draws, among its figures, this one: [`docs/images/lessons/03_mlp_classifier.png`](../docs/images/lessons/03_mlp_classifier.png) (`training.png`).
#
# What you will see and build:
#
# - the linear layer $y = x W^\top + b$ (PyTorch's convention: `W` has shape `(out, in)`) and its three
#   gradients, each checked by hand and by `gradcheck`;
# - **broadcasting in gradients**: the bias is added to every row of the batch, so its gradient is the
#   **sum over the batch** of the output gradient;
# - a cross-entropy loss written with `logsumexp`, whose gradient is `softmax - one_hot`;
# - a two-layer MLP (784 -> 256 -> 10) trained with Adam on the 5,000 MNIST digits shipped with tinygan,
#   with the last 10 % of every class held out to measure accuracy on digits it never trained on.
#
# The code behind this lesson: `tinygan/functional/layers.py` (formulas `linear`, `linear-grad-input`,
# `linear-grad-weight`, `linear-grad-bias`), `tinygan/functional/arithmetic.py` and
# `tinygan/functional/reduce.py` (`Add`'s backward and `sum_to`), `tinygan/functional/arithmetic.py`
# (`logsumexp`, formula `log-sum-exp`), `tinygan/nn/linear.py` (`nn.Linear`), `tinygan/optim/adam.py` (`Adam`),
# `tinygan/data/` (`load_embedded_mnist`, `ImageLoader`).

# %%
import time

import matplotlib.pyplot as plt
import numpy as np

import tinygan
from tinygan import Tensor, backend, nn, optim
from tinygan import functional as F
from tinygan.data import ImageLoader, load_embedded_mnist
from tinygan.gradcheck import gradcheck
from tinygan.teach import Lesson

QUICK = False   # True: tiny settings, a run of seconds (a script takes --quick or TINYGAN_QUICK=1)
lesson = Lesson("03_mlp_classifier", quick=QUICK)
tinygan.manual_seed(0)
xp = backend.xp()

# %% [markdown]
# ## 1. The data: 5,000 real digits, and a held-out part
#
# `load_embedded_mnist()` (`tinygan/data/mnist.py`) returns uint8 images `(5000, 28, 28)` and labels,
# 500 per class, sorted by label, with no network needed. We keep the **last 50 of each class** (10 %)
# aside as a validation set: the model never trains on them, so accuracy there measures generalisation.

# %%
images, labels = load_embedded_mnist()
position_in_class = np.zeros(len(labels), dtype=int)
for digit in range(10):
    members = np.flatnonzero(labels == digit)
    position_in_class[members] = np.arange(len(members))
held_out = position_in_class >= 450
train_images, train_labels = images[~held_out], labels[~held_out]
val_images, val_labels = images[held_out], labels[held_out]
if lesson.quick:  # a random subset of 1,000 digits: seconds instead of a minute
    keep = np.random.default_rng(0).permutation(len(train_images))[:1000]
    train_images, train_labels = train_images[keep], train_labels[keep]
print(f"train {train_images.shape} {train_images.dtype}, validation {val_images.shape}; "
      f"validation digits per class: {np.bincount(val_labels, minlength=10)}")

fig, axes = plt.subplots(2, 10, figsize=(8, 2))
for i, ax in enumerate(axes.flat):
    index = np.flatnonzero(train_labels == i % 10)[i // 10]
    ax.imshow(train_images[index], cmap="gray")
    ax.set_title(str(train_labels[index]), fontsize=8)
    ax.axis("off")
lesson.savefig(fig, "digits.png")
plt.close(fig)

# %% [markdown]
# ## 2. The linear layer, forward
#
# `nn.Linear(in_features, out_features)` holds `weight` `(out, in)` and `bias` `(out,)` and calls
# `F.linear`, whose forward is one line (formula `linear`, `tinygan/functional/layers.py`):
#
# $$y = x W^\top + b, \qquad x: (N, \text{in}),\; y: (N, \text{out}).$$

# %%
layer = nn.Linear(784, 10)
x_batch = Tensor(backend.to_device((train_images[:8].reshape(8, -1) / 255).astype(np.float32),
                                   backend.current_device()))
out = layer(x_batch)
x_np, W_np, b_np = x_batch.numpy(), layer.weight.numpy(), layer.bias.numpy()
by_hand = x_np @ W_np.T + b_np
forward_error = np.abs(out.numpy() - by_hand).max()
print(f"weight {layer.weight.shape}, bias {layer.bias.shape}, output {out.shape}; "
      f"max |layer(x) - (x W^T + b)| = {forward_error:.2e}")

# %% [markdown]
# ## 3. Its gradients, and broadcasting
#
# For an output gradient $G = \partial L / \partial y$ of shape `(N, out)` (formulas `linear-grad-input`,
# `linear-grad-weight`, `linear-grad-bias`):
#
# $$\frac{\partial L}{\partial x} = G W, \qquad \frac{\partial L}{\partial W} = G^\top x, \qquad
# \frac{\partial L}{\partial b} = \sum_{n=1}^{N} G_{n,:}.$$
#
# Why a sum for the bias? $b$ has shape `(out,)` but is added to all $N$ rows: broadcasting **copies** it
# $N$ times, and a value used $N$ times collects the gradient of every use (the chain rule of lesson 02).
# Written with plain tensor ops, `x @ W.T + b` gets that sum from `Add`'s backward, which calls `sum_to`
# (`tinygan/functional/arithmetic.py`, `tinygan/functional/reduce.py`); `F.linear` writes it directly.
# We push the same random $G$ through both and compare with the formulas in NumPy.

# %%
G = backend.rng().standard_normal(out.shape, dtype=np.float32)
y_layer = layer(x_batch)
y_layer.backward(Tensor(G))
grads_layer = [layer.weight.grad.numpy(), layer.bias.grad.numpy()]

W_leaf = Tensor(layer.weight.array.copy(), requires_grad=True)
b_leaf = Tensor(layer.bias.array.copy(), requires_grad=True)
x_leaf = Tensor(x_batch.array.copy(), requires_grad=True)
y_ops = x_leaf @ W_leaf.T + b_leaf            # b_leaf (10,) broadcast over the 8 rows
y_ops.backward(Tensor(G))
G_np = backend.to_numpy(G)
print("bias gradient (F.linear)      :", np.round(grads_layer[1][:5], 4), "...")
print("bias gradient (x @ W.T + b)   :", np.round(b_leaf.grad.numpy()[:5], 4), "...")
print("sum of G over the batch       :", np.round(G_np.sum(axis=0)[:5], 4), "...")
bias_error = max(np.abs(grads_layer[1] - G_np.sum(axis=0)).max(), np.abs(b_leaf.grad.numpy() - G_np.sum(axis=0)).max())
weight_error = max(np.abs(grads_layer[0] - G_np.T @ x_np).max(), np.abs(W_leaf.grad.numpy() - G_np.T @ x_np).max())
input_error = np.abs(x_leaf.grad.numpy() - G_np @ W_np).max()
print(f"max errors: dL/db {bias_error:.1e}, dL/dW {weight_error:.1e}, dL/dx {input_error:.1e}")

x64 = Tensor(backend.rng().standard_normal((5, 4)), requires_grad=True, dtype=np.float64)
W64 = Tensor(backend.rng().standard_normal((3, 4)), requires_grad=True, dtype=np.float64)
b64 = Tensor(backend.rng().standard_normal(3), requires_grad=True, dtype=np.float64)
linear_gradcheck = gradcheck(F.linear, [x64, W64, b64])
print("gradcheck of F.linear w.r.t. x, W and b (float64, random weighting):", linear_gradcheck)

# %% [markdown]
# ## 4. The loss: cross-entropy through logsumexp
#
# The network outputs 10 **logits** $z$ per image; softmax turns them into probabilities. The loss is
# the negative log-probability of the true class $y$:
#
# $$\ell(z, y) = -\log \mathrm{softmax}(z)_y = \log \sum_k e^{z_k} - z_y .$$
#
# `F.logsumexp` (formula `log-sum-exp`, `tinygan/functional/arithmetic.py`) subtracts the largest logit
# before `exp`, so nothing overflows. The gradient with respect to the logits is
# $\mathrm{softmax}(z) - \mathrm{onehot}(y)$ (divided by $N$ for the mean): we check that too.

# %%
def cross_entropy(logits, targets):
    """Mean over the batch of logsumexp(z) - z[y]; targets is an int64 Tensor of class labels."""
    n = logits.shape[0]
    rows = backend.get_array_module(logits.array).arange(n)
    picked = logits[rows, targets.array]                                     # z_y, shape (N,)
    return (F.logsumexp(logits, axis=1) - picked).mean()


z = Tensor(backend.rng().standard_normal((6, 10)), requires_grad=True, dtype=np.float64)
targets = Tensor(xp.asarray([0, 3, 3, 9, 1, 7]))
cross_entropy(z, targets).backward()
z_np = z.numpy()
softmax = np.exp(z_np - z_np.max(axis=1, keepdims=True))
softmax /= softmax.sum(axis=1, keepdims=True)
one_hot = np.eye(10)[backend.to_numpy(targets.array)]
ce_grad_error = np.abs(z.grad.numpy() - (softmax - one_hot) / 6).max()
print(f"max |dL/dz - (softmax - onehot)/N| = {ce_grad_error:.1e}")

# %% [markdown]
# ## 5. Training a small MLP
#
# 784 -> 256 -> ReLU -> 10, Adam with learning rate 1e-3 (`tinygan/optim/adam.py`), batches of 64 from a
# `ImageLoader` (`tinygan/data/loader.py`) that scales pixels to [0, 1] and flattens each image to 784
# numbers. After each epoch we measure accuracy on the held-out digits, under `no_grad()` (no graph).

# %%
model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10)).to(backend.current_device())
print(model)
optimizer = optim.Adam(model.parameters(), lr=1e-3)
loader = ImageLoader(train_images, train_labels, batch_size=64, flatten=True, value_range=(0, 1), seed=0)
x_val = Tensor(backend.to_device((val_images.reshape(len(val_images), -1) / 255).astype(np.float32),
                                 backend.current_device()))


def validation_accuracy():
    model.eval()
    with tinygan.no_grad():
        predicted = model(x_val).numpy().argmax(axis=1)
    model.train()
    return float((predicted == val_labels).mean()), predicted


epochs = 2 if lesson.quick else 6
losses, accuracies = [], []
started = time.perf_counter()
for epoch in range(epochs):
    for xb, yb in loader:
        loss = cross_entropy(model(xb), yb)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    accuracy, predicted = validation_accuracy()
    accuracies.append(accuracy)
    print(f"epoch {epoch + 1}/{epochs}: mean training loss {np.mean(losses[-len(loader):]):.4f}, "
          f"held-out accuracy {accuracy:.3f}  ({time.perf_counter() - started:.1f} s)")

# %% [markdown]
# The loss curve (every step, and its running mean) and the held-out digits the model gets wrong.

# %%
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3))
ax1.plot(losses, alpha=0.3, label="cross-entropy per batch")
window = max(1, len(loader) // 4)
ax1.plot(np.arange(window - 1, len(losses)), np.convolve(losses, np.ones(window) / window, mode="valid"),
         label=f"running mean of {window}")
ax1.set_xlabel("step")
ax1.set_yscale("log")
ax1.legend(fontsize=7)
ax2.plot(np.arange(1, epochs + 1), accuracies, marker="o")
ax2.set_xlabel("epoch")
ax2.set_ylabel("held-out accuracy")
fig.tight_layout()
lesson.savefig(fig, "training.png")
plt.close(fig)

wrong = np.flatnonzero(predicted != val_labels)[:16]
fig, axes = plt.subplots(2, 8, figsize=(8, 2.4))
for ax in axes.flat:
    ax.axis("off")
for ax, index in zip(axes.flat, wrong):
    ax.imshow(val_images[index], cmap="gray")
    ax.set_title(f"{val_labels[index]} as {predicted[index]}", fontsize=7)
fig.suptitle("held-out digits the MLP gets wrong (true as predicted)", fontsize=8)
lesson.savefig(fig, "mistakes.png")
plt.close(fig)

# %% [markdown]
# ## Checks
#
# Full mode promises at least 90 % accuracy on the 500 held-out digits after 6 epochs. Quick mode
# trains 2 epochs on 1,000 digits and only asks for better than 50 % (chance is 10 %).

# %%
lesson.check("nn.Linear computes x W^T + b", forward_error < 1e-5, f"max error {forward_error:.1e}")
lesson.check("the bias gradient is the sum of dL/dy over the batch (both ways of writing the layer)",
             bias_error < 1e-4, f"max error {bias_error:.1e}")
lesson.check("dL/dW = G^T x and dL/dx = G W", weight_error < 1e-4 and input_error < 1e-4,
             f"max errors {weight_error:.1e}, {input_error:.1e}")
lesson.check("gradcheck of F.linear agrees (x, W, b)", linear_gradcheck)
lesson.check("the cross-entropy gradient is (softmax - onehot) / N", ce_grad_error < 1e-12,
             f"max error {ce_grad_error:.1e}")
# Dropout, the regulariser such a classifier often carries: in training it zeroes each unit with
# probability p and scales the survivors by 1/(1 - p), so a unit's expected value is what eval mode gives.
tinygan.manual_seed(3)
dropped = F.dropout(tinygan.ones(100_000), p=0.5).numpy()
lesson.check("dropout keeps the expected activation: survivors are scaled to 1/(1-p) = 2, the mean stays ~1",
             set(np.unique(dropped)) <= {0.0, 2.0} and abs(dropped.mean() - 1) < 0.02,
             f"values {sorted(set(np.unique(dropped)))}, mean {dropped.mean():.3f}")
first, last = np.mean(losses[:10]), np.mean(losses[-10:])
lesson.check("the training loss falls and stays finite", np.isfinite(losses).all() and last < 0.5 * first,
             f"first 10 steps {first:.3f}, last 10 steps {last:.3f}")
bar = 0.50 if lesson.quick else 0.90
lesson.check(f"held-out accuracy >= {bar:.0%}", accuracies[-1] >= bar,
             f"{accuracies[-1]:.1%} on {len(val_labels)} digits")
lesson.finish()
