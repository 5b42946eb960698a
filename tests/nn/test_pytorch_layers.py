"""PyTorch's spatial ops, layers, containers, Module methods and nn.utils, checked
against formulas written out here and, where torch is installed, against torch in float64."""
import numpy as np
import pytest

import tinygan
import tinygan.functional as F
from tinygan import Tensor, backend, nn


def device_tensor(array, requires_grad=False):
    return Tensor(backend.to_device(np.asarray(array), backend.current_device()), requires_grad=requires_grad)


def host(t):
    return backend.to_numpy(t.array)


def rng(seed=0):
    return np.random.default_rng(seed)


# -- functional: pad, interpolate, adaptive pooling, grouped and 'same' convolutions -----------------

def test_pad_counts_pairs_from_the_last_axis():
    x = device_tensor(np.arange(6.0).reshape(1, 2, 3))
    y = host(F.pad(x, (1, 0, 0, 2), value=-1))
    assert y.shape == (1, 4, 4)
    np.testing.assert_array_equal(y[0, :2, 1:], np.arange(6.0).reshape(2, 3))
    assert (y[0, 2:] == -1).all() and (y[0, :, 0] == -1).all()
    np.testing.assert_array_equal(host(F.pad(x, (-1, 0))), np.arange(6.0).reshape(1, 2, 3)[..., 1:])


def test_bilinear_interpolation_by_hand():
    """Doubling a 2x2 image, align_corners=True: corners kept, the middle is the mean of all four."""
    x = device_tensor(np.array([[[[0.0, 1.0], [2.0, 4.0]]]]))
    y = host(F.interpolate(x, size=(3, 3), mode="bilinear", align_corners=True))[0, 0]
    np.testing.assert_allclose(y, [[0.0, 0.5, 1.0], [1.0, 1.75, 2.5], [2.0, 3.0, 4.0]])


def test_adaptive_avg_pool_to_one_pixel_is_the_mean():
    x = device_tensor(rng().standard_normal((2, 3, 5, 7)))
    np.testing.assert_allclose(host(F.adaptive_avg_pool2d(x, 1))[..., 0, 0], host(x).mean(axis=(2, 3)), rtol=1e-12)


@pytest.mark.parametrize("size, scale_factor, recompute", [
    ((6, 9), None, None), ((2, 3), None, None), ((7, 7), None, None), (None, 2, None), (None, 1.5, None),
    (None, (2.3, 0.7), None), (None, 3.7, True)])
@pytest.mark.parametrize("mode, align_corners", [("nearest", None), ("bilinear", False), ("bilinear", True)])
def test_interpolate_matches_torch(size, scale_factor, recompute, mode, align_corners):
    torch = pytest.importorskip("torch")
    x = rng().standard_normal((2, 3, 5, 4))
    ours = F.interpolate(device_tensor(x), size, scale_factor, mode, align_corners, recompute)
    theirs = torch.nn.functional.interpolate(torch.from_numpy(x), size, scale_factor, mode, align_corners, recompute)
    np.testing.assert_allclose(host(ours), theirs.numpy(), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("call", [
    lambda F, x: F.pad(x, (1, 2, -1, 3), value=0.5),
    lambda F, x: F.adaptive_avg_pool2d(x, (3, None)),
    lambda F, x: F.adaptive_avg_pool2d(x, (2, 3)),
    lambda F, x: F.avg_pool2d(x, 3, 2, 1, count_include_pad=False),
    lambda F, x: F.avg_pool2d(x, 3, 1, 1, divisor_override=5),
    lambda F, x: F.max_pool2d(x, 2, 1, 1, dilation=2),
])
def test_spatial_ops_match_torch(call):
    torch = pytest.importorskip("torch")
    x = rng(1).standard_normal((2, 3, 7, 6))
    np.testing.assert_allclose(host(call(F, device_tensor(x))), call(torch.nn.functional, torch.from_numpy(x)).numpy(),
                               rtol=1e-12, atol=1e-14)


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("op, weight_shape, arguments", [
    ("conv2d", (6, 2, 3, 3), dict(stride=2, padding=1, groups=2)),
    ("conv2d", (4, 1, 3, 2), dict(padding=1, groups=4)),                 # depthwise
    ("conv2d", (6, 4, 2, 3), dict(padding="same", dilation=(2, 1))),
    ("conv2d", (6, 2, 4, 4), dict(padding="same", groups=2)),
    ("conv2d", (6, 4, 3, 3), dict(padding="valid", stride=2)),
    ("conv_transpose2d", (4, 3, 4, 4), dict(stride=2, padding=1, output_padding=1, groups=2)),
    ("conv_transpose2d", (4, 1, 3, 3), dict(stride=2, groups=4, dilation=2)),
])
def test_grouped_and_same_convolutions_match_torch(op, weight_shape, arguments):
    torch = pytest.importorskip("torch")
    r = rng(2)
    x, w = r.standard_normal((2, 4, 6, 5)), r.standard_normal(weight_shape)
    out_channels = weight_shape[0] if op == "conv2d" else weight_shape[1] * arguments.get("groups", 1)
    b = r.standard_normal(out_channels)
    inputs = [device_tensor(a, requires_grad=True) for a in (x, w, b)]
    ours = getattr(F, op)(*inputs, **arguments)
    theirs_in = [torch.from_numpy(a).requires_grad_() for a in (x, w, b)]
    theirs = getattr(torch.nn.functional, op)(*theirs_in, **arguments)
    weighting = r.standard_normal(theirs.shape)
    ours.backward(device_tensor(weighting))
    theirs.backward(torch.from_numpy(weighting))
    np.testing.assert_allclose(host(ours), theirs.detach().numpy(), rtol=1e-12, atol=1e-13)
    for mine, their in zip(inputs, theirs_in):
        np.testing.assert_allclose(host(mine.grad), their.grad.numpy(), rtol=1e-12, atol=1e-13)


def test_spatial_errors_name_the_op_and_the_shapes():
    x = device_tensor(np.zeros((1, 4, 5, 5)))
    with pytest.raises(ValueError, match=r"conv2d: input has 4 channels but weight expects 6 \(3 per group, groups=2; "
                                         r"weight shape \(6, 3, 3, 3\)\)"):
        F.conv2d(x, device_tensor(np.zeros((6, 3, 3, 3))), groups=2)
    with pytest.raises(ValueError, match=r"conv2d: weight's first axis \(5, weight shape \(5, 2, 3, 3\)\) cannot be "
                                         r"split into groups=2"):
        F.conv2d(x, device_tensor(np.zeros((5, 2, 3, 3))), groups=2)
    with pytest.raises(ValueError, match=r"conv2d: padding='same' is not supported for strided convolutions"):
        F.conv2d(x, device_tensor(np.zeros((2, 4, 3, 3))), stride=2, padding="same")
    with pytest.raises(ValueError, match=r"conv2d: padding must be an int, a pair, 'valid' or 'same', got 'full'"):
        F.conv2d(x, device_tensor(np.zeros((2, 4, 3, 3))), padding="full")
    with pytest.raises(ValueError, match=r"interpolate: input must be 4-D \(N, C, H, W\), got shape \(4, 5\)"):
        F.interpolate(device_tensor(np.zeros((4, 5))), scale_factor=2)
    with pytest.raises(ValueError, match=r"interpolate: give exactly one of size and scale_factor"):
        F.interpolate(x, size=3, scale_factor=2)
    with pytest.raises(ValueError, match=r"interpolate: mode must be one of \('nearest', 'bilinear'\)"):
        F.interpolate(x, scale_factor=2, mode="bicubic")
    with pytest.raises(ValueError, match=r"pad: pad must be an even number \(at most 6\) of ints.*shape \(1, 2, 3\)"):
        F.pad(device_tensor(np.zeros((1, 2, 3))), (1, 2, 3))
    with pytest.raises(ValueError, match=r"pad: pad \(-2, -2\) crops more than the input of shape \(1, 3\) holds"):
        F.pad(device_tensor(np.zeros((1, 3))), (-2, -2))
    with pytest.raises(ValueError, match=r"pad: mode must be one of \('constant', 'reflect', 'replicate', "
                                         r"'circular'\), got 'symmetric'"):
        F.pad(x, (1, 1), mode="symmetric")
    with pytest.raises(ValueError, match=r"max_pool2d: padding \(2, 2\) must be at most half the kernel \(3, 3\)"):
        F.max_pool2d(x, 3, padding=2)


# -- layers ------------------------------------------------------------------------------------------

LAYERS = [
    lambda nn: nn.Conv2d(4, 6, 3, 2, 1, 1, 2, True),
    lambda nn: nn.Conv2d(4, 6, (3, 2), 1, "same", (2, 1), 2, False),
    lambda nn: nn.Conv2d(4, 8, 3, padding="valid", groups=4),
    lambda nn: nn.ConvTranspose2d(4, 6, 4, 2, 1, 1, 2, True, 1),
    lambda nn: nn.MaxPool2d(3, 2, 1),
    lambda nn: nn.AvgPool2d(2),
    lambda nn: nn.AvgPool2d(3, 2, 1, count_include_pad=False),
    lambda nn: nn.AdaptiveAvgPool2d((2, 3)),
    lambda nn: nn.AdaptiveAvgPool2d(1),
    lambda nn: nn.Upsample(scale_factor=2, mode="bilinear"),
    lambda nn: nn.Upsample(size=(3, 5)),
    lambda nn: nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True),
]


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("index", range(len(LAYERS)))
def test_layers_match_torch_in_repr_state_output_and_gradient(index):
    torch = pytest.importorskip("torch")
    theirs, ours = LAYERS[index](torch.nn).double(), LAYERS[index](nn).double()
    assert repr(ours) == repr(theirs)
    assert [(k, tuple(v.shape)) for k, v in ours.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in theirs.state_dict().items()]
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    x = rng(3).standard_normal((2, 4, 7, 6))
    mine, their_x = device_tensor(x, requires_grad=True), torch.from_numpy(x).requires_grad_()
    y, their_y = ours(mine), theirs(their_x)
    weighting = rng(4).standard_normal(their_y.shape)
    y.backward(device_tensor(weighting))
    their_y.backward(torch.from_numpy(weighting))
    np.testing.assert_allclose(host(y), their_y.detach().numpy(), rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(host(mine.grad), their_x.grad.numpy(), rtol=1e-12, atol=1e-13)
    for (name, p), their_p in zip(ours.named_parameters(), theirs.parameters()):
        np.testing.assert_allclose(host(p.grad), their_p.grad.numpy(), rtol=1e-12, atol=1e-13, err_msg=name)


def test_grouped_conv_weight_shapes_and_init_bound():
    conv = nn.Conv2d(6, 9, 3, groups=3)
    assert conv.weight.shape == (9, 2, 3, 3)
    assert np.abs(host(conv.weight)).max() <= 1 / np.sqrt(2 * 9)
    assert nn.ConvTranspose2d(6, 9, 3, groups=3).weight.shape == (6, 3, 3, 3)


def test_layer_errors_name_the_layer():
    with pytest.raises(ValueError, match=r"Conv2d: in_channels \(6\) and out_channels \(8\) must both be divisible "
                                         r"by groups \(3\)"):
        nn.Conv2d(6, 8, 3, groups=3)
    with pytest.raises(ValueError, match=r"Conv2d: padding='same' is not supported for strided convolutions"):
        nn.Conv2d(3, 3, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match=r"Conv2d: padding_mode must be one of \('zeros', 'reflect', 'replicate', "
                                         r"'circular'\), got 'symmetric'"):
        nn.Conv2d(3, 3, 3, padding_mode="symmetric")
    with pytest.raises(ValueError, match=r"Upsample: give exactly one of size and scale_factor"):
        nn.Upsample()


def test_conv2d_device_and_dtype_arguments():
    conv = nn.Conv2d(2, 3, 3, device="cpu", dtype=np.float64)
    assert conv.weight.dtype == np.float64 and conv.bias.dtype == np.float64 and conv.weight.device == "cpu"


# -- containers ---------------------------------------------------------------------------------------

def test_module_dict_registers_its_modules_under_their_keys():
    heads = nn.ModuleDict({"real": nn.Linear(4, 1), "cls": nn.Linear(4, 10)})
    heads["extra"] = nn.Linear(4, 2)
    assert list(heads) == ["real", "cls", "extra"] and "cls" in heads and len(heads) == 3
    assert [k for k, _ in heads.named_parameters()] == ["real.weight", "real.bias", "cls.weight", "cls.bias",
                                                        "extra.weight", "extra.bias"]
    assert heads.pop("extra").out_features == 2 and list(heads.keys()) == ["real", "cls"]


def test_parameter_list_and_dict_register_their_parameters():
    plist = nn.ParameterList([nn.Parameter(np.zeros(2)), np.ones(3)])
    plist.append(np.ones((2, 2)))
    assert [k for k, _ in plist.named_parameters()] == ["0", "1", "2"] and isinstance(plist[1], nn.Parameter)
    pdict = nn.ParameterDict({"scale": np.ones(1)})
    pdict["shift"] = nn.Parameter(np.zeros(1))
    assert list(pdict.state_dict()) == ["scale", "shift"] and len(list(pdict.parameters())) == 2


def test_containers_state_dicts_match_torch():
    torch = pytest.importorskip("torch")

    def build(nn, parameter):
        model = nn.Module()
        model.heads = nn.ModuleDict({"a": nn.Linear(3, 2), "b": nn.Conv2d(1, 2, 3)})
        model.plist = nn.ParameterList([parameter(2), parameter(3)])
        model.pdict = nn.ParameterDict({"x": parameter(4)})
        return model
    ours = build(nn, lambda n: nn.Parameter(np.zeros(n)))
    theirs = build(torch.nn, lambda n: torch.nn.Parameter(torch.zeros(n)))
    assert [(k, tuple(v.shape)) for k, v in ours.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in theirs.state_dict().items()]


# -- Module methods -----------------------------------------------------------------------------------

def test_module_to_cpu_double_float_and_tensor():
    model = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    weight = model[0].weight
    assert model.double() is model and weight.dtype == np.float64 and model[0].weight is weight
    assert model.float()[0].weight.dtype == np.float32
    model.to("cpu", np.float64)
    assert weight.dtype == np.float64 and model[1].num_batches_tracked.dtype == np.int64
    model.to(Tensor(np.zeros(1, dtype=np.float32)))
    assert weight.dtype == np.float32
    assert model.cpu() is model and weight.device == "cpu"


def test_module_zero_grad_set_to_none_false_zeroes_in_the_same_tensor():
    layer = nn.Linear(2, 1)
    layer(device_tensor(np.ones((1, 2), dtype=np.float32))).sum().backward()
    held = layer.weight.grad
    layer.zero_grad(set_to_none=False)
    assert layer.weight.grad is held and not host(held).any()
    layer.zero_grad()
    assert layer.weight.grad is None


def test_forward_pre_hook_can_replace_the_inputs():
    layer = nn.Identity()
    handle = layer.register_forward_pre_hook(lambda module, inputs: inputs[0] * 2)
    assert host(layer(device_tensor(np.ones(2))))[0] == 2
    handle.remove()
    assert host(layer(device_tensor(np.ones(2))))[0] == 1


def test_nn_functional_is_tinygan_functional():
    import tinygan.nn.functional as NF
    from tinygan.nn.functional import interpolate
    assert NF is tinygan.functional and nn.functional is tinygan.functional and interpolate is F.interpolate


# -- nn.utils -----------------------------------------------------------------------------------------

def with_gradients(seed=5, shapes=((3, 2), (4,))):
    r = rng(seed)
    params = [nn.Parameter(r.standard_normal(s)) for s in shapes]
    for p in params:
        p.grad = Tensor(r.standard_normal(p.shape))
    return params


@pytest.mark.parametrize("max_norm, norm_type", [(0.5, 2.0), (100.0, 2.0), (0.3, 1.0), (0.2, float("inf"))])
def test_clip_grad_norm_by_hand(max_norm, norm_type):
    params = with_gradients()
    grads = [host(p.grad).ravel() for p in params]
    flat = np.concatenate(grads)
    total = np.abs(flat).max() if np.isinf(norm_type) else (np.abs(flat) ** norm_type).sum() ** (1 / norm_type)
    returned = nn.utils.clip_grad_norm_(params, max_norm, norm_type)
    np.testing.assert_allclose(float(returned.array), total, rtol=1e-12)
    scale = min(1.0, max_norm / (total + 1e-6))
    for p, g in zip(params, grads):
        np.testing.assert_allclose(host(p.grad).ravel(), g * scale, rtol=1e-12)


def test_clip_grad_norm_and_value_match_torch():
    torch = pytest.importorskip("torch")
    for clip in (lambda u, ps: u.clip_grad_norm_(ps, 0.7), lambda u, ps: u.clip_grad_value_(ps, 0.4)):
        ours = with_gradients()
        theirs = [torch.nn.Parameter(torch.from_numpy(host(p).copy())) for p in ours]
        for p, q in zip(ours, theirs):
            q.grad = torch.from_numpy(host(p.grad).copy())
        clip(nn.utils, ours)
        clip(torch.nn.utils, theirs)
        for p, q in zip(ours, theirs):
            np.testing.assert_allclose(host(p.grad), q.grad.numpy(), rtol=1e-12)


def test_parameters_to_vector_and_back():
    layer = nn.Linear(3, 2).double()
    vector = nn.utils.parameters_to_vector(layer.parameters())
    assert vector.shape == (8,)
    np.testing.assert_array_equal(host(vector), np.concatenate([host(layer.weight).ravel(), host(layer.bias)]))
    weight = layer.weight
    nn.utils.vector_to_parameters(device_tensor(np.arange(8.0)), layer.parameters())
    assert layer.weight is weight
    np.testing.assert_array_equal(host(layer.bias), [6.0, 7.0])
    with pytest.raises(ValueError, match=r"vector_to_parameters: the vector has 7 elements, the parameters 8"):
        nn.utils.vector_to_parameters(device_tensor(np.zeros(7)), layer.parameters())


def test_parameters_to_vector_is_differentiable():
    layer = nn.Linear(2, 2).double()
    (nn.utils.parameters_to_vector(layer.parameters()) ** 2).sum().backward()
    np.testing.assert_allclose(host(layer.weight.grad), 2 * host(layer.weight))


def test_spectral_norm_makes_the_largest_singular_value_one():
    tinygan.manual_seed(0)
    layer = nn.utils.spectral_norm(nn.Linear(6, 4).double(), n_power_iterations=1)
    for _ in range(30):                              # each training forward is one power iteration step
        layer(device_tensor(np.zeros((1, 6))))
    assert abs(np.linalg.svd(host(layer.weight), compute_uv=False)[0] - 1) < 1e-6
    sigma = np.linalg.svd(host(layer.weight_orig), compute_uv=False)[0]
    np.testing.assert_allclose(host(layer.weight) * sigma, host(layer.weight_orig), rtol=1e-6)


@pytest.mark.parametrize("build", [lambda nn: nn.Linear(5, 3), lambda nn: nn.Conv2d(3, 4, 3),
                                   lambda nn: nn.ConvTranspose2d(3, 4, 3, stride=2)])
def test_spectral_norm_matches_torch_through_training_and_eval(build):
    torch = pytest.importorskip("torch")
    theirs = torch.nn.utils.spectral_norm(build(torch.nn).double())
    ours = nn.utils.spectral_norm(build(nn).double())
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["bias", "weight_orig", "weight_u", "weight_v"]
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    shape = (2, 5) if isinstance(ours, nn.Linear) else (2, 3, 5, 5)
    r = rng(6)
    for _ in range(3):
        x = r.standard_normal(shape)
        y, their_y = ours(device_tensor(x)), theirs(torch.from_numpy(x))
        weighting = r.standard_normal(their_y.shape)
        y.backward(device_tensor(weighting))
        their_y.backward(torch.from_numpy(weighting))
        np.testing.assert_allclose(host(y), their_y.detach().numpy(), rtol=1e-11, atol=1e-13)
        np.testing.assert_allclose(host(ours.weight_orig.grad), theirs.weight_orig.grad.numpy(), rtol=1e-11, atol=1e-13)
        np.testing.assert_allclose(host(ours.weight_u), theirs.weight_u.numpy(), rtol=1e-11, atol=1e-13)
    ours.eval()
    theirs.eval()
    u_before = host(ours.weight_u).copy()
    np.testing.assert_allclose(host(ours(device_tensor(x))), theirs(torch.from_numpy(x)).detach().numpy(), rtol=1e-11)
    np.testing.assert_array_equal(host(ours.weight_u), u_before)             # no power iteration in eval
    nn.utils.remove_spectral_norm(ours)
    torch.nn.utils.remove_spectral_norm(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    np.testing.assert_allclose(host(ours.weight), theirs.weight.detach().numpy(), rtol=1e-11)


def test_spectral_norm_errors():
    with pytest.raises(ValueError, match=r"spectral_norm: Linear has no parameter 'scale'"):
        nn.utils.spectral_norm(nn.Linear(2, 2), name="scale")
    layer = nn.utils.spectral_norm(nn.Linear(2, 2))
    with pytest.raises(RuntimeError, match=r"spectral_norm: Linear.weight is already spectrally normalised"):
        nn.utils.spectral_norm(layer)
