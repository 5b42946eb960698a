"""No silent promotion: float32 inputs give float32 outputs and float32 gradients, for every op; integers meeting
floats give PyTorch's dtypes.

NumPy 2 (NEP 50) promotes float32 arrays combined with NumPy float64 *scalars* or arrays to float64;
tinygan must keep a float32 model float32 even when a formula multiplies by np.float64(2.0), divides
by a Python number, or compares with a float64 target array. And float64 must stay float64.
"""
import numpy as np
import pytest

import tinygan
import tinygan.functional as F
from tinygan import Tensor, backend, kernels, nn


def _np64(value):
    return np.float64(value)


def _host64(*shape, seed=0):
    """A float64 array on the current backend (targets, weightings)."""
    return backend.xp().asarray(np.random.default_rng(seed).uniform(0.1, 0.9, size=shape))


# name -> (function of the tensors, list of (shape, kind) for the inputs)
#   kind: "n" normal, "p" positive, "s" separated (kink-free), "u" in (0, 1)
CASES = {
    "add": (F.add, [((2, 3), "n"), ((3,), "n")]),
    "sub": (F.sub, [((2, 3), "n"), ((2, 3), "n")]),
    "mul": (F.mul, [((2, 3), "n"), ((2, 1), "n")]),
    "div": (F.div, [((2, 3), "n"), ((2, 3), "p")]),
    "neg": (F.neg, [((2, 3), "n")]),
    "x + 2.0": (lambda x: x + 2.0, [((2, 3), "n")]),
    "2.0 - x": (lambda x: 2.0 - x, [((2, 3), "n")]),
    "2 * x": (lambda x: 2 * x, [((2, 3), "n")]),
    "x * np.float64(2.0)": (lambda x: x * _np64(2.0), [((2, 3), "n")]),
    "np.float64(2.0) * x": (lambda x: _np64(2.0) * x, [((2, 3), "n")]),
    "x - np.float64(1.0)": (lambda x: x - _np64(1.0), [((2, 3), "n")]),
    "np.float64(1.0) - x": (lambda x: _np64(1.0) - x, [((2, 3), "n")]),
    "x / 3": (lambda x: x / 3, [((2, 3), "n")]),
    "3.0 / x": (lambda x: 3.0 / x, [((2, 3), "p")]),
    "x / np.float64(3.0)": (lambda x: x / _np64(3.0), [((2, 3), "n")]),
    "x + np.float32(1.0)": (lambda x: x + np.float32(1.0), [((2, 3), "n")]),
    "x ** 2": (lambda x: x ** 2, [((2, 3), "n")]),
    "x ** 3": (lambda x: x ** 3, [((2, 3), "n")]),
    "x ** 0.5": (lambda x: x ** 0.5, [((2, 3), "p")]),
    "x ** -1.5": (lambda x: x ** -1.5, [((2, 3), "p")]),
    "x ** np.float64(2.0)": (lambda x: x ** _np64(2.0), [((2, 3), "n")]),
    "pow": (lambda x: F.pow(x, 1.5), [((2, 3), "p")]),
    "exp": (F.exp, [((2, 3), "n")]),
    "log": (F.log, [((2, 3), "p")]),
    "sqrt": (F.sqrt, [((2, 3), "p")]),
    "logsumexp": (lambda x: F.logsumexp(x, axis=1), [((2, 3), "n")]),
    "clamp": (lambda x: F.clamp(x, -0.33, 0.47), [((2, 3), "s")]),
    "clamp np.float64 bounds": (lambda x: F.clamp(x, min=_np64(-0.33), max=_np64(0.47)), [((2, 3), "s")]),
    "matmul": (F.matmul, [((2, 3), "n"), ((3, 4), "n")]),
    "matmul batched": (lambda a, b: a @ b, [((2, 2, 3), "n"), ((3, 4), "n")]),
    "x @ float64 array": (lambda x: x @ _host64(3, 2), [((2, 3), "n")]),
    "sum": (lambda x: F.sum(x, axis=1), [((2, 3), "n")]),
    "sum all": (F.sum, [((2, 3), "n")]),
    "mean": (lambda x: x.mean(axis=0, keepdims=True), [((2, 3), "n")]),
    "mean all": (F.mean, [((2, 3), "n")]),
    "max": (lambda x: F.max(x, axis=1), [((2, 3), "s")]),
    "max all": (F.max, [((2, 3), "s")]),
    "broadcast_to": (lambda x: F.broadcast_to(x, (4, 3)), [((3,), "n")]),
    "sum_to": (lambda x: F.sum_to(x, (1, 3)), [((2, 3), "n")]),
    "reshape": (lambda x: x.reshape(3, 2), [((2, 3), "n")]),
    "permute": (lambda x: x.permute(1, 0), [((2, 3), "n")]),
    "transpose": (lambda x: x.T, [((2, 3), "n")]),
    "flatten": (F.flatten, [((2, 3, 2), "n")]),
    "getitem basic": (lambda x: x[1:, ::2], [((3, 4), "n")]),
    "getitem advanced": (lambda x: x[[0, 2, 2]], [((3, 4), "n")]),
    "concat": (lambda a, b: F.concat([a, b], axis=1), [((2, 3), "n"), ((2, 1), "n")]),
    "pad_widths": (lambda x: F.pad_widths(x, ((1, 1), (0, 2)), value=_np64(0.5)), [((2, 3), "n")]),
    "relu": (F.relu, [((2, 3), "s")]),
    "leaky_relu": (lambda x: F.leaky_relu(x, 0.2), [((2, 3), "s")]),
    "leaky_relu np.float64 slope": (lambda x: F.leaky_relu(x, _np64(0.2)), [((2, 3), "s")]),
    "sigmoid": (F.sigmoid, [((2, 3), "n")]),
    "tanh": (F.tanh, [((2, 3), "n")]),
    "softplus": (F.softplus, [((2, 3), "n")]),
    "im2col": (lambda x: F.im2col(x, 2, 1, 1), [((1, 2, 3, 3), "n")]),
    "col2im": (lambda c: F.col2im(c, (3, 3), 2), [((1, 8, 4), "n")]),
    "conv2d": (lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1), [((2, 2, 5, 5), "n"), ((3, 2, 3, 3), "n"), ((3,), "n")]),
    "conv_transpose2d": (lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1),
                         [((2, 2, 3, 3), "n"), ((2, 3, 3, 3), "n"), ((3,), "n")]),
    "avg_pool2d": (lambda x: F.avg_pool2d(x, 2, 1, 1), [((1, 2, 4, 4), "n")]),
    "max_pool2d": (lambda x: F.max_pool2d(x, 3, 2, 1), [((1, 2, 5, 5), "s")]),
    "upsample_nearest2d": (lambda x: F.upsample_nearest2d(x, 2), [((1, 2, 2, 2), "n")]),
    "batch_norm train 1d": (lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
                            [((4, 3), "n"), ((3,), "n"), ((3,), "n")]),
    "batch_norm train 2d, float64 running stats": (
        lambda x, w, b: F.batch_norm(x, backend.xp().zeros(3), backend.xp().ones(3), w, b, training=True),
        [((2, 3, 2, 2), "n"), ((3,), "n"), ((3,), "n")]),
    "batch_norm eval, float64 running stats": (
        lambda x, w, b: F.batch_norm(x, _host64(3), _host64(3, seed=1), w, b, training=False),
        [((2, 3, 2, 2), "n"), ((3,), "n"), ((3,), "n")]),
    "dropout": (lambda x: F.dropout(x, 0.3), [((4, 5), "n")]),
    "embedding": (lambda w: F.embedding(backend.xp().asarray([0, 3, 3]), w), [((4, 2), "n")]),
    "linear": (F.linear, [((2, 3), "n"), ((4, 3), "n"), ((4,), "n")]),
    "linear 3d input": (F.linear, [((2, 2, 3), "n"), ((4, 3), "n")]),
    "bce_with_logits, float64 array targets": (
        lambda x: F.binary_cross_entropy_with_logits(x, _host64(2, 3)), [((2, 3), "n")]),
    "bce_with_logits, tensor targets, none": (
        lambda x, y: F.binary_cross_entropy_with_logits(x, y, reduction="none"), [((2, 3), "n"), ((2, 3), "u")]),
    "bce, float64 array targets": (lambda p: F.binary_cross_entropy(p, _host64(2, 3)), [((2, 3), "u")]),
    "bce, sum": (lambda p, y: F.binary_cross_entropy(p, y, reduction="sum"), [((2, 3), "u"), ((2, 3), "u")]),
    "mse": (F.mse_loss, [((2, 3), "n"), ((2, 3), "n")]),
    "mse, python scalar target": (lambda x: F.mse_loss(x, 0.5), [((2, 3), "n")]),
    "mse, float64 array target": (lambda x: F.mse_loss(x, _host64(2, 3), reduction="sum"), [((2, 3), "n")]),
    "gaussian_kl": (F.gaussian_kl, [((2, 3), "n"), ((2, 3), "n")]),
    "gaussian_kl mean": (lambda m, lv: F.gaussian_kl(m, lv, reduction="mean"), [((2, 3), "n"), ((2, 3), "n")]),
}


def _make(rand, shape, kind, dtype):
    if kind == "p":
        return rand.uniform(*shape, low=0.5, high=2.0, dtype=dtype)
    if kind == "u":
        return rand.uniform(*shape, low=0.1, high=0.9, dtype=dtype)
    if kind == "s":
        return rand.separated(*shape, gap=0.1, dtype=dtype)
    return rand.randn(*shape, dtype=dtype)


def _run(name, dtype, rand, create_graph=False):
    fn, specs = CASES[name]
    inputs = [_make(rand, shape, kind, dtype) for shape, kind in specs]
    out = fn(*inputs)
    assert out.dtype == dtype, f"{name}: output is {out.dtype} for {np.dtype(dtype).name} inputs"
    weighting = Tensor(backend.xp().ones(out.shape, dtype=dtype))
    grads = tinygan.grad(out, inputs, grad_outputs=weighting, create_graph=create_graph, allow_unused=True)
    for i, g in enumerate(grads):
        assert g is not None, f"{name}: input {i} got no gradient"
        assert g.dtype == dtype, f"{name}: the gradient of input {i} is {g.dtype} for {np.dtype(dtype).name} inputs"
    return inputs, grads


@pytest.mark.parametrize("name", list(CASES))
def test_float32_stays_float32(name, rand):
    _run(name, np.float32, rand)


@pytest.mark.parametrize("name", list(CASES))
def test_float64_stays_float64(name, rand):
    _run(name, np.float64, rand)


@pytest.mark.parametrize("name", ["mul", "x ** np.float64(2.0)", "x ** 2", "x ** 0.5", "div", "sigmoid", "tanh",
                                  "softplus", "linear", "conv2d", "conv_transpose2d", "batch_norm train 1d",
                                  "bce_with_logits, float64 array targets", "mse", "gaussian_kl"])
def test_float32_second_order_gradients(name, rand):
    """Gradients of gradients (create_graph=True) stay float32 as well."""
    inputs, grads = _run(name, np.float32, rand, create_graph=True)
    total = None
    for g in grads:
        if g.requires_grad:
            term = (g * g).sum()
            total = term if total is None else total + term
    if total is None:
        pytest.skip(f"{name} is linear: its gradient does not depend on the inputs")
    assert total.dtype == np.float32
    second = tinygan.grad(total, inputs, allow_unused=True)
    for i, g in enumerate(second):
        assert g is None or g.dtype == np.float32, f"{name}: second-order gradient of input {i} is {g.dtype}"


def test_backward_fills_float32_grads(rand):
    """The usual training step: loss.backward() on a float32 model leaves float32 .grad everywhere."""
    x = rand.randn(2, 1, 4, 4, dtype=np.float32, requires_grad=False)
    w1, b1 = rand.randn(2, 1, 3, 3, dtype=np.float32), rand.randn(2, dtype=np.float32)
    w2, b2 = rand.randn(1, 8, dtype=np.float32), rand.randn(1, dtype=np.float32)
    h = F.leaky_relu(F.conv2d(x, w1, b1, stride=2, padding=1), 0.2) * np.float64(1.5)
    logits = F.linear(F.flatten(h), w2, b2)
    loss = F.binary_cross_entropy_with_logits(logits, np.ones((2, 1))) + 1e-3 * (w2 ** 2).sum()
    assert loss.dtype == np.float32
    loss.backward()
    for p in (w1, b1, w2, b2):
        assert p.grad.dtype == np.float32


def test_default_dtype_is_float32_for_python_data():
    assert Tensor([1.0, 2.0]).dtype == np.float32
    assert tinygan.randn(2, 3).dtype == np.float32
    assert Tensor(np.float64(2.0)).dtype == np.float64  # an explicit NumPy float64 keeps its dtype
    tinygan.set_default_dtype(np.float64)  # restored by conftest after the test
    assert Tensor([1.0, 2.0]).dtype == np.float64


# -- float32 meets float64 -----------------------------------------------------------------------------
# tinygan follows PyTorch: elementwise ops promote (float32 + float64 tensor -> float64), but the
# products that meet a layer's weights refuse mixed dtypes, so a float64 batch fed to a float32 model
# is an error that says what to do, not a model silently running (and training) in float64.

def test_a_float64_batch_into_a_float32_layer_is_refused_with_advice():
    layer = nn.Linear(3, 2)                                           # float32 weights
    batch = Tensor(np.random.default_rng(0).standard_normal((4, 3)))  # float64, as NumPy makes it
    with pytest.raises(TypeError, match=r"Linear: inputs must have one floating dtype, got input 0 float64"
                                        r".*input 1 float32.*tinygan\.tensor\(array, dtype=np\.float32\)"):
        layer(batch)
    assert layer(tinygan.tensor(batch.numpy(), dtype=np.float32)).dtype == np.float32   # the advice works


@pytest.mark.parametrize("mode", ["fast", "reference"])
@pytest.mark.parametrize("op", ["matmul", "conv2d", "conv_transpose2d", "batch_norm", "layer_norm"])
def test_every_weight_product_refuses_mixed_float_dtypes(op, mode):
    x64 = Tensor(np.ones((2, 3, 4, 4)))
    w32 = Tensor(np.ones((3, 3, 2, 2), dtype=np.float32))
    calls = {
        "matmul": lambda: F.matmul(Tensor(np.ones((2, 3))), Tensor(np.ones((3, 2), dtype=np.float32))),
        "conv2d": lambda: F.conv2d(x64, w32),
        "conv_transpose2d": lambda: F.conv_transpose2d(x64, w32),
        "batch_norm": lambda: F.batch_norm(x64, None, None, Tensor(np.ones(3, np.float32)),
                                           Tensor(np.zeros(3, np.float32))),
        "layer_norm": lambda: F.layer_norm(x64, 4, Tensor(np.ones(4, np.float32))),
    }
    with kernels.using(mode), pytest.raises(TypeError, match="inputs must have one floating dtype"):
        calls[op]()


def test_elementwise_ops_promote_as_in_pytorch():
    a32, b64 = Tensor(np.ones(3, dtype=np.float32)), Tensor(np.ones(3))
    assert (a32 + b64).dtype == np.float64 and (a32 * b64).dtype == np.float64


# Integers meeting floats, where NumPy's rule (float64) and PyTorch's (the float's dtype, or the default float
# dtype for a Python number and for float functions of integers) differ: a diffusion model's time embedding,
# arange(n) * -scale, then exp and sin, must stay float32.
INTEGER_PROMOTIONS = {
    "int64 * 0.5": lambda t: t.arange(3) * 0.5,
    "0.5 - int64": lambda t: 0.5 - t.arange(3),
    "int64 + float32": lambda t: t.arange(3) + t.ones(3),
    "float64 * int64": lambda t: t.ones(3, dtype=t.float64) * t.arange(3),
    "int64 / int64": lambda t: t.arange(3) / t.tensor([2, 2, 2]),
    "int64 / 2": lambda t: t.arange(3) / 2,
    "bool * 1.5": lambda t: (t.arange(3) > 0) * 1.5,
    "int32 * 2": lambda t: t.tensor([1, 2], dtype=t.int32) * 2,
    "3 - uint8": lambda t: 3 - t.tensor([1, 2], dtype=t.uint8),
    "int64 // 2": lambda t: t.arange(5) // 2,
    "int64 % 1.5": lambda t: t.arange(5) % 1.5,
    "exp, log, sqrt, sin, cos of int64": lambda t: t.stack([t.exp(t.arange(3)), t.log(t.arange(1, 4)),
                                                             t.sqrt(t.arange(3)), t.arange(3).sin(),
                                                             t.cos(t.arange(3))]),
    "sigmoid, tanh, log1p, erf of int64": lambda t: t.stack([t.sigmoid(t.arange(3)), t.tanh(t.arange(3)),
                                                              t.log1p(t.arange(3)), t.erf(t.arange(3))]),
    "float16 * 2.0": lambda t: t.ones(2, dtype=t.half) * 2.0,
}


@pytest.mark.parametrize("name", sorted(INTEGER_PROMOTIONS))
def test_integers_meeting_floats_take_pytorchs_dtype(name):
    torch = pytest.importorskip("torch")
    ours, theirs = INTEGER_PROMOTIONS[name](tinygan), INTEGER_PROMOTIONS[name](torch)
    assert str(ours.dtype) == str(theirs.dtype).replace("torch.", "")
    np.testing.assert_allclose(backend.to_numpy(ours.array), theirs.numpy(), rtol=1e-6)


def test_integers_meeting_floats_without_torch():
    assert (tinygan.arange(3) * 0.5).dtype == np.float32 and (tinygan.arange(3) / 2).dtype == np.float32
    assert tinygan.exp(tinygan.arange(3)).dtype == np.float32
    assert (tinygan.arange(3) + tinygan.ones(3, dtype=tinygan.float64)).dtype == np.float64
    assert (tinygan.arange(3) // 2).dtype == np.int64
    assert (tinygan.tensor([1], dtype=tinygan.int32) * 2).dtype == np.int32
