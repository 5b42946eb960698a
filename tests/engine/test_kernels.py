"""The fast kernels' own tests: what is not one op's contract (that is tests/engine/test_op_contract.py, which proves
every op's fast path equal to its reference).

- Adam's fused update against the textbook lines, step by step;
- the layouts the kernels read and keep (BatchNorm over NCHW, channels-last and strided storage; max pooling's
  tiles, ties included);
- the switch between the fast kernels and the reference (tinygan.use_kernels, kernels.using);
- the softmax and layer-norm twins where the contract's small cases do not reach: attention's -inf rows, each
  choice of affine parameters, float32, gradients of gradients;
- the one-way dependency: kernels import only the backend and autograd, functional/ reaches them only through
  kernels.TWINS, and every entry of that table names a function that exists.
"""
import math
import numpy as np
import pytest

import tinygan
import tinygan.functional as F
from tinygan import Tensor, backend, kernels, optim


def on_device(array):
    return backend.to_device(np.asarray(array), backend.current_device())


@pytest.mark.parametrize("weight_decay", [0.0, 0.1])
def test_adam_fast_step_equals_the_reference(weight_decay):
    """Five Adam steps (the bias corrections change every step) give the same weights on both paths."""
    rng = np.random.default_rng(3)
    start, grads = rng.standard_normal((4, 3)), rng.standard_normal((5, 4, 3))
    results = {}
    for mode in kernels.MODES:
        with kernels.using(mode):
            p = Tensor(on_device(start.copy()), requires_grad=True)
            optimizer = optim.Adam([p], lr=0.01, betas=(0.8, 0.95), eps=1e-6, weight_decay=weight_decay)
            for g in grads:
                p.grad = Tensor(on_device(g))
                optimizer.step()
            results[mode] = backend.to_numpy(p.array)
    assert np.abs(results["reference"] - start).max() > 0.01
    np.testing.assert_allclose(results["fast"], results["reference"], rtol=1e-12, atol=1e-14)


def test_erfc_twin_equals_the_reference_on_every_range():
    """The rational approximations against the series and continued fraction: float64 to a few units in the last
    place of math.erfc; float32 within 5e-7 absolute (two float32 steps of values near 2: erfc = 1 - erf there
    keeps absolute digits only); edges, infinities and NaN alike."""
    from tinygan.functional._special import erfc as reference
    edges = [0.0, -0.0, 0.25, 0.84375, 1.25, 1 / 0.35, 6.0, 27.9, 28.0, 40.0, np.inf, np.nan]
    x = np.concatenate([np.linspace(-30, 30, 60001), np.random.default_rng(0).standard_normal(5000) * 3,
                        edges, [-e for e in edges]])
    fast = backend.to_numpy(kernels.special.erfc(on_device(x)))
    expected = np.array([math.erfc(v) for v in x])
    tiny = expected < 1e-300
    np.testing.assert_allclose(fast[~tiny], expected[~tiny], rtol=2e-15, atol=0)
    assert (fast[tiny & (x > 0)] < 1e-300).all() and np.array_equal(np.isnan(fast), np.isnan(x))
    x32 = x.astype(np.float32)
    fast32, reference32 = (backend.to_numpy(f(on_device(x32))) for f in (kernels.special.erfc, reference))
    assert fast32.dtype == reference32.dtype == np.float32
    np.testing.assert_allclose(fast32, reference32, rtol=0, atol=5e-7)


def _stored(a, layout):
    """The same values stored (N, C, H, W), channels-last, or as a strided view of a larger array."""
    if layout == "channels-last":
        return np.ascontiguousarray(a.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
    if layout == "strided":
        return np.repeat(a, 2, axis=3)[..., ::2]
    return np.ascontiguousarray(a)


@pytest.mark.parametrize("x_layout", ["nchw", "channels-last", "strided"])
@pytest.mark.parametrize("grad_layout", ["nchw", "channels-last", "strided"])
@pytest.mark.parametrize("shape", [(3, 4, 5, 6), (2, 3, 1, 7), (5, 2)])
def test_batch_norm_kernel_reads_every_layout(x_layout, grad_layout, shape):
    """The fast BatchNorm runs over rows of the channel pattern (layout.ChannelPattern) when x is stored (N, C, H, W),
    channels-last or (N, C), and falls back to broadcasting otherwise; the gradient may come in another layout.
    Every combination gives the reference's numbers, and y and dL/dx keep x's layout."""
    from tinygan.functional import normalization
    rng = np.random.default_rng(4)
    x, g = rng.standard_normal(shape), rng.standard_normal(shape)
    if len(shape) == 4:
        x, g = _stored(x, x_layout), _stored(g, grad_layout)
    gamma, beta = rng.standard_normal(shape[1]), rng.standard_normal(shape[1])
    results = {}
    for name, module in (("fast", kernels.batch_norm), ("reference", normalization)):
        running = [np.zeros(shape[1]), np.ones(shape[1])]
        y, x_hat, inv_std = module.batch_norm_train_forward(on_device(x), on_device(gamma), on_device(beta), 1e-5,
                                                            *[on_device(r) for r in running])
        grads = module.batch_norm_train_backward(on_device(g), x_hat, inv_std, on_device(gamma), True)
        results[name] = [y, x_hat, *grads]
    for fast, reference in zip(results["fast"], results["reference"]):
        np.testing.assert_allclose(backend.to_numpy(fast), backend.to_numpy(reference), rtol=1e-12, atol=1e-12)
    if len(shape) == 4 and x_layout == "channels-last":
        assert all(a.transpose(0, 2, 3, 1).flags.c_contiguous for a in (results["fast"][0], results["fast"][2]))


@pytest.mark.parametrize("x_layout", ["nchw", "channels-last", "strided"])
def test_max_pool_over_tiles_splits_ties_like_the_reference(x_layout):
    """Windows with tied maxima (small integers, a constant window) share their gradient equally among the ties,
    as the reference's max does; any storage of x gives the same numbers, and channels-last stays channels-last."""
    rng = np.random.default_rng(5)
    x = rng.integers(0, 3, size=(2, 3, 4, 6)).astype(np.float64)
    x[0, 0, :2, :2] = 1.0                                          # one window with four tied maxima
    g = rng.standard_normal((2, 3, 2, 3))
    results = {}
    for mode in kernels.MODES:
        with kernels.using(mode):
            t = Tensor(on_device(_stored(x, x_layout)), requires_grad=True)
            y = F.max_pool2d(t, 2)
            y.backward(Tensor(on_device(g)))
            results[mode] = [backend.to_numpy(y.array), backend.to_numpy(t.grad.array)]
    for fast, reference in zip(results["fast"], results["reference"]):
        np.testing.assert_allclose(fast, reference, rtol=1e-12, atol=1e-14)
    assert results["fast"][1][0, 0, :2, :2] == pytest.approx(np.full((2, 2), g[0, 0, 0, 0] / 4))
    if x_layout == "channels-last":
        with kernels.using("fast"):
            y = F.max_pool2d(Tensor(on_device(_stored(x, x_layout))), 2)
        assert y.array.transpose(0, 2, 3, 1).flags.c_contiguous


def test_the_switch():
    previous = kernels.current_kernels()
    try:
        tinygan.use_kernels("reference")
        assert kernels.current_kernels() == "reference" and not kernels.fast()
        with kernels.using("fast"):
            assert kernels.fast()
        assert kernels.current_kernels() == "reference"               # restored after the block
        with pytest.raises(ValueError, match="use_kernels: unknown mode 'quick'"):
            tinygan.use_kernels("quick")
    finally:
        kernels.use_kernels(previous)


def test_kernels_import_only_backend_and_autograd():
    """The dependency runs one way: functional -> kernels, never back (and no formula lives in a kernel)."""
    import ast
    from pathlib import Path
    folder = Path(kernels.__file__).parent
    allowed_parents = {"backend", "autograd"}
    for path in sorted(folder.glob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 2:          # from .. import x / from ..x import y
                names = {node.module} if node.module else {alias.name for alias in node.names}
                assert names <= allowed_parents, f"{path.name} imports {names} from tinygan"
            if isinstance(node, ast.Import) or (isinstance(node, ast.ImportFrom) and node.level == 0):
                modules = [node.module] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
                assert not any(m.startswith("tinygan") for m in modules), f"{path.name} imports {modules}"
        assert "[formula:" not in path.read_text(), f"{path.name}: formula markers belong in the reference code"


def test_functional_reaches_the_kernels_only_through_their_table():
    """The reference imports no kernel module: every fast twin is chosen by kernels.twin from kernels.TWINS, whose
    entries all name a function that exists (and, for a twin that takes only some arguments, its test)."""
    import ast
    from pathlib import Path
    folder = Path(F.__file__).parent
    for path in sorted(folder.glob("*.py")) + [Path(optim.__file__).parent / "adam.py"]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 2 and node.module:
                assert not node.module.startswith("kernels"), f"{path.name} imports from tinygan.{node.module}"
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "kernels":
                assert node.attr == "twin", f"{path.name} uses kernels.{node.attr}"
    for op, (module, name, takes) in kernels.TWINS.items():
        assert callable(getattr(module, name)), op
        assert takes is None or callable(getattr(module, takes)), op


def _both_kernels(fn, *arrays):
    """{mode: [output, dL/d each input, dM/d each input]} of fn under both kernel modes, with L = sum(fn(inputs) * W)
    and M = sum(dL/d first input * V) for fixed random W and V: the gradients recorded with create_graph, then
    differentiated again. (A plain sum would not do for softmax: its gradient sums to 0 along the axis.)"""
    results = {}
    for mode in kernels.MODES:
        rng = np.random.default_rng(5)                    # the same W and V for both modes
        with kernels.using(mode):
            inputs = [Tensor(on_device(a), requires_grad=True) for a in arrays]
            y = fn(*inputs)
            weights = Tensor(on_device(rng.standard_normal(y.shape).astype(y.dtype)))
            grads = tinygan.grad((y * weights).sum(), inputs, create_graph=True)
            second_weights = Tensor(on_device(rng.standard_normal(grads[0].shape).astype(y.dtype)))
            second = tinygan.grad((grads[0] * second_weights).sum(), inputs, allow_unused=True)
            results[mode] = [backend.to_numpy(t.array) for t in (y, *grads, *(s for s in second if s is not None))]
    return results


@pytest.mark.parametrize("dtype, atol", [(np.float64, 1e-14), (np.float32, 2e-6)])
def test_gelu_twin_equals_the_reference_forward_backward_and_second_order(dtype, atol):
    """GELU as one op against x * NormalCDF(x): values and gradients (a chunked array, larger than one chunk), and
    under create_graph the gradient of the gradient."""
    x = (np.random.default_rng(4).standard_normal(3 * kernels.special.CHUNK + 17) * 3).astype(dtype)
    results = _both_kernels(F.gelu, x)
    for fast, reference in zip(results["fast"], results["reference"]):
        assert fast.dtype == dtype
        np.testing.assert_allclose(fast, reference, rtol=0, atol=atol * max(1.0, np.abs(reference).max()))


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-12), (np.float32, 2e-5)])
@pytest.mark.parametrize("dim", [-1, 1])
def test_softmax_twin_equals_the_reference_under_a_causal_mask(dtype, rtol, dim):
    """Attention's softmax: rows of scores with -inf above the diagonal (weights exactly 0 there), along the last
    axis and along another one; values, gradients and gradients of gradients."""
    rng = np.random.default_rng(6)
    scores = (rng.standard_normal((2, 3, 9, 9)) * 4).astype(dtype)
    scores[..., np.triu_indices(9, 1)[0], np.triu_indices(9, 1)[1]] = -np.inf
    fn = lambda x: F.softmax(x, dim=dim)  # noqa: E731
    if dim != -1:
        scores = np.nan_to_num(scores, neginf=-30.0)      # along axis 1 every column has finite scores
    results = _both_kernels(fn, scores)
    for fast, reference in zip(results["fast"], results["reference"]):
        assert fast.dtype == dtype and np.isfinite(fast).all()
        np.testing.assert_allclose(fast, reference, rtol=rtol, atol=rtol * max(1.0, np.abs(reference).max()))
    if dim == -1:
        assert (results["fast"][0][..., 0, 1:] == 0).all(), "a masked key must get weight exactly 0"


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-10), (np.float32, 1e-4)])
@pytest.mark.parametrize("affine", ["weight and bias", "weight", "bias", "none"])
def test_layer_norm_twin_equals_the_reference(dtype, rtol, affine):
    """LayerNorm over the last two axes of (4, 5, 3, 6), with each choice of affine parameters: values, the
    gradients of input, weight and bias, and the gradients of the input's gradient."""
    rng = np.random.default_rng(7)
    x = (rng.standard_normal((4, 5, 3, 6)) * 3 + 1).astype(dtype)
    w, b = (rng.standard_normal((3, 6)).astype(dtype) for _ in range(2))
    arrays = [x] + [w] * ("weight" in affine) + [b] * (affine in ("bias", "weight and bias"))

    def fn(x, *affine_tensors):
        given = iter(affine_tensors)
        weight = next(given) if "weight" in affine else None
        bias = next(given) if affine in ("bias", "weight and bias") else None
        return F.layer_norm(x, (3, 6), weight, bias)

    results = _both_kernels(fn, *arrays)
    assert len(results["fast"]) == len(results["reference"]) >= 3
    for fast, reference in zip(results["fast"], results["reference"]):
        assert fast.dtype == dtype
        np.testing.assert_allclose(fast, reference, rtol=rtol, atol=rtol * max(1.0, np.abs(reference).max()))
