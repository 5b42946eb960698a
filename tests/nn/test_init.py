"""Tests of tinygan.nn.init: fan computation, gains, the distributions, PyTorch's default layer init."""
import math

import numpy as np
import pytest

import tinygan
from tinygan import backend
from tinygan.nn import init
from tinygan import nn
from tinygan.autograd import Tensor


def _tensor(*shape, dtype=np.float32):
    return Tensor(backend.xp().zeros(shape, dtype=dtype))


def _values(t):
    return backend.to_numpy(t.array if isinstance(t, Tensor) else t).astype(np.float64)


# -- fan in / fan out and gains ---------------------------------------------------------------------

@pytest.mark.parametrize("shape, fans", [
    ((50, 100), (100, 50)),              # Linear(100, 50): weight (out, in)
    ((8, 3, 5, 5), (75, 200)),           # Conv2d(3, 8, 5): (O, C, KH, KW)
    ((16, 4, 4, 4), (64, 256)),          # ConvTranspose2d(16, 4, 4): (C_in, C_out, KH, KW) -> fan_in from dim 1
    ((7, 2, 3), (6, 21)),
])
def test_fan_in_and_fan_out_follow_pytorch_rule(shape, fans):
    assert init.calculate_fan_in_and_fan_out(_tensor(*shape)) == fans


def test_fan_needs_two_dimensions():
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        init.calculate_fan_in_and_fan_out(_tensor(5))
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        init.kaiming_uniform_(_tensor(5))


def test_fans_match_torch():
    torch = pytest.importorskip("torch")
    for shape in [(50, 100), (8, 3, 5, 5), (16, 4, 4, 4), (7, 2, 3), (1, 1)]:
        expected = torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
        assert init.calculate_fan_in_and_fan_out(_tensor(*shape)) == tuple(expected)


def test_calculate_gain_values():
    assert init.calculate_gain("linear") == 1
    assert init.calculate_gain("conv2d") == 1
    assert init.calculate_gain("sigmoid") == 1
    assert init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert init.calculate_gain("relu") == pytest.approx(math.sqrt(2))
    assert init.calculate_gain("leaky_relu") == pytest.approx(math.sqrt(2 / (1 + 0.01 ** 2)))
    assert init.calculate_gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2 / 1.04))
    assert init.calculate_gain("leaky_relu", math.sqrt(5)) == pytest.approx(math.sqrt(1 / 3))
    with pytest.raises(ValueError, match="unsupported nonlinearity"):
        init.calculate_gain("swish")


def test_calculate_gain_matches_torch():
    torch = pytest.importorskip("torch")
    for name, param in [("linear", None), ("tanh", None), ("relu", None), ("leaky_relu", None),
                        ("leaky_relu", 0.2), ("selu", None), ("sigmoid", None)]:
        assert init.calculate_gain(name, param) == pytest.approx(torch.nn.init.calculate_gain(name, param))


# -- in place, dtype, device, return value ------------------------------------------------------------

@pytest.mark.parametrize("fill", [
    lambda t: init.uniform_(t, -2, 3), lambda t: init.normal_(t, 1, 2), lambda t: init.constant_(t, 0.5),
    init.zeros_, init.ones_, init.xavier_uniform_, init.xavier_normal_, init.kaiming_uniform_,
    init.kaiming_normal_, init.default_init_, init.trunc_normal_, init.orthogonal_,
])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fills_in_place_keeping_dtype_and_returns_the_tensor(fill, dtype):
    t = _tensor(6, 5, dtype=dtype)
    array = t.array
    assert fill(t) is t
    assert t.array is array and t.array.dtype == dtype
    bare = backend.xp().zeros((6, 5), dtype=dtype)
    assert fill(bare) is bare and bare.dtype == dtype  # bare arrays (m.weight.array) work too


def test_integer_arrays_are_refused():
    with pytest.raises(TypeError, match="floating-point"):
        init.normal_(Tensor(backend.xp().zeros((2, 2), dtype=np.int64)))


def test_manual_seed_makes_init_repeatable():
    tinygan.manual_seed(123)
    a = _values(init.normal_(_tensor(10)))
    tinygan.manual_seed(123)
    b = _values(init.normal_(_tensor(10)))
    np.testing.assert_array_equal(a, b)


# -- the distributions --------------------------------------------------------------------------------

def test_uniform_and_normal_statistics():
    # Bounds of 5 standard errors of 20,000 samples: any seed of either backend's generator passes,
    # a wrong mean or scale (off by 10 %) does not.
    tinygan.manual_seed(0)
    count = 200 * 100
    u = _values(init.uniform_(_tensor(200, 100, dtype=np.float64), -2.0, 3.0))
    u_std = 5 / math.sqrt(12)
    assert u.min() >= -2 and u.max() < 3
    assert u.mean() == pytest.approx(0.5, abs=5 * u_std / math.sqrt(count))
    assert u.std() == pytest.approx(u_std, rel=0.02)
    n = _values(init.normal_(_tensor(200, 100, dtype=np.float64), 1.0, 2.0))
    assert n.mean() == pytest.approx(1.0, abs=5 * 2.0 / math.sqrt(count))
    assert n.std() == pytest.approx(2.0, rel=5 / math.sqrt(2 * count))
    assert np.all(_values(init.constant_(_tensor(3, 3), 0.25)) == 0.25)
    assert np.all(_values(init.zeros_(_tensor(3))) == 0) and np.all(_values(init.ones_(_tensor(3))) == 1)


def test_xavier_uniform_bound_and_xavier_normal_std():
    tinygan.manual_seed(1)
    w = _values(init.xavier_uniform_(_tensor(300, 200, dtype=np.float64), gain=2.0))
    bound = 2.0 * math.sqrt(6 / 500)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    w = _values(init.xavier_normal_(_tensor(300, 200, dtype=np.float64)))
    assert w.std() == pytest.approx(math.sqrt(2 / 500), rel=0.02)


def test_kaiming_uniform_and_normal():
    tinygan.manual_seed(2)
    w = _values(init.kaiming_uniform_(_tensor(64, 32, 3, 3, dtype=np.float64), nonlinearity="relu"))
    bound = math.sqrt(2) * math.sqrt(3 / (32 * 9))
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    w = _values(init.kaiming_uniform_(_tensor(64, 32, 3, 3, dtype=np.float64), a=0.2, mode="fan_out"))
    bound = math.sqrt(2 / 1.04) * math.sqrt(3 / (64 * 9))
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    w = _values(init.kaiming_normal_(_tensor(256, 128, dtype=np.float64), nonlinearity="relu"))
    assert w.std() == pytest.approx(math.sqrt(2 / 128), rel=0.02)
    with pytest.raises(ValueError, match="fan_in"):
        init.kaiming_uniform_(_tensor(3, 3), mode="fan_middle")


# -- PyTorch's default initialisation of layers --------------------------------------------------------

def _assert_in_bound_and_near_it(values, bound):
    values = np.abs(values)
    assert values.max() <= bound * (1 + 1e-6)
    assert values.max() > 0.95 * bound  # uses the whole range, not a smaller one


def test_linear_default_init_bounds():
    tinygan.manual_seed(3)
    layer = nn.Linear(100, 50)
    bound = 1 / math.sqrt(100)
    _assert_in_bound_and_near_it(_values(layer.weight), bound)
    _assert_in_bound_and_near_it(_values(layer.bias), bound)
    # uniform on [-bound, bound]: std = bound / sqrt(3)
    assert _values(layer.weight).std() == pytest.approx(bound / math.sqrt(3), rel=0.05)


def test_conv_default_init_bounds():
    tinygan.manual_seed(4)
    layer = nn.Conv2d(16, 32, 3)
    _assert_in_bound_and_near_it(_values(layer.weight), 1 / math.sqrt(16 * 9))
    _assert_in_bound_and_near_it(_values(layer.bias), 1 / math.sqrt(16 * 9))


def test_conv_transpose_fan_in_comes_from_dimension_one():
    tinygan.manual_seed(5)
    layer = nn.ConvTranspose2d(64, 8, 4, 2, 1)   # weight (64, 8, 4, 4): fan_in = 8 * 16 = 128, not 64 * 16
    assert layer.weight.shape == (64, 8, 4, 4)
    bound = 1 / math.sqrt(8 * 16)
    _assert_in_bound_and_near_it(_values(layer.weight), bound)
    bias = _values(layer.bias)
    assert np.abs(bias).max() <= bound


def test_default_init_bounds_match_torch_layers():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    tinygan.manual_seed(0)
    for ours, theirs in [(nn.Linear(100, 50), torch.nn.Linear(100, 50)),
                         (nn.Conv2d(3, 16, 5), torch.nn.Conv2d(3, 16, 5)),
                         (nn.ConvTranspose2d(32, 4, 4), torch.nn.ConvTranspose2d(32, 4, 4))]:
        for name in ("weight", "bias"):
            a = _values(getattr(ours, name))
            b = getattr(theirs, name).detach().numpy()
            assert a.shape == b.shape
            # both use U[-1/sqrt(fan_in), 1/sqrt(fan_in)]: the same range up to sampling
            assert np.abs(a).max() == pytest.approx(np.abs(b).max(), rel=0.2)


def test_embedding_and_batchnorm_init():
    tinygan.manual_seed(6)
    emb = nn.Embedding(100, 50)
    w = _values(emb.weight)
    assert abs(w.mean()) < 0.05 and w.std() == pytest.approx(1.0, rel=0.05)
    bn = nn.BatchNorm2d(5)
    assert np.all(_values(bn.weight) == 1) and np.all(_values(bn.bias) == 0)
    assert np.all(_values(bn.running_mean) == 0) and np.all(_values(bn.running_var) == 1)


def test_docstrings_state_the_formulas():
    assert "sqrt(3 / fan)" in init.kaiming_uniform_.__doc__
    assert "sqrt(6 / (fan_in + fan_out))" in init.xavier_uniform_.__doc__
    assert "1 / sqrt(fan_in)" in init.default_init_.__doc__


def test_trunc_normal_keeps_every_sample_inside_and_has_the_truncated_mean():
    tinygan.manual_seed(0)
    values = _values(init.trunc_normal_(_tensor(40000), mean=0.0, std=0.5, a=-0.4, b=0.6))
    assert values.min() >= -0.4 and values.max() <= 0.6
    alpha, beta = -0.8, 1.2                                     # the bounds in standard deviations
    phi = lambda z: math.exp(-z * z / 2) / math.sqrt(2 * math.pi)
    mass = 0.5 * (math.erf(beta / math.sqrt(2)) - math.erf(alpha / math.sqrt(2)))
    assert abs(values.mean() - 0.5 * (phi(alpha) - phi(beta)) / mass) < 0.005
    with pytest.raises(ValueError, match=r"init.trunc_normal_: \[9.0, 10.0\] holds only"):
        init.trunc_normal_(_tensor(3), a=9.0, b=10.0)
    with pytest.raises(ValueError, match="need std > 0 and a < b"):
        init.trunc_normal_(_tensor(3), a=1.0, b=-1.0)


@pytest.mark.parametrize("shape", [(3, 5), (5, 3), (6, 2, 2)])
def test_orthogonal_gives_orthonormal_rows_or_columns_times_the_gain(shape):
    tinygan.manual_seed(0)
    flat = _values(init.orthogonal_(_tensor(*shape, dtype=np.float64), gain=2.0)).reshape(shape[0], -1)
    gram = flat @ flat.T if flat.shape[0] <= flat.shape[1] else flat.T @ flat
    np.testing.assert_allclose(gram, 4.0 * np.eye(len(gram)), atol=1e-10)
    with pytest.raises(ValueError, match="init.orthogonal_: only tensors with 2 or more dimensions"):
        init.orthogonal_(_tensor(3))


def test_an_initialiser_counts_a_change_of_the_tensor():
    w = nn.Parameter(tinygan.ones(3))
    loss = (w * w).sum()
    with tinygan.no_grad():
        init.normal_(w)
    with pytest.raises(RuntimeError, match="Mul.backward: its input 0"):
        loss.backward()
