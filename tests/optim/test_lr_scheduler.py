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


def restarted_cosine(lr, epoch, T_0, T_mult, eta_min):
    """SGDR from its cycles, listed one by one: they start at epochs 0, T_0, T_0 + T_0 T_mult, ..."""
    start, length = 0, T_0
    while epoch >= start + length:
        start, length = start + length, length * T_mult
    return eta_min + (lr - eta_min) * (1 + math.cos(math.pi * (epoch - start) / length)) / 2


SCHEDULES = {
    "StepLR": (dict(step_size=3, gamma=0.5), lambda lr, e: lr * 0.5 ** (e // 3)),
    "MultiStepLR": (dict(milestones=[2, 5, 5, 9], gamma=0.3), lambda lr, e: lr * 0.3 ** sum(m <= e for m in [2, 5, 5, 9])),
    "ExponentialLR": (dict(gamma=0.9), lambda lr, e: lr * 0.9 ** e),
    "CosineAnnealingLR": (dict(T_max=7, eta_min=0.001), lambda lr, e: 0.001 + (lr - 0.001) * (1 + math.cos(math.pi * e / 7)) / 2),
    "LambdaLR": (dict(lr_lambda=warmup), lambda lr, e: lr * warmup(e)),
    "ConstantLR": (dict(factor=0.25, total_iters=4), lambda lr, e: lr * (0.25 if e < 4 else 1.0)),
    "LinearLR": (dict(start_factor=0.2, end_factor=0.9, total_iters=6), lambda lr, e: lr * (0.2 + 0.7 * min(e, 6) / 6)),
    "PolynomialLR": (dict(total_iters=8, power=2.0), lambda lr, e: lr * (1 - min(e, 8) / 8) ** 2),
    "CosineAnnealingWarmRestarts": (dict(T_0=3, T_mult=2, eta_min=0.001),
                                    lambda lr, e: restarted_cosine(lr, e, 3, 2, 0.001)),
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


# -- ConstantLR, LinearLR, PolynomialLR, CosineAnnealingWarmRestarts: more settings, edges, errors -----------

# Compared with PyTorch over EPOCHS epochs; total_iters=0 and T_0=1 are edges PyTorch allows.
MORE_SETTINGS = [
    ("ConstantLR", {}), ("ConstantLR", dict(factor=0.5, total_iters=1)),
    ("ConstantLR", dict(factor=1.0, total_iters=3)), ("ConstantLR", dict(factor=0.5, total_iters=0)),
    ("LinearLR", {}), ("LinearLR", dict(start_factor=1.0, end_factor=0.0, total_iters=7)),
    ("LinearLR", dict(start_factor=0.5, end_factor=0.5, total_iters=3)),
    ("LinearLR", dict(start_factor=0.25, total_iters=0)),
    ("PolynomialLR", {}), ("PolynomialLR", dict(total_iters=12, power=0.5)),
    ("PolynomialLR", dict(total_iters=1, power=3.0)), ("PolynomialLR", dict(total_iters=6, power=0.0)),
    ("PolynomialLR", dict(total_iters=0)),
    ("CosineAnnealingWarmRestarts", dict(T_0=1)), ("CosineAnnealingWarmRestarts", dict(T_0=1, T_mult=2)),
    ("CosineAnnealingWarmRestarts", dict(T_0=4, T_mult=3, eta_min=0.02)),
    ("CosineAnnealingWarmRestarts", dict(T_0=7, eta_min=0.05)),
]


def torch_two_groups(torch):
    params = [torch.zeros(2, requires_grad=True), torch.zeros(3, requires_grad=True)]
    return torch.optim.SGD([{"params": [params[0]]}, {"params": [params[1]], "lr": 0.5}], lr=0.1, momentum=0.9)


@pytest.mark.parametrize("name, arguments", MORE_SETTINGS, ids=[f"{n}-{a}" for n, a in MORE_SETTINGS])
def test_more_settings_match_torch(name, arguments):
    torch = pytest.importorskip("torch")
    optimizer = two_groups()
    got = rates(getattr(lr_scheduler, name)(optimizer, **arguments), optimizer)
    theirs = torch_two_groups(torch)
    expected = rates(getattr(torch.optim.lr_scheduler, name)(theirs, **arguments), theirs)
    # PyTorch multiplies the rate step by step: where the rate reaches 0, it leaves about -1e-18
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-15)


def test_total_iters_edges():
    """total_iters=0 keeps the starting factor for ever (PyTorch's step() does the same); factor=0 returns to the
    base rate at total_iters; PolynomialLR with total_iters=1 is at 0 from epoch 1 on."""
    schedules = [(lr_scheduler.ConstantLR, dict(factor=0.5, total_iters=0), [0.05] * 4),
                 (lr_scheduler.LinearLR, dict(start_factor=0.25, end_factor=1.0, total_iters=0), [0.025] * 4),
                 (lr_scheduler.PolynomialLR, dict(total_iters=0), [0.1] * 4),
                 (lr_scheduler.ConstantLR, dict(factor=0.0, total_iters=2), [0.0, 0.0, 0.1, 0.1]),
                 (lr_scheduler.PolynomialLR, dict(total_iters=1, power=2.0), [0.1, 0.0, 0.0, 0.0])]
    for scheduler_class, arguments, expected in schedules:
        optimizer = two_groups()
        got = [first for first, _ in rates(scheduler_class(optimizer, **arguments), optimizer, epochs=4)]
        assert got == pytest.approx(expected, rel=1e-15, abs=0), (scheduler_class.__name__, arguments)


def test_warm_restarts_by_hand():
    """T_0=2, T_mult=2: cycles of 2, 4, 8 epochs starting at epochs 0, 2, 6; fractional epochs included."""
    optimizer = two_groups()
    scheduler = lr_scheduler.CosineAnnealingWarmRestarts(optimizer, T_0=2, T_mult=2)
    half_way = 0.1 * (1 + math.cos(math.pi / 2)) / 2
    quarter_way = 0.1 * (1 + math.cos(math.pi / 4)) / 2
    for epoch, T_cur, T_i, lr in [(0.5, 0.5, 2, quarter_way), (1, 1, 2, half_way), (2, 0, 4, 0.1),
                                  (3, 1, 4, quarter_way), (4, 2, 4, half_way), (6, 0, 8, 0.1), (10, 4, 8, half_way),
                                  (0.0, 0.0, 2, 0.1)]:
        scheduler.step(epoch)
        assert (scheduler.T_cur, scheduler.T_i, scheduler.last_epoch) == (T_cur, T_i, math.floor(epoch))
        assert scheduler.get_last_lr()[0] == pytest.approx(lr, rel=1e-14)
    scheduler.step(2.5)                                  # step() goes on by one from a fractional epoch
    scheduler.step()
    assert (scheduler.T_cur, scheduler.T_i, scheduler.last_epoch) == (1.5, 4, 3)


def test_warm_restarts_with_T_0_one_restart_every_epoch():
    optimizer = two_groups()
    scheduler = lr_scheduler.CosineAnnealingWarmRestarts(optimizer, T_0=1, eta_min=0.02)
    assert [first for first, _ in rates(scheduler, optimizer, epochs=5)] == [0.1] * 5
    scheduler.step(7.5)
    assert scheduler.get_last_lr() == pytest.approx([0.06, 0.26], rel=1e-14)


def test_warm_restarts_find_the_cycle_exactly():
    """Epoch 111 starts the cycle 1 + 10 + 100 epochs in (T_0=1, T_mult=10): the full rate. PyTorch's step(111)
    finds the cycle with a floating-point logarithm, log(1000) / log(10) = 2.9999999999999996, and gives eta_min."""
    optimizer = two_groups()
    scheduler = lr_scheduler.CosineAnnealingWarmRestarts(optimizer, T_0=1, T_mult=10)
    scheduler.step(111)
    assert (scheduler.T_cur, scheduler.T_i) == (0, 1000) and scheduler.get_last_lr() == [0.1, 0.5]


WARM_RESTART_EPOCHS = {
    "per-batch": [epoch + batch / 4 for epoch in range(30) for batch in range(4)],
    "mixed": [2.5, None, None, 7.25, None, 0.1, None, None, None, 13.0, 40.3, None],
}


@pytest.mark.parametrize("arguments", [dict(T_0=3, T_mult=2, eta_min=0.01), dict(T_0=1), dict(T_0=5),
                                       dict(T_0=2, T_mult=3)], ids=str)
@pytest.mark.parametrize("epochs", sorted(WARM_RESTART_EPOCHS))
def test_warm_restarts_fractional_epochs_match_torch(arguments, epochs):
    """step(epoch + batch / batches), and step(epoch) mixed with step(), as PyTorch's SGDR example does."""
    torch = pytest.importorskip("torch")
    ours, theirs = two_groups(), torch_two_groups(torch)
    schedulers = (lr_scheduler.CosineAnnealingWarmRestarts(ours, **arguments),
                  torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(theirs, **arguments))
    seen = ([], [])
    for epoch in WARM_RESTART_EPOCHS[epochs]:
        for scheduler, record in zip(schedulers, seen):
            scheduler.step(epoch)
            record.append([*scheduler.get_last_lr(), scheduler.T_cur, scheduler.T_i, scheduler.last_epoch])
    np.testing.assert_allclose(seen[0], seen[1], rtol=1e-12, atol=1e-15)


def test_warm_restarts_resume_from_a_fractional_epoch():
    optimizer = two_groups()
    scheduler = lr_scheduler.CosineAnnealingWarmRestarts(optimizer, T_0=3, T_mult=2)
    scheduler.step(4.75)
    state = scheduler.state_dict()
    straight = rates(scheduler, optimizer, epochs=10)
    optimizer = two_groups()
    resumed = lr_scheduler.CosineAnnealingWarmRestarts(optimizer, T_0=3, T_mult=2)
    resumed.load_state_dict(state)
    assert rates(resumed, optimizer, epochs=10)[1:] == straight[1:] and resumed.epoch == 14.75


@pytest.mark.parametrize("name, arguments, message", [
    ("ConstantLR", dict(factor=1.5), "ConstantLR: factor must be between 0 and 1, got 1.5"),
    ("ConstantLR", dict(total_iters=-1), "ConstantLR: total_iters must be an int >= 0, got -1"),
    ("LinearLR", dict(start_factor=0), "LinearLR: start_factor must be > 0 and <= 1, got 0"),
    ("LinearLR", dict(end_factor=-0.1), r"LinearLR: end_factor must be between 0 and 1, got -0.1"),
    ("PolynomialLR", dict(total_iters=2.5), "PolynomialLR: total_iters must be an int >= 0, got 2.5"),
    ("CosineAnnealingWarmRestarts", dict(T_0=0), "CosineAnnealingWarmRestarts: T_0 must be a positive int, got 0"),
    ("CosineAnnealingWarmRestarts", dict(T_0=2.0),
     r"CosineAnnealingWarmRestarts: T_0 must be a positive int, got 2\.0"),
    ("CosineAnnealingWarmRestarts", dict(T_0=2, T_mult=0),
     "CosineAnnealingWarmRestarts: T_mult must be an int >= 1, got 0"),
    ("CosineAnnealingWarmRestarts", dict(T_0=2, eta_min="0"),
     "CosineAnnealingWarmRestarts: eta_min must be a float or an int, got '0' of type str"),
])
def test_new_schedules_name_bad_settings(name, arguments, message):
    with pytest.raises(ValueError, match=message):
        getattr(lr_scheduler, name)(two_groups(), **arguments)


def test_warm_restarts_refuse_a_negative_epoch():
    scheduler = lr_scheduler.CosineAnnealingWarmRestarts(two_groups(), T_0=2)
    with pytest.raises(ValueError, match="CosineAnnealingWarmRestarts: epoch must be >= 0, got -1"):
        scheduler.step(-1)


# -- OneCycleLR: rates and momentum, once per batch ----------------------------------------------------------

OPTIMIZER_ARGUMENTS = {"SGD": dict(momentum=0.9), "Adam": {}, "AdamW": {}, "RMSprop": dict(momentum=0.5), "Adagrad": {}}


def two_groups_of(kind, torch=None):
    """tinygan's optimizer `kind` over two groups (lr 0.1 and 0.5), or PyTorch's when `torch` is given."""
    if torch is None:
        params = [Tensor(backend.xp().zeros(2), requires_grad=True), Tensor(backend.xp().zeros(3), requires_grad=True)]
        optimizer_class = getattr(optim, kind)
    else:
        params = [torch.zeros(2, requires_grad=True), torch.zeros(3, requires_grad=True)]
        optimizer_class = getattr(torch.optim, kind)
    groups = [{"params": [params[0]]}, {"params": [params[1]], "lr": 0.5}]
    return optimizer_class(groups, lr=0.1, **OPTIMIZER_ARGUMENTS[kind])


def cycle(scheduler, optimizer, steps=None):
    """Each group's (lr, momentum or beta1) after construction and after each of `steps` steps (all of them)."""
    def now():
        return [(g["lr"], g["betas"][0] if "betas" in g else g.get("momentum", 0.0)) for g in optimizer.param_groups]
    seen = [now()]
    for _ in range(scheduler.total_steps if steps is None else steps):
        optimizer.step()
        scheduler.step()
        seen.append(now())
    return seen


ONE_CYCLE_SETTINGS = [
    ("SGD", dict(max_lr=1.0, total_steps=20)),
    ("SGD", dict(max_lr=[1.0, 0.3], total_steps=17, anneal_strategy="linear", pct_start=0.25, div_factor=10.0,
                 final_div_factor=100.0)),
    ("SGD", dict(max_lr=0.8, total_steps=23, three_phase=True, base_momentum=[0.8, 0.7], max_momentum=[0.9, 0.99])),
    ("SGD", dict(max_lr=0.8, epochs=4, steps_per_epoch=5, three_phase=True, anneal_strategy="linear")),
    ("SGD", dict(max_lr=1.0, total_steps=1)),
    ("SGD", dict(max_lr=1.0, total_steps=2, three_phase=True)),
    ("SGD", dict(max_lr=1.0, total_steps=10, cycle_momentum=False)),
    ("Adam", dict(max_lr=0.01, total_steps=15)),
    ("AdamW", dict(max_lr=0.01, total_steps=15, anneal_strategy="linear", pct_start=0.5)),
    ("RMSprop", dict(max_lr=0.01, total_steps=10)),
    ("Adagrad", dict(max_lr=0.1, total_steps=10, cycle_momentum=False)),
]


@pytest.mark.parametrize("kind, arguments", ONE_CYCLE_SETTINGS, ids=[f"{k}-{a}" for k, a in ONE_CYCLE_SETTINGS])
def test_one_cycle_matches_torch(kind, arguments):
    """Rates and momenta (beta1 for Adam and AdamW) at every step up to total_steps, and the groups' entries."""
    torch = pytest.importorskip("torch")
    ours, theirs = two_groups_of(kind), two_groups_of(kind, torch)
    got = cycle(lr_scheduler.OneCycleLR(ours, **arguments), ours)
    expected = cycle(torch.optim.lr_scheduler.OneCycleLR(theirs, **arguments), theirs)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=0)
    for key in ("initial_lr", "max_lr", "min_lr", "max_momentum", "base_momentum"):
        assert [g.get(key) for g in ours.param_groups] == [g.get(key) for g in theirs.param_groups], key


def test_one_cycle_linear_by_hand():
    """total_steps=5, pct_start=0.4: up from step 0 to step 1, down to step 4; max_lr 1, initial 1/4, min 1/8."""
    optimizer = two_groups()
    scheduler = lr_scheduler.OneCycleLR(optimizer, max_lr=1.0, total_steps=5, pct_start=0.4, anneal_strategy="linear",
                                        div_factor=4.0, final_div_factor=2.0)
    seen = cycle(scheduler, optimizer, steps=4)
    np.testing.assert_allclose([step[0][0] for step in seen], [0.25, 1.0, 1 - 0.875 / 3, 1 - 2 * 0.875 / 3, 0.125],
                               rtol=1e-15)
    np.testing.assert_allclose([step[0][1] for step in seen], [0.95, 0.85, 0.85 + 0.1 / 3, 0.85 + 0.2 / 3, 0.95],
                               rtol=1e-15)


def test_one_cycle_cos_by_hand():
    """Half way through a phase the cosine is half way between its ends."""
    optimizer = two_groups()
    scheduler = lr_scheduler.OneCycleLR(optimizer, max_lr=1.0, total_steps=10, pct_start=0.5)
    lr = [step[0][0] for step in cycle(scheduler, optimizer, steps=9)]       # up to step 4, down to step 9
    assert lr[0] == pytest.approx(0.04, rel=1e-15) and lr[4] == 1.0 and lr[9] == pytest.approx(4e-6, rel=1e-15)
    assert lr[2] == pytest.approx((0.04 + 1.0) / 2, rel=1e-15)
    assert lr[6] == pytest.approx(4e-6 + (1 - 4e-6) * (1 + math.cos(0.4 * math.pi)) / 2, rel=1e-15)


def test_one_cycle_three_phases_by_hand():
    """pct_start=0.3 of 10 steps: up to step 2, back to initial_lr at step 4, down to min_lr at step 9."""
    optimizer = two_groups()
    scheduler = lr_scheduler.OneCycleLR(optimizer, max_lr=1.0, total_steps=10, three_phase=True,
                                        anneal_strategy="linear")
    seen = cycle(scheduler, optimizer, steps=9)
    # (min_lr - initial_lr) * 1 + initial_lr rounds at the scale of initial_lr: hence atol
    np.testing.assert_allclose([seen[s][0][0] for s in (0, 1, 2, 3, 4, 9)], [0.04, 0.52, 1.0, 0.52, 0.04, 4e-6],
                               rtol=1e-14, atol=1e-16)
    np.testing.assert_allclose([seen[s][0][1] for s in (0, 2, 4, 9)], [0.95, 0.85, 0.95, 0.95], rtol=1e-15)


def test_one_cycle_of_one_step_and_stepping_past_total_steps():
    """total_steps=1: step 0 is already the end of the cycle; stepping to total_steps is allowed (as in PyTorch),
    one more is an error."""
    optimizer = two_groups()
    scheduler = lr_scheduler.OneCycleLR(optimizer, max_lr=1.0, total_steps=1)
    assert scheduler.get_last_lr() == [1.0 / 25 / 1e4] * 2 and optimizer.param_groups[0]["momentum"] == 0.95
    scheduler.step()
    with pytest.raises(ValueError, match="OneCycleLR: Tried to step 2 times. The specified number of total steps is 1"):
        scheduler.step()


def test_one_cycle_keeps_its_values_in_the_groups_as_pytorch():
    optimizer = two_groups_of("Adam")
    lr_scheduler.OneCycleLR(optimizer, max_lr=[1.0, 2.0], total_steps=4, div_factor=10.0, final_div_factor=4.0)
    group = optimizer.param_groups[1]
    assert (group["initial_lr"], group["max_lr"], group["min_lr"]) == (0.2, 2.0, 0.05)
    assert (group["max_momentum"], group["base_momentum"]) == (0.95, 0.85) and group["betas"] == (0.95, 0.999)


@pytest.mark.parametrize("kind", ["SGD", "Adam"])
def test_one_cycle_state_dict_resumes_exactly(kind, tmp_path):
    """Stop after 7 of 20 steps, save optimizer and scheduler through a checkpoint file, resume in new objects."""
    arguments = dict(max_lr=[1.0, 0.5], total_steps=20, three_phase=True)
    optimizer = two_groups_of(kind)
    straight = cycle(lr_scheduler.OneCycleLR(optimizer, **arguments), optimizer)

    optimizer = two_groups_of(kind)
    scheduler = lr_scheduler.OneCycleLR(optimizer, **arguments)
    first = cycle(scheduler, optimizer, steps=7)
    save_checkpoint(tmp_path / "run.npz", {"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict()})
    saved = load_checkpoint(tmp_path / "run.npz")

    optimizer = two_groups_of(kind)
    scheduler = lr_scheduler.OneCycleLR(optimizer, **arguments)
    optimizer.load_state_dict(saved["optimizer"])
    scheduler.load_state_dict(saved["scheduler"])
    assert scheduler.last_epoch == 7
    assert first + cycle(scheduler, optimizer, steps=13)[1:] == straight


@pytest.mark.parametrize("arguments, message", [
    (dict(max_lr=0.1), "OneCycleLR: give total_steps, or epochs and steps_per_epoch; got total_steps=None"),
    (dict(max_lr=0.1, epochs=3), "OneCycleLR: give total_steps, or epochs and steps_per_epoch"),
    (dict(max_lr=0.1, total_steps=0), "OneCycleLR: total_steps must be a positive int, got 0"),
    (dict(max_lr=0.1, epochs=2, steps_per_epoch=2.5), r"OneCycleLR: steps_per_epoch must be a positive int, got 2\.5"),
    (dict(max_lr=0.1, total_steps=10, pct_start=1.5),
     r"OneCycleLR: pct_start must be a float between 0 and 1, got 1\.5"),
    (dict(max_lr=0.1, total_steps=10, pct_start=1), "OneCycleLR: pct_start must be a float between 0 and 1, got 1"),
    (dict(max_lr=0.1, total_steps=10, anneal_strategy="cosine"),
     "OneCycleLR: anneal_strategy must be 'cos' or 'linear', got 'cosine'"),
    (dict(max_lr=[0.1, 0.2, 0.3], total_steps=10),
     r"OneCycleLR: expected 2 max_lrs \(one per parameter group\), got 3"),
    (dict(max_lr=0.1, total_steps=10, base_momentum=[0.8]), r"OneCycleLR: expected 2 base_momentums .*got 1"),
    (dict(max_lr=0.1, total_steps=10, pct_start=0.1), r"OneCycleLR: step 0 falls in phase 1, which starts and ends"),
])
def test_one_cycle_names_bad_settings(arguments, message):
    with pytest.raises(ValueError, match=message):
        lr_scheduler.OneCycleLR(two_groups(), **arguments)


def test_one_cycle_needs_a_momentum_to_cycle():
    with pytest.raises(ValueError, match=r"OneCycleLR: cycle_momentum=True needs an optimizer with 'momentum' "
                                         r"\(SGD, RMSprop\) or 'betas' \(Adam, AdamW\), got Adagrad; "
                                         r"pass cycle_momentum=False"):
        lr_scheduler.OneCycleLR(two_groups_of("Adagrad"), max_lr=0.1, total_steps=10)
    optimizer = two_groups_of("Adagrad")
    lr_scheduler.OneCycleLR(optimizer, max_lr=0.1, total_steps=10, cycle_momentum=False)
    assert "momentum" not in optimizer.param_groups[0] and optimizer.param_groups[0]["lr"] == pytest.approx(0.004)
    with pytest.raises(TypeError, match="OneCycleLR: expected an optimizer"):
        lr_scheduler.OneCycleLR([Tensor(np.zeros(2))], max_lr=0.1, total_steps=10)


def test_a_scheduler_made_after_an_optimizer_was_loaded_keeps_its_initial_lr():
    """As in PyTorch, the group's "initial_lr" from the optimizer's state_dict stays the base rate; the mid-run
    rate the state_dict also brought does not become the new base."""
    param = Tensor(np.ones(2), requires_grad=True)
    optimizer = optim.SGD([param], lr=0.1)
    scheduler = lr_scheduler.StepLR(optimizer, 2, gamma=0.5)
    for _ in range(3):
        optimizer.step()
        scheduler.step()
    resumed = optim.SGD([Tensor(np.ones(2), requires_grad=True)], lr=0.1)
    resumed.load_state_dict(optimizer.state_dict())
    assert resumed.param_groups[0]["lr"] == 0.05
    assert lr_scheduler.StepLR(resumed, 2, gamma=0.5).base_lrs == [0.1]
