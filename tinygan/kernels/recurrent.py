"""The fast LSTM: a whole layer over its sequence as one Function, with backpropagation through time written
out in array code.

The reference (tinygan/functional/recurrent.py, `lstm_cell`) is the cell in tinygan's own ops, unrolled by
nn.LSTM step by step, so that BPTT is the ordinary backward over the unrolled graph. That costs about twenty
Function applications per step and as many in the backward walk, each with its own small temporaries. Here the
caller computes the input projections of every step in one product (x_t W_ih^T + b for all t at once), and the
recurrence runs as one loop of array operations per direction:

    a_t = xw_t + h_(t-1) W_hh^T                      (N, 4H), gates i, f, g, o
    i, f, o = sigmoid(a_i, a_f, a_o);  g = tanh(a_g)
    c_t = f c_(t-1) + i g;  h_t = o tanh(c_t)

The backward walks the same loop in reverse with the closed-form derivatives, keeping only dh and dc from step
to step (dc_(t-1) = dc_t f_t, dh_(t-1) = da_t W_hh), and finds dW_hh as one product over all steps at the end.
Everything that does not depend on the recursion (the gates' derivatives) is computed for all steps at once.

The Function that calls these, and its differentiable backward for gradients of gradients, is
`LSTMSequence` in tinygan/functional/recurrent.py.
"""
from .layout import xp_of


def _sigmoid(x, out):
    """sigmoid(x) = e^min(x, 0) / (1 + e^-|x|) into `out`: the reference's formula, whose tail keeps its digits."""
    xp = xp_of(x)
    denominator = xp.abs(x)
    xp.negative(denominator, out=denominator)
    xp.exp(denominator, out=denominator)
    denominator += 1
    xp.minimum(x, 0, out=out)
    xp.exp(out, out=out)
    out /= denominator
    return out


def lstm_sequence_forward(xw, h0, c0, w_hh):
    """Run the LSTM over all L steps.

    xw (L, N, 4H): each step's input projection with both biases;  h0, c0 (N, H);  w_hh (4H, H).
    Returns (out, gates, tanh_c): out (L, N, 2H) holds h_t in [..., :H] and c_t in [..., H:]; gates (L, N, 4H)
    the activated i, f, g, o; tanh_c (L, N, H) tanh(c_t), both kept for the backward.
    """
    xp = xp_of(xw)
    L, N, H4 = xw.shape
    H = H4 // 4
    out = xp.empty((L, N, 2 * H), dtype=xw.dtype)
    gates = xp.empty_like(xw)
    tanh_c = xp.empty((L, N, H), dtype=xw.dtype)
    pre = xp.empty((N, H4), dtype=xw.dtype)
    ig = xp.empty((N, H), dtype=xw.dtype)
    w_hh_t = w_hh.T
    h, c = h0, c0
    for t in range(L):
        xp.matmul(h, w_hh_t, out=pre)
        pre += xw[t]                                              # a_t (N, 4H)
        a = gates[t]
        _sigmoid(pre, out=a)                                      # i, f, o (and g, overwritten next)
        xp.tanh(pre[:, 2 * H:3 * H], out=a[:, 2 * H:3 * H])      # g
        i, f, g, o = a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]
        h_new, c_new = out[t, :, :H], out[t, :, H:]
        xp.multiply(f, c, out=c_new)
        xp.multiply(i, g, out=ig)
        c_new += ig                                               # c_t = f c_(t-1) + i g
        xp.tanh(c_new, out=tanh_c[t])
        xp.multiply(o, tanh_c[t], out=h_new)                      # h_t = o tanh(c_t)
        h, c = h_new, c_new
    return out, gates, tanh_c


def lstm_sequence_backward(grad_out, out, gates, tanh_c, h0, c0, w_hh):
    """Gradients (d xw, d h0, d c0, d w_hh) of the layer, from grad_out (L, N, 2H), the gradient of `out`."""
    xp = xp_of(grad_out)
    L, N, H2 = grad_out.shape
    H = H2 // 2
    i, f, g, o = gates[..., :H], gates[..., H:2 * H], gates[..., 2 * H:3 * H], gates[..., 3 * H:]
    c_prev = xp.concatenate([c0[None], out[:-1, :, H:]])           # c_(t-1) for every t
    # the factors that do not depend on the recursion, for all steps at once:
    #   da_i = dc g i(1-i),  da_f = dc c_(t-1) f(1-f),  da_g = dc i (1-g^2),  da_o = dh tanh(c) o(1-o)
    #   dc  += dh o (1 - tanh(c)^2)
    sigmoid_slope = gates * (1 - gates)                           # i(1-i), f(1-f), ., o(1-o)
    factor_ifg = xp.empty((L, N, 3, H), dtype=grad_out.dtype)
    factor_ifg[:, :, 0] = g * sigmoid_slope[..., :H]
    factor_ifg[:, :, 1] = c_prev * sigmoid_slope[..., H:2 * H]
    factor_ifg[:, :, 2] = i * (1 - g * g)
    factor_o = tanh_c * sigmoid_slope[..., 3 * H:]
    dh_to_dc = o * (1 - tanh_c * tanh_c)

    da = xp.empty_like(gates)                                      # (L, N, 4H)
    dh = xp.zeros((N, H), dtype=grad_out.dtype)                     # dL/dh_t from the steps after t
    dc = xp.zeros((N, H), dtype=grad_out.dtype)
    dc_step = xp.empty((N, H), dtype=grad_out.dtype)
    for t in range(L - 1, -1, -1):
        dh += grad_out[t, :, :H]
        xp.multiply(dh, dh_to_dc[t], out=dc_step)
        dc_step += dc
        dc_step += grad_out[t, :, H:]
        xp.multiply(dc_step[:, None, :], factor_ifg[t], out=da[t, :, :3 * H].reshape(N, 3, H))
        xp.multiply(dh, factor_o[t], out=da[t, :, 3 * H:])
        xp.multiply(dc_step, f[t], out=dc)                        # dc_(t-1) = dc_t f_t
        xp.matmul(da[t], w_hh, out=dh)                            # dh_(t-1) = da_t W_hh
    h_prev = xp.concatenate([h0[None], out[:-1, :, :H]])          # h_(t-1) for every t
    d_w_hh = da.reshape(L * N, 4 * H).T @ h_prev.reshape(L * N, H)
    return da, dh, dc, d_w_hh
