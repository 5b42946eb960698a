"""vaegan: the VAE-GAN beside the same encoder and decoder trained as a plain VAE (vaegan-vae), in tinygan and in
PyTorch on the same batches: prior-sample FID, classifier score, rarest class, and the test reconstruction MSE."""
import os
import time
from pathlib import Path

import numpy as np

from tinygan import Tensor, backend, registry, viz
from tinygan.data import ImageLoader, load_embedded_mnist, load_mnist
from tinygan.evaluation.classifier import classify
from tinygan.evaluation.reference import image_scores, load_reference
from tinygan.train.config import make_config
from tinygan.train.evaluate import reconstruct
from tinygan.train.run import Run

from .common import log, torch_threads, train_until


def experiment(args, folder):
    """VAE-GAN and the same encoder and decoder trained as a plain VAE (vaegan-vae), in tinygan and in PyTorch:
    prior-sample FID, score, rarest class, and test reconstruction MSE on [0, 1]."""
    reference = load_reference(args.test_data, args.n)
    test_images, _ = load_mnist("test", folder=args.test_data)
    epochs, seed = args.epochs or 30, args.seeds[0]
    rows, runs = {}, {}
    for model in ("vaegan", "vaegan-vae"):
        run = Run(make_config(model, epochs=epochs, seed=seed, steps_per_epoch=args.steps_per_epoch),
                  os.path.join(folder, model))
        seconds = train_until(run, epochs)
        rows[f"tinygan {model}"] = {"train_seconds": round(seconds, 1),
                                    **_tinygan_scores(run, reference, test_images, args.n, seed)}
        runs[{"vaegan": "VAE-GAN", "vaegan-vae": "plain VAE"}[model]] = run
        log(f"tinygan {model}: {rows[f'tinygan {model}']}")
    figure = Path(args.results) / "vaegan_vs_vae.png"
    save_figure(runs, test_images, figure, seed)
    log(f"figure: {figure}")
    try:
        import torch  # noqa: F401  (optional: without it the PyTorch rows say so)
    except ImportError:
        rows["pytorch vaegan"] = rows["pytorch vaegan-vae"] = {"note": "torch is not installed"}
    else:
        E, G, seconds = _torch_vaegan(epochs, seed, make_config("vaegan")["gamma"], args.steps_per_epoch)
        rows["pytorch vaegan"] = {"train_seconds": round(seconds, 1),
                                  **_torch_scores(E, G, reference, test_images, args.n, seed)}
        log(f"pytorch vaegan: {rows['pytorch vaegan']}")
        E, G, seconds = _torch_vaegan_vae(epochs, seed, args.steps_per_epoch)
        rows["pytorch vaegan-vae"] = {"train_seconds": round(seconds, 1),
                                      **_torch_vae_scores(E, G, reference, test_images, args.n, seed)}
        log(f"pytorch vaegan-vae: {rows['pytorch vaegan-vae']}")
    ours, theirs, vae = rows["tinygan vaegan"], rows["pytorch vaegan"], rows["tinygan vaegan-vae"]
    checks = {"tinygan vaegan FID below tinygan vaegan-vae's (the same encoder and decoder as a plain VAE)":
              ours["fid"] < vae["fid"]}
    if "fid" in theirs:
        checks["tinygan vaegan FID within 15% of PyTorch's"] = ours["fid"] <= 1.15 * theirs["fid"]
    return {"recipe": f"vaegan defaults (gamma {make_config('vaegan')['gamma']}) and vaegan-vae (the VAE-GAN's "
                      f"encoder and decoder trained as a plain VAE: KL + Bernoulli pixels, no discriminator, the same "
                      f"Adam 2e-4 (0.5, 0.999), batch 64), {epochs} epochs, seed {seed}, embedded 5k digits; {args.n} "
                      f"prior samples vs {reference.description}; MSE of the mean reconstructions of the 10k test "
                      f"digits on [0, 1]; the PyTorch twins train the same recipes on the same batches; pictures: "
                      f"{figure.name}",
            "epochs": epochs, "rows": rows, "checks": checks}


def markdown(entry):
    lines = ["| model | FID | classifier score | rarest class | test MSE | train s |", "|---|---|---|---|---|---|"]
    lines += [f"| {model} | {r['fid']:.2f} | {r['classifier_score']:.2f} | {r['rarest_class']:.3f} | "
              f"{r['test_mse']:.4f} | {r['train_seconds']} |" if "fid" in r else f"| {model} | {r['note']} |"
              for model, r in entry["rows"].items()]
    return lines


# -- the scores, the same for both frameworks ------------------------------------------------------------------

def _scores(sample, reconstruct, reference, test_images, n, seed, value_range):
    """Sample scores from the prior and the test reconstruction MSE on [0, 1] of one trained model.

    sample(count, rng) -> host images on value_range; reconstruct(uint8 images) -> host images on [0, 1].
    """
    started = time.perf_counter()
    rng = np.random.default_rng(seed)
    samples = np.concatenate([sample(min(500, n - i), rng) for i in range(0, n, 500)])
    probs, features = classify(samples, value_range=value_range)
    scores = {key: round(value, 4) for key, value in image_scores(probs, features, reference).items()}
    recon = np.concatenate([reconstruct(test_images[i:i + 500]) for i in range(0, len(test_images), 500)])
    target = test_images.reshape(len(test_images), -1) / 255.0
    scores["test_mse"] = round(float(np.mean((recon.reshape(len(test_images), -1) - target) ** 2)), 5)
    scores["eval_seconds"] = round(time.perf_counter() - started, 1)
    return scores


def _tinygan_scores(run, reference, test_images, n, seed):
    def sample(count, rng):
        z = rng.standard_normal((count, run.config["latent_dim"])).astype("float32")
        return backend.to_numpy(run.sample(count, z=Tensor(backend.to_device(z, backend.current_device()))).array)

    return _scores(sample, lambda images: reconstruct(run, images), reference, test_images, n, seed,
                   registry.model_of(run.config).value_range)


def save_figure(runs, test_images, path, seed=0, count=32):
    """Prior samples (the same z for every model) and test reconstructions beside their originals, one row per model.

    runs -- {label: Run}; path -- the PNG to write.
    """
    z = np.random.default_rng([seed, 17]).standard_normal((count, 20)).astype(backend.get_default_dtype())
    originals = test_images[:count // 2].reshape(-1, 1, 28, 28)
    panels, titles = [], []
    for label, run in runs.items():
        samples = backend.to_numpy(run.sample(count, z=Tensor(backend.to_device(z, backend.current_device()))).array)
        low, high = registry.model_of(run.config).value_range
        panels.append((samples - low) / (high - low))                                      # on [0, 1]
        pairs = np.stack([originals / 255.0, reconstruct(run, originals)], axis=1)         # (count/2, 2, 1, 28, 28)
        panels.append(pairs.reshape(count, 1, 28, 28))
        titles += [f"{label}: samples from the prior", f"{label}: originals | reconstructions"]
    viz.save_image_panels(panels, path, titles, ncols=2)


# -- the PyTorch twins' training ----------------------------------------------------------------------------------

def _torch_batches(batch_size, seed, epochs, steps_per_epoch, value_range=(-1, 1)):
    """The embedded digits as PyTorch tensors, in the order tinygan's loader gives them, epoch after epoch."""
    import torch  # optional: only the PyTorch twins need it
    images, labels = load_embedded_mnist()
    loader = ImageLoader(images, labels, batch_size=batch_size, seed=seed, drop_last=True, value_range=value_range)
    for epoch in range(epochs):
        loader.set_epoch(epoch)
        for step, (x, _) in enumerate(loader):
            if steps_per_epoch and step >= steps_per_epoch:
                break
            yield torch.from_numpy(backend.to_numpy(x.array))


def _torch_vaegan(epochs, seed, gamma, steps_per_epoch=None):
    """The VAE-GAN recipe in PyTorch (the twins of tinygan's networks, DCGAN init), trained on the embedded digits
    in the order tinygan's loader gives them; returns (E, G, seconds)."""
    import torch  # optional: only the PyTorch twins need it
    from torch.nn import functional as TF

    from ..twins.gan import dcgan_generator, dcgan_init_
    from ..twins.vaegan import VAEGANDiscriminator, VAEGANEncoder
    torch.manual_seed(seed)
    torch_threads()
    E, G, D = VAEGANEncoder(20, 32), dcgan_generator(20, 64), VAEGANDiscriminator(64)
    dcgan_init_(E, G, D)
    nets = {"E": E, "G": G, "D": D}
    opts = {k: torch.optim.Adam(net.parameters(), lr=2e-4, betas=(0.5, 0.999)) for k, net in nets.items()}
    bce = TF.binary_cross_entropy_with_logits
    started = time.perf_counter()
    for x in _torch_batches(64, seed, epochs, steps_per_epoch):
        n = x.shape[0]
        mu, logvar = E(x)
        rec = G(mu + (logvar * 0.5).exp() * torch.randn_like(mu))
        real_logit, real_f = D.logit_and_features(x)
        rec_logit, rec_f = D.logit_and_features(rec)
        prior_logit = D(G(torch.randn_like(mu)))
        prior = -0.5 * (1 + logvar - mu * mu - logvar.exp()).sum() / n
        llike = 0.5 * ((real_f - rec_f) ** 2).sum() / n
        one, zero = torch.ones_like(rec_logit), torch.zeros_like(rec_logit)
        objectives = {"E": prior + llike,
                      "G": gamma * llike + bce(rec_logit, one) + bce(prior_logit, one),
                      "D": bce(real_logit, one) + bce(rec_logit, zero) + bce(prior_logit, zero)}
        for i, (k, net) in enumerate(nets.items()):
            params = list(net.parameters())
            for p, g in zip(params, torch.autograd.grad(objectives[k], params, retain_graph=i < 2)):
                p.grad = g
        for opt in opts.values():
            opt.step()
    return E, G, time.perf_counter() - started


def _torch_vaegan_vae(epochs, seed, steps_per_epoch=None):
    """tinygan's vaegan-vae in PyTorch: the VAE-GAN's encoder and decoder (DCGAN init) trained as a plain VAE,
    KL + Bernoulli pixels on [0, 1] with logits 2a (a = the decoder's pre-tanh output), one Adam 2e-4 (0.5, 0.999),
    batch 64, on the batches tinygan's loader gives; returns (E, G, seconds)."""
    import torch  # optional: only the PyTorch twins need it

    from ..twins.gan import dcgan_generator, dcgan_init_
    from ..twins.vaegan import VAEGANEncoder, plain_vae_loss
    torch.manual_seed(seed)
    torch_threads()
    E, G = VAEGANEncoder(20, 32), dcgan_generator(20, 64)
    dcgan_init_(E, G)
    opt = torch.optim.Adam(list(E.parameters()) + list(G.parameters()), lr=2e-4, betas=(0.5, 0.999))
    started = time.perf_counter()
    for x in _torch_batches(64, seed, epochs, steps_per_epoch, value_range=(0, 1)):
        loss = plain_vae_loss(E, G, x)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return E, G, time.perf_counter() - started


def _torch_scores(E, G, reference, test_images, n, seed):
    """The PyTorch VAE-GAN's figures: its images are the decoder's tanh output, on [-1, 1]."""
    import torch  # optional: only the PyTorch twins need it
    E.eval(), G.eval()

    def sample(count, rng):
        with torch.no_grad():
            return G(torch.from_numpy(rng.standard_normal((count, 20)).astype("float32"))).numpy()

    def reconstruct(images):
        x = torch.from_numpy(images.reshape(len(images), 1, 28, 28).astype("float32") / 127.5 - 1)
        with torch.no_grad():
            return ((G(E(x)[0]) + 1) * 0.5).numpy()

    return _scores(sample, reconstruct, reference, test_images, n, seed, (-1, 1))


def _torch_vae_scores(E, G, reference, test_images, n, seed):
    """The PyTorch plain VAE's figures: its images are the decoder's tanh output read on [0, 1]."""
    import torch  # optional: only the PyTorch twins need it
    E.eval(), G.eval()

    def sample(count, rng):
        with torch.no_grad():
            return ((G(torch.from_numpy(rng.standard_normal((count, 20)).astype("float32"))) + 1) * 0.5).numpy()

    def reconstruct(images):
        x = torch.from_numpy(images.reshape(len(images), 1, 28, 28).astype("float32") / 127.5 - 1)
        with torch.no_grad():
            return ((G(E(x)[0]) + 1) * 0.5).numpy()

    return _scores(sample, reconstruct, reference, test_images, n, seed, (0, 1))
