"""One table of op specs drives five checks of every differentiable op of tinygan.functional:

1. the float64 gradient check (central differences, tinygan.gradcheck);
2. the gradient-of-gradient check (what a gradient penalty differentiates);
3. the fast kernels against the reference code (tinygan.use_kernels): outputs and gradients equal in
   float64 to 1e-12 relative. Ops with no fast kernel pass trivially; those with one (conv, im2col,
   col2im, batch_norm, the pools built on im2col) are proved equal here;
4. non-contiguous inputs (a strided view) give the same outputs and gradients as contiguous ones;
5. no op modifies its inputs, in the forward or the backward pass.

This is Chainer's FunctionTestCase discipline, made from one table. test_every_op_has_a_spec keeps the
table complete: a new public op without a spec fails it. The kernels' own tests (layouts, the switch, the
dependency rule) are in tests/test_kernels.py.
"""
import warnings
import zlib

import numpy as np
import pytest

import tinygan
import tinygan.functional as F
from tinygan import Tensor, backend, kernels
from tinygan.gradcheck import gradcheck, gradgradcheck

NOT_DIFFERENTIABLE = {"conv_output_size", "conv_transpose_output_size"}
NOT_DIFFERENTIABLE |= {"one_hot"}  # issue 14, part B: integer labels in, integers out


def normal(*shape):
    return lambda rng: rng.standard_normal(shape)


def positive(*shape):
    return lambda rng: rng.uniform(0.5, 2.0, shape)


def probabilities(*shape):
    return lambda rng: rng.uniform(0.1, 0.9, shape)


def separated(*shape):
    """Distinct values 0.1 apart and 0.05 away from 0: no difference step crosses a kink or a tie."""
    def make(rng):
        count = int(np.prod(shape))
        return (rng.permutation(count) * 0.1 - count * 0.05 + 0.05).reshape(shape)
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


def on_device(array):
    return backend.to_device(np.asarray(array), backend.current_device())


def seeded(fn, seed=0):
    """fn with the random generator reset before each call (dropout's mask is then the same every time)."""
    def call(*inputs):
        tinygan.manual_seed(seed)
        return fn(*inputs)
    return call


def fresh_statistics(C):
    """Running statistics made anew at each call, so that repeated calls see the same state."""
    return on_device(np.zeros(C)), on_device(np.ones(C))


def batch_norm_training(x, w, b):
    return F.batch_norm(x, *fresh_statistics(x.shape[1]), w, b, training=True, momentum=0.3)


def batch_norm_evaluation(x, w, b):
    mean, var = on_device(np.linspace(-0.5, 0.5, x.shape[1])), on_device(np.linspace(0.5, 2.0, x.shape[1]))
    return F.batch_norm(x, mean, var, w, b, training=False)


def quietly(fn):
    """fn without the warnings it gives on purpose (kl_div's default reduction='mean', as PyTorch warns)."""
    def call(*inputs):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            return fn(*inputs)
    return call


def with_constant(fn, make, seed=7):
    """fn(x, constant) with a fixed constant second argument (targets, indices)."""
    constant = on_device(make(np.random.default_rng(seed)))
    return lambda x: fn(x, Tensor(constant))


def lstm_sequence_flat(*inputs):
    """lstm_sequence's output and final state as one vector, so that every result is checked."""
    output, (h, c) = F.lstm_sequence(*inputs)
    return F.concat([output.reshape(-1), h.reshape(-1), c.reshape(-1)])
# issue 18: increasing, unevenly spaced sample distances of 3 rays with 5 samples (the ray ends at 3.5)
RENDER_T = np.array([[2.0, 2.3, 2.9, 3.0, 3.4], [2.1, 2.2, 2.4, 2.8, 3.1], [2.0, 2.5, 3.0, 3.2, 3.3]])


# name -> (function of the input tensors, makers of the inputs)
SPECS = {
    "add": (F.add, [normal(2, 3), normal(3)]),
    "sub": (F.sub, [normal(2, 3), normal(2, 1)]),
    "mul": (F.mul, [normal(2, 3), normal(2, 3)]),
    "div": (F.div, [normal(2, 3), positive(2, 3)]),
    "neg": (F.neg, [normal(2, 3)]),
    "pow": (lambda x: F.pow(x, 2.5), [positive(2, 3)]),
    "exp": (F.exp, [normal(2, 3)]),
    "log": (F.log, [positive(2, 3)]),
    "logsumexp": (lambda x: F.logsumexp(x, axis=1), [normal(3, 4)]),
    "sqrt": (F.sqrt, [positive(2, 3)]),
    "clamp": (lambda x: F.clamp(x, -0.33, 0.47), [separated(3, 4)]),
    "matmul": (F.matmul, [normal(2, 3, 4), normal(4, 5)]),
    "sum": (lambda x: F.sum(x, axis=(0, 2)), [normal(2, 3, 4)]),
    "mean": (lambda x: F.mean(x, axis=1, keepdims=True), [normal(2, 3, 4)]),
    "max": (lambda x: F.max(x, axis=1), [separated(3, 4)]),
    "broadcast_to": (lambda x: F.broadcast_to(x, (2, 3, 4)), [normal(3, 1)]),
    "sum_to": (lambda x: F.sum_to(x, (3, 1)), [normal(2, 3, 4)]),
    "reshape": (lambda x: F.reshape(x, (4, 3)), [normal(2, 6)]),
    "permute": (lambda x: F.permute(x, (2, 0, 1)), [normal(2, 3, 4)]),
    "transpose": (lambda x: F.transpose(x, 0, 1), [normal(2, 3)]),
    "getitem": (lambda x: F.getitem(x, (slice(None), np.array([2, 0, 2]))), [normal(2, 3)]),
    "concat": (lambda a, b: F.concat([a, b], axis=1), [normal(2, 3), normal(2, 2)]),
    "pad_widths": (lambda x: F.pad_widths(x, ((0, 0), (1, 2)), value=0.5), [normal(2, 3)]),
    "flatten": (F.flatten, [normal(2, 3, 2)]),
    "relu": (F.relu, [separated(3, 4)]),
    "leaky_relu": (lambda x: F.leaky_relu(x, 0.2), [separated(3, 4)]),
    "sigmoid": (F.sigmoid, [normal(3, 4)]),
    "tanh": (F.tanh, [normal(3, 4)]),
    "softplus": (F.softplus, [normal(3, 4)]),
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
    "avg_pool2d": (lambda x: F.avg_pool2d(x, 2), [normal(2, 2, 4, 6)]),
    "max_pool2d": (lambda x: F.max_pool2d(x, 3, 2, 1), [separated(2, 2, 5, 5)]),
    "max_pool2d (tiles)": (lambda x: F.max_pool2d(x, (2, 3)), [separated(2, 3, 4, 6)]),
    "upsample_nearest2d": (lambda x: F.upsample_nearest2d(x, 2), [normal(2, 2, 3, 2)]),
    "batch_norm": (batch_norm_training, [normal(4, 3, 2, 3), positive(3), normal(3)]),
    "batch_norm (1-d)": (batch_norm_training, [normal(6, 3), positive(3), normal(3)]),
    "batch_norm (eval)": (batch_norm_evaluation, [normal(4, 3, 2, 2), positive(3), normal(3)]),
    "dropout": (seeded(lambda x: F.dropout(x, 0.4)), [normal(4, 5)]),
    "embedding": (lambda w: F.embedding(Tensor(on_device(np.array([[1, 3], [3, 0]]))), w), [normal(4, 3)]),
    "linear": (F.linear, [normal(5, 4), normal(3, 4), normal(3)]),
    "binary_cross_entropy_with_logits": (with_constant(F.binary_cross_entropy_with_logits, probabilities(3, 4)),
                                         [normal(3, 4)]),
    "binary_cross_entropy": (with_constant(F.binary_cross_entropy, probabilities(3, 4)), [probabilities(3, 4)]),
    "mse_loss": (with_constant(F.mse_loss, normal(3, 4)), [normal(3, 4)]),
    "gaussian_kl": (F.gaussian_kl, [normal(3, 4), normal(3, 4)]),
    # issue 14, part B: activations, losses and normalisations
    "softmax": (lambda x: F.softmax(x, dim=1), [normal(3, 4, 2)]),
    "log_softmax": (lambda x: F.log_softmax(x, dim=-1), [normal(3, 4)]),
    "log_softmax (large logits)": (lambda x: F.log_softmax(x, dim=1), [large_logits(4, 4)]),
    "softmax (large logits)": (lambda x: F.softmax(x, dim=1), [large_logits(3, 3)]),
    "logsumexp (large logits)": (lambda x: F.logsumexp(x, axis=1), [large_logits(3, 3)]),
    "gelu": (F.gelu, [normal(3, 4)]),
    "gelu (tanh)": (lambda x: F.gelu(x, approximate="tanh"), [normal(3, 4)]),
    "silu": (F.silu, [normal(3, 4)]),
    "elu": (lambda x: F.elu(x, alpha=0.7), [separated(3, 4)]),
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
    "nll_loss": (lambda x: F.nll_loss(x, Tensor(on_device(np.array([1, 0, 2]))), reduction="sum"), [normal(3, 4)]),
    "l1_loss": (with_constant(F.l1_loss, normal(3, 4)), [separated(3, 4)]),
    "kl_div": (lambda q, p: F.kl_div(q, p, reduction="batchmean"), [normal(3, 4), probabilities(3, 4)]),
    "kl_div (log_target)": (lambda q, p: F.kl_div(q, p, reduction="sum", log_target=True), [normal(3, 4), normal(3, 4)]),
    "layer_norm": (lambda x, w, b: F.layer_norm(x, (3, 2), w, b), [normal(4, 3, 2), positive(3, 2), normal(3, 2)]),
    "group_norm": (lambda x, w, b: F.group_norm(x, 2, w, b), [normal(2, 4, 2, 3), positive(4), normal(4)]),
    "instance_norm": (lambda x, w, b: F.instance_norm(x, weight=w, bias=b), [normal(2, 3, 2, 3), positive(3), normal(3)]),
    "instance_norm (running)": (lambda x: F.instance_norm(x, *fresh_statistics(x.shape[1]), momentum=0.3),
                                [normal(2, 3, 4)]),
    "instance_norm (eval)": (lambda x: F.instance_norm(x, on_device(np.linspace(-0.5, 0.5, 3)),
                                                       on_device(np.linspace(0.5, 2.0, 3)), use_input_stats=False),
                             [normal(2, 3, 4)]),
    "normalize": (lambda x: F.normalize(x, dim=1), [normal(3, 4)]),
    "normalize (p=3)": (lambda x: F.normalize(x, p=3, dim=0), [separated(3, 4)]),
    # issue 14, part C: spatial ops, grouped and 'same' convolutions
    "pad": (lambda x: F.pad(x, (1, 2, -1, 0), value=0.5), [normal(2, 3, 4)]),
    "interpolate": (lambda x: F.interpolate(x, scale_factor=1.5), [normal(2, 2, 3, 4)]),
    "interpolate (bilinear)": (lambda x: F.interpolate(x, size=(5, 3), mode="bilinear"), [normal(2, 2, 3, 4)]),
    "interpolate (bilinear, align_corners)": (lambda x: F.interpolate(x, scale_factor=2, mode="bilinear",
                                                                      align_corners=True), [normal(1, 2, 3, 2)]),
    "adaptive_avg_pool2d": (lambda x: F.adaptive_avg_pool2d(x, (2, 3)), [normal(2, 2, 5, 4)]),
    "conv2d (groups)": (lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1, groups=2),
                        [normal(2, 4, 5, 5), normal(6, 2, 3, 3), normal(6)]),
    "conv2d (same)": (lambda x, w: F.conv2d(x, w, padding="same", dilation=(1, 2)), [normal(2, 2, 5, 4), normal(3, 2, 2, 3)]),
    "conv_transpose2d (groups)": (lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1,
                                                                     groups=2),
                                  [normal(2, 4, 3, 3), normal(4, 3, 4, 4), normal(6)]),
    # -- issue 14, part A: ops PyTorch code uses --
    "abs": (F.abs, [separated(3, 4)]),
    "maximum": (F.maximum, [separated(3, 4), normal(4)]),
    "minimum": (F.minimum, [separated(3, 4), normal(3, 1)]),
    "where": (lambda a, b: F.where(Tensor(on_device(np.arange(12).reshape(3, 4) % 3 == 0)), a, b),
              [normal(3, 4), normal(4)]),
    "masked_fill": (lambda x: F.masked_fill(x, Tensor(on_device(np.array([True, False, True, False]))), -1.5),
                    [normal(3, 4)]),
    "min": (lambda x: F.min(x, axis=0), [separated(3, 4)]),
    "var": (lambda x: F.var(x, axis=1), [normal(3, 4)]),
    "var (biased, all)": (lambda x: F.var(x, correction=0), [normal(3, 4)]),
    "std": (lambda x: F.std(x, axis=(0, 2), keepdims=True), [normal(2, 3, 4)]),
    "max_with_indices": (lambda x: F.max_with_indices(x, 1).values, [separated(3, 4)]),
    "max_with_indices (keepdim)": (lambda x: F.max_with_indices(x, 0, keepdim=True).values, [separated(3, 2, 2)]),
    "min_with_indices": (lambda x: F.min_with_indices(x, -1).values, [separated(2, 3, 4)]),
    "stack": (lambda a, b: F.stack([a, b], dim=1), [normal(2, 3), normal(2, 3)]),
    "squeeze": (lambda x: F.squeeze(x, 1), [normal(3, 1, 2)]),
    "unsqueeze": (lambda x: F.unsqueeze(x, -1), [normal(3, 2)]),
    "expand": (lambda x: F.expand(x, 2, -1, 4), [normal(3, 1)]),
    "repeat": (lambda x: F.repeat(x, 2, 1, 3), [normal(3, 2)]),
    "clone": (F.clone, [normal(3, 2)]),
    # -- issue 15: recurrent cells (x, h, [c,] W_ih, W_hh, b_ih, b_hh) --
    "rnn_cell": (F.rnn_cell, [normal(2, 3), normal(2, 4), normal(4, 3), normal(4, 4), normal(4), normal(4)]),
    "rnn_cell (relu)": (lambda *a: F.rnn_cell(*a, nonlinearity="relu"),
                        [normal(2, 3), normal(2, 4), normal(4, 3), normal(4, 4), normal(4), normal(4)]),
    "lstm_cell": (lambda *a: F.concat(list(F.lstm_cell(*a)), axis=1),
                  [normal(2, 3), normal(2, 4), normal(2, 4), normal(16, 3), normal(16, 4), normal(16), normal(16)]),
    "gru_cell": (F.gru_cell, [normal(2, 3), normal(2, 4), normal(12, 3), normal(12, 4), normal(12), normal(12)]),
    # issue 15: an LSTM layer over a sequence; its fast kernel is one Function with the closed-form BPTT
    "lstm_sequence": (lambda *a: lstm_sequence_flat(*a),
                      [normal(3, 2, 3), normal(2, 4), normal(2, 4), normal(16, 3), normal(16, 4), normal(16),
                       normal(16)]),
    "lstm_sequence (no bias)": (lambda *a: lstm_sequence_flat(*a),
                                [normal(4, 1, 2), normal(1, 3), normal(1, 3), normal(12, 2), normal(12, 3)]),
    # -- issue 18: neural rendering (sines of the positional encoding, the exclusive running sum of T) --
    "sin": (F.sin, [normal(3, 4)]),
    "cos": (F.cos, [normal(3, 4)]),
    "cumsum": (lambda x: F.cumsum(x, dim=1), [normal(2, 5, 3)]),
    "cumsum (exclusive)": (lambda x: F.cumsum(x, dim=-1, exclusive=True), [normal(3, 5)]),
    "cumsum (reverse)": (lambda x: F.cumsum(x, dim=0, reverse=True), [normal(4, 3)]),
    "cumsum (reverse, exclusive)": (lambda x: F.cumsum(x, dim=1, exclusive=True, reverse=True), [normal(3, 5)]),
    "positional_encoding": (lambda p: F.positional_encoding(p, 3), [normal(4, 3)]),
    # the renderer as a function of sigma and c, at fixed sample distances t (R = 3 rays, N = 5 samples)
    "volume_render": (lambda sigma, rgb: F.volume_render(sigma, rgb, Tensor(on_device(RENDER_T)), 3.5)[0],
                      [positive(3, 5), probabilities(3, 5, 3)]),
    "volume_render (depth, opacity)": (lambda sigma: F.concat(   # these two do not depend on the colours
        [F.unsqueeze(v, 1) for v in F.volume_render(sigma, Tensor(on_device(np.full((3, 5, 3), 0.5))),
                                                    Tensor(on_device(RENDER_T)), 3.5)[1:]], axis=1),
        [positive(3, 5)]),
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


def outputs_and_gradients(name, inputs):
    """(output, every input's gradient) as host arrays, for a fixed output weighting."""
    fn = SPECS[name][0]
    output = fn(*inputs)
    weighting = np.random.default_rng(1).standard_normal(output.shape)
    output.backward(Tensor(on_device(weighting)))
    return [backend.to_numpy(output.data)] + [backend.to_numpy(t.grad.data) for t in inputs]


def assert_all_close(actual, expected, rtol):
    for i, (a, e) in enumerate(zip(actual, expected)):
        scale = max(1.0, float(np.abs(e).max(initial=0.0)))
        np.testing.assert_allclose(a, e, rtol=rtol, atol=rtol * scale, err_msg=f"result {i} (0: output, then gradients)")


def test_every_op_has_a_spec():
    ops = set(F.__all__) - NOT_DIFFERENTIABLE
    covered = {name.split(" ")[0] for name in SPECS}
    assert not ops - covered, f"ops of tinygan.functional with no spec in tests/test_op_contract.py: {sorted(ops - covered)}"


@pytest.mark.parametrize("name", sorted(SPECS))
def test_gradient(name):
    assert gradcheck(SPECS[name][0], make_inputs(name))


@pytest.mark.parametrize("name", sorted(SPECS))
def test_gradient_of_gradient(name):
    assert gradgradcheck(SPECS[name][0], make_inputs(name))


@pytest.mark.parametrize("name", sorted(SPECS))
def test_fast_kernels_equal_the_reference(name):
    with kernels.using("reference"):
        reference = outputs_and_gradients(name, make_inputs(name))
    with kernels.using("fast"):
        fast = outputs_and_gradients(name, make_inputs(name))
    assert_all_close(fast, reference, rtol=1e-12)


@pytest.mark.parametrize("mode", kernels.MODES)
@pytest.mark.parametrize("name", sorted(SPECS))
def test_non_contiguous_inputs(name, mode):
    with kernels.using(mode):
        strided = make_inputs(name, contiguous=False)
        assert not all(t.data.flags.c_contiguous for t in strided if t.ndim > 0)
        assert_all_close(outputs_and_gradients(name, strided), outputs_and_gradients(name, make_inputs(name)),
                         rtol=1e-12)


@pytest.mark.parametrize("mode", kernels.MODES)
@pytest.mark.parametrize("name", sorted(SPECS))
def test_inputs_are_not_modified(name, mode):
    with kernels.using(mode):
        inputs = make_inputs(name)
        before = [backend.to_numpy(t.data).copy() for t in inputs]
        outputs_and_gradients(name, inputs)
    for i, (t, b) in enumerate(zip(inputs, before)):
        np.testing.assert_array_equal(backend.to_numpy(t.data), b, err_msg=f"input {i} was modified")


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
        assert float(backend.to_numpy(loss.data)) == pytest.approx(1000.0 - logits[0, 0], rel=1e-6)
        np.testing.assert_allclose(backend.to_numpy(x.grad.data), expected_grad, atol=1e-6)


def test_std_of_equal_values_has_a_zero_gradient():
    """std where every value is equal: 0, with gradient 0 (PyTorch's), not the nan of sqrt's slope at 0."""
    x = Tensor(on_device(np.array([[1.5, 1.5, 1.5], [1.0, 2.0, 4.0]])), requires_grad=True)
    F.std(x, axis=1).sum().backward()
    values = np.array([1.0, 2.0, 4.0])
    expected_row = (values - values.mean()) / (2 * values.std(ddof=1))      # ds/dx_i = (x_i - mean) / ((n-1) s)
    np.testing.assert_allclose(backend.to_numpy(F.std(x, axis=1).data), [0.0, values.std(ddof=1)], rtol=1e-12)
    np.testing.assert_allclose(backend.to_numpy(x.grad.data), [[0.0, 0.0, 0.0], expected_row], rtol=1e-12)


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")   # NumPy's own, for the 0 * inf it computes
def test_var_without_degrees_of_freedom_is_nan_with_a_warning():
    """One value and correction=1: n - correction = 0. PyTorch gives nan and warns; so does tinygan."""
    x = Tensor(on_device(np.array([[3.0], [4.0]])), requires_grad=True)
    with pytest.warns(UserWarning, match=r"var: correction=1 over 1 value leaves no degrees of freedom"):
        result = F.var(x, axis=1)
    assert np.isnan(backend.to_numpy(result.data)).all()
