"""More of PyTorch's layers and functions: ReLU6, Hardswish, Hardsigmoid, SELU, CELU, GLU, Softsign, Tanhshrink,
Threshold, Hardshrink, Softshrink, RMSNorm, PixelUnshuffle, Unfold, Fold, CosineSimilarity, PairwiseDistance,
UpsamplingNearest2d, UpsamplingBilinear2d, InstanceNorm1d and F.gumbel_softmax.

Outputs and gradients equal PyTorch's in float64 (at the kinks too), reprs, defaults and state_dict names are
PyTorch's, and bad input gets an error that names the operation. The gradient checks (central differences,
gradients of gradients) are in tests/engine/test_op_contract.py.
"""
import importlib

import numpy as np
import pytest

import tinygan
import tinygan.functional as F
from tinygan import backend, nn

from torch_compare import assert_outputs_and_gradients_equal_pytorchs, outputs_and_gradients

try:                                       # PyTorch is the reference where it is installed, never a dependency
    import torch
except ImportError:
    torch = None
needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch (the reference) is not installed")
softmax_module = importlib.import_module("tinygan.functional.softmax")   # F.softmax is the function of that name


def host(t):
    return backend.to_numpy(t.array)


def tensor(array, requires_grad=False):
    return tinygan.tensor(backend.to_device(np.asarray(array), backend.current_device()), requires_grad=requires_grad)


def _inputs(rng):
    return {"a": 4.0 * rng.standard_normal((2, 3, 4)), "b": rng.standard_normal((2, 3, 4)),
            "s": rng.standard_normal((2, 2, 4, 6)), "c": rng.standard_normal((2, 12, 5))}


# name -> call(module, functional, inputs), the same code for tinygan and torch
FUNCTIONS = {
    "relu6": lambda t, f, x: f.relu6(x["a"]),
    "hardswish": lambda t, f, x: f.hardswish(x["a"]),
    "selu": lambda t, f, x: f.selu(x["a"]),
    "celu": lambda t, f, x: f.celu(x["a"]),
    "celu (alpha 0.5)": lambda t, f, x: f.celu(x["a"], alpha=0.5),
    "glu": lambda t, f, x: f.glu(x["a"]),
    "glu (dim 1)": lambda t, f, x: f.glu(x["c"], dim=1),
    "softsign": lambda t, f, x: f.softsign(x["a"]),
    "tanhshrink": lambda t, f, x: f.tanhshrink(x["a"]),
    "threshold": lambda t, f, x: f.threshold(x["a"], 0.5, -2.0),
    "hardshrink": lambda t, f, x: f.hardshrink(x["a"], 1.5),
    "softshrink": lambda t, f, x: f.softshrink(x["a"], 1.5),
    "rms_norm": lambda t, f, x: f.rms_norm(x["a"], (3, 4), x["b"][0], eps=1e-3),
    "rms_norm (defaults)": lambda t, f, x: f.rms_norm(x["a"], [4]),
    "pixel_unshuffle": lambda t, f, x: f.pixel_unshuffle(x["s"], 2),
    "pixel_unshuffle (3-D)": lambda t, f, x: f.pixel_unshuffle(x["s"][0], 2),
    "pairwise_distance": lambda t, f, x: f.pairwise_distance(x["a"], x["b"]),
    "pairwise_distance (p=1, keepdim)": lambda t, f, x: f.pairwise_distance(x["a"], x["b"], 1, 1e-3, True),
    "pairwise_distance (p=3, broadcast)": lambda t, f, x: f.pairwise_distance(x["a"], x["b"][0, 0], p=3),
    "pairwise_distance (p=0.5)": lambda t, f, x: f.pairwise_distance(x["a"], x["b"], p=0.5),
    "pairwise_distance (p=-1)": lambda t, f, x: f.pairwise_distance(x["a"], x["b"], p=-1),
    "pairwise_distance (p=inf)": lambda t, f, x: f.pairwise_distance(x["a"], x["b"], p=float("inf")),
    "pairwise_distance (p=0, plus a)": lambda t, f, x: f.pairwise_distance(x["a"], x["b"], p=0) + x["a"].sum(),
    "pairwise_distance (1-D)": lambda t, f, x: f.pairwise_distance(x["a"][0, 0], x["b"][0, 0]),
    "pairwise_distance (equal inputs)": lambda t, f, x: f.pairwise_distance(x["b"], x["b"]),
}


@needs_torch
@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_functions_equal_pytorchs(name):
    assert_outputs_and_gradients_equal_pytorchs(FUNCTIONS[name], _inputs(np.random.default_rng(0)))


@needs_torch
def test_hardsigmoid_equals_pytorchs():
    """Values equal PyTorch's; its gradient is 1/6 in float64, where PyTorch's float64 kernel uses the float32
    constant 1.0f / 6.0f (0.1666666716...), so PyTorch's gradient agrees to float32 precision only."""
    values = _inputs(np.random.default_rng(0))
    ours, theirs = (outputs_and_gradients(lambda t, f, x: f.hardsigmoid(x["a"]), values, module, functional)
                    for module, functional in ((tinygan, F), (torch, torch.nn.functional)))
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-7)
    inside = np.abs(values["a"]) < 3
    weights = np.random.default_rng(1).standard_normal(values["a"].shape)
    np.testing.assert_allclose(ours[1], np.where(inside, weights / 6, 0.0), rtol=1e-15)


KINKS = [-4.0, -3.0, -1.5, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 3.0, 4.0, 6.0, 7.0]
AT_KINKS = {
    "relu6": lambda f, x: f.relu6(x),                       # 0 and 6
    "hardswish": lambda f, x: f.hardswish(x),               # -3 and 3
    "hardsigmoid": lambda f, x: f.hardsigmoid(x),           # -3 and 3
    "selu": lambda f, x: f.selu(x),                         # 0
    "celu": lambda f, x: f.celu(x, 1.5),                    # 0
    "softsign": lambda f, x: f.softsign(x),                 # 0
    "threshold": lambda f, x: f.threshold(x, 1.0, -2.0),    # 1
    "hardshrink": lambda f, x: f.hardshrink(x, 1.5),        # -1.5 and 1.5
    "softshrink": lambda f, x: f.softshrink(x, 0.5),        # -0.5 and 0.5
    "pairwise_distance": lambda f, x: f.pairwise_distance(x.reshape(-1, 1), -x.reshape(-1, 1) * 0, p=1,
                                                          eps=0.5),   # |x + 0.5|: 0 at x = -0.5
}


@needs_torch
@pytest.mark.parametrize("name", sorted(AT_KINKS))
def test_values_and_gradients_at_the_kinks_are_pytorchs(name):
    """At a kink PyTorch picks one of the one-sided derivatives (relu6' is 0 at 0 and 6, hardswish' is 0 at -3
    and 1 at 3, the shrinks and threshold have 0 at their thresholds, selu' and celu' take the left side at 0)."""
    results = []
    for module, functional in ((tinygan, F), (torch, torch.nn.functional)):
        x = module.tensor(KINKS, dtype=module.float64, requires_grad=True)
        y = AT_KINKS[name](functional, x)
        y.sum().backward()
        results.append((np.asarray(y.detach().numpy()), np.asarray(x.grad.numpy())))
    (y, grad), (their_y, their_grad) = results
    np.testing.assert_allclose(y, their_y, rtol=1e-12, atol=1e-15)
    rtol = 1e-7 if name == "hardsigmoid" else 1e-12     # PyTorch's float32 1/6 (see test_hardsigmoid_equals_pytorchs)
    np.testing.assert_allclose(grad, their_grad, rtol=rtol, atol=1e-15)


def test_relu6_and_hardswish_gradients_at_their_kinks():
    x = tensor([0.0, 6.0, -3.0, 3.0], requires_grad=True)
    F.relu6(x[:2]).sum().backward()
    assert host(x.grad).tolist() == [0.0, 0.0, 0.0, 0.0]
    x.grad = None
    F.hardswish(x[2:]).sum().backward()
    assert host(x.grad).tolist() == [0.0, 0.0, 0.0, 1.0]


def test_pixel_unshuffle_inverts_pixel_shuffle():
    x = tensor(np.random.default_rng(2).standard_normal((2, 12, 3, 2)))
    np.testing.assert_array_equal(host(F.pixel_unshuffle(F.pixel_shuffle(x, 2), 2)), host(x))
    blocks = tensor(np.arange(16.0).reshape(1, 1, 4, 4))
    np.testing.assert_array_equal(host(F.pixel_unshuffle(blocks, 2))[0, :, 0, 0], [0.0, 1.0, 4.0, 5.0])


# -- Gumbel-softmax: the same noise as PyTorch's ---------------------------------------------------------------

def _torch_gumbel_softmax_and_its_noise(logits, seed, **options):
    """PyTorch's gumbel_softmax of `logits` after torch.manual_seed(seed), and the Gumbel noise it drew (PyTorch
    draws -log E with E from exponential_(), first thing)."""
    torch.manual_seed(seed)
    result = torch.nn.functional.gumbel_softmax(logits, **options)
    torch.manual_seed(seed)
    noise = -torch.empty_like(logits).exponential_().log()
    return result, noise.numpy()


@needs_torch
@pytest.mark.parametrize("tau, hard, dim", [(1, False, -1), (0.5, False, 0), (2.0, True, -1), (0.7, True, 1)])
def test_gumbel_softmax_equals_pytorchs_for_the_same_noise(monkeypatch, tau, hard, dim):
    logits = np.random.default_rng(3).standard_normal((3, 4, 5))
    their_logits = torch.tensor(logits, requires_grad=True)
    theirs, noise = _torch_gumbel_softmax_and_its_noise(their_logits, 7, tau=tau, hard=hard, dim=dim)
    monkeypatch.setattr(softmax_module, "_gumbel_noise", lambda x: tensor(noise))
    ours_logits = tensor(logits, requires_grad=True)
    ours = F.gumbel_softmax(ours_logits, tau=tau, hard=hard, dim=dim)
    weights = np.random.default_rng(4).standard_normal(logits.shape)
    (ours * tensor(weights)).sum().backward()
    (theirs * torch.tensor(weights)).sum().backward()
    np.testing.assert_allclose(host(ours), theirs.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(host(ours_logits.grad), their_logits.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_gumbel_softmax_hard_is_one_hot_with_the_soft_gradient():
    """hard=True: the value is the one-hot vector of the soft sample's largest entry, and the gradient is the
    soft sample's (straight-through)."""
    logits = tensor(np.random.default_rng(5).standard_normal((4, 6)), requires_grad=True)
    weights = tensor(np.random.default_rng(6).standard_normal((4, 6)))
    tinygan.manual_seed(11)
    hard = F.gumbel_softmax(logits, tau=0.5, hard=True)
    (hard * weights).sum().backward()
    hard_grad = host(logits.grad).copy()
    logits.grad = None
    tinygan.manual_seed(11)
    soft = F.gumbel_softmax(logits, tau=0.5)
    (soft * weights).sum().backward()
    one_hot = np.eye(6)[host(soft).argmax(axis=1)]
    np.testing.assert_allclose(host(hard), one_hot, atol=1e-15)
    np.testing.assert_allclose(hard_grad, host(logits.grad), rtol=1e-12)


def test_gumbel_softmax_draws_from_the_seeded_generator():
    logits = tensor(np.zeros((2, 5)))
    tinygan.manual_seed(3)
    first = host(F.gumbel_softmax(logits))
    tinygan.manual_seed(3)
    np.testing.assert_array_equal(host(F.gumbel_softmax(logits)), first)
    assert not np.array_equal(host(F.gumbel_softmax(logits)), first)
    np.testing.assert_allclose(first.sum(axis=-1), 1.0, rtol=1e-6)


def test_gumbel_softmax_warns_that_eps_has_no_effect():
    with pytest.warns(UserWarning, match="gumbel_softmax: `eps` parameter is deprecated and has no effect"):
        F.gumbel_softmax(tensor(np.zeros((2, 3))), eps=1e-3)


# -- modules: reprs, defaults, state_dict names, outputs and gradients against PyTorch --------------------------

MODULES = {
    "ReLU6": (lambda nn: nn.ReLU6(), "a"),
    "ReLU6 (inplace)": (lambda nn: nn.ReLU6(inplace=True), "a"),
    "Hardswish": (lambda nn: nn.Hardswish(), "a"),
    "Hardswish (inplace)": (lambda nn: nn.Hardswish(True), "a"),
    "Hardsigmoid": (lambda nn: nn.Hardsigmoid(), "a"),
    "SELU": (lambda nn: nn.SELU(), "a"),
    "SELU (inplace)": (lambda nn: nn.SELU(inplace=True), "a"),
    "CELU": (lambda nn: nn.CELU(), "a"),
    "CELU (alpha, inplace)": (lambda nn: nn.CELU(0.5, True), "a"),
    "GLU": (lambda nn: nn.GLU(), "a"),
    "GLU (dim 1)": (lambda nn: nn.GLU(1), "c"),
    "Softsign": (lambda nn: nn.Softsign(), "a"),
    "Tanhshrink": (lambda nn: nn.Tanhshrink(), "a"),
    "Threshold": (lambda nn: nn.Threshold(0.1, 20), "a"),
    "Threshold (inplace)": (lambda nn: nn.Threshold(0.1, 20.0, True), "a"),
    "Hardshrink": (lambda nn: nn.Hardshrink(), "a"),
    "Softshrink": (lambda nn: nn.Softshrink(1.5), "a"),
    "RMSNorm": (lambda nn: nn.RMSNorm(4), "a"),
    "RMSNorm (two dimensions, eps, no weight)": (lambda nn: nn.RMSNorm([3, 4], eps=1e-5, elementwise_affine=False),
                                                 "a"),
    "PixelUnshuffle": (lambda nn: nn.PixelUnshuffle(2), "s"),
    "Unfold": (lambda nn: nn.Unfold(2), "s"),
    "Unfold (all arguments)": (lambda nn: nn.Unfold((2, 3), 2, (1, 0), 2), "s"),
    "Fold": (lambda nn: nn.Fold((4, 5), 2), "f"),
    "Fold (all arguments)": (lambda nn: nn.Fold(4, (2, 1), 1, 1, (2, 1)), "g"),
    "UpsamplingNearest2d": (lambda nn: nn.UpsamplingNearest2d(scale_factor=2), "s"),
    "UpsamplingNearest2d (size)": (lambda nn: nn.UpsamplingNearest2d(size=(5, 7)), "s"),
    "UpsamplingBilinear2d": (lambda nn: nn.UpsamplingBilinear2d(scale_factor=2), "s"),
    "UpsamplingBilinear2d (size)": (lambda nn: nn.UpsamplingBilinear2d((3, 9)), "s"),
    "InstanceNorm1d": (lambda nn: nn.InstanceNorm1d(3), "a"),
    "InstanceNorm1d (unbatched)": (lambda nn: nn.InstanceNorm1d(3), "u"),
    "InstanceNorm1d (affine, running statistics)": (
        lambda nn: nn.InstanceNorm1d(3, eps=1e-3, momentum=0.3, affine=True, track_running_stats=True), "a"),
}
MODULE_INPUTS = {"a": (2, 3, 4), "c": (2, 12, 5), "s": (2, 2, 4, 6), "f": (2, 8, 12), "g": (2, 6, 18), "u": (3, 5)}


@needs_torch
@pytest.mark.parametrize("name", sorted(MODULES))
def test_modules_equal_pytorchs_in_repr_state_output_and_gradient(name):
    make, key = MODULES[name]
    theirs, ours = make(torch.nn).double(), make(nn).double()
    assert repr(ours) == repr(theirs)
    assert [(k, tuple(v.shape)) for k, v in ours.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in theirs.state_dict().items()]
    with torch.no_grad():                                 # weights other than their initial ones
        for p in theirs.parameters():
            p.copy_(torch.from_numpy(np.random.default_rng(8).standard_normal(tuple(p.shape))))
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    x = 4.0 * np.random.default_rng(9).standard_normal(MODULE_INPUTS[key])
    mine, their_x = tensor(x, requires_grad=True), torch.from_numpy(x).requires_grad_()
    y, their_y = ours(mine), theirs(their_x.clone())           # a clone, which inplace=True may overwrite
    weighting = np.random.default_rng(4).standard_normal(tuple(their_y.shape))
    y.backward(tensor(weighting))
    their_y.backward(torch.from_numpy(weighting))
    np.testing.assert_allclose(host(y), their_y.detach().numpy(), rtol=1e-12, atol=1e-12)
    rtol = 1e-7 if name == "Hardsigmoid" else 1e-12     # PyTorch's float32 1/6 (see test_hardsigmoid_equals_pytorchs)
    np.testing.assert_allclose(host(mine.grad), their_x.grad.numpy(), rtol=rtol, atol=1e-12)
    for (name, p), their_p in zip(ours.named_parameters(), theirs.parameters()):
        np.testing.assert_allclose(host(p.grad), their_p.grad.numpy(), rtol=1e-12, atol=1e-12, err_msg=name)
    for (name, b), their_b in zip(ours.named_buffers(), theirs.buffers()):
        np.testing.assert_allclose(host(b), their_b.numpy(), rtol=1e-12, atol=1e-12, err_msg=name)


@needs_torch
def test_instance_norm1d_evaluates_with_its_running_statistics_as_pytorch():
    ours, theirs = (module.InstanceNorm1d(3, track_running_stats=True).double() for module in (nn, torch.nn))
    batches = [np.random.default_rng(seed).standard_normal((4, 3, 6)) for seed in (1, 2)]
    for x in batches:
        ours(tensor(x)), theirs(torch.from_numpy(x))
    ours.eval(), theirs.eval()
    with torch.no_grad():
        expected = theirs(torch.from_numpy(batches[0])).numpy()
    np.testing.assert_allclose(host(ours(tensor(batches[0]))), expected, rtol=1e-12, atol=1e-12)


@needs_torch
@pytest.mark.parametrize("name", ["CosineSimilarity", "PairwiseDistance"])
@pytest.mark.parametrize("arguments", [{}, "all"])
def test_distance_modules_equal_pytorchs(name, arguments):
    if arguments == "all":
        arguments = {"dim": 2, "eps": 1e-3} if name == "CosineSimilarity" else {"p": 1.0, "eps": 1e-3, "keepdim": True}
    values = _inputs(np.random.default_rng(0))
    assert_outputs_and_gradients_equal_pytorchs(lambda t, f, x: getattr(t.nn, name)(**arguments)(x["a"], x["b"]), values)
    assert repr(getattr(nn, name)(**arguments)) == repr(getattr(torch.nn, name)(**arguments))


@needs_torch
def test_defaults_are_pytorchs():
    for name, attributes in [("CELU", ["alpha", "inplace"]), ("GLU", ["dim"]), ("Hardshrink", ["lambd"]),
                             ("Softshrink", ["lambd"]), ("RMSNorm", ["eps", "elementwise_affine"]),
                             ("CosineSimilarity", ["dim", "eps"]), ("PairwiseDistance", ["norm", "eps", "keepdim"]),
                             ("UpsamplingBilinear2d", ["align_corners", "mode"]),
                             ("UpsamplingNearest2d", ["align_corners", "mode"]),
                             ("InstanceNorm1d", ["eps", "momentum", "affine", "track_running_stats"])]:
        args = {"RMSNorm": (4,), "InstanceNorm1d": (3,)}.get(name, ())
        extra = {"scale_factor": 2} if name.startswith("Upsampling") else {}
        ours, theirs = getattr(nn, name)(*args, **extra), getattr(torch.nn, name)(*args, **extra)
        for attribute in attributes:
            assert getattr(ours, attribute) == getattr(theirs, attribute), (name, attribute)


@needs_torch
def test_rms_norm_has_pytorchs_parameters_and_state_dict():
    norm = nn.RMSNorm((2, 3))
    assert [name for name, _ in norm.named_parameters()] == ["weight"] == list(norm.state_dict())
    assert norm.weight.shape == (2, 3) and (host(norm.weight) == 1).all() and norm.eps is None
    bare = nn.RMSNorm(3, elementwise_affine=False)
    assert bare.weight is None and list(bare.parameters()) == [] and list(bare.state_dict()) == []
    ours = nn.RMSNorm(3)
    ours.load_state_dict({k: v.numpy() for k, v in torch.nn.RMSNorm(3).state_dict().items()})


@needs_torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_rms_norm_eps_none_is_the_machine_epsilon_of_the_dtype(dtype):
    """A zero vector: its mean square is 0, so y = x / sqrt(eps) tells eps (here x = 1e-4 over one element)."""
    x = np.array([[1e-4]], dtype=dtype)
    eps = np.finfo(dtype).eps
    np.testing.assert_allclose(host(F.rms_norm(tensor(x), (1,))), x / np.sqrt(x * x + eps), rtol=1e-6)
    expected = torch.nn.functional.rms_norm(torch.from_numpy(x), (1,)).numpy()
    np.testing.assert_allclose(host(F.rms_norm(tensor(x), (1,))), expected, rtol=1e-6)


# -- errors --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("call, error, message", [
    (lambda: F.glu(tinygan.ones(2, 3), 1), ValueError,
     r"glu: halving dimension must be even, but dimension 1 is size 3"),
    (lambda: F.glu(tinygan.ones(2, 4), 2), IndexError, r"glu: dimension out of range"),
    (lambda: F.glu(tinygan.tensor(1.0)), ValueError, r"glu: expects a tensor of at least 1 dimension"),
    (lambda: F.celu(tinygan.ones(2), alpha=0.0), ValueError, r"celu: alpha must not be 0, got 0.0"),
    (lambda: F.softshrink(tinygan.ones(2), -0.5), ValueError, r"softshrink: lambd must be >= 0, got -0.5"),
    (lambda: F.rms_norm(tinygan.ones(2, 3), (4,)), ValueError,
     r"rms_norm: normalized_shape \(4,\) must be the last dimensions of the input, got input of shape \(2, 3\)"),
    (lambda: F.rms_norm(tinygan.ones(2, 3), (3,), tinygan.ones(2)), ValueError,
     r"rms_norm: weight must have shape \(3,\) for an input of shape \(2, 3\), got \(2,\)"),
    (lambda: nn.RMSNorm(3)(tinygan.ones(2, 4)), ValueError, r"rms_norm: normalized_shape \(3,\) must be the last"),
    (lambda: F.pixel_unshuffle(tinygan.ones(1, 2, 3, 4), 2), ValueError,
     r"pixel_unshuffle: expects \(\*, C, H \* 2, W \* 2\) .* got shape \(1, 2, 3, 4\) and factor 2"),
    (lambda: F.pixel_unshuffle(tinygan.ones(4, 4), 2), ValueError, r"pixel_unshuffle: .* got shape \(4, 4\)"),
    (lambda: F.pixel_unshuffle(tinygan.ones(1, 4, 4), 0), ValueError, r"pixel_unshuffle: .* factor 0"),
    (lambda: F.pairwise_distance(tinygan.ones(2, 3), tinygan.ones(4)), ValueError,
     r"sub: shapes \(2, 3\) and \(4,\) cannot be broadcast together"),
    (lambda: F.gumbel_softmax(tinygan.ones(2, 3), tau=0), ValueError, r"gumbel_softmax: tau must be > 0, got 0"),
    (lambda: nn.InstanceNorm1d(3)(tinygan.ones(1, 3, 4, 4)), ValueError,
     r"InstanceNorm1d: expected a 2-D \(C, L\) or 3-D \(N, C, L\) input, got shape \(1, 3, 4, 4\)"),
    (lambda: nn.InstanceNorm1d(3, affine=True)(tinygan.ones(2, 4, 5)), ValueError,
     r"InstanceNorm1d: expected input's size at dim=1 to match num_features \(3\), but got: 4"),
    (lambda: nn.InstanceNorm2d(3)(tinygan.ones(3, 4)), ValueError,
     r"InstanceNorm2d: expected a 3-D \(C, H, W\) or 4-D \(N, C, H, W\) input, got shape \(3, 4\)"),
])
def test_bad_input_is_named(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_hardtanh_at_its_bounds_has_pytorchs_gradient_0():
    torch = pytest.importorskip("torch")
    x = np.array([-1.0, -0.5, 1.0, 2.0, 0.3, -0.25])
    ours = tinygan.tensor(x, requires_grad=True)
    theirs = torch.tensor(x, requires_grad=True)
    F.hardtanh(ours, -1.0, 1.0).sum().backward()
    nn.Hardtanh(-0.25, 1.0)(ours).sum().backward()
    torch.nn.functional.hardtanh(theirs, -1.0, 1.0).sum().backward()
    torch.nn.Hardtanh(-0.25, 1.0)(theirs).sum().backward()
    np.testing.assert_array_equal(backend.to_numpy(ours.grad.array), theirs.grad.numpy())


def test_pairwise_distance_of_identical_points_has_gradient_0_as_in_pytorch():
    torch = pytest.importorskip("torch")
    x = np.array([[1.0, 2.0, 3.0], [0.5, -1.0, 2.0]])
    y = x.copy()
    y[1] += 0.25
    for p in (2.0, 1.0, 3.0):
        ours = tinygan.tensor(x, requires_grad=True)
        theirs = torch.tensor(x, requires_grad=True)
        F.pairwise_distance(ours, tinygan.tensor(y), p=p, eps=0.0).sum().backward()
        torch.nn.functional.pairwise_distance(theirs, torch.tensor(y), p=p, eps=0.0).sum().backward()
        np.testing.assert_allclose(backend.to_numpy(ours.grad.array), theirs.grad.numpy(), rtol=1e-12, atol=1e-15)
        assert np.isfinite(backend.to_numpy(ours.grad.array)).all()
