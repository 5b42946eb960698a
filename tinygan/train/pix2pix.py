"""pix2pix training (Isola et al., 2017, section 3.1 and 3.3): the objective and one step of it.

    G* = arg min_G max_D  L_cGAN(G, D) + lambda L_L1(G)
    L_cGAN(G, D) = E_{x,y}[log D(x, y)] + E_x[log(1 - D(x, G(x)))]       (x: damaged input, y: original)
    L_L1(G)      = E_{x,y}[ |y - G(x)| ]                                    (mean over pixels)

D outputs a map of logits, one per patch (PatchGAN); every BCE below is the mean over the map and the batch.
As in the paper (and its code): G minimises the non-saturating form -log D(x, G(x)) rather than
log(1 - D(x, G(x))), lambda = 100, and D's loss is halved "to slow down the rate at which D learns
relative to G" (section 6.2). gan_weight = 0 trains G on L1 alone: the baseline of the lesson and the
quality table (D is then not trained at all, since nothing uses it).
"""
from .. import functional as F
from .steps import check_finite


def pix2pix_discriminator_loss(real_logits, fake_logits):
    """D's loss: 1/2 [BCE(D(x, y), 1) + BCE(D(x, G(x)), 0)], each BCE the mean over the patch map and the batch."""
    real = F.binary_cross_entropy_with_logits(real_logits, 1.0)
    fake = F.binary_cross_entropy_with_logits(fake_logits, 0.0)
    return 0.5 * (real + fake)  # [formula: pix2pix-discriminator]


def pix2pix_generator_loss(fake_logits, restored, original, l1_weight=100.0, gan_weight=1.0):
    """G's loss and its two terms: (gan_weight BCE(D(x, G(x)), 1) + l1_weight |y - G(x)|, gan term, L1 term).

    With gan_weight = 0 the GAN term is left out of the graph (D's logits may then be None).
    """
    l1 = F.l1_loss(restored, original)
    if gan_weight == 0:
        return l1_weight * l1, None, l1
    gan = F.binary_cross_entropy_with_logits(fake_logits, 1.0)
    return gan_weight * gan + l1_weight * l1, gan, l1  # [formula: pix2pix-generator]


def _set_requires_grad(module, flag):
    for p in module.parameters():
        p.requires_grad = flag


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
        _set_requires_grad(self.D, False)
        try:
            fake_logits = self.D(damaged, restored) if self.gan_weight else None
            loss, gan, l1 = pix2pix_generator_loss(fake_logits, restored, original, self.l1_weight, self.gan_weight)
            self.opt_g.zero_grad()
            loss.backward()
            self.opt_g.step()
        finally:
            _set_requires_grad(self.D, True)
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
