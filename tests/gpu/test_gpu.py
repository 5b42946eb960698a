"""CuPy against NumPy: the same forward and backward on the GPU as on the CPU (skipped without a GPU).

Each test builds its inputs on the host, runs the op once on NumPy arrays and once on copies moved
with `.to("gpu")`, and compares outputs and gradients. Nothing here switches the global backend
except test_use_cupy_backend, which restores it.
"""
import numpy as np
import pytest

import tinygan
import tinygan.functional as F
from tinygan import Tensor, backend
from tinygan.gradcheck import gradcheck

pytestmark = pytest.mark.gpu


def host_tensors(seed, *shapes, dtype=np.float64):
    rng = np.random.default_rng(seed)
    return [Tensor(rng.standard_normal(shape).astype(dtype), requires_grad=True) for shape in shapes]


def on_gpu(tensors):
    return [t.to("gpu") for t in tensors]


def compare(fn, cpu_inputs, rtol=1e-9, atol=1e-11, seed=0):
    """Run fn on CPU and GPU copies; outputs and every input gradient must agree."""
    gpu_inputs = on_gpu(cpu_inputs)
    for t in gpu_inputs:
        assert t.device == "gpu" and t.is_leaf
    out_cpu, out_gpu = fn(*cpu_inputs), fn(*gpu_inputs)
    assert out_gpu.device == "gpu" and out_gpu.dtype == out_cpu.dtype
    np.testing.assert_allclose(out_gpu.numpy(), out_cpu.numpy(), rtol=rtol, atol=atol)
    weighting = np.random.default_rng(seed).standard_normal(out_cpu.shape).astype(out_cpu.dtype)
    out_cpu.backward(Tensor(weighting))
    out_gpu.backward(Tensor(weighting).to("gpu"))
    for i, (c, g) in enumerate(zip(cpu_inputs, gpu_inputs)):
        if c.grad is None:
            assert g.grad is None
            continue
        assert g.grad.device == "gpu" and g.grad.dtype == c.grad.dtype
        np.testing.assert_allclose(g.grad.numpy(), c.grad.numpy(), rtol=rtol, atol=atol, err_msg=f"input {i}")


@pytest.mark.parametrize("stride, padding, dilation", [(1, 0, 1), (2, 1, 1), (1, 2, 2)])
def test_conv2d(stride, padding, dilation):
    inputs = host_tensors(0, (2, 3, 7, 6), (4, 3, 3, 3), (4,))
    compare(lambda x, w, b: F.conv2d(x, w, b, stride=stride, padding=padding, dilation=dilation), inputs)


@pytest.mark.parametrize("stride, padding, output_padding", [(1, 0, 0), (2, 1, 1), (3, 1, 2)])
def test_conv_transpose2d(stride, padding, output_padding):
    inputs = host_tensors(1, (2, 3, 4, 3), (3, 2, 3, 3), (2,))
    compare(lambda x, w, b: F.conv_transpose2d(x, w, b, stride=stride, padding=padding,
                                               output_padding=output_padding), inputs)


def test_conv2d_float32():
    inputs = host_tensors(2, (4, 3, 8, 8), (5, 3, 3, 3), (5,), dtype=np.float32)
    compare(lambda x, w, b: F.conv2d(x, w, b, padding=1), inputs, rtol=1e-4, atol=1e-5)


def test_pooling_and_upsampling():
    (x,) = host_tensors(3, (2, 2, 6, 6))
    compare(lambda x: F.max_pool2d(x, 3, 2, 1), [x])
    (x,) = host_tensors(3, (2, 2, 6, 6))
    compare(lambda x: F.avg_pool2d(x, 2) + F.upsample_nearest2d(x, 2)[:, :, ::4, ::4], [x])


@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 2, 2)], ids=["1d", "2d"])
def test_batch_norm_train_and_running_statistics(shape):
    inputs = host_tensors(4, shape, (3,), (3,))
    stats = {"cpu": (np.zeros(3), np.ones(3)), "gpu": None}
    stats["gpu"] = tuple(backend.to_device(s.copy(), "gpu") for s in stats["cpu"])

    def bn(x, w, b):
        mean, var = stats[x.device]
        return F.batch_norm(x, mean, var, w, b, training=True, momentum=0.1)
    compare(bn, inputs)
    for cpu, gpu in zip(stats["cpu"], stats["gpu"]):
        np.testing.assert_allclose(backend.to_numpy(gpu), cpu, rtol=1e-12)


def test_batch_norm_eval():
    inputs = host_tensors(5, (4, 3, 2, 2), (3,), (3,))
    rng = np.random.default_rng(5)
    mean, var = rng.standard_normal(3), rng.uniform(0.5, 2.0, 3)
    stats = {"cpu": (mean, var), "gpu": (backend.to_device(mean, "gpu"), backend.to_device(var, "gpu"))}
    compare(lambda x, w, b: F.batch_norm(x, *stats[x.device], w, b, training=False), inputs)


def test_linear():
    compare(F.linear, host_tensors(6, (5, 4), (3, 4), (3,)))
    compare(lambda x, w: F.tanh(F.linear(x, w)), host_tensors(6, (2, 5, 4), (3, 4)))


def test_losses():
    rng = np.random.default_rng(7)
    targets_cpu = Tensor(rng.uniform(0, 1, (4, 3)))
    targets = {"cpu": targets_cpu, "gpu": targets_cpu.to("gpu")}
    for reduction in ("mean", "sum", "none"):
        compare(lambda x: F.binary_cross_entropy_with_logits(x, targets[x.device], reduction=reduction),
                host_tensors(8, (4, 3)))
        compare(lambda x: F.mse_loss(x, targets[x.device], reduction=reduction), host_tensors(9, (4, 3)))
    probs = Tensor(rng.uniform(0.05, 0.95, (4, 3)), requires_grad=True)
    compare(lambda p: F.binary_cross_entropy(p, targets[p.device]), [probs])
    compare(F.gaussian_kl, host_tensors(10, (4, 3), (4, 3)))


def test_gradcheck_on_the_gpu():
    x, w = on_gpu(host_tensors(11, (1, 2, 4, 4), (2, 2, 2, 2)))
    assert gradcheck(lambda x, w: F.tanh(F.conv2d(x, w, padding=1)), [x, w])


def test_to_round_trip():
    data = np.arange(6, dtype=np.float32).reshape(2, 3)
    cpu = Tensor(data, requires_grad=True)
    gpu = cpu.to("gpu")
    assert gpu.device == "gpu" and gpu.requires_grad and gpu.is_leaf and gpu.dtype == np.float32
    assert backend.get_array_module(gpu.array) is not np
    assert gpu.to("gpu") is gpu and cpu.to("cpu") is cpu  # no copy when already there
    back = gpu.to("cpu")
    assert back.device == "cpu" and isinstance(back.array, np.ndarray)
    np.testing.assert_array_equal(back.numpy(), data)
    np.testing.assert_array_equal(gpu.numpy(), data)
    assert gpu.to("cuda").device == "gpu" and gpu.to("numpy").device == "cpu"


def test_mixing_devices_raises_naming_both():
    cpu = Tensor(np.ones((2, 3)))
    gpu = cpu.to("gpu")
    with pytest.raises(ValueError, match=r"Mul: all inputs must be on one device.*cpu.*gpu"):
        cpu * gpu
    with pytest.raises(ValueError, match=r"Conv2d.*gpu.*cpu"):
        F.conv2d(Tensor(np.ones((1, 1, 3, 3))).to("gpu"), Tensor(np.ones((1, 1, 2, 2))))


def test_use_cupy_backend():
    previous = backend.current()
    try:
        tinygan.use("cupy")
        assert backend.current_device() == "gpu"
        tinygan.manual_seed(0)
        a = tinygan.randn(3, 4)
        tinygan.manual_seed(0)
        b = tinygan.randn(3, 4)
        assert a.device == "gpu" and a.dtype == np.float32
        np.testing.assert_array_equal(a.numpy(), b.numpy())
        assert tinygan.zeros(2).device == "gpu"
        x = tinygan.randn(4, 5, requires_grad=True)
        tinygan.manual_seed(1)
        y = F.dropout(x, 0.5)
        y.sum().backward()
        assert x.grad.device == "gpu"
    finally:
        tinygan.use(previous)


# -- the fused CuPy kernels (tinygan/kernels/cupy_fused.py) against the NumPy reference -----------------

@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-12), (np.float32, 1e-5)])
def test_adam_fused_kernel_matches_the_cpu_update(dtype, rtol):
    rng = np.random.default_rng(12)
    start, grads = rng.standard_normal((3, 4)).astype(dtype), rng.standard_normal((5, 3, 4)).astype(dtype)
    params = {"cpu": Tensor(start.copy(), requires_grad=True), "gpu": Tensor(start.copy(), requires_grad=True).to("gpu")}
    for device, p in params.items():
        optimizer = tinygan.optim.Adam([p], lr=1e-2, betas=(0.8, 0.95), eps=1e-6, weight_decay=0.1)
        for g in grads:                               # five steps: the bias corrections change each step
            p.grad = Tensor(g).to(device)
            optimizer.step()
    assert params["gpu"].dtype == dtype
    np.testing.assert_allclose(params["gpu"].numpy(), params["cpu"].numpy(), rtol=rtol, atol=rtol * 1e-2)
    assert np.abs(params["cpu"].numpy() - start).max() > 1e-2   # the steps did move the weights


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-9), (np.float32, 1e-4)])
def test_batch_norm_fused_kernels_on_a_channels_last_conv_output(dtype, rtol):
    """A convolution's output is stored channels-last: the fused kernels must read it by its strides."""
    x, w, gamma, beta = host_tensors(13, (4, 3, 6, 6), (5, 3, 3, 3), (5,), (5,), dtype=dtype)
    stats = {"cpu": (np.zeros(5, dtype), np.ones(5, dtype))}
    stats["gpu"] = tuple(backend.to_device(s.copy(), "gpu") for s in stats["cpu"])

    def conv_bn(x, w, gamma, beta):
        return F.batch_norm(F.conv2d(x, w, padding=1), *stats[x.device], gamma, beta, training=True)
    compare(conv_bn, [x, w, gamma, beta], rtol=rtol, atol=rtol * 1e-2)
    for cpu, gpu in zip(stats["cpu"], stats["gpu"]):
        np.testing.assert_allclose(backend.to_numpy(gpu), cpu, rtol=rtol)


def test_manual_seed_before_use_cupy_seeds_the_gpu_generator_too():
    """torch.manual_seed seeds every device; so does tinygan's, whichever of seed and use comes first."""
    previous = backend.current()
    try:
        tinygan.use("numpy")
        tinygan.manual_seed(5)
        tinygan.use("cupy")
        seeded_first = tinygan.randn(4).numpy()
        tinygan.manual_seed(5)
        seeded_after = tinygan.randn(4).numpy()
        np.testing.assert_array_equal(seeded_first, seeded_after)
    finally:
        tinygan.use(previous)
