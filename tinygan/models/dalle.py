"""A tiny DALL-E (Ramesh et al., 2021, "Zero-Shot Text-to-Image Generation"): a discrete VAE turns an image into a
7 x 7 grid of codes (tinygan/models/vqvae.py), and a transformer learns the sequence [text tokens, image tokens]
one token at a time; to draw, it is given the text and samples the image tokens, which the decoder turns into
pixels.

The sequence (54 tokens), in one table of TEXT_TOKENS + K numbers (tinygan/data/captions.py):

    position   0      1..4                          5..53
    token      BOS    the caption's 4 word tokens   the 49 image codes c, each as TEXT_TOKENS + c (row by row)

The prior reads positions 0..52 and its logits at position t are over the K image codes for the token at t + 1;
so the logits at positions 4..52 predict image tokens 0..48, and only those 49 positions enter the loss.

Public names:

    DallePrior(num_codes=128, width=128, num_layers=4, num_heads=4, feedforward=512, dropout=0.1)
        forward(tokens) -> logits       tokens int (N, L), L <= 53, in the one table; logits (N, L, K)
        sequence(text_tokens, codes)    [BOS, words, TEXT_TOKENS + codes]: int (N, 5 + codes' length)
        loss(text_tokens, codes)        the mean cross-entropy of the 49 image tokens     [formula: dalle-prior-loss]
        generate(text_tokens, top_k=16, temperature=1.0, generator=None) -> codes int64 (N, 49)
        weight_decay_groups(weight_decay=0.01) -> AdamW's two parameter groups
    Dalle(vqvae, prior)                  both networks, as submodules 'vqvae' and 'prior'
        draw(captions, top_k=16, temperature=1.0, generator=None) -> images (N, 3, 28, 28) on [0, 1]
    caption_tokens(captions)             captions (strings) or triples (N, 3) -> word tokens int64 (N, 4)
    sample_top_k(logits, top_k, temperature, rng) -> one index per row        [formula: top-k-sampling]
    SEQUENCE_LENGTH = 54, TEXT_LENGTH = 5 (BOS and 4 words), IMAGE_TOKENS = 49

The prior's layers, as a GPT (Radford et al., 2018; minGPT's layout): token and learned position embeddings of
`width`, added; `num_layers` pre-norm TransformerEncoderLayers (norm_first=True, GELU, batch_first) under the
causal mask; a final LayerNorm; a Linear head onto the K image codes. The two embeddings start from N(0, 0.02^2)
(GPT-2's and minGPT's initialisation, instead of nn.Embedding's N(0, 1)); every other layer keeps PyTorch's
initialisation.

Drawing samples the 49 image tokens one at a time: at each step the prior reads the new token alone, with every
layer's keys and values of the earlier positions kept (a key-value cache), keeps the top_k logits of the next
token, divides them by the temperature and samples from their softmax with a NumPy Generator on the host.
"""
import numpy as np

from .. import backend, nn
from .. import functional as F
from ..autograd import Tensor, no_grad
from ..data.captions import BOS, CAPTION_LENGTH, TEXT_TOKENS, parse, tokens_of
from ..functional.attention import _in_projection, _merge_heads, _split_heads

TEXT_LENGTH = 1 + CAPTION_LENGTH       # BOS and the 4 word tokens
IMAGE_TOKENS = 49                      # the VQ-VAE's 7 x 7 grid
SEQUENCE_LENGTH = TEXT_LENGTH + IMAGE_TOKENS   # 54
EMBEDDING_STD = 0.02


def caption_tokens(captions):
    """Captions -> word tokens int64 (N, 4): a list of caption strings ('red seven on white') or index triples
    (N, 3) of (foreground, digit, background). A bad caption raises ValueError naming the unknown word and the
    vocabulary (tinygan.data.captions.parse)."""
    if isinstance(captions, str):
        captions = [captions]
    if len(captions) and isinstance(captions[0], str):
        return tokens_of(np.array([parse(caption) for caption in captions], dtype=np.int64))
    triples = np.asarray(captions, dtype=np.int64)
    if triples.ndim != 2 or triples.shape[1] != 3:
        raise ValueError(f"caption_tokens: expected caption strings or index triples (N, 3), got shape "
                         f"{triples.shape}")
    return tokens_of(triples)


def sample_top_k(logits, top_k, temperature, rng):
    """One index per row of host logits (N, K), drawn with the NumPy Generator rng from

        p = softmax(l_topk / T),   l_topk = l where l is among the row's top_k largest, -inf elsewhere

    (ties at the k-th value all kept). top_k None or >= K keeps every logit; T = temperature > 0. Computed in
    float64; the draw is one uniform u per row, the index the first whose cumulative probability exceeds u."""
    logits = np.asarray(logits, dtype=np.float64)
    K = logits.shape[-1]
    if not temperature > 0:
        raise ValueError(f"sample_top_k: temperature must be > 0, got {temperature}")
    if top_k is not None and not 1 <= int(top_k):
        raise ValueError(f"sample_top_k: top_k must be at least 1 (or None: all {K}), got {top_k}")
    if top_k is not None and int(top_k) < K:
        kth = np.sort(logits, axis=-1)[:, K - int(top_k)][:, None]       # the k-th largest of each row
        logits = np.where(logits >= kth, logits, -np.inf)
    scaled = logits / temperature
    p = np.exp(scaled - scaled.max(axis=-1, keepdims=True))
    p /= p.sum(axis=-1, keepdims=True)                          # [formula: top-k-sampling]
    u = rng.random((len(p), 1))
    chosen = (np.cumsum(p, axis=-1) <= u).sum(axis=-1)
    return np.minimum(chosen, K - 1).astype(np.int64)    # u beyond the rounded total: the last kept code


class DallePrior(nn.Module):
    """The transformer prior over [BOS, 4 word tokens, 49 image tokens] (see the module).

    num_codes   -- K, the VQ-VAE's codebook size: the head's outputs
    width       -- the embeddings' and the layers' width (d_model)
    num_layers, num_heads, feedforward, dropout -- the TransformerEncoderLayers' (dim_feedforward = feedforward)
    """

    def __init__(self, num_codes=128, width=128, num_layers=4, num_heads=4, feedforward=512, dropout=0.1):
        super().__init__()
        self.num_codes, self.width = int(num_codes), int(width)
        self.token_embedding = nn.Embedding(TEXT_TOKENS + self.num_codes, self.width)    # words, BOS, codes
        self.position_embedding = nn.Embedding(SEQUENCE_LENGTH, self.width)
        for table in (self.token_embedding, self.position_embedding):
            nn.init.normal_(table.weight, 0.0, EMBEDDING_STD)
        layer = nn.TransformerEncoderLayer(self.width, num_heads, dim_feedforward=feedforward, dropout=dropout,
                                           activation="gelu", batch_first=True, norm_first=True)
        self.transformer = nn.TransformerEncoder(layer, num_layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(self.width)
        self.head = nn.Linear(self.width, self.num_codes)

    def extra_repr(self):
        return f"num_codes={self.num_codes}, width={self.width}, sequence={SEQUENCE_LENGTH}"

    def forward(self, tokens):
        """tokens int (N, L), 1 <= L <= 53, in the one table -> logits (N, L, K) over the next image token."""
        array = tokens.array if isinstance(tokens, Tensor) else backend.xp().asarray(tokens)
        if array.ndim != 2 or not 1 <= array.shape[1] < SEQUENCE_LENGTH or array.dtype.kind not in "iu":
            raise ValueError(f"DallePrior: expected int tokens (N, L) with 1 <= L <= {SEQUENCE_LENGTH - 1} "
                             f"([BOS, 4 words, image tokens but the last]), got {array.dtype} {tuple(array.shape)}")
        L = array.shape[1]
        xp = backend.get_array_module(self.token_embedding.weight.array)
        positions = Tensor(xp.arange(L))
        x = self.token_embedding(Tensor(xp.asarray(array))) + self.position_embedding(positions)   # (N, L, width)
        mask = nn.Transformer.generate_square_subsequent_mask(L, device=backend.device_of(positions.array),
                                                              dtype=x.dtype)                        # (L, L)
        x = self.transformer(x, mask=mask, is_causal=True)                                          # (N, L, width)
        return self.head(self.norm(x))                                                              # (N, L, K)

    @staticmethod
    def sequence(text_tokens, codes=None):
        """[BOS, the 4 word tokens, TEXT_TOKENS + each code]: int64 (N, 5 + codes' length), as the input's array
        kind (NumPy or CuPy). text_tokens int (N, 4); codes int (N, M) or None (the text alone)."""
        text = text_tokens.array if isinstance(text_tokens, Tensor) else text_tokens
        xp = backend.get_array_module(text) if not isinstance(text, (list, tuple)) else np
        text = xp.asarray(text, dtype=np.int64)
        parts = [xp.full((len(text), 1), BOS, dtype=np.int64), text]
        if codes is not None:
            codes = codes.array if isinstance(codes, Tensor) else codes
            parts.append(xp.asarray(codes, dtype=np.int64) + TEXT_TOKENS)
        return xp.concatenate(parts, axis=1)

    def loss(self, text_tokens, codes):
        """The mean cross-entropy of the 49 image tokens given everything before each:

            L = -1/(49 N) sum_n sum_{j=0}^{48} log softmax(logits_n[4 + j])[c_{n,j}]

        text_tokens int (N, 4), codes int (N, 49). The logits of the text positions 0..3 enter nothing."""
        codes_array = codes.array if isinstance(codes, Tensor) else codes
        if tuple(codes_array.shape[1:]) != (IMAGE_TOKENS,):
            raise ValueError(f"DallePrior.loss: expected image codes (N, {IMAGE_TOKENS}), got shape "
                             f"{tuple(codes_array.shape)}")
        tokens = self.sequence(text_tokens, codes_array)                    # (N, 54)
        logits = self(tokens[:, :-1])                                        # (N, 53, K)
        image_logits = logits[:, TEXT_LENGTH - 1:]                           # (N, 49, K): positions 4..52
        xp = backend.get_array_module(tokens)
        target = Tensor(xp.asarray(codes_array, dtype=np.int64).reshape(-1))
        return F.cross_entropy(image_logits.reshape(-1, self.num_codes), target)  # [formula: dalle-prior-loss]

    def generate(self, text_tokens, top_k=16, temperature=1.0, generator=None):
        """Image codes int64 (N, 49) (a Tensor on the prior's device) for word tokens (N, 4), sampled one at a time
        under the causal mask with sample_top_k. generator: a NumPy Generator (default: default_rng(0)). Runs in
        eval mode (no dropout) without gradients, and leaves the prior's mode as it was.

        Each step feeds the new token alone and keeps every layer's keys and values of the earlier positions
        (a key-value cache): under the causal mask those never change, so the logits are the ones a full pass over
        the sequence gives (tests/models/test_dalle.py checks that), at a 49th of the cost."""
        rng = np.random.default_rng(0) if generator is None else generator
        was_training = self.training
        self.eval()
        try:
            xp = backend.get_array_module(self.token_embedding.weight.array)
            text = text_tokens.array if isinstance(text_tokens, Tensor) else np.asarray(text_tokens)
            tokens = xp.asarray(self.sequence(backend.to_numpy(text)))                       # (N, 5)
            codes = np.zeros((len(tokens), IMAGE_TOKENS), dtype=np.int64)
            cache = [None] * len(self.transformer.layers)
            with no_grad():
                logits = self._forward_cached(tokens, 0, cache)                            # (N, K)
                for j in range(IMAGE_TOKENS):
                    codes[:, j] = sample_top_k(backend.to_numpy(logits.array), top_k, temperature, rng)
                    if j + 1 < IMAGE_TOKENS:
                        new = xp.asarray(codes[:, j:j + 1] + TEXT_TOKENS)
                        logits = self._forward_cached(new, TEXT_LENGTH + j, cache)
        finally:
            self.train(was_training)
        return Tensor(xp.asarray(codes))

    def _forward_cached(self, tokens, start, cache):
        """The logits (N, K) of the next token after `tokens` (N, t), which sit at positions start..start + t - 1
        of a sequence whose earlier positions each layer's cache holds (keys and values (N, H, start, D))."""
        xp = backend.get_array_module(self.token_embedding.weight.array)
        positions = Tensor(xp.arange(start, start + tokens.shape[1]))
        x = self.token_embedding(Tensor(tokens)) + self.position_embedding(positions)
        for i, layer in enumerate(self.transformer.layers):
            attended, cache[i] = _cached_self_attention(layer.self_attn, layer.norm1(x), cache[i])
            x = x + attended
            x = x + layer._ff_block(layer.norm2(x))
        return self.head(self.norm(x[:, -1]))

    def weight_decay_groups(self, weight_decay=0.01):
        """AdamW's parameter groups, minGPT's rule: decay on the weight matrices of the Linear layers and the
        attention projections (in_proj_weight, out_proj.weight, linear1/2.weight, head.weight); none on biases,
        LayerNorm weights, or the two embeddings (a table of vectors, not a map between them)."""
        decay, no_decay = [], []
        for name, p in self.named_parameters():
            is_matrix = p.ndim == 2 and "embedding" not in name
            (decay if is_matrix else no_decay).append(p)
        return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def _cached_self_attention(attention, x, cache):
    """A batch-first MultiheadAttention's self-attention of x (N, t, E) over the cached positions and x's own, causal
    among x's; returns the output and the cache grown by x's keys and values. The projections and the heads' split
    and merge are multi_head_attention_forward's own."""
    projected = _in_projection(x, x, x, attention.embed_dim, attention.in_proj_weight, attention.in_proj_bias, None)
    q, k, v = (_split_heads(p, attention.num_heads, batch_first=True) for p in projected)      # (N, H, t, D)
    if cache is not None:
        k, v = F.concat([cache[0], k], axis=2), F.concat([cache[1], v], axis=2)
    # The new queries see every cached key and, among their own, the ones up to themselves: causal at the bottom
    # right, which for one new token is no mask at all.
    out = F.scaled_dot_product_attention(q, k, v, is_causal=q.shape[2] > 1 and cache is None)
    return attention.out_proj(_merge_heads(out, batch_first=True)), (k, v)


class Dalle(nn.Module):
    """The VQ-VAE and the prior together: draw images from captions.

        dalle = Dalle(VQVAE(), DallePrior())
        images = dalle.draw(["red seven on white", "cyan two on black"], generator=np.random.default_rng(0))
    """

    def __init__(self, vqvae, prior):
        super().__init__()
        self.vqvae, self.prior = vqvae, prior

    def draw(self, captions, top_k=16, temperature=1.0, generator=None):
        """Images (N, 3, 28, 28) on [0, 1] for captions (strings, or triples (N, 3)): the prior samples 49 codes
        per caption (DallePrior.generate), the VQ-VAE's decoder turns them into pixels. Both run in eval mode."""
        tokens = caption_tokens(captions)
        codes = self.prior.generate(tokens, top_k=top_k, temperature=temperature, generator=generator)
        was_training = self.vqvae.training
        self.vqvae.eval()
        try:
            with no_grad():
                return self.vqvae.decode_indices(codes)
        finally:
            self.vqvae.train(was_training)
