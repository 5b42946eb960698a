"""The deprecated size_average= and reduce= arguments of the losses, functional and modules, against
torch in float64 where it is installed: the same reduction for every combination (forward and backward),
and PyTorch's deprecation warning."""
import itertools
import warnings

import numpy as np
import pytest

import tinygan.functional as F
from tinygan import Tensor, backend, nn

LEGACY = [dict(size_average=s, reduce=r) for s, r in itertools.product((None, True, False), repeat=2)
          if (s, r) != (None, None)] + [dict(size_average=False, reduction="none"), dict(reduce=True, reduction="sum")]


def device_tensor(array, requires_grad=False):
    return Tensor(backend.to_device(np.asarray(array), backend.current_device()), requires_grad=requires_grad)


def host(t):
    return backend.to_numpy(t.array)


def problem(name, seed=0):
    """(input, target) host arrays fit for the loss `name`; class labels for the two label losses."""
    r = np.random.default_rng(seed)
    x = r.standard_normal((4, 3))
    if name in ("binary_cross_entropy", "BCELoss"):
        return r.uniform(0.05, 0.95, (4, 3)), r.uniform(0, 1, (4, 3))
    if name in ("binary_cross_entropy_with_logits", "BCEWithLogitsLoss"):
        return x, r.uniform(0, 1, (4, 3))
    if name in ("nll_loss", "NLLLoss", "cross_entropy", "CrossEntropyLoss"):
        labels = r.integers(0, 3, 4)
        return (x - np.log(np.exp(x).sum(axis=1, keepdims=True)) if name in ("nll_loss", "NLLLoss") else x), labels
    if name in ("kl_div", "KLDivLoss"):
        q = np.exp(x) / np.exp(x).sum(axis=1, keepdims=True)
        return np.log(q), r.dirichlet(np.ones(3), 4)
    return x, r.standard_normal((4, 3))


def compare(ours_fn, theirs_fn, name, torch):
    x, y = problem(name)
    ours_x = device_tensor(x, requires_grad=True)
    theirs_x = torch.tensor(x, requires_grad=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ours = ours_fn(ours_x, device_tensor(y))
    assert any("deprecated" in str(w.message) for w in caught), "no deprecation warning"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = theirs_fn(theirs_x, torch.from_numpy(y))
    np.testing.assert_allclose(host(ours), theirs.detach().numpy(), rtol=1e-12, atol=1e-15)
    upstream = np.random.default_rng(1).standard_normal(tuple(theirs.shape))
    (ours * device_tensor(upstream)).sum().backward()
    (theirs * torch.from_numpy(upstream)).sum().backward()
    np.testing.assert_allclose(host(ours_x.grad), theirs_x.grad.numpy(), rtol=1e-12, atol=1e-15)


FUNCTIONAL = ["binary_cross_entropy", "binary_cross_entropy_with_logits", "mse_loss", "l1_loss", "nll_loss",
              "cross_entropy", "kl_div"]
MODULES = ["BCELoss", "BCEWithLogitsLoss", "MSELoss", "L1Loss", "NLLLoss", "CrossEntropyLoss", "KLDivLoss"]


def legacy_id(kwargs):
    return ",".join(f"{k}={v}" for k, v in kwargs.items())


@pytest.mark.parametrize("legacy", LEGACY, ids=legacy_id)
@pytest.mark.parametrize("name", FUNCTIONAL)
def test_functional_losses_map_legacy_arguments_as_torch(name, legacy):
    torch = pytest.importorskip("torch")
    compare(lambda x, y: getattr(F, name)(x, y, **legacy),
            lambda x, y: getattr(torch.nn.functional, name)(x, y, **legacy), name, torch)


@pytest.mark.parametrize("legacy", LEGACY, ids=legacy_id)
@pytest.mark.parametrize("name", MODULES)
def test_loss_modules_map_legacy_arguments_as_torch(name, legacy):
    torch = pytest.importorskip("torch")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = getattr(torch.nn, name)(**legacy)
    ours_reduction = []

    def ours_fn(x, y):
        module = getattr(nn, name)(**legacy)
        ours_reduction.append(module.reduction)
        return module(x, y)
    compare(ours_fn, theirs, name, torch)
    assert ours_reduction == [theirs.reduction]


def test_binary_cross_entropy_takes_torchs_positional_weight_and_pos_weight():
    torch = pytest.importorskip("torch")
    x, y = problem("binary_cross_entropy_with_logits")
    weight, pos_weight = np.array([0.5, 1.0, 2.0]), np.array([3.0, 1.0, 0.25])
    compare(lambda a, b: F.binary_cross_entropy_with_logits(a, b, device_tensor(weight), False,
                                                             pos_weight=device_tensor(pos_weight)),
            lambda a, b: torch.nn.functional.binary_cross_entropy_with_logits(
                a, b, torch.from_numpy(weight), False, pos_weight=torch.from_numpy(pos_weight)),
            "binary_cross_entropy_with_logits", torch)
    compare(lambda a, b: F.binary_cross_entropy(a, b, device_tensor(weight), reduce=False),
            lambda a, b: torch.nn.functional.binary_cross_entropy(a, b, torch.from_numpy(weight), reduce=False),
            "binary_cross_entropy", torch)
