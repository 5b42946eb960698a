"""Adam, AMSGrad and AdamW with PyTorch's update rules; the fast path calls tinygan/kernels/optim.py."""
from .. import kernels
from .optimizer import Optimizer, _with_weight_decay, _xp

__all__ = ["Adam", "AdamW"]


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015, "Adam: A Method for Stochastic Optimization", Algorithm 1), as PyTorch.

    For gradient g at step t (t = 1, 2, ...), with weight decay lambda (an L2 term, not AdamW):

        g     = grad + lambda p
        m     = beta1 m + (1 - beta1) g            first moment (mean of g)
        v     = beta2 v + (1 - beta2) g^2          second moment (uncentred variance of g)
        m_hat = m / (1 - beta1^t)                  bias correction: m and v start at 0
        v_hat = v / (1 - beta2^t)
        p     = p - lr m_hat / (sqrt(v_hat) + eps)

    At t = 1, m_hat = g and v_hat = g^2, so every weight moves by about lr * sign(g).
    amsgrad=True (Reddi et al., 2018, "On the Convergence of Adam and Beyond") divides by the largest
    v seen so far instead, v_max = max(v_max, v), so a weight's step size never grows back.
    The fast kernel (tinygan/kernels/optim.py) computes the same step in place, as PyTorch does
    (AMSGrad runs the reference code).
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False):
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      amsgrad=amsgrad))

    def _check_hyperparameters(self, group):
        name = type(self).__name__
        beta1, beta2 = group["betas"]
        if group["lr"] < 0:
            raise ValueError(f"{name}: lr must be >= 0, got {group['lr']}")
        if not (0 <= beta1 < 1 and 0 <= beta2 < 1):
            raise ValueError(f"{name}: betas must each be in [0, 1), got {group['betas']}")
        if group["eps"] < 0:
            raise ValueError(f"{name}: eps must be >= 0, got {group['eps']}")
        if group["weight_decay"] < 0:
            raise ValueError(f"{name}: weight_decay must be >= 0, got {group['weight_decay']}")

    def _update(self, p, g, state, group):
        self._adam_step(p, _with_weight_decay(p, g, float(group["weight_decay"])), state, group)

    def _adam_step(self, p, g, state, group):
        """One Adam (or AMSGrad) step of p with gradient g (weight decay already applied)."""
        xp = _xp(p.array)
        lr, eps = float(group["lr"]), float(group["eps"])
        beta1, beta2 = (float(b) for b in group["betas"])
        if not state:
            state["step"] = 0
            state["exp_avg"] = xp.zeros_like(p.array)
            state["exp_avg_sq"] = xp.zeros_like(p.array)
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = xp.zeros_like(p.array)
        state["step"] += 1
        t = state["step"]
        adam_update = kernels.twin("adam_update", None)   # the fast kernel, or None: the textbook lines below
        if adam_update is not None and not group["amsgrad"]:
            adam_update(p.array, g, state["exp_avg"], state["exp_avg_sq"], beta1, beta2, lr, eps, t)
            return
        m = state["exp_avg"] = beta1 * state["exp_avg"] + (1 - beta1) * g            # [formula: adam-moments]
        v = state["exp_avg_sq"] = beta2 * state["exp_avg_sq"] + (1 - beta2) * g * g
        if group["amsgrad"]:
            v = state["max_exp_avg_sq"] = xp.maximum(state["max_exp_avg_sq"], v)      # [formula: amsgrad]
        m_hat = m / (1 - beta1 ** t)                                                   # [formula: adam-bias-correction]
        v_hat = v / (1 - beta2 ** t)
        p.array -= lr * m_hat / (xp.sqrt(v_hat) + eps)                                  # [formula: adam-update]


class AdamW(Adam):
    """AdamW (Loshchilov & Hutter, 2019, "Decoupled Weight Decay Regularization", Algorithm 2), as PyTorch.

    Adam, with the weight decay taken out of the gradient and applied to the weights directly:

        p = p - lr lambda p          (decoupled decay: it does not pass through m and v)
        then Adam's step with g = grad

    With an L2 term (Adam's weight_decay) the decay is divided by sqrt(v_hat) like the gradient, so
    weights with large gradients decay less; here every weight decays at the same rate.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad)

    def _update(self, p, g, state, group):
        p.array *= 1 - float(group["lr"]) * float(group["weight_decay"])                # [formula: adamw-decoupled-decay]
        self._adam_step(p, g, state, group)
