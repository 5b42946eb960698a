"""RMSprop with PyTorch's update rule, centred and with momentum."""
from .optimizer import Optimizer, _with_weight_decay, _xp

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    """RMSprop (Hinton, Coursera lecture 6e, 2012), as PyTorch.

    For gradient g, with smoothing alpha, weight decay lambda, momentum mu:

        g = grad + lambda p
        v = alpha v + (1 - alpha) g^2                  running mean of g^2
        (centered: a = alpha a + (1 - alpha) g,  v~ = v - a^2;  otherwise v~ = v)
        mu = 0:   p = p - lr g / (sqrt(v~) + eps)
        mu > 0:   b = mu b + g / (sqrt(v~) + eps),   p = p - lr b

    eps is added after the square root, as in PyTorch.
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False):
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                                      centered=centered))

    def _check_hyperparameters(self, group):
        for key in ("lr", "alpha", "eps", "weight_decay", "momentum"):
            if group[key] < 0:
                raise ValueError(f"RMSprop: {key} must be >= 0, got {group[key]}")

    def _update(self, p, g, state, group):
        xp = _xp(p.array)
        lr, alpha, eps, mu = (float(group[k]) for k in ("lr", "alpha", "eps", "momentum"))
        if not state:
            state["step"] = 0
            state["square_avg"] = xp.zeros_like(p.array)
            if mu > 0:
                state["momentum_buffer"] = xp.zeros_like(p.array)
            if group["centered"]:
                state["grad_avg"] = xp.zeros_like(p.array)
        state["step"] += 1
        g = _with_weight_decay(p, g, float(group["weight_decay"]))
        v = state["square_avg"]
        v *= alpha                                                   # [formula: rmsprop]
        v += (1 - alpha) * (g * g)
        if group["centered"]:
            a = state["grad_avg"]
            a *= alpha
            a += (1 - alpha) * g
            denom = xp.sqrt(v - a * a)
        else:
            denom = xp.sqrt(v)
        denom += eps
        if mu > 0:
            b = state["momentum_buffer"]
            b *= mu
            b += g / denom
            p.array -= lr * b
        else:
            p.array -= lr * (g / denom)
