"""Tests of tinygan.nn: Module bookkeeping, state dicts, every layer's gradients, and PyTorch parity."""
from collections import OrderedDict

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygan
from tinygan import backend, nn
from tinygan.autograd import Tensor
from tinygan.gradcheck import gradcheck


# -- helpers ------------------------------------------------------------------------------------------

def host(x):
    """A NumPy array of a Tensor's or array's values."""
    return backend.to_numpy(x.array if isinstance(x, Tensor) else x)


def randn(*shape, seed=0, dtype=np.float64, requires_grad=True):
    values = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    return Tensor(backend.xp().asarray(values), requires_grad=requires_grad)


def away_from_zero(*shape, seed=0, gap=0.05):
    """Distinct float64 values at least gap/2 from 0 (no kink of relu/leaky_relu within finite-difference reach)."""
    rng = np.random.default_rng(seed)
    n = int(np.prod(shape))
    values = rng.permutation((np.arange(n) + 0.5) * gap * rng.choice([-1.0, 1.0], size=n))
    return Tensor(backend.xp().asarray(values.reshape(shape)), requires_grad=True)


def check_layer_gradients(layer, x):
    """float64 gradcheck of layer(x) with respect to x and every parameter of the layer."""
    layer.double()
    params = list(layer.parameters())
    assert all(p.dtype == np.float64 for p in params)
    inputs = [x] + params
    assert gradcheck(lambda *tensors: layer(tensors[0]), inputs)


def to_torch_state(state):
    torch = pytest.importorskip("torch")
    return OrderedDict((k, torch.from_numpy(np.array(host(v)))) for k, v in state.items())


# -- Parameter and Module bookkeeping -------------------------------------------------------------------

class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.LeakyReLU(0.2))
        self.fc = nn.Linear(4 * 6 * 6, 10)
        self.emb = nn.Embedding(10, 5)
        self.scale = nn.Parameter(backend.xp().ones(1))

    def forward(self, x):
        h = self.features(x).flatten(1)
        return self.fc(h) * self.scale


def test_parameter_is_a_float_tensor_that_requires_grad():
    p = nn.Parameter(backend.xp().zeros((2, 3), dtype=np.float32))
    assert isinstance(p, Tensor) and p.requires_grad and p.dtype == np.float32
    assert nn.Parameter([1, 2, 3]).dtype == backend.get_default_dtype()
    assert not nn.Parameter(np.zeros(2), requires_grad=False).requires_grad
    assert "Parameter containing" in repr(p)


def test_named_parameters_use_pytorch_dotted_names():
    model = Block()
    names = [name for name, _ in model.named_parameters()]
    assert names == ["scale", "features.0.weight", "features.0.bias", "features.1.weight", "features.1.bias",
                     "fc.weight", "fc.bias", "emb.weight"]
    assert len(list(model.parameters())) == 8
    assert [n for n, _ in model.named_buffers()] == ["features.1.running_mean", "features.1.running_var",
                                                     "features.1.num_batches_tracked"]
    assert [n for n, _ in model.named_children()] == ["features", "fc", "emb"]
    assert [type(m).__name__ for m in model.modules()] == ["Block", "Sequential", "Conv2d", "BatchNorm2d",
                                                           "LeakyReLU", "Linear", "Embedding"]
    assert [type(m).__name__ for m in model.children()] == ["Sequential", "Linear", "Embedding"]


def test_state_dict_keys_are_pytorchs():
    model = Block()
    keys = list(model.state_dict())
    assert keys == ["scale", "features.0.weight", "features.0.bias", "features.1.weight", "features.1.bias",
                    "features.1.running_mean", "features.1.running_var", "features.1.num_batches_tracked",
                    "fc.weight", "fc.bias", "emb.weight"]
    torch = pytest.importorskip("torch")

    class TorchBlock(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.features = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.BatchNorm2d(4),
                                                torch.nn.LeakyReLU(0.2))
            self.fc = torch.nn.Linear(4 * 6 * 6, 10)
            self.emb = torch.nn.Embedding(10, 5)
            self.scale = torch.nn.Parameter(torch.ones(1))

    theirs = TorchBlock().state_dict()
    # PyTorch orders a module's own parameters first too, so the lists agree exactly.
    assert keys == list(theirs)
    assert [tuple(v.shape) for v in model.state_dict().values()] == [tuple(v.shape) for v in theirs.values()]
    TorchBlock().load_state_dict(to_torch_state(model.state_dict()))  # strict: loads without complaint


def test_shared_parameter_is_listed_once():
    layer = nn.Linear(3, 3)
    model = nn.Sequential(layer, nn.ReLU(), layer)
    assert len(list(model.parameters())) == 2
    assert len(list(model.children())) == 2
    assert list(model.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]


def test_setattr_rules():
    module = nn.Module()
    module.w = nn.Parameter(np.zeros(2))
    module.sub = nn.Linear(2, 2)
    module.register_buffer("stat", backend.xp().zeros(2))
    module.plain = 3
    assert list(module._parameters) == ["w"] and list(module._modules) == ["sub"] and list(module._buffers) == ["stat"]
    module.stat = backend.xp().ones(2)         # a buffer stays a buffer, wrapped as a Tensor
    assert isinstance(module.stat, Tensor) and host(module.stat).tolist() == [1, 1]
    module.w = None                            # a parameter may be set to None (absent)
    assert module.w is None and list(module.parameters()) == list(module.sub.parameters())
    with pytest.raises(TypeError, match="Parameter or None expected"):
        module.w = backend.xp().zeros(2)
    with pytest.raises(TypeError, match="Module or None expected"):
        module.sub = 5
    del module.sub
    assert "sub" not in module._modules
    with pytest.raises(AttributeError, match="has no attribute 'missing'"):
        module.missing

    class Forgetful(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(1, 1)

    with pytest.raises(AttributeError, match=r"super\(\).__init__\(\)"):
        Forgetful()


def test_train_eval_recurse_and_return_self():
    model = Block()
    assert all(m.training for m in model.modules())
    assert model.eval() is model
    assert not any(m.training for m in model.modules())
    assert model.train() is model
    assert all(m.training for m in model.modules())
    model.train(False)
    assert not model.features[1].training


def test_zero_grad_sets_grads_to_none():
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
    model(randn(5, 3, dtype=np.float32, requires_grad=False)).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_requires_grad_and_apply():
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
    assert model.requires_grad_(False) is model
    assert not any(p.requires_grad for p in model.parameters())
    model.requires_grad_(True)
    seen = []
    assert model.apply(lambda m: seen.append(type(m).__name__)) is model
    assert seen == ["Linear", "ReLU", "Linear", "Sequential"]

    def weights_init(m):  # the DCGAN tutorial's pattern, on bare arrays
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight.array, 0.0, 0.02)
            nn.init.zeros_(m.bias.array)
    model.apply(weights_init)
    assert np.all(host(model[0].bias) == 0) and np.abs(host(model[2].weight)).max() < 0.2


def test_forward_hook_and_its_removal():
    layer = nn.ReLU()
    calls = []
    handle = layer.register_forward_hook(lambda m, inputs, out: calls.append(out.shape))
    layer(randn(2, 3))
    handle.remove()
    layer(randn(2, 3))
    assert calls == [(2, 3)]


def test_sequential_container():
    a, b, c = nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)
    seq = nn.Sequential(a, b, c)
    assert len(seq) == 3 and list(seq) == [a, b, c]
    assert seq[0] is a and seq[-1] is c
    head = seq[:2]
    assert isinstance(head, nn.Sequential) and list(head) == [a, b]
    assert head(randn(4, 2, dtype=np.float32)).shape == (4, 3)
    seq.append(nn.Sigmoid())
    assert len(seq) == 4 and "3.weight" not in seq.state_dict()
    with pytest.raises(IndexError):
        seq[4]
    with pytest.raises(TypeError, match="not a Module"):
        nn.Sequential(a, lambda x: x)
    named = nn.Sequential(OrderedDict([("fc", nn.Linear(2, 2)), ("act", nn.Tanh())]))
    assert list(named.state_dict()) == ["fc.weight", "fc.bias"]
    blocks = nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 2)])
    assert len(blocks) == 2 and list(blocks.state_dict()) == ["0.weight", "0.bias", "1.weight", "1.bias"]


def test_repr_is_pytorch_like():
    model = nn.Sequential(nn.Conv2d(1, 8, 4, 2, 1, bias=False), nn.LeakyReLU(0.2), nn.Flatten(),
                          nn.Linear(8 * 14 * 14, 1), nn.Sigmoid())
    text = repr(model)
    assert text.startswith("Sequential(\n  (0): Conv2d(1, 8, kernel_size=(4, 4), stride=(2, 2), padding=(1, 1), "
                           "bias=False)\n")
    assert "(3): Linear(in_features=1568, out_features=1, bias=True)" in text
    torch = pytest.importorskip("torch")
    theirs = torch.nn.Sequential(torch.nn.Conv2d(1, 8, 4, 2, 1, bias=False), torch.nn.LeakyReLU(0.2),
                                 torch.nn.Flatten(), torch.nn.Linear(8 * 14 * 14, 1), torch.nn.Sigmoid())
    assert text == repr(theirs)
    for ours, theirs in [(nn.ConvTranspose2d(4, 2, 4, 2, 1, 1), torch.nn.ConvTranspose2d(4, 2, 4, 2, 1, 1)),
                         (nn.Conv2d(3, 2, (3, 5), dilation=2), torch.nn.Conv2d(3, 2, (3, 5), dilation=2)),
                         (nn.Embedding(10, 3), torch.nn.Embedding(10, 3)),
                         (nn.Upsample(scale_factor=2), torch.nn.Upsample(scale_factor=2)),
                         (nn.Unflatten(1, (4, 7, 7)), torch.nn.Unflatten(1, (4, 7, 7))),
                         (nn.Tanh(), torch.nn.Tanh()), (nn.ReLU(), torch.nn.ReLU())]:
        assert repr(ours) == repr(theirs)
    # Recent PyTorch versions add a `bias=` flag to BatchNorm's repr; everything else is the same.
    assert repr(nn.BatchNorm2d(4)) == repr(torch.nn.BatchNorm2d(4)).replace(" bias=True,", "")


def test_summary_lists_leaf_shapes_and_parameter_counts():
    model = nn.Sequential(nn.Linear(10, 3 * 4 * 4), nn.Unflatten(1, (3, 4, 4)), nn.Upsample(scale_factor=2),
                          nn.Conv2d(3, 5, 3, padding=1), nn.BatchNorm2d(5), nn.ReLU())
    before = host(model[4].running_mean).copy()
    text = nn.summary(model, (2, 10))
    lines = text.splitlines()
    assert lines[0].split() == ["layer", "type", "output", "shape", "params"]
    assert lines[1].split() == ["0", "Linear", "(N,", "48)", "528"]
    assert lines[3].split() == ["2", "Upsample", "(N,", "3,", "8,", "8)", "0"]
    assert lines[4].split() == ["3", "Conv2d", "(N,", "5,", "8,", "8)", "140"]
    assert lines[-1] == "total parameters: 678 (trainable: 678)"
    assert all(m.training for m in model.modules())                  # modes restored
    np.testing.assert_array_equal(host(model[4].running_mean), before)  # statistics untouched
    assert not model[0]._forward_hooks                                # hooks removed


def test_summary_takes_tensors_and_arrays_for_several_inputs():
    class Conditional(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(10, 4)
            self.fc = nn.Linear(8, 2)

        def forward(self, z, labels):
            from tinygan.functional import concat
            return self.fc(concat([z, self.emb(labels)], axis=1))

    text = nn.summary(Conditional(), (3, 4), backend.xp().asarray([1, 2, 3]))
    assert [line.split()[:2] for line in text.splitlines()[1:3]] == [["emb", "Embedding"], ["fc", "Linear"]]
    assert "(N, 4)" in text and "(N, 2)" in text


def test_deepcopy_gives_an_independent_module():
    import copy
    model = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    twin = copy.deepcopy(model)                      # e.g. an exponential moving average of a generator
    assert isinstance(twin[0].weight, nn.Parameter) and twin[0].weight is not model[0].weight
    np.testing.assert_array_equal(host(twin[0].weight), host(model[0].weight))
    twin[0].weight.array += 1
    assert not np.array_equal(host(twin[0].weight), host(model[0].weight))
    assert repr(twin) == repr(model)


# -- state_dict / load_state_dict ------------------------------------------------------------------------

def test_state_dict_round_trip_gives_identical_outputs():
    tinygan.manual_seed(0)
    model = Block()
    x = randn(2, 1, 8, 8, dtype=np.float32, requires_grad=False)
    model(x)  # a training step changes the running statistics
    model.eval()
    expected = host(model(x))
    state = model.state_dict()
    assert all(v is not p.array for v, (_, p) in zip(state.values(), model._state_tensors()))  # copies
    fresh = Block()
    assert fresh.load_state_dict(state) == ([], [])
    fresh.eval()
    np.testing.assert_array_equal(host(fresh(x)), expected)
    assert int(host(fresh.features[1].num_batches_tracked)) == 1


def test_load_state_dict_accepts_tensors_host_arrays_and_casts_dtype():
    layer = nn.Linear(3, 2)
    weight = np.arange(6, dtype=np.float64).reshape(2, 3)
    params_before = list(layer.parameters())
    layer.load_state_dict({"weight": weight, "bias": Tensor(backend.xp().asarray([1.0, 2.0]))})
    assert list(layer.parameters()) == params_before            # in place: the same Parameter objects
    assert layer.weight.dtype == np.float32
    np.testing.assert_array_equal(host(layer.weight), weight.astype(np.float32))
    np.testing.assert_array_equal(host(layer.bias), [1, 2])


def test_load_state_dict_reports_every_problem_at_once():
    model = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    state = model.state_dict()
    before = host(model[0].weight).copy()
    del state["0.bias"]
    state["0.weight"] = np.zeros((3, 2), dtype=np.float32)
    state["1.running_var"] = np.ones(2) * 7      # would be loaded, but nothing is loaded on error
    state["2.weight"] = np.zeros(2)
    with pytest.raises(RuntimeError) as error:
        model.load_state_dict(state)
    message = str(error.value)
    assert "missing keys" in message and "'0.bias'" in message
    assert "unexpected keys" in message and "'2.weight'" in message
    assert "mis-shaped keys" in message and "'0.weight'" in message and "(2, 3)" in message and "(3, 2)" in message
    np.testing.assert_array_equal(host(model[0].weight), before)
    assert np.all(host(model[1].running_var) == 1)


def test_load_state_dict_not_strict():
    model = nn.Sequential(nn.Linear(3, 2), nn.ReLU(), nn.Linear(2, 1))
    state = nn.Sequential(nn.Linear(3, 2)).state_dict()
    state["extra"] = np.zeros(1)
    result = model.load_state_dict(state, strict=False)
    assert result.missing_keys == ["2.weight", "2.bias"] and result.unexpected_keys == ["extra"]
    np.testing.assert_array_equal(host(model[0].weight), host(state["0.weight"]))
    bad = {"0.weight": np.zeros((2, 2))}
    with pytest.raises(RuntimeError, match="mis-shaped"):
        model.load_state_dict(bad, strict=False)


# -- dtype and device ----------------------------------------------------------------------------------

def test_double_and_float_cast_parameters_and_float_buffers():
    model = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    assert model.double() is model
    assert all(p.dtype == np.float64 for p in model.parameters())
    assert model[1].running_mean.dtype == np.float64 and model[1].num_batches_tracked.dtype == np.int64
    assert model(randn(4, 2)).dtype == np.float64
    model.float()
    assert all(p.dtype == np.float32 for p in model.parameters())
    model.to(np.float64)
    assert model[0].weight.dtype == np.float64


def test_to_cpu_is_in_place_and_returns_self():
    model = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    params = list(model.parameters())
    assert model.to("cpu") is model
    assert list(model.parameters()) == params
    with pytest.raises(ValueError, match="unknown device"):
        model.to("tpu")


@pytest.mark.gpu
def test_to_gpu_and_back():
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.Flatten(), nn.Linear(2 * 4 * 4, 1))
    params = list(model.parameters())
    model.to("gpu")
    assert list(model.parameters()) == params
    assert all(p.device == "gpu" for p in model.parameters()) and all(b.device == "gpu" for b in model.buffers())
    import cupy
    x = Tensor(cupy.asarray(np.random.default_rng(0).standard_normal((3, 1, 6, 6)).astype(np.float32)))
    out = model(x)
    assert out.device == "gpu"
    out.sum().backward()
    assert model[0].weight.grad.device == "gpu"
    state = model.state_dict()
    assert backend.device_of(state["0.weight"]) == "gpu"
    host_state = {k: backend.to_numpy(v) for k, v in state.items()}
    model.load_state_dict(host_state)   # host arrays are moved to the module's device
    assert model[0].weight.device == "gpu"
    model.to("cpu")
    assert all(p.device == "cpu" for p in model.parameters()) and model[0].weight.grad.device == "cpu"
    assert all(b.device == "cpu" for b in model.buffers())


# -- gradients of every layer (float64 gradcheck) ------------------------------------------------------

def test_linear_gradients():
    check_layer_gradients(nn.Linear(4, 3), randn(5, 4))
    check_layer_gradients(nn.Linear(4, 3, bias=False), randn(2, 3, 4))   # leading dimensions


@settings(max_examples=10, deadline=None)
@given(n=st.integers(1, 2), c=st.integers(1, 2), o=st.integers(1, 2), h=st.integers(3, 6), w=st.integers(3, 6),
       k=st.integers(1, 3), stride=st.integers(1, 2), padding=st.integers(0, 1), dilation=st.integers(1, 2),
       bias=st.booleans(), seed=st.integers(0, 1000))
def test_conv2d_gradients(n, c, o, h, w, k, stride, padding, dilation, bias, seed):
    if min(h, w) + 2 * padding < dilation * (k - 1) + 1:
        return  # the kernel does not fit
    tinygan.manual_seed(seed)
    layer = nn.Conv2d(c, o, k, stride=stride, padding=padding, dilation=dilation, bias=bias)
    check_layer_gradients(layer, randn(n, c, h, w, seed=seed))


@settings(max_examples=10, deadline=None)
@given(n=st.integers(1, 2), c=st.integers(1, 2), o=st.integers(1, 2), h=st.integers(1, 4), w=st.integers(1, 4),
       k=st.integers(1, 3), stride=st.integers(1, 2), padding=st.integers(0, 1), data=st.data(),
       bias=st.booleans(), seed=st.integers(0, 1000))
def test_conv_transpose2d_gradients(n, c, o, h, w, k, stride, padding, data, bias, seed):
    output_padding = data.draw(st.integers(0, stride - 1))
    if min((h - 1) * stride - 2 * padding + k + output_padding, (w - 1) * stride - 2 * padding + k + output_padding) < 1:
        return
    tinygan.manual_seed(seed)
    layer = nn.ConvTranspose2d(c, o, k, stride, padding, output_padding, bias=bias)
    assert layer.weight.shape == (c, o, k, k)
    check_layer_gradients(layer, randn(n, c, h, w, seed=seed))


def _randomise_batchnorm(bn, seed):
    rng = np.random.default_rng(seed)
    C = bn.num_features
    bn.weight.array[...] = backend.xp().asarray(rng.uniform(0.5, 1.5, C))
    bn.bias.array[...] = backend.xp().asarray(rng.standard_normal(C))
    bn.running_mean.array[...] = backend.xp().asarray(rng.standard_normal(C))
    bn.running_var.array[...] = backend.xp().asarray(rng.uniform(0.5, 2.0, C))


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("layer, shape", [(nn.BatchNorm1d, (4, 3)), (nn.BatchNorm1d, (3, 2, 4)),
                                          (nn.BatchNorm2d, (2, 3, 3, 2))])
def test_batchnorm_gradients(layer, shape, training):
    bn = layer(shape[1]).double()
    _randomise_batchnorm(bn, 1)
    bn.train(training)
    check_layer_gradients(bn, randn(*shape, seed=2))


def test_activation_and_shape_layer_gradients():
    for layer in (nn.ReLU(), nn.LeakyReLU(0.2), nn.Sigmoid(), nn.Tanh(), nn.Identity()):
        check_layer_gradients(layer, away_from_zero(3, 4))
    check_layer_gradients(nn.Flatten(), randn(2, 3, 2, 2))
    check_layer_gradients(nn.Flatten(0, 1), randn(2, 3, 2))
    check_layer_gradients(nn.Unflatten(1, (2, 3)), randn(2, 6))
    check_layer_gradients(nn.Upsample(scale_factor=2), randn(1, 2, 2, 3))
    check_layer_gradients(nn.Dropout(0.3).eval(), randn(3, 4))


def test_dropout_gradients_in_training_with_a_fixed_mask():
    layer = nn.Dropout(0.5)
    x = randn(4, 5)

    def fn(x):
        tinygan.manual_seed(7)  # the same mask at every evaluation
        return layer(x)
    assert gradcheck(fn, [x])


def test_embedding_gradients():
    layer = nn.Embedding(5, 3).double()
    indices = backend.xp().asarray([[0, 3], [3, 4]])
    out = layer(indices)
    assert out.shape == (2, 2, 3)
    np.testing.assert_array_equal(host(out)[0, 1], host(layer.weight)[3])
    assert gradcheck(lambda w: layer(indices), [layer.weight])   # row 3, picked twice, collects both


def test_second_derivatives_through_a_critic():
    """What a WGAN-GP or R1 penalty differentiates: the input gradient, itself a function of the weights."""
    from tinygan.gradcheck import gradgradcheck
    tinygan.manual_seed(0)
    critic = nn.Sequential(nn.Conv2d(1, 2, 3, 2, 1), nn.LeakyReLU(0.2), nn.Flatten(), nn.Linear(8, 1)).double()
    x = randn(2, 1, 4, 4, seed=4)
    assert gradgradcheck(lambda *tensors: critic(tensors[0]), [x] + list(critic.parameters()))


# -- layer behaviour --------------------------------------------------------------------------------------

def test_dropout_is_identity_in_eval_and_scales_in_training():
    layer = nn.Dropout(0.25)
    x = Tensor(backend.xp().ones((200, 50), dtype=np.float32))
    layer.eval()
    assert layer(x) is x or np.array_equal(host(layer(x)), host(x))
    layer.train()
    y = host(layer(x))
    assert set(np.unique(y)) <= {0.0, np.float32(1 / 0.75)}
    assert (y == 0).mean() == pytest.approx(0.25, abs=0.02)
    with pytest.raises(ValueError, match="p must be in"):
        nn.Dropout(1.0)


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_scales_each_kept_value_by_exactly_one_over_one_minus_p(p):
    """Each output is 0 or x / (1 - p), and its gradient 0 or 1 / (1 - p): exact, whatever the mask drawn."""
    x = randn(6, 7, seed=3)
    tinygan.manual_seed(5)
    y = nn.Dropout(p)(x)
    y.backward(Tensor(backend.xp().ones(x.shape)))
    kept = host(y) != 0
    assert kept.any() and not kept.all()
    np.testing.assert_allclose(host(y)[kept], host(x)[kept] / (1 - p), rtol=1e-12)
    np.testing.assert_allclose(host(x.grad)[kept], 1 / (1 - p), rtol=1e-12)
    np.testing.assert_array_equal(host(x.grad)[~kept], 0.0)


@pytest.mark.parametrize("p", [0.001, 0.1, 0.5, 0.9])
@pytest.mark.parametrize("shape", [(1000, 999), (7,), (0, 3)])
def test_dropout_drops_each_value_with_probability_p_reproducibly(p, shape):
    """The fraction dropped is p within 5 standard deviations, for odd sizes (the CPU draws two 32-bit numbers from
    each 64-bit one) and empty ones; the same seed gives the same mask, the next draw another one."""
    x = Tensor(backend.xp().ones(shape, dtype=np.float32))
    tinygan.manual_seed(11)
    first, second = host(nn.functional.dropout(x, p)), host(nn.functional.dropout(x, p))
    tinygan.manual_seed(11)
    np.testing.assert_array_equal(host(nn.functional.dropout(x, p)), first)
    assert first.shape == shape
    if first.size > 100_000:
        dropped = (first == 0).mean()
        assert abs(dropped - p) < 5 * np.sqrt(p * (1 - p) / first.size), dropped
        assert not np.array_equal(first, second)


def test_layer_shapes_and_float32():
    x = randn(2, 3, 8, 8, dtype=np.float32, requires_grad=False)
    assert nn.Conv2d(3, 5, 4, 2, 1)(x).shape == (2, 5, 4, 4)
    assert nn.ConvTranspose2d(3, 5, 4, 2, 1)(x).shape == (2, 5, 16, 16)
    assert nn.ConvTranspose2d(3, 5, 3, 2, 1, 1)(x).shape == (2, 5, 16, 16)
    assert nn.Upsample(scale_factor=2)(x).shape == (2, 3, 16, 16)
    assert nn.Flatten()(x).shape == (2, 192)
    assert nn.Unflatten(1, (3, 64))(nn.Flatten()(x)).shape == (2, 3, 64)
    for layer in (nn.Conv2d(3, 5, 3), nn.BatchNorm2d(3), nn.ConvTranspose2d(3, 2, 2)):
        assert layer(x).dtype == np.float32
    up = host(nn.Upsample(scale_factor=2)(x))
    np.testing.assert_array_equal(up, host(x).repeat(2, axis=2).repeat(2, axis=3))
    assert nn.Upsample(size=5)(x).shape == (2, 3, 5, 5)          # PyTorch's order: Upsample(size, scale_factor, mode)
    with pytest.raises(ValueError, match="Upsample: mode must be one of"):
        nn.Upsample(scale_factor=2, mode="bicubic")


def test_batchnorm_checks_its_input():
    with pytest.raises(ValueError, match=r"BatchNorm2d\(3\): expected a 4-D input \(N, C, H, W\), got shape \(4, 3\)"):
        nn.BatchNorm2d(3)(randn(4, 3))
    with pytest.raises(ValueError, match=r"BatchNorm1d\(3\): expected a 2-D or 3-D input"):
        nn.BatchNorm1d(3)(randn(2, 3, 4, 4))
    with pytest.raises(ValueError, match=r"BatchNorm2d\(3\): input has 4 channels"):
        nn.BatchNorm2d(3)(randn(2, 4, 3, 3))


def test_batchnorm_train_uses_batch_stats_eval_uses_running_stats():
    bn = nn.BatchNorm1d(3).double()
    x = randn(50, 3, seed=3)
    y = host(bn(x))
    np.testing.assert_allclose(y.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(y.var(axis=0), 1, rtol=1e-3)       # biased variance, eps = 1e-5
    xs = host(x)
    np.testing.assert_allclose(host(bn.running_mean), 0.1 * xs.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(host(bn.running_var), 0.9 + 0.1 * xs.var(axis=0, ddof=1), rtol=1e-12)
    assert int(host(bn.num_batches_tracked)) == 1
    bn.eval()
    expected = (xs - host(bn.running_mean)) / np.sqrt(host(bn.running_var) + 1e-5)
    np.testing.assert_allclose(host(bn(x)), expected, rtol=1e-10)
    assert int(host(bn.num_batches_tracked)) == 1                  # eval does not count


def test_batchnorm_momentum_none_is_a_cumulative_average():
    bn = nn.BatchNorm1d(2, momentum=None).double()
    batches = [randn(5, 2, seed=s) for s in range(3)]
    for x in batches:
        bn(x)
    means = np.mean([host(x).mean(axis=0) for x in batches], axis=0)
    np.testing.assert_allclose(host(bn.running_mean), means, rtol=1e-12)


def test_batchnorm_without_affine_or_running_stats():
    bn = nn.BatchNorm2d(2, affine=False, track_running_stats=False)
    assert list(bn.parameters()) == [] and list(bn.state_dict()) == []
    bn.eval()
    y = host(bn(randn(3, 2, 2, 2, dtype=np.float32)))
    np.testing.assert_allclose(y.mean(axis=(0, 2, 3)), 0, atol=1e-5)   # still batch statistics


# -- PyTorch parity: weights moved through state_dict give the same outputs -------------------------------

def _to_torch_input(x):
    torch = pytest.importorskip("torch")
    return torch.from_numpy(np.array(host(x)))


@pytest.mark.parametrize("make", [
    lambda torch_nn: (nn.Linear(5, 4), torch_nn.Linear(5, 4), (3, 5)),
    lambda torch_nn: (nn.Linear(5, 4, bias=False), torch_nn.Linear(5, 4, bias=False), (3, 5)),
    lambda torch_nn: (nn.Conv2d(3, 4, 3, 2, 1), torch_nn.Conv2d(3, 4, 3, 2, 1), (2, 3, 7, 7)),
    lambda torch_nn: (nn.Conv2d(2, 3, (3, 2), dilation=2), torch_nn.Conv2d(2, 3, (3, 2), dilation=2), (2, 2, 7, 6)),
    lambda torch_nn: (nn.ConvTranspose2d(4, 3, 4, 2, 1), torch_nn.ConvTranspose2d(4, 3, 4, 2, 1), (2, 4, 5, 5)),
    lambda torch_nn: (nn.ConvTranspose2d(2, 3, 3, 2, 1, 1, bias=False),
                      torch_nn.ConvTranspose2d(2, 3, 3, 2, 1, 1, bias=False), (1, 2, 4, 3)),
])
def test_weights_moved_to_torch_give_the_same_outputs(make):
    torch = pytest.importorskip("torch")
    ours, theirs, shape = make(torch.nn)
    theirs.load_state_dict(to_torch_state(ours.state_dict()))
    x = randn(*shape, dtype=np.float32, requires_grad=False)
    with torch.no_grad():
        expected = theirs(_to_torch_input(x)).numpy()
    np.testing.assert_allclose(host(ours(x)), expected, rtol=1e-5, atol=1e-6)
    # and back: PyTorch's own (differently drawn) weights loaded into tinygan
    theirs.reset_parameters()
    with torch.no_grad():
        expected = theirs(_to_torch_input(x)).numpy()
    ours.load_state_dict(theirs.state_dict())
    np.testing.assert_allclose(host(ours(x)), expected, rtol=1e-5, atol=1e-6)


def test_batchnorm2d_running_stats_match_torch():
    torch = pytest.importorskip("torch")
    ours, theirs = nn.BatchNorm2d(3, momentum=0.2), torch.nn.BatchNorm2d(3, momentum=0.2)
    ours.load_state_dict(theirs.state_dict())
    rng = np.random.default_rng(0)
    ours.weight.array[...] = backend.xp().asarray(rng.uniform(0.5, 2, 3))
    theirs.load_state_dict(to_torch_state(ours.state_dict()))
    for step in range(4):
        batch = (rng.standard_normal((4, 3, 5, 5)) * (1 + step) + step).astype(np.float32)
        out = ours(Tensor(backend.xp().asarray(batch)))
        expected = theirs(torch.from_numpy(batch)).detach().numpy()
        np.testing.assert_allclose(host(out), expected, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(host(ours.running_mean), theirs.running_mean.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(host(ours.running_var), theirs.running_var.numpy(), rtol=1e-5)
    assert int(host(ours.num_batches_tracked)) == int(theirs.num_batches_tracked) == 4
    ours.eval(), theirs.eval()
    x = rng.standard_normal((2, 3, 4, 4)).astype(np.float32)
    with torch.no_grad():
        expected = theirs(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(host(ours(Tensor(backend.xp().asarray(x)))), expected, rtol=1e-4, atol=1e-5)
    # the statistics PyTorch gathered, loaded into a fresh tinygan layer, give the same eval output
    fresh = nn.BatchNorm2d(3).eval()
    fresh.load_state_dict(theirs.state_dict())
    np.testing.assert_allclose(host(fresh(Tensor(backend.xp().asarray(x)))), expected, rtol=1e-4, atol=1e-5)


def test_batchnorm1d_on_sequences_matches_torch():
    torch = pytest.importorskip("torch")
    ours, theirs = nn.BatchNorm1d(2), torch.nn.BatchNorm1d(2)
    x = np.random.default_rng(1).standard_normal((3, 2, 5)).astype(np.float32)
    out = ours(Tensor(backend.xp().asarray(x)))
    expected = theirs(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(host(out), expected, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(host(ours.running_var), theirs.running_var.numpy(), rtol=1e-5)


def test_embedding_matches_torch():
    torch = pytest.importorskip("torch")
    theirs = torch.nn.Embedding(6, 4)
    ours = nn.Embedding(6, 4)
    ours.load_state_dict(theirs.state_dict())
    labels = np.array([5, 0, 2, 2])
    np.testing.assert_array_equal(host(ours(backend.xp().asarray(labels))),
                                  theirs(torch.from_numpy(labels)).detach().numpy())
