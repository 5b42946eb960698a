"""Errors that teach: a bad call raises ValueError/TypeError naming the op and what it expected and got."""
import re
from types import SimpleNamespace

import numpy as np
import pytest

import tinygan
import tinygan.functional as F
from tinygan import Tensor, backend
from tinygan.autograd import check_same_device


def t(*shape, dtype=np.float64, requires_grad=False):
    return Tensor(backend.xp().ones(shape, dtype=dtype), requires_grad=requires_grad)


def raises(error, *fragments):
    """pytest.raises whose message must contain every fragment, in order (literal text)."""
    return pytest.raises(error, match=".*".join(re.escape(f) for f in fragments))


# --- arithmetic and shapes --------------------------------------------------------------------

def test_matmul_with_mismatched_shapes():
    with raises(ValueError, "matmul", "(2, 3)", "(4, 5)", "3 columns vs 4 rows"):
        t(2, 3) @ t(4, 5)
    with raises(ValueError, "matmul", "(2, 2, 3)", "(2, 4, 1)"):
        F.matmul(t(2, 2, 3), t(2, 4, 1))
    with raises(ValueError, "matmul", "at least 2 dimensions", "(3,)"):
        t(2, 3) @ t(3)


@pytest.mark.parametrize("op", ["add", "sub", "mul", "div"])
def test_binary_op_with_unbroadcastable_shapes(op):
    with raises(ValueError, f"{op}: shapes (2, 3) and (4,) cannot be broadcast"):
        getattr(F, op)(t(2, 3), t(4))


def test_operator_with_unbroadcastable_shapes():
    with raises(ValueError, "add", "(2, 3)", "(2,)"):
        t(2, 3) + t(2)


def test_reshape_to_the_wrong_size():
    with raises(ValueError, "reshape: cannot reshape (2, 3) (6 elements) into (4, 2)"):
        t(2, 3).reshape(4, 2)


def test_other_shape_ops():
    with raises(ValueError, "permute", "(0, 0)", "(2, 3)"):
        t(2, 3).permute(0, 0)
    with raises(ValueError, "broadcast_to", "(2, 3)", "(4, 3)"):
        F.broadcast_to(t(2, 3), (4, 3))
    with raises(ValueError, "sum_to", "(3,)", "(2, 3)"):
        F.sum_to(t(3), (2, 3))
    with raises(ValueError, "sum_to", "(2, 3)", "(4,)"):
        F.sum_to(t(2, 3), (4,))
    with raises(ValueError, "concat", "(2, 3)", "(3, 2)"):
        F.concat([t(2, 3), t(3, 2)], axis=0)
    with raises(ValueError, "pad_widths", "((0, -1), (0, 0))", "(2, 3)"):
        F.pad_widths(t(2, 3), ((0, -1), (0, 0)))


def test_pow_needs_a_number_exponent():
    with raises(TypeError, "pow", "Python number", "Tensor"):
        F.pow(t(3), t(3))


# --- convolutions -----------------------------------------------------------------------------

def test_conv2d_with_wrong_channel_count():
    with raises(ValueError, "conv2d: input has 3 channels but weight expects 2 (weight shape (4, 2, 3, 3))"):
        F.conv2d(t(1, 3, 5, 5), t(4, 2, 3, 3))


def test_conv_transpose2d_with_wrong_channel_count():
    with raises(ValueError, "conv_transpose2d: input has 3 channels but weight expects 2 (weight shape (2, 4, 3, 3))"):
        F.conv_transpose2d(t(1, 3, 5, 5), t(2, 4, 3, 3))


def test_conv_input_smaller_than_kernel():
    with raises(ValueError, "conv2d", "(2, 2)", "smaller than the kernel (3, 3)"):
        F.conv2d(t(1, 1, 2, 2), t(1, 1, 3, 3))
    with raises(ValueError, "conv2d", "(3, 3)", "kernel (2, 2) with dilation (3, 3)"):
        F.conv2d(t(1, 1, 3, 3), t(1, 1, 2, 2), dilation=3)
    with raises(ValueError, "im2col", "smaller than the kernel (7, 7)"):
        F.im2col(t(1, 1, 5, 5), 7)
    with raises(ValueError, "avg_pool2d", "smaller than the kernel"):
        F.avg_pool2d(t(1, 1, 2, 2), 3)
    with raises(ValueError, "max_pool2d", "smaller than the kernel"):
        F.max_pool2d(t(1, 1, 2, 2), 3)


@pytest.mark.parametrize("op, weight", [("conv2d", (2, 1, 3, 3)), ("conv_transpose2d", (1, 2, 3, 3))])
def test_conv_bad_geometry(op, weight):
    conv = getattr(F, op)
    x, w = t(1, 1, 5, 5), t(*weight)
    with raises(ValueError, op, "padding must be >= 0", "(-1, -1)"):
        conv(x, w, padding=-1)
    with raises(ValueError, op, "stride must be >= 1", "(0, 0)"):
        conv(x, w, stride=0)
    with raises(ValueError, op, "stride must be >= 1", "(1, 0)"):
        conv(x, w, stride=(1, 0))
    with raises(ValueError, op, "dilation must be >= 1", "(0, 0)"):
        conv(x, w, dilation=0)
    with raises(TypeError, op, "stride must be an int or a pair of ints", "1.5"):
        conv(x, w, stride=1.5)
    with raises(TypeError, op, "padding", "(1, 1, 1)"):
        conv(x, w, padding=(1, 1, 1))


def test_conv_transpose2d_output_padding_not_below_stride():
    with raises(ValueError, "conv_transpose2d: output_padding (2, 2) must be >= 0 and smaller than the stride (2, 2)"):
        F.conv_transpose2d(t(1, 1, 3, 3), t(1, 1, 3, 3), stride=2, output_padding=2)
    with raises(ValueError, "conv_transpose2d", "output_padding (1, 1)", "stride (1, 1)"):
        F.conv_transpose2d(t(1, 1, 3, 3), t(1, 1, 3, 3), output_padding=1)


def test_conv_transpose2d_with_padding_that_leaves_nothing():
    with raises(ValueError, "conv_transpose2d", "output size", "not positive", "(3, 3)"):
        F.conv_transpose2d(t(1, 1, 3, 3), t(1, 1, 3, 3), padding=4)


def test_conv_wrong_rank_and_bias():
    with raises(ValueError, "conv2d: input must be 4-D (N, C, H, W) or 3-D (C, H, W), got shape (5, 5)"):
        F.conv2d(t(5, 5), t(2, 3, 3, 3))
    with raises(ValueError, "conv2d: weight must be 4-D", "(2, 3, 3)"):
        F.conv2d(t(1, 3, 5, 5), t(2, 3, 3))
    with raises(ValueError, "conv2d: bias must have shape (4,), got (3,)"):
        F.conv2d(t(1, 3, 5, 5), t(4, 3, 3, 3), t(3))
    with raises(ValueError, "max_pool2d: input must be 4-D (N, C, H, W) or 3-D (C, H, W)", "(5, 5)"):
        F.max_pool2d(t(5, 5), 2)
    with raises(ValueError, "max_pool2d: padding must be >= 0", "(-1, -1)"):
        F.max_pool2d(t(1, 1, 4, 4), 2, padding=-1)
    with raises(ValueError, "upsample_nearest2d", "positive int", "1.5"):
        F.upsample_nearest2d(t(1, 1, 2, 2), 1.5)


def test_col2im_with_columns_that_do_not_fit():
    with raises(ValueError, "col2im", "(1, 4, 8)", "(1, 4, 9)"):
        F.col2im(t(1, 4, 8), (4, 4), 2)


# --- layers -----------------------------------------------------------------------------------

def test_linear_with_wrong_in_features():
    with raises(ValueError, "linear: input has 3 features (shape (2, 3)) but weight expects 5 (weight shape (4, 5))"):
        F.linear(t(2, 3), t(4, 5))
    with raises(ValueError, "linear: bias must have shape (4,), got (3,)"):
        F.linear(t(2, 3), t(4, 3), t(3))
    with raises(ValueError, "linear: weight must be 2-D", "(4,)"):
        F.linear(t(2, 3), t(4))


@pytest.mark.parametrize("name", ["weight", "bias", "running_mean", "running_var"])
def test_batch_norm_with_wrong_parameter_shape(name):
    params = dict(running_mean=t(3), running_var=t(3), weight=t(3), bias=t(3))
    params[name] = t(2)
    with raises(ValueError, f"batch_norm: {name} must have shape (3,) for input (4, 3), got (2,)"):
        F.batch_norm(t(4, 3), training=False, **params)


def test_batch_norm_bad_input():
    with raises(ValueError, "batch_norm", "(N, C) or (N, C, H, W)", "(4, 3, 2)"):
        F.batch_norm(t(4, 3, 2), None, None, t(3), t(3))
    with raises(ValueError, "batch_norm", "more than one value per channel", "(1, 3)"):
        F.batch_norm(t(1, 3), None, None, t(3), t(3), training=True)


def test_dropout_probability():
    with raises(ValueError, "dropout: p must be in [0, 1), got 1.0"):
        F.dropout(t(3), p=1.0)
    with raises(ValueError, "dropout", "-0.1"):
        F.dropout(t(3), p=-0.1)


def test_embedding_with_float_labels():
    with raises(TypeError, "embedding: indices must be integers", "float64"):
        F.embedding(backend.xp().asarray([0.0, 1.0]), t(5, 2))
    with raises(TypeError, "embedding", "float32"):
        F.embedding(Tensor(backend.xp().asarray([0.0, 1.0], dtype=np.float32)), t(5, 2))
    with raises(ValueError, "embedding: indices must lie in [0, 5), got values from 0 to 7"):
        F.embedding(backend.xp().asarray([0, 7]), t(5, 2))


# --- losses -----------------------------------------------------------------------------------

@pytest.mark.parametrize("loss", ["binary_cross_entropy_with_logits", "binary_cross_entropy", "mse_loss"])
def test_integer_targets_to_losses(loss):
    probs = Tensor(backend.xp().full((3,), 0.5))
    with raises(TypeError, loss, "targets must be floating point", "int64"):
        getattr(F, loss)(probs, backend.xp().asarray([1, 0, 1], dtype=np.int64))
    with raises(TypeError, loss, "int32"):
        getattr(F, loss)(probs, Tensor(backend.xp().asarray([1, 0, 1], dtype=np.int32)))


def test_loss_shapes_and_reduction():
    with raises(ValueError, "mse_loss: targets have shape (3, 2) but inputs have shape (2, 3)"):
        F.mse_loss(t(2, 3), t(3, 2))
    with raises(ValueError, "binary_cross_entropy_with_logits", "(3,)", "(2, 3)"):
        F.binary_cross_entropy_with_logits(t(2, 3), t(3))
    with raises(ValueError, "mse_loss: reduction must be one of", "'avg'"):
        F.mse_loss(t(2, 3), t(2, 3), reduction="avg")
    with raises(ValueError, "gaussian_kl: mu has shape (2, 3) but logvar has shape (2, 4)"):
        F.gaussian_kl(t(2, 3), t(2, 4))


# --- autograd ---------------------------------------------------------------------------------

def test_backward_on_a_non_scalar_without_a_gradient():
    y = t(2, 3, requires_grad=True) * 2.0
    with raises(ValueError, "backward", "shape (2, 3)", "gradient="):
        y.backward()


def test_grad_errors():
    x = t(3, requires_grad=True)
    with raises(ValueError, "grad", "grad_outputs", "(3,)"):
        tinygan.grad(x * 2.0, x)
    with raises(ValueError, "grad: input 0 (shape (2,)) does not require gradients"):
        tinygan.grad((x * 2.0).sum(), t(2))


def test_tensor_errors():
    with raises(TypeError, "Tensor", "floating-point", "int64"):
        Tensor(backend.xp().asarray([1, 2], dtype=np.int64), requires_grad=True)
    with raises(ValueError, "item", "one-element", "(3,)"):
        t(3).item()
    with raises(ValueError, "to: unknown device 'tpu'"):
        t(3).to("tpu")
    with raises(ValueError, "use: unknown backend 'jax'"):
        tinygan.use("jax")


# --- devices ----------------------------------------------------------------------------------

def fake(device, shape):
    return SimpleNamespace(device=device, shape=shape)


def test_check_same_device_names_both_devices():
    check_same_device("mul", [fake("cpu", (2,)), fake("cpu", (2,))])  # one device: fine
    check_same_device("neg", [fake("gpu", (2,))])
    with raises(ValueError, "mul: all inputs must be on one device", "input 0 on cpu (shape (2, 3))",
                "input 1 on gpu (shape (3,))", ".to('cpu')"):
        check_same_device("mul", [fake("cpu", (2, 3)), fake("gpu", (3,))])


def test_function_apply_checks_devices(monkeypatch):
    """Every op goes through Function.apply, which calls check_same_device with the op's name."""
    seen = []
    import tinygan.autograd as autograd
    original = autograd.check_same_device

    def spy(name, tensors):
        seen.append((name, [tuple(x.shape) for x in tensors]))
        return original(name, tensors)
    monkeypatch.setattr(autograd, "check_same_device", spy)
    F.mul(t(2), t(2))
    assert ("Mul", [(2,), (2,)]) in seen


@pytest.mark.gpu
def test_mixing_devices_raises_naming_both():
    cpu = Tensor(np.ones(3))
    gpu = cpu.to("gpu")
    with raises(ValueError, "all inputs must be on one device", "cpu", "gpu"):
        cpu + gpu
    with raises(ValueError, "MatMul", "gpu", "cpu"):
        gpu.reshape(1, 3) @ cpu.reshape(3, 1)
