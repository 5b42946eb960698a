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
# # Lesson 01: tensors and the backend switch
#
# A full run draws, among its figures, this one: [`docs/images/lessons/01_tensors_and_backends.png`](../docs/images/lessons/01_tensors_and_backends.png) (`randn_histogram.png`).
#
# What you will see and build:
#
# - a `Tensor`: an array (NumPy on the CPU, CuPy on the GPU) plus what autograd needs later;
# - dtypes: new floating-point tensors are **float32**, and a float64 *scalar* never silently turns
#   them into float64 (plain NumPy would);
# - the **backend switch**: `tinygan.backend.current()`, the `TINYGAN_BACKEND` environment variable
#   and `tinygan.use(...)`, and moving a tensor between `"cpu"` and `"gpu"`;
# - `tinygan.manual_seed`: the same seed gives the same random numbers (and the same initial weights).
#
# The code behind this lesson: `tinygan/backend.py` (the only file that imports CuPy),
# `tinygan/autograd.py` (`Tensor`), `tinygan/functional/_util.py` (`as_tensor`, which keeps float32
# float32). Run it with `python lessons/01_tensors_and_backends.py` (add `--quick` for a fast run).

# %%
import os
import subprocess
import sys
import time

import matplotlib.pyplot as plt
import numpy as np

import tinygan
from tinygan import backend, nn
from tinygan.teach import Lesson

QUICK = False   # True: tiny settings, a run of seconds (a script takes --quick or TINYGAN_QUICK=1)
lesson = Lesson("01_tensors_and_backends", quick=QUICK)

# %% [markdown]
# ## 1. A tensor is an array of the current backend
#
# `tinygan.tensor(data)` wraps `data` in a `Tensor` (`tinygan/autograd.py`). Its `.array` is a plain
# NumPy array on the CPU backend (a CuPy array on the GPU backend): everything you know about
# arrays still holds. (`.data` is PyTorch's: the same values as a tensor cut from the graph.)
# Python floats become the default dtype, float32; integers stay integers.

# %%
x = tinygan.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
labels = tinygan.tensor([3, 1, 4])
print("x =", x)
print("x.shape", x.shape, " x.dtype", x.dtype, " x.device", x.device, " type(x.array)", type(x.array).__name__)
print("labels.dtype", labels.dtype, "(integers stay integers)")
print("default floating dtype:", np.dtype(tinygan.get_default_dtype()).name)
print("x.sum() =", x.sum().item(), "  (x @ x.T).shape =", (x @ x.T).shape)

# %% [markdown]
# ## 2. float32 stays float32
#
# NumPy 2 follows NEP 50: `float32_array * np.float64(2)` gives **float64**. One stray NumPy scalar
# in a training loop (a learning rate computed with `np.sqrt`, a `np.mean` of a list) would turn every
# later array into float64: twice the memory, and on a GPU often many times slower.
#
# tinygan's operators convert a plain number (Python or NumPy scalar, or a NumPy array) to the dtype of
# the tensor beside it before computing (`as_tensor(value, like=...)` in `tinygan/functional/_util.py`).
# A float64 **Tensor** that you made on purpose does promote, as in PyTorch: that is a choice, not an
# accident. (Gradient checks in lesson 02 use float64 tensors deliberately.)

# %%
plain = np.ones(3, dtype=np.float32) * np.float64(2)
ours = tinygan.ones(3) * np.float64(2)
ours_reversed = np.float64(2) * tinygan.ones(3)
ours_array = tinygan.ones(3) * np.ones(3)              # a float64 NumPy array, adopted as float32
on_purpose = tinygan.ones(3) + tinygan.tensor([1.0, 2.0, 3.0], dtype=np.float64)
print(f"NumPy:   float32 array * np.float64(2)  -> {plain.dtype}")
print(f"tinygan: float32 tensor * np.float64(2) -> {ours.dtype}")
print(f"tinygan: np.float64(2) * float32 tensor -> {ours_reversed.dtype}")
print(f"tinygan: float32 tensor * float64 array -> {ours_array.dtype}")
print(f"tinygan: float32 tensor + float64 tensor -> {on_purpose.dtype}  (an explicit float64 tensor promotes)")

# %% [markdown]
# ## 3. Which backend am I on?
#
# `tinygan.backend.current()` answers `"numpy"` or `"cupy"`. On first use it reads the environment
# variable `TINYGAN_BACKEND` (default `numpy`); `tinygan.use("cupy")` switches from code. Every
# tinygan file asks `backend.xp()` for the array module instead of importing NumPy directly, so the
# same lines of math run on both.
#
# Below, a fresh Python process shows the environment variable at work.

# %%
print("current backend:", backend.current(), "-> array module", backend.xp().__name__,
      "-> device", backend.current_device())
env = dict(os.environ, TINYGAN_BACKEND="numpy")
child = subprocess.run([sys.executable, "-c", "import tinygan; print(tinygan.backend.current())"],
                       capture_output=True, text=True, env=env, timeout=60)
print("TINYGAN_BACKEND=numpy python -c '...current()' prints:", child.stdout.strip())

# %% [markdown]
# Asking for CuPy where it cannot run gives an error that says what to do (not an import failure ten
# frames deep):

# %%
gpu = backend.cupy_available()
print("CuPy with a GPU available here:", gpu)
if not gpu:
    try:
        tinygan.use("cupy")
    except backend.BackendError as error:
        print("tinygan.use('cupy') ->", type(error).__name__ + ":", error)
    print("backend after the failed switch:", backend.current())

# %% [markdown]
# ## 4. Moving a tensor between CPU and GPU
#
# `tensor.to("gpu")` copies to the GPU (a CuPy array), `.to("cpu")` back; `.numpy()` always gives a
# NumPy array on the host. Operations on a CuPy tensor run on the GPU with the very same tinygan
# code. Mixing devices in one operation is an error that names both.
#
# This cell needs CuPy and a GPU. Without one it says so and skips (that is not a failure).

# %%
host = tinygan.tensor(np.arange(12, dtype=np.float32).reshape(3, 4)).to("cpu")   # on the CPU, whatever the backend
expected = (host @ host.T).relu().sum(axis=1).numpy()
if gpu:
    device_tensor = host.to("gpu")
    print("on the GPU:", device_tensor.device, type(device_tensor.array).__module__)
    result = (device_tensor @ device_tensor.T).relu().sum(axis=1)
    back = result.to("cpu")
    print("GPU result, back on the CPU:", back.numpy(), " CPU result:", expected)
    lesson.check("the same computation on GPU and CPU agrees", np.allclose(back.numpy(), expected, rtol=1e-6),
                 f"max |difference| {np.abs(back.numpy() - expected).max():.2e}")
    try:
        host + device_tensor
        mixed_error = None
    except ValueError as error:
        mixed_error = str(error)
    print("cpu + gpu ->", mixed_error)
    lesson.check("mixing devices in one operation raises a clear error", mixed_error is not None
                 and "cpu" in mixed_error and "gpu" in mixed_error)
    previous = backend.current()
    tinygan.use("cupy")                      # new tensors now live on the GPU
    made_on_gpu = tinygan.randn(2, 2)
    tinygan.use(previous)
    print("made after tinygan.use('cupy'):", made_on_gpu.device)
else:
    print("GPU part skipped: CuPy with a GPU is not available on this machine "
          "(on a GPU machine: pip install 'tinygan[cuda12]', then rerun this lesson).")
print(".to('cpu') of a CPU tensor is the tensor itself:", host.to("cpu") is host)

# %% [markdown]
# ## 5. Reproducible randomness
#
# `tinygan.manual_seed(s)` reseeds tinygan's generator (`backend.rng()`, in `tinygan/backend.py`),
# like `torch.manual_seed`. Random tensors, weight initialisation (`tinygan/nn/init.py`), dropout masks
# and GAN noise all draw from it, so the same seed gives the same run.

# %%
tinygan.manual_seed(0)
a = tinygan.randn(5)
layer_a = nn.Linear(3, 2)
tinygan.manual_seed(0)
b = tinygan.randn(5)
layer_b = nn.Linear(3, 2)
tinygan.manual_seed(1)
c = tinygan.randn(5)
print("seed 0:", np.round(a.numpy(), 4))
print("seed 0:", np.round(b.numpy(), 4))
print("seed 1:", np.round(c.numpy(), 4))
same_weights = np.array_equal(layer_a.weight.numpy(), layer_b.weight.numpy())
print("nn.Linear(3, 2) weights equal after the same seed:", same_weights)

# %% [markdown]
# A picture of many draws: `tinygan.randn` against the standard normal density. Everything stays
# float32 (the samples are drawn directly in float32).

# %%
n = 20_000 if lesson.quick else 200_000
started = time.perf_counter()
samples = tinygan.randn(n)
seconds = time.perf_counter() - started
values = samples.numpy()
print(f"{n} samples in {seconds * 1e3:.1f} ms: dtype {samples.dtype}, mean {values.mean():+.4f}, "
      f"std {values.std():.4f}")
fig, ax = plt.subplots(figsize=(5, 3))
ax.hist(values, bins=80, density=True, alpha=0.6, label="tinygan.randn")
grid = np.linspace(-4, 4, 200)
ax.plot(grid, np.exp(-grid ** 2 / 2) / np.sqrt(2 * np.pi), "r", label="N(0, 1) density")
ax.set_title(f"{n} draws after tinygan.manual_seed")
ax.legend()
lesson.savefig(fig, "randn_histogram.png")
plt.close(fig)

# %% [markdown]
# ## Checks

# %%
lesson.check("new floating-point tensors are float32", x.dtype == np.float32, str(x.dtype))
lesson.check("NumPy alone promotes float32 * np.float64(2) to float64 (why tinygan guards it)",
             plain.dtype == np.float64, str(plain.dtype))
lesson.check("tinygan keeps float32 * np.float64(2) in float32 (both operand orders)",
             ours.dtype == np.float32 and ours_reversed.dtype == np.float32 and ours_array.dtype == np.float32,
             f"{ours.dtype}, {ours_reversed.dtype}, {ours_array.dtype}")
expected_backend = os.environ.get("TINYGAN_BACKEND", "numpy").strip().lower() or "numpy"
lesson.check("backend.current() is TINYGAN_BACKEND (or numpy when unset)", backend.current() == expected_backend,
             backend.current())
lesson.check("a child process reads TINYGAN_BACKEND=numpy", child.stdout.strip() == "numpy", child.stdout.strip())
lesson.check("the same seed gives the same numbers and the same initial weights",
             np.array_equal(a.numpy(), b.numpy()) and same_weights)
lesson.check("another seed gives other numbers", not np.allclose(a.numpy(), c.numpy()))
lesson.check("randn samples have mean ~0 and std ~1", abs(values.mean()) < 0.05 and abs(values.std() - 1) < 0.05,
             f"mean {values.mean():+.4f}, std {values.std():.4f}")
if not gpu:
    print("(GPU checks skipped: no CuPy with a GPU here)")
lesson.finish()
