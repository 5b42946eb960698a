"""Learning-rate schedules with PyTorch's names and arguments, as torch.optim.lr_scheduler.

    scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=10, gamma=0.5)
    for epoch in range(epochs):
        train_one_epoch(...)        # optimizer.step() inside
        scheduler.step()            # then the learning rate of the next epoch

A scheduler counts epochs in `last_epoch` (0 after construction, +1 per `step()`) and sets every
parameter group's "lr" to the schedule's value at that epoch, computed from the group's starting
rate (`base_lrs`, also kept in the group as "initial_lr", as PyTorch does).

Each schedule is written in closed form, lr(epoch) = f(base_lr, epoch): the formula a learner reads
is the one that runs. PyTorch's StepLR, MultiStepLR, ExponentialLR and CosineAnnealingLR update the
group's current "lr" recursively instead; the numbers agree (to rounding) unless the group's "lr" is
changed by hand between steps, which these schedules overwrite, and two schedulers cannot be chained
on one optimizer.

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
           "ReduceLROnPlateau"]


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
                group["initial_lr"] = group["lr"]
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
