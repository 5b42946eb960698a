"""Gradient clipping, in place on `p.grad`, as torch.nn.utils.clip_grad_norm_ and clip_grad_value_."""
import math

from ... import backend
from ...autograd import Tensor


def _with_gradients(parameters, op):
    """The Tensors among `parameters` (one Tensor or an iterable) whose .grad is set."""
    parameters = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    for i, p in enumerate(parameters):
        if not isinstance(p, Tensor):
            raise TypeError(f"{op}: parameter {i} is a {type(p).__name__}, not a Tensor")
    return [p for p in parameters if p.grad is not None]


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Scale all gradients together so that their total norm is at most max_norm; returns the norm before.

        total = (sum over parameters of ||g_p||^q)^(1/q)   (q = norm_type; q = inf: the largest |g|)
        g_p  <- g_p * min(1, max_norm / (total + 1e-6))
    """
    params = _with_gradients(parameters, "clip_grad_norm_")
    q = float(norm_type)
    if not params:
        return Tensor(backend.xp().asarray(0.0, dtype=backend.get_default_dtype()))
    grads = [p.grad.array for p in params]
    xp = backend.get_array_module(grads[0])
    if math.isinf(q):
        total = xp.max(xp.stack([xp.abs(g).max() for g in grads]))
    elif q == 2:        # sum of g^2 as one dot product per gradient: one read, where |g|^q, then the sum, take three
        total = xp.sqrt(xp.sum(xp.stack([xp.vdot(g, g) for g in grads])))
    else:
        total = xp.sum(xp.stack([xp.sum(xp.abs(g) ** q) for g in grads])) ** (1.0 / q)
    if error_if_nonfinite and not bool(xp.isfinite(total)):
        raise RuntimeError(f"clip_grad_norm_: the total norm of order {norm_type} of the gradients is "
                           f"{float(total)}, so they cannot be clipped; set error_if_nonfinite=False to go on")
    scale = min(1.0, float(max_norm) / (float(total) + 1e-6))           # [formula: clip-grad-norm]
    if scale < 1.0:                             # times 1.0 would change nothing
        for p in params:
            p.grad.array = p.grad.array * scale     # the same .grad Tensor, as PyTorch's in-place mul_
    return Tensor(total)


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient element into [-clip_value, clip_value]."""
    clip_value = float(clip_value)
    for p in _with_gradients(parameters, "clip_grad_value_"):
        p.grad.array = backend.get_array_module(p.grad.array).clip(p.grad.array, -clip_value, clip_value)
