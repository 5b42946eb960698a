"""The operations behind the linear, dropout and embedding layers."""
import warnings

import numpy as np

from .. import backend
from ..autograd import Function, Tensor
from ._util import constant, xp_of
from .arithmetic import where
from .shape import getitem


class Linear(Function):
    """y = x W^T + b, with W of shape (out, in) as in PyTorch.

    dL/dx = G W,   dL/dW = G^T x,   dL/db = sum of G over the batch.
    """

    reads_in_backward = ("factors",)

    inputs_share_dtype = True

    def forward(self, x, weight, bias=None):
        y = x @ weight.T                                        # [formula: linear]
        if bias is not None:
            y += bias  # y is a fresh array: add in place, no second temporary
        return y

    def backward(self, grad):
        x, weight = self.inputs[:2]
        grad_x = grad @ weight if self.needs_input_grad[0] else None          # [formula: linear-grad-input]
        grad_w = grad.transpose() @ x if self.needs_input_grad[1] else None   # [formula: linear-grad-weight]
        grad_b = None
        if len(self.inputs) == 3 and self.needs_input_grad[2]:
            grad_b = grad.sum(axis=0)                                         # [formula: linear-grad-bias]
        return grad_x, grad_w, grad_b


def linear(x, weight, bias=None):
    """y = x W^T + b for x of shape (N, in) or (..., in); W (out, in); b (out,)."""
    if weight.ndim != 2:
        raise ValueError(f"linear: weight must be 2-D (out, in), got shape {weight.shape}")
    if x.shape[-1] != weight.shape[1]:
        raise ValueError(f"linear: input has {x.shape[-1]} features (shape {x.shape}) but weight expects "
                         f"{weight.shape[1]} (weight shape {weight.shape})")
    if bias is not None and tuple(bias.shape) != (weight.shape[0],):
        raise ValueError(f"linear: bias must have shape ({weight.shape[0]},), got {tuple(bias.shape)}")
    inputs = (weight,) if bias is None else (weight, bias)
    if x.ndim == 2:
        return Linear.apply(x, *inputs)
    lead = x.shape[:-1]
    return Linear.apply(x.reshape(-1, x.shape[-1]), *inputs).reshape(lead + (weight.shape[0],))


def dropout(x, p=0.5, training=True, inplace=False):
    """Zero each value with probability p and scale the rest by 1/(1-p), so the expectation is unchanged.

    inplace is accepted for PyTorch's signature: the result is returned, computed out of place.
    """
    if not 0 <= p < 1:
        raise ValueError(f"dropout: p must be in [0, 1), got {p}")
    if not training or p == 0:
        return x
    keep = _keep_mask(x.array, p)
    scale = x.dtype.type(1) / x.dtype.type(1 - p)                   # 1/(1-p), rounded as PyTorch rounds it
    mask = xp_of(keep).multiply(keep, scale, dtype=x.dtype)          # scale where kept, else 0: one pass
    return x * constant(mask)  # [formula: dropout]


def _keep_mask(array, p):
    """A boolean array like `array`, each element True with probability 1 - p, from the generator of its device.

    On the CPU: uniform 32-bit integers at or above p * 2^32, two from each 64-bit output of NumPy's bit generator
    (its cheapest uniform numbers: half the time of uniform floats, and dropout draws one per activation). The
    probability is within 2^-33 of 1 - p, closer than a float32 uniform's 2^-24 steps. On the GPU: uniform floats
    at or above p.
    """
    generator = backend.rng_for(array)
    if backend.device_of(array) != "cpu":
        return generator.random(array.shape, dtype=array.dtype) >= p
    count = array.size
    bits = generator.bit_generator.random_raw((count + 1) // 2).view(np.uint32)[:count]
    threshold = np.uint32(min(round(p * 2.0 ** 32), 2 ** 32 - 1))
    return (bits >= threshold).reshape(array.shape)


def _channel_dropout(x, p, training, op):
    """Zero whole channels x[n, c] with probability p and scale the rest by 1/(1-p) (PyTorch's feature dropout)."""
    if not 0 <= p <= 1:
        raise ValueError(f"{op}: p must be in [0, 1], got {p}")
    if x.ndim < 2:
        raise ValueError(f"{op}: expected an input with a channel axis, got shape {tuple(x.shape)}")
    if not training or p == 0:
        return x
    keep = backend.rng().random(x.shape[:2], dtype=x.dtype) >= p
    scale = x.dtype.type(0) if p == 1 else x.dtype.type(1 - p)
    mask = keep.astype(x.dtype).reshape(x.shape[:2] + (1,) * (x.ndim - 2))
    mask = mask / scale if p < 1 else mask
    return x * constant(mask)  # [formula: dropout-channels]


def dropout1d(x, p=0.5, training=True, inplace=False):
    """Zero each channel x[n, c, :] (a 1-D feature map) with probability p and scale the rest by 1/(1-p).

    x is (N, C, L), or (C, L) without a batch. p = 1 zeroes everything, as in PyTorch.
    inplace is accepted for PyTorch's signature: the result is returned, computed out of place.
    """
    if x.ndim not in (2, 3):
        raise ValueError(f"dropout1d: expected a 2-D (C, L) or 3-D (N, C, L) input, got shape {tuple(x.shape)}")
    if x.ndim == 2:
        return _channel_dropout(x.reshape((1,) + tuple(x.shape)), p, training, "dropout1d").reshape(x.shape)
    return _channel_dropout(x, p, training, "dropout1d")


def dropout2d(x, p=0.5, training=True, inplace=False):
    """Zero each channel x[n, c] (a 2-D feature map) with probability p and scale the rest by 1/(1-p).

    x is (N, C, H, W). As in PyTorch, a 3-D input is read as (N, C, L) and its channels x[n, c, :] are
    dropped (with PyTorch's warning), and other shapes are dropped channel by channel along the first
    two axes with a warning that dropout2d expects 3-D or 4-D input. p = 1 zeroes everything.
    inplace is accepted for PyTorch's signature: the result is returned, computed out of place.
    """
    if x.ndim not in (3, 4):
        warnings.warn(f"dropout2d: received a {x.ndim}-D input (shape {tuple(x.shape)}); dropout2d expects "
                      "3-D or 4-D input (use dropout for other shapes)", stacklevel=2)
    if x.ndim == 3:
        warnings.warn("dropout2d: received a 3-D input; as in PyTorch it is read as (N, C, L) and whole channels "
                      "x[n, c, :] are dropped (dropout1d does the same without this warning)", stacklevel=2)
    return _channel_dropout(x, p, training, "dropout2d")


def embedding(indices, weight, padding_idx=None):
    """Rows of `weight` (num_embeddings, dim) picked by integer `indices`: a lookup table.

    padding_idx: the row that stands for padding (negative counts from the end); it is looked up like any other
    but gets no gradient, as in PyTorch, so it keeps the value it was given (zeros, by nn.Embedding).
    """
    index_array = indices.array if isinstance(indices, Tensor) else backend.xp().asarray(indices)
    if index_array.dtype.kind not in "iu":
        raise TypeError(f"embedding: indices must be integers (class labels), got dtype {index_array.dtype}")
    if index_array.size and (int(index_array.min()) < 0 or int(index_array.max()) >= weight.shape[0]):
        raise ValueError(f"embedding: indices must lie in [0, {weight.shape[0]}), got values from "
                         f"{int(index_array.min())} to {int(index_array.max())}")
    rows = getitem(weight, index_array)
    if padding_idx is None:
        return rows
    padding = padding_row(padding_idx, weight.shape[0], "embedding")
    is_padding = (index_array == padding)[..., None]
    return where(is_padding, rows.detach(), rows)            # the same values; no gradient to the padding row


def padding_row(padding_idx, num_embeddings, op_name):
    """padding_idx as a row of the table (a negative one counts from the end), or PyTorch's error."""
    if not -num_embeddings <= padding_idx < num_embeddings:
        raise ValueError(f"{op_name}: padding_idx must be within num_embeddings ({num_embeddings}), got "
                         f"{padding_idx}")
    return padding_idx % num_embeddings
