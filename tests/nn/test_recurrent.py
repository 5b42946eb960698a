"""Recurrent cells and layers: the cells against NumPy written out by hand; float64 gradient checks of unrolled
multi-step, multi-layer, bidirectional layers over hypothesis-drawn sizes and of every initial state; and, where
torch is installed, float64 forward and backward equality with torch.nn.RNN/LSTM/GRU and their cells, with
state_dicts moved both ways. The cells' own gradient, gradient-of-gradient, fast == reference, strided-input and
no-mutation checks are cases of tests/engine/test_op_contract.py's table (rnn_cell, lstm_cell, gru_cell, lstm_sequence).
"""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygan
import tinygan.functional as F
from tinygan import Tensor, backend, nn
from tinygan.gradcheck import gradcheck

FAST = settings(max_examples=6, deadline=None)
LAYERS = {"RNN": nn.RNN, "LSTM": nn.LSTM, "GRU": nn.GRU}
CELLS = {"RNNCell": nn.RNNCell, "LSTMCell": nn.LSTMCell, "GRUCell": nn.GRUCell}


def tensor(array, requires_grad=True):
    return Tensor(backend.to_device(np.asarray(array, dtype=np.float64), backend.current_device()),
                  requires_grad=requires_grad)


def host(t):
    return backend.to_numpy(t.array)


def cell_inputs(gates, N=2, I=3, H=4, seed=0):
    """x, h, W_ih, W_hh, b_ih, b_hh as float64 tensors."""
    rng = np.random.default_rng(seed)
    shapes = [(N, I), (N, H), (gates * H, I), (gates * H, H), (gates * H,), (gates * H,)]
    return [tensor(rng.standard_normal(s) * 0.7) for s in shapes]


# -- the cells, by hand ---------------------------------------------------------------------------------

def test_lstm_cell_by_hand():
    """The gate order i, f, g, o and the forget-gate term f * c, against NumPy written out here."""
    x, h, w_ih, w_hh, b_ih, b_hh = cell_inputs(4)
    c = tensor(np.random.default_rng(5).standard_normal((2, 4)))
    a = host(x) @ host(w_ih).T + host(b_ih) + host(h) @ host(w_hh).T + host(b_hh)
    sig = lambda v: 1 / (1 + np.exp(-v))
    i, f, g, o = sig(a[:, 0:4]), sig(a[:, 4:8]), np.tanh(a[:, 8:12]), sig(a[:, 12:16])
    c_new = f * host(c) + i * g
    h_new, c_out = F.lstm_cell(x, h, c, w_ih, w_hh, b_ih, b_hh)
    np.testing.assert_allclose(host(c_out), c_new, rtol=1e-12)
    np.testing.assert_allclose(host(h_new), o * np.tanh(c_new), rtol=1e-12)


def test_gru_cell_by_hand():
    """r multiplies (W_hn h + b_hn), bias included; h' = (1 - z) n + z h."""
    x, h, w_ih, w_hh, b_ih, b_hh = cell_inputs(3)
    ax = host(x) @ host(w_ih).T + host(b_ih)
    ah = host(h) @ host(w_hh).T + host(b_hh)
    sig = lambda v: 1 / (1 + np.exp(-v))
    r, z = sig(ax[:, :4] + ah[:, :4]), sig(ax[:, 4:8] + ah[:, 4:8])
    n = np.tanh(ax[:, 8:] + r * ah[:, 8:])
    np.testing.assert_allclose(host(F.gru_cell(x, h, w_ih, w_hh, b_ih, b_hh)), (1 - z) * n + z * host(h), rtol=1e-12)


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_rnn_cell_by_hand(nonlinearity):
    x, h, w_ih, w_hh, b_ih, b_hh = cell_inputs(1)
    a = host(x) @ host(w_ih).T + host(b_ih) + host(h) @ host(w_hh).T + host(b_hh)
    expected = np.tanh(a) if nonlinearity == "tanh" else np.maximum(a, 0)
    y = F.rnn_cell(x, h, w_ih, w_hh, b_ih, b_hh, nonlinearity=nonlinearity)
    np.testing.assert_allclose(host(y), expected, rtol=1e-12)


# -- unrolled layers: backpropagation through time is the ordinary backward -------------------------------

@FAST
@given(kind=st.sampled_from(sorted(LAYERS)), L=st.integers(1, 4), N=st.integers(1, 2), I=st.integers(1, 3),
       H=st.integers(1, 3), num_layers=st.integers(1, 2), bidirectional=st.booleans(), batch_first=st.booleans())
def test_layer_gradients(kind, L, N, I, H, num_layers, bidirectional, batch_first):
    tinygan.manual_seed(0)
    layer = LAYERS[kind](I, H, num_layers=num_layers, bidirectional=bidirectional, batch_first=batch_first).double()
    rng = np.random.default_rng(L * 100 + N * 10 + I)
    D = 2 if bidirectional else 1
    x = tensor(rng.standard_normal((N, L, I) if batch_first else (L, N, I)))
    h0 = tensor(rng.standard_normal((D * num_layers, N, H)) * 0.5)
    c0 = tensor(rng.standard_normal((D * num_layers, N, H)) * 0.5)
    params = list(layer.parameters())

    def run(x, h0, c0, *_):
        # the parameters are perturbed in place by the checker; the layer reads them itself
        output, state = layer(x, (h0, c0) if kind == "LSTM" else h0)
        states = list(state) if kind == "LSTM" else [state]
        return F.concat([output.reshape(-1)] + [s.reshape(-1) for s in states], axis=0)

    assert gradcheck(run, [x, h0, c0] + params)


def test_layer_shapes():
    lstm = nn.LSTM(3, 5, num_layers=2, batch_first=True, bidirectional=True)
    output, (h_n, c_n) = lstm(Tensor(np.zeros((4, 7, 3), dtype=np.float32)))
    assert output.shape == (4, 7, 10) and h_n.shape == (4, 4, 5) and c_n.shape == (4, 4, 5)
    gru = nn.GRU(3, 5)
    output, h_n = gru(Tensor(np.zeros((7, 3), dtype=np.float32)))          # unbatched
    assert output.shape == (7, 5) and h_n.shape == (1, 5)
    assert [name for name, _ in nn.RNN(2, 3, bidirectional=True, bias=False).named_parameters()] == [
        "weight_ih_l0", "weight_hh_l0", "weight_ih_l0_reverse", "weight_hh_l0_reverse"]


def test_initialisation_is_uniform_within_one_over_sqrt_hidden():
    layer = nn.LSTM(10, 64, num_layers=2)
    bound = 1 / np.sqrt(64)
    values = np.concatenate([host(p).ravel() for p in layer.parameters()])
    assert np.abs(values).max() <= bound and np.abs(values).max() > 0.95 * bound
    assert abs(values.mean()) < 0.01 and abs(values.std() - bound / np.sqrt(3)) < 0.01


def test_dropout_between_layers_only_in_training():
    tinygan.manual_seed(0)
    layer = nn.GRU(3, 4, num_layers=2, dropout=0.5)
    x = Tensor(np.random.default_rng(0).standard_normal((5, 2, 3)).astype(np.float32))
    layer.eval()
    first, second = host(layer(x)[0]), host(layer(x)[0])
    np.testing.assert_array_equal(first, second)
    layer.train()
    assert not np.allclose(host(layer(x)[0]), first)
    one_layer = nn.GRU(3, 4, dropout=0.5)     # dropout acts between layers: none with one layer
    np.testing.assert_array_equal(host(one_layer(x)[0]), host(one_layer(x)[0]))


def test_errors_name_the_op_and_shapes():
    with pytest.raises(ValueError, match=r"LSTM: input has 2 features .* input_size=3"):
        nn.LSTM(3, 4)(Tensor(np.zeros((5, 1, 2), dtype=np.float32)))
    with pytest.raises(ValueError, match=r"GRU: expected h0 of shape \(1, 1, 4\), got \(1, 4\)"):
        nn.GRU(3, 4)(Tensor(np.zeros((5, 1, 3), dtype=np.float32)), Tensor(np.zeros((1, 4), dtype=np.float32)))
    x, h, w_ih, w_hh, b_ih, b_hh = cell_inputs(4)
    with pytest.raises(ValueError, match=r"gru_cell: weight_ih \(16, 3\) and weight_hh \(16, 4\) must both have 3"):
        F.gru_cell(x, h, w_ih, w_hh)
    with pytest.raises(ValueError, match="nonlinearity"):
        nn.RNN(3, 4, nonlinearity="sigmoid")


# -- against PyTorch, float64 ---------------------------------------------------------------------------

TORCH_CASES = [
    ("RNN", dict()), ("RNN", dict(nonlinearity="relu", num_layers=2)),
    ("LSTM", dict(num_layers=2, bidirectional=True, batch_first=True)), ("LSTM", dict(bias=False)),
    ("GRU", dict(num_layers=3, bidirectional=True)), ("GRU", dict(batch_first=True)),
]


@pytest.mark.parametrize("kind,kwargs", TORCH_CASES, ids=lambda v: str(v))
def test_layers_match_pytorch(kind, kwargs):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    theirs = getattr(torch.nn, kind)(3, 5, **kwargs).double()
    ours = LAYERS[kind](3, 5, **kwargs).double()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    rng = np.random.default_rng(1)
    D = 2 if kwargs.get("bidirectional") else 1
    shape = (2, 6, 3) if kwargs.get("batch_first") else (6, 2, 3)
    x = rng.standard_normal(shape)
    h0 = rng.standard_normal((D * kwargs.get("num_layers", 1), 2, 5))
    c0 = rng.standard_normal(h0.shape)
    xt, h0t, c0t = (torch.tensor(a, requires_grad=True) for a in (x, h0, c0))
    xo, h0o, c0o = (tensor(a) for a in (x, h0, c0))
    out_t, state_t = theirs(xt, (h0t, c0t) if kind == "LSTM" else h0t)
    out_o, state_o = ours(xo, (h0o, c0o) if kind == "LSTM" else h0o)
    states_t = list(state_t) if kind == "LSTM" else [state_t]
    states_o = list(state_o) if kind == "LSTM" else [state_o]
    np.testing.assert_allclose(host(out_o), out_t.detach().numpy(), rtol=1e-10, atol=1e-12)
    for s_o, s_t in zip(states_o, states_t):
        np.testing.assert_allclose(host(s_o), s_t.detach().numpy(), rtol=1e-10, atol=1e-12)
    weights = [rng.standard_normal(tuple(t.shape)) for t in [out_t] + states_t]
    sum(((t * torch.tensor(w)).sum() for t, w in zip([out_t] + states_t, weights))).backward()
    total = None
    for t, w in zip([out_o] + states_o, weights):
        term = (t * tensor(w, requires_grad=False)).sum()
        total = term if total is None else total + term
    total.backward()
    for ours_grad, theirs_grad in [(xo, xt), (h0o, h0t)] + ([(c0o, c0t)] if kind == "LSTM" else []):
        np.testing.assert_allclose(host(ours_grad.grad), theirs_grad.grad.numpy(), rtol=1e-10, atol=1e-12)
    for (name, p_o), (_, p_t) in zip(ours.named_parameters(), theirs.named_parameters()):
        np.testing.assert_allclose(host(p_o.grad), p_t.grad.numpy(), rtol=1e-10, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("kind", sorted(CELLS))
def test_cells_match_pytorch(kind):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    theirs = getattr(torch.nn, kind)(3, 4).double()
    ours = CELLS[kind](3, 4).double()
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    rng = np.random.default_rng(2)
    x, h, c = rng.standard_normal((2, 3)), rng.standard_normal((2, 4)), rng.standard_normal((2, 4))
    xt, ht, ct = (torch.tensor(a, requires_grad=True) for a in (x, h, c))
    xo, ho, co = (tensor(a) for a in (x, h, c))
    if kind == "LSTMCell":
        out_t, out_o = torch.cat(theirs(xt, (ht, ct)), 1), F.concat(list(ours(xo, (ho, co))), axis=1)
    else:
        out_t, out_o = theirs(xt, ht), ours(xo, ho)
    np.testing.assert_allclose(host(out_o), out_t.detach().numpy(), rtol=1e-12, atol=1e-14)
    w = rng.standard_normal(tuple(out_t.shape))
    (out_t * torch.tensor(w)).sum().backward()
    (out_o * tensor(w, requires_grad=False)).sum().backward()
    np.testing.assert_allclose(host(xo.grad), xt.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(host(ho.grad), ht.grad.numpy(), rtol=1e-10, atol=1e-12)
    for (name, p_o), (_, p_t) in zip(ours.named_parameters(), theirs.named_parameters()):
        np.testing.assert_allclose(host(p_o.grad), p_t.grad.numpy(), rtol=1e-10, atol=1e-12, err_msg=name)
    # no state given: zeros, as PyTorch
    out_t = theirs(xt)[0] if kind == "LSTMCell" else theirs(xt)
    out_o = ours(xo)[0] if kind == "LSTMCell" else ours(xo)
    np.testing.assert_allclose(host(out_o), out_t.detach().numpy(), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("kind", sorted(LAYERS))
def test_state_dict_moves_to_pytorch(kind):
    """tinygan -> PyTorch: the same names and shapes, and PyTorch then computes our outputs."""
    torch = pytest.importorskip("torch")
    ours = LAYERS[kind](3, 4, num_layers=2, bidirectional=True).double()
    theirs = getattr(torch.nn, kind)(3, 4, num_layers=2, bidirectional=True).double()
    theirs.load_state_dict({k: torch.tensor(backend.to_numpy(v)) for k, v in ours.state_dict().items()})
    x = np.random.default_rng(3).standard_normal((5, 2, 3))
    np.testing.assert_allclose(theirs(torch.tensor(x))[0].detach().numpy(), host(ours(tensor(x))[0]),
                               rtol=1e-10, atol=1e-12)


# -- the initial state: the default zeros, a given state without a gradient, and one with --------------------
# Training runs use the default state, so a backward that only propagates through time when h0 takes a gradient
# would pass every test that gives h0 one. Each layer is checked in the three ways, with both kernel modes.

STATES = ("default", "given, no gradient", "given, with gradient")


def _state_inputs(kind, state, L, N, seed=4):
    """x (L, N, 3) and the state argument of a 5-unit layer: None, or h0 (and c0) taking a gradient or not."""
    rng = np.random.default_rng(seed)
    x = tensor(rng.standard_normal((L, N, 3)))
    if state == "default":
        return x, None
    needs = state == "given, with gradient"
    h0, c0 = (tensor(rng.standard_normal((1, N, 5)) * 0.5, requires_grad=needs) for _ in range(2))
    return x, ((h0, c0) if kind == "LSTM" else h0)


def _state_tensors(hx):
    return [] if hx is None else list(hx) if isinstance(hx, tuple) else [hx]


def _gradients_with_state(kind, state, mode, L=5, N=2):
    """Every gradient (x, the parameters, a state that takes one) of a weighted sum of the layer's outputs."""
    tinygan.manual_seed(0)
    layer = LAYERS[kind](3, 5).double()
    x, hx = _state_inputs(kind, state, L, N)
    with tinygan.kernels.using(mode):
        output, h_n = layer(x, hx)
        results = [output] + (list(h_n) if kind == "LSTM" else [h_n])
        weights = np.random.default_rng(8)
        total = sum((r * tensor(weights.standard_normal(r.shape), requires_grad=False)).sum() for r in results)
        total.backward()
    inputs = [x] + [s for s in _state_tensors(hx) if s.requires_grad] + list(layer.parameters())
    return layer, [host(t.grad) for t in inputs]


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("kind", sorted(LAYERS))
def test_fast_and_reference_agree_for_every_initial_state(kind, state):
    _, fast = _gradients_with_state(kind, state, "fast")
    _, reference = _gradients_with_state(kind, state, "reference")
    assert len(fast) == len(reference)
    for i, (a, b) in enumerate(zip(fast, reference)):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12, err_msg=f"gradient {i} (0: x)")


@pytest.mark.parametrize("mode", tinygan.kernels.MODES)
@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("kind", sorted(LAYERS))
def test_gradient_check_for_every_initial_state(kind, state, mode):
    tinygan.manual_seed(0)
    layer = LAYERS[kind](2, 3).double()
    rng = np.random.default_rng(6)
    x = tensor(rng.standard_normal((4, 2, 2)))
    needs = state == "given, with gradient"
    h0, c0 = (tensor(rng.standard_normal((1, 2, 3)) * 0.5, requires_grad=needs) for _ in range(2))

    def run(x, *rest):
        if state == "default":
            hx = None
        else:
            hx = (h0, c0) if kind == "LSTM" else h0
        output, h_n = layer(x, hx)
        states = list(h_n) if kind == "LSTM" else [h_n]
        return F.concat([output.reshape(-1)] + [s.reshape(-1) for s in states], axis=0)

    inputs = [x] + ([h0] + ([c0] if kind == "LSTM" else []) if needs else []) + list(layer.parameters())
    with tinygan.kernels.using(mode):
        assert gradcheck(run, inputs)


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("kind", sorted(LAYERS))
def test_every_initial_state_matches_pytorch(kind, state):
    torch = pytest.importorskip("torch")
    layer, ours = _gradients_with_state(kind, state, "fast")
    theirs_layer = getattr(torch.nn, kind)(3, 5).double()
    theirs_layer.load_state_dict({k: torch.tensor(backend.to_numpy(v)) for k, v in layer.state_dict().items()})
    x, hx = _state_inputs(kind, state, 5, 2)
    xt = torch.tensor(host(x), requires_grad=True)
    states_t = [torch.tensor(host(s), requires_grad=s.requires_grad) for s in _state_tensors(hx)]
    hx_t = None if hx is None else (tuple(states_t) if kind == "LSTM" else states_t[0])
    output, h_n = theirs_layer(xt, hx_t)
    results = [output] + (list(h_n) if kind == "LSTM" else [h_n])
    weights = np.random.default_rng(8)
    sum((r * torch.tensor(weights.standard_normal(tuple(r.shape)))).sum() for r in results).backward()
    theirs = [xt.grad.numpy()] + [s.grad.numpy() for s in states_t if s.requires_grad]
    theirs += [p.grad.numpy() for p in theirs_layer.parameters()]
    assert len(ours) == len(theirs)
    for i, (a, b) in enumerate(zip(ours, theirs)):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12, err_msg=f"gradient {i} (0: x)")


@pytest.mark.parametrize("mode", tinygan.kernels.MODES)
@pytest.mark.parametrize("kind", sorted(LAYERS))
def test_a_sequence_of_one_step_and_a_batch_of_one(kind, mode):
    """L = 1 and N = 1, the smallest sizes: the same gradients as the other kernel mode."""
    other = "reference" if mode == "fast" else "fast"
    for state in STATES:
        _, ours = _gradients_with_state(kind, state, mode, L=1, N=1)
        _, theirs = _gradients_with_state(kind, state, other, L=1, N=1)
        for a, b in zip(ours, theirs):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12, err_msg=state)
