"""Adagrad with PyTorch's update rule, learning-rate decay and initial accumulator value."""
from .optimizer import Optimizer, _with_weight_decay, _xp

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    """Adagrad (Duchi, Hazan & Singer, 2011, "Adaptive Subgradient Methods"), as PyTorch.

    For gradient g at step t (t = 1, 2, ...), with weight decay lambda and learning-rate decay delta:

        g    = grad + lambda p
        lr_t = lr / (1 + (t - 1) delta)
        s    = s + g^2                          sum of every squared gradient so far (s starts at
                                                initial_accumulator_value)
        p    = p - lr_t g / (sqrt(s) + eps)

    The sum only grows, so each weight's step size only shrinks: weights with large past gradients
    move less. eps is added after the square root, as in PyTorch.
    """

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10):
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value, eps=eps))

    def _check_hyperparameters(self, group):
        for key in ("lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps"):
            if group[key] < 0:
                raise ValueError(f"Adagrad: {key} must be >= 0, got {group[key]}")

    def _update(self, p, g, state, group):
        xp = _xp(p.array)
        lr, lr_decay, eps = float(group["lr"]), float(group["lr_decay"]), float(group["eps"])
        if not state:
            state["step"] = 0
            state["sum"] = xp.full_like(p.array, float(group["initial_accumulator_value"]))
        state["step"] += 1
        g = _with_weight_decay(p, g, float(group["weight_decay"]))
        clr = lr / (1 + (state["step"] - 1) * lr_decay)                              # [formula: adagrad]
        s = state["sum"]
        s += g * g
        p.array -= clr * (g / (xp.sqrt(s) + eps))
