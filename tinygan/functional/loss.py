"""Loss functions. The two cross-entropies are Functions, for numerical care at extreme values;
their backward passes, and the other losses, are built from differentiable operations, so
gradients of gradients work through all of them."""

import numpy as np

from ..autograd import Function
from ._util import as_tensor, xp_of
from .activation import sigmoid
from .reduce import sum_to
from .arithmetic import clamp, exp, log

REDUCTIONS = ("mean", "sum", "none")


def _reduce(op, loss, reduction):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"{op}: reduction must be one of {REDUCTIONS}, got {reduction!r}")


def _check_targets(op, inputs, targets):
    # Check the dtype before as_tensor, which would silently turn an integer array into the inputs' dtype.
    dtype = getattr(targets, "dtype", None)  # arrays and Tensors; a plain number takes the inputs' dtype
    if dtype is not None and dtype.kind != "f":
        raise TypeError(f"{op}: targets must be floating point (e.g. 0.0 and 1.0), got dtype {dtype}")
    targets = as_tensor(targets, like=inputs)
    if tuple(targets.shape) != tuple(inputs.shape) and targets.ndim != 0:
        raise ValueError(f"{op}: targets have shape {tuple(targets.shape)} but inputs have shape {tuple(inputs.shape)}")
    return targets


class BCEWithLogits(Function):
    """l(x, y) = -[y log sigmoid(x) + (1 - y) log(1 - sigmoid(x))] = max(x, 0) - x y + log(1 + e^-|x|).

    The last form never takes the log of a rounded-off 0, and adds the small
    log(1 + e^-|x|) last, after max(x, 0) - x y has cancelled exactly (for x = 20,
    y = 1 in float32, softplus(x) - x would round 2e-9 to 0).
    dl/dx = sigmoid(x) - y = (1 - y) sigmoid(x) - y sigmoid(-x);  dl/dy = -x.
    The second form of dl/dx stays exact when sigmoid(x) rounds to 1 (x = 20 in float32).
    """

    def forward(self, x, y):
        xp = xp_of(x)
        return (xp.maximum(x, 0) - x * y) + xp.log1p(xp.exp(-xp.abs(x)))  # [formula: bce-with-logits]

    def backward(self, grad):
        x, y = self.inputs
        grad_x = None
        if self.needs_input_grad[0]:
            grad_x = grad * ((1 - y) * sigmoid(x) - y * sigmoid(-x))  # [formula: bce-with-logits-grad]
        grad_y = sum_to(-grad * x, y.shape) if self.needs_input_grad[1] else None
        return grad_x, grad_y


def binary_cross_entropy_with_logits(logits, targets, reduction="mean"):
    """BCE on logits x with targets y, in the stable form (see BCEWithLogits); gradient sigmoid(x) - y."""
    targets = _check_targets("binary_cross_entropy_with_logits", logits, targets)
    loss = BCEWithLogits.apply(logits, targets)
    return _reduce("binary_cross_entropy_with_logits", loss, reduction)


class BinaryCrossEntropy(Function):
    """l(p, y) = -[y log p + (1 - y) log(1 - p)], each log clamped at -100 as in PyTorch.

    dl/dp = (p - y) / (p (1 - p)), with the denominator kept >= 1e-12 (as PyTorch
    does) so that a p rounded to exactly 0 or 1 gives a large but finite gradient.
    """

    def forward(self, p, y):
        xp = xp_of(p)
        with np.errstate(divide="ignore"):  # log(0) = -inf is clamped on the next line
            log_p, log_not_p = xp.log(p), xp.log(1 - p)
        return -(y * xp.maximum(log_p, -100) + (1 - y) * xp.maximum(log_not_p, -100))  # [formula: bce]

    def backward(self, grad):
        p, y = self.inputs
        grad_p = grad_y = None
        if self.needs_input_grad[0]:
            grad_p = grad * (p - y) / clamp(p * (1 - p), min=1e-12)  # [formula: bce-grad]
        if self.needs_input_grad[1]:
            grad_y = sum_to(-grad * (clamp(log(p), min=-100.0) - clamp(log(1 - p), min=-100.0)), y.shape)
        return grad_p, grad_y


def binary_cross_entropy(probs, targets, reduction="mean"):
    """BCE on probabilities p (see BinaryCrossEntropy).

    Prefer binary_cross_entropy_with_logits: once sigmoid rounds p to exactly 0 or 1
    (|x| > 17 in float32), log p is -inf and the information in the logit is lost;
    the clamp only hides that. The logits form computes the same loss without ever
    forming p.
    """
    targets = _check_targets("binary_cross_entropy", probs, targets)
    loss = BinaryCrossEntropy.apply(probs, targets)
    return _reduce("binary_cross_entropy", loss, reduction)


def mse_loss(inputs, targets, reduction="mean"):
    """Mean squared error: (x - y)^2, averaged (or summed) over all elements."""
    targets = _check_targets("mse_loss", inputs, targets)
    diff = inputs - targets
    return _reduce("mse_loss", diff * diff, reduction)  # [formula: mse]


def gaussian_kl(mu, logvar, reduction="sum"):
    """KL(N(mu, sigma^2) || N(0, 1)) per sample, summed over the latent dimensions:

        KL = -1/2 sum_j (1 + log sigma_j^2 - mu_j^2 - sigma_j^2)      (Kingma & Welling, 2014, appendix B)

    mu and logvar (= log sigma^2) have shape (N, latent). reduction over the batch:
    'sum' (the VAE convention), 'mean' or 'none' (one value per sample).
    """
    if tuple(mu.shape) != tuple(logvar.shape):
        raise ValueError(f"gaussian_kl: mu has shape {tuple(mu.shape)} but logvar has shape {tuple(logvar.shape)}")
    terms = 1 + logvar - mu * mu - exp(logvar)
    per_sample = (terms.sum(axis=-1)) * -0.5  # [formula: gaussian-kl]
    return _reduce("gaussian_kl", per_sample, reduction)


# -- the VAE's terms: used by training (tinygan/train/losses.py) and by evaluation (tinygan/metrics.py) --

def reparameterize(mu, logvar, rng):
    """z = mu + sigma * eps with sigma = exp(logvar / 2), eps ~ N(0, I) (Kingma & Welling, 2014, section 2.4).

    The randomness sits in eps, outside the graph, so gradients reach mu and logvar.
    """
    eps = rng.standard_normal(mu.shape, dtype=mu.dtype)
    return mu + (logvar * 0.5).exp() * eps  # [formula: reparameterization]


def bernoulli_reconstruction(logits, targets):
    """-log p(x|z) for Bernoulli pixels in [0, 1]: BCE on logits summed over pixels, per image (N,)."""
    per_pixel = binary_cross_entropy_with_logits(logits, targets, reduction="none")
    return per_pixel.reshape(per_pixel.shape[0], -1).sum(axis=1)  # [formula: bernoulli-reconstruction]


def gaussian_reconstruction(means, targets):
    """-log p(x|z) for Gaussian pixels with unit variance, up to a constant: 1/2 ||x - mu||^2 per image (N,)."""
    diff = (means - targets).reshape(targets.shape[0], -1)
    return 0.5 * (diff * diff).sum(axis=1)  # [formula: gaussian-reconstruction]
