"""One comparison with PyTorch in float64, shared by the op tests: outputs and gradients (of the input and of any
parameters) for a random output weighting. Skips without torch (never a dependency)."""
import numpy as np
import pytest

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
