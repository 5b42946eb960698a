"""A model family: how one kind of model trains. The interface a run asks of it, and what the families share.

train/run.py holds what every model does alike: the epoch loop, the logs, the checkpoints, resuming. What
differs from one kind of model to another is its family's, one file each in train/ (gan.py, vae.py, rnn.py,
vaegan.py, pix2pix.py, segmentation.py, nerf.py), found in FAMILIES (train/families.py) by the registry's
family name. A run asks its family:

    make_step(run)                         the step: one update from a batch (x, y), returning its figures
    load_data(run)                         the training data, loaded once (run.data)
    batches(run, epoch)                    the (x, y) batches of one epoch
    batches_per_epoch(run)                 how many that is
    epoch_scores(run)                      figures added to every epoch's log row (none by default)
    sample(run, n, label, z)               what the networks draw, in eval mode
    save_figures(run)                      the pictures of an epoch, in the run folder
    network_inputs(run)                    each network's input shapes (N = 2), for Run.describe
    evaluate(run, n, test_data, k, seed)   the sections of `tinygan eval`'s report
    draw(run, n, label, seed, path)        `tinygan sample`: one picture at `path`, and what it shows in words

The configuration's checks (train/config.py) ask it check_settings(config), a ConfigError for its own settings
(or data) outside their meaning, and read what it declares, as the command line does: the configuration keys that
are its own (`settings`: a run of any other family is refused them), the kind of dataset only it trains on
(`own_data`), and which of the commands' options its runs take (`draws_from_code`, ...).

The defaults here are those of a generator trained on a fixed set of images, which gan, vae, rnn and vaegan
share: a class-balanced --limit, batches in a seeded order per epoch, a grid of samples from fixed noise every
epoch, and the digit classifier's scores of the samples beside real digits'.
"""
import math
import os

import numpy as np

from .. import backend, registry, viz
from ..autograd import Tensor, no_grad
from ..data import ImageLoader, balanced_subset, load_mnist
from ..evaluation.reference import load_reference
from .checks import ConfigError
from .evaluate import IMAGE_SAMPLES, evaluate_images, evaluate_reconstruction

# The figures drawn in metrics.png when a log row has them (--eval-every, or every epoch for some families).
METRIC_KEYS = ("fid", "classifier_score", "label_accuracy", "modes_covered", "high_quality_fraction", "elbo_loss",
               "test_nll", "miou", "miou_digits", "pixel_accuracy")


class TrainingDiverged(RuntimeError):
    """A loss became NaN or infinite."""


def check_finite(name, value, step):
    """Stop with advice when a loss is NaN or Inf, before the broken weights are saved anywhere."""
    if not math.isfinite(value):
        raise TrainingDiverged(
            f"the {name} became {value} at step {step}. Usual causes: a learning rate too high "
            f"(try --lr smaller by 2-10x), a critic without its gradient penalty (use wgan-gp), or a BCE "
            f"on probabilities instead of logits. The last checkpoint is intact: resume from it with other "
            f"settings, or rerun with --detect-anomaly to find the operation that produced it.")


def set_requires_grad(module, flag):
    """Freeze (False) or unfreeze (True) every weight of `module`: a frozen network passes gradients through to its
    inputs but computes none for its own weights."""
    for p in module.parameters():
        p.requires_grad = flag


def image_channels(images):
    """The channel count of uint8 images (N, H, W) (grey: 1) or (N, C, H, W)."""
    return 1 if images.ndim == 3 else images.shape[1]


def check_channels(config, images, source):
    """ConfigError unless `images` (from `source`) have the channel count the run's model was built for."""
    built, given = registry.dataset_of(config).channels, image_channels(images)
    if built != given:
        kinds = {1: "1-channel (grey)", 3: "3-channel (colour)"}
        raise ConfigError(f"the {config['model']} model of this run was built for {kinds.get(built, built)} images "
                          f"({config['data']!r}), but {source} holds {kinds.get(given, given)} images "
                          f"{tuple(images.shape[1:])}; train a model on that data instead")


def epoch_picture(run):
    """samples/epoch_NNN.png of the run's current epoch (the folder made if needed)."""
    samples_dir = os.path.join(run.folder, "samples")
    os.makedirs(samples_dir, exist_ok=True)
    return os.path.join(samples_dir, f"epoch_{run.epoch:03d}.png")


def save_curves(run):
    """curves.png: the losses over the epochs so far; metrics.png: the evaluation figures, once the log has some."""
    loss_keys = [k for k in run.history[-1] if k.startswith("loss") or k in ("reconstruction", "kl", "l1", "gan_g")]
    viz.save_curves(run.history, os.path.join(run.folder, "curves.png"), keys=loss_keys,
                    title=f"{run.config['model']} on {run.config['data']}")
    evaluated = [row for row in run.history if any(k in row for k in METRIC_KEYS)]
    if evaluated:
        viz.save_curves(evaluated, os.path.join(run.folder, "metrics.png"),
                        keys=[k for k in METRIC_KEYS if k in evaluated[-1]], title="evaluation over epochs")


def reconstruct_in_batches(run, images, mean_of, batch_size=500):
    """`mean_of(chunk)` of uint8 images (N, [C,] H, W) taken as floats on [0, 1] of the dataset's sample shape, a
    chunk at a time, every network in eval mode: the mean reconstructions, floats (N, C, H, W) on [0, 1]."""
    check_channels(run.config, images, "the images to reconstruct")
    sample_shape = registry.dataset_of(run.config).sample_shape
    pixels = images.reshape((len(images),) + sample_shape).astype(backend.get_default_dtype()) / 255.0
    for net in run.nets.values():
        net.eval()
    out = []
    with no_grad():
        for start in range(0, len(pixels), batch_size):
            chunk = pixels[start:start + batch_size]
            out.append(backend.to_numpy(mean_of(chunk).array).reshape(chunk.shape))
    return np.concatenate(out)


class Family:
    """The interface of a model family (see the module), with the defaults of a generator of a fixed image set."""

    flatten = False            # the loader gives (B, C*H*W) rows instead of (B, C, H, W) images
    scores_test_sets = False   # --test-data of a non-digit set (fashion, kmnist) gives test_image_scores too
    reconstructs = False       # evaluate reports the mean reconstructions' error (reconstruct)

    # -- settings: what of a configuration is this family's own, and the options its runs take --------
    title = None               # how messages name this family (with settings or own_data) to a run of another
    settings = ()              # the configuration keys that are this family's own: no other family's run takes them
    own_data = None            # (kind, what it holds): the kind of dataset (DatasetSpec.kind) only this family reads
    weight_average = False     # --ema: it may sample from a moving average of G's weights
    draws_from_code = True     # train --latent-dim: it draws from noise, or encodes to a code, of that size
    draws_at_random = True     # sample --seed: what it draws depends on a seed
    scored_on_draws = True     # eval --n: it is scored on n things it draws, not on fixed test images
    scored_at_random = True    # eval --seed: its scores depend on a seed, not on fixed test data alone
    scored_on_test_digits = True  # eval --test-data, --download: it is scored against the official test digits
    importance_samples = False    # eval --k: its report has a bound of k importance samples (the VAEs' IWAE)

    def check_settings(self, config):
        """ConfigError naming the first of the family's own settings, or its data, outside their meaning: none here.
        (config.py has checked the settings every run has, and refused other families' settings and data.)"""

    def make_step(self, run):
        """The step of this family, over the run's networks and optimizers."""
        raise NotImplementedError

    # -- data ---------------------------------------------------------------------------------------
    def load_data(self, run):
        """The images of the run's dataset, a class-balanced --limit of them, in the family's loader."""
        c = run.config
        images, labels = registry.load_dataset(c["data"])
        check_channels(c, images, c["data"])
        if c["limit"] is not None:                      # every class, not the first (sorted) ones
            keep = balanced_subset(labels, c["limit"], c["seed"])
            images, labels = images[keep], labels[keep]
        loader = self.image_loader(run, images, labels)
        if len(loader) == 0:
            raise ConfigError(f"--batch-size {c['batch_size']} is larger than the {len(images)} training "
                              f"images of {c['data']}" + (" (--limit)" if c["limit"] is not None else "")
                              + "; an epoch (which drops an incomplete last batch) would train nothing")
        return loader

    def image_loader(self, run, images, labels):
        """Shuffled batches in a seeded order per epoch, scaled to the model's value range."""
        c = run.config
        return ImageLoader(images, labels, batch_size=c["batch_size"], seed=c["seed"], drop_last=True,
                           value_range=registry.model_of(c).value_range, flatten=self.flatten)

    def batches(self, run, epoch):
        """The loader's batches of `epoch`, at most --steps-per-epoch of them."""
        steps = run.config["steps_per_epoch"]
        run.data.set_epoch(epoch)
        for i, (x, y) in enumerate(run.data):
            if steps and i >= steps:
                break
            yield x, y

    def batches_per_epoch(self, run):
        steps = run.config["steps_per_epoch"]
        return min(len(run.data), steps or len(run.data))

    def epoch_scores(self, run):
        """Figures every epoch's log row adds after training (none: evaluation is --eval-every's)."""
        return {}

    # -- samples and figures ------------------------------------------------------------------------
    def sample(self, run, n, label, z):
        """n samples (from the noise z, default the run's fixed noise), every network in eval mode."""
        raise NotImplementedError

    def save_figures(self, run):
        """samples/epoch_NNN.png, then the curves."""
        self.save_picture(run, epoch_picture(run))
        save_curves(run)

    def save_picture(self, run, path):
        """A grid of samples from the fixed noise."""
        value_range = registry.model_of(run.config).value_range
        viz.save_image_grid(run.sample().array, path, value_range=value_range, title=f"epoch {run.epoch}")

    def network_inputs(self, run):
        """{network name: its input shapes (a Tensor for labels)}, a batch of 2."""
        raise NotImplementedError

    def draw(self, run, n, label, seed, path):
        """`tinygan sample`: n samples from noise z ~ N(0, I) of default_rng(seed), as an image grid at `path`."""
        z = np.random.default_rng(seed).standard_normal((n, run.config["latent_dim"])).astype(np.float32)
        images = run.sample(n, label=label, z=Tensor(backend.to_device(z, backend.current_device())))
        viz.save_image_grid(images.array, path, value_range=registry.model_of(run.config).value_range)
        digit = "" if label is None else f" of the digit {label}"
        return f"{n} samples{digit} (noise seed {seed})"

    # -- evaluation ---------------------------------------------------------------------------------
    def evaluate(self, run, n=None, test_data=None, k=50, seed=0):
        """The digit classifier's scores of n samples beside real digits' (against the official test set in
        `test_data`, else the embedded held-out digits), with the family's scores of those test digits."""
        config, dataset = run.config, registry.dataset_of(run.config)
        if dataset.channels != 1:
            return {"note": f"the shipped digit classifier (FID, classifier score, rarest class) applies only to "
                            f"1-channel digits; this run's images ({config['data']!r}) have {dataset.channels} "
                            f"channels, so it does not score them"}
        if not dataset.digits:
            result = {"note": f"the metrics use an MNIST digit classifier; this run was trained on "
                              f"{config['data']!r}, so they would mean nothing here"}
            if self.scores_test_sets and test_data:
                images, _ = load_mnist("test", folder=test_data, kind=config["data"])
                result["reference"] = f"{config['data']} test set in {test_data}"
                result.update(self.test_image_scores(run, images, k, seed))
            return result
        n = n or IMAGE_SAMPLES
        reference = load_reference(str(test_data) if test_data else None, n, seed)
        result = dict(n=n, reference=reference.description, floor_n=len(reference.train_images))
        result["images"] = evaluate_images(run, reference, n, seed)
        result.update(self.test_image_scores(run, reference.images, k, seed))
        if self.reconstructs:
            result["reconstruction"] = evaluate_reconstruction(run, reference.images)
        return result

    def test_image_scores(self, run, images, k, seed):
        """The family's own report sections on uint8 test images (a VAE's bounds, an RNN's likelihood): none."""
        return {}

    def reconstruct(self, run, images):
        """The mean reconstructions of uint8 images, floats (N, C, H, W) on [0, 1]: for models with an encoder."""
        raise ConfigError(f"{run.config['model']!r} has no encoder, so it does not reconstruct images")
