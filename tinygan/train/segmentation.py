"""Segmentation of scenes of digits: the pictures of label maps.

    save_label_maps(scenes, true, predicted, path)      # scene | true | predicted, in a colour map with a legend
    scene_and_map_grid(scenes, label_maps)              # each scene beside its label map, for one image grid
"""
import numpy as np

from .. import viz
from ..evaluation.segmentation import CLASS_NAMES

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
