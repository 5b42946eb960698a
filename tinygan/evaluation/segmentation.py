"""Segmentation: the pixelwise loss, the scores, and the picture of label maps.

    loss = pixelwise_cross_entropy(logits, labels)     # logits (N, C, H, W), labels (N, H, W) -> mean over pixels
    counts = confusion_matrix(true, predicted, 11)      # counts[t, p]: pixels of class t predicted as p
    segmentation_scores(counts)                         # pixel accuracy, per-class IoU, mIoU (all; digits only)
    save_label_maps(scenes, true, predicted, path)      # scene | true | predicted, in a colour map with a legend

Scores are computed on the host from integer counts, so they are exact and the same on every backend.
"""
import numpy as np

from . import backend, viz
from . import functional as F
from .autograd import no_grad
from .data.scenes import BACKGROUND, NUM_CLASSES, scene_batch

# One colour per class: the ten digits in matplotlib's "tab10" order, the background black.
CLASS_COLOURS = np.array([
    (0.122, 0.467, 0.706), (1.000, 0.498, 0.055), (0.173, 0.627, 0.173), (0.839, 0.153, 0.157),
    (0.580, 0.404, 0.741), (0.549, 0.337, 0.294), (0.890, 0.467, 0.761), (0.498, 0.498, 0.498),
    (0.737, 0.741, 0.133), (0.090, 0.745, 0.812), (0.0, 0.0, 0.0),
])
CLASS_NAMES = [str(d) for d in range(10)] + ["background"]


def pixelwise_cross_entropy(logits, labels):
    """Softmax cross-entropy of every pixel, averaged over all N*H*W pixels:

        L = -1/(N H W) sum_{n,i,j} log softmax(logits[n, :, i, j])[labels[n, i, j]]
    """
    return F.cross_entropy(logits, labels)  # [formula: pixelwise-cross-entropy]


def confusion_matrix(true, predicted, num_classes=NUM_CLASSES):
    """counts (num_classes, num_classes) int64: counts[t, p] = pixels whose class is t and prediction p."""
    true, predicted = np.asarray(true).ravel().astype(np.int64), np.asarray(predicted).ravel().astype(np.int64)
    if true.shape != predicted.shape:
        raise ValueError(f"confusion_matrix: {true.size} true labels but {predicted.size} predictions")
    for name, values in (("true", true), ("predicted", predicted)):
        if values.size and (values.min() < 0 or values.max() >= num_classes):
            raise ValueError(f"confusion_matrix: {name} labels must be classes 0..{num_classes - 1}, "
                             f"found {values.min()}..{values.max()}")
    return np.bincount(true * num_classes + predicted, minlength=num_classes ** 2).reshape(num_classes, num_classes)


def class_iou(counts):
    """IoU of each class from a confusion matrix: TP / (TP + FP + FN), NaN for a class absent from both maps."""
    counts = np.asarray(counts, dtype=np.float64)
    true_positive = np.diag(counts)
    union = counts.sum(axis=1) + counts.sum(axis=0) - true_positive
    with np.errstate(invalid="ignore", divide="ignore"):
        return true_positive / union  # [formula: iou]


def segmentation_scores(counts, background=BACKGROUND):
    """Pixel accuracy, per-class IoU, mIoU over all classes and over the classes other than `background`.

    A mean skips the classes absent from both the true and the predicted maps (their IoU is undefined).
    """
    counts = np.asarray(counts)
    iou = class_iou(counts)
    digits = [c for c in range(len(counts)) if c != background]
    return {"pixel_accuracy": float(np.trace(counts) / counts.sum()),
            "miou": float(np.nanmean(iou)),
            "miou_digits": float(np.nanmean(iou[digits])),
            "iou": [None if np.isnan(v) else float(v) for v in iou]}


def predict(model, scenes, batch_size=100):
    """Predicted label maps uint8 (N, 64, 64) of uint8 scenes (N, 64, 64), the model in eval mode."""
    model.eval()
    maps = []
    with no_grad():
        for start in range(0, len(scenes), batch_size):
            chunk = scenes[start:start + batch_size]
            x, _ = scene_batch(chunk, np.zeros(chunk.shape, np.uint8))
            logits = model(x).data
            maps.append(backend.to_numpy(logits.argmax(axis=1)).astype(np.uint8))
    return np.concatenate(maps)


def evaluate_segmentation(model, scenes, label_maps, batch_size=100):
    """The scores of `model` on scenes with their true label maps, and its predicted maps."""
    predicted = predict(model, scenes, batch_size)
    return segmentation_scores(confusion_matrix(label_maps, predicted)), predicted


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
