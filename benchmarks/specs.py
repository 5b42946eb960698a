"""What each workload is, its goal, and the numbers every framework starts from.

Both sides of a comparison (tinygan_workloads.py and torch_workloads.py) read their shapes and
hyper-parameters from here, and take their data, noise and initial weights from the NumPy
generators below, so tinygan and PyTorch compute on exactly the same numbers: their first losses
agree (tests/benchmarks/test_benchmarks.py checks it), and a difference in time is a difference in the engine.

This module imports no framework (NumPy only inside the functions), so the worker can set the
thread counts before anything loads a BLAS library.
"""
import math
import zlib
from dataclasses import dataclass, field


class Unavailable(RuntimeError):
    """A framework cannot run here (not installed, no GPU): its rows are skipped with this note."""


@dataclass(frozen=True)
class Workload:
    name: str     # "W1", "O1", ...
    title: str    # a few words for the table
    spec: str     # the full specification
    full: dict    # shapes and sizes of the real benchmark
    quick: dict   # tiny shapes for --quick and the tests

    def shapes(self, quick=False):
        return self.quick if quick else self.full


@dataclass
class Bench:
    """One built workload, ready to time.

    step       -- runs one step; returns the loss tensor(s) of a training step, or the output of an op
    parameters -- what the step trains (updates=True) or differentiates (updates=False): the leaves
    updates    -- True for training steps (an optimizer moves the parameters), False for op benchmarks
                  (forward + backward only: the step fills `.grad`)
    """
    step: object
    parameters: list = field(default_factory=list)
    updates: bool = True


GAN_ADAM = dict(lr=2e-4, betas=(0.5, 0.999))
VAE_ADAM = dict(lr=1e-3)
LEAKY_SLOPE = 0.2
NOISE_POOL = 8  # noise batches drawn once and cycled, so the step times the network, not the generator
VAEGAN_GAMMA = 0.1              # V1: gamma of the decoder's loss (the vaegan default)
RNN_ADAM = dict(lr=1e-3)
NERF_ADAM = dict(lr=5e-4)
NERF_NEAR, NERF_FAR = 2.0, 6.0
SEGMENTATION_ADAM = dict(lr=1e-3)

_GAN_STEP = ("one D update (real + detached fake, BCE with logits) and one G update (non-saturating, "
             "D frozen by requires_grad=False), Adam 2e-4, betas (0.5, 0.999)")
_DCGAN = ("G z100 -> Linear 128*7*7 -> BN1d -> ReLU -> ConvT(128->64, k4, s2, p1) -> BN2d -> ReLU -> "
          "ConvT(64->1, k4, s2, p1) -> tanh; D Conv(1->64, k4, s2, p1) -> LReLU 0.2 -> Conv(64->128, k4, s2, p1) -> "
          "BN2d -> LReLU 0.2 -> Linear(6272->1); ")

WORKLOADS = {w.name: w for w in [
    Workload(
        "W1", "MLP GAN step, batch 64",
        "batch 64; G z100 -> 256 -> 512 -> 784 (Linear -> BatchNorm1d -> LeakyReLU 0.2 twice, then Linear -> "
        "tanh); D 784 -> 512 -> 256 -> 1 (LeakyReLU 0.2); " + _GAN_STEP,
        full=dict(batch=64, latent=100, g_hidden=(256, 512), d_hidden=(512, 256)),
        quick=dict(batch=4, latent=8, g_hidden=(16, 32), d_hidden=(32, 16))),
    Workload(
        "W2", "DCGAN step, batch 64",
        "batch 64, 28x28x1; " + _DCGAN + _GAN_STEP,
        full=dict(batch=64, latent=100, width=64),
        quick=dict(batch=4, latent=8, width=4)),
    Workload(
        "W3", "MLP VAE step, batch 128",
        "batch 128; encoder 784 -> 400 (ReLU) -> (mu, logvar) of 20 each; decoder 20 -> 400 (ReLU) -> 784 logits; "
        "z = mu + exp(logvar / 2) eps; loss BCE with logits (sum) + Gaussian KL (sum); Adam 1e-3",
        full=dict(batch=128, features=784, hidden=400, latent=20),
        quick=dict(batch=4, features=784, hidden=16, latent=4)),
    Workload(
        "O1", "conv2d fwd+bwd",
        "conv2d forward + backward (dx, dW, db): x (64, 64, 14, 14), W (128, 64, 4, 4), bias, stride 2, padding 1 "
        "-> y (64, 128, 7, 7); backward from a fixed random dL/dy",
        full=dict(x=(64, 64, 14, 14), w=(128, 64, 4, 4), b=(128,), y=(64, 128, 7, 7)),
        quick=dict(x=(2, 3, 6, 6), w=(4, 3, 4, 4), b=(4,), y=(2, 4, 3, 3))),
    Workload(
        "O2", "conv_transpose2d fwd+bwd",
        "conv_transpose2d forward + backward (dx, dW, db): x (64, 128, 7, 7), W (128, 64, 4, 4), bias, stride 2, "
        "padding 1 -> y (64, 64, 14, 14); backward from a fixed random dL/dy",
        full=dict(x=(64, 128, 7, 7), w=(128, 64, 4, 4), b=(64,), y=(64, 64, 14, 14)),
        quick=dict(x=(2, 4, 3, 3), w=(4, 3, 4, 4), b=(3,), y=(2, 3, 6, 6))),
    Workload(
        "O3", "batch_norm 2d fwd+bwd",
        "batch_norm forward (training: batch statistics, running statistics updated) + backward (dx, dgamma, "
        "dbeta): x (64, 128, 7, 7); backward from a fixed random dL/dy",
        full=dict(x=(64, 128, 7, 7), w=(128,), b=(128,), y=(64, 128, 7, 7)),
        quick=dict(x=(4, 3, 3, 3), w=(3,), b=(3,), y=(4, 3, 3, 3))),
    Workload(
        "O4", "linear fwd+bwd",
        "linear forward + backward (dx, dW, db): x (64, 6272), W (1024, 6272), bias -> y (64, 1024); "
        "backward from a fixed random dL/dy",
        full=dict(x=(64, 6272), w=(1024, 6272), b=(1024,), y=(64, 1024)),
        quick=dict(x=(4, 12), w=(8, 12), b=(8,), y=(4, 8))),
    Workload(
        "W2-512", "DCGAN step, batch 512",
        "W2 at batch 512 (a GPU-sized run); " + _DCGAN + _GAN_STEP,
        full=dict(batch=512, latent=100, width=64),
        quick=dict(batch=8, latent=8, width=4)),
    Workload(
        "V1", "VAE-GAN step, batch 64",
        "batch 64, 28x28x1; encoder Conv(1->32, k4, s2, p1) -> LReLU 0.2 -> Conv(32->64, k4, s2, p1) -> BN2d -> "
        "LReLU 0.2 -> Linear(3136->20) for mu and for logvar; decoder = the DCGAN generator from z20; "
        "discriminator Conv(1->64) -> LReLU -> Conv(64->128) -> BN2d -> LReLU = Dis_l -> Linear(6272->1); "
        "z = mu + exp(logvar/2) eps, x~ = G(z), x_p = G(z_p); E minimises KL + L_llike, G gamma L_llike + "
        "BCE(D(x~), 1) + BCE(D(x_p), 1), D BCE(D(x), 1) + BCE(D(x~), 0) + BCE(D(x_p), 0), each differentiated "
        "with respect to its own network's weights (autograd.grad), gamma 0.1; three Adams 2e-4, betas (0.5, 0.999)",
        full=dict(batch=64, latent=20, width=64, enc_width=32),
        quick=dict(batch=4, latent=4, width=4, enc_width=4)),
    Workload(
        "R1", "row-LSTM step, batch 64",
        "batch 64 of binary 28x28 images; LSTM(28, 256, batch_first) over 28 steps (input at step t is row t-1, "
        "row -1 zeros) -> Linear(256, 28) logits of row t; loss BCE with logits summed over the 784 pixels / batch; "
        "backward through all 28 steps (BPTT); Adam 1e-3",
        full=dict(batch=64, rows=28, columns=28, hidden=256),
        quick=dict(batch=4, rows=28, columns=28, hidden=8)),
    Workload(
        "N1", "NeRF step, 1024 rays x 32 samples",
        "1024 rays x 32 stratified samples in [2, 6] (jitter from a pool); positional encoding L = 6 (39 features) -> "
        "4 x (Linear 128 -> ReLU) -> Linear(128, 4); density softplus, colour sigmoid; volume rendering quadrature "
        "(exclusive cumulative sum for T); MSE against the rays' colours; backward; Adam 5e-4",
        full=dict(rays=1024, samples=32, width=128, frequencies=6),
        quick=dict(rays=16, samples=4, width=8, frequencies=2)),
    Workload(
        "U1", "U-Net segmentation step, batch 32",
        "batch 32 of 64x64x1 scenes of digits (tinygan/data/scenes.py) with their label maps; U-Net: conv 3x3 "
        "(padding 1) -> BN2d -> ReLU twice per block, encoder 1->16->16, maxpool 2, 16->32->32, maxpool 2, bottleneck "
        "32->64->64, ConvT(64->32, k2, s2), concat with the second block, 64->32->32, ConvT(32->16, k2, s2), concat "
        "with the first block, 32->16->16, conv 1x1 16->11 logits; pixelwise cross-entropy (mean over pixels); "
        "Adam 1e-3",
        full=dict(batch=32, widths=(16, 32, 64), classes=11),
        quick=dict(batch=2, widths=(2, 4, 4), classes=11)),
    Workload(
        "T1", "DALL-E prior step, batch 64 x 54 tokens",
        "batch 64 of [BOS, 4 word tokens, 49 image codes] (random words and codes); the prior reads the first 53: "
        "token (21 + 128 entries) and position embeddings of 128, 4 pre-norm TransformerEncoderLayers (4 heads, "
        "FF 512, GELU, dropout 0.1, batch_first) under the causal mask, LayerNorm, Linear(128, 128) head; "
        "cross-entropy of the 49 image positions; backward; gradient norm clipped at 1.0; AdamW 3e-4, betas "
        "(0.9, 0.95), weight decay 0.01 on the matrices only (the quick shapes run without dropout, so both "
        "sides compute the same numbers)",
        full=dict(batch=64, width=128, layers=4, heads=4, feedforward=512, codes=128, dropout=0.1),
        quick=dict(batch=3, width=8, layers=2, heads=2, feedforward=16, codes=8, dropout=0.0)),
    Workload(
        "Q1", "VQ-VAE step, batch 64",
        "batch 64 of 28x28x3 images on [0, 1]; encoder Conv(3->64, k4, s2, p1) -> ReLU -> Conv(64->128, k4, s2, "
        "p1) -> ReLU -> Conv(128->32, k1) = z_e (N, 32, 7, 7); nearest of 128 codes, EMA codebook update (decay "
        "0.99, Laplace 1e-5), straight-through; decoder Conv(32->128, k3, p1) -> ReLU -> ConvT(128->64, k4, s2, p1) "
        "-> ReLU -> ConvT(64->3, k4, s2, p1) -> sigmoid; MSE + 0.25 commitment; backward; Adam 1e-3",
        full=dict(batch=64, codes=128, code_dim=32, hidden=128, width=64),
        quick=dict(batch=2, codes=8, code_dim=4, hidden=8, width=4)),
]}

# The GAN and VAE steps and the four ops: the memory goal compares their peak ("peak of W1-O4").
CORE_WORKLOADS = ("W1", "W2", "W3", "O1", "O2", "O3", "O4")
# The order of a run: W1-O4 first, so that their peak memory is known before the big batch and the larger models.
ORDER = CORE_WORKLOADS + ("W2-512", "V1", "R1", "N1", "U1", "T1", "Q1")

# Frameworks: name -> (side, device kind); the pairs compared in one results file per device kind.
FRAMEWORKS = {
    "tinygan-numpy": ("tinygan", "cpu"),
    "torch-cpu": ("torch", "cpu"),
    "tinygan-cupy": ("tinygan", "gpu"),
    "torch-cuda": ("torch", "gpu"),
    "tinygan-numpy-reference": ("tinygan", "cpu"),
    "tinygan-cupy-reference": ("tinygan", "gpu"),
}
PAIRS = {"cpu": ("tinygan-numpy", "torch-cpu"), "gpu": ("tinygan-cupy", "torch-cuda")}
# tinygan's reference code (tinygan.use_kernels("reference")) on each device kind: a column beside the pair.
REFERENCE = {"cpu": "tinygan-numpy-reference", "gpu": "tinygan-cupy-reference"}

# The goals: the largest ratio tinygan median / PyTorch median in the same run.
GOALS = {
    "cpu": {"W1": 1.3, "W2": 1.5, "W3": 1.3, "O1": 1.5, "O2": 1.5, "O3": 3.0, "O4": 1.2,
            "V1": 1.5, "R1": 1.5, "N1": 1.5, "U1": 1.5, "T1": 1.3, "Q1": 1.5},
    "gpu": {"W2-512": 2.0},
}


# -- the numbers both sides start from -----------------------------------------------------------

def host_rng(seed, *purpose):
    """A NumPy generator for (seed, purpose...): the same numbers in every process and framework."""
    import numpy as np
    return np.random.default_rng([seed] + [zlib.crc32(p.encode()) for p in purpose])


def uniform(seed, purpose, shape, low, high):
    """float32 U[low, high) of `shape` (fake "real images" for the GANs, pixels in [0, 1] for the VAE)."""
    return host_rng(seed, purpose).uniform(low, high, size=shape).astype("float32")


def normal(seed, purpose, shape):
    """float32 N(0, 1) of `shape`."""
    return host_rng(seed, purpose).standard_normal(shape).astype("float32")


def noise_pool(seed, purpose, shape, count=NOISE_POOL):
    """`count` float32 N(0, 1) batches of `shape`, cycled through by the steps (z of a GAN, eps of a VAE)."""
    rng = host_rng(seed, purpose)
    return [rng.standard_normal(shape).astype("float32") for _ in range(count)]


INIT_LAYERS = ("Linear", "Conv2d", "ConvTranspose2d")  # the layers whose weights initial_weights fills


def initial_weights(weight_shape, bias_shape, rng):
    """PyTorch's default initialisation of Linear, Conv2d and ConvTranspose2d, drawn with NumPy.

    Weight and bias ~ U[-1/sqrt(fan_in), 1/sqrt(fan_in)] with fan_in = prod(weight.shape[1:]), as
    torch's kaiming_uniform_(a=sqrt(5)) (for ConvTranspose2d, whose weight is (C_in, C_out, KH, KW),
    PyTorch too takes fan_in from dimension 1). BatchNorm keeps its defaults: gamma 1, beta 0.
    """
    bound = 1.0 / math.sqrt(math.prod(weight_shape[1:]))
    weight = rng.uniform(-bound, bound, size=weight_shape).astype("float32")
    bias = None if bias_shape is None else rng.uniform(-bound, bound, size=bias_shape).astype("float32")
    return weight, bias


def op_arrays(seed, name, shapes):
    """Inputs of an op benchmark: x, W, b and the fixed upstream gradient dL/dy, as float32 arrays.

    x and dL/dy ~ N(0, 1); for conv and linear W and b as PyTorch's default initialisation,
    for batch_norm gamma = 1 + N(0, 0.1^2) and beta ~ N(0, 0.1^2).
    """
    x = normal(seed, name + "/x", shapes["x"])
    gy = normal(seed, name + "/dy", shapes["y"])
    if name == "O3":
        rng = host_rng(seed, name + "/gamma-beta")
        w = (1 + 0.1 * rng.standard_normal(shapes["w"])).astype("float32")
        b = (0.1 * rng.standard_normal(shapes["b"])).astype("float32")
    else:
        w, b = initial_weights(shapes["w"], shapes["b"], host_rng(seed, name + "/weights"))
    return x, w, b, gy


# -- recurrent networks (R1) -------------------------------------------------------------------------

def binary_images(seed, purpose, shape):
    """float32 images of 0s and 1s (pixel = 1 where a U[0, 1) draw is >= 0.5)."""
    return (uniform(seed, purpose, shape, 0.0, 1.0) >= 0.5).astype("float32")


def recurrent_weights(shapes, rng):
    """Every weight and bias of an LSTM (in PyTorch's order), then the Linear's: PyTorch's initialisations.

    The LSTM's four tensors ~ U[-1/sqrt(H), 1/sqrt(H)]; the Linear's as initial_weights.
    """
    H, C = shapes["hidden"], shapes["columns"]
    bound = 1.0 / math.sqrt(H)
    lstm = [rng.uniform(-bound, bound, size=shape).astype("float32")
            for shape in ((4 * H, C), (4 * H, H), (4 * H,), (4 * H,))]
    return lstm + list(initial_weights((C, H), (C,), rng))


# -- a tiny NeRF (N1) ------------------------------------------------------------------------------------

def nerf_rays(seed, name, shapes):
    """(origins, unit directions, colours), float32 (R, 3) each: cameras at distance 4 aiming near the origin."""
    import numpy as np
    rng = host_rng(seed, name, "rays")
    R = shapes["rays"]
    origins = rng.standard_normal((R, 3))
    origins *= 4.0 / np.linalg.norm(origins, axis=1, keepdims=True)
    directions = -origins + rng.uniform(-1.0, 1.0, (R, 3))
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    colours = rng.uniform(0.0, 1.0, (R, 3))
    return tuple(a.astype("float32") for a in (origins, directions, colours))


def nerf_sample_distances(seed, name, shapes, count=NOISE_POOL):
    """`count` stratified t (R, N): near + (i + u) (far - near) / N, u ~ U[0, 1), cycled through by the steps."""
    import numpy as np
    rng = host_rng(seed, name, "jitter")
    R, N = shapes["rays"], shapes["samples"]
    bins = np.arange(N)
    return [(NERF_NEAR + (bins + rng.uniform(0.0, 1.0, (R, N))) * ((NERF_FAR - NERF_NEAR) / N)).astype("float32")
            for _ in range(count)]


def nerf_weights(seed, name, shapes):
    """The field's (weight, bias) pairs, PyTorch's default initialisation: 4 hidden layers and the output layer."""
    encoded = 3 * (1 + 2 * shapes["frequencies"])
    sizes = [encoded] + [shapes["width"]] * 4 + [4]
    rng = host_rng(seed, name, "weights")
    return [initial_weights((n_out, n_in), (n_out,), rng) for n_in, n_out in zip(sizes[:-1], sizes[1:])]


# -- U-Net segmentation (U1) ----------------------------------------------------------------------------

def scenes_and_labels(seed, purpose, batch):
    """`batch` scenes of the embedded digits drawn with host_rng(seed, purpose): float32 (batch, 1, 64, 64) on
    [0, 1] and int64 label maps (batch, 64, 64)."""
    import numpy as np
    from tinygan.data import load_embedded_mnist
    from tinygan.data.scenes import make_scenes
    images, labels = load_embedded_mnist()
    scenes, label_maps = make_scenes(images, labels, batch, host_rng(seed, purpose))
    return (scenes[:, None] / np.float32(255)).astype("float32"), label_maps.astype("int64")


# -- the tiny DALL-E (T1, Q1) ---------------------------------------------------------------------------

DALLE_ADAMW = dict(lr=3e-4, betas=(0.9, 0.95))
DALLE_WEIGHT_DECAY, DALLE_CLIP = 0.01, 1.0
VQVAE_ADAM = dict(lr=1e-3)
DALLE_TEXT_TOKENS, DALLE_TEXT_LENGTH, DALLE_IMAGE_TOKENS = 21, 5, 49


def named_weights(named_shapes, rng):
    """Initial values of a network's parameters by name, the same on both sides: (name, shape) pairs in order ->
    float32 arrays. Embeddings ~ N(0, 0.02^2); LayerNorm weights 1; other vectors (biases) U[-0.1, 0.1];
    matrices U[-1/sqrt(fan_in), 1/sqrt(fan_in)] (PyTorch's default for a Linear layer)."""
    import numpy as np
    values = []
    for name, shape in named_shapes:
        if "embedding" in name:
            value = rng.normal(0.0, 0.02, shape)
        elif "norm" in name and name.endswith("weight"):
            value = np.ones(shape)
        elif len(shape) == 1:
            value = rng.uniform(-0.1, 0.1, shape)
        else:
            bound = 1.0 / math.sqrt(int(np.prod(shape[1:])))
            value = rng.uniform(-bound, bound, shape)
        values.append(value.astype("float32"))
    return values


def dalle_batch(seed, name, shapes):
    """(word tokens int64 (B, 4) in 0..19, image codes int64 (B, 49) in 0..codes-1) drawn with host_rng."""
    rng = host_rng(seed, name, "tokens")
    return (rng.integers(0, DALLE_TEXT_TOKENS - 1, (shapes["batch"], 4)).astype("int64"),
            rng.integers(0, shapes["codes"], (shapes["batch"], DALLE_IMAGE_TOKENS)).astype("int64"))


def vqvae_codebook(seed, name, shapes):
    """The VQ-VAE's starting codes (K, D), float32 U[-1, 1): codes spread over the encoder's outputs."""
    return uniform(seed, name + "/codebook", (shapes["codes"], shapes["code_dim"]), -1.0, 1.0)
