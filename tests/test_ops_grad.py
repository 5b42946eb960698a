"""Float64 gradient checks of every differentiable operation in tinygan.functional and every Tensor operator.

Each check compares the analytic gradient of <u, f(x)> (u a random output weighting) with central
differences (tinygan.gradcheck). Inputs of ops with kinks (relu, leaky_relu, max, max_pool2d, clamp)
are built from well-separated distinct values, so no difference step crosses a kink or a tie.
"""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygan
import tinygan.functional as F
from tinygan import kernels
from tinygan.gradcheck import gradcheck

FAST = settings(max_examples=15, deadline=None)

# Every public name of tinygan.functional that is a differentiable operation must appear in a test
# below (via `covers`); test_every_functional_op_is_checked keeps the list honest.
NOT_DIFFERENTIABLE = {"conv_output_size", "conv_transpose_output_size"}
COVERED = set()


def covers(*names):
    COVERED.update(names)


def check(fn, *inputs, **tolerances):
    assert gradcheck(fn, list(inputs), **tolerances)


# --- arithmetic -------------------------------------------------------------------------------

covers("add", "sub", "mul", "div", "neg")

BROADCAST_SHAPES = [((2, 3), (2, 3)), ((2, 3), (3,)), ((4, 1), (2, 1, 3)), ((), (2, 3)), ((3, 1), (1, 4))]


@pytest.mark.parametrize("op", ["add", "sub", "mul", "div"])
@pytest.mark.parametrize("shapes", BROADCAST_SHAPES, ids=str)
def test_binary_broadcasting(op, shapes, rand):
    a = rand.randn(*shapes[0])
    if op == "div":  # keep the denominator away from 0
        b = rand.uniform(*shapes[1], low=0.5, high=2.0)
        b = rand.tensor(b.numpy() * rand.np.choice([-1, 1], size=shapes[1]))
    else:
        b = rand.randn(*shapes[1])
    check(getattr(F, op), a, b)


@pytest.mark.parametrize("expression", [
    lambda a, b: a + b, lambda a, b: a - b, lambda a, b: a * b, lambda a, b: a / b, lambda a, b: -a,
    lambda a, b: a + 2.0, lambda a, b: 2.0 + a, lambda a, b: 2.0 - a, lambda a, b: a - 0.5,
    lambda a, b: a * 3.0, lambda a, b: 3.0 * a, lambda a, b: a / 3.0, lambda a, b: 3.0 / b,
    lambda a, b: a * np.float64(2.0), lambda a, b: (a * b - a / b) * a,
], ids=["add", "sub", "mul", "div", "neg", "add-scalar", "radd", "rsub", "sub-scalar", "mul-scalar",
        "rmul", "div-scalar", "rdiv", "mul-numpy-scalar", "composite"])
def test_tensor_operators(expression, rand):
    a = rand.randn(2, 3)
    b = rand.uniform(2, 3, low=0.5, high=2.0)
    check(expression, a, b)


covers("pow", "exp", "log", "sqrt")


@pytest.mark.parametrize("exponent", [2, 3, 1, 0.5, -1.5, 2.5])
def test_pow(exponent, rand):
    x = rand.uniform(3, 4, low=0.5, high=2.0)  # positive: fractional powers are defined
    check(lambda x: x ** exponent, x)
    check(lambda x: F.pow(x, exponent), x)


def test_pow_integer_exponent_of_negative_values(rand):
    x = rand.randn(3, 4)
    check(lambda x: x ** 3, x)
    check(lambda x: x ** 2, x)


def test_exp(rand):
    check(F.exp, rand.randn(3, 4))
    check(lambda x: x.exp(), rand.randn(5))


def test_log(rand):
    check(F.log, rand.uniform(3, 4, low=0.2, high=3.0))
    check(lambda x: x.log(), rand.uniform(5, low=0.2, high=3.0))


def test_sqrt(rand):
    check(F.sqrt, rand.uniform(3, 4, low=0.2, high=3.0))
    check(lambda x: x.sqrt(), rand.uniform(5, low=0.2, high=3.0))


covers("clamp")


@pytest.mark.parametrize("bounds", [(-0.33, 0.47), (-0.33, None), (None, 0.47), (None, None)], ids=str)
def test_clamp(bounds, rand):
    # separated values sit at odd multiples of 0.05: at least 0.02 from either bound
    x = rand.separated(4, 5, gap=0.1)
    low, high = bounds
    check(lambda x: F.clamp(x, min=low, max=high), x)
    check(lambda x: x.clamp(low, high), x)


covers("matmul")


@pytest.mark.parametrize("shapes", [
    ((3, 4), (4, 2)),             # 2-D
    ((2, 3, 4), (2, 4, 5)),       # batched
    ((2, 3, 4), (4, 5)),          # batched @ matrix
    ((3, 4), (2, 4, 2)),          # matrix @ batched
    ((2, 1, 3, 4), (3, 4, 2)),    # broadcasting over two batch axes
], ids=str)
def test_matmul(shapes, rand):
    a, b = rand.randn(*shapes[0]), rand.randn(*shapes[1])
    check(F.matmul, a, b)
    check(lambda a, b: a @ b, a, b)


def test_matmul_with_constant_operand(rand):
    a = rand.randn(3, 4)
    b = rand.randn(4, 2, requires_grad=False)
    check(lambda a: a @ b, a)
    check(lambda a: b.T @ a.T, a)


covers("logsumexp")


@pytest.mark.parametrize("axis", [-1, 0, 1])
@pytest.mark.parametrize("keepdims", [False, True])
def test_logsumexp(axis, keepdims, rand):
    check(lambda x: F.logsumexp(x, axis=axis, keepdims=keepdims), rand.randn(2, 3, 4, scale=3.0))
    # large values: the shifted form neither overflows nor loses the gradient (softmax)
    check(lambda x: F.logsumexp(x, axis=axis), rand.randn(2, 3, 4, shift=800.0))


# --- reductions and broadcasting --------------------------------------------------------------

covers("sum", "mean", "max", "broadcast_to", "sum_to")

AXES = [None, 0, 1, -1, (0, 2), (0, 1, 2)]


@pytest.mark.parametrize("axis", AXES, ids=str)
@pytest.mark.parametrize("keepdims", [False, True])
def test_sum_mean(axis, keepdims, rand):
    x = rand.randn(2, 3, 4)
    check(lambda x: F.sum(x, axis=axis, keepdims=keepdims), x)
    check(lambda x: x.mean(axis=axis, keepdims=keepdims), x)


@pytest.mark.parametrize("axis", AXES, ids=str)
@pytest.mark.parametrize("keepdims", [False, True])
def test_max(axis, keepdims, rand):
    x = rand.separated(2, 3, 4)
    check(lambda x: F.max(x, axis=axis, keepdims=keepdims), x)
    check(lambda x: x.max(axis=axis, keepdims=keepdims), x)


@pytest.mark.parametrize("shapes", [((3,), (2, 3)), ((2, 1), (2, 4)), ((1, 3, 1), (2, 3, 4)), ((), (2, 2))], ids=str)
def test_broadcast_to_and_sum_to(shapes, rand):
    small, large = shapes
    check(lambda x: F.broadcast_to(x, large), rand.randn(*small))
    check(lambda x: x.broadcast_to(large), rand.randn(*small))
    check(lambda x: F.sum_to(x, small), rand.randn(*large))
    check(lambda x: x.sum_to(small), rand.randn(*large))


# --- shape operations -------------------------------------------------------------------------

covers("reshape", "permute", "transpose", "flatten", "getitem", "concat", "pad_widths")


def test_reshape(rand):
    x = rand.randn(2, 3, 4)
    check(lambda x: F.reshape(x, (4, 6)), x)
    check(lambda x: x.reshape(3, -1), x)
    check(lambda x: x.reshape(24), x)
    check(lambda x: F.flatten(x), x)
    check(lambda x: x.flatten(0), x)


@pytest.mark.parametrize("axes", [(1, 0, 2), (2, 0, 1), (0, 2, 1), (-1, 0, 1)], ids=str)
def test_permute(axes, rand):
    x = rand.randn(2, 3, 4)
    check(lambda x: F.permute(x, axes), x)
    check(lambda x: x.permute(*axes), x)


def test_transpose(rand):
    x = rand.randn(2, 3, 4)
    check(lambda x: F.transpose(x), x)
    check(lambda x: F.transpose(x, 0, 2), x)
    check(lambda x: x.transpose(0, 1), x)
    check(lambda x: x.swapaxes(1, 2), x)
    check(lambda x: x.T, x)


BASIC_INDICES = [
    (slice(1, 3),), (slice(None, None, 2),), (slice(None, None, -1),), (1,), (-1, slice(1, None)),
    (Ellipsis, 2), (None, 0), (slice(0, 2), None, slice(None), 3), (0, 1, 2),
]


@pytest.mark.parametrize("index", BASIC_INDICES, ids=str)
def test_getitem_basic(index, rand):
    x = rand.randn(3, 4, 5)
    check(lambda x: x[index], x)
    check(lambda x: F.getitem(x, index), x)


def _advanced_indices():
    repeats = np.array([0, 2, 0, 1, 2, 2])
    return [
        [0, 0, 2],                                          # a Python list with a repeat
        repeats,                                            # an integer array with repeats
        (slice(None), [1, 1, 3]),                           # repeats along the second axis
        (np.array([0, 1, 1, 2]), np.array([3, 3, 0, 3])),   # pairs, one pair picked twice
        (repeats.reshape(2, 3), slice(1, 3)),              # a 2-D index array mixed with a slice
        (Ellipsis, [4, 0, 4]),
        np.array([True, False, True]),                       # a boolean mask over the first axis
    ]


@pytest.mark.parametrize("index", _advanced_indices(), ids=lambda i: repr(i).replace(" ", "")[:40])
def test_getitem_advanced_with_repeats(index, rand):
    x = rand.randn(3, 4, 5)
    check(lambda x: x[index], x)


def test_getitem_with_tensor_index(rand):
    x = rand.randn(5, 3)
    index = tinygan.Tensor(rand.ints(7, low=0, high=5))
    check(lambda x: x[index], x)


def test_getitem_second_order_scatter(rand):
    """The gradient of x[index] is a scatter; its own gradient is x[index] again (create_graph path)."""
    from tinygan.gradcheck import gradgradcheck
    x = rand.randn(4, 3)
    assert gradgradcheck(lambda x: x[[0, 3, 3, 1]] * x[[0, 3, 3, 1]], [x])


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_concat(axis, rand):
    shapes = {0: [(1, 3, 2), (2, 3, 2), (3, 3, 2)], 1: [(2, 1, 2), (2, 2, 2), (2, 3, 2)],
              -1: [(2, 3, 1), (2, 3, 3), (2, 3, 2)]}[axis]
    a, b, c = (rand.randn(*s) for s in shapes)
    check(lambda a, b, c: F.concat([a, b, c], axis=axis), a, b, c)


def test_concat_with_constant_piece(rand):
    a, b = rand.randn(2, 3), rand.randn(1, 3, requires_grad=False)
    check(lambda a: F.concat([b, a, b], axis=0), a)


@pytest.mark.parametrize("widths, value", [
    (((0, 0), (1, 2)), 0.0), (((1, 0), (0, 3)), 1.5), (((2, 2), (2, 2)), -1.0), (((0, 0), (0, 0)), 0.0)])
def test_pad_widths(widths, value, rand):
    check(lambda x: F.pad_widths(x, widths, value=value), rand.randn(2, 3))


# --- activations ------------------------------------------------------------------------------

covers("relu", "leaky_relu", "sigmoid", "tanh", "softplus")


def test_relu(rand):
    x = rand.separated(3, 5)
    check(F.relu, x)
    check(lambda x: x.relu(), x)


@pytest.mark.parametrize("slope", [0.01, 0.2, 1.5])
def test_leaky_relu(slope, rand):
    check(lambda x: F.leaky_relu(x, slope), rand.separated(3, 5))


@pytest.mark.parametrize("op", ["sigmoid", "tanh", "softplus"])
def test_smooth_activations(op, rand):
    x = rand.randn(3, 5, scale=3.0)
    check(getattr(F, op), x)
    # far tails: the stable forms must keep a finite, correct gradient
    check(getattr(F, op), rand.tensor(np.array([-30.0, -12.0, -0.5, 0.0, 0.5, 12.0, 30.0])))


def test_activation_methods(rand):
    x = rand.randn(4)
    check(lambda x: x.sigmoid() + x.tanh(), x)


# --- im2col, col2im, convolutions -------------------------------------------------------------

covers("im2col", "col2im", "conv2d", "conv_transpose2d")


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


@FAST
@given(g=conv_geometry(), N=st.integers(1, 2), C=st.integers(1, 2), seed=st.integers(0, 2**16))
def test_im2col(g, N, C, seed, make_rand):
    rand = make_rand(seed)
    x = rand.randn(N, C, g["H"], g["W"])
    check(lambda x: F.im2col(x, g["kernel"], g["stride"], g["padding"], g["dilation"]), x)


@FAST
@given(g=conv_geometry(), N=st.integers(1, 2), C=st.integers(1, 2), seed=st.integers(0, 2**16))
def test_col2im(g, N, C, seed, make_rand):
    rand = make_rand(seed)
    KH, KW = g["kernel"]
    OH = F.conv_output_size(g["H"], KH, g["stride"][0], g["padding"][0], g["dilation"][0])
    OW = F.conv_output_size(g["W"], KW, g["stride"][1], g["padding"][1], g["dilation"][1])
    cols = rand.randn(N, C * KH * KW, OH * OW)
    check(lambda c: F.col2im(c, (g["H"], g["W"]), g["kernel"], g["stride"], g["padding"], g["dilation"]), cols)


@FAST
@given(g=conv_geometry(), N=st.integers(1, 2), C=st.integers(1, 3), O=st.integers(1, 3),
       bias=st.booleans(), seed=st.integers(0, 2**16))
def test_conv2d(g, N, C, O, bias, seed, make_rand):
    rand = make_rand(seed)
    x = rand.randn(N, C, g["H"], g["W"])
    w = rand.randn(O, C, *g["kernel"])
    inputs = [x, w] + ([rand.randn(O)] if bias else [])

    def conv(x, w, b=None):
        return F.conv2d(x, w, b, stride=g["stride"], padding=g["padding"], dilation=g["dilation"])
    check(conv, *inputs)


def test_conv2d_int_arguments_and_constant_weight(rand):
    x = rand.randn(2, 2, 5, 5)
    w = rand.randn(3, 2, 3, 3, requires_grad=False)
    check(lambda x: F.conv2d(x, w, stride=2, padding=1), x)


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


@FAST
@given(g=conv_transpose_geometry(), N=st.integers(1, 2), C=st.integers(1, 3), O=st.integers(1, 3),
       bias=st.booleans(), seed=st.integers(0, 2**16))
def test_conv_transpose2d(g, N, C, O, bias, seed, make_rand):
    rand = make_rand(seed)
    x = rand.randn(N, C, g["H"], g["W"])
    w = rand.randn(C, O, *g["kernel"])
    inputs = [x, w] + ([rand.randn(O)] if bias else [])

    def conv_t(x, w, b=None):
        return F.conv_transpose2d(x, w, b, stride=g["stride"], padding=g["padding"],
                                  output_padding=g["output_padding"], dilation=g["dilation"])
    check(conv_t, *inputs)


# --- pooling and upsampling -------------------------------------------------------------------

covers("avg_pool2d", "max_pool2d", "upsample_nearest2d")


@pytest.mark.parametrize("kernel, stride, padding", [(2, None, 0), (3, 1, 1), (2, 1, 0), ((2, 3), (1, 2), (1, 1)), (3, 2, 1)])
def test_avg_pool2d(kernel, stride, padding, rand):
    check(lambda x: F.avg_pool2d(x, kernel, stride, padding), rand.randn(2, 2, 5, 6))


@pytest.mark.parametrize("kernel, stride, padding", [(2, None, 0), (3, 1, 1), (2, 1, 0), ((2, 3), (1, 2), (1, 1)), (3, 2, 1)])
def test_max_pool2d(kernel, stride, padding, rand):
    # distinct values well apart: no ties inside a window, the arg-max never flips
    check(lambda x: F.max_pool2d(x, kernel, stride, padding), rand.separated(2, 2, 5, 6, gap=0.02))


@pytest.mark.parametrize("scale", [1, 2, 3])
def test_upsample_nearest2d(scale, rand):
    check(lambda x: F.upsample_nearest2d(x, scale), rand.randn(2, 2, 3, 2))


# --- normalisation, dropout, embedding, linear ------------------------------------------------

covers("batch_norm", "dropout", "embedding", "linear")


@pytest.mark.parametrize("shape", [(5, 3), (3, 2, 3, 2)], ids=["1d", "2d"])
@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
def test_batch_norm(shape, training, rand):
    C = shape[1]
    x = rand.randn(*shape, scale=2.0, shift=0.5)
    weight, bias = rand.randn(C, shift=1.0), rand.randn(C)
    running_mean = rand.randn(C, requires_grad=False).data
    running_var = rand.uniform(C, low=0.5, high=2.0, requires_grad=False).data

    def bn(x, weight, bias):
        # training: no running statistics here, so the many forward calls do not move them
        stats = (None, None) if training else (running_mean, running_var)
        return F.batch_norm(x, *stats, weight, bias, training=training)
    check(bn, x, weight, bias)


def test_batch_norm_train_updates_running_statistics_in_gradcheck_free_call(rand):
    """With running statistics given in training, the gradient is the same as without them."""
    x, weight, bias = rand.randn(4, 3), rand.randn(3), rand.randn(3)
    running_mean = rand.randn(3, requires_grad=False).data.copy()
    running_var = rand.uniform(3, low=0.5, high=2.0, requires_grad=False).data.copy()
    before = running_mean.copy()
    y1 = F.batch_norm(x, running_mean, running_var, weight, bias, training=True)
    assert not np.allclose(tinygan.backend.to_numpy(running_mean), tinygan.backend.to_numpy(before))
    y2 = F.batch_norm(x, None, None, weight, bias, training=True)
    np.testing.assert_allclose(y1.numpy(), y2.numpy())


@pytest.mark.parametrize("p", [0.3, 0.7])
def test_dropout_with_fixed_mask(p, rand):
    x = rand.randn(4, 5)

    def drop(x):
        tinygan.manual_seed(1234)  # the same mask on every call
        return F.dropout(x, p=p, training=True)
    check(drop, x)
    check(lambda x: F.dropout(x, p=p, training=False), x)  # identity in evaluation


def test_embedding_with_repeated_indices(rand):
    weight = rand.randn(6, 3)
    indices = tinygan.Tensor(tinygan.backend.xp().asarray(np.array([[0, 5, 0], [2, 2, 2]])))
    check(lambda w: F.embedding(indices, w), weight)
    check(lambda w: F.embedding([1, 1, 4], w), weight)


@pytest.mark.parametrize("x_shape", [(4, 3), (2, 3, 3)], ids=["2d", "3d"])
@pytest.mark.parametrize("bias", [True, False])
def test_linear(x_shape, bias, rand):
    x, w = rand.randn(*x_shape), rand.randn(2, 3)
    inputs = [x, w] + ([rand.randn(2)] if bias else [])
    check(F.linear, *inputs)


# --- losses -----------------------------------------------------------------------------------

covers("binary_cross_entropy_with_logits", "binary_cross_entropy", "mse_loss", "gaussian_kl")


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_bce_with_logits(reduction, rand):
    logits = rand.randn(4, 3, scale=3.0)
    targets = rand.uniform(4, 3)  # soft labels too; the gradient w.r.t. targets is -logits
    check(lambda x, y: F.binary_cross_entropy_with_logits(x, y, reduction=reduction), logits, targets)
    hard = rand.tensor(rand.np.integers(0, 2, size=(4, 3)), requires_grad=False)
    check(lambda x: F.binary_cross_entropy_with_logits(x, hard, reduction=reduction), logits)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_bce(reduction, rand):
    probs = rand.uniform(4, 3, low=0.05, high=0.95)
    targets = rand.uniform(4, 3)
    check(lambda p, y: F.binary_cross_entropy(p, y, reduction=reduction), probs, targets)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_mse(reduction, rand):
    x, y = rand.randn(4, 3), rand.randn(4, 3)
    check(lambda x, y: F.mse_loss(x, y, reduction=reduction), x, y)
    check(lambda x: F.mse_loss(x, 0.5, reduction=reduction), x)


@pytest.mark.parametrize("reduction", ["sum", "mean", "none"])
def test_gaussian_kl(reduction, rand):
    mu, logvar = rand.randn(4, 3), rand.randn(4, 3, scale=0.5)
    check(lambda m, lv: F.gaussian_kl(m, lv, reduction=reduction), mu, logvar)


def test_every_functional_op_is_checked():
    differentiable = set(F.__all__) - NOT_DIFFERENTIABLE
    assert differentiable - COVERED == set(), "ops in tinygan.functional without a gradient check"


# --- issue 14, part B: activations, losses and normalisations with PyTorch's names -------------------

covers("softmax", "log_softmax", "gelu", "silu", "elu")
NOT_DIFFERENTIABLE |= {"one_hot"}  # integer labels in, integers out


@pytest.mark.parametrize("op", ["softmax", "log_softmax"])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_softmax_family(op, dim, rand):
    check(lambda x: getattr(F, op)(x, dim=dim), rand.randn(3, 4, 2, scale=3.0))


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu(approximate, rand):
    check(lambda x: F.gelu(x, approximate=approximate), rand.randn(4, 5, scale=3.0))


def test_silu_and_elu(rand):
    check(F.silu, rand.randn(4, 5, scale=3.0))
    check(lambda x: F.elu(x, alpha=1.5), rand.separated(4, 5, gap=0.2))


covers("cross_entropy", "nll_loss", "l1_loss", "kl_div")


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.25])
def test_cross_entropy(reduction, label_smoothing, rand):
    labels = rand.ints(5, 2, low=0, high=4)
    labels[0, 1] = -100
    weight = rand.uniform(4, low=0.5, high=2.0, requires_grad=False)
    check(lambda x: F.cross_entropy(x, labels, weight=weight, reduction=reduction, label_smoothing=label_smoothing),
          rand.randn(5, 4, 2, scale=2.0))
    check(lambda x, p: F.cross_entropy(x, p, reduction=reduction, label_smoothing=label_smoothing),
          rand.randn(5, 4), rand.uniform(5, 4))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_nll_and_l1(reduction, rand):
    labels = rand.ints(6, low=0, high=3)
    check(lambda x: F.nll_loss(x, labels, reduction=reduction, ignore_index=1), rand.randn(6, 3))
    # x - y stays at least 0.02 away from the kink of |x - y| at 0
    check(lambda x, y: F.l1_loss(x, y, reduction=reduction), rand.separated(4, 3), rand.randn(4, 3, scale=0.001))


@pytest.mark.parametrize("reduction", ["batchmean", "sum", "none"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div(reduction, log_target, rand):
    target = rand.randn(3, 4) if log_target else rand.uniform(3, 4, low=0.1, high=1.0)
    check(lambda q, p: F.kl_div(q, p, reduction=reduction, log_target=log_target), rand.randn(3, 4), target)


covers("layer_norm", "group_norm", "instance_norm", "normalize")


def test_norms(rand):
    x = rand.randn(2, 4, 3, 2, scale=2.0, shift=1.0)
    w, b = rand.uniform(4, low=0.5, high=1.5), rand.randn(4)
    check(lambda x, w, b: F.group_norm(x, 2, w, b), x, w, b)
    check(lambda x, w, b: F.instance_norm(x, weight=w, bias=b), x, w, b)
    check(lambda x, w, b: F.layer_norm(x, (3, 2), w, b), x, rand.uniform(3, 2, low=0.5, high=1.5), rand.randn(3, 2))
    check(lambda x: F.layer_norm(x, 2), x)


@pytest.mark.parametrize("p", [1.0, 2.0, 3.0])
def test_normalize(p, rand):
    check(lambda x: F.normalize(x, p=p, dim=1), rand.separated(3, 4, gap=0.2))
# --- issue 14, part C: PyTorch-style padding, resizing, grouped and 'same' convolutions ------------

covers("pad", "interpolate", "adaptive_avg_pool2d")


@pytest.mark.parametrize("widths", [(1, 2), (0, 1, 2, 0), (1, -1, -2, 1), (1, 1, 1, 1, 1, 1)])
def test_pad_pytorch_order(widths, rand):
    check(lambda x: F.pad(x, widths, value=0.25), rand.randn(2, 3, 4))


@pytest.mark.parametrize("mode, align_corners", [("nearest", None), ("bilinear", False), ("bilinear", True)])
@pytest.mark.parametrize("resize", [dict(size=(5, 2)), dict(scale_factor=2), dict(scale_factor=(1.7, 0.6))])
def test_interpolate(mode, align_corners, resize, rand):
    check(lambda x: F.interpolate(x, mode=mode, align_corners=align_corners, **resize), rand.randn(2, 2, 3, 4))


@pytest.mark.parametrize("output_size", [1, (2, 3), (None, 2), (5, 4)])
def test_adaptive_avg_pool2d(output_size, rand):
    check(lambda x: F.adaptive_avg_pool2d(x, output_size), rand.randn(2, 2, 5, 4))


@pytest.mark.parametrize("groups", [2, 4])
def test_grouped_conv2d_and_conv_transpose2d(groups, rand):
    x, w, b = rand.randn(2, 4, 5, 5), rand.randn(8, 4 // groups, 3, 3), rand.randn(8)
    check(lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1, groups=groups), x, w, b)
    wt, bt = rand.randn(4, 3, 3, 3), rand.randn(3 * groups)
    check(lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, groups=groups), x, wt, bt)
# --- issue 14, part A: the ops PyTorch code uses ------------------------------------------------------

covers("abs", "maximum", "minimum", "where", "masked_fill", "min", "var", "std", "max_with_indices",
       "min_with_indices", "stack", "squeeze", "unsqueeze", "expand", "repeat", "clone")


@pytest.mark.parametrize("shapes", [((2, 3), (2, 3)), ((2, 3), (3,)), ((4, 1), (2, 1, 3)), ((), (2, 3))], ids=str)
def test_maximum_minimum_where_broadcast(shapes, rand):
    a, b = rand.randn(*shapes[0]), rand.randn(*shapes[1])  # continuous values: no ties
    check(F.maximum, a, b)
    check(F.minimum, a, b)
    condition = tinygan.Tensor(rand.np.integers(0, 2, size=np.broadcast_shapes(*shapes)).astype(bool))
    check(lambda x, y: F.where(condition, x, y), a, b)


def test_abs_and_masked_fill(rand):
    x = rand.separated(3, 4)
    check(F.abs, x)
    check(lambda t: F.masked_fill(t, t.detach() > 0.3, 2.0), x)


@pytest.mark.parametrize("axis", [None, 0, 1, (0, 2), -1])
@pytest.mark.parametrize("correction", [0, 1])
def test_var_std_min(axis, correction, rand):
    x = rand.randn(3, 4, 2)
    check(lambda t: F.var(t, axis=axis, correction=correction), x)
    check(lambda t: F.std(t, axis=axis, correction=correction, keepdims=True), x)
    check(lambda t: F.min(t, axis=axis), rand.separated(3, 4, 2))


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_max_min_with_indices(dim, rand):
    x = rand.separated(3, 4, 2)
    check(lambda t: F.max_with_indices(t, dim).values, x)
    check(lambda t: F.min_with_indices(t, dim, keepdim=True).values, x)


def test_shape_compositions(rand):
    x = rand.randn(3, 1, 2)
    check(lambda a, b: F.stack([a, b], dim=-1), x, rand.randn(3, 1, 2))
    check(lambda t: F.squeeze(t), x)
    check(lambda t: F.unsqueeze(t, 0), x)
    check(lambda t: F.expand(t, 2, 3, 4, 2), x)
    check(lambda t: F.repeat(t, 2, 2, 1, 3), x)
    check(F.clone, x)


# --- issue 15: recurrent cells -----------------------------------------------------------------------

covers("rnn_cell", "lstm_cell", "gru_cell", "lstm_sequence")


@FAST
@given(N=st.integers(1, 3), I=st.integers(1, 4), H=st.integers(1, 4), bias=st.booleans())
def test_recurrent_cells(make_rand, N, I, H, bias):
    rand = make_rand(N * 100 + I * 10 + H)
    for gates, cell in ((1, F.rnn_cell), (1, lambda *a: F.rnn_cell(*a, nonlinearity="relu")),
                        (3, F.gru_cell), (4, None)):
        x, h = rand.randn(N, I), rand.randn(N, H, scale=0.5)
        weights = [rand.randn(gates * H, I, scale=0.7), rand.randn(gates * H, H, scale=0.7)]
        biases = [rand.randn(gates * H), rand.randn(gates * H)] if bias else []
        if cell is None:
            c = rand.randn(N, H)
            check(lambda x, h, c, *w: F.concat(list(F.lstm_cell(x, h, c, *w)), axis=1), x, h, c, *weights, *biases)
        else:
            check(cell, x, h, *weights, *biases)


@FAST
@pytest.mark.parametrize("mode", kernels.MODES)
@given(L=st.integers(1, 4), N=st.integers(1, 3), I=st.integers(1, 3), H=st.integers(1, 3), bias=st.booleans())
def test_lstm_sequence(make_rand, mode, L, N, I, H, bias):
    """The whole-layer LSTM over sequences of every short length, by the reference loop and by the fused kernel."""
    rand = make_rand(L * 1000 + N * 100 + I * 10 + H)
    x, h, c = rand.randn(L, N, I), rand.randn(N, H, scale=0.5), rand.randn(N, H)
    weights = [rand.randn(4 * H, I, scale=0.7), rand.randn(4 * H, H, scale=0.7)]
    biases = [rand.randn(4 * H), rand.randn(4 * H)] if bias else []

    def flat(*inputs):
        output, (h_last, c_last) = F.lstm_sequence(*inputs)
        return F.concat([output.reshape(-1), h_last.reshape(-1), c_last.reshape(-1)])

    with kernels.using(mode):
        check(flat, x, h, c, *weights, *biases)
# --- issue 18: neural rendering ----------------------------------------------------------------------

covers("sin", "cos", "cumsum", "positional_encoding", "volume_render")


@FAST
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=3), exclusive=st.booleans(), reverse=st.booleans(),
       data=st.data())
def test_cumsum(make_rand, shape, exclusive, reverse, data):
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    rand = make_rand(sum(shape) * 10 + len(shape))
    check(lambda x: F.cumsum(x, dim, exclusive=exclusive, reverse=reverse), rand.randn(*shape))


@FAST
@given(R=st.integers(1, 3), N=st.integers(1, 6))
def test_volume_render_of_sigma_and_colour(make_rand, R, N):
    """The renderer's colour, depth and opacity as functions of the densities and the colours."""
    rand = make_rand(R * 10 + N)
    t = np.sort(np.random.default_rng(R * 10 + N).uniform(2.0, 6.0, (R, N)), axis=1)
    sigma, rgb = rand.uniform(R, N, low=0.1, high=2.0), rand.randn(R, N, 3)
    for k in range(3):
        check(lambda s, c: F.volume_render(s, c, tinygan.Tensor(t), 6.0)[k], sigma, rgb)


def test_trigonometry_and_encoding(rand):
    check(F.sin, rand.randn(3, 4))
    check(F.cos, rand.randn(3, 4))
    check(lambda p: F.positional_encoding(p, 4), rand.randn(5, 3, scale=0.3))
