"""The Tensor API that PyTorch code uses: protocol, methods, in-place rules, `.data`, dtypes and devices.

Where torch is installed, every new op and method is compared with PyTorch in float64: outputs and the
gradients for a random output weighting. Those tests skip without torch (never a dependency).
"""
import copy

import numpy as np
import pytest

import tinygan
import tinygan.functional as F
from tinygan import Tensor, backend, nn


def host(t):
    return backend.to_numpy(t.array if isinstance(t, Tensor) else t)


def leaf(array):
    return Tensor(backend.to_device(np.array(array, dtype=np.float64), backend.current_device()), requires_grad=True)


# -- protocol ------------------------------------------------------------------------------------

def test_equality_is_elementwise_and_hash_stays_by_identity():
    a = tinygan.tensor([1.0, 46.0, 3.0])
    b = tinygan.tensor([1.0, 0.0, 3.0])
    assert host(a == 46.0).tolist() == [False, True, False]
    assert host(a == b).tolist() == [True, False, True] and host(a != b).tolist() == [False, True, False]
    assert (a == b).dtype == np.bool_
    assert len({a, b, a}) == 2 and {a: 1}[a] == 1        # hashing and dict lookup by identity
    assert (a == None) is False and (a != None) is True  # noqa: E711 (PyTorch answers these too)
    with pytest.raises(ValueError, match=r"eq: shapes \(3,\) and \(2,\)"):
        a == tinygan.tensor([1.0, 2.0])


def test_truth_numbers_and_formats_of_one_element_tensors():
    assert bool(tinygan.tensor([5.0]) < 1) is False       # was True: truth came from len()
    assert bool(tinygan.tensor(0.5)) and not bool(tinygan.tensor([0.0]))
    assert float(tinygan.tensor([2.5])) == 2.5 and int(tinygan.tensor(7.9)) == 7
    assert f"{tinygan.tensor(0.123456):.3f}" == "0.123" and f"{tinygan.tensor([3]):d}" == "3"
    two = tinygan.tensor([1.0, 2.0])
    with pytest.raises(RuntimeError, match="Boolean value of Tensor with more than one value is ambiguous"):
        bool(two)
    with pytest.raises(ValueError, match="only one element tensors can be converted to Python scalars"):
        float(two)
    with pytest.raises(ValueError, match="only one element tensors can be converted to Python scalars"):
        int(two)
    with pytest.raises(TypeError, match="unsupported format string passed to Tensor.__format__"):
        f"{two:.2f}"
    assert f"{two}" == str(two)
    assert host(abs(tinygan.tensor([-1.5, 2.0]))).tolist() == [1.5, 2.0] and len(two) == 2
    with pytest.raises(TypeError, match="len\\(\\) of a 0-d tensor"):
        len(tinygan.tensor(1.0))


def test_size_numel_dim():
    x = tinygan.zeros(2, 3, 4)
    assert x.size() == (2, 3, 4) and isinstance(x.size(), tuple) and x.size(1) == 3 and x.size(-1) == 4
    assert x.numel() == 24 and x.dim() == 3 and x.size().numel() == 24
    with pytest.raises(IndexError, match=r"size: dimension out of range \(expected to be in range of \[-3, 2\], but got 3\)"):
        x.size(3)


# -- methods against PyTorch ---------------------------------------------------------------------

CASES = {
    # name: (tinygan call, torch call, input shapes); inputs are float64 values well apart (no ties)
    "view": (lambda x: x.view(4, -1), lambda x: x.view(4, -1), [(2, 6)]),
    "squeeze": (lambda x: x.squeeze(), lambda x: x.squeeze(), [(3, 1, 2, 1)]),
    "squeeze(dim)": (lambda x: x.squeeze(1), lambda x: x.squeeze(1), [(3, 1, 2)]),
    "squeeze(non-1 dim)": (lambda x: x.squeeze(0), lambda x: x.squeeze(0), [(3, 1, 2)]),
    "unsqueeze": (lambda x: x.unsqueeze(-1), lambda x: x.unsqueeze(-1), [(3, 2)]),
    "flatten": (lambda x: x.flatten(), lambda x: x.flatten(), [(2, 3, 2)]),
    "flatten(1, 2)": (lambda x: x.flatten(1, 2), lambda x: x.flatten(1, 2), [(2, 3, 2, 2)]),
    "expand": (lambda x: x.expand(2, 3, 4), lambda x: x.expand(2, 3, 4), [(3, 1)]),
    "expand(-1)": (lambda x: x.expand(-1, 5), lambda x: x.expand(-1, 5), [(3, 1)]),
    "repeat": (lambda x: x.repeat(2, 1, 3), lambda x: x.repeat(2, 1, 3), [(3, 2)]),
    "permute": (lambda x: x.permute(2, 0, 1), lambda x: x.permute(2, 0, 1), [(2, 3, 4)]),
    "transpose": (lambda x: x.transpose(0, 2), lambda x: x.transpose(0, 2), [(2, 3, 4)]),
    "t": (lambda x: x.t(), lambda x: x.t(), [(2, 3)]),
    "contiguous": (lambda x: x.t().contiguous(), lambda x: x.t().contiguous(), [(2, 3)]),
    "clone": (lambda x: x.clone(), lambda x: x.clone(), [(2, 3)]),
    "matmul": (lambda a, b: a.matmul(b), lambda a, b: a.matmul(b), [(2, 3), (3, 4)]),
    "pow": (lambda x: x.abs().pow(1.5), lambda x: x.abs().pow(1.5), [(2, 3)]),
    "abs": (lambda x: x.abs(), lambda x: x.abs(), [(2, 3)]),
    "max": (lambda x: x.max(), lambda x: x.max(), [(3, 4)]),
    "max(dim).values": (lambda x: x.max(1)[0], lambda x: x.max(1)[0], [(3, 4)]),
    "max(dim, keepdim)": (lambda x: x.max(dim=0, keepdim=True).values, lambda x: x.max(dim=0, keepdim=True).values,
                          [(3, 4)]),
    "min(dim).values": (lambda x: x.min(-1).values, lambda x: x.min(-1).values, [(2, 3, 4)]),
    "max(other)": (lambda a, b: a.max(b), lambda a, b: a.max(b), [(3, 4), (4,)]),
    "sum(dim)": (lambda x: x.sum(dim=1), lambda x: x.sum(dim=1), [(2, 3, 4)]),
    "sum(dims, keepdim)": (lambda x: x.sum((0, 2), keepdim=True), lambda x: x.sum((0, 2), keepdim=True), [(2, 3, 4)]),
    "mean(dim)": (lambda x: x.mean(-1), lambda x: x.mean(-1), [(2, 3, 4)]),
    "std": (lambda x: x.std(), lambda x: x.std(), [(3, 4)]),
    "std(dim, keepdim)": (lambda x: x.std(dim=0, keepdim=True), lambda x: x.std(dim=0, keepdim=True), [(3, 4)]),
    "var(dim, unbiased=False)": (lambda x: x.var(1, unbiased=False), lambda x: x.var(1, unbiased=False), [(3, 4)]),
    "var(correction=0)": (lambda x: x.var(correction=0), lambda x: x.var(correction=0), [(3, 4)]),
    "masked_fill": (lambda x: x.masked_fill(x > 0.1, -2.0), lambda x: x.masked_fill(x > 0.1, -2.0), [(3, 4)]),
    "where": (lambda a, b: tinygan.where(a > b, a, b * 2), None, [(3, 4), (4,)]),
    "maximum": (lambda a, b: tinygan.maximum(a, b), None, [(3, 4), (3, 1)]),
    "minimum": (lambda a, b: tinygan.minimum(a, b), None, [(3, 4), (4,)]),
    "stack": (lambda a, b: tinygan.stack([a, b], dim=1), None, [(2, 3), (2, 3)]),
    "cat": (lambda a, b: tinygan.cat([a, b], dim=1), None, [(2, 3), (2, 2)]),
    "double": (lambda x: x.float().double() * 3, lambda x: x.float().double() * 3, [(2, 3)]),
    "to(dtype)": (lambda x: x.to(tinygan.float32).to(tinygan.float64), lambda x: x.to(torch_module().float32)
                  .to(torch_module().float64), [(2, 3)]),
    "type_as": (lambda x: x.type_as(tinygan.zeros(1, dtype=np.float64)),
                lambda x: x.type_as(torch_module().zeros(1, dtype=torch_module().float64)), [(2, 3)]),
    "view_as": (lambda a, b: a.view_as(b) * b, lambda a, b: a.view_as(b) * b, [(2, 6), (3, 4)]),
    "expand_as": (lambda a, b: a.expand_as(b) * b, lambda a, b: a.expand_as(b) * b, [(3, 1), (2, 3, 4)]),
    "narrow": (lambda x: x.narrow(1, 1, 2), lambda x: x.narrow(1, 1, 2), [(3, 4)]),
    "narrow(negative start)": (lambda x: x.narrow(-1, -3, 2), lambda x: x.narrow(-1, -3, 2), [(2, 3, 4)]),
    "norm": (lambda x: x.norm(), lambda x: x.norm(), [(3, 4)]),
    "norm(dim)": (lambda x: x.norm(dim=1), lambda x: x.norm(dim=1), [(3, 4)]),
    "norm(1, dim, keepdim)": (lambda x: x.norm(1, 0, True), lambda x: x.norm(1, 0, True), [(3, 4)]),
    "norm(3, dims)": (lambda x: x.norm(p=3, dim=(0, 2)), lambda x: x.norm(p=3, dim=(0, 2)), [(2, 3, 4)]),
    "norm(inf, dim)": (lambda x: x.norm(float("inf"), dim=-1), lambda x: x.norm(float("inf"), dim=-1), [(3, 4)]),
    "norm(-inf)": (lambda x: x.norm(float("-inf")), lambda x: x.norm(float("-inf")), [(3, 4)]),
    "half": (lambda x: x.half().double() * 3, lambda x: x.half().double() * 3, [(2, 3)]),
    "type(DoubleTensor)": (lambda x: x.type(tinygan.FloatTensor).type(tinygan.DoubleTensor),
                           lambda x: x.type(torch_module().FloatTensor).type(torch_module().DoubleTensor), [(2, 3)]),
    "type(dtype)": (lambda x: x.type(tinygan.float32).type("torch.DoubleTensor"),
                    lambda x: x.type(torch_module().float32).type("torch.DoubleTensor"), [(2, 3)]),
}
_TORCH_NAMES = {"where": "where", "maximum": "maximum", "minimum": "minimum", "stack": "stack", "cat": "cat"}


def torch_module():
    return pytest.importorskip("torch")


def torch_call(name):
    torch = torch_module()
    call = CASES[name][1]
    if call is not None:
        return call
    return {
        "where": lambda a, b: torch.where(a > b, a, b * 2),
        "maximum": torch.maximum, "minimum": torch.minimum,
        "stack": lambda a, b: torch.stack([a, b], dim=1), "cat": lambda a, b: torch.cat([a, b], dim=1),
    }[name]


def apart(shape, rng):
    """Distinct float64 values 0.1 apart, shuffled, none within 0.05 of zero or of another input's values."""
    count = int(np.prod(shape))
    return (rng.permutation(count) * 0.1 - count * 0.05 + 0.05 + rng.uniform(-0.01, 0.01)).reshape(shape)


@pytest.mark.parametrize("name", sorted(CASES))
def test_method_matches_pytorch(name):
    torch = torch_module()
    fn, shapes = CASES[name][0], CASES[name][2]
    rng = np.random.default_rng(abs(hash(name)) % 2**32)
    arrays = [apart(shape, rng) for shape in shapes]
    ours = [leaf(a) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, expected = fn(*ours), torch_call(name)(*theirs)
    assert out.shape == tuple(expected.shape) and out.dtype == np.float64
    np.testing.assert_allclose(host(out), expected.detach().numpy(), rtol=1e-12, atol=1e-14)
    weighting = rng.standard_normal(out.shape)
    out.backward(Tensor(backend.to_device(weighting, backend.current_device())))
    expected.backward(torch.tensor(weighting))
    for i, (x, t) in enumerate(zip(ours, theirs)):
        np.testing.assert_allclose(host(x.grad), t.grad.numpy(), rtol=1e-12, atol=1e-14, err_msg=f"gradient {i}")


@pytest.mark.parametrize("op", ["maximum", "minimum", "max(other)"])
def test_ties_split_the_gradient_as_pytorch_does(op):
    torch = torch_module()
    a, b = np.array([1.0, 2.0, 3.0]), np.array([1.0, 5.0, 3.0])
    x, y = leaf(a), leaf(b)
    tx, ty = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    ours = {"maximum": tinygan.maximum, "minimum": tinygan.minimum, "max(other)": lambda p, q: p.max(q)}[op]
    theirs = {"maximum": torch.maximum, "minimum": torch.minimum, "max(other)": lambda p, q: p.max(q)}[op]
    ours(x, y).sum().backward()
    theirs(tx, ty).sum().backward()
    np.testing.assert_array_equal(host(x.grad), tx.grad.numpy())
    np.testing.assert_array_equal(host(y.grad), ty.grad.numpy())


def test_max_and_min_with_dim_return_values_and_indices_like_pytorch():
    torch = torch_module()
    a = apart((3, 4), np.random.default_rng(0))
    for name in ("max", "min"):
        ours, theirs = getattr(leaf(a), name)(1), getattr(torch.tensor(a), name)(1)
        values, indices = ours
        np.testing.assert_array_equal(host(indices), theirs.indices.numpy())
        assert indices.dtype == np.int64 and host(values).tolist() == theirs.values.tolist()
    x = leaf(a)
    assert host(x.argmax()) == torch.tensor(a).argmax().item()
    np.testing.assert_array_equal(host(x.argmin(0, keepdim=True)), torch.tensor(a).argmin(0, keepdim=True).numpy())
    assert host(x.max(axis=1)).tolist() == a.max(axis=1).tolist()  # tinygan's axis= keeps giving the values only


def test_comparison_methods_match_pytorch():
    torch = torch_module()
    a, b = np.array([[1.0, 2.0, 3.0]]), np.array([2.0, 2.0, 1.0])
    for name in ("eq", "ne", "lt", "le", "gt", "ge"):
        ours = getattr(leaf(a), name)(leaf(b))
        np.testing.assert_array_equal(host(ours), getattr(torch.tensor(a), name)(torch.tensor(b)).numpy(), err_msg=name)
        np.testing.assert_array_equal(host(getattr(leaf(a), name)(2.0)), getattr(torch.tensor(a), name)(2.0).numpy())


def test_var_and_std_match_numpy():
    x = np.random.default_rng(3).normal(2.0, 3.0, (4, 5))
    for correction in (0, 1, 2):
        np.testing.assert_allclose(host(F.var(leaf(x), axis=0, correction=correction)), x.var(axis=0, ddof=correction),
                                   rtol=1e-12)
        np.testing.assert_allclose(host(F.std(leaf(x), correction=correction)), x.std(ddof=correction), rtol=1e-12)
    assert abs(float(leaf(x).var()) - x.var(ddof=1)) < 1e-12  # unbiased by default, as in PyTorch


def test_shape_errors_name_the_op_and_shapes():
    x = tinygan.zeros(2, 3)
    with pytest.raises(ValueError, match=r"stack: expects each tensor to be equal size, but got \(2, 3\) at entry 0 "
                                         r"and \(3,\) at entry 1"):
        tinygan.stack([x, tinygan.zeros(3)])
    with pytest.raises(ValueError, match=r"expand: the expanded size of the tensor \(4\) must match the existing size "
                                         r"\(3\) at non-singleton dimension 1"):
        x.expand(2, 4)
    with pytest.raises(ValueError, match="repeat: number of dimensions of repeat dims \\(1\\)"):
        x.repeat(2)
    with pytest.raises(IndexError, match=r"unsqueeze: dimension out of range \(expected to be in range of \[-3, 2\]"):
        x.unsqueeze(3)
    with pytest.raises(ValueError, match=r"t: expects a tensor with <= 2 dimensions, but got shape \(1, 2, 3\)"):
        tinygan.zeros(1, 2, 3).t()
    with pytest.raises(ValueError, match=r"masked_fill: mask of shape \(2,\) does not broadcast to the input.s shape"):
        x.masked_fill(tinygan.zeros(2) > 0, 1.0)
    with pytest.raises(TypeError, match="where: the condition must be a boolean tensor"):
        tinygan.where(x, x, x)
    with pytest.raises(IndexError, match=r"max: dimension out of range"):
        x.max(2)


# -- dtypes, devices, autograd flags -------------------------------------------------------------

def test_dtype_conversions_stay_in_the_graph():
    x = leaf([1.0, 2.0])
    y = x.float()
    assert y.dtype == np.float32 and y.requires_grad
    (y * y).sum().backward()
    assert x.grad.dtype == np.float64 and host(x.grad).tolist() == [2.0, 4.0]
    assert x.double() is x and x.to(np.float64) is x
    assert tinygan.zeros(2).type_as(x).dtype == np.float64 and tinygan.zeros(2).to(x).dtype == np.float64
    with pytest.raises(ValueError, match="to: unknown device 'tpu'"):
        x.to("tpu")


def test_devices_use_pytorch_names_too():
    x = tinygan.zeros(2)
    here = backend.current_device()
    assert x.device == here and x.device == tinygan.device(here) and x.is_cuda == (here == "gpu")
    assert tinygan.device("cuda") == "gpu" and tinygan.device("gpu").type == "cuda" and str(tinygan.device("cpu")) == "cpu"
    assert x.cpu().device == "cpu" and backend.normalize_device("cuda") == "gpu"
    assert {tinygan.device("cpu"): 1}["cpu"] == 1


def test_requires_grad_and_detach_in_place():
    x = tinygan.zeros(3).requires_grad_()
    assert x.requires_grad and x.is_leaf
    y = x * 2
    assert y.detach_() is y and not y.requires_grad and y.is_leaf
    with pytest.raises(RuntimeError, match="requires_grad_: only tensors of floating point dtype"):
        tinygan.arange(3).requires_grad_()
    with pytest.raises(RuntimeError, match="you can only change requires_grad flags of leaf variables"):
        (x * 2).requires_grad_(False)


# -- in place ------------------------------------------------------------------------------------

IN_PLACE = {
    "fill_": ((1.5,), lambda a: np.full_like(a, 1.5)),
    "zero_": ((), np.zeros_like),
    "add_": ((2.0,), lambda a: a + 2.0),
    "sub_": ((2.0,), lambda a: a - 2.0),
    "mul_": ((3.0,), lambda a: a * 3.0),
    "div_": ((4.0,), lambda a: a / 4.0),
    "clamp_": ((-0.5, 0.5), lambda a: np.clip(a, -0.5, 0.5)),
    "copy_": ((np.array([7.0, 8.0, 9.0]),), lambda a: np.array([7.0, 8.0, 9.0])),
}


@pytest.mark.parametrize("name", sorted(IN_PLACE))
def test_in_place_methods_follow_pytorchs_rules(name):
    args, expected = IN_PLACE[name]
    start = np.array([-1.0, 0.25, 2.0])
    w = leaf(start)
    with pytest.raises(RuntimeError, match=f"{name}: a leaf Variable that requires grad is being used in an in-place "
                                           f"operation"):
        getattr(w, name)(*args)
    assert host(w).tolist() == start.tolist()  # refused before anything changed
    with pytest.raises(RuntimeError, match=f"{name}: in-place operations on a tensor computed by a recorded graph"):
        getattr(w * 1, name)(*args)
    with tinygan.no_grad():
        assert getattr(w, name)(*args) is w
    np.testing.assert_array_equal(host(w), expected(start))
    plain = leaf(start).detach()
    getattr(plain, name)(*args)
    np.testing.assert_array_equal(host(plain), expected(start))


def test_random_fills_are_seeded_and_have_the_asked_distribution():
    w = tinygan.zeros(200, 100)
    with tinygan.no_grad():
        tinygan.manual_seed(0)
        w.normal_(0.0, 0.02)
        first = host(w).copy()
        tinygan.manual_seed(0)
        w.normal_(0.0, 0.02)
    assert np.array_equal(first, host(w)) and w.dtype == np.float32
    assert abs(first.mean()) < 0.001 and abs(first.std() - 0.02) < 0.001
    w.uniform_(-2.0, 3.0)
    u = host(w)
    assert u.min() >= -2.0 and u.max() < 3.0 and abs(u.mean() - 0.5) < 0.05


def test_data_in_place_methods_work_as_in_older_pytorch_tutorials():
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4))

    def weights_init(m):  # the DCGAN tutorial's initialiser, unchanged
        classname = m.__class__.__name__
        if classname.find("Conv") != -1:
            m.weight.data.normal_(0.0, 0.02)
        elif classname.find("BatchNorm") != -1:
            m.weight.data.normal_(1.0, 0.02)
            m.bias.data.fill_(0)

    before = host(model[0].weight).copy()
    model.apply(weights_init)
    conv, bn = host(model[0].weight), host(model[1].weight)
    assert not np.array_equal(conv, before) and abs(conv.std() - 0.02) < 0.01
    assert abs(bn.mean() - 1.0) < 0.05 and host(model[1].bias).tolist() == [0.0] * 4
    assert model[0].weight.requires_grad and model[0].weight.is_leaf


def test_data_is_a_detached_tensor_sharing_the_values():
    p = leaf([1.0, 2.0, 3.0])
    d = p.data
    assert isinstance(d, Tensor) and d.array is p.array          # the same memory, not a copy
    assert not d.requires_grad and d.is_leaf and d.creator is None and d.grad is None
    assert d.size(0) == 3 and d.view(3, 1).shape == (3, 1)      # every tensor method works on it
    p.data.clamp_(1.5, 2.5)                                     # the WGAN weight clipping, unchanged
    assert host(p).tolist() == [1.5, 2.0, 2.5] and p.requires_grad
    p.data.mul_(2.0)                                            # in place reaches the parameter
    assert host(p).tolist() == [3.0, 4.0, 5.0]
    p.data.add_(tinygan.tensor([1.0, 1.0, 1.0], dtype=np.float64), alpha=2)
    assert host(p).tolist() == [5.0, 6.0, 7.0]
    loss = (p * p).sum()
    assert loss.data.item() == 110.0 and not loss.data.requires_grad
    assert (p.data * 2).creator is None                          # no history is recorded through .data


def test_assigning_data_replaces_the_values():
    p = leaf([1.0, 2.0, 3.0])
    p.data = tinygan.tensor([4.0, 5.0], dtype=np.float64)       # a tensor, as in PyTorch
    assert p.shape == (2,) and host(p).tolist() == [4.0, 5.0] and p.requires_grad
    p.data = backend.to_device(np.zeros(2), backend.current_device())   # or an array
    assert host(p).tolist() == [0.0, 0.0]


def test_array_is_the_backends_array_and_in_place_updates_keep_it():
    p = leaf([1.0, 2.0, 3.0])
    array = p.array
    assert array is p.array and array.shape == (3,) and backend.get_array_module(array) is backend.xp()
    p.array -= 0.5                                      # the optimizers' update: in place, same array
    assert p.array is array and host(p).tolist() == [0.5, 1.5, 2.5]


def test_an_in_place_change_through_data_on_a_computed_tensor_is_allowed_and_the_tensor_itself_refused():
    w = leaf([1.0, 2.0])
    y = w * 3
    with pytest.raises(RuntimeError, match="mul_: in-place operations on a tensor computed by a recorded graph"):
        y.mul_(2.0)
    y.data.mul_(2.0)                                    # PyTorch's escape hatch: no checks, as there
    assert host(y).tolist() == [6.0, 12.0]


def test_a_copied_tensor_has_its_own_data():
    p = leaf([1.0, 2.0])
    q = copy.deepcopy(p)
    q.data.fill_(5.0)
    assert host(q).tolist() == [5.0, 5.0] and host(p).tolist() == [1.0, 2.0]


# -- conversions, new_* and narrow as PyTorch code writes them -------------------------------------------

def test_type_names_and_integer_conversions_match_pytorch():
    torch = torch_module()
    a = np.array([[-1.7, 0.2, 2.9], [3.5, -0.5, 7.0]])
    ours, theirs = leaf(a), torch.tensor(a, requires_grad=True)
    for convert in (lambda x: x.long(), lambda x: x.int(), lambda x: x.half(), lambda x: x.float(),
                    lambda x: x.type(tinygan.LongTensor if isinstance(x, Tensor) else torch.LongTensor),
                    lambda x: x.type(tinygan.BoolTensor if isinstance(x, Tensor) else torch.BoolTensor)):
        mine, expected = convert(ours), convert(theirs)
        assert mine.type() == expected.type() and str(mine.dtype) == str(expected.dtype).replace("torch.", "")
        assert mine.requires_grad == expected.requires_grad
        np.testing.assert_array_equal(host(mine), expected.detach().numpy())
    assert ours.type() == theirs.type() == "torch.DoubleTensor"
    assert ours.type(tinygan.DoubleTensor) is ours and ours.type(tinygan.float64) is ours   # no change: itself
    assert ours.type(Tensor).dtype == np.float32 == tinygan.get_default_dtype()   # torch.Tensor: the default dtype
    with pytest.raises(ValueError, match="type: invalid type 'torch.NoSuchTensor'"):
        ours.type("torch.NoSuchTensor")


def test_new_zeros_ones_full_and_empty_keep_dtype_and_device_like_pytorch():
    torch = torch_module()
    ours, theirs = tinygan.zeros(2, dtype=np.float64), torch.zeros(2, dtype=torch.float64)
    for call in (lambda x: x.new_zeros(2, 3), lambda x: x.new_zeros((2, 3)), lambda x: x.new_ones([4]),
                 lambda x: x.new_full((2, 2), 7), lambda x: x.new_empty(3, 1).zero_(),
                 lambda x: x.new_zeros(2, dtype=tinygan.int64 if isinstance(x, Tensor) else torch.int64)):
        mine, expected = call(ours), call(theirs)
        assert mine.shape == tuple(expected.shape) and mine.device == ours.device
        assert str(mine.dtype) == str(expected.dtype).replace("torch.", "")
        np.testing.assert_array_equal(host(mine), expected.numpy())
    assert ours.new_ones(2, requires_grad=True).requires_grad
    assert host(tinygan.zeros(2, dtype=np.int64).new_empty(2)).tolist() == [0, 0]   # zeros: unspecified in PyTorch


def test_narrow_refuses_a_range_outside_the_dimension_as_pytorch_does():
    x = tinygan.zeros(2, 3)
    with pytest.raises(RuntimeError, match=r"start \(2\) \+ length \(2\) exceeds dimension size \(3\)"):
        x.narrow(1, 2, 2)
    with pytest.raises(IndexError, match=r"narrow: dimension out of range"):
        x.narrow(2, 0, 1)


def test_norm_of_p_zero_counts_and_an_unknown_p_is_refused():
    torch = torch_module()
    a = np.array([[0.0, 1.5, -2.0], [0.0, 0.0, 3.0]])
    np.testing.assert_array_equal(host(leaf(a).norm(0, dim=1)), torch.tensor(a).norm(0, dim=1).numpy())
    with pytest.raises(ValueError, match="norm: p='nuc' is not supported"):
        leaf(a).norm("nuc")


@pytest.mark.parametrize("p", [2, 3, 1.5])
def test_norm_of_a_zero_vector_has_a_zero_gradient(p):
    """(sum |x|^p)^(1/p) at x = 0: the root's slope is infinite, yet the gradient is 0 there (PyTorch's)."""
    a = np.array([[0.0, 0.0, 0.0], [1.5, -2.0, 0.5]])
    x = leaf(a)
    x.norm(p, dim=1).sum().backward()
    row = np.sign(a[1]) * np.abs(a[1]) ** (p - 1) * np.sum(np.abs(a[1]) ** p) ** (1 / p - 1)
    np.testing.assert_allclose(host(x.grad), [[0.0, 0.0, 0.0], row], rtol=1e-12)


def test_is_xpu_is_false():
    assert tinygan.zeros(1).is_xpu is False


@pytest.mark.parametrize("how, args", [("chunk", (2, 1)), ("chunk", (3, 1)), ("chunk", (4, 0)), ("chunk", (7, 1)),
                                       ("split", (2, 1)), ("split", (4, 0)), ("split", ([1, 3, 1], 1)),
                                       ("split", (5, -1))])
def test_chunk_and_split_give_pytorchs_pieces_and_gradients(how, args):
    torch = torch_module()
    a = np.random.default_rng(0).standard_normal((3, 5))
    x, tx = leaf(a), torch.tensor(a, requires_grad=True)
    ours, theirs = getattr(x, how)(*args), getattr(tx, how)(*args)
    assert [tuple(p.shape) for p in ours] == [tuple(p.shape) for p in theirs]
    weights = [np.random.default_rng(i).standard_normal(tuple(p.shape)) for i, p in enumerate(theirs)]
    sum((p * tinygan.tensor(w)).sum() for p, w in zip(ours, weights)).backward()
    sum((p * torch.tensor(w)).sum() for p, w in zip(theirs, weights)).backward()
    np.testing.assert_allclose(host(x.grad), tx.grad.numpy(), rtol=1e-12)
    assert [host(p).tolist() for p in getattr(tinygan, how)(x, *args)] == [host(p).tolist() for p in ours]


def test_chunk_and_split_refuse_what_pytorch_refuses():
    x = tinygan.zeros(4, 6)
    with pytest.raises(ValueError, match=r"split: sizes \[1, 2\] must be non-negative and add up to dimension 1's "
                                         r"size 6"):
        x.split([1, 2], dim=1)
    with pytest.raises(ValueError, match="chunk: chunks must be a positive int, got 0"):
        x.chunk(0)
    with pytest.raises(IndexError, match="split: dimension out of range"):
        x.split(2, dim=2)
