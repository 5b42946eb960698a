"""dalle: the tiny DALL-E drawing captioned colour digits, in tinygan (its `dalle` family, `tinygan train dalle`'s
Run) and in PyTorch (benchmarks/twins/dalle.py) on the same colourings: the VQ-VAE's test reconstruction MSE and
code use, the caption judge's accuracy on drawings of seen and held-out captions beside the ceiling (real coloured
test digits) and the floor (random codes decoded), and the FID of the drawings' shapes; then the codebook-collapse
comparison, the paper's codebook loss from a small random start against the EMA codebook."""
import os
import time

import numpy as np

from tinygan import Tensor, backend, manual_seed
from tinygan.autograd import no_grad
from tinygan.data.captions import ALL_TRIPLES, CaptionLoader, captioned_test, captioned_train, is_held_out
from tinygan.evaluation.captions import PARTS, caption_accuracy, shape_fid
from tinygan.evaluation.reference import load_reference
from tinygan.functional.quantize import perplexity
from tinygan.models import VQVAE
from tinygan.models.dalle import Dalle
from tinygan.optim import Adam
from tinygan.train.config import make_config
from tinygan.train.run import Run

from .common import log, torch_threads, train_until

VQ_EPOCHS, PRIOR_EPOCHS = 15, 30        # the family's defaults (vq_epochs 15 of 45 epochs)
SAMPLES_PER_CAPTION = 20                # drawings of each of the 180 captions (fewer when --n < 3600)
COLLAPSE_EPOCHS = 3                     # stage-1 epochs of the codebook-collapse comparison
BATCH = 500


def experiment(args, folder):
    """Both frameworks, each seed: train the two stages, then score (see the module). --epochs E trains E epochs of
    each stage; --n N draws min(20, N // 180) images of each caption; --steps-per-epoch cuts every epoch short."""
    test = captioned_test(folder=args.test_data)
    reference = load_reference(args.test_data, args.n)
    vq_epochs = prior_epochs = args.epochs
    if args.epochs is None:
        vq_epochs, prior_epochs = VQ_EPOCHS, PRIOR_EPOCHS
    per_caption = max(1, min(SAMPLES_PER_CAPTION, args.n // len(ALL_TRIPLES)))
    triples = np.repeat(np.array(ALL_TRIPLES, dtype=np.int64), per_caption, axis=0)
    held = np.array([is_held_out(*t) for t in triples])
    ceiling = _ceiling(test, reference, len(triples))
    log(f"dalle ceiling (real coloured test digits): {ceiling}")
    try:
        from ..twins import dalle as twin
    except ImportError:
        twin = None
    runs = []
    for seed in args.seeds:
        rows = {}
        run = Run(make_config("dalle", epochs=vq_epochs + prior_epochs, vq_epochs=vq_epochs, seed=seed,
                              steps_per_epoch=args.steps_per_epoch), os.path.join(folder, f"dalle-{seed}"))
        seconds = train_until(run, vq_epochs + prior_epochs)
        vqvae, prior = run.nets["vqvae"], run.nets["prior"]
        vqvae.eval(), prior.eval()
        rows["tinygan"] = _scores(_TinyganModel(vqvae, prior), test, reference, triples, held, seed, seconds)
        log(f"dalle seed {seed} tinygan: {rows['tinygan']}")
        if twin is None:
            rows["pytorch"] = {"note": "torch is not installed"}
        else:
            torch_threads()
            vq_t, prior_t, info = twin.train(seed, vq_epochs, prior_epochs, args.steps_per_epoch)
            rows["pytorch"] = _scores(_TorchModel(twin, vq_t, prior_t), test, reference, triples, held, seed,
                                      info["seconds"])
            log(f"dalle seed {seed} pytorch: {rows['pytorch']}")
        runs.append({"seed": seed, "rows": rows})
    mean = {model: _mean([r["rows"][model] for r in runs]) for model in runs[0]["rows"]
            if "test_mse" in runs[0]["rows"][model]}
    checks = {}
    if "pytorch" in mean:
        ours, theirs = mean["tinygan"], mean["pytorch"]
        checks[f"tinygan seen-caption accuracy within 3 points of PyTorch's ({ours['seen']['all']:.4f} vs "
               f"{theirs['seen']['all']:.4f})"] = abs(ours["seen"]["all"] - theirs["seen"]["all"]) <= 0.03
        checks[f"tinygan VQ-VAE test MSE within 10% of PyTorch's ({ours['test_mse']:.5f} vs "
               f"{theirs['test_mse']:.5f})"] = ours["test_mse"] <= 1.10 * theirs["test_mse"]
    collapse_epochs = min(COLLAPSE_EPOCHS, args.epochs) if args.epochs else COLLAPSE_EPOCHS
    collapse = _collapse(test, args.seeds[0], collapse_epochs, args.steps_per_epoch, twin)
    log(f"dalle codebook collapse: {collapse}")
    steps = f", {args.steps_per_epoch} steps per epoch" if args.steps_per_epoch else ""
    return {"recipe": f"dalle defaults: VQ-VAE (128 codes of 32 on 7x7, EMA codebook decay 0.99, restarts of dead "
                      f"codes, Adam 1e-3, batch 64) for {vq_epochs} epochs, then the prior (4 pre-norm layers of "
                      f"128, 4 heads, FF 512, dropout 0.1; AdamW 3e-4 (0.9, 0.95), wd 0.01 on matrices, 100 warm-up "
                      f"steps and a cosine to 0, clip 1.0, batch 64) for {prior_epochs} epochs{steps}, on the "
                      f"embedded 5k digits coloured afresh each epoch (20 of 180 captions held out); seeds "
                      f"{list(args.seeds)}. Scored: VQ-VAE MSE and code use on the official 10k test digits "
                      f"coloured over all 18 pairs (seed 1234); {per_caption} drawings of each of the 180 captions "
                      f"(top-k 16, temperature 1, default_rng(seed)) read by the caption judge "
                      f"(tinygan/evaluation/captions.py), seen and held-out captions apart; FID of the drawings' "
                      f"shapes against the official test digits on the shipped classifier's features. Ceiling: real "
                      f"coloured test digits (FID: as many coloured training digits); floor: uniformly random codes "
                      f"through each trained decoder. The PyTorch twin trains the same recipe on the same colourings",
            "vq_epochs": vq_epochs, "prior_epochs": prior_epochs, "per_caption": per_caption, "runs": runs,
            "mean": mean, "ceiling": ceiling, "collapse": collapse, "checks": checks}


def markdown(entry):
    lines = ["| model | seen: all | background | digit | foreground | held out: all | background | digit | "
             "foreground | shape FID | VQ test MSE | perplexity | unused codes | train s (seed 0) |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    first = entry["runs"][0]["rows"]

    def parts(scores):
        return " | ".join(f"{scores[p]:.3f}" for p in ("all", "background", "digit", "foreground"))

    for model, m in entry["mean"].items():
        lines.append(f"| {model} | {parts(m['seen'])} | {parts(m['held_out'])} | {m['shape_fid']:.2f} | "
                     f"{m['test_mse']:.5f} | {m['perplexity']:.1f} | {m['unused_codes']:.1f} | "
                     f"{first[model]['train_seconds']} |")
    for model, m in entry["mean"].items():
        f = m["floor"]
        lines.append(f"| floor: random codes, {model}'s decoder | {parts(f['seen'])} | {parts(f['held_out'])} | "
                     f"{f['shape_fid']:.2f} | | | | |")
    c = entry["ceiling"]
    lines.append(f"| ceiling: real coloured test digits | {parts(c['seen'])} | {parts(c['held_out'])} | "
                 f"{c['shape_fid']:.2f} | | | | |")
    if len(entry["runs"]) > 1:
        lines += ["", "(means over the seeds; per seed in quality.json)"]
    lines += ["", f"Codebook collapse ({entry['collapse']['epochs']} stage-1 epochs, seed {entry['collapse']['seed']}; "
                  f"code use on the test digits):", "",
              "| model | codebook | test perplexity | unused codes (test) | perplexity per epoch (training) | "
              "test MSE |", "|---|---|---|---|---|---|"]
    for name, r in entry["collapse"]["rows"].items():
        if "note" in r:
            lines.append(f"| {name} | {r['note']} | | | | |")
            continue
        lines.append(f"| {name} | {r['codebook']} | {r['perplexity']:.1f} | {r['unused_codes']} | "
                     f"{', '.join(f'{p:.1f}' for p in r['epoch_perplexity'])} | {r['test_mse']:.5f} |")
    return lines


# -- the two frameworks behind one face: reconstruct, decode codes, draw ------------------------------------------

class _TinyganModel:
    def __init__(self, vqvae, prior):
        self.vqvae, self.dalle = vqvae, Dalle(vqvae, prior)
        self.num_codes = vqvae.num_codes

    def reconstruct(self, images):
        with no_grad():
            codes = self.vqvae.encode_to_indices(Tensor(backend.to_device(images, backend.current_device())))
            return backend.to_numpy(self.vqvae.decode_indices(codes).array), backend.to_numpy(codes.array)

    def decode(self, codes):
        with no_grad():
            return backend.to_numpy(self.vqvae.decode_indices(codes).array)

    def draw(self, triples, rng):
        return backend.to_numpy(self.dalle.draw(triples, top_k=16, temperature=1.0, generator=rng).array)


class _TorchModel:
    def __init__(self, twin, vqvae, prior):
        self.twin, self.vqvae, self.prior = twin, vqvae, prior
        self.num_codes = vqvae.num_codes

    def reconstruct(self, images):
        return self.twin.reconstruct(self.vqvae, images)

    def decode(self, codes):
        import torch  # optional: only the PyTorch twin needs it
        return self.vqvae.decode_indices(torch.from_numpy(codes)).numpy()

    def draw(self, triples, rng):
        import torch  # optional: only the PyTorch twin needs it
        from tinygan.data.captions import tokens_of
        codes = self.prior.generate(torch.from_numpy(tokens_of(triples)), 16, 1.0, rng)
        return self.vqvae.decode_indices(codes).numpy()


def _in_batches(fn, values, *extra):
    return np.concatenate([fn(values[i:i + BATCH], *extra) for i in range(0, len(values), BATCH)])


def _reading(images, triples, held, reference):
    reading = caption_accuracy(images, triples)
    return {"seen": _rounded(reading.rates_of(~held)), "held_out": _rounded(reading.rates_of(held)),
            "shape_fid": round(shape_fid(images, reference), 3)}


def _scores(model, test, reference, triples, held, seed, seconds):
    """One trained model's scores: VQ-VAE test MSE and code use, the judge's reading of drawings, the floor."""
    started = time.perf_counter()
    squared, counts = 0.0, np.zeros(model.num_codes, np.int64)
    for start in range(0, len(test), BATCH):
        images = test.images(np.arange(start, min(start + BATCH, len(test))))
        recon, codes = model.reconstruct(images)
        squared += float(((recon.astype(np.float64) - images) ** 2).sum())
        counts += np.bincount(codes.ravel(), minlength=model.num_codes)
    mse = squared / (len(test) * 3 * 28 * 28)
    vq_seconds = time.perf_counter() - started
    started = time.perf_counter()
    rng = np.random.default_rng(seed)
    drawings = np.concatenate([model.draw(triples[i:i + BATCH], rng) for i in range(0, len(triples), BATCH)])
    draw_seconds = time.perf_counter() - started
    random_codes = np.random.default_rng([seed, 99]).integers(0, model.num_codes, (len(triples), 49))
    floor = _reading(_in_batches(model.decode, random_codes), triples, held, reference)
    return {"train_seconds": round(seconds, 1), "test_mse": round(mse, 6), "perplexity": round(perplexity(counts), 2),
            "unused_codes": int((counts == 0).sum()), **_reading(drawings, triples, held, reference), "floor": floor,
            "vq_eval_seconds": round(vq_seconds, 1), "draw_seconds": round(draw_seconds, 1)}


def _ceiling(test, reference, count):
    """The judge on real coloured test digits (seen and held-out captions apart) and the shape FID of as many
    coloured training digits (the test digits are the FID's reference)."""
    reading = caption_accuracy(test.images(), test.triples)
    held = np.array([is_held_out(*t) for t in test.triples])
    train = captioned_train(seed=0, epoch=0)
    which = np.random.default_rng(0).permutation(len(train))[:min(count, len(train))]
    return {"seen": _rounded(reading.rates_of(~held)), "held_out": _rounded(reading.rates_of(held)),
            "shape_fid": round(shape_fid(train.images(which), reference), 3)}


def _rounded(rates):
    return {part: round(rates[part], 4) for part in PARTS}


def _mean(rows):
    """The mean over seeds of every number in the rows (nested dicts of numbers)."""
    first = rows[0]
    if isinstance(first, dict):
        return {key: _mean([r[key] for r in rows]) for key in first}
    return round(float(np.mean(rows)), 6)


# -- codebook collapse: the paper's codebook loss from a small random start against the EMA codebook -------------

def _collapse(test, seed, epochs, steps_per_epoch, twin):
    """Stage 1 alone for `epochs` epochs: VQVAE(codebook='loss') from its U(-1/K, 1/K) start with no restarts,
    against the recipe's EMA codebook (codes from the first batch, restarts); code use on the test digits."""
    rows = {}
    for name, codebook, from_data in (("tinygan loss, random start", "loss", False),
                                      ("tinygan ema, data start + restarts", "ema", True)):
        model, history = _tinygan_stage1(seed, epochs, steps_per_epoch, codebook, from_data)
        rows[name] = _collapse_row(_TinyganModel(model, None), test, codebook, history)
    if twin is None:
        rows["pytorch"] = {"note": "torch is not installed"}
    else:
        for name, codebook, from_data in (("pytorch loss, random start", "loss", False),
                                          ("pytorch ema, data start + restarts", "ema", True)):
            model, history = twin.train_vqvae(seed, epochs, steps_per_epoch, codebook=codebook,
                                              init_from_data=from_data, restarts=from_data)
            rows[name] = _collapse_row(_TorchModel(twin, model, None), test, codebook,
                                       [h["perplexity"] for h in history])
    return {"epochs": epochs, "seed": seed, "rows": rows}


def _collapse_row(model, test, codebook, epoch_perplexity):
    counts, squared = np.zeros(model.num_codes, np.int64), 0.0
    for start in range(0, len(test), BATCH):
        images = test.images(np.arange(start, min(start + BATCH, len(test))))
        recon, codes = model.reconstruct(images)
        counts += np.bincount(codes.ravel(), minlength=model.num_codes)
        squared += float(((recon.astype(np.float64) - images) ** 2).sum())
    return {"codebook": codebook, "perplexity": round(perplexity(counts), 2), "unused_codes": int((counts == 0).sum()),
            "epoch_perplexity": [round(p, 2) for p in epoch_perplexity],
            "test_mse": round(squared / (len(test) * 3 * 28 * 28), 6)}


def _tinygan_stage1(seed, epochs, steps_per_epoch, codebook, from_data):
    """tinygan's VQ-VAE trained alone (the family's stage 1, or the codebook-loss variant with no data start and
    no restarts); returns (model in eval mode, the training perplexity of each epoch)."""
    manual_seed(seed)
    model = VQVAE(codebook=codebook)
    opt = Adam(model.parameters(), lr=1e-3)
    loader = CaptionLoader(batch_size=64, seed=seed, drop_last=True)
    history = []
    for epoch in range(epochs):
        loader.set_epoch(epoch)
        for step, (x, _) in enumerate(loader):
            if steps_per_epoch and step >= steps_per_epoch:
                break
            if epoch == 0 and step == 0 and from_data:
                with no_grad():
                    model.init_codebook(model.encode(x), np.random.default_rng([seed, 0]))
            loss, _ = model.loss(x, model(x))
            opt.zero_grad()
            loss.backward()
            opt.step()
        history.append(model.code_use()["perplexity"])
        if from_data:
            model.restart_dead_codes(np.random.default_rng([seed, 1, epoch]))
        else:
            model.epoch_counts.array[...] = 0
    return model.eval(), history

