"""`tinygan eval RUN_OR_CHECKPOINT`: the metrics that fit a trained model, beside what real data scores.

    tinygan eval runs/dcgan-...                     # FID, classifier score, rarest class
    tinygan eval runs/cgan-... --download           # + label accuracy, on the official test set
    tinygan eval runs/vae-... --k 50                 # test loss (-ELBO) and -IWAE with K=50
    tinygan eval runs/gan-ring8-...                  # modes covered, high-quality samples

Images are compared with a reference set: the official MNIST test set with --download (fetched once
into the cache) or --test-data FOLDER (a folder of its t10k files), else the embedded digits 400-499
of each class (1,000 images that the model, and the classifier, may have trained on; the output
says which). Each score is
printed beside its real-data floor: the same score for real training digits (what a perfect
model would get with the same number of samples).
"""
import functools
import json
import os
import time
from dataclasses import dataclass, field

import numpy as np

from . import backend, registry, viz
from .autograd import Tensor, no_grad
from .evaluation import metrics
from .evaluation.classifier import classify
from .data import HELD_OUT_PER_CLASS, default_cache_dir, embedded_split, load_embedded_mnist, load_mnist
from .data.idx import DataError

EMBEDDED_REFERENCE = "embedded digits 400-499 of each class"
OFFICIAL_INSTEAD = ("--download (needs the network once) or --test-data FOLDER (its t10k files) uses the official "
                    "MNIST test set instead")
TOY_SAMPLES = 2500
MAX_EVAL_SAMPLES = 100_000   # generated images are kept on the host: 100,000 of them take 300 MB
MAX_IWAE_K = 5_000
DEFAULT_IWAE_K = 50


@dataclass
class Reference:
    """Real digits to compare with: a reference (test) set and a training set, and their classifier outputs."""

    description: str
    images: np.ndarray            # uint8 (N, 28, 28): the reference (test) digits
    labels: np.ndarray
    train_images: np.ndarray      # uint8: real training digits, for the floors
    train_labels: np.ndarray
    _cache: dict = field(default_factory=dict, repr=False)

    def outputs(self, which):
        """(probs, features) of the reference ('test') or training ('train') images, computed once."""
        if which not in self._cache:
            self._cache[which] = classify(self.images if which == "test" else self.train_images)
        return self._cache[which]


def embedded_reference(count):
    """How a report names the fallback reference, and how to use the official test set instead."""
    return (f"{EMBEDDED_REFERENCE} ({count:,} images, which the model and the classifier may have trained on; "
            f"{OFFICIAL_INSTEAD})")


@functools.lru_cache(maxsize=4)
def load_reference(test_data=None, n=5000, seed=0):
    """The reference set: the official test set in `test_data`, else the embedded digits 400-499 of each class.

    The training floor uses up to `n` real training digits (a seeded random choice of the embedded ones).
    Cached, with the classifier's outputs, so evaluating many runs classifies the real digits once.
    """
    if test_data:
        images, labels = load_mnist("test", folder=test_data)
        train_images, train_labels = load_embedded_mnist()
        description = f"official MNIST test set ({len(images)} images in {test_data})"
    else:
        (train_images, train_labels), (images, labels) = embedded_split()
        description = embedded_reference(len(images))
    choice = np.random.default_rng(seed).permutation(len(train_images))[:n]
    return Reference(description, images, labels, train_images[choice], train_labels[choice])


# -- sampling ----------------------------------------------------------------------------------

def _sample_batches(run, count, rng, label=None, batch_size=500):
    """count samples in batches, z ~ N(0, I) drawn from `rng` on the host; each batch as a host array."""
    for start in range(0, count, batch_size):
        size = min(batch_size, count - start)
        z = rng.standard_normal((size, run.config["latent_dim"])).astype(backend.get_default_dtype())
        z = Tensor(backend.to_device(z, backend.current_device()))
        yield backend.to_numpy(run.sample(size, label=label, z=z).data)


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


# -- metrics per kind of model -----------------------------------------------------------------

def image_scores(probs, features, reference, requested=None):
    """FID against the reference, classifier score, rarest class (and label accuracy) of classified images."""
    _, test_features = reference.outputs("test")
    scores = {
        "fid": metrics.frechet_distance_from_features(features, test_features),
        "classifier_score": metrics.classifier_score(probs),
        "rarest_class": metrics.rarest_class_fraction(probs),
    }
    if requested is not None:
        scores["label_accuracy"] = metrics.label_accuracy(probs, requested)
    return scores


def image_floors(reference, conditional=False):
    """The same scores for real digits: training digits vs the reference; label accuracy on the reference."""
    probs, features = reference.outputs("train")
    floors = image_scores(probs, features, reference)
    if conditional:
        test_probs, _ = reference.outputs("test")
        floors["label_accuracy"] = metrics.label_accuracy(test_probs, reference.labels)
    return floors


def evaluate_images(run, reference, n=5000, seed=0):
    """{"model": scores, "floor": scores} for an image generator (GAN, cGAN, or a VAE's decoder)."""
    samples, requested = generate(run, n, seed)
    probs, features = classify(samples, value_range=registry.model_of(run.config).value_range)
    return {"model": image_scores(probs, features, reference, requested),
            "floor": image_floors(reference, conditional=requested is not None)}


def evaluate_toy(run, n=TOY_SAMPLES, seed=0):
    """Modes covered and high-quality fraction of n generated points, and of n real ones (the floor)."""
    distribution = registry.load_dataset(run.config["data"])
    if not hasattr(distribution, "modes"):
        return {}
    points, _ = generate(run, n, seed)
    real = distribution.sample(n, np.random.default_rng([seed, 1]))
    return {"model": metrics.mode_metrics(points, distribution.modes, distribution.std),
            "floor": metrics.mode_metrics(real, distribution.modes, distribution.std)}


def evaluate_vae(run, images, k=50, seed=0):
    """Test loss (negative ELBO, one z) and negative IWAE bound with K samples, per image, on test `images`."""
    return {"model": metrics.vae_test_losses(run.nets["vae"], images, k=k, seed=seed)}


def evaluate_rnn(run, images, batch_size=500):
    """Test negative log-likelihood in nats per image of binarised uint8 `images` (N, 28, 28) (exact, no bound)."""
    model = run.nets["rnn"]
    model.eval()
    total = 0.0
    with no_grad():
        for start in range(0, len(images), batch_size):
            chunk = images[start:start + batch_size]
            binary = (chunk.astype(np.float64) / 255 >= 0.5).astype(backend.get_default_dtype())
            x = Tensor(backend.to_device(binary.reshape(-1, 1, 28, 28), backend.current_device()))
            total += model.nll(x).item() * len(chunk)
    return {"model": {"test_nll": total / len(images), "n": len(images)}}


def reconstruct(run, images, batch_size=500):
    """The mean reconstructions (z = mu) of uint8 images (N, [C,] H, W), as floats on [0, 1] of shape (N, C, H, W).

    A VAE decodes Bernoulli logits (sigmoid); the VAE-GAN's decoder is a generator on [-1, 1] (tanh).
    """
    from .train.run import check_channels
    check_channels(run.config, images, "the images to reconstruct")
    sample_shape = registry.dataset_of(run.config).sample_shape
    pixels = images.reshape((len(images),) + sample_shape).astype(backend.get_default_dtype()) / 255.0
    for net in run.nets.values():
        net.eval()
    out = []
    with no_grad():
        for start in range(0, len(pixels), batch_size):
            chunk = pixels[start:start + batch_size]
            if registry.model_of(run.config).is_vae:
                vae = run.nets["vae"]
                x = Tensor(backend.to_device(chunk.reshape(len(chunk), -1), backend.current_device()))
                mean = vae.decode(vae.encode(x)[0]).sigmoid()
            else:
                x = Tensor(backend.to_device(chunk * 2 - 1, backend.current_device()))
                mean = (run.nets["G"](run.nets["E"](x)[0]) + 1) * 0.5
            out.append(backend.to_numpy(mean.data).reshape(chunk.shape))
    return np.concatenate(out)


def evaluate_reconstruction(run, images):
    """{"model": {"mse": ...}}: the mean squared pixel error on [0, 1] of the mean reconstructions of `images`."""
    target = images.reshape(len(images), -1).astype(np.float64) / 255.0
    error = reconstruct(run, images).reshape(len(images), -1) - target
    return {"model": {"mse": float(np.mean(error ** 2))}}


def evaluate_run(run, n=None, test_data=None, k=50, seed=0):
    """Every metric that fits the run's model, as a JSON-able dict."""
    config = run.config
    result = {"model": config["model"], "data": config["data"], "epoch": run.epoch}
    started = time.perf_counter()
    model, dataset = registry.model_of(config), registry.dataset_of(config)
    if model.family == "nerf":
        result.update(evaluate_nerf(run))
    elif model.family == "pix2pix":   # restorations of damaged test digits, not samples
        result.update(evaluate_pix2pix(run, test_data))
    elif model.family == "segmentation":
        result.update(evaluate_segmentation_run(run, n, test_data))
    elif dataset.is_toy:
        result["n"] = n or TOY_SAMPLES
        result["toy"] = evaluate_toy(run, result["n"], seed)
        if not result["toy"]:
            result["note"] = f"{config['data']} has no modes to count; no metrics for it"
    elif dataset.channels != 1:
        result["note"] = (f"the shipped digit classifier (FID, classifier score, rarest class) applies only to "
                          f"1-channel digits; this run's images ({config['data']!r}) have {dataset.channels} "
                          f"channels, so it does not score them")
    elif not dataset.digits:
        result["note"] = (f"the metrics use an MNIST digit classifier; this run was trained on {config['data']!r}, "
                          f"so they would mean nothing here")
        if model.is_vae and test_data:
            images, _ = load_mnist("test", folder=test_data, kind=config["data"])
            result["reference"] = f"{config['data']} test set in {test_data}"
            result["vae"] = evaluate_vae(run, images, k, seed)
        if model.family == "rnn" and test_data:
            images, _ = load_mnist("test", folder=test_data, kind=config["data"])
            result["reference"] = f"{config['data']} test set in {test_data}"
            result["rnn"] = evaluate_rnn(run, images)
    else:
        n = n or 5000
        reference = load_reference(str(test_data) if test_data else None, n, seed)
        result.update(n=n, reference=reference.description, floor_n=len(reference.train_images))
        result["images"] = evaluate_images(run, reference, n, seed)
        if model.is_vae:
            result["vae"] = evaluate_vae(run, reference.images, k, seed)
        if model.family == "rnn":
            result["rnn"] = evaluate_rnn(run, reference.images)
        if model.is_vae or model.family == "vaegan":
            result["reconstruction"] = evaluate_reconstruction(run, reference.images)
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


# -- printing --------------------------------------------------------------------------------

ROWS = [
    # (section, key, label, format)
    ("images", "fid", "FID (classifier features; lower is better)", "{:.2f}"),
    ("images", "classifier_score", "classifier score (1..10, higher is better)", "{:.2f}"),
    ("images", "rarest_class", "rarest class (fraction of samples; 0.10 is even)", "{:.3f}"),
    ("images", "label_accuracy", "label accuracy (classifier agrees with the requested digit)", "{:.3f}"),
    ("toy", "modes_covered", "modes covered", "{}"),
    ("toy", "high_quality_fraction", "high-quality samples (within 3 std of a mode)", "{:.1%}"),
    ("vae", "elbo_loss", "test loss: -ELBO per image (nats, one z)", "{:.2f}"),
    ("vae", "iwae_loss", "-IWAE bound per image (nats, K={k})", "{:.2f}"),
    ("rnn", "test_nll", "test NLL per image (nats, binarised digits)", "{:.2f}"),
    ("reconstruction", "mse", "reconstruction error of the reference images (pixel MSE on [0, 1])", "{:.4f}"),
    ("nerf", "test_psnr", "test PSNR over the held-out views (dB; higher is better)", "{:.2f}"),
    ("nerf", "test_mae", "test mean absolute error (pixels on [0, 1])", "{:.4f}"),
]


def format_report(result):
    """The evaluation as aligned text: metric, model, real-data floor."""
    lines = [f"{result['model']} on {result['data']}, epoch {result['epoch']}"]
    if "reference" in result:
        lines.append(f"reference: {result['reference']}")
    if "n" in result:
        floor = f"; real-data column: {result['floor_n']} training digits" if "floor_n" in result else ""
        lines.append(f"samples: {result['n']} (generator in eval mode){floor}")
    if "note" in result:
        lines.append(f"note: {result['note']}")
    table = []
    for section, key, label, fmt in ROWS:
        part = result.get(section) or {}
        if key not in part.get("model", {}):
            continue
        value = part["model"][key]
        if section == "toy" and key == "modes_covered":
            value = f"{value}/{part['model']['n_modes']}"
        floor = part.get("floor", {}).get(key)
        if section == "toy" and key == "modes_covered" and floor is not None:
            floor = f"{floor}/{part['floor']['n_modes']}"
        label = label.format(k=part["model"].get("k"))
        table.append((label, fmt.format(value), "" if floor is None else fmt.format(floor)))
    if table:
        width = max(len(row[0]) for row in table)
        lines.append(f"{'metric':<{width}}  {'model':>9}  {'real data':>9}")
        lines += [f"{label:<{width}}  {value:>9}  {floor:>9}" for label, value, floor in table]
    if "restoration" in result:
        lines += [f"task: {result['task']}, fixed test damage (seed 1234)"] + format_restoration(result["restoration"])
        lines.append(f"picture: {result['picture']}")
    lines.append(f"({result['seconds']} s)")
    return "\n".join(lines)


def format_restoration(scores):
    """The scores of `restoration_scores` as report lines: one column each for restored, damaged and original."""
    rows = [("L1 over the damaged region (pixels on [0, 1]; lower is better)", "l1", "{:.4f}"),
            ("PSNR over the damaged region (dB; higher is better)", "psnr", "{:.2f}"),
            ("classifier accuracy (shipped digit classifier)", "accuracy", "{:.4f}")]
    width = max(len(label) for label, _, _ in rows)
    lines = [f"{'metric':<{width}}  {'restored':>9}  {'damaged':>9}  {'original':>9}"]
    for label, key, fmt in rows:
        cells = [fmt.format(scores[column][key]) if key in scores[column] else "" for column in
                 ("restored", "damaged", "original")]
        lines.append(f"{label:<{width}}  " + "  ".join(f"{cell:>9}" for cell in cells))
    return lines


def add_eval_parser(subparsers, parents=()):
    """Add the `eval` command to an argparse subparsers object; returns its parser."""
    parser = subparsers.add_parser("eval", parents=list(parents), help="measure a trained model (FID, score, modes, ELBO/IWAE)",
                                   description="Measure a trained model: the metrics that fit it, beside the "
                                               "same metrics for real digits.")
    parser.add_argument("run", metavar="RUN_OR_CHECKPOINT")
    parser.add_argument("--n", type=int, help=f"samples to generate (default: 5,000 images, {TOY_SAMPLES:,} toy "
                                              f"points); unet: test scenes to score (default: all 2,000)")
    parser.add_argument("--test-data", metavar="FOLDER",
                        help=f"folder with the official MNIST t10k files (default: the {EMBEDDED_REFERENCE}, "
                             f"{HELD_OUT_PER_CLASS * 10:,} images the model may have trained on)")
    parser.add_argument("--download", action="store_true",
                        help="fetch the official test set into the cache ($TINYGAN_CACHE, default ~/.cache/tinygan), "
                             "md5-checked, and use it (needs the network once)")
    parser.add_argument("--k", type=int,
                        help=f"importance samples of the IWAE bound (VAEs; default: {DEFAULT_IWAE_K})")
    parser.add_argument("--seed", type=int, help="seed of the noise and of the VAE's samples (default: 0)")
    parser.add_argument("--json", metavar="FILE", help="also write the figures to FILE as JSON")
    return parser


def download_test_set(data):
    """The official test set of a run's dataset kind (mnist for the embedded digits), in the cache: its folder.

    Files already there are used as they are; missing ones are downloaded and kept only if their md5 matches.
    """
    kind = data if data in ("mnist", "fashion", "kmnist") else "mnist"
    folder = default_cache_dir() / kind
    print(f"official {kind} test set: {folder}")
    load_mnist("test", folder=folder, kind=kind, download=True)
    return str(folder)


def check_eval_options(args):
    """DataError naming --n or --k when it is outside what can be computed."""
    if args.n is not None and not 2 <= args.n <= MAX_EVAL_SAMPLES:
        raise DataError(f"--n must be between 2 (a covariance needs two samples) and {MAX_EVAL_SAMPLES:,}, "
                        f"got {args.n}")
    if args.k is not None and not 0 <= args.k <= MAX_IWAE_K:
        raise DataError(f"--k must be between 0 and {MAX_IWAE_K:,}, got {args.k}")


def run_eval(args, run=None):
    """The `tinygan eval` command: load the run (unless given), evaluate, print the report (and write JSON)."""
    from .train.run import Run
    check_eval_options(args)
    if run is None:
        run = Run.from_checkpoint(args.run)
    test_data = args.test_data
    if getattr(args, "download", False) and not test_data:
        test_data = download_test_set(run.config["data"])
    k = DEFAULT_IWAE_K if args.k is None else args.k
    seed = 0 if args.seed is None else args.seed
    result = evaluate_run(run, n=args.n, test_data=test_data, k=k, seed=seed)
    result["run"] = str(args.run)
    print(format_report(result))
    if "segmentation" in result:
        print(format_segmentation(result))
    if args.json:
        with open(args.json, "w") as file:
            json.dump(result, file, indent=2)
    return result


# -- a NeRF's held-out views -------------------------------------------------------------------------

def evaluate_nerf(run):
    """{"nerf": {"model": scores, "floor": the mean-colour baseline's}} over the 8 held-out views, and a note."""
    from .train.nerf import mean_colour_baseline, test_scores
    views = run.data
    return {"reference": f"the {len(views.test)} held-out views of {run.config['data']} (never trained on)",
            "note": "the 'real data' column holds the trivial baseline: every pixel the mean training colour",
            "nerf": {"model": dict(test_scores(run), n=len(views.test)), "floor": mean_colour_baseline(views)}}
# -- pix2pix ----------------------------------------------------------------------------------------

def evaluate_pix2pix(run, test_data=None):
    """The restoration scores of a pix2pix run on test digits under the fixed damage (seed 1234) of its task,
    and a picture of 30 of them, three of each digit (damaged | restored | original), beside its checkpoint:
    eval_restorations.png."""
    import os
    from .evaluation.restoration import evaluate_restoration
    from .train.pix2pix import save_restorations
    if test_data:
        images, labels = load_mnist("test", folder=test_data)
        description = f"official MNIST test set ({len(images)} images in {test_data})"
    else:
        _, (images, labels) = embedded_split()
        description = embedded_reference(len(images))
    scores, (damaged, restored, mask) = evaluate_restoration(run.nets["G"], images, labels, run.config["task"])
    picture = os.path.join(run.folder, "eval_restorations.png")
    shown = viz.each_class_in_turn(labels, 3)
    save_restorations(damaged[shown], restored[shown], images[shown], picture, per_row=10, mask=mask[shown],
                      title=f"{run.config['task']}, test digits, fixed damage")
    return {"reference": description, "test_images": len(images), "task": run.config["task"], "restoration": scores,
            "picture": picture}
# -- segmentation of scenes of digits -----------------------------------------------------------------

def evaluation_scenes(test_data=None):
    """(scenes, label maps, description): the 2,000 test scenes of the official test digits in `test_data`, else
    2,000 scenes drawn the same way (default_rng(1234)) from the embedded digits 400-499 of each class."""
    from .data.scenes import TEST_SCENES, TEST_SEED, make_scenes, official_test_scenes
    if test_data:
        scenes, maps = official_test_scenes(test_data)
        return scenes, maps, f"test scenes of the official MNIST test digits in {test_data}"
    _, (images, labels) = embedded_split()
    scenes, maps = make_scenes(images, labels, TEST_SCENES, np.random.default_rng(TEST_SEED))
    return scenes, maps, (f"{TEST_SCENES:,} scenes of the {EMBEDDED_REFERENCE} (which the model may have seen in "
                          f"its training scenes; {OFFICIAL_INSTEAD})")


def evaluate_segmentation_run(run, n=None, test_data=None):
    """Pixel accuracy, mIoU (11 classes and the 10 digits), per-class IoU of the U-Net in eval mode on the first
    n (default all 2,000) evaluation scenes, and a picture of the first 6 in the run's folder."""
    from .evaluation.segmentation import CLASS_NAMES, evaluate_segmentation
    from .train.segmentation import save_label_maps
    scenes, maps, description = evaluation_scenes(test_data)
    n = n or len(scenes)
    if not 1 <= n <= len(scenes):
        raise DataError(f"--n for a segmentation model is the number of test scenes, 1 to {len(scenes)}; got {n}")
    scenes, maps = scenes[:n], maps[:n]
    scores, predicted = evaluate_segmentation(run.nets["unet"], scenes, maps)
    per_class = {f"iou_{name}": value for name, value in zip(CLASS_NAMES, scores["iou"]) if value is not None}
    picture = os.path.join(run.folder, "segmentation_eval.png")
    save_label_maps(scenes[:6], maps[:6], predicted[:6], picture, title=f"test scenes, epoch {run.epoch}")
    return {"reference": description, "scenes": n, "picture": picture,
            "segmentation": {"model": {key: scores[key] for key in ("pixel_accuracy", "miou", "miou_digits")},
                             "iou": scores["iou"], "per_class": per_class}}


ROWS += [("segmentation", "pixel_accuracy", "pixel accuracy", "{:.4f}"),
         ("segmentation", "miou", "mIoU over the 11 classes", "{:.4f}"),
         ("segmentation", "miou_digits", "mIoU over the 10 digit classes", "{:.4f}")]


def format_segmentation(result):
    """The per-class IoU table and the picture's path of a segmentation evaluation (empty for other models)."""
    part = result.get("segmentation")
    if not part:
        return ""
    from .evaluation.segmentation import CLASS_NAMES
    lines = [f"test scenes: {result['scenes']} (model in eval mode)", "per-class IoU:"]
    lines += [f"  {name:<10}  " + ("absent" if value is None else f"{value:.4f}")
              for name, value in zip(CLASS_NAMES, part["iou"])]
    lines.append(f"picture of scenes, true and predicted label maps: {result['picture']}")
    return "\n".join(lines)
