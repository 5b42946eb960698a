"""How pix2pix trains (Isola et al., 2017, section 3.1 and 3.3): restoring damaged digits, the objective and one
step of it.

    G* = arg min_G max_D  L_cGAN(G, D) + lambda L_L1(G)
    L_cGAN(G, D) = E_{x,y}[log D(x, y)] + E_x[log(1 - D(x, G(x)))]       (x: damaged input, y: original)
    L_L1(G)      = E_{x,y}[ |y - G(x)| ]                                    (mean over pixels)

D outputs a map of logits, one per patch (PatchGAN); every BCE of the losses (pix2pix_discriminator_loss and
pix2pix_generator_loss in train/losses.py) is the mean over the map and the batch. As in the paper (and its
code): G minimises the non-saturating form -log D(x, G(x)) rather than log(1 - D(x, G(x))), lambda = 100, and
D's loss is halved "to slow down the rate at which D learns relative to G" (section 6.2). gan_weight = 0 trains
G on L1 alone: the baseline of the lesson and the quality table (D is then not trained at all, since nothing
uses it).

A run of this family (Pix2PixFamily) trains on (damaged, original) pairs of an image set, damaged afresh each
epoch; it draws restorations of two of each digit under the fixed test damage each epoch, and is judged on
test digits under that damage (tinygan/evaluation/restoration.py). It draws nothing from noise.
"""
import math
import os

import numpy as np

from .. import registry, viz
from .. import functional as F
from ..data import embedded_split, load_embedded_mnist, load_mnist
from ..data.damage import TASKS, PairLoader, damage, fixed_test_damage
from ..evaluation.reference import embedded_reference
from ..evaluation.restoration import evaluate_restoration, restore
from .checks import ConfigError, check_choice, check_real
from .family import Family, check_finite, epoch_picture, save_curves, set_requires_grad
from .losses import pix2pix_discriminator_loss, pix2pix_generator_loss


class Pix2PixStep:
    """One pix2pix step, in the order of the paper's code: G(x) once; D's step on (x, y) and on (x, G(x)) detached;
    then G's step through D's updated weights, frozen (requires_grad=False), on the GAN term and lambda L1.

    Detaching G(x) in D's loss is what keeps D's loss out of G's gradient; freezing D keeps G's loss out of D's.
    """

    def __init__(self, generator, discriminator, opt_g, opt_d, l1_weight=100.0, gan_weight=1.0):
        self.G, self.D, self.opt_g, self.opt_d = generator, discriminator, opt_g, opt_d
        self.l1_weight, self.gan_weight = l1_weight, gan_weight
        self.steps = 0

    def discriminator_step(self, damaged, original, restored):
        """Update D on real pairs (x, y) and fake pairs (x, G(x)), G(x) detached; returns (loss, real, fake logits)."""
        real_logits = self.D(damaged, original)
        fake_logits = self.D(damaged, restored.detach())
        loss = pix2pix_discriminator_loss(real_logits, fake_logits)
        self.opt_d.zero_grad()
        loss.backward()
        self.opt_d.step()
        return loss, real_logits, fake_logits

    def generator_step(self, damaged, original, restored):
        """Update G on gan_weight BCE(D(x, G(x)), 1) + l1_weight L1 with D frozen; returns (loss, gan, l1)."""
        set_requires_grad(self.D, False)
        try:
            fake_logits = self.D(damaged, restored) if self.gan_weight else None
            loss, gan, l1 = pix2pix_generator_loss(fake_logits, restored, original, self.l1_weight, self.gan_weight)
            self.opt_g.zero_grad()
            loss.backward()
            self.opt_g.step()
        finally:
            set_requires_grad(self.D, True)
        return loss, gan, l1

    def __call__(self, damaged, original):
        restored = self.G(damaged)                                        # (N, 1, 28, 28) on [-1, 1]
        figures = {}
        if self.gan_weight:
            d_loss, real_logits, fake_logits = self.discriminator_step(damaged, original, restored)
            figures.update(loss_d=d_loss.item(), **{"D(x,y)": float(F.sigmoid(real_logits).mean().item()),
                                                    "D(x,G(x))": float(F.sigmoid(fake_logits).mean().item())})
        g_loss, gan, l1 = self.generator_step(damaged, original, restored)
        self.steps += 1
        figures.update(loss_g=g_loss.item(), l1=l1.item())
        if gan is not None:
            figures["gan_g"] = gan.item()
        for key in ("loss_d", "loss_g"):
            if key in figures:
                check_finite(f"pix2pix {key}", figures[key], self.steps)
        return figures


class Pix2PixFamily(Family):
    """A U-Net generator 'G' and a PatchGAN discriminator 'D' of (input, output) pairs."""

    title = "pix2pix (restoring damaged digits)"
    settings = ("task", "l1_weight", "gan_weight")
    draws_from_code = False
    scored_on_draws = False    # scored on the fixed test damage of test digits
    scored_at_random = False

    def check_settings(self, config):
        """A known task, weights >= 0, and grey 28x28 digits to damage."""
        check_choice("task", config.get("task"), TASKS)
        check_real("l1_weight", config.get("l1_weight"), 0.0, math.inf, "the weight lambda of the L1 term")
        check_real("gan_weight", config.get("gan_weight"), 0.0, math.inf, "the weight of the GAN term; 0 = L1 only")
        if registry.dataset_of(config).sample_shape != (1, 28, 28):
            raise ConfigError(f"pix2pix restores grey 28x28 digits; {config['data']!r} holds images of shape "
                              f"{registry.dataset_of(config).sample_shape}")

    def make_step(self, run):
        c = run.config
        return Pix2PixStep(run.nets["G"], run.nets["D"], run.optimizers["G"], run.optimizers["D"],
                           l1_weight=c["l1_weight"], gan_weight=c["gan_weight"])

    def image_loader(self, run, images, labels):
        """(damaged, original) pairs, damaged afresh each epoch."""
        c = run.config
        return PairLoader(images, labels, task=c["task"], batch_size=c["batch_size"], seed=c["seed"])

    def sample(self, run, n, label, z):
        raise ConfigError("pix2pix restores damaged digits instead of drawing from noise: use "
                          "tinygan.evaluation.restoration.restore (save_restorations in tinygan/train/pix2pix.py "
                          "draws them), or `tinygan sample` which draws damaged | restored | original digits")

    def save_figures(self, run):
        """Two of each digit under the fixed test damage, restored; then the curves."""
        images = run.data.images[viz.each_class_in_turn(run.data.labels, 2)]
        damaged, mask = fixed_test_damage(images, run.config["task"])
        save_restorations(damaged, restore(run.nets["G"], damaged), images, epoch_picture(run), per_row=10, mask=mask,
                          title=f"epoch {run.epoch}")
        save_curves(run)

    def network_inputs(self, run):
        """G maps an image to an image; D judges (input, output) pairs."""
        sample_shape = registry.dataset_of(run.config).sample_shape
        return {"G": ((2,) + sample_shape,), "D": ((2,) + sample_shape, (2,) + sample_shape)}

    def draw(self, run, n, label, seed, path):
        """`tinygan sample`: n embedded digits damaged with default_rng(seed), restored, beside the originals."""
        count = sample_restorations(run, n, seed, path)
        return f"{count} embedded digits damaged by {run.config['task']} (seed {seed}), restored, and their originals"

    def evaluate(self, run, n=None, test_data=None, k=50, seed=0):
        """The restoration scores of the run's G on test digits under the fixed damage (seed 1234) of its task,
        and a picture of 30 of them, three of each digit (damaged | restored | original), beside its checkpoint:
        eval_restorations.png."""
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
        return {"reference": description, "test_images": len(images), "task": run.config["task"],
                "restoration": scores, "picture": picture}


# -- pictures: damaged | restored | original -------------------------------------------------------------

# The cut-out square in a figure's damaged digits: black like the background otherwise, so a reader could not
# see where it was. A blue no digit pixel has; only the figure is painted, never the data.
HOLE_COLOUR = (0.2, 0.3, 0.8)


def _rgb(images):
    """Grey digits (N, 28, 28), uint8 or floats on [0, 1], as RGB (N, 3, 28, 28) on [0, 1]."""
    images = np.asarray(images)
    unit = images.astype(np.float32) / (255 if images.dtype == np.uint8 else 1)
    return np.repeat(unit[:, None], 3, axis=1)


def mark_holes(damaged, mask):
    """Damaged digits (N, 28, 28) as RGB (N, 3, 28, 28) on [0, 1], the damaged pixels painted HOLE_COLOUR.

    A mask of every pixel (super-resolution: the whole digit is damaged) marks nothing.
    """
    rgb = _rgb(damaged)
    for image, hole in zip(rgb, np.asarray(mask, dtype=bool)):
        if not hole.all():
            image[:, hole] = np.asarray(HOLE_COLOUR, np.float32)[:, None]
    return rgb


def save_restorations(damaged, restored, original, path, per_row=16, title=None, mask=None):
    """Bands of three rows, `per_row` digits wide: damaged digits, their restorations, the originals.

    Each array is uint8 (N, 28, 28) or floats on [0, 1]; a last band that is not full is padded with blanks.
    mask  -- bool (N, 28, 28), the damaged pixels: painted HOLE_COLOUR in the damaged row (None: not marked)
    title -- what the picture shows (the data, the epoch), said after the names of the rows
    """
    marked = mask is not None and not np.asarray(mask).all()
    rows_of = (mark_holes(damaged, mask) if marked else _rgb(damaged), _rgb(restored), _rgb(original))
    n = len(damaged)
    per_row = min(per_row, n)
    padded = -(-n // per_row) * per_row
    bands = []
    for start in range(0, padded, per_row):
        for images in rows_of:
            band = np.zeros((per_row, 3, 28, 28), np.float32)
            chunk = images[start:start + per_row]
            band[:len(chunk)] = chunk
            bands.append(band)
    rows = "damaged (the cut-out square in blue) | restored | original" if marked else "damaged | restored | original"
    viz.save_image_grid(np.concatenate(bands), path, ncols=per_row, value_range=(0, 1),
                        title=f"{rows}, {title}" if title else rows)


def sample_restorations(run, n, seed, path):
    """`tinygan sample` for pix2pix: n embedded digits (all of them at most) chosen and damaged with
    default_rng(seed), restored, drawn; returns how many."""
    images, _ = load_embedded_mnist()
    rng = np.random.default_rng(seed)
    chosen = images[rng.choice(len(images), size=min(n, len(images)), replace=False)]
    damaged, mask = damage(chosen, run.config["task"], rng)
    save_restorations(damaged, restore(run.nets["G"], damaged), chosen, path, mask=mask)
    return len(chosen)
