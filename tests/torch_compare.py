"""Comparisons with PyTorch in float64, shared by the op tests: outputs and gradients (of the input and of any
parameters, or of every input) for a random output weighting. Skip without torch (never a dependency)."""
import numpy as np
import pytest

import tinygan
import tinygan.functional as F
from tinygan import Tensor, backend


def compare_with_torch(ours, theirs, x, params=(), rtol=1e-12, atol=1e-14, grad_rtol=None, grad_atol=None):
    """ours(a) and theirs(b) on the same float64 input x agree, and so do a's and b's gradients and those of each
    (tinygan, torch) parameter pair in `params`, after backward with the same weighting u."""
    torch = pytest.importorskip("torch")
    grad_rtol, grad_atol = rtol if grad_rtol is None else grad_rtol, atol if grad_atol is None else grad_atol
    a = Tensor(backend.xp().asarray(np.asarray(x, dtype=np.float64)), requires_grad=True)
    b = torch.tensor(x, requires_grad=True)
    ya, yb = ours(a), theirs(b)
    u = np.random.default_rng(1).standard_normal(tuple(yb.shape))
    ya.backward(Tensor(backend.xp().asarray(u)))
    yb.backward(torch.tensor(u))
    np.testing.assert_allclose(backend.to_numpy(ya.array), yb.detach().numpy(), rtol=rtol, atol=atol)
    np.testing.assert_allclose(backend.to_numpy(a.grad.array), b.grad.numpy(), rtol=grad_rtol, atol=grad_atol)
    for pa, pb in params:
        np.testing.assert_allclose(backend.to_numpy(pa.grad.array), pb.grad.numpy(), rtol=grad_rtol, atol=grad_atol)


def outputs_and_gradients(call, values, module, functional):
    """call(module, functional, leaves) on float64 leaves made from `values` (a dict of arrays): its output and the
    gradient of every leaf for one fixed random weighting of the output, as NumPy arrays."""
    leaves = {k: module.tensor(v, dtype=module.float64, requires_grad=True) for k, v in values.items()}
    out = call(module, functional, leaves)
    weights = np.random.default_rng(1).standard_normal(tuple(out.shape))
    (out * module.tensor(weights, dtype=module.float64)).sum().backward()
    grads = [np.zeros(v.shape) if leaves[k].grad is None else np.asarray(leaves[k].grad.detach().numpy())
             for k, v in values.items()]
    return [np.asarray(out.detach().numpy())] + grads


def assert_outputs_and_gradients_equal_pytorchs(call, values):
    """outputs_and_gradients of call in tinygan and in PyTorch are equal."""
    torch = pytest.importorskip("torch")
    ours = outputs_and_gradients(call, values, tinygan, F)
    theirs = outputs_and_gradients(call, values, torch, torch.nn.functional)
    for i, (mine, expected) in enumerate(zip(ours, theirs)):
        np.testing.assert_allclose(mine, expected, rtol=1e-12, atol=1e-12, err_msg=f"result {i} (0: the output)")
