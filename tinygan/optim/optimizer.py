"""Optimizers with PyTorch's update rules (the algorithm boxes of the torch.optim docs), step for step.

    opt = optim.Adam(model.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt.zero_grad(); loss.backward(); opt.step()

Every update works in place on each parameter's array (`p.data`), with array
operations only: no graph is recorded and the parameter keeps its array and its
dtype. Scalars such as 1 - beta1^t are Python floats on purpose: a NumPy
float64 scalar would turn a float32 parameter into float64. Parameters whose
`.grad` is None are skipped (their state does not advance, as in PyTorch).

Parameters can be passed as an iterable of Parameters, or as a list of dicts
("parameter groups") each with "params" and its own hyper-parameters:
`optim.SGD([{"params": G.parameters()}, {"params": D.parameters(), "lr": 1e-3}], lr=1e-2)`.
`optimizer.param_groups[i]["lr"] = ...` changes a learning rate during training.

`state_dict()` returns plain data (numbers, tuples, arrays), PyTorch's layout:
    {"state": {index: {"step": t, "exp_avg": m, ...}}, "param_groups": [{"lr": ..., "params": [indices]}]}
where `index` numbers the parameters in the order they were given. Loading it
into a fresh optimizer over the same parameters continues bit-identically.
"""
import copy
import sys

from . import backend
from .autograd import Tensor, array_of, enable_grad
from . import kernels
from .kernels import optim as fast_optim

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "lr_scheduler"]


def _xp(array):
    return backend.get_array_module(array)


class Optimizer:
    """The base class: parameter groups, `zero_grad`, `step`, `state_dict`, `load_state_dict`.

    Subclasses set `defaults` (their hyper-parameters) and write `_update(p, g, state, group)`
    for one parameter `p` (a Tensor) with gradient array `g`.
    """

    def __init__(self, params, defaults):
        name = type(self).__name__
        self.defaults = dict(defaults)
        if isinstance(params, Tensor):
            raise TypeError(f"{name}: params must be an iterable of Parameters (e.g. model.parameters()), "
                            "got a single Tensor; wrap it in a list")
        if hasattr(params, "parameters") and hasattr(params, "named_parameters"):
            raise TypeError(f"{name}: got a Module; pass its parameters: {name}(model.parameters(), ...)")
        params = list(params)
        if not params:
            raise ValueError(f"{name}: got an empty parameter list")
        groups = params if isinstance(params[0], dict) else [{"params": params}]
        self.param_groups = []
        self.state = {}  # id(parameter) -> dict of its state
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, group):
        """Add a dict with "params" and (optionally) its own hyper-parameters, the rest from `defaults`."""
        name = type(self).__name__
        if not isinstance(group, dict) or "params" not in group:
            raise TypeError(f"{name}: a parameter group must be a dict with a 'params' entry, got {group!r}")
        params = group["params"]
        params = [params] if isinstance(params, Tensor) else list(params)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        for i, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise TypeError(f"{name}: can only optimize Tensors, but parameter {i} is a {type(p).__name__}")
            if not p.is_leaf:
                raise ValueError(f"{name}: parameter {i} (shape {p.shape}) is the result of an operation, not a "
                                 "leaf Tensor; optimize the Parameters it was computed from")
            if p.dtype.kind != "f":
                raise TypeError(f"{name}: parameter {i} has dtype {p.dtype}; only floating-point tensors train")
            if id(p) in seen:
                raise ValueError(f"{name}: parameter {i} (shape {p.shape}) appears more than once")
            seen.add(id(p))
        unknown = set(group) - set(self.defaults) - {"params"}
        if unknown:
            raise TypeError(f"{name}: unknown hyper-parameter(s) {sorted(unknown)}; expected {sorted(self.defaults)}")
        full = dict(self.defaults)
        full.update({k: v for k, v in group.items() if k != "params"})
        self._check_hyperparameters(full)
        full["params"] = params
        self.param_groups.append(full)

    def _check_hyperparameters(self, group):
        """Raise a ValueError naming a hyper-parameter out of range (overridden by each optimizer)."""

    def _params(self):
        return [p for group in self.param_groups for p in group["params"]]

    def zero_grad(self, set_to_none=True):
        """Forget every parameter's gradient (`p.grad = None`, PyTorch's default) or set it to zeros."""
        for p in self._params():
            if set_to_none or p.grad is None:
                p.grad = None
            else:
                p.grad.data = _xp(p.grad.data).zeros_like(p.grad.data)

    def step(self, closure=None):
        """Update every parameter that has a gradient, once.

        `closure`, if given, is called first (with gradients enabled) and its result
        returned, as in PyTorch: it should zero the gradients, compute the loss,
        call backward and return the loss.
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = array_of(p.grad) if isinstance(p.grad, Tensor) else p.grad
                if g.shape != p.data.shape:
                    raise ValueError(f"{type(self).__name__}.step: a gradient of shape {g.shape} for a parameter "
                                     f"of shape {p.data.shape}")
                self._update(p, g, self.state.setdefault(id(p), {}), group)
        return loss

    def _update(self, p, g, state, group):
        raise NotImplementedError

    # -- saving and resuming -----------------------------------------------
    def state_dict(self):
        """Plain data: {"state": {index: {name: array or number}}, "param_groups": [{hyper-parameters, "params": [index]}]}.

        Arrays are copies (later steps do not change a saved state) on the parameters' device.
        """
        index_of = {id(p): i for i, p in enumerate(self._params())}
        groups = []
        for group in self.param_groups:
            saved = {k: copy.deepcopy(v) for k, v in group.items() if k != "params"}
            saved["params"] = [index_of[id(p)] for p in group["params"]]
            groups.append(saved)
        state = {}
        for p in self._params():
            if self.state.get(id(p)):
                state[index_of[id(p)]] = {k: (v.copy() if hasattr(v, "copy") and hasattr(v, "shape") else v)
                                          for k, v in self.state[id(p)].items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restore hyper-parameters and per-parameter state saved by `state_dict()`.

        The optimizer must hold the same number of groups and parameters, of the
        same shapes, in the same order; every mismatch is named in one error.
        Arrays are copied to each parameter's device and dtype.
        """
        name = type(self).__name__
        if not isinstance(state_dict, dict) or "state" not in state_dict or "param_groups" not in state_dict:
            raise TypeError(f"{name}.load_state_dict: expected a dict with 'state' and 'param_groups', "
                            f"as returned by state_dict()")
        saved_groups = state_dict["param_groups"]
        problems = []
        if len(saved_groups) != len(self.param_groups):
            problems.append(f"the state has {len(saved_groups)} parameter group(s), this optimizer has "
                            f"{len(self.param_groups)}")
        else:
            for i, (saved, group) in enumerate(zip(saved_groups, self.param_groups)):
                if len(saved["params"]) != len(group["params"]):
                    problems.append(f"group {i}: the state has {len(saved['params'])} parameters, this optimizer "
                                    f"has {len(group['params'])}")
        saved_state = {int(k): v for k, v in state_dict["state"].items()}
        if not problems:
            index_to_param = {}
            for saved, group in zip(saved_groups, self.param_groups):
                for index, p in zip(saved["params"], group["params"]):
                    index_to_param[int(index)] = p
            for index, entries in sorted(saved_state.items()):
                p = index_to_param.get(index)
                if p is None:
                    problems.append(f"the state names parameter {index}, which no group holds")
                    continue
                for key, value in entries.items():
                    if key != "step" and hasattr(value, "shape") and tuple(value.shape) != tuple(p.shape):
                        problems.append(f"parameter {index} (shape {tuple(p.shape)}): state {key!r} has shape "
                                        f"{tuple(value.shape)}")
        if problems:
            raise ValueError(f"{name}.load_state_dict: the state does not fit this optimizer (nothing was loaded):"
                             "\n  " + "\n  ".join(problems))
        for saved, group in zip(saved_groups, self.param_groups):
            for key, value in saved.items():
                if key != "params":
                    group[key] = tuple(value) if isinstance(value, list) else copy.deepcopy(value)
        self.state = {}
        for index, entries in saved_state.items():
            p = index_to_param[index]
            restored = {}
            for key, value in entries.items():
                if key == "step":
                    value = int(value)  # also from a 0-d array read back from a file
                elif hasattr(value, "shape") and hasattr(value, "dtype"):
                    value = backend.to_device(value, backend.device_of(p.data))
                    value = value.astype(p.data.dtype, copy=True)
                else:
                    value = copy.deepcopy(value)
                restored[key] = value
            self.state[id(p)] = restored


def _with_weight_decay(p, g, weight_decay):
    """g + weight_decay * p (L2 penalty), as a new array: p.grad itself is never changed."""
    return g + weight_decay * p.data if weight_decay != 0 else g


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
        p.data -= lr * g                                             # [formula: sgd-update]


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
        xp = _xp(p.data)
        lr, eps = float(group["lr"]), float(group["eps"])
        beta1, beta2 = (float(b) for b in group["betas"])
        if not state:
            state["step"] = 0
            state["exp_avg"] = xp.zeros_like(p.data)
            state["exp_avg_sq"] = xp.zeros_like(p.data)
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = xp.zeros_like(p.data)
        state["step"] += 1
        t = state["step"]
        if kernels.fast() and not group["amsgrad"]:
            fast_optim.adam_update(array_of(p), g, state["exp_avg"], state["exp_avg_sq"], beta1, beta2, lr, eps, t)
            return
        m = state["exp_avg"] = beta1 * state["exp_avg"] + (1 - beta1) * g            # [formula: adam-moments]
        v = state["exp_avg_sq"] = beta2 * state["exp_avg_sq"] + (1 - beta2) * g * g
        if group["amsgrad"]:
            v = state["max_exp_avg_sq"] = xp.maximum(state["max_exp_avg_sq"], v)      # [formula: amsgrad]
        m_hat = m / (1 - beta1 ** t)                                                   # [formula: adam-bias-correction]
        v_hat = v / (1 - beta2 ** t)
        p.data -= lr * m_hat / (xp.sqrt(v_hat) + eps)                                  # [formula: adam-update]


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
        p.data *= 1 - float(group["lr"]) * float(group["weight_decay"])                # [formula: adamw-decoupled-decay]
        self._adam_step(p, g, state, group)


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
        xp = _xp(p.data)
        lr, alpha, eps, mu = (float(group[k]) for k in ("lr", "alpha", "eps", "momentum"))
        if not state:
            state["step"] = 0
            state["square_avg"] = xp.zeros_like(p.data)
            if mu > 0:
                state["momentum_buffer"] = xp.zeros_like(p.data)
            if group["centered"]:
                state["grad_avg"] = xp.zeros_like(p.data)
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
            p.data -= lr * b
        else:
            p.data -= lr * (g / denom)


# The schedules live in their own file; as `os.path`, this module registers it under the name PyTorch
# users write, so both `optim.lr_scheduler.StepLR` and `from tinygan.optim.lr_scheduler import StepLR` work.
from . import optim_lr_scheduler as lr_scheduler  # noqa: E402
sys.modules[__name__ + ".lr_scheduler"] = lr_scheduler
