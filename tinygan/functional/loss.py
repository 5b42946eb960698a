"""Loss functions. Each is a short composition of differentiable operations,
so its gradient (and the gradient of that) comes from the operations' own."""

from ._util import as_tensor
from .activation import softplus
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
    targets = as_tensor(targets, like=inputs)
    if targets.dtype.kind != "f":
        raise TypeError(f"{op}: targets must be floating point (e.g. 0.0 and 1.0), got dtype {targets.dtype}")
    if tuple(targets.shape) != tuple(inputs.shape) and targets.ndim != 0:
        raise ValueError(f"{op}: targets have shape {tuple(targets.shape)} but inputs have shape {tuple(inputs.shape)}")
    return targets


def binary_cross_entropy_with_logits(logits, targets, reduction="mean"):
    """BCE on logits x with targets y, in the stable form

        l(x, y) = -[y log sigmoid(x) + (1 - y) log(1 - sigmoid(x))] = softplus(x) - x y

    which never takes the log of a rounded-off 0; its gradient is sigmoid(x) - y.
    """
    targets = _check_targets("binary_cross_entropy_with_logits", logits, targets)
    loss = softplus(logits) - logits * targets  # [formula: bce-with-logits]
    return _reduce("binary_cross_entropy_with_logits", loss, reduction)


def binary_cross_entropy(probs, targets, reduction="mean"):
    """BCE on probabilities p: -[y log p + (1 - y) log(1 - p)], each log clamped at -100 as in PyTorch.

    Prefer binary_cross_entropy_with_logits: once sigmoid rounds p to exactly 0 or 1
    (|x| > 17 in float32), log p is -inf and the gradient is lost; the clamp only
    hides that. The logits form computes the same loss without ever forming p.
    """
    targets = _check_targets("binary_cross_entropy", probs, targets)
    log_p = clamp(log(probs), min=-100.0)
    log_not_p = clamp(log(1 - probs), min=-100.0)
    loss = -(targets * log_p + (1 - targets) * log_not_p)  # [formula: bce]
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



