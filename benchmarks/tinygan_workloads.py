"""The workloads written with tinygan: one function per workload, the twin of torch_workloads.py.

Each workload function takes (shapes, seed) and returns a specs.Bench whose `step()` runs one
training step (or one forward + backward of an op). The models are tinygan's own
(tinygan.models), so the suite times what a user trains; the GAN step is GANStep's
(tinygan/train/gan.py) without its logging: D on real and detached fake, then G through a
frozen D.
"""
import itertools

import numpy

import tinygan
from tinygan import backend, optim
from tinygan import functional as F
from tinygan.autograd import grad
from tinygan.models import NeRF, RowLSTM, UNet, VAEGANDecoder, VAEGANDiscriminator, VAEGANEncoder
from tinygan.models.gan import DCGANDiscriminator, DCGANGenerator, MLPDiscriminator, MLPGenerator
from tinygan.models.nerf import render_samples
from tinygan.models.vae import MLPVAE

from . import specs


# -- the framework ------------------------------------------------------------------------------

def setup(device, threads):
    """Use NumPy ('cpu') or CuPy ('gpu'); raise specs.Unavailable when there is no GPU for CuPy.

    `threads` is applied by the environment (OMP_/OPENBLAS_/MKL_NUM_THREADS), set before NumPy loaded.
    """
    if device == "gpu":
        if not backend.cupy_available():
            raise specs.Unavailable("tinygan.backend.cupy_available() is False (CuPy or its GPU is missing)")
        backend.use("cupy")
    else:
        backend.use("numpy")
    backend.set_default_dtype("float32")
    tinygan.keep_freed_memory()          # as training does (tinygan/runtime/malloc.py)


def sync():
    """Wait for the GPU to finish what was queued (nothing to wait for on NumPy)."""
    if backend.current() == "cupy":
        backend.module_for("cupy").cuda.Device().synchronize()


def versions():
    found = {"tinygan": tinygan.__version__, "numpy": numpy.__version__, "tinygan kernels": tinygan.current_kernels()}
    if backend.current() == "cupy":
        cupy = backend.module_for("cupy")
        found["cupy"] = cupy.__version__
        found["cuda_runtime"] = cupy.cuda.runtime.runtimeGetVersion()
        name = cupy.cuda.runtime.getDeviceProperties(cupy.cuda.Device().id)["name"]
        found["gpu"] = name.decode() if isinstance(name, bytes) else str(name)
    return found


def thread_info():
    """The BLAS NumPy runs, its kernel and its thread count (tinygan.runtime.threads reads them from the library itself)."""
    blas = tinygan.runtime.threads.blas_info()
    described = blas["library"] if blas["kernel"] is None else (
        f"{blas['library']} ({blas['kernel']} kernels): {blas['threads']} threads")
    return {"blas": described, "malloc_keeps_freed_memory": tinygan.keeps_freed_memory()}


def gpu_memory_reset():
    """Free the CuPy pool's cached blocks, so that the pool's size afterwards is this workload's peak."""
    backend.module_for("cupy").get_default_memory_pool().free_all_blocks()


def gpu_memory_peak():
    """Bytes the CuPy memory pool holds: it keeps every block it ever needed, so this is its peak."""
    return {"pool_bytes": int(backend.module_for("cupy").get_default_memory_pool().total_bytes())}


def tensor(array, requires_grad=False):
    """A Tensor of a host float32 array on the current backend's device."""
    return tinygan.Tensor(backend.to_device(array, backend.current_device()), requires_grad=requires_grad)


def to_numpy(t):
    return backend.to_numpy(t.array)


def grad_of(t):
    return None if t.grad is None else backend.to_numpy(t.grad.array if isinstance(t.grad, tinygan.Tensor)
                                                        else t.grad)


def load_initial_weights(model, rng):
    """Give every Linear/Conv2d/ConvTranspose2d, in module order, the weights specs.initial_weights draws."""
    for m in model.modules():
        if type(m).__name__ in specs.INIT_LAYERS:
            w, b = specs.initial_weights(m.weight.shape, m.bias.shape, rng)
            m.weight.array[...] = backend.to_device(w, backend.current_device())
            m.bias.array[...] = backend.to_device(b, backend.current_device())
    return model


# -- the workloads ------------------------------------------------------------------------------

def _gan_step(G, D, shapes, seed, name):
    """The GAN step of W1 and W2: one D update on real + detached fake, one G update through frozen D."""
    load_initial_weights(G, specs.host_rng(seed, name, "G"))
    load_initial_weights(D, specs.host_rng(seed, name, "D"))
    real = tensor(specs.uniform(seed, name + "/real", (shapes["batch"], 1, 28, 28), -1.0, 1.0))
    noise = itertools.cycle([tensor(z) for z in specs.noise_pool(seed, name + "/z",
                                                                 (shapes["batch"], shapes["latent"]))])
    opt_d = optim.Adam(D.parameters(), **specs.GAN_ADAM)
    opt_g = optim.Adam(G.parameters(), **specs.GAN_ADAM)

    def step():
        with tinygan.no_grad():                      # D's update needs G's samples, not G's graph
            fake = G(next(noise))
        d_loss = (F.binary_cross_entropy_with_logits(D(real), 1.0)
                  + F.binary_cross_entropy_with_logits(D(fake), 0.0))
        opt_d.zero_grad()
        d_loss.backward()
        opt_d.step()

        D.requires_grad_(False)                      # G's update: no gradients for D's weights
        g_loss = F.softplus(-D(G(next(noise)))).mean()  # non-saturating: -log sigmoid(D(G(z)))
        opt_g.zero_grad()
        g_loss.backward()
        opt_g.step()
        D.requires_grad_(True)
        return d_loss, g_loss

    return specs.Bench(step, list(G.parameters()) + list(D.parameters()))


def w1_mlp_gan(shapes, seed, name="W1"):
    """W1: MLP GAN step (see specs.WORKLOADS["W1"])."""
    G = MLPGenerator(shapes["latent"], hidden=shapes["g_hidden"], out_shape=(1, 28, 28))  # (N, 1, 28, 28)
    D = MLPDiscriminator((1, 28, 28), hidden=shapes["d_hidden"])                          # (N, 1) logits
    return _gan_step(G, D, shapes, seed, name)


def w2_dcgan(shapes, seed, name="W2"):
    """W2 and W2-512: DCGAN step (see specs.WORKLOADS["W2"])."""
    G = DCGANGenerator(shapes["latent"], width=shapes["width"], channels=1)   # (N, 1, 28, 28)
    D = DCGANDiscriminator(width=shapes["width"], channels=1)                 # (N, 1) logits
    return _gan_step(G, D, shapes, seed, name)


def w3_mlp_vae(shapes, seed, name="W3"):
    """W3: MLP VAE step, BCE(sum) + KL(sum), Adam 1e-3 (see specs.WORKLOADS["W3"])."""
    model = load_initial_weights(MLPVAE(shapes["features"], shapes["hidden"], shapes["latent"]),
                                 specs.host_rng(seed, name, "VAE"))
    x = tensor(specs.uniform(seed, name + "/x", (shapes["batch"], shapes["features"]), 0.0, 1.0))
    noise = itertools.cycle([tensor(e) for e in specs.noise_pool(seed, name + "/eps",
                                                                 (shapes["batch"], shapes["latent"]))])
    opt = optim.Adam(model.parameters(), **specs.VAE_ADAM)

    def step():
        mu, logvar = model.encode(x)
        z = mu + (logvar * 0.5).exp() * next(noise)   # reparameterisation: z = mu + sigma eps
        loss = (F.binary_cross_entropy_with_logits(model.decode(z), x, reduction="sum")
                + F.gaussian_kl(mu, logvar, reduction="sum"))
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    return specs.Bench(step, list(model.parameters()))


def _op_step(forward, seed, name, shapes):
    """Forward + backward of one op from the fixed dL/dy, with fresh gradients each step."""
    x, w, b, gy = specs.op_arrays(seed, name, shapes)
    leaves = [tensor(a, requires_grad=True) for a in (x, w, b)]
    gy = tensor(gy)

    def step():
        for t in leaves:
            t.grad = None
        y = forward(*leaves)
        y.backward(gy)
        return y

    return specs.Bench(step, leaves, updates=False)


def o1_conv2d(shapes, seed, name="O1"):
    """O1: conv2d forward + backward, stride 2, padding 1 (see specs.WORKLOADS["O1"])."""
    return _op_step(lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1), seed, name, shapes)


def o2_conv_transpose2d(shapes, seed, name="O2"):
    """O2: conv_transpose2d forward + backward, stride 2, padding 1 (see specs.WORKLOADS["O2"])."""
    return _op_step(lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1), seed, name, shapes)


def o3_batch_norm(shapes, seed, name="O3"):
    """O3: batch_norm 2d forward (training) + backward (see specs.WORKLOADS["O3"])."""
    C = shapes["x"][1]
    xp = backend.xp()
    running_mean, running_var = xp.zeros(C, dtype="float32"), xp.ones(C, dtype="float32")
    return _op_step(lambda x, w, b: F.batch_norm(x, running_mean, running_var, w, b, training=True,
                                                 momentum=0.1, eps=1e-5), seed, name, shapes)


def o4_linear(shapes, seed, name="O4"):
    """O4: linear forward + backward (see specs.WORKLOADS["O4"])."""
    return _op_step(F.linear, seed, name, shapes)


def v1_vaegan(shapes, seed, name="V1"):
    """V1: one VAE-GAN step, three objectives each differentiated for its own network (see specs.WORKLOADS["V1"])."""
    n, latent = shapes["batch"], shapes["latent"]
    nets = {"E": VAEGANEncoder(latent, width=shapes["enc_width"]), "G": VAEGANDecoder(latent, width=shapes["width"]),
            "D": VAEGANDiscriminator(width=shapes["width"])}
    for key, net in nets.items():
        load_initial_weights(net, specs.host_rng(seed, name, key))
    E, G, D = nets["E"], nets["G"], nets["D"]
    x = tensor(specs.uniform(seed, name + "/real", (n, 1, 28, 28), -1.0, 1.0))
    eps = itertools.cycle([tensor(e) for e in specs.noise_pool(seed, name + "/eps", (n, latent))])
    z_p = itertools.cycle([tensor(z) for z in specs.noise_pool(seed, name + "/z", (n, latent))])
    opts = {key: optim.Adam(net.parameters(), **specs.GAN_ADAM) for key, net in nets.items()}
    bce = F.binary_cross_entropy_with_logits

    def step():
        mu, logvar = E(x)
        reconstruction = G(mu + (logvar * 0.5).exp() * next(eps))
        real_logit, real_features = D.logit_and_features(x)
        rec_logit, rec_features = D.logit_and_features(reconstruction)
        prior_logit = D(G(next(z_p)))
        prior = F.gaussian_kl(mu, logvar, reduction="sum") / n
        diff = real_features - rec_features
        llike = 0.5 * (diff * diff).sum() / n
        objectives = {"E": prior + llike,
                      "G": specs.VAEGAN_GAMMA * llike + bce(rec_logit, 1.0) + bce(prior_logit, 1.0),
                      "D": bce(real_logit, 1.0) + bce(rec_logit, 0.0) + bce(prior_logit, 0.0)}
        for key, net in nets.items():
            params = list(net.parameters())
            for p, g in zip(params, grad(objectives[key], params)):
                p.grad = g
        for opt in opts.values():
            opt.step()
        return objectives["D"], objectives["E"], objectives["G"]

    return specs.Bench(step, [p for net in nets.values() for p in net.parameters()])


def r1_row_lstm(shapes, seed, name="R1"):
    """R1: one step of the row-by-row LSTM generator, BPTT through all rows, Adam 1e-3 (see specs.WORKLOADS["R1"])."""
    model = RowLSTM(hidden=shapes["hidden"])
    for p, value in zip(model.parameters(), specs.recurrent_weights(shapes, specs.host_rng(seed, name, "LSTM"))):
        p.array[...] = backend.to_device(value, backend.current_device())
    x = tensor(specs.binary_images(seed, name + "/x", (shapes["batch"], 1, shapes["rows"], shapes["columns"])))
    opt = optim.Adam(model.parameters(), **specs.RNN_ADAM)

    def step():
        loss = model.nll(x)        # BCE with logits summed over the pixels, / batch
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    return specs.Bench(step, list(model.parameters()))


def n1_nerf(shapes, seed, name="N1"):
    """N1: one NeRF step: 1024 rays x 32 samples through the field, the renderer, MSE, backward, Adam 5e-4."""
    model = NeRF(num_frequencies=shapes["frequencies"], width=shapes["width"])
    for (p_w, p_b), (w, b) in zip(_linear_pairs(model), specs.nerf_weights(seed, name, shapes)):
        p_w.array[...], p_b.array[...] = (backend.to_device(v, backend.current_device()) for v in (w, b))
    origins, directions, colours = (backend.to_device(a, backend.current_device())
                                    for a in specs.nerf_rays(seed, name, shapes))
    target = tensor(colours)
    pool = itertools.cycle([backend.to_device(t, backend.current_device())
                            for t in specs.nerf_sample_distances(seed, name, shapes)])
    opt = optim.Adam(model.parameters(), **specs.NERF_ADAM)

    def step():
        colour, _, _ = render_samples(model, origins, directions, next(pool), specs.NERF_FAR)
        loss = F.mse_loss(colour, target)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    return specs.Bench(step, list(model.parameters()))


def _linear_pairs(model):
    layers = list(model.hidden) + [model.out]
    return [(layer.weight, layer.bias) for layer in layers]


def u1_unet(shapes, seed, name="U1"):
    """U1: one U-Net segmentation step: forward, pixelwise cross-entropy, backward, Adam (see specs.WORKLOADS["U1"])."""
    model = load_initial_weights(UNet(1, shapes["classes"], widths=shapes["widths"]), specs.host_rng(seed, name))
    scenes, label_maps = specs.scenes_and_labels(seed, name + "/scenes", shapes["batch"])
    x, y = tensor(scenes), tinygan.Tensor(backend.to_device(label_maps, backend.current_device()))
    opt = optim.Adam(model.parameters(), **specs.SEGMENTATION_ADAM)

    def step():
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    return specs.Bench(step, list(model.parameters()))


def t1_dalle_prior(shapes, seed, name="T1"):
    """T1: one step of the DALL-E prior: forward over 53 tokens, the image positions' cross-entropy, backward,
    clipping, AdamW (see specs.WORKLOADS["T1"])."""
    from tinygan.models.dalle import DallePrior
    model = DallePrior(num_codes=shapes["codes"], width=shapes["width"], num_layers=shapes["layers"],
                       num_heads=shapes["heads"], feedforward=shapes["feedforward"], dropout=shapes["dropout"])
    named = list(model.named_parameters())
    for (_, p), value in zip(named, specs.named_weights([(n, tuple(p.shape)) for n, p in named],
                                                        specs.host_rng(seed, name))):
        p.array[...] = backend.to_device(value, backend.current_device())
    words, codes = (tinygan.Tensor(backend.to_device(a, backend.current_device()))
                    for a in specs.dalle_batch(seed, name, shapes))
    opt = optim.AdamW(model.weight_decay_groups(specs.DALLE_WEIGHT_DECAY), **specs.DALLE_ADAMW)
    model.train()

    def step():
        loss = model.loss(words, codes)
        opt.zero_grad()
        loss.backward()
        tinygan.nn.utils.clip_grad_norm_(model.parameters(), specs.DALLE_CLIP)
        opt.step()
        return loss

    return specs.Bench(step, [p for _, p in named])


def q1_vqvae(shapes, seed, name="Q1"):
    """Q1: one VQ-VAE step with the EMA codebook: forward (the codebook's update included), MSE + commitment,
    backward, Adam (see specs.WORKLOADS["Q1"])."""
    from tinygan.models import VQVAE
    model = load_initial_weights(VQVAE(num_codes=shapes["codes"], code_dim=shapes["code_dim"],
                                       hidden=shapes["hidden"], width=shapes["width"]), specs.host_rng(seed, name))
    codes = backend.to_device(specs.vqvae_codebook(seed, name, shapes), backend.current_device())
    model.codebook.array[...] = codes
    model.code_sum.array[...] = codes
    x = tensor(specs.uniform(seed, name + "/images", (shapes["batch"], 3, 28, 28), 0.0, 1.0))
    opt = optim.Adam(model.parameters(), **specs.VQVAE_ADAM)

    def step():
        loss, _ = model.loss(x, model(x))
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    return specs.Bench(step, list(model.parameters()))


WORKLOADS = {"W1": w1_mlp_gan, "W2": w2_dcgan, "W3": w3_mlp_vae, "O1": o1_conv2d, "O2": o2_conv_transpose2d,
             "O3": o3_batch_norm, "O4": o4_linear, "W2-512": w2_dcgan, "V1": v1_vaegan, "R1": r1_row_lstm,
             "N1": n1_nerf, "U1": u1_unet,
             "T1": t1_dalle_prior, "Q1": q1_vqvae}


def build(name, quick=False, seed=0):
    """The Bench of workload `name` (a key of specs.WORKLOADS) at full or --quick shapes."""
    return WORKLOADS[name](specs.WORKLOADS[name].shapes(quick), seed, name=name)
