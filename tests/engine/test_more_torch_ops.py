"""More of the tensor API PyTorch programs call: rounding and remainders (floor, ceil, round, trunc, sign, frac, //,
%, fmod, div's rounding modes); more of exp and log (log1p, expm1, erf, log2, log10, reciprocal, rsqrt,
nan_to_num); scatters and picks (scatter, scatter_add, index_add, masked_select, take_along_dim); reductions built
from other ops (prod, cumprod, median, kthvalue, nansum, nanmean, var_mean, std_mean, diff) and counts
(count_nonzero, nonzero, unique); taking apart and rearranging (unbind, select, movedim, unflatten, tile,
repeat_interleave, diagonal, diag, trace, hstack, vstack, rot90); the logical and bitwise operators; the in-place
twins (exp_, floor_, scatter_, ...); random draws (bernoulli, normal, exponential_, the _like makers) and
tinygan.Generator.

The gradients are checked in tests/engine/test_op_contract.py. Here: values over shapes drawn by hypothesis against
NumPy, clear errors for bad input, and, where torch is installed, outputs and gradients equal to PyTorch's in
float64."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygan

from test_torch_functions import DRAWN, host, tensor
from torch_compare import assert_outputs_and_gradients_equal_pytorchs

shapes = st.lists(st.integers(1, 4), min_size=1, max_size=4).map(tuple)


# -- values over drawn shapes, against NumPy ---------------------------------------------------------------

@DRAWN
@given(shape=shapes, data=st.data())
def test_prod_multiplies_like_numpy_zeros_included(shape, data):
    dim = data.draw(st.one_of(st.none(), st.integers(-len(shape), len(shape) - 1)))
    x = np.random.default_rng(len(shape)).standard_normal(shape)
    x[x < -1.0] = 0.0                                    # some zeros, whose gradient the tree keeps exact
    np.testing.assert_allclose(host(tinygan.prod(tensor(x), dim) if dim is not None else tinygan.prod(tensor(x))),
                               np.prod(x, axis=dim), rtol=1e-12, atol=1e-300)


@DRAWN
@given(shape=shapes, data=st.data())
def test_scatter_add_is_numpys_add_at_along_a_dim(shape, data):
    dim = data.draw(st.integers(0, len(shape) - 1))
    index_shape = tuple(data.draw(st.integers(1, n)) if i != dim else data.draw(st.integers(1, 5))
                        for i, n in enumerate(shape))
    rng = np.random.default_rng(sum(index_shape))
    index, src = rng.integers(0, shape[dim], index_shape), rng.standard_normal(index_shape)
    x = rng.standard_normal(shape)
    expected = x.copy()
    positions = [np.arange(n).reshape((-1,) + (1,) * (len(shape) - 1 - i)) for i, n in enumerate(index_shape)]
    positions[dim] = index
    np.add.at(expected, tuple(np.broadcast_arrays(*positions)), src)
    np.testing.assert_allclose(host(tinygan.scatter_add(tensor(x), dim, tensor(index), tensor(src))), expected,
                               rtol=1e-12, atol=1e-12)


@DRAWN
@given(shape=shapes, data=st.data())
def test_movedim_diagonal_and_repeat_interleave_equal_numpys(shape, data):
    x = np.arange(np.prod(shape), dtype=np.float64).reshape(shape)
    source = data.draw(st.integers(-len(shape), len(shape) - 1))
    destination = data.draw(st.integers(-len(shape), len(shape) - 1))
    np.testing.assert_array_equal(host(tinygan.movedim(tensor(x), source, destination)),
                                  np.moveaxis(x, source, destination))
    repeats = data.draw(st.integers(0, 3))
    dim = data.draw(st.integers(0, len(shape) - 1))
    np.testing.assert_array_equal(host(tensor(x).repeat_interleave(repeats, dim=dim)), np.repeat(x, repeats, axis=dim))
    if len(shape) >= 2:
        offset = data.draw(st.integers(-4, 4))
        np.testing.assert_array_equal(host(tinygan.diagonal(tensor(x), offset, 0, -1)),
                                      np.diagonal(x, offset, 0, len(shape) - 1))


def test_rounding_and_remainders_of_integers_and_floats():
    ints = tensor(np.array([7, -7, 6, -1]))
    assert host(ints // 2).tolist() == [3, -4, 3, -1] and host(ints % 3).tolist() == [1, 2, 0, 2]
    assert host(tinygan.fmod(ints, 3)).tolist() == [1, -1, 0, -1]
    assert host(ints.div(2, rounding_mode="trunc")).tolist() == [3, -3, 3, 0]
    assert host(17 // tensor(np.array([5, -5]))).tolist() == [3, -4]
    assert host(17 % tensor(np.array([5]))).tolist() == [2]
    assert (7.5 % tinygan.ones(2)).dtype == (2 // tinygan.ones(2)).dtype == tinygan.float32
    x = tensor(np.array([2.5, -2.5, 0.5, 1.5, -0.3]))
    assert host(x.round()).tolist() == [2.0, -2.0, 0.0, 2.0, -0.0]                  # halves to the even neighbour
    assert host(tensor(np.array([1.2345])).round(decimals=2)).tolist() == [1.23]
    assert host(x.floor()).tolist() == [2.0, -3.0, 0.0, 1.0, -1.0]
    assert host(x.ceil()).tolist() == [3.0, -2.0, 1.0, 2.0, -0.0]
    assert host(x.trunc()).tolist() == host(x.fix()).tolist() == [2.0, -2.0, 0.0, 1.0, -0.0]
    assert host(x.sign()).tolist() == [1.0, -1.0, 1.0, 1.0, -1.0]
    np.testing.assert_allclose(host(x.frac()), [0.5, -0.5, 0.5, 0.5, -0.3])
    assert host(ints.floor()).dtype == np.int64 and host(ints.floor()).tolist() == [7, -7, 6, -1]


def test_counts_unique_and_nonzero_have_no_gradient():
    x = tensor(np.array([[3.0, 0.0, 3.0], [1.0, 0.0, 2.0]]))
    assert host(x.count_nonzero()).tolist() == 4 and host(tinygan.count_nonzero(x, dim=0)).tolist() == [2, 0, 2]
    values, inverse, counts = x.unique(return_inverse=True, return_counts=True)
    assert host(values).tolist() == [0.0, 1.0, 2.0, 3.0] and host(counts).tolist() == [2, 1, 1, 2]
    assert host(inverse).tolist() == [[3, 0, 3], [1, 0, 2]]
    assert host(x.nonzero()).tolist() == [[0, 0], [0, 2], [1, 0], [1, 2]]
    rows, cols = tinygan.where(x > 2)
    assert host(rows).tolist() == [0, 0] and host(cols).tolist() == [0, 2]
    assert not x.unique().requires_grad


def test_logical_and_bitwise_operators():
    a, b = tensor(np.array([True, True, False])), tensor(np.array([True, False, False]))
    assert host(a & b).tolist() == [True, False, False] and host(a | b).tolist() == [True, True, False]
    assert host(a ^ b).tolist() == [False, True, False] and host(~a).tolist() == [False, False, True]
    assert host(True & b).tolist() == [True, False, False]
    assert host(tensor(np.array([6, 3])) & 5).tolist() == [4, 1]
    x = tensor(np.array([0.0, 2.0, -1.0]))
    assert host(tinygan.logical_and(x, x > 0)).tolist() == [False, True, False]
    assert host(x.logical_not()).tolist() == [True, False, False]


def test_in_place_twins_change_the_tensor_and_count_a_version():
    x = tensor(np.array([0.5, -1.5, 2.0]))
    same, version = x, x._version[0]
    x.exp_().log_().mul_(2).floor_()
    assert x is same and host(x).tolist() == [1.0, -3.0, 4.0] and x._version[0] == version + 4
    x.clamp_min_(0.0).scatter_(0, tensor(np.array([1])), 7.0)
    assert host(x).tolist() == [1.0, 7.0, 4.0]
    q = tinygan.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"exp_: a leaf Variable that requires grad"):
        q.exp_()
    ints = tensor(np.array([1, 2]))
    with pytest.raises(TypeError, match=r"sqrt_: the result's dtype float32 can't be cast to this tensor's int64"):
        ints.sqrt_()


def test_metadata_of_the_memory():
    x = tinygan.zeros(2, 3, dtype=tinygan.float64)
    assert x.is_contiguous() and x.stride() == (3, 1) and x.stride(0) == 3 and x.element_size() == 8
    assert not x.t().is_contiguous() and x.t().stride() == (1, 3)
    assert x.is_floating_point() and not tinygan.zeros(2, dtype=tinygan.int64).is_floating_point()


@pytest.mark.parametrize("call, error, message", [
    (lambda: tinygan.ones(2, 3).div(2, rounding_mode="ceil"), ValueError, r"div: rounding_mode must be one of"),
    (lambda: tinygan.ones(2, 3).scatter_add(1, tinygan.tensor([0, 1]), tinygan.ones(2)), ValueError,
     r"scatter_add: index must be an integer tensor with the input's 2 dimensions"),
    (lambda: tinygan.ones(2, 3).scatter_add(1, tinygan.tensor([[0, 3]]), tinygan.ones(1, 2)), IndexError,
     r"scatter_add: index values must be in \[0, 3\) for dim 1"),
    (lambda: tinygan.ones(2, 3).scatter_add(1, tinygan.tensor([[0, 1]]), tinygan.ones(1, 1)), ValueError,
     r"scatter_add: index of shape \(1, 2\) is larger than src \(1, 1\)"),
    (lambda: tinygan.ones(2, 3).scatter(1, tinygan.tensor([[0, 0]]), 1.0), ValueError,
     r"scatter: index \(1, 2\) names a place of the input twice along dim 1"),
    (lambda: tinygan.ones(2, 3).scatter(1, tinygan.tensor([[0]]), 1.0, reduce="add"), ValueError,
     r"scatter: reduce='add' is not there"),
    (lambda: tinygan.ones(2, 3).index_add(0, tinygan.tensor([0]), tinygan.ones(2, 3)), ValueError,
     r"index_add: expects a 1-D integer index and a source of shape \(1, 3\)"),
    (lambda: tinygan.ones(2, 3).kthvalue(4), ValueError, r"kthvalue: k = 4 is out of range for 3 elements"),
    (lambda: tinygan.ones(0).median(), ValueError, r"median: the input has no values"),
    (lambda: tinygan.ones(2, 3).select(1, 3), IndexError, r"select: index 3 out of range for dimension 1 of size 3"),
    (lambda: tinygan.ones(2, 3).movedim((0, 0), (0, 1)), ValueError, r"movedim: repeated dim in \(0, 0\)"),
    (lambda: tinygan.ones(2, 6).unflatten(1, (4, -1)), ValueError, r"unflatten: sizes \(4, -1\) do not split "
                                                                    r"dimension 1 of size 6"),
    (lambda: tinygan.ones(2, 3).repeat_interleave(tinygan.tensor([1, 2])), ValueError,
     r"repeat_interleave: repeats must be a non-negative integer or a 1-D integer tensor of one count per slice"),
    (lambda: tinygan.ones(2, 3, 4).diag(), ValueError, r"diag: expects a vector or a matrix, got shape \(2, 3, 4\)"),
    (lambda: tinygan.ones(3).trace(), ValueError, r"trace: expects a matrix \(2 dimensions\), got shape \(3,\)"),
    (lambda: tinygan.ones(2) & tinygan.ones(2), TypeError, r"&: expects boolean or integer tensors, got float32"),
    (lambda: tinygan.ones(2, 3).scatter_(1, tinygan.tensor([[0]] * 2), tinygan.ones(2, 2, 2)), ValueError,
     r"scatter: src must have the input's 2 dimensions, got shape \(2, 2, 2\)"),
])
def test_bad_input_is_named(call, error, message):
    with pytest.raises(error, match=message):
        call()


# -- against PyTorch, outputs and gradients in float64 -------------------------------------------------------

def _inputs(rng):
    return {"a": rng.standard_normal((2, 3, 4)) * 3,
            "b": rng.uniform(0.5, 2.0, (2, 3, 4)) * rng.choice([-1, 1], (2, 3, 4)),
            "p": rng.uniform(0.1, 3.0, (3, 4)), "m": rng.standard_normal((4, 4)), "v": rng.standard_normal(3)}


def _index(t, array):
    return t.tensor(np.array(array))


def _with_nans(t, a):
    """a with NaN wherever a <= -1."""
    return t.where(a > -1, a, t.tensor(float("nan"), dtype=t.float64))


def _with_infinities(t, a):
    """a with inf where a > 2, -inf where a < -2, and NaN where -2 <= a <= -1."""
    inf = t.tensor(float("inf"), dtype=t.float64)
    return t.where(a > 2, inf, t.where(a < -2, -inf, _with_nans(t, a)))


FUNCTIONS = {
    "floor": lambda t, x: t.floor(x["a"]) * x["b"],
    "ceil, trunc, sign, round": lambda t, x: t.stack([t.ceil(x["a"]), t.trunc(x["a"]), t.sign(x["a"]),
                                                       t.round(x["a"], decimals=1)]) * x["b"],
    "frac": lambda t, x: t.frac(x["a"]),
    "remainder": lambda t, x: t.remainder(x["a"], x["b"]),
    "Tensor % number": lambda t, x: (x["a"] % 1.5) * x["b"],
    "fmod (broadcast)": lambda t, x: t.fmod(x["a"], x["b"][0, 0]),
    "div (floor, trunc)": lambda t, x: t.stack([t.div(x["a"], x["b"], rounding_mode="floor"),
                                                x["a"].div(x["b"], rounding_mode="trunc")]) + x["a"],
    "log1p, expm1, erf": lambda t, x: t.stack([t.log1p(x["p"]), t.expm1(x["p"] - 1), t.erf(x["p"] - 1.5)]),
    "log2, log10, reciprocal, rsqrt": lambda t, x: t.stack([t.log2(x["p"]), t.log10(x["p"]), t.reciprocal(x["p"]),
                                                            t.rsqrt(x["p"])]),
    "prod": lambda t, x: t.prod(x["a"]).reshape(1),
    "Tensor.prod (dim, a zero)": lambda t, x: (x["a"] * (x["a"] > -2)).prod(1, keepdim=True),
    "median": lambda t, x: t.median(x["a"]).reshape(1),
    "Tensor.median (dim)": lambda t, x: x["a"].median(dim=2).values,
    "kthvalue": lambda t, x: t.kthvalue(x["a"], 2, dim=1, keepdim=True).values,
    "nansum, nanmean": lambda t, x: t.stack([t.nansum(_with_nans(t, x["a"]), 1),
                                             t.nanmean(_with_nans(t, x["a"]), dim=1)]),
    "var_mean, std_mean": lambda t, x: t.stack([*t.var_mean(x["a"], 1), *t.std_mean(x["a"], dim=2, keepdim=True)
                                                ][:2]),
    # src of index's shape: PyTorch's backward refuses a larger src (tinygan's gives its unused part 0)
    "scatter_add": lambda t, x: t.scatter_add(x["a"], 1, _index(t, [[[0, 2, 1, 1], [2, 2, 0, 1]]] * 2),
                                              x["b"][:, :2]),
    "Tensor.scatter (src)": lambda t, x: x["a"].scatter(2, _index(t, [[[3, 0], [1, 2], [0, 1]]] * 2),
                                                        x["b"][..., :2]),
    "scatter (value)": lambda t, x: t.scatter(x["a"], 0, _index(t, [[[1, 0, 1, 0]]]), 2.5),
    "index_add": lambda t, x: x["a"].index_add(2, _index(t, [3, 0, 3]), x["b"][:, :, :3], alpha=0.5),
    "unbind, select": lambda t, x: t.stack([*t.unbind(x["a"], 1), x["a"].select(1, -1)]),
    "movedim, moveaxis": lambda t, x: t.movedim(x["a"], (0, 2), (1, 0)) * t.moveaxis(x["b"], (0, 2), (1, 0)),
    "unflatten": lambda t, x: x["a"].unflatten(2, (2, -1)),
    "tile": lambda t, x: t.tile(x["a"], (2, 1)),
    "repeat_interleave": lambda t, x: t.repeat_interleave(x["a"], t.tensor([2, 0, 1]), dim=1),
    "diagonal, trace": lambda t, x: t.diagonal(x["a"], 1, 2, 1) * t.trace(x["m"]),
    "diag (vector, matrix)": lambda t, x: t.diag(x["v"], -1) + t.diag(x["m"], 0),
    "hstack, vstack": lambda t, x: t.vstack([t.hstack([x["m"], x["m"]]), x["m"].reshape(-1)[:8]]),
    "Tensor.clamp_min, clamp_max, clip": lambda t, x: (x["a"].clamp_min(-1) * x["a"].clamp_max(1)
                                                       * t.clip(x["a"], -2, 2)),
    "Tensor.softmax, log_softmax, where": lambda t, x: x["a"].softmax(1) + x["a"].log_softmax(dim=2).where(
        x["a"] > 0, x["b"]),
    "cumprod": lambda t, x: t.cumprod(x["a"] * (x["a"] > -2), dim=2),
    "Tensor.cumprod (dim 0)": lambda t, x: x["b"].cumprod(0),
    "diff": lambda t, x: t.diff(x["a"], dim=1),
    "Tensor.diff (twice, prepend, append)": lambda t, x: x["b"].diff(n=2, prepend=x["a"][..., :1], append=x["a"]),
    "rot90": lambda t, x: t.rot90(x["a"], 1, (1, 2)) * x["a"].rot90(3, [2, 1]) + t.rot90(x["m"], 2)[0, 0],
    "take_along_dim": lambda t, x: t.take_along_dim(x["a"], _index(t, [[[0], [2], [1]]]), dim=2),
    "take_along_dim (broadcast, flattened)": lambda t, x: (x["p"].take_along_dim(_index(t, [[3, 0]]), 1)
                                                          * t.take_along_dim(x["a"], _index(t, [23, 0, 5]))[:2]),
    "masked_select (a broadcast mask)": lambda t, x: t.masked_select(x["a"], x["m"][0, :4] > 0),
    "nan_to_num": lambda t, x: t.nan_to_num(_with_infinities(t, x["a"]), 0.5, 9.0, neginf=-7.0) * x["b"],
    "Tensor.nan_to_num (the dtype's extremes)": lambda t, x: x["a"].where(x["a"] < 2, float("inf")).nan_to_num(),
}


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_outputs_and_gradients_equal_pytorchs(name):
    assert_outputs_and_gradients_equal_pytorchs(lambda module, functional, leaves: FUNCTIONS[name](module, leaves),
                                                _inputs(np.random.default_rng(0)))


def test_counts_operators_and_in_place_twins_equal_pytorchs():
    torch = pytest.importorskip("torch")
    start = np.random.default_rng(0).standard_normal((3, 4)) * 3
    ints = np.array([[7, -7, 0], [5, 3, -2]])

    def run(t):
        x, i = t.tensor(start), t.tensor(ints)
        found = [i // 3, i % 4, 17 % i[:, :2], 7.5 % x, t.fmod(i, 3), i.div(3, rounding_mode="trunc"),
                 (i > 0) & (i < 6), ~(i > 0),
                 i ^ 6, t.count_nonzero(i, dim=1), i.nonzero(), *i.unique(return_inverse=True, return_counts=True),
                 i.unique(dim=1), *t.where(i > 2), i.argwhere()]
        x.frac_().mul_(10).round_().remainder_(3).abs_().neg_().exp_().sqrt_().clamp_max_(0.8).log1p_()
        x.scatter_(1, t.tensor([[0, 2], [1, 3], [3, 0]]), -1.0)
        x.scatter_add_(0, t.tensor([[0, 1, 2, 0]]), t.ones(1, 4, dtype=t.float64))
        x.index_add_(1, t.tensor([0, 0]), t.ones(3, 2, dtype=t.float64), alpha=2.0)
        return [f.numpy() for f in found] + [x.numpy()]

    for ours, theirs in zip(run(tinygan), run(torch)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-14)
        assert ours.dtype == theirs.dtype


# -- torch.Generator: a stream of its own ----------------------------------------------------------------------

def test_a_generator_is_a_stream_of_its_own_that_can_be_saved_and_restored():
    tinygan.manual_seed(0)
    first = host(tinygan.rand(4, generator=tinygan.Generator().manual_seed(5)))
    tinygan.manual_seed(1)                                        # the global seed does not reach it
    generator = tinygan.Generator().manual_seed(5)
    assert host(tinygan.rand(4, generator=generator)).tolist() == first.tolist()
    state = generator.get_state()
    drawn = [host(tinygan.randn(3, generator=generator)), host(tinygan.randint(0, 9, (3,), generator=generator)),
             host(tinygan.randperm(5, generator=generator)), host(tinygan.multinomial(tinygan.ones(4), 2,
                                                                                      generator=generator))]
    generator.set_state(state)
    again = [host(tinygan.randn(3, generator=generator)), host(tinygan.randint(0, 9, (3,), generator=generator)),
             host(tinygan.randperm(5, generator=generator)), host(tinygan.multinomial(tinygan.ones(4), 2,
                                                                                      generator=generator))]
    for a, b in zip(drawn, again):
        assert a.tolist() == b.tolist()
    assert generator.initial_seed() == 5 and tinygan.Generator().initial_seed() == 67280421310721


def test_a_generator_orders_random_split_and_the_dataloaders_shuffle():
    from tinygan.utils.data import DataLoader, TensorDataset, random_split
    data = TensorDataset(tinygan.arange(10))

    def order(seed):
        loader = DataLoader(data, batch_size=10, shuffle=True, generator=tinygan.Generator().manual_seed(seed))
        return host(next(iter(loader))[0]).tolist()

    assert order(3) == order(3) != order(4) and sorted(order(3)) == list(range(10))
    halves = [list(p.indices) for p in random_split(data, [5, 5], generator=tinygan.Generator().manual_seed(3))]
    assert halves == [list(p.indices) for p in random_split(data, [5, 5],
                                                            generator=tinygan.Generator().manual_seed(3))]


def test_a_generator_refuses_another_device():
    with pytest.raises(ValueError, match=r"generator: a generator on 'cpu' cannot draw for device 'gpu'"):
        tinygan.randn(2, device="gpu", generator=tinygan.Generator("cpu"))


# -- random draws: their frequencies, and the same draws from the same generator --------------------------------

def test_bernoulli_normal_and_exponential_draw_what_they_say():
    generator = tinygan.Generator().manual_seed(0)
    chances = tinygan.tensor(np.array([0.0, 0.2, 0.9, 1.0]))
    draws = np.stack([host(tinygan.bernoulli(chances, generator=generator)) for _ in range(4000)])
    np.testing.assert_allclose(draws.mean(axis=0), [0.0, 0.2, 0.9, 1.0], atol=0.02)
    assert set(np.unique(draws)) <= {0.0, 1.0} and host(tinygan.zeros(2000).bernoulli_(0.3)).mean() == pytest.approx(
        0.3, abs=0.03)
    normal = host(tinygan.normal(tinygan.full((20000,), 2.0), tinygan.full((20000,), 0.5), generator=generator))
    assert normal.mean() == pytest.approx(2.0, abs=0.02) and normal.std() == pytest.approx(0.5, abs=0.02)
    assert host(tinygan.normal(1.0, 3.0, size=(2, 3))).shape == (2, 3)
    exponential = host(tinygan.zeros(20000).exponential_(4.0))
    assert exponential.min() >= 0 and exponential.mean() == pytest.approx(0.25, abs=0.01)
    one = tinygan.Generator().manual_seed(7)
    two = tinygan.Generator().manual_seed(7)
    assert host(tinygan.bernoulli(tinygan.full((50,), 0.5), generator=one)).tolist() == host(
        tinygan.bernoulli(tinygan.full((50,), 0.5), generator=two)).tolist()


def test_the_like_makers_and_new_tensor_take_shape_dtype_and_device():
    x = tinygan.zeros(2, 3, dtype=tinygan.float64)
    for made in (tinygan.rand_like(x), tinygan.empty_like(x), x.new_tensor([[1, 2, 3], [4, 5, 6]])):
        assert tuple(made.shape) == (2, 3) and made.dtype == tinygan.float64
    integers = tinygan.randint_like(x, 3, 5)
    assert integers.dtype == tinygan.float64 and set(host(integers).ravel()) <= {3.0, 4.0}
    assert set(host(tinygan.randint_like(tinygan.zeros(50, dtype=tinygan.int64), 2)).ravel()) == {0, 1}
    assert not x.new_tensor([1.0]).requires_grad and x.new_tensor([1.0], requires_grad=True).requires_grad
    with pytest.raises(ValueError, match=r"bernoulli: the probabilities must be in \[0, 1\]"):
        tinygan.bernoulli(tinygan.tensor([0.5, 1.5]))
    with pytest.raises(TypeError, match=r"normal: with a number mean and std, give size="):
        tinygan.normal(0.0, 1.0)
