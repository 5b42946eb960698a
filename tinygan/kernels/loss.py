"""The fast softmax cross-entropy with class labels: the twin of cross_entropy (tinygan/functional/loss.py) for
plain labels, the loss and its closed-form gradient in a few passes.

The reference (`cross_entropy` in tinygan/functional/loss.py) builds log softmax(x) from logsumexp, a one-hot
(smoothed, weighted) target shaped like the logits, and their product summed over the classes: a dozen passes
over (N, C, H, W), several of them reductions over the class axis, which NumPy runs slowly when the classes
are the short innermost axis of channels-last images. For plain labels (no class weights, no smoothing),

    l_n = logsumexp(x_n) - x_n[y_n],        dl_n/dx_n = softmax(x_n) - onehot(y_n),

so one pass of max, one of exp, one of sums and a pick per row give the loss, and the softmax kept from the
forward is the gradient after one subtraction at each label. Here the classes are the last axis of rows (P, C),
one row per position, read from the images' own memory when they are channels-last. Other arguments (class
weights, label smoothing, probabilities as targets, reduction='none') go to the reference (`plain_labels`).
"""
from ..autograd import Function, Tensor, is_grad_enabled
from .layout import from_rows, row_sums, rows_along, xp_of


def plain_labels(input, target, weight, ignore_index, reduction, label_smoothing):
    """Whether cross_entropy below takes these arguments: float logits (N, C, d1, ...), integer class labels, no
    class weights, no label smoothing, reduction 'mean' or 'sum'."""
    return (input.ndim >= 2 and weight is None and label_smoothing == 0.0 and reduction in ("mean", "sum")
            and getattr(target, "dtype", None) is not None and target.dtype.kind in "iu" and input.dtype.kind == "f")


def cross_entropy(input, target, weight, ignore_index, reduction, label_smoothing, checked_labels=None,
                  backward_in_ops=None):
    """The twin of the reference's cross-entropy of logits with plain labels (plain_labels).

    checked_labels(op, input, target, ignore_index) is the reference's check of the labels, giving the labels
    (N, d1, ...) and the mask of those that count; backward_in_ops is dL/dx written in tinygan ops, the backward
    under create_graph (both from tinygan/functional/loss.py, which kernels/ does not import).
    """
    labels, counted = checked_labels("cross_entropy", input, target, ignore_index)
    return SoftmaxCrossEntropy.apply(input, labels=labels, counted=counted, mean=reduction == "mean",
                                     ignore_index=ignore_index, backward_in_ops=backward_in_ops)


class SoftmaxCrossEntropy(Function):
    """cross_entropy of logits (N, C, d1, ...) with class labels, no class weights and no smoothing, as one Function:

        L = sum over the counted positions n of (logsumexp(x_n) - x_n[y_n])   (divided by their number: 'mean')
        dL/dx_n = (softmax(x_n) - onehot(y_n)) dL/dL, divided likewise, 0 at ignored positions

    The softmax of the forward is kept for the backward. With create_graph the backward is backward_in_ops, the
    same formula in tinygan ops, so it can be differentiated again.
    """

    def forward(self, x, labels=None, counted=None, mean=True, ignore_index=-100, backward_in_ops=None):
        self.label_map, self.counted_map, self.ignore_index = labels, counted, ignore_index   # (N, d1, ...)
        self.backward_in_ops = backward_in_ops
        self.labels, self.counted = labels.reshape(-1), counted.reshape(-1)                  # one per row
        losses, self.probabilities = softmax_cross_entropy(rows_along(x, 1), self.labels, self.counted)
        self.divisor = self.counted.sum(dtype=x.dtype) if mean else x.dtype.type(1)
        return xp_of(x).asarray(losses.sum() / self.divisor, dtype=x.dtype)

    def backward(self, grad):
        x = self.inputs[0]
        if is_grad_enabled():
            return (self.backward_in_ops(x, self.label_map, self.counted_map, self.ignore_index, grad,
                                         self.divisor),)
        rows = softmax_cross_entropy_grad(self.probabilities, self.labels, self.counted,
                                          grad.array / self.divisor)
        return (Tensor(from_rows(rows, x.shape, 1)),)


def softmax_cross_entropy(rows, labels, counted):
    """(losses, probabilities): losses (P,) = logsumexp(row) - row[label] where counted, else 0;
    probabilities (P, C) = softmax(row), kept for the gradient. labels (P,) ints, counted (P,) bools."""
    xp = xp_of(rows)
    shifted = rows - _row_max(rows)[:, None]                               # every exponent <= 0: no overflow
    picked = shifted[xp.arange(rows.shape[0]), xp.where(counted, labels, 0)]
    probabilities = xp.exp(shifted, out=shifted)
    sums = row_sums(probabilities)                                          # (P,)
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
