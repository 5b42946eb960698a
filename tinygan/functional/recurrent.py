"""Recurrent cells: one time step of an RNN, an LSTM and a GRU, written with tinygan's own ops.

Notation (PyTorch's): N batch, I input features, H hidden features. x is the input at this step (N, I),
h the previous hidden state (N, H), c the previous cell state of an LSTM (N, H). The weights hold the
gates stacked along their first axis, in PyTorch's order:

    RNN   W_ih (H, I),   W_hh (H, H)
    LSTM  W_ih (4H, I),  W_hh (4H, H)   gates i, f, g, o
    GRU   W_ih (3H, I),  W_hh (3H, H)   gates r, z, n

There is no backward in the cells: each is a few ordinary ops, so backpropagation through time is the
ordinary backward over the unrolled graph, and gradients of gradients work too. `lstm_sequence` runs an
LSTM layer over a whole sequence: the reference unrolls `lstm_cell`; its fast twin
(tinygan/kernels/recurrent.py, chosen by kernels.twin) runs the recurrence as one Function with the
closed-form BPTT, which `_lstm_bptt` below writes in tinygan's ops.
"""
from .. import kernels
from ..autograd import no_grad
from .activation import relu, sigmoid, tanh
from .arithmetic import matmul
from .layers import linear
from .shape import concat, stack, transpose

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


def lstm_sequence(input, hx, cx, weight_ih, weight_hh, bias_ih=None, bias_hh=None):
    """An LSTM layer over a whole sequence: input (L, N, I) from the state (hx, cx), each (N, H).

    Returns (output, (h_L, c_L)): output (L, N, H) holds h_1 .. h_L. The reference is lstm_cell unrolled over
    the L steps; the fast kernel computes the same numbers (see tinygan/kernels/recurrent.py).
    """
    if input.ndim != 3 or input.shape[0] == 0:
        raise ValueError(f"lstm_sequence: input must be 3-D (L, N, input_size) with L >= 1, got shape "
                         f"{tuple(input.shape)}")
    with no_grad():
        _check("lstm_sequence", input[0], hx, weight_ih, weight_hh, bias_ih, bias_hh, gates=4, c=cx)
    layer = kernels.twin("lstm_sequence", _lstm_unrolled, backward_in_ops=_lstm_bptt)
    return layer(input, hx, cx, weight_ih, weight_hh, bias_ih, bias_hh)


def _lstm_unrolled(input, hx, cx, weight_ih, weight_hh, bias_ih, bias_hh):
    """lstm_cell, step after step; BPTT is autograd's backward over the unrolled graph."""
    h, c, outputs = hx, cx, []
    for t in range(input.shape[0]):
        h, c = lstm_cell(input[t], h, c, weight_ih, weight_hh, bias_ih, bias_hh)
        outputs.append(h)
    return stack(outputs, dim=0), (h, c)


def _lstm_bptt(grad, x, h0, c0, w_ih, w_hh, bias=None):
    """(d x, d h0, d c0, d w_ih, d w_hh, d bias) of an LSTM layer in closed form, as tinygan ops, from grad
    (L + 1, N, H), the gradient of [h_1 .. h_L, c_L], with bias = b_ih + b_hh or None. The fast twin of
    lstm_sequence computes these lines in array code, and runs this under create_graph, so that its gradient
    can be differentiated again. The gates are recomputed from the inputs, then BPTT

        dh_t = G_t + da_(t+1) W_hh                    G_t = grad[t], the gradient of h_t
        dc_t = dh_t o (1 - tanh(c_t)^2) + dc_(t+1) f_(t+1)    at the last step, dc_(t+1) f_(t+1) is grad[L] (c_L's)
        da_t = [dc_t g i(1-i), dc_t c_(t-1) f(1-f), dc_t i (1-g^2), dh_t tanh(c_t) o(1-o)]
        dW_hh = sum_t da_t^T h_(t-1);   dx_t = da_t W_ih;   dW_ih = sum_t da_t^T x_t;   db = sum_t da_t
    """
    L, N, I = x.shape
    H = h0.shape[1]
    xw = linear(x, w_ih, bias)                                  # (L, N, 4H)
    h, c, steps = h0, c0, []
    for t in range(L):
        a = xw[t] + matmul(h, transpose(w_hh, 0, 1))
        i, f, g, o = sigmoid(a[:, :H]), sigmoid(a[:, H:2 * H]), tanh(a[:, 2 * H:3 * H]), sigmoid(a[:, 3 * H:])
        c_new = f * c + i * g
        tanh_c = tanh(c_new)
        steps.append((h, c, i, f, g, o, tanh_c))
        h, c = o * tanh_c, c_new
    dh_next, dc_next, d_w_hh = None, grad[L], None             # grad[L]: the gradient of c_L
    d_xw = [None] * L
    for t in range(L - 1, -1, -1):
        h_prev, c_prev, i, f, g, o, tanh_c = steps[t]
        dh = grad[t] if dh_next is None else grad[t] + dh_next
        dc = dh * o * (1 - tanh_c * tanh_c) + dc_next
        da = concat([dc * g * i * (1 - i), dc * c_prev * f * (1 - f), dc * i * (1 - g * g),
                     dh * tanh_c * o * (1 - o)], axis=1)                                  # [formula: lstm-bptt]
        d_xw[t] = da
        dc_next, dh_next = dc * f, matmul(da, w_hh)
        step_w = matmul(transpose(da, 0, 1), h_prev)
        d_w_hh = step_w if d_w_hh is None else d_w_hh + step_w
    da_rows = stack(d_xw, dim=0).reshape(L * N, 4 * H)
    d_x = matmul(da_rows, w_ih).reshape(L, N, I)
    d_w_ih = matmul(transpose(da_rows, 0, 1), x.reshape(L * N, I))
    d_bias = None if bias is None else da_rows.sum(axis=0)
    return d_x, dh_next, dc_next, d_w_ih, d_w_hh, d_bias
