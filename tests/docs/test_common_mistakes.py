"""The formulas that textbooks and blogs often get wrong, each shown wrong and right, with numbers.

docs/formulas.md ("Common mistakes") names each test below next to the mistake it demonstrates.
Every correct form comes from tinygan itself (tinygan.functional, tinygan.train.losses, tinygan.nn,
tinygan.models); every wrong form is written here, in plain NumPy or tinygan ops, so that the two
can be compared on the same numbers.
"""
import math

import numpy as np
import pytest

import tinygan
import tinygan.functional as F
from tinygan import backend, nn
from tinygan.autograd import Tensor, no_grad
from tinygan.models import MLPGenerator
from tinygan.train import losses


def tensor(values, dtype=np.float64, requires_grad=False):
    """A Tensor of the current backend holding host `values`."""
    return Tensor(backend.xp().asarray(np.asarray(values, dtype=dtype)), requires_grad=requires_grad)


def host(t):
    return backend.to_numpy(t.array if isinstance(t, Tensor) else t)


def log_sigmoid(x):
    """log sigmoid(x) in float64 NumPy, exact for any x."""
    return -np.logaddexp(0.0, -np.asarray(x, dtype=np.float64))


# -- the discriminator loss is a cross-entropy against labels, not an entropy of D ---------------------

def entropy_of_d(logits):
    """The WRONG discriminator loss: the mean binary entropy of D's outputs, -[D log D + (1 - D) log(1 - D)].

    It contains no label: it only asks D to be confident, about anything.
    """
    logits = np.asarray(logits, dtype=np.float64)
    d = 1 / (1 + np.exp(-logits))
    return float(-(d * log_sigmoid(logits) + (1 - d) * log_sigmoid(-logits)).mean())


def test_discriminator_loss_is_not_the_entropy_of_d():
    rng = np.random.default_rng(0)
    a, b = rng.normal(2.0, 1.0, 64), rng.normal(-2.0, 1.0, 64)     # D's logits on two sets of images
    # Right: which set is real matters. D calling set a real and set b fake is good when a is the real set...
    good = losses.discriminator_loss(tensor(a), tensor(b)).item()
    # ... and bad when b is the real set.
    bad = losses.discriminator_loss(tensor(b), tensor(a)).item()
    assert good < 0.5 and bad > 3.0
    # Wrong: the entropy of D over all images is the same whichever set is real -- it has no labels.
    assert entropy_of_d(np.concatenate([a, b])) == pytest.approx(entropy_of_d(np.concatenate([b, a])), rel=1e-12)
    # and it rewards confidence alone: a D that calls every real image fake scores as well as a perfect one
    perfect, inverted = entropy_of_d(np.r_[np.full(8, 10.0), np.full(8, -10.0)]), entropy_of_d(
        np.r_[np.full(8, -10.0), np.full(8, 10.0)])
    assert perfect == pytest.approx(inverted, rel=1e-12) and perfect < 1e-3
    # the right loss tells them apart: small for the perfect D, large for the inverted one
    assert losses.discriminator_loss(tensor(np.full(8, 10.0)), tensor(np.full(8, -10.0))).item() < 1e-3
    assert losses.discriminator_loss(tensor(np.full(8, -10.0)), tensor(np.full(8, 10.0))).item() > 19.0


# -- the value function: log D on real data, log(1 - D) on fakes ---------------------------------------

def swapped_value(real_logits, fake_logits):
    """The WRONG value function: E[log D(G(z))] + E[log(1 - D(x))] (the two log terms swapped)."""
    return float(log_sigmoid(fake_logits).mean() + log_sigmoid(-np.asarray(real_logits)).mean())


def test_value_function_with_swapped_log_terms_rewards_calling_fakes_real():
    rng = np.random.default_rng(1)
    confident_real = rng.normal(4.0, 0.5, 32)    # D's logits: real images called real ...
    confident_fake = rng.normal(-4.0, 0.5, 32)   # ... and fakes called fake: a good discriminator
    # Right: V(D, G) = E[log D(x)] + E[log(1 - D(G(z)))], close to its maximum 0 for the good D
    right_good = losses.gan_value(tensor(confident_real), tensor(confident_fake)).item()
    expected = log_sigmoid(confident_real).mean() + log_sigmoid(-confident_fake).mean()
    assert right_good == pytest.approx(expected, rel=1e-12)
    assert right_good > -0.1
    # A fooled D calls the fakes real and the real images fake.
    right_fooled = losses.gan_value(tensor(confident_fake), tensor(confident_real)).item()
    assert right_fooled < -7.0
    # Wrong: the swapped value scores the fooled D near the maximum and the good D near -8,
    # so a D that maximises it learns to call fakes real.
    assert swapped_value(confident_fake, confident_real) == pytest.approx(right_good, rel=1e-12)
    assert swapped_value(confident_real, confident_fake) == pytest.approx(right_fooled, rel=1e-12)


# -- D maximises V; G minimises it ---------------------------------------------------------------------

def _train_logistic_discriminator(direction, steps=200, lr=0.5):
    """A 1-D logistic discriminator D(x) = sigmoid(w x + b) on real ~ N(2, 1), fake ~ N(-2, 1).

    direction=+1 climbs V(D, G) (right: D maximises V), -1 descends it (wrong: "D minimises V").
    Returns the mean of D(x) on the real samples after training.
    """
    rng = np.random.default_rng(2)
    real, fake = tensor(rng.normal(2.0, 1.0, 256)), tensor(rng.normal(-2.0, 1.0, 256))
    w, b = tensor(0.0, requires_grad=True), tensor(0.0, requires_grad=True)
    for _ in range(steps):
        w.grad = b.grad = None
        value = losses.gan_value(real * w + b, fake * w + b)
        value.backward()
        with no_grad():
            w.array += direction * lr * w.grad.array
            b.array += direction * lr * b.grad.array
    return float(host(F.sigmoid(real * w + b)).mean())


def test_discriminator_maximises_the_value_function():
    rng = np.random.default_rng(3)
    real_logits, fake_logits = tensor(rng.normal(size=16)), tensor(rng.normal(size=16))
    # The discriminator's loss is -V: minimising the loss is maximising V.
    assert losses.discriminator_loss(real_logits, fake_logits).item() == pytest.approx(
        -losses.gan_value(real_logits, fake_logits).item(), rel=1e-12)
    # Climbing V gives a D that recognises real data; descending it ("D minimises V") the opposite.
    assert _train_logistic_discriminator(+1) > 0.9
    assert _train_logistic_discriminator(-1) < 0.1


# -- the closed-form Gaussian KL: -1/2, and sigma^2 = exp(logvar) -------------------------------------

def monte_carlo_kl(mu, logvar, samples=400_000, seed=4):
    """KL(N(mu, sigma^2) || N(0, 1)) per row = E_q[log q(z) - log p(z)], estimated by sampling q (float64)."""
    rng = np.random.default_rng(seed)
    sigma = np.exp(logvar / 2)
    eps = rng.standard_normal((samples,) + mu.shape)
    z = mu + sigma * eps
    log_q = -0.5 * (eps ** 2 + logvar + math.log(2 * math.pi))
    log_p = -0.5 * (z ** 2 + math.log(2 * math.pi))
    return (log_q - log_p).sum(axis=-1).mean(axis=0)


def test_gaussian_kl_has_its_minus_half_and_sigma_squared():
    mu = np.array([[0.5, -1.0, 0.0], [1.5, 0.2, -0.3]])
    logvar = np.array([[0.3, -0.8, 1.0], [-1.5, 0.4, 0.0]])
    sigma2 = np.exp(logvar)
    estimate = monte_carlo_kl(mu, logvar)
    right = host(F.gaussian_kl(tensor(mu), tensor(logvar), reduction="none"))
    np.testing.assert_allclose(right, estimate, rtol=0.02)          # agrees with the sampled KL
    without_half = (1 + logvar - mu ** 2 - sigma2).sum(axis=1)      # WRONG: no -1/2
    sigma_not_squared = -0.5 * (1 + np.log(np.sqrt(sigma2)) - mu ** 2 - np.sqrt(sigma2)).sum(axis=1)  # WRONG
    for wrong in (without_half, sigma_not_squared):
        assert np.all(np.abs(wrong - estimate) > 0.1 * np.abs(estimate))
    assert np.all(without_half < 0)   # a KL is never negative: the sign error shows at once


# -- reparameterisation: sigma = exp(logvar / 2) ----------------------------------------------------------

def test_reparameterization_uses_exp_of_half_logvar():
    n = 200_000
    mu = tensor(np.full((n, 2), [1.0, -3.0]))
    logvar = tensor(np.full((n, 2), [math.log(4.0), math.log(0.25)]))   # sigma^2 = 4 and 1/4
    tinygan.manual_seed(5)
    z = host(losses.reparameterize(mu, logvar, backend.rng()))
    np.testing.assert_allclose(z.mean(axis=0), [1.0, -3.0], atol=0.02)
    np.testing.assert_allclose(z.var(axis=0), [4.0, 0.25], rtol=0.02)        # variance = exp(logvar)
    eps = np.random.default_rng(5).standard_normal((n, 2))
    wrong = host(mu) + np.exp(host(logvar)) * eps    # WRONG: exp(logvar) eps
    np.testing.assert_allclose(wrong.var(axis=0), [16.0, 0.0625], rtol=0.02)  # variance = exp(2 logvar)


# -- sigmoid then log loses everything at large logits; the logits form does not ----------------------

def test_sigmoid_then_log_breaks_at_a_logit_of_40_in_float32():
    # A fake that D calls real with logit 40, label 0: the loss is -log(1 - sigmoid(40)) = 40 (+ 4e-18).
    x = tensor([40.0], dtype=np.float32, requires_grad=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        naive = -F.log(1 - F.sigmoid(x))          # WRONG: sigmoid(40) rounds to 1, log(0) = -inf
        naive.sum().backward()
    assert host(naive)[0] == np.inf
    assert not np.isfinite(host(x.grad)[0])       # inf * 0 in the chain rule: nan
    # BCE on probabilities clamps each log at -100 (as PyTorch does): the value is finite but wrong (100, not
    # 40), and the gradient is lost -- whatever comes out of the clamped log, it is not the true 1.
    x.grad = None
    with np.errstate(divide="ignore", invalid="ignore"):
        clamped = F.binary_cross_entropy(F.sigmoid(x), tensor([0.0], dtype=np.float32))
        clamped.backward()
    assert clamped.item() == pytest.approx(100.0)
    assert not abs(float(host(x.grad)[0]) - 1.0) < 0.5
    # Right: the logits form, max(x, 0) - x y + log(1 + e^-|x|): 40, with gradient sigmoid(40) - 0 = 1.
    x.grad = None
    right = F.binary_cross_entropy_with_logits(x, tensor([0.0], dtype=np.float32))
    right.backward()
    assert right.item() == pytest.approx(40.0, rel=1e-6)
    assert host(x.grad)[0] == pytest.approx(1.0, rel=1e-6)


# -- BatchNorm: normalise with the biased variance, track the unbiased one ---------------------------

def test_batchnorm_running_variance_uses_the_unbiased_batch_variance():
    rng = np.random.default_rng(6)
    x = rng.normal(0.0, 3.0, size=(4, 3))          # m = 4 values per channel: the bias factor is 3/4
    bn = nn.BatchNorm1d(3, momentum=0.1).double()
    bn(tensor(x))
    right = 0.9 * 1.0 + 0.1 * x.var(axis=0, ddof=1)     # unbiased, as PyTorch
    wrong = 0.9 * 1.0 + 0.1 * x.var(axis=0, ddof=0)     # WRONG: biased
    np.testing.assert_allclose(host(bn.running_var), right, rtol=1e-12)
    assert np.all(np.abs(host(bn.running_var) - wrong) > 1e-3)

    # Why: averaged over many small batches, the unbiased variance finds the data's variance (9);
    # the biased one settles at 9 (m - 1) / m = 6.75, and eval() would then normalise with it.
    bn = nn.BatchNorm1d(3, momentum=None).double()       # cumulative average of the batch statistics
    biased = []
    for _ in range(500):
        batch = rng.normal(0.0, 3.0, size=(4, 3))
        bn(tensor(batch))
        biased.append(batch.var(axis=0, ddof=0))
    np.testing.assert_allclose(host(bn.running_var), 9.0, rtol=0.1)
    np.testing.assert_allclose(np.mean(biased, axis=0), 6.75, rtol=0.1)

    torch = pytest.importorskip("torch")
    theirs = torch.nn.BatchNorm1d(3).double()
    theirs(torch.from_numpy(x))
    np.testing.assert_allclose(theirs.running_var.numpy(), right, rtol=1e-12)


# -- sampling: generator.eval() -------------------------------------------------------------------------

def test_generator_left_in_training_mode_depends_on_the_batch():
    tinygan.manual_seed(7)
    G = MLPGenerator(latent_dim=8, hidden=(16,), out_shape=(2,), batchnorm=True, output="identity").double()
    rng = np.random.default_rng(7)
    z0 = rng.standard_normal((1, 8))
    batch_a = np.concatenate([z0, rng.standard_normal((7, 8))])
    batch_b = np.concatenate([z0, rng.standard_normal((7, 8)) + 2.0])
    # Train a little so that the running statistics are not the initial (0, 1)
    G.train()
    with no_grad():
        for _ in range(20):
            G(tensor(rng.standard_normal((32, 8))))
        # WRONG: sampling in training mode normalises with the batch's statistics, so the image made
        # from z0 depends on which other codes share its batch, and a lone z cannot be sampled at all ...
        stats_before = host(G.net[1].running_mean).copy()
        in_a, in_b = host(G(tensor(batch_a)))[0], host(G(tensor(batch_b)))[0]
        assert np.abs(in_a - in_b).max() > 1e-2
        with pytest.raises(ValueError, match="more than one value per channel"):
            G(tensor(z0))
        # ... and every sampling call moves the running statistics.
        assert not np.allclose(host(G.net[1].running_mean), stats_before)
        # Right: in eval mode the running statistics are used, and z0 gives one image, alone or in any batch.
        G.eval()
        alone = host(G(tensor(z0)))[0]
        np.testing.assert_allclose(host(G(tensor(batch_a)))[0], alone, rtol=1e-12)
        np.testing.assert_allclose(host(G(tensor(batch_b)))[0], alone, rtol=1e-12)


# -- the generator's direction (the seeds' words) -------------------------------------------------------

def one_descent_step(loss_of, logit=0.0, lr=0.5):
    """The fake's logit s after one gradient-descent step on loss_of(s); D(G(z)) = sigmoid(s)."""
    s = tensor([logit], requires_grad=True)
    loss_of(s).backward()
    return float(host(s)[0] - lr * host(s.grad)[0])


def test_the_generator_maximises_d_of_its_fakes():
    """Wrong: "G minimises the probability that D calls fakes real", or "G maximises E[log(1 - D(G(z)))]".
    Right: G minimises E[log(1 - D(G(z)))] (minimax) or -E[log D(G(z))] (non-saturating); both raise D(G(z))."""
    wrong_minimise_d = one_descent_step(lambda s: s.sigmoid().mean())                 # G minimises D(G(z))
    wrong_maximise = one_descent_step(lambda s: -losses.generator_loss_minimax(s))    # ascends E[log(1 - D)]
    right_minimax = one_descent_step(losses.generator_loss_minimax)
    right_nonsaturating = one_descent_step(losses.generator_loss_nonsaturating)
    assert wrong_minimise_d < 0 and wrong_maximise < 0             # D(G(z)) falls below 1/2: G helps D
    assert right_minimax > 0 and right_nonsaturating > 0           # D(G(z)) rises above 1/2: G fools D


def test_the_lsgan_generator_aims_at_the_real_label():
    """Wrong: LSGAN's G loss 1/2 E[D(G(z))^2], target 0 (the fake label). Right: 1/2 E[(D(G(z)) - 1)^2]."""
    wrong = one_descent_step(lambda s: 0.5 * (s ** 2).mean(), logit=0.5)
    right = one_descent_step(losses.lsgan_generator_loss, logit=0.5)
    assert wrong == pytest.approx(0.25) and right == pytest.approx(0.75)  # towards 0 (fake) vs towards 1 (real)


# -- the VAE's objective ----------------------------------------------------------------------------------

def test_the_vae_minimises_minus_the_elbo():
    """Wrong: minimising the ELBO itself. Right: minimising -ELBO = reconstruction + KL (`negative-elbo`)."""
    x = tensor(np.array([[1.0, 0.0, 1.0, 1.0]]))
    mu, logvar = tensor(np.zeros((1, 2))), tensor(np.zeros((1, 2)))
    good, bad = tensor(np.array([[8.0, -8.0, 8.0, 8.0]])), tensor(np.array([[-8.0, 8.0, -8.0, -8.0]]))  # logits
    right = {name: losses.vae_loss(losses.bernoulli_reconstruction(logits, x), mu, logvar)[0].item()
             for name, logits in (("good", good), ("bad", bad))}
    wrong = {name: -value for name, value in right.items()}           # the ELBO, minimised
    assert right["good"] < 0.01 < 30 < right["bad"]                   # -ELBO prefers the faithful decoder
    assert wrong["bad"] < wrong["good"]                                # the ELBO, minimised, prefers the worst one


def test_the_seeds_kl_with_a_data_term_and_sigma_as_variance():
    """Wrong, as a seed writes it: 1/2 sum((mu - x)^2 + sigma - log sigma), sigma called the variance, no
    -1. Right: KL(N(mu, sigma^2) || N(0, I)) = -1/2 sum(1 + log sigma^2 - mu^2 - sigma^2) (`gaussian-kl`)."""
    def seeds_kl(mu, sigma, x):
        return 0.5 * np.sum((mu - x) ** 2 + sigma - np.log(sigma))
    mu, logvar, x = np.zeros(3), np.zeros(3), np.array([0.3, -1.2, 2.0])   # q = N(0, I) = the prior exactly
    right = host(F.gaussian_kl(tensor(mu[None]), tensor(logvar[None]), reduction="sum"))
    wrong = seeds_kl(mu, np.exp(logvar), x)
    assert float(right) == pytest.approx(0.0, abs=1e-12)              # q equals the prior: nothing to pay
    assert wrong == pytest.approx(0.5 * (0.09 + 1.44 + 4.0 + 3.0))   # 4.27 nats for matching the prior


# -- code-level errors seen in the seeds' code ----------------------------------------------------------

def test_binary_cross_entropy_takes_the_prediction_first():
    """Wrong: BCE(target, prediction). Right: BCE(prediction, target), -[t log p + (1 - t) log(1 - p)]."""
    p, t = tensor([0.9]), tensor([1.0])
    right = F.binary_cross_entropy(p, t).item()
    wrong = F.binary_cross_entropy(t, p).item()                       # log(1 - 1) = -inf, clamped at -100
    assert right == pytest.approx(-math.log(0.9)) and wrong == pytest.approx(10.0)


def test_a_generator_run_like_predict_gets_no_gradient():
    """Wrong: G's output made as by Keras' predict (no graph: no_grad, or detached), then D's verdict on it
    used as G's loss. Right: G(z) recorded, so the loss reaches G's weights."""
    tinygan.manual_seed(0)
    G, D = nn.Linear(2, 3).double(), nn.Linear(3, 1).double()
    z = tensor(np.ones((4, 2)))
    with no_grad():
        predicted = G(z)                                              # "G.predict(z)"
    losses.generator_loss_nonsaturating(D(predicted)).backward()      # reaches D's weights only ...
    assert all(p.grad is None for p in G.parameters())               # ... so a G step would change nothing
    D.zero_grad()
    D.requires_grad_(False)
    losses.generator_loss_nonsaturating(D(G(z))).backward()
    assert all(p.grad is not None and np.abs(host(p.grad)).max() > 0 for p in G.parameters())


def test_the_discriminator_does_not_minimise_the_sum_of_its_outputs():
    """Wrong: D minimises mean(D(real)) + mean(D(fake)): it lowers its score of real data too.
    Right: D minimises -V, raising D(real) and lowering D(fake) (`gan-discriminator-loss`)."""
    def step(loss_of):
        real, fake = tensor([0.0], requires_grad=True), tensor([0.0], requires_grad=True)
        loss_of(real, fake).backward()
        return float(host(real.grad)[0]), float(host(fake.grad)[0])
    wrong_real, wrong_fake = step(lambda r, f: r.sigmoid().mean() + f.sigmoid().mean())
    right_real, right_fake = step(losses.discriminator_loss)
    assert wrong_real > 0 and wrong_fake > 0          # descent lowers both logits: real data called fake too
    assert right_real < 0 < right_fake                # descent raises the real logit, lowers the fake one


def test_data_must_span_the_range_of_the_generators_output():
    """Wrong: images scaled to [0.5, 1] under a tanh generator, whose outputs fill [-1, 1]. D then tells
    real from fake by brightness alone. Right: scale to [-1, 1], tanh's range (`scale_images`)."""
    from tinygan.data import load_embedded_mnist, scale_images
    images, _ = load_embedded_mnist()
    tinygan.manual_seed(0)
    G = MLPGenerator(latent_dim=16, hidden=(32,), out_shape=(784,), batchnorm=False)
    with no_grad():
        fakes = host(G(tinygan.randn(256, 16))).ravel()
    wrong = images[:256].reshape(-1).astype(np.float64) / 255 * 0.5 + 0.5
    right = scale_images(images[:256], (-1, 1)).reshape(-1)
    assert wrong.min() >= 0.5 and (fakes < 0.5).mean() > 0.5         # over half of G's pixels are impossible data
    assert right.min() == -1.0 and right.max() == 1.0                 # the data fills tanh's range


def test_a_stride_2_convolution_halves_it_does_not_upsample():
    """Wrong: Conv2d(stride=2) to go from 7x7 to 14x14. Right: ConvTranspose2d(k4, s2, p1) doubles the size."""
    x = tinygan.randn(1, 4, 7, 7, dtype=np.float64)
    assert nn.Conv2d(4, 2, 4, stride=2, padding=1).double()(x).shape[2:] == (3, 3)
    assert nn.ConvTranspose2d(4, 2, 4, stride=2, padding=1).double()(x).shape[2:] == (14, 14)


# -- the VAE-GAN objective: no E[log p_G(z)] ----------------------------------------------------------

def test_vaegan_extra_log_p_z_term_pulls_the_posterior_off_the_prior():
    """An uninformative code (mu = 0) descends its objective over logvar: the right prior term ends at the
    prior's variance 1; with the extra -E_q[log p(z)] (a Monte-Carlo estimate on the reparameterised codes)
    it ends at 1/2, the cross-entropy half of the KL counted twice."""
    eps = np.random.default_rng(0).standard_normal((4000, 2))
    mu = Tensor(np.zeros((1, 2)))

    def final_variance(extra_term):
        logvar = Tensor(np.full((1, 2), 1.0), requires_grad=True)
        for _ in range(300):
            loss = losses.vaegan_prior(mu, logvar)
            if extra_term:
                z = mu + (logvar * 0.5).exp() * Tensor(eps)          # codes of the encoder, reparameterised
                neg_log_p = (0.5 * z * z).sum(axis=1).mean() + math.log(2 * math.pi)  # -log N(z; 0, I), d = 2
                loss = loss + neg_log_p
            logvar.grad = None
            loss.backward()
            logvar = Tensor(logvar.array - 0.2 * logvar.grad.array, requires_grad=True)
        return np.exp(logvar.array)

    np.testing.assert_allclose(final_variance(extra_term=False), 1.0, atol=1e-3)   # right: q = the prior
    np.testing.assert_allclose(final_variance(extra_term=True), 0.5, atol=0.03)    # wrong: N(0, 1/2)

    # Read on the prior's own samples z_p, the term has no weight of any network in it: no gradient at all.
    z_p = Tensor(eps)
    assert not ((0.5 * z_p * z_p).sum(axis=1).mean()).requires_grad


def test_an_inclusive_transmittance_dims_every_surface():
    """Mistake 15: T_i with sum_{j <= i} (a plain cumsum) renders an opaque red wall at most 1/4 as bright."""
    t = tensor([[2.0, 3.0, 4.0]])
    sigma = tensor([[0.0, 30.0, 0.0]])                     # a wall within the second segment
    rgb = tensor([[[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 0.0]]])
    colour, _, _ = F.volume_render(sigma, rgb, t, 5.0)
    assert abs(host(colour)[0, 0] - 1.0) < 1e-9            # right: the wall's own colour
    optical_depth = sigma * F.segment_lengths(t, 5.0)
    alpha = 1.0 - F.exp(-optical_depth)
    inclusive = F.exp(-F.cumsum(optical_depth, dim=1))     # wrong: sample i dimmed by its own density too
    wrong = host(F.sum(F.unsqueeze(inclusive * alpha, -1) * rgb, axis=1))
    assert wrong[0, 0] < 1e-9 and wrong[0, 0] <= 0.25


def test_a_picture_fitted_to_a_caption_with_l1_is_the_median_not_a_drawing():
    """Mistake 16: a network trained with L1 to turn a caption into a picture learns one picture per caption, the
    per-pixel median of its images. For 'seven' that median beats every real seven in L1 yet has two thirds of a real
    seven's ink (61 pixels against 91), and it is the same every time; a sampler of p(image | caption) draws real
    sevens, different each time."""
    from tinygan.data import load_embedded_mnist
    images, labels = load_embedded_mnist()
    sevens = images[labels == 7].astype(np.float64) / 255.0            # every picture the caption "seven" names
    median = np.median(sevens, axis=0)                                  # the L1-optimal answer to "seven"
    some = sevens[:50]
    l1_of = lambda picture: np.abs(sevens - picture).mean()            # noqa: E731 (the L1 loss over the caption)
    assert l1_of(median) <= min(l1_of(s) for s in some)                 # nothing a real seven does beats it in L1
    ink = lambda picture: (picture > 0.5).sum(axis=(-2, -1))            # noqa: E731
    assert ink(median) < 0.75 * ink(sevens).mean()                      # but it is a thin ghost of a seven
    assert np.std(sevens, axis=0).max() > 0.4                           # while the sevens themselves differ a lot
