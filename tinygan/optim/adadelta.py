"""Adadelta with PyTorch's update rule."""
from .optimizer import Optimizer, _with_weight_decay, _xp

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    """Adadelta (Zeiler, 2012, "ADADELTA: An Adaptive Learning Rate Method", Algorithm 1), as PyTorch.

    For gradient g, with decay rho, weight decay lambda:

        g  = grad + lambda p
        v  = rho v + (1 - rho) g^2                          running mean of g^2
        dx = sqrt(u + eps) / sqrt(v + eps) g                the step, in the units of the weights
        u  = rho u + (1 - rho) dx^2                         running mean of the squared steps
        p  = p - lr dx

    Zeiler's rule has no learning rate (lr = 1.0, PyTorch's default, is his). eps sits inside both
    square roots: it also sets the size of the first steps, when u is still 0.
    """

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0):
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay))

    def _check_hyperparameters(self, group):
        for key in ("lr", "eps", "weight_decay"):
            if group[key] < 0:
                raise ValueError(f"Adadelta: {key} must be >= 0, got {group[key]}")
        if not 0 <= group["rho"] <= 1:
            raise ValueError(f"Adadelta: rho must be in [0, 1], got {group['rho']}")

    def _update(self, p, g, state, group):
        xp = _xp(p.array)
        lr, rho, eps = float(group["lr"]), float(group["rho"]), float(group["eps"])
        if not state:
            state["step"] = 0
            state["square_avg"] = xp.zeros_like(p.array)
            state["acc_delta"] = xp.zeros_like(p.array)
        state["step"] += 1
        g = _with_weight_decay(p, g, float(group["weight_decay"]))
        v, u = state["square_avg"], state["acc_delta"]
        v *= rho                                                                      # [formula: adadelta]
        v += (1 - rho) * (g * g)
        delta = xp.sqrt(u + eps) / xp.sqrt(v + eps) * g
        u *= rho
        u += (1 - rho) * (delta * delta)
        p.array -= lr * delta
