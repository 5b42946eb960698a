"""Adagrad and Adadelta against their formulas written out by hand and against torch.optim in float64
(the torch comparisons skip without torch), float32 in place, and state_dict round trips."""
import numpy as np
import pytest

from tinygan import Tensor, backend, optim

from test_optim_pytorch import make_problem, run_torch


def to_params(weights, dtype=np.float64):
    return [Tensor(backend.to_device(w.astype(dtype), backend.current_device()), requires_grad=True)
            for w in weights]


def run(make_optimizer, weights, grads, dtype=np.float64, params=None, optimizer=None):
    params = to_params(weights, dtype) if params is None else params
    optimizer = make_optimizer(params) if optimizer is None else optimizer
    for step_grads in grads:
        for p, g in zip(params, step_grads):
            p.grad = Tensor(backend.to_device(g.astype(dtype), backend.current_device()))
        optimizer.step()
    return [backend.to_numpy(p.array) for p in params], params, optimizer


def adagrad_by_hand(w, grads, lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10):
    w, s = w.copy(), np.full_like(w, initial_accumulator_value)
    for t, g in enumerate(grads, start=1):
        g = g + weight_decay * w
        s = s + g * g
        w = w - lr / (1 + (t - 1) * lr_decay) * g / (np.sqrt(s) + eps)
    return w


def adadelta_by_hand(w, grads, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0):
    w, v, u = w.copy(), np.zeros_like(w), np.zeros_like(w)
    for g in grads:
        g = g + weight_decay * w
        v = rho * v + (1 - rho) * g * g
        dx = np.sqrt(u + eps) / np.sqrt(v + eps) * g
        u = rho * u + (1 - rho) * dx * dx
        w = w - lr * dx
    return w


BY_HAND = {"Adagrad": adagrad_by_hand, "Adadelta": adadelta_by_hand}
CASES = [
    ("Adagrad", dict()),
    ("Adagrad", dict(lr=0.1, lr_decay=0.05, weight_decay=0.1, initial_accumulator_value=0.5, eps=1e-8)),
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.7, eps=1e-4, weight_decay=0.2)),
]


def case_id(case):
    return case[0] + "(" + ", ".join(f"{k}={v}" for k, v in case[1].items()) + ")"


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_matches_the_formulas_by_hand(case):
    name, hyper = case
    weights, grads = make_problem()
    got, _, _ = run(lambda params: getattr(optim, name)(params, **hyper), weights, grads)
    for i, w in enumerate(weights):
        np.testing.assert_allclose(got[i], BY_HAND[name](w, [step[i] for step in grads], **hyper),
                                   rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_matches_torch_optim(case):
    torch = pytest.importorskip("torch")
    name, hyper = case
    weights, grads = make_problem(seed=1)
    got, _, _ = run(lambda params: getattr(optim, name)(params, **hyper), weights, grads)
    theirs = run_torch(lambda params: getattr(torch.optim, name)(params, **hyper), weights, grads)
    for ours, expected in zip(got, theirs):
        np.testing.assert_allclose(ours, expected, rtol=1e-12, atol=1e-14)


def test_defaults_are_pytorchs():
    torch = pytest.importorskip("torch")
    for name in ("Adagrad", "Adadelta"):
        ours = getattr(optim, name)(to_params([np.zeros(2)])).defaults
        theirs = getattr(torch.optim, name)([torch.nn.Parameter(torch.zeros(2))]).defaults
        assert ours == {k: theirs[k] for k in ours}, name


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_float32_stays_float32_and_updates_in_place(case):
    name, hyper = case
    weights, grads = make_problem(steps=2)
    params = to_params(weights, np.float32)
    arrays = [p.array for p in params]
    run(lambda ps: getattr(optim, name)(ps, **hyper), weights, grads, dtype=np.float32, params=params)
    assert all(p.array is a and p.array.dtype == np.float32 for p, a in zip(params, arrays))


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_state_dict_round_trip_continues_bit_identically(case):
    name, hyper = case
    weights, grads = make_problem(steps=6)
    straight, _, _ = run(lambda ps: getattr(optim, name)(ps, **hyper), weights, grads)
    _, params, first = run(lambda ps: getattr(optim, name)(ps, **hyper), weights, grads[:3])
    saved = first.state_dict()
    assert set(saved["state"][0]) == ({"step", "sum"} if name == "Adagrad" else {"step", "square_avg", "acc_delta"})
    resumed = getattr(optim, name)(params, **hyper)
    resumed.load_state_dict(saved)
    got, _, _ = run(None, weights, grads[3:], params=params, optimizer=resumed)
    for a, b in zip(got, straight):
        np.testing.assert_array_equal(a, b)


def test_out_of_range_hyperparameters_are_named():
    with pytest.raises(ValueError, match="Adagrad: lr_decay must be >= 0, got -1"):
        optim.Adagrad(to_params([np.zeros(2)]), lr_decay=-1)
    with pytest.raises(ValueError, match=r"Adadelta: rho must be in \[0, 1\], got 1.5"):
        optim.Adadelta(to_params([np.zeros(2)]), rho=1.5)
