"""MaxPool1d, AvgPool1d, AdaptiveMaxPool2d and ConvTranspose1d (F.max_pool1d, F.avg_pool1d, F.adaptive_max_pool2d,
F.conv_transpose1d), with the ceil_mode and return_indices of the 2-d pooling they are built on.

Outputs, gradients and indices equal PyTorch's in float64, over listed cases and over geometry drawn by
hypothesis; the layers' defaults, reprs, parameter shapes and initialisation follow PyTorch's; bad input is
refused naming the operation. The gradient checks of the functions are in tests/engine/test_op_contract.py.
"""
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import tinygan
import tinygan.functional as F
from tinygan import Tensor, backend, nn
from tinygan.functional.pool import pool_output_size
from torch_compare import compare_with_torch

DRAWN = settings(max_examples=25, deadline=None)


def device_tensor(array, requires_grad=False):
    return Tensor(backend.to_device(np.asarray(array), backend.current_device()), requires_grad=requires_grad)


def host(t):
    return backend.to_numpy(t.array)


def distinct(shape, seed=0):
    """Values at least 0.01 apart (a random permutation): a window's maximum is never tied."""
    count = int(np.prod(shape))
    return (np.random.default_rng(seed).permutation(count) - count / 2).reshape(shape) * 0.01


def agrees_with_torch(call, arrays, seed=1):
    """call(F, *inputs) gives PyTorch's outputs (and indices, exactly) and, for one random output weighting,
    PyTorch's gradients of every input, in float64."""
    torch = pytest.importorskip("torch")
    ours = [device_tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    y, t = call(F, *ours), call(torch.nn.functional, *theirs)
    if isinstance(t, tuple):                                     # (values, indices)
        np.testing.assert_array_equal(host(y[1]), t[1].numpy())
        assert y[1].dtype == np.int64
        y, t = y[0], t[0]
    assert y.shape == tuple(t.shape)
    np.testing.assert_allclose(host(y), t.detach().numpy(), rtol=1e-12, atol=1e-12)
    weighting = np.random.default_rng(seed).standard_normal(tuple(t.shape))
    y.backward(device_tensor(weighting))
    t.backward(torch.from_numpy(weighting))
    for mine, their in zip(ours, theirs):
        np.testing.assert_allclose(host(mine.grad), their.grad.numpy(), rtol=1e-12, atol=1e-12)


# -- max_pool1d and avg_pool1d ----------------------------------------------------------------------------

MAX_POOL1D = [
    dict(kernel_size=2),
    dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=(3,), stride=(1,), padding=(1,), dilation=(2,)),
    dict(kernel_size=2, stride=2, ceil_mode=True),                          # the odd last position: its own window
    dict(kernel_size=4, stride=3, padding=2, ceil_mode=True),
    dict(kernel_size=3, stride=2, padding=1, dilation=2, ceil_mode=True, return_indices=True),
    dict(kernel_size=3, return_indices=True),
    dict(kernel_size=5, stride=4, padding=2, ceil_mode=True, return_indices=True),
]


@pytest.mark.parametrize("length", [9, 10])
@pytest.mark.parametrize("kwargs", MAX_POOL1D, ids=str)
def test_max_pool1d_matches_torch(kwargs, length):
    agrees_with_torch(lambda F, x: F.max_pool1d(x, **kwargs), [distinct((2, 3, length))])


AVG_POOL1D = [
    dict(kernel_size=2),
    dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=3, stride=2, padding=1, count_include_pad=False),
    dict(kernel_size=(4,), stride=(3,), padding=(2,), ceil_mode=True),
    dict(kernel_size=4, stride=3, padding=2, ceil_mode=True, count_include_pad=False),
    dict(kernel_size=2, stride=2, padding=1, ceil_mode=True),
    dict(kernel_size=3, stride=1, padding=1, ceil_mode=True),
]


@pytest.mark.parametrize("length", [9, 10])
@pytest.mark.parametrize("kwargs", AVG_POOL1D, ids=str)
def test_avg_pool1d_matches_torch(kwargs, length):
    x = np.random.default_rng(2).standard_normal((2, 3, length))
    agrees_with_torch(lambda F, x: F.avg_pool1d(x, **kwargs), [x])


def test_ceil_mode_takes_a_window_longer_than_the_padded_input():
    """Length 2, kernel 3, stride 2: without ceil_mode no window fits; with it one does, and its mean divides
    by the 2 positions it covers (PyTorch's rule)."""
    agrees_with_torch(lambda F, x: F.max_pool1d(x, 3, 2, ceil_mode=True, return_indices=True), [distinct((1, 2, 2))])
    agrees_with_torch(lambda F, x: F.avg_pool1d(x, 3, 2, ceil_mode=True), [distinct((1, 2, 2))])
    with pytest.raises(ValueError, match=r"max_pool1d: input of length 2 \(padded to 2\) is shorter than the kernel 3"):
        F.max_pool1d(device_tensor(np.zeros((1, 2, 2))), 3, 2)


def every_window_meets_the_input(L, K, S, P, D, ceil_mode):
    """Whether each window has a tap inside the input: a dilated window can step over a short one, and then
    PyTorch's maximum is -inf and its index meaningless."""
    out = pool_output_size(L, K, S, P, D, ceil_mode)
    return all(any(0 <= o * S + k * D - P < L for k in range(K)) for o in range(out))


@st.composite
def pool1d_geometry(draw, dilated=True):
    """A kernel, stride, padding (at most half the kernel, as PyTorch asks), dilation and ceil_mode, and a length
    that the (dilated) window fits once padded."""
    K, S = draw(st.integers(1, 4)), draw(st.integers(1, 3))
    D = draw(st.integers(1, 2)) if dilated else 1
    P, ceil_mode = draw(st.integers(0, K // 2)), draw(st.booleans())
    L = draw(st.integers(max(1, D * (K - 1) + 1 - 2 * P), D * (K - 1) + 6))
    assume(every_window_meets_the_input(L, K, S, P, D, ceil_mode))
    return dict(L=L, kernel_size=K, stride=S, padding=P, dilation=D, ceil_mode=ceil_mode)


@DRAWN
@given(g=pool1d_geometry(), N=st.integers(1, 2), C=st.integers(1, 3), return_indices=st.booleans(),
       seed=st.integers(0, 2**16))
def test_max_pool1d_of_drawn_geometry_matches_torch(g, N, C, return_indices, seed):
    L = g.pop("L")
    agrees_with_torch(lambda F, x: F.max_pool1d(x, **g, return_indices=return_indices), [distinct((N, C, L), seed)],
                      seed)


@DRAWN
@given(g=pool1d_geometry(dilated=False), N=st.integers(1, 2), C=st.integers(1, 3),
       count_include_pad=st.booleans(), seed=st.integers(0, 2**16))
def test_avg_pool1d_of_drawn_geometry_matches_torch(g, N, C, count_include_pad, seed):
    L, _ = g.pop("L"), g.pop("dilation")
    x = np.random.default_rng(seed).standard_normal((N, C, L))
    agrees_with_torch(lambda F, x: F.avg_pool1d(x, **g, count_include_pad=count_include_pad), [x], seed)


# -- what the 1-d pooling takes from the 2-d: ceil_mode and return_indices ------------------------------------

POOL2D = [
    ("max_pool2d", dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    ("max_pool2d", dict(kernel_size=2, ceil_mode=True, return_indices=True)),       # tiles once padded
    ("max_pool2d", dict(kernel_size=(2, 3), stride=(1, 2), padding=(1, 1), dilation=(2, 1), return_indices=True)),
    ("max_pool2d", dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, return_indices=True)),
    ("avg_pool2d", dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    ("avg_pool2d", dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False)),
    ("avg_pool2d", dict(kernel_size=(2, 4), stride=(2, 3), padding=(1, 2), ceil_mode=True, divisor_override=5)),
]


@pytest.mark.parametrize("op, kwargs", POOL2D, ids=str)
def test_pool2d_ceil_mode_and_indices_match_torch(op, kwargs):
    agrees_with_torch(lambda F, x: getattr(F, op)(x, **kwargs), [distinct((2, 3, 7, 6))])


# -- adaptive_max_pool2d ----------------------------------------------------------------------------------

@pytest.mark.parametrize("output_size", [1, 2, (2, 3), (3, None), (None, 4), (5, 4), (7, 6), (4, 5)], ids=str)
@pytest.mark.parametrize("return_indices", [False, True])
def test_adaptive_max_pool2d_matches_torch(output_size, return_indices):
    agrees_with_torch(lambda F, x: F.adaptive_max_pool2d(x, output_size, return_indices), [distinct((2, 3, 7, 6))])


@DRAWN
@given(N=st.integers(1, 2), C=st.integers(1, 2), H=st.integers(1, 8), W=st.integers(1, 8), data=st.data())
def test_adaptive_max_pool2d_of_drawn_sizes_matches_torch(N, C, H, W, data):
    """Output sizes up to the input's and past it (bins of one position, repeated)."""
    output_size = (data.draw(st.integers(1, H + 2)), data.draw(st.integers(1, W + 2)))
    agrees_with_torch(lambda F, x: F.adaptive_max_pool2d(x, output_size, return_indices=True),
                      [distinct((N, C, H, W), H * W)])


def test_adaptive_max_pool2d_gives_a_tie_to_its_first_maximum_as_torch():
    """Equal maxima in one bin: the value and the whole gradient go to the first in row-major order."""
    x = np.zeros((1, 2, 4, 5))
    x[0, 0, [1, 2, 3], [3, 1, 4]] = 2.0
    x[0, 1] = 1.0                                                 # every position ties
    agrees_with_torch(lambda F, x: F.adaptive_max_pool2d(x, (1, 2), return_indices=True), [x])
    agrees_with_torch(lambda F, x: F.adaptive_max_pool2d(x, (3, 3), return_indices=True), [x])


# -- conv_transpose1d -------------------------------------------------------------------------------------

CONV_TRANSPOSE1D = [
    (dict(), (2, 3, 5), (3, 4, 3), True),
    (dict(stride=2, padding=1, output_padding=1), (2, 3, 5), (3, 2, 4), True),
    (dict(stride=(3,), padding=(2,), output_padding=(2,), dilation=(2,)), (1, 2, 4), (2, 3, 3), False),
    (dict(groups=2, stride=2), (2, 4, 3), (4, 3, 2), True),
    (dict(groups=4, dilation=3, padding=1), (2, 4, 6), (4, 1, 3), False),         # depthwise
    (dict(stride=2, padding=1), (3, 5), (3, 2, 3), True),                          # no batch axis
]


@pytest.mark.parametrize("kwargs, x_shape, w_shape, bias", CONV_TRANSPOSE1D, ids=str)
def test_conv_transpose1d_matches_torch(kwargs, x_shape, w_shape, bias):
    rng = np.random.default_rng(3)
    arrays = [rng.standard_normal(x_shape), rng.standard_normal(w_shape)]
    arrays += [rng.standard_normal(w_shape[1] * kwargs.get("groups", 1))] if bias else []
    agrees_with_torch(lambda F, *inputs: F.conv_transpose1d(*inputs, **kwargs), arrays)


@st.composite
def conv_transpose1d_case(draw):
    K, S, D = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 2))
    L, P, OP = draw(st.integers(1, 4)), draw(st.integers(0, 2)), draw(st.integers(0, S - 1))
    if F.conv_transpose_output_size(L, K, S, P, OP, D) < 1:       # padding cut away the whole output
        P = 0
    groups = draw(st.integers(1, 2))
    C, O = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    return dict(N=draw(st.integers(1, 2)), C=C, O=O, L=L, K=K, bias=draw(st.booleans()), seed=draw(st.integers(0, 999)),
                geometry=dict(stride=S, padding=P, output_padding=OP, groups=groups, dilation=D))


@DRAWN
@given(case=conv_transpose1d_case())
def test_conv_transpose1d_of_drawn_geometry_matches_torch(case):
    rng = np.random.default_rng(case["seed"])
    groups = case["geometry"]["groups"]
    arrays = [rng.standard_normal((case["N"], case["C"], case["L"])),
              rng.standard_normal((case["C"], case["O"] // groups, case["K"]))]
    arrays += [rng.standard_normal(case["O"])] if case["bias"] else []
    agrees_with_torch(lambda F, *inputs: F.conv_transpose1d(*inputs, **case["geometry"]), arrays, case["seed"])


def test_conv_transpose1d_is_the_adjoint_of_conv1d():
    """<conv1d(z, w), x> = <z, conv_transpose1d(x, w)> for the same weight and geometry."""
    rng = np.random.default_rng(4)
    z, w, x = rng.standard_normal((2, 3, 9)), rng.standard_normal((4, 3, 3)), rng.standard_normal((2, 4, 4))
    geometry = dict(stride=2, padding=1, dilation=2)
    y = host(F.conv1d(device_tensor(z), device_tensor(w), **geometry))
    back = host(F.conv_transpose1d(device_tensor(x), device_tensor(w), **geometry))
    assert back.shape == z.shape
    assert np.sum(y * x) == pytest.approx(np.sum(z * back), rel=1e-12)


# -- the layers -------------------------------------------------------------------------------------------

LAYERS = [
    (lambda nn: nn.MaxPool1d(3), (2, 4, 9)),
    (lambda nn: nn.MaxPool1d(3, 2, 1, 2, ceil_mode=True), (2, 4, 10)),
    (lambda nn: nn.MaxPool1d((2,), (1,), (1,)), (2, 4, 7)),
    (lambda nn: nn.AvgPool1d(2), (2, 4, 9)),
    (lambda nn: nn.AvgPool1d(3, 2, 1, True, False), (2, 4, 10)),
    (lambda nn: nn.AdaptiveMaxPool2d((2, 3)), (2, 4, 7, 6)),
    (lambda nn: nn.AdaptiveMaxPool2d((None, 4)), (2, 4, 7, 6)),
    (lambda nn: nn.AdaptiveMaxPool2d(1), (2, 4, 7, 6)),
    (lambda nn: nn.ConvTranspose1d(4, 6, 3), (2, 4, 5)),
    (lambda nn: nn.ConvTranspose1d(4, 6, 4, 2, 1, 1, 2, True, 1), (2, 4, 5)),
    (lambda nn: nn.ConvTranspose1d(4, 2, (3,), stride=(3,), padding=(1,), output_padding=(2,), bias=False,
                                   dilation=(2,)), (2, 4, 5)),
    (lambda nn: nn.ConvTranspose1d(4, 3, 2), (4, 6)),                                # no batch axis
]


@pytest.mark.parametrize("index", range(len(LAYERS)))
def test_layers_match_torch_in_repr_state_output_and_gradient(index):
    torch = pytest.importorskip("torch")
    make, shape = LAYERS[index]
    theirs, ours = make(torch.nn).double(), make(nn).double()
    assert repr(ours) == repr(theirs)
    assert [(k, tuple(v.shape)) for k, v in ours.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in theirs.state_dict().items()]
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    compare_with_torch(ours, theirs, distinct(shape, seed=index), params=zip(ours.parameters(), theirs.parameters()),
                       atol=1e-13)


def test_pooling_layers_defaults_and_indices():
    torch = pytest.importorskip("torch")
    for ours, theirs in [(nn.MaxPool1d(3), torch.nn.MaxPool1d(3)), (nn.AvgPool1d(3), torch.nn.AvgPool1d(3))]:
        for name in ("kernel_size", "stride", "padding", "ceil_mode"):
            assert getattr(ours, name) == getattr(theirs, name), name
    assert nn.MaxPool1d(3).dilation == 1 and not nn.MaxPool1d(3).return_indices
    assert nn.AvgPool1d(3).count_include_pad and nn.AdaptiveMaxPool2d(2).return_indices is False
    for ours, theirs, x in [
            (nn.MaxPool1d(2, return_indices=True), torch.nn.MaxPool1d(2, return_indices=True), distinct((2, 3, 8))),
            (nn.AdaptiveMaxPool2d(3, True), torch.nn.AdaptiveMaxPool2d(3, True), distinct((2, 3, 4, 5)))]:
        (y, indices), (t, their_indices) = ours(device_tensor(x)), theirs(torch.from_numpy(x))
        np.testing.assert_array_equal(host(indices), their_indices.numpy())
        np.testing.assert_allclose(host(y), t.numpy(), rtol=1e-12)


def test_conv_transpose1d_layer_has_pytorchs_shapes_and_init_bound():
    tinygan.manual_seed(0)
    layer = nn.ConvTranspose1d(6, 9, 4, groups=3)
    assert layer.weight.shape == (6, 3, 4) and layer.bias.shape == (9,)
    bound = 1 / np.sqrt(3 * 4)                                   # fan_in from dimension 1: out/groups * K
    for p in (layer.weight, layer.bias):
        values = host(p)
        assert np.abs(values).max() <= bound and np.abs(values).max() > 0.8 * bound
    assert layer.kernel_size == (4,) and layer.stride == (1,) and layer.padding == (0,)
    assert layer.output_padding == (0,) and layer.dilation == (1,) and layer.padding_mode == "zeros"
    assert nn.ConvTranspose1d(2, 3, 2, bias=False).bias is None
    float64 = nn.ConvTranspose1d(2, 3, 2, device="cpu", dtype=np.float64)
    assert float64.weight.dtype == np.float64 and float64.bias.dtype == np.float64


# -- bad input --------------------------------------------------------------------------------------------

def zeros(*shape):
    return device_tensor(np.zeros(shape))


@pytest.mark.parametrize("call, error, message", [
    (lambda: F.max_pool1d(zeros(1, 2, 3, 4), 2), ValueError,
     r"max_pool1d: input must be 3-D \(N, C, L\) or 2-D \(C, L\), got shape \(1, 2, 3, 4\)"),
    (lambda: F.avg_pool1d(zeros(5), 2), ValueError,
     r"avg_pool1d: input must be 3-D \(N, C, L\) or 2-D \(C, L\), got shape \(5,\)"),
    (lambda: F.max_pool1d(zeros(1, 2, 2), 3), ValueError,
     r"max_pool1d: input of length 2 \(padded to 2\) is shorter than the kernel 3 with dilation 1"),
    (lambda: F.avg_pool1d(zeros(1, 2, 5), 3, padding=2), ValueError,
     r"avg_pool1d: padding 2 must be at most half the kernel size 3"),
    (lambda: F.max_pool1d(zeros(1, 2, 5), 2, stride=0), ValueError,
     r"max_pool1d: kernel_size, stride and dilation must be >= 1 and padding >= 0, got kernel_size=2, stride=0"),
    (lambda: F.avg_pool1d(zeros(1, 2, 5), (2, 2)), TypeError,
     r"avg_pool1d: kernel_size must be an int or a 1-tuple of an int, got \(2, 2\)"),
    (lambda: F.max_pool2d(zeros(1, 2, 5, 5), 2, padding=(0, 2)), ValueError,
     r"max_pool2d: padding \(0, 2\) must be at most half the kernel \(2, 2\)"),
    (lambda: F.adaptive_max_pool2d(zeros(2, 5, 4), 2), ValueError,
     r"adaptive_max_pool2d: input must be 4-D \(N, C, H, W\), got shape \(2, 5, 4\)"),
    (lambda: F.adaptive_max_pool2d(zeros(1, 2, 5, 4), (0, 2)), ValueError,
     r"adaptive_max_pool2d: output_size must be positive ints \(or None\), got \(0, 2\)"),
    (lambda: F.adaptive_max_pool2d(zeros(1, 2, 5, 4), (1, 2, 3)), ValueError,
     r"adaptive_max_pool2d: output_size must be one value or a pair \(height, width\), got \(1, 2, 3\)"),
    (lambda: F.conv_transpose1d(zeros(1, 3, 4, 4), zeros(3, 2, 3)), ValueError,
     r"conv_transpose1d: input must be 3-D \(N, C_in, L\) or 2-D \(C_in, L\), got shape \(1, 3, 4, 4\)"),
    (lambda: F.conv_transpose1d(zeros(1, 3, 4), zeros(3, 2, 1, 3)), ValueError,
     r"conv_transpose1d: weight must be 3-D, got shape \(3, 2, 1, 3\)"),
    (lambda: F.conv_transpose1d(zeros(1, 3, 4), zeros(4, 2, 3)), ValueError,
     r"conv_transpose1d: input has 3 channels but weight expects 4 \(weight shape \(4, 2, 3\)\)"),
    (lambda: F.conv_transpose1d(zeros(1, 4, 4), zeros(4, 2, 3), zeros(3), groups=2), ValueError,
     r"conv_transpose1d: bias must have shape \(4,\), got \(3,\)"),
    (lambda: F.conv_transpose1d(zeros(1, 3, 4), zeros(3, 2, 3), stride=2, output_padding=2), ValueError,
     r"conv_transpose1d: output_padding 2 must be >= 0 and smaller than the stride 2"),
    (lambda: F.conv_transpose1d(zeros(1, 3, 1), zeros(3, 2, 1), padding=1), ValueError,
     r"conv_transpose1d: the output length -1 is not positive for input length 1 \(kernel 1, stride 1, padding 1"),
    (lambda: F.conv_transpose1d(zeros(1, 3, 4), zeros(3, 2, 3), stride=(1, 2)), TypeError,
     r"conv_transpose1d: stride must be an int or a 1-tuple of an int, got \(1, 2\)"),
    (lambda: nn.ConvTranspose1d(3, 4, (3, 3)), TypeError, r"ConvTranspose1d: kernel_size must be an int or a 1-tuple"),
    (lambda: nn.ConvTranspose1d(3, 4, 3, stride=2, output_padding=2), ValueError,
     r"ConvTranspose1d: output_padding 2 must be >= 0 and smaller than the stride 2"),
    (lambda: nn.ConvTranspose1d(3, 4, 3, groups=2), ValueError,
     r"ConvTranspose1d: in_channels \(3\) and out_channels \(4\) must both be divisible by groups \(2\)"),
    (lambda: nn.ConvTranspose1d(3, 4, 3, padding="same"), ValueError,
     r"ConvTranspose1d: padding must be an int or a 1-tuple, got 'same'"),
    (lambda: nn.ConvTranspose1d(3, 4, 3, padding_mode="reflect"), ValueError,
     r"ConvTranspose1d: only padding_mode='zeros' is implemented, got 'reflect'"),
    (lambda: nn.AvgPool1d((2, 2)), TypeError, r"AvgPool1d: kernel_size must be an int or a 1-tuple"),
    (lambda: F.conv1d(zeros(1, 3, 5), zeros(4, 2, 3)), ValueError,
     r"conv1d: input has 3 channels but weight expects 2 \(weight shape \(4, 2, 3\)\)"),
    (lambda: F.conv1d(zeros(1, 3, 5), zeros(4, 3, 3), zeros(3)), ValueError, r"conv1d: bias must have shape \(4,\)"),
    (lambda: F.avg_pool2d(zeros(1, 2, 4, 4), 2, divisor_override=0), ValueError,
     r"avg_pool2d: divisor_override must not be 0"),
])
def test_bad_input_is_named(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_one_image_without_a_batch_is_pooled_as_in_torch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).standard_normal((3, 5, 6))
    for call in (lambda F, v: F.max_pool2d(v, 2, 2, 1, ceil_mode=True, return_indices=True),
                 lambda F, v: F.avg_pool2d(v, 3, 2, 1, count_include_pad=False),
                 lambda F, v: F.max_pool1d(v[0], 3, 2, return_indices=True),
                 lambda F, v: F.avg_pool1d(v[0], 2, ceil_mode=True)):
        ours = call(F, tinygan.tensor(x))
        theirs = call(torch.nn.functional, torch.tensor(x))
        pairs = zip(ours, theirs) if isinstance(ours, tuple) else [(ours, theirs)]
        for a, b in pairs:
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12)
            assert tuple(a.shape) == tuple(b.shape)


def test_one_image_without_a_batch_is_convolved_as_in_torch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(1).standard_normal((3, 6, 5))
    for make in (lambda m: m.Conv2d(3, 4, 3, padding=1), lambda m: m.Conv2d(3, 4, 3, padding_mode="reflect",
                                                                            padding=1),
                 lambda m: m.ConvTranspose2d(3, 2, 4, stride=2, padding=1)):
        theirs, ours = make(torch.nn).double(), make(nn).double()
        ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
        compare_with_torch(ours, theirs, x, params=zip(ours.parameters(), theirs.parameters()), atol=1e-13)
