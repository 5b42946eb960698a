"""How a VAE trains: vae (MLP), conv-vae, and vaegan-vae (the VAE-GAN's encoder and decoder as a plain VAE).

    step = VAEStep(model, optimizer, beta=1.0, likelihood="bernoulli")
    figures = step(x)                      # {"loss": -ELBO, "reconstruction", "kl"}, each per image

A run of this family (VAEFamily) trains on the batches of an image set (rows of pixels for the MLP VAE), draws
the decoder's means of fixed codes each epoch, and is judged by the digit classifier on its samples, by its
test loss (-ELBO) and -IWAE bound on the test digits, and by the error of its mean reconstructions.
"""
import numpy as np

from .. import backend, registry
from .. import functional as F
from ..autograd import Tensor, no_grad
from ..evaluation import metrics
from . import losses
from .family import Family, check_finite, reconstruct_in_batches


class VAEStep:
    """One step of the negative ELBO: encode, reparameterise, decode, reconstruction + beta KL."""

    def __init__(self, model, optimizer, beta=1.0, likelihood="bernoulli"):
        if likelihood not in ("bernoulli", "gaussian"):
            raise ValueError(f"VAE likelihood must be 'bernoulli' or 'gaussian', got {likelihood!r}")
        self.model, self.optimizer, self.beta, self.likelihood = model, optimizer, beta, likelihood
        self.steps = 0

    def loss(self, x, rng=None):
        """(negative ELBO, reconstruction, KL), each per image averaged over the batch."""
        mu, logvar = self.model.encode(x)
        z = losses.reparameterize(mu, logvar, rng or backend.rng())
        out = self.model.decode(z)
        target = x.reshape(x.shape[0], -1)
        if self.likelihood == "bernoulli":
            reconstruction = losses.bernoulli_reconstruction(out, target)
        else:
            reconstruction = losses.gaussian_reconstruction(F.sigmoid(out), target)
        return losses.vae_loss(reconstruction, mu, logvar, self.beta)

    def __call__(self, x, labels=None):
        loss, reconstruction, kl = self.loss(x)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        self.steps += 1
        value = loss.item()
        check_finite("VAE loss", value, self.steps)
        return {"loss": value, "reconstruction": reconstruction.item(), "kl": kl.item()}


class VAEFamily(Family):
    """One network 'vae' with encode and decode, trained on the negative ELBO."""

    flatten = True             # the loader gives rows of pixels; the conv VAEs reshape them
    scores_test_sets = True
    reconstructs = True
    importance_samples = True

    def make_step(self, run):
        c = run.config
        return VAEStep(run.nets["vae"], run.optimizers["vae"], beta=c["beta"], likelihood=c["likelihood"])

    def sample(self, run, n, label, z):
        """The decoder's means sigmoid(decode(z)), as images."""
        z = run.fixed_noise(n) if z is None else z
        for net in run.nets.values():
            net.eval()
        with no_grad():
            return run.nets["vae"].decode(z).sigmoid().reshape((n,) + registry.dataset_of(run.config).sample_shape)

    def network_inputs(self, run):
        return {"vae": ((2, int(np.prod(registry.dataset_of(run.config).sample_shape))),)}

    def test_image_scores(self, run, images, k, seed):
        """Test loss (negative ELBO, one z) and negative IWAE bound with K samples, per image, on test `images`."""
        return {"vae": {"model": metrics.vae_test_losses(run.nets["vae"], images, k=k, seed=seed)}}

    def reconstruct(self, run, images):
        """The mean reconstructions sigmoid(decode(mu)) of uint8 images."""
        vae = run.nets["vae"]

        def mean(chunk):
            x = Tensor(backend.to_device(chunk.reshape(len(chunk), -1), backend.current_device()))
            return vae.decode(vae.encode(x)[0]).sigmoid()
        return reconstruct_in_batches(run, images, mean)
