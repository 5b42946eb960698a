"""More of what PyTorch programs call: bmm, einsum, outer, lerp, tril, triu, flip, roll, gather, index_select, sort,
topk, pixel_shuffle, cosine_similarity, logsumexp, cumsum, amax, amin, any, all, isnan, isinf, isfinite, bool(), the
in-place lerp_, masked_fill_ and **=, random_split; Softplus, Hardtanh, Mish, PReLU, LogSigmoid, Softmin, SmoothL1Loss,
HuberLoss, ZeroPad2d, ConstantPad2d, unfold and fold, and Embedding's padding_idx.

The gradients are checked in tests/engine/test_op_contract.py. Here: the values over shapes drawn by hypothesis
against NumPy's own functions, clear errors for bad input, and, where torch is installed, outputs and gradients
equal to PyTorch's in float64."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygan
import tinygan.nn.functional as F
from tinygan import backend, nn
from tinygan.utils.data import Subset, TensorDataset, random_split

from torch_compare import assert_outputs_and_gradients_equal_pytorchs

DRAWN = settings(max_examples=25, deadline=None)


def host(t):
    return backend.to_numpy(t.array)


def tensor(array):
    return tinygan.tensor(backend.to_device(np.asarray(array), backend.current_device()))


shapes = st.lists(st.integers(1, 4), min_size=2, max_size=4).map(tuple)


# -- values over drawn shapes, against NumPy ---------------------------------------------------------------

@DRAWN
@given(shape=shapes, diagonal=st.integers(-4, 4), seed=st.integers(0, 2**16))
def test_tril_and_triu_keep_numpys_triangles(shape, diagonal, seed):
    x = np.random.default_rng(seed).standard_normal(shape)
    np.testing.assert_array_equal(host(tinygan.tril(tensor(x), diagonal)), np.tril(x, diagonal))
    np.testing.assert_array_equal(host(tinygan.triu(tensor(x), diagonal=diagonal)), np.triu(x, diagonal))


@DRAWN
@given(shape=shapes, data=st.data())
def test_flip_reverses_the_named_axes(shape, data):
    dims = data.draw(st.lists(st.integers(-len(shape), len(shape) - 1), min_size=1, max_size=len(shape),
                              unique_by=lambda d: d % len(shape)))
    x = np.arange(np.prod(shape), dtype=np.float64).reshape(shape)
    np.testing.assert_array_equal(host(tinygan.flip(tensor(x), dims)), np.flip(x, [d % len(shape) for d in dims]))


@DRAWN
@given(shape=shapes, data=st.data())
def test_gather_is_numpys_take_along_axis(shape, data):
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    index_shape = tuple(data.draw(st.integers(1, n)) if i != dim % len(shape) else data.draw(st.integers(1, 5))
                        for i, n in enumerate(shape))
    index = np.random.default_rng(len(shape)).integers(0, shape[dim], index_shape)
    x = np.random.default_rng(1).standard_normal(shape)
    # outside dim, the index may be shorter than x: gather reads the first positions there
    trimmed = x[tuple(slice(0, n) if i != dim % len(shape) else slice(None) for i, n in enumerate(index_shape))]
    np.testing.assert_array_equal(host(tinygan.gather(tensor(x), dim, tensor(index))),
                                  np.take_along_axis(trimmed, index, axis=dim))


@DRAWN
@given(data=st.data(), sizes=st.lists(st.integers(1, 3), min_size=4, max_size=4))
def test_einsum_equals_numpys_over_drawn_equations(data, sizes):
    letters = dict(zip("abcd", sizes))
    operands = data.draw(st.lists(st.lists(st.sampled_from("abcd"), unique=True, max_size=3), min_size=1, max_size=3))
    used = sorted({c for subscripts in operands for c in subscripts})
    output = data.draw(st.permutations(used).map(lambda letters_in_order: letters_in_order[:data.draw(
        st.integers(0, len(used)))]))
    equation = ",".join("".join(subscripts) for subscripts in operands) + "->" + "".join(output)
    rng = np.random.default_rng(sum(sizes))
    arrays = [rng.standard_normal(tuple(letters[c] for c in subscripts)) for subscripts in operands]
    np.testing.assert_allclose(host(tinygan.einsum(equation, *[tensor(a) for a in arrays])),
                               np.einsum(equation, *arrays), rtol=1e-12, atol=1e-12)


@DRAWN
@given(n=st.integers(1, 3), c=st.integers(1, 3), r=st.integers(1, 3), h=st.integers(1, 3), w=st.integers(1, 3))
def test_pixel_shuffle_puts_each_channel_group_into_a_block(n, c, r, h, w):
    x = np.arange(n * c * r * r * h * w, dtype=np.float64).reshape(n, c * r * r, h, w)
    y = host(F.pixel_shuffle(tensor(x), r))
    assert y.shape == (n, c, h * r, w * r)
    for i, j in np.ndindex(r, r):           # pixel (h r + i, w r + j) of channel k comes from channel k r^2 + i r + j
        np.testing.assert_array_equal(y[:, :, i::r, j::r], x[:, i * r + j::r * r])


# -- the ones without a drawn test --------------------------------------------------------------------------

def test_amax_amin_logsumexp_cumsum_and_the_tests_of_values():
    x = np.array([[1.0, -2.0, 3.0], [0.5, 4.0, -1.0]])
    t = tensor(x)
    assert host(t.amax(dim=1)).tolist() == [3.0, 4.0] and host(t.amin()).item() == -2.0
    assert host(t.amax(dim=(0, 1), keepdim=True)).shape == (1, 1)
    np.testing.assert_allclose(host(tinygan.logsumexp(t, dim=1)), np.log(np.exp(x).sum(axis=1)))
    np.testing.assert_allclose(host(t.logsumexp(0, keepdim=True)), np.log(np.exp(x).sum(axis=0, keepdims=True)))
    np.testing.assert_array_equal(host(tinygan.cumsum(t, dim=1)), np.cumsum(x, axis=1))
    np.testing.assert_array_equal(host(t.cumsum(0)), np.cumsum(x, axis=0))
    odd = tensor([1.0, np.nan, np.inf, -np.inf])
    assert host(tinygan.isnan(odd)).tolist() == [False, True, False, False]
    assert host(tinygan.isinf(odd)).tolist() == [False, False, True, True]
    assert host(tinygan.isfinite(odd)).tolist() == [True, False, False, False]
    assert (t > 0).float().bool().dtype == np.bool_ and not tinygan.isnan(t).any().item()
    assert tinygan.isnan(odd).any().item() and not tinygan.isfinite(odd).all().item()
    assert host((t > 0).any(dim=1)).tolist() == [True, True] and host(tinygan.all(t > -3, dim=0)).tolist() == [True] * 3
    assert host((t > 0).all(1, keepdim=True)).shape == (2, 1) and tinygan.any(t > 3.5).item()


def test_numel_as_tensor_clone_square_argsort_and_meshgrid():
    x = tensor([[3.0, 1.0, 2.0]])
    assert tinygan.numel(x) == 3 and host(tinygan.square(x)).tolist() == [[9.0, 1.0, 4.0]]
    assert host(tinygan.argsort(x)).tolist() == [[1, 2, 0]]
    assert host(tinygan.argsort(x, descending=True)).tolist() == [[0, 2, 1]]
    copy = tinygan.clone(x)
    assert copy.array is not x.array and host(copy).tolist() == host(x).tolist()
    assert tinygan.as_tensor(x) is x and tinygan.as_tensor(x, dtype=tinygan.float32).dtype == np.float32
    if backend.current_device() == "cpu":
        shared = np.ones(2)
        view = tinygan.as_tensor(shared)
        shared[0] = 5.0
        assert host(view).tolist() == [5.0, 1.0]                       # a NumPy array is shared, not copied
    rows, columns = tinygan.meshgrid(tensor([0.0, 1.0, 2.0]), tensor([5.0, 6.0]), indexing="ij")
    assert host(rows).tolist() == [[0, 0], [1, 1], [2, 2]] and host(columns).tolist() == [[5, 6]] * 3
    xs, ys = tinygan.meshgrid(tensor([0.0, 1.0, 2.0]), tensor([5.0, 6.0]), indexing="xy")
    assert host(xs).tolist() == [[0, 1, 2]] * 2 and host(ys).tolist() == [[5, 5, 5], [6, 6, 6]]
    with pytest.raises(ValueError, match="meshgrid: indexing must be 'ij' or 'xy'"):
        tinygan.meshgrid(x[0], indexing="yx")


def test_bmm_outer_and_lerp():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 4, 5))
    np.testing.assert_allclose(host(tinygan.bmm(tensor(a), tensor(b))), a @ b)
    np.testing.assert_allclose(host(tinygan.outer(tensor(a[0, 0]), tensor(b[0, 0]))), np.outer(a[0, 0], b[0, 0]))
    np.testing.assert_allclose(host(tinygan.lerp(tensor(a), tensor(a + 2.0), 0.25)), a + 0.5)


def test_lerp_and_masked_fill_in_place():
    average = tensor([0.0, 10.0])
    with tinygan.no_grad():
        average.lerp_(tensor([10.0, 20.0]), 0.1)        # a moving average's step, decay 0.9
    np.testing.assert_allclose(host(average), [1.0, 11.0])
    x = tensor(np.zeros((2, 3)))
    x.masked_fill_(tensor(np.array([True, False, True])), 7.0)   # the mask broadcasts over the rows
    assert host(x).tolist() == [[7.0, 0.0, 7.0], [7.0, 0.0, 7.0]]
    w = tinygan.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="lerp_: a leaf Variable that requires grad"):
        w.lerp_(tinygan.zeros(2), 0.5)


def test_random_split_gives_disjoint_subsets_of_the_asked_lengths():
    data = TensorDataset(tinygan.arange(11))
    tinygan.manual_seed(0)
    parts = random_split(data, [0.5, 0.3, 0.2])
    assert [len(p) for p in parts] == [6, 3, 2] and all(isinstance(p, Subset) for p in parts)  # PyTorch's counts
    seen = sorted(int(host(part[i][0])) for part in parts for i in range(len(part)))
    assert seen == list(range(11))
    first = [part.indices for part in random_split(data, [4, 7], generator=np.random.default_rng(3))]
    again = [part.indices for part in random_split(data, [4, 7], generator=np.random.default_rng(3))]
    assert first == again and [len(i) for i in first] == [4, 7]


@pytest.mark.parametrize("call, message", [
    (lambda: tinygan.bmm(tinygan.ones(2, 3), tinygan.ones(3, 2)), r"bmm: expects two 3-D tensors .* \(2, 3\)"),
    (lambda: tinygan.bmm(tinygan.ones(2, 3, 4), tinygan.ones(3, 4, 2)), r"bmm: .*same batch size"),
    (lambda: tinygan.outer(tinygan.ones(2, 2), tinygan.ones(2)), r"outer: expects two 1-D tensors"),
    (lambda: tinygan.tril(tinygan.ones(3)), r"tril: expects a tensor of at least 2 dimensions, got shape \(3,\)"),
    (lambda: tinygan.flip(tinygan.ones(2, 3), [1, -1]), r"flip: dims \(1, -1\) name an axis twice"),
    (lambda: tinygan.flip(tinygan.ones(2, 3), 2), r"flip: dimension out of range"),
    (lambda: tinygan.gather(tinygan.ones(2, 3), 1, tinygan.tensor([0, 1])), r"gather: index must be an integer "
                                                                            r"tensor with the input's 2 dimensions"),
    (lambda: tinygan.gather(tinygan.ones(2, 3), 1, tinygan.tensor([[0], [1], [2]])), r"larger than the input"),
    (lambda: F.pixel_shuffle(tinygan.ones(1, 6, 2, 2), 2), r"pixel_shuffle: expects \(N, C \* 2\^2, H, W\)"),
    (lambda: random_split(TensorDataset(tinygan.arange(5)), [2, 2]), r"random_split: lengths \[2, 2\] must .* 5"),
    (lambda: tinygan.einsum("...ij->ij", tinygan.ones(2, 3)), r"einsum: '...' is not supported"),
    (lambda: tinygan.einsum("ii->i", tinygan.ones(2, 2)), r"einsum: operand 0's subscripts 'ii' must be distinct"),
    (lambda: tinygan.einsum("ij,jk->ik", tinygan.ones(2, 3)), r"einsum: 'ij,jk->ik' names 2 operands, got 1"),
    (lambda: tinygan.einsum("ijk->i", tinygan.ones(2, 3)), r"einsum: operand 0 has 2 dimensions \(shape \(2, 3\)\)"),
    (lambda: tinygan.einsum("ij,jk->ik", tinygan.ones(2, 3), tinygan.ones(4, 2)), r"einsum: 'j' is 3 long in one "
                                                                                   r"operand and 4 in operand 1"),
    (lambda: tinygan.einsum("ij->ik", tinygan.ones(2, 3)), r"einsum: the output 'ik' must name distinct letters"),
    (lambda: tinygan.topk(tinygan.ones(2, 3), 4), r"topk: k = 4 is out of range for 3 elements along dim 1"),
    (lambda: tinygan.sort(tinygan.tensor(1.0)), r"sort: expects a tensor of at least 1 dimension"),
    (lambda: tinygan.roll(tinygan.ones(2, 3), (1, 2), 0), r"roll: shifts \(1, 2\) and dims \(0,\) must be as many"),
    (lambda: tinygan.index_select(tinygan.ones(2, 3), 0, tinygan.tensor([[0]])), r"index_select: index must be a 1-D"),
    (lambda: F.hardtanh(tinygan.ones(2), 1.0, -1.0), r"hardtanh: min_val \(1.0\) must not be greater than max_val"),
    (lambda: nn.Softplus(beta=0), r"Softplus: beta must be > 0, got 0"),
    (lambda: F.smooth_l1_loss(tinygan.ones(2), tinygan.ones(2), beta=-1.0), r"smooth_l1_loss: beta must be >= 0"),
    (lambda: F.huber_loss(tinygan.ones(2), tinygan.ones(2), delta=0.0), r"huber_loss: delta must be > 0"),
    (lambda: nn.Embedding(4, 2, padding_idx=4), r"Embedding: padding_idx must be within num_embeddings \(4\)"),
    (lambda: F.prelu(tinygan.ones(2, 4), tinygan.ones(3)), r"prelu: 3 slopes need an input with that many channels"),
    (lambda: nn.ZeroPad2d((1, 2)), r"ZeroPad2d: padding must be an int or \(left, right, top, bottom\)"),
])
def test_bad_input_is_named(call, message):
    with pytest.raises((ValueError, IndexError), match=message):
        call()


# -- against PyTorch, outputs and gradients in float64 -------------------------------------------------------

def _inputs(rng):
    return {"a": rng.standard_normal((2, 3, 4)), "b": rng.standard_normal((2, 4, 3)), "v": rng.standard_normal(4),
            "w": rng.standard_normal(5), "s": rng.standard_normal((2, 8, 3, 2))}


def _gather_index(t):
    return t.tensor(np.array([[[0, 2, 1, 1]], [[2, 2, 0, 1]]]))


FUNCTIONS = {
    "bmm": lambda t, f, x: t.bmm(x["a"], x["b"]),
    "Tensor.bmm": lambda t, f, x: x["a"].bmm(x["b"]),
    "outer": lambda t, f, x: t.outer(x["v"], x["w"]),
    "lerp": lambda t, f, x: t.lerp(x["a"], x["b"].transpose(1, 2), 0.3),
    "Tensor.lerp (tensor weight)": lambda t, f, x: x["a"].lerp(x["b"].transpose(1, 2), t.sigmoid(x["a"])),
    "tril": lambda t, f, x: t.tril(x["a"], diagonal=1),
    "triu": lambda t, f, x: t.triu(x["a"], -1),
    "Tensor.tril": lambda t, f, x: x["a"].tril(),
    "flip": lambda t, f, x: t.flip(x["a"], dims=[0, 2]),
    "Tensor.flip": lambda t, f, x: x["a"].flip(1),
    "gather": lambda t, f, x: t.gather(x["a"], 1, _gather_index(t)),
    "Tensor.gather": lambda t, f, x: x["a"].gather(1, _gather_index(t)),
    "pixel_shuffle": lambda t, f, x: f.pixel_shuffle(x["s"], 2),
    "PixelShuffle": lambda t, f, x: t.nn.PixelShuffle(2)(x["s"]),
    "logsumexp": lambda t, f, x: t.logsumexp(x["a"], dim=1),
    "Tensor.logsumexp": lambda t, f, x: x["a"].logsumexp(2, keepdim=True),
    "cumsum": lambda t, f, x: t.cumsum(x["a"], dim=2),
    "Tensor.cumsum": lambda t, f, x: x["a"].cumsum(0),
    "einsum": lambda t, f, x: t.einsum("bij,bjk->bik", x["a"], x["b"]),
    "einsum (implicit output, a list)": lambda t, f, x: t.einsum("bij,k", [x["a"], x["v"]]),
    "einsum (a sum over an operand's own axis)": lambda t, f, x: t.einsum("bij->j", x["a"]),
    "sort": lambda t, f, x: t.sort(x["a"], dim=1).values,
    "Tensor.sort (descending)": lambda t, f, x: x["a"].sort(0, descending=True)[0],
    "topk": lambda t, f, x: t.topk(x["a"], 2).values,
    "Tensor.topk (smallest, dim 1)": lambda t, f, x: x["a"].topk(2, dim=1, largest=False)[0],
    "roll": lambda t, f, x: t.roll(x["a"], (1, -2), (0, 2)),
    "Tensor.roll (flattened)": lambda t, f, x: x["a"].roll(5),
    "index_select": lambda t, f, x: t.index_select(x["a"], 2, t.tensor([3, 0, 3])),
    "cosine_similarity": lambda t, f, x: f.cosine_similarity(x["a"], x["b"].transpose(1, 2), dim=2),
    "cosine_similarity (a zero vector)": lambda t, f, x: f.cosine_similarity(x["v"] * 0, x["v"], dim=0),
    "Softplus (beta 2)": lambda t, f, x: t.nn.Softplus(beta=2.0)(x["a"]),
    "prelu (a slope per channel)": lambda t, f, x: f.prelu(x["a"], x["v"][:3]),
    "PReLU": lambda t, f, x: t.nn.PReLU().double()(x["a"]),
    "ZeroPad2d": lambda t, f, x: t.nn.ZeroPad2d((1, 0, 2, 1))(x["s"]),
    "ConstantPad2d": lambda t, f, x: t.nn.ConstantPad2d(1, 3.5)(x["s"]),
    "unfold": lambda t, f, x: f.unfold(x["s"], 2, 1, 1, 2),
    "fold": lambda t, f, x: f.fold(x["s"].reshape(2, 4, 12), (3, 4), (2, 2), padding=(1, 0)),
    "Hardtanh": lambda t, f, x: t.nn.Hardtanh(-0.5, 0.7)(x["a"]),
    "Mish": lambda t, f, x: t.nn.Mish()(x["a"]),
    "LogSigmoid (far tails)": lambda t, f, x: t.nn.LogSigmoid()(x["a"] * 80),
    "Softmin": lambda t, f, x: t.nn.Softmin(dim=1)(x["a"]),
    "SmoothL1Loss": lambda t, f, x: t.nn.SmoothL1Loss(beta=0.5)(x["a"], x["b"].transpose(1, 2)),
    "HuberLoss": lambda t, f, x: t.nn.HuberLoss(reduction="none", delta=0.7)(x["a"], x["b"].transpose(1, 2)),
    "Embedding (padding_idx)": lambda t, f, x: f.embedding(t.tensor([[3, 1], [3, 0]]), x["s"][0, :4, :, 0],
                                                           padding_idx=3),
    "meshgrid (xy, three)": lambda t, f, x: t.stack(t.meshgrid(x["v"], x["w"], x["v"][:2], indexing="xy")),
    "square": lambda t, f, x: t.square(x["a"]),
    "Tensor.amax": lambda t, f, x: x["a"].amax(dim=1),
    "Tensor.amin": lambda t, f, x: x["a"].amin(dim=(0, 2), keepdim=True),
}


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_outputs_and_gradients_equal_pytorchs(name):
    assert_outputs_and_gradients_equal_pytorchs(FUNCTIONS[name], _inputs(np.random.default_rng(0)))


def test_in_place_ones_and_item_assignment_equal_pytorchs():
    torch = pytest.importorskip("torch")
    start = np.random.default_rng(0).standard_normal((3, 4))
    mask = np.random.default_rng(1).standard_normal(4) > 0

    def run(t):
        x = t.tensor(start)
        x.lerp_(t.tensor(start * 2 + 1), 0.25)
        x.masked_fill_(t.tensor(mask), -3.0)
        x.sub_(t.tensor(start), alpha=0.5)
        x.div_(2.0)
        x[0] = 9.0
        x[1, 2:] = t.tensor([4.0, 5.0], dtype=t.float64)
        x[x > 8.5] = 0.0
        x[t.tensor([2, 2]), t.tensor([0, 3])] = 1.5
        x += 1
        x *= t.tensor(start)
        x **= 2
        return x.numpy()

    np.testing.assert_allclose(run(tinygan), run(torch), rtol=1e-15)


def test_an_embeddings_padding_row_starts_at_zero_and_stays_there():
    tinygan.manual_seed(0)
    table = nn.Embedding(5, 3, padding_idx=-1)
    assert table.padding_idx == 4 and host(table.weight)[4].tolist() == [0.0] * 3 and "padding_idx=4" in repr(table)
    optimizer = tinygan.optim.SGD(table.parameters(), lr=0.5)
    for _ in range(3):
        optimizer.zero_grad()
        (table(tinygan.tensor([[4, 1, 4], [2, 4, 0]])) ** 2).sum().backward()
        assert host(table.weight.grad)[4].tolist() == [0.0] * 3
        optimizer.step()
    assert host(table.weight)[4].tolist() == [0.0] * 3 and host(table.weight)[3].tolist() != [0.0] * 3


def test_random_split_takes_pytorchs_lengths():
    torch = pytest.importorskip("torch")
    for n, fractions in ((11, [0.5, 0.3, 0.2]), (7, [0.5, 0.5]), (10, [0.1, 0.1, 0.8]), (3, [0.25, 0.25, 0.5])):
        ours = [len(p) for p in random_split(TensorDataset(tinygan.arange(n)), fractions)]
        theirs = [len(p) for p in torch.utils.data.random_split(torch.utils.data.TensorDataset(torch.arange(n)),
                                                                 fractions)]
        assert ours == theirs, (n, fractions)
