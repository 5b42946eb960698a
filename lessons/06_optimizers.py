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
# # Lesson 06: optimizers
#
# A full run draws, among its figures, this one: [`docs/images/lessons/06_optimizers.png`](../docs/images/lessons/06_optimizers.png) (`rosenbrock.png`).
#
# What you will see and build:
#
# - **SGD**, **SGD with momentum** and **Adam** on one problem, the Rosenbrock valley
#   $f(x, y) = (1 - x)^2 + 100\,(y - x^2)^2$ (minimum 0 at (1, 1), at the end of a long, narrow,
#   curved valley: steep across it, nearly flat along it);
# - each update rule checked by hand on its first steps;
# - Adam's **bias correction**: its first step moves every coordinate by about the learning rate,
#   whatever the size of the gradient, and without the correction it would move ~3 times as far;
# - trajectories on the contour map and loss curves, and the loss each optimizer reaches.
#
# The code behind this lesson: `tinygan/optim/sgd.py` and `tinygan/optim/adam.py` (formulas `sgd-update`,
# `sgd-momentum`, `adam-moments`, `adam-bias-correction`, `adam-update`). The update rules are PyTorch's, step for
# step.

# %%
import time

import matplotlib.pyplot as plt
import numpy as np

from tinygan import Tensor, optim
from tinygan.teach import Lesson

QUICK = False   # True: tiny settings, a run of seconds (a script takes --quick or TINYGAN_QUICK=1)
lesson = Lesson("06_optimizers", quick=QUICK)
START = (-1.5, 2.0)


def rosenbrock(p):
    """f(x, y) = (1 - x)^2 + 100 (y - x^2)^2 for a parameter tensor p = (x, y)."""
    x, y = p[0], p[1]
    return (1 - x) ** 2 + 100 * (y - x ** 2) ** 2


def rosenbrock_gradient(x, y):
    """On paper: df/dx = -2 (1 - x) - 400 x (y - x^2),  df/dy = 200 (y - x^2)."""
    return np.array([-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)])


def new_point():
    """The starting point as a float64 leaf tensor (the optimizer changes its array in place)."""
    return Tensor(np.array(START, dtype=np.float64), requires_grad=True)


def step(optimizer, p, scale=1.0):
    """One optimisation step: zero the gradient, compute the loss, backward, update."""
    loss = rosenbrock(p) * scale
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss.item() / scale


g0 = rosenbrock_gradient(*START)
print(f"start {START}: f = {rosenbrock(new_point()).item():.3f}, gradient {g0} "
      f"(|df/dx| is {abs(g0[0] / g0[1]):.1f}x |df/dy|)")

# %% [markdown]
# ## 1. SGD and momentum, by hand
#
# SGD (formula `sgd-update`): $p \leftarrow p - \eta\, g$.
# With momentum $\mu$ (formula `sgd-momentum`, PyTorch's form): a velocity buffer $b \leftarrow \mu b + g$
# (with $b = g$ at the first step), then $p \leftarrow p - \eta\, b$. The buffer keeps moving along
# directions where the gradient keeps pointing the same way (along the valley) and averages out the
# directions where it flips sign (across it).

# %%
lr_sgd, mu = 1e-3, 0.9
p = new_point()
sgd = optim.SGD([p], lr=lr_sgd)
step(sgd, p)
sgd_hand = np.array(START) - lr_sgd * g0
sgd_error = np.abs(p.numpy() - sgd_hand).max()
print("SGD after one step:      ", p.numpy(), " by hand:", sgd_hand)

p = new_point()
momentum = optim.SGD([p], lr=lr_sgd, momentum=mu)
step(momentum, p)
p1 = np.array(START) - lr_sgd * g0                       # b1 = g0
step(momentum, p)
b2 = mu * g0 + rosenbrock_gradient(*p1)
p2 = p1 - lr_sgd * b2
print("momentum after two steps:", p.numpy(), " by hand:", p2)
momentum_hand_error = np.abs(p.numpy() - p2).max()

# %% [markdown]
# ## 2. Adam and its bias correction
#
# Adam (Kingma & Ba, 2015, Algorithm 1) keeps running means of the gradient and of its square
# (formula `adam-moments`), corrects their bias towards the zeros they start from (formula
# `adam-bias-correction`), and divides one by the square root of the other (formula `adam-update`):
#
# $$m \leftarrow \beta_1 m + (1 - \beta_1) g, \quad v \leftarrow \beta_2 v + (1 - \beta_2) g^2, \quad
# \hat m = \frac{m}{1 - \beta_1^t}, \quad \hat v = \frac{v}{1 - \beta_2^t}, \quad
# p \leftarrow p - \eta \frac{\hat m}{\sqrt{\hat v} + \epsilon}.$$
#
# At $t = 1$: $\hat m = g$ and $\hat v = g^2$, so every coordinate moves by $\eta\,\mathrm{sign}(g)$,
# here the same distance for both coordinates although their gradients differ 3x. Without the
# correction the first step would be $\eta (1 - \beta_1) / \sqrt{1 - \beta_2} \approx 3.16\,\eta$: far
# too large exactly when the optimizer knows least.

# %%
lr_adam = 0.02
p = new_point()
adam = optim.Adam([p], lr=lr_adam)
step(adam, p)
first_move = p.numpy() - np.array(START)
beta1, beta2 = 0.9, 0.999
m1, v1 = (1 - beta1) * g0, (1 - beta2) * g0 ** 2
uncorrected_move = -lr_adam * m1 / (np.sqrt(v1) + 1e-8)
print(f"Adam (lr {lr_adam}) first step moves each coordinate by {first_move} "
      f"(|move| / lr = {np.abs(first_move) / lr_adam})")
print(f"without bias correction it would move by {uncorrected_move} "
      f"(|move| / lr = {np.abs(uncorrected_move) / lr_adam})")

# %% [markdown]
# A consequence: Adam's steps do not depend on the scale of the loss. Multiply $f$ by 1000 and SGD
# with the same learning rate would jump out of the valley at once, while Adam takes (almost exactly)
# the same path: only $\epsilon$ notices the scale.

# %%
paths = []
for scale in (1.0, 1000.0):
    p = new_point()
    opt = optim.Adam([p], lr=lr_adam)
    for _ in range(100):
        step(opt, p, scale)
    paths.append(p.numpy())
scale_difference = np.abs(paths[0] - paths[1]).max()
print(f"Adam after 100 steps on f: {paths[0]}, on 1000 f: {paths[1]} (max difference {scale_difference:.1e})")

# %% [markdown]
# ## 3. The race down the valley
#
# Same start, each optimizer with a learning rate that is stable for it: plain SGD must stay below
# ~2/(curvature across the valley), so it crawls along the floor; momentum builds up speed along it;
# Adam rescales each coordinate.

# %%
steps = 1500 if lesson.quick else 3000
runs = {
    "SGD lr=1e-3": lambda params: optim.SGD(params, lr=1e-3),
    "SGD momentum 0.9, lr=1e-3": lambda params: optim.SGD(params, lr=1e-3, momentum=0.9),
    "Adam lr=0.02": lambda params: optim.Adam(params, lr=0.02),
}
trajectories, loss_curves = {}, {}
started = time.perf_counter()
for name, make in runs.items():
    p = new_point()
    opt = make([p])
    path, curve = [p.numpy().copy()], []
    for _ in range(steps):
        curve.append(step(opt, p))
        path.append(p.numpy().copy())
    curve.append(rosenbrock(p).item())
    trajectories[name], loss_curves[name] = np.array(path), np.array(curve)
    print(f"{name:27s}: after {steps} steps at {np.round(p.numpy(), 5)}, loss {curve[-1]:.3e}")
print(f"({3 * steps} steps in {time.perf_counter() - started:.1f} s)")

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
gx, gy = np.meshgrid(np.linspace(-2, 2, 300), np.linspace(-1, 3, 300))
ax1.contour(gx, gy, np.log10((1 - gx) ** 2 + 100 * (gy - gx ** 2) ** 2 + 1e-3), levels=25, cmap="gray", linewidths=0.6)
for name, path in trajectories.items():
    ax1.plot(path[:, 0], path[:, 1], lw=1.2, label=name)
ax1.plot(*START, "ko", label="start")
ax1.plot(1, 1, "r*", markersize=12, label="minimum (1, 1)")
ax1.set_title("trajectories on log10 f")
ax1.legend(fontsize=7)
for name, curve in loss_curves.items():
    ax2.plot(np.maximum(curve, 1e-30), label=name)
ax2.set_yscale("log")
ax2.set_xlabel("step")
ax2.set_ylabel("f")
ax2.set_title("loss curves")
ax2.legend(fontsize=7)
fig.tight_layout()
lesson.savefig(fig, "rosenbrock.png")
plt.close(fig)

# %% [markdown]
# ## Checks
#
# Full mode (3,000 steps) promises: SGD below 0.1, momentum below 1e-6, Adam below 1e-3.
# Quick mode (1,500 steps) asks less: SGD below 5 (from 12.5 at the start), momentum below 1e-3, Adam below 0.1.

# %%
lesson.check("SGD's step is p - lr g (by hand)", sgd_error < 1e-12, f"max error {sgd_error:.1e}")
lesson.check("momentum's two steps match b = mu b + g, p = p - lr b (by hand)", momentum_hand_error < 1e-12,
             f"max error {momentum_hand_error:.1e}")
lesson.check("Adam's first step moves each coordinate by ~lr (bias correction)",
             np.allclose(np.abs(first_move), lr_adam, rtol=1e-6), f"|move| / lr = {np.abs(first_move) / lr_adam}")
lesson.check("without bias correction the first step would be ~3.16 lr",
             np.allclose(np.abs(uncorrected_move) / lr_adam, (1 - beta1) / np.sqrt(1 - beta2), rtol=1e-6))
lesson.check("Adam's path does not depend on the scale of the loss", scale_difference < 1e-6,
             f"max difference {scale_difference:.1e}")
bars = ({"SGD lr=1e-3": 5.0, "SGD momentum 0.9, lr=1e-3": 1e-3, "Adam lr=0.02": 0.1} if lesson.quick else
        {"SGD lr=1e-3": 0.1, "SGD momentum 0.9, lr=1e-3": 1e-6, "Adam lr=0.02": 1e-3})
for name, bar in bars.items():
    final = loss_curves[name][-1]
    lesson.check(f"{name} reaches f < {bar:g} in {steps} steps", final < bar, f"f = {final:.3e}")
lesson.finish()
