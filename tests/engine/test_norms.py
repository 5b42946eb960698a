"""LayerNorm, GroupNorm, InstanceNorm2d and normalize (functional and modules) against NumPy and PyTorch
in float64: outputs, gradients, running statistics, parameters and state_dict keys. Gradient and
gradient-of-gradient checks: tests/engine/test_op_contract.py's SPECS."""
import re

import numpy as np
import pytest

import tinygan.functional as F
from tinygan import Tensor, backend, nn

from torch_compare import compare_with_torch

RNG = np.random.default_rng(0)
IMAGES = RNG.normal(1.0, 2.0, (3, 4, 5, 2))


def tensor(values, requires_grad=False, dtype=np.float64):
    return Tensor(backend.xp().asarray(np.asarray(values, dtype=dtype)), requires_grad=requires_grad)


def host(t):
    return backend.to_numpy(t.array if isinstance(t, Tensor) else t)


def raises(error, *fragments):
    return pytest.raises(error, match=".*".join(re.escape(f) for f in fragments))


def standardized(x, axes, eps=1e-5):
    return (x - x.mean(axis=axes, keepdims=True)) / np.sqrt(x.var(axis=axes, keepdims=True) + eps)


def test_each_norm_standardizes_its_own_set_of_values():
    """Layer: one sample's last dims; group: one sample's channel group; instance: one sample's channel."""
    x = IMAGES
    np.testing.assert_allclose(host(F.layer_norm(tensor(x), (5, 2))), standardized(x, (2, 3)), rtol=1e-12)
    grouped = standardized(x.reshape(3, 2, -1), (2,)).reshape(x.shape)
    np.testing.assert_allclose(host(F.group_norm(tensor(x), 2)), grouped, rtol=1e-12)
    np.testing.assert_allclose(host(F.instance_norm(tensor(x))), standardized(x, (2, 3)), rtol=1e-12)
    np.testing.assert_allclose(host(F.group_norm(tensor(x), 4)), host(F.instance_norm(tensor(x))), rtol=1e-12)


def test_instance_norm_running_statistics_follow_pytorch_formula():
    rm, rv = backend.xp().asarray(np.full(4, 0.5)), backend.xp().asarray(np.full(4, 2.0))
    F.instance_norm(tensor(IMAGES), rm, rv, momentum=0.3)
    per_instance_var = IMAGES.var(axis=(2, 3), ddof=1)                      # unbiased, (N, C)
    np.testing.assert_allclose(host(rm), 0.7 * 0.5 + 0.3 * IMAGES.mean(axis=(2, 3)).mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(host(rv), 0.7 * 2.0 + 0.3 * per_instance_var.mean(axis=0), rtol=1e-12)


def _torch_compare(ours, theirs, x, params=()):
    """Outputs and gradients (input and parameters) of a tinygan layer/op and its torch twin agree."""
    compare_with_torch(ours, theirs, x, params, rtol=1e-12, atol=1e-13, grad_rtol=1e-11, grad_atol=1e-13)


def _layers(torch):
    return {
        "LayerNorm": (nn.LayerNorm((5, 2)), torch.nn.LayerNorm((5, 2)), IMAGES),
        "LayerNorm no bias": (nn.LayerNorm(2, eps=1e-3, bias=False), torch.nn.LayerNorm(2, eps=1e-3, bias=False),
                              IMAGES),
        "LayerNorm no affine": (nn.LayerNorm([2], elementwise_affine=False),
                                torch.nn.LayerNorm([2], elementwise_affine=False), IMAGES),
        "GroupNorm": (nn.GroupNorm(2, 4), torch.nn.GroupNorm(2, 4), IMAGES),
        "GroupNorm no bias": (nn.GroupNorm(2, 4, bias=False), torch.nn.GroupNorm(2, 4, bias=False), IMAGES),
        "GroupNorm 1-d": (nn.GroupNorm(1, 4, affine=False), torch.nn.GroupNorm(1, 4, affine=False), IMAGES[:, :, :, 0]),
        "InstanceNorm2d": (nn.InstanceNorm2d(4), torch.nn.InstanceNorm2d(4), IMAGES),
        "InstanceNorm2d affine": (nn.InstanceNorm2d(4, affine=True), torch.nn.InstanceNorm2d(4, affine=True), IMAGES),
        "InstanceNorm2d unbatched": (nn.InstanceNorm2d(4, affine=True), torch.nn.InstanceNorm2d(4, affine=True),
                                     IMAGES[0]),
    }


LAYER_NAMES = ["LayerNorm", "LayerNorm no bias", "LayerNorm no affine", "GroupNorm", "GroupNorm no bias", "GroupNorm 1-d",
               "InstanceNorm2d", "InstanceNorm2d affine", "InstanceNorm2d unbatched"]


@pytest.mark.parametrize("name", LAYER_NAMES)
def test_layer_matches_pytorch(name):
    torch = pytest.importorskip("torch")
    torch.set_default_dtype(torch.float64)
    try:
        ours, theirs, x = _layers(torch)[name]
        ours.to(np.float64)
        assert list(ours.state_dict()) == list(theirs.state_dict())
        assert [tuple(v.shape) for v in ours.state_dict().values()] == [tuple(v.shape) for v in theirs.state_dict().values()]
        assert repr(ours) == repr(theirs)
        pairs = [(getattr(ours, name), p) for name, p in _twin_items(ours, theirs, torch)]
        _torch_compare(ours, theirs, x, pairs)
    finally:
        torch.set_default_dtype(torch.float32)


def _twin_items(ours, theirs, torch):
    rng = np.random.default_rng(2)
    for p in ours.parameters():
        p.array[...] = backend.xp().asarray(rng.uniform(0.5, 1.5, p.shape))
    theirs.load_state_dict({k: torch.tensor(host(v)) for k, v in ours.state_dict().items()})
    return list(theirs.named_parameters())


def test_instance_norm_with_running_statistics_matches_pytorch_in_training_and_eval():
    torch = pytest.importorskip("torch")
    ours = nn.InstanceNorm2d(4, momentum=0.2, affine=True, track_running_stats=True).to(np.float64)
    theirs = torch.nn.InstanceNorm2d(4, momentum=0.2, affine=True, track_running_stats=True).double()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for step in range(2):
        x = IMAGES * (step + 1)
        _torch_compare(ours, theirs, x)
    for key in ("running_mean", "running_var"):
        np.testing.assert_allclose(host(ours.state_dict()[key]), theirs.state_dict()[key].numpy(), rtol=1e-12)
    ours.eval(), theirs.eval()
    _torch_compare(ours, theirs, IMAGES[:, :, ::-1].copy())


@pytest.mark.parametrize("p, dim", [(2.0, 1), (1.0, 0), (3, -1), (float("inf"), 1)])
def test_normalize_matches_pytorch(p, dim):
    torch = pytest.importorskip("torch")
    x = IMAGES[:, :, :, 0] - 1.0
    _torch_compare(lambda a: F.normalize(a, p=p, dim=dim), lambda b: torch.nn.functional.normalize(b, p=p, dim=dim), x)


@pytest.mark.parametrize("p", [1.0, 2.0, 3.0, float("inf")])
def test_normalize_leaves_a_zero_vector_and_its_gradient_finite(p):
    """At x = 0 the output is x / eps: 0, with gradient w / eps for the output weighting w (as PyTorch)."""
    x = tensor(np.zeros((2, 3)), requires_grad=True)
    w = np.random.default_rng(0).standard_normal((2, 3))
    out = F.normalize(x, p=p, eps=1e-6)
    (out * tensor(w)).sum().backward()
    assert np.all(host(out) == 0)
    np.testing.assert_allclose(host(x.grad), w / 1e-6, rtol=1e-12)


def test_functional_norms_match_pytorch_with_weights():
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional
    w, b = RNG.uniform(0.5, 1.5, 4), RNG.normal(size=4)
    _torch_compare(lambda a: F.group_norm(a, 2, tensor(w), tensor(b), eps=1e-3),
                   lambda x: tf.group_norm(x, 2, torch.tensor(w), torch.tensor(b), eps=1e-3), IMAGES)
    _torch_compare(lambda a: F.instance_norm(a, weight=tensor(w), bias=tensor(b)),
                   lambda x: tf.instance_norm(x, weight=torch.tensor(w), bias=torch.tensor(b)), IMAGES)
    _torch_compare(lambda a: F.layer_norm(a, [2], tensor(w[:2]), tensor(b[:2])),
                   lambda x: tf.layer_norm(x, [2], torch.tensor(w[:2]), torch.tensor(b[:2])), IMAGES)


def test_float32_stays_float32():
    x = tensor(IMAGES, dtype=np.float32)
    for layer in (nn.LayerNorm(2), nn.GroupNorm(2, 4), nn.InstanceNorm2d(4, affine=True, track_running_stats=True)):
        assert layer(x).dtype == np.float32
    assert F.normalize(x).dtype == np.float32


def test_errors_name_the_op_and_the_shapes():
    x = tensor(IMAGES)
    with raises(ValueError, "layer_norm: normalized_shape (5,) must be the last dimensions", "(3, 4, 5, 2)"):
        F.layer_norm(x, 5)
    with raises(ValueError, "layer_norm: weight must have shape (2,)", "got (3,)"):
        F.layer_norm(x, 2, weight=tensor(np.ones(3)))
    with raises(ValueError, "group_norm: the 4 channels", "(3, 4, 5, 2)", "num_groups=3"):
        F.group_norm(x, 3)
    with raises(ValueError, "GroupNorm: num_channels (6) must be divisible by num_groups (4)"):
        nn.GroupNorm(4, 6)
    with raises(ValueError, "GroupNorm(2, 6): expected an input (N, 6, *), got shape (3, 4, 5, 2)"):
        nn.GroupNorm(2, 6)(x)
    with raises(ValueError, "instance_norm: expected more than 1 spatial element when training", "(3, 4, 1, 1)"):
        F.instance_norm(tensor(np.ones((3, 4, 1, 1))))
    with raises(ValueError, "InstanceNorm2d: expected a 3-D (C, H, W) or 4-D (N, C, H, W) input, got shape (3, 4)"):
        nn.InstanceNorm2d(4)(tensor(np.ones((3, 4))))
    with raises(ValueError, "InstanceNorm2d: expected input's size at dim=1 to match num_features (3), but got: 4"):
        nn.InstanceNorm2d(3, affine=True)(x)
    with pytest.warns(UserWarning, match="num_features"):
        nn.InstanceNorm2d(3)(x)
