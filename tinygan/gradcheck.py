"""Numerical gradient checks: does an operation's backward agree with finite differences?

For a function f of tensors x_1..x_k with output y, pick a *random* weighting u
of the output (same shape as y) and compare, for every element of every input,

    analytic:  d/dx <u, f(x)>            (one backward pass with grad_outputs = u)
    numeric:   (<u, f(x + h e_i)> - <u, f(x - h e_i)>) / (2 h)     [formula: central-difference]

A random u matters: with u = ones (checking only sum(f(x))), a wrong backward
can pass for operations whose sum does not depend on x (softmax, batch-norm's
centred output), because then every gradient is zero whatever the code does.

Run in float64: the central difference has error O(h^2) from the function's
curvature plus O(eps_machine / h) from rounding; with h = 1e-6 both are far
below the default tolerances, |analytic - numeric| <= atol + rtol |numeric|
with atol = 1e-5 and rtol = 1e-3. In float32 the rounding term alone is ~1e-1.
The rounding term scales with the outputs that x_i moves, not with all of f(x):
the two outputs are subtracted before they are weighted and summed, as
<u, f(x + h e_i) - f(x - h e_i)> / (2 h), so outputs that do not depend on x_i
cancel exactly (one output of 1e8 elsewhere would otherwise add ~1e-2 of
rounding error to every element's numeric gradient).
"""
import numpy as np

from . import backend
from .autograd import Tensor, grad
from .functional import concat


class GradcheckError(AssertionError):
    """An analytic gradient disagrees with the numerical one."""


def _as_float64_inputs(inputs):
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    for i, x in enumerate(inputs):
        if not isinstance(x, Tensor):
            raise TypeError(f"gradcheck: input {i} must be a Tensor, got {type(x).__name__}")
        if x.requires_grad and x.dtype != np.float64:
            raise TypeError(f"gradcheck: input {i} has dtype {x.dtype}; finite differences need float64 "
                            "(build the inputs with dtype=np.float64)")
    return inputs


def _random_weighting(output, rng):
    xp = backend.get_array_module(output.array)
    return Tensor(xp.asarray(rng.standard_normal(output.shape)).astype(output.dtype))


def _output_values(fn, inputs):
    """A copy of fn(*inputs)'s values (the graph is recorded: fn may itself differentiate)."""
    # A copy, because the output may be a view of an input (fn = identity, a reshape), and the
    # caller perturbs the inputs in place next.
    return fn(*inputs).array.copy()


def _numerical_gradient(fn, inputs, index, weighting, eps):
    """Central differences of <u, f(x)> with respect to every element of inputs[index]."""
    x = inputs[index]
    # Perturb x's own array in place, element by element: reshape(-1) would copy a non-contiguous
    # array (a transpose, say), and perturbing that copy would leave x, and f(x), unchanged.
    data = x.array
    result = np.zeros(x.shape)
    for i in np.ndindex(*x.shape):
        original = data[i].item()
        data[i] = original + eps
        plus = _output_values(fn, inputs)
        data[i] = original - eps
        minus = _output_values(fn, inputs)
        data[i] = original
        result[i] = float(((plus - minus) * weighting.array).sum()) / (2 * eps)  # [formula: central-difference]
    return result


def _compare(name, analytic, numeric, atol, rtol):
    """Raise GradcheckError naming the worst element when the two gradients disagree."""
    error = np.abs(analytic - numeric)
    allowed = atol + rtol * np.abs(numeric)
    if np.all(error <= allowed):
        return
    worst = np.unravel_index(np.argmax(error - allowed), error.shape)
    raise GradcheckError(
        f"{name}: analytic and numerical gradients disagree at index {tuple(int(i) for i in worst)}: "
        f"analytic {analytic[worst]:.8g}, numerical {numeric[worst]:.8g} (|difference| {error[worst]:.3g} > "
        f"atol {atol} + rtol {rtol} * |numerical|); {int(np.sum(error > allowed))} of {error.size} elements fail")


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0):
    """Check the gradients of `fn(*inputs)` against central differences, for a random output weighting.

    fn     -- takes the input Tensors, returns one Tensor
    inputs -- float64 Tensors; those with requires_grad=True are checked
    Returns True, or raises GradcheckError naming the input and its worst element.
    """
    inputs = _as_float64_inputs(inputs)
    rng = np.random.default_rng(seed)
    output = fn(*inputs)
    weighting = _random_weighting(output, rng)
    checked = [i for i, x in enumerate(inputs) if x.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input has requires_grad=True, so there is nothing to check")
    if output.requires_grad:
        analytic = grad(output, [inputs[i] for i in checked], grad_outputs=weighting, allow_unused=True)
    else:  # the output is constant in the inputs (e.g. the derivative of a linear map): zero gradients
        analytic = [None] * len(checked)
    for i, g in zip(checked, analytic):
        analytic_i = np.zeros(inputs[i].shape) if g is None else backend.to_numpy(g.array)
        numeric_i = backend.to_numpy(_numerical_gradient(fn, inputs, i, weighting, eps))
        _compare(f"gradcheck: input {i} (shape {inputs[i].shape})", analytic_i, numeric_i, atol, rtol)
    return True


def gradgradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0):
    """Check second derivatives: gradcheck of x -> d<u, fn(x)>/dx, built with create_graph=True.

    This is what a gradient penalty differentiates: the first-order gradient,
    itself a function of the inputs (and of the weights) through backward's graph.
    """
    inputs = _as_float64_inputs(inputs)
    rng = np.random.default_rng(seed + 1)
    weighting = _random_weighting(fn(*inputs), rng)
    checked = [i for i, x in enumerate(inputs) if x.requires_grad]

    def first_derivatives(*xs):
        output = fn(*xs)
        grads = grad(output, [xs[i] for i in checked], grad_outputs=weighting, create_graph=True, allow_unused=True)
        pieces = [g.reshape(-1) for g in grads if g is not None]
        return pieces[0] if len(pieces) == 1 else concat(pieces, axis=0)

    return gradcheck(first_derivatives, inputs, eps=eps, atol=atol, rtol=rtol, seed=seed + 2)

