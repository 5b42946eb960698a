"""How the U-Net learns to segment scenes of digits (unet): a class for every pixel, ten digits and the background.

    step = SegmentationStep(model, optimizer)
    figures = step(scenes, label_maps)     # {"loss": the pixelwise cross-entropy}
    maps = segment(run, scenes)            # predicted label maps of uint8 scenes

A run of this family (SegmentationFamily) trains on 5,000 fresh scenes every epoch (tinygan/data/scenes.py),
draws six fixed scenes with their true and predicted label maps each epoch, and is judged by pixel accuracy and
IoU on test scenes (tinygan/evaluation/segmentation.py). It draws nothing from noise.

    save_label_maps(scenes, true, predicted, path)      # scene | true | predicted, in a colour map with a legend
    scene_and_map_grid(scenes, label_maps)              # each scene beside its label map, for one image grid
"""
import os

import numpy as np

from .. import registry, viz
from ..data import embedded_split
from ..data.idx import DataError
from ..data.scenes import TEST_SCENES, TEST_SEED, SceneLoader, make_scenes, official_test_scenes
from ..evaluation.reference import EMBEDDED_REFERENCE, OFFICIAL_INSTEAD
from ..evaluation.segmentation import CLASS_NAMES, evaluate_segmentation, predict
from . import losses
from .checks import ConfigError
from .family import Family, check_finite, epoch_picture, save_curves


class SegmentationStep:
    """One step of per-pixel classification: logits = model(x), the pixelwise cross-entropy, Adam."""

    def __init__(self, model, optimizer):
        self.model, self.optimizer = model, optimizer
        self.steps = 0

    def __call__(self, x, labels):
        loss = losses.pixelwise_cross_entropy(self.model(x), labels)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        self.steps += 1
        value = loss.item()
        check_finite("pixelwise cross-entropy", value, self.steps)
        return {"loss": value}


class SegmentationFamily(Family):
    """One network 'unet': one logit per class and pixel."""

    title = "the segmentation model 'unet'"
    own_data = ("scenes", "scenes of digits with a label per pixel")
    draws_from_code = False
    scored_at_random = False   # scored on the fixed evaluation scenes

    def check_settings(self, config):
        """The scenes and nothing else; they are drawn fresh, so --limit has no meaning."""
        if registry.dataset_of(config).kind != "scenes":
            raise ConfigError(f"{config['model']!r} segments scenes of digits: train it with --data scenes, "
                              f"not {config['data']!r}")
        if config.get("limit") is not None:
            raise ConfigError("--limit keeps part of a fixed image set; the scenes are drawn fresh every epoch "
                              "(5,000 each), so it does not apply to them")

    def make_step(self, run):
        return SegmentationStep(run.nets["unet"], run.optimizers["unet"])

    def load_data(self, run):
        """Fresh scenes every epoch, drawn from (seed + epoch)."""
        return SceneLoader(batch_size=run.config["batch_size"], seed=run.config["seed"])

    def sample(self, run, n, label, z):
        raise ConfigError(f"{run.config['model']!r} maps scenes to label maps and draws no samples; "
                          f"segment(run, scenes) of tinygan/train/segmentation.py labels scenes (tinygan sample "
                          f"draws scenes and their maps)")

    def save_figures(self, run):
        """Six fixed scenes with their true and predicted label maps; then the curves."""
        scenes, true = fixed_scenes(run)
        save_label_maps(scenes, true, segment(run, scenes), epoch_picture(run), title=f"epoch {run.epoch}")
        save_curves(run)

    def network_inputs(self, run):
        return {"unet": ((2,) + registry.dataset_of(run.config).sample_shape,)}

    def draw(self, run, n, label, seed, path):
        """`tinygan sample`: n fresh scenes of embedded digits (default_rng(seed)), each beside its predicted map."""
        images, labels = run.data.digits
        scenes, _ = make_scenes(images, labels, n, np.random.default_rng(seed))
        viz.save_image_grid(scene_and_map_grid(scenes, segment(run, scenes)), path, value_range=(0, 1),
                            title="scene | predicted labels (black: background)")
        return f"{n} scenes of embedded digits (seed {seed}), each beside its predicted label map"

    def evaluate(self, run, n=None, test_data=None, k=50, seed=0):
        """Pixel accuracy, mIoU (11 classes and the 10 digits), per-class IoU of the U-Net in eval mode on the first
        n (default all 2,000) evaluation scenes, and a picture of the first 6 in the run's folder."""
        scenes, maps, description = evaluation_scenes(test_data)
        n = n or len(scenes)
        if not 1 <= n <= len(scenes):
            raise DataError(f"--n for a segmentation model is the number of test scenes, 1 to {len(scenes)}; "
                            f"got {n}")
        scenes, maps = scenes[:n], maps[:n]
        scores, predicted = evaluate_segmentation(run.nets["unet"], scenes, maps)
        per_class = {f"iou_{name}": value for name, value in zip(CLASS_NAMES, scores["iou"]) if value is not None}
        picture = os.path.join(run.folder, "segmentation_eval.png")
        save_label_maps(scenes[:6], maps[:6], predicted[:6], picture, title=f"test scenes, epoch {run.epoch}")
        return {"reference": description, "scenes": n, "picture": picture,
                "segmentation": {"model": {key: scores[key] for key in ("pixel_accuracy", "miou", "miou_digits")},
                                 "iou": scores["iou"], "per_class": per_class}}


def segment(run, scenes):
    """Predicted label maps uint8 (N, 64, 64) of uint8 scenes (N, 64, 64), the U-Net in eval mode."""
    return predict(run.nets["unet"], scenes)


def fixed_scenes(run, n=6):
    """The same n scenes every epoch: from the embedded digits with their own generator."""
    images, labels = run.data.digits
    return make_scenes(images, labels, n, np.random.default_rng([run.config["seed"], 12345]))


def evaluation_scenes(test_data=None):
    """(scenes, label maps, description): the 2,000 test scenes of the official test digits in `test_data`, else
    2,000 scenes drawn the same way (default_rng(1234)) from the embedded digits 400-499 of each class."""
    if test_data:
        scenes, maps = official_test_scenes(test_data)
        return scenes, maps, f"test scenes of the official MNIST test digits in {test_data}"
    _, (images, labels) = embedded_split()
    scenes, maps = make_scenes(images, labels, TEST_SCENES, np.random.default_rng(TEST_SEED))
    return scenes, maps, (f"{TEST_SCENES:,} scenes of the {EMBEDDED_REFERENCE} (which the model may have seen in "
                          f"its training scenes; {OFFICIAL_INSTEAD})")


# -- pictures of label maps --------------------------------------------------------------------------------

# One colour per class: the ten digits in matplotlib's "tab10" order, the background black.
CLASS_COLOURS = np.array([
    (0.122, 0.467, 0.706), (1.000, 0.498, 0.055), (0.173, 0.627, 0.173), (0.839, 0.153, 0.157),
    (0.580, 0.404, 0.741), (0.549, 0.337, 0.294), (0.890, 0.467, 0.761), (0.498, 0.498, 0.498),
    (0.737, 0.741, 0.133), (0.090, 0.745, 0.812), (0.0, 0.0, 0.0),
])


def colour_labels(label_maps):
    """Label maps (..., H, W) of classes 0..10 as RGB images (..., H, W, 3) on [0, 1]."""
    return CLASS_COLOURS[np.asarray(label_maps, dtype=np.int64)]


def save_label_maps(scenes, true, predicted, path, title=None):
    """A picture: one row per scene, columns scene | true labels | predicted labels, with the colour legend."""
    viz.save_label_maps(np.asarray(scenes) / 255.0, colour_labels(true), colour_labels(predicted), path,
                        legend=list(zip(CLASS_COLOURS, CLASS_NAMES)), title=title)


def scene_and_map_grid(scenes, label_maps):
    """Each scene beside its label map, as RGB images (2N, 3, 64, 64) on [0, 1] for viz.save_image_grid."""
    grey = np.repeat((np.asarray(scenes, np.float32) / 255)[:, None], 3, axis=1)
    maps = colour_labels(label_maps).transpose(0, 3, 1, 2).astype(np.float32)
    return np.stack([grey, maps], axis=1).reshape((2 * len(grey),) + grey.shape[1:])
