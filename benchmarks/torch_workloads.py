"""The workloads written with PyTorch: the reference, line for line the twin of tinygan_workloads.py.

Importing this module imports torch (tinygan itself never does). The networks are the PyTorch twins
of tinygan.models in benchmarks/twins/, with the same layers in the same order
(tests/benchmarks/test_benchmarks.py checks the parameter shapes and the first losses against tinygan).
"""
import itertools

import numpy
import torch
from torch.nn import functional as F

from tinygan.runtime.malloc import keep_freed_memory, keeps_freed_memory

from . import specs
from .twins.gan import dcgan_discriminator, dcgan_generator, mlp_discriminator, mlp_generator
from .twins.nerf import NeRF, render_samples
from .twins.rnn import RowLSTM
from .twins.unet import UNet
from .twins.vae import MLPVAE
from .twins.vaegan import VAEGANDiscriminator, VAEGANEncoder

_state = {"device": torch.device("cpu")}


# -- the framework ------------------------------------------------------------------------------

def setup(device, threads):
    """Use the CPU or CUDA, with `threads` intra-op threads; raise specs.Unavailable without CUDA."""
    if device == "gpu":
        if not torch.cuda.is_available():
            raise specs.Unavailable("torch.cuda.is_available() is False")
        _state["device"] = torch.device("cuda")
    else:
        _state["device"] = torch.device("cpu")
    torch.set_num_threads(threads)
    torch.set_default_dtype(torch.float32)
    # The same malloc setting as tinygan's worker (tinygan/runtime/malloc.py): PyTorch's CPU allocator is glibc's
    # malloc too, and with glibc's defaults a step page-faults on fresh pages every time (docs/performance.md,
    # "Settings that change the speed"). The comparison is of the engines, not of malloc's settings.
    keep_freed_memory()


def sync():
    """Wait for the GPU to finish what was queued (nothing to wait for on the CPU)."""
    if _state["device"].type == "cuda":
        torch.cuda.synchronize()


def versions():
    found = {"torch": torch.__version__, "numpy": numpy.__version__}
    if _state["device"].type == "cuda":
        found["cuda_runtime"] = torch.version.cuda
        found["cudnn"] = torch.backends.cudnn.version()
        found["gpu"] = torch.cuda.get_device_name()
    return found


def thread_info():
    return {"torch.get_num_threads": torch.get_num_threads(),
            "torch.get_num_interop_threads": torch.get_num_interop_threads(),
            "cpu capability (its kernels)": torch.backends.cpu.get_cpu_capability(),
            "malloc_keeps_freed_memory": keeps_freed_memory()}


def gpu_memory_reset():
    """Give cached blocks back and restart the peak counters, so the next peak is this workload's."""
    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats()


def gpu_memory_peak():
    """Peak bytes in tensors (allocated) and held by the caching allocator (reserved, like CuPy's pool)."""
    return {"pool_bytes": int(torch.cuda.max_memory_reserved()),
            "allocated_bytes": int(torch.cuda.max_memory_allocated())}


def tensor(array, requires_grad=False):
    """A tensor of a host float32 array on the current device."""
    return torch.tensor(array, device=_state["device"], requires_grad=requires_grad)


def to_numpy(t):
    return t.detach().cpu().numpy()


def grad_of(t):
    return None if t.grad is None else to_numpy(t.grad)


@torch.no_grad()
def load_initial_weights(model, rng):
    """Give every Linear/Conv2d/ConvTranspose2d, in module order, the weights specs.initial_weights draws."""
    for m in model.modules():
        if type(m).__name__ in specs.INIT_LAYERS:
            w, b = specs.initial_weights(tuple(m.weight.shape), tuple(m.bias.shape), rng)
            m.weight.copy_(torch.from_numpy(w))
            m.bias.copy_(torch.from_numpy(b))
    return model.to(_state["device"])


# -- the workloads ------------------------------------------------------------------------------

def _gan_step(G, D, shapes, seed, name):
    """The GAN step of W1 and W2: one D update on real + detached fake, one G update through frozen D."""
    G = load_initial_weights(G, specs.host_rng(seed, name, "G"))
    D = load_initial_weights(D, specs.host_rng(seed, name, "D"))
    real = tensor(specs.uniform(seed, name + "/real", (shapes["batch"], 1, 28, 28), -1.0, 1.0))
    noise = itertools.cycle([tensor(z) for z in specs.noise_pool(seed, name + "/z",
                                                                 (shapes["batch"], shapes["latent"]))])
    ones = torch.ones(shapes["batch"], 1, device=_state["device"])     # BCE targets: real is 1, fake 0
    zeros = torch.zeros(shapes["batch"], 1, device=_state["device"])
    opt_d = torch.optim.Adam(D.parameters(), **specs.GAN_ADAM)
    opt_g = torch.optim.Adam(G.parameters(), **specs.GAN_ADAM)

    def step():
        with torch.no_grad():                        # D's update needs G's samples, not G's graph
            fake = G(next(noise))
        d_loss = (F.binary_cross_entropy_with_logits(D(real), ones)
                  + F.binary_cross_entropy_with_logits(D(fake), zeros))
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
    G = mlp_generator(shapes["latent"], shapes["g_hidden"])   # (N, 1, 28, 28)
    D = mlp_discriminator(shapes["d_hidden"])                 # (N, 1) logits
    return _gan_step(G, D, shapes, seed, name)


def w2_dcgan(shapes, seed, name="W2"):
    """W2 and W2-512: DCGAN step (see specs.WORKLOADS["W2"])."""
    G = dcgan_generator(shapes["latent"], shapes["width"])    # (N, 1, 28, 28)
    D = dcgan_discriminator(shapes["width"])                  # (N, 1) logits
    return _gan_step(G, D, shapes, seed, name)


def w3_mlp_vae(shapes, seed, name="W3"):
    """W3: MLP VAE step, BCE(sum) + KL(sum), Adam 1e-3 (see specs.WORKLOADS["W3"])."""
    model = load_initial_weights(MLPVAE(shapes["features"], shapes["hidden"], shapes["latent"]),
                                 specs.host_rng(seed, name, "VAE"))
    x = tensor(specs.uniform(seed, name + "/x", (shapes["batch"], shapes["features"]), 0.0, 1.0))
    noise = itertools.cycle([tensor(e) for e in specs.noise_pool(seed, name + "/eps",
                                                                 (shapes["batch"], shapes["latent"]))])
    opt = torch.optim.Adam(model.parameters(), **specs.VAE_ADAM)

    def step():
        mu, logvar = model.encode(x)
        z = mu + (logvar * 0.5).exp() * next(noise)   # reparameterisation: z = mu + sigma eps
        loss = (F.binary_cross_entropy_with_logits(model.decode(z), x, reduction="sum")
                - 0.5 * (1 + logvar - mu * mu - logvar.exp()).sum())   # Gaussian KL (sum)
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
    running_mean = torch.zeros(C, device=_state["device"])
    running_var = torch.ones(C, device=_state["device"])
    return _op_step(lambda x, w, b: F.batch_norm(x, running_mean, running_var, w, b, training=True,
                                                 momentum=0.1, eps=1e-5), seed, name, shapes)


def o4_linear(shapes, seed, name="O4"):
    """O4: linear forward + backward (see specs.WORKLOADS["O4"])."""
    return _op_step(F.linear, seed, name, shapes)


def v1_vaegan(shapes, seed, name="V1"):
    """V1: one VAE-GAN step, three objectives each differentiated for its own network (see specs.WORKLOADS["V1"])."""
    n, latent = shapes["batch"], shapes["latent"]
    nets = {"E": VAEGANEncoder(latent, shapes["enc_width"]), "G": dcgan_generator(latent, shapes["width"]),
            "D": VAEGANDiscriminator(shapes["width"])}
    for key, net in nets.items():
        load_initial_weights(net, specs.host_rng(seed, name, key))
    E, G, D = nets["E"], nets["G"], nets["D"]
    x = tensor(specs.uniform(seed, name + "/real", (n, 1, 28, 28), -1.0, 1.0))
    eps = itertools.cycle([tensor(e) for e in specs.noise_pool(seed, name + "/eps", (n, latent))])
    z_p = itertools.cycle([tensor(z) for z in specs.noise_pool(seed, name + "/z", (n, latent))])
    opts = {key: torch.optim.Adam(net.parameters(), **specs.GAN_ADAM) for key, net in nets.items()}
    bce = F.binary_cross_entropy_with_logits

    def step():
        mu, logvar = E(x)
        reconstruction = G(mu + (logvar * 0.5).exp() * next(eps))
        real_logit, real_features = D.logit_and_features(x)
        rec_logit, rec_features = D.logit_and_features(reconstruction)
        prior_logit = D(G(next(z_p)))
        prior = -0.5 * (1 + logvar - mu * mu - logvar.exp()).sum() / n
        llike = 0.5 * ((real_features - rec_features) ** 2).sum() / n
        objectives = {"E": prior + llike,
                      "G": specs.VAEGAN_GAMMA * llike + bce(rec_logit, torch.ones_like(rec_logit))
                      + bce(prior_logit, torch.ones_like(prior_logit)),
                      "D": bce(real_logit, torch.ones_like(real_logit)) + bce(rec_logit, torch.zeros_like(rec_logit))
                      + bce(prior_logit, torch.zeros_like(prior_logit))}
        for i, (key, net) in enumerate(nets.items()):
            params = list(net.parameters())
            grads = torch.autograd.grad(objectives[key], params, retain_graph=i < len(nets) - 1)
            for p, g in zip(params, grads):
                p.grad = g
        for opt in opts.values():
            opt.step()
        return objectives["D"], objectives["E"], objectives["G"]

    return specs.Bench(step, [p for net in nets.values() for p in net.parameters()])


def r1_row_lstm(shapes, seed, name="R1"):
    """R1: one step of the row-by-row LSTM generator, BPTT through all rows, Adam 1e-3 (see specs.WORKLOADS["R1"])."""
    model = RowLSTM(shapes["columns"], shapes["hidden"])
    with torch.no_grad():
        for p, value in zip(model.parameters(), specs.recurrent_weights(shapes, specs.host_rng(seed, name, "LSTM"))):
            p.copy_(torch.from_numpy(value))
    model.to(_state["device"])
    x = tensor(specs.binary_images(seed, name + "/x", (shapes["batch"], 1, shapes["rows"], shapes["columns"])))
    opt = torch.optim.Adam(model.parameters(), **specs.RNN_ADAM)

    def step():
        loss = model.nll(x)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    return specs.Bench(step, list(model.parameters()))


def n1_nerf(shapes, seed, name="N1"):
    """N1: one NeRF step: 1024 rays x 32 samples through the field, the renderer, MSE, backward, Adam 5e-4."""
    model = NeRF(num_frequencies=shapes["frequencies"], width=shapes["width"])
    with torch.no_grad():
        for layer, (w, b) in zip(list(model.hidden) + [model.out], specs.nerf_weights(seed, name, shapes)):
            layer.weight.copy_(torch.from_numpy(w))
            layer.bias.copy_(torch.from_numpy(b))
    model.to(_state["device"])
    origins, directions, target = (tensor(a) for a in specs.nerf_rays(seed, name, shapes))
    pool = itertools.cycle([tensor(t) for t in specs.nerf_sample_distances(seed, name, shapes)])
    opt = torch.optim.Adam(model.parameters(), **specs.NERF_ADAM)

    def step():
        colour, _, _ = render_samples(model, origins, directions, next(pool), specs.NERF_FAR)
        loss = torch.mean((colour - target) ** 2)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    return specs.Bench(step, list(model.parameters()))


def u1_unet(shapes, seed, name="U1"):
    """U1: one U-Net segmentation step: forward, pixelwise cross-entropy, backward, Adam (see specs.WORKLOADS["U1"])."""
    model = load_initial_weights(UNet(1, shapes["classes"], widths=shapes["widths"]), specs.host_rng(seed, name))
    scenes, label_maps = specs.scenes_and_labels(seed, name + "/scenes", shapes["batch"])
    x, y = tensor(scenes), torch.from_numpy(label_maps).to(_state["device"])
    opt = torch.optim.Adam(model.parameters(), **specs.SEGMENTATION_ADAM)

    def step():
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    return specs.Bench(step, list(model.parameters()))


def t1_dalle_prior(shapes, seed, name="T1"):
    """T1: one step of the DALL-E prior (the twin of tinygan's DallePrior; see specs.WORKLOADS["T1"])."""
    from .twins.dalle import DallePrior
    model = DallePrior(num_codes=shapes["codes"], width=shapes["width"], num_layers=shapes["layers"],
                       num_heads=shapes["heads"], feedforward=shapes["feedforward"], dropout=shapes["dropout"])
    named = list(model.named_parameters())
    with torch.no_grad():
        for (_, p), value in zip(named, specs.named_weights([(n, tuple(p.shape)) for n, p in named],
                                                            specs.host_rng(seed, name))):
            p.copy_(torch.from_numpy(value))
    model.to(_state["device"]).train()
    words, codes = (torch.from_numpy(a).to(_state["device"]) for a in specs.dalle_batch(seed, name, shapes))
    opt = torch.optim.AdamW(model.weight_decay_groups(specs.DALLE_WEIGHT_DECAY), **specs.DALLE_ADAMW)

    def step():
        loss = model.loss(words, codes)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), specs.DALLE_CLIP)
        opt.step()
        return loss

    return specs.Bench(step, [p for _, p in named])


def q1_vqvae(shapes, seed, name="Q1"):
    """Q1: one VQ-VAE step with the EMA codebook (the twin of tinygan's VQVAE; see specs.WORKLOADS["Q1"])."""
    from .twins.dalle import VQVAE
    model = load_initial_weights(VQVAE(num_codes=shapes["codes"], code_dim=shapes["code_dim"],
                                       hidden=shapes["hidden"], width=shapes["width"]), specs.host_rng(seed, name))
    codes = torch.from_numpy(specs.vqvae_codebook(seed, name, shapes)).to(_state["device"])
    model.codebook.copy_(codes)
    model.code_sum.copy_(codes)
    x = tensor(specs.uniform(seed, name + "/images", (shapes["batch"], 3, 28, 28), 0.0, 1.0))
    opt = torch.optim.Adam(model.parameters(), **specs.VQVAE_ADAM)

    def step():
        loss = model.loss(x, model(x))
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
