"""The judges, below training: they take networks, images and arrays, never a run.

    metrics         Fréchet distance, classifier score, mode coverage, ELBO/IWAE bounds, PSNR
    classifier      the shipped digit classifier whose outputs and features the image metrics use
    reference       the real digits generated ones are compared with, and the classifier's scores of images
    segmentation    predicted label maps of scenes of digits and their scores (pixel accuracy, IoU)
    restoration     a pix2pix generator's restorations of damaged digits and their scores
    captions        whether generated colour digits show their captions (background, digit, foreground), shape FID
"""
from . import captions, classifier, metrics, reference, restoration, segmentation

__all__ = ["captions", "classifier", "metrics", "reference", "restoration", "segmentation"]
