"""The training losses, each the formula of its paper written in tinygan ops: the GANs', the VAE's, the VAE-GAN's,
pix2pix's and the segmentation's.

D outputs a logit x (no sigmoid): D's probability that its input is real is
sigmoid(x). Every loss is written on logits, through softplus, because
log sigmoid(x) = -softplus(-x) and log(1 - sigmoid(x)) = -softplus(x) never take
the log of a number that rounded to 0.

The GAN value function (Goodfellow et al., 2014, eq. 1), which D maximises and G minimises:

    V(D, G) = E_x[log D(x)] + E_z[log(1 - D(G(z)))]
"""
from .. import backend
from .. import functional as F
from ..autograd import grad
from ..functional.loss import bernoulli_reconstruction, gaussian_reconstruction, reparameterize  # noqa: F401 (the VAE's terms, used by training and metrics alike)


def gan_value(real_logits, fake_logits):
    """V(D, G) = E[log D(x)] + E[log(1 - D(G(z)))], from D's logits on real and generated images."""
    return -F.softplus(-real_logits).mean() - F.softplus(fake_logits).mean()  # [formula: gan-value-function]


def discriminator_loss(real_logits, fake_logits):
    """D's loss = -V(D, G): binary cross-entropy with label 1 for real images and 0 for fakes.

    Minimising this is D *maximising* V; it is the cross-entropy against the
    labels, not an entropy of D's own outputs.
    """
    real = F.binary_cross_entropy_with_logits(real_logits, 1.0)
    fake = F.binary_cross_entropy_with_logits(fake_logits, 0.0)
    return real + fake  # [formula: gan-discriminator-loss]


def generator_loss_minimax(fake_logits):
    """G's loss in the original minimax game: E[log(1 - D(G(z)))], minimised.

    Saturates: when D confidently rejects fakes early on, its gradient vanishes.
    """
    return -F.softplus(fake_logits).mean()  # [formula: gan-generator-minimax]


def generator_loss_nonsaturating(fake_logits):
    """G's loss in the non-saturating game: -E[log D(G(z))] (Goodfellow et al., 2014, section 3).

    Same fixed point as minimax, but strong gradients when D rejects the fakes.
    """
    return F.softplus(-fake_logits).mean()  # [formula: gan-generator-nonsaturating]


def lsgan_discriminator_loss(real_scores, fake_scores):
    """LSGAN (Mao et al., 2017, eq. 2 with a=0, b=1): 1/2 E[(D(x) - 1)^2] + 1/2 E[D(G(z))^2]."""
    return 0.5 * ((real_scores - 1) ** 2).mean() + 0.5 * (fake_scores ** 2).mean()  # [formula: lsgan-discriminator]


def lsgan_generator_loss(fake_scores):
    """LSGAN (Mao et al., 2017, eq. 2 with c=1): 1/2 E[(D(G(z)) - 1)^2]."""
    return 0.5 * ((fake_scores - 1) ** 2).mean()  # [formula: lsgan-generator]


def wasserstein_critic_loss(real_scores, fake_scores):
    """WGAN critic (Arjovsky et al., 2017): E[D(G(z))] - E[D(x)], minimised (D maximises the gap)."""
    return fake_scores.mean() - real_scores.mean()  # [formula: wgan-critic]


def wasserstein_generator_loss(fake_scores):
    """WGAN generator: -E[D(G(z))]."""
    return -fake_scores.mean()  # [formula: wgan-generator]


def gradient_penalty(critic, real, fake, rng, *critic_args):
    """WGAN-GP (Gulrajani et al., 2017, eq. 3): E[(||grad_x D(x_hat)||_2 - 1)^2] at x_hat = e x + (1 - e) G(z).

    e ~ U[0, 1] per sample. The gradient is taken with create_graph=True, so the
    penalty itself can be differentiated with respect to the critic's weights.
    """
    xp_shape = (real.shape[0],) + (1,) * (real.ndim - 1)
    e = backend.to_device(rng.random(xp_shape, dtype=real.dtype), real.device)  # a NumPy generator works on the GPU too
    mixed = (real.detach() * e + fake.detach() * (1 - e)).detach()
    mixed.requires_grad = True
    scores = critic(mixed, *critic_args)
    (grad_x,) = grad(scores.sum(), mixed, create_graph=True)
    norms = (grad_x.reshape(real.shape[0], -1) ** 2).sum(axis=1) ** 0.5
    return ((norms - 1) ** 2).mean()  # [formula: wgan-gradient-penalty]


def hinge_discriminator_loss(real_scores, fake_scores):
    """Hinge loss (Lim & Ye, 2017; Miyato et al., 2018): E[relu(1 - D(x))] + E[relu(1 + D(G(z)))]."""
    return F.relu(1 - real_scores).mean() + F.relu(1 + fake_scores).mean()  # [formula: hinge-discriminator]


def hinge_generator_loss(fake_scores):
    """Hinge generator loss: -E[D(G(z))]."""
    return -fake_scores.mean()  # [formula: hinge-generator]


def vae_loss(reconstruction_per_image, mu, logvar, beta=1.0):
    """Negative ELBO per image, averaged over the batch: E_q[-log p(x|z)] + beta KL(q(z|x) || N(0, I)).

    Returns (loss, reconstruction, kl), each averaged over the batch.
    """
    n = mu.shape[0]
    kl = F.gaussian_kl(mu, logvar, reduction="sum") / n
    reconstruction = reconstruction_per_image.sum() / n
    return reconstruction + beta * kl, reconstruction, kl  # [formula: negative-elbo]


# -- VAE-GAN (Larsen et al., 2016, section 2 and algorithm 1) -----------------------------------------

def vaegan_prior(mu, logvar):
    """L_prior = KL(q(z|x) || N(0, I)), summed over the latent dimensions, averaged over the batch (eq. 4)."""
    return F.gaussian_kl(mu, logvar, reduction="sum") / mu.shape[0]  # [formula: vaegan-prior]


def vaegan_llike(real_features, fake_features):
    """L_llike = 1/2 sum (Dis_l(x) - Dis_l(x~))^2, summed over D's features, averaged over the batch (eq. 6-7).

    -log of a Gaussian with unit variance centred on Dis_l(x~), up to a constant: the VAE's
    reconstruction term moved from pixels into the discriminator's feature space.
    """
    diff = real_features - fake_features
    return 0.5 * (diff * diff).sum() / real_features.shape[0]  # [formula: vaegan-llike]


def vaegan_discriminator_loss(real_logits, reconstruction_logits, prior_logits):
    """D's loss: BCE(D(x), 1) + BCE(D(x~), 0) + BCE(D(x_p), 0), x~ = G(E(x)) and x_p = G(z_p) detached (eq. 8)."""
    real = F.binary_cross_entropy_with_logits(real_logits, 1.0)
    reconstructed = F.binary_cross_entropy_with_logits(reconstruction_logits, 0.0)
    prior = F.binary_cross_entropy_with_logits(prior_logits, 0.0)
    return real + reconstructed + prior  # [formula: vaegan-discriminator]


def vaegan_generator_gan_loss(reconstruction_logits, prior_logits):
    """The decoder's GAN term, non-saturating: BCE(D(x~), 1) + BCE(D(x_p), 1)."""
    reconstructed = F.binary_cross_entropy_with_logits(reconstruction_logits, 1.0)
    prior = F.binary_cross_entropy_with_logits(prior_logits, 1.0)
    return reconstructed + prior  # [formula: vaegan-generator-gan]


# -- pix2pix (Isola et al., 2017, section 3.1 and 3.3) -------------------------------------------------

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


# -- segmentation --------------------------------------------------------------------------------------

def pixelwise_cross_entropy(logits, labels):
    """Softmax cross-entropy of every pixel, averaged over all N*H*W pixels:

        L = -1/(N H W) sum_{n,i,j} log softmax(logits[n, :, i, j])[labels[n, i, j]]
    """
    return F.cross_entropy(logits, labels)  # [formula: pixelwise-cross-entropy]
