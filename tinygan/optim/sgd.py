"""SGD: stochastic gradient descent with PyTorch's update rule, momentum and Nesterov's variant."""
from .optimizer import Optimizer, _with_weight_decay

__all__ = ["SGD"]


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with momentum (Polyak 1964; Sutskever et al. 2013 for Nesterov).

    PyTorch's rule, for learning rate lr, momentum mu, dampening tau, weight decay lambda:

        g = grad + lambda p
        b = g                          at the first step
        b = mu b + (1 - tau) g         afterwards
        g = g + mu b   (nesterov)  or  g = b   (otherwise)
        p = p - lr g

    Note that this puts lr outside the buffer (Sutskever's form has it inside);
    the two agree while lr is constant.
    """

    def __init__(self, params, lr, momentum=0, dampening=0, weight_decay=0, nesterov=False):
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov))

    def _check_hyperparameters(self, group):
        if group["lr"] < 0:
            raise ValueError(f"SGD: lr must be >= 0, got {group['lr']}")
        if group["momentum"] < 0:
            raise ValueError(f"SGD: momentum must be >= 0, got {group['momentum']}")
        if group["weight_decay"] < 0:
            raise ValueError(f"SGD: weight_decay must be >= 0, got {group['weight_decay']}")
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError("SGD: nesterov=True needs momentum > 0 and dampening = 0")

    def _update(self, p, g, state, group):
        lr, mu = float(group["lr"]), float(group["momentum"])
        g = _with_weight_decay(p, g, float(group["weight_decay"]))
        if mu != 0:
            if "momentum_buffer" not in state:
                b = state["momentum_buffer"] = g.copy()
            else:
                b = state["momentum_buffer"]
                b *= mu                                              # [formula: sgd-momentum]
                b += (1 - float(group["dampening"])) * g
            g = g + mu * b if group["nesterov"] else b
        p.array -= lr * g                                             # [formula: sgd-update]
