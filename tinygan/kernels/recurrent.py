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

Layout: every (N, H) array the loops touch is contiguous. The product gives a step's gates side by side in each
row, (N, 4H); a slice of one gate is then 64 runs of 256 numbers, on which a NumPy pass costs three to four times
what it costs on one contiguous block. So each step copies its gates once into (4, N, H) blocks (i, f, g, o), the
outputs are (L, 2, N, H) blocks of h_t and c_t, and the backward builds da_t in (4, N, H) blocks before copying it
into the (N, 4H) row the next product needs.

The Function that calls these, and its differentiable backward for gradients of gradients, is
`LSTMSequence` in tinygan/functional/recurrent.py.
"""
from .layout import xp_of


def _sigmoid(x, out):
    """sigmoid(x) = (1 + tanh(x / 2)) / 2 into `out`: the same function, four passes of NumPy's vectorised tanh,
    several times faster than the reference's two exponentials. It cannot overflow; what it gives up is the
    relative precision of gates below about e^-17, which are 0 here, a difference of less than 1e-7 absolute."""
    xp = xp_of(x)
    xp.multiply(x, 0.5, out=out)
    xp.tanh(out, out=out)
    out *= 0.5
    out += 0.5
    return out


def lstm_sequence_forward(xw, h0, c0, w_hh):
    """Run the LSTM over all L steps.

    xw (L, N, 4H): each step's input projection with both biases;  h0, c0 (N, H);  w_hh (4H, H).
    Returns (out, gates, tanh_c): out (L, 2, N, H) holds h_t in out[t, 0] and c_t in out[t, 1]; gates
    (L, 4, N, H) the activated i, f, g, o; tanh_c (L, N, H) tanh(c_t), both kept for the backward.
    """
    xp = xp_of(xw)
    L, N, H4 = xw.shape
    H = H4 // 4
    out = xp.empty((L, 2, N, H), dtype=xw.dtype)
    gates = xp.empty((L, 4, N, H), dtype=xw.dtype)
    tanh_c = xp.empty((L, N, H), dtype=xw.dtype)
    pre = xp.empty((N, H4), dtype=xw.dtype)
    ig = xp.empty((N, H), dtype=xw.dtype)
    w_hh_t = w_hh.T
    h, c = h0, c0
    for t in range(L):
        if t == 0 and not h.any():                                # nn.LSTM's default zero state: h_0 W_hh^T = 0
            pre[...] = xw[0]
        else:
            xp.matmul(h, w_hh_t, out=pre)
            pre += xw[t]                                          # a_t (N, 4H)
        a = gates[t]
        a[...] = pre.reshape(N, 4, H).transpose(1, 0, 2)          # (4, N, H): one block per gate
        _sigmoid(a[:2], out=a[:2])                                # i, f
        _sigmoid(a[3], out=a[3])                                  # o
        xp.tanh(a[2], out=a[2])                                   # g
        i, f, g, o = a
        h_new, c_new = out[t]
        xp.multiply(f, c, out=c_new)
        xp.multiply(i, g, out=ig)
        c_new += ig                                               # c_t = f c_(t-1) + i g
        xp.tanh(c_new, out=tanh_c[t])
        xp.multiply(o, tanh_c[t], out=h_new)                      # h_t = o tanh(c_t)
        h, c = h_new, c_new
    return out, gates, tanh_c


def lstm_sequence_backward(grad_out, out, gates, tanh_c, h0, c0, w_hh, need_d_h0=True):
    """Gradients (d xw, d h0, d c0, d w_hh) of the layer, from grad_out (L, 2, N, H), the gradient of `out`;
    d h0 is None unless need_d_h0.

    Each step's derivatives are computed inside the loop, on (N, H) arrays that stay in the cache: precomputed
    for all steps at once they would be arrays of L * N * 4H numbers, passed through memory several times.
    """
    xp = xp_of(grad_out)
    L, _, N, H = grad_out.shape
    da = xp.empty((L, N, 4 * H), dtype=grad_out.dtype)            # dL/da_t, gates i, f, g, o side by side
    da_blocks = xp.empty((4, N, H), dtype=grad_out.dtype)         # one step's, one block per gate
    dh = xp.zeros((N, H), dtype=grad_out.dtype)                     # dL/dh_t from the steps after t
    dc = xp.zeros((N, H), dtype=grad_out.dtype)                     # dL/dc_t from the steps after t
    dc_step, tmp = (xp.empty((N, H), dtype=grad_out.dtype) for _ in range(2))
    da_i, da_f, da_g, da_o = da_blocks
    for t in range(L - 1, -1, -1):
        i, f, g, o = gates[t]
        c_prev = c0 if t == 0 else out[t - 1, 1]
        tanh_ct = tanh_c[t]
        dh += grad_out[t, 0]
        xp.multiply(tanh_ct, tanh_ct, out=tmp)                    # dc_t = G^c_t + dc + dh o (1 - tanh(c_t)^2)
        xp.subtract(1, tmp, out=tmp)
        tmp *= o
        tmp *= dh
        xp.add(dc, tmp, out=dc_step)
        dc_step += grad_out[t, 1]
        xp.subtract(1, o, out=tmp)                                # da_o = dh tanh(c_t) o (1 - o)
        tmp *= o
        tmp *= tanh_ct
        xp.multiply(tmp, dh, out=da_o)
        xp.subtract(1, i, out=tmp)                                # da_i = dc g i (1 - i)
        tmp *= i
        tmp *= g
        xp.multiply(tmp, dc_step, out=da_i)
        xp.subtract(1, f, out=tmp)                                # da_f = dc c_(t-1) f (1 - f)
        tmp *= f
        tmp *= c_prev
        xp.multiply(tmp, dc_step, out=da_f)
        xp.multiply(g, g, out=tmp)                                # da_g = dc i (1 - g^2)
        xp.subtract(1, tmp, out=tmp)
        tmp *= i
        xp.multiply(tmp, dc_step, out=da_g)
        da[t].reshape(N, 4, H).transpose(1, 0, 2)[...] = da_blocks   # the (N, 4H) row of the products
        xp.multiply(dc_step, f, out=dc)                           # dc_(t-1) = dc_t f_t
        if t > 0 or need_d_h0:
            xp.matmul(da[t], w_hh, out=dh)                        # dh_(t-1) = da_t W_hh
    # dL/dW_hh = sum_t da_t^T h_(t-1): one product over steps 1 .. L-1 (h_1 .. h_(L-1) are out[:-1, 0])
    d_w_hh = da[1:].reshape((L - 1) * N, 4 * H).T @ out[:-1, 0].reshape((L - 1) * N, H)
    if h0.any():                                                  # step 0's term, 0 from a zero state
        d_w_hh += da[0].T @ h0
    return da, dh if need_d_h0 else None, dc, d_w_hh
