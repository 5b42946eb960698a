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
# # Lesson 04: convolution
#
# A full run draws, among its figures, this one: [`docs/images/lessons/04_convolution.png`](../docs/images/lessons/04_convolution.png) (`feature_maps.png`).
#
# What you will see and build:
#
# - the **output size** of a convolution, from one formula, checked against real outputs;
# - **im2col**: every receptive field copied into one column, so that a convolution becomes a single
#   matrix product; you will see the column matrix and its shape;
# - `F.conv2d` compared with a plain six-loop convolution;
# - both gradients of `conv2d` (input and weight) checked by `gradcheck`;
# - **transposed convolution as the adjoint** of convolution:
#   $\langle \mathrm{conv}(z, w), x\rangle = \langle z, \mathrm{convT}(x, w)\rangle$, checked numerically
#   (this is why the generator of a DCGAN can *upsample* with `ConvTranspose2d`);
# - feature maps of a real digit under a few filters.
#
# The code behind this lesson: `tinygan/functional/conv.py` (formulas `conv-output-size`,
# `conv-transpose-output-size`, `im2col`, `conv2d`, `conv2d-grad-input`, `conv2d-grad-weight`,
# `conv-transpose2d`), and `tinygan/nn/conv.py` (`nn.Conv2d`, `nn.ConvTranspose2d`).
#
# Notation (the same letters as the code): N batch, C channels in, O channels out, H W input size,
# KH KW kernel size, SH SW stride, PH PW padding, OH OW output size.

# %%
import matplotlib.pyplot as plt
import numpy as np

import tinygan
from tinygan import Tensor, backend, nn
from tinygan import functional as F
from tinygan.data import load_embedded_mnist
from tinygan.gradcheck import gradcheck
from tinygan.teach import Lesson

QUICK = False   # True: tiny settings, a run of seconds (a script takes --quick or TINYGAN_QUICK=1)
lesson = Lesson("04_convolution", quick=QUICK)
tinygan.manual_seed(0)
rng = np.random.default_rng(0)


def tensor64(*shape, requires_grad=False):
    """A float64 tensor of standard normal values on the current device (for exact comparisons)."""
    return Tensor(backend.to_device(rng.standard_normal(shape), backend.current_device()),
                  requires_grad=requires_grad, dtype=np.float64)


# %% [markdown]
# ## 1. The output size
#
# Formula `conv-output-size` (`conv_output_size` in `tinygan/functional/conv.py`):
#
# $$OH = \left\lfloor \frac{H + 2 PH - DH (KH - 1) - 1}{SH} \right\rfloor + 1$$
#
# ("how many times does the kernel fit", with DH the dilation, 1 unless you ask for more).

# %%
settings = [  # (H, KH, SH, PH)
    (28, 3, 1, 1),   # "same" padding keeps the size
    (28, 3, 1, 0),   # "valid": loses KH - 1
    (28, 4, 2, 1),   # DCGAN's downsampling: halves it
    (14, 4, 2, 1),
    (7, 3, 2, 0),    # the floor at work
]
size_ok = True
print(" H  KH SH PH  formula  conv2d output")
for H, KH, SH, PH in settings:
    predicted = F.conv_output_size(H, KH, SH, PH)
    actual = F.conv2d(Tensor(np.zeros((1, 1, H, H), dtype=np.float32)),
                      Tensor(np.zeros((1, 1, KH, KH), dtype=np.float32)), stride=SH, padding=PH).shape[2]
    size_ok &= predicted == actual
    print(f"{H:2d}  {KH:2d} {SH:2d} {PH:2d}  {predicted:7d}  {actual:7d}")

# %% [markdown]
# ## 2. im2col: receptive fields as columns
#
# `F.im2col(x, kernel_size)` (formula `im2col`) copies each KH x KW window of every channel into one
# column: shape `(N, C*KH*KW, OH*OW)`, the layout of `torch.nn.functional.unfold`. On a 4 x 4 image
# holding 0..15 with a 2 x 2 kernel, column `j` is the window of output pixel `j`:

# %%
tiny = Tensor(np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4))
tiny_cols = F.im2col(tiny, kernel_size=2)
print("image:\n", tiny.numpy()[0, 0].astype(int))
print(f"im2col with a 2x2 kernel -> shape {tiny_cols.shape} (N, C*KH*KW, OH*OW):\n",
      tiny_cols.numpy()[0].astype(int))

# %% [markdown]
# With the columns, the convolution is **one matrix product** (formula `conv2d`): the weight
# `(O, C, KH, KW)` flattened to `(O, C*KH*KW)` times the columns `(C*KH*KW, OH*OW)`, plus the bias.
# That is exactly the reference code in `tinygan/functional/conv.py`. The fast kernel that runs by default
# (`tinygan/kernels/conv.py`) builds the transposed *rows* `(N*OH*OW, KH*KW*C)` channels-last instead (every
# copy then runs over contiguous memory, which is faster in NumPy); the product is the same, and
# `tinygan.use_kernels("reference")` switches to the reference.

# %%
images, labels = load_embedded_mnist()
digits = Tensor(backend.to_device((images[:4, None] / 255).astype(np.float64), backend.current_device()))
weight, bias = tensor64(8, 1, 3, 3), tensor64(8)
cols = F.im2col(digits, kernel_size=3, padding=1)
N, O = digits.shape[0], weight.shape[0]
print(f"digits {digits.shape} -> columns {cols.shape}; weight {weight.shape} -> matrix {(O, cols.shape[1])}")
gemm = (weight.reshape(O, -1) @ cols).reshape(N, O, 28, 28) + bias.reshape(1, O, 1, 1)
conv = F.conv2d(digits, weight, bias, padding=1)
gemm_error = np.abs(gemm.numpy() - conv.numpy()).max()
print(f"max |W @ im2col(x) + b - conv2d(x)| = {gemm_error:.1e}")
with tinygan.kernels.using("reference"):         # the readable code in tinygan/functional/conv.py
    reference_conv = F.conv2d(digits, weight, bias, padding=1)
kernel_error = np.abs(reference_conv.numpy() - conv.numpy()).max()
print(f"max |reference conv2d - fast conv2d| = {kernel_error:.1e}")

fig, ax = plt.subplots(figsize=(5, 2))
ax.imshow(tiny_cols.numpy()[0], cmap="viridis")
for (i, j), value in np.ndenumerate(tiny_cols.numpy()[0]):
    ax.text(j, i, int(value), ha="center", va="center", fontsize=7, color="w")
ax.set_xlabel("output pixel (OH*OW)")
ax.set_ylabel("(c, kh, kw)")
ax.set_title("im2col of a 4x4 image, 2x2 kernel")
lesson.savefig(fig, "im2col.png")
plt.close(fig)

# %% [markdown]
# ## 3. The same convolution with loops
#
# The definition, with no tricks (cross-correlation, as in PyTorch): for every image n, output channel
# o and output pixel (oh, ow), multiply the window of the zero-padded input by the kernel and add up.

# %%
def conv2d_loops(x, w, b, stride, padding):
    N, C, H, W = x.shape
    O, _, KH, KW = w.shape
    OH = (H + 2 * padding - KH) // stride + 1
    OW = (W + 2 * padding - KW) // stride + 1
    padded = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    y = np.zeros((N, O, OH, OW))
    for n in range(N):
        for o in range(O):
            for oh in range(OH):
                for ow in range(OW):
                    window = padded[n, :, oh * stride:oh * stride + KH, ow * stride:ow * stride + KW]
                    y[n, o, oh, ow] = (window * w[o]).sum() + b[o]
    return y


x_small, w_small, b_small = tensor64(2, 3, 9, 9), tensor64(4, 3, 3, 3), tensor64(4)
loop_error = 0.0
for stride, padding in ((1, 0), (2, 1), (3, 2)):
    fast = F.conv2d(x_small, w_small, b_small, stride=stride, padding=padding).numpy()
    slow = conv2d_loops(x_small.numpy(), w_small.numpy(), b_small.numpy(), stride, padding)
    loop_error = max(loop_error, np.abs(fast - slow).max())
    print(f"stride {stride}, padding {padding}: output {fast.shape}, "
          f"max |conv2d - loops| = {np.abs(fast - slow).max():.1e}")

# %% [markdown]
# ## 4. Both gradients, checked numerically
#
# With $G = \partial L/\partial y$ (`Conv2d.backward` in `tinygan/functional/conv.py`):
#
# - input gradient (formula `conv2d-grad-input`): $\partial L/\partial x = \mathrm{convT}(G, w)$, the
#   transposed convolution, which `col2im` computes by adding every window's share back where it came from;
# - weight gradient (formula `conv2d-grad-weight`): $\partial L/\partial w = G_{\text{rows}}^\top\,
#   \mathrm{rows}(x)$, one more matrix product with the same im2col rows as the forward;
# - bias gradient: $G$ summed over N, OH, OW (broadcasting again, as in lesson 03).
#
# `gradcheck` compares all three with central differences (float64, random output weighting).

# %%
xg, wg, bg = tensor64(2, 2, 5, 5, requires_grad=True), tensor64(3, 2, 3, 3, requires_grad=True), \
    tensor64(3, requires_grad=True)
conv_grad_ok = {}
for stride, padding in ((1, 1), (2, 0)):
    conv_grad_ok[stride, padding] = gradcheck(
        lambda a, b, c, s=stride, p=padding: F.conv2d(a, b, c, stride=s, padding=p), [xg, wg, bg])
    print(f"gradcheck conv2d (stride {stride}, padding {padding}) w.r.t. x, w, b: agrees")

# %% [markdown]
# ## 5. Transposed convolution is the adjoint of convolution
#
# Convolution with a fixed weight $w$ is a linear map $A$ from inputs $z$ to outputs. Its adjoint
# $A^\top$ satisfies $\langle A z, x\rangle = \langle z, A^\top x\rangle$ for all $z$, $x$:
# that is `conv_transpose2d` with the **same** weight (formula `conv-transpose2d`; its weight shape
# `(C_in, C_out, KH, KW)` is conv's `(O, C, KH, KW)` read the other way). Where a stride-2 convolution
# maps 8 x 8 to 4 x 4, its transpose maps 4 x 4 back to 8 x 8 (formula `conv-transpose-output-size`:
# $(H - 1) SH - 2 PH + KH + \text{output\_padding}$). It is not an inverse: it spreads each value over
# a kernel-sized patch.

# %%
adjoint_errors = []
for (H, KH, S, P) in ((8, 4, 2, 1), (7, 3, 2, 1), (8, 3, 2, 1), (6, 3, 1, 0)):   # 8, 3, 2, 1 needs output_padding 1
    w = tensor64(5, 3, KH, KH)                              # conv: 3 channels -> 5
    z = tensor64(2, 3, H, H)
    OH = F.conv_output_size(H, KH, S, P)
    x = tensor64(2, 5, OH, OH)
    output_padding = H - F.conv_transpose_output_size(OH, KH, S, P)  # recover H when the floor cut something off
    left = float((F.conv2d(z, w, stride=S, padding=P).numpy() * x.numpy()).sum())
    transposed = F.conv_transpose2d(x, w, stride=S, padding=P, output_padding=output_padding)
    right = float((z.numpy() * transposed.numpy()).sum())
    adjoint_errors.append(abs(left - right) / abs(left))
    print(f"H={H}, K={KH}, stride {S}, padding {P}: conv {z.shape[2:]} -> {(OH, OH)}, convT back to "
          f"{transposed.shape[2:]};  <conv(z,w),x> = {left:+.10f}, <z,convT(x,w)> = {right:+.10f}")

xt, wt = tensor64(1, 2, 3, 3, requires_grad=True), tensor64(2, 3, 4, 4, requires_grad=True)
convT_grad_ok = gradcheck(lambda a, b: F.conv_transpose2d(a, b, stride=2, padding=1), [xt, wt])
print("gradcheck conv_transpose2d (stride 2, padding 1) w.r.t. x and w: agrees")

# One input pixel set to 1 stamps the kernel into the output: upsampling, learned.
stamp_input = np.zeros((1, 1, 3, 3))
stamp_input[0, 0, 1, 1] = 1.0
kernel = np.arange(1, 17, dtype=np.float64).reshape(1, 1, 4, 4)
stamp = F.conv_transpose2d(Tensor(stamp_input), Tensor(kernel), stride=2, padding=1).numpy()[0, 0]
print("convT of a single 1 (3x3 input, 4x4 kernel 1..16, stride 2, padding 1) -> 6x6:\n", stamp.astype(int))

# %% [markdown]
# ## 6. Feature maps of a real digit
#
# Hand-made 3 x 3 filters make the meaning of a convolution visible: a Sobel filter responds to
# vertical edges, its transpose to horizontal ones, a box filter blurs. A freshly initialised
# `nn.Conv2d(1, 4, 3)` (random weights, `tinygan/nn/conv.py`) gives less readable maps; training is
# what turns random filters into useful ones (lesson 09).

# %%
sobel = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=np.float32)
filters = np.stack([sobel, sobel.T, np.ones((3, 3), dtype=np.float32) / 9,
                    np.array([[0, -1, 0], [-1, 4, -1], [0, -1, 0]], dtype=np.float32)])[:, None]
names = ["vertical edges (Sobel)", "horizontal edges", "blur (box)", "Laplacian"]
digit = Tensor(backend.to_device((images[labels == 7][:1, None] / 255).astype(np.float32), backend.current_device()))
maps = F.conv2d(digit, Tensor(backend.to_device(filters, backend.current_device())), padding=1).numpy()[0]
random_layer = nn.Conv2d(1, 4, 3, padding=1).to(backend.current_device())
with tinygan.no_grad():
    random_maps = random_layer(digit).numpy()[0]
print(f"digit {digit.shape} -> hand-made maps {maps.shape}, random Conv2d maps {random_maps.shape}")

fig, axes = plt.subplots(2, 5, figsize=(10, 4.4))
for row, (row_maps, row_names) in enumerate(((maps, names), (random_maps, [f"random filter {i}" for i in range(4)]))):
    axes[row, 0].imshow(digit.numpy()[0, 0], cmap="gray")
    axes[row, 0].set_title("input", fontsize=8)
    for i in range(4):
        limit = np.abs(row_maps[i]).max()               # white = 0, red > 0, blue < 0
        axes[row, i + 1].imshow(row_maps[i], cmap="RdBu_r", vmin=-limit, vmax=limit)
        axes[row, i + 1].set_title(row_names[i], fontsize=8)
for ax in axes.flat:
    ax.axis("off")
fig.tight_layout()
lesson.savefig(fig, "feature_maps.png")
plt.close(fig)

# %% [markdown]
# ## Checks

# %%
lesson.check("the output-size formula matches conv2d's output for every setting", size_ok)
lesson.check("im2col columns times the flattened weight equal conv2d", gemm_error < 1e-12,
             f"max error {gemm_error:.1e}")
lesson.check("the fast conv2d kernel and the reference code give the same numbers", kernel_error < 1e-12,
             f"max difference {kernel_error:.1e}")
lesson.check("conv2d equals the six-loop definition (three stride/padding settings)", loop_error < 1e-12,
             f"max error {loop_error:.1e}")
lesson.check("gradcheck of conv2d agrees for the input, weight and bias gradients", all(conv_grad_ok.values()))
lesson.check("<conv2d(z, w), x> = <z, conv_transpose2d(x, w)> (relative error < 1e-12)",
             max(adjoint_errors) < 1e-12, f"largest relative error {max(adjoint_errors):.1e}")
lesson.check("gradcheck of conv_transpose2d agrees", convT_grad_ok)
lesson.finish()
