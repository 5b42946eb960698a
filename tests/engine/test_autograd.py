"""The graph itself: chain rule, accumulation, no_grad, detach, grad(), create_graph, pruning, memory."""
import gc
import weakref

import numpy as np
import pytest

import tinygan
import tinygan.functional as F
from tinygan import Tensor, backend


def arr(values):
    return backend.xp().asarray(np.asarray(values, dtype=np.float64))


def scalar(value):
    return Tensor(arr(value), requires_grad=True)


def test_chain_rule_by_hand():
    # f(x, y) = (x * y + exp(x)) ** 2 at x = 0.5, y = -2
    x, y = scalar(0.5), scalar(-2.0)
    u = x * y + F.exp(x)
    f = u ** 2
    f.backward()
    u_value = 0.5 * -2.0 + np.exp(0.5)
    assert x.grad.item() == pytest.approx(2 * u_value * (-2.0 + np.exp(0.5)))
    assert y.grad.item() == pytest.approx(2 * u_value * 0.5)


def test_chain_rule_through_a_diamond():
    # a -> b = a^2, c = 3a; d = b * c = 3 a^3; dd/da = 9 a^2 (both branches meet again at d)
    a = scalar(1.5)
    b, c = a * a, a * 3.0
    (b * c).backward()
    assert a.grad.item() == pytest.approx(9 * 1.5 ** 2)


def test_gradients_accumulate_across_two_backward_calls():
    x = Tensor(arr([1.0, 2.0, 3.0]), requires_grad=True)
    (x * x).sum().backward()
    first = x.grad.numpy().copy()
    np.testing.assert_allclose(first, [2.0, 4.0, 6.0])
    (x * 3.0).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), first + 3.0)
    x.zero_grad()
    assert x.grad is None


def test_the_same_graph_can_be_backpropagated_twice():
    x = Tensor(arr([1.0, -2.0]), requires_grad=True)
    w = Tensor(arr([[0.5, 1.0], [2.0, -1.0], [1.0, 1.0]]), requires_grad=True)
    loss = F.tanh(F.linear(x.reshape(1, 2), w)).sum()
    loss.backward()
    once = w.grad.numpy().copy()
    loss.backward()
    np.testing.assert_allclose(w.grad.numpy(), 2 * once)


def test_conv_graph_can_be_backpropagated_twice(rand):
    x, w = rand.randn(1, 2, 4, 4), rand.randn(3, 2, 2, 2)
    loss = F.conv2d(x, w).sum()
    loss.backward()
    once_w, once_x = w.grad.numpy().copy(), x.grad.numpy().copy()
    loss.backward()
    np.testing.assert_allclose(w.grad.numpy(), 2 * once_w)
    np.testing.assert_allclose(x.grad.numpy(), 2 * once_x)


def test_a_tensor_used_twice_collects_both_gradients():
    x = Tensor(arr([2.0, -1.0]), requires_grad=True)
    (x * x + x).sum().backward()  # d/dx (x^2 + x) = 2x + 1
    np.testing.assert_allclose(x.grad.numpy(), [5.0, -1.0])
    y = Tensor(arr([3.0]), requires_grad=True)
    (y + y + y).sum().backward()
    np.testing.assert_allclose(y.grad.numpy(), [3.0])


def test_leaf_gradients_are_separate_writable_arrays():
    """Each leaf owns its .grad: changing one in place (as optimizers may) changes no other."""
    a = Tensor(arr([1.0, 2.0, 3.0]), requires_grad=True)
    b = Tensor(arr([1.0, 1.0, 1.0]), requires_grad=True)
    m = Tensor(arr([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]), requires_grad=True)
    (a + b + m.reshape(2, 3).sum(axis=0)).sum().backward()  # one gradient tensor reaches all three
    for t in (a, b, m):
        assert t.grad.array.flags.writeable if backend.current() == "numpy" else True
    a.grad.array[...] = 0  # sum's gradient is a broadcast (read-only) view unless the leaf gets its own copy
    np.testing.assert_allclose(b.grad.numpy(), [1.0, 1.0, 1.0])
    np.testing.assert_allclose(m.grad.numpy(), np.ones((2, 3)))
    g = Tensor(arr([1.0, 1.0]))
    c = Tensor(arr([5.0, 6.0]), requires_grad=True)
    c.backward(g)
    c.grad.array[...] = 7.0
    np.testing.assert_allclose(g.numpy(), [1.0, 1.0])  # the caller's gradient is left alone


def test_no_grad_records_nothing():
    x = Tensor(arr([1.0, 2.0]), requires_grad=True)
    with tinygan.no_grad():
        y = F.exp(x) * 2.0
        assert not tinygan.is_grad_enabled()
    assert tinygan.is_grad_enabled()
    assert y.creator is None and not y.requires_grad
    with tinygan.no_grad():
        with tinygan.enable_grad():
            z = x * 2.0
    assert z.creator is not None and z.requires_grad


def test_inference_mode_is_no_grad_as_a_block_and_as_a_decorator():
    x = Tensor(arr([1.0, 2.0]), requires_grad=True)

    @tinygan.inference_mode()
    def doubled(t):
        return t * 2.0

    assert not doubled(x).requires_grad and not doubled(x).requires_grad and tinygan.is_grad_enabled()
    with tinygan.inference_mode():
        assert not (x * 2.0).requires_grad
    with tinygan.inference_mode(False):
        assert (x * 2.0).requires_grad
    doubled_with_grad = tinygan.inference_mode(False)(lambda t: t * 2.0)
    assert doubled_with_grad(x).requires_grad


def test_no_grad_is_restored_after_an_exception():
    with pytest.raises(RuntimeError):
        with tinygan.no_grad():
            raise RuntimeError("boom")
    assert tinygan.is_grad_enabled()


def test_detach_cuts_the_graph():
    x = Tensor(arr([1.0, 2.0]), requires_grad=True)
    y = x * 3.0
    d = y.detach()
    assert d.creator is None and not d.requires_grad
    np.testing.assert_allclose(d.numpy(), y.numpy())
    (d * x).sum().backward()  # the detached factor is a constant
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 6.0])


def test_backward_on_a_non_scalar_needs_a_gradient():
    x = Tensor(arr(np.ones((2, 3))), requires_grad=True)
    y = x * 2.0
    with pytest.raises(ValueError, match=r"\(2, 3\)"):
        y.backward()
    y.backward(Tensor(arr(np.full((2, 3), 0.5))))
    np.testing.assert_allclose(x.grad.numpy(), np.ones((2, 3)))


def test_backward_with_a_gradient_of_the_wrong_shape():
    y = Tensor(arr(np.ones(3)), requires_grad=True) * 2.0
    with pytest.raises(ValueError, match=r"\(2,\).*\(3,\)"):
        y.backward(Tensor(arr(np.ones(2))))


def test_backward_on_a_tensor_without_graph():
    with pytest.raises(ValueError, match="does not require gradients"):
        Tensor(arr([1.0])).backward()


def test_a_graph_ten_thousand_ops_deep():
    x = Tensor(arr([1.0]), requires_grad=True)
    y = x
    for _ in range(10_000):
        y = y * 1.0001
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0001 ** 10_000], rtol=1e-9)
    (gx,) = tinygan.grad(y.sum(), x)  # grad() walks the same deep graph
    np.testing.assert_allclose(gx.numpy(), [1.0001 ** 10_000], rtol=1e-9)
    del y  # freeing the long chain must not overflow the stack either
    gc.collect()


def test_grad_returns_gradients_without_touching_dot_grad():
    x, y = scalar(2.0), scalar(3.0)
    gx, gy = tinygan.grad(x * y, [x, y])
    assert gx.item() == 3.0 and gy.item() == 2.0
    assert x.grad is None and y.grad is None
    (single,) = tinygan.grad(x * x, x)
    assert single.item() == 4.0


def test_grad_allow_unused():
    x, y = scalar(2.0), scalar(3.0)
    with pytest.raises(ValueError, match="not used"):
        tinygan.grad(x * 2.0, [x, y])
    gx, gy = tinygan.grad(x * 2.0, [x, y], allow_unused=True)
    assert gx.item() == 2.0 and gy is None


def test_grad_of_an_intermediate_and_with_grad_outputs():
    x = Tensor(arr([1.0, 2.0]), requires_grad=True)
    h = x * x
    out = h * 3.0
    (gh,) = tinygan.grad(out, h, grad_outputs=Tensor(arr([1.0, 10.0])))
    np.testing.assert_allclose(gh.numpy(), [3.0, 30.0])
    with pytest.raises(ValueError, match="grad_outputs"):
        tinygan.grad(out, h)


def test_grad_and_backward_take_pytorchs_retain_graph_and_only_inputs():
    torch = pytest.importorskip("torch")
    a = np.array([0.3, -0.7, 1.1])
    x = Tensor(arr(a), requires_grad=True)
    t = torch.tensor(a, requires_grad=True)
    y, u = (F.tanh(x) * x).sum(), (torch.tanh(t) * t).sum()
    (g,) = tinygan.autograd.grad(y, [x], retain_graph=True, only_inputs=True)
    (expected,) = torch.autograd.grad(u, [t], retain_graph=True, only_inputs=True)
    np.testing.assert_allclose(backend.to_numpy(g.array), expected.numpy(), rtol=1e-12)
    y.backward(retain_graph=True)
    u.backward(retain_graph=True)
    y.backward(None, True)                                   # positional, in PyTorch's order (gradient, retain_graph)
    u.backward(None, True)
    np.testing.assert_allclose(backend.to_numpy(x.grad.array), t.grad.numpy(), rtol=1e-12)
    # tinygan never frees a graph after backward: a pass without retain_graph leaves it usable (PyTorch's raises)
    (again,) = tinygan.grad(y, x, retain_graph=False)
    (once_more,) = tinygan.grad(y, x)
    np.testing.assert_allclose(backend.to_numpy(once_more.array), backend.to_numpy(again.array))


def test_create_graph_false_records_no_graph():
    x = Tensor(arr([0.3, -0.7]), requires_grad=True)
    y = (F.tanh(x) * x).sum()
    (g,) = tinygan.grad(y, x)
    assert g.creator is None and not g.requires_grad
    y.backward()
    assert x.grad.creator is None and not x.grad.requires_grad


def test_create_graph_true_records_the_gradient():
    x = Tensor(arr([0.3, -0.7]), requires_grad=True)
    y = (x * x * x).sum()
    (g,) = tinygan.grad(y, x, create_graph=True)  # 3 x^2
    assert g.creator is not None and g.requires_grad
    np.testing.assert_allclose(g.numpy(), 3 * np.array([0.3, -0.7]) ** 2)
    (gg,) = tinygan.grad(g.sum(), x)  # 6 x
    np.testing.assert_allclose(gg.numpy(), 6 * np.array([0.3, -0.7]))


def test_requires_grad_pruning():
    x = Tensor(arr([1.0, 2.0]), requires_grad=False)
    w = Tensor(arr([3.0, 4.0]), requires_grad=True)
    loss = (x * w).sum()
    loss.backward()
    assert x.grad is None
    np.testing.assert_allclose(w.grad.numpy(), [1.0, 2.0])
    # an op whose inputs need no gradient is not recorded at all
    z = x * 2.0
    assert z.creator is None and not z.requires_grad


def test_backward_skips_gradients_nobody_needs(rand):
    """needs_input_grad lets an op skip work: a frozen weight gets no grad, and its grad is never computed
    (by the reference's Conv2dWeightGrad or by its fast twin's)."""
    calls = []
    classes = (F.conv.Conv2dWeightGrad, tinygan.kernels.conv.Conv2dWeightGrad)
    originals = [cls.forward for cls in classes]

    def spy(original):
        def forward(self, *args, **kwargs):
            calls.append(1)
            return original(self, *args, **kwargs)
        return forward

    x = rand.randn(1, 2, 4, 4)
    w = rand.randn(3, 2, 3, 3, requires_grad=False)
    for cls, original in zip(classes, originals):
        cls.forward = spy(original)
    try:
        for mode in tinygan.kernels.MODES:
            with tinygan.kernels.using(mode):
                F.conv2d(x, w).sum().backward()
    finally:
        for cls, original in zip(classes, originals):
            cls.forward = original
    assert calls == [] and w.grad is None and x.grad is not None


def test_grad_prunes_branches_that_do_not_lead_to_the_inputs():
    x = Tensor(arr([1.0, 2.0]), requires_grad=True)
    w = Tensor(arr([3.0, 4.0]), requires_grad=True)
    loss = (x * w).sum()
    (gx,) = tinygan.grad(loss, x)
    np.testing.assert_allclose(gx.numpy(), [3.0, 4.0])
    assert w.grad is None and x.grad is None


def test_the_graph_is_freed_when_the_output_is_dropped(rand):
    x = rand.randn(2, 3)
    w = rand.randn(4, 3)

    def build():
        hidden = F.tanh(F.linear(x, w))
        loss = (hidden * hidden).mean()
        return loss, weakref.ref(hidden), weakref.ref(loss.creator)

    # without the garbage collector: reference counting alone must free the graph (no cycles)
    gc.collect()
    gc.disable()
    try:
        loss, hidden_ref, function_ref = build()
        assert hidden_ref() is not None
        del loss
        assert hidden_ref() is None and function_ref() is None
        # after a backward pass too
        loss, hidden_ref, function_ref = build()
        loss.backward()
        del loss
        assert hidden_ref() is None and function_ref() is None
        # a conv graph (its Function keeps columns for the weight gradient)
        image, kernel = rand.randn(1, 1, 4, 4), rand.randn(2, 1, 2, 2)
        out = F.conv2d(image, kernel)
        conv_ref = weakref.ref(out.creator)
        del out
        assert conv_ref() is None
    finally:
        gc.enable()
    loss, hidden_ref, _ = build()
    del loss
    gc.collect()
    assert hidden_ref() is None


def test_backward_accepts_an_array_as_gradient():
    x = Tensor(arr([1.0, 2.0]), requires_grad=True)
    (x * 3.0).backward(arr([1.0, 0.5]))
    assert isinstance(x.grad, Tensor)
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 1.5])


# --- the gradient checker itself --------------------------------------------------------------

class _WrongSquare(tinygan.Function):
    """y = x^2 with a deliberately wrong derivative (x instead of 2x)."""

    def forward(self, x):
        return x * x

    def backward(self, grad):
        return grad * self.inputs[0]


class _CenterWithoutMeanGradient(tinygan.Function):
    """y = x - mean(x) whose backward forgets the mean's term: sum(y) = 0 hides the bug from u = ones."""

    def forward(self, x):
        return x - x.mean()

    def backward(self, grad):
        return grad


def test_gradcheck_catches_a_wrong_backward(rand):
    from tinygan.gradcheck import GradcheckError, gradcheck
    with pytest.raises(GradcheckError, match=r"input 0 \(shape \(3, 2\)\)"):
        gradcheck(lambda x: _WrongSquare.apply(x), [rand.randn(3, 2)])
    # a random output weighting catches what checking sum(f(x)) alone would miss
    with pytest.raises(GradcheckError):
        gradcheck(lambda x: _CenterWithoutMeanGradient.apply(x), [rand.randn(5)])


def test_gradcheck_needs_float64_and_a_checked_input(rand):
    from tinygan.gradcheck import gradcheck
    with pytest.raises(TypeError, match="float64"):
        gradcheck(lambda x: x * x, [rand.randn(3, dtype=np.float32)])
    with pytest.raises(ValueError, match="requires_grad"):
        gradcheck(lambda x: x * x, [rand.randn(3, requires_grad=False)])


def test_gradcheck_of_a_non_contiguous_input(rand):
    """An input whose array is a transposed view is perturbed in place like any other."""
    from tinygan.gradcheck import gradcheck, gradgradcheck
    data = rand.randn(4, 3, requires_grad=False).array.T
    x = Tensor(data, requires_grad=True)
    assert gradcheck(lambda x: x * x * x, [x])
    assert gradgradcheck(lambda x: x * x * x, [x])
