"""tinygan.distributions: Normal, Bernoulli, Categorical, Independent and kl_divergence, as torch.distributions.

Their values against the closed forms, float64 gradient checks of what VAE code differentiates (log_prob,
entropy, kl_divergence, rsample), the draws' frequencies, clear errors for bad parameters, and, where torch is
installed, every value equal to PyTorch's."""
import math

import numpy as np
import pytest

import tinygan
import tinygan.nn.functional as F
from tinygan import backend
from tinygan import distributions as D
from tinygan.gradcheck import gradcheck, gradgradcheck


def host(t):
    return backend.to_numpy(t.array)


def tensor(array, requires_grad=False):
    return tinygan.tensor(backend.to_device(np.asarray(array, dtype=np.float64), backend.current_device()),
                          requires_grad=requires_grad)


RNG = np.random.default_rng(0)
MU, LOG_SCALE, X = RNG.standard_normal((3, 4)), 0.3 * RNG.standard_normal((3, 4)), RNG.standard_normal((3, 4))
PROBS, LOGITS = RNG.uniform(0.05, 0.95, (3, 4)), RNG.standard_normal((3, 5))
BITS, CATEGORIES = (RNG.random((3, 4)) < 0.5) * 1.0, RNG.integers(0, 5, (2, 3))


# -- values against the closed forms --------------------------------------------------------------------------

def test_normal_log_prob_entropy_and_kl_are_the_closed_forms():
    scale = np.exp(LOG_SCALE)
    q = D.Normal(tensor(MU), tensor(scale))
    np.testing.assert_allclose(host(q.log_prob(tensor(X))),
                               -(X - MU) ** 2 / (2 * scale ** 2) - np.log(scale) - 0.5 * np.log(2 * np.pi))
    np.testing.assert_allclose(host(q.entropy()), 0.5 + 0.5 * np.log(2 * np.pi) + np.log(scale))
    kl = D.kl_divergence(q, D.Normal(0.0, 1.0))
    np.testing.assert_allclose(host(kl.sum(-1)), host(F.gaussian_kl(tensor(MU), tensor(2 * LOG_SCALE),
                                                                    reduction="none")))
    assert host(q.mean).tolist() == MU.tolist() and np.allclose(host(q.variance), scale ** 2)


def test_bernoulli_and_categorical_are_the_closed_forms():
    b = D.Bernoulli(probs=tensor(PROBS))
    np.testing.assert_allclose(host(b.log_prob(tensor(BITS))), BITS * np.log(PROBS) + (1 - BITS) * np.log(1 - PROBS))
    np.testing.assert_allclose(host(b.entropy()), -PROBS * np.log(PROBS) - (1 - PROBS) * np.log(1 - PROBS))
    np.testing.assert_allclose(host(D.Bernoulli(logits=tensor(LOGITS)).probs), 1 / (1 + np.exp(-LOGITS)))
    c = D.Categorical(logits=tensor(LOGITS))
    log_p = LOGITS - np.log(np.exp(LOGITS).sum(-1, keepdims=True))
    np.testing.assert_allclose(host(c.log_prob(tensor(CATEGORIES).long())),
                               np.take_along_axis(np.broadcast_to(log_p, (2, 3, 5)), CATEGORIES[..., None], -1)[..., 0])
    np.testing.assert_allclose(host(c.entropy()), -(np.exp(log_p) * log_p).sum(-1))
    other = D.Categorical(probs=tensor(np.exp(LOGITS[::-1])))           # probabilities that do not sum to 1
    log_q = LOGITS[::-1] - np.log(np.exp(LOGITS[::-1]).sum(-1, keepdims=True))
    np.testing.assert_allclose(host(D.kl_divergence(c, other)), (np.exp(log_p) * (log_p - log_q)).sum(-1), atol=1e-12)
    assert np.isnan(host(c.mean)).all() and c.batch_shape == (3,)


def test_independent_sums_over_the_event_axes():
    base = D.Normal(tensor(MU), tensor(np.exp(LOG_SCALE)))
    latent = D.Independent(base, 1)
    assert latent.batch_shape == (3,) and latent.has_rsample
    np.testing.assert_allclose(host(latent.log_prob(tensor(X))), host(base.log_prob(tensor(X))).sum(-1))
    np.testing.assert_allclose(host(D.Independent(base, 2).entropy()), host(base.entropy()).sum())
    prior = D.Independent(D.Normal(tensor(np.zeros((3, 4))), tensor(np.ones((3, 4)))), 1)
    np.testing.assert_allclose(host(D.kl_divergence(latent, prior)),
                               host(D.kl_divergence(base, prior.base_dist)).sum(-1))


# -- gradients -------------------------------------------------------------------------------------------------

def test_normal_gradients_and_second_derivatives():
    value = tensor(X)
    log_prob = lambda mu, log_scale: D.Normal(mu, log_scale.exp()).log_prob(value)
    kl = lambda mu, log_scale: D.kl_divergence(D.Normal(mu, log_scale.exp()), D.Normal(0.5, 2.0))
    entropy = lambda log_scale: D.Normal(0.0, log_scale.exp()).entropy()
    for fn, inputs in ((log_prob, (MU, LOG_SCALE)), (kl, (MU, LOG_SCALE)), (entropy, (LOG_SCALE,))):
        leaves = [tensor(a, requires_grad=True) for a in inputs]
        assert gradcheck(fn, leaves) and gradgradcheck(fn, leaves)


def test_bernoulli_and_categorical_gradients():
    bits, categories = tensor(BITS), tensor(CATEGORIES).long()
    cases = [
        (lambda logits: D.Bernoulli(logits=logits).log_prob(bits), LOGITS[:, :4]),
        (lambda logits: D.Bernoulli(logits=logits).entropy(), LOGITS),
        (lambda p: D.kl_divergence(D.Bernoulli(probs=p), D.Bernoulli(logits=tensor(MU))), PROBS),
        (lambda logits: D.Categorical(logits=logits).log_prob(categories), LOGITS),
        (lambda logits: D.Categorical(logits=logits).entropy(), LOGITS),
        (lambda p: D.kl_divergence(D.Categorical(probs=p), D.Categorical(logits=tensor(LOGITS))), np.exp(LOGITS)),
    ]
    for fn, start in cases:
        assert gradcheck(fn, [tensor(start, requires_grad=True)])


def test_rsample_is_the_reparameterisation_and_sample_is_cut_from_the_graph():
    loc, scale = tensor(MU, requires_grad=True), tensor(np.exp(LOG_SCALE), requires_grad=True)
    q = D.Normal(loc, scale)
    tinygan.manual_seed(3)
    z = q.rsample((2,))
    eps = (host(z) - MU) / np.exp(LOG_SCALE)                         # the noise the draw used
    z.sum().backward()
    np.testing.assert_allclose(host(loc.grad), np.full((3, 4), 2.0))   # dz/dloc = 1, for each of the 2 draws
    np.testing.assert_allclose(host(scale.grad), eps.sum(0))            # dz/dscale = eps
    assert not q.sample((5,)).requires_grad and q.sample((5,)).shape == (5, 3, 4)


def test_draws_follow_the_distributions():
    tinygan.manual_seed(0)
    normal = host(D.Normal(tensor([1.0, -2.0]), tensor([0.5, 3.0])).sample((40000,)))
    np.testing.assert_allclose(normal.mean(0), [1.0, -2.0], atol=0.05)
    np.testing.assert_allclose(normal.std(0), [0.5, 3.0], rtol=0.02)
    bits = host(D.Bernoulli(probs=tensor([0.1, 0.8])).sample((40000,)))
    np.testing.assert_allclose(bits.mean(0), [0.1, 0.8], atol=0.01)
    draws = host(D.Categorical(probs=tensor([[0.2, 0.0, 0.8], [0.5, 0.25, 0.25]])).sample((40000,)))
    assert draws.dtype == np.int64 and draws.shape == (40000, 2)
    np.testing.assert_allclose(np.bincount(draws[:, 0], minlength=3) / 40000, [0.2, 0.0, 0.8], atol=0.01)
    np.testing.assert_allclose(np.bincount(draws[:, 1], minlength=3) / 40000, [0.5, 0.25, 0.25], atol=0.01)


# -- bad parameters ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("make, message", [
    (lambda: D.Normal(0.0, tensor([1.0, 0.0])), r"Normal: expected parameter .* GreaterThan\(lower_bound=0.0\)"),
    (lambda: D.Bernoulli(probs=tensor([0.5, 1.5])), r"Bernoulli: expected parameter .* Interval"),
    (lambda: D.Bernoulli(probs=0.5, logits=0.0), r"Bernoulli: either `probs` or `logits` must be specified"),
    (lambda: D.Categorical(), r"Categorical: either `probs` or `logits` must be specified"),
    (lambda: D.Categorical(probs=tensor([0.5, -0.1])),
     r"Categorical: expected parameter .*IndependentConstraint\(Simplex"),
    (lambda: D.Categorical(logits=tensor(1.0)), r"Categorical: expects at least one axis of categories"),
    (lambda: D.Independent(D.Normal(tensor([0.0]), 1.0), 2), r"Independent: reinterpreted_batch_ndims 2"),
])
def test_bad_parameters_are_named(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_a_kl_without_a_closed_form_is_refused_by_name():
    with pytest.raises(NotImplementedError, match="kl_divergence: no closed form here for Normal and Bernoulli"):
        D.kl_divergence(D.Normal(0.0, 1.0), D.Bernoulli(probs=0.5))


# -- against PyTorch ---------------------------------------------------------------------------------------

def _case(name):
    """name -> fn(distributions module, tensor maker) giving one value, written once for both frameworks."""
    return {
        "Normal.log_prob": lambda d, t: d.Normal(t(MU), t(np.exp(LOG_SCALE))).log_prob(t(X)),
        "Normal.entropy": lambda d, t: d.Normal(t(MU), t(np.exp(LOG_SCALE))).entropy(),
        "kl(Normal, Normal)": lambda d, t: d.kl_divergence(d.Normal(t(MU), t(np.exp(LOG_SCALE))),
                                                           d.Normal(t(X), t(np.ones((3, 4))))),
        "Bernoulli(logits).log_prob": lambda d, t: d.Bernoulli(logits=t(MU)).log_prob(t(BITS)),
        "Bernoulli(probs).log_prob": lambda d, t: d.Bernoulli(probs=t(PROBS)).log_prob(t(BITS)),
        "Bernoulli.entropy": lambda d, t: d.Bernoulli(probs=t(PROBS)).entropy(),
        "kl(Bernoulli, Bernoulli)": lambda d, t: d.kl_divergence(d.Bernoulli(probs=t(PROBS)),
                                                                 d.Bernoulli(logits=t(MU))),
        "Categorical.log_prob": lambda d, t: d.Categorical(logits=t(LOGITS)).log_prob(t(CATEGORIES, int)),
        "Categorical(probs).log_prob": lambda d, t: d.Categorical(probs=t(np.exp(LOGITS))).log_prob(
            t(CATEGORIES[0], int)),
        "Categorical.entropy": lambda d, t: d.Categorical(logits=t(LOGITS)).entropy(),
        "kl(Categorical, Categorical)": lambda d, t: d.kl_divergence(d.Categorical(logits=t(LOGITS)),
                                                                     d.Categorical(probs=t(np.exp(LOGITS[::-1])))),
        "Independent.log_prob": lambda d, t: d.Independent(d.Normal(t(MU), t(np.exp(LOG_SCALE))), 1).log_prob(t(X)),
        "kl(Independent, Independent)": lambda d, t: d.kl_divergence(
            d.Independent(d.Normal(t(MU), t(np.exp(LOG_SCALE))), 1), d.Independent(d.Normal(t(X), t(PROBS)), 1)),
    }[name]


CASES = ["Normal.log_prob", "Normal.entropy", "kl(Normal, Normal)", "Bernoulli(logits).log_prob",
         "Bernoulli(probs).log_prob", "Bernoulli.entropy", "kl(Bernoulli, Bernoulli)", "Categorical.log_prob",
         "Categorical(probs).log_prob", "Categorical.entropy", "kl(Categorical, Categorical)", "Independent.log_prob",
         "kl(Independent, Independent)"]


@pytest.mark.parametrize("name", CASES)
def test_values_equal_pytorchs(name):
    torch = pytest.importorskip("torch")

    def torch_tensor(array, kind=float):
        return torch.tensor(np.asarray(array), dtype=torch.float64 if kind is float else torch.int64)

    def ours(array, kind=float):
        return tensor(array) if kind is float else tensor(array).long()

    expected = _case(name)(torch.distributions, torch_tensor).numpy()
    np.testing.assert_allclose(host(_case(name)(D, ours)), expected, rtol=1e-10, atol=1e-12)


def test_pytorch_code_finds_them_where_it_looks():
    assert tinygan.distributions.Normal is D.Normal and math.isclose(
        float(tinygan.distributions.kl_divergence(D.Normal(0.0, 1.0), D.Normal(0.0, 1.0)).item()), 0.0)
