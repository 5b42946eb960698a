"""The fast LSTM: a whole layer over its sequence as one Function, with backpropagation through time written
out in array code.

The reference (tinygan/functional/recurrent.py, `lstm_cell`) is the cell in tinygan's own ops, unrolled by
nn.LSTM step by step, so that BPTT is the ordinary backward over the unrolled graph. That costs about twenty
Function applications per step and as many in the backward walk, each with its own small temporaries. Here the
input projections of every step are one product (W_ih x_t^T for all t at once, transposed as explained under
Layout), and the recurrence runs as one loop of array operations per direction:

    a_t = x_t W_ih^T + h_(t-1) W_hh^T + b            (N, 4H), gates i, f, g, o
    i, f, o = sigmoid(a_i, a_f, a_o);  g = tanh(a_g)
    c_t = f c_(t-1) + i g;  h_t = o tanh(c_t)

The backward walks the same loop in reverse with the closed-form derivatives, keeping only dh and dc from step
to step (dc_(t-1) = dc_t f_t, dh_(t-1) = da_t W_hh), and finds dW_hh, dW_ih, db and dx each as one product over
all steps at the end.

Layout: the loops run on the transposed state, h^T and c^T of shape (H, N), so a step's product is

    a_t^T = W_hh h_(t-1)^T + W_ih x_t^T + b          (4H, N) = the four gate blocks (4, H, N), each contiguous

OpenBLAS computes this (4H, N) result about 40 % faster than the (N, 4H) one of h W_hh^T at these shapes, and
its rows are already one contiguous block per gate (in (N, 4H) a gate is N runs of H numbers, on which a NumPy
pass costs three to four times more). So the input projections are made transposed, (L, 4H, N), and the caller
gets back the (N, H) rows of h_1 .. h_L and c_L, transposed once at the end. The backward keeps the same layout
and writes dL/da_t^T straight into a (4H, L, N) array, whose (4H, L*N) view makes each weight's gradient one
product over all steps (docs/performance.md has the measurements).

`lstm_sequence` below is the twin of lstm_sequence in tinygan/functional/recurrent.py, whose reference unrolls
the cell; `LSTMSequence` is the Function that calls these loops. Under create_graph its backward is the same closed
form written in tinygan's ops, which the caller gives (backward_in_ops), so it can be differentiated again.
"""
from ..autograd import Function, Tensor, is_grad_enabled
from .layout import xp_of


def lstm_sequence(input, hx, cx, w_ih, w_hh, b_ih=None, b_hh=None, backward_in_ops=None):
    """The twin of the reference's lstm_sequence: (output (L, N, H), (h_L, c_L)), one LSTMSequence over all steps.

    backward_in_ops(grad, x, h0, c0, w_ih, w_hh, bias) gives the gradients of LSTMSequence's inputs as tinygan ops.
    """
    biases = [b for b in (b_ih, b_hh) if b is not None]
    bias = [biases[0] + biases[1]] if len(biases) == 2 else biases               # [b_ih + b_hh], [b] or []
    out = LSTMSequence.apply(input, hx, cx, w_ih, w_hh, *bias, backward_in_ops=backward_in_ops)
    return out[:-1], (out[-2], out[-1])                                          # out: h_1 .. h_L, c_L


class LSTMSequence(Function):
    """out (L + 1, N, H) = [h_1 .. h_L, c_L] of the LSTM recurrence over the input x (L, N, I) from (h0, c0),
    with weights w_ih (4H, I), w_hh (4H, H) and the optional bias b_ih + b_hh (4H,). Forward and backward are the
    loops below, the forward keeping the gates, c_t and tanh(c_t) for the backward; with create_graph the backward
    is backward_in_ops, the same closed form written in tinygan ops.
    """

    inputs_share_dtype = True

    def forward(self, x, h0, c0, w_ih, w_hh, bias=None, backward_in_ops=None):
        self.backward_in_ops = backward_in_ops
        out, *self.saved = lstm_sequence_forward(x, h0, c0, w_ih, w_hh, bias)     # gates, c_t, tanh(c_t)
        return out

    def backward(self, grad):
        if is_grad_enabled():
            grads = self.backward_in_ops(grad, *self.inputs)
        else:
            needs = self.needs_input_grad + (False,) * (6 - len(self.inputs))        # without a bias: no d bias
            arrays = lstm_sequence_backward(grad.array, self.output.array, *self.saved,
                                            *(t.array for t in self.inputs), needs=needs)
            grads = [None if a is None else Tensor(a) for a in arrays]
        return tuple(g if needed else None for g, needed in zip(grads, self.needs_input_grad))


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


def lstm_sequence_forward(x, h0, c0, w_ih, w_hh, bias=None):
    """Run the LSTM over all L steps.

    x (L, N, I);  h0, c0 (N, H);  w_ih (4H, I);  w_hh (4H, H);  bias (4H,), b_ih + b_hh, or None.
    Returns (out, gates, c_t, tanh_c): out (L + 1, N, H) holds h_1 .. h_L in out[:L] and c_L in out[L]; the rest
    is kept for the backward, all transposed: gates (L, 4, H, N) the activated i, f, g, o; c_t and tanh_c (L, H, N).
    """
    xp = xp_of(x)
    L, N, _ = x.shape
    H4 = w_ih.shape[0]
    H = H4 // 4
    xw_t = xp.matmul(w_ih, x.transpose(0, 2, 1))                  # W_ih x_t^T (L, 4H, N): every step's projection
    if bias is not None:
        xw_t += bias.reshape(H4, 1)
    gates = xp.empty((L, 4, H, N), dtype=x.dtype)
    c_t = xp.empty((L, H, N), dtype=x.dtype)
    tanh_c = xp.empty((L, H, N), dtype=x.dtype)
    ig = xp.empty((H, N), dtype=x.dtype)
    h_t = xp.empty((L, H, N), dtype=x.dtype)
    h, c = xp.ascontiguousarray(h0.T), xp.ascontiguousarray(c0.T)
    for t in range(L):
        a = gates[t]
        a_rows = a.reshape(H4, N)                                 # a_t^T, the same memory as the four blocks
        if t == 0 and not h.any():                                # nn.LSTM's default zero state: W_hh h_0^T = 0
            a_rows[...] = xw_t[0]
        else:
            xp.matmul(w_hh, h, out=a_rows)
            a_rows += xw_t[t]
        _sigmoid(a[:2], out=a[:2])                                # i, f
        _sigmoid(a[3], out=a[3])                                  # o
        xp.tanh(a[2], out=a[2])                                   # g
        i, f, g, o = a
        c_new, h_new = c_t[t], h_t[t]
        xp.multiply(f, c, out=c_new)
        xp.multiply(i, g, out=ig)
        c_new += ig                                               # c_t = f c_(t-1) + i g
        xp.tanh(c_new, out=tanh_c[t])
        xp.multiply(o, tanh_c[t], out=h_new)                      # h_t = o tanh(c_t)
        h, c = h_new, c_new
    out = xp.empty((L + 1, N, H), dtype=x.dtype)
    out[:L] = h_t.transpose(0, 2, 1)                              # one transposing copy: cheaper than L small ones
    out[L] = c.T
    return out, gates, c_t, tanh_c


def lstm_sequence_backward(grad_out, out, gates, c_t, tanh_c, x, h0, c0, w_ih, w_hh, bias=None, needs=(True,) * 6):
    """Gradients (d x, d h0, d c0, d w_ih, d w_hh, d bias) of the layer, from grad_out (L + 1, N, H), the gradient
    of `out`. needs[k] says whether the k-th of them is wanted; the others are None.

    Each step's derivatives are computed inside the loop, on (H, N) arrays that stay in the cache: precomputed
    for all steps at once they would be arrays of L * N * 4H numbers, passed through memory several times.
    """
    xp = xp_of(grad_out)
    L, N, H = grad_out.shape[0] - 1, grad_out.shape[1], grad_out.shape[2]
    dtype = grad_out.dtype
    da_gates = xp.empty((4, H, L, N), dtype=dtype)                # dL/da_t^T, gate by gate, in da_gates[:, :, t]
    da = da_gates.reshape(4 * H, L, N)                            # the same memory: da[:, t] is step t's (4H, N)
    grad_h = xp.ascontiguousarray(grad_out[:L].transpose(0, 2, 1))                # G^h_t^T (L, H, N)
    dh = xp.zeros((H, N), dtype=dtype)                            # dL/dh_t^T from the steps after t
    dc = xp.ascontiguousarray(grad_out[L].T)                      # dL/dc_t^T from the steps after t: c_L's own
    dc_step, tmp = (xp.empty((H, N), dtype=dtype) for _ in range(2))
    c0_t = xp.ascontiguousarray(c0.T)
    for t in range(L - 1, -1, -1):
        i, f, g, o = gates[t]
        da_i, da_f, da_g, da_o = da_gates[:, :, t]
        c_prev = c0_t if t == 0 else c_t[t - 1]
        tanh_ct = tanh_c[t]
        dh += grad_h[t]
        xp.multiply(tanh_ct, tanh_ct, out=tmp)                    # dc_t = dc + dh o (1 - tanh(c_t)^2)
        xp.subtract(1, tmp, out=tmp)
        tmp *= o
        tmp *= dh
        xp.add(dc, tmp, out=dc_step)
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
        xp.multiply(dc_step, f, out=dc)                           # dc_(t-1) = dc_t f_t
        if t > 0 or needs[1]:
            xp.matmul(w_hh.T, da[:, t], out=dh)                   # dh_(t-1)^T = W_hh^T da_t^T
    da_rows = da.reshape(4 * H, L * N)                            # dL/da^T of every step side by side
    x_rows = x.reshape(L * N, x.shape[2])
    d_x = (da_rows.T @ w_ih).reshape(x.shape) if needs[0] else None           # dL/dx_t = da_t W_ih
    d_w_ih = da_rows @ x_rows if needs[3] else None                           # dL/dW_ih = sum_t da_t^T x_t
    d_bias = da_rows.sum(axis=1) if bias is not None and needs[5] else None   # dL/db = sum_t da_t
    d_w_hh = None
    if needs[4]:
        # dL/dW_hh = sum_t da_t^T h_(t-1): one product over steps 1 .. L-1 (h_1 .. h_(L-1) are out[:L - 1])
        d_w_hh = da[:, 1:].reshape(4 * H, (L - 1) * N) @ out[:L - 1].reshape((L - 1) * N, H)
        if h0.any():                                              # step 0's term, 0 from a zero state
            d_w_hh += da[:, 0] @ h0
    return d_x, dh.T if needs[1] else None, dc.T if needs[2] else None, d_w_ih, d_w_hh, d_bias
