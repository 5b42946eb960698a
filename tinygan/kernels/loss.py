"""The fast softmax cross-entropy with class labels: the loss and its closed-form gradient in a few passes.

The reference (`cross_entropy` in tinygan/functional/loss.py) builds log softmax(x) from logsumexp, a one-hot
(smoothed, weighted) target shaped like the logits, and their product summed over the classes: a dozen passes
over (N, C, H, W), several of them reductions over the class axis, which NumPy runs slowly when the classes
are the short innermost axis of channels-last images. For plain labels (no class weights, no smoothing),

    l_n = logsumexp(x_n) - x_n[y_n],        dl_n/dx_n = softmax(x_n) - onehot(y_n),

so one pass of max, one of exp, one of sums and a pick per row give the loss, and the softmax kept from the
forward is the gradient after one subtraction at each label. Here the classes are the last axis of rows (P, C),
one row per position, read from the images' own memory when they are channels-last.
"""
from .layout import xp_of


def class_rows(x):
    """(N, C, d1, ...) -> rows (N*d1*..., C), class axis last: a view when x is stored classes-last, else a copy."""
    xp = xp_of(x)
    return xp.ascontiguousarray(xp.moveaxis(x, 1, -1)).reshape(-1, x.shape[1])


def softmax_cross_entropy(rows, labels, counted):
    """(losses, probabilities): losses (P,) = logsumexp(row) - row[label] where counted, else 0;
    probabilities (P, C) = softmax(row), kept for the gradient. labels (P,) ints, counted (P,) bools."""
    xp = xp_of(rows)
    shifted = rows - _row_max(rows)[:, None]                               # every exponent <= 0: no overflow
    picked = shifted[xp.arange(rows.shape[0]), xp.where(counted, labels, 0)]
    probabilities = xp.exp(shifted, out=shifted)
    sums = probabilities @ xp.ones(rows.shape[1], dtype=rows.dtype)        # (P,): a matrix-vector product
    losses = (xp.log(sums) - picked) * counted
    probabilities /= sums[:, None]
    return losses, probabilities


def _row_max(rows):
    """The largest number of each row (P, C), as C - 1 elementwise maxima of columns: NumPy's max along a short
    innermost axis (11 classes) loops row by row, several times slower."""
    xp = xp_of(rows)
    largest = rows[:, 0].copy()
    for c in range(1, rows.shape[1]):
        xp.maximum(largest, rows[:, c], out=largest)
    return largest


def softmax_cross_entropy_grad(probabilities, labels, counted, scale):
    """dL/drows = (softmax - onehot(label)) * scale at the counted rows, 0 elsewhere (scale: dL/d(sum of losses))."""
    xp = xp_of(probabilities)
    grad = probabilities * (counted * scale)[:, None]
    rows = xp.flatnonzero(counted)
    grad[rows, labels[rows]] -= scale
    return grad
