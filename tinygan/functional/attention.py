"""Attention: scaled dot-product attention and the multi-head attention of a transformer, with PyTorch's names,
arguments and mask conventions (torch.nn.functional.scaled_dot_product_attention, multi_head_attention_forward).

Notation. N batch; H heads; L queries (the target length); S keys and values (the source length); E features of a
query and a key, Ev of a value. In multi-head attention E is the model's width and each head sees D = E / H of it.
For Q (..., L, E), K (..., S, E), V (..., S, Ev) (Vaswani et al., 2017, eq. 1):

    Attention(Q, K, V) = softmax(Q K^T / sqrt(E) + M) V

Row i of the softmax is how much query i takes from each key; the output row i is that mixture of the values.
M is the mask as an additive bias: 0 where query i may attend to key j, -inf where it may not, so e^{-inf} = 0
gives key j no weight. A float mask is M itself; a boolean mask is turned into M. Its meaning follows PyTorch,
which differs between the two functions:

    scaled_dot_product_attention   attn_mask True: the key takes part
    multi_head_attention_forward   attn_mask and key_padding_mask True: the key is masked out

Every line is a differentiable op of tinygan.functional (matmul, softmax, where, reshape, transpose), so the
gradients and the gradients of gradients come from those ops; there is no Function of its own.
"""
import math

import numpy as np

from ..autograd import Tensor
from ._util import constant, xp_of
from .arithmetic import matmul, where
from .layers import dropout, linear
from .reduce import mean
from .shape import expand, permute, reshape, squeeze, transpose, unsqueeze
from .softmax import softmax

NEG_INF = float("-inf")


# -- masks as additive biases ----------------------------------------------------------------------------

def causal_bias(L, S, dtype, xp):
    """The causal mask as a bias M (L, S): 0 on and below the diagonal, -inf above it, so query i attends to keys
    0..i only. Aligned at the top left when L != S, as PyTorch's is_causal."""
    allowed = xp.tril(xp.ones((L, S), dtype=bool))  # [formula: attention-causal-mask]
    return constant(xp.where(allowed, 0.0, NEG_INF).astype(dtype))


def _bias_of(op, name, mask, dtype, xp, true_attends):
    """The bias M of a mask: a float mask as it is (in `dtype`), a boolean one as 0 where a key may be attended to
    and -inf where not. `true_attends` says what True means (scaled_dot_product_attention: True attends)."""
    array = mask.array if isinstance(mask, Tensor) else xp.asarray(mask)
    if array.dtype.kind == "b":
        attends = array if true_attends else ~array
        return constant(xp.where(attends, 0.0, NEG_INF).astype(dtype))
    if array.dtype.kind != "f":
        raise TypeError(f"{op}: {name} must be a boolean or a floating mask, got dtype {array.dtype}")
    if isinstance(mask, Tensor) and mask.requires_grad:
        if mask.dtype != dtype:
            raise TypeError(f"{op}: {name} has dtype {mask.dtype} but the query has {dtype}; a mask that "
                            f"requires grad must have the query's dtype")
        return mask
    return constant(array.astype(dtype, copy=False))


def _softmax_over_keys(scores, bias):
    """softmax over the keys (the last axis). A query whose every key is masked out (its bias -inf on every key)
    gets weights 0, as in PyTorch's scaled_dot_product_attention, instead of 0/0 = NaN in its output and gradients.
    The blind queries are found in the bias, which is no larger than the scores and often much smaller: (L, S)."""
    blind = None if bias is None else (bias.array == NEG_INF).all(axis=-1, keepdims=True)  # (..., L, 1): no key
    if blind is None or not bool(blind.any()):
        return softmax(scores, dim=-1)                                  # [formula: attention-softmax]
    scores = where(blind, 0.0, scores)  # finite scores, so no NaN reaches the gradient; weights set to 0 below
    return where(blind, 0.0, softmax(scores, dim=-1))


def _attention(query, key, value, bias, dropout_p, scale):
    """(softmax(Q K^T * scale + M) V, the weights softmax(...)): Q (..., L, E), K (..., S, E), V (..., S, Ev);
    M = bias, broadcasting to (..., L, S), or None for no mask."""
    query = query * scale               # [formula: attention-scale]  (Q scale) K^T: L*E products, not L*S
    scores = matmul(query, transpose(key, -2, -1))                      # [formula: attention-scores]
    if bias is not None:
        scores = scores + bias                                          # [formula: attention-mask]
    weights = _softmax_over_keys(scores, bias)                          # (..., L, S)
    if dropout_p > 0:
        weights = dropout(weights, dropout_p)
    return matmul(weights, value), weights                              # [formula: attention-weighted-sum]


# -- scaled dot-product attention -------------------------------------------------------------------------

def _broadcast(op, what, *shapes):
    """The broadcast of `shapes`, or an error naming the op and the shapes."""
    try:
        return tuple(np.broadcast_shapes(*shapes))
    except ValueError:
        raise ValueError(f"{op}: {what} {' and '.join(str(tuple(s)) for s in shapes)} cannot be broadcast "
                         f"together") from None


def _broadcasts_to(shape, target):
    """Whether an array of `shape` broadcasts to `target` (and not beyond it)."""
    try:
        return np.broadcast_shapes(tuple(shape), target) == target
    except ValueError:
        return False


def _check_sdpa_inputs(op, query, key, value, enable_gqa):
    for name, x in (("query", query), ("key", key), ("value", value)):
        if x.ndim < 2:
            raise ValueError(f"{op}: {name} must have at least 2 dimensions (..., length, features), got shape "
                             f"{tuple(x.shape)}")
        if x.dtype.kind != "f":
            raise TypeError(f"{op}: {name} must be floating point, got dtype {x.dtype}")
    if query.shape[-1] != key.shape[-1]:
        raise ValueError(f"{op}: query and key must have the same number of features E, got query "
                         f"{tuple(query.shape)} ({query.shape[-1]}) and key {tuple(key.shape)} ({key.shape[-1]})")
    if key.shape[-2] != value.shape[-2]:
        raise ValueError(f"{op}: key and value must have the same length S, got key {tuple(key.shape)} "
                         f"({key.shape[-2]}) and value {tuple(value.shape)} ({value.shape[-2]})")
    if enable_gqa:
        if query.ndim < 3 or key.ndim < 3 or value.ndim < 3 or key.shape[-3] != value.shape[-3] \
                or query.shape[-3] % key.shape[-3]:
            raise ValueError(f"{op}: enable_gqa needs heads on axis -3, the same number for key and value, dividing "
                             f"the query's: got query {tuple(query.shape)}, key {tuple(key.shape)}, value "
                             f"{tuple(value.shape)}")


def _share_heads(x, groups):
    """(..., Hkv, S, E) -> (..., Hkv * groups, S, E): each key/value head repeated for its group of query heads,
    as torch.repeat_interleave(x, groups, dim=-3)."""
    lead, (Hkv, S, E) = tuple(x.shape[:-3]), tuple(x.shape[-3:])
    spread = expand(unsqueeze(x, -3), lead + (Hkv, groups, S, E))
    return reshape(spread, lead + (Hkv * groups, S, E))


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None,
                                 enable_gqa=False):
    """softmax(Q K^T * scale + M) V for Q (..., L, E), K (..., S, E), V (..., S, Ev): the output (..., L, Ev).

    scale   -- defaults to 1/sqrt(E), which keeps the scores' variance near 1 for unit-variance Q and K
    attn_mask -- broadcasting to (..., L, S): boolean, True where the key takes part; or float, added to the scores
    is_causal -- query i attends to keys 0..i only (then attn_mask must be None)
    dropout_p -- drops attention weights whenever it is above 0: pass 0 in evaluation, as in PyTorch
    enable_gqa -- key and value may have fewer heads (axis -3) than query, each shared by a group of query heads
    A query with no key to attend to gets weights 0, so its output is 0.
    """
    op = "scaled_dot_product_attention"
    _check_sdpa_inputs(op, query, key, value, enable_gqa)
    if enable_gqa:
        groups = query.shape[-3] // key.shape[-3]
        key, value = _share_heads(key, groups), _share_heads(value, groups)
    L, S, E = query.shape[-2], key.shape[-2], query.shape[-1]
    lead = _broadcast(op, "the batch shapes of query, key and value", query.shape[:-2], key.shape[:-2],
                      value.shape[:-2])
    xp = xp_of(query.array)
    bias = None
    if is_causal:
        if attn_mask is not None:
            raise ValueError(f"{op}: give attn_mask or is_causal=True, not both (as in PyTorch)")
        bias = causal_bias(L, S, query.dtype, xp)
    elif attn_mask is not None:
        bias = _bias_of(op, "attn_mask", attn_mask, query.dtype, xp, true_attends=True)
        weights_shape = lead + (L, S)
        if not _broadcasts_to(bias.shape, weights_shape):
            raise ValueError(f"{op}: attn_mask of shape {tuple(bias.shape)} does not broadcast to the attention "
                             f"weights' shape {weights_shape} (..., L, S)")
    scale = 1.0 / math.sqrt(E) if scale is None else float(scale)
    output, _ = _attention(query, key, value, bias, dropout_p, scale)
    return output


# -- multi-head attention -----------------------------------------------------------------------------------

def _split_heads(x, num_heads, batch_first=False):
    """(L, N, E), or (N, L, E) when batch_first, -> (N, H, L, D): head h sees features h*D .. (h+1)*D - 1 of every
    position."""
    E = x.shape[-1]
    to_heads = (0, 2, 1, 3) if batch_first else (1, 2, 0, 3)
    by_head = reshape(x, tuple(x.shape[:2]) + (num_heads, E // num_heads))
    return permute(by_head, to_heads)                                       # [formula: attention-split-heads]


def _merge_heads(x, batch_first=False):
    """(N, H, L, D) -> (L, N, H * D), or (N, L, H * D) when batch_first: the heads' outputs side by side, in the
    order they were split."""
    N, H, L, D = x.shape
    from_heads, shape = ((0, 2, 1, 3), (N, L, H * D)) if batch_first else ((2, 0, 1, 3), (L, N, H * D))
    return reshape(permute(x, from_heads), shape)                           # [formula: attention-merge-heads]


def _in_projection(query, key, value, E, in_proj_weight, in_proj_bias, separate_weights):
    """Q = query W_q^T + b_q, K = key W_k^T + b_k, V = value W_v^T + b_v. W_q, W_k, W_v are the three row blocks of
    in_proj_weight (3E, E), or the separate (E, E), (E, kdim), (E, vdim) weights; b_q, b_k, b_v are in_proj_bias's."""
    if separate_weights is None:
        weights = (in_proj_weight[:E], in_proj_weight[E:2 * E], in_proj_weight[2 * E:])
    else:
        weights = separate_weights
    biases = (None,) * 3 if in_proj_bias is None else (in_proj_bias[:E], in_proj_bias[E:2 * E], in_proj_bias[2 * E:])
    if query is key and key is value and query.ndim > 2:
        # Self-attention: the three products read the same (L*N, E) rows of the input (one copy, made once, if the
        # input is a transposed view; each product would otherwise copy it again).
        rows = reshape(query, (-1, query.shape[-1]))
        return tuple(reshape(linear(rows, w, b), tuple(query.shape[:-1]) + (w.shape[0],))
                     for w, b in zip(weights, biases))
    return tuple(linear(x, w, b) for x, w, b in zip((query, key, value), weights, biases))


def _merged_bias(op, attn_mask, key_padding_mask, N, H, L, S, dtype, xp):
    """The bias M of both masks, broadcasting to (N, H, L, S): attn_mask (L, S) or (N*H, L, S), plus
    key_padding_mask (N, S), which masks the same keys for every query and head of a sequence."""
    bias = None
    if attn_mask is not None:
        bias = _bias_of(op, "attn_mask", attn_mask, dtype, xp, true_attends=False)
        if tuple(bias.shape) == (N * H, L, S):
            bias = reshape(bias, (N, H, L, S))
        elif tuple(bias.shape) != (L, S):
            raise ValueError(f"{op}: attn_mask must have shape (L, S) = {(L, S)} or (N * num_heads, L, S) = "
                             f"{(N * H, L, S)}, got {tuple(bias.shape)}")
    if key_padding_mask is not None:
        padding = _bias_of(op, "key_padding_mask", key_padding_mask, dtype, xp, true_attends=False)
        if tuple(padding.shape) != (N, S):
            raise ValueError(f"{op}: key_padding_mask must have shape (N, S) = {(N, S)}, got "
                             f"{tuple(padding.shape)}")
        padding = reshape(padding, (N, 1, 1, S))
        bias = padding if bias is None else bias + padding
    return bias


def _check_mha_inputs(op, query, key, value, key_padding_mask, attn_mask, batch_first):
    """Whether the inputs are batched, (L, N, E) or (N, L, E) when batch_first, or unbatched (L, E); an error
    naming the shapes otherwise."""
    batched_form = "(N, L, E)" if batch_first else "(L, N, E)"
    if query.ndim not in (2, 3):
        raise ValueError(f"{op}: query must be {batched_form} or unbatched (L, E), got shape {tuple(query.shape)}")
    batched = query.ndim == 3
    if not batched:
        form = "(L, E), (S, kdim), (S, vdim)"
    else:
        form = "(N, L, E), (N, S, kdim), (N, S, vdim)" if batch_first else "(L, N, E), (S, N, kdim), (S, N, vdim)"
    batch_axis = 0 if batch_first else 1
    if key.ndim != query.ndim or value.ndim != query.ndim or key.shape[:-1] != value.shape[:-1] \
            or (batched and key.shape[batch_axis] != query.shape[batch_axis]):
        raise ValueError(f"{op}: expected query, key and value of shapes {form}, got {tuple(query.shape)}, "
                         f"{tuple(key.shape)} and {tuple(value.shape)}")
    if key_padding_mask is not None and key_padding_mask.ndim != query.ndim - 1:
        raise ValueError(f"{op}: key_padding_mask must be {'(N, S)' if batched else '(S,)'} for a query of shape "
                         f"{tuple(query.shape)}, got shape {tuple(key_padding_mask.shape)}")
    if attn_mask is not None and attn_mask.ndim not in (2, 3):
        raise ValueError(f"{op}: attn_mask must be (L, S) or (N * num_heads, L, S), got shape "
                         f"{tuple(attn_mask.shape)}")
    return batched


def _refuse_unsupported(op, bias_k, bias_v, add_zero_attn, static_k, static_v):
    given = [name for name, value in (("bias_k", bias_k), ("bias_v", bias_v), ("static_k", static_k),
                                      ("static_v", static_v)) if value is not None]
    given += ["add_zero_attn=True"] if add_zero_attn else []
    if given:
        raise NotImplementedError(f"{op}: tinygan does not implement {', '.join(given)} (PyTorch's extra key and "
                                  f"value rows); leave them at their defaults")


def multi_head_attention_forward(query, key, value, embed_dim_to_check, num_heads, in_proj_weight, in_proj_bias,
                                 bias_k, bias_v, add_zero_attn, dropout_p, out_proj_weight, out_proj_bias,
                                 training=True, key_padding_mask=None, need_weights=True, attn_mask=None,
                                 use_separate_proj_weight=False, q_proj_weight=None, k_proj_weight=None,
                                 v_proj_weight=None, static_k=None, static_v=None, average_attn_weights=True,
                                 is_causal=False, batch_first=False):
    """Multi-head attention (Vaswani et al., 2017, section 3.2.2), sequence first as in PyTorch:
    query (L, N, E), key (S, N, kdim), value (S, N, vdim), or unbatched (L, E), (S, kdim), (S, vdim).
    batch_first=True (tinygan's, not PyTorch's) takes and returns (N, L, E), (N, S, kdim), (N, S, vdim) instead:
    nn.MultiheadAttention(batch_first=True) passes its inputs as they are, where transposing them to sequence
    first would cost a copy of each in the in-projection and another of its gradient.

        head_h = Attention(Q_h, K_h, V_h),   output = concat(head_1, ..., head_H) W_o^T + b_o

    where Q, K, V are the in-projections of query, key and value, split into H heads of D = E / H features each,
    and Attention scales by 1/sqrt(D). attn_mask (L, S) or (N * num_heads, L, S) and key_padding_mask (N, S):
    True masks a key out; a float mask is added to the scores. Dropout on the weights only when `training`.
    is_causal is PyTorch's hint that attn_mask is the causal mask; attn_mask is what is applied.

    Returns (output (L, N, E), or (N, L, E) when batch_first, weights): the attention weights averaged over the
    heads (N, L, S), per head (N, H, L, S) with average_attn_weights=False, or None with need_weights=False.
    """
    op = "multi_head_attention_forward"
    _refuse_unsupported(op, bias_k, bias_v, add_zero_attn, static_k, static_v)
    batched = _check_mha_inputs(op, query, key, value, key_padding_mask, attn_mask, batch_first)
    batch_axis = 0 if batch_first else 1
    if not batched:  # a batch of one, removed again at the end
        query, key, value = (unsqueeze(x, batch_axis) for x in (query, key, value))
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.reshape((1,) + tuple(key_padding_mask.shape))
    if batch_first:
        (N, L, E), S = query.shape, key.shape[1]
    else:
        (L, N, E), S = query.shape, key.shape[0]
    if E != embed_dim_to_check:
        raise ValueError(f"{op}: expected query with embed_dim {embed_dim_to_check} features, got shape "
                         f"{tuple(query.shape)}")
    if num_heads < 1 or E % num_heads:
        raise ValueError(f"{op}: embed_dim {E} must be divisible by num_heads {num_heads}")
    separate = (q_proj_weight, k_proj_weight, v_proj_weight) if use_separate_proj_weight else None
    kdim, vdim = (E, E) if separate is None else (k_proj_weight.shape[1], v_proj_weight.shape[1])
    if (key.shape[-1], value.shape[-1]) != (kdim, vdim):
        raise ValueError(f"{op}: key and value must have kdim={kdim} and vdim={vdim} features, got shapes "
                         f"{tuple(key.shape)} and {tuple(value.shape)}")
    if is_causal and attn_mask is None:
        raise ValueError(f"{op}: is_causal=True is a hint that attn_mask is the causal mask, and needs that mask "
                         f"(as in PyTorch): pass attn_mask=nn.Transformer.generate_square_subsequent_mask(L)")

    bias = _merged_bias(op, attn_mask, key_padding_mask, N, num_heads, L, S, query.dtype, xp_of(query.array))
    q, k, v = _in_projection(query, key, value, E, in_proj_weight, in_proj_bias, separate)
    q, k, v = (_split_heads(x, num_heads, batch_first) for x in (q, k, v))             # (N, H, L or S, D)
    heads, weights = _attention(q, k, v, bias, dropout_p if training else 0.0, 1.0 / math.sqrt(E // num_heads))
    output = linear(_merge_heads(heads, batch_first), out_proj_weight, out_proj_bias)  # (L, N, E) or (N, L, E)

    if not need_weights:
        weights = None
    elif average_attn_weights:
        weights = mean(weights, axis=1)                                             # (N, L, S)
    if not batched:
        output = squeeze(output, batch_axis)
        weights = None if weights is None else squeeze(weights, 0)
    return output, weights
