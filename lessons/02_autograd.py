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
# # Lesson 02: autograd from scratch
#
# A full run draws, among its figures, this one: [`docs/images/lessons/02_autograd.png`](../docs/images/lessons/02_autograd.png) (`tanh_derivatives.png`).
#
# What you will see and build:
#
# - the **graph** that tinygan records while you compute: every result remembers the `Function` that
#   made it (`tensor.creator`) and that function's inputs;
# - the **chain rule** walked by hand over that graph, in **topological order**, and compared with a
#   derivative worked out on paper and with `backward()`;
# - `tinygan.gradcheck.gradcheck`, which compares a backward pass with finite differences, and **why it
#   weights the output randomly**: a softmax with a deliberately wrong backward passes a check of
#   `sum(f(x))` but is caught by a random weighting;
# - gradients of gradients with `create_graph=True` (what WGAN-GP needs in lesson 11).
#
# The code behind this lesson: `tinygan/autograd.py` (`Tensor`, `Function`, `backward`, `grad`, formula
# `chain-rule`), `tinygan/gradcheck.py` (formula `central-difference`), and the `Function`s of
# `tinygan/functional/` (for example `Mul`, `Add` in `arithmetic.py`, `Tanh` in `activation.py`).

# %%
import math

import matplotlib.pyplot as plt
import numpy as np

import tinygan
from tinygan import Function, Tensor, backend
from tinygan import functional as F
from tinygan.gradcheck import GradcheckError, gradcheck, gradgradcheck
from tinygan.teach import Lesson

QUICK = False   # True: tiny settings, a run of seconds (a script takes --quick or TINYGAN_QUICK=1)
lesson = Lesson("02_autograd", quick=QUICK)
tinygan.manual_seed(0)

# %% [markdown]
# ## 1. A tiny graph
#
# $L = \tanh(x y + x)$ with $x = 0.5$, $y = -1.2$. Each operation is a `Function` subclass whose
# `apply` computes the forward on arrays and, because an input requires gradients, records itself on
# the output. Note that $x$ is used **twice** (in $xy$ and in $+x$).

# %%
x = Tensor(0.5, requires_grad=True, name="x")
y = Tensor(-1.2, requires_grad=True, name="y")
a = x * y
a.name = "a = x*y"
b = a + x
b.name = "b = a + x"
L = b.tanh()
L.name = "L = tanh(b)"

for t in (x, y, a, b, L):
    if t.creator is None:
        print(f"{t.name:12s} value {t.item():+.4f}  leaf (made by you)")
    else:
        parents = ", ".join(p.name for p in t.creator.inputs)
        print(f"{t.name:12s} value {t.item():+.4f}  made by {type(t.creator).__name__}({parents})")

# %% [markdown]
# ## 2. Topological order
#
# To push gradients backwards we must visit a tensor only after **every** tensor that used it: $x$'s
# gradient is complete only when both $a$ and $b$ have sent theirs. A depth-first search that appends a
# tensor after its inputs gives such an order (inputs first); backward walks it in reverse.
# tinygan's version is `_topological_order` in `tinygan/autograd.py` (iterative, so a graph thousands of
# operations deep needs no recursion); here is the recursive one, small enough to read at a glance.

# %%
def topological_order(root):
    """Every tensor that `root` was computed from, each one after all of its inputs."""
    order, seen = [], set()

    def visit(tensor):
        if id(tensor) in seen:
            return
        seen.add(id(tensor))
        if tensor.creator is not None:
            for parent in tensor.creator.inputs:
                visit(parent)
        order.append(tensor)

    visit(root)
    return order


def is_topological(order):
    """True when every tensor comes after the inputs of the function that made it."""
    position = {id(t): i for i, t in enumerate(order)}
    return all(position[id(p)] < position[id(t)] for t in order if t.creator is not None
               for p in t.creator.inputs if id(p) in position)


order = topological_order(L)
print("our order:    ", " -> ".join(t.name for t in order))
library_order = tinygan.autograd._topological_order([L])  # read-only peek at the engine's own order
print("engine order: ", " -> ".join(t.name for t in library_order))

# %% [markdown]
# ## 3. The chain rule, walked by hand
#
# Formula `chain-rule` (`tinygan/autograd.py`): a tensor's gradient is the sum, over the functions that
# consumed it, of that function's backward applied to the gradient of its output,
#
# $$\frac{\partial L}{\partial x} = \sum_{f \text{ consumes } x}
#   \Big(\frac{\partial f}{\partial x}\Big)^{\!\top} \frac{\partial L}{\partial f}.$$
#
# We start with $\partial L / \partial L = 1$, walk the order backwards, call each `Function`'s
# `backward` (the very methods `backward()` uses) and **add** what arrives at each tensor.

# %%
grads = {id(L): Tensor(backend.get_array_module(L.array).ones_like(L.array))}  # dL/dL = 1
with tinygan.no_grad():
    for t in reversed(order):
        if t.creator is None:
            continue
        input_grads = t.creator.backward(grads[id(t)])
        if not isinstance(input_grads, tuple):
            input_grads = (input_grads,)
        for parent, g in zip(t.creator.inputs, input_grads):
            grads[id(parent)] = g if id(parent) not in grads else grads[id(parent)] + g
            print(f"  {type(t.creator).__name__:5s} sends {g.item():+.5f} to {parent.name}")
manual_dx, manual_dy = grads[id(x)].item(), grads[id(y)].item()
print(f"x collected two contributions: {manual_dx:+.5f} in total")

# The same with the engine, and on paper: dL/dx = (1 - tanh(b)^2) (y + 1), dL/dy = (1 - tanh(b)^2) x.
L.backward()
t2 = 1 - math.tanh(0.5 * -1.2 + 0.5) ** 2
paper_dx, paper_dy = t2 * (-1.2 + 1), t2 * 0.5
print(f"dL/dx: by hand walk {manual_dx:+.6f}, backward() {x.grad.item():+.6f}, on paper {paper_dx:+.6f}")
print(f"dL/dy: by hand walk {manual_dy:+.6f}, backward() {y.grad.item():+.6f}, on paper {paper_dy:+.6f}")

# %% [markdown]
# ## 4. Checking a backward with finite differences
#
# `tinygan.gradcheck.gradcheck(fn, inputs)` compares every element of the analytic gradient with the
# central difference (formula `central-difference`, `tinygan/gradcheck.py`)
#
# $$\frac{\partial}{\partial x_i} \langle u, f(x)\rangle \approx
#   \frac{\langle u, f(x + h e_i)\rangle - \langle u, f(x - h e_i)\rangle}{2h},$$
#
# in float64 (in float32 the rounding error of the difference alone is about 0.1), for a **random**
# output weighting $u$. It returns True or raises `GradcheckError` naming the worst element.

# %%
a64 = Tensor(backend.rng().standard_normal((3, 4)), requires_grad=True, dtype=np.float64)
b64 = Tensor(backend.rng().standard_normal((4, 2)), requires_grad=True, dtype=np.float64)
gradcheck(lambda p, q: F.tanh(p @ q) * F.sigmoid(p).sum(), [a64, b64])
print("gradcheck of tanh(A @ B) * sum(sigmoid(A)) w.r.t. A and B: agrees")

# %% [markdown]
# ## 5. Why a random weighting? A softmax with a wrong backward
#
# $\mathrm{softmax}(x)_i = e^{x_i} / \sum_j e^{x_j}$. Its backward (the Jacobian-vector product) is
# $\partial L/\partial x = y \odot (g - \langle g, y\rangle)$ with $y = \mathrm{softmax}(x)$,
# $g = \partial L / \partial y$. We write it twice as our own `Function` (forward on arrays, backward
# with tinygan ops), once right and once with a **sign error**.
#
# Softmax's outputs always sum to 1, so $\sum_i \mathrm{softmax}(x)_i$ does not depend on $x$: checking
# only the gradient of $\sum f(x)$ (weighting $u = 1$) compares two zeros, whatever the backward does.
# (Wrapping `fn` as `lambda x: f(x).sum()` makes the output one number, so gradcheck's random weighting
# becomes a multiple of the sum: this is exactly the naive check.)

# %%
class Softmax(Function):
    """y = softmax(x) over the last axis;  dL/dx = y * (g - sum(g * y))."""

    def forward(self, x):
        xp = backend.get_array_module(x)
        e = xp.exp(x - x.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)

    def backward(self, grad):
        y = self.output
        return y * (grad - (grad * y).sum(axis=-1, keepdims=True))


class WrongSoftmax(Softmax):
    """The same forward, with the sign of the backward flipped: a bug."""

    def backward(self, grad):
        y = self.output
        return y * ((grad * y).sum(axis=-1, keepdims=True) - grad)


def try_gradcheck(fn, inputs):
    try:
        return gradcheck(fn, inputs), "agrees"
    except GradcheckError as error:
        return False, str(error)


logits = Tensor(backend.rng().standard_normal((4, 5)), requires_grad=True, dtype=np.float64)
reference = (logits - F.logsumexp(logits, axis=-1, keepdims=True)).exp()  # softmax from library ops
print("our softmax matches exp(x - logsumexp(x)) (formula log-sum-exp):",
      np.allclose(Softmax.apply(logits).numpy(), reference.numpy()))
results = {}
for name, op in (("Softmax", Softmax), ("WrongSoftmax", WrongSoftmax)):
    results[name, "sum"] = try_gradcheck(lambda t, op=op: op.apply(t).sum(), [logits])
    results[name, "random"] = try_gradcheck(lambda t, op=op: op.apply(t), [logits])
    for weighting in ("sum", "random"):
        passed, message = results[name, weighting]
        verdict = "passes" if passed else "is caught: " + message[:140]
        print(f"{name:12s} checked with the {weighting:6s} weighting {verdict}")

# %% [markdown]
# The same blind spot hides the mistakes of every operation whose output sum is constant or depends on
# few inputs: batch-norm's centred output (lesson 05), a normalised vector, a mean-subtracted loss.
# That is why tinygan's own tests (and this lesson) always weight randomly.

# %% [markdown]
# ## 6. Gradients of gradients
#
# Every `backward` in tinygan is written with tinygan's own differentiable operations. With
# `create_graph=True` the backward pass is itself recorded, so the gradient can be differentiated again
# (`tinygan.grad(outputs, inputs, create_graph=True)` in `tinygan/autograd.py`). Without it, nothing is
# recorded during backward: ordinary training pays nothing.
#
# For $y = \tanh(x)$: $y' = 1 - y^2$ (formula `tanh-derivative`) and $y'' = -2 y (1 - y^2)$.

# %%
points = 41 if lesson.quick else 201
xs = Tensor(np.linspace(-3, 3, points), requires_grad=True, dtype=np.float64)
ys = F.tanh(xs)
(first,) = tinygan.grad(ys.sum(), xs, create_graph=True)     # each y_i depends on x_i only
(second,) = tinygan.grad(first.sum(), xs)
(plain_first,) = tinygan.grad(F.tanh(xs).sum(), xs)          # create_graph=False (the default)
print("first derivative records a graph:", first.requires_grad,
      "| without create_graph:", plain_first.requires_grad)
t = np.tanh(xs.numpy())
first_error = np.abs(first.numpy() - (1 - t ** 2)).max()
second_error = np.abs(second.numpy() - (-2 * t * (1 - t ** 2))).max()
print(f"max |tanh' - (1 - tanh^2)| = {first_error:.2e},  max |tanh'' - (-2 tanh (1 - tanh^2))| = {second_error:.2e}")

fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(xs.numpy(), ys.numpy(), label="tanh(x)")
ax.plot(xs.numpy(), first.numpy(), label="first derivative (autograd)")
ax.plot(xs.numpy(), second.numpy(), label="second derivative (autograd, create_graph=True)")
ax.plot(xs.numpy(), -2 * t * (1 - t ** 2), "k:", label="-2 tanh (1 - tanh^2) (on paper)")
ax.legend(fontsize=7)
ax.grid(alpha=0.3)
ax.set_title("tanh and two derivatives through tinygan's backward")
lesson.savefig(fig, "tanh_derivatives.png")
plt.close(fig)

# %% [markdown]
# `gradgradcheck` checks second derivatives numerically: it runs gradcheck on $x \mapsto \partial\langle
# u, f(x)\rangle / \partial x$, built with `create_graph=True`.

# %%
w64 = Tensor(backend.rng().standard_normal((3, 3)), requires_grad=True, dtype=np.float64)
v64 = Tensor(backend.rng().standard_normal((2, 3)), requires_grad=True, dtype=np.float64)
try:
    second_order_ok = gradgradcheck(lambda v, w: F.softplus(v @ w) * F.tanh(v), [v64, w64])
except GradcheckError as error:
    second_order_ok = False
    print(error)
print("gradgradcheck of softplus(V @ W) * tanh(V):", "agrees" if second_order_ok else "disagrees")

# %% [markdown]
# ## Checks

# %%
lesson.check("our order and the engine's are both topological (each tensor after its inputs)",
             is_topological(order) and is_topological(library_order) and len(order) == len(library_order))
lesson.check("the hand walk of the chain rule equals backward()",
             abs(manual_dx - x.grad.item()) < 1e-6 and abs(manual_dy - y.grad.item()) < 1e-6)
lesson.check("backward() equals the derivative on paper",
             abs(x.grad.item() - paper_dx) < 1e-6 and abs(y.grad.item() - paper_dy) < 1e-6,
             f"dL/dx {x.grad.item():+.6f} vs {paper_dx:+.6f}")
lesson.check("gradcheck with a random weighting passes the correct softmax", results["Softmax", "random"][0])
lesson.check("a check of sum(f) alone lets the wrong softmax pass (the blind spot)",
             results["WrongSoftmax", "sum"][0])
lesson.check("gradcheck with a random weighting catches the wrong softmax", not results["WrongSoftmax", "random"][0])
lesson.check("second derivative of tanh by create_graph=True matches the formula", second_error < 1e-10,
             f"max error {second_error:.1e}")
lesson.check("gradgradcheck agrees for softplus(V @ W) * tanh(V)", second_order_ok)
lesson.finish()
