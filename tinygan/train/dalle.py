"""How a tiny DALL-E trains (Ramesh et al., 2021): first a discrete VAE, then a transformer prior over its tokens.

    step = DalleStep(vqvae, prior, opt_vq, opt_prior, vq_steps, prior_steps, seed)
    step.stage = "vq";    figures = step(images, text)   # {"loss_vq", "reconstruction", "commitment"}
    step.stage = "prior"; figures = step(codes, text)    # {"loss_prior", "lr"}

A run of this family (DalleFamily) trains on the captioned colour digits (tinygan/data/captions.py), coloured
afresh every epoch, in two stages within one run:

    epochs 1..vq_epochs        stage 1, the VQ-VAE (tinygan/models/vqvae.py): Adam (lr, betas 0.9/0.999) on
                               MSE + 0.25 commitment, the EMA codebook. Its codes start at 128 random encoder
                               outputs of the first batch; a code no position chose during an epoch restarts at a
                               random encoder output of the epoch's last batch. Each epoch logs the mean
                               reconstruction MSE and commitment, and the epoch's perplexity and unused codes
                               (before the restarts), and how many codes restarted.
    epochs vq_epochs+1..epochs stage 2, the prior (tinygan/models/dalle.py), the VQ-VAE frozen in eval mode
                               tokenising each epoch's colourings: AdamW (prior_lr, betas 0.9/0.95, weight decay
                               0.01 on the weight matrices only, minGPT's rule: none on biases, LayerNorms and
                               embeddings), 100 warm-up steps then a cosine to 0 over the stage's steps, the
                               gradient clipped to norm 1. Each epoch logs the mean cross-entropy of the image
                               tokens (nats per token) and the last learning rate.

What a run folder holds besides config.json, log.jsonl and checkpoint.npz:

    samples/epoch_NNN.png   stage 1: training digits (rows 1, 3) above their reconstructions (rows 2, 4);
                            stage 2: 4 drawings of each of 20 captions (10 held out), the captions above them
    reconstructions.png     the last stage-1 epoch's reconstructions (the VQ-VAE the prior learns to write)
    curves.png              each stage's losses per epoch

Exact resume. The checkpoint holds both networks (the codebook and its moving averages are buffers of the
VQ-VAE), both optimizers, the step count and tinygan's random state (the prior's dropout). The learning-rate
schedule is a LambdaLR stepped to the prior's step index before every step, so a resumed scheduler stands where
the uninterrupted one stood; the loader's colours and order depend only on (seed, epoch); the codebook's first
codes and each epoch's restarts draw from NumPy Generators seeded with (seed, epoch), and the epoch's code counts
are zeroed before the checkpoint is written. So a run resumed in either stage, or at the boundary, ends with the
weights of one that never stopped (NumPy backend).
"""
import math
import os

import numpy as np

from .. import backend, nn, optim, registry, viz
from ..autograd import Tensor, no_grad
from ..data.captions import (ALL_TRIPLES, DIGIT_WORDS, HELD_OUT_TRIPLES, CaptionedDigits, CaptionLoader, caption_of,
                             captioned_test, is_held_out, parse)
from ..data.idx import DataError
from ..data.mnist import load_embedded_mnist
from ..functional.quantize import code_counts
from ..models.dalle import Dalle
from .checks import ConfigError, check_integer, check_real
from .family import Family, check_finite, epoch_picture

WARMUP_STEPS = 100
PRIOR_BETAS = (0.9, 0.95)
WEIGHT_DECAY = 0.01
CLIP_NORM = 1.0
TOP_K, TEMPERATURE = 16, 1.0
SAMPLES_PER_CAPTION = 20          # `tinygan eval`: drawings of each of the 180 captions
EVAL_SEED = 0
# The captions of the stage-2 pictures: each digit's first held-out caption, and one it trains on
PICTURE_TRIPLES = tuple(t for k in range(10) for t in ((k % 6, k, k % 3), ((k + 1) % 6, k, (k + 2) % 3)))
PICTURE_SAMPLES = 4               # drawings of each of them


def warmup_cosine(step, total, warmup=WARMUP_STEPS):
    """The learning rate's factor at the 0-based step index `step` of `total`:

        (step + 1) / warmup                                           for step < warmup
        (1 + cos(pi (step - warmup) / (total - warmup))) / 2          after, reaching 0 at step = total

    (the GPT recipe: linear warm-up, then a cosine to 0; Loshchilov & Hutter, 2017, for the cosine)."""
    if step < warmup:
        return (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return 0.5 * (1.0 + math.cos(math.pi * progress))  # [formula: warmup-cosine-lr]


def prior_optimizer(prior, lr):
    """AdamW over the prior's two groups (DallePrior.weight_decay_groups: decay 0.01 on the weight matrices of the
    Linear layers and attention projections; none on biases, LayerNorms or the embeddings, minGPT's rule)."""
    return optim.AdamW(prior.weight_decay_groups(WEIGHT_DECAY), lr=lr, betas=PRIOR_BETAS)


class DalleStep:
    """One step of either stage; `stage` ("vq" or "prior") is set by the family's batches before each epoch.

    vq_steps    -- the steps of stage 1 (vq_epochs x batches per epoch): the prior's step index is steps - vq_steps
    prior_steps -- the steps of stage 2: the cosine's length
    seed        -- the run's seed: the codebook's first codes draw from default_rng([seed, 0])
    """

    def __init__(self, vqvae, prior, opt_vq, opt_prior, vq_steps, prior_steps, seed=0):
        self.vqvae, self.prior, self.opt_vq, self.opt_prior = vqvae, prior, opt_vq, opt_prior
        self.vq_steps, self.prior_steps, self.seed = int(vq_steps), int(prior_steps), int(seed)
        self.scheduler = optim.lr_scheduler.LambdaLR(opt_prior, lambda s: warmup_cosine(s, self.prior_steps))
        self.stage = "vq"
        self.epoch_figures = {}   # what the family's batches measured after the epoch's last step
        self.steps = 0

    def vq_step(self, images):
        """One Adam step of the VQ-VAE on images (N, 3, 28, 28); the very first sets the codebook first."""
        if self.steps == 0:
            with no_grad():
                self.vqvae.init_codebook(self.vqvae.encode(images), np.random.default_rng([self.seed, 0]))
        output = self.vqvae(images)
        loss, terms = self.vqvae.loss(images, output)
        self.opt_vq.zero_grad()
        loss.backward()
        self.opt_vq.step()
        return {"loss_vq": loss.item(), "reconstruction": terms["reconstruction"].item(),
                "commitment": terms["commitment"].item()}

    def prior_step(self, codes, text):
        """One AdamW step of the prior on image codes (N, 49) and word tokens (N, 4), the rate of its schedule."""
        self.scheduler.step(self.steps - self.vq_steps)          # the rate of this step's index
        loss = self.prior.loss(text, codes)
        self.opt_prior.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(self.prior.parameters(), CLIP_NORM)
        self.opt_prior.step()
        return {"loss_prior": loss.item(), "lr": self.opt_prior.param_groups[0]["lr"]}

    def __call__(self, x, text):
        figures = self.vq_step(x) if self.stage == "vq" else self.prior_step(x, text)
        self.steps += 1
        key = "loss_vq" if self.stage == "vq" else "loss_prior"
        check_finite(f"dalle {key}", figures[key], self.steps)
        return figures


class DalleFamily(Family):
    """The VQ-VAE 'vqvae' and the prior 'prior', trained one after the other in one run."""

    title = "dalle"
    settings = ("vq_epochs", "prior_lr")
    own_data = ("captions", "captioned colour digits")
    draws_from_code = False
    draws_from_captions = True    # sample --caption
    scored_on_test_digits = True

    def check_settings(self, config):
        """The captioned digits, 1 <= vq_epochs < epochs, a prior learning rate > 0, a width of 4 heads."""
        if registry.dataset_of(config).kind != "captions":
            raise ConfigError(f"dalle draws captioned colour digits; --data must be captions, got {config['data']!r}")
        check_integer(config, "vq_epochs", 1, 10**6)
        if config["vq_epochs"] >= config["epochs"]:
            raise ConfigError(f"--vq-epochs ({config['vq_epochs']}) must be less than --epochs ({config['epochs']}): "
                              f"epochs 1..vq_epochs train the VQ-VAE, the rest (at least one) the prior")
        check_real("prior_lr", config.get("prior_lr"), 1e-12, math.inf, "AdamW's peak learning rate for the prior")
        if config["width"] % 4:
            raise ConfigError(f"--width {config['width']} (the prior's width) must be divisible by its 4 heads")

    def make_step(self, run):
        """The step over both networks; the prior's Adam becomes AdamW over its two weight-decay groups."""
        c, nets = run.config, run.nets
        run.optimizers["prior"] = prior_optimizer(nets["prior"], c["prior_lr"])
        per_epoch = self.batches_per_epoch(run)
        return DalleStep(nets["vqvae"], nets["prior"], run.optimizers["vqvae"], run.optimizers["prior"],
                         vq_steps=c["vq_epochs"] * per_epoch, prior_steps=(c["epochs"] - c["vq_epochs"]) * per_epoch,
                         seed=c["seed"])

    # -- data ---------------------------------------------------------------------------------------
    def load_data(self, run):
        c = run.config
        loader = CaptionLoader(batch_size=c["batch_size"], seed=c["seed"], drop_last=True)
        if len(loader) == 0:
            raise ConfigError(f"--batch-size {c['batch_size']} is larger than the {len(loader.digits)} captioned "
                              f"digits; an epoch (which drops an incomplete last batch) would train nothing")
        return loader

    def stage(self, run, epoch):
        """'vq' for the 0-based epochs 0..vq_epochs-1, 'prior' after."""
        return "vq" if epoch < run.config["vq_epochs"] else "prior"

    def batches(self, run, epoch):
        """Stage 1: (images, word tokens); after its last batch, the epoch's code use, then the dead codes'
        restarts. Stage 2: (image codes of the frozen VQ-VAE, word tokens)."""
        step, vqvae = run.step, run.nets["vqvae"]
        step.stage = self.stage(run, epoch)
        if step.stage == "prior":
            vqvae.eval()
        for images, text in super().batches(run, epoch):
            yield (images if step.stage == "vq" else vqvae.encode_to_indices(images)), text
        if step.stage == "vq":
            use = vqvae.code_use()
            step.epoch_figures = {"perplexity": float(use["perplexity"]), "unused_codes": int(use["unused_codes"])}
            step.epoch_figures["restarted_codes"] = vqvae.restart_dead_codes(
                np.random.default_rng([run.config["seed"], 1, epoch]))
        else:
            step.epoch_figures = {}

    def epoch_scores(self, run):
        """Stage 1: the epoch's perplexity, unused codes (before the restarts) and restarted codes."""
        return run.step.epoch_figures

    # -- samples and figures ------------------------------------------------------------------------
    def dalle(self, run):
        return Dalle(run.nets["vqvae"], run.nets["prior"])

    def sample(self, run, n, label, z):
        """n drawings of the 180 captions in turn, from default_rng([seed, 12345])."""
        triples = np.array([ALL_TRIPLES[i % len(ALL_TRIPLES)] for i in range(n)])
        return draw_in_batches(self.dalle(run), triples, np.random.default_rng([run.config["seed"], 12345]))

    def save_figures(self, run):
        """Stage 1: reconstructions (also reconstructions.png); stage 2: drawings of 20 captions; the curves."""
        if run.epoch <= run.config["vq_epochs"]:
            save_reconstructions(run, epoch_picture(run), f"epoch {run.epoch}")
            if run.epoch == run.config["vq_epochs"]:
                save_reconstructions(run, os.path.join(run.folder, "reconstructions.png"),
                                     f"the VQ-VAE after stage 1 (epoch {run.epoch})")
        else:
            rng = np.random.default_rng([run.config["seed"], 777])
            save_caption_panels(self.dalle(run), PICTURE_TRIPLES, PICTURE_SAMPLES, rng, epoch_picture(run), ncols=4)
        save_dalle_curves(run)

    def network_inputs(self, run):
        return {"vqvae": ((2, 3, 28, 28),), "prior": (Tensor(np.zeros((2, 53), dtype=np.int64)),)}

    def draw(self, run, n, label, seed, path, caption=None):
        """`tinygan sample`: n drawings of `caption` (top-k 16, temperature 1, default_rng(seed)); without a
        caption, the 18 captions of one digit (every foreground on every background), n / 18 drawings each."""
        rng = np.random.default_rng(seed)
        if caption is not None:
            triple = check_caption(caption)
            images = draw_in_batches(self.dalle(run), np.array([triple] * n), rng)
            held = " (a held-out caption, never trained on)" if is_held_out(*triple) else ""
            viz.save_image_grid(images, path, ncols=min(n, 8), value_range=(0, 1),
                                title=f"{caption_of(*triple)}{held}")
            return f"{n} drawings of '{caption_of(*triple)}'{held} (top-k {TOP_K}, seed {seed})"
        digit = int(rng.integers(0, 10))
        triples = [(f, digit, b) for f in range(6) for b in range(3)]
        per_caption = max(1, n // len(triples))
        save_caption_panels(self.dalle(run), triples, per_caption, rng, path, ncols=3)
        return (f"{per_caption * len(triples)} drawings of the 18 captions of the digit {DIGIT_WORDS[digit]} "
                f"({per_caption} each; top-k {TOP_K}, seed {seed})")

    # -- evaluation ---------------------------------------------------------------------------------
    def evaluate(self, run, n=None, test_data=None, k=50, seed=0):
        """The caption judge's scores (tinygan/evaluation/captions.py: the rate of drawings read right on each
        part of their caption and on all three, and the FID of their shapes against the test digits) of drawings of
        every caption, seen and held-out captions apart, beside the judge's rates on the captioned test digits;
        and the VQ-VAE's reconstruction error and code use on those test digits."""
        per_caption = SAMPLES_PER_CAPTION if n is None else max(1, n // len(ALL_TRIPLES))
        result = {"n": per_caption * len(ALL_TRIPLES),
                  "note": f"{per_caption} drawings of each of the {len(ALL_TRIPLES)} captions (top-k {TOP_K}, "
                          f"temperature {TEMPERATURE:g}, seed {seed}); {len(HELD_OUT_TRIPLES)} captions are held out"}
        test, result["reference"] = captioned_test_digits(test_data)
        result["codebook"] = evaluate_codebook(run.nets["vqvae"], test)
        result["reconstruction"] = {"model": {"mse": result["codebook"]["mse"]}}
        from ..evaluation.captions import caption_accuracy, shape_fid
        triples = np.repeat(np.array(ALL_TRIPLES), per_caption, axis=0)
        images = draw_in_batches(self.dalle(run), triples, np.random.default_rng([EVAL_SEED, seed]))
        held = np.array([is_held_out(*t) for t in triples])
        captions = {}
        for name, chosen in (("seen", ~held), ("held_out", held)):
            scores = {f"{part}_accuracy": float(rate)
                      for part, rate in caption_accuracy(images[chosen], triples[chosen]).rates.items()}
            scores["shape_fid"] = float(shape_fid(images[chosen], test.digits))
            captions[name] = dict(scores, n=int(chosen.sum()))
        real = caption_accuracy(test.images(), test.triples).rates
        captions["real"] = {f"{part}_accuracy": float(rate) for part, rate in real.items()}
        result["captions"] = captions
        return result


# -- helpers ------------------------------------------------------------------------------------------

def check_caption(caption):
    """The index triple of a caption; a ConfigError naming the unknown word and the vocabulary otherwise."""
    try:
        return parse(caption)
    except ValueError as error:
        raise ConfigError(f"--caption: {str(error).removeprefix('parse: ')}") from None


def draw_in_batches(dalle, triples, rng, batch_size=500):
    """Drawings (N, 3, 28, 28) on [0, 1], host float32, of index triples (N, 3): a batch at a time, one rng."""
    out = []
    for start in range(0, len(triples), batch_size):
        images = dalle.draw(triples[start:start + batch_size], top_k=TOP_K, temperature=TEMPERATURE, generator=rng)
        out.append(backend.to_numpy(images.array))
    return np.concatenate(out) if out else np.zeros((0, 3, 28, 28), np.float32)


def save_caption_panels(dalle, triples, per_caption, rng, path, ncols=4):
    """One panel per caption, titled with it ('(held out)' after the held-out ones): per_caption drawings each."""
    triples = np.array(triples)
    images = draw_in_batches(dalle, np.repeat(triples, per_caption, axis=0), rng)
    panels = images.reshape((len(triples), per_caption) + images.shape[1:])
    titles = [caption_of(*t) + (" (held out)" if is_held_out(*t) else "") for t in triples]
    viz.save_image_panels(list(panels), path, titles, ncols=ncols, value_range=(0, 1), images_per_row=per_caption)


def reconstruct(vqvae, images):
    """The VQ-VAE's reconstructions (eval mode, its codes' decoding) of float images (N, 3, 28, 28) on the host."""
    was_training = vqvae.training
    vqvae.eval()
    try:
        with no_grad():
            x = Tensor(backend.to_device(images, backend.current_device()))
            return backend.to_numpy(vqvae.decode_indices(vqvae.encode_to_indices(x)).array)
    finally:
        vqvae.train(was_training)


def save_reconstructions(run, path, title, per_class=2):
    """Bands of 10: training digits of the current epoch's colours above their reconstructions."""
    captioned, _ = run.data.captioned(run.epoch)
    shown = viz.each_class_in_turn(run.data.labels, per_class)
    images = captioned.images(shown)
    recon = reconstruct(run.nets["vqvae"], images)
    bands = np.concatenate([np.concatenate([images[i:i + 10], recon[i:i + 10]]) for i in range(0, len(shown), 10)])
    viz.save_image_grid(bands, path, ncols=10, value_range=(0, 1),
                        title=f"training digits (rows 1, 3) and their reconstructions (rows 2, 4), {title}")


def save_dalle_curves(run):
    """curves.png: the VQ-VAE's losses over stage 1 and the prior's cross-entropy over stage 2."""
    vq = [row for row in run.history if "loss_vq" in row]
    prior = [row for row in run.history if "loss_prior" in row]
    if prior:
        viz.save_curves(prior, os.path.join(run.folder, "curves.png"), keys=["loss_prior"],
                        title="dalle prior: cross-entropy of the image tokens (nats per token)")
    elif vq:
        viz.save_curves(vq, os.path.join(run.folder, "curves.png"), keys=["loss_vq", "reconstruction", "commitment"],
                        title="dalle stage 1: the VQ-VAE's losses")


def captioned_test_digits(test_data):
    """(CaptionedDigits, what they are): the official test digits captioned over all 18 pairs (in `test_data`, or
    the cache); when absent, the embedded digits coloured the same way."""
    try:
        test = captioned_test(folder=test_data)
        return test, "the official 10,000 MNIST test digits, coloured over all 18 pairs (seed 1234)"
    except DataError:
        if test_data:
            raise
    digits, labels = load_embedded_mnist()
    pair = np.random.default_rng(1234).integers(0, 18, size=len(labels))
    test = CaptionedDigits(digits, np.stack([pair // 3, labels.astype(np.int64), pair % 3], axis=1))
    return test, ("the embedded 5,000 digits coloured over all 18 pairs (seed 1234): the official test set is not "
                  "in the cache (eval --download or --test-data FOLDER)")


def evaluate_codebook(vqvae, test, batch_size=500):
    """{"mse", "perplexity", "unused_codes"} of the VQ-VAE (eval mode) over the captioned digits `test`."""
    counts = np.zeros(vqvae.num_codes, np.int64)
    squared, count = 0.0, 0
    for start in range(0, len(test), batch_size):
        indices = np.arange(start, min(start + batch_size, len(test)))
        images = test.images(indices)
        x = Tensor(backend.to_device(images, backend.current_device()))
        was_training = vqvae.training
        vqvae.eval()
        try:
            with no_grad():
                codes = vqvae.encode_to_indices(x)
                recon = backend.to_numpy(vqvae.decode_indices(codes).array)
        finally:
            vqvae.train(was_training)
        counts += backend.to_numpy(code_counts(codes.array.reshape(-1), vqvae.num_codes)).astype(np.int64)
        squared += float(((recon.astype(np.float64) - images) ** 2).sum())
        count += images.size
    return dict(mse=squared / count, **vqvae.code_use(counts))
