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
# # Lesson 15: CPU vs GPU — the same step on NumPy, CuPy, and PyTorch
#
# **What you will see.** One DCGAN training step (lesson 09) and one VAE step (lesson 12), timed on the
# NumPy backend; on the CuPy backend when this machine has a GPU; and, when PyTorch is installed, the
# same networks in PyTorch with the same weights: first checked to compute the *same numbers*, then timed.
#
# **What you will build.**
#
# | step | where the code lives |
# | --- | --- |
# | the backend switch: `tinygan.use("numpy" / "cupy")`, `backend.cupy_available()` | `tinygan/backend.py` (the only file that imports cupy) |
# | the steps being timed | `tinygan/train/gan.py` (`GANStep`), `tinygan/train/vae.py` (`VAEStep`), `tinygan/models/` |
# | the heavy operations | `tinygan/functional/conv.py` (`im2col`, `conv2d`, `conv-transpose2d`), `tinygan/functional/layers.py` (`linear`) |
#
# Every array operation in tinygan goes through the backend's array module (`backend.xp()`), so the very
# same Python lines run on a GPU when the backend is CuPy: nothing in the models or the training step
# knows which one it runs on.
#
# Run: `python lessons/15_cpu_vs_gpu.py` (full mode: about a minute) or add `--quick` (seconds). Without a
# GPU the CuPy part is skipped with a note; without PyTorch the PyTorch part is skipped with a note.
# Timings on a machine that is busy with other work are noisy: run it twice and compare.

# %%
import os
import time

import numpy as np

import tinygan
from tinygan import backend, optim
from tinygan.autograd import Tensor
from tinygan.data import load_embedded_mnist, scale_images
from tinygan.models import DCGANDiscriminator, DCGANGenerator, MLPVAE, dcgan_init_
from tinygan.teach import Lesson
from tinygan.train import GANStep, VAEStep, losses

QUICK = False   # True: tiny settings, a run of seconds (a script takes --quick or TINYGAN_QUICK=1)
lesson = Lesson("15_cpu_vs_gpu", quick=QUICK)
started = time.perf_counter()

WIDTH = 16 if lesson.quick else 64
BATCH = 64
REPEATS = 1 if lesson.quick else 10     # timed steps, after one untimed warm-up step
LATENT = 100

try:
    import torch
    HAVE_TORCH = True
except ImportError:
    HAVE_TORCH = False
HAVE_GPU = backend.cupy_available()
print(f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', '(not set: one thread per core)')}; "
      f"{os.cpu_count()} CPU cores")
print(f"NumPy {np.__version__}; CuPy with a GPU: {'yes' if HAVE_GPU else 'no'}; "
      f"PyTorch: {torch.__version__ if HAVE_TORCH else 'not installed'}")

images, labels = load_embedded_mnist()
gan_batch = scale_images(images[:BATCH], (-1, 1))[:, None]            # (64, 1, 28, 28) float32 in [-1, 1]
vae_batch = scale_images(images[:128], (0, 1)).reshape(128, -1)       # (128, 784) in [0, 1]

# %% [markdown]
# ## Step 1: a timer for tinygan's steps on the current backend
#
# `tinygan.use(name)` makes new tensors and parameters live on that backend's device. Each step returns
# its losses as Python floats (`.item()`), which waits for the GPU to finish: so the wall-clock time of a
# step is honest on both backends. The first step is not timed (it allocates memory, and on a GPU compiles
# kernels).

# %%
def time_steps(step, batch, repeats=REPEATS):
    """Median milliseconds per call of step(batch), after one warm-up call; and the last call's figures."""
    figures = step(batch)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        figures = step(batch)
        times.append(time.perf_counter() - start)
    return 1000 * float(np.median(times)), figures


def tinygan_steps(backend_name, seed=0):
    """Build the DCGAN and VAE steps on `backend_name` and time them; the backend is set back to NumPy after."""
    tinygan.use(backend_name)
    try:
        tinygan.manual_seed(seed)
        device = backend.current_device()
        G = dcgan_init_(DCGANGenerator(LATENT, WIDTH))
        D = dcgan_init_(DCGANDiscriminator(WIDTH))
        gan = GANStep(G, D, optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999)),
                      optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999)), latent_dim=LATENT)
        vae_model = MLPVAE()
        vae = VAEStep(vae_model, optim.Adam(vae_model.parameters(), lr=1e-3))
        gan_ms, gan_figures = time_steps(gan, Tensor(backend.to_device(gan_batch, device)))
        vae_ms, vae_figures = time_steps(vae, Tensor(backend.to_device(vae_batch, device)))
        return {"DCGAN step": gan_ms, "VAE step": vae_ms, "figures": (gan_figures, vae_figures)}
    finally:
        tinygan.use("numpy")


results = {"tinygan, NumPy (CPU)": tinygan_steps("numpy")}
print(f"tinygan on NumPy: DCGAN step (width {WIDTH}, batch {BATCH}) {results['tinygan, NumPy (CPU)']['DCGAN step']:.1f} ms, "
      f"VAE step (784-400-20, batch 128) {results['tinygan, NumPy (CPU)']['VAE step']:.1f} ms")

# The same seed must give the same numbers: run the NumPy steps again and compare their losses.
again = tinygan_steps("numpy")
reproducible = again["figures"] == results["tinygan, NumPy (CPU)"]["figures"]
lesson.check("NumPy backend: the same seed gives exactly the same losses twice", reproducible,
             f"DCGAN L_D {again['figures'][0]['loss_d']:.6f}, VAE loss {again['figures'][1]['loss']:.4f}")

# %% [markdown]
# ## Step 2: the same lines on the GPU (CuPy)
#
# Only the backend name changes. (`module.to("gpu")` and `tensor.to("gpu")` move existing models and
# data; mixing devices in one operation raises an error naming both.)

# %%
if HAVE_GPU:
    results["tinygan, CuPy (GPU)"] = tinygan_steps("cupy")
    gpu = results["tinygan, CuPy (GPU)"]
    print(f"tinygan on CuPy: DCGAN step {gpu['DCGAN step']:.1f} ms, VAE step {gpu['VAE step']:.1f} ms")
    finite = all(np.isfinite(v) for figures in gpu["figures"] for v in figures.values())
    lesson.check("CuPy backend: the steps run and their losses are finite", finite)
else:
    print("note: no GPU here (CuPy is not installed or sees no device), so the CuPy part is skipped. "
          "On a machine with an NVIDIA GPU: pip install 'tinygan[cuda12]' and run this lesson again.")

# %% [markdown]
# ## Step 3: PyTorch with the same networks and the same weights
#
# tinygan follows PyTorch's conventions (weight shapes, BatchNorm's statistics, parameter names), so a
# PyTorch model with the same layers in the same order has the same `state_dict` keys, and tinygan's
# weights load into it directly. Before timing anything we check that both compute the same thing: one
# discriminator loss and one generator loss on the same batch and the same noise, and every gradient.

# %%
if HAVE_TORCH:
    tnn = torch.nn

    class TorchDCGANGenerator(tnn.Module):
        def __init__(self, latent_dim, width):
            super().__init__()
            self.net = tnn.Sequential(
                tnn.Linear(latent_dim, 2 * width * 49), tnn.BatchNorm1d(2 * width * 49), tnn.ReLU(),
                tnn.Unflatten(1, (2 * width, 7, 7)),
                tnn.ConvTranspose2d(2 * width, width, 4, stride=2, padding=1), tnn.BatchNorm2d(width), tnn.ReLU(),
                tnn.ConvTranspose2d(width, 1, 4, stride=2, padding=1), tnn.Tanh())

        def forward(self, z):
            return self.net(z)

    class TorchDCGANDiscriminator(tnn.Module):
        def __init__(self, width):
            super().__init__()
            self.net = tnn.Sequential(
                tnn.Conv2d(1, width, 4, stride=2, padding=1), tnn.LeakyReLU(0.2),
                tnn.Conv2d(width, 2 * width, 4, stride=2, padding=1), tnn.BatchNorm2d(2 * width), tnn.LeakyReLU(0.2),
                tnn.Flatten(), tnn.Linear(2 * width * 49, 1))

        def forward(self, x):
            return self.net(x)

    def to_torch_state(module):
        return {key: torch.from_numpy(np.ascontiguousarray(backend.to_numpy(value)))
                for key, value in module.state_dict().items()}

    tinygan.manual_seed(1)
    G, D = dcgan_init_(DCGANGenerator(LATENT, WIDTH)), dcgan_init_(DCGANDiscriminator(WIDTH))
    tG, tD = TorchDCGANGenerator(LATENT, WIDTH), TorchDCGANDiscriminator(WIDTH)
    tG.load_state_dict(to_torch_state(G))
    tD.load_state_dict(to_torch_state(D))
    z = np.random.default_rng(2).standard_normal((BATCH, LATENT)).astype(np.float32)

    # tinygan: D's loss on real and (detached) fake images, then G's loss, each with its gradients
    fake = G(Tensor(z))
    d_loss = losses.discriminator_loss(D(Tensor(gan_batch)), D(fake.detach()))
    d_loss.backward()
    D_grads = {name: p.grad.numpy() for name, p in D.named_parameters()}
    D.zero_grad()
    g_loss = losses.generator_loss_nonsaturating(D(fake))
    g_loss.backward()
    G_grads = {name: p.grad.numpy() for name, p in G.named_parameters()}

    # PyTorch: the same computation
    bce = tnn.functional.binary_cross_entropy_with_logits
    t_fake = tG(torch.from_numpy(z))
    t_real_logits, t_fake_logits = tD(torch.from_numpy(gan_batch)), tD(t_fake.detach())
    t_d_loss = bce(t_real_logits, torch.ones_like(t_real_logits)) + bce(t_fake_logits, torch.zeros_like(t_fake_logits))
    t_d_loss.backward()
    t_D_grads = {name: p.grad.numpy().copy() for name, p in tD.named_parameters()}
    tD.zero_grad()
    t_g_logits = tD(t_fake)
    t_g_loss = bce(t_g_logits, torch.ones_like(t_g_logits))
    t_g_loss.backward()
    t_G_grads = {name: p.grad.numpy() for name, p in tG.named_parameters()}

    def worst_relative_difference(ours, theirs):
        """Largest |ours - theirs| over a network's gradients, relative to its largest gradient entry.

        (Not per tensor: the bias of a layer followed by BatchNorm has a gradient that is exactly 0 in
        exact arithmetic, BatchNorm subtracts the mean, so both frameworks return rounding noise there.)
        """
        scale = max(float(np.abs(g).max()) for g in theirs.values())
        return max(float(np.abs(ours[k] - theirs[k]).max()) for k in theirs) / scale

    loss_difference = max(abs(d_loss.item() - t_d_loss.item()), abs(g_loss.item() - t_g_loss.item()))
    grad_difference = max(worst_relative_difference(D_grads, t_D_grads), worst_relative_difference(G_grads, t_G_grads))
    print(f"L_D: tinygan {d_loss.item():.6f}, PyTorch {t_d_loss.item():.6f};  "
          f"L_G: tinygan {g_loss.item():.6f}, PyTorch {t_g_loss.item():.6f}")
    print(f"largest gradient difference over all {len(t_D_grads) + len(t_G_grads)} parameter tensors, relative to "
          f"the network's largest gradient entry: {grad_difference:.1e}")
    lesson.check("tinygan and PyTorch give the same losses and gradients for the same DCGAN weights (float32)",
                 loss_difference < 1e-4 and grad_difference < 1e-3,
                 f"loss difference {loss_difference:.1e}, relative gradient difference {grad_difference:.1e}")
else:
    print("note: PyTorch is not installed, so the comparison with PyTorch is skipped (pip install torch to see it).")

# %% [markdown]
# ## Step 4: the same steps timed in PyTorch
#
# The PyTorch step is written the way lesson 08 wrote tinygan's: one Adam step for D, one for G with D
# frozen. PyTorch's convolutions call tuned kernels (oneDNN on CPU, cuDNN on GPU); tinygan's are
# `im2col` plus one matrix product (`tinygan/functional/conv.py`), which is what you can read.
#
# Threads: PyTorch is timed with one thread and with its default (one per core). NumPy's matrix
# products use OpenBLAS's threads (set `OPENBLAS_NUM_THREADS` before starting Python to choose). On a
# machine busy with other work, several threads can be much *slower* than one, because each thread keeps
# waiting for the others to get a core: if the two PyTorch rows below say so, your CPU is busy.

# %%
def torch_steps(device):
    torch.manual_seed(0)
    G, D = TorchDCGANGenerator(LATENT, WIDTH).to(device), TorchDCGANDiscriminator(WIDTH).to(device)
    opt_g = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    bce = torch.nn.functional.binary_cross_entropy_with_logits

    def gan_step(x):
        with torch.no_grad():
            fake = G(torch.randn(x.shape[0], LATENT, device=device))
        real_logits, fake_logits = D(x), D(fake)
        d_loss = bce(real_logits, torch.ones_like(real_logits)) + bce(fake_logits, torch.zeros_like(fake_logits))
        opt_d.zero_grad()
        d_loss.backward()
        opt_d.step()
        D.requires_grad_(False)
        logits = D(G(torch.randn(x.shape[0], LATENT, device=device)))
        g_loss = bce(logits, torch.ones_like(logits))
        opt_g.zero_grad()
        g_loss.backward()
        opt_g.step()
        D.requires_grad_(True)
        return {"loss_d": d_loss.item(), "loss_g": g_loss.item()}

    vae = tnn.ModuleDict({"fc1": tnn.Linear(784, 400), "fc_mu": tnn.Linear(400, 20), "fc_logvar": tnn.Linear(400, 20),
                          "fc3": tnn.Linear(20, 400), "fc4": tnn.Linear(400, 784)}).to(device)
    opt_v = torch.optim.Adam(vae.parameters(), lr=1e-3)

    def vae_step(x):
        h = torch.relu(vae["fc1"](x))
        mu, logvar = vae["fc_mu"](h), vae["fc_logvar"](h)
        z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
        logits = vae["fc4"](torch.relu(vae["fc3"](z)))
        reconstruction = bce(logits, x, reduction="sum") / x.shape[0]
        kl = -0.5 * (1 + logvar - mu * mu - logvar.exp()).sum() / x.shape[0]
        loss = reconstruction + kl
        opt_v.zero_grad()
        loss.backward()
        opt_v.step()
        return {"loss": loss.item()}

    gan_ms, _ = time_steps(gan_step, torch.from_numpy(gan_batch).to(device))
    vae_ms, _ = time_steps(vae_step, torch.from_numpy(vae_batch).to(device))
    return {"DCGAN step": gan_ms, "VAE step": vae_ms}


if HAVE_TORCH:
    default_threads = torch.get_num_threads()
    for threads in ([1] if lesson.quick else sorted({1, default_threads})):
        torch.set_num_threads(threads)
        results[f"PyTorch, CPU, {threads} thread{'s' if threads > 1 else ''}"] = torch_steps("cpu")
    torch.set_num_threads(default_threads)
    if torch.cuda.is_available():
        results["PyTorch, GPU"] = torch_steps("cuda")
    else:
        print("note: PyTorch sees no GPU, so its GPU timing is skipped.")

# %% [markdown]
# ## Step 5: the table

# %%
baseline = results["tinygan, NumPy (CPU)"]
print(f"\n{'':32s} {'DCGAN step (ms)':>16s} {'VAE step (ms)':>14s}   (median of {REPEATS} steps; "
      f"DCGAN width {WIDTH}, batch {BATCH}; VAE batch 128)")
for name, row in results.items():
    print(f"{name:32s} {row['DCGAN step']:16.1f} {row['VAE step']:14.1f}   "
          f"({baseline['DCGAN step'] / row['DCGAN step']:.2f}x and {baseline['VAE step'] / row['VAE step']:.2f}x "
          f"the speed of tinygan on NumPy)")
lesson.check("every timing is a positive number of milliseconds",
             all(row["DCGAN step"] > 0 and row["VAE step"] > 0 for row in results.values()))
lesson.check("the backend is NumPy again at the end of the lesson", backend.current() == "numpy")

# %% [markdown]
# Reading the table: on a CPU, tinygan's DCGAN step is within a small factor of PyTorch's (both spend
# their time in matrix products; PyTorch's direct convolution kernels avoid some copying). On a GPU,
# small models like these are limited by launching many small kernels, so the GPU's advantage grows
# with the batch size and the width; try `WIDTH = 128` and a batch of 256.

# %%
print(f"wall time: {time.perf_counter() - started:.1f} s")
lesson.finish()
