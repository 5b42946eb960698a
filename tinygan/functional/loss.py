"""Loss functions. The two cross-entropies are Functions, for numerical care at extreme values;
their backward passes, and the other losses, are built from differentiable operations, so
gradients of gradients work through all of them."""

import math
import warnings

import numpy as np

from .. import backend, kernels
from ..autograd import Function, Tensor
from ._util import as_tensor, constant, xp_of
from .activation import logsigmoid, sigmoid, softplus
from .reduce import sum_to
from .arithmetic import abs, clamp, exp, log, minimum, sqrt, where
from .norms import pairwise_distance
from .softmax import log_softmax, softmax

REDUCTIONS = ("mean", "sum", "none")


def _check_reduction(op, reduction):
    if reduction not in REDUCTIONS:
        raise ValueError(f"{op}: reduction must be one of {REDUCTIONS}, got {reduction!r}")


def _reduce(op, loss, reduction):
    _check_reduction(op, reduction)
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


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


def binary_cross_entropy_with_logits(logits, targets, weight=None, size_average=None, reduce=None, reduction="mean",
                                     pos_weight=None):
    """BCE on logits x with targets y, in the stable form (see BCEWithLogits); gradient sigmoid(x) - y.

    PyTorch's arguments: weight multiplies each element's loss before the reduction; pos_weight weights the
    positive term (see bce_with_logits_pos_weight); the deprecated size_average= and reduce= set the
    reduction as in PyTorch (legacy_reduction), with its warning.
    """
    reduction = legacy_reduction("binary_cross_entropy_with_logits", size_average, reduce, reduction)
    if pos_weight is not None:
        loss = bce_with_logits_pos_weight(logits, targets, pos_weight)
    else:
        loss = BCEWithLogits.apply(logits, _check_targets("binary_cross_entropy_with_logits", logits, targets))
    if weight is not None:
        loss = loss * as_tensor(weight, like=logits)
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


def binary_cross_entropy(probs, targets, weight=None, size_average=None, reduce=None, reduction="mean"):
    """BCE on probabilities p (see BinaryCrossEntropy). weight multiplies each element's loss before the
    reduction; the deprecated size_average= and reduce= set the reduction as in PyTorch (legacy_reduction).

    Prefer binary_cross_entropy_with_logits: once sigmoid rounds p to exactly 0 or 1
    (|x| > 17 in float32), log p is -inf and the information in the logit is lost;
    the clamp only hides that. The logits form computes the same loss without ever
    forming p.
    """
    reduction = legacy_reduction("binary_cross_entropy", size_average, reduce, reduction)
    targets = _check_targets("binary_cross_entropy", probs, targets)
    loss = BinaryCrossEntropy.apply(probs, targets)
    if weight is not None:
        loss = loss * as_tensor(weight, like=probs)
    return _reduce("binary_cross_entropy", loss, reduction)


def mse_loss(inputs, targets, size_average=None, reduce=None, reduction="mean"):
    """Mean squared error: (x - y)^2, averaged (or summed) over all elements. The deprecated size_average=
    and reduce= set the reduction as in PyTorch (legacy_reduction), with its warning."""
    reduction = legacy_reduction("mse_loss", size_average, reduce, reduction)
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


# -- the VAE's terms: used by training (tinygan/train/losses.py) and by evaluation (tinygan/evaluation/metrics.py) --

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


# -- the losses of class labels and distributions, with PyTorch's arguments --------------------------

def legacy_reduction(op, size_average, reduce, reduction):
    """PyTorch's deprecated size_average= and reduce= turned into a reduction (they override it, as there).

    Either one left as None counts as True: 'none' if reduce is False, else 'sum' if size_average is
    False, else 'mean' (PyTorch's _Reduction.legacy_get_string).
    """
    if size_average is None and reduce is None:
        return reduction
    warnings.warn(f"{op}: size_average and reduce are deprecated; use reduction= (as in PyTorch)", UserWarning,
                  stacklevel=3)
    if reduce is False:
        return "none"
    return "sum" if size_average is False else "mean"


def one_hot(tensor, num_classes=-1):
    """Integer class labels (any shape) -> int64 indicators of shape (*tensor.shape, num_classes).

    num_classes=-1 takes one more than the largest label, as PyTorch does.
    """
    labels = tensor.array if isinstance(tensor, Tensor) else backend.xp().asarray(tensor)
    if labels.dtype.kind not in "iu":
        raise TypeError(f"one_hot: is only applicable to index tensors (integers), got dtype {labels.dtype}")
    if num_classes == -1:
        if labels.size == 0:
            raise ValueError("one_hot: cannot infer num_classes from an empty tensor; pass num_classes=")
        num_classes = int(labels.max()) + 1
    if labels.size and (int(labels.min()) < 0 or int(labels.max()) >= num_classes):
        raise ValueError(f"one_hot: class values must lie in [0, {num_classes}), got values from "
                         f"{int(labels.min())} to {int(labels.max())} (shape {tuple(labels.shape)})")
    xp = xp_of(labels)
    return Tensor((labels[..., None] == xp.arange(num_classes)).astype(xp.int64))


def _class_axis_shape(input, size):
    """A shape that puts `size` on the class axis of `input` (axis 1, or 0 when unbatched) and 1 elsewhere."""
    class_axis = 1 if input.ndim >= 2 else 0
    return tuple(size if i == class_axis else 1 for i in range(input.ndim)), class_axis


def _checked_labels(op, input, target, ignore_index):
    """(labels, counted): the class labels as an integer array (N, d1, ...), checked against input's shape and
    number of classes, and the mask of those that count (not ignore_index)."""
    labels = target.array if isinstance(target, Tensor) else xp_of(input.array).asarray(target)
    if labels.dtype.kind not in "iu":
        raise TypeError(f"{op}: class-index targets must be integers (int64, as in PyTorch), got dtype {labels.dtype}")
    expected = tuple(input.shape[:1] + input.shape[2:]) if input.ndim >= 2 else ()
    if tuple(labels.shape) != expected:
        raise ValueError(f"{op}: input of shape {tuple(input.shape)} (N, C, d1, ...) needs targets of shape "
                         f"{expected} (N, d1, ...), got {tuple(labels.shape)}")
    shape, class_axis = _class_axis_shape(input, -1)
    C = input.shape[class_axis]
    counted = labels != ignore_index
    outside = counted & ((labels < 0) | (labels >= C))
    if outside.any():
        raise IndexError(f"{op}: target {int(labels[outside].reshape(-1)[0])} is out of bounds: input of shape "
                         f"{tuple(input.shape)} has {C} classes (targets in [0, {C}) or ignore_index={ignore_index})")
    return labels, counted


def _target_distribution(op, input, target, ignore_index, label_smoothing):
    """(q, counted): the smoothed one-hot distribution of the class labels, shaped like `input`,
    zero where a label equals ignore_index; and the mask of the labels that count."""
    labels, counted = _checked_labels(op, input, target, ignore_index)
    shape, class_axis = _class_axis_shape(input, -1)
    C = input.shape[class_axis]
    xp = xp_of(labels)
    labels = xp.expand_dims(labels, class_axis)
    is_label = labels == xp.arange(C).reshape(shape)
    q = (1 - label_smoothing) * is_label + label_smoothing / C
    q = q * xp.expand_dims(counted, class_axis)
    counted_label = is_label & xp.expand_dims(counted, class_axis)
    return constant(q.astype(input.dtype)), constant(counted_label.astype(input.dtype))


def _class_weights(op, input, weight):
    """weight (C,) as a tensor shaped to broadcast over input's class axis, or None."""
    if weight is None:
        return None
    shape, class_axis = _class_axis_shape(input, -1)
    weight = as_tensor(weight, like=input)
    if weight.dtype != input.dtype:
        raise TypeError(f"{op}: weight has dtype {weight.dtype} but the input {input.dtype}; as in PyTorch they "
                        f"must agree (convert the weight with .astype(...))")
    if tuple(weight.shape) != (input.shape[class_axis],):
        raise ValueError(f"{op}: weight must have shape ({input.shape[class_axis]},), one value per class of the "
                         f"input of shape {tuple(input.shape)}, got {tuple(weight.shape)}")
    return weight.reshape(shape)


def _cross_entropy_of_log_probs(op, log_probs, target, weight, ignore_index, reduction, label_smoothing):
    """The loss behind cross_entropy and nll_loss, on log-probabilities (N, C, d1, ...)."""
    if reduction not in REDUCTIONS:
        raise ValueError(f"{op}: reduction must be one of {REDUCTIONS}, got {reduction!r}")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{op}: label_smoothing must be in [0, 1], got {label_smoothing}")
    weight = _class_weights(op, log_probs, weight)
    _, class_axis = _class_axis_shape(log_probs, -1)
    if getattr(target, "dtype", None) is not None and target.dtype.kind == "f":
        return _cross_entropy_with_probabilities(op, log_probs, target, weight, reduction, label_smoothing)
    q, is_counted_label = _target_distribution(op, log_probs, target, ignore_index, label_smoothing)
    weighted_q = q if weight is None else q * weight
    loss = -(log_probs * weighted_q).sum(axis=class_axis)  # [formula: cross-entropy]
    if reduction != "mean":
        return _reduce(op, loss, reduction)
    # the mean is over the weights of the counted labels (their number when unweighted), as in PyTorch
    counted_weight = is_counted_label if weight is None else is_counted_label * weight
    return loss.sum() / counted_weight.sum()


def _cross_entropy_with_probabilities(op, log_probs, target, weight, reduction, label_smoothing):
    """Cross-entropy against a target distribution p (shaped like the input): -sum_c w_c q_c log p_c
    with q = (1 - eps) p + eps / C; the mean is over the N (d1 ...) positions."""
    target = as_tensor(target, like=log_probs)
    if tuple(target.shape) != tuple(log_probs.shape):
        raise ValueError(f"{op}: probability targets must have the input's shape {tuple(log_probs.shape)}, "
                         f"got {tuple(target.shape)}")
    _, class_axis = _class_axis_shape(log_probs, -1)
    q = target * (1 - label_smoothing) + label_smoothing / log_probs.shape[class_axis]
    weighted_q = q if weight is None else q * weight
    return _reduce(op, -(log_probs * weighted_q).sum(axis=class_axis), reduction)


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
                  reduction="mean", label_smoothing=0.0):
    """Softmax cross-entropy of logits (N, C) or (N, C, d1, ...) with class labels (N,) or (N, d1, ...)
    (or class probabilities shaped like the input), as torch.nn.functional.cross_entropy:

        l_n = -sum_c w_c q_{n,c} log softmax(x_n)_c,   q_n = (1 - eps) onehot(y_n) + eps / C

    (label smoothing eps: Szegedy et al., 2016, section 7). Labels equal to ignore_index add nothing;
    'mean' divides by the summed weights w_{y_n} of the counted labels.
    """
    reduction = legacy_reduction("cross_entropy", size_average, reduce, reduction)
    if input.ndim == 0:
        raise ValueError("cross_entropy: input must have a class dimension, (C,), (N, C) or (N, C, d1, ...), "
                         "got a 0-d tensor")
    loss = kernels.twin("cross_entropy", _cross_entropy, checked_labels=_checked_labels,
                        backward_in_ops=_softmax_cross_entropy_backward_in_ops)
    return loss(input, target, weight, ignore_index, reduction, label_smoothing)


def _cross_entropy(input, target, weight, ignore_index, reduction, label_smoothing):
    """cross_entropy's loss: log softmax over the classes, then the cross-entropy of those log-probabilities."""
    log_probs = log_softmax(input, dim=1 if input.ndim >= 2 else 0)
    return _cross_entropy_of_log_probs("cross_entropy", log_probs, target, weight, ignore_index, reduction,
                                       label_smoothing)


def _softmax_cross_entropy_backward_in_ops(x, labels, counted, ignore_index, grad, divisor):
    """dL/dx = (softmax(x) - onehot(y)) dL/dL / divisor at the counted positions, 0 at the others, as tinygan ops.

    For logits x (N, C, d1, ...) with class labels (N, d1, ...) and no weights or smoothing, the loss summed over
    the counted positions (divided by `divisor`: their number for 'mean', 1 for 'sum') has this gradient. The
    fast twin of cross_entropy (tinygan/kernels/loss.py) computes it in array code, and runs this under
    create_graph, so that it can be differentiated again.
    """
    onehot, _ = _target_distribution("cross_entropy", x, labels, ignore_index, 0.0)
    counted = constant(xp_of(x.array).expand_dims(counted, 1).astype(x.dtype))
    return (softmax(x, dim=1) * counted - onehot) * (grad / float(divisor))


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
    """Negative log-likelihood of class labels under log-probabilities (N, C, d1, ...):
    l_n = -w_{y_n} input[n, y_n] (cross_entropy without the log_softmax and the smoothing)."""
    reduction = legacy_reduction("nll_loss", size_average, reduce, reduction)
    if input.ndim == 0:
        raise ValueError("nll_loss: input must have a class dimension, (C,), (N, C) or (N, C, d1, ...), "
                         "got a 0-d tensor")
    if getattr(target, "dtype", None) is not None and target.dtype.kind == "f":
        raise TypeError(f"nll_loss: targets must be integer class labels, got dtype {target.dtype}")
    return _cross_entropy_of_log_probs("nll_loss", input, target, weight, ignore_index, reduction, 0.0)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean absolute error |x - y| (or its sum); with weight w (the input's shape), 'mean' is sum w|x - y| / sum w."""
    reduction = legacy_reduction("l1_loss", size_average, reduce, reduction)
    target = _check_targets("l1_loss", input, target)
    diff = input - target
    loss = diff * constant(xp_of(diff.array).sign(diff.array))  # [formula: l1]
    if weight is None:
        return _reduce("l1_loss", loss, reduction)
    weight = as_tensor(weight, like=input)
    if tuple(weight.shape) != tuple(input.shape):
        raise ValueError(f"l1_loss: weight must have the input's shape {tuple(input.shape)}, got {tuple(weight.shape)}")
    if reduction == "mean":
        return (loss * weight).sum() / weight.sum()
    return _reduce("l1_loss", loss * weight, reduction)


KL_REDUCTIONS = ("mean", "batchmean", "sum", "none")


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """KL(P || Q) with PyTorch's convention: `input` is log q (log-probabilities of the model), `target` is p
    (or log p with log_target=True). Pointwise

        l = p (log p - log q),   0 where p = 0 (0 log 0 = 0)

    reduction='batchmean' (sum / N) gives the true KL divergence per sample; 'mean' divides by every element.
    Where p = 0 the gradient with respect to p is taken as -log q (PyTorch gives NaN there).
    """
    reduction = legacy_reduction("kl_div", size_average, reduce, reduction)
    if reduction not in KL_REDUCTIONS:
        raise ValueError(f"kl_div: reduction must be one of {KL_REDUCTIONS}, got {reduction!r}")
    if reduction == "mean":
        warnings.warn("kl_div: reduction='mean' divides the total loss by both the batch size and the support "
                      "size; 'batchmean' divides only by the batch size and gives the KL divergence "
                      "(as PyTorch warns)", UserWarning, stacklevel=2)
    target = _check_targets("kl_div", input, target)
    if log_target:
        pointwise = exp(target) * (target - input)
    else:
        zero = constant((target.array == 0).astype(target.dtype))  # log(p + [p = 0]) is log p, or 0 where p = 0
        pointwise = target * (log(target + zero) - input)  # [formula: kl-div]
    if reduction == "batchmean":
        return pointwise.sum() / (input.shape[0] if input.ndim else 1)
    return _reduce("kl_div", pointwise, reduction)


def bce_with_logits_pos_weight(logits, targets, pos_weight):
    """Per-element BCE on logits with the positive term weighted by pos_weight p (broadcast over the last axis):

        l = -[p y log sigmoid(x) + (1 - y) log(1 - sigmoid(x))] = (1 - y) x + (1 + (p - 1) y) softplus(-x)

    using log sigmoid(x) = -softplus(-x) and log(1 - sigmoid(x)) = -x - softplus(-x).
    """
    targets = _check_targets("binary_cross_entropy_with_logits", logits, targets)
    pos_weight = as_tensor(pos_weight, like=logits)
    return (1 - targets) * logits + (1 + (pos_weight - 1) * targets) * softplus(-logits)  # [formula: bce-with-logits-pos-weight]


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta, with d = x - y (Girshick, 2015): L1 away from the
    target, quadratic near it. beta = 0 is L1."""
    reduction = legacy_reduction("smooth_l1_loss", size_average, reduce, reduction)
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be >= 0, got {beta}")
    if beta == 0:
        return l1_loss(input, target, reduction=reduction)
    loss = _quadratic_near_zero(input, target, "smooth_l1_loss", beta) / beta  # [formula: smooth-l1]
    return _reduce("smooth_l1_loss", loss, reduction)


def huber_loss(input, target, reduction="mean", delta=1.0):
    """0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta), with d = x - y (Huber, 1964): smooth_l1_loss with
    beta = delta, times delta."""
    if delta <= 0:
        raise ValueError(f"huber_loss: delta must be > 0, got {delta}")
    return _reduce("huber_loss", _quadratic_near_zero(input, target, "huber_loss", delta), reduction)


def _quadratic_near_zero(input, target, op, width):
    """0.5 d^2 where |d| < width, else width (|d| - 0.5 width): Huber's function of d = x - y."""
    target = _check_targets(op, input, target)
    d = input - target
    size = abs(d)
    return where(size.array < width, 0.5 * d * d, width * (size - 0.5 * width))  # [formula: huber]


# -- likelihoods, margins and embeddings: more of PyTorch's losses -----------------------------------------------

def _broadcast_together(op, **tensors):
    """Raise a ValueError naming the loss and every shape unless the named tensors (or shapes) broadcast together."""
    shapes = {name: tuple(getattr(t, "shape", t)) for name, t in tensors.items()}
    try:
        np.broadcast_shapes(*shapes.values())
    except ValueError:
        named = ", ".join(f"{name} {shape}" for name, shape in shapes.items())
        raise ValueError(f"{op}: the shapes {named} cannot be broadcast together") from None


def _values(t):
    """The array of a tensor (or of an array or number): for masks drawn from labels, which take no gradient."""
    return t.array if isinstance(t, Tensor) else backend.xp().asarray(t)


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """Negative log-likelihood of target under N(input, var), as torch.nn.functional.gaussian_nll_loss:

        l = 1/2 (log max(var, eps) + (x - y)^2 / max(var, eps))   (+ 1/2 log 2 pi with full=True)

    var holds one variance per value (the input's shape), one per row (the input's shape less its last axis), the
    input's shape with one axis of size 1, or is a number. As in PyTorch the clamp at eps is not differentiated:
    var's gradient is the loss's derivative at the clamped value, also where the clamp acts.
    """
    var = _gaussian_variance(input, var)
    if (var.array < 0).any():
        smallest = float(var.array.min())
        raise ValueError(f"gaussian_nll_loss: var has negative entry/entries (the smallest is {smallest})")
    var = _gaussian_variance_shape(input, var)
    _check_reduction("gaussian_nll_loss", reduction)
    target = as_tensor(target, like=input)
    _broadcast_together("gaussian_nll_loss", input=input, target=target, var=var)
    xp = xp_of(var.array)
    var = var + constant(xp.maximum(var.array, eps) - var.array)  # max(var, eps), with the gradient of var itself
    diff = input - target
    loss = 0.5 * (log(var) + diff * diff / var)  # [formula: gaussian-nll]
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce("gaussian_nll_loss", loss, reduction)


def _gaussian_variance(input, var):
    """var as a tensor; a number as a constant tensor of the input's shape."""
    if isinstance(var, Tensor):
        return var
    if isinstance(var, (int, float)):
        return constant(xp_of(input.array).full(tuple(input.shape), var, dtype=input.dtype))
    return as_tensor(var, like=input)


def _gaussian_variance_shape(input, var):
    """var shaped to broadcast over the input by PyTorch's rules: the input's shape; that shape less its last axis
    (one variance per row, given a last axis of size 1); or the input's shape with one axis of size 1."""
    if tuple(var.shape) == tuple(input.shape):
        return var
    if tuple(var.shape) == tuple(input.shape[:-1]):
        return var.reshape(tuple(var.shape) + (1,))
    mismatched = [v for i, v in zip(input.shape, var.shape) if i != v]
    if var.ndim == input.ndim and sum(mismatched) == 1:
        return var
    shape = tuple(input.shape)
    raise ValueError(f"gaussian_nll_loss: var is of incorrect size: input of shape {shape} takes var of shape "
                     f"{shape}, {shape[:-1]} or {shape} with one axis of size 1, got {tuple(var.shape)}")


def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8, reduce=None,
                     reduction="mean"):
    """Negative log-likelihood of counts y under Poisson(lambda), as torch.nn.functional.poisson_nll_loss, up to the
    constant log y!:

        l = e^x - y x   (log_input=True: x = log lambda),   l = x - y log(x + eps)   (log_input=False: x = lambda)

    full=True adds Stirling's approximation of log y!, y log y - y + 1/2 log(2 pi y), for the targets y > 1 (see
    _stirling). Where y = 0, PyTorch's gradient with respect to y under full=True is NaN (0 log 0); here it is finite.
    """
    reduction = legacy_reduction("poisson_nll_loss", size_average, reduce, reduction)
    _check_reduction("poisson_nll_loss", reduction)
    target = as_tensor(target, like=input)
    _broadcast_together("poisson_nll_loss", input=input, target=target)
    if log_input:
        loss = exp(input) - target * input  # [formula: poisson-nll]
    else:
        loss = input - target * log(input + eps)
    if full:
        loss = loss + _stirling(target)
    return _reduce("poisson_nll_loss", loss, reduction)


def _stirling(target):
    """y log y - y + 1/2 log(2 pi y) where y > 1, else 0 (the log of a target <= 1 is never taken)."""
    above = _values(target) > 1
    y = where(above, target, 1.0)
    return where(above, y * log(y) - y + 0.5 * log(2 * math.pi * y), 0.0)  # [formula: poisson-stirling]


def margin_ranking_loss(input1, input2, target, margin=0, size_average=None, reduce=None, reduction="mean"):
    """max(0, -y (x1 - x2) + margin), as torch.nn.functional.margin_ranking_loss: y = 1 asks for x1 to rank
    above x2 by the margin, y = -1 for x2 above x1. The gradient at the hinge's corner is that of the slope."""
    reduction = legacy_reduction("margin_ranking_loss", size_average, reduce, reduction)
    _check_reduction("margin_ranking_loss", reduction)
    target = as_tensor(target, like=input1)
    if not input1.ndim == input2.ndim == target.ndim:
        raise ValueError(f"margin_ranking_loss: input1, input2 and target must have the same number of dimensions, "
                         f"got shapes {tuple(input1.shape)}, {tuple(input2.shape)} and {tuple(target.shape)}")
    _broadcast_together("margin_ranking_loss", input1=input1, input2=input2, target=target)
    loss = clamp(-target * (input1 - input2) + margin, min=0.0)  # [formula: margin-ranking]
    return _reduce("margin_ranking_loss", loss, reduction)


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None, reduction="mean"):
    """x where y = 1, max(0, margin - x) where y = -1, as torch.nn.functional.hinge_embedding_loss (x is a distance;
    a label other than 1 and -1 takes both terms, as in PyTorch). The gradient at the corner is that of the slope."""
    reduction = legacy_reduction("hinge_embedding_loss", size_average, reduce, reduction)
    _check_reduction("hinge_embedding_loss", reduction)
    labels = _values(target)
    _broadcast_together("hinge_embedding_loss", input=input, target=labels)
    far = where(labels != 1, clamp(margin - input, min=0.0), 0.0)
    near = where(labels != -1, input, 0.0)
    loss = near + far  # [formula: hinge-embedding]
    return _reduce("hinge_embedding_loss", loss, reduction)


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """log(1 + e^(-y x)) = softplus(-y x), as torch.nn.functional.soft_margin_loss: two-class logistic loss for
    labels y = 1 and -1."""
    reduction = legacy_reduction("soft_margin_loss", size_average, reduce, reduction)
    _check_reduction("soft_margin_loss", reduction)
    target = as_tensor(target, like=input)
    _broadcast_together("soft_margin_loss", input=input, target=target)
    loss = softplus(-target * input)  # [formula: soft-margin]
    return _reduce("soft_margin_loss", loss, reduction)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """Binary cross-entropy on logits averaged over the C classes (the last axis), one value per sample, as
    torch.nn.functional.multilabel_soft_margin_loss:

        l_n = -1/C sum_c w_c (y_nc log sigmoid(x_nc) + (1 - y_nc) log sigmoid(-x_nc))
    """
    reduction = legacy_reduction("multilabel_soft_margin_loss", size_average, reduce, reduction)
    _check_reduction("multilabel_soft_margin_loss", reduction)
    if input.ndim == 0:
        raise ValueError("multilabel_soft_margin_loss: input must have a class dimension, (C,) or (N, C), "
                         "got a 0-d tensor")
    target = as_tensor(target, like=input)
    _broadcast_together("multilabel_soft_margin_loss", input=input, target=target)
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        weight = as_tensor(weight, like=input)
        _broadcast_together("multilabel_soft_margin_loss", input=input, weight=weight)
        loss = loss * weight
    per_sample = loss.sum(axis=-1) / input.shape[-1]  # [formula: multilabel-soft-margin]
    return _reduce("multilabel_soft_margin_loss", per_sample, reduction)


COSINE_EMBEDDING_EPS = 1e-12  # added to each squared norm, as PyTorch does


def cosine_embedding_loss(input1, input2, target, margin=0, size_average=None, reduce=None, reduction="mean"):
    """1 - cos(x1, x2) where y = 1, max(0, cos(x1, x2) - margin) where y = -1 (0 for other labels), as
    torch.nn.functional.cosine_embedding_loss; cos = x1.x2 / sqrt((|x1|^2 + 1e-12)(|x2|^2 + 1e-12)).

    Inputs (N, D) take targets (N,); inputs (D,) a 0-d target. The gradient at the corner is that of the slope.
    """
    reduction = legacy_reduction("cosine_embedding_loss", size_average, reduce, reduction)
    _check_reduction("cosine_embedding_loss", reduction)
    labels = _values(target)
    _check_cosine_embedding_shapes(input1, input2, labels)
    axis = labels.ndim
    squared1 = (input1 * input1).sum(axis=axis) + COSINE_EMBEDDING_EPS
    squared2 = (input2 * input2).sum(axis=axis) + COSINE_EMBEDDING_EPS
    cos = (input1 * input2).sum(axis=axis) / sqrt(squared1 * squared2)
    similar, dissimilar = 1 - cos, clamp(cos - margin, min=0.0)
    loss = where(labels == 1, similar, 0.0) + where(labels == -1, dissimilar, 0.0)  # [formula: cosine-embedding]
    return _reduce("cosine_embedding_loss", loss, reduction)


def _check_cosine_embedding_shapes(input1, input2, labels):
    op = "cosine_embedding_loss"
    if labels.ndim > 1:
        raise ValueError(f"{op}: 0-d or 1-d target expected (multi-target not supported), got shape {labels.shape}")
    wanted = labels.ndim + 1
    if input1.ndim != wanted or input2.ndim != wanted:
        raise ValueError(f"{op}: a {labels.ndim}-d target expects {wanted}-d input tensors, got inputs of shapes "
                         f"{tuple(input1.shape)} and {tuple(input2.shape)}")
    _broadcast_together(op, input1=input1, input2=input2)
    _broadcast_together(op, input1=input1.shape[:-1], input2=input2.shape[:-1], target=labels)


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False, size_average=None,
                        reduce=None, reduction="mean"):
    """max(0, margin + d(a, p) - d(a, n)), as torch.nn.functional.triplet_margin_loss, with d PyTorch's
    pairwise_distance ||x1 - x2 + eps||_p over the last axis. swap=True takes min(d(a, n), d(p, n)) for the
    negative's distance (Balntas et al., 2016). The gradient at the corner is that of the slope."""
    reduction = legacy_reduction("triplet_margin_loss", size_average, reduce, reduction)
    _check_reduction("triplet_margin_loss", reduction)
    if margin <= 0:
        raise ValueError(f"triplet_margin_loss: margin must be greater than 0, got {margin}")
    if not anchor.ndim == positive.ndim == negative.ndim:
        raise ValueError(f"triplet_margin_loss: anchor, positive and negative must have the same number of "
                         f"dimensions, got shapes {tuple(anchor.shape)}, {tuple(positive.shape)} and "
                         f"{tuple(negative.shape)}")
    _broadcast_together("triplet_margin_loss", anchor=anchor, positive=positive, negative=negative)
    to_positive = pairwise_distance(anchor, positive, p, eps)
    to_negative = pairwise_distance(anchor, negative, p, eps)
    if swap:
        to_negative = minimum(to_negative, pairwise_distance(positive, negative, p, eps))
    loss = clamp(margin + to_positive - to_negative, min=0.0)  # [formula: triplet-margin]
    return _reduce("triplet_margin_loss", loss, reduction)
