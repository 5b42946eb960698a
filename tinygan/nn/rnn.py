"""Recurrent layers with PyTorch's names, arguments, parameter names, shapes and initialisation.

The cells (RNNCell, LSTMCell, GRUCell) run one step; the layers (RNN, LSTM, GRU) unroll a cell over a
sequence, layer after layer, in one or both directions. The math of one step is in
tinygan/functional/recurrent.py; here is only the bookkeeping of time, layers and directions.

Shapes (L sequence length, N batch, D = 2 if bidirectional else 1):
    input   (L, N, input_size), or (N, L, input_size) with batch_first, or (L, input_size) unbatched
    h0, c0  (D * num_layers, N, hidden_size), or (D * num_layers, hidden_size) unbatched; zeros if omitted
    output  (L, N, D * hidden_size) (batch_first: (N, L, ...)): the last layer's h at every step
    h_n     (D * num_layers, N, hidden_size): every layer's and direction's last h (c_n likewise)
"""
import math

from .. import backend
from .. import functional as F
from ..autograd import Tensor
from ..functional import recurrent as R
from . import init
from .module import Module, _new_parameter, _positive_int

GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _zeros(like, shape):
    """A zero state (no gradient) of `like`'s dtype and device."""
    return Tensor(backend.get_array_module(like.array).zeros(shape, dtype=like.dtype))


def _init_uniform(module, hidden_size):
    """PyTorch's initialisation of every recurrent weight and bias: U(-1/sqrt(H), 1/sqrt(H))."""
    bound = 1 / math.sqrt(hidden_size)                              # [formula: recurrent-init]
    for p in module.parameters():
        init.uniform_(p, -bound, bound)


class _CellBase(Module):
    """What the three cells share: weight_ih (gates*H, I), weight_hh (gates*H, H), bias_ih, bias_hh."""

    def __init__(self, name, input_size, hidden_size, bias, gates):
        super().__init__()
        self.input_size = _positive_int(input_size, "input_size", name)
        self.hidden_size = _positive_int(hidden_size, "hidden_size", name)
        self.bias = bool(bias)
        self.weight_ih = _new_parameter(gates * hidden_size, input_size)
        self.weight_hh = _new_parameter(gates * hidden_size, hidden_size)
        if bias:
            self.bias_ih = _new_parameter(gates * hidden_size)
            self.bias_hh = _new_parameter(gates * hidden_size)
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self):
        _init_uniform(self, self.hidden_size)

    def _batched(self, name, x, hx):
        """(x as (N, I), hx as (N, H) or None, whether x was unbatched), checking the dimensions."""
        if x.ndim not in (1, 2):
            raise ValueError(f"{name}: expected input to be 1-D or 2-D, got {x.ndim}-D (shape {tuple(x.shape)})")
        if x.ndim == 1:
            return F.unsqueeze(x, 0), None if hx is None else F.unsqueeze(hx, 0), True
        return x, hx, False

    def _params(self):
        return self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh

    def extra_repr(self):
        text = f"{self.input_size}, {self.hidden_size}"
        return text if self.bias else text + ", bias=False"


class RNNCell(_CellBase):
    """h' = tanh(W_ih x + b_ih + W_hh h + b_hh) (or relu), as torch.nn.RNNCell."""

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh"):
        if nonlinearity not in R.NONLINEARITIES:
            raise ValueError(f"RNNCell: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        self.nonlinearity = nonlinearity
        super().__init__("RNNCell", input_size, hidden_size, bias, gates=1)

    def forward(self, input, hx=None):
        x, h, unbatched = self._batched("RNNCell", input, hx)
        h = _zeros(x, (x.shape[0], self.hidden_size)) if h is None else h
        h = R.rnn_cell(x, h, *self._params(), nonlinearity=self.nonlinearity)
        return F.squeeze(h, 0) if unbatched else h


class LSTMCell(_CellBase):
    """(h', c') from the gates i, f, g, o, as torch.nn.LSTMCell; hx is (h, c) or None for zeros."""

    def __init__(self, input_size, hidden_size, bias=True):
        super().__init__("LSTMCell", input_size, hidden_size, bias, gates=4)

    def forward(self, input, hx=None):
        h, c = (None, None) if hx is None else hx
        x, h, unbatched = self._batched("LSTMCell", input, h)
        if unbatched and c is not None:
            c = F.unsqueeze(c, 0)
        zeros = _zeros(x, (x.shape[0], self.hidden_size))
        h, c = R.lstm_cell(x, zeros if h is None else h, zeros if c is None else c, *self._params())
        return (F.squeeze(h, 0), F.squeeze(c, 0)) if unbatched else (h, c)


class GRUCell(_CellBase):
    """h' = (1 - z) n + z h from the gates r, z, n, as torch.nn.GRUCell."""

    def __init__(self, input_size, hidden_size, bias=True):
        super().__init__("GRUCell", input_size, hidden_size, bias, gates=3)

    def forward(self, input, hx=None):
        x, h, unbatched = self._batched("GRUCell", input, hx)
        h = _zeros(x, (x.shape[0], self.hidden_size)) if h is None else h
        h = R.gru_cell(x, h, *self._params())
        return F.squeeze(h, 0) if unbatched else h


class RNNBase(Module):
    """A stack of recurrent layers over a sequence, as torch.nn.RNNBase.

    Parameters per layer k and direction (suffix '' forward, '_reverse' backward), registered in PyTorch's
    order: weight_ih_l{k} (gates*H, I_k), weight_hh_l{k} (gates*H, H), bias_ih_l{k}, bias_hh_l{k} (gates*H,),
    where I_0 = input_size and I_k = D * H above the first layer.
    """

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False):
        super().__init__()
        name = {"RNN_TANH": "RNN", "RNN_RELU": "RNN"}.get(mode, mode)
        self.mode = mode
        self.input_size = _positive_int(input_size, "input_size", name)
        self.hidden_size = _positive_int(hidden_size, "hidden_size", name)
        self.num_layers = _positive_int(num_layers, "num_layers", name)
        if not 0 <= dropout <= 1 or isinstance(dropout, bool):
            raise ValueError(f"{name}: dropout must be a number in [0, 1], got {dropout!r}")
        self.bias, self.batch_first, self.dropout = bool(bias), bool(batch_first), float(dropout)
        self.bidirectional = bool(bidirectional)
        gates = GATES[mode]
        directions = 2 if bidirectional else 1
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else hidden_size * directions
            for suffix in ("", "_reverse")[:directions]:
                setattr(self, f"weight_ih_l{layer}{suffix}", _new_parameter(gates * hidden_size, layer_input))
                setattr(self, f"weight_hh_l{layer}{suffix}", _new_parameter(gates * hidden_size, hidden_size))
                if bias:
                    setattr(self, f"bias_ih_l{layer}{suffix}", _new_parameter(gates * hidden_size))
                    setattr(self, f"bias_hh_l{layer}{suffix}", _new_parameter(gates * hidden_size))
        self.reset_parameters()

    def reset_parameters(self):
        _init_uniform(self, self.hidden_size)

    def flatten_parameters(self):
        """Nothing to do: PyTorch packs the weights into one cuDNN buffer here; tinygan keeps them apart."""

    @property
    def _name(self):
        return "RNN" if self.mode.startswith("RNN") else self.mode

    def _weights(self, layer, suffix):
        names = ("weight_ih", "weight_hh") + (("bias_ih", "bias_hh") if self.bias else ())
        weights = [getattr(self, f"{n}_l{layer}{suffix}") for n in names]
        return weights + [None] * (4 - len(weights))

    def _step(self, x, state, weights):
        """One RNN or GRU cell step from the state h; returns the new h."""
        if self.mode == "GRU":
            return R.gru_cell(x, state, *weights)
        return R.rnn_cell(x, state, *weights, nonlinearity="tanh" if self.mode == "RNN_TANH" else "relu")

    def _run_direction(self, sequence, state, weights, reverse):
        """Run one layer in one direction over the sequence (L, N, I); (outputs (L, N, H) in time order, last state).

        An LSTM runs as one lstm_sequence (its fast kernel fuses the steps); RNN and GRU cells are unrolled here.
        """
        if reverse:
            outputs, state = self._run_direction(sequence[::-1], state, weights, reverse=False)
            return outputs[::-1], state
        if self.mode == "LSTM":
            return R.lstm_sequence(sequence, state[0], state[1], *weights)
        outputs = []
        for t in range(sequence.shape[0]):
            state = self._step(sequence[t], state, weights)
            outputs.append(state)
        return F.stack(outputs, dim=0), state

    def _check_state(self, name, state, expected):
        if tuple(state.shape) != expected:
            raise ValueError(f"{self._name}: expected {name} of shape {expected}, got {tuple(state.shape)}")

    def forward(self, input, hx=None):
        name = self._name
        if input.ndim not in (2, 3):
            raise ValueError(f"{name}: expected input to be 2-D (unbatched) or 3-D, got {input.ndim}-D "
                             f"(shape {tuple(input.shape)})")
        unbatched = input.ndim == 2
        x = F.unsqueeze(input, 1) if unbatched else (F.transpose(input, 0, 1) if self.batch_first else input)
        if x.shape[2] != self.input_size:
            raise ValueError(f"{name}: input has {x.shape[2]} features (shape {tuple(input.shape)}) but the layer "
                             f"expects input_size={self.input_size}")
        N = x.shape[1]
        directions = 2 if self.bidirectional else 1
        state_shape = (directions * self.num_layers, N, self.hidden_size)
        h0, c0 = self._initial_state(x, hx, state_shape, unbatched)

        sequence = x                                                   # (L, N, I), then each layer's output
        last_h, last_c = [], []
        for layer in range(self.num_layers):
            if layer > 0 and self.dropout and self.training:
                sequence = F.dropout(sequence, self.dropout, training=True)
            per_direction = []
            for d, suffix in enumerate(("", "_reverse")[:directions]):
                k = layer * directions + d
                state = (h0[k], c0[k]) if self.mode == "LSTM" else h0[k]
                outputs, state = self._run_direction(sequence, state, self._weights(layer, suffix), reverse=d == 1)
                per_direction.append(outputs)
                last_h.append(state[0] if self.mode == "LSTM" else state)
                if self.mode == "LSTM":
                    last_c.append(state[1])
            sequence = per_direction[0] if directions == 1 else F.concat(per_direction, axis=2)

        output = sequence                                               # (L, N, D*H)
        h_n = F.stack(last_h, dim=0)                                    # (D*num_layers, N, H)
        c_n = F.stack(last_c, dim=0) if self.mode == "LSTM" else None
        if unbatched:
            output, h_n = F.squeeze(output, 1), F.squeeze(h_n, 1)
            c_n = None if c_n is None else F.squeeze(c_n, 1)
        elif self.batch_first:
            output = F.transpose(output, 0, 1)
        return (output, (h_n, c_n)) if self.mode == "LSTM" else (output, h_n)

    def _initial_state(self, x, hx, state_shape, unbatched):
        """(h0, c0) as (D*num_layers, N, H) tensors: the given ones (checked) or zeros; c0 is None but for LSTM."""
        if hx is None:
            zeros = _zeros(x, state_shape)
            return zeros, zeros if self.mode == "LSTM" else None
        if self.mode == "LSTM":
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise ValueError("LSTM: hx must be a tuple (h0, c0)")
            h0, c0 = hx
        else:
            h0, c0 = hx, None
        expected = state_shape[:1] + state_shape[2:] if unbatched else state_shape
        for state_name, state in (("h0", h0), ("c0", c0)):
            if state is not None:
                self._check_state(state_name, state, expected)
        if unbatched:
            h0 = F.unsqueeze(h0, 1)
            c0 = None if c0 is None else F.unsqueeze(c0, 1)
        return h0, c0

    def extra_repr(self):
        text = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            text += f", num_layers={self.num_layers}"
        if not self.bias:
            text += ", bias=False"
        if self.batch_first:
            text += ", batch_first=True"
        if self.dropout:
            text += f", dropout={self.dropout}"
        if self.bidirectional:
            text += ", bidirectional=True"
        return text


class RNN(RNNBase):
    """An Elman RNN with tanh or relu, as torch.nn.RNN: h_t = tanh(W_ih x_t + b_ih + W_hh h_(t-1) + b_hh)."""

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False):
        if nonlinearity not in R.NONLINEARITIES:
            raise ValueError(f"RNN: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        self.nonlinearity = nonlinearity
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size, hidden_size, num_layers,
                         bias, batch_first, dropout, bidirectional)

    def extra_repr(self):
        text = super().extra_repr()
        return text if self.nonlinearity == "tanh" else text + ", nonlinearity='relu'"


class LSTM(RNNBase):
    """A multi-layer LSTM, as torch.nn.LSTM; forward returns (output, (h_n, c_n))."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional)


class GRU(RNNBase):
    """A multi-layer GRU, as torch.nn.GRU; forward returns (output, h_n)."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False):
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional)
