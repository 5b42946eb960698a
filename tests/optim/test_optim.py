"""Tests of tinygan.optim: each update rule against a NumPy float64 transcription of its formulas and
against torch.optim, in-place float32 updates, and state_dict round trips that resume bit-identically."""
import numpy as np
import pytest

from tinygan import backend, nn, optim
from tinygan.autograd import Tensor


def host(x):
    return backend.to_numpy(x.array if isinstance(x, Tensor) else x)


def make_problem(seed=0, shapes=((3, 4), (4,)), steps=5):
    """Initial weights and a sequence of gradients (float64 host arrays) for each parameter."""
    rng = np.random.default_rng(seed)
    weights = [rng.standard_normal(s) for s in shapes]
    grads = [[rng.standard_normal(s) for s in shapes] for _ in range(steps)]
    return weights, grads


def params_from(weights, dtype=np.float64):
    return [nn.Parameter(backend.xp().asarray(w.astype(dtype))) for w in weights]


def run(optimizer_class, weights, grads, dtype=np.float64, **hyper):
    params = params_from(weights, dtype)
    opt = optimizer_class(params, **hyper)
    for step_grads in grads:
        for p, g in zip(params, step_grads):
            p.grad = Tensor(backend.xp().asarray(g.astype(dtype)))
        opt.step()
    return [host(p) for p in params]


# -- hand transcriptions of the formulas in NumPy float64 -----------------------------------------------

def sgd_reference(w, grads, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False):
    w, b = w.copy(), None
    for g in grads:
        g = g + weight_decay * w
        if momentum:
            b = g.copy() if b is None else momentum * b + (1 - dampening) * g
            g = g + momentum * b if nesterov else b
        w = w - lr * g
    return w


def adam_reference(w, grads, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
    w = w.copy()
    m, v = np.zeros_like(w), np.zeros_like(w)
    for t, g in enumerate(grads, start=1):
        g = g + weight_decay * w
        m = betas[0] * m + (1 - betas[0]) * g
        v = betas[1] * v + (1 - betas[1]) * g * g
        m_hat = m / (1 - betas[0] ** t)
        v_hat = v / (1 - betas[1] ** t)
        w = w - lr * m_hat / (np.sqrt(v_hat) + eps)
    return w


def rmsprop_reference(w, grads, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False):
    w = w.copy()
    v, a, b = np.zeros_like(w), np.zeros_like(w), np.zeros_like(w)
    for g in grads:
        g = g + weight_decay * w
        v = alpha * v + (1 - alpha) * g * g
        if centered:
            a = alpha * a + (1 - alpha) * g
            denom = np.sqrt(v - a * a) + eps
        else:
            denom = np.sqrt(v) + eps
        if momentum:
            b = momentum * b + g / denom
            w = w - lr * b
        else:
            w = w - lr * g / denom
    return w


CASES = [
    (optim.SGD, sgd_reference, dict(lr=0.1)),
    (optim.SGD, sgd_reference, dict(lr=0.1, momentum=0.9)),
    (optim.SGD, sgd_reference, dict(lr=0.05, momentum=0.9, dampening=0.3)),
    (optim.SGD, sgd_reference, dict(lr=0.1, momentum=0.8, nesterov=True)),
    (optim.SGD, sgd_reference, dict(lr=0.1, momentum=0.5, weight_decay=0.01)),
    (optim.Adam, adam_reference, dict()),
    (optim.Adam, adam_reference, dict(lr=0.01, betas=(0.5, 0.999))),
    (optim.Adam, adam_reference, dict(lr=0.01, betas=(0.0, 0.9), eps=1e-3, weight_decay=0.1)),
    (optim.RMSprop, rmsprop_reference, dict()),
    (optim.RMSprop, rmsprop_reference, dict(lr=0.001, alpha=0.9, momentum=0.5, weight_decay=0.01)),
    (optim.RMSprop, rmsprop_reference, dict(lr=0.001, centered=True, momentum=0.3)),
]


def _case_id(case):
    return case[0].__name__ + "(" + ", ".join(f"{k}={v}" for k, v in case[2].items()) + ")"


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_matches_hand_computation_of_the_formulas(case):
    cls, reference, hyper = case
    weights, grads = make_problem()
    got = run(cls, weights, grads, **hyper)
    for i, w in enumerate(weights):
        expected = reference(w, [step[i] for step in grads], **hyper)
        np.testing.assert_allclose(got[i], expected, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_matches_torch_optim(case):
    torch = pytest.importorskip("torch")
    cls, _, hyper = case
    weights, grads = make_problem(seed=1)
    got = run(cls, weights, grads, **hyper)
    theirs = [torch.nn.Parameter(torch.from_numpy(w.copy())) for w in weights]
    opt = getattr(torch.optim, cls.__name__)(theirs, **hyper)
    for step_grads in grads:
        for p, g in zip(theirs, step_grads):
            p.grad = torch.from_numpy(g.copy())
        opt.step()
    for ours, p in zip(got, theirs):
        np.testing.assert_allclose(ours, p.detach().numpy(), rtol=1e-12, atol=1e-14)


def test_adam_first_step_moves_each_weight_by_lr_times_sign_of_gradient():
    weights, grads = make_problem(steps=1)
    lr = 0.01
    got = run(optim.Adam, weights, grads, lr=lr)
    for w, g, new in zip(weights, grads[0], got):
        # m_hat = g and v_hat = g^2, so the step is lr * g / (|g| + eps)
        np.testing.assert_allclose(new - w, -lr * np.sign(g), rtol=1e-6)


def test_sgd_first_momentum_step_is_plain_sgd():
    weights, grads = make_problem(steps=1)
    np.testing.assert_allclose(run(optim.SGD, weights, grads, lr=0.1, momentum=0.9)[0],
                               weights[0] - 0.1 * grads[0][0], rtol=1e-15)


# -- in place, float32, skipped parameters ---------------------------------------------------------------

@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_float32_stays_float32_and_updates_are_in_place(case):
    cls, reference, hyper = case
    weights, grads = make_problem(steps=3)
    params = params_from(weights, np.float32)
    arrays = [p.array for p in params]
    opt = cls(params, **hyper)
    for step_grads in grads:
        for p, g in zip(params, step_grads):
            p.grad = Tensor(backend.xp().asarray(g.astype(np.float32)))
        opt.step()
    for p, array in zip(params, arrays):
        assert p.array is array and p.dtype == np.float32 and p.grad is not None
        assert p.is_leaf and p.creator is None
    for state in opt.state.values():
        for value in state.values():
            if hasattr(value, "dtype"):
                assert value.dtype == np.float32
    expected = reference(weights[0], [s[0] for s in grads], **hyper)
    np.testing.assert_allclose(host(params[0]), expected, rtol=1e-4, atol=1e-5)


def test_parameters_without_gradients_are_skipped():
    weights, grads = make_problem()
    params = params_from(weights)
    opt = optim.Adam(params, lr=0.1)
    params[0].grad = Tensor(backend.xp().asarray(grads[0][0]))
    opt.step()
    np.testing.assert_array_equal(host(params[1]), weights[1])
    assert opt.state_dict()["state"].keys() == {0}
    params[1].grad = Tensor(backend.xp().asarray(grads[0][1]))
    opt.step()
    state = opt.state_dict()["state"]
    assert state[0]["step"] == 2 and state[1]["step"] == 1   # each parameter counts its own steps, as PyTorch


def test_gradient_is_not_modified_by_weight_decay():
    weights, grads = make_problem(steps=1)
    params = params_from(weights)
    params[0].grad = Tensor(backend.xp().asarray(grads[0][0].copy()))
    optim.SGD(params, lr=0.1, momentum=0.9, weight_decay=0.5).step()
    np.testing.assert_array_equal(host(params[0].grad), grads[0][0])


def test_zero_grad_sets_grads_to_none():
    model = nn.Linear(3, 2)
    opt = optim.SGD(model.parameters(), lr=0.1)   # a generator is fine
    model(Tensor(backend.xp().ones((4, 3), dtype=np.float32))).sum().backward()
    assert model.weight.grad is not None
    opt.zero_grad()
    assert model.weight.grad is None and model.bias.grad is None


def test_training_a_model_reduces_the_loss():
    from tinygan import manual_seed
    manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 1))
    rng = np.random.default_rng(0)
    x = Tensor(backend.xp().asarray(rng.standard_normal((64, 2)).astype(np.float32)))
    y = Tensor(backend.xp().asarray((rng.standard_normal((64, 1)) > 0).astype(np.float32)))
    opt = optim.Adam(model.parameters(), lr=0.01)
    losses = []
    for _ in range(60):
        opt.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.6 * losses[0]


def test_step_with_a_closure_returns_the_loss():
    model = nn.Linear(2, 1)
    opt = optim.SGD(model.parameters(), lr=0.1)
    x = Tensor(backend.xp().ones((3, 2), dtype=np.float32))
    before = host(model.weight).copy()

    def closure():
        opt.zero_grad()
        loss = (model(x) ** 2).mean()
        loss.backward()
        return loss
    loss = opt.step(closure)
    assert isinstance(loss, Tensor) and not np.array_equal(host(model.weight), before)


# -- parameter groups and errors ------------------------------------------------------------------------

def test_parameter_groups_and_changing_the_learning_rate():
    a, b = params_from([np.zeros(2), np.zeros(2)])
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 1.0}], lr=0.1)
    assert opt.param_groups[0]["lr"] == 0.1 and opt.param_groups[1]["lr"] == 1.0
    for p in (a, b):
        p.grad = Tensor(backend.xp().ones(2))
    opt.step()
    np.testing.assert_allclose(host(a), -0.1)
    np.testing.assert_allclose(host(b), -1.0)
    opt.param_groups[0]["lr"] = 0.5
    opt.step()
    np.testing.assert_allclose(host(a), -0.6)


def test_constructor_errors():
    model = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="got a Module"):
        optim.SGD(model, lr=0.1)
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.Adam([], lr=0.1)
    with pytest.raises(TypeError, match="single Tensor"):
        optim.Adam(model.weight)
    with pytest.raises(ValueError, match="more than once"):
        optim.Adam([model.weight, model.weight])
    with pytest.raises(ValueError, match="not a leaf Tensor"):
        optim.SGD([model.weight * 2], lr=0.1)
    with pytest.raises(ValueError, match="betas"):
        optim.Adam(model.parameters(), betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="nesterov"):
        optim.SGD(model.parameters(), lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="lr must be >= 0"):
        optim.RMSprop(model.parameters(), lr=-1)
    with pytest.raises(TypeError, match="unknown hyper-parameter"):
        optim.SGD([{"params": model.parameters(), "betas": (0.9, 0.9)}], lr=0.1)


# -- state_dict round trips ---------------------------------------------------------------------------

@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_state_dict_round_trip_continues_bit_identically(case):
    cls, _, hyper = case
    weights, grads = make_problem(steps=6)

    def set_grads(params, step_grads):
        for p, g in zip(params, step_grads):
            p.grad = Tensor(backend.xp().asarray(g.astype(np.float32)))

    # one optimizer runs 6 steps straight
    straight = params_from(weights, np.float32)
    opt = cls(straight, **hyper)
    for step_grads in grads:
        set_grads(straight, step_grads)
        opt.step()

    # another runs 3, is saved (to host arrays, as a checkpoint file would hold), and a new one resumes
    first = params_from(weights, np.float32)
    opt1 = cls(first, **hyper)
    for step_grads in grads[:3]:
        set_grads(first, step_grads)
        opt1.step()
    saved = opt1.state_dict()
    saved_weights = [host(p).copy() for p in first]   # the model's checkpoint
    snapshot = {i: {k: (host(v).copy() if hasattr(v, "shape") else v) for k, v in s.items()}
                for i, s in saved["state"].items()}
    set_grads(first, grads[3])
    opt1.step()   # later steps must not change the saved state
    for i, s in saved["state"].items():
        for k, v in s.items():
            if hasattr(v, "shape"):
                np.testing.assert_array_equal(host(v), snapshot[i][k])
    on_host = {"state": {str(i): {k: (host(v) if hasattr(v, "shape") else np.asarray(v)) for k, v in s.items()}
                         for i, s in saved["state"].items()},
               "param_groups": [{k: (list(v) if isinstance(v, tuple) else v) for k, v in g.items()}
                                for g in saved["param_groups"]]}   # as a JSON + npz checkpoint gives it back
    resumed = params_from(saved_weights, np.float32)
    fresh = cls(resumed, **dict(hyper, lr=123.0))    # hyper-parameters come back from the state
    fresh.load_state_dict(on_host)
    assert fresh.param_groups[0]["lr"] == opt.param_groups[0]["lr"]
    assert fresh.param_groups[0] == dict(opt.param_groups[0], params=resumed)
    for step_grads in grads[3:]:
        set_grads(resumed, step_grads)
        fresh.step()
    for a, b in zip(resumed, straight):
        np.testing.assert_array_equal(host(a), host(b))


def test_state_dict_is_plain_data_in_pytorchs_layout():
    params = params_from([np.zeros(3), np.zeros(2)])
    opt = optim.Adam(params, lr=0.01)
    for p in params:
        p.grad = Tensor(backend.xp().ones(p.shape))
    opt.step()
    state = opt.state_dict()
    assert set(state) == {"state", "param_groups"}
    assert state["param_groups"] == [{"lr": 0.01, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0,
                                      "amsgrad": False, "params": [0, 1]}]
    assert set(state["state"][0]) == {"step", "exp_avg", "exp_avg_sq"} and state["state"][0]["step"] == 1
    torch = pytest.importorskip("torch")
    theirs = torch.optim.Adam([torch.zeros(3, requires_grad=True), torch.zeros(2, requires_grad=True)], lr=0.01)
    assert set(theirs.state_dict()["param_groups"][0]) >= set(state["param_groups"][0])


def test_load_state_dict_errors_name_the_mismatch():
    model = nn.Sequential(nn.Linear(3, 2), nn.Linear(2, 1))
    opt = optim.Adam(model.parameters())
    model(Tensor(backend.xp().ones((1, 3), dtype=np.float32))).sum().backward()
    opt.step()
    other = nn.Sequential(nn.Linear(3, 2))
    with pytest.raises(ValueError, match="the state has 4 parameters, this optimizer has 2"):
        optim.Adam(other.parameters()).load_state_dict(opt.state_dict())
    wrong_shapes = nn.Sequential(nn.Linear(3, 2), nn.Linear(2, 2))
    with pytest.raises(ValueError, match=r"parameter 2 \(shape \(2, 2\)\): state 'exp_avg' has shape \(1, 2\)"):
        optim.Adam(wrong_shapes.parameters()).load_state_dict(opt.state_dict())
    with pytest.raises(ValueError, match="parameter group"):
        optim.Adam([{"params": model[0].parameters()}, {"params": model[1].parameters()}]).load_state_dict(
            opt.state_dict())


def test_formula_docstrings_cite_the_sources():
    assert "Kingma & Ba, 2015" in optim.Adam.__doc__
    assert "m_hat = m / (1 - beta1^t)" in optim.Adam.__doc__
    assert "b = mu b + (1 - tau) g" in optim.SGD.__doc__
    assert "v = alpha v + (1 - alpha) g^2" in optim.RMSprop.__doc__
