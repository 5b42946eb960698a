"""optim.lr_scheduler: each schedule against its formula and against torch.optim.lr_scheduler in float64
(skipped without torch), and state_dict round trips that continue a schedule exactly."""
import math

import numpy as np
import pytest

from tinygan import Tensor, backend, optim
from tinygan.optim import lr_scheduler
from tinygan.train.checkpoint import load_checkpoint, save_checkpoint


def warmup(epoch):
    return min(1.0, (epoch + 1) / 4)


SCHEDULES = {
    "StepLR": (dict(step_size=3, gamma=0.5), lambda lr, e: lr * 0.5 ** (e // 3)),
    "MultiStepLR": (dict(milestones=[2, 5, 5, 9], gamma=0.3), lambda lr, e: lr * 0.3 ** sum(m <= e for m in [2, 5, 5, 9])),
    "ExponentialLR": (dict(gamma=0.9), lambda lr, e: lr * 0.9 ** e),
    "CosineAnnealingLR": (dict(T_max=7, eta_min=0.001), lambda lr, e: 0.001 + (lr - 0.001) * (1 + math.cos(math.pi * e / 7)) / 2),
    "LambdaLR": (dict(lr_lambda=warmup), lambda lr, e: lr * warmup(e)),
}
EPOCHS = 20


def two_groups():
    params = [Tensor(backend.xp().zeros(2), requires_grad=True), Tensor(backend.xp().zeros(3), requires_grad=True)]
    return optim.SGD([{"params": [params[0]]}, {"params": [params[1]], "lr": 0.5}], lr=0.1, momentum=0.9)


def rates(scheduler, optimizer, epochs=EPOCHS):
    """The groups' rates at epochs 0, 1, ..., epochs - 1 (one scheduler.step() per epoch)."""
    seen = []
    for _ in range(epochs):
        seen.append([group["lr"] for group in optimizer.param_groups])
        optimizer.step()
        scheduler.step()
    return seen


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_rates_follow_the_formula(name):
    arguments, formula = SCHEDULES[name]
    optimizer = two_groups()
    got = rates(getattr(lr_scheduler, name)(optimizer, **arguments), optimizer)
    expected = [[formula(0.1, e), formula(0.5, e)] for e in range(EPOCHS)]
    np.testing.assert_allclose(got, expected, rtol=1e-13)


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_rates_match_torch(name):
    torch = pytest.importorskip("torch")
    arguments, _ = SCHEDULES[name]
    optimizer = two_groups()
    got = rates(getattr(lr_scheduler, name)(optimizer, **arguments), optimizer)
    params = [torch.zeros(2, requires_grad=True), torch.zeros(3, requires_grad=True)]
    theirs = torch.optim.SGD([{"params": [params[0]]}, {"params": [params[1]], "lr": 0.5}], lr=0.1, momentum=0.9)
    expected = rates(getattr(torch.optim.lr_scheduler, name)(theirs, **arguments), theirs)
    np.testing.assert_allclose(got, expected, rtol=1e-12)


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_state_dict_resumes_the_schedule_exactly(name, tmp_path):
    """Stop after 7 epochs, save optimizer and scheduler through a checkpoint file, resume in new objects."""
    arguments, _ = SCHEDULES[name]
    optimizer = two_groups()
    straight = rates(getattr(lr_scheduler, name)(optimizer, **arguments), optimizer)

    optimizer = two_groups()
    scheduler = getattr(lr_scheduler, name)(optimizer, **arguments)
    first = rates(scheduler, optimizer, epochs=7)
    save_checkpoint(tmp_path / "run.npz", {"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict()})
    saved = load_checkpoint(tmp_path / "run.npz")

    optimizer = two_groups()
    scheduler = getattr(lr_scheduler, name)(optimizer, **arguments)
    optimizer.load_state_dict(saved["optimizer"])
    scheduler.load_state_dict(saved["scheduler"])
    assert scheduler.last_epoch == 7 and scheduler.get_last_lr() == straight[7]
    assert first + rates(scheduler, optimizer, epochs=EPOCHS - 7) == straight


def test_state_dict_holds_no_optimizer_and_no_functions():
    optimizer = two_groups()
    state = lr_scheduler.LambdaLR(optimizer, warmup).state_dict()
    assert set(state) == {"base_lrs", "last_epoch", "_step_count", "_last_lr"}
    assert state["base_lrs"] == [0.1, 0.5] and state["last_epoch"] == 0


def test_get_last_lr_and_initial_lr_as_in_pytorch():
    optimizer = two_groups()
    scheduler = lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
    optimizer.step()
    scheduler.step()
    assert scheduler.get_last_lr() == [0.05, 0.25]
    assert [group["initial_lr"] for group in optimizer.param_groups] == [0.1, 0.5]


def test_errors_name_the_scheduler_and_the_problem():
    with pytest.raises(TypeError, match="StepLR: expected an optimizer"):
        lr_scheduler.StepLR([Tensor(np.zeros(2))], step_size=2)
    with pytest.raises(ValueError, match="StepLR: step_size must be a positive int, got 0"):
        lr_scheduler.StepLR(two_groups(), step_size=0)
    with pytest.raises(ValueError, match="LambdaLR: expected 2 lr_lambdas"):
        lr_scheduler.LambdaLR(two_groups(), [warmup])
    with pytest.raises(KeyError, match=r"param_groups\[0\] has no 'initial_lr'"):
        lr_scheduler.ExponentialLR(two_groups(), gamma=0.9, last_epoch=3)


def test_import_as_in_pytorch():
    from tinygan.optim.lr_scheduler import CosineAnnealingLR
    assert CosineAnnealingLR is optim.lr_scheduler.CosineAnnealingLR


# -- ReduceLROnPlateau: lowered when a measurement stops improving -------------------------------------------

PLATEAU_METRICS = [1.0, 0.9, 0.95, 0.95, 0.96, 0.97, 0.5, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.59999, 0.61]
PLATEAU_SETTINGS = [dict(patience=2), dict(patience=1, cooldown=2, factor=0.5, min_lr=0.002),
                    dict(mode="max", patience=1, threshold=0.1, threshold_mode="abs"),
                    dict(patience=0, factor=0.3, min_lr=[0.0, 0.02], eps=1e-3)]


def _plateau_rates(optimizer, scheduler_class, settings):
    scheduler = scheduler_class(optimizer, **settings)
    rates = []
    for metric in PLATEAU_METRICS:
        scheduler.step(metric)
        rates.append(tuple(scheduler.get_last_lr()))
    return rates


def test_plateau_lowers_the_rate_after_patience_epochs_without_improvement():
    optimizer = two_groups()
    scheduler = lr_scheduler.ReduceLROnPlateau(optimizer, patience=2, factor=0.5)
    for metric in (1.0, 0.9, 0.95, 0.95):              # 0.9 is the best; two epochs without improvement
        scheduler.step(metric)
    assert scheduler.get_last_lr() == [group["lr"] for group in optimizer.param_groups]
    before = scheduler.get_last_lr()
    scheduler.step(0.9)                                 # a third: more than patience, so the rates halve
    assert scheduler.get_last_lr() == [lr * 0.5 for lr in before] and scheduler.num_bad_epochs == 0
    scheduler.step(0.8)                                 # an improvement resets the count
    assert scheduler.best == 0.8 and scheduler.num_bad_epochs == 0


def test_plateau_respects_min_lr_and_continues_exactly_from_its_state_dict():
    optimizer = two_groups()
    scheduler = lr_scheduler.ReduceLROnPlateau(optimizer, patience=0, factor=0.1, min_lr=0.001)
    for metric in PLATEAU_METRICS[:8]:
        scheduler.step(metric)
    assert min(scheduler.get_last_lr()) >= 0.001
    state = scheduler.state_dict()
    rest = []
    for metric in PLATEAU_METRICS[8:]:
        scheduler.step(metric)
        rest.append(scheduler.get_last_lr())
    resumed_optimizer = two_groups()
    for group, saved in zip(resumed_optimizer.param_groups, state["_last_lr"]):
        group["lr"] = saved
    resumed = lr_scheduler.ReduceLROnPlateau(resumed_optimizer)
    resumed.load_state_dict(state)
    again = []
    for metric in PLATEAU_METRICS[8:]:
        resumed.step(metric)
        again.append(resumed.get_last_lr())
    assert again == rest


@pytest.mark.parametrize("settings, message", [
    (dict(factor=1.0), "ReduceLROnPlateau: factor should be < 1.0"),
    (dict(mode="lowest"), "ReduceLROnPlateau: mode must be 'min' or 'max'"),
    (dict(threshold_mode="relative"), "ReduceLROnPlateau: threshold_mode must be 'rel' or 'abs'"),
    (dict(min_lr=[0.0, 0.0, 0.0]), r"ReduceLROnPlateau: expected 2 min_lrs \(one per parameter group\), got 3"),
])
def test_plateau_names_bad_settings(settings, message):
    with pytest.raises(ValueError, match=message):
        lr_scheduler.ReduceLROnPlateau(two_groups(), **settings)


@pytest.mark.parametrize("settings", PLATEAU_SETTINGS, ids=[str(s) for s in PLATEAU_SETTINGS])
def test_plateau_rates_equal_pytorchs(settings):
    torch = pytest.importorskip("torch")
    ours = _plateau_rates(two_groups(), lr_scheduler.ReduceLROnPlateau, settings)
    weights = [torch.nn.Parameter(torch.zeros(1)) for _ in range(2)]
    theirs_optimizer = torch.optim.SGD([{"params": [weights[0]]}, {"params": [weights[1]]}], lr=0.1)
    for group, ours_group in zip(theirs_optimizer.param_groups, two_groups().param_groups):
        group["lr"] = ours_group["lr"]
    theirs = _plateau_rates(theirs_optimizer, torch.optim.lr_scheduler.ReduceLROnPlateau, settings)
    assert ours == theirs
