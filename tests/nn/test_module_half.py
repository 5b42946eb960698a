"""Module.half(): float16 parameters and buffers, as PyTorch, and float16 all the way through the layers;
against torch where it is installed (the same float16 weights bit for bit, outputs and gradients within
float16's precision)."""
import numpy as np
import pytest

import tinygan
from tinygan import Tensor, backend, nn, optim


def build(nn):
    return nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.BatchNorm2d(4), nn.LeakyReLU(0.2),
                         nn.ConvTranspose2d(4, 3, 4, 2, 1), nn.GroupNorm(1, 3), nn.Tanh(), nn.Flatten(),
                         nn.Linear(3 * 16 * 16, 10), nn.LayerNorm(10), nn.Sigmoid())


def host(t):
    return backend.to_numpy(t.array if isinstance(t, Tensor) else t)


def test_half_casts_floating_parameters_and_buffers_and_trains_in_float16():
    tinygan.manual_seed(0)
    model = build(nn)
    assert model.half() is model
    assert all(p.dtype == np.float16 for p in model.parameters())
    assert model[1].running_mean.dtype == np.float16
    x = Tensor(backend.to_device(np.random.default_rng(0).standard_normal((2, 2, 8, 8)).astype(np.float16),
                                 backend.current_device()))
    y = model(x)
    assert y.dtype == np.float16
    y.sum().backward()
    assert all(p.grad.dtype == np.float16 for p in model.parameters())
    before = host(model[0].weight).copy()
    optim.SGD(model.parameters(), lr=0.1).step()
    assert model[0].weight.dtype == np.float16 and not np.array_equal(host(model[0].weight), before)
    assert model.float()[0].weight.dtype == np.float32


def test_half_matches_torch():
    torch = pytest.importorskip("torch")
    tinygan.manual_seed(1)
    ours, theirs = build(nn).double(), build(torch.nn).double()
    theirs.load_state_dict({k: torch.from_numpy(host(v).copy()) for k, v in ours.state_dict().items()})
    ours.half()
    theirs.half()
    for (key, a), (their_key, b) in zip(ours.state_dict().items(), theirs.state_dict().items()):
        assert key == their_key and host(a).dtype == b.numpy().dtype, key
        np.testing.assert_array_equal(host(a), b.numpy())
    x = np.random.default_rng(2).standard_normal((2, 2, 8, 8)).astype(np.float16)
    ours_x = Tensor(backend.to_device(x, backend.current_device()), requires_grad=True)
    theirs_x = torch.tensor(x, requires_grad=True)
    y, t = ours(ours_x), theirs(theirs_x)
    assert y.dtype == np.float16 and t.dtype == torch.float16
    np.testing.assert_allclose(host(y).astype(np.float64), t.detach().double().numpy(), atol=4e-3)
    y.sum().backward()
    t.sum().backward()
    for ours_grad, theirs_grad in [(ours_x.grad, theirs_x.grad), (ours[0].weight.grad, theirs[0].weight.grad),
                                   (ours[7].weight.grad, theirs[7].weight.grad)]:
        assert ours_grad.dtype == np.float16
        expected = theirs_grad.double().numpy()
        np.testing.assert_allclose(host(ours_grad).astype(np.float64), expected, atol=2e-2 * np.abs(expected).max())
