"""The base class of every optimizer, `Optimizer`, and the helpers the algorithms share.

Every update works in place on each parameter's array (`p.array`), with array
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

from .. import backend
from ..autograd import Tensor, count_in_place_change, enable_grad

__all__ = ["Optimizer"]


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

    def __repr__(self):
        """PyTorch's listing: each group's hyper-parameters, by name."""
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {key}: {group[key]}" for key in sorted(group) if key != "params"]
        return "\n".join(lines + [")"])

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
                p.grad.array = _xp(p.grad.array).zeros_like(p.grad.array)

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
                g = p.grad.array if isinstance(p.grad, Tensor) else p.grad
                if g.shape != p.array.shape:
                    raise ValueError(f"{type(self).__name__}.step: a gradient of shape {g.shape} for a parameter "
                                     f"of shape {p.array.shape}")
                self._update(p, g, self.state.setdefault(id(p), {}), group)
                count_in_place_change(p)   # so a backward that would read p as it was before the step is refused
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
                    value = backend.to_device(value, backend.device_of(p.array))
                    value = value.astype(p.array.dtype, copy=True)
                else:
                    value = copy.deepcopy(value)
                restored[key] = value
            self.state[id(p)] = restored


def _with_weight_decay(p, g, weight_decay):
    """g + weight_decay * p (L2 penalty), as a new array: p.grad itself is never changed."""
    return g + weight_decay * p.array if weight_decay != 0 else g
