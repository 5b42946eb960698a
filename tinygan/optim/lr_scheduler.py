"""Learning-rate schedules with PyTorch's names and arguments, as torch.optim.lr_scheduler.

    scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=10, gamma=0.5)
    for epoch in range(epochs):
        train_one_epoch(...)        # optimizer.step() inside
        scheduler.step()            # then the learning rate of the next epoch

A scheduler counts epochs in `last_epoch` (0 after construction, +1 per `step()`) and sets every
parameter group's "lr" to the schedule's value at that epoch, computed from the group's starting
rate (`base_lrs`, also kept in the group as "initial_lr", as PyTorch does).

Each schedule is written in closed form, lr(epoch) = f(base_lr, epoch): the formula a learner reads
is the one that runs. PyTorch's StepLR, MultiStepLR, ExponentialLR, CosineAnnealingLR, ConstantLR,
LinearLR, PolynomialLR and CosineAnnealingWarmRestarts update the group's current "lr" (or the count of
epochs since the last restart) recursively instead; the numbers agree (to rounding) unless the group's
"lr" is changed by hand between steps, which these schedules overwrite, and two schedulers cannot be
chained on one optimizer. OneCycleLR, stepped once per batch, also sets each group's momentum (or
Adam's beta1).

ReduceLROnPlateau is the one schedule that is not a function of the epoch: it lowers the rates when a
measured quantity (a validation loss) stops improving, so it keeps the rates it set and the count of epochs
without improvement.

`state_dict()` is plain data (numbers and lists, no optimizer, no functions); loading it into a new
scheduler over the same optimizer continues the schedule exactly. tinygan's training runs
(tinygan/train/) use no scheduler, so their checkpoints hold none.
"""
import bisect
import copy
import math

__all__ = ["LRScheduler", "StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR", "LambdaLR",
           "ReduceLROnPlateau", "ConstantLR", "LinearLR", "PolynomialLR", "CosineAnnealingWarmRestarts", "OneCycleLR"]


class _Scheduler:
    """What every scheduler shares: the optimizer whose rates it sets, the rates it set last, and its state as
    plain data (state_dict / load_state_dict)."""

    def __init__(self, optimizer):
        if not hasattr(optimizer, "param_groups"):
            raise TypeError(f"{type(self).__name__}: expected an optimizer (with param_groups), got "
                            f"{type(optimizer).__name__}")
        self.optimizer = optimizer

    def get_last_lr(self):
        """The rates the last step() set, one per parameter group."""
        return list(self._last_lr)

    def _state_keys(self):
        return [key for key in self.__dict__ if key != "optimizer"]

    def state_dict(self):
        """Everything but the optimizer, as plain data (copies)."""
        return {key: copy.deepcopy(self.__dict__[key]) for key in self._state_keys()}

    def load_state_dict(self, state_dict):
        """Restore a state saved by state_dict(); the groups' rates follow at the next step()."""
        unknown = set(state_dict) - set(self._state_keys())
        if unknown:
            raise KeyError(f"{type(self).__name__}.load_state_dict: unknown keys {sorted(unknown)}; "
                           f"expected {sorted(self._state_keys())}")
        self.__dict__.update(copy.deepcopy(dict(state_dict)))


class LRScheduler(_Scheduler):
    """The base class of the schedules in closed form: epoch counting and setting the groups' rates.

    Subclasses write `lr_at(base_lr, epoch, group_index)`, the schedule's rate at an epoch.
    """

    def __init__(self, optimizer, last_epoch=-1):
        super().__init__(optimizer)
        name = type(self).__name__
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])    # kept when an optimizer's state_dict brought it
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(f"{name}: resuming at last_epoch={last_epoch}, but param_groups[{i}] has no "
                                   "'initial_lr'; load the scheduler's state_dict instead")
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._step_count = 0
        self.step()

    def lr_at(self, base_lr, epoch, group_index):
        raise NotImplementedError

    def get_lr(self):
        """The rate of every group at the current epoch."""
        return [self.lr_at(base_lr, self.last_epoch, i) for i, base_lr in enumerate(self.base_lrs)]

    def step(self, epoch=None):
        """Move to the next epoch (or to `epoch`) and set every group's "lr" to the schedule's rate there."""
        self._step_count += 1
        self.last_epoch = self.last_epoch + 1 if epoch is None else int(epoch)
        for group, lr in zip(self.optimizer.param_groups, self.get_lr()):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]


class StepLR(LRScheduler):
    """lr = base_lr * gamma^floor(epoch / step_size): divide the rate by 1/gamma every step_size epochs."""

    def __init__(self, optimizer, step_size, gamma=0.1, last_epoch=-1):
        if not (isinstance(step_size, int) and step_size >= 1):
            raise ValueError(f"StepLR: step_size must be a positive int, got {step_size!r}")
        self.step_size, self.gamma = step_size, gamma
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr, epoch, group_index):
        return base_lr * self.gamma ** (epoch // self.step_size)


class MultiStepLR(LRScheduler):
    """lr = base_lr * gamma^(number of milestones <= epoch): multiply by gamma at each milestone epoch."""

    def __init__(self, optimizer, milestones, gamma=0.1, last_epoch=-1):
        self.milestones, self.gamma = sorted(int(m) for m in milestones), gamma
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr, epoch, group_index):
        return base_lr * self.gamma ** bisect.bisect_right(self.milestones, epoch)


class ExponentialLR(LRScheduler):
    """lr = base_lr * gamma^epoch."""

    def __init__(self, optimizer, gamma, last_epoch=-1):
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr, epoch, group_index):
        return base_lr * self.gamma ** epoch


class CosineAnnealingLR(LRScheduler):
    """Cosine annealing (Loshchilov & Hutter, 2017, "SGDR", equation 5, without restarts):

        lr = eta_min + (base_lr - eta_min) (1 + cos(pi epoch / T_max)) / 2

    from base_lr at epoch 0 down to eta_min at epoch T_max (and back up after it, as in PyTorch).
    """

    def __init__(self, optimizer, T_max, eta_min=0.0, last_epoch=-1):
        if not T_max > 0:
            raise ValueError(f"CosineAnnealingLR: T_max must be > 0, got {T_max!r}")
        self.T_max, self.eta_min = T_max, eta_min
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr, epoch, group_index):
        return self.eta_min + (base_lr - self.eta_min) * (1 + math.cos(math.pi * epoch / self.T_max)) / 2  # [formula: cosine-annealing]


class LambdaLR(LRScheduler):
    """lr = base_lr * lr_lambda(epoch), with one function for all groups or one per group.

    The functions are not part of state_dict(): a resumed scheduler uses those it was built with.
    """

    def __init__(self, optimizer, lr_lambda, last_epoch=-1):
        groups = len(optimizer.param_groups)
        lambdas = list(lr_lambda) if isinstance(lr_lambda, (list, tuple)) else [lr_lambda] * groups
        if len(lambdas) != groups:
            raise ValueError(f"LambdaLR: expected {groups} lr_lambdas (one per parameter group), got {len(lambdas)}")
        if not all(callable(f) for f in lambdas):
            raise TypeError("LambdaLR: lr_lambda must be a function of the epoch, or a list of them")
        self.lr_lambdas = lambdas
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr, epoch, group_index):
        return base_lr * self.lr_lambdas[group_index](epoch)

    def _state_keys(self):
        return [key for key in super()._state_keys() if key != "lr_lambdas"]


class ReduceLROnPlateau(_Scheduler):
    """Multiply every group's rate by `factor` when `step(metric)` has seen no improvement for more than
    `patience` epochs, as torch.optim.lr_scheduler.ReduceLROnPlateau.

    mode           -- 'min' (a loss: lower is better) or 'max' (an accuracy)
    threshold      -- how much better counts: with threshold_mode 'rel', below best (1 - threshold) in 'min'
                      mode (above best (1 + threshold) in 'max'); with 'abs', below best - threshold (above
                      best + threshold)
    cooldown       -- epochs after a reduction during which no epoch counts as bad
    min_lr         -- a floor under each group's rate (a number, or one per group)
    eps            -- a reduction smaller than this is not made
    """

    def __init__(self, optimizer, mode="min", factor=0.1, patience=10, threshold=1e-4, threshold_mode="rel",
                 cooldown=0, min_lr=0, eps=1e-8):
        super().__init__(optimizer)
        if factor >= 1.0:
            raise ValueError(f"ReduceLROnPlateau: factor should be < 1.0, got {factor}")
        if mode not in ("min", "max"):
            raise ValueError(f"ReduceLROnPlateau: mode must be 'min' or 'max', got {mode!r}")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"ReduceLROnPlateau: threshold_mode must be 'rel' or 'abs', got {threshold_mode!r}")
        groups = len(optimizer.param_groups)
        min_lrs = list(min_lr) if isinstance(min_lr, (list, tuple)) else [min_lr] * groups
        if len(min_lrs) != groups:
            raise ValueError(f"ReduceLROnPlateau: expected {groups} min_lrs (one per parameter group), got "
                             f"{len(min_lrs)}")
        self.mode, self.factor, self.patience, self.threshold = mode, factor, patience, threshold
        self.threshold_mode, self.cooldown, self.min_lrs, self.eps = threshold_mode, cooldown, min_lrs, eps
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs, self.cooldown_counter, self.last_epoch = 0, 0, 0
        self._last_lr = [group["lr"] for group in optimizer.param_groups]

    def is_better(self, current, best):
        """Whether `current` improves on `best` by more than the threshold (see the class docstring)."""
        if self.mode == "min":
            return current < (best * (1 - self.threshold) if self.threshold_mode == "rel" else best - self.threshold)
        return current > (best * (1 + self.threshold) if self.threshold_mode == "rel" else best + self.threshold)

    def step(self, metrics):
        """Record one epoch's measurement; lower the rates after more than `patience` epochs without improvement."""
        current = float(metrics)
        self.last_epoch += 1
        if self.is_better(current, self.best):
            self.best, self.num_bad_epochs = current, 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            self._reduce_lr()
            self.cooldown_counter, self.num_bad_epochs = self.cooldown, 0
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def _reduce_lr(self):
        for group, floor in zip(self.optimizer.param_groups, self.min_lrs):
            lowered = max(group["lr"] * self.factor, floor)  # [formula: reduce-lr-on-plateau]
            if group["lr"] - lowered > self.eps:
                group["lr"] = lowered


# -- warm-up and decay over total_iters epochs -----------------------------------------------------------------

def _check_total_iters(name, total_iters):
    if not (isinstance(total_iters, int) and total_iters >= 0):
        raise ValueError(f"{name}: total_iters must be an int >= 0, got {total_iters!r}")


def _progress(epoch, total_iters):
    """min(epoch, total_iters) / total_iters: 0 at epoch 0, 1 from total_iters on. With total_iters = 0 it stays 0,
    so the schedule keeps its starting value for ever, as PyTorch's step() does."""
    return min(epoch, total_iters) / total_iters if total_iters > 0 else 0.0


class ConstantLR(LRScheduler):
    """lr = base_lr * factor for epoch < total_iters, then base_lr: a constant warm-up."""

    def __init__(self, optimizer, factor=1.0 / 3, total_iters=5, last_epoch=-1):
        if not 0 <= factor <= 1:
            raise ValueError(f"ConstantLR: factor must be between 0 and 1, got {factor!r}")
        _check_total_iters("ConstantLR", total_iters)
        self.factor, self.total_iters = factor, total_iters
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr, epoch, group_index):
        return base_lr * (self.factor if _progress(epoch, self.total_iters) < 1 else 1.0)  # [formula: constant-lr]


class LinearLR(LRScheduler):
    """lr = base_lr * (start_factor + (end_factor - start_factor) * min(epoch, total_iters) / total_iters):
    the factor moves in a straight line from start_factor to end_factor over total_iters epochs, then stays."""

    def __init__(self, optimizer, start_factor=1.0 / 3, end_factor=1.0, total_iters=5, last_epoch=-1):
        if not 0 < start_factor <= 1:
            raise ValueError(f"LinearLR: start_factor must be > 0 and <= 1, got {start_factor!r}")
        if not 0 <= end_factor <= 1:
            raise ValueError(f"LinearLR: end_factor must be between 0 and 1, got {end_factor!r}")
        _check_total_iters("LinearLR", total_iters)
        self.start_factor, self.end_factor, self.total_iters = start_factor, end_factor, total_iters
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr, epoch, group_index):
        progress = _progress(epoch, self.total_iters)
        return base_lr * (self.start_factor + (self.end_factor - self.start_factor) * progress)  # [formula: linear-lr]


class PolynomialLR(LRScheduler):
    """lr = base_lr * (1 - min(epoch, total_iters) / total_iters)^power: from base_lr down to 0 at total_iters
    (a straight line for power 1)."""

    def __init__(self, optimizer, total_iters=5, power=1.0, last_epoch=-1):
        _check_total_iters("PolynomialLR", total_iters)
        self.total_iters, self.power = total_iters, power
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr, epoch, group_index):
        return base_lr * (1.0 - _progress(epoch, self.total_iters)) ** self.power  # [formula: polynomial-lr]


# -- cycles -----------------------------------------------------------------------------------------------------

class CosineAnnealingWarmRestarts(LRScheduler):
    """Cosine annealing with warm restarts (Loshchilov & Hutter, 2017, "SGDR", equation 5):

        lr = eta_min + (base_lr - eta_min) (1 + cos(pi T_cur / T_i)) / 2

    T_cur counts the epochs since the last restart; the cycles last T_0, T_0 T_mult, T_0 T_mult^2, ... epochs.
    `step(epoch)` also takes a fractional epoch (epoch + batch / batches_per_epoch, to step once per batch), and
    a later `step()` moves on by one from there; `last_epoch` is the epoch rounded down, as in PyTorch.
    """

    def __init__(self, optimizer, T_0, T_mult=1, eta_min=0.0, last_epoch=-1):
        if not (isinstance(T_0, int) and T_0 >= 1):
            raise ValueError(f"CosineAnnealingWarmRestarts: T_0 must be a positive int, got {T_0!r}")
        if not (isinstance(T_mult, int) and T_mult >= 1):
            raise ValueError(f"CosineAnnealingWarmRestarts: T_mult must be an int >= 1, got {T_mult!r}")
        if not isinstance(eta_min, (int, float)):
            raise ValueError(f"CosineAnnealingWarmRestarts: eta_min must be a float or an int, got {eta_min!r} of "
                             f"type {type(eta_min).__name__}")
        self.T_0, self.T_mult, self.eta_min = T_0, T_mult, eta_min
        self.epoch = last_epoch                # the epoch reached, possibly fractional; step() sets T_cur and T_i
        super().__init__(optimizer, last_epoch)

    def cycle_at(self, epoch):
        """(T_cur, T_i) at `epoch`: the epochs since the last restart, and the length of the cycle it is in."""
        if self.T_mult == 1:
            return epoch % self.T_0, self.T_0
        T_cur, T_i = epoch, self.T_0
        while T_cur >= T_i:
            T_cur, T_i = T_cur - T_i, T_i * self.T_mult
        return T_cur, T_i

    def step(self, epoch=None):
        """Move to the next epoch, or to `epoch` (a number >= 0, fractional or not)."""
        if epoch is not None and not epoch >= 0:
            raise ValueError(f"CosineAnnealingWarmRestarts: epoch must be >= 0, got {epoch!r}")
        self.epoch = self.epoch + 1 if epoch is None else epoch
        self.T_cur, self.T_i = self.cycle_at(self.epoch)
        super().step(math.floor(self.epoch))

    def lr_at(self, base_lr, epoch, group_index):
        """The rate at self.epoch, through T_cur and T_i (`epoch` is it rounded down)."""
        cosine = 1 + math.cos(math.pi * self.T_cur / self.T_i)
        return self.eta_min + (base_lr - self.eta_min) * cosine / 2  # [formula: cosine-warm-restarts]


def _positive_int(scheduler_name, argument_name, value):
    """`value`, checked to be an int >= 1."""
    if not (isinstance(value, int) and value >= 1):
        raise ValueError(f"{scheduler_name}: {argument_name} must be a positive int, got {value!r}")
    return value


def _one_per_group(scheduler_name, argument_name, value, optimizer):
    """`value` for every parameter group: a list or tuple gives one per group, a single number the same for all."""
    groups = len(optimizer.param_groups)
    values = list(value) if isinstance(value, (list, tuple)) else [value] * groups
    if len(values) != groups:
        raise ValueError(f"{scheduler_name}: expected {groups} {argument_name}s (one per parameter group), got "
                         f"{len(values)}")
    return values


class OneCycleLR(LRScheduler):
    """The 1cycle policy (Smith & Topin, 2017, "Super-Convergence"), stepped once per batch for total_steps steps.

    The rate rises from initial_lr = max_lr / div_factor to max_lr over the first pct_start of the steps, then
    falls to min_lr = initial_lr / final_div_factor; with three_phase=True it first comes back down to initial_lr
    as it went up (the paper's schedule). If cycle_momentum, the momentum (SGD, RMSprop) or beta1 (Adam, AdamW)
    moves the other way, between max_momentum and base_momentum. In a phase from step s to step e (the first
    ends at pct_start * total_steps - 1, the last at total_steps - 1), step t is p = (t - s) / (e - s) of the way
    from the phase's start value a to its end value b:

        anneal_strategy 'cos':     value = b + (a - b) (1 + cos(pi p)) / 2
        anneal_strategy 'linear':  value = a + (b - a) p

    initial_lr, max_lr, min_lr, max_momentum and base_momentum are kept in each parameter group, as in PyTorch.
    """

    def __init__(self, optimizer, max_lr, total_steps=None, epochs=None, steps_per_epoch=None, pct_start=0.3,
                 anneal_strategy="cos", cycle_momentum=True, base_momentum=0.85, max_momentum=0.95, div_factor=25.0,
                 final_div_factor=1e4, three_phase=False, last_epoch=-1):
        _Scheduler.__init__(self, optimizer)
        self.total_steps = self._count_steps(total_steps, epochs, steps_per_epoch)
        if not (isinstance(pct_start, float) and 0 <= pct_start <= 1):
            raise ValueError(f"OneCycleLR: pct_start must be a float between 0 and 1, got {pct_start!r}")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"OneCycleLR: anneal_strategy must be 'cos' or 'linear', got {anneal_strategy!r}")
        self.anneal_strategy = anneal_strategy
        self._schedule_phases = self._phases(pct_start, three_phase)
        max_lrs = _one_per_group("OneCycleLR", "max_lr", max_lr, optimizer)
        if last_epoch == -1:
            for group, top in zip(optimizer.param_groups, max_lrs):
                group["lr"] = group["initial_lr"] = top / div_factor
                group["max_lr"], group["min_lr"] = top, top / div_factor / final_div_factor
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            self._start_momentum(optimizer, base_momentum, max_momentum, last_epoch)
        super().__init__(optimizer, last_epoch)

    @staticmethod
    def _count_steps(total_steps, epochs, steps_per_epoch):
        """total_steps if given (epochs and steps_per_epoch are then ignored), else epochs * steps_per_epoch."""
        if total_steps is not None:
            return _positive_int("OneCycleLR", "total_steps", total_steps)
        if epochs is None or steps_per_epoch is None:
            raise ValueError(f"OneCycleLR: give total_steps, or epochs and steps_per_epoch; got total_steps=None, "
                             f"epochs={epochs!r}, steps_per_epoch={steps_per_epoch!r}")
        return (_positive_int("OneCycleLR", "epochs", epochs)
                * _positive_int("OneCycleLR", "steps_per_epoch", steps_per_epoch))

    def _phases(self, pct_start, three_phase):
        """The phases as PyTorch lists them: the step each ends at, and the group entries it goes from and to."""
        up_end = float(pct_start * self.total_steps) - 1
        last = self.total_steps - 1
        if three_phase:
            return [dict(end_step=up_end, start_lr="initial_lr", end_lr="max_lr",
                         start_momentum="max_momentum", end_momentum="base_momentum"),
                    dict(end_step=float(2 * pct_start * self.total_steps) - 2, start_lr="max_lr", end_lr="initial_lr",
                         start_momentum="base_momentum", end_momentum="max_momentum"),
                    dict(end_step=last, start_lr="initial_lr", end_lr="min_lr",
                         start_momentum="max_momentum", end_momentum="max_momentum")]
        return [dict(end_step=up_end, start_lr="initial_lr", end_lr="max_lr",
                     start_momentum="max_momentum", end_momentum="base_momentum"),
                dict(end_step=last, start_lr="max_lr", end_lr="min_lr",
                     start_momentum="base_momentum", end_momentum="max_momentum")]

    def _start_momentum(self, optimizer, base_momentum, max_momentum, last_epoch):
        """Check that the optimizer has a momentum to cycle; a new cycle starts each group at max_momentum."""
        defaults = getattr(optimizer, "defaults", {})
        if "momentum" not in defaults and "betas" not in defaults:
            raise ValueError(f"OneCycleLR: cycle_momentum=True needs an optimizer with 'momentum' (SGD, RMSprop) or "
                             f"'betas' (Adam, AdamW), got {type(optimizer).__name__}; pass cycle_momentum=False")
        self.use_beta1 = "betas" in defaults
        max_momentums = _one_per_group("OneCycleLR", "max_momentum", max_momentum, optimizer)
        base_momentums = _one_per_group("OneCycleLR", "base_momentum", base_momentum, optimizer)
        if last_epoch == -1:
            for group, top, bottom in zip(optimizer.param_groups, max_momentums, base_momentums):
                group["max_momentum"], group["base_momentum"] = top, bottom
                self._set_momentum(group, top)

    def _set_momentum(self, group, momentum):
        if self.use_beta1:
            group["betas"] = (momentum, *group["betas"][1:])
        else:
            group["momentum"] = momentum

    def phase_at(self, step):
        """The phase that `step` falls in, and p, how far through it the step is (0 at its start, 1 at its end)."""
        if step > self.total_steps:
            raise ValueError(f"OneCycleLR: Tried to step {step} times. The specified number of total steps is "
                             f"{self.total_steps}")
        start = 0.0
        for i, phase in enumerate(self._schedule_phases):
            end = phase["end_step"]
            if step <= end or i == len(self._schedule_phases) - 1:
                if end == start:
                    raise ValueError(f"OneCycleLR: step {step} falls in phase {i + 1}, which starts and ends at step "
                                     f"{end} (pct_start * total_steps - 1); choose a pct_start that gives it steps")
                return phase, (step - start) / (end - start)  # [formula: one-cycle-phases]
            start = end

    def anneal(self, start, end, pct):
        """The value pct of the way from `start` to `end`, along half a cosine or a straight line."""
        if self.anneal_strategy == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)  # [formula: one-cycle-cos]
        return (end - start) * pct + start  # [formula: one-cycle-linear]

    def lr_at(self, base_lr, epoch, group_index):
        group = self.optimizer.param_groups[group_index]
        phase, pct = self.phase_at(epoch)
        return self.anneal(group[phase["start_lr"]], group[phase["end_lr"]], pct)

    def step(self, epoch=None):
        """Move to the next step (or to `epoch`), setting every group's rate and, if cycle_momentum, its momentum."""
        super().step(epoch)
        if self.cycle_momentum:
            phase, pct = self.phase_at(self.last_epoch)
            for group in self.optimizer.param_groups:
                momentum = self.anneal(group[phase["start_momentum"]], group[phase["end_momentum"]], pct)
                self._set_momentum(group, momentum)
