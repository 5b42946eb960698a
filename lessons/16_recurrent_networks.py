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
# # Lesson 16: recurrent networks
#
# A full run draws, among its figures, this one: [`docs/images/lessons/16_recurrent_networks.png`](../docs/images/lessons/16_recurrent_networks.png) (`samples.png`).
#
# **What you will see.** A network with a memory: one state vector carried from step to step. You compute
# one step of an RNN and of an LSTM by hand and match the layers; you see that backpropagation through time
# is nothing but the ordinary backward pass over the unrolled graph; you measure how the gradient reaching
# back in time shrinks (vanishes) in a tanh RNN and in an LSTM; you clip a gradient; and you train a digit
# generator that writes an image one row at a time, then draws new digits row by row.
#
# | step | formula id (see `docs/formulas.md`) | where the code lives |
# | --- | --- | --- |
# | the RNN state update $h_t = \tanh(W_{ih} x_t + b_{ih} + W_{hh} h_{t-1} + b_{hh})$ | `rnn-cell` | `tinygan/functional/recurrent.py` |
# | the LSTM gates $i, f, g, o$, cell and hidden state | `lstm-input-gate` ... `lstm-hidden-state` | `tinygan/functional/recurrent.py` |
# | the layers over time, layers and directions | - | `tinygan/nn/rnn.py` |
# | the row-by-row generator and its sampling | - | `tinygan/models/rnn.py` (`RowLSTM`) |
#
# Run it with `python lessons/16_recurrent_networks.py` (full mode: about 20 s on a 2-core CPU) or add
# `--quick` for a seconds-long smoke run whose numbers are not the lesson's promises. Figures go to
# `lessons/output/16_recurrent_networks/`.

# %%
import time

import matplotlib.pyplot as plt
import numpy as np

import tinygan
import tinygan.functional as F
from tinygan import nn, optim, viz
from tinygan.autograd import Tensor, grad, no_grad
from tinygan.data import ImageLoader, embedded_split
from tinygan.models import RowLSTM
from tinygan.models.rnn import binarize, normal_cdf
from tinygan.teach import Lesson

QUICK = False   # True: tiny settings, a run of seconds (a script takes --quick or TINYGAN_QUICK=1)
lesson = Lesson("16_recurrent_networks", quick=QUICK)
started = time.perf_counter()
tinygan.manual_seed(0)
rng = np.random.default_rng(0)

HIDDEN = 32 if lesson.quick else 256           # the generator's LSTM width
EPOCHS = 1 if lesson.quick else 5
STEPS_PER_EPOCH = 15 if lesson.quick else None  # quick mode: a few steps only
NLL_BAR = 160.0                                 # full mode: nats per held-out image; measured 145.1 after 5 epochs


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


# %% [markdown]
# ## Step 1: one step, by hand
#
# An Elman RNN keeps a state $h$ and updates it from each input $x_t$:
#
# $$h_t = \tanh(W_{ih} x_t + b_{ih} + W_{hh} h_{t-1} + b_{hh})$$
#
# (the seed documents write $W_{xh} x_t + W_{hh} h_{t-1} + b_h$: the same thing, PyTorch keeps two biases).
# An LSTM adds a *cell* $c$ and four gates computed from the same two products, stacked in the order
# $i, f, g, o$ in `weight_ih` (4H rows) and `weight_hh`:
#
# $$c_t = f_t \odot c_{t-1} + i_t \odot g_t, \qquad h_t = o_t \odot \tanh(c_t)$$

# %%
I, H, N = 3, 4, 2
x, h, c = rng.standard_normal((N, I)), rng.standard_normal((N, H)), rng.standard_normal((N, H))

rnn_cell = nn.RNNCell(I, H).double()
W_ih, W_hh = rnn_cell.weight_ih.array, rnn_cell.weight_hh.array
by_hand = np.tanh(x @ W_ih.T + rnn_cell.bias_ih.array + h @ W_hh.T + rnn_cell.bias_hh.array)
layer = rnn_cell(Tensor(x), Tensor(h)).array
rnn_error = np.abs(by_hand - layer).max()
print(f"RNN step: |by hand - nn.RNNCell| = {rnn_error:.1e}")

lstm_cell = nn.LSTMCell(I, H).double()
a = (x @ lstm_cell.weight_ih.array.T + lstm_cell.bias_ih.array + h @ lstm_cell.weight_hh.array.T
     + lstm_cell.bias_hh.array)                                             # (N, 4H): i, f, g, o
i_gate, f_gate, g_gate, o_gate = sigmoid(a[:, :H]), sigmoid(a[:, H:2 * H]), np.tanh(a[:, 2 * H:3 * H]), sigmoid(a[:, 3 * H:])
c_hand = f_gate * c + i_gate * g_gate
h_hand = o_gate * np.tanh(c_hand)
h_layer, c_layer = lstm_cell(Tensor(x), (Tensor(h), Tensor(c)))
lstm_error = max(np.abs(h_hand - h_layer.array).max(), np.abs(c_hand - c_layer.array).max())
print(f"LSTM step: |by hand - nn.LSTMCell| = {lstm_error:.1e}")

# Two classic slips, computed the wrong way on purpose: how far they land from the layer.
wrong_order = sigmoid(a[:, :H]) * c + sigmoid(a[:, H:2 * H]) * np.tanh(a[:, 2 * H:3 * H])   # i and f swapped
no_forget = i_gate * g_gate                                                                 # c_t without f * c
print(f"with i and f swapped the cell is off by {np.abs(wrong_order - c_layer.array).max():.2f}; "
      f"without the forget term by {np.abs(no_forget - c_layer.array).max():.2f}")

# %% [markdown]
# ## Step 2: backpropagation through time is the ordinary backward
#
# `nn.RNN` calls the cell once per step; the graph it records is the *unrolled* network, one copy of the cell
# per step sharing the same weights. Its backward pass is the chain rule through that graph, and nothing
# else. For a tanh RNN the Jacobian of one step is $\partial h_t / \partial h_{t-1} = \mathrm{diag}(1 - h_t^2)\,
# W_{hh}$, so the gradient that reaches $h_0$ from $h_T$ is a product of $T$ such matrices. Here it is by
# hand, against autograd.

# %%
T = 6
rnn = nn.RNN(I, H).double()
xs = Tensor(rng.standard_normal((T, 1, I)))
h0 = Tensor(rng.standard_normal((1, 1, H)), requires_grad=True)
output, h_T = rnn(xs, h0)
u = rng.standard_normal(H)
(h_T.reshape(H) * Tensor(u)).sum().backward()

W = rnn.weight_hh_l0.array
states = output.array[:, 0]                                   # h_1..h_T, (T, H)
vector = u
for t in range(T - 1, -1, -1):                               # u^T dh_T/dh_0, one step back at a time
    vector = (vector * (1 - states[t] ** 2)) @ W
bptt_error = np.abs(vector - h0.grad.array.reshape(H)).max()
print(f"u^T dh_T/dh_0: product of {T} step Jacobians by hand vs autograd, max difference {bptt_error:.1e}")

# %% [markdown]
# ## Step 3: vanishing gradients, measured
#
# If every factor $\mathrm{diag}(1 - h^2) W_{hh}$ shrinks a vector, the product shrinks it geometrically:
# what happened 20 steps ago barely moves the loss. The LSTM's cell is updated *additively*
# ($c_t = f_t c_{t-1} + \dots$), so along the cell the factor is the forget gate $f_t$, with no weight matrix
# and no squashing derivative. Below: the norm of $\partial (u^\top h_T) / \partial h_t$ against $T - t$, at
# initialisation, for a tanh RNN, an LSTM, and an LSTM whose forget-gate biases start at 1
# (Jozefowicz et al. 2015), which keeps $f \approx 0.73$ rather than 0.5.

# %%
def gradient_norms(cell, kind, T, H, N=16):
    """||d(u . h_T)/dh_t|| for t = T-1..0 (index: T - 1 - t), with random inputs and a random u."""
    data = np.random.default_rng(1)
    state = Tensor(np.zeros((N, H)))
    memory = Tensor(np.zeros((N, H)))
    hs = []
    for _ in range(T):
        x_t = Tensor(data.standard_normal((N, H)))
        if kind == "rnn":
            state = cell(x_t, state)
        else:
            state, memory = cell(x_t, (state, memory))
        hs.append(state)
    weighting = Tensor(data.standard_normal((N, H)))
    grads = grad((hs[-1] * weighting).sum(), hs)
    return np.array([np.linalg.norm(g.array) for g in grads])[::-1]


VANISH_T, VANISH_H = (30, 32) if lesson.quick else (60, 64)
tinygan.manual_seed(0)
curves = {"tanh RNN": gradient_norms(nn.RNNCell(VANISH_H, VANISH_H).double(), "rnn", VANISH_T, VANISH_H),
          "LSTM": gradient_norms(nn.LSTMCell(VANISH_H, VANISH_H).double(), "lstm", VANISH_T, VANISH_H)}
biased = nn.LSTMCell(VANISH_H, VANISH_H).double()
biased.bias_ih.array[VANISH_H:2 * VANISH_H] = 1.0              # the forget gate's rows: f = sigmoid(1 + ...)
biased.bias_hh.array[VANISH_H:2 * VANISH_H] = 0.0
curves["LSTM, forget bias 1"] = gradient_norms(biased, "lstm", VANISH_T, VANISH_H)

fig, ax = plt.subplots(figsize=(6, 4))
for name, norms in curves.items():
    ax.semilogy(np.arange(len(norms)), norms, label=name)
ax.set_xlabel("T - t (steps back in time)")
ax.set_ylabel("||d(u . h_T) / d h_t||")
ax.set_title("gradients vanish back in time (at initialisation)")
ax.legend()
lesson.savefig(fig, "vanishing_gradients.png")
plt.close(fig)
for name, norms in curves.items():
    print(f"{name:>20}: norm at T-t = 0, 10, 20: {norms[0]:.2e}, {norms[10]:.2e}, {norms[20]:.2e}")

# %% [markdown]
# ## Step 4: clipping
#
# Gradients can also *explode* (factors larger than 1). `nn.utils.clip_grad_norm_` rescales all gradients
# together when their joint norm exceeds a bound: the direction stays, only the length is capped.

# %%
clip_model = nn.RNN(I, H)
out, _ = clip_model(Tensor(rng.standard_normal((T, 2, I)).astype(np.float32)))
(out * 100.0).sum().backward()
before = [p.grad.array.copy() for p in clip_model.parameters()]
total = nn.utils.clip_grad_norm_(clip_model.parameters(), max_norm=1.0)
after = [p.grad.array for p in clip_model.parameters()]
norm_after = float(np.sqrt(sum((g.astype(np.float64) ** 2).sum() for g in after)))
scale = after[0].ravel() @ before[0].ravel() / (before[0].ravel() @ before[0].ravel())
print(f"gradient norm before {float(total):.1f}, after {norm_after:.4f}; every gradient scaled by {scale:.4f}")

# %% [markdown]
# ## Step 5: teacher forcing in training, free sampling at generation
#
# The generator reads a digit as 28 rows. At step $t$ its input is row $t-1$ (row $-1$ is zeros) and a linear
# layer gives the 28 Bernoulli logits of row $t$, so
# $-\log p(x) = \sum_t \sum_j \mathrm{BCE}(\text{logit}_{tj}, x_{tj})$ in nats per image.
# In training the *true* rows go in (teacher forcing): all 28 steps run in one call. In sampling there are no
# true rows: each drawn row is fed back as the next input. The two agree when the drawn image is fed in as if it
# were data: every pixel was drawn from exactly the probability that teacher forcing gives it.

# %%
(train_images, _), (test_images, _) = embedded_split()
tinygan.manual_seed(0)
generator = RowLSTM(hidden=HIDDEN)
noise = Tensor(np.random.default_rng(2).standard_normal((8, 784)).astype(np.float32))
drawn = generator.sample(noise)
with no_grad():
    p_forced = F.sigmoid(generator(drawn)).array.reshape(8, 784)
uniforms = normal_cdf(noise.array)              # the sampler's noise is N(0, 1) per pixel; Phi makes it U(0, 1)
consistent = np.array_equal(drawn.array.reshape(8, 784), (uniforms < p_forced).astype(np.float32))
print(f"sampled pixels = (uniform < teacher-forced probability) everywhere: {consistent}")

# %% [markdown]
# ## Step 6: the row-by-row generator
#
# Binarised digits (pixel = 1 where intensity >= 0.5), Adam 1e-3, batch 64; the held-out digits' NLL is the
# measure (`tinygan train rnn` runs the same recipe for 30 epochs).

# %%
loader = ImageLoader(train_images, batch_size=64, value_range=(0, 1), seed=0, drop_last=True)
held_out = binarize(Tensor((test_images.reshape(-1, 1, 28, 28) / 255.0).astype(np.float32)))
opt = optim.Adam(generator.parameters(), lr=1e-3)


def held_out_nll():
    generator.eval()
    with no_grad():
        value = generator.nll(held_out).item()
    generator.train()
    return value


nll_before = held_out_nll()
losses = []
for epoch in range(EPOCHS):
    loader.set_epoch(epoch)
    for step, images in enumerate(loader):
        if STEPS_PER_EPOCH and step >= STEPS_PER_EPOCH:
            break
        loss = generator.nll(binarize(images))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    print(f"epoch {epoch + 1}: training NLL {np.mean(losses[-20:]):.1f} nats per image")
nll_after = held_out_nll()
print(f"held-out NLL: {nll_before:.1f} before training, {nll_after:.1f} after ({784 * np.log(2):.1f} = a coin per pixel)")

samples = generator.sample(Tensor(np.random.default_rng(3).standard_normal((64, 784)).astype(np.float32)))
fig, ax = plt.subplots(figsize=(5, 5))
ax.imshow(viz.image_grid(samples.array.reshape(-1, 28, 28), ncols=8, value_range=(0, 1)), cmap="gray")
ax.set_title(f"drawn row by row after {EPOCHS} epoch(s)")
ax.axis("off")
lesson.savefig(fig, "samples.png")
plt.close(fig)

# %% [markdown]
# ## Checks

# %%
lesson.check("an RNN step by hand equals nn.RNNCell", rnn_error < 1e-12, f"{rnn_error:.1e}")
lesson.check("an LSTM step by hand (gates i, f, g, o; c = f*c + i*g) equals nn.LSTMCell", lstm_error < 1e-12,
             f"{lstm_error:.1e}")
lesson.check("the formula with i and f swapped, or without f*c, does not", min(
    np.abs(wrong_order - c_layer.array).max(), np.abs(no_forget - c_layer.array).max()) > 1e-3)
lesson.check("BPTT: the product of step Jacobians equals autograd's gradient of h_0", bptt_error < 1e-12,
             f"{bptt_error:.1e}")
rnn_norms, lstm_norms = curves["tanh RNN"], curves["LSTM"]
lesson.check("the tanh RNN's gradient vanishes: 20 steps back it is below 1e-3 of its size at T",
             rnn_norms[20] < 1e-3 * rnn_norms[0], f"ratio {rnn_norms[20] / rnn_norms[0]:.1e}")
lesson.check("20 steps back the LSTM keeps more gradient than the tanh RNN", lstm_norms[20] > rnn_norms[20],
             f"{lstm_norms[20]:.1e} vs {rnn_norms[20]:.1e}")
lesson.check("clipping caps the norm at 1 and keeps the direction", abs(norm_after - 1) < 1e-4 and all(
    np.allclose(b * scale, a, rtol=1e-4, atol=1e-9) for a, b in zip(after, before)))
lesson.check("sampling and teacher forcing are the same model", consistent)
lesson.check("training lowers the held-out NLL", nll_after < nll_before - 5, f"{nll_before:.1f} -> {nll_after:.1f}")
if not lesson.quick:
    lesson.check(f"after {EPOCHS} epochs the held-out NLL is below {NLL_BAR:.0f} nats", nll_after < NLL_BAR,
                 f"{nll_after:.1f}")
print(f"({time.perf_counter() - started:.0f} s)")
lesson.finish()
