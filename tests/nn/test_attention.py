"""Attention and the transformer encoder: F.scaled_dot_product_attention, F.multi_head_attention_forward,
nn.MultiheadAttention, nn.TransformerEncoderLayer, nn.TransformerEncoder and nn.Transformer's causal mask.

Checked by hand and against NumPy transcriptions of the formulas; by float64 gradient and gradient-of-gradient
checks over shapes drawn by hypothesis; against torch in float64 where it is installed (outputs, attention
weights, every gradient, state_dicts moved both ways); and for errors that name the operation and the shapes.
"""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygan
import tinygan.functional as F
from tinygan import Tensor, backend, nn
from tinygan.gradcheck import gradcheck, gradgradcheck


def device_tensor(array, requires_grad=False):
    return Tensor(backend.to_device(np.asarray(array), backend.current_device()), requires_grad=requires_grad)


def host(t):
    return backend.to_numpy(t.array)


def rng(seed=0):
    return np.random.default_rng(seed)


def softmax_by_numpy(scores):
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def attention_by_numpy(q, k, v, bias=0.0, scale=None):
    """softmax(Q K^T * scale + M) V, written out in NumPy."""
    scale = 1 / math.sqrt(q.shape[-1]) if scale is None else scale
    return softmax_by_numpy(q @ np.swapaxes(k, -1, -2) * scale + bias) @ v


@pytest.fixture
def float64():
    tinygan.set_default_dtype(np.float64)  # the conftest puts float32 back after the test


# -- the formulas, by hand and by NumPy -----------------------------------------------------------------------

def test_attention_by_hand():
    """One query, two keys: scores q.k / sqrt(2) = (1/sqrt 2, 0), weights their softmax, output the mixture of V."""
    q, k, v = [[1.0, 0.0]], [[1.0, 0.0], [0.0, 1.0]], [[1.0, 2.0], [3.0, 4.0]]
    out = F.scaled_dot_product_attention(*(device_tensor(a) for a in (q, k, v)))
    w = math.exp(1 / math.sqrt(2)) / (math.exp(1 / math.sqrt(2)) + 1)
    np.testing.assert_allclose(host(out), [[w * 1 + (1 - w) * 3, w * 2 + (1 - w) * 4]], rtol=1e-12)

    # a bool mask (True takes part), the same mask as a float bias, and a scale, against NumPy
    q, k, v = rng().standard_normal((2, 3, 4)), rng(1).standard_normal((2, 5, 4)), rng(2).standard_normal((2, 5, 3))
    allowed = rng(3).random((3, 5)) < 0.6
    allowed[:, 0] = True
    bias = np.where(allowed, 0.0, -np.inf)
    expected = attention_by_numpy(q, k, v, bias, scale=0.7)
    for mask in (allowed, bias):
        out = F.scaled_dot_product_attention(device_tensor(q), device_tensor(k), device_tensor(v),
                                             attn_mask=device_tensor(mask), scale=0.7)
        np.testing.assert_allclose(host(out), expected, rtol=1e-12)


def test_causal_mask_by_hand():
    mask = nn.Transformer.generate_square_subsequent_mask(3)
    assert mask.dtype == np.float32 and backend.device_of(mask.array) == backend.current_device()
    np.testing.assert_array_equal(host(mask), [[0, -np.inf, -np.inf], [0, 0, -np.inf], [0, 0, 0]])
    assert nn.Transformer.generate_square_subsequent_mask(2, dtype=np.float64).dtype == np.float64

    # is_causal is that mask, aligned at the top left when L != S: query i sees keys 0..i
    q, k, v = rng().standard_normal((2, 3, 4)), rng(1).standard_normal((2, 5, 4)), rng(2).standard_normal((2, 5, 3))
    out = F.scaled_dot_product_attention(device_tensor(q), device_tensor(k), device_tensor(v), is_causal=True)
    bias = np.where(np.tril(np.ones((3, 5), dtype=bool)), 0.0, -np.inf)
    np.testing.assert_allclose(host(out), attention_by_numpy(q, k, v, bias), rtol=1e-12)
    np.testing.assert_allclose(host(out)[:, 0], v[:, 0], rtol=1e-12)   # the first query sees the first key only

    # changing a later position changes nothing before it
    k2, v2 = k.copy(), v.copy()
    k2[:, 2], v2[:, 2] = 10.0, -10.0
    out2 = F.scaled_dot_product_attention(device_tensor(q), device_tensor(k2), device_tensor(v2), is_causal=True)
    np.testing.assert_array_equal(host(out2)[:, :2], host(out)[:, :2])
    assert not np.allclose(host(out2)[:, 2], host(out)[:, 2])


def test_multi_head_attention_is_the_heads_side_by_side():
    """MHA by hand: project, cut the features into H blocks of D, attend in each block with 1/sqrt(D), put the
    heads' outputs side by side in the same order, project out."""
    L, S, N, E, H = 3, 4, 2, 6, 3
    D = E // H
    r = rng(5)
    query, key, value = r.standard_normal((L, N, E)), r.standard_normal((S, N, E)), r.standard_normal((S, N, E))
    w_in, b_in = r.standard_normal((3 * E, E)), r.standard_normal(3 * E)
    w_out, b_out = r.standard_normal((E, E)), r.standard_normal(E)
    out, weights = F.multi_head_attention_forward(
        *(device_tensor(a) for a in (query, key, value)), E, H, device_tensor(w_in), device_tensor(b_in),
        None, None, False, 0.0, device_tensor(w_out), device_tensor(b_out), average_attn_weights=False)

    q = query @ w_in[:E].T + b_in[:E]
    k = key @ w_in[E:2 * E].T + b_in[E:2 * E]
    v = value @ w_in[2 * E:].T + b_in[2 * E:]
    heads, expected_weights = [], []
    for h in range(H):
        block = slice(h * D, (h + 1) * D)
        qh, kh, vh = (np.swapaxes(x[..., block], 0, 1) for x in (q, k, v))     # (N, length, D)
        expected_weights.append(softmax_by_numpy(qh @ np.swapaxes(kh, 1, 2) / math.sqrt(D)))
        heads.append(np.swapaxes(expected_weights[-1] @ vh, 0, 1))              # (L, N, D)
    expected = np.concatenate(heads, axis=-1) @ w_out.T + b_out
    np.testing.assert_allclose(host(out), expected, rtol=1e-12)
    np.testing.assert_allclose(host(weights), np.stack(expected_weights, axis=1), rtol=1e-12)


def test_a_query_with_no_key_gets_zero_weights_and_finite_gradients(rand):
    q, k, v = rand.randn(1, 2, 3), rand.randn(1, 4, 3), rand.randn(1, 4, 2)
    allowed = np.ones((2, 4), dtype=bool)
    allowed[1] = False
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=device_tensor(allowed))
    np.testing.assert_array_equal(host(out)[0, 1], 0.0)
    out.sum().backward()
    for t in (q, k, v):
        assert np.isfinite(host(t.grad)).all()
    np.testing.assert_array_equal(host(q.grad)[0, 1], 0.0)


# -- gradients and gradients of gradients, float64 ------------------------------------------------------------

MASKS = ("none", "bool", "float (a learnt bias)", "causal")


@settings(max_examples=25, deadline=None)
@given(batch=st.sampled_from([(1,), (2,), (2, 1)]), L=st.integers(1, 3), S=st.integers(1, 3), E=st.integers(1, 3),
       Ev=st.integers(1, 2), mask=st.sampled_from(MASKS), seed=st.integers(0, 2**16))
def test_sdpa_gradients_of_drawn_shapes(batch, L, S, E, Ev, mask, seed, make_rand):
    rand = make_rand(seed)
    inputs = [rand.randn(*batch, L, E), rand.randn(*batch[:1], S, E), rand.randn(*batch[:1], S, Ev)]
    options = {}
    if mask == "bool":   # some queries may lose every key: their weights are 0, and so is their gradient
        options["attn_mask"] = device_tensor(rand.np.random((L, S)) < 0.7)
    elif mask == "causal":
        options["is_causal"] = True
    elif mask.startswith("float"):
        inputs.append(rand.randn(L, S))

    def attention(q, k, v, bias=None):
        return F.scaled_dot_product_attention(q, k, v, **(options if bias is None else {"attn_mask": bias}))
    assert gradcheck(attention, inputs)
    assert gradgradcheck(attention, inputs)


def test_multi_head_attention_gradients_and_gradients_of_gradients(rand):
    """Inputs and every weight, with both masks (one key padded, one pair masked) and the weights returned."""
    L, S, N, E, H = 3, 2, 2, 4, 2
    query, key = rand.randn(L, N, E), rand.randn(S, N, E)
    weights = [rand.randn(3 * E, E, scale=0.5), rand.randn(3 * E, scale=0.1), rand.randn(E, E, scale=0.5),
               rand.randn(E, scale=0.1)]
    attn_mask = np.zeros((L, S), dtype=bool)
    attn_mask[0, 1] = True
    padding = np.zeros((N, S), dtype=bool)
    padding[1, 0] = True

    def mha(query, key, w_in, b_in, w_out, b_out):
        out, attention = F.multi_head_attention_forward(
            query, key, key, E, H, w_in, b_in, None, None, False, 0.0, w_out, b_out,
            key_padding_mask=device_tensor(padding), attn_mask=device_tensor(attn_mask))
        return F.concat([out.reshape(-1), attention.reshape(-1)])
    assert gradcheck(mha, [query, key] + weights)
    assert gradgradcheck(mha, [query, key] + weights)


@pytest.mark.parametrize("batched", [True, False])
def test_batch_first_multi_head_attention_is_the_sequence_first_one_transposed(rand, batched):
    """batch_first=True takes (N, L, E) and returns (N, L, E): the sequence-first result with its first two axes
    swapped, with both masks; gradients of both layouts agree, and errors name the batch-first shapes."""
    L, S, N, E, H = 3, 4, 2, 4, 2
    shapes = [(N, L, E), (N, S, E)] if batched else [(L, E), (S, E)]
    query, key = (rand.randn(*shape) for shape in shapes)
    weights = [rand.randn(3 * E, E, scale=0.5), rand.randn(3 * E, scale=0.1), rand.randn(E, E, scale=0.5),
               rand.randn(E, scale=0.1)]
    attn_mask = np.zeros((L, S), dtype=bool)
    attn_mask[0, 1] = True
    padding = np.zeros((N, S) if batched else (S,), dtype=bool)
    padding[..., 0] = True

    def mha(query, key, batch_first):
        return F.multi_head_attention_forward(
            query, key, key, E, H, *weights[:2], None, None, False, 0.0, *weights[2:],
            key_padding_mask=device_tensor(padding), attn_mask=device_tensor(attn_mask), batch_first=batch_first)

    swap = (lambda t: F.transpose(t, 0, 1)) if batched else (lambda t: t)
    out_first, weights_first = mha(query, key, batch_first=True)
    out_sequence, weights_sequence = mha(swap(query), swap(key), batch_first=False)
    assert tuple(out_first.shape) == tuple(query.shape)
    np.testing.assert_allclose(host(out_first), host(swap(out_sequence)), rtol=1e-12)
    np.testing.assert_allclose(host(weights_first), host(weights_sequence), rtol=1e-12)

    u = device_tensor(rand.randn(*query.shape).array)
    grads_first = tinygan.grad((out_first * u).sum(), [query, key] + weights)
    out_sequence, _ = mha(swap(query), swap(key), batch_first=False)
    grads_sequence = tinygan.grad((swap(out_sequence) * u).sum(), [query, key] + weights)
    for first, sequence in zip(grads_first, grads_sequence):
        np.testing.assert_allclose(host(first), host(sequence), rtol=1e-10, atol=1e-12)

    if batched:
        with pytest.raises(ValueError, match=r"expected query, key and value of shapes \(N, L, E\), \(N, S, kdim\), "
                                             r"\(N, S, vdim\), got \(2, 3, 4\), \(3, 4, 4\) and \(3, 4, 4\)"):
            bad = device_tensor(np.ones((3, S, E)))
            F.multi_head_attention_forward(query, bad, bad, E, H, *weights[:2], None, None, False, 0.0,
                                           *weights[2:], batch_first=True)


# -- against PyTorch, float64 ---------------------------------------------------------------------------------

def weighting_for(shape, seed=9):
    return rng(seed).standard_normal(shape)


def backward_both(torch, ours, theirs):
    """Backpropagate the same random weighting of the output through both."""
    u = weighting_for(tuple(theirs.shape))
    ours.backward(device_tensor(u))
    theirs.backward(torch.from_numpy(u))


def assert_close(ours, theirs, what=""):
    np.testing.assert_allclose(host(ours), theirs.detach().numpy(), rtol=1e-10, atol=1e-12, err_msg=what)


SDPA_CASES = {   # name -> (query, key, value shapes, mask, options)
    "no mask": ((2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 2), None, {}),
    "bool mask (L, S) over (N, H)": ((2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 2), "bool", {}),
    "float mask (N, 1, L, S)": ((2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 2), "float", {}),
    "is_causal, square": ((2, 4, 3), (2, 4, 3), (2, 4, 3), None, {"is_causal": True}),
    "is_causal, L < S": ((2, 3, 3), (2, 5, 3), (2, 5, 2), None, {"is_causal": True}),
    "is_causal, L > S": ((2, 5, 3), (2, 3, 3), (2, 3, 2), None, {"is_causal": True}),
    "scale": ((2, 4, 5), (2, 6, 5), (2, 6, 5), "bool", {"scale": 0.3}),
    "a query with every key masked": ((1, 3, 2), (1, 4, 2), (1, 4, 3), "bool, a row masked", {}),
    "unbatched (L, E)": ((4, 3), (5, 3), (5, 2), None, {}),
    "broadcast batch axes": ((2, 1, 3, 4), (1, 3, 5, 4), (1, 3, 5, 2), None, {}),
    "enable_gqa": ((2, 4, 3, 2), (2, 2, 5, 2), (2, 2, 5, 3), None, {"enable_gqa": True}),
}


def sdpa_mask(kind, query_shape, key_shape, seed=4):
    L, S = query_shape[-2], key_shape[-2]
    if kind is None:
        return None
    if kind == "float":
        return rng(seed).standard_normal((query_shape[0], 1, L, S))
    allowed = rng(seed).random((L, S)) < 0.6
    allowed[:, 0] = True
    if kind == "bool, a row masked":
        allowed[1] = False
    return allowed


@pytest.mark.parametrize("name", sorted(SDPA_CASES))
def test_sdpa_matches_torch(name):
    torch = pytest.importorskip("torch")
    q_shape, k_shape, v_shape, kind, options = SDPA_CASES[name]
    arrays = [rng(i).standard_normal(shape) for i, shape in enumerate((q_shape, k_shape, v_shape))]
    mask = sdpa_mask(kind, q_shape, k_shape)
    ours_in = [device_tensor(a, requires_grad=True) for a in arrays]
    theirs_in = [torch.tensor(a, requires_grad=True) for a in arrays]
    ours = F.scaled_dot_product_attention(*ours_in, attn_mask=None if mask is None else device_tensor(mask), **options)
    theirs = torch.nn.functional.scaled_dot_product_attention(
        *theirs_in, attn_mask=None if mask is None else torch.from_numpy(mask), **options)
    assert_close(ours, theirs, "output")
    backward_both(torch, ours, theirs)
    for name, a, b in zip("qkv", ours_in, theirs_in):
        assert_close(a.grad, b.grad, f"gradient of {name}")


def torch_twin(torch, ours, theirs):
    """theirs (a torch module in float64) with ours' weights; ours in float64."""
    ours.double()
    state = {key: torch.from_numpy(backend.to_numpy(a)) for key, a in ours.state_dict().items()}
    theirs.double().load_state_dict(state)
    return theirs


def assert_gradients_match(ours, theirs):
    grads = {name: p.grad for name, p in theirs.named_parameters()}
    assert sorted(grads) == sorted(name for name, _ in ours.named_parameters())
    for name, p in ours.named_parameters():
        assert_close(p.grad, grads[name], f"gradient of {name}")


MHA_MASKS = {
    "no mask": {},
    "bool attn_mask (L, S)": {"attn_mask": "bool"},
    "float attn_mask (N * H, L, S)": {"attn_mask": "float"},
    "key_padding_mask": {"key_padding_mask": "bool"},
    "both masks": {"attn_mask": "bool", "key_padding_mask": "bool"},
    "float key_padding_mask": {"key_padding_mask": "float"},
}


def mha_masks(spec, N, H, L, S):
    r, masks = rng(7), {}
    if spec.get("attn_mask") == "bool":
        masks["attn_mask"] = r.random((L, S)) < 0.3
        masks["attn_mask"][:, 0] = False
    elif spec.get("attn_mask") == "float":
        masks["attn_mask"] = r.standard_normal((N * H, L, S))
    if spec.get("key_padding_mask") == "bool":
        masks["key_padding_mask"] = np.zeros((N, S), dtype=bool)
        masks["key_padding_mask"][0, -2:] = True
    elif spec.get("key_padding_mask") == "float":
        masks["key_padding_mask"] = np.where(np.arange(S) < S - 1, 0.0, -np.inf) * np.ones((N, 1))
    return masks


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("masks", sorted(MHA_MASKS))
@pytest.mark.parametrize("need_weights, average", [(True, True), (True, False), (False, True)])
def test_multihead_attention_matches_torch(batch_first, masks, need_weights, average):
    torch = pytest.importorskip("torch")
    N, L, S, E, H = 2, 3, 4, 6, 2
    ours = nn.MultiheadAttention(E, H, batch_first=batch_first)
    theirs = torch_twin(torch, ours, torch.nn.MultiheadAttention(E, H, batch_first=batch_first))
    layout = (lambda length: (N, length, E)) if batch_first else (lambda length: (length, N, E))
    arrays = [rng(1).standard_normal(layout(L)), rng(2).standard_normal(layout(S)), rng(3).standard_normal(layout(S))]
    ours_in = [device_tensor(a, requires_grad=True) for a in arrays]
    theirs_in = [torch.tensor(a, requires_grad=True) for a in arrays]
    mask_arrays = mha_masks(MHA_MASKS[masks], N, H, L, S)
    options = dict(need_weights=need_weights, average_attn_weights=average)
    out, weights = ours(*ours_in, **options, **{k: device_tensor(m) for k, m in mask_arrays.items()})
    t_out, t_weights = theirs(*theirs_in, **options, **{k: torch.from_numpy(m) for k, m in mask_arrays.items()})
    assert_close(out, t_out, "output")
    if need_weights:
        assert tuple(weights.shape) == ((N, L, S) if average else (N, H, L, S))
        assert_close(weights, t_weights, "attention weights")
    else:
        assert weights is None and t_weights is None
    backward_both(torch, out, t_out)
    for name, a, b in zip(("query", "key", "value"), ours_in, theirs_in):
        assert_close(a.grad, b.grad, f"gradient of {name}")
    assert_gradients_match(ours, theirs)


@pytest.mark.parametrize("case", ["kdim and vdim", "no bias", "unbatched", "one head, length 1"])
def test_multihead_attention_variants_match_torch(case):
    torch = pytest.importorskip("torch")
    E, H, kdim, vdim, bias, L, S = 4, 2, None, None, True, 3, 5
    if case == "kdim and vdim":
        kdim, vdim = 3, 5
    if case == "no bias":
        bias = False
    if case == "one head, length 1":
        H, L, S = 1, 1, 1
    ours = nn.MultiheadAttention(E, H, bias=bias, kdim=kdim, vdim=vdim)
    theirs = torch_twin(torch, ours, torch.nn.MultiheadAttention(E, H, bias=bias, kdim=kdim, vdim=vdim))
    assert list(ours.state_dict()) == list(theirs.state_dict())
    batch = () if case == "unbatched" else (2,)
    shapes = [(L,) + batch + (E,), (S,) + batch + (kdim or E,), (S,) + batch + (vdim or E,)]
    arrays = [rng(i).standard_normal(shape) for i, shape in enumerate(shapes)]
    out, weights = ours(*(device_tensor(a) for a in arrays))
    t_out, t_weights = theirs(*(torch.from_numpy(a) for a in arrays))
    assert_close(out, t_out, "output")
    assert_close(weights, t_weights, "attention weights")
    backward_both(torch, out, t_out)
    assert_gradients_match(ours, theirs)


def encoder_inputs(batch_first, N=2, L=4, E=8):
    x = rng(11).standard_normal((N, L, E) if batch_first else (L, N, E))
    causal = ~np.tril(np.ones((L, L), dtype=bool))     # True masks out, as PyTorch's attn_mask
    padding = np.zeros((N, L), dtype=bool)
    padding[1, -1] = True
    return x, causal, padding


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_transformer_encoder_layer_matches_torch(norm_first, batch_first, activation):
    torch = pytest.importorskip("torch")
    options = dict(dim_feedforward=16, dropout=0.0, activation=activation, batch_first=batch_first,
                   norm_first=norm_first)
    ours = nn.TransformerEncoderLayer(8, 2, **options)
    theirs = torch_twin(torch, ours, torch.nn.TransformerEncoderLayer(8, 2, **options))
    x, causal, padding = encoder_inputs(batch_first)
    out = ours(device_tensor(x), src_mask=device_tensor(causal), src_key_padding_mask=device_tensor(padding))
    t_out = theirs(torch.from_numpy(x), src_mask=torch.from_numpy(causal),
                   src_key_padding_mask=torch.from_numpy(padding))
    assert_close(out, t_out, "output")
    backward_both(torch, out, t_out)
    assert_gradients_match(ours, theirs)


def test_transformer_encoder_with_norm_matches_torch_and_state_dicts_move_both_ways(float64):
    torch = pytest.importorskip("torch")
    options = dict(dim_feedforward=16, dropout=0.0, batch_first=True, norm_first=True, activation="gelu")
    theirs = torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(8, 2, dtype=torch.float64, **options), 2,
                                         norm=torch.nn.LayerNorm(8, dtype=torch.float64), enable_nested_tensor=False)
    ours = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, **options), 2, norm=nn.LayerNorm(8))
    assert list(ours.state_dict()) == list(theirs.state_dict())
    x = rng(3).standard_normal((2, 5, 8))
    causal = torch.nn.Transformer.generate_square_subsequent_mask(5, dtype=torch.float64)

    ours.load_state_dict(theirs.state_dict())                                        # torch -> tinygan
    out = ours(device_tensor(x), mask=nn.Transformer.generate_square_subsequent_mask(5))
    t_out = theirs(torch.from_numpy(x), mask=causal)
    assert_close(out, t_out, "output, torch's weights")
    backward_both(torch, out, t_out)
    assert_gradients_match(ours, theirs)

    for p in ours.parameters():                                                      # tinygan -> torch
        p.array[...] = rng(5).standard_normal(p.shape) * 0.3 + host(p)
    fresh = torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(8, 2, dtype=torch.float64, **options), 2,
                                        norm=torch.nn.LayerNorm(8, dtype=torch.float64), enable_nested_tensor=False)
    fresh.load_state_dict({k: torch.from_numpy(backend.to_numpy(a)) for k, a in ours.state_dict().items()})
    out = ours(device_tensor(x), mask=nn.Transformer.generate_square_subsequent_mask(5))
    assert_close(out, fresh(torch.from_numpy(x), mask=causal), "output, tinygan's weights")


# -- construction: PyTorch's names, shapes, initialisation and defaults ------------------------------------------

def test_multihead_attention_parameters_and_initialisation():
    E = 16
    mha = nn.MultiheadAttention(E, 4)
    assert list(mha.state_dict()) == ["in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"]
    assert mha.in_proj_weight.shape == (3 * E, E) and mha.in_proj_bias.shape == (3 * E,)
    assert mha.out_proj.weight.shape == (E, E) and type(mha.out_proj).__name__ == "NonDynamicallyQuantizableLinear"
    assert isinstance(mha.out_proj, nn.Linear)
    assert (mha.dropout, mha.batch_first, mha.head_dim, mha.kdim, mha.vdim) == (0.0, False, 4, E, E)
    bound = math.sqrt(6 / (E + 3 * E))                     # xavier_uniform_ with fan_in E, fan_out 3E
    w = host(mha.in_proj_weight)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    np.testing.assert_array_equal(host(mha.in_proj_bias), 0.0)
    np.testing.assert_array_equal(host(mha.out_proj.bias), 0.0)

    separate = nn.MultiheadAttention(E, 4, kdim=3, vdim=5, bias=False)
    assert separate.in_proj_weight is None and separate.in_proj_bias is None and separate.out_proj.bias is None
    assert [tuple(p.shape) for p in separate.parameters()] == [(E, E), (E, 3), (E, 5), (E, E)]


def test_encoder_layer_defaults_and_submodules():
    layer = nn.TransformerEncoderLayer(8, 2)
    assert [name for name, _ in layer.named_children()] == [
        "self_attn", "linear1", "dropout", "linear2", "norm1", "norm2", "dropout1", "dropout2"]
    assert layer.linear1.weight.shape == (2048, 8) and layer.dropout.p == 0.1 and layer.norm1.eps == 1e-5
    assert layer.activation is F.relu and layer.activation_relu_or_gelu == 1
    assert not layer.norm_first and not layer.self_attn.batch_first and layer.self_attn.dropout == 0.1
    assert nn.TransformerEncoderLayer(8, 2, activation="gelu").activation is F.gelu
    assert nn.TransformerEncoderLayer(8, 2, activation=nn.GELU()).activation_relu_or_gelu == 2
    no_bias = nn.TransformerEncoderLayer(8, 2, bias=False)
    assert all("bias" not in name for name in no_bias.state_dict())


def test_encoder_layers_are_independent_copies():
    layer = nn.TransformerEncoderLayer(4, 1, dim_feedforward=8)
    encoder = nn.TransformerEncoder(layer, 3)
    assert list(encoder.state_dict())[0] == "layers.0.self_attn.in_proj_weight"
    assert len(encoder.layers) == 3 and encoder.num_layers == 3
    first, second = encoder.layers[0].linear1.weight, encoder.layers[1].linear1.weight
    assert first is not second and first is not layer.linear1.weight
    np.testing.assert_array_equal(host(first), host(second))
    first.array[...] = 0.0
    assert np.abs(host(second)).max() > 0


def test_one_head_and_a_sequence_of_one(float64):
    """One key: its weight is 1 and the output is the projected value, whatever the query."""
    mha = nn.MultiheadAttention(4, 1)
    query, value = device_tensor(rng(1).standard_normal((3, 2, 4))), device_tensor(rng(2).standard_normal((1, 2, 4)))
    out, weights = mha(query, value, value)
    np.testing.assert_allclose(host(weights), 1.0)
    projected = host(value) @ host(mha.in_proj_weight)[8:].T
    expected = projected @ host(mha.out_proj.weight).T
    np.testing.assert_allclose(host(out), np.broadcast_to(expected, (3, 2, 4)), rtol=1e-5, atol=1e-6)

    x = device_tensor(rng(3).standard_normal((1, 1, 4)))
    layer = nn.TransformerEncoderLayer(4, 1, dim_feedforward=8).eval()
    assert layer(x).shape == (1, 1, 4)
    assert nn.TransformerEncoder(layer, 1)(x, mask=nn.Transformer.generate_square_subsequent_mask(1)).shape == (1, 1, 4)


def test_float32_stays_float32():
    mha = nn.MultiheadAttention(4, 2)
    x = device_tensor(rng().standard_normal((3, 2, 4)).astype(np.float32))
    out, weights = mha(x, x, x, attn_mask=nn.Transformer.generate_square_subsequent_mask(3))
    assert out.dtype == np.float32 and weights.dtype == np.float32


def test_dropout_acts_in_training_only(float64):
    mha = nn.MultiheadAttention(4, 2, dropout=0.5)
    x = device_tensor(rng().standard_normal((5, 2, 4)))
    reference, kept = mha.eval()(x, x, x, average_attn_weights=False)
    tinygan.manual_seed(0)
    _, dropped = mha.train()(x, x, x, average_attn_weights=False)
    dropped, kept = host(dropped), host(kept)
    zeroed = dropped == 0
    assert zeroed.any() and not zeroed.all()
    np.testing.assert_allclose(dropped[~zeroed], kept[~zeroed] / 0.5, rtol=1e-6)  # the kept weights scaled by 1/(1-p)
    np.testing.assert_array_equal(host(mha.eval()(x, x, x)[0]), host(reference))


# -- errors that name the operation and the shapes --------------------------------------------------------------

def test_errors_name_the_operation_and_the_shapes(float64):
    with pytest.raises(ValueError, match=r"MultiheadAttention: embed_dim \(10\) must be divisible by num_heads \(3\)"):
        nn.MultiheadAttention(10, 3)
    with pytest.raises(ValueError, match=r"MultiheadAttention: embed_dim \(6\) must be divisible by num_heads \(4\)"):
        nn.TransformerEncoderLayer(6, 4)
    with pytest.raises(NotImplementedError, match="add_bias_kv"):
        nn.MultiheadAttention(4, 2, add_bias_kv=True)
    with pytest.raises(ValueError, match="activation should be 'relu', 'gelu' or a callable, not 'tanh'"):
        nn.TransformerEncoderLayer(4, 2, activation="tanh")

    q, k, v = (device_tensor(rng().standard_normal(s)) for s in [(2, 3, 4), (2, 5, 4), (2, 5, 2)])
    sdpa = F.scaled_dot_product_attention
    with pytest.raises(ValueError, match=r"scaled_dot_product_attention: attn_mask of shape \(3, 4\) does not "
                                         r"broadcast to the attention weights' shape \(2, 3, 5\)"):
        sdpa(q, k, v, attn_mask=device_tensor(np.ones((3, 4), dtype=bool)))
    with pytest.raises(ValueError, match=r"scaled_dot_product_attention: query and key must have the same number "
                                         r"of features E, got query \(2, 3, 4\) \(4\) and key \(2, 5, 3\) \(3\)"):
        sdpa(q, device_tensor(np.ones((2, 5, 3))), v)
    with pytest.raises(ValueError, match=r"key and value must have the same length S, got key \(2, 5, 4\) \(5\) "
                                         r"and value \(2, 4, 2\) \(4\)"):
        sdpa(q, k, device_tensor(np.ones((2, 4, 2))))
    with pytest.raises(ValueError, match="attn_mask or is_causal=True, not both"):
        sdpa(q, k, v, attn_mask=device_tensor(np.ones((3, 5), dtype=bool)), is_causal=True)
    with pytest.raises(TypeError, match="attn_mask must be a boolean or a floating mask, got dtype int64"):
        sdpa(q, k, v, attn_mask=device_tensor(np.ones((3, 5), dtype=np.int64)))

    mha = nn.MultiheadAttention(4, 2)
    x = device_tensor(rng().standard_normal((3, 2, 4)))
    with pytest.raises(ValueError, match=r"multi_head_attention_forward: attn_mask must have shape \(L, S\) = "
                                         r"\(3, 3\) or \(N \* num_heads, L, S\) = \(4, 3, 3\), got \(3, 2\)"):
        mha(x, x, x, attn_mask=device_tensor(np.zeros((3, 2), dtype=bool)))
    with pytest.raises(ValueError, match=r"key_padding_mask must have shape \(N, S\) = \(2, 3\), got \(3, 2\)"):
        mha(x, x, x, key_padding_mask=device_tensor(np.zeros((3, 2), dtype=bool)))
    with pytest.raises(ValueError, match=r"expected query with embed_dim 4 features, got shape \(3, 2, 5\)"):
        y = device_tensor(np.ones((3, 2, 5)))
        mha(y, y, y)
    with pytest.raises(ValueError, match=r"query must be \(L, N, E\) or unbatched \(L, E\), got shape \(4,\)"):
        y = device_tensor(np.ones(4))
        mha(y, y, y)
    with pytest.raises(ValueError, match="is_causal=True is a hint that attn_mask is the causal mask"):
        mha(x, x, x, is_causal=True)

    with pytest.raises(NotImplementedError, match=r"nn.Transformer: .*TransformerEncoder.*generate_square_subsequent"):
        nn.Transformer(d_model=8, nhead=2)
