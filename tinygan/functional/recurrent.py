"""Recurrent cells: one time step of an RNN, an LSTM and a GRU, written with tinygan's own ops.

Notation (PyTorch's): N batch, I input features, H hidden features. x is the input at this step (N, I),
h the previous hidden state (N, H), c the previous cell state of an LSTM (N, H). The weights hold the
gates stacked along their first axis, in PyTorch's order:

    RNN   W_ih (H, I),   W_hh (H, H)
    LSTM  W_ih (4H, I),  W_hh (4H, H)   gates i, f, g, o
    GRU   W_ih (3H, I),  W_hh (3H, H)   gates r, z, n

There is no backward here: each cell is a few ordinary ops, so backpropagation through time is the
ordinary backward over the unrolled graph, and gradients of gradients work too.
"""
from .activation import relu, sigmoid, tanh
from .layers import linear

NONLINEARITIES = {"tanh": tanh, "relu": relu}


def _check(op, x, h, weight_ih, weight_hh, bias_ih, bias_hh, gates, c=None):
    """Errors that name the op and the shapes, before a matmul fails ten frames deep."""
    if x.ndim != 2:
        raise ValueError(f"{op}: input must be 2-D (N, input_size), got shape {tuple(x.shape)}")
    if weight_ih.ndim != 2 or weight_hh.ndim != 2:
        raise ValueError(f"{op}: weights must be 2-D, got weight_ih {tuple(weight_ih.shape)} and "
                         f"weight_hh {tuple(weight_hh.shape)}")
    H = weight_hh.shape[1]
    if weight_ih.shape[0] != gates * H or weight_hh.shape[0] != gates * H:
        raise ValueError(f"{op}: weight_ih {tuple(weight_ih.shape)} and weight_hh {tuple(weight_hh.shape)} must "
                         f"both have {gates} * hidden_size = {gates * H} rows")
    if x.shape[1] != weight_ih.shape[1]:
        raise ValueError(f"{op}: input has {x.shape[1]} features (shape {tuple(x.shape)}) but weight_ih expects "
                         f"{weight_ih.shape[1]} (weight_ih shape {tuple(weight_ih.shape)})")
    for name, state in (("hx", h), ("cx", c)):
        if state is not None and tuple(state.shape) != (x.shape[0], H):
            raise ValueError(f"{op}: {name} must have shape (N, hidden_size) = {(x.shape[0], H)}, "
                             f"got {tuple(state.shape)}")
    for name, bias in (("bias_ih", bias_ih), ("bias_hh", bias_hh)):
        if bias is not None and tuple(bias.shape) != (gates * H,):
            raise ValueError(f"{op}: {name} must have shape ({gates * H},), got {tuple(bias.shape)}")


def _gate(pre, k, H):
    """Gate k of the stacked pre-activations (N, gates * H): columns k*H to (k+1)*H."""
    return pre[:, k * H:(k + 1) * H]


def rnn_cell(input, hx, weight_ih, weight_hh, bias_ih=None, bias_hh=None, nonlinearity="tanh"):
    """One step of the Elman RNN, as torch.nn.RNNCell:

        h' = tanh(W_ih x + b_ih + W_hh h + b_hh)      (or relu in place of tanh)
    """
    if nonlinearity not in NONLINEARITIES:
        raise ValueError(f"rnn_cell: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
    _check("rnn_cell", input, hx, weight_ih, weight_hh, bias_ih, bias_hh, gates=1)
    act = NONLINEARITIES[nonlinearity]
    return act(linear(input, weight_ih, bias_ih) + linear(hx, weight_hh, bias_hh))  # [formula: rnn-cell]


def lstm_cell(input, hx, cx, weight_ih, weight_hh, bias_ih=None, bias_hh=None):
    """One step of the LSTM (Hochreiter & Schmidhuber 1997, with the forget gate of Gers et al. 2000),
    as torch.nn.LSTMCell. With a_k = W_ik x + b_ik + W_hk h + b_hk for gate k:

        i = sigmoid(a_i)   f = sigmoid(a_f)   g = tanh(a_g)   o = sigmoid(a_o)
        c' = f * c + i * g
        h' = o * tanh(c')

    Returns (h', c').
    """
    _check("lstm_cell", input, hx, weight_ih, weight_hh, bias_ih, bias_hh, gates=4, c=cx)
    H = hx.shape[1]
    a = linear(input, weight_ih, bias_ih) + linear(hx, weight_hh, bias_hh)      # (N, 4H): i, f, g, o
    i = sigmoid(_gate(a, 0, H))                                                  # [formula: lstm-input-gate]
    f = sigmoid(_gate(a, 1, H))                                                  # [formula: lstm-forget-gate]
    g = tanh(_gate(a, 2, H))                                                     # [formula: lstm-cell-candidate]
    o = sigmoid(_gate(a, 3, H))                                                  # [formula: lstm-output-gate]
    c = f * cx + i * g                                                           # [formula: lstm-cell-state]
    h = o * tanh(c)                                                              # [formula: lstm-hidden-state]
    return h, c


def gru_cell(input, hx, weight_ih, weight_hh, bias_ih=None, bias_hh=None):
    """One step of the GRU (Cho et al. 2014), as torch.nn.GRUCell:

        r = sigmoid(W_ir x + b_ir + W_hr h + b_hr)
        z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
        n = tanh(W_in x + b_in + r * (W_hn h + b_hn))
        h' = (1 - z) * n + z * h

    The reset gate multiplies (W_hn h + b_hn), bias included, as in PyTorch and cuDNN (the paper puts r
    inside: W_hn (r * h)).
    """
    _check("gru_cell", input, hx, weight_ih, weight_hh, bias_ih, bias_hh, gates=3)
    H = hx.shape[1]
    a_x = linear(input, weight_ih, bias_ih)                                      # (N, 3H): r, z, n
    a_h = linear(hx, weight_hh, bias_hh)                                         # (N, 3H): r, z, n
    r = sigmoid(_gate(a_x, 0, H) + _gate(a_h, 0, H))                             # [formula: gru-reset-gate]
    z = sigmoid(_gate(a_x, 1, H) + _gate(a_h, 1, H))                             # [formula: gru-update-gate]
    n = tanh(_gate(a_x, 2, H) + r * _gate(a_h, 2, H))                            # [formula: gru-candidate]
    return (1 - z) * n + z * hx                                                  # [formula: gru-hidden-state]
