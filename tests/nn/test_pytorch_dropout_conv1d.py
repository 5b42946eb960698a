"""Conv1d, Dropout1d and Dropout2d, and the inplace= argument of the functional activations, against
torch in float64 where it is installed (forward and backward)."""
import warnings

import numpy as np
import pytest

import tinygan
import tinygan.functional as F
from tinygan import Tensor, backend, nn


def device_tensor(array, requires_grad=False):
    return Tensor(backend.to_device(np.asarray(array), backend.current_device()), requires_grad=requires_grad)


def host(t):
    return backend.to_numpy(t.array if isinstance(t, Tensor) else t)


def rng(seed=0):
    return np.random.default_rng(seed)


# -- conv1d ---------------------------------------------------------------------------------------------

CONV1D = [
    (dict(), (2, 3, 9), (4, 3, 3), True),
    (dict(stride=2, padding=2, dilation=2), (2, 3, 9), (4, 3, 3), True),
    (dict(stride=(3,), padding=(1,)), (1, 2, 10), (5, 2, 4), False),
    (dict(groups=2, padding="same"), (2, 4, 7), (6, 2, 4), True),
    (dict(padding="valid", groups=3), (2, 3, 6), (3, 1, 2), False),
    (dict(padding=1), (3, 8), (2, 3, 3), True),                      # no batch axis
]


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("kwargs, x_shape, w_shape, bias", CONV1D)
def test_conv1d_matches_torch_forward_and_backward(kwargs, x_shape, w_shape, bias):
    torch = pytest.importorskip("torch")
    r = rng(1)
    arrays = [r.standard_normal(x_shape), r.standard_normal(w_shape)]
    arrays += [r.standard_normal(w_shape[0])] if bias else []
    ours = [device_tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    y = F.conv1d(*ours, **kwargs)
    t = torch.nn.functional.conv1d(*theirs, **kwargs)
    np.testing.assert_allclose(host(y), t.detach().numpy(), rtol=1e-12, atol=1e-12)
    upstream = r.standard_normal(tuple(t.shape))
    (y * device_tensor(upstream)).sum().backward()
    (t * torch.from_numpy(upstream)).sum().backward()
    for o, p in zip(ours, theirs):
        np.testing.assert_allclose(host(o.grad), p.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_conv1d_module_has_pytorchs_shapes_init_bound_and_repr():
    torch = pytest.importorskip("torch")
    tinygan.manual_seed(0)
    ours = nn.Conv1d(4, 6, 3, stride=2, padding=1, groups=2, bias=True)
    theirs = torch.nn.Conv1d(4, 6, 3, stride=2, padding=1, groups=2, bias=True)
    assert ours.weight.shape == tuple(theirs.weight.shape) == (6, 2, 3)
    assert ours.bias.shape == (6,)
    bound = 1 / np.sqrt(2 * 3)
    assert np.abs(host(ours.weight)).max() <= bound and np.abs(host(ours.bias)).max() <= bound
    assert repr(ours) == repr(theirs)
    assert repr(nn.Conv1d(2, 3, 5, padding="same", bias=False)) == repr(torch.nn.Conv1d(2, 3, 5, padding="same",
                                                                                         bias=False))
    ours.double()
    theirs.double()
    theirs.load_state_dict({k: torch.from_numpy(host(v).copy()) for k, v in ours.state_dict().items()})
    x = rng(2).standard_normal((2, 4, 11))
    np.testing.assert_allclose(host(ours(device_tensor(x))), theirs(torch.from_numpy(x)).detach().numpy(),
                               rtol=1e-12, atol=1e-12)


def test_conv1d_errors_name_the_op_and_the_shapes():
    x = device_tensor(np.zeros((2, 3, 5)))
    with pytest.raises(ValueError, match=r"conv1d: weight must be 3-D \(out, in/groups, K\), got shape \(4, 3, 1, 3\)"):
        F.conv1d(x, device_tensor(np.zeros((4, 3, 1, 3))))
    with pytest.raises(ValueError, match=r"conv1d: input must be 3-D \(N, C, L\) or 2-D \(C, L\), got shape"):
        F.conv1d(device_tensor(np.zeros((2, 3, 5, 5))), device_tensor(np.zeros((4, 3, 3))))
    with pytest.raises(ValueError, match="padding='same' is not supported for strided"):
        nn.Conv1d(3, 4, 3, stride=2, padding="same")
    with pytest.raises(TypeError, match="Conv1d: kernel_size must be an int or a 1-tuple"):
        nn.Conv1d(3, 4, (3, 3))


# -- Dropout1d and Dropout2d ------------------------------------------------------------------------------

def channels_are_whole(x, y, p):
    """Each channel y[n, c] (y[c] without a batch) is either all 0 or x[n, c] / (1 - p); returns the kept mask."""
    x, y = x.reshape(x.shape[0], x.shape[1], -1), y.reshape(y.shape[0], y.shape[1], -1)
    dropped = np.all(y == 0, axis=2)
    kept = np.all(np.isclose(y, x / (1 - p), rtol=1e-12, atol=0), axis=2)
    assert np.all(dropped | kept)
    return kept


@pytest.mark.parametrize("op, shape", [("dropout1d", (50, 40, 3)), ("dropout1d", (400, 3)),
                                       ("dropout2d", (50, 40, 2, 3)), ("dropout2d", (40, 50, 4))])
def test_channel_dropout_zeroes_whole_channels_as_torch(op, shape):
    torch = pytest.importorskip("torch")
    p = 0.3
    x = rng(3).standard_normal(shape) + 5.0                # no zeros of its own
    tinygan.manual_seed(0)
    ours = device_tensor(x, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)       # dropout2d's warning about 3-D input, as torch's
        y = getattr(F, op)(ours, p)
        t = getattr(torch.nn.functional, op)(torch.from_numpy(x), p)
    view = (lambda a: a[None]) if len(shape) == 2 else (lambda a: a)
    kept_ours = channels_are_whole(view(x), view(host(y)), p)
    kept_theirs = channels_are_whole(view(x), view(t.numpy()), p)
    # the same rule, not the same random numbers: both drop about p of the channels
    assert abs(1 - kept_ours.mean() - p) < 0.06 and abs(1 - kept_theirs.mean() - p) < 0.06
    upstream = rng(4).standard_normal(shape)
    (y * device_tensor(upstream)).sum().backward()
    np.testing.assert_allclose(host(ours.grad), upstream * host(y) / x, rtol=1e-10)


@pytest.mark.parametrize("module", ["Dropout1d", "Dropout2d"])
def test_channel_dropout_modules_in_eval_are_the_identity_and_p_1_zeroes_all(module):
    torch = pytest.importorskip("torch")
    shape = (2, 3, 4) if module == "Dropout1d" else (2, 3, 4, 4)
    x = device_tensor(rng(5).standard_normal(shape))
    layer = getattr(nn, module)(p=0.4)
    assert repr(layer) == repr(getattr(torch.nn, module)(p=0.4))
    assert repr(getattr(nn, module)(inplace=True)) == repr(getattr(torch.nn, module)(inplace=True))
    layer.eval()
    np.testing.assert_array_equal(host(layer(x)), host(x))
    np.testing.assert_array_equal(host(getattr(nn, module)(p=1.0)(x)), np.zeros(shape))


def test_channel_dropout_refuses_what_torch_refuses():
    with pytest.raises(ValueError, match=r"dropout1d: expected a 2-D \(C, L\) or 3-D \(N, C, L\) input, got shape"):
        F.dropout1d(device_tensor(np.ones((2, 3, 4, 5))))
    with pytest.raises(ValueError, match=r"Dropout2d: p must be in \[0, 1\], got 1.5"):
        nn.Dropout2d(1.5)
    with pytest.warns(UserWarning, match="dropout2d: received a 3-D input"):
        F.dropout2d(device_tensor(np.ones((2, 3, 4))))
    with pytest.warns(UserWarning, match="dropout2d: received a 5-D input"):
        F.dropout2d(device_tensor(np.ones((2, 3, 4, 1, 1))))


# -- inplace= on the functional activations and dropout --------------------------------------------------

@pytest.mark.parametrize("call", [
    lambda F, x: F.relu(x, inplace=True),
    lambda F, x: F.leaky_relu(x, 0.2, inplace=True),
    lambda F, x: F.leaky_relu(x, negative_slope=0.1, inplace=False),
    lambda F, x: F.elu(x, inplace=True),
    lambda F, x: F.silu(x, inplace=True),
    lambda F, x: F.dropout(x, 0.5, training=False, inplace=True),
    lambda F, x: F.dropout2d(x, 0.5, training=False, inplace=True),
], ids=["relu", "leaky_relu", "leaky_relu (not inplace)", "elu", "silu", "dropout", "dropout2d"])
def test_inplace_calls_return_what_torch_returns(call):
    """PyTorch code uses the returned tensor; tinygan returns the same values, computed out of place."""
    torch = pytest.importorskip("torch")
    x = rng(6).standard_normal((2, 3, 2, 2))
    ours = device_tensor(x, requires_grad=True)
    y = call(F, ours * 1.0)
    theirs = torch.tensor(x, requires_grad=True)
    t = call(torch.nn.functional, theirs * 1.0)
    np.testing.assert_allclose(host(y), t.detach().numpy(), rtol=1e-12)
    y.sum().backward()
    t.sum().backward()
    np.testing.assert_allclose(host(ours.grad), theirs.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("module", [lambda nn: nn.ReLU(inplace=True), lambda nn: nn.LeakyReLU(0.2, inplace=True),
                                    lambda nn: nn.ELU(inplace=True), lambda nn: nn.SiLU(inplace=True)])
def test_inplace_modules_match_torch(module):
    torch = pytest.importorskip("torch")
    x = rng(7).standard_normal((3, 4))
    np.testing.assert_allclose(host(module(nn)(device_tensor(x))), module(torch.nn)(torch.from_numpy(x)).numpy(),
                               rtol=1e-12)
