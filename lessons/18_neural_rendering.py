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
# # Lesson 18: neural rendering
#
# A full run draws, among its figures, this one: [`docs/images/lessons/18_neural_rendering.png`](../docs/images/lessons/18_neural_rendering.png) (`nerf_views.png`).
#
# **What you will see.** A network that learns a 3-D scene from 32 photographs of it and renders views it never
# saw: a neural radiance field (Mildenhall et al., 2020). You build a camera and its rays; you render a known
# density with the quadrature of the rendering integral and match the closed form; you see why the network
# needs its inputs written as sines (positional encoding) by fitting one image with and without them; you
# train the field and watch the held-out views sharpen; and you read a depth map out of it.
#
# | step | formula id (see `docs/formulas.md`) | where the code lives |
# | --- | --- | --- |
# | the ray through each pixel | `nerf-camera-ray` | `tinygan/data/scene.py` (`camera_rays`) |
# | samples along the ray | `nerf-stratified-samples` | `tinygan/models/nerf.py` |
# | $\gamma(p) = (p, \sin 2^k \pi p, \cos 2^k \pi p)$ | `nerf-positional-encoding` | `tinygan/functional/rendering.py` |
# | $\alpha_i$, $T_i$ (an exclusive cumulative sum), $C = \sum T_i \alpha_i c_i$ | `nerf-alpha`, `nerf-transmittance`, `nerf-colour` | `tinygan/functional/rendering.py` |
# | the expected depth $\sum T_i \alpha_i t_i$ | `nerf-expected-depth` | `tinygan/functional/rendering.py` |
# | PSNR | `psnr` | `tinygan/evaluation/metrics.py` |
# | the scene, its exact renderer (sphere tracing) and the 40 views | - | `tinygan/data/scene.py` |
#
# Run it with `python lessons/18_neural_rendering.py` (full mode: 1,000 NeRF steps, 20 minutes on a busy 2-core
# CPU, most of it step 4) or add `--quick` for a seconds-long smoke run whose numbers are not the lesson's promises. Figures go
# to `lessons/output/18_neural_rendering/`.

# %%
import math
import time

import matplotlib.pyplot as plt
import numpy as np

import tinygan
import tinygan.functional as F
from tinygan import nn, optim
from tinygan.evaluation import metrics
from tinygan.autograd import Tensor
from tinygan.data import scene
from tinygan.models import NeRF
from tinygan.models.nerf import render_views
from tinygan.teach import Lesson
from tinygan.train.nerf import mean_colour_baseline, training_rays
from tinygan.train import NeRFStep

QUICK = False   # True: tiny settings, a run of seconds (a script takes --quick or TINYGAN_QUICK=1)
lesson = Lesson("18_neural_rendering", quick=QUICK)
started = time.perf_counter()
tinygan.manual_seed(0)

# the NeRF of step 4: full mode is the recipe of `tinygan train nerf` (1024 rays a step, 32 samples, width 128)
NERF_STEPS = 60 if lesson.quick else 1000
NERF_BATCH, NERF_SAMPLES, NERF_WIDTH = (256, 16, 32) if lesson.quick else (1024, 32, 128)
SNAPSHOTS = (20, 60) if lesson.quick else (100, 300, 1000)
FIT_STEPS = 100 if lesson.quick else 1000           # step 3: the 2-D image fits
FIT_SIZE = 32 if lesson.quick else 64
PSNR_BAR = 25.0                                     # full mode, dB on the held-out views; measured 27.7 at 1000 steps

# %% [markdown]
# ## 1. A camera and its rays
#
# Each camera sits on a hemisphere of radius 4 and looks at the origin. Its pose is a camera-to-world matrix:
# the columns are the camera's right, up and backward axes and its position $o$. The pixel $(i, j)$ of a
# $32 \times 32$ image with focal length $f = 40$ pixels looks along
# $d_{\text{cam}} = ((j + \tfrac12 - 16)/f,\ -(i + \tfrac12 - 16)/f,\ -1)$; turned into the world, $d = R\, d_{\text{cam}}$,
# normalised. Every point of the ray is $o + t\,d$.

# %%
views = scene.load_scene_views()
pose = views.poses[0]
origins, directions = scene.camera_rays(pose)
print(f"{len(views.poses)} views: {len(views.train)} to train on, {len(views.test)} held out; "
      f"camera 0 at {np.round(pose[:3, 3], 2)}")

# the rays through the four centre pixels straddle the optical axis, which points at the origin
centre = directions.reshape(32, 32, 3)[15:17, 15:17].reshape(4, 3).mean(axis=0)
axis_error = float(np.linalg.norm(centre / np.linalg.norm(centre) + pose[:3, 3] / np.linalg.norm(pose[:3, 3])))
# each ray, taken back into the camera's coordinates, lands on its own pixel
d_cam = directions @ pose[:3, :3]
columns = 16 + 40 * d_cam[:, 0] / -d_cam[:, 2]
rows = 16 - 40 * d_cam[:, 1] / -d_cam[:, 2]
i, j = np.meshgrid(np.arange(32) + 0.5, np.arange(32) + 0.5, indexing="ij")
pixel_error = float(max(np.abs(rows - i.ravel()).max(), np.abs(columns - j.ravel()).max()))
print(f"optical axis error {axis_error:.1e}; rays back onto their pixels within {pixel_error:.1e} pixels")

fig = plt.figure(figsize=(10, 4))
ax = fig.add_subplot(1, 2, 1, projection="3d")
positions = views.poses[:, :3, 3]
ax.scatter(*positions[views.train].T, s=10, label="training cameras")
ax.scatter(*positions[views.test].T, s=20, marker="^", label="held-out cameras")
for k in range(0, 1024, 97):                       # a fan of camera 0's rays, 6 units long
    ax.plot(*np.stack([origins[k], origins[k] + 6 * directions[k]]).T, color="grey", linewidth=0.5)
ax.scatter([0], [0], [0], color="red", s=30, label="origin")
ax.set_title("40 cameras on a hemisphere of radius 4")
ax.legend(fontsize=7)
ax2 = fig.add_subplot(1, 2, 2)
ax2.imshow(views.images[0], interpolation="nearest")
ax2.set_title("what camera 0 sees (sphere-traced)")
ax2.axis("off")
lesson.savefig(fig, "cameras_and_rays.png")
plt.close(fig)

# %% [markdown]
# ## 2. Rendering a known density: the quadrature against the closed form
#
# Along a ray, density $\sigma(t)$ is the chance per unit length that light stops there. The colour seen is
# $C = \int T(t)\,\sigma(t)\,c(t)\,dt$ with $T(t) = e^{-\int_{t_n}^{t} \sigma}$. With $N$ samples it becomes
#
# $$\alpha_i = 1 - e^{-\sigma_i \delta_i}, \qquad T_i = e^{-\sum_{j<i} \sigma_j \delta_j}, \qquad C = \sum_i T_i \alpha_i c_i .$$
#
# Take a slab of constant density $\sigma_0$ and colour $c$ from $t = 3$ to $t = 5$. Its closed form is
# $C = c\,(1 - e^{-\sigma_0 L})$, $L = 2$. With the slab's edges on segment edges the quadrature is exact (the
# product of the segments' transmittances telescopes); a slab from 3.1 to 4.9, whose edges fall inside segments,
# converges as $N$ grows.
# $T_i$ sums the segments *before* $i$: an inclusive sum (a plain `cumsum`) dims each sample by its own density
# a second time.

# %%
SIGMA0, SLAB = 1.5, (3.0, 5.0)
COLOUR = np.array([0.9, 0.6, 0.1])
INSIDE = (3.1, 4.9)                  # edges inside the segments for every N below


def closed_form(slab):
    return COLOUR * (1 - math.exp(-SIGMA0 * (slab[1] - slab[0])))


def render_slab(N, slab=SLAB, transmittance="exclusive"):
    """The colour of a slab rendered with N samples on [2, 6], each standing for the segment after it."""
    t = 2.0 + np.arange(N) * 4.0 / N
    sigma = np.where((t >= slab[0]) & (t < slab[1]), SIGMA0, 0.0)[None]
    rgb = np.broadcast_to(COLOUR, (1, N, 3)).copy()
    if transmittance == "exclusive":                                   # tinygan's renderer
        return F.volume_render(Tensor(sigma), Tensor(rgb), Tensor(t[None]), 6.0)[0].array[0]
    optical_depth = sigma * F.segment_lengths(Tensor(t[None]), 6.0).array
    alpha = 1 - np.exp(-optical_depth)
    T = np.exp(-np.cumsum(optical_depth, axis=1))                     # the mistake: j <= i
    return (T * alpha)[0] @ rgb[0]


counts = [4, 8, 16, 32, 64, 128, 256]
aligned = [np.abs(render_slab(N) - closed_form(SLAB)).max() for N in counts]
shifted = [np.abs(render_slab(N, INSIDE) - closed_form(INSIDE)).max() for N in counts]
inclusive = [np.abs(render_slab(N, transmittance="inclusive") - closed_form(SLAB)).max() for N in counts]
slab_error = max(aligned)
print(f"closed form {np.round(closed_form(SLAB), 4)}; the quadrature with edges on segments: largest error "
      f"{slab_error:.1e}")
print(f"with edges inside segments: error {shifted[0]:.3f} at N = 4, {shifted[-1]:.4f} at N = 256")
print(f"with an inclusive T: error {inclusive[0]:.3f} at N = 4, {inclusive[-1]:.4f} at N = 256")

fig, ax = plt.subplots(figsize=(6, 3.5))
ax.loglog(counts, np.maximum(aligned, 1e-17), "o-", label="exclusive T, slab edges on segment edges")
ax.loglog(counts, shifted, "s-", label="exclusive T, slab 3.1-4.9: edges inside segments")
ax.loglog(counts, inclusive, "^-", label="inclusive T (wrong)")
ax.set_xlabel("samples per ray N")
ax.set_ylabel("|C - closed form|")
ax.set_title("rendering a constant-density slab")
ax.legend(fontsize=7)
lesson.savefig(fig, "slab_quadrature.png")
plt.close(fig)

# %% [markdown]
# ## 3. Why positional encoding: one image, fitted with and without it
#
# Feed an MLP the raw pixel coordinates $(x, y)$ and ask for the colour: it learns a blur, because an MLP of a
# few inputs prefers smooth functions of them. Feed it $\gamma(x, y)$, sines and cosines of frequencies
# $2^k \pi$, and the same MLP draws the edges. The NeRF does the same with $(x, y, z)$.

# %%
target = scene.render_view(views.poses[3], FIT_SIZE, FIT_SIZE, focal=40.0 * FIT_SIZE / 32)[0]
coordinates = np.stack(np.meshgrid(np.linspace(-1, 1, FIT_SIZE), np.linspace(-1, 1, FIT_SIZE), indexing="ij"),
                       axis=-1).reshape(-1, 2).astype(np.float32)
pixels = Tensor(target.reshape(-1, 3).astype(np.float32))


def fit_image(frequencies):
    """An MLP 2 -> 128 -> 128 -> 3 (sigmoid) fitted to `target` by full-batch Adam; (image, PSNR)."""
    tinygan.manual_seed(1)
    mlp = nn.Sequential(nn.Linear(2 * (1 + 2 * frequencies), 128), nn.ReLU(), nn.Linear(128, 128), nn.ReLU(),
                        nn.Linear(128, 3))
    opt = optim.Adam(mlp.parameters(), lr=2e-3)
    inputs = F.positional_encoding(Tensor(coordinates), frequencies)
    for _ in range(FIT_STEPS):
        loss = F.mse_loss(F.sigmoid(mlp(inputs)), pixels)
        opt.zero_grad()
        loss.backward()
        opt.step()
    image = F.sigmoid(mlp(inputs)).array.reshape(FIT_SIZE, FIT_SIZE, 3)
    return image, metrics.psnr(image, target)


raw_image, raw_psnr = fit_image(0)
encoded_image, encoded_psnr = fit_image(6)
print(f"after {FIT_STEPS} steps: raw (x, y) {raw_psnr:.1f} dB, gamma(x, y) with L = 6 {encoded_psnr:.1f} dB")

fig, axes = plt.subplots(1, 3, figsize=(9, 3.3))
for ax, image, title in zip(axes, [target, raw_image, encoded_image],
                            ["the image", f"MLP of (x, y): {raw_psnr:.1f} dB",
                             f"MLP of gamma(x, y): {encoded_psnr:.1f} dB"]):
    ax.imshow(np.clip(image, 0, 1), interpolation="nearest")
    ax.set_title(title, fontsize=9)
    ax.axis("off")
lesson.savefig(fig, "positional_encoding.png")
plt.close(fig)

# %% [markdown]
# ## 4. The full NeRF: the held-out views sharpen
#
# The field: $\gamma(p)$ (39 numbers) $\to$ 4 layers of 128 with ReLU $\to$ density (softplus) and colour
# (sigmoid). Each step takes random pixels of the 32 training views, samples their rays (one jittered sample in
# each of 32 bins between $t = 2$ and $t = 6$), renders them with the quadrature of step 2 and lowers the squared
# error against the true colours. `NeRFStep` (`tinygan/train/nerf.py`) is that step; `tinygan train nerf` runs it
# for 2,000 steps. The 8 held-out views are rendered with the samples at the bin centres.

# %%
tinygan.manual_seed(0)
field = NeRF(width=NERF_WIDTH)
step = NeRFStep(field, optim.Adam(field.parameters(), lr=5e-4), training_rays(views), views.near, views.far,
                num_samples=NERF_SAMPLES, batch_size=NERF_BATCH)
truth = views.images[views.test]
baseline = mean_colour_baseline(views)["test_psnr"]


def held_out():
    images, depths, opacities = render_views(field, views.poses[views.test], views.near, views.far, NERF_SAMPLES,
                                             views.height, views.width, views.focal)
    field.train()
    return images, depths, opacities


snapshots, psnr_curve = {}, []
for k in range(1, NERF_STEPS + 1):
    step()
    if k in SNAPSHOTS:
        images, depths, opacities = held_out()
        snapshots[k] = images
        psnr_curve.append((k, metrics.psnr(images, truth)))
        print(f"step {k}: held-out PSNR {psnr_curve[-1][1]:.2f} dB (mean training colour: {baseline:.2f} dB)")

fig, axes = plt.subplots(len(SNAPSHOTS) + 1, 8, figsize=(10, 1.35 * (len(SNAPSHOTS) + 1)))
for col in range(8):
    axes[0, col].imshow(truth[col], interpolation="nearest")
    for row, k in enumerate(SNAPSHOTS, start=1):
        axes[row, col].imshow(np.clip(snapshots[k][col], 0, 1), interpolation="nearest")
for row, label in enumerate(["truth"] + [f"step {k}" for k in SNAPSHOTS]):
    axes[row, 0].set_ylabel(label, fontsize=8)
for ax in axes.flat:
    ax.set_xticks([])
    ax.set_yticks([])
fig.suptitle("the 8 held-out views: truth (top) and the NeRF over training", fontsize=10)
lesson.savefig(fig, "nerf_views.png")
plt.close(fig)

# %% [markdown]
# ## 5. A depth map
#
# The weights $w_i = T_i \alpha_i$ say where along the ray the light stopped, so $\sum_i w_i t_i$ is the expected
# distance of the surface: a depth map the network was never shown. Compare it with the sphere tracer's depth
# on the pixels where the field is opaque.

# %%
surface = (opacities > 0.5) & np.isfinite(views.depths[views.test])
depth_error = float(np.median(np.abs(depths[surface] - views.depths[views.test][surface]))) if surface.any() else np.inf
print(f"median depth error on {surface.sum()} opaque pixels: {depth_error:.3f} (rays sampled on [2, 6])")

fig, axes = plt.subplots(2, 4, figsize=(8, 4.2))
for col in range(4):
    for row, (depth, title) in enumerate([(np.where(opacities[col] > 0.5, depths[col], np.nan), "NeRF"),
                                          (views.depths[views.test][col], "true")]):
        axes[row, col].imshow(np.where(np.isfinite(depth), depth, np.nan), cmap="viridis_r", vmin=2.5, vmax=5.0)
        axes[row, col].set_title(f"{title} depth, view {32 + col}", fontsize=8)
        axes[row, col].axis("off")
lesson.savefig(fig, "depth.png")
plt.close(fig)

# %% [markdown]
# ## Checks

# %%
lesson.check("the rays of camera 0 point at the origin and land back on their pixels",
             axis_error < 1e-9 and pixel_error < 1e-9, f"{axis_error:.1e}, {pixel_error:.1e}")
lesson.check("the quadrature equals the slab's closed form (edges on segment edges)", slab_error < 1e-12,
             f"{slab_error:.1e}")
lesson.check("with edges inside segments it converges: 256 samples are 10x closer than 4",
             shifted[-1] < shifted[0] / 10, f"{shifted[0]:.3f} -> {shifted[-1]:.4f}")
lesson.check("an inclusive T (sum over j <= i) does not match the closed form", min(inclusive) > 1e-3,
             f"error {min(inclusive):.3f} at best")
lesson.check("positional encoding fits the image better than raw coordinates", encoded_psnr > raw_psnr + 2,
             f"{raw_psnr:.1f} -> {encoded_psnr:.1f} dB")
first, last = psnr_curve[0][1], psnr_curve[-1][1]
lesson.check("the held-out views sharpen over training", last > first, f"{first:.2f} -> {last:.2f} dB")
if not lesson.quick:
    lesson.check(f"after {NERF_STEPS} steps the held-out PSNR is above {PSNR_BAR:.0f} dB (mean colour: "
                 f"{baseline:.1f} dB)", last > PSNR_BAR, f"{last:.2f} dB")
    lesson.check("the expected depth is within 0.15 of the true depth (median, opaque pixels; measured 0.118)",
                 depth_error < 0.15,
                 f"{depth_error:.3f}")
print(f"({time.perf_counter() - started:.0f} s)")
lesson.finish()
