"""Probability distributions with PyTorch's names and arguments: Normal, Bernoulli, Categorical, Independent and
kl_divergence, as torch.distributions has them for VAE and language-model code.

    q = Normal(mu, (0.5 * logvar).exp())
    z = q.rsample()                                   # mu + sigma * eps: the reparameterisation, differentiable
    kl = kl_divergence(q, Normal(0.0, 1.0)).sum(-1)   # closed form, per latent
    log_px = Bernoulli(logits=decoded).log_prob(x).sum(-1)

Every value is a few tensor operations of tinygan, so each gradient is that of the operations it is written
with. The arguments are checked as PyTorch's validate_args checks them (a scale above 0, probabilities in
[0, 1]). The draws come from tinygan's seeded generator, so they differ from PyTorch's.
"""
import math

import numpy as np

from . import backend
from . import functional as F
from .autograd import Tensor, no_grad
from .functional._util import as_tensor

__all__ = ["Distribution", "Normal", "Bernoulli", "Categorical", "Independent", "kl_divergence"]


def _shape(sample_shape):
    return (sample_shape,) if isinstance(sample_shape, int) else tuple(sample_shape)


def _floats(*values):
    """The values as tensors of one floating dtype: a number takes the dtype of a tensor among them."""
    like = next((v for v in values if isinstance(v, Tensor) and v.dtype.kind == "f"), None)
    return [as_tensor(float(v), like=like) if not isinstance(v, Tensor) else v for v in values]


def _like(value, tensor):
    """`value` (a tensor, array or number) as a tensor, a number taking `tensor`'s dtype."""
    return value if isinstance(value, Tensor) else as_tensor(value if np.ndim(value) else float(value), like=tensor)


def _log_sigmoid(x):
    """log sigmoid(x) = -softplus(-x), finite for any x."""
    return -F.softplus(-x)


def _check(name, parameter, holds, constraint):
    if not bool(holds(backend.to_numpy(parameter.array)).all()):
        raise ValueError(f"{name}: expected parameter {parameter!r} of shape {tuple(parameter.shape)} to satisfy "
                         f"the constraint {constraint}")


class Distribution:
    """What every distribution has: its batch shape, samples, and log_prob; mean and variance where defined."""

    batch_shape = ()
    has_rsample = False

    def sample(self, sample_shape=()):
        """Draws of shape sample_shape + batch_shape, cut from the graph."""
        with no_grad():
            return self.rsample(sample_shape).detach()

    def rsample(self, sample_shape=()):
        raise NotImplementedError(f"{type(self).__name__} has no reparameterised sample; use sample()")

    def log_prob(self, value):
        raise NotImplementedError

    def entropy(self):
        raise NotImplementedError

    @property
    def stddev(self):
        return self.variance.sqrt()

    def __repr__(self):
        return f"{type(self).__name__}(batch_shape={tuple(self.batch_shape)})"


class Normal(Distribution):
    """N(loc, scale^2), elementwise; loc and scale broadcast against each other."""

    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        loc, scale = _floats(loc, scale)
        self.batch_shape = np.broadcast_shapes(tuple(loc.shape), tuple(scale.shape))
        self.loc, self.scale = F.broadcast_to(loc, self.batch_shape), F.broadcast_to(scale, self.batch_shape)
        if validate_args is not False:
            _check("Normal", self.scale, lambda s: s > 0, "GreaterThan(lower_bound=0.0)")

    def rsample(self, sample_shape=()):
        """loc + scale * eps with eps ~ N(0, 1): the reparameterisation, so gradients reach loc and scale."""
        shape = _shape(sample_shape) + tuple(self.batch_shape)
        eps = backend.rng_for(self.loc.array).standard_normal(shape, dtype=self.loc.dtype)
        return self.loc + self.scale * Tensor(eps)  # [formula: normal-rsample]

    def log_prob(self, value):
        """-(value - loc)^2 / (2 scale^2) - log scale - log(2 pi) / 2."""
        value = _like(value, self.loc)
        squared = ((value - self.loc) / self.scale) ** 2
        return -0.5 * squared - self.scale.log() - 0.5 * math.log(2 * math.pi)  # [formula: normal-log-prob]

    def entropy(self):
        """1/2 + log(2 pi) / 2 + log scale."""
        return 0.5 + 0.5 * math.log(2 * math.pi) + self.scale.log()  # [formula: normal-entropy]

    @property
    def mean(self):
        return self.loc

    @property
    def variance(self):
        return self.scale ** 2

    @property
    def stddev(self):
        return self.scale


class Bernoulli(Distribution):
    """1 with probability p, else 0, elementwise; give probs= or logits= (log p - log(1 - p)), not both."""

    def __init__(self, probs=None, logits=None, validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError("Bernoulli: either `probs` or `logits` must be specified, but not both")
        if probs is not None:
            self.probs, = _floats(probs)
            if validate_args is not False:
                _check("Bernoulli", self.probs, lambda p: (p >= 0) & (p <= 1), "Interval(lower_bound=0.0, "
                                                                               "upper_bound=1.0)")
            tiny = float(np.finfo(self.probs.dtype).eps)               # as PyTorch: probabilities clamped to
            clamped = self.probs.clamp(tiny, 1 - tiny)                  # [eps, 1 - eps] before the logarithm
            self.logits = clamped.log() - (1 - clamped).log()
        else:
            self.logits, = _floats(logits)
            self.probs = F.sigmoid(self.logits)
        self.batch_shape = tuple(self.logits.shape)

    def sample(self, sample_shape=()):
        shape = _shape(sample_shape) + tuple(self.batch_shape)
        uniform = backend.rng_for(self.probs.array).random(shape, dtype=self.probs.dtype)
        return Tensor((uniform < self.probs.array).astype(self.probs.dtype))

    def log_prob(self, value):
        """value log p + (1 - value) log(1 - p), from the logits without overflow (binary cross-entropy)."""
        value = _like(value, self.logits)
        logits = F.broadcast_to(self.logits, np.broadcast_shapes(tuple(self.logits.shape), tuple(value.shape)))
        value = F.broadcast_to(value, tuple(logits.shape))
        return -F.binary_cross_entropy_with_logits(logits, value, reduction="none")  # [formula: bernoulli-log-prob]

    def entropy(self):
        return F.binary_cross_entropy_with_logits(self.logits, self.probs, reduction="none")

    @property
    def mean(self):
        return self.probs

    @property
    def variance(self):
        return self.probs * (1 - self.probs)


class Categorical(Distribution):
    """One of K categories (the last axis of probs or logits), with probabilities probs, or softmax(logits);
    give one of them, not both. probs need not sum to 1: they are normalised, as in PyTorch."""

    def __init__(self, probs=None, logits=None, validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError("Categorical: either `probs` or `logits` must be specified, but not both")
        given, = _floats(probs if probs is not None else logits)
        if given.ndim < 1:
            raise ValueError(f"Categorical: expects at least one axis of categories, got shape {tuple(given.shape)}")
        if probs is not None:
            if validate_args is not False:
                _check("Categorical", given, lambda p: p >= 0, "IndependentConstraint(Simplex())")
            self.probs = given / given.sum(axis=-1, keepdims=True)
            tiny = float(np.finfo(given.dtype).eps)                     # as PyTorch: clamped before the logarithm
            given = self.probs.clamp(tiny, 1 - tiny).log()
        else:
            self.probs = F.softmax(given, dim=-1)
        self.logits = given - F.logsumexp(given, axis=-1, keepdims=True)          # log-probabilities
        self.batch_shape = tuple(given.shape[:-1])

    def sample(self, sample_shape=()):
        """int64 categories of shape sample_shape + batch_shape: the first whose running sum of probabilities
        passes a uniform draw."""
        probs = self.probs.array
        xp = backend.get_array_module(probs)
        shape = _shape(sample_shape) + tuple(self.batch_shape)
        uniform = backend.rng_for(probs).random(shape + (1,), dtype=probs.dtype)
        running = xp.cumsum(probs, axis=-1)
        chosen = (running < uniform).sum(axis=-1)
        return Tensor(xp.minimum(chosen, probs.shape[-1] - 1).astype(xp.int64))

    def log_prob(self, value):
        """`log probs[value]`, for int64 categories of shape (..., ) + batch_shape."""
        value = value.array if isinstance(value, Tensor) else backend.xp().asarray(value)
        shape = np.broadcast_shapes(tuple(value.shape), tuple(self.batch_shape))
        log_probs = F.broadcast_to(self.logits, shape + (self.logits.shape[-1],))
        index = backend.get_array_module(value).broadcast_to(value, shape)[..., None].astype(np.int64)
        return F.gather(log_probs, -1, Tensor(index)).squeeze(-1)  # [formula: categorical-log-prob]

    def entropy(self):
        """-sum_k p_k log p_k (0 log 0 taken as 0)."""
        return -(self.probs * self.logits).sum(axis=-1)  # [formula: categorical-entropy]

    @property
    def mean(self):
        """NaN, as in PyTorch: categories are not numbers."""
        xp = backend.get_array_module(self.probs.array)
        return Tensor(xp.full(tuple(self.batch_shape), xp.nan, dtype=self.probs.dtype))


class Independent(Distribution):
    """base with its last `reinterpreted_batch_ndims` batch axes taken as one event: log_prob and entropy sum over
    them (a diagonal Gaussian over a latent vector: Independent(Normal(mu, sigma), 1))."""

    def __init__(self, base_distribution, reinterpreted_batch_ndims, validate_args=None):
        n = int(reinterpreted_batch_ndims)
        if not 0 <= n <= len(base_distribution.batch_shape):
            raise ValueError(f"Independent: reinterpreted_batch_ndims {n} must be between 0 and the base's batch "
                             f"dimensions {len(base_distribution.batch_shape)}")
        self.base_dist, self.reinterpreted_batch_ndims = base_distribution, n
        self.batch_shape = tuple(base_distribution.batch_shape)[:len(base_distribution.batch_shape) - n]
        self.has_rsample = base_distribution.has_rsample

    def _sum_event(self, values):
        n = self.reinterpreted_batch_ndims
        return values.sum(axis=tuple(range(values.ndim - n, values.ndim))) if n else values

    def sample(self, sample_shape=()):
        return self.base_dist.sample(sample_shape)

    def rsample(self, sample_shape=()):
        return self.base_dist.rsample(sample_shape)

    def log_prob(self, value):
        return self._sum_event(self.base_dist.log_prob(value))

    def entropy(self):
        return self._sum_event(self.base_dist.entropy())

    @property
    def mean(self):
        return self.base_dist.mean

    @property
    def variance(self):
        return self.base_dist.variance


def kl_divergence(p, q):
    """KL(p || q) = E_p[log p - log q], in closed form, for two distributions of the same kind."""
    if isinstance(p, Independent) and isinstance(q, Independent):
        if p.reinterpreted_batch_ndims != q.reinterpreted_batch_ndims:
            raise NotImplementedError("kl_divergence: Independent distributions over different event dimensions")
        return p._sum_event(kl_divergence(p.base_dist, q.base_dist))
    kinds = (type(p), type(q))
    if kinds == (Normal, Normal):
        # log(sigma_q / sigma_p) + (sigma_p^2 + (mu_p - mu_q)^2) / (2 sigma_q^2) - 1/2
        ratio = (p.scale / q.scale) ** 2
        return 0.5 * (ratio + ((p.loc - q.loc) / q.scale) ** 2 - 1 - ratio.log())  # [formula: normal-kl]
    if kinds == (Bernoulli, Bernoulli):
        # p log(p / q) + (1 - p) log((1 - p) / (1 - q)), with the logarithms from the logits
        return (p.probs * (_log_sigmoid(p.logits) - _log_sigmoid(q.logits))
                + (1 - p.probs) * (_log_sigmoid(-p.logits) - _log_sigmoid(-q.logits)))  # [formula: bernoulli-kl]
    if kinds == (Categorical, Categorical):
        return (p.probs * (p.logits - q.logits)).sum(axis=-1)  # [formula: categorical-kl]
    raise NotImplementedError(f"kl_divergence: no closed form here for {type(p).__name__} and {type(q).__name__}")
