"""One training step of a GAN and of a VAE: the few lines every lesson and the CLI share."""
import math

from .. import backend
from ..autograd import Tensor, no_grad
from .. import functional as F
from ..models.rnn import binarize
from ..nn.utils import clip_grad_norm_
from . import losses

GAN_LOSS_FUNCTIONS = {
    # name: (discriminator loss, generator loss)
    "minimax": (losses.discriminator_loss, losses.generator_loss_minimax),
    "nonsaturating": (losses.discriminator_loss, losses.generator_loss_nonsaturating),
    "lsgan": (losses.lsgan_discriminator_loss, losses.lsgan_generator_loss),
    "wgan-gp": (losses.wasserstein_critic_loss, losses.wasserstein_generator_loss),
    "hinge": (losses.hinge_discriminator_loss, losses.hinge_generator_loss),
}


class TrainingDiverged(RuntimeError):
    """A loss became NaN or infinite."""


def check_finite(name, value, step):
    """Stop with advice when a loss is NaN or Inf, before the broken weights are saved anywhere."""
    if not math.isfinite(value):
        raise TrainingDiverged(
            f"the {name} became {value} at step {step}. Usual causes: a learning rate too high "
            f"(try --lr smaller by 2-10x), a critic without its gradient penalty (use wgan-gp), or a BCE "
            f"on probabilities instead of logits. The last checkpoint is intact: resume from it with other "
            f"settings, or rerun with --detect-anomaly to find the operation that produced it.")


def _set_requires_grad(module, flag):
    for p in module.parameters():
        p.requires_grad = flag


class GANStep:
    """Alternating updates: n_critic steps of D on real and detached fake batches, then one step of G.

    G's step backpropagates through D with D's weights frozen (requires_grad=False),
    so no gradient is computed for weights that no optimizer will use.
    With n_critic > 1 every critic step sees the same real batch with fresh noise
    (Gulrajani et al. draw a new real batch each time; lesson 11 shows that loop).
    ema -- an optional WeightAverage of G, moved after every generator step.
    """

    def __init__(self, generator, discriminator, opt_g, opt_d, loss="nonsaturating", n_critic=1,
                 gp_weight=10.0, latent_dim=100, num_classes=None, ema=None):
        self.G, self.D, self.opt_g, self.opt_d = generator, discriminator, opt_g, opt_d
        self.d_loss_fn, self.g_loss_fn = GAN_LOSS_FUNCTIONS[loss]
        self.loss, self.n_critic, self.gp_weight = loss, n_critic, gp_weight
        self.latent_dim, self.num_classes = latent_dim, num_classes
        self.ema = ema
        self.steps = 0

    def noise(self, n):
        """z ~ N(0, I), drawn from tinygan's seeded generator."""
        return Tensor(backend.rng().standard_normal((n, self.latent_dim), dtype=backend.get_default_dtype()))

    def _labels(self, n):
        """Random class labels for the fakes of a conditional GAN."""
        return Tensor(backend.rng().integers(0, self.num_classes, size=n))

    def __call__(self, real, labels=None):
        n = real.shape[0]
        conditional = self.num_classes is not None
        d_args = (labels,) if conditional else ()
        for _ in range(self.n_critic):
            z = self.noise(n)
            fake_labels = self._labels(n) if conditional else None
            with no_grad():  # D's step needs G's output, not G's graph
                fake = self.G(z, fake_labels) if conditional else self.G(z)
            fake_args = (fake_labels,) if conditional else ()
            real_scores = self.D(real, *d_args)
            fake_scores = self.D(fake, *fake_args)
            d_loss = self.d_loss_fn(real_scores, fake_scores)
            if self.loss == "wgan-gp":
                if conditional:
                    raise ValueError("wgan-gp with a conditional critic is not supported")
                d_loss = d_loss + self.gp_weight * losses.gradient_penalty(self.D, real, fake, backend.rng())
            self.opt_d.zero_grad()
            d_loss.backward()
            self.opt_d.step()

        z = self.noise(n)
        fake_labels = self._labels(n) if conditional else None
        _set_requires_grad(self.D, False)
        try:
            fake = self.G(z, fake_labels) if conditional else self.G(z)
            g_scores = self.D(fake, *((fake_labels,) if conditional else ()))
            g_loss = self.g_loss_fn(g_scores)
            self.opt_g.zero_grad()
            g_loss.backward()
            self.opt_g.step()
            if self.ema is not None:
                self.ema.update(self.G)
        finally:
            _set_requires_grad(self.D, True)
        self.steps += 1
        d_value, g_value = d_loss.item(), g_loss.item()
        check_finite("discriminator loss", d_value, self.steps)
        check_finite("generator loss", g_value, self.steps)
        figures = {"loss_d": d_value, "loss_g": g_value}
        if self.loss in ("minimax", "nonsaturating"):
            figures["D(x)"] = float(F.sigmoid(real_scores).mean().item())       # D's belief that real is real
            figures["D(G(z))"] = float(F.sigmoid(fake_scores).mean().item())    # ... that a fake is real
        return figures


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


class RNNStep:
    """One step of a row-by-row generator: binarise the batch, -log p(x) with the true rows fed in, Adam.

    clip -- the largest gradient norm (nn.utils.clip_grad_norm_), or None for no clipping (the default recipe)
    """

    def __init__(self, model, optimizer, clip=None):
        self.model, self.optimizer, self.clip = model, optimizer, clip
        self.steps = 0

    def __call__(self, x, labels=None):
        loss = self.model.nll(binarize(x))
        self.optimizer.zero_grad()
        loss.backward()
        if self.clip is not None:
            clip_grad_norm_(self.model.parameters(), self.clip)
        self.optimizer.step()
        self.steps += 1
        value = loss.item()
        check_finite("negative log-likelihood", value, self.steps)
        return {"loss": value}
from ..autograd import grad  # noqa: E402 (VAEGANStep's block, kept apart from the shared imports above)


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


# -- a neural radiance field, trained on random rays of its training views ------------------------------

class NeRFStep:
    """One step of a NeRF: a batch of random pixels of the training views, their rays rendered with jittered
    samples, the mean squared error against the true colours, Adam.

    rays -- (origins, directions, colours), each (R, 3) on the current device: every pixel of the training views.
    The pixels and the jitter come from tinygan's seeded generator, so a resumed run draws what the
    uninterrupted one would have.
    """

    def __init__(self, model, optimizer, rays, near, far, num_samples=32, batch_size=1024):
        from ..models.nerf import render_rays
        self.render_rays = render_rays
        self.model, self.optimizer = model, optimizer
        self.origins, self.directions, self.colours = rays
        self.near, self.far, self.num_samples, self.batch_size = near, far, num_samples, batch_size
        self.steps = 0

    def loss(self, rng):
        """The MSE of one batch of random training rays (and the rendered colours)."""
        pixels = rng.integers(0, len(self.origins), size=self.batch_size)
        colour, _, _ = self.render_rays(self.model, self.origins[pixels], self.directions[pixels], self.near,
                                        self.far, self.num_samples, rng)
        return F.mse_loss(colour, Tensor(self.colours[pixels]))

    def __call__(self, x=None, labels=None):
        loss = self.loss(backend.rng())
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        self.steps += 1
        value = loss.item()
        check_finite("rendering loss", value, self.steps)
        return {"loss": value, "train_psnr": -10 * math.log10(max(value, 1e-12))}


# -- segmentation ----------------------------------------------------------------------------------

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
