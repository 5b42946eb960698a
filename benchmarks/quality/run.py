"""The quality each tinygan model reaches: train, evaluate, write benchmarks/results/quality.{json,md}.

    python benchmarks/quality.py --only vae                  # VAE test loss at 10 and 30 epochs (~1 min)
    python benchmarks/quality.py --only ring8 --seeds 0 1    # GAN on 8 Gaussians, 10k steps per seed
    python benchmarks/quality.py --only dcgan --epochs 30 --eval-every 5   # FID over epochs (long on a CPU)
    python benchmarks/quality.py --only cgan                  # conditional DCGAN label accuracy at 10 epochs
    python benchmarks/quality.py                               # all four
    python benchmarks/quality.py --only unet --seeds 0 1      # U-Net mIoU at 10 epochs beside PyTorch

On a small shared CPU, OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 can be much faster: with other
jobs running, two BLAS threads on two cores spent 14x longer per ring8 step (0.36 s vs 0.025 s).

Every experiment uses tinygan's default recipe for its model (tinygan/train/config.py) on the
embedded 5,000 digits, and measures on the official 10k MNIST test set: --test-data FOLDER (or the
environment variable TINYGAN_TEST_DATA) names a folder that holds its two t10k files, or --download
fetches them once into the cache (md5-checked, as `tinygan eval --download` does). ring8 and nerf
need no test set. Each experiment's entry in quality.json is replaced when it is rerun, so subsets
can be run at different times; quality.md is rewritten from the JSON.
"""
import argparse
import datetime
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from tinygan import Tensor, backend
from tinygan.evaluation import metrics
from tinygan.evaluation.classifier import classify
from tinygan.data import default_cache_dir, load_mnist
from tinygan.evaluation.reference import image_scores, load_reference
from tinygan.train.evaluate import generate
from tinygan.train.config import make_config
from tinygan.train.run import Run

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:   # `python benchmarks/quality.py` puts only benchmarks/ on the path; the PyTorch
    sys.path.insert(0, str(REPO))  # twins import benchmarks.torch_workloads
RESULTS = REPO / "benchmarks" / "results"
TEST_DATA_VARIABLE = "TINYGAN_TEST_DATA"     # names the folder of the official t10k files when --test-data does not
NEEDS_NO_TEST_DATA = ("ring8", "nerf")
EXPERIMENTS = ("vae", "dcgan", "cgan", "ring8") + ("vaegan",)   # vaegan: issue 17

# The band a PyTorch run of the same recipe reached on the same data (issue 6).
TARGETS = {
    "vae": {10: (132.7, 2.0), 30: (115.4, 1.5), 100: (110.4, 1.5)},   # epoch: (test loss, tolerance)
    "dcgan": {"classifier_score": 5.3, "rarest_class": 0.01},
    "cgan": {"label_accuracy": 0.70},
    "ring8": {"modes_each": 7, "high_quality_each": 0.40, "high_quality_mean": 0.60},
}


def log(message):
    print(message, flush=True)


def train_until(run, epoch):
    """Train `run` up to `epoch` epochs in total; the seconds it took."""
    started = time.perf_counter()
    run.train(epochs=epoch, quiet=True)
    return time.perf_counter() - started


# -- experiments ---------------------------------------------------------------------------

def vae_experiment(args, folder):
    """VAE 784-400-20 (Adam 1e-3, batch 128): test loss (-ELBO, one z, per image) at 10 and 30 epochs."""
    test_images, _ = load_mnist("test", folder=args.test_data)
    epochs = args.epochs or 30
    checkpoints = sorted({e for e in (10, 30, 100) if e <= epochs} | {epochs})
    per_seed = []
    for seed in args.seeds:
        run = Run(make_config("vae", epochs=epochs, seed=seed, steps_per_epoch=args.steps_per_epoch),
                  os.path.join(folder, f"vae-{seed}"))
        rows, train_seconds = [], 0.0
        for epoch in checkpoints:
            train_seconds += train_until(run, epoch)
            k = args.k if epoch == checkpoints[-1] else 0
            losses = metrics.vae_test_losses(run.nets["vae"], test_images, k=k, seed=seed)
            row = {"epoch": epoch, "test_loss": round(losses["elbo_loss"], 2), "train_seconds": round(train_seconds, 1)}
            if k:
                row.update(iwae_loss=round(losses["iwae_loss"], 2), k=k)
            target = TARGETS["vae"].get(epoch)
            if target:
                row["target"] = f"{target[0]} ± {target[1]}"
                row["in_band"] = abs(losses["elbo_loss"] - target[0]) <= target[1]
            rows.append(row)
            log(f"vae seed {seed} epoch {epoch}: {row}")
        per_seed.append({"seed": seed, "epochs": rows})
    return {"recipe": "vae 784-400-20, Adam 1e-3, batch 128, embedded 5k digits; test loss = BCE summed "
                      "over pixels + KL, one sampled z, per image, official 10k test set",
            "runs": per_seed}


def _image_eval(run, reference, n, seed):
    started = time.perf_counter()
    samples, requested = generate(run, n, seed)
    probs, features = classify(samples, value_range=(-1, 1))
    scores = image_scores(probs, features, reference, requested)
    scores = {key: round(value, 4) for key, value in scores.items()}
    scores["eval_seconds"] = round(time.perf_counter() - started, 1)
    return scores


def dcgan_experiment(args, folder):
    """DCGAN (N(0, 0.02) init, Adam 2e-4, beta1 0.5, batch 64): FID over epochs, final score and rarest class."""
    reference = load_reference(args.test_data, args.n)
    epochs, every = args.epochs or 30, args.eval_every
    seed = args.seeds[0]
    run = Run(make_config("dcgan", epochs=epochs, seed=seed, steps_per_epoch=args.steps_per_epoch),
              os.path.join(folder, "dcgan"))
    curve, train_seconds = [], 0.0
    for epoch in sorted({e for e in range(every, epochs + 1, every)} | {epochs}):
        train_seconds += train_until(run, epoch)
        row = {"epoch": epoch, "train_seconds": round(train_seconds, 1), **_image_eval(run, reference, args.n, seed)}
        curve.append(row)
        log(f"dcgan epoch {epoch}: {row}")
    final = curve[-1]
    at5 = next((row for row in curve if row["epoch"] == 5), None)
    checks = {"classifier_score >= 5.3": final["classifier_score"] >= TARGETS["dcgan"]["classifier_score"],
              "rarest_class >= 0.01": final["rarest_class"] >= TARGETS["dcgan"]["rarest_class"]}
    if at5 and final["epoch"] > 5:
        checks["final FID < FID at epoch 5"] = final["fid"] < at5["fid"]
    return {"recipe": f"dcgan defaults, seed {seed}, {args.n} samples (generator in eval mode) vs "
                      f"{reference.description}", "curve": curve, "checks": checks,
            "floor": {k: round(v, 4) for k, v in _floor(reference).items()}}


def _floor(reference):
    probs, features = reference.outputs("train")
    return image_scores(probs, features, reference)


def cgan_experiment(args, folder):
    """Conditional DCGAN: label accuracy (and FID, score) after 10 epochs."""
    reference = load_reference(args.test_data, args.n)
    epochs, seed = args.epochs or 10, args.seeds[0]
    run = Run(make_config("cgan", epochs=epochs, seed=seed, steps_per_epoch=args.steps_per_epoch),
              os.path.join(folder, "cgan"))
    train_seconds = train_until(run, epochs)
    row = {"epoch": epochs, "train_seconds": round(train_seconds, 1), **_image_eval(run, reference, args.n, seed)}
    log(f"cgan: {row}")
    return {"recipe": f"cgan defaults, seed {seed}, {args.n} samples, n/10 per requested digit", "result": row,
            "checks": {"label_accuracy >= 0.70": row["label_accuracy"] >= TARGETS["cgan"]["label_accuracy"]}}


def ring8_experiment(args, folder):
    """GAN on 8 Gaussians (MLP 128-128 ReLU, z 256, batch 512, Adam 1e-3 beta1 0.5, 10k steps, a discriminator
    of pairs (PacGAN2), samples from the EMA of G's weights): modes and HQ %."""
    rows = []
    for seed in args.seeds:
        config = make_config("gan", data="ring8", seed=seed, steps_per_epoch=args.steps_per_epoch)
        if args.epochs:
            config["epochs"] = args.epochs
        run = Run(config, os.path.join(folder, f"ring8-{seed}"))
        seconds = train_until(run, config["epochs"])
        points, _ = generate(run, 2500, seed)
        distribution = run.data
        scores = metrics.mode_metrics(points, distribution.modes, distribution.std)
        row = {"seed": seed, "steps": run.step.steps, "train_seconds": round(seconds, 1), **scores,
               "high_quality_fraction": round(scores["high_quality_fraction"], 4)}
        rows.append(row)
        log(f"ring8 seed {seed}: {row}")
    hq = [row["high_quality_fraction"] for row in rows]
    t = TARGETS["ring8"]
    checks = {f"each seed covers >= {t['modes_each']} modes": all(r["modes_covered"] >= t["modes_each"] for r in rows),
              f"each seed >= {t['high_quality_each']:.0%} high quality": min(hq) >= t["high_quality_each"],
              f"mean high quality >= {t['high_quality_mean']:.0%}": float(np.mean(hq)) >= t["high_quality_mean"]}
    if 0 in args.seeds:
        default_run = next(r for r in rows if r["seed"] == 0)
        checks["the default run (seed 0) covers all 8 modes (issue 3)"] = default_run["modes_covered"] == 8
    return {"recipe": "gan on ring8 (radius 2, std 0.02), tinygan's toy defaults (PacGAN2 discriminator, samples from "
                      "the generator's weight average, decay 0.999); "
                      "2,500 samples; HQ = within 3 std of the nearest mode", "runs": rows,
            "mean_high_quality_fraction": round(float(np.mean(hq)), 4),
            "seeds_run": len(rows), "seeds_asked_by_issue": 5, "checks": checks}


# -- issue 17: VAE-GAN beside its plain VAE, in tinygan and in PyTorch -------------------------------------

def _vaegan_scores(sample, reconstruct, reference, test_images, n, seed, value_range):
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
    from tinygan import registry
    from tinygan.train.evaluate import reconstruct

    def sample(count, rng):
        z = rng.standard_normal((count, run.config["latent_dim"])).astype("float32")
        return backend.to_numpy(run.sample(count, z=Tensor(backend.to_device(z, backend.current_device()))).data)

    return _vaegan_scores(sample, lambda images: reconstruct(run, images), reference, test_images, n, seed,
                          registry.model_of(run.config).value_range)


def _torch_batches(batch_size, seed, epochs, steps_per_epoch, value_range=(-1, 1)):
    """The embedded digits as PyTorch tensors, in the order tinygan's loader gives them, epoch after epoch."""
    import torch
    from tinygan.data import ImageLoader, load_embedded_mnist
    images, labels = load_embedded_mnist()
    loader = ImageLoader(images, labels, batch_size=batch_size, seed=seed, drop_last=True, value_range=value_range)
    for epoch in range(epochs):
        loader.set_epoch(epoch)
        for step, (x, _) in enumerate(loader):
            if steps_per_epoch and step >= steps_per_epoch:
                break
            yield torch.from_numpy(backend.to_numpy(x.data))


def _torch_vaegan(epochs, seed, gamma, steps_per_epoch=None):
    """The VAE-GAN recipe in PyTorch (benchmarks/torch_workloads.py's twins of tinygan's networks, DCGAN init),
    trained on the embedded digits in the order tinygan's loader gives them; returns (E, G, seconds)."""
    import torch
    from torch.nn import functional as TF

    from benchmarks import torch_workloads as tw
    torch.manual_seed(seed)
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", torch.get_num_threads())))
    E, G, D = tw.VAEGANEncoder(20, 32), tw.dcgan_generator(20, 64), tw.VAEGANDiscriminator(64)
    _init_dcgan_torch(E, G, D)
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


def _init_dcgan_torch(*nets):
    """DCGAN initialisation of PyTorch modules, as tinygan.models.dcgan_init_."""
    import torch
    for net in nets:
        for m in net.modules():
            if isinstance(m, (torch.nn.Conv2d, torch.nn.ConvTranspose2d, torch.nn.Linear)):
                torch.nn.init.normal_(m.weight, 0.0, 0.02)
                torch.nn.init.zeros_(m.bias)
            elif isinstance(m, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d)):
                torch.nn.init.normal_(m.weight, 1.0, 0.02)
                torch.nn.init.zeros_(m.bias)


def torch_plain_vae_loss(E, G, x, eps=None):
    """vaegan-vae's loss in PyTorch: KL + Bernoulli pixels with logits 2a (a = G's pre-tanh output), per image,
    averaged over the batch; x (N, 1, 28, 28) on [0, 1], seen by the encoder on [-1, 1]; eps default N(0, I)."""
    import torch
    from torch.nn import functional as TF
    mu, logvar = E(x * 2 - 1)
    eps = torch.randn_like(mu) if eps is None else eps
    logits = 2 * G[:-1](mu + (logvar * 0.5).exp() * eps)                        # G without its tanh
    return (TF.binary_cross_entropy_with_logits(logits, x, reduction="sum")
            - 0.5 * (1 + logvar - mu * mu - logvar.exp()).sum()) / x.shape[0]


def _torch_vaegan_vae(epochs, seed, steps_per_epoch=None):
    """tinygan's vaegan-vae in PyTorch: the VAE-GAN's encoder and decoder (DCGAN init) trained as a plain VAE,
    KL + Bernoulli pixels on [0, 1] with logits 2a (a = the decoder's pre-tanh output), one Adam 2e-4 (0.5, 0.999),
    batch 64, on the batches tinygan's loader gives; returns (E, G, seconds)."""
    import torch

    from benchmarks import torch_workloads as tw
    torch.manual_seed(seed)
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", torch.get_num_threads())))
    E, G = tw.VAEGANEncoder(20, 32), tw.dcgan_generator(20, 64)
    _init_dcgan_torch(E, G)
    opt = torch.optim.Adam(list(E.parameters()) + list(G.parameters()), lr=2e-4, betas=(0.5, 0.999))
    started = time.perf_counter()
    for x in _torch_batches(64, seed, epochs, steps_per_epoch, value_range=(0, 1)):
        loss = torch_plain_vae_loss(E, G, x)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return E, G, time.perf_counter() - started


def _torch_scores(E, G, reference, test_images, n, seed):
    import torch
    E.eval(), G.eval()

    def sample(count, rng):
        with torch.no_grad():
            return G(torch.from_numpy(rng.standard_normal((count, 20)).astype("float32"))).numpy()

    def reconstruct(images):
        x = torch.from_numpy(images.reshape(len(images), 1, 28, 28).astype("float32") / 127.5 - 1)
        with torch.no_grad():
            return ((G(E(x)[0]) + 1) * 0.5).numpy()

    return _vaegan_scores(sample, reconstruct, reference, test_images, n, seed, (-1, 1))


def _torch_vae_scores(E, G, reference, test_images, n, seed):
    """The PyTorch plain VAE's figures: its images are the decoder's tanh output read on [0, 1]."""
    import torch
    E.eval(), G.eval()

    def sample(count, rng):
        with torch.no_grad():
            return ((G(torch.from_numpy(rng.standard_normal((count, 20)).astype("float32"))) + 1) * 0.5).numpy()

    def reconstruct(images):
        x = torch.from_numpy(images.reshape(len(images), 1, 28, 28).astype("float32") / 127.5 - 1)
        with torch.no_grad():
            return ((G(E(x)[0]) + 1) * 0.5).numpy()

    return _vaegan_scores(sample, reconstruct, reference, test_images, n, seed, (0, 1))


def save_vaegan_figure(runs, test_images, path, seed=0, count=32):
    """Prior samples (the same z for every model) and test reconstructions beside their originals, one row per model.

    runs -- {label: Run}; path -- the PNG to write.
    """
    from tinygan import registry, viz
    from tinygan.train.evaluate import reconstruct
    z = np.random.default_rng([seed, 17]).standard_normal((count, 20)).astype(backend.get_default_dtype())
    originals = test_images[:count // 2].reshape(-1, 1, 28, 28)
    panels, titles = [], []
    for label, run in runs.items():
        samples = backend.to_numpy(run.sample(count, z=Tensor(backend.to_device(z, backend.current_device()))).data)
        low, high = registry.model_of(run.config).value_range
        panels.append((samples - low) / (high - low))                                      # on [0, 1]
        pairs = np.stack([originals / 255.0, reconstruct(run, originals)], axis=1)         # (count/2, 2, 1, 28, 28)
        panels.append(pairs.reshape(count, 1, 28, 28))
        titles += [f"{label}: samples from the prior", f"{label}: originals | reconstructions"]
    viz.save_image_panels(panels, path, titles, ncols=2)


def vaegan_experiment(args, folder):
    """VAE-GAN (issue 17's recipe) and the same encoder and decoder trained as a plain VAE (vaegan-vae), in tinygan
    and in PyTorch: prior-sample FID, score, rarest class, and test reconstruction MSE on [0, 1]."""
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
    save_vaegan_figure(runs, test_images, figure, seed)
    log(f"figure: {figure}")
    try:
        import torch  # noqa: F401
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


RUNNERS = {"vae": vae_experiment, "dcgan": dcgan_experiment, "cgan": cgan_experiment, "ring8": ring8_experiment,
           "vaegan": vaegan_experiment}
MARKDOWN_SECTIONS = {}   # name -> entry -> markdown lines, for experiments added after the first four


# -- results ---------------------------------------------------------------------------------

def machine(load_at_start):
    return {"platform": platform.platform(), "python": platform.python_version(), "numpy": np.__version__,
            "cpus": os.cpu_count(), "backend": backend.current(),
            "load_average_at_start": load_at_start,
            "blas_threads": {k: os.environ[k] for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
                             if k in os.environ}}


def write_markdown(results, path):
    lines = ["# Quality benchmarks (issue 6)", "",
             "Written by `benchmarks/quality.py` from `quality.json`; each section says when it was run. "
             "Experiments missing here were not run.", ""]
    for name in EXPERIMENTS:
        if name not in results:
            lines += [f"## {name}", "", "not run", ""]
            continue
        entry = results[name]
        lines += [f"## {name}", "", f"{entry['recipe']}", "",
                  f"run {entry['date']}, wall time {entry['wall_seconds']} s, command `{entry['command']}`; "
                  f"{entry['machine']['cpus']} CPUs, load average at start {entry['machine']['load_average_at_start']} "
                  f"(a shared machine: times are upper bounds)", ""]
        if name == "vae":
            lines += ["| seed | epoch | test loss | target | in band | -IWAE (K) | train s |",
                      "|---|---|---|---|---|---|---|"]
            for run in entry["runs"]:
                for row in run["epochs"]:
                    iwae = f"{row['iwae_loss']} (K={row['k']})" if "iwae_loss" in row else ""
                    lines.append(f"| {run['seed']} | {row['epoch']} | {row['test_loss']} | {row.get('target', '')} | "
                                 f"{row.get('in_band', '')} | {iwae} | {row['train_seconds']} |")
        elif name == "dcgan":
            lines += ["| epoch | FID | classifier score | rarest class | train s |", "|---|---|---|---|---|"]
            lines += [f"| {r['epoch']} | {r['fid']:.2f} | {r['classifier_score']:.2f} | {r['rarest_class']:.3f} | "
                      f"{r['train_seconds']} |" for r in entry["curve"]]
            f = entry["floor"]
            lines.append(f"| real digits | {f['fid']:.2f} | {f['classifier_score']:.2f} | {f['rarest_class']:.3f} | |")
        elif name == "cgan":
            r = entry["result"]
            lines += ["| epoch | label accuracy | FID | classifier score | rarest class | train s |",
                      "|---|---|---|---|---|---|",
                      f"| {r['epoch']} | {r['label_accuracy']:.3f} | {r['fid']:.2f} | {r['classifier_score']:.2f} | "
                      f"{r['rarest_class']:.3f} | {r['train_seconds']} |"]
        elif name == "vaegan":
            lines += ["| model | FID | classifier score | rarest class | test MSE | train s |", "|---|---|---|---|---|---|"]
            lines += [f"| {model} | {r['fid']:.2f} | {r['classifier_score']:.2f} | {r['rarest_class']:.3f} | "
                      f"{r['test_mse']:.4f} | {r['train_seconds']} |" if "fid" in r else f"| {model} | {r['note']} |"
                      for model, r in entry["rows"].items()]
        elif name == "ring8":
            lines += ["| seed | steps | modes covered | high quality | train s |", "|---|---|---|---|---|"]
            lines += [f"| {r['seed']} | {r['steps']} | {r['modes_covered']}/{r['n_modes']} | "
                      f"{r['high_quality_fraction']:.1%} | {r['train_seconds']} |" for r in entry["runs"]]
            lines += ["", f"mean high quality over the {entry['seeds_run']} seed(s) run: "
                          f"{entry['mean_high_quality_fraction']:.1%} (the issue asks for 5 seeds)"]
        elif name in MARKDOWN_SECTIONS:
            lines += MARKDOWN_SECTIONS[name](entry)
        if entry.get("checks"):
            lines += ["", "checks: " + "; ".join(f"{k}: {'pass' if v else 'FAIL'}" for k, v in entry["checks"].items())]
        lines.append("")
    Path(path).write_text("\n".join(lines))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", nargs="+", choices=EXPERIMENTS, default=list(EXPERIMENTS))
    parser.add_argument("--epochs", type=int, help="override the experiment's epochs (vae 30, dcgan 30, cgan 10, "
                                                    "ring8 20 x 500 steps)")
    parser.add_argument("--seeds", type=int, nargs="+", help="seeds (default: 0; ring8: 0 1 2 3 4)")
    parser.add_argument("--steps-per-epoch", type=int, help="cut every epoch short (for a quick smoke test)")
    parser.add_argument("--eval-every", type=int, default=5, help="dcgan: epochs between FID measurements")
    parser.add_argument("--n", type=int, default=5000, help="generated images per evaluation")
    parser.add_argument("--k", type=int, default=50, help="vae: importance samples of the IWAE bound at the end")
    parser.add_argument("--test-data", metavar="FOLDER", default=os.environ.get(TEST_DATA_VARIABLE) or None,
                        help=f"folder of the official MNIST t10k files (default: ${TEST_DATA_VARIABLE})")
    parser.add_argument("--download", action="store_true",
                        help="fetch the official MNIST test set into the cache ($TINYGAN_CACHE, default "
                             "~/.cache/tinygan), md5-checked, and use it (needs the network once)")
    parser.add_argument("--runs", help="keep the run folders here (default: a temporary folder)")
    parser.add_argument("--results", default=str(RESULTS), help="where quality.json and quality.md go")
    args = parser.parse_args(argv)
    if args.download and not args.test_data:
        args.test_data = str(default_cache_dir() / "mnist")
        log(f"official MNIST test set: {args.test_data}")
        load_mnist("test", folder=args.test_data, download=True)
    needs_test_data = [name for name in args.only if name not in NEEDS_NO_TEST_DATA]
    if needs_test_data and not args.test_data:
        parser.error(f"the official MNIST test set is needed ({', '.join(needs_test_data)}): name the folder of its "
                     f"two t10k files with --test-data FOLDER or {TEST_DATA_VARIABLE}=FOLDER, or fetch it once "
                     f"with --download")
    if args.test_data and not Path(args.test_data).is_dir():
        parser.error(f"--test-data {args.test_data}: no such folder (the official MNIST t10k files are needed)")

    results_dir = Path(args.results)
    results_dir.mkdir(parents=True, exist_ok=True)
    json_path = results_dir / "quality.json"
    results = json.loads(json_path.read_text()) if json_path.exists() else {}
    seeds_given = args.seeds
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.runs or scratch
        for name in args.only:
            args.seeds = seeds_given or ([0, 1, 2, 3, 4] if name == "ring8" else [0])
            load = [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None
            started = time.perf_counter()
            entry = RUNNERS[name](args, folder)
            entry.update(wall_seconds=round(time.perf_counter() - started, 1),
                         date=datetime.datetime.now().isoformat(timespec="seconds"),
                         command=command_line(argv),
                         machine=machine(load))
            results[name] = entry
            json_path.write_text(json.dumps(results, indent=2, default=_plain))
            write_markdown(results, results_dir / "quality.md")
            log(f"{name}: {entry['wall_seconds']} s -> {json_path}")


def command_line(argv):
    """How this run was started, with the BLAS thread settings that change its speed."""
    threads = " ".join(f"{k}={os.environ[k]}" for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
                       if k in os.environ)
    args = " ".join(argv if argv is not None else sys.argv[1:])
    return f"{threads + ' ' if threads else ''}python benchmarks/quality.py {args}"


def _plain(value):
    """JSON for NumPy scalars and booleans."""
    if isinstance(value, (np.bool_,)):
        return bool(value)
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


# -- issue 15: the row-by-row LSTM generator, in tinygan and in PyTorch on the same data ------------------

def _binary_test_set(test_data):
    """The official 10k test digits binarised (pixel = 1 where intensity >= 0.5), float32 (N, 1, 28, 28)."""
    images, _ = load_mnist("test", folder=test_data)
    return (images.reshape(-1, 1, 28, 28) >= 128).astype(np.float32)


def _scores(samples, reference):
    probs, features = classify(samples, value_range=(0, 1))
    return {key: round(value, 4) for key, value in image_scores(probs, features, reference).items()}


def _tinygan_rnn(args, folder, seed, checkpoints, reference):
    from tinygan.train.rnn import evaluate_rnn
    test_images, _ = load_mnist("test", folder=args.test_data)
    run = Run(make_config("rnn", epochs=checkpoints[-1], seed=seed, steps_per_epoch=args.steps_per_epoch),
              os.path.join(folder, f"rnn-{seed}"))
    rows, train_seconds = [], 0.0
    for epoch in checkpoints:
        train_seconds += train_until(run, epoch)
        row = {"epoch": epoch, "test_nll": round(evaluate_rnn(run, test_images)["model"]["test_nll"], 2),
               "train_seconds": round(train_seconds, 1)}
        if epoch == checkpoints[-1]:
            row.update(_scores(generate(run, args.n, seed)[0], reference))
        rows.append(row)
        log(f"rnn tinygan seed {seed} epoch {epoch}: {row}")
    return rows


def _torch_rnn(args, seed, checkpoints, reference):
    """The same recipe in PyTorch: LSTM(28, 256, batch_first) + Linear(256, 28), Adam 1e-3, batch 64, the embedded
    5k digits binarised and reshuffled each epoch, PyTorch's default initialisation, no clipping."""
    import torch
    from tinygan.data import load_embedded_mnist
    torch.manual_seed(seed)
    lstm, out = torch.nn.LSTM(28, 256, batch_first=True), torch.nn.Linear(256, 28)
    params = list(lstm.parameters()) + list(out.parameters())
    opt = torch.optim.Adam(params, lr=1e-3)
    train = torch.from_numpy((load_embedded_mnist()[0] >= 128).astype(np.float32))          # (5000, 28, 28)
    test = torch.from_numpy(_binary_test_set(args.test_data).reshape(-1, 28, 28))

    def nll(x):                                              # per image, averaged over the batch
        inputs = torch.cat([x.new_zeros(len(x), 1, 28), x[:, :-1]], dim=1)
        logits = out(lstm(inputs)[0])
        return torch.nn.functional.binary_cross_entropy_with_logits(logits, x, reduction="sum") / len(x)

    def sample(n):
        generator = torch.Generator().manual_seed(seed)
        row, state, rows = torch.zeros(n, 1, 28), None, []
        for _ in range(28):
            h, state = lstm(row, state)
            row = torch.bernoulli(torch.sigmoid(out(h)), generator=generator)
            rows.append(row)
        return torch.cat(rows, dim=1).numpy()

    rows, train_seconds, epoch = [], 0.0, 0
    for checkpoint in checkpoints:
        started = time.perf_counter()
        while epoch < checkpoint:
            order = torch.from_numpy(np.random.default_rng([seed, epoch]).permutation(len(train)))
            batches = len(train) // 64
            for b in range(min(batches, args.steps_per_epoch or batches)):
                loss = nll(train[order[b * 64:(b + 1) * 64]])
                opt.zero_grad()
                loss.backward()
                opt.step()
            epoch += 1
        train_seconds += time.perf_counter() - started
        with torch.no_grad():
            test_nll = sum(nll(test[i:i + 500]).item() * len(test[i:i + 500]) for i in range(0, len(test), 500))
            row = {"epoch": checkpoint, "test_nll": round(test_nll / len(test), 2),
                   "train_seconds": round(train_seconds, 1)}
            if checkpoint == checkpoints[-1]:
                row.update(_scores(np.concatenate([sample(min(500, args.n - i)) for i in range(0, args.n, 500)]),
                                   reference))
        rows.append(row)
        log(f"rnn torch seed {seed} epoch {checkpoint}: {row}")
    return rows


def rnn_experiment(args, folder):
    """Row-by-row LSTM generator (issue 15): test NLL at 10 and 30 epochs and sample scores, tinygan and PyTorch."""
    reference = load_reference(args.test_data, args.n)
    epochs = args.epochs or 30
    checkpoints = sorted({e for e in (10, 30) if e <= epochs} | {epochs})
    runs = []
    for seed in args.seeds:
        entry = {"seed": seed, "tinygan": _tinygan_rnn(args, folder, seed, checkpoints, reference)}
        try:
            entry["torch"] = _torch_rnn(args, seed, checkpoints, reference)
        except ImportError:
            entry["torch"] = None
        runs.append(entry)
    checks = {}
    paired = [r for r in runs if r["torch"]]
    if paired:
        gap = float(np.mean([r["tinygan"][-1]["test_nll"] for r in paired])
                    - np.mean([r["torch"][-1]["test_nll"] for r in paired]))
        checks[f"tinygan's mean test NLL at epoch {epochs} within 1.5 nats of PyTorch's (gap {gap:+.2f})"] = gap <= 1.5
    return {"recipe": f"rnn: LSTM(28, 256) + Linear(256, 28) row by row, Adam 1e-3, batch 64, {epochs} epochs on the "
                      f"embedded 5k digits binarised at 0.5; test NLL (nats per image, exact) on the official 10k "
                      f"test set binarised; {args.n} samples scored against {reference.description}",
            "runs": runs, "checks": checks,
            "floor": {k: round(v, 4) for k, v in _floor(reference).items()}}


def _rnn_markdown(entry):
    lines = ["| seed | framework | epoch | test NLL | FID | classifier score | rarest class | train s |",
             "|---|---|---|---|---|---|---|---|"]
    for run in entry["runs"]:
        for framework in ("tinygan", "torch"):
            for r in run[framework] or []:
                scores = (f"{r['fid']:.2f} | {r['classifier_score']:.2f} | {r['rarest_class']:.3f}" if "fid" in r
                          else " | | ")
                lines.append(f"| {run['seed']} | {framework} | {r['epoch']} | {r['test_nll']} | {scores} | "
                             f"{r['train_seconds']} |")
    f = entry["floor"]
    lines.append(f"| | real digits | | | {f['fid']:.2f} | {f['classifier_score']:.2f} | {f['rarest_class']:.3f} | |")
    return lines


EXPERIMENTS += ("rnn",)
RUNNERS["rnn"] = rnn_experiment
MARKDOWN_SECTIONS["rnn"] = _rnn_markdown


# -- issue 18: a tiny NeRF on the views of the 3-D scene, in tinygan and in PyTorch ---------------------

NERF_ITERATIONS = (500, 2000)


def _nerf_checkpoints(args):
    """(epochs, steps per epoch, epochs at which to measure): the recipe's 20 epochs of 100 steps, measured
    after 500 and 2,000 iterations; --epochs and --steps-per-epoch shorten it for a smoke test."""
    steps = args.steps_per_epoch or make_config("nerf")["steps_per_epoch"]
    epochs = args.epochs or make_config("nerf")["epochs"]
    wanted = {i // steps for i in NERF_ITERATIONS if i % steps == 0 and i // steps <= epochs}
    return epochs, steps, sorted(wanted | {epochs})


def _tinygan_nerf(args, folder, seed):
    from tinygan.train.nerf import test_scores
    epochs, steps, checkpoints = _nerf_checkpoints(args)
    run = Run(make_config("nerf", epochs=epochs, seed=seed, steps_per_epoch=steps, threads=1),
              os.path.join(folder, f"nerf-{seed}"))
    rows, train_seconds = [], 0.0
    for epoch in checkpoints:
        train_seconds += train_until(run, epoch)
        scores = test_scores(run)
        rows.append({"iterations": epoch * steps, "test_psnr": round(scores["test_psnr"], 3),
                     "test_mae": round(scores["test_mae"], 4), "train_seconds": round(train_seconds, 1)})
        log(f"nerf tinygan seed {seed}: {rows[-1]}")
    return rows


def _torch_nerf(args, seed):
    import torch
    from benchmarks.nerf_twin import TorchNeRF, render_rays, render_views
    from tinygan.data.scene import load_scene_views
    torch.set_num_threads(1)
    torch.manual_seed(seed)
    config = make_config("nerf")
    epochs, steps, checkpoints = _nerf_checkpoints(args)
    views = load_scene_views()
    origins, directions, colours = (torch.tensor(a, dtype=torch.float32) for a in views.rays(views.train))
    model = TorchNeRF(config["num_frequencies"], config["width"])
    optimizer = torch.optim.Adam(model.parameters(), lr=config["lr"], betas=(config["beta1"], config["beta2"]))
    truth = views.images[views.test]
    rows, train_seconds, done = [], 0.0, 0
    for epoch in checkpoints:
        started = time.perf_counter()
        for _ in range(epoch * steps - done):
            pixels = torch.randint(0, len(origins), (config["batch_size"],))
            u = torch.rand(config["batch_size"], config["num_samples"])
            colour, _, _ = render_rays(model, origins[pixels], directions[pixels], views.near, views.far,
                                       config["num_samples"], u)
            loss = torch.mean((colour - colours[pixels]) ** 2)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        done = epoch * steps
        train_seconds += time.perf_counter() - started
        images = render_views(model, views.poses[views.test], views, config["num_samples"])
        rows.append({"iterations": done, "test_psnr": round(metrics.psnr(images, truth), 3),
                     "test_mae": round(metrics.mean_absolute_error(images, truth), 4),
                     "train_seconds": round(train_seconds, 1)})
        log(f"nerf torch seed {seed}: {rows[-1]}")
    return rows


def nerf_experiment(args, folder):
    """A tiny NeRF (issue 18): test PSNR over the 8 held-out views at 500 and 2,000 iterations, tinygan and PyTorch,
    beside the trivial baseline (every pixel the mean training colour)."""
    from tinygan.data.scene import load_scene_views
    from tinygan.train.nerf import mean_colour_baseline
    runs = []
    for seed in args.seeds:
        entry = {"seed": seed, "tinygan": _tinygan_nerf(args, folder, seed)}
        try:
            entry["torch"] = _torch_nerf(args, seed)
        except ImportError:
            entry["torch"] = None
        runs.append(entry)
    checks = {}
    paired = [r for r in runs if r["torch"]]
    seeds = " and ".join(str(r["seed"]) for r in paired)
    for k, row in enumerate(paired[0]["tinygan"] if paired else []):    # each measured iteration count
        gap = float(np.mean([r["tinygan"][k]["test_psnr"] for r in paired])
                    - np.mean([r["torch"][k]["test_psnr"] for r in paired]))
        checks[f"tinygan's mean test PSNR over seeds {seeds} at {row['iterations']} iterations within 0.5 dB of "
               f"PyTorch's (gap {gap:+.2f} dB)"] = gap >= -0.5
    baseline = mean_colour_baseline(load_scene_views())
    return {"recipe": "nerf: 32 stratified samples per ray in [2, 6], positional encoding L = 6, MLP 4 x 128 ReLU, "
                      "softplus density, sigmoid colour, MSE, Adam 5e-4, 1024 random rays a step, on 32 views "
                      "(32x32) of the procedural scene (tinygan/data/scene.py); test PSNR and MAE over the 8 "
                      "held-out views, rendered at the bin centres",
            "runs": runs, "checks": checks,
            "baseline": {k: round(v, 3) for k, v in baseline.items()}}


def _nerf_markdown(entry):
    lines = ["| seed | framework | iterations | test PSNR (dB) | test MAE | train s |", "|---|---|---|---|---|---|"]
    for run in entry["runs"]:
        for framework in ("tinygan", "torch"):
            for r in run[framework] or []:
                lines.append(f"| {run['seed']} | {framework} | {r['iterations']} | {r['test_psnr']:.2f} | "
                             f"{r['test_mae']:.4f} | {r['train_seconds']} |")
    b = entry["baseline"]
    lines.append(f"| | mean training colour | | {b['test_psnr']:.2f} | {b['test_mae']:.4f} | |")
    return lines


EXPERIMENTS += ("nerf",)
RUNNERS["nerf"] = nerf_experiment
MARKDOWN_SECTIONS["nerf"] = _nerf_markdown

# -- issue 16 part B: pix2pix restoring damaged digits, in tinygan and in PyTorch on the same pairs ------------------

def _pix2pix_scores(restore_fn, test, seconds):
    """Restoration scores of one trained generator: restore_fn(uint8 damaged (N, 28, 28)) -> floats on [0, 1]."""
    from tinygan.evaluation.restoration import restoration_scores
    images, labels, damaged, mask = test
    started = time.perf_counter()
    scores = restoration_scores(restore_fn(damaged), damaged, images, labels, mask, inputs=False)
    return {"train_seconds": round(seconds, 1),
            **{key: round(value, 4) for key, value in scores["restored"].items()},
            "eval_seconds": round(time.perf_counter() - started, 1)}, scores


def _tinygan_pix2pix(args, folder, seed, gan_weight, test, task):
    from tinygan.evaluation.restoration import restore
    run = Run(make_config("pix2pix", epochs=args.epochs or 10, seed=seed, gan_weight=gan_weight, task=task,
                          steps_per_epoch=args.steps_per_epoch),
              os.path.join(folder, f"pix2pix-{task}-{gan_weight:g}-{seed}"))
    seconds = train_until(run, run.config["epochs"])
    return _pix2pix_scores(lambda damaged: restore(run.nets["G"], damaged), test, seconds)


def _torch_pix2pix_networks():
    """PyTorch twins of models.UNet(1, 1, output="tanh") and models.PatchGAN(1, 64), initialised as dcgan_init_."""
    import torch
    from torch import nn as tnn

    from benchmarks.torch_workloads import UNet

    class PatchGAN(tnn.Module):
        def __init__(self, width=64):
            super().__init__()
            self.net = tnn.Sequential(tnn.Conv2d(2, width, 4, 2, 1), tnn.LeakyReLU(0.2),
                                      tnn.Conv2d(width, 2 * width, 4, 2, 1), tnn.BatchNorm2d(2 * width),
                                      tnn.LeakyReLU(0.2), tnn.Conv2d(2 * width, 1, 3, 1, 1))

        def forward(self, x, y):
            return self.net(torch.cat([x, y], dim=1))

    G, D = UNet(1, 1, output="tanh"), PatchGAN()
    _init_dcgan_torch(G, D)
    return G, D


def _torch_pix2pix(args, seed, gan_weight, test, task, l1_weight=100.0):
    """tinygan's pix2pix recipe in PyTorch, on the (damaged, original) batches of tinygan's PairLoader."""
    import torch
    from torch.nn import functional as TF

    from tinygan.data import load_embedded_mnist
    from tinygan.data.damage import PairLoader
    torch.manual_seed(seed)
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", torch.get_num_threads())))
    G, D = _torch_pix2pix_networks()
    opt_g = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    images, labels = load_embedded_mnist()
    loader = PairLoader(images, labels, task=task, batch_size=64, seed=seed)
    bce = TF.binary_cross_entropy_with_logits
    started = time.perf_counter()
    for epoch in range(args.epochs or 10):
        for step, (x, y) in enumerate(loader.host_batches(epoch)):
            if args.steps_per_epoch and step >= args.steps_per_epoch:
                break
            x, y = torch.from_numpy(x), torch.from_numpy(y)
            fake = G(x)
            if gan_weight:
                real_logits, fake_logits = D(x, y), D(x, fake.detach())
                d_loss = 0.5 * (bce(real_logits, torch.ones_like(real_logits))
                                + bce(fake_logits, torch.zeros_like(fake_logits)))
                opt_d.zero_grad()
                d_loss.backward()
                opt_d.step()
                D.requires_grad_(False)
                logits = D(x, fake)
                g_loss = gan_weight * bce(logits, torch.ones_like(logits)) + l1_weight * TF.l1_loss(fake, y)
            else:
                g_loss = l1_weight * TF.l1_loss(fake, y)
            opt_g.zero_grad()
            g_loss.backward()
            opt_g.step()
            D.requires_grad_(True)
    seconds = time.perf_counter() - started
    G.eval()

    def restore(damaged):
        with torch.no_grad():
            x = torch.from_numpy(damaged[:, None].astype(np.float32) / np.float32(127.5) - np.float32(1))
            return ((G(x)[:, 0] + 1) * 0.5).numpy()

    return _pix2pix_scores(restore, test, seconds)


TASK_WORDS = {"inpaint": ("a fresh 14x14 square cut out each epoch (default_rng(seed + epoch))", "the square"),
              "superres": ("each digit downsampled to 7x7 (4x4 block means) and upsampled back by nearest neighbour",
                           "the image")}


def pix2pix_experiment(args, folder, task="inpaint"):
    """pix2pix (issue 16) restoring damaged digits (task "inpaint", or "superres"): tinygan pix2pix, tinygan
    L1-only, and their PyTorch twins; classifier accuracy on the restored test digits, PSNR and L1 over the damaged
    region, beside the damaged and the originals."""
    from tinygan.data.damage import fixed_test_damage
    from tinygan.evaluation.restoration import restoration_scores
    images, labels = load_mnist("test", folder=args.test_data)
    damaged, mask = fixed_test_damage(images, task)
    test = (images, labels, damaged, mask)
    unchanged = damaged.astype(np.float32) / 255                   # the damaged digits "restored" as they are
    scores = restoration_scores(unchanged, damaged, images, labels, mask)
    inputs = {"damaged": {k: round(v, 4) for k, v in scores["damaged"].items()},
              "original": {k: round(v, 4) for k, v in scores["original"].items()}}
    epochs = args.epochs or 10
    runs = []
    for seed in args.seeds:
        rows = {}
        for name, gan_weight in (("pix2pix", 1.0), ("l1", 0.0)):
            rows[f"tinygan {name}"], _ = _tinygan_pix2pix(args, folder, seed, gan_weight, test, task)
            log(f"pix2pix {task} seed {seed} tinygan {name}: {rows[f'tinygan {name}']}")
            try:
                rows[f"pytorch {name}"] = _torch_pix2pix(args, seed, gan_weight, test, task)[0]
            except ImportError:
                rows[f"pytorch {name}"] = {"note": "torch is not installed"}
            log(f"pix2pix {task} seed {seed} pytorch {name}: {rows[f'pytorch {name}']}")
        runs.append({"seed": seed, "rows": rows})
    mean = {model: {key: round(float(np.mean([r["rows"][model][key] for r in runs])), 4)
                    for key in ("accuracy", "psnr", "l1")}
            for model in runs[0]["rows"] if "accuracy" in runs[0]["rows"][model]}
    ours = mean["tinygan pix2pix"]["accuracy"]
    checks = {f"tinygan pix2pix restored accuracy ({ours:.4f}) above the damaged digits' "
              f"({inputs['damaged']['accuracy']:.4f})": ours > inputs["damaged"]["accuracy"]}
    if "pytorch pix2pix" in mean:
        theirs = mean["pytorch pix2pix"]["accuracy"]
        checks[f"tinygan pix2pix restored accuracy within 2 points of PyTorch's ({ours:.4f} vs {theirs:.4f})"] = \
            abs(ours - theirs) <= 0.02
    damage, region = TASK_WORDS[task]
    return {"recipe": f"pix2pix defaults (U-Net G with tanh, PatchGAN D on (input, output) pairs, L1 x 100 + "
                      f"non-saturating GAN, D's loss halved, Adam 2e-4 betas 0.5/0.999, batch 64), --task {task}, "
                      f"{epochs} epochs on the embedded 5k digits with {damage}; 'l1' is the same generator with "
                      f"--gan-weight 0. Scored on the official 10k test digits with the fixed damage (seed 1234): "
                      f"L1 and PSNR over {region} (pixels on [0, 1]), shipped classifier accuracy; seeds "
                      f"{list(args.seeds)}. The PyTorch twins train the same networks, initialisation and losses on "
                      f"the same batches",
            "task": task, "epochs": epochs, "runs": runs, "mean": mean, "inputs": inputs, "checks": checks}


def _pix2pix_markdown(entry):
    region = TASK_WORDS[entry.get("task", "inpaint")][1]                 # entries before 2026-11-30 are inpaint
    lines = [f"| model | restored accuracy | PSNR over {region} (dB) | L1 over {region} | train s (seed 0) |",
             "|---|---|---|---|---|"]
    first = entry["runs"][0]["rows"]
    for model, m in entry["mean"].items():
        lines.append(f"| {model} | {m['accuracy']:.4f} | {m['psnr']:.2f} | {m['l1']:.4f} | "
                     f"{first[model]['train_seconds']} |")
    d, o = entry["inputs"]["damaged"], entry["inputs"]["original"]
    lines.append(f"| damaged digits (input) | {d['accuracy']:.4f} | {d['psnr']:.2f} | {d['l1']:.4f} | |")
    lines.append(f"| original digits | {o['accuracy']:.4f} | | | |")
    if len(entry["runs"]) > 1:
        lines += ["", "(means over the seeds; per seed in quality.json)"]
    return lines


EXPERIMENTS += ("pix2pix", "pix2pix-superres")
RUNNERS["pix2pix"] = pix2pix_experiment
RUNNERS["pix2pix-superres"] = lambda args, folder: pix2pix_experiment(args, folder, task="superres")
MARKDOWN_SECTIONS["pix2pix"] = MARKDOWN_SECTIONS["pix2pix-superres"] = _pix2pix_markdown
# -- issue 16: the U-Net segmenting scenes of digits, in tinygan and in PyTorch on the same scenes ------------

def _unet_row(scores, seconds):
    """The figures of one trained U-Net on the test scenes, rounded for the tables."""
    return {"miou": round(scores["miou"], 4), "miou_digits": round(scores["miou_digits"], 4),
            "pixel_accuracy": round(scores["pixel_accuracy"], 4),
            "iou": [None if v is None else round(v, 4) for v in scores["iou"]], "train_seconds": round(seconds, 1)}


def _tinygan_unet(args, folder, seed, epochs, test):
    from tinygan.evaluation.segmentation import evaluate_segmentation
    run = Run(make_config("unet", epochs=epochs, seed=seed, steps_per_epoch=args.steps_per_epoch),
              os.path.join(folder, f"unet-{seed}"))
    seconds = train_until(run, epochs)
    scores, _ = evaluate_segmentation(run.nets["unet"], *test)
    return _unet_row(scores, seconds)


def _torch_unet(args, seed, epochs, test):
    """The recipe in PyTorch: the same scenes in the same batches (tinygan's SceneLoader draws them), Adam 1e-3,
    batch 32, pixelwise cross-entropy; evaluated in eval mode on the same test scenes with the same scores."""
    import torch
    from tinygan.data.scenes import SceneLoader
    from tinygan.evaluation.segmentation import confusion_matrix, segmentation_scores
    torch.manual_seed(seed)
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", torch.get_num_threads())))
    from benchmarks.torch_workloads import UNet
    model = UNet()        # PyTorch's default initialisation, from torch.manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loader = SceneLoader(batch_size=32, seed=seed)
    started = time.perf_counter()
    model.train()
    for epoch in range(epochs):
        scenes, label_maps = loader.scenes(epoch)
        for step, start in enumerate(range(0, len(scenes), 32)):
            if args.steps_per_epoch and step >= args.steps_per_epoch:
                break
            x = torch.from_numpy(scenes[start:start + 32, None].astype(np.float32) / np.float32(255))
            y = torch.from_numpy(label_maps[start:start + 32].astype(np.int64))
            loss = torch.nn.functional.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
    seconds = time.perf_counter() - started
    model.eval()
    held_out, test_maps = test
    with torch.no_grad():
        predicted = np.concatenate([
            model(torch.from_numpy(held_out[i:i + 100, None].astype(np.float32) / np.float32(255)))
            .argmax(dim=1).numpy() for i in range(0, len(held_out), 100)])
    return _unet_row(segmentation_scores(confusion_matrix(test_maps, predicted)), seconds)


UNET_MIOU_GAP = 0.03   # the goal: tinygan's mean mIoU (11 classes) within 0.03 of PyTorch's


def unet_experiment(args, folder):
    """U-Net on scenes of digits (issue 16): mIoU (11 classes, 10 digits) and pixel accuracy on the 2,000 test
    scenes after 10 epochs, tinygan and PyTorch, per seed and averaged."""
    from tinygan.data.scenes import official_test_scenes
    epochs = args.epochs or 10
    test = official_test_scenes(args.test_data)
    runs = []
    for seed in args.seeds:
        entry = {"seed": seed, "tinygan": _tinygan_unet(args, folder, seed, epochs, test)}
        log(f"unet tinygan seed {seed}: {entry['tinygan']}")
        try:
            entry["torch"] = _torch_unet(args, seed, epochs, test)
            log(f"unet torch seed {seed}: {entry['torch']}")
        except ImportError:
            entry["torch"] = None
        runs.append(entry)
    return unet_entry(runs, epochs)


def unet_entry(runs, epochs):
    """quality.json's unet entry from the runs of each seed: their means and the check of the issue's goal
    (also used to join seeds trained in separate processes)."""
    means = {}
    for framework in ("tinygan", "torch"):
        rows = [r[framework] for r in runs if r[framework]]
        if rows:
            means[framework] = {key: round(float(np.mean([row[key] for row in rows])), 4)
                                for key in ("miou", "miou_digits", "pixel_accuracy")}
    checks = {}
    if "torch" in means:
        gap = means["tinygan"]["miou"] - means["torch"]["miou"]
        checks[f"tinygan's mean mIoU (11 classes) within {UNET_MIOU_GAP} of PyTorch's (gap {gap:+.4f})"] = \
            abs(gap) <= UNET_MIOU_GAP
    return {"recipe": f"unet (widths 16/32/64, BN, skips) on scenes of digits: pixelwise cross-entropy, Adam 1e-3, "
                      f"batch 32, {epochs} epochs of 5,000 fresh scenes from the embedded digits "
                      f"(default_rng(seed + epoch)); scored in eval mode on 2,000 test scenes from the official 10k "
                      f"test digits (default_rng(1234)); PyTorch: the same layers with its default initialisation, "
                      f"the same scenes in the same batches",
            "epochs": epochs, "runs": runs, "means": means, "checks": checks}


def _unet_markdown(entry):
    lines = ["| seed | framework | mIoU (11) | mIoU (10 digits) | pixel accuracy | train s |", "|---|---|---|---|---|---|"]
    for run in entry["runs"]:
        for framework in ("tinygan", "torch"):
            r = run[framework]
            if r:
                lines.append(f"| {run['seed']} | {framework} | {r['miou']:.4f} | {r['miou_digits']:.4f} | "
                             f"{r['pixel_accuracy']:.4f} | {r['train_seconds']} |")
    for framework, m in entry["means"].items():
        lines.append(f"| mean | {framework} | {m['miou']:.4f} | {m['miou_digits']:.4f} | {m['pixel_accuracy']:.4f} | |")
    return lines


EXPERIMENTS += ("unet",)
RUNNERS["unet"] = unet_experiment
MARKDOWN_SECTIONS["unet"] = _unet_markdown


if __name__ == "__main__":
    main()
