"""How a GAN trains: gan, dcgan, cgan (conditional), lsgan, wgan-gp, on digit images or a toy 2-D set.

    step = GANStep(G, D, opt_g, opt_d, loss="nonsaturating")   # one update of D (n_critic times), then of G
    figures = step(real_batch)                                  # {"loss_d", "loss_g", "D(x)", "D(G(z))"}

A run of this family (GANFamily) trains on the batches of an image set, or on fresh samples of a toy
distribution every step; it draws a grid of samples from fixed noise each epoch (points with the modes, for a
toy set), and is judged by the digit classifier (modes covered and sample quality, for a toy set).
With --ema it samples from a moving average of G's weights (train/ema.py).
"""
import numpy as np

from .. import backend, registry, viz
from .. import functional as F
from ..autograd import Tensor, no_grad
from ..evaluation import metrics
from . import losses
from .evaluate import TOY_SAMPLES, generate
from .family import Family, check_finite, set_requires_grad

GAN_LOSS_FUNCTIONS = {
    # name: (discriminator loss, generator loss)
    "minimax": (losses.discriminator_loss, losses.generator_loss_minimax),
    "nonsaturating": (losses.discriminator_loss, losses.generator_loss_nonsaturating),
    "lsgan": (losses.lsgan_discriminator_loss, losses.lsgan_generator_loss),
    "wgan-gp": (losses.wasserstein_critic_loss, losses.wasserstein_generator_loss),
    "hinge": (losses.hinge_discriminator_loss, losses.hinge_generator_loss),
}


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
        set_requires_grad(self.D, False)
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
            set_requires_grad(self.D, True)
        self.steps += 1
        d_value, g_value = d_loss.item(), g_loss.item()
        check_finite("discriminator loss", d_value, self.steps)
        check_finite("generator loss", g_value, self.steps)
        figures = {"loss_d": d_value, "loss_g": g_value}
        if self.loss in ("minimax", "nonsaturating"):
            figures["D(x)"] = float(F.sigmoid(real_scores).mean().item())       # D's belief that real is real
            figures["D(G(z))"] = float(F.sigmoid(fake_scores).mean().item())    # ... that a fake is real
        return figures


def is_toy(run):
    """Whether the run trains on a toy 2-D distribution (sampled anew every step) rather than a set of images."""
    return registry.dataset_of(run.config).is_toy


class GANFamily(Family):
    """A generator G and a discriminator D (both conditioned on the class for cgan), on images or toy points."""

    weight_average = True

    def make_step(self, run):
        c = run.config
        conditional = registry.model_of(c).conditional
        return GANStep(run.nets["G"], run.nets["D"], run.optimizers["G"], run.optimizers["D"], loss=c["loss"],
                       n_critic=c["n_critic"], gp_weight=c["gp_weight"], latent_dim=c["latent_dim"],
                       num_classes=registry.dataset_of(c).num_classes if conditional else None, ema=run.ema)

    # -- data: an image set, or a toy distribution sampled anew every step --------------------------
    def load_data(self, run):
        """The image set's loader, or the toy distribution itself."""
        if is_toy(run):
            return registry.load_dataset(run.config["data"])
        return super().load_data(run)

    def batches(self, run, epoch):
        """A toy set's --steps-per-epoch batches of fresh points from default_rng([seed, epoch]); else the loader's."""
        if not is_toy(run):
            yield from super().batches(run, epoch)
            return
        c = run.config
        rng = np.random.default_rng([c["seed"], epoch])
        for _ in range(c["steps_per_epoch"]):
            points = run.data.sample(c["batch_size"], rng)
            yield Tensor(backend.to_device(points, backend.current_device())), None

    def batches_per_epoch(self, run):
        if is_toy(run):
            run.data  # noqa: B018 (loads the data)
            return run.config["steps_per_epoch"]
        return super().batches_per_epoch(run)

    # -- samples and figures --------------------------------------------------------------------------
    def sample(self, run, n, label, z):
        """G(z), or its weight average's with --ema; a conditional G draws `label` (default: each digit in turn)."""
        z = run.fixed_noise(n) if z is None else z
        for net in run.nets.values():
            net.eval()
        with no_grad():
            generator = run.nets["G"] if run.ema is None else run.ema.model
            if registry.model_of(run.config).conditional:
                labels = np.arange(n) % 10 if label is None else np.full(n, int(label))
                return generator(z, Tensor(backend.to_device(labels, backend.current_device())))
            return generator(z)

    def save_picture(self, run, path):
        """2,500 points with the true modes for a toy set; a grid of samples for images."""
        if not is_toy(run):
            return super().save_picture(run, path)
        modes = getattr(run.data, "modes", None)
        viz.save_points(run.sample(2500).array, path, modes=modes, title=f"epoch {run.epoch}", limit=None)

    def network_inputs(self, run):
        c = run.config
        labels = Tensor(backend.xp().zeros(2, dtype=np.int64))
        extra = (labels,) if registry.model_of(c).conditional else ()
        sample_shape = registry.dataset_of(c).sample_shape
        return {"G": ((2, c["latent_dim"]),) + extra, "D": ((2,) + sample_shape,) + extra}

    def draw(self, run, n, label, seed, path):
        """`tinygan sample`: n points from noise of default_rng(seed) with the true modes, for a toy set."""
        if not is_toy(run):
            return super().draw(run, n, label, seed, path)
        z = np.random.default_rng(seed).standard_normal((n, run.config["latent_dim"])).astype(np.float32)
        points = run.sample(n, label=label, z=Tensor(backend.to_device(z, backend.current_device())))
        viz.save_points(points.array, path, modes=getattr(run.data, "modes", None))
        return f"{n} points (noise seed {seed})"

    # -- evaluation -----------------------------------------------------------------------------------
    def evaluate(self, run, n=None, test_data=None, k=50, seed=0):
        """A toy set's modes covered and high-quality fraction; an image set's classifier scores."""
        if not is_toy(run):
            return super().evaluate(run, n, test_data, k, seed)
        result = {"n": n or TOY_SAMPLES}
        result["toy"] = evaluate_toy(run, result["n"], seed)
        if not result["toy"]:
            result["note"] = f"{run.config['data']} has no modes to count; no metrics for it"
        return result


def evaluate_toy(run, n=TOY_SAMPLES, seed=0):
    """Modes covered and high-quality fraction of n generated points, and of n real ones (the floor)."""
    distribution = registry.load_dataset(run.config["data"])
    if not hasattr(distribution, "modes"):
        return {}
    points, _ = generate(run, n, seed)
    real = distribution.sample(n, np.random.default_rng([seed, 1]))
    return {"model": metrics.mode_metrics(points, distribution.modes, distribution.std),
            "floor": metrics.mode_metrics(real, distribution.modes, distribution.std)}
