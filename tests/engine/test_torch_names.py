"""PyTorch's names for older and device-agnostic code: the legacy tensor types, `Variable`, `Tensor(3, 1)`,
`randperm`, `multinomial`, `tinygan.accelerator`, `tinygan.backends.cudnn` and `tinygan.onnx`.

Where torch is installed, each is compared with PyTorch; those comparisons skip without it.
"""
import numpy as np
import pytest

import tinygan
from tinygan import Tensor, backend


def torch_module():
    return pytest.importorskip("torch")


def host(t):
    return backend.to_numpy(t.array)


def no_gpu():
    if backend.cupy_available():
        pytest.skip("this machine has a GPU: the cuda types work here")


# -- legacy tensor types -------------------------------------------------------------------------

LEGACY = ["FloatTensor", "DoubleTensor", "HalfTensor", "LongTensor", "IntTensor", "ShortTensor", "CharTensor",
          "ByteTensor", "BoolTensor"]


@pytest.mark.parametrize("name", LEGACY)
def test_legacy_types_construct_like_pytorch(name):
    torch = torch_module()
    ours, theirs = getattr(tinygan, name), getattr(torch, name)
    for args in [(3, 1), (2, 0, 4), ([1, 0, 2],), ([[1.7, 2.2], [0.0, 3.9]],), (torch.Size([2, 3]),), ()]:
        our_args = tuple(tinygan.autograd.Size(a) if isinstance(a, torch.Size) else a for a in args)
        mine, expected = ours(*our_args), theirs(*args)
        assert mine.shape == tuple(expected.shape) and mine.type() == expected.type() == f"torch.{name}"
        assert mine.device == "cpu" and isinstance(mine, ours) and not mine.requires_grad
        if args and isinstance(args[0], list):                       # data: copied in the type's dtype
            np.testing.assert_array_equal(host(mine), expected.numpy())
        else:                                                        # a shape: zeros (PyTorch: unspecified values)
            assert not host(mine).any()
    assert ours(tinygan.tensor([1.0, 2.0])).type() == f"torch.{name}"


def test_isinstance_asks_for_dtype_and_device_as_in_pytorch():
    torch = torch_module()
    for make in ("zeros", "randn"):
        x, t = getattr(tinygan, make)(2), getattr(torch, make)(2)
        for name in ("FloatTensor", "DoubleTensor", "LongTensor"):
            assert isinstance(x, getattr(tinygan, name)) == isinstance(t, getattr(torch, name)), name
    assert not isinstance(np.zeros(2, dtype=np.float32), tinygan.FloatTensor)
    assert tinygan.FloatTensor == tinygan.FloatTensor and tinygan.FloatTensor != tinygan.cuda.FloatTensor


def test_the_tutorials_tensor_alias_works_on_the_cpu():
    cuda = tinygan.cuda.is_available() and backend.current_device() == "gpu"
    FloatTensor = tinygan.cuda.FloatTensor if cuda else tinygan.FloatTensor
    LongTensor = tinygan.cuda.LongTensor if cuda else tinygan.LongTensor
    z = FloatTensor(np.random.normal(0, 1, (4, 8)))
    labels = tinygan.tensor([1.0, 0.0, 3.0]).type(LongTensor)
    valid = FloatTensor(4, 1).fill_(1.0)
    assert z.dtype == np.float32 and z.shape == (4, 8) and labels.dtype == np.int64
    assert host(valid).tolist() == [[1.0]] * 4 and host(labels).tolist() == [1, 0, 3]


def test_cuda_types_without_a_gpu_raise_naming_what_to_write():
    no_gpu()
    for call in (lambda: tinygan.cuda.FloatTensor(3, 1), lambda: tinygan.zeros(2).type(tinygan.cuda.LongTensor),
                 lambda: tinygan.zeros(2).type("torch.cuda.FloatTensor")):
        with pytest.raises(TypeError, match=r"not available: there is no GPU here.*Write tinygan\.\w+Tensor for the "
                                            r"CPU.*device = 'cuda' if tinygan.cuda.is_available\(\) else 'cpu'"):
            call()
    assert not isinstance(tinygan.zeros(2), tinygan.cuda.FloatTensor)


def test_tensor_of_sizes_is_a_default_dtype_tensor_of_that_shape():
    torch = torch_module()
    for sizes in [(3, 1), (2, 1, 4, 4), (0, 2)]:
        mine, expected = Tensor(*sizes), torch.Tensor(*sizes)
        assert mine.shape == tuple(expected.shape) and mine.dtype == np.float32 and not host(mine).any()
        assert mine.device == backend.current_device() and not mine.requires_grad
    assert Tensor(3).shape == ()                           # one int stays a number (tinygan.zeros(3) for a shape)
    assert Tensor(np.zeros(2), True).requires_grad          # Tensor(data, requires_grad) as before
    with pytest.raises(TypeError, match="Tensor: expected a shape of non-negative ints"):
        Tensor(3, -1)


# -- Variable ------------------------------------------------------------------------------------

def test_variable_is_a_tensor_sharing_the_values_cut_from_the_graph_as_in_pytorch():
    torch = torch_module()
    from tinygan.autograd import Variable
    x = tinygan.tensor([1.0, 2.0], dtype=np.float64, requires_grad=True)
    y = x * 2
    t = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    v, w = Variable(y), torch.autograd.Variable(t * 2)
    assert isinstance(v, Tensor) and v.requires_grad == w.requires_grad is False and v.is_leaf and w.is_leaf
    assert v.array is not None and np.shares_memory(v.array, y.array)
    z = Variable(tinygan.zeros(2, dtype=np.float64), requires_grad=True)
    (z * tinygan.tensor([3.0, 4.0], dtype=np.float64)).sum().backward()
    assert z.requires_grad and z.is_leaf and host(z.grad).tolist() == [3.0, 4.0]
    assert not Variable(tinygan.zeros(1), volatile=True).requires_grad


# -- randperm and multinomial --------------------------------------------------------------------

def test_randperm_is_a_seeded_permutation_of_int64():
    torch = torch_module()
    tinygan.manual_seed(3)
    p = tinygan.randperm(10)
    tinygan.manual_seed(3)
    assert host(tinygan.randperm(10)).tolist() == host(p).tolist() and sorted(host(p).tolist()) == list(range(10))
    assert str(p.dtype) == str(torch.randperm(10).dtype).replace("torch.", "") and tinygan.randperm(0).shape == (0,)


def test_multinomial_with_replacement_draws_in_proportion_to_the_weights():
    tinygan.manual_seed(0)
    weights = tinygan.tensor([[1.0, 0.0, 3.0, 4.0], [0.0, 5.0, 0.0, 0.0]], dtype=np.float64)
    draws = host(tinygan.multinomial(weights, 20000, replacement=True))
    assert draws.shape == (2, 20000) and draws.dtype == np.int64 and (draws[1] == 1).all()
    np.testing.assert_allclose(np.bincount(draws[0], minlength=4) / 20000, [1 / 8, 0, 3 / 8, 4 / 8], atol=0.015)


def test_multinomial_without_replacement_draws_each_index_once_in_order_of_weight():
    tinygan.manual_seed(1)
    weights = tinygan.tensor([1.0, 0.0, 3.0])
    firsts, seconds = [], []
    for _ in range(4000):
        a, b, c = host(tinygan.multinomial(weights, 3)).tolist()
        assert c == 1                                  # weight 0 comes after all the others, as in PyTorch
        firsts.append(a), seconds.append(b)
    assert abs(np.mean(np.array(firsts) == 2) - 0.75) < 0.03   # first draw: 3/4; then the one left
    tinygan.manual_seed(1)
    again = tinygan.multinomial(weights, 3)
    tinygan.manual_seed(1)
    assert host(tinygan.multinomial(weights, 3)).tolist() == host(again).tolist()


def test_multinomial_errors_are_pytorchs():
    torch = torch_module()
    cases = [(lambda m: m([1.0, 2.0], 3), "cannot sample n_sample"),
             (lambda m: m([1.0, -1.0], 1), "inf, nan or element < 0"),
             (lambda m: m([[[1.0]]], 1), "prob_dist must be 1 or 2 dim")]
    for call, message in cases:
        with pytest.raises(RuntimeError, match=message):
            call(lambda w, n: tinygan.multinomial(tinygan.tensor(w), n))
        with pytest.raises(RuntimeError):
            call(lambda w, n: torch.multinomial(torch.tensor(w), n))


# -- accelerator, backends.cudnn, onnx ------------------------------------------------------------

def test_accelerator_answers_as_pytorch_does_for_this_machine():
    if backend.cupy_available():
        assert tinygan.accelerator.is_available() and tinygan.accelerator.current_accelerator().type == "cuda"
        assert tinygan.accelerator.device_count() >= 1
        return
    torch = torch_module()
    assert tinygan.accelerator.is_available() is False and tinygan.accelerator.current_accelerator() is None
    assert tinygan.accelerator.device_count() == 0
    if not torch.accelerator.is_available():
        assert torch.accelerator.current_accelerator() is None
    with pytest.raises(RuntimeError, match="Cannot access accelerator device when none is available"):
        tinygan.accelerator.current_device_index()
    device = tinygan.accelerator.current_accelerator().type if tinygan.accelerator.is_available() else "cpu"
    assert tinygan.zeros(1, device=device).device == "cpu"


def test_cudnn_is_a_module_whose_flags_are_accepted():
    import tinygan.backends.cudnn as cudnn
    cudnn.benchmark, cudnn.deterministic = True, True
    assert tinygan.backends.cudnn is cudnn and cudnn.is_available() is False
    assert tinygan.backends.mps.is_available() is False


def test_onnx_imports_and_refuses_to_export_naming_the_way_through_pytorch():
    import tinygan.onnx
    assert tinygan.onnx.is_in_onnx_export() is False
    with pytest.raises(NotImplementedError, match=r"cannot export to ONNX.*state_dict\(\).*torch.onnx.export"):
        tinygan.onnx.export(tinygan.nn.Linear(2, 2), tinygan.zeros(1, 2), "model.onnx")
