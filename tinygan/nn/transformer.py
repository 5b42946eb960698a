"""Attention layers and the transformer encoder, with PyTorch's names, arguments, parameter shapes,
initialisation and submodule names, so a state_dict moves between tinygan and torch.nn unchanged:
MultiheadAttention, TransformerEncoderLayer, TransformerEncoder, and Transformer for its causal mask.

The formulas (scaled dot-product attention, the heads' split and merge, the masks) live in
tinygan/functional/attention.py.

A decoder-only (GPT-style, causal) model is a TransformerEncoder given the causal mask:

    layer = nn.TransformerEncoderLayer(d_model=64, nhead=4, batch_first=True)
    model = nn.TransformerEncoder(layer, num_layers=2)
    y = model(x, mask=nn.Transformer.generate_square_subsequent_mask(x.shape[1]))
"""
import copy

from .. import backend
from .. import functional as F
from ..functional.attention import causal_bias
from . import init
from .activation import GELU, ReLU
from .container import ModuleList
from .dropout import Dropout
from .linear import Linear
from .module import Module, _new_parameter, _positive_int
from .normalization import LayerNorm


class NonDynamicallyQuantizableLinear(Linear):
    """A Linear under the name PyTorch gives MultiheadAttention's out_proj (its repr and type name)."""


class MultiheadAttention(Module):
    """Multi-head attention: the query attends to the key/value sequence in num_heads heads of embed_dim / num_heads
    features each (Vaswani et al., 2017, section 3.2.2); the formula is F.multi_head_attention_forward's.

    Parameters, as PyTorch's: in_proj_weight (3E, E) (the query, key and value projections stacked; with kdim or
    vdim other than E, q_proj_weight (E, E), k_proj_weight (E, kdim), v_proj_weight (E, vdim) instead),
    in_proj_bias (3E,), and out_proj, a Linear(E, E). Projection weights are xavier_uniform_, biases zero.

    Inputs are (L, N, E) sequence first, or (N, L, E) with batch_first=True, or unbatched (L, E). forward returns
    (output, attention weights averaged over the heads (N, L, S), or per head (N, H, L, S), or None).
    attn_mask and key_padding_mask: True masks a key out; a float mask is added to the scores.
    """

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False, add_zero_attn=False,
                 kdim=None, vdim=None, batch_first=False):
        super().__init__()
        embed_dim = _positive_int(embed_dim, "embed_dim", "MultiheadAttention")
        num_heads = _positive_int(num_heads, "num_heads", "MultiheadAttention")
        if embed_dim % num_heads:
            raise ValueError(f"MultiheadAttention: embed_dim ({embed_dim}) must be divisible by num_heads "
                             f"({num_heads}): each head takes embed_dim / num_heads features")
        if add_bias_kv or add_zero_attn:
            raise NotImplementedError("MultiheadAttention: tinygan does not implement add_bias_kv or add_zero_attn "
                                      "(PyTorch's extra key and value rows); leave them False")
        self.embed_dim, self.num_heads, self.head_dim = embed_dim, num_heads, embed_dim // num_heads
        self.kdim = embed_dim if kdim is None else _positive_int(kdim, "kdim", "MultiheadAttention")
        self.vdim = embed_dim if vdim is None else _positive_int(vdim, "vdim", "MultiheadAttention")
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.dropout, self.batch_first = dropout, batch_first
        self.add_zero_attn = add_zero_attn
        if self._qkv_same_embed_dim:
            self.in_proj_weight = _new_parameter(3 * embed_dim, embed_dim)
            for name in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
                self.register_parameter(name, None)
        else:
            self.q_proj_weight = _new_parameter(embed_dim, embed_dim)
            self.k_proj_weight = _new_parameter(embed_dim, self.kdim)
            self.v_proj_weight = _new_parameter(embed_dim, self.vdim)
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = _new_parameter(3 * embed_dim)
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias)
        self.bias_k = self.bias_v = None
        self._reset_parameters()

    def _reset_parameters(self):
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            for weight in (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
                init.xavier_uniform_(weight)
        if self.in_proj_bias is not None:
            init.zeros_(self.in_proj_bias)
            init.zeros_(self.out_proj.bias)

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
                average_attn_weights=True, is_causal=False):
        separate = not self._qkv_same_embed_dim
        output, weights = F.multi_head_attention_forward(
            query, key, value, self.embed_dim, self.num_heads, self.in_proj_weight, self.in_proj_bias,
            self.bias_k, self.bias_v, self.add_zero_attn, self.dropout, self.out_proj.weight, self.out_proj.bias,
            training=self.training, key_padding_mask=key_padding_mask, need_weights=need_weights,
            attn_mask=attn_mask, use_separate_proj_weight=separate, q_proj_weight=self.q_proj_weight,
            k_proj_weight=self.k_proj_weight, v_proj_weight=self.v_proj_weight,
            average_attn_weights=average_attn_weights, is_causal=is_causal, batch_first=self.batch_first)
        return output, weights


_ACTIVATIONS = {"relu": F.relu, "gelu": F.gelu}


class TransformerEncoderLayer(Module):
    """One transformer encoder block: self-attention, then a two-layer feed-forward network, each added back to
    its input (a residual) and layer-normalised (Vaswani et al., 2017, section 3.1):

        norm_first=False (post-norm, the paper's):  x = norm1(x + SA(x));        x = norm2(x + FF(x))
        norm_first=True  (pre-norm, Xiong et al., 2020):  x = x + SA(norm1(x));  x = x + FF(norm2(x))

    with SA(x) = dropout1(self_attn(x, x, x)) and FF(x) = dropout2(linear2(dropout(activation(linear1(x))))).
    activation is "relu", "gelu" or a callable. Submodules and defaults are PyTorch's.
    """

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation=F.relu, layer_norm_eps=1e-5,
                 batch_first=False, norm_first=False, bias=True):
        super().__init__()
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        if isinstance(activation, str):
            if activation not in _ACTIVATIONS:
                raise ValueError(f"TransformerEncoderLayer: activation should be 'relu', 'gelu' or a callable, "
                                 f"not {activation!r}")
            activation = _ACTIVATIONS[activation]
        if activation is F.relu or isinstance(activation, ReLU):
            self.activation_relu_or_gelu = 1
        elif activation is F.gelu or isinstance(activation, GELU):
            self.activation_relu_or_gelu = 2
        else:
            self.activation_relu_or_gelu = 0
        self.activation = activation

    def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal=False):
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            x = x + self._ff_block(self.norm2(x))
        else:
            x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
            x = self.norm2(x + self._ff_block(x))
        return x

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal):
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask, need_weights=False,
                           is_causal=is_causal)[0]
        return self.dropout1(x)

    def _ff_block(self, x):
        return self.dropout2(self.linear2(self.dropout(self.activation(self.linear1(x)))))


class TransformerEncoder(Module):
    """num_layers copies of encoder_layer (deep copies, each with its own weights, as `layers.0`, `layers.1`, ...)
    applied in turn, then `norm` if given.

    enable_nested_tensor and mask_check are accepted for PyTorch's signature; they only choose PyTorch's fast
    paths, which tinygan does not have.
    """

    def __init__(self, encoder_layer, num_layers, norm=None, enable_nested_tensor=True, mask_check=True):
        super().__init__()
        num_layers = _positive_int(num_layers, "num_layers", "TransformerEncoder")
        self.layers = ModuleList([copy.deepcopy(encoder_layer) for _ in range(num_layers)])
        self.num_layers = num_layers
        self.norm = norm
        self.enable_nested_tensor, self.mask_check = enable_nested_tensor, mask_check

    def forward(self, src, mask=None, src_key_padding_mask=None, is_causal=None):
        # is_causal only tells PyTorch that `mask` is the causal mask, to pick a faster kernel; tinygan always
        # applies the mask given, so there is nothing to detect.
        output = src
        for layer in self.layers:
            output = layer(output, src_mask=mask, src_key_padding_mask=src_key_padding_mask,
                           is_causal=bool(is_causal))
        if self.norm is not None:
            output = self.norm(output)
        return output


class Transformer(Module):
    """PyTorch's encoder-decoder Transformer is not part of tinygan; its static method
    generate_square_subsequent_mask is. A decoder-only (causal) model is a TransformerEncoder given that mask."""

    def __init__(self, *args, **kwargs):
        raise NotImplementedError(
            "nn.Transformer: tinygan has no encoder-decoder Transformer (nor TransformerDecoder). What exists: "
            "nn.MultiheadAttention, nn.TransformerEncoderLayer and nn.TransformerEncoder; for a decoder-only "
            "(causal) model use nn.TransformerEncoder(nn.TransformerEncoderLayer(d_model, nhead), num_layers) "
            "called with mask=nn.Transformer.generate_square_subsequent_mask(sequence_length)")

    @staticmethod
    def generate_square_subsequent_mask(sz, device=None, dtype=None):
        """The causal mask (sz, sz) as floats: 0 on and below the diagonal, -inf above it, so position i attends
        to positions 0..i only. Default dtype and device unless given, as in PyTorch."""
        if device is None:
            xp = backend.xp()
        else:
            xp = backend.module_for("cupy" if backend.normalize_device(device) == "gpu" else "numpy")
        dtype = backend.get_default_dtype() if dtype is None else dtype
        return causal_bias(sz, sz, dtype, xp)
