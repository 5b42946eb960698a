"""softmax, log_softmax, GELU, SiLU, ELU and their modules: against math.erfc and PyTorch (float64), at
extreme values, and in float32. Gradients and gradients of gradients: tests/engine/test_op_contract.py's SPECS."""
import math
import warnings

import numpy as np
import pytest

import tinygan.functional as F
from tinygan import Tensor, backend, nn
from tinygan.functional._special import erfc

from torch_compare import compare_with_torch


def tensor(values, dtype=np.float64, requires_grad=False):
    return Tensor(backend.xp().asarray(np.asarray(values, dtype=dtype)), requires_grad=requires_grad)


def host(t):
    return backend.to_numpy(t.array)


def test_erfc_matches_math_erfc():
    z = np.concatenate([np.linspace(-8, 8, 4001), np.linspace(0.95, 1.05, 101), [0.0, 1e-300, 27.0, -27.0]])
    got = backend.to_numpy(erfc(backend.xp().asarray(z)))
    expected = np.array([math.erfc(v) for v in z])
    np.testing.assert_allclose(got, expected, rtol=1e-14, atol=0)
    special = backend.to_numpy(erfc(backend.xp().asarray([np.inf, -np.inf, np.nan])))
    assert special[0] == 0 and special[1] == 2 and np.isnan(special[2])


def test_normal_cdf_keeps_its_digits_far_in_the_left_tail():
    """GELU(-30) = -30 Phi(-30) is about -1.5e-196; the 1 + erf form would give exactly 0."""
    expected = -30 * 0.5 * math.erfc(30 / math.sqrt(2))
    assert F.gelu(tensor([-30.0])).item() == pytest.approx(expected, rel=1e-13)


def test_softmax_never_overflows_and_log_softmax_keeps_tiny_probabilities():
    x = tensor([[1000.0, 1001.0], [-1000.0, 0.0]])
    np.testing.assert_allclose(host(F.softmax(x, dim=1)), [[1 / (1 + math.e), math.e / (1 + math.e)], [0.0, 1.0]])
    assert host(F.log_softmax(x, dim=1))[1, 0] == pytest.approx(-1000.0, rel=1e-15)  # softmax rounds it to 0


def test_softmax_rows_sum_to_one_and_log_softmax_is_its_log():
    x = tensor(np.random.default_rng(0).normal(0, 3, (4, 5, 2)))
    p = host(F.softmax(x, dim=1))
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-14)
    np.testing.assert_allclose(host(F.log_softmax(x, dim=1)), np.log(p), rtol=1e-12)


def test_softmax_without_dim_warns_and_picks_pytorchs_dimension():
    x = tensor(np.arange(6.0).reshape(2, 3))
    with pytest.warns(UserWarning, match="implicit dimension"):
        p = F.softmax(x)
    np.testing.assert_allclose(host(p).sum(axis=1), 1.0)  # dim 1 for a 2-D input, as in PyTorch


def test_bad_input():
    with pytest.raises(IndexError, match=r"softmax: dim 2 is out of range for an input of shape \(2, 3\)"):
        F.softmax(tensor(np.ones((2, 3))), dim=2)
    with pytest.raises(TypeError, match="log_softmax: input must be floating point, got dtype int64"):
        F.log_softmax(Tensor(np.arange(3)), dim=0)
    with pytest.raises(ValueError, match="gelu: approximate must be 'none' or 'tanh', got 'erf'"):
        F.gelu(tensor([1.0]), approximate="erf")
    with pytest.raises(ValueError, match="GELU: approximate must be"):
        nn.GELU("fast")


@pytest.mark.parametrize("fn", [lambda F, x: F.softmax(x, dim=0), lambda F, x: F.log_softmax(x, dim=1),
                                lambda F, x: F.gelu(x), lambda F, x: F.silu(x), lambda F, x: F.elu(x, 0.5)],
                         ids=["softmax", "log_softmax", "gelu", "silu", "elu"])
def test_float32_stays_float32(fn):
    assert fn(F, tensor(np.ones((2, 3)), dtype=np.float32)).dtype == np.float32


def test_softmax_dtype_argument_casts_first_and_the_gradient_comes_back_in_the_input_dtype():
    x = tensor(np.array([[1.0, 2.0, 3.0]]), dtype=np.float32, requires_grad=True)
    y = F.softmax(x, dim=1, dtype=np.float64)
    assert y.dtype == np.float64
    (y * tensor([[1.0, 0.0, 0.0]])).sum().backward()
    assert x.grad.dtype == np.float32


# -- against PyTorch, float64 --------------------------------------------------------------------------

CASES = {  # name: (tinygan, torch (given the module torch.nn.functional), input shape)
    "softmax": (lambda x: F.softmax(x, dim=1), lambda tf, x: tf.softmax(x, dim=1), (3, 5, 2)),
    "log_softmax": (lambda x: F.log_softmax(x, dim=-1), lambda tf, x: tf.log_softmax(x, dim=-1), (4, 6)),
    "gelu": (F.gelu, lambda tf, x: tf.gelu(x), (50,)),
    "gelu-tanh": (lambda x: F.gelu(x, approximate="tanh"), lambda tf, x: tf.gelu(x, approximate="tanh"), (50,)),
    "silu": (F.silu, lambda tf, x: tf.silu(x), (50,)),
    "elu": (lambda x: F.elu(x, alpha=0.3), lambda tf, x: tf.elu(x, alpha=0.3), (50,)),
    "Softmax": (nn.Softmax(dim=0), lambda tf, x: tf.softmax(x, dim=0), (4, 3)),
    "LogSoftmax": (nn.LogSoftmax(dim=1), lambda tf, x: tf.log_softmax(x, dim=1), (4, 3)),
    "GELU": (nn.GELU(), lambda tf, x: tf.gelu(x), (4, 3)),
    "GELU-tanh": (nn.GELU("tanh"), lambda tf, x: tf.gelu(x, approximate="tanh"), (4, 3)),
    "SiLU": (nn.SiLU(inplace=True), lambda tf, x: tf.silu(x), (4, 3)),
    "ELU": (nn.ELU(alpha=2.0, inplace=True), lambda tf, x: tf.elu(x, alpha=2.0), (4, 3)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_pytorch(name):
    torch = pytest.importorskip("torch")
    ours, theirs, shape = CASES[name]
    x = np.random.default_rng(len(name)).normal(0.0, 3.0, shape)
    compare_with_torch(ours, lambda b: theirs(torch.nn.functional, b), x)


def test_inplace_is_accepted_and_the_input_is_left_alone():
    x = tensor([-1.0, 0.5, 2.0])
    before = host(x).copy()
    for layer in (nn.ReLU(inplace=True), nn.LeakyReLU(0.2, inplace=True), nn.ELU(inplace=True),
                  nn.SiLU(inplace=True), nn.Dropout(0.5, inplace=True)):
        assert layer.inplace
        layer(x)
        np.testing.assert_array_equal(host(x), before)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert repr(nn.ReLU(True)) == "ReLU(inplace=True)" and repr(nn.ReLU()) == "ReLU()"
