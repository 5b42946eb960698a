"""The op contract: one table of cases (SPECS) drives six checks of every differentiable op of tinygan.functional.

1. the float64 gradient check (central differences, tinygan.gradcheck);
2. the gradient-of-gradient check (what a gradient penalty differentiates);
3. the gradient recorded for a second derivative (create_graph=True) equals the ordinary one: an op whose
   backward is closed-form without create_graph and a differentiable composite with it must agree;
4. the fast kernels against the reference code (tinygan.use_kernels): outputs and gradients equal in
   float64 to 1e-12 relative. Ops with no fast kernel pass trivially; those with one (every entry of
   kernels.TWINS but Adam's: conv, im2col, col2im, batch_norm, max pooling, sum, cross_entropy,
   lstm_sequence) are proved equal here;
5. non-contiguous inputs (a strided view) give the same outputs and gradients as contiguous ones;
6. no op modifies its inputs, in the forward or the backward pass.

A case is a name (the op, then which case in parentheses), a function of the input tensors and makers of
the inputs; a case that truly cannot take one of the checks (CHECKS) names it, with the reason, in a third
element. The name seeds the inputs, so every run and every process sees the same numbers.
test_every_op_has_a_spec keeps the table complete: a new public op without a case fails it.

This is Chainer's FunctionTestCase discipline, made from one table. Beside it: the edge values one case
cannot state (a huge logit in any class, std of equal values, var without degrees of freedom), and gradient
checks over random geometry drawn by hypothesis (convolution sizes, strides, paddings and dilations;
recurrent sizes; cumsum's shapes; ray lengths). The kernels' own tests (layouts, the switch, the dependency
rule) are in tests/engine/test_kernels.py.
"""
import ast
import operator
import warnings
import zlib
from functools import partial
from operator import attrgetter, itemgetter, methodcaller
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygan
import tinygan.functional as F
from tinygan import Tensor, backend, kernels
from tinygan.gradcheck import gradcheck, gradgradcheck

NOT_DIFFERENTIABLE = {"conv_output_size", "conv_transpose_output_size"}
NOT_DIFFERENTIABLE |= {"one_hot"}  # integer labels in, integers out
CHECKS = ("gradient", "gradient of gradient", "create_graph", "fast", "strided", "no mutation")


# -- makers of the inputs: functions of a seeded numpy Generator ------------------------------------------

def normal(*shape, scale=1.0, shift=0.0):
    return lambda rng: shift + scale * rng.standard_normal(shape)


def uniform(*shape, low=0.0, high=1.0):
    return lambda rng: rng.uniform(low, high, shape)


def positive(*shape):
    return uniform(*shape, low=0.5, high=2.0)


def probabilities(*shape):
    return uniform(*shape, low=0.1, high=0.9)


def signed(*shape):
    """Sizes between 0.5 and 2 with either sign: a denominator well away from 0."""
    return lambda rng: rng.uniform(0.5, 2.0, shape) * rng.choice([-1.0, 1.0], size=shape)


def values(array):
    return lambda rng: np.array(array, dtype=np.float64)


def separated(*shape):
    """Distinct values 0.1 apart at odd multiples of 0.05: at least 0.05 away from 0 and 0.02 away from a bound
    at two decimals (-0.33, 0.47), so no difference step crosses a kink or a tie."""
    def make(rng):
        count = int(np.prod(shape))
        return ((rng.permutation(count) - count // 2) * 0.1 + 0.05).reshape(shape)
    return make


def apart_in_size(*shape):
    """Values whose sizes |x| are distinct and 0.1 apart, with random signs: x * x has no ties either."""
    def make(rng):
        count = int(np.prod(shape))
        sizes = (rng.permutation(count) + 0.5) * 0.1
        return (sizes * rng.choice([-1.0, 1.0], size=count)).reshape(shape)
    return make


def large_logits(*shape, size=1000.0):
    """Logits (N, C, ...) with one entry of each position `size` above the rest, at class p % C for the p-th
    position: every class, the first and the last included, holds the row maximum somewhere."""
    def make(rng):
        rows = rng.standard_normal(shape).reshape(-1, shape[1])          # one row per position: (P, C)
        rows[np.arange(len(rows)), np.arange(len(rows)) % shape[1]] += size
        classes_last = (shape[0],) + shape[2:] + (shape[1],)
        return np.ascontiguousarray(np.moveaxis(rows.reshape(classes_last), -1, 1))
    return make


def constant_over(*shape, axes):
    """Values that do not vary over `axes` (zero variance there), a different constant along the other axes."""
    def make(rng):
        kept = tuple(1 if axis in axes else size for axis, size in enumerate(shape))
        return np.broadcast_to(rng.standard_normal(kept), shape).copy()
    return make


def with_zero_row(*shape):
    """Normal values with the first row all zeros (a vector of norm 0)."""
    def make(rng):
        x = rng.standard_normal(shape)
        x[0] = 0.0
        return x
    return make


# -- constants and wrappers the cases use -------------------------------------------------------------------

def on_device(array):
    return backend.to_device(np.asarray(array), backend.current_device())


def constant(array):
    """A tensor that is no input of the check (labels, indices, masks, weights of a loss)."""
    return Tensor(on_device(np.asarray(array)))


def fixed(make, seed=7):
    """A constant tensor drawn once by a maker (a frozen weight, a target)."""
    return constant(make(np.random.default_rng(seed)))


def with_constant(fn, make, seed=7):
    """fn(x, constant) with a fixed constant second argument (targets, indices)."""
    data = on_device(make(np.random.default_rng(seed)))
    return lambda x: fn(x, Tensor(data))


def labelled(loss, labels, **options):
    """loss(x, labels, **options) with integer labels made on the current device at each call."""
    return lambda x: loss(x, constant(labels), **options)


def power(exponent):
    return lambda x: x ** exponent


def seeded(fn, seed=0):
    """fn with the random generator reset before each call (dropout's mask is then the same every time)."""
    def call(*inputs):
        tinygan.manual_seed(seed)
        return fn(*inputs)
    return call


def quietly(fn):
    """fn without the warnings it gives on purpose (kl_div's default reduction='mean', as PyTorch warns)."""
    def call(*inputs):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            return fn(*inputs)
    return call


def fresh_statistics(C):
    """Running statistics made anew at each call, so that repeated calls see the same state."""
    return on_device(np.zeros(C)), on_device(np.ones(C))


def batch_norm_training(x, w, b):
    return F.batch_norm(x, *fresh_statistics(x.shape[1]), w, b, training=True, momentum=0.3)


def batch_norm_without_statistics(x, w, b):
    return F.batch_norm(x, None, None, w, b, training=True)


def batch_norm_evaluation(x, w, b):
    mean, var = on_device(np.linspace(-0.5, 0.5, x.shape[1])), on_device(np.linspace(0.5, 2.0, x.shape[1]))
    return F.batch_norm(x, mean, var, w, b, training=False)


def lstm_cell_both(*inputs):
    """lstm_cell's (h', c') side by side, so that both results are checked."""
    return F.concat(list(F.lstm_cell(*inputs)), axis=1)


def lstm_sequence_flat(*inputs):
    """lstm_sequence's output and final state as one vector, so that every result is checked."""
    output, (h, c) = F.lstm_sequence(*inputs)
    return F.concat([output.reshape(-1), h.reshape(-1), c.reshape(-1)])


def multi_head_attention_flat(query, w_in, b_in, w_out, b_out):
    """Self-attention of query (L, N, E) in 2 heads with the causal attn_mask and the first key of the second
    sequence padded (so its first query has no key left), its output and attention weights as one vector."""
    L, N, E = query.shape
    padding = np.zeros((N, L), dtype=bool)
    padding[1, 0] = True
    output, weights = F.multi_head_attention_forward(
        query, query, query, E, 2, w_in, b_in, None, None, False, 0.0, w_out, b_out,
        key_padding_mask=constant(padding), attn_mask=constant(~np.tril(np.ones((L, L), dtype=bool))))
    return F.concat([output.reshape(-1), weights.reshape(-1)])


def where_by(shape, seed=5):
    """where(condition, x, y) with a fixed random condition of the given (broadcast) shape."""
    condition = constant(np.random.default_rng(seed).integers(0, 2, size=shape).astype(bool))
    return lambda x, y: F.where(condition, x, y)


def conv2d_cases(stride, padding, dilation):
    """conv2d of x (2, 2, 5, 5) by a 2x2 kernel: alone (bilinear: the x-w cross terms of the second derivative),
    with tanh after (curvature), and with softplus after along the input path or the weight path alone."""
    geometry = f"stride={stride}, padding={padding}, dilation={dilation}"
    inputs = [normal(2, 2, 5, 5), normal(3, 2, 2, 2), normal(3)]
    x, w, b = (fixed(make) for make in inputs)

    def conv(x, w, b):
        return F.conv2d(x, w, b, stride=stride, padding=padding, dilation=dilation)
    return {
        f"conv2d ({geometry})": (conv, inputs),
        f"conv2d (tanh after, {geometry})": (lambda *a: F.tanh(conv(*a)), inputs),
        f"conv2d (softplus after, input path alone, {geometry})": (lambda x: F.softplus(conv(x, w, b)), inputs[:1]),
        f"conv2d (softplus after, weight path alone, {geometry})": (lambda w: F.softplus(conv(x, w, b)),
                                                                   inputs[1:2]),
    }


def conv_transpose2d_cases(stride, padding, output_padding):
    """conv_transpose2d of x (2, 2, 3, 3) by a 3x3 kernel, alone and with tanh after."""
    geometry = f"stride={stride}, padding={padding}, output_padding={output_padding}"
    inputs = [normal(2, 2, 3, 3), normal(2, 3, 3, 3), normal(3)]

    def conv_t(x, w, b):
        return F.conv_transpose2d(x, w, b, stride=stride, padding=padding, output_padding=output_padding)
    return {
        f"conv_transpose2d ({geometry})": (conv_t, inputs),
        f"conv_transpose2d (tanh after, {geometry})": (lambda *a: F.tanh(conv_t(*a)), inputs),
    }


# increasing, unevenly spaced sample distances of 3 rays with 5 samples (the ray ends at 3.5)
RENDER_T = np.array([[2.0, 2.3, 2.9, 3.0, 3.4], [2.1, 2.2, 2.4, 2.8, 3.1], [2.0, 2.5, 3.0, 3.2, 3.3]])
BROADCAST_SHAPES = [((2, 3), (2, 3)), ((2, 3), (3,)), ((4, 1), (2, 1, 3)), ((), (2, 3)), ((3, 1), (1, 4))]
EXPONENTS = [2, 3, 1, 0.5, -1.5, 2.5]
CLAMP_BOUNDS = [(-0.33, 0.47), (-0.33, None), (None, 0.47), (None, None)]
MATMUL_SHAPES = {
    "2-d": ((3, 4), (4, 2)),
    "batched": ((2, 3, 4), (2, 4, 5)),
    "batched @ matrix": ((2, 3, 4), (4, 5)),
    "matrix @ batched": ((3, 4), (2, 4, 2)),
    "broadcast over two batch axes": ((2, 1, 3, 4), (3, 4, 2)),
}
AXES = [None, 0, 1, -1, (0, 2), (0, 1, 2)]
SOME_AXES = [None, 0, 1, (0, 2), -1]
SUM_TO_SHAPES = [((3,), (2, 3)), ((2, 1), (2, 4)), ((1, 3, 1), (2, 3, 4)), ((), (2, 2))]
BASIC_INDICES = {
    "1:3": (slice(1, 3),), "::2": (slice(None, None, 2),), "::-1": (slice(None, None, -1),), "1": (1,),
    "-1, 1:": (-1, slice(1, None)), "..., 2": (Ellipsis, 2), "None, 0": (None, 0),
    "0:2, None, :, 3": (slice(0, 2), None, slice(None), 3), "0, 1, 2": (0, 1, 2),
}
ADVANCED_INDICES = {                                    # every one picks some element twice
    "a list [0, 0, 2]": [0, 0, 2],
    "an array [0, 2, 0, 1, 2, 2]": np.array([0, 2, 0, 1, 2, 2]),
    ":, [1, 1, 3]": (slice(None), [1, 1, 3]),
    "pairs, one twice": (np.array([0, 1, 1, 2]), np.array([3, 3, 0, 3])),
    "a 2-d array, 1:3": (np.array([[0, 2, 0], [1, 2, 2]]), slice(1, 3)),
    "..., [4, 0, 4]": (Ellipsis, [4, 0, 4]),
    "a boolean mask": np.array([True, False, True]),
}
CONCAT_SHAPES = {0: [(1, 3, 2), (2, 3, 2), (3, 3, 2)], 1: [(2, 1, 2), (2, 2, 2), (2, 3, 2)],
                 -1: [(2, 3, 1), (2, 3, 3), (2, 3, 2)]}
PAD_WIDTHS = [(((0, 0), (1, 2)), 0.0), (((1, 0), (0, 3)), 1.5), (((2, 2), (2, 2)), -1.0), (((0, 0), (0, 0)), 0.0)]
TORCH_PADS = [(1, 2), (0, 1, 2, 0), (1, -1, -2, 1), (1, 1, 1, 1, 1, 1)]
TAILS = [-30.0, -12.0, -0.5, 0.0, 0.5, 12.0, 30.0]
POOLS = [(2, None, 0), (3, 1, 1), (2, 1, 0), ((2, 3), (1, 2), (1, 1)), (3, 2, 1)]
RESIZES = {"size=(5, 2)": dict(size=(5, 2)), "scale_factor=2": dict(scale_factor=2),
           "scale_factor=(1.7, 0.6)": dict(scale_factor=(1.7, 0.6))}
RESIZE_MODES = [("nearest", None), ("bilinear", False), ("bilinear", True)]
REDUCTIONS = ["mean", "sum", "none"]
# label maps (5, 2) of 4 classes with one ignored label, and a weight per class
LABEL_MAPS, CLASS_WEIGHTS = [[1, -100], [3, 0], [2, 2], [0, 1], [3, 1]], [0.6, 1.8, 1.1, 0.9]
ZERO_D = {"strided": "its only input is 0-d, which has no strided view"}


# name -> (function of the input tensors, makers of the inputs[, {check: why this case cannot take it}])
SPECS = {
    # -- arithmetic ---------------------------------------------------------------------------------------
    "add": (F.add, [normal(2, 3), normal(3)]),
    "sub": (F.sub, [normal(2, 3), normal(2, 1)]),
    "mul": (F.mul, [normal(2, 3), normal(2, 3)]),
    "div": (F.div, [normal(2, 3), positive(2, 3)]),
    "neg": (F.neg, [normal(2, 3)]),
    **{f"{op} (shapes {a} and {b})": (getattr(F, op), [normal(*a), signed(*b) if op == "div" else normal(*b)])
       for op in ("add", "sub", "mul", "div") for a, b in BROADCAST_SHAPES},
    # the Tensor operators, with Python and NumPy scalars on either side
    "add (a + b)": (operator.add, [normal(2, 3), positive(2, 3)]),
    "sub (a - b)": (operator.sub, [normal(2, 3), positive(2, 3)]),
    "mul (a * b)": (operator.mul, [normal(2, 3), positive(2, 3)]),
    "div (a / b)": (operator.truediv, [normal(2, 3), positive(2, 3)]),
    "neg (-a)": (operator.neg, [normal(2, 3)]),
    "add (a + 2.0)": (lambda a: a + 2.0, [normal(2, 3)]),
    "add (2.0 + a)": (lambda a: 2.0 + a, [normal(2, 3)]),
    "sub (2.0 - a)": (lambda a: 2.0 - a, [normal(2, 3)]),
    "sub (a - 0.5)": (lambda a: a - 0.5, [normal(2, 3)]),
    "mul (a * 3.0)": (lambda a: a * 3.0, [normal(2, 3)]),
    "mul (3.0 * a)": (lambda a: 3.0 * a, [normal(2, 3)]),
    "div (a / 3.0)": (lambda a: a / 3.0, [normal(2, 3)]),
    "div (3.0 / b)": (lambda b: 3.0 / b, [positive(2, 3)]),
    "mul (a * np.float64(2.0))": (lambda a: a * np.float64(2.0), [normal(2, 3)]),
    "mul ((a * b - a / b) * a)": (lambda a, b: (a * b - a / b) * a, [normal(2, 3), positive(2, 3)]),
    # products and quotients whose second derivatives are not zero
    "mul (a * a * b)": (lambda a, b: a * a * b, [normal(2, 3), normal(3)]),
    "div ((a + b) * (a - b) / (b * b + 1))": (lambda a, b: (a + b) * (a - b) / (b * b + 1.0),
                                              [normal(2, 3), normal(3)]),
    "div (a / (b * b + 1))": (lambda a, b: a / (b * b + 1.0), [normal(2, 3), normal(3)]),
    "pow": (lambda x: F.pow(x, 2.5), [positive(2, 3)]),
    **{f"pow (x ** {e})": (power(e), [positive(3, 4)]) for e in EXPONENTS},
    **{f"pow (exponent {e})": (partial(F.pow, exponent=e), [positive(3, 4)]) for e in EXPONENTS},
    "pow (x ** 3, negative x)": (power(3), [normal(3, 4)]),
    "pow (x ** 2, negative x)": (power(2), [normal(3, 4)]),
    "exp": (F.exp, [normal(2, 3)]),
    "exp (3 x 4)": (F.exp, [normal(3, 4)]),
    "exp (Tensor.exp)": (methodcaller("exp"), [normal(5)]),
    "log": (F.log, [positive(2, 3)]),
    "log (3 x 4)": (F.log, [uniform(3, 4, low=0.2, high=3.0)]),
    "log (Tensor.log)": (methodcaller("log"), [uniform(5, low=0.2, high=3.0)]),
    "sqrt": (F.sqrt, [positive(2, 3)]),
    "sqrt (3 x 4)": (F.sqrt, [uniform(3, 4, low=0.2, high=3.0)]),
    "sqrt (Tensor.sqrt)": (methodcaller("sqrt"), [uniform(5, low=0.2, high=3.0)]),
    "clamp": (lambda x: F.clamp(x, -0.33, 0.47), [separated(3, 4)]),
    **{f"clamp (min={low}, max={high})": (partial(F.clamp, min=low, max=high), [separated(4, 5)])
       for low, high in CLAMP_BOUNDS},
    **{f"clamp (Tensor.clamp({low}, {high}))": (methodcaller("clamp", low, high), [separated(4, 5)])
       for low, high in CLAMP_BOUNDS},
    "matmul": (F.matmul, [normal(2, 3, 4), normal(4, 5)]),
    **{f"matmul ({kind})": (F.matmul, [normal(*a), normal(*b)]) for kind, (a, b) in MATMUL_SHAPES.items()},
    **{f"matmul (a @ b, {kind})": (operator.matmul, [normal(*a), normal(*b)])
       for kind, (a, b) in MATMUL_SHAPES.items()},
    "matmul (a @ a constant)": (with_constant(operator.matmul, normal(4, 2)), [normal(3, 4)]),
    "matmul (a constant.T @ a.T)": (with_constant(lambda a, b: b.T @ a.T, normal(4, 2)), [normal(3, 4)]),
    "matmul ((a @ b) * (a @ b), 2-d)": (lambda a, b: (a @ b) * (a @ b), [normal(3, 4), normal(4, 2)]),
    "matmul ((a @ b) * (a @ b), batched @ matrix)": (lambda a, b: (a @ b) * (a @ b), [normal(2, 3, 4), normal(4, 5)]),
    "matmul (of two reshapes of x, mean)": (lambda x: (x.reshape(6, 4) @ x.reshape(4, 6)).mean(), [normal(2, 3, 4)]),
    "logsumexp": (lambda x: F.logsumexp(x, axis=1), [normal(3, 4)]),
    "logsumexp (large logits)": (lambda x: F.logsumexp(x, axis=1), [large_logits(3, 3)]),
    **{f"logsumexp (axis={axis}, keepdims={keepdims})": (partial(F.logsumexp, axis=axis, keepdims=keepdims),
                                                          [normal(2, 3, 4, scale=3.0)])
       for axis in (-1, 0, 1) for keepdims in (False, True)},
    **{f"logsumexp (axis={axis}, values near 800)": (partial(F.logsumexp, axis=axis), [normal(2, 3, 4, shift=800.0)])
       for axis in (-1, 0, 1)},

    # -- reductions and broadcasting ----------------------------------------------------------------------
    "sum": (lambda x: F.sum(x, axis=(0, 2)), [normal(2, 3, 4)]),
    **{f"sum (axis={axis}, keepdims={keepdims})": (partial(F.sum, axis=axis, keepdims=keepdims), [normal(2, 3, 4)])
       for axis in AXES for keepdims in (False, True)},
    "sum (of x * x, axis=1)": (lambda x: F.sum(x * x, axis=1), [normal(2, 3, 4)]),
    "sum (times itself)": (lambda x: F.sum(x) * F.sum(x), [normal(2, 3, 4)]),
    "mean": (lambda x: F.mean(x, axis=1, keepdims=True), [normal(2, 3, 4)]),
    **{f"mean (Tensor.mean, axis={axis}, keepdims={keepdims})": (methodcaller("mean", axis=axis, keepdims=keepdims),
                                                                 [normal(2, 3, 4)])
       for axis in AXES for keepdims in (False, True)},
    "mean (of x * x, axis=(0, 2), keepdims)": (lambda x: F.mean(x * x, axis=(0, 2), keepdims=True), [normal(2, 3, 4)]),
    "max": (lambda x: F.max(x, axis=1), [separated(3, 4)]),
    **{f"max (axis={axis}, keepdims={keepdims})": (partial(F.max, axis=axis, keepdims=keepdims), [separated(2, 3, 4)])
       for axis in AXES for keepdims in (False, True)},
    **{f"max (Tensor.max, axis={axis}, keepdims={keepdims})": (methodcaller("max", axis=axis, keepdims=keepdims),
                                                               [separated(2, 3, 4)])
       for axis in AXES for keepdims in (False, True)},
    "min": (lambda x: F.min(x, axis=0), [separated(3, 4)]),
    **{f"min (axis={axis})": (partial(F.min, axis=axis), [separated(3, 4, 2)]) for axis in SOME_AXES},
    "max_with_indices": (lambda x: F.max_with_indices(x, 1).values, [separated(3, 4)]),
    "max_with_indices (keepdim)": (lambda x: F.max_with_indices(x, 0, keepdim=True).values, [separated(3, 2, 2)]),
    **{f"max_with_indices (dim={dim})": (lambda x, dim=dim: F.max_with_indices(x, dim).values, [separated(3, 4, 2)])
       for dim in (0, 1, -1)},
    "min_with_indices": (lambda x: F.min_with_indices(x, -1).values, [separated(2, 3, 4)]),
    **{f"min_with_indices (dim={dim}, keepdim)": (lambda x, dim=dim: F.min_with_indices(x, dim, keepdim=True).values,
                                                  [separated(3, 4, 2)])
       for dim in (0, 1, -1)},
    "var": (lambda x: F.var(x, axis=1), [normal(3, 4)]),
    "var (biased, all)": (lambda x: F.var(x, correction=0), [normal(3, 4)]),
    **{f"var (axis={axis}, correction={correction})": (partial(F.var, axis=axis, correction=correction),
                                                      [normal(3, 4, 2)])
       for axis in SOME_AXES for correction in (0, 1)},
    "std": (lambda x: F.std(x, axis=(0, 2), keepdims=True), [normal(2, 3, 4)]),
    **{f"std (axis={axis}, correction={correction}, keepdims)": (partial(F.std, axis=axis, correction=correction,
                                                                         keepdims=True), [normal(3, 4, 2)])
       for axis in SOME_AXES for correction in (0, 1)},
    "broadcast_to": (lambda x: F.broadcast_to(x, (2, 3, 4)), [normal(3, 1)]),
    **{f"broadcast_to ({small} to {large})": (partial(F.broadcast_to, shape=large), [normal(*small)],
                                              {} if small else ZERO_D)
       for small, large in SUM_TO_SHAPES},
    **{f"broadcast_to (Tensor.broadcast_to, {small} to {large})": (methodcaller("broadcast_to", large),
                                                                    [normal(*small)], {} if small else ZERO_D)
       for small, large in SUM_TO_SHAPES},
    "sum_to": (lambda x: F.sum_to(x, (3, 1)), [normal(2, 3, 4)]),
    **{f"sum_to ({large} to {small})": (partial(F.sum_to, shape=small), [normal(*large)])
       for small, large in SUM_TO_SHAPES},
    **{f"sum_to (Tensor.sum_to, {large} to {small})": (methodcaller("sum_to", small), [normal(*large)])
       for small, large in SUM_TO_SHAPES},

    # -- shapes and indexing ------------------------------------------------------------------------------
    "reshape": (lambda x: F.reshape(x, (4, 3)), [normal(2, 6)]),
    "reshape ((4, 6))": (lambda x: F.reshape(x, (4, 6)), [normal(2, 3, 4)]),
    "reshape (Tensor.reshape(3, -1))": (methodcaller("reshape", 3, -1), [normal(2, 3, 4)]),
    "reshape (Tensor.reshape(24))": (methodcaller("reshape", 24), [normal(2, 3, 4)]),
    "reshape (of x * x)": (lambda x: F.reshape(x * x, (4, 6)), [normal(2, 3, 4)]),
    "flatten": (F.flatten, [normal(2, 3, 2)]),
    "flatten (2 x 3 x 4)": (F.flatten, [normal(2, 3, 4)]),
    "flatten (Tensor.flatten(0))": (methodcaller("flatten", 0), [normal(2, 3, 4)]),
    "permute": (lambda x: F.permute(x, (2, 0, 1)), [normal(2, 3, 4)]),
    **{f"permute ({axes})": (lambda x, axes=axes: F.permute(x, axes), [normal(2, 3, 4)])
       for axes in [(1, 0, 2), (2, 0, 1), (0, 2, 1), (-1, 0, 1)]},
    **{f"permute (Tensor.permute{axes})": (methodcaller("permute", *axes), [normal(2, 3, 4)])
       for axes in [(1, 0, 2), (2, 0, 1), (0, 2, 1), (-1, 0, 1)]},
    "transpose": (lambda x: F.transpose(x, 0, 1), [normal(2, 3)]),
    "transpose (the last two axes)": (F.transpose, [normal(2, 3, 4)]),
    "transpose (0, 2)": (lambda x: F.transpose(x, 0, 2), [normal(2, 3, 4)]),
    "transpose (Tensor.transpose(0, 1))": (methodcaller("transpose", 0, 1), [normal(2, 3, 4)]),
    "transpose (Tensor.swapaxes(1, 2))": (methodcaller("swapaxes", 1, 2), [normal(2, 3, 4)]),
    "transpose (Tensor.T)": (attrgetter("T"), [normal(2, 3, 4)]),
    "getitem": (lambda x: F.getitem(x, (slice(None), np.array([2, 0, 2]))), [normal(2, 3)]),
    **{f"getitem (x[{key}])": (itemgetter(index), [normal(3, 4, 5)]) for key, index in BASIC_INDICES.items()},
    **{f"getitem (F.getitem, [{key}])": (partial(F.getitem, index=index), [normal(3, 4, 5)])
       for key, index in BASIC_INDICES.items()},
    **{f"getitem (x[{key}])": (itemgetter(index), [normal(3, 4, 5)]) for key, index in ADVANCED_INDICES.items()},
    "getitem (x[an integer tensor with repeats])": (lambda x: x[constant([0, 4, 2, 2, 1, 3, 0])], [normal(5, 3)]),
    "getitem (x[i] * x[i], rows picked twice)": (lambda x: x[[0, 3, 3, 1]] * x[[0, 3, 3, 1]], [normal(4, 3)]),
    "concat": (lambda a, b: F.concat([a, b], axis=1), [normal(2, 3), normal(2, 2)]),
    **{f"concat (axis={axis}, three pieces)": (lambda a, b, c, axis=axis: F.concat([a, b, c], axis=axis),
                                              [normal(*shape) for shape in shapes])
       for axis, shapes in CONCAT_SHAPES.items()},
    "concat (a constant piece on either side)": (with_constant(lambda a, b: F.concat([b, a, b], axis=0), normal(1, 3)),
                                                 [normal(2, 3)]),
    "stack": (lambda a, b: F.stack([a, b], dim=1), [normal(2, 3), normal(2, 3)]),
    "stack (dim=-1)": (lambda a, b: F.stack([a, b], dim=-1), [normal(3, 1, 2), normal(3, 1, 2)]),
    "squeeze": (lambda x: F.squeeze(x, 1), [normal(3, 1, 2)]),
    "squeeze (every axis of size 1)": (F.squeeze, [normal(3, 1, 2)]),
    "unsqueeze": (lambda x: F.unsqueeze(x, -1), [normal(3, 2)]),
    "unsqueeze (0)": (lambda x: F.unsqueeze(x, 0), [normal(3, 1, 2)]),
    "expand": (lambda x: F.expand(x, 2, -1, 4), [normal(3, 1)]),
    "expand (2, 3, 4, 2)": (lambda x: F.expand(x, 2, 3, 4, 2), [normal(3, 1, 2)]),
    "repeat": (lambda x: F.repeat(x, 2, 1, 3), [normal(3, 2)]),
    "repeat (2, 2, 1, 3)": (lambda x: F.repeat(x, 2, 2, 1, 3), [normal(3, 1, 2)]),
    "clone": (F.clone, [normal(3, 2)]),
    "clone (3 x 1 x 2)": (F.clone, [normal(3, 1, 2)]),
    "pad_widths": (lambda x: F.pad_widths(x, ((0, 0), (1, 2)), value=0.5), [normal(2, 3)]),
    **{f"pad_widths ({widths}, value={value})": (partial(F.pad_widths, widths=widths, value=value), [normal(2, 3)])
       for widths, value in PAD_WIDTHS},
    "pad": (lambda x: F.pad(x, (1, 2, -1, 0), value=0.5), [normal(2, 3, 4)]),
    **{f"pad ({widths}, value=0.25)": (partial(F.pad, pad=widths, value=0.25), [normal(2, 3, 4)])
       for widths in TORCH_PADS},

    # -- choices: abs, maximum, minimum, where, masked_fill -----------------------------------------------
    "abs": (F.abs, [separated(3, 4)]),
    "maximum": (F.maximum, [separated(3, 4), normal(4)]),
    "minimum": (F.minimum, [separated(3, 4), normal(3, 1)]),
    "where": (lambda a, b: F.where(Tensor(on_device(np.arange(12).reshape(3, 4) % 3 == 0)), a, b),
              [normal(3, 4), normal(4)]),
    **{f"{op} (shapes {a} and {b})": (getattr(F, op), [normal(*a), normal(*b)])
       for op in ("maximum", "minimum") for a, b in BROADCAST_SHAPES[:4]},
    **{f"where (shapes {a} and {b})": (where_by(np.broadcast_shapes(a, b)), [normal(*a), normal(*b)])
       for a, b in BROADCAST_SHAPES[:4]},
    "masked_fill": (lambda x: F.masked_fill(x, Tensor(on_device(np.array([True, False, True, False]))), -1.5),
                    [normal(3, 4)]),
    "masked_fill (where the input is above 0.3)": (lambda x: F.masked_fill(x, x.detach() > 0.3, 2.0),
                                                   [separated(3, 4)]),

    # -- activations --------------------------------------------------------------------------------------
    "relu": (F.relu, [separated(3, 4)]),
    "relu (3 x 5)": (F.relu, [separated(3, 5)]),
    "relu (Tensor.relu)": (methodcaller("relu"), [separated(3, 5)]),
    "relu (times x)": (lambda x: F.relu(x) * x, [separated(3, 4)]),     # relu's own second derivative is 0
    "leaky_relu": (lambda x: F.leaky_relu(x, 0.2), [separated(3, 4)]),
    **{f"leaky_relu (slope {slope})": (partial(F.leaky_relu, negative_slope=slope), [separated(3, 5)])
       for slope in (0.01, 0.2, 1.5)},
    "leaky_relu (times x)": (lambda x: F.leaky_relu(x, 0.2) * x, [separated(3, 4)]),
    "sigmoid": (F.sigmoid, [normal(3, 4)]),
    "tanh": (F.tanh, [normal(3, 4)]),
    "softplus": (F.softplus, [normal(3, 4)]),
    **{f"{op} (3 x 5, scale 3)": (getattr(F, op), [normal(3, 5, scale=3.0)]) for op in ("sigmoid", "tanh", "softplus")},
    # far tails: the stable forms keep a finite, correct gradient
    **{f"{op} (far tails)": (getattr(F, op), [values(TAILS)]) for op in ("sigmoid", "tanh", "softplus")},
    "sigmoid (Tensor.sigmoid + Tensor.tanh)": (lambda x: x.sigmoid() + x.tanh(), [normal(4)]),
    "softplus (times sigmoid, plus tanh)": (lambda x: F.softplus(x) * F.sigmoid(x) + F.tanh(x), [normal(3, 4)]),
    "softmax": (lambda x: F.softmax(x, dim=1), [normal(3, 4, 2)]),
    "log_softmax": (lambda x: F.log_softmax(x, dim=-1), [normal(3, 4)]),
    "log_softmax (large logits)": (lambda x: F.log_softmax(x, dim=1), [large_logits(4, 4)]),
    "softmax (large logits)": (lambda x: F.softmax(x, dim=1), [large_logits(3, 3)]),
    **{f"{op} (dim={dim}, scale 3)": (partial(getattr(F, op), dim=dim), [normal(3, 4, 2, scale=3.0)])
       for op in ("softmax", "log_softmax") for dim in (0, 1, -1)},
    "gelu": (F.gelu, [normal(3, 4)]),
    "gelu (tanh)": (lambda x: F.gelu(x, approximate="tanh"), [normal(3, 4)]),
    **{f"gelu (approximate={approximate!r}, 4 x 5, scale 3)": (partial(F.gelu, approximate=approximate),
                                                               [normal(4, 5, scale=3.0)])
       for approximate in ("none", "tanh")},
    "silu": (F.silu, [normal(3, 4)]),
    "silu (4 x 5, scale 3)": (F.silu, [normal(4, 5, scale=3.0)]),
    "elu": (lambda x: F.elu(x, alpha=0.7), [separated(3, 4)]),
    "elu (alpha=1.5)": (lambda x: F.elu(x, alpha=1.5), [separated(4, 5)]),

    # -- convolution ----------------------------------------------------------------------------------------
    "im2col": (lambda x: F.im2col(x, (3, 2), stride=(2, 1), padding=(1, 0), dilation=(1, 2)), [normal(2, 2, 6, 5)]),
    "col2im": (lambda c: F.col2im(c, (5, 4), (2, 3), stride=(2, 1), padding=1), [normal(2, 2 * 6, 12)]),
    "conv2d": (lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1), [normal(2, 3, 6, 5), normal(4, 3, 3, 3), normal(4)]),
    "conv_transpose2d": (lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1),
                         [normal(2, 3, 3, 4), normal(3, 2, 4, 4), normal(2)]),
    # stride 1: the fast kernel computes the transposed convolution (and so a stride-1 conv2d's dL/dx) as a
    # convolution with the flipped kernel
    "conv2d (stride 1)": (lambda x, w, b: F.conv2d(x, w, b, padding=1), [normal(2, 3, 5, 4), normal(4, 3, 3, 3),
                                                                          normal(4)]),
    "conv_transpose2d (stride 1)": (lambda x, w, b: F.conv_transpose2d(x, w, b, padding=(1, 0)),
                                    [normal(2, 3, 4, 5), normal(3, 2, 3, 2), normal(2)]),
    "conv2d (groups)": (lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1, groups=2),
                        [normal(2, 4, 5, 5), normal(6, 2, 3, 3), normal(6)]),
    "conv2d (same)": (lambda x, w: F.conv2d(x, w, padding="same", dilation=(1, 2)), [normal(2, 2, 5, 4), normal(3, 2, 2, 3)]),
    "conv_transpose2d (groups)": (lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1,
                                                                     groups=2),
                                  [normal(2, 4, 3, 3), normal(4, 3, 4, 4), normal(6)]),
    **{f"conv2d (groups={groups}, 8 channels out)": (
        lambda x, w, b, groups=groups: F.conv2d(x, w, b, stride=2, padding=1, groups=groups),
        [normal(2, 4, 5, 5), normal(8, 4 // groups, 3, 3), normal(8)]) for groups in (2, 4)},
    **{f"conv_transpose2d (groups={groups}, stride 2)": (
        lambda x, w, b, groups=groups: F.conv_transpose2d(x, w, b, stride=2, groups=groups),
        [normal(2, 4, 5, 5), normal(4, 3, 3, 3), normal(3 * groups)]) for groups in (2, 4)},
    "conv2d (a constant weight, stride 2, padding 1)": (
        with_constant(lambda x, w: F.conv2d(x, w, stride=2, padding=1), normal(3, 2, 3, 3)), [normal(2, 2, 5, 5)]),
    "conv2d (2 channels in, stride 2, padding 1)": (lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1),
                                                    [normal(2, 2, 5, 5), normal(3, 2, 3, 3), normal(3)]),
    **{name: case for geometry in [(1, 0, 1), (2, 1, 1), (1, 1, 2)] for name, case in conv2d_cases(*geometry).items()},
    **{name: case for geometry in [(1, 0, 0), (2, 1, 1)] for name, case in conv_transpose2d_cases(*geometry).items()},
    "conv_transpose2d (stride 2, output_padding 1, no bias)": (
        lambda x, w: F.conv_transpose2d(x, w, stride=2, output_padding=1), [normal(1, 2, 3, 3), normal(2, 2, 3, 3)]),
    "conv_transpose1d": (lambda x, w, b: F.conv_transpose1d(x, w, b, stride=2, padding=1, output_padding=1),
                         [normal(2, 3, 4), normal(3, 2, 3), normal(2)]),
    "conv_transpose1d (groups 2, dilation 2)": (lambda x, w, b: F.conv_transpose1d(x, w, b, groups=2, dilation=2),
                                                [normal(2, 4, 3), normal(4, 3, 2), normal(6)]),
    "conv_transpose1d (no batch, no bias)": (lambda x, w: F.conv_transpose1d(x, w, stride=3, output_padding=2),
                                             [normal(3, 4), normal(3, 2, 2)]),

    # -- pooling and resizing -------------------------------------------------------------------------------
    "avg_pool2d": (lambda x: F.avg_pool2d(x, 2), [normal(2, 2, 4, 6)]),
    **{f"avg_pool2d (kernel {k}, stride {s}, padding {p})": (partial(F.avg_pool2d, kernel_size=k, stride=s, padding=p),
                                                             [normal(2, 2, 5, 6)]) for k, s, p in POOLS},
    "avg_pool2d (of x * x, kernel 2, stride 1, padding 1)": (lambda x: F.avg_pool2d(x * x, 2, 1, 1),
                                                             [apart_in_size(1, 2, 4, 4)]),
    "max_pool2d": (lambda x: F.max_pool2d(x, 3, 2, 1), [separated(2, 2, 5, 5)]),
    "max_pool2d (tiles)": (lambda x: F.max_pool2d(x, (2, 3)), [separated(2, 3, 4, 6)]),
    **{f"max_pool2d (kernel {k}, stride {s}, padding {p})": (partial(F.max_pool2d, kernel_size=k, stride=s, padding=p),
                                                             [separated(2, 2, 5, 6)]) for k, s, p in POOLS},
    "max_pool2d (of x * x, kernel 2)": (lambda x: F.max_pool2d(x * x, 2), [apart_in_size(1, 2, 4, 4)]),
    "upsample_nearest2d": (lambda x: F.upsample_nearest2d(x, 2), [normal(2, 2, 3, 2)]),
    **{f"upsample_nearest2d (scale {scale})": (partial(F.upsample_nearest2d, scale_factor=scale), [normal(2, 2, 3, 2)])
       for scale in (1, 2, 3)},
    "interpolate": (lambda x: F.interpolate(x, scale_factor=1.5), [normal(2, 2, 3, 4)]),
    "interpolate (bilinear)": (lambda x: F.interpolate(x, size=(5, 3), mode="bilinear"), [normal(2, 2, 3, 4)]),
    "interpolate (bilinear, align_corners)": (lambda x: F.interpolate(x, scale_factor=2, mode="bilinear",
                                                                      align_corners=True), [normal(1, 2, 3, 2)]),
    **{f"interpolate ({mode}, align_corners={corners}, {key})": (
        partial(F.interpolate, mode=mode, align_corners=corners, **resize), [normal(2, 2, 3, 4)])
       for mode, corners in RESIZE_MODES for key, resize in RESIZES.items()},
    "adaptive_avg_pool2d": (lambda x: F.adaptive_avg_pool2d(x, (2, 3)), [normal(2, 2, 5, 4)]),
    **{f"adaptive_avg_pool2d (output {size})": (partial(F.adaptive_avg_pool2d, output_size=size), [normal(2, 2, 5, 4)])
       for size in [1, (2, 3), (None, 2), (5, 4)]},
    "max_pool2d (ceil_mode)": (lambda x: F.max_pool2d(x, 3, 2, 1, ceil_mode=True), [separated(2, 2, 6, 5)]),
    "max_pool2d (ceil_mode, tiles after padding)": (lambda x: F.max_pool2d(x, 2, ceil_mode=True),
                                                    [separated(2, 2, 5, 3)]),
    "max_pool2d (values of return_indices)": (lambda x: F.max_pool2d(x, 2, 1, return_indices=True)[0],
                                              [separated(1, 2, 4, 3)]),
    "avg_pool2d (ceil_mode, count_include_pad=False)": (
        lambda x: F.avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False), [normal(2, 2, 6, 5)]),
    "avg_pool2d (ceil_mode)": (lambda x: F.avg_pool2d(x, (2, 3), 2, ceil_mode=True), [normal(2, 2, 5, 6)]),
    "max_pool1d": (lambda x: F.max_pool1d(x, 3, 2, 1), [separated(2, 3, 7)]),
    "max_pool1d (dilation 2, ceil_mode)": (lambda x: F.max_pool1d(x, 2, 2, 1, dilation=2, ceil_mode=True),
                                           [separated(2, 2, 6)]),
    "max_pool1d (values of return_indices)": (lambda x: F.max_pool1d(x, 2, return_indices=True)[0],
                                              [separated(2, 2, 6)]),
    "avg_pool1d": (lambda x: F.avg_pool1d(x, 3, 2, 1), [normal(2, 3, 7)]),
    "avg_pool1d (ceil_mode, count_include_pad=False)": (
        lambda x: F.avg_pool1d(x, 2, 2, 1, ceil_mode=True, count_include_pad=False), [normal(2, 2, 6)]),
    "adaptive_max_pool2d": (lambda x: F.adaptive_max_pool2d(x, (2, 3)), [separated(2, 2, 5, 4)]),
    **{f"adaptive_max_pool2d (output {size})": (partial(F.adaptive_max_pool2d, output_size=size),
                                                [separated(2, 2, 5, 4)])
       for size in [1, (3, None), (4, 3), (5, 4)]},
    "adaptive_max_pool2d (values of return_indices)": (lambda x: F.adaptive_max_pool2d(x, 2, return_indices=True)[0],
                                                       [separated(1, 2, 3, 5)]),

    # -- normalisation ----------------------------------------------------------------------------------------
    "batch_norm": (batch_norm_training, [normal(4, 3, 2, 3), positive(3), normal(3)]),
    "batch_norm (1-d)": (batch_norm_training, [normal(6, 3), positive(3), normal(3)]),
    "batch_norm (eval)": (batch_norm_evaluation, [normal(4, 3, 2, 2), positive(3), normal(3)]),
    **{f"batch_norm ({kind}, {shape})": (fn, [normal(*shape, scale=2.0, shift=0.5), normal(shape[1], shift=1.0),
                                                normal(shape[1])])
       for kind, fn in [("no running statistics", batch_norm_without_statistics), ("eval", batch_norm_evaluation)]
       for shape in [(5, 3), (3, 2, 3, 2)]},
    "batch_norm (no running statistics, (3, 2, 2, 2), unshifted)": (
        batch_norm_without_statistics, [normal(3, 2, 2, 2, scale=2.0), normal(2, shift=1.0), normal(2)]),
    "layer_norm": (lambda x, w, b: F.layer_norm(x, (3, 2), w, b), [normal(4, 3, 2), positive(3, 2), normal(3, 2)]),
    "layer_norm (over (3, 2) of (2, 4, 3, 2))": (lambda x, w, b: F.layer_norm(x, (3, 2), w, b),
                                                 [normal(2, 4, 3, 2, scale=2.0, shift=1.0),
                                                  uniform(3, 2, low=0.5, high=1.5), normal(3, 2)]),
    "layer_norm (over the last axis of (2, 4, 3, 2), no weight)": (lambda x: F.layer_norm(x, 2),
                                                                   [normal(2, 4, 3, 2, scale=2.0, shift=1.0)]),
    "group_norm": (lambda x, w, b: F.group_norm(x, 2, w, b), [normal(2, 4, 2, 3), positive(4), normal(4)]),
    "group_norm (2 groups of (2, 4, 3, 2))": (lambda x, w, b: F.group_norm(x, 2, w, b),
                                              [normal(2, 4, 3, 2, scale=2.0, shift=1.0), uniform(4, low=0.5, high=1.5),
                                               normal(4)]),
    "instance_norm": (lambda x, w, b: F.instance_norm(x, weight=w, bias=b), [normal(2, 3, 2, 3), positive(3), normal(3)]),
    "instance_norm (running)": (lambda x: F.instance_norm(x, *fresh_statistics(x.shape[1]), momentum=0.3),
                                [normal(2, 3, 4)]),
    "instance_norm (eval)": (lambda x: F.instance_norm(x, on_device(np.linspace(-0.5, 0.5, 3)),
                                                       on_device(np.linspace(0.5, 2.0, 3)), use_input_stats=False),
                             [normal(2, 3, 4)]),
    "instance_norm ((2, 4, 3, 2))": (lambda x, w, b: F.instance_norm(x, weight=w, bias=b),
                                     [normal(2, 4, 3, 2, scale=2.0, shift=1.0), uniform(4, low=0.5, high=1.5),
                                      normal(4)]),
    "normalize": (lambda x: F.normalize(x, dim=1), [normal(3, 4)]),
    "normalize (p=3)": (lambda x: F.normalize(x, p=3, dim=0), [separated(3, 4)]),
    **{f"normalize (p={p}, dim=1)": (partial(F.normalize, p=p, dim=1), [separated(3, 4)]) for p in (1.0, 2.0, 3.0)},

    # -- dropout, embedding, linear ---------------------------------------------------------------------------
    "dropout": (seeded(lambda x: F.dropout(x, 0.4)), [normal(4, 5)]),
    **{f"dropout (p={p}, one mask)": (seeded(partial(F.dropout, p=p, training=True), seed=1234), [normal(4, 5)])
       for p in (0.3, 0.7)},
    **{f"dropout (p={p}, evaluation)": (partial(F.dropout, p=p, training=False), [normal(4, 5)]) for p in (0.3, 0.7)},
    "dropout1d": (seeded(lambda x: F.dropout1d(x, 0.4), seed=3), [normal(3, 4, 5)]),
    "dropout1d (no batch)": (seeded(lambda x: F.dropout1d(x, 0.5), seed=3), [normal(4, 5)]),
    "dropout1d (evaluation)": (partial(F.dropout1d, p=0.5, training=False), [normal(3, 4, 5)]),
    "dropout2d": (seeded(lambda x: F.dropout2d(x, 0.4), seed=3), [normal(2, 4, 3, 2)]),
    "dropout2d (p=1)": (lambda x: F.dropout2d(x, 1.0), [normal(2, 3, 2, 2)]),
    "dropout2d (evaluation)": (partial(F.dropout2d, p=0.5, training=False), [normal(2, 4, 3, 2)]),
    "embedding": (lambda w: F.embedding(Tensor(on_device(np.array([[1, 3], [3, 0]]))), w), [normal(4, 3)]),
    "embedding (rows picked three times)": (lambda w: F.embedding(constant([[0, 5, 0], [2, 2, 2]]), w), [normal(6, 3)]),
    "embedding (a list of indices)": (lambda w: F.embedding([1, 1, 4], w), [normal(6, 3)]),
    "embedding (padding_idx=-2: that row gets no gradient)": (
        lambda w: F.embedding(constant([[4, 1], [4, 0]]), w, padding_idx=-2) ** 2, [normal(6, 3)],
        {check: "the padding row gets no gradient by design (PyTorch's padding_idx), where differences see one"
         for check in ("gradient", "gradient of gradient")}),
    "linear": (F.linear, [normal(5, 4), normal(3, 4), normal(3)]),
    **{f"linear (input {shape}, {'bias' if bias else 'no bias'})": (
        F.linear, [normal(*shape), normal(2, 3)] + ([normal(2)] if bias else []))
       for shape in [(4, 3), (2, 3, 3)] for bias in (True, False)},
    "linear (input (3, 4), bias)": (F.linear, [normal(3, 4), normal(2, 4), normal(2)]),
    "linear (tanh after, no bias)": (lambda x, w: F.tanh(F.linear(x, w)), [normal(3, 4), normal(2, 4)]),

    # -- losses -------------------------------------------------------------------------------------------------
    "binary_cross_entropy_with_logits": (with_constant(F.binary_cross_entropy_with_logits, probabilities(3, 4)),
                                         [normal(3, 4)]),
    **{f"binary_cross_entropy_with_logits (soft targets, reduction={r!r})": (
        partial(F.binary_cross_entropy_with_logits, reduction=r), [normal(4, 3, scale=3.0), uniform(4, 3)])
       for r in REDUCTIONS},
    **{f"binary_cross_entropy_with_logits (hard targets, reduction={r!r})": (
        with_constant(partial(F.binary_cross_entropy_with_logits, reduction=r),
                      lambda rng: rng.integers(0, 2, (4, 3)).astype(np.float64)), [normal(4, 3, scale=3.0)])
       for r in REDUCTIONS},
    "binary_cross_entropy_with_logits (constant soft targets, 4 x 3)": (
        with_constant(F.binary_cross_entropy_with_logits, uniform(4, 3)), [normal(4, 3)]),
    "binary_cross_entropy_with_logits (plus mse_loss, targets through sigmoid)": (
        lambda x, y: F.binary_cross_entropy_with_logits(x, F.sigmoid(y)) + F.mse_loss(x, y),
        [normal(3, 2), normal(3, 2)]),
    "binary_cross_entropy": (with_constant(F.binary_cross_entropy, probabilities(3, 4)), [probabilities(3, 4)]),
    **{f"binary_cross_entropy (reduction={r!r})": (partial(F.binary_cross_entropy, reduction=r),
                                                   [uniform(4, 3, low=0.05, high=0.95), uniform(4, 3)])
       for r in REDUCTIONS},
    "mse_loss": (with_constant(F.mse_loss, normal(3, 4)), [normal(3, 4)]),
    **{f"mse_loss (reduction={r!r})": (partial(F.mse_loss, reduction=r), [normal(4, 3), normal(4, 3)])
       for r in REDUCTIONS},
    **{f"mse_loss (target 0.5, reduction={r!r})": (partial(F.mse_loss, targets=0.5, reduction=r), [normal(4, 3)])
       for r in REDUCTIONS},
    "mse_loss (constant target, 4 x 3)": (with_constant(F.mse_loss, uniform(4, 3)), [normal(4, 3)]),
    "gaussian_kl": (F.gaussian_kl, [normal(3, 4), normal(3, 4)]),
    **{f"gaussian_kl (reduction={r!r})": (partial(F.gaussian_kl, reduction=r), [normal(4, 3), normal(4, 3, scale=0.5)])
       for r in REDUCTIONS},
    "cross_entropy": (lambda x: F.cross_entropy(x, Tensor(on_device(np.array([2, -100, 0, 3]))), label_smoothing=0.2,
                                                weight=Tensor(on_device(np.array([0.5, 1.0, 2.0, 1.5, 0.7])))),
                      [normal(4, 5)]),
    "cross_entropy (2-d)": (lambda x: F.cross_entropy(x, Tensor(on_device(np.array([[0, 2, 1], [1, 1, 0]]))),
                                                      reduction="none"), [normal(2, 3, 3)]),
    # plain labels run the fast kernel (tinygan/kernels/loss.py): one with an ignored label, one over images
    "cross_entropy (labels)": (lambda x: F.cross_entropy(x, Tensor(on_device(np.array([2, -100, 0, 3])))),
                               [normal(4, 5)]),
    "cross_entropy (label maps)": (lambda x: F.cross_entropy(x, Tensor(on_device(np.array([[[0, 2], [1, 1]],
                                                                                              [[2, 0], [-100, 1]]]))),
                                                              reduction="sum"), [normal(2, 3, 2, 2)]),
    # huge logits in every class, the last one too: the row maximum must be taken over all of them
    "cross_entropy (large logits)": (lambda x: F.cross_entropy(x, Tensor(on_device(np.array([4, 0, 2, 1, 3, 4])))),
                                     [large_logits(6, 5)]),
    "cross_entropy (large logits, label maps)": (
        lambda x: F.cross_entropy(x, Tensor(on_device(np.array([[[0, 2], [1, 1]], [[2, 0], [-100, 1]]]))),
                                  reduction="sum"), [large_logits(2, 3, 2, 2)]),
    "cross_entropy (large logits, smoothed)": (
        lambda x: F.cross_entropy(x, Tensor(on_device(np.array([3, 1, 0, 2]))), label_smoothing=0.1),
        [large_logits(4, 4)]),
    "cross_entropy (probabilities)": (with_constant(lambda x, p: F.cross_entropy(x, p, label_smoothing=0.1),
                                                    probabilities(3, 4)), [normal(3, 4)]),
    **{f"cross_entropy (label maps, class weights, reduction={r!r}, smoothing={s})": (
        labelled(F.cross_entropy, LABEL_MAPS, weight=constant(CLASS_WEIGHTS), reduction=r, label_smoothing=s),
        [normal(5, 4, 2, scale=2.0)]) for r in REDUCTIONS for s in (0.0, 0.25)},
    **{f"cross_entropy (probability targets, reduction={r!r}, smoothing={s})": (
        partial(F.cross_entropy, reduction=r, label_smoothing=s), [normal(5, 4), uniform(5, 4)])
       for r in REDUCTIONS for s in (0.0, 0.25)},
    "nll_loss": (lambda x: F.nll_loss(x, Tensor(on_device(np.array([1, 0, 2]))), reduction="sum"), [normal(3, 4)]),
    **{f"nll_loss (ignore_index=1, reduction={r!r})": (labelled(F.nll_loss, [0, 1, 2, 2, 1, 0], reduction=r,
                                                                ignore_index=1), [normal(6, 3)])
       for r in REDUCTIONS},
    "l1_loss": (with_constant(F.l1_loss, normal(3, 4)), [separated(3, 4)]),
    # x - y stays at least 0.04 away from the kink of |x - y| at 0
    **{f"l1_loss (reduction={r!r})": (partial(F.l1_loss, reduction=r), [separated(4, 3), normal(4, 3, scale=0.001)])
       for r in REDUCTIONS},
    "kl_div": (lambda q, p: F.kl_div(q, p, reduction="batchmean"), [normal(3, 4), probabilities(3, 4)]),
    "kl_div (log_target)": (lambda q, p: F.kl_div(q, p, reduction="sum", log_target=True), [normal(3, 4), normal(3, 4)]),
    **{f"kl_div (reduction={r!r}, log_target={log_target})": (
        partial(F.kl_div, reduction=r, log_target=log_target),
        [normal(3, 4), normal(3, 4) if log_target else uniform(3, 4, low=0.1, high=1.0)])
       for r in ("batchmean", "sum", "none") for log_target in (False, True)},

    # -- recurrent cells (x, h, [c,] W_ih, W_hh[, b_ih, b_hh]) and layers -----------------------------------------
    "rnn_cell": (F.rnn_cell, [normal(2, 3), normal(2, 4), normal(4, 3), normal(4, 4), normal(4), normal(4)]),
    "rnn_cell (relu)": (lambda *a: F.rnn_cell(*a, nonlinearity="relu"),
                        [normal(2, 3), normal(2, 4), normal(4, 3), normal(4, 4), normal(4), normal(4)]),
    "rnn_cell (no bias)": (F.rnn_cell, [normal(2, 3), normal(2, 4), normal(4, 3), normal(4, 4)]),
    "lstm_cell": (lstm_cell_both,
                  [normal(2, 3), normal(2, 4), normal(2, 4), normal(16, 3), normal(16, 4), normal(16), normal(16)]),
    "lstm_cell (no bias)": (lstm_cell_both, [normal(2, 3), normal(2, 4), normal(2, 4), normal(16, 3), normal(16, 4)]),
    "gru_cell": (F.gru_cell, [normal(2, 3), normal(2, 4), normal(12, 3), normal(12, 4), normal(12), normal(12)]),
    "gru_cell (no bias)": (F.gru_cell, [normal(2, 3), normal(2, 4), normal(12, 3), normal(12, 4)]),
    # an LSTM layer over a sequence; its fast kernel is one Function with the closed-form BPTT
    "lstm_sequence": (lambda *a: lstm_sequence_flat(*a),
                      [normal(3, 2, 3), normal(2, 4), normal(2, 4), normal(16, 3), normal(16, 4), normal(16),
                       normal(16)]),
    "lstm_sequence (no bias)": (lambda *a: lstm_sequence_flat(*a),
                                [normal(4, 1, 2), normal(1, 3), normal(1, 3), normal(12, 2), normal(12, 3)]),

    # -- more of what PyTorch code calls: batched and outer products, lerp, triangles, flips, gathers --------------
    "bmm": (F.bmm, [normal(2, 3, 4), normal(2, 4, 5)]),
    "bmm ((a @ b) squared, Tensor.bmm)": (lambda a, b: a.bmm(b) * a.bmm(b), [normal(3, 2, 4), normal(3, 4, 2)]),
    "outer": (F.outer, [normal(3), normal(4)]),
    "lerp": (lambda a, b: F.lerp(a, b, 0.3), [normal(2, 3), normal(2, 3)]),
    "lerp (a tensor weight)": (F.lerp, [normal(2, 3), normal(2, 3), uniform(2, 3)]),
    **{f"tril (diagonal={k})": (partial(F.tril, diagonal=k), [normal(2, 4, 5)]) for k in (0, 1, -2)},
    **{f"triu (diagonal={k})": (partial(F.triu, diagonal=k), [normal(4, 3)]) for k in (0, 2, -1)},
    "tril (x * x, Tensor.tril)": (lambda x: (x * x).tril(), [normal(3, 3)]),
    **{f"flip (dims={dims})": (partial(F.flip, dims=dims), [normal(2, 3, 4)]) for dims in (0, (1, 2), [-1])},
    "flip (x * x, Tensor.flip(0, 2))": (lambda x: (x * x).flip(0, 2), [normal(2, 3, 4)]),
    **{f"gather (dim={dim})": (with_constant(lambda x, index, dim=dim: F.gather(x, dim, index),
                                             lambda rng, dim=dim: rng.integers(0, 3, (2, 3, 2)).astype(np.int64)),
                               [normal(3, 3, 3)]) for dim in (0, 1, -1)},
    "gather (an index picking rows twice, Tensor.gather)": (
        lambda x: x.gather(0, constant(np.array([[0, 1], [0, 1], [2, 0]]))) ** 2, [normal(3, 2)]),
    "einsum (attention's scores, bqd,bkd->bqk)": (lambda q, k: F.einsum("bqd,bkd->bqk", q, k),
                                                  [normal(2, 3, 4), normal(2, 5, 4)]),
    "einsum (a vector times a matrix's rows, squared)": (lambda x, v: F.einsum("ij,j->i", x, v) ** 2,
                                                         [normal(3, 4), normal(4)]),
    "einsum (implicit output, an operand's own axis summed)": (lambda a, b: F.einsum("ijk,jl", a, b),
                                                               [normal(2, 3, 2), normal(3, 4)]),
    "einsum (one operand twice, as a list)": (lambda a: F.einsum("ij,ij->", [a, a]), [normal(3, 4)]),
    "sort": (lambda x: F.sort(x, dim=1).values, [separated(3, 4)]),
    "sort (descending along dim 0, squared)": (lambda x: F.sort(x, 0, descending=True).values ** 2, [separated(4, 3)]),
    "topk": (lambda x: F.topk(x, 2).values, [separated(3, 5)]),
    "topk (smallest along dim 0, Tensor.topk)": (lambda x: x.topk(2, dim=0, largest=False).values * x[:2],
                                                 [separated(4, 3)]),
    **{f"roll (shifts={shifts}, dims={dims})": (partial(F.roll, shifts=shifts, dims=dims), [normal(3, 4)])
       for shifts, dims in ((1, 1), ((-1, 5), (0, 1)), (3, None))},
    "roll (squared, Tensor.roll)": (lambda x: x.roll(2, 0) ** 2, [normal(3, 2)]),
    "index_select": (lambda x: F.index_select(x, 1, constant(np.array([3, 0, 3]))), [normal(2, 4)]),
    "index_select (rows twice, Tensor.index_select)": (
        lambda x: x.index_select(0, constant(np.array([1, 1, 0]))) ** 2, [normal(2, 3)]),
    "cosine_similarity": (F.cosine_similarity, [normal(3, 4), normal(3, 4)]),
    "cosine_similarity (dim 0, broadcast)": (lambda a, b: F.cosine_similarity(a, b, dim=0),
                                             [normal(4, 3), normal(4, 1)]),
    "logsigmoid": (F.logsigmoid, [normal(3, 4)]),
    "logsigmoid (far tails)": (F.logsigmoid, [values(TAILS)]),
    "hardtanh": (lambda x: F.hardtanh(x, -0.33, 0.47), [separated(3, 4)]),
    "mish": (F.mish, [normal(3, 4)]),
    "prelu (one slope per channel)": (F.prelu, [separated(2, 3, 2, 2), uniform(3)]),
    "prelu (one slope)": (F.prelu, [separated(4, 3), uniform(1)]),
    "unfold": (lambda x: F.unfold(x, 2, 1, 1, 2), [normal(2, 3, 4, 4)]),
    "fold": (lambda cols: F.fold(cols, (4, 4), 3, padding=1), [normal(2, 18, 16)]),
    "softmin": (lambda x: F.softmin(x, dim=1), [normal(3, 4)]),
    # Huber's function: d = x - y is kept 0.02 or more from +-beta and 0 by the separated values and the fixed target
    **{f"smooth_l1_loss (beta={beta}, {reduction})": (
        with_constant(partial(F.smooth_l1_loss, beta=beta, reduction=reduction), lambda rng: np.zeros((3, 4))),
        [separated(3, 4)]) for beta, reduction in ((1.0, "mean"), (0.37, "none"), (0.0, "sum"))},
    "huber_loss (delta=0.37)": (with_constant(lambda x, y: F.huber_loss(x, y, reduction="sum", delta=0.37),
                                              lambda rng: np.zeros((3, 4))), [separated(3, 4)]),
    "pixel_shuffle": (lambda x: F.pixel_shuffle(x, 2), [normal(2, 8, 3, 2)]),
    "pixel_shuffle (factor 3, squared)": (lambda x: F.pixel_shuffle(x, 3) ** 2, [normal(1, 9, 2, 2)]),

    # -- more activations: separated values times 10 lie at half-integers, 0.5 from the kinks at -3, 0, 3 and 6 ------
    **{f"{op} (times 10)": (lambda x, op=getattr(F, op): op(x * 10.0), [separated(4, 4)])
       for op in ("relu6", "hardswish", "hardsigmoid")},
    "selu": (F.selu, [separated(3, 4)]),
    "celu": (F.celu, [separated(3, 4)]),
    "celu (alpha=0.7)": (lambda x: F.celu(x, alpha=0.7), [separated(3, 4)]),
    "glu": (F.glu, [normal(3, 4)]),
    "glu (dim 0)": (lambda x: F.glu(x, 0), [normal(4, 3)]),
    "softsign": (F.softsign, [separated(3, 4)]),
    "tanhshrink": (F.tanhshrink, [normal(3, 4)]),
    "threshold": (lambda x: F.threshold(x, 0.1, -2.0), [separated(3, 4)]),
    "hardshrink": (lambda x: F.hardshrink(x, 0.3), [separated(3, 4)]),
    "softshrink": (lambda x: F.softshrink(x, 0.3), [separated(3, 4)]),
    "rms_norm": (lambda x, w: F.rms_norm(x, (3, 2), w), [normal(4, 3, 2), normal(3, 2)]),
    "rms_norm (defaults)": (lambda x: F.rms_norm(x, 4), [normal(3, 4)]),
    "pixel_unshuffle": (lambda x: F.pixel_unshuffle(x, 2), [normal(2, 2, 4, 6)]),
    "pixel_unshuffle (3-D, factor 3, squared)": (lambda x: F.pixel_unshuffle(x, 3) ** 2, [normal(2, 3, 6)]),
    "pairwise_distance": (F.pairwise_distance, [normal(3, 4), normal(3, 4)]),
    **{f"pairwise_distance (p={p}, keepdim)": (partial(F.pairwise_distance, p=p, keepdim=True),
                                               [normal(2, 3, 4), normal(4)])
       for p in (1, 3, float("inf"))},
    "gumbel_softmax": (seeded(lambda x: F.gumbel_softmax(x, tau=0.5)), [normal(3, 4)]),
    "gumbel_softmax (hard, dim 0)": (seeded(lambda x: F.gumbel_softmax(x, hard=True, dim=0)), [normal(4, 3)],
                                     {check: "straight-through: the value is one-hot (locally constant), the gradient "
                                             "is the soft sample's, by design"
                                      for check in ("gradient", "gradient of gradient")}),

    # -- rounding (gradient 0, the values kept 0.05 from a jump), remainders, more of exp and log -----------------
    **{f"{name} (times x)": (lambda x, step=getattr(F, name): step(x) * x, [separated(3, 4)])
       for name in ("floor", "ceil", "round", "trunc", "sign")},
    "frac": (F.frac, [separated(3, 4)]),
    "remainder": (F.remainder, [normal(3, 4, scale=3.0), signed(3, 4)]),
    "remainder (a number, squared)": (lambda a: F.remainder(a, 0.7) ** 2, [separated(3, 4)]),
    "fmod (broadcast divisor)": (F.fmod, [normal(3, 4, scale=3.0), signed(4)]),
    "floor_divide (times a)": (lambda a, b: F.floor_divide(a, b) * a, [normal(3, 4, scale=3.0), signed(3, 4)]),
    "log1p": (F.log1p, [positive(3, 4)]),
    "expm1": (F.expm1, [normal(3, 4)]),
    "erf": (F.erf, [normal(3, 4)]),
    "log2": (F.log2, [positive(3, 4)]),
    "log10": (F.log10, [positive(3, 4)]),
    "reciprocal": (F.reciprocal, [signed(3, 4)]),
    "rsqrt": (F.rsqrt, [positive(3, 4)]),

    # -- likelihood, margin and embedding losses: each hinge kept 0.05 or more from its corner -----------------------
    "gaussian_nll_loss": (F.gaussian_nll_loss, [normal(3, 4), normal(3, 4), positive(3, 4)]),
    "gaussian_nll_loss (one variance per row, full, sum)": (
        lambda x, y, var: F.gaussian_nll_loss(x, y, var, full=True, reduction="sum"),
        [normal(3, 4), normal(3, 4), positive(3)]),
    "gaussian_nll_loss (var a number, none)": (lambda x, y: F.gaussian_nll_loss(x, y, 0.7, reduction="none"),
                                                [normal(3, 4), normal(3, 4)]),
    "poisson_nll_loss": (F.poisson_nll_loss, [normal(3, 4), uniform(3, 4, high=3.0)]),
    # Stirling's term jumps at the target 1: the targets stay 0.5 or more from it
    "poisson_nll_loss (rates, full, sum)": (
        lambda x, y: F.poisson_nll_loss(x, y, log_input=False, full=True, reduction="sum"),
        [positive(3, 4), values([[0.0, 0.5, 1.5, 2.0], [3.0, 0.25, 4.5, 0.0], [1.5, 6.0, 0.5, 2.5]])]),
    "poisson_nll_loss (full, none)": (lambda x, y: F.poisson_nll_loss(x, y, full=True, reduction="none"),
                                      [normal(3, 4), values([[0.0, 0.5, 1.5, 2.0], [3.0, 0.25, 4.5, 0.0],
                                                             [1.5, 6.0, 0.5, 2.5]])]),
    **{f"margin_ranking_loss (margin=0.2, {r})": (
        partial(F.margin_ranking_loss, margin=0.2, reduction=r),
        [separated(3, 4), values(np.zeros((3, 4))), values(np.resize([1.0, -1.0, -1.0], (3, 4)))])
       for r in ("mean", "none")},
    **{f"hinge_embedding_loss (margin={m}, {r})": (
        with_constant(partial(F.hinge_embedding_loss, margin=m, reduction=r),
                      lambda rng: np.resize([1.0, -1.0, -1.0, 0.5, -1.0], (3, 4))), [separated(3, 4)])
       for m, r in ((1.0, "mean"), (0.4, "sum"))},
    "soft_margin_loss": (F.soft_margin_loss, [normal(3, 4), values(np.resize([1.0, -1.0, -1.0], (3, 4)))]),
    "soft_margin_loss (none)": (partial(F.soft_margin_loss, reduction="none"), [normal(3, 4, scale=3.0), normal(3, 4)]),
    **{f"multilabel_soft_margin_loss ({r})": (
        partial(F.multilabel_soft_margin_loss, weight=fixed(positive(4)), reduction=r), [normal(3, 4), uniform(3, 4)])
       for r in ("mean", "none")},
    "multilabel_soft_margin_loss (one sample, no weight)": (F.multilabel_soft_margin_loss, [normal(5), uniform(5)]),
    **{f"cosine_embedding_loss (margin={m}, {r})": (
        lambda a, b, m=m, r=r: F.cosine_embedding_loss(a, b, constant(np.array([1.0, -1.0, -1.0, 0.0, -1.0])),
                                                       margin=m, reduction=r), [normal(5, 3), normal(5, 3)])
       for m, r in ((0.0, "mean"), (-0.5, "sum"), (0.2, "none"))},
    "cosine_embedding_loss (one pair)": (lambda a, b: F.cosine_embedding_loss(a, b, constant(np.array(-1.0))),
                                         [normal(4, shift=1.0), normal(4, shift=1.0)]),
    **{f"triplet_margin_loss (p={p}, swap={swap})": (
        partial(F.triplet_margin_loss, margin=3.0, p=p, swap=swap), [normal(3, 4), normal(3, 4), normal(3, 4)])
       for p, swap in ((2, False), (1, True), (3, False), (float("inf"), True))},
    "triplet_margin_loss (one triplet, none)": (lambda a, p, n: F.triplet_margin_loss(a, p, n, reduction="none"),
                                                [normal(4), normal(4), normal(4, scale=3.0)]),

    # -- scatters: x and src both differentiable, the index fixed --------------------------------------------------
    "scatter_add (places named twice)": (
        lambda x, src: F.scatter_add(x, 1, constant(np.array([[0, 2, 0], [3, 3, 1], [1, 0, 2]])), src),
        [normal(3, 4), normal(3, 3)]),
    "scatter_add (src larger than the index)": (
        lambda x, src: F.scatter_add(x, 0, constant(np.array([[1, 0], [1, 1]])), src), [normal(2, 3), normal(3, 2)]),
    "scatter": (lambda x, src: F.scatter(x, 1, constant(np.array([[0, 2], [3, 1], [1, 0]])), src),
                [normal(3, 4), normal(3, 2)]),
    "scatter (a value, squared)": (lambda x: F.scatter(x, 0, constant(np.array([[1, 0, 1]])), value=2.5) ** 2,
                                   [normal(2, 3)]),
    "index_add": (lambda x, source: F.index_add(x, 1, constant(np.array([2, 0, 2])), source, alpha=0.5),
                  [normal(2, 3), normal(2, 3)]),

    # -- pad's other modes: getitem with mirrored, clamped and wrapped indices --------------------------------------
    **{f"pad ({pad}, mode={mode!r})": (partial(F.pad, pad=pad, mode=mode), [normal(*shape)])
       for mode in ("reflect", "replicate", "circular")
       for shape, pad in (((2, 4), (2, -1)), ((2, 3, 4), (3, 1, 2, 2)), ((1, 2, 3, 3, 4), (1, 2, -1, 2, 2, 0)))},

    # -- reductions built from other ops ----------------------------------------------------------------------------
    "prod": (F.prod, [normal(2, 3)]),
    "prod (along dim 1, odd length, a zero)": (lambda x: F.prod(x, 1), [values([[0.5, 0.0, -1.5], [2.0, 1.2, 0.7]])]),
    "prod (keepdim)": (lambda x: F.prod(x, 0, keepdim=True), [normal(5, 2)]),
    "median": (F.median, [separated(3, 4)]),
    "median (dim 0)": (lambda x: F.median(x, 0).values, [separated(4, 3)]),
    "kthvalue (k = 2, keepdim)": (lambda x: F.kthvalue(x, 2, dim=1, keepdim=True).values, [separated(3, 4)]),
    "nansum (a NaN)": (lambda x: F.nansum(x, 1), [values([[0.5, np.nan, -1.5], [2.0, 1.2, 0.7]])]),
    "nanmean (a NaN)": (lambda x: F.nanmean(x, 0), [values([[0.5, np.nan, -1.5], [2.0, 1.2, 0.7]])]),

    # -- taking apart and rearranging -------------------------------------------------------------------------------
    "unbind": (lambda x: F.stack(F.unbind(x, 1), 0) ** 2, [normal(2, 3)]),
    "select": (lambda x: F.select(x, 1, -1), [normal(2, 3, 2)]),
    "movedim": (lambda x: F.movedim(x, (0, 1), (2, 0)), [normal(2, 3, 4)]),
    "unflatten": (lambda x: F.unflatten(x, 1, (2, -1)), [normal(2, 6)]),
    "tile": (lambda x: F.tile(x, (2, 1, 2)), [normal(2, 3)]),
    "repeat_interleave": (lambda x: F.repeat_interleave(x, constant(np.array([2, 0, 1])), dim=1), [normal(2, 3)]),
    "repeat_interleave (flattened, squared)": (lambda x: F.repeat_interleave(x, 2) ** 2, [normal(2, 2)]),
    "diagonal": (lambda x: F.diagonal(x, 1, 2, 0), [normal(3, 2, 4)]),
    "diag (a vector)": (lambda x: F.diag(x, -1), [normal(3)]),
    "diag (a matrix)": (lambda x: F.diag(x, 1), [normal(3, 4)]),
    "hstack": (lambda a, b: F.hstack([a, b]), [normal(2, 3), normal(2, 1)]),
    "vstack": (lambda a, b: F.vstack([a, b]), [normal(2, 3), normal(3)]),
    "rot90": (lambda x: F.rot90(x, 1, (1, 2)), [normal(2, 3, 4)]),
    "rot90 (three turns, squared)": (lambda x: F.rot90(x, 3) ** 2, [normal(3, 2)]),
    "take_along_dim": (lambda x: F.take_along_dim(x, constant(np.array([[2, 0], [1, 1], [0, 2]])), 1),
                       [normal(3, 3)]),
    "take_along_dim (broadcast)": (lambda x: F.take_along_dim(x, constant(np.array([[[1], [0]]])), 2),
                                   [normal(3, 2, 2)]),
    "masked_select (a broadcast mask)": (lambda x: F.masked_select(x, constant(np.array([True, False, True]))),
                                         [normal(2, 3)]),
    "cumprod": (lambda x: F.cumprod(x, 1), [normal(2, 5)]),
    "cumprod (a zero, dim 0)": (lambda x: F.cumprod(x, 0), [values([[0.5, 2.0], [0.0, -1.5], [1.2, 0.7]])]),
    "diff": (lambda x: F.diff(x, dim=0), [normal(4, 3)]),
    "diff (twice, prepend, append)": (lambda x, y: F.diff(x, n=2, prepend=y, append=y * y),
                                      [normal(2, 3), normal(2, 1)]),
    "nan_to_num (nan, inf and -inf)": (lambda x: F.nan_to_num(x, nan=0.5, posinf=3.0, neginf=-3.0),
                                       [values([[0.5, np.nan, np.inf], [-np.inf, 1.2, -0.7]])]),

    # -- neural rendering: sines of the positional encoding, the exclusive running sum of T ---------------------
    "sin": (F.sin, [normal(3, 4)]),
    "cos": (F.cos, [normal(3, 4)]),
    "cumsum": (lambda x: F.cumsum(x, dim=1), [normal(2, 5, 3)]),
    "cumsum (exclusive)": (lambda x: F.cumsum(x, dim=-1, exclusive=True), [normal(3, 5)]),
    "cumsum (reverse)": (lambda x: F.cumsum(x, dim=0, reverse=True), [normal(4, 3)]),
    "cumsum (reverse, exclusive)": (lambda x: F.cumsum(x, dim=1, exclusive=True, reverse=True), [normal(3, 5)]),
    "positional_encoding": (lambda p: F.positional_encoding(p, 3), [normal(4, 3)]),
    "positional_encoding (4 frequencies)": (lambda p: F.positional_encoding(p, 4), [normal(5, 3, scale=0.3)]),
    # the renderer as a function of sigma and c, at fixed sample distances t (R = 3 rays, N = 5 samples)
    "volume_render": (lambda sigma, rgb: F.volume_render(sigma, rgb, Tensor(on_device(RENDER_T)), 3.5)[0],
                      [positive(3, 5), probabilities(3, 5, 3)]),
    "volume_render (depth, opacity)": (lambda sigma: F.concat(   # these two do not depend on the colours
        [F.unsqueeze(v, 1) for v in F.volume_render(sigma, Tensor(on_device(np.full((3, 5, 3), 0.5))),
                                                    Tensor(on_device(RENDER_T)), 3.5)[1:]], axis=1),
        [positive(3, 5)]),

    # -- attention: softmax(Q K^T / sqrt(E) + M) V, and multi-head self-attention ------------------------------
    "scaled_dot_product_attention": (F.scaled_dot_product_attention,
                                     [normal(2, 3, 4), normal(2, 5, 4), normal(2, 5, 2)]),
    "scaled_dot_product_attention (is_causal, scale 0.7)": (
        lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True, scale=0.7),
        [normal(2, 2, 4, 3), normal(2, 2, 4, 3), normal(2, 2, 4, 2)]),
    "scaled_dot_product_attention (bool mask, a query with no key)": (
        lambda q, k, v: F.scaled_dot_product_attention(q, k, v, attn_mask=constant([[True, False, True],
                                                                                   [False, False, False]])),
        [normal(2, 2, 3), normal(2, 3, 3), normal(2, 3, 2)]),
    "scaled_dot_product_attention (a learnt float mask)": (
        lambda q, k, v, bias: F.scaled_dot_product_attention(q, k, v, attn_mask=bias),
        [normal(2, 3, 2), normal(2, 4, 2), normal(2, 4, 3), normal(3, 4)]),
    "multi_head_attention_forward": (multi_head_attention_flat, [normal(3, 2, 4), normal(12, 4, scale=0.5),
                                                                 normal(12, scale=0.1), normal(4, 4, scale=0.5),
                                                                 normal(4, scale=0.1)]),

    # -- boundary values: zero variance, a batch of one, one step, one class, huge inputs, default arguments --
    "batch_norm (zero variance)": (batch_norm_training, [constant_over(4, 3, 2, 2, axes=(0, 2, 3)), positive(3),
                                                         normal(3)]),
    "batch_norm (batch of 1)": (batch_norm_training, [normal(1, 3, 2, 2), positive(3), normal(3)]),
    "layer_norm (zero variance)": (lambda x, w, b: F.layer_norm(x, (3, 2), w, b),
                                   [constant_over(4, 3, 2, axes=(1, 2)), positive(3, 2), normal(3, 2)]),
    "layer_norm (defaults)": (lambda x: F.layer_norm(x, (4,)), [normal(3, 4)]),
    "group_norm (zero variance)": (lambda x, w, b: F.group_norm(x, 2, w, b),
                                   [constant_over(2, 4, 2, 3, axes=(1, 2, 3)), positive(4), normal(4)]),
    "group_norm (defaults)": (lambda x: F.group_norm(x, 1), [normal(2, 3, 2, 2)]),
    "instance_norm (zero variance)": (lambda x: F.instance_norm(x), [constant_over(2, 3, 2, 3, axes=(2, 3))]),
    # eps 0.1: the checker's steps of 1e-6 stay inside the clamped region around the zero vector
    "normalize (zero vector)": (lambda x: F.normalize(x, eps=0.1), [with_zero_row(3, 4)]),
    "normalize (zero vector, p=3)": (lambda x: F.normalize(x, p=3, eps=0.1), [with_zero_row(3, 4)]),
    "conv2d (defaults)": (F.conv2d, [normal(2, 3, 4, 4), normal(2, 3, 3, 3)]),
    "conv1d (defaults)": (F.conv1d, [normal(2, 3, 6), normal(4, 3, 3)]),
    "conv1d (stride 2, padding 1, dilation 2, bias)": (
        lambda x, w, b: F.conv1d(x, w, b, stride=2, padding=1, dilation=2),
        [normal(2, 3, 7), normal(4, 3, 2), normal(4)]),
    "conv1d (groups=2, padding='same', even kernel)": (lambda x, w: F.conv1d(x, w, padding="same", groups=2),
                                                       [normal(2, 4, 5), normal(6, 2, 4)]),
    "conv1d (no batch, padding='valid')": (lambda x, w: F.conv1d(x, w, padding="valid"),
                                           [normal(3, 5), normal(2, 3, 2)]),
    "conv2d (batch of 1, 1x1 kernel)": (F.conv2d, [normal(1, 3, 2, 3), normal(4, 3, 1, 1), normal(4)]),
    "conv_transpose2d (defaults)": (F.conv_transpose2d, [normal(2, 3, 3, 2), normal(3, 2, 2, 3)]),
    "max_pool2d (defaults)": (lambda x: F.max_pool2d(x, 2), [separated(2, 2, 4, 4)]),
    "adaptive_avg_pool2d (1x1)": (lambda x: F.adaptive_avg_pool2d(x, 1), [normal(2, 3, 3, 4)]),
    "linear (no bias, batch of 1)": (F.linear, [normal(1, 4), normal(3, 4)]),
    "leaky_relu (defaults)": (F.leaky_relu, [separated(3, 4)]),
    "elu (defaults)": (F.elu, [separated(3, 4)]),
    "dropout (defaults)": (seeded(F.dropout), [normal(4, 5)]),
    "sum (all)": (F.sum, [normal(2, 3)]),
    "mean (all)": (F.mean, [normal(2, 3)]),
    "max (all)": (F.max, [separated(2, 3)]),
    "var (defaults)": (F.var, [normal(2, 3)]),
    "softmax (one class)": (lambda x: F.softmax(x, dim=1), [normal(3, 1)]),
    "log_softmax (one class)": (lambda x: F.log_softmax(x, dim=1), [normal(3, 1)]),
    "sigmoid (huge)": (F.sigmoid, [large_logits(3, 3, size=800.0)]),
    "tanh (huge)": (F.tanh, [large_logits(3, 3, size=800.0)]),
    "softplus (huge)": (F.softplus, [large_logits(3, 3, size=800.0)]),
    "binary_cross_entropy_with_logits (huge)": (
        with_constant(F.binary_cross_entropy_with_logits, probabilities(3, 3)), [large_logits(3, 3, size=800.0)]),
    "cross_entropy (batch of 1)": (lambda x: F.cross_entropy(x, Tensor(on_device(np.array([4])))), [normal(1, 5)]),
    "kl_div (defaults)": (quietly(F.kl_div), [normal(3, 4), probabilities(3, 4)]),
    "pad (defaults)": (lambda x: F.pad(x, (1, 2)), [normal(2, 3)]),
    "lstm_sequence (one step, batch of 1)": (lambda *a: lstm_sequence_flat(*a),
                                             [normal(1, 1, 2), normal(1, 3), normal(1, 3), normal(12, 2),
                                              normal(12, 3), normal(12), normal(12)]),
    "gru_cell (batch of 1, no bias)": (F.gru_cell, [normal(1, 2), normal(1, 3), normal(9, 2), normal(9, 3)]),
}


def case(name, check):
    """The case's function, or a skip naming why this case cannot take this check."""
    fn, _, *skipped = SPECS[name]
    if skipped and check in skipped[0]:
        pytest.skip(f"{check}: {skipped[0][check]}")
    return fn


def make_inputs(name, contiguous=True):
    """The spec's float64 input tensors on the current device; strided views of the same values if not contiguous."""
    rng = np.random.default_rng(zlib.crc32(name.encode()))        # the same inputs in every process
    arrays = [make(rng) for make in SPECS[name][1]]
    tensors = []
    for array in arrays:
        data = on_device(array)
        if not contiguous and array.ndim:
            spread = on_device(np.zeros(array.shape[:-1] + (2 * array.shape[-1],)))
            spread[..., ::2] = data
            data = spread[..., ::2]                               # the same values, every other element
        tensors.append(Tensor(data, requires_grad=True))
    return tensors


def output_weighting(output):
    return Tensor(on_device(np.random.default_rng(1).standard_normal(output.shape)))


def outputs_and_gradients(fn, inputs):
    """(output, every input's gradient) as host arrays, for a fixed output weighting."""
    output = fn(*inputs)
    output.backward(output_weighting(output))
    return [backend.to_numpy(output.array)] + [backend.to_numpy(t.grad.array) for t in inputs]


def assert_all_close(actual, expected, rtol):
    for i, (a, e) in enumerate(zip(actual, expected)):
        scale = max(1.0, float(np.abs(e).max(initial=0.0)))
        np.testing.assert_allclose(a, e, rtol=rtol, atol=rtol * scale, err_msg=f"result {i} (0: output, then gradients)")


def test_every_op_has_a_spec():
    ops = set(F.__all__) - NOT_DIFFERENTIABLE
    covered = {name.split(" ")[0] for name in SPECS}
    assert not ops - covered, f"ops of tinygan.functional with no spec in tests/engine/test_op_contract.py: {sorted(ops - covered)}"


def test_no_case_is_written_twice():
    """A name written twice in the table would silently replace the first case (a dict keeps the last)."""
    table = next(node.value for node in ast.parse(Path(__file__).read_text()).body
                 if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "SPECS")
    names = []
    for key, value in zip(table.keys, table.values):
        if key is None:                                            # a **{...} group of cases
            names += list(eval(compile(ast.Expression(value), __file__, "eval"), globals()))
        else:
            names.append(ast.literal_eval(key))
    assert len(names) == len(set(names)) == len(SPECS), sorted({n for n in names if names.count(n) > 1})


def test_skipped_checks_are_known_checks_with_a_reason():
    for name, (_, _, *skipped) in SPECS.items():
        for check, reason in (skipped[0] if skipped else {}).items():
            assert check in CHECKS and reason, f"{name}: skips {check!r} ({reason!r})"


@pytest.mark.parametrize("name", sorted(SPECS))
def test_gradient(name):
    assert gradcheck(case(name, "gradient"), make_inputs(name))


@pytest.mark.parametrize("name", sorted(SPECS))
def test_gradient_of_gradient(name):
    assert gradgradcheck(case(name, "gradient of gradient"), make_inputs(name))


@pytest.mark.parametrize("name", sorted(SPECS))
def test_create_graph_gives_the_same_gradient(name):
    """gradgradcheck differentiates the gradient recorded with create_graph=True; it must equal the ordinary one,
    or a penalty would be the penalty of a wrong gradient (batch_norm's backward, for one, is closed-form without
    create_graph and a differentiable composite with it)."""
    fn = case(name, "create_graph")
    inputs = make_inputs(name)
    weighting = output_weighting(fn(*inputs))
    plain = tinygan.grad(fn(*inputs), inputs, grad_outputs=weighting)
    recorded = tinygan.grad(fn(*inputs), inputs, grad_outputs=weighting, create_graph=True)
    assert_all_close([backend.to_numpy(r.array) for r in recorded], [backend.to_numpy(p.array) for p in plain],
                     rtol=1e-10)


@pytest.mark.parametrize("name", sorted(SPECS))
def test_fast_kernels_equal_the_reference(name):
    fn = case(name, "fast")
    with kernels.using("reference"):
        reference = outputs_and_gradients(fn, make_inputs(name))
    with kernels.using("fast"):
        fast = outputs_and_gradients(fn, make_inputs(name))
    assert_all_close(fast, reference, rtol=1e-12)


@pytest.mark.parametrize("mode", kernels.MODES)
@pytest.mark.parametrize("name", sorted(SPECS))
def test_non_contiguous_inputs(name, mode):
    fn = case(name, "strided")
    with kernels.using(mode):
        strided = make_inputs(name, contiguous=False)
        assert not all(t.array.flags.c_contiguous for t in strided if t.ndim > 0)
        assert_all_close(outputs_and_gradients(fn, strided), outputs_and_gradients(fn, make_inputs(name)), rtol=1e-12)


@pytest.mark.parametrize("mode", kernels.MODES)
@pytest.mark.parametrize("name", sorted(SPECS))
def test_inputs_are_not_modified(name, mode):
    fn = case(name, "no mutation")
    with kernels.using(mode):
        inputs = make_inputs(name)
        before = [backend.to_numpy(t.array).copy() for t in inputs]
        outputs_and_gradients(fn, inputs)
    for i, (t, b) in enumerate(zip(inputs, before)):
        np.testing.assert_array_equal(backend.to_numpy(t.array), b, err_msg=f"input {i} was modified")


# -- edge values one case cannot state --------------------------------------------------------------------------

@pytest.mark.parametrize("mode", kernels.MODES)
@pytest.mark.parametrize("largest", [0, 1, 2])
def test_cross_entropy_of_a_huge_logit_in_any_class(largest, mode):
    """A logit of 1000 in any class, the last one too: the loss is 1000 minus the label's logit, exactly, and
    the gradient is softmax - onehot, finite (an overflowing exp or a missed maximum gives inf and nan)."""
    logits = np.array([[0.0, 1.0, 2.0]])
    logits[0, largest] = 1000.0
    for dtype in (np.float32, np.float64):
        x = Tensor(on_device(logits.astype(dtype)), requires_grad=True)
        with kernels.using(mode):
            loss = F.cross_entropy(x, Tensor(on_device(np.array([0]))))
            loss.backward()
        expected_grad = np.zeros((1, 3))
        expected_grad[0, largest] += 1.0
        expected_grad[0, 0] -= 1.0
        assert float(backend.to_numpy(loss.array)) == pytest.approx(1000.0 - logits[0, 0], rel=1e-6)
        np.testing.assert_allclose(backend.to_numpy(x.grad.array), expected_grad, atol=1e-6)


def test_std_of_equal_values_has_a_zero_gradient():
    """std where every value is equal: 0, with gradient 0 (PyTorch's), not the nan of sqrt's slope at 0."""
    x = Tensor(on_device(np.array([[1.5, 1.5, 1.5], [1.0, 2.0, 4.0]])), requires_grad=True)
    F.std(x, axis=1).sum().backward()
    values = np.array([1.0, 2.0, 4.0])
    expected_row = (values - values.mean()) / (2 * values.std(ddof=1))      # ds/dx_i = (x_i - mean) / ((n-1) s)
    np.testing.assert_allclose(backend.to_numpy(F.std(x, axis=1).array), [0.0, values.std(ddof=1)], rtol=1e-12)
    np.testing.assert_allclose(backend.to_numpy(x.grad.array), [[0.0, 0.0, 0.0], expected_row], rtol=1e-12)


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")   # NumPy's own, for the 0 * inf it computes
def test_var_without_degrees_of_freedom_is_nan_with_a_warning():
    """One value and correction=1: n - correction = 0. PyTorch gives nan and warns; so does tinygan."""
    x = Tensor(on_device(np.array([[3.0], [4.0]])), requires_grad=True)
    with pytest.warns(UserWarning, match=r"var: correction=1 over 1 value leaves no degrees of freedom"):
        result = F.var(x, axis=1)
    assert np.isnan(backend.to_numpy(result.array)).all()


def test_batch_norm_in_training_moves_the_running_statistics_and_not_the_gradient(rand):
    """Running statistics given in training are updated in place, and the output (so its gradient, which the
    table checks without them) is the same as without them."""
    x, weight, bias = rand.randn(4, 3), rand.randn(3), rand.randn(3)
    running_mean = rand.randn(3, requires_grad=False).array.copy()
    running_var = rand.uniform(3, low=0.5, high=2.0, requires_grad=False).array.copy()
    before = running_mean.copy()
    y1 = F.batch_norm(x, running_mean, running_var, weight, bias, training=True)
    assert not np.allclose(backend.to_numpy(running_mean), backend.to_numpy(before))
    y2 = F.batch_norm(x, None, None, weight, bias, training=True)
    np.testing.assert_allclose(y1.numpy(), y2.numpy())


# -- random geometry: gradient checks over sizes, strides, paddings and dilations drawn by hypothesis -------------

DRAWN = settings(max_examples=15, deadline=None)


def check(fn, *inputs):
    assert gradcheck(fn, list(inputs))


@st.composite
def conv_geometry(draw, max_kernel=3, max_extra=3):
    """A valid (H, W, K, S, P, D) for a convolution: the dilated kernel fits the padded input."""
    KH, KW = draw(st.integers(1, max_kernel)), draw(st.integers(1, max_kernel))
    S = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    D = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    P = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    H = draw(st.integers(max(1, D[0] * (KH - 1) + 1 - 2 * P[0]), D[0] * (KH - 1) + 1 + max_extra))
    W = draw(st.integers(max(1, D[1] * (KW - 1) + 1 - 2 * P[1]), D[1] * (KW - 1) + 1 + max_extra))
    return dict(H=H, W=W, kernel=(KH, KW), stride=S, padding=P, dilation=D)


@DRAWN
@given(g=conv_geometry(), N=st.integers(1, 2), C=st.integers(1, 2), seed=st.integers(0, 2**16))
def test_im2col_of_drawn_geometry(g, N, C, seed, make_rand):
    rand = make_rand(seed)
    x = rand.randn(N, C, g["H"], g["W"])
    check(lambda x: F.im2col(x, g["kernel"], g["stride"], g["padding"], g["dilation"]), x)


@DRAWN
@given(g=conv_geometry(), N=st.integers(1, 2), C=st.integers(1, 2), seed=st.integers(0, 2**16))
def test_col2im_of_drawn_geometry(g, N, C, seed, make_rand):
    rand = make_rand(seed)
    KH, KW = g["kernel"]
    OH = F.conv_output_size(g["H"], KH, g["stride"][0], g["padding"][0], g["dilation"][0])
    OW = F.conv_output_size(g["W"], KW, g["stride"][1], g["padding"][1], g["dilation"][1])
    cols = rand.randn(N, C * KH * KW, OH * OW)
    check(lambda c: F.col2im(c, (g["H"], g["W"]), g["kernel"], g["stride"], g["padding"], g["dilation"]), cols)


@DRAWN
@given(g=conv_geometry(), N=st.integers(1, 2), C=st.integers(1, 3), O=st.integers(1, 3),
       bias=st.booleans(), seed=st.integers(0, 2**16))
def test_conv2d_of_drawn_geometry(g, N, C, O, bias, seed, make_rand):
    rand = make_rand(seed)
    x = rand.randn(N, C, g["H"], g["W"])
    w = rand.randn(O, C, *g["kernel"])
    inputs = [x, w] + ([rand.randn(O)] if bias else [])

    def conv(x, w, b=None):
        return F.conv2d(x, w, b, stride=g["stride"], padding=g["padding"], dilation=g["dilation"])
    check(conv, *inputs)


@st.composite
def conv_transpose_geometry(draw):
    K = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    S = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    D = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    OP = (draw(st.integers(0, S[0] - 1)), draw(st.integers(0, S[1] - 1)))
    P = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    H, W = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    out = [F.conv_transpose_output_size(n, k, s, p, op, d) for n, k, s, p, op, d in zip((H, W), K, S, P, OP, D)]
    if min(out) < 1:  # padding cut away the whole output: shrink it
        P = (0, 0)
    return dict(H=H, W=W, kernel=K, stride=S, padding=P, output_padding=OP, dilation=D)


@DRAWN
@given(g=conv_transpose_geometry(), N=st.integers(1, 2), C=st.integers(1, 3), O=st.integers(1, 3),
       bias=st.booleans(), seed=st.integers(0, 2**16))
def test_conv_transpose2d_of_drawn_geometry(g, N, C, O, bias, seed, make_rand):
    rand = make_rand(seed)
    x = rand.randn(N, C, g["H"], g["W"])
    w = rand.randn(C, O, *g["kernel"])
    inputs = [x, w] + ([rand.randn(O)] if bias else [])

    def conv_t(x, w, b=None):
        return F.conv_transpose2d(x, w, b, stride=g["stride"], padding=g["padding"],
                                  output_padding=g["output_padding"], dilation=g["dilation"])
    check(conv_t, *inputs)


@DRAWN
@given(N=st.integers(1, 3), I=st.integers(1, 4), H=st.integers(1, 4), bias=st.booleans())
def test_recurrent_cells_of_drawn_sizes(make_rand, N, I, H, bias):
    rand = make_rand(N * 100 + I * 10 + H)
    for gates, cell in ((1, F.rnn_cell), (1, lambda *a: F.rnn_cell(*a, nonlinearity="relu")),
                        (3, F.gru_cell), (4, None)):
        x, h = rand.randn(N, I), rand.randn(N, H, scale=0.5)
        weights = [rand.randn(gates * H, I, scale=0.7), rand.randn(gates * H, H, scale=0.7)]
        biases = [rand.randn(gates * H), rand.randn(gates * H)] if bias else []
        if cell is None:
            c = rand.randn(N, H)
            check(lstm_cell_both, x, h, c, *weights, *biases)
        else:
            check(cell, x, h, *weights, *biases)


@DRAWN
@pytest.mark.parametrize("mode", kernels.MODES)
@given(L=st.integers(1, 4), N=st.integers(1, 3), I=st.integers(1, 3), H=st.integers(1, 3), bias=st.booleans())
def test_lstm_sequence_of_drawn_sizes(make_rand, mode, L, N, I, H, bias):
    """The whole-layer LSTM over sequences of every short length, by the reference loop and by the fused kernel."""
    rand = make_rand(L * 1000 + N * 100 + I * 10 + H)
    x, h, c = rand.randn(L, N, I), rand.randn(N, H, scale=0.5), rand.randn(N, H)
    weights = [rand.randn(4 * H, I, scale=0.7), rand.randn(4 * H, H, scale=0.7)]
    biases = [rand.randn(4 * H), rand.randn(4 * H)] if bias else []
    with kernels.using(mode):
        check(lstm_sequence_flat, x, h, c, *weights, *biases)


@DRAWN
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=3), exclusive=st.booleans(), reverse=st.booleans(),
       data=st.data())
def test_cumsum_of_drawn_shapes(make_rand, shape, exclusive, reverse, data):
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    rand = make_rand(sum(shape) * 10 + len(shape))
    check(lambda x: F.cumsum(x, dim, exclusive=exclusive, reverse=reverse), rand.randn(*shape))


@DRAWN
@given(R=st.integers(1, 3), N=st.integers(1, 6))
def test_volume_render_of_drawn_rays(make_rand, R, N):
    """The renderer's colour, depth and opacity as functions of the densities and the colours."""
    rand = make_rand(R * 10 + N)
    t = np.sort(np.random.default_rng(R * 10 + N).uniform(2.0, 6.0, (R, N)), axis=1)
    sigma, rgb = rand.uniform(R, N, low=0.1, high=2.0), rand.randn(R, N, 3)
    for k in range(3):
        check(lambda s, c: F.volume_render(s, c, tinygan.Tensor(t), 6.0)[k], sigma, rgb)
