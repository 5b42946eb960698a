"""How the VAE-GAN trains (Larsen et al., 2016): an encoder, a decoder that is also the GAN's generator, and a
discriminator whose features measure the reconstruction error.

    step = VAEGANStep(E, G, D, opt_e, opt_g, opt_d, gamma=0.1)
    figures = step(x)         # {"loss_e", "loss_g", "loss_d", "prior", "llike", "D(x)", "D(x~)", "D(x_p)"}

A run of this family (VAEGANFamily) trains on the batches of an image set on [-1, 1], draws the decoder's
samples of fixed codes each epoch and reconstructions.png (every digit beside its mean reconstruction), and is
judged by the digit classifier on its samples and by the error of its mean reconstructions.
"""
import math
import os

import numpy as np

from .. import backend, registry, viz
from .. import functional as F
from ..autograd import Tensor, grad, no_grad
from . import losses
from .checks import check_real
from .family import Family, check_finite, reconstruct_in_batches


class VAEGANStep:
    """One step of the VAE-GAN (Larsen et al., 2016, algorithm 1): one forward pass, three objectives, three updates.

        z = mu + exp(logvar / 2) eps,  x~ = G(z),  x_p = G(z_p) with z_p ~ N(0, I)
        encoder        minimises  L_prior + L_llike
        decoder (G)    minimises  gamma L_llike + BCE(D(x~), 1) + BCE(D(x_p), 1)
        discriminator  minimises  BCE(D(x), 1) + BCE(D(x~), 0) + BCE(D(x_p), 0)

    Each objective is differentiated with respect to its own network's weights only (autograd.grad),
    so L_llike never trains D and the GAN terms never train the encoder; taking D's gradient with
    respect to D's weights alone is what detaching x~ and x_p means. All three gradients come from
    the same networks, before any of them moves.
    """

    NETWORKS = ("E", "G", "D")

    def __init__(self, encoder, decoder, discriminator, opt_e, opt_g, opt_d, gamma=1.0):
        self.nets = {"E": encoder, "G": decoder, "D": discriminator}
        self.optimizers = {"E": opt_e, "G": opt_g, "D": opt_d}
        self.gamma = gamma
        self.latent_dim = encoder.latent_dim
        self.steps = 0

    def terms(self, x):
        """The loss terms of one batch: prior, llike, gan_d (D's loss), gan_g (the decoder's GAN term), D's logits,
        and the posterior (mu, logvar) they came from (for objectives that add a term of the codes, as lesson 19's)."""
        E, G, D = (self.nets[name] for name in self.NETWORKS)
        mu, logvar = E(x)
        z = losses.reparameterize(mu, logvar, backend.rng())
        z_p = Tensor(backend.rng().standard_normal((x.shape[0], self.latent_dim), dtype=mu.dtype))
        reconstruction, prior_sample = G(z), G(z_p)                   # x~ and x_p, each (N, C, 28, 28)
        real_logits, real_features = D.logit_and_features(x)
        reconstruction_logits, reconstruction_features = D.logit_and_features(reconstruction)
        prior_logits = D(prior_sample)
        return {"prior": losses.vaegan_prior(mu, logvar),
                "llike": losses.vaegan_llike(real_features, reconstruction_features),
                "gan_d": losses.vaegan_discriminator_loss(real_logits, reconstruction_logits, prior_logits),
                "gan_g": losses.vaegan_generator_gan_loss(reconstruction_logits, prior_logits),
                "logits": (real_logits, reconstruction_logits, prior_logits),
                "posterior": (mu, logvar)}

    def objectives(self, terms):
        """What each network minimises: {'E': ..., 'G': ..., 'D': ...}."""
        return {"E": terms["prior"] + terms["llike"],
                "G": self.gamma * terms["llike"] + terms["gan_g"],
                "D": terms["gan_d"]}

    def __call__(self, x, labels=None):
        terms = self.terms(x)
        objectives = self.objectives(terms)
        for name in self.NETWORKS:               # every gradient first, from the same weights
            params = [p for p in self.nets[name].parameters() if p.requires_grad]
            for p, g in zip(params, grad(objectives[name], params)):
                p.grad = g
        for name in self.NETWORKS:
            self.optimizers[name].step()
        self.steps += 1
        figures = {"loss_e": objectives["E"].item(), "loss_g": objectives["G"].item(),
                   "loss_d": objectives["D"].item(), "prior": terms["prior"].item(), "llike": terms["llike"].item()}
        for key, value in figures.items():
            check_finite(key, value, self.steps)
        real_logits, reconstruction_logits, prior_logits = terms["logits"]
        figures["D(x)"] = float(F.sigmoid(real_logits).mean().item())
        figures["D(x~)"] = float(F.sigmoid(reconstruction_logits).mean().item())
        figures["D(x_p)"] = float(F.sigmoid(prior_logits).mean().item())
        return figures


class VAEGANFamily(Family):
    """An encoder 'E', a decoder 'G' and a discriminator 'D', each with its own Adam."""

    reconstructs = True
    title = "the VAE-GAN (vaegan)"
    settings = ("gamma",)      # the weight of L_llike against the GAN terms in the decoder's loss

    def check_settings(self, config):
        if "gamma" in config:
            check_real("gamma", config["gamma"], 0.0, math.inf, "the weight of L_llike in the decoder's loss")

    def make_step(self, run):
        nets, opts = run.nets, run.optimizers
        return VAEGANStep(nets["E"], nets["G"], nets["D"], opts["E"], opts["G"], opts["D"], gamma=run.config["gamma"])

    def sample(self, run, n, label, z):
        """The decoder's images G(z) of codes z ~ N(0, I)."""
        z = run.fixed_noise(n) if z is None else z
        for net in run.nets.values():
            net.eval()
        with no_grad():
            return run.nets["G"](z)

    def save_picture(self, run, path):
        """A grid of samples from the fixed codes, and reconstructions.png."""
        super().save_picture(run, path)
        save_reconstructions(run, os.path.join(run.folder, "reconstructions.png"))

    def network_inputs(self, run):
        c = run.config
        sample_shape = registry.dataset_of(c).sample_shape
        return {"E": ((2,) + sample_shape,), "G": ((2, c["latent_dim"]),), "D": ((2,) + sample_shape,)}

    def reconstruct(self, run, images):
        """The mean reconstructions G(mu) of uint8 images, the decoder's tanh output mapped to [0, 1]."""
        def mean(chunk):
            x = Tensor(backend.to_device(chunk * 2 - 1, backend.current_device()))
            return (run.nets["G"](run.nets["E"](x)[0]) + 1) * 0.5
        return reconstruct_in_batches(run, images, mean)


def save_reconstructions(run, path, per_class=3):
    """Originals beside their mean reconstructions, in rows of one pair per class: `per_class` of each class."""
    images = run.data.images[viz.each_class_in_turn(run.data.labels, per_class)]
    pairs = np.stack([images / 255.0, run.family.reconstruct(run, images)], axis=1).reshape((-1,) + images.shape[1:])
    viz.save_image_grid(pairs, path, ncols=20, value_range=(0, 1),
                        title=f"original | reconstruction, every digit in each row, epoch {run.epoch}")
