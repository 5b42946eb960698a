"""The PyTorch losses (functional and modules) against PyTorch in float64, their errors, and one_hot.
Gradient checks: tests/engine/test_op_contract.py's SPECS."""
import re

import numpy as np
import pytest

import tinygan.functional as F
from tinygan import Tensor, backend, nn

RNG = np.random.default_rng(0)
LOGITS = RNG.normal(0.0, 2.0, (6, 5))
LABELS = np.array([0, 4, -100, 2, 2, 1])
LOGITS_2D = RNG.normal(0.0, 2.0, (2, 5, 3, 2))
LABELS_2D = RNG.integers(0, 5, (2, 3, 2))
LABELS_2D[0, 1, 1] = -100  # ignored
CLASS_WEIGHT = RNG.uniform(0.2, 2.0, 5)
PROBS = RNG.dirichlet(np.ones(5), 6)
X, Y = RNG.normal(size=(4, 3)), RNG.normal(size=(4, 3))
P_SIGMOID, TARGET01 = RNG.uniform(0.05, 0.95, (4, 3)), RNG.uniform(0, 1, (4, 3))


def tensor(values, requires_grad=False):
    array = np.asarray(values)
    return Tensor(backend.xp().asarray(array), requires_grad=requires_grad and array.dtype.kind == "f")


def raises(error, *fragments):
    return pytest.raises(error, match=".*".join(re.escape(f) for f in fragments))


class Constant:
    """An input that no gradient is asked for (PyTorch differentiates no class weight)."""

    def __init__(self, array):
        self.array = array


def compare(ours, theirs, *arrays, rtol=1e-12):
    """ours(*tinygan tensors) and theirs(*torch tensors): equal values, and equal gradients for the float inputs
    that are not Constant."""
    torch = pytest.importorskip("torch")
    wanted = [not isinstance(x, Constant) and np.asarray(x).dtype.kind == "f" for x in arrays]
    arrays = [x.array if isinstance(x, Constant) else x for x in arrays]
    a = [tensor(x, requires_grad=w) for x, w in zip(arrays, wanted)]
    b = [torch.tensor(x, requires_grad=w) for x, w in zip(arrays, wanted)]
    ya, yb = ours(*a), theirs(torch, *b)
    u = np.random.default_rng(1).standard_normal(tuple(yb.shape))
    ya.backward(tensor(u))
    yb.backward(torch.tensor(u))
    np.testing.assert_allclose(backend.to_numpy(ya.array), yb.detach().numpy(), rtol=rtol, atol=1e-14)
    for i, (ta, tb) in enumerate(zip(a, b)):
        if tb.requires_grad:
            np.testing.assert_allclose(backend.to_numpy(ta.grad.array), tb.grad.numpy(), rtol=rtol, atol=1e-14,
                                       err_msg=f"gradient of input {i}")


CASES = {  # name: (tinygan, torch (given the torch module), inputs)
    "cross_entropy": (F.cross_entropy, lambda t, x, y: t.nn.functional.cross_entropy(x, y), (LOGITS, LABELS)),
    "cross_entropy weight smoothing": (
        lambda x, y, w: F.cross_entropy(x, y, weight=w, label_smoothing=0.15),
        lambda t, x, y, w: t.nn.functional.cross_entropy(x, y, weight=w, label_smoothing=0.15),
        (LOGITS, LABELS, Constant(CLASS_WEIGHT))),
    "cross_entropy 2-d sum": (
        lambda x, y: F.cross_entropy(x, y, reduction="sum", label_smoothing=0.3),
        lambda t, x, y: t.nn.functional.cross_entropy(x, y, reduction="sum", label_smoothing=0.3),
        (LOGITS_2D, LABELS_2D)),
    "cross_entropy 2-d none weight": (
        lambda x, y, w: F.cross_entropy(x, y, w, reduction="none", ignore_index=3),
        lambda t, x, y, w: t.nn.functional.cross_entropy(x, y, w, reduction="none", ignore_index=3),
        (LOGITS_2D, np.where(LABELS_2D < 0, 0, LABELS_2D), Constant(CLASS_WEIGHT))),
    "cross_entropy unbatched": (F.cross_entropy, lambda t, x, y: t.nn.functional.cross_entropy(x, y),
                                (LOGITS[0], np.array(3))),
    "cross_entropy probabilities": (
        lambda x, p, w: F.cross_entropy(x, p, weight=w, label_smoothing=0.2),
        lambda t, x, p, w: t.nn.functional.cross_entropy(x, p, weight=w, label_smoothing=0.2),
        (LOGITS, PROBS, Constant(CLASS_WEIGHT))),
    "nll_loss": (lambda x, y, w: F.nll_loss(F.log_softmax(x, dim=1), y, w),
                 lambda t, x, y, w: t.nn.functional.nll_loss(t.log_softmax(x, dim=1), y, w),
                 (LOGITS, LABELS, Constant(CLASS_WEIGHT))),
    "nll_loss 2-d none": (lambda x, y: F.nll_loss(x, y, reduction="none"),
                          lambda t, x, y: t.nn.functional.nll_loss(x, y, reduction="none"), (LOGITS_2D, LABELS_2D)),
    "l1_loss": (F.l1_loss, lambda t, x, y: t.nn.functional.l1_loss(x, y), (X, Y)),
    "l1_loss weight": (lambda x, y, w: F.l1_loss(x, y, weight=w), lambda t, x, y, w: t.nn.functional.l1_loss(x, y, weight=w),
                       (X, Y, Constant(P_SIGMOID))),
    "kl_div batchmean": (lambda q, p: F.kl_div(q, p, reduction="batchmean"),
                         lambda t, q, p: t.nn.functional.kl_div(q, p, reduction="batchmean"),
                         (np.log(PROBS[::-1].copy()), PROBS)),
    "kl_div zero targets": (lambda q, p: F.kl_div(q, p, reduction="sum"),
                            lambda t, q, p: t.nn.functional.kl_div(q, p, reduction="sum"),
                            (np.log(PROBS[::-1].copy()), Constant(np.where(PROBS < 0.1, 0.0, PROBS)))),
    "kl_div log_target none": (lambda q, p: F.kl_div(q, p, reduction="none", log_target=True),
                               lambda t, q, p: t.nn.functional.kl_div(q, p, reduction="none", log_target=True),
                               (np.log(PROBS[::-1].copy()), np.log(PROBS))),
    "BCELoss": (nn.BCELoss(weight=tensor(TARGET01[0])),
                lambda t, p, y: t.nn.BCELoss(weight=t.tensor(TARGET01[0]))(p, y), (P_SIGMOID, TARGET01)),
    "BCEWithLogitsLoss": (nn.BCEWithLogitsLoss(reduction="sum"),
                          lambda t, x, y: t.nn.BCEWithLogitsLoss(reduction="sum")(x, y), (X, TARGET01)),
    "BCEWithLogitsLoss pos_weight": (
        nn.BCEWithLogitsLoss(weight=tensor(P_SIGMOID[1]), pos_weight=tensor([0.5, 2.0, 3.0])),
        lambda t, x, y: t.nn.BCEWithLogitsLoss(weight=t.tensor(P_SIGMOID[1]), pos_weight=t.tensor([0.5, 2.0, 3.0]))(x, y),
        (X * 5, TARGET01)),
    "MSELoss": (nn.MSELoss(reduction="none"), lambda t, x, y: t.nn.MSELoss(reduction="none")(x, y), (X, Y)),
    "L1Loss": (nn.L1Loss(), lambda t, x, y: t.nn.L1Loss()(x, y), (X, Y)),
    "CrossEntropyLoss": (nn.CrossEntropyLoss(weight=tensor(CLASS_WEIGHT), label_smoothing=0.1),
                         lambda t, x, y: t.nn.CrossEntropyLoss(weight=t.tensor(CLASS_WEIGHT), label_smoothing=0.1)(x, y),
                         (LOGITS_2D, LABELS_2D)),
    "NLLLoss": (nn.NLLLoss(ignore_index=2), lambda t, x, y: t.nn.NLLLoss(ignore_index=2)(x, y),
                (LOGITS, np.abs(LABELS) % 5)),
    "KLDivLoss": (nn.KLDivLoss(reduction="batchmean", log_target=True),
                  lambda t, q, p: t.nn.KLDivLoss(reduction="batchmean", log_target=True)(q, p),
                  (np.log(PROBS), np.log(PROBS[::-1].copy()))),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_pytorch(name):
    ours, theirs, arrays = CASES[name]
    compare(ours, theirs, *arrays)


def test_legacy_size_average_and_reduce_map_onto_reduction():
    torch = pytest.importorskip("torch")
    with pytest.warns(UserWarning, match="deprecated"):
        ours = F.cross_entropy(tensor(LOGITS), tensor(np.abs(LABELS) % 5), size_average=False)
    with pytest.warns(UserWarning):
        theirs = torch.nn.functional.cross_entropy(torch.tensor(LOGITS), torch.tensor(np.abs(LABELS) % 5),
                                                   size_average=False)
    assert ours.item() == pytest.approx(theirs.item(), rel=1e-12)
    with pytest.warns(UserWarning):
        assert nn.L1Loss(reduce=False).reduction == "none"


def test_mean_with_every_label_ignored_is_nan_as_in_pytorch():
    with np.errstate(invalid="ignore"):
        assert np.isnan(F.cross_entropy(tensor(LOGITS[:2]), tensor(np.array([-100, -100]))).item())


def test_weight_is_a_buffer_with_pytorchs_key():
    state = nn.CrossEntropyLoss(weight=tensor(CLASS_WEIGHT)).state_dict()
    assert list(state) == ["weight"]
    assert list(nn.BCEWithLogitsLoss(pos_weight=tensor([2.0])).state_dict()) == ["pos_weight"]
    assert list(nn.CrossEntropyLoss().state_dict()) == []


def test_float32_stays_float32():
    x = tensor(LOGITS.astype(np.float32))
    assert F.cross_entropy(x, tensor(LABELS), label_smoothing=0.1).dtype == np.float32
    assert F.cross_entropy(x, tensor(LABELS), weight=tensor(CLASS_WEIGHT.astype(np.float32))).dtype == np.float32
    assert F.l1_loss(x, x * 2).dtype == np.float32
    assert F.kl_div(F.log_softmax(x, dim=1), F.softmax(x, dim=1), reduction="batchmean").dtype == np.float32


def test_one_hot():
    got = F.one_hot(tensor(np.array([[2, 0], [1, 2]])))
    assert got.dtype == np.int64 and tuple(got.shape) == (2, 2, 3)
    np.testing.assert_array_equal(backend.to_numpy(got.array)[0], [[0, 0, 1], [1, 0, 0]])
    assert tuple(F.one_hot(tensor(np.array([1])), num_classes=5).shape) == (1, 5)
    with raises(ValueError, "one_hot: class values must lie in [0, 3)", "from 0 to 3"):
        F.one_hot(tensor(np.array([0, 3])), 3)
    with raises(TypeError, "one_hot", "index tensors", "float64"):
        F.one_hot(tensor(np.array([1.0])))


def test_errors_name_the_op_and_the_shapes():
    x = tensor(LOGITS)
    with raises(ValueError, "cross_entropy: input of shape (6, 5)", "targets of shape (6,)", "got (5,)"):
        F.cross_entropy(x, tensor(np.arange(5)))
    with raises(IndexError, "cross_entropy: target 7 is out of bounds", "(6, 5) has 5 classes", "ignore_index=-100"):
        F.cross_entropy(x, tensor(np.array([0, 1, 2, 3, 4, 7])))
    with raises(TypeError, "nll_loss: targets must be integer class labels, got dtype float64"):
        F.nll_loss(x, tensor(np.zeros(6)))
    with raises(ValueError, "cross_entropy: weight must have shape (5,)", "(6, 5)", "got (4,)"):
        F.cross_entropy(x, tensor(np.abs(LABELS) % 5), weight=tensor(np.ones(4)))
    with raises(TypeError, "cross_entropy: weight has dtype float64 but the input float32"):
        F.cross_entropy(tensor(LOGITS.astype(np.float32)), tensor(LABELS), weight=tensor(CLASS_WEIGHT))
    with raises(ValueError, "cross_entropy: probability targets must have the input's shape (6, 5), got (6, 4)"):
        F.cross_entropy(x, tensor(np.ones((6, 4))))
    with raises(ValueError, "cross_entropy: label_smoothing must be in [0, 1], got 1.5"):
        F.cross_entropy(x, tensor(np.abs(LABELS) % 5), label_smoothing=1.5)
    with raises(ValueError, "kl_div: reduction must be one of", "got 'avg'"):
        F.kl_div(x, x, reduction="avg")
    with raises(ValueError, "l1_loss: targets have shape (6, 4) but inputs have shape (6, 5)"):
        F.l1_loss(x, tensor(np.ones((6, 4))))
    with raises(ValueError, "MSELoss: reduction must be one of", "got 'batchmean'"):
        nn.MSELoss(reduction="batchmean")
