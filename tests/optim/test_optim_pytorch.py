"""AdamW, Adam(amsgrad=True), parameter groups and zero_grad(set_to_none=False), against hand-written
formulas and torch.optim in float64 (the torch comparisons skip without torch)."""
import numpy as np
import pytest

from tinygan import Tensor, backend, kernels, optim


def make_problem(seed=0, steps=6, shapes=((4, 3), (5,))):
    rng = np.random.default_rng(seed)
    weights = [rng.standard_normal(shape) for shape in shapes]
    grads = [[rng.standard_normal(shape) for shape in shapes] for _ in range(steps)]
    return weights, grads


def to_params(weights):
    return [Tensor(backend.to_device(w.copy(), backend.current_device()), requires_grad=True) for w in weights]


def run(make_optimizer, weights, grads):
    params = to_params(weights)
    optimizer = make_optimizer(params)
    for step_grads in grads:
        for p, g in zip(params, step_grads):
            p.grad = Tensor(backend.to_device(g.copy(), backend.current_device()))
        optimizer.step()
    return [backend.to_numpy(p.array) for p in params]


def run_torch(make_optimizer, weights, grads):
    """`run`'s steps with torch.optim on float64 torch tensors: the final weights as NumPy arrays."""
    import torch  # optional: only the tests that compare with PyTorch call this, after importorskip
    params = [torch.nn.Parameter(torch.from_numpy(w.copy())) for w in weights]
    optimizer = make_optimizer(params)
    for step_grads in grads:
        for p, g in zip(params, step_grads):
            p.grad = torch.from_numpy(g.copy())
        optimizer.step()
    return [p.detach().numpy() for p in params]


def adam_by_hand(w, grads, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False, decoupled=False):
    """Adam, AMSGrad and AdamW written out from the papers' algorithm boxes."""
    beta1, beta2 = betas
    w, m, v, v_max = w.copy(), np.zeros_like(w), np.zeros_like(w), np.zeros_like(w)
    for t, g in enumerate(grads, start=1):
        if decoupled:
            w = w - lr * weight_decay * w
        else:
            g = g + weight_decay * w
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        v_max = np.maximum(v_max, v)
        v_used = v_max if amsgrad else v
        w = w - lr * (m / (1 - beta1 ** t)) / (np.sqrt(v_used / (1 - beta2 ** t)) + eps)
    return w


CASES = [
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("Adam", dict(lr=0.01, betas=(0.5, 0.9), weight_decay=0.1, amsgrad=True)),
    ("AdamW", dict()),
    ("AdamW", dict(lr=0.01, betas=(0.5, 0.999), weight_decay=0.3)),
    ("AdamW", dict(lr=0.01, weight_decay=0.1, amsgrad=True)),
]


def case_id(case):
    return case[0] + "(" + ", ".join(f"{k}={v}" for k, v in case[1].items()) + ")"


@pytest.mark.parametrize("mode", kernels.MODES)
@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_matches_the_formulas_by_hand(case, mode):
    name, hyper = case
    weights, grads = make_problem()
    previous = kernels.current_kernels()
    try:
        kernels.use_kernels(mode)
        got = run(lambda params: getattr(optim, name)(params, **hyper), weights, grads)
    finally:
        kernels.use_kernels(previous)
    by_hand = dict(hyper, decoupled=name == "AdamW")
    by_hand.setdefault("weight_decay", 1e-2 if name == "AdamW" else 0.0)
    for i, w in enumerate(weights):
        np.testing.assert_allclose(got[i], adam_by_hand(w, [step[i] for step in grads], **by_hand),
                                   rtol=1e-12, atol=1e-14)


def test_amsgrad_differs_from_adam_when_the_gradient_shrinks():
    """Large gradients, then small ones: AMSGrad keeps dividing by the large v, so it moves less."""
    weights = [np.zeros(3)]
    grads = [[np.full(3, 10.0)]] * 3 + [[np.full(3, 0.1)]] * 200
    adam = run(lambda p: optim.Adam(p, lr=0.01, betas=(0.0, 0.9)), weights, grads)[0]
    amsgrad = run(lambda p: optim.Adam(p, lr=0.01, betas=(0.0, 0.9), amsgrad=True), weights, grads)[0]
    assert np.all(np.abs(amsgrad) < 0.1) and np.all(np.abs(adam) > 1.0)


def test_adamw_decay_is_not_divided_by_the_gradient_scale():
    """With a zero gradient, AdamW still shrinks every weight by the factor 1 - lr * weight_decay per step."""
    weights, steps = [np.array([1.0, -2.0, 3.0])], 5
    got = run(lambda p: optim.AdamW(p, lr=0.1, weight_decay=0.5), weights, [[np.zeros(3)]] * steps)[0]
    np.testing.assert_allclose(got, weights[0] * (1 - 0.1 * 0.5) ** steps, rtol=1e-12)


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_matches_torch_optim(case):
    torch = pytest.importorskip("torch")
    name, hyper = case
    weights, grads = make_problem(seed=1)
    got = run(lambda params: getattr(optim, name)(params, **hyper), weights, grads)
    theirs = run_torch(lambda params: getattr(torch.optim, name)(params, **hyper), weights, grads)
    for ours, expected in zip(got, theirs):
        np.testing.assert_allclose(ours, expected, rtol=1e-12, atol=1e-14)


def test_param_groups_with_their_own_hyperparameters_match_torch():
    torch = pytest.importorskip("torch")
    weights, grads = make_problem(seed=2)

    def groups(params):
        return [{"params": [params[0]], "lr": 0.05, "amsgrad": True}, {"params": [params[1]], "weight_decay": 0.0}]
    got = run(lambda params: optim.AdamW(groups(params), lr=0.01), weights, grads)
    theirs = run_torch(lambda params: torch.optim.AdamW(groups(params), lr=0.01), weights, grads)
    for ours, expected in zip(got, theirs):
        np.testing.assert_allclose(ours, expected, rtol=1e-12, atol=1e-14)


def test_amsgrad_state_resumes_bit_identically():
    weights, grads = make_problem(seed=3)
    straight = run(lambda p: optim.Adam(p, lr=0.01, amsgrad=True), weights, grads)
    params = to_params(weights)
    first = optim.Adam(params, lr=0.01, amsgrad=True)
    for step_grads in grads[:3]:
        for p, g in zip(params, step_grads):
            p.grad = Tensor(backend.to_device(g.copy(), backend.current_device()))
        first.step()
    assert set(first.state_dict()["state"][0]) == {"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"}
    resumed = optim.Adam(params, lr=0.01, amsgrad=True)
    resumed.load_state_dict(first.state_dict())
    for step_grads in grads[3:]:
        for p, g in zip(params, step_grads):
            p.grad = Tensor(backend.to_device(g.copy(), backend.current_device()))
        resumed.step()
    for p, expected in zip(params, straight):
        np.testing.assert_array_equal(backend.to_numpy(p.array), expected)


def test_zero_grad_set_to_none_false_keeps_zeroed_gradients():
    params = to_params([np.ones(3)])
    optimizer = optim.AdamW(params)
    params[0].grad = Tensor(backend.to_device(np.array([1.0, 2.0, 3.0]), backend.current_device()))
    held = params[0].grad
    optimizer.zero_grad(set_to_none=False)
    assert params[0].grad is held and np.all(backend.to_numpy(held.array) == 0)
    optimizer.zero_grad()
    assert params[0].grad is None


def test_adamw_refuses_bad_hyperparameters_by_name():
    with pytest.raises(ValueError, match=r"AdamW: weight_decay must be >= 0, got -0.1"):
        optim.AdamW(to_params([np.ones(2)]), weight_decay=-0.1)


@pytest.mark.parametrize("name, kwargs", [("SGD", {"lr": 0.1, "momentum": 0.9}), ("Adam", {"lr": 1e-3}),
                                          ("AdamW", {"lr": 3e-4, "betas": (0.9, 0.95)}), ("Adadelta", {})])
def test_an_optimizer_prints_as_pytorchs_does(name, kwargs):
    torch = pytest.importorskip("torch")
    ours = getattr(optim, name)([Tensor(np.zeros(2), requires_grad=True)], **kwargs)
    theirs = getattr(torch.optim, name)([torch.zeros(2, requires_grad=True)], **kwargs)
    mine, expected = repr(ours).splitlines(), repr(theirs).splitlines()
    assert mine[:2] == expected[:2] and mine[-1] == ")" and "    lr: " + str(ours.param_groups[0]["lr"]) in mine
    assert set(mine) <= set(expected)  # each hyper-parameter tinygan has reads as PyTorch's line
