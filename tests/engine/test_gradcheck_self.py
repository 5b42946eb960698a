"""The gradient checker checked: tinygan.gradcheck must reject every wrong gradient it is meant to catch.

Every other gradient test in the suite trusts gradcheck and gradgradcheck, so a lax checker would
quietly weaken all of them. Each test below feeds the checker a Function with a known mistake in its
backward (or a correct one, as the control) and guards against a checker that
- checks only some of its inputs: a wrong gradient for input 1 passes (gradcheck), or a wrong
  second derivative on input 1's path passes (gradgradcheck);
- names the wrong input in its error, counting only the inputs it checks;
- tolerates small errors: default tolerances looser than the documented eps 1e-6, atol 1e-5,
  rtol 1e-3, or an allowed error widened some other way (by a share of the largest gradient, say),
  so that a backward 1% too large, or 1e-3 off in one element, passes;
- rejects correct gradients whose values span many orders of magnitude (for one, by summing each
  perturbed output before subtracting, so that one large output's rounding error swamps every
  small gradient);
- weights the output with ones (checking only sum(f(x))) or any other constant, so that a softmax
  whose backward is wrong by a constant passes; or ignores its seed.
"""
import inspect
import re

import numpy as np
import pytest

import tinygan.gradcheck as gradcheck_module
from tinygan import backend
from tinygan.autograd import Function, Tensor
from tinygan.gradcheck import GradcheckError, gradcheck, gradgradcheck


# --- Functions with a known mistake in their backward --------------------------------------------

class _Product(Function):
    """y = a * b, with a correct backward; subclasses get b's gradient wrong."""

    def forward(self, a, b):
        return a * b

    def backward(self, grad):
        a, b = self.inputs
        return grad * b, self.gradient_for_b(grad * a)

    def gradient_for_b(self, correct):
        return correct


class _ProductDoubledForB(_Product):
    def gradient_for_b(self, correct):
        return 2 * correct


class _ProductZeroForB(_Product):
    def gradient_for_b(self, correct):
        return None  # "no gradient": the checker must read it as zeros, not skip the input


class _ASquaredB(Function):
    """y = a * b^2: dy/da = b^2 and dy/db = 2ab, each written with differentiable ops."""

    def forward(self, a, b):
        return a * b * b

    def backward(self, grad):
        a, b = self.inputs
        return grad * b * b, 2 * grad * a * self.b_in_gradient_for_b(b)

    def b_in_gradient_for_b(self, b):
        return b


class _ASquaredBDetachedInGradientForB(_ASquaredB):
    """Right first derivatives, but 2ab's b is taken from .data: d(dy/db)/db is lost, nothing else."""

    def b_in_gradient_for_b(self, b):
        return Tensor(b.array)


class _Scale(Function):
    """y = s * x for a fixed array s (a Tensor without gradient); subclasses add an error to x's gradient."""

    def forward(self, x, s):
        return x * s

    def backward(self, grad):
        s = self.inputs[1]
        return self.gradient_for_x(grad * s), None

    def gradient_for_x(self, correct):
        return correct


class _ScaleOnePercentHigh(_Scale):
    def gradient_for_x(self, correct):
        return 1.01 * correct


class _ScaleOffInElementZero(_Scale):
    """x's gradient 1e-3 too large in element (0, 0) only."""

    def gradient_for_x(self, correct):
        offset = backend.get_array_module(correct.array).zeros(correct.shape)
        offset[0, 0] = 1e-3
        return correct + Tensor(offset)


class _CubeWithSecondDerivativeOnePercentHigh(Function):
    """y = x^3; backward equal to 3x^2 (to rounding), but written so that its own derivative is 1.01 * 6x."""

    def forward(self, x):
        return x * x * x

    def backward(self, grad):
        x = self.inputs[0]
        frozen_square = Tensor(x.array * x.array)
        return 3 * grad * (1.01 * x * x - 0.01 * frozen_square)


class _Softmax(Function):
    """y = exp(x) / sum(exp(x)) over the last axis; dL/dx = y * (g - <g, y>)."""

    def forward(self, x):
        xp = backend.get_array_module(x)
        e = xp.exp(x - x.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)

    def backward(self, grad):
        y = self.output
        return y * (grad - self.subtracted(grad, y))

    def subtracted(self, grad, y):
        return (grad * y).sum(axis=-1, keepdims=True)


class _SoftmaxWrongByAConstant(_Softmax):
    """Subtracts mean(g) instead of <g, y>: wrong for most g, right whenever g is constant along the axis."""

    def subtracted(self, grad, y):
        return grad.mean(axis=-1, keepdims=True)


_received_gradients = []


class _RecordGradOutput(Function):
    """The identity, whose backward records each gradient it receives in _received_gradients."""

    def forward(self, x):
        return x.copy()

    def backward(self, grad):
        _received_gradients.append(backend.to_numpy(grad.array).copy())
        return grad


def _weightings(check, fn, x, **options):
    """The output weightings that `check` puts on fn(x), recorded at the graph's output by _RecordGradOutput."""
    _received_gradients.clear()
    check(lambda x: _RecordGradOutput.apply(fn(x)), [x], **options)
    return list(_received_gradients)


# --- every input is checked, and the failing one is named ----------------------------------------

def test_a_correct_two_input_function_passes(rand):
    a, b = rand.randn(3, 4), rand.randn(3, 4)
    assert gradcheck(_Product.apply, [a, b])
    assert gradgradcheck(_ASquaredB.apply, [a, b])


@pytest.mark.parametrize("wrong", [_ProductDoubledForB, _ProductZeroForB], ids=["doubled", "zero"])
def test_a_wrong_gradient_for_the_second_input_is_rejected(wrong, rand):
    a, b = rand.randn(3, 4), rand.randn(3, 4)
    with pytest.raises(GradcheckError, match=r"input 1 \(shape \(3, 4\)\)"):
        gradcheck(wrong.apply, [a, b])


def test_the_failing_input_is_named_by_its_place_among_all_inputs(rand):
    """An input without requires_grad is not checked, but still counts when the error names an input."""
    constant, a, b = rand.randn(3, 4, requires_grad=False), rand.randn(3, 4), rand.randn(3, 4)
    with pytest.raises(GradcheckError, match=r"input 2 \(shape \(3, 4\)\)"):
        gradcheck(lambda c, a, b: _ProductDoubledForB.apply(a, b) + c, [constant, a, b])


def test_a_wrong_second_derivative_on_the_second_inputs_path_is_rejected(rand):
    a, b = rand.randn(3, 4), rand.randn(3, 4)
    assert gradcheck(_ASquaredBDetachedInGradientForB.apply, [a, b])  # first derivatives are right
    with pytest.raises(GradcheckError, match=r"input 1 \(shape \(3, 4\)\)"):
        gradgradcheck(_ASquaredBDetachedInGradientForB.apply, [a, b])


# --- small errors are caught at the default settings ---------------------------------------------

def test_the_default_settings_are_the_documented_ones():
    documented = gradcheck_module.__doc__
    assert re.search(r"h = 1e-6", documented)
    assert re.search(r"atol = 1e-5 and rtol = 1e-3", documented)
    for check in (gradcheck, gradgradcheck):
        defaults = {name: p.default for name, p in inspect.signature(check).parameters.items()}
        assert (defaults["eps"], defaults["atol"], defaults["rtol"]) == (1e-6, 1e-5, 1e-3), check.__name__


def test_a_backward_one_percent_too_large_is_rejected(rand):
    x, s = rand.randn(4, 5), rand.uniform(4, 5, low=0.5, high=2.0, requires_grad=False)
    assert gradcheck(lambda x: _Scale.apply(x, s), [x])
    with pytest.raises(GradcheckError, match="input 0"):
        gradcheck(lambda x: _ScaleOnePercentHigh.apply(x, s), [x])


def test_a_backward_off_by_1e_3_in_one_element_is_rejected(rand):
    """Element (0, 0)'s gradient u s is small (s = 0.1), so 1e-3 is far above atol + rtol |u s| there."""
    x = rand.randn(4, 5)
    s = rand.uniform(4, 5, low=0.5, high=2.0, requires_grad=False)
    s.array[0, 0] = 0.1
    with pytest.raises(GradcheckError, match=r"input 0 \(shape \(4, 5\)\): .* at index \(0, 0\)"):
        gradcheck(lambda x: _ScaleOffInElementZero.apply(x, s), [x])


def test_a_second_derivative_one_percent_too_large_is_rejected(rand):
    x = rand.randn(4, 5)
    assert gradcheck(_CubeWithSecondDerivativeOnePercentHigh.apply, [x])  # first derivative is right
    with pytest.raises(GradcheckError, match="input 0"):
        gradgradcheck(_CubeWithSecondDerivativeOnePercentHigh.apply, [x])


def test_correct_gradients_from_tiny_to_huge_pass(rand):
    """Gradients from about 1e-6 (x^3 at 1e-3) to about 1e8 (exp(18)) in one check, at the defaults."""
    magnitudes = np.array([1e-3, 1e-2, 0.1, 1.0, 3.0, 10.0, 18.0])
    x = rand.tensor(np.concatenate([magnitudes, -magnitudes]).reshape(2, 7))
    assert gradcheck(lambda x: x * x * x + x.exp(), [x])
    assert gradgradcheck(lambda x: x * x * x + x.exp(), [x])


# --- the output weighting is random --------------------------------------------------------------

@pytest.mark.parametrize("check", [gradcheck, gradgradcheck])
def test_the_output_weighting_is_random_and_follows_the_seed(check, rand):
    x = rand.randn(3, 4)
    square = lambda y: y * y  # noqa: E731 (gradgradcheck needs a non-zero second derivative)
    first, again, other = (_weightings(check, square, x, seed=seed) for seed in (0, 0, 1))
    weighting = first[0]
    assert weighting.shape == (3, 4)
    assert len(np.unique(weighting)) == weighting.size  # not ones, not any one number repeated
    assert (weighting < 0).any() and (weighting > 0).any()
    np.testing.assert_array_equal(np.stack(first), np.stack(again))  # one seed: the same check every run
    assert not np.allclose(weighting, other[0])


def test_a_softmax_backward_wrong_by_a_constant_is_rejected(rand):
    x = rand.randn(3, 5)
    assert gradcheck(_Softmax.apply, [x])
    # sum(softmax(x)) = 1 whatever x: checking only the sum sees a zero gradient from either backward
    assert gradcheck(lambda x: _SoftmaxWrongByAConstant.apply(x).sum(), [x])
    with pytest.raises(GradcheckError, match="input 0"):
        gradcheck(_SoftmaxWrongByAConstant.apply, [x])
