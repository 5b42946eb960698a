"""Every differentiable operation of tinygan, with names that mirror torch.nn.functional.

Importing this package also gives `Tensor` its operators (`+`, `*`, `@`,
indexing, `.sum()`, ...), each a thin call of the functions below; that keeps
the dependency one-way: autograd knows nothing of the operations.
"""
from ..autograd import Tensor
from ._util import as_tensor
from .activation import leaky_relu, relu, sigmoid, softplus, tanh
from .arithmetic import add, clamp, div, exp, log, logsumexp, matmul, mul, neg, pow, sqrt, sub
from .conv import (col2im, conv1d, conv2d, conv_output_size, conv_transpose1d, conv_transpose2d,
                   conv_transpose_output_size, im2col)
from .layers import dropout, dropout1d, dropout2d, embedding, linear
from .loss import binary_cross_entropy, binary_cross_entropy_with_logits, gaussian_kl, mse_loss
from .normalization import batch_norm
from .pool import avg_pool1d, avg_pool2d, max_pool1d, max_pool2d, upsample_nearest2d
from .reduce import broadcast_to, max, mean, sum, sum_to
from .shape import concat, flatten, getitem, pad, permute, reshape, transpose
# more activations, losses and normalisations, with PyTorch's names
from .activation import elu, gelu, silu
from .loss import cross_entropy, kl_div, l1_loss, nll_loss, one_hot
from .norms import group_norm, instance_norm, layer_norm, normalize
from .softmax import log_softmax, softmax
# spatial ops
from .interpolate import adaptive_avg_pool2d, adaptive_max_pool2d, interpolate
from .shape import pad_widths


def _swapaxes(x, axis0, axis1):
    return transpose(x, axis0, axis1)


def _install_operators():
    """Give Tensor its Python operators and methods."""
    operators = {
        "__add__": add,
        "__radd__": lambda self, other: add(other, self),
        "__sub__": sub,
        "__rsub__": lambda self, other: sub(other, self),
        "__mul__": mul,
        "__rmul__": lambda self, other: mul(other, self),
        "__truediv__": div,
        "__rtruediv__": lambda self, other: div(other, self),
        "__neg__": neg,
        "__pow__": pow,
        "__matmul__": lambda self, other: matmul(self, as_tensor(other, like=self)),
        "__rmatmul__": lambda self, other: matmul(as_tensor(other, like=self), self),
        "__getitem__": getitem,
        "sum": sum,
        "mean": mean,
        "max": max,
        "exp": exp,
        "log": log,
        "sqrt": sqrt,
        "relu": relu,
        "sigmoid": sigmoid,
        "tanh": tanh,
        "reshape": reshape,
        "permute": permute,
        "transpose": transpose,
        "swapaxes": _swapaxes,
        "flatten": flatten,
        "broadcast_to": broadcast_to,
        "sum_to": sum_to,
        "clamp": clamp,
    }
    for name, function in operators.items():
        setattr(Tensor, name, function)
    Tensor.T = property(lambda self: transpose(self, -2, -1))

    # Comparisons give plain (non-differentiable) boolean tensors, for masks and accuracy.
    for name in ("__lt__", "__le__", "__gt__", "__ge__"):
        def compare(self, other, _name=name):
            other = other.array if isinstance(other, Tensor) else other
            return Tensor(getattr(self.array, _name)(other))
        setattr(Tensor, name, compare)


_install_operators()

__all__ = [
    "add", "sub", "mul", "div", "neg", "pow", "exp", "log", "logsumexp", "sqrt", "clamp", "matmul",
    "sum", "mean", "max", "broadcast_to", "sum_to",
    "reshape", "permute", "transpose", "getitem", "concat", "pad", "flatten",
    "relu", "leaky_relu", "sigmoid", "tanh", "softplus",
    "im2col", "col2im", "conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d", "conv_output_size",
    "conv_transpose_output_size", "avg_pool1d", "avg_pool2d", "max_pool1d", "max_pool2d", "upsample_nearest2d",
    "batch_norm", "dropout", "dropout1d", "dropout2d", "embedding", "linear",
    "binary_cross_entropy_with_logits", "binary_cross_entropy", "mse_loss", "gaussian_kl",
    "softmax", "log_softmax", "gelu", "silu", "elu",
    "cross_entropy", "nll_loss", "l1_loss", "kl_div", "one_hot",
    "layer_norm", "group_norm", "instance_norm", "normalize",
    "pad_widths", "interpolate", "adaptive_avg_pool2d", "adaptive_max_pool2d",
]

# -- more ops, and the PyTorch-style Tensor methods (their sum, mean and max replace the plain ones above) --
from .arithmetic import abs, masked_fill, maximum, minimum, where
from .reduce import max_with_indices, min, min_with_indices, std, var
from .shape import clone, expand, repeat, squeeze, stack, unsqueeze
from . import tensor_methods as _tensor_methods

_tensor_methods.install()
__all__ += [
    "abs", "maximum", "minimum", "where", "masked_fill",
    "min", "var", "std", "max_with_indices", "min_with_indices",
    "stack", "squeeze", "unsqueeze", "expand", "repeat", "clone",
]

# -- recurrent cells -------------------------------------------------------------------------------------
from .recurrent import gru_cell, lstm_cell, lstm_sequence, rnn_cell

__all__ += ["rnn_cell", "lstm_cell", "gru_cell", "lstm_sequence"]

# -- neural rendering (sines for the positional encoding, the exclusive cumulative sum of T) --------------
from .rendering import cumsum, positional_encoding, render_weights, segment_lengths, volume_render
from .trigonometric import cos, sin

__all__ += ["sin", "cos", "cumsum", "positional_encoding", "volume_render"]

# -- more of what PyTorch code calls: batched and outer products, lerp, triangles, flips, gathers ----------
from .arithmetic import bmm, einsum, lerp, outer
from .activation import hardtanh, logsigmoid, mish, prelu
from .loss import huber_loss, smooth_l1_loss
from .norms import cosine_similarity
from .softmax import softmin
from .shape import flip, gather, index_select, pixel_shuffle, roll, sort, topk, tril, triu

__all__ += ["bmm", "einsum", "outer", "lerp", "tril", "triu", "flip", "roll", "gather", "index_select", "sort", "topk",
            "pixel_shuffle", "cosine_similarity", "logsigmoid", "hardtanh", "mish", "prelu", "softmin",
            "smooth_l1_loss", "huber_loss", "unfold", "fold"]


# PyTorch's unfold and fold are im2col and col2im with PyTorch's order of arguments (conv.unfold and conv.fold are
# the reference's helpers over a ConvGeometry, which the fast kernels replace).
def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """torch.nn.functional.unfold: im2col, (N, C, H, W) -> (N, C*KH*KW, OH*OW)."""
    return im2col(input, kernel_size, stride=stride, padding=padding, dilation=dilation)


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """torch.nn.functional.fold: col2im onto an image of (H, W) = output_size, overlapping columns added."""
    return col2im(input, output_size, kernel_size, stride=stride, padding=padding, dilation=dilation)

# -- rounding and remainders, more of exp and log, scatters, and reductions built from the ops above ---------
from .arithmetic import diff, erf, expm1, log1p, log2, log10, nan_to_num, reciprocal, rsqrt
from .rounding import ceil, floor, floor_divide, fmod, frac, remainder, round, sign, trunc
from .scatter import index_add, scatter, scatter_add
from .shape import (diag, diagonal, hstack, masked_select, movedim, repeat_interleave, rot90, select, take_along_dim,
                    tile, unbind, unflatten, vstack)
from .statistics import cumprod, kthvalue, median, nanmean, nansum, prod

__all__ += ["floor", "ceil", "round", "trunc", "sign", "frac", "remainder", "fmod", "floor_divide",
            "log1p", "expm1", "erf", "log2", "log10", "reciprocal", "rsqrt", "nan_to_num", "diff",
            "scatter", "scatter_add", "index_add", "masked_select", "take_along_dim",
            "unbind", "select", "movedim", "unflatten", "tile", "repeat_interleave", "diagonal", "diag", "hstack",
            "vstack", "rot90", "prod", "cumprod", "median", "kthvalue", "nansum", "nanmean"]

# -- more activations, RMS norm, pixel unshuffle, pairwise distance and the Gumbel-softmax -------------------
from .activation import (celu, glu, hardshrink, hardsigmoid, hardswish, relu6, selu, softshrink, softsign, tanhshrink,
                         threshold)
from .norms import pairwise_distance, rms_norm
from .shape import pixel_unshuffle
from .softmax import gumbel_softmax

__all__ += ["relu6", "hardswish", "hardsigmoid", "selu", "celu", "glu", "softsign", "tanhshrink", "threshold",
            "hardshrink", "softshrink", "rms_norm", "pixel_unshuffle", "pairwise_distance", "gumbel_softmax"]

# -- attention (scaled dot-product, multi-head) -----------------------------------------------------------
from .attention import multi_head_attention_forward, scaled_dot_product_attention

__all__ += ["scaled_dot_product_attention", "multi_head_attention_forward"]

# -- more losses: likelihoods, margins and embeddings -------------------------------------------------------
from .loss import (cosine_embedding_loss, gaussian_nll_loss, hinge_embedding_loss, margin_ranking_loss,
                   multilabel_soft_margin_loss, poisson_nll_loss, soft_margin_loss, triplet_margin_loss)

__all__ += ["gaussian_nll_loss", "poisson_nll_loss", "margin_ranking_loss", "triplet_margin_loss",
            "cosine_embedding_loss", "hinge_embedding_loss", "soft_margin_loss", "multilabel_soft_margin_loss"]
