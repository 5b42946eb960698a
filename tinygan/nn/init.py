"""Weight initialisers, with the formulas and defaults of torch.nn.init.

Every function fills its argument *in place* and returns it. The argument is a
`Tensor` (its array is filled) or a bare NumPy/CuPy array (filled itself), so
the DCGAN tutorial's habit works unchanged (`m.weight.data` shares the weight's array):

    def weights_init(m):
        if isinstance(m, nn.Conv2d):
            init.normal_(m.weight.data, 0.0, 0.02)
    model.apply(weights_init)

Random numbers come from `backend.rng()`, so `tinygan.manual_seed(s)` makes an
initialisation repeatable. Values are drawn in float64 and stored in the
array's own dtype (float32 stays float32).

Fan-in and fan-out are computed as PyTorch does (`_calculate_fan_in_and_fan_out`):
for a weight of shape (d0, d1, k1, k2, ...), with receptive field r = k1 k2 ...,

    fan_in = d1 * r,    fan_out = d0 * r

That is Linear (out, in) -> fan_in = in; Conv2d (O, C, KH, KW) -> fan_in = C KH KW;
and also for ConvTranspose2d, whose weight is (C_in, C_out, KH, KW): its fan_in
is C_out KH KW (dimension 1), which is what PyTorch computes too.

Sources: Glorot & Bengio (2010), "Understanding the difficulty of training deep
feedforward neural networks" (xavier_*); He et al. (2015), "Delving deep into
rectifiers" (kaiming_*).
"""
import math

import numpy as np

from .. import backend
from ..autograd import Tensor, count_in_place_change

__all__ = [
    "calculate_gain", "calculate_fan_in_and_fan_out",
    "uniform_", "normal_", "constant_", "zeros_", "ones_",
    "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_", "trunc_normal_", "orthogonal_",
    "default_init_",
]


def _array_of(tensor, op):
    """The array to fill: `tensor.array` for a Tensor, the array itself otherwise."""
    if isinstance(tensor, Tensor):
        return tensor.array
    if hasattr(tensor, "shape") and hasattr(tensor, "dtype") and hasattr(tensor, "__setitem__"):
        return tensor
    raise TypeError(f"init.{op}: expected a Tensor or an array, got {type(tensor).__name__}")


def _fill(tensor, op, values):
    """Copy the float64 host-or-device `values` into tensor's array, keeping its dtype and device."""
    array = _array_of(tensor, op)
    if array.dtype.kind != "f":
        raise TypeError(f"init.{op}: can only fill floating-point arrays, got dtype {array.dtype}")
    values = backend.to_device(values, backend.device_of(array))
    array[...] = values.astype(array.dtype, copy=False)
    if isinstance(tensor, Tensor):
        count_in_place_change(tensor)
    return tensor


def _uniform_values(shape, low, high):
    """U[low, high) samples in float64 from the current backend's generator."""
    u = backend.rng().random(shape, dtype=np.float64)
    return low + (high - low) * u


def _normal_values(shape, mean, std):
    """N(mean, std^2) samples in float64 from the current backend's generator."""
    return mean + std * backend.rng().standard_normal(shape, dtype=np.float64)


def calculate_gain(nonlinearity, param=None):
    """The recommended gain for a nonlinearity, as torch.nn.init.calculate_gain.

    linear, conv*, sigmoid: 1;   tanh: 5/3;   relu: sqrt(2);   selu: 3/4;
    leaky_relu with negative slope a (default 0.01): sqrt(2 / (1 + a^2)).
    """
    linear_like = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                   "conv_transpose3d", "sigmoid")
    if nonlinearity in linear_like:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = float(param)
        else:
            raise ValueError(f"calculate_gain: negative_slope {param!r} is not a valid number")
        return math.sqrt(2.0 / (1 + slope ** 2))                  # [formula: leaky-relu-gain]
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}; expected one of "
                     f"{linear_like + ('tanh', 'relu', 'leaky_relu', 'selu')}")


def calculate_fan_in_and_fan_out(tensor):
    """(fan_in, fan_out) = (d1 * r, d0 * r) for a weight of shape (d0, d1, *kernel), r = prod(kernel).

    The same rule for every layer, as in PyTorch: for a ConvTranspose2d weight
    (C_in, C_out, KH, KW) this gives fan_in = C_out * KH * KW.
    """
    shape = tuple(_array_of(tensor, "calculate_fan_in_and_fan_out").shape)
    if len(shape) < 2:
        raise ValueError(f"init: fan in and fan out need a tensor with at least 2 dimensions, got shape {shape}")
    receptive_field = 1
    for k in shape[2:]:
        receptive_field *= k
    fan_in = shape[1] * receptive_field                            # [formula: fan-in-fan-out]
    fan_out = shape[0] * receptive_field
    return fan_in, fan_out


def _fan(tensor, mode):
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"init: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    fan = fan_in if mode == "fan_in" else fan_out
    if fan == 0:
        raise ValueError(f"init: cannot initialise a tensor with zero elements (shape {tuple(tensor.shape)})")
    return fan


def uniform_(tensor, a=0.0, b=1.0):
    """Fill with samples of the uniform distribution U[a, b)."""
    a, b = float(a), float(b)
    if not a <= b:
        raise ValueError(f"init.uniform_: need a <= b, got a={a}, b={b}")
    return _fill(tensor, "uniform_", _uniform_values(_array_of(tensor, "uniform_").shape, a, b))


def normal_(tensor, mean=0.0, std=1.0):
    """Fill with samples of the normal distribution N(mean, std^2)."""
    mean, std = float(mean), float(std)
    if std < 0:
        raise ValueError(f"init.normal_: std must be >= 0, got {std}")
    return _fill(tensor, "normal_", _normal_values(_array_of(tensor, "normal_").shape, mean, std))


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0):
    """Fill with samples of N(mean, std^2) kept to [a, b] (in the values' units, as PyTorch's bounds): each
    sample outside is drawn again until every one lies inside."""
    mean, std, a, b = float(mean), float(std), float(a), float(b)
    if std <= 0 or not a < b:
        raise ValueError(f"init.trunc_normal_: need std > 0 and a < b, got std={std}, a={a}, b={b}")
    inside = 0.5 * (math.erf((b - mean) / (std * math.sqrt(2))) - math.erf((a - mean) / (std * math.sqrt(2))))
    if inside < 1e-3:
        raise ValueError(f"init.trunc_normal_: [{a}, {b}] holds only {inside:.2g} of N({mean}, {std}^2); "
                         f"redrawing would take too long")
    values = _normal_values(_array_of(tensor, "trunc_normal_").shape, mean, std)
    outside = (values < a) | (values > b)
    while bool(outside.any()):
        values[outside] = _normal_values((int(outside.sum()),), mean, std)
        outside = (values < a) | (values > b)
    return _fill(tensor, "trunc_normal_", values)


def orthogonal_(tensor, gain=1.0):
    """Fill with a (semi-)orthogonal matrix times gain (Saxe et al., 2014), as PyTorch: the Q of the QR
    decomposition of a normal matrix (rows = the first dimension, columns = the rest), its columns' signs
    set by R's diagonal so that Q is uniformly distributed."""
    array = _array_of(tensor, "orthogonal_")
    if array.ndim < 2:
        raise ValueError(f"init.orthogonal_: only tensors with 2 or more dimensions are supported, got shape "
                         f"{tuple(array.shape)}")
    rows, cols = array.shape[0], array.size // array.shape[0]
    flat = _normal_values((rows, cols), 0.0, 1.0)
    tall = flat.T if rows < cols else flat
    xp = backend.get_array_module(tall)
    q, r = xp.linalg.qr(tall)
    q = q * xp.sign(xp.diag(r))
    q = q.T if rows < cols else q
    return _fill(tensor, "orthogonal_", (float(gain) * q).reshape(array.shape))


def constant_(tensor, val):
    """Fill with the value `val`."""
    array = _array_of(tensor, "constant_")
    array[...] = val
    return tensor


def zeros_(tensor):
    """Fill with 0."""
    return constant_(tensor, 0)


def ones_(tensor):
    """Fill with 1."""
    return constant_(tensor, 1)


def xavier_uniform_(tensor, gain=1.0):
    """Glorot & Bengio (2010), eq. 16: U[-bound, bound] with

        bound = gain * sqrt(6 / (fan_in + fan_out))  (= sqrt(3) * std,  std = gain * sqrt(2 / (fan_in + fan_out)))
    """
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))             # [formula: xavier-uniform]
    return _fill(tensor, "xavier_uniform_", _uniform_values(_array_of(tensor, "xavier_uniform_").shape, -bound, bound))


def xavier_normal_(tensor, gain=1.0):
    """Glorot & Bengio (2010): N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))               # [formula: xavier-normal]
    return _fill(tensor, "xavier_normal_", _normal_values(_array_of(tensor, "xavier_normal_").shape, 0.0, std))


def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu"):
    """He et al. (2015): U[-bound, bound] with

        gain = calculate_gain(nonlinearity, a),   std = gain / sqrt(fan),   bound = sqrt(3) * std
             = gain * sqrt(3 / fan)

    where fan is fan_in (default: keeps the forward pass's variance) or fan_out
    (keeps the backward pass's). `a` is the negative slope of the leaky ReLU that follows.
    """
    fan = _fan(tensor, mode)
    gain = calculate_gain(nonlinearity, a)
    bound = gain * math.sqrt(3.0 / fan)                            # [formula: kaiming-uniform]
    return _fill(tensor, "kaiming_uniform_", _uniform_values(_array_of(tensor, "kaiming_uniform_").shape, -bound, bound))


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu"):
    """He et al. (2015): N(0, std^2) with std = gain / sqrt(fan), gain = calculate_gain(nonlinearity, a)."""
    fan = _fan(tensor, mode)
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan)         # [formula: kaiming-normal]
    return _fill(tensor, "kaiming_normal_", _normal_values(_array_of(tensor, "kaiming_normal_").shape, 0.0, std))


def default_init_(weight, bias=None):
    """PyTorch's default initialisation of Linear, Conv2d and ConvTranspose2d (their reset_parameters).

        weight: kaiming_uniform_(weight, a=sqrt(5)), that is gain = sqrt(2 / (1 + 5)) = sqrt(1/3) and
                bound = sqrt(1/3) * sqrt(3 / fan_in) = 1 / sqrt(fan_in)
        bias:   U[-1/sqrt(fan_in), 1/sqrt(fan_in)], with the weight's fan_in

    So every value lies in [-1/sqrt(fan_in), 1/sqrt(fan_in)]. (For ConvTranspose2d,
    fan_in comes from dimension 1 of its (C_in, C_out, KH, KW) weight, as in PyTorch.)
    """
    kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        fan_in, _ = calculate_fan_in_and_fan_out(weight)
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0      # [formula: default-linear-init]
        uniform_(bias, -bound, bound)
    return weight
