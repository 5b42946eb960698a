"""How well a segmentation model labels scenes of digits: its predicted label maps and their scores.

    counts = confusion_matrix(true, predicted, 11)      # counts[t, p]: pixels of class t predicted as p
    segmentation_scores(counts)                         # pixel accuracy, per-class IoU, mIoU (all; digits only)
    scores, predicted = evaluate_segmentation(model, scenes, label_maps)

Scores are computed on the host from integer counts, so they are exact and the same on every backend.
"""
import numpy as np

from .. import backend
from ..autograd import no_grad
from ..data.scenes import BACKGROUND, NUM_CLASSES, scene_batch

CLASS_NAMES = [str(d) for d in range(10)] + ["background"]


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
            logits = model(x).array
            maps.append(backend.to_numpy(logits.argmax(axis=1)).astype(np.uint8))
    return np.concatenate(maps)


def evaluate_segmentation(model, scenes, label_maps, batch_size=100):
    """The scores of `model` on scenes with their true label maps, and its predicted maps."""
    predicted = predict(model, scenes, batch_size)
    return segmentation_scores(confusion_matrix(label_maps, predicted)), predicted
