"""F.pad's reflect, replicate and circular modes, the padding layers and Conv1d/Conv2d's padding_mode, against
torch in float64 where it is installed: outputs and gradients to 1e-12, over fixed and drawn shapes and pads,
and the inputs both refuse."""
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import tinygan.functional as F
from tinygan import nn

from test_pytorch_dropout_conv1d import device_tensor, host, rng

MODES = ("reflect", "replicate", "circular")




def agrees_with_torch(ours, theirs, shape, seed=0):
    """ours(tinygan tensor) and theirs(torch tensor) give equal outputs, and equal gradients of a random weighting
    of the output, in float64."""
    torch = pytest.importorskip("torch")
    x = rng(seed).standard_normal(shape)
    x_ours, x_theirs = device_tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y_ours, y_theirs = ours(x_ours), theirs(x_theirs)
    np.testing.assert_allclose(host(y_ours), y_theirs.detach().numpy(), rtol=1e-12, atol=1e-12)
    weighting = rng(seed + 1).standard_normal(tuple(y_theirs.shape))
    (y_ours * device_tensor(weighting)).sum().backward()
    if weighting.size == 0:                     # PyTorch's reflect and replicate leave this gradient unset
        assert not host(x_ours.grad).any()
        return
    y_theirs.backward(torch.from_numpy(weighting))
    np.testing.assert_allclose(host(x_ours.grad), x_theirs.grad.numpy(), rtol=1e-12, atol=1e-12)


# -- F.pad against torch ---------------------------------------------------------------------------------------

PADS = [
    ((2, 5), (2, 3)),                         # 1-D padding of a (C, L) input
    ((2, 3, 5), (4, 1)),
    ((2, 3, 5), (-1, 2)),                     # a negative width crops first
    ((1, 5), (2, -3)),
    ((1, 5), (-5, 1)),                        # reflect and replicate read the cropped-away values
    ((3, 4, 5), (1, 2, 3, 0)),                # 2-D padding of a (C, H, W) input
    ((2, 3, 4, 5), (4, 4, 3, 3)),             # as wide as reflect allows
    ((2, 3, 4, 5), (0, -2, 1, -1)),
    ((3, 4, 5, 2), (1, 1, 0, 2, 3, 1)),       # 3-D padding of a (C, D, H, W) input
    ((2, 2, 3, 4, 3), (2, 0, -1, 3, 1, 2)),   # and of an (N, C, D, H, W) one
    ((1, 4, 5), (-5, 0, 0, 0)),               # one padded axis may be left empty
    ((1, 3, 4, 5), (0, 0, 0, 0, 0, 0)),
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("shape, pad", PADS)
def test_pad_equals_pytorchs(mode, shape, pad):
    torch = pytest.importorskip("torch")
    if mode == "circular" and pad == (-5, 1):
        pytest.skip("PyTorch wraps the cropped input here through overlapping copies, which it refuses or leaves "
                    "unset; tinygan refuses (test_circular_pad_refuses_to_wrap_more_than_the_crop_leaves)")
    agrees_with_torch(lambda x: F.pad(x, pad, mode=mode),
                      lambda x: torch.nn.functional.pad(x, pad, mode=mode), shape)


@st.composite
def shapes_and_pads(draw):
    """(mode, shape, pad) PyTorch pads: 1 to 3 padded axes of sizes 1 to 5 after 1 or 2 other axes, widths from
    -size to size."""
    mode = draw(st.sampled_from(MODES))
    padded = draw(st.integers(1, 3))
    shape = tuple(draw(st.lists(st.integers(1, 3), min_size=1, max_size=2))) + \
        tuple(draw(st.lists(st.integers(1, 5), min_size=padded, max_size=padded)))
    pairs = [(draw(st.integers(-n, n)), draw(st.integers(-n, n))) for n in shape[-padded:]]
    pad = tuple(width for pair in reversed(pairs) for width in pair)
    return mode, shape, pad


def pytorch_pads(mode, shape, pad):
    """Whether PyTorch pads (shape, pad) in `mode` well: every padded output axis of length >= 0 (not all 0 but
    in circular mode), reflect widths below the size, circular ones at most what the crop leaves."""
    pairs = [pad[i:i + 2] for i in range(len(pad) - 2, -1, -2)]
    sizes = shape[len(shape) - len(pairs):]
    outputs = [n + before + after for (before, after), n in zip(pairs, sizes)]
    if min(outputs) < 0 or (mode != "circular" and max(outputs) == 0):
        return False
    if mode == "reflect":
        return all(max(pair) < n for pair, n in zip(pairs, sizes))
    if mode == "circular":
        return all(max(pair) <= n - max(-pair[0], 0) - max(-pair[1], 0) for pair, n in zip(pairs, sizes))
    return True


@settings(max_examples=60, deadline=None)
@given(case=shapes_and_pads())
def test_pad_equals_pytorchs_over_drawn_shapes_and_pads(case):
    torch = pytest.importorskip("torch")
    mode, shape, pad = case
    assume(pytorch_pads(mode, shape, pad))
    agrees_with_torch(lambda x: F.pad(x, pad, mode=mode),
                      lambda x: torch.nn.functional.pad(x, pad, mode=mode), shape)


@settings(max_examples=60, deadline=None)
@given(case=shapes_and_pads())
def test_pad_refuses_what_pytorch_refuses_over_drawn_shapes_and_pads(case):
    torch = pytest.importorskip("torch")
    mode, shape, pad = case
    try:
        torch.nn.functional.pad(torch.zeros(shape, dtype=torch.float64), pad, mode=mode)
    except (RuntimeError, NotImplementedError):
        with pytest.raises((ValueError, NotImplementedError), match=r"pad: "):
            F.pad(device_tensor(np.zeros(shape)), pad, mode=mode)


def test_each_mode_picks_the_values_its_formula_names():
    x = device_tensor(np.array([[1.0, 2.0, 3.0]]))
    assert host(F.pad(x, (2, 2), mode="reflect")).tolist() == [[3, 2, 1, 2, 3, 2, 1]]
    assert host(F.pad(x, (2, 2), mode="replicate")).tolist() == [[1, 1, 1, 2, 3, 3, 3]]
    assert host(F.pad(x, (2, 2), mode="circular")).tolist() == [[2, 3, 1, 2, 3, 1, 2]]
    assert host(F.pad(x, (-1, 2), mode="circular")).tolist() == [[2, 3, 2, 3]]      # wraps the cropped [2, 3]
    assert host(F.pad(x, (-1, 2), mode="reflect")).tolist() == [[2, 3, 2, 1]]       # mirrors the whole input


@pytest.mark.parametrize("mode, counts", [("reflect", [1, 3, 3, 1]), ("replicate", [4, 1, 1, 3]),
                                          ("circular", [2, 2, 2, 2])])
def test_a_value_picked_twice_gets_both_gradients(mode, counts):
    x = device_tensor(np.arange(4.0).reshape(1, 4), requires_grad=True)
    F.pad(x, (3, 2) if mode == "replicate" else (2, 2), mode=mode).sum().backward()
    assert host(x.grad).tolist() == [counts]


def test_pad_keeps_the_dtype():
    x = device_tensor(np.ones((2, 3, 4), dtype=np.float32))
    assert all(F.pad(x, (1, 1, 2, 0), mode=mode).dtype == np.float32 for mode in MODES)


def test_pad_value_zero_is_allowed_in_every_mode():
    x = device_tensor(rng().standard_normal((2, 4)))
    for mode in MODES:
        np.testing.assert_array_equal(host(F.pad(x, (1, 2), mode=mode, value=0)), host(F.pad(x, (1, 2), mode=mode)))


# -- errors ---------------------------------------------------------------------------------------------------

ERRORS = [
    ("reflect", (5,), (1, 1), NotImplementedError,
     r"pad: mode='reflect' pads the last 1, 2 or 3 axes of an input with 1 or 2 axes more .* got pad \(1, 1\) of "
     r"length 2 for an input of shape \(5,\)"),
    ("replicate", (2, 3, 4, 5), (1, 1), NotImplementedError, r"pad: mode='replicate' pads the last 1, 2 or 3 axes"),
    ("circular", (2, 3), (1, 1, 1, 1), NotImplementedError, r"shape \(2, 3\)"),
    ("reflect", (1, 2, 3, 4, 5, 6), (1,) * 8, NotImplementedError, r"length 8"),
    ("reflect", (2, 3), (1, 1, 1), ValueError, r"pad: pad must be an even number \(at most 4\) of ints"),
    ("reflect", (2, 3), (1, 1, 1, 1, 1, 1), ValueError, r"pad: pad must be an even number \(at most 4\)"),
    ("reflect", (2, 3), (3, 0), ValueError,
     r"pad: mode='reflect' needs every width of pad \(3, 0\) smaller than the size of its axis, \(3,\) \(input of "
     r"shape \(2, 3\)\)"),
    ("reflect", (2, 3, 4), (0, 0, 0, 3), ValueError, r"smaller than the size of its axis, \(3, 4\)"),
    ("reflect", (2, 1), (1, 0), ValueError, r"mode='reflect' needs every width"),
    ("circular", (2, 3), (4, 0), ValueError,
     r"pad: mode='circular' wraps around at most once: widths \(before, after\) = \(4, 0\) must be at most the 3 "
     r"values the crop leaves of an axis of size 3 \(input of shape \(2, 3\)\)"),
    ("circular", (2, 0), (1, 1), ValueError, r"at most the 0 values"),
    ("circular", (1, 5), (-6, 3), ValueError, r"at most the 0 values"),
    ("replicate", (1, 5), (-5, -1), ValueError, r"pad: pad \(-5, -1\) crops more than the input of shape \(1, 5\)"),
    ("circular", (1, 4, 5), (0, 0, -4, -1), ValueError, r"pad: pad \(0, 0, -4, -1\) crops more than the input"),
    ("reflect", (1, 5), (-5, 0), ValueError, r"pad: pad \(-5, 0\) leaves no value of the input of shape \(1, 5\)"),
    ("replicate", (1, 4, 5), (-5, 0, -4, 0), ValueError, r"leaves no value"),
    ("replicate", (2, 0), (1, 1), ValueError,
     r"pad: mode='replicate' needs an input with no empty axis \(but a batch axis\), got shape \(2, 0\)"),
    ("reflect", (0, 3), (1, 1), ValueError, r"got shape \(0, 3\)"),
]


@pytest.mark.parametrize("mode, shape, pad, error, message", ERRORS)
def test_pad_refuses_what_pytorch_refuses(mode, shape, pad, error, message):
    with pytest.raises(error, match=message):
        F.pad(device_tensor(np.zeros(shape)), pad, mode=mode)
    torch = pytest.importorskip("torch")
    with pytest.raises((RuntimeError, NotImplementedError)):
        torch.nn.functional.pad(torch.zeros(shape), pad, mode=mode)


def test_circular_pad_refuses_to_wrap_more_than_the_crop_leaves():
    """PyTorch wraps the cropped input by copying the output into itself; past the crop those copies overlap,
    which it refuses or leaves unset, so tinygan refuses every such pad."""
    with pytest.raises(ValueError, match=r"widths \(before, after\) = \(-1, 5\) must be at most the 4 values"):
        F.pad(device_tensor(np.zeros((1, 5))), (-1, 5), mode="circular")


def test_an_empty_batch_pads_in_every_mode():
    for mode in MODES:
        assert F.pad(device_tensor(np.zeros((0, 2, 3))), (1, 2), mode=mode).shape == (0, 2, 6)


def test_pad_mode_and_value_errors():
    x = device_tensor(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"pad: mode must be one of \('constant', 'reflect', 'replicate', "
                                         r"'circular'\), got 'symmetric'"):
        F.pad(x, (1, 1), mode="symmetric")
    with pytest.raises(ValueError, match=r"pad: mode='reflect' takes no value, got value=1.5"):
        F.pad(x, (1, 1), mode="reflect", value=1.5)


# -- the padding layers ---------------------------------------------------------------------------------------

LAYERS = {
    "ReflectionPad1d": (lambda nn: nn.ReflectionPad1d(2), (2, 3, 5)),
    "ReflectionPad1d (a pair)": (lambda nn: nn.ReflectionPad1d((3, 1)), (3, 5)),
    "ReflectionPad2d": (lambda nn: nn.ReflectionPad2d(1), (2, 3, 4, 5)),
    "ReflectionPad2d (four sides)": (lambda nn: nn.ReflectionPad2d((1, 2, 3, 0)), (3, 4, 5)),
    "ReplicationPad1d": (lambda nn: nn.ReplicationPad1d((4, 0)), (2, 3, 2)),
    "ReplicationPad2d": (lambda nn: nn.ReplicationPad2d((1, 3, 0, 2)), (2, 3, 4, 5)),
    "ReplicationPad2d (an int)": (lambda nn: nn.ReplicationPad2d(3), (1, 2, 2)),
    "CircularPad1d": (lambda nn: nn.CircularPad1d(3), (2, 2, 3)),
    "CircularPad2d": (lambda nn: nn.CircularPad2d((1, 0, 2, 3)), (2, 3, 4, 5)),
    "ZeroPad1d": (lambda nn: nn.ZeroPad1d((1, 2)), (2, 3, 5)),
    "ZeroPad1d (an int)": (lambda nn: nn.ZeroPad1d(2), (3, 5)),
    "ZeroPad2d": (lambda nn: nn.ZeroPad2d((1, 0, 2, 1)), (2, 3, 4, 5)),
    "ConstantPad1d": (lambda nn: nn.ConstantPad1d(2, 3.5), (2, 3, 5)),
    "ConstantPad1d (a pair)": (lambda nn: nn.ConstantPad1d((0, 3), -1.0), (3, 5)),
    "ConstantPad2d": (lambda nn: nn.ConstantPad2d((1, 2, 0, 1), 0.5), (2, 3, 4, 5)),
}


@pytest.mark.parametrize("name", LAYERS)
def test_padding_layer_equals_pytorchs(name):
    torch = pytest.importorskip("torch")
    make, shape = LAYERS[name]
    ours, theirs = make(nn), make(torch.nn)
    assert repr(ours) == repr(theirs)
    assert ours.padding == tuple(theirs.padding)
    agrees_with_torch(ours, theirs, shape)


def test_padding_layers_defaults_and_attributes():
    assert nn.ReflectionPad1d(2).padding == (2, 2) and nn.ReflectionPad2d(2).padding == (2, 2, 2, 2)
    assert repr(nn.CircularPad2d(1)) == "CircularPad2d((1, 1, 1, 1))"
    assert repr(nn.ReplicationPad1d((0, 2))) == "ReplicationPad1d((0, 2))"
    assert repr(nn.ZeroPad1d(1)) == "ZeroPad1d((1, 1))"
    assert nn.ZeroPad1d(1).value == 0.0 and nn.ConstantPad1d(1, 2).value == 2.0
    assert repr(nn.ConstantPad1d(1, 2)) == "ConstantPad1d(padding=(1, 1), value=2.0)"
    assert list(nn.ReflectionPad2d(1).parameters()) == []
    assert isinstance(nn.ZeroPad2d(1), nn.ConstantPad2d) and not isinstance(nn.ReflectionPad2d(1), nn.ReflectionPad1d)


@pytest.mark.parametrize("make, message", [
    (lambda: nn.ReflectionPad1d((1, 2, 3)), r"ReflectionPad1d: padding must be an int or \(left, right\), got "
                                            r"\(1, 2, 3\)"),
    (lambda: nn.CircularPad2d((1, 2)), r"CircularPad2d: padding must be an int or \(left, right, top, bottom\)"),
    (lambda: nn.ConstantPad1d((1.5, 1), 0.0), r"ConstantPad1d: padding must be an int or \(left, right\)"),
    (lambda: nn.ZeroPad2d((1, 2)), r"ZeroPad2d: padding must be an int or \(left, right, top, bottom\)"),
    (lambda: nn.ReplicationPad2d(1.5), r"ReplicationPad2d: padding must be an int or \(left, right, top, bottom\), "
                                       r"got 1.5"),
])
def test_padding_layer_errors_name_the_layer(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_reflection_pad_layer_refuses_a_pad_as_wide_as_the_input():
    with pytest.raises(ValueError, match=r"pad: mode='reflect' needs every width of pad \(3, 3\) smaller"):
        nn.ReflectionPad1d(3)(device_tensor(np.zeros((1, 2, 3))))


# -- Conv1d and Conv2d with padding_mode ------------------------------------------------------------------------

CONVS = [
    ("Conv2d", dict(in_channels=3, out_channels=4, kernel_size=3, padding=1), (2, 3, 6, 7)),
    ("Conv2d", dict(in_channels=2, out_channels=4, kernel_size=(3, 2), padding=(2, 1), stride=2, dilation=(1, 2),
                    groups=2, bias=False), (2, 2, 5, 6)),
    ("Conv2d", dict(in_channels=3, out_channels=2, kernel_size=4, padding="same", dilation=2), (1, 3, 7, 8)),
    ("Conv2d", dict(in_channels=3, out_channels=2, kernel_size=3, padding="valid"), (1, 3, 5, 5)),
    ("Conv1d", dict(in_channels=3, out_channels=4, kernel_size=3, padding=2, stride=2), (2, 3, 9)),
    ("Conv1d", dict(in_channels=4, out_channels=2, kernel_size=4, padding="same", groups=2), (2, 4, 6)),
    ("Conv1d", dict(in_channels=3, out_channels=2, kernel_size=3, padding=(1,)), (3, 7)),
]


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("padding_mode", ("zeros",) + MODES)
@pytest.mark.parametrize("name, kwargs, shape", CONVS)
def test_conv_padding_mode_equals_pytorchs(name, kwargs, shape, padding_mode):
    torch = pytest.importorskip("torch")
    theirs = getattr(torch.nn, name)(padding_mode=padding_mode, **kwargs).double()
    ours = getattr(nn, name)(padding_mode=padding_mode, dtype=np.float64, **kwargs)
    ours.load_state_dict({key: device_tensor(value.detach().numpy()) for key, value in theirs.state_dict().items()})
    assert repr(ours) == repr(theirs)
    assert tuple(ours._reversed_padding_repeated_twice) == tuple(theirs._reversed_padding_repeated_twice)
    agrees_with_torch(ours, theirs, shape)
    for key, parameter in dict(theirs.named_parameters()).items():
        np.testing.assert_allclose(host(getattr(ours, key).grad), parameter.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_conv_padding_mode_pads_the_input_not_with_zeros():
    conv = nn.Conv1d(1, 1, 3, padding=1, padding_mode="circular", bias=False)
    conv.weight.data = device_tensor(np.array([[[1.0, 0.0, 0.0]]]))           # picks the left neighbour
    assert host(conv(device_tensor(np.array([[[1.0, 2.0, 3.0]]])))).tolist() == [[[3.0, 1.0, 2.0]]]


def test_conv_padding_mode_errors():
    with pytest.raises(ValueError, match=r"Conv2d: padding_mode must be one of \('zeros', 'reflect', 'replicate', "
                                         r"'circular'\), got 'symmetric'"):
        nn.Conv2d(3, 3, 3, padding_mode="symmetric")
    with pytest.raises(ValueError, match=r"Conv1d: padding_mode must be one of"):
        nn.Conv1d(3, 3, 3, padding_mode="mirror")
    for make in (nn.ConvTranspose1d, nn.ConvTranspose2d):
        with pytest.raises(ValueError, match=rf"{make.__name__}: only padding_mode='zeros' is implemented, got "
                                             r"'reflect' \(as in PyTorch\)"):
            make(3, 3, 3, padding_mode="reflect")
    with pytest.raises(ValueError, match=r"pad: mode='reflect' needs every width of pad \(3, 3\) smaller"):
        nn.Conv1d(1, 1, 3, padding=3, padding_mode="reflect")(device_tensor(np.zeros((1, 1, 3))))
