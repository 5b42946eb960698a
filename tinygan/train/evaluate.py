"""Evaluating a trained run: the sections of `tinygan eval`'s report, asked of the run's family, and the helpers the
families share for it.

    result = evaluate_run(run, n=5000, test_data="path/to/mnist")   # what `tinygan eval` prints (tinygan/cli.py)
    row = scores_for_log(run)                                          # the figures --eval-every logs
    samples, requested = generate(run, 5000)                           # a generator's samples, in eval mode
    means = reconstruct(run, images)                                   # an encoder's mean reconstructions

The judges themselves (metrics, the digit classifier, the reference digits, segmentation and restoration
scores) are tinygan/evaluation/; the held-out split of the embedded digits is tinygan.data.embedded_split.
Every function here draws from its own seeded generators, so evaluating leaves training's random stream
(and an exact resume) untouched.
"""
import time

import numpy as np

from .. import backend, registry
from ..autograd import Tensor
from ..evaluation.classifier import classify
from ..evaluation.reference import image_floors, image_scores

IMAGE_SAMPLES = 5000         # generated images scored by default
TOY_SAMPLES = 2500           # generated points of a toy set scored by default


def _sample_batches(run, count, rng, label=None, batch_size=500):
    """count samples in batches, z ~ N(0, I) drawn from `rng` on the host; each batch as a host array."""
    for start in range(0, count, batch_size):
        size = min(batch_size, count - start)
        z = rng.standard_normal((size, run.config["latent_dim"])).astype(backend.get_default_dtype())
        z = Tensor(backend.to_device(z, backend.current_device()))
        yield backend.to_numpy(run.sample(size, label=label, z=z).array)


def generate(run, n, seed=0):
    """n samples of a run's generator (eval mode) as a host array, and the class each was asked for (or None).

    A conditional model is asked for each digit in turn, n/10 times (the first n % 10 digits once more).
    """
    rng = np.random.default_rng(seed)
    if not registry.model_of(run.config).conditional:
        return np.concatenate(list(_sample_batches(run, n, rng))), None
    classes = registry.dataset_of(run.config).num_classes
    counts = np.bincount(np.arange(n) % classes, minlength=classes)
    requested = np.repeat(np.arange(classes), counts)
    samples = [batch for label in range(classes) for batch in _sample_batches(run, int(counts[label]), rng, label=label)]
    return np.concatenate(samples), requested


def evaluate_images(run, reference, n=IMAGE_SAMPLES, seed=0):
    """{"model": scores, "floor": scores} for an image generator (GAN, cGAN, or a VAE's decoder)."""
    samples, requested = generate(run, n, seed)
    probs, features = classify(samples, value_range=registry.model_of(run.config).value_range)
    return {"model": image_scores(probs, features, reference, requested),
            "floor": image_floors(reference, conditional=requested is not None)}


def reconstruct(run, images):
    """The mean reconstructions (z = mu) of uint8 images (N, [C,] H, W), floats on [0, 1] of shape (N, C, H, W):
    a VAE's or a VAE-GAN's (its family's `reconstruct`)."""
    return run.family.reconstruct(run, images)


def evaluate_reconstruction(run, images):
    """{"model": {"mse": ...}}: the mean squared pixel error on [0, 1] of the mean reconstructions of `images`."""
    target = images.reshape(len(images), -1).astype(np.float64) / 255.0
    error = reconstruct(run, images).reshape(len(images), -1) - target
    return {"model": {"mse": float(np.mean(error ** 2))}}


def evaluate_run(run, n=None, test_data=None, k=50, seed=0):
    """Every metric that fits the run's model, as a JSON-able dict: its family's sections of the report."""
    config = run.config
    result = {"model": config["model"], "data": config["data"], "epoch": run.epoch}
    started = time.perf_counter()
    result.update(run.family.evaluate(run, n=n, test_data=test_data, k=k, seed=seed))
    result["seconds"] = round(time.perf_counter() - started, 1)
    return result


def scores_for_log(run, n=1000, test_data=None, seed=0):
    """The model's figures as one flat dict, for a training log every K epochs (no IWAE: k=0).

    Image models: fid, classifier_score, rarest_class (and label_accuracy); VAEs also elbo_loss;
    toy sets: modes_covered, high_quality_fraction. Uses its own random generators, so training's
    random stream (and an exact resume) is untouched.
    """
    result = evaluate_run(run, n=n, test_data=test_data, k=0, seed=seed)
    flat = {}
    for section in ("images", "toy", "vae", "rnn", "reconstruction", "nerf", "segmentation"):
        flat.update(result.get(section, {}).get("model", {}))
    if "restoration" in result:   # pix2pix's restored digits
        flat.update({f"restored_{key}": value for key, value in result["restoration"]["restored"].items()})
    return {key: value for key, value in flat.items() if key not in ("n", "n_modes")}
