"""The likelihood, margin and embedding losses (GaussianNLLLoss, PoissonNLLLoss, MarginRankingLoss,
TripletMarginLoss, CosineEmbeddingLoss, HingeEmbeddingLoss, SoftMarginLoss, MultiLabelSoftMarginLoss), functional
and modules, against PyTorch in float64: values and gradients for every reduction and option, at the boundaries
(var at its clamp, targets 0 and 1, each hinge exactly at its margin), the deprecated size_average= and reduce=,
the modules' defaults and reprs, and the errors. Gradient checks: tests/engine/test_op_contract.py's SPECS."""
import warnings

import numpy as np
import pytest

import tinygan.functional as F
from tinygan import backend, nn

from test_pytorch_losses import Constant, raises, tensor

RNG = np.random.default_rng(0)
X, Y, Z = RNG.normal(size=(4, 3)), RNG.normal(size=(4, 3)), RNG.normal(size=(4, 3))
SIGNS = np.array([[1.0, -1.0, -1.0], [1.0, 1.0, -1.0], [-1.0, 1.0, 1.0], [-1.0, -1.0, 1.0]])
LABELS = np.array([1.0, -1.0, -1.0, 1.0])
PROBS = RNG.uniform(0.0, 1.0, (4, 3))
CLASS_WEIGHT = RNG.uniform(0.2, 2.0, 3)
VAR = RNG.uniform(0.2, 2.0, (4, 3))
VAR[0, 0], VAR[0, 1], VAR[1, 2] = 1e-6, 1e-8, 0.0         # at the clamp (eps = 1e-6), below it, and 0
COUNTS = np.array([[0.0, 1.0, 2.0], [3.5, 0.5, 1.0], [0.0, 7.0, 1.5], [1.0, 0.0, 4.0]])
REDUCTIONS = ("mean", "sum", "none")


def compare(ours, theirs, *arrays, rtol=1e-12):
    """ours(*tinygan tensors) and theirs(torch, *torch tensors): equal values, and equal gradients for the inputs
    that are not Constant."""
    torch = pytest.importorskip("torch")
    wanted = [not isinstance(x, Constant) for x in arrays]
    arrays = [x.array if isinstance(x, Constant) else np.asarray(x) for x in arrays]
    a = [tensor(x, requires_grad=w) for x, w in zip(arrays, wanted)]
    b = [torch.tensor(x, requires_grad=w) for x, w in zip(arrays, wanted)]
    ya, yb = ours(*a), theirs(torch, *b)
    assert tuple(ya.shape) == tuple(yb.shape)
    u = np.random.default_rng(1).standard_normal(tuple(yb.shape))
    ya.backward(tensor(u))
    yb.backward(torch.tensor(u))
    expected = yb.detach().numpy()
    np.testing.assert_allclose(backend.to_numpy(ya.array), expected, rtol=rtol, atol=1e-14)
    for i, (ta, tb) in enumerate(zip(a, b)):
        if tb.requires_grad:
            grad = tb.grad.numpy()
            np.testing.assert_allclose(backend.to_numpy(ta.grad.array), grad, rtol=rtol,
                                       atol=rtol * max(1.0, np.abs(grad).max()), err_msg=f"gradient of input {i}")


def functional(name, **options):
    """(ours, theirs) calling the functional loss `name` with the same options."""
    return (lambda *xs: getattr(F, name)(*xs, **options),
            lambda t, *xs: getattr(t.nn.functional, name)(*xs, **options))


def module(name, **options):
    """(ours, theirs) calling a new module `name` built with the same options."""
    return lambda *xs: getattr(nn, name)(**options)(*xs), lambda t, *xs: getattr(t.nn, name)(**options)(*xs)


CASES = {}  # name: (ours, theirs, inputs)
for r in REDUCTIONS:
    CASES[f"gaussian_nll_loss {r}"] = (*functional("gaussian_nll_loss", reduction=r), (X, Y, VAR))
    CASES[f"gaussian_nll_loss full {r}"] = (*functional("gaussian_nll_loss", full=True, reduction=r), (X, Y, VAR))
    CASES[f"poisson_nll_loss {r}"] = (*functional("poisson_nll_loss", reduction=r), (X, COUNTS))
    CASES[f"poisson_nll_loss rates full {r}"] = (*functional("poisson_nll_loss", log_input=False, full=True,
                                                             reduction=r), (np.abs(X), Constant(COUNTS)))
    CASES[f"margin_ranking_loss {r}"] = (*functional("margin_ranking_loss", margin=0.3, reduction=r), (X, Y, SIGNS))
    CASES[f"triplet_margin_loss {r}"] = (*functional("triplet_margin_loss", reduction=r), (X, Y, Z))
    CASES[f"cosine_embedding_loss {r}"] = (*functional("cosine_embedding_loss", margin=0.2, reduction=r),
                                           (X, Y, Constant(LABELS)))
    CASES[f"hinge_embedding_loss {r}"] = (*functional("hinge_embedding_loss", margin=0.7, reduction=r),
                                          (X, Constant(SIGNS)))
    CASES[f"soft_margin_loss {r}"] = (*functional("soft_margin_loss", reduction=r), (X * 3, Constant(SIGNS)))
    CASES[f"multilabel_soft_margin_loss {r}"] = (*functional("multilabel_soft_margin_loss", reduction=r), (X, PROBS))

CASES.update({
    # GaussianNLLLoss: var's shapes, eps, a number
    "gaussian_nll_loss one variance per row": (*functional("gaussian_nll_loss", eps=0.5), (X, Y, VAR[:, 0])),
    "gaussian_nll_loss one axis of size 1": (*functional("gaussian_nll_loss", reduction="none"), (X, Y, VAR[:, :1])),
    "gaussian_nll_loss one row of variances": (*functional("gaussian_nll_loss", reduction="none"), (X, Y, VAR[1:2])),
    "gaussian_nll_loss broadcast target": (*functional("gaussian_nll_loss", reduction="none"), (X, Y[:1], VAR)),
    "gaussian_nll_loss var a number": (lambda x, y: F.gaussian_nll_loss(x, y, 0.3, full=True),
                                       lambda t, x, y: t.nn.functional.gaussian_nll_loss(x, y, 0.3, full=True),
                                       (X, Y)),
    "gaussian_nll_loss var at eps": (*functional("gaussian_nll_loss", eps=0.25, reduction="none"),
                                     (X, Y, np.array([[0.25, 0.1, 0.0]] * 4))),
    # PoissonNLLLoss: targets 0 and 1 (Stirling's term starts above 1), eps, broadcasting
    "poisson_nll_loss full targets 0 and 1": (*functional("poisson_nll_loss", full=True, reduction="none"),
                                              (X, Constant(COUNTS))),
    "poisson_nll_loss full targets above 0": (*functional("poisson_nll_loss", full=True, reduction="sum"),
                                              (X, np.where(COUNTS == 0, 0.25, COUNTS))),
    "poisson_nll_loss rates eps": (*functional("poisson_nll_loss", log_input=False, eps=0.1), (np.abs(X), COUNTS)),
    "poisson_nll_loss broadcast": (*functional("poisson_nll_loss", reduction="none"), (X, COUNTS[:1])),
    # the hinges exactly at their margins: PyTorch passes the slope's gradient there
    "margin_ranking_loss at the margin": (*functional("margin_ranking_loss", margin=0.5, reduction="none"),
                                          (np.array([1.0, 0.0, 2.0]), np.array([0.5, 0.5, 1.0]),
                                           np.array([1.0, -1.0, 1.0]))),
    "margin_ranking_loss broadcast target": (*functional("margin_ranking_loss", reduction="none"),
                                             (X, Y, SIGNS[:1])),
    "hinge_embedding_loss at the margin": (*functional("hinge_embedding_loss", reduction="none"),
                                           (np.array([1.0, 0.5, 2.0, 0.3, 1.0]),
                                            Constant(np.array([-1.0, -1.0, 1.0, 0.5, 1.0])))),
    "hinge_embedding_loss integer labels": (*functional("hinge_embedding_loss", margin=0.4),
                                            (X, Constant(SIGNS.astype(np.int64)))),
    "cosine_embedding_loss at the margin": (*functional("cosine_embedding_loss", reduction="none"),
                                            (np.array([[1.0, 0.0], [1.0, 2.0], [0.5, 1.0]]),
                                             np.array([[0.0, 3.0], [1.0, 2.0], [2.0, -1.0]]),
                                             Constant(np.array([-1.0, 1.0, -1.0])))),
    "cosine_embedding_loss other labels": (*functional("cosine_embedding_loss", margin=-0.5, reduction="sum"),
                                           (X, Y, Constant(np.array([0.0, -1.0, 2.0, 1.0])))),
    "cosine_embedding_loss one pair": (*functional("cosine_embedding_loss", margin=-0.9), (X[0], Y[0],
                                                                                           Constant(np.array(-1.0)))),
    "cosine_embedding_loss integer labels": (*functional("cosine_embedding_loss"),
                                             (X, Y, Constant(LABELS.astype(np.int64)))),
    # TripletMarginLoss: p, eps, swap, one triplet, broadcasting, the margin and a swap's tie
    **{f"triplet_margin_loss p={p} swap={swap}": (*functional("triplet_margin_loss", margin=2.0, p=p, swap=swap,
                                                              reduction="none"), (X, Y, Z))
       for p in (1, 3, 0.5, float("inf")) for swap in (False, True)},
    "triplet_margin_loss eps": (*functional("triplet_margin_loss", margin=1.5, eps=0.3, swap=True), (X, Y, Z)),
    "triplet_margin_loss one triplet": (*functional("triplet_margin_loss", margin=3.0), (X[0], Y[0], Z[0])),
    "triplet_margin_loss broadcast": (*functional("triplet_margin_loss", reduction="none"), (X, Y[:1], Z)),
    "triplet_margin_loss at the margin": (*functional("triplet_margin_loss", eps=0.0, reduction="none"),
                                          (np.zeros((1, 2)), np.zeros((1, 2)), np.array([[1.0, 0.0]]))),
    "triplet_margin_loss swap tie": (*functional("triplet_margin_loss", margin=2.0, eps=0.0, swap=True),
                                     (np.zeros((1, 2)), np.array([[0.0, 2.0]]), np.array([[0.0, 1.0]]))),
    # MultiLabelSoftMarginLoss: class weights, one sample, more axes
    "multilabel_soft_margin_loss weight": (lambda x, y, w: F.multilabel_soft_margin_loss(x, y, weight=w),
                                           lambda t, x, y, w: t.nn.functional.multilabel_soft_margin_loss(x, y, w),
                                           (X * 4, PROBS, Constant(CLASS_WEIGHT))),
    "multilabel_soft_margin_loss weight per element": (
        lambda x, y, w: F.multilabel_soft_margin_loss(x, y, w, reduction="none"),
        lambda t, x, y, w: t.nn.functional.multilabel_soft_margin_loss(x, y, w, reduction="none"),
        (X, (PROBS > 0.5) * 1.0, Constant(VAR + 0.1))),
    "multilabel_soft_margin_loss one sample": (*functional("multilabel_soft_margin_loss", reduction="none"),
                                               (X[0], PROBS[0])),
    "multilabel_soft_margin_loss 3-d": (*functional("multilabel_soft_margin_loss", reduction="none"),
                                        (X.reshape(2, 2, 3), PROBS.reshape(2, 2, 3))),
    # the modules, with their options
    "GaussianNLLLoss": (*module("GaussianNLLLoss", full=True, eps=0.3, reduction="sum"), (X, Y, VAR)),
    "PoissonNLLLoss": (*module("PoissonNLLLoss", log_input=False, full=True, eps=1e-3, reduction="none"),
                       (np.abs(X), Constant(COUNTS))),
    "MarginRankingLoss": (*module("MarginRankingLoss", margin=-0.2), (X, Y, SIGNS)),
    "TripletMarginLoss": (*module("TripletMarginLoss", margin=0.5, p=1.0, eps=1e-3, swap=True, reduction="sum"),
                          (X, Y, Z)),
    "CosineEmbeddingLoss": (*module("CosineEmbeddingLoss", margin=0.1, reduction="none"), (X, Y, Constant(LABELS))),
    "HingeEmbeddingLoss": (*module("HingeEmbeddingLoss", margin=2.0), (X, Constant(SIGNS))),
    "SoftMarginLoss": (*module("SoftMarginLoss", reduction="sum"), (X, Constant(SIGNS))),
    "MultiLabelSoftMarginLoss": (lambda x, y: nn.MultiLabelSoftMarginLoss(weight=tensor(CLASS_WEIGHT))(x, y),
                                 lambda t, x, y: t.nn.MultiLabelSoftMarginLoss(weight=t.tensor(CLASS_WEIGHT))(x, y),
                                 (X, PROBS)),
})


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_pytorch(name):
    ours, theirs, arrays = CASES[name]
    compare(ours, theirs, *arrays)


def test_the_clamped_variance_keeps_its_gradient_as_in_pytorch():
    """The clamp max(var, eps) is not differentiated: below eps, var's gradient is the derivative at eps."""
    x, y, var = tensor([0.5]), tensor([0.0]), tensor([0.01], requires_grad=True)
    F.gaussian_nll_loss(x, y, var, eps=0.1).backward()
    assert var.grad.item() == pytest.approx(0.5 * (1 / 0.1 - 0.25 / 0.1 ** 2), rel=1e-12)


def test_poisson_target_gradient_at_a_zero_target_is_finite():
    """PyTorch's gradient with respect to a target 0 is NaN under full=True (0 log 0); here it is -x, the gradient
    of the term -y x, as at any other target <= 1."""
    x, y = tensor([0.5, 0.3]), tensor([0.0, 1.0], requires_grad=True)
    F.poisson_nll_loss(x, y, full=True, reduction="sum").backward()
    np.testing.assert_array_equal(backend.to_numpy(y.grad.array), [-0.5, -0.3])


def test_soft_margin_loss_stays_finite_far_from_the_margin():
    loss = F.soft_margin_loss(tensor([-1000.0, 1000.0]), tensor([1.0, 1.0]), reduction="none")
    np.testing.assert_array_equal(backend.to_numpy(loss.array), [1000.0, 0.0])


LEGACY = [dict(size_average=False), dict(reduce=False), dict(size_average=True, reduce=True)]
LEGACY_CASES = {  # name: inputs
    "poisson_nll_loss": (X, COUNTS),
    "margin_ranking_loss": (X, Y, SIGNS),
    "triplet_margin_loss": (X, Y, Z),
    "cosine_embedding_loss": (X, Y, Constant(LABELS)),
    "hinge_embedding_loss": (X, Constant(SIGNS)),
    "soft_margin_loss": (X, Constant(SIGNS)),
    "multilabel_soft_margin_loss": (X, PROBS),
}
MODULE_OF = {"poisson_nll_loss": "PoissonNLLLoss", "margin_ranking_loss": "MarginRankingLoss",
             "triplet_margin_loss": "TripletMarginLoss", "cosine_embedding_loss": "CosineEmbeddingLoss",
             "hinge_embedding_loss": "HingeEmbeddingLoss", "soft_margin_loss": "SoftMarginLoss",
             "multilabel_soft_margin_loss": "MultiLabelSoftMarginLoss"}


@pytest.mark.parametrize("legacy", LEGACY, ids=lambda kw: ",".join(f"{k}={v}" for k, v in kw.items()))
@pytest.mark.parametrize("name", sorted(LEGACY_CASES))
def test_deprecated_size_average_and_reduce_map_onto_reduction(name, legacy):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)   # PyTorch's deprecation warning, and ours
        compare(*functional(name, **legacy), *LEGACY_CASES[name])
        compare(*module(MODULE_OF[name], **legacy), *LEGACY_CASES[name])
    with pytest.warns(UserWarning, match="deprecated"):
        getattr(nn, MODULE_OF[name])(**legacy)


def test_modules_have_pytorchs_defaults_and_reprs():
    torch = pytest.importorskip("torch")
    options = ("reduction", "full", "eps", "log_input", "margin", "p", "swap")
    for name in ("GaussianNLLLoss", "PoissonNLLLoss", "MarginRankingLoss", "TripletMarginLoss", "CosineEmbeddingLoss",
                 "HingeEmbeddingLoss", "SoftMarginLoss", "MultiLabelSoftMarginLoss"):
        ours, theirs = getattr(nn, name)(), getattr(torch.nn, name)()
        assert repr(ours) == repr(theirs) == f"{name}()"
        for option in options:
            assert getattr(ours, option, None) == getattr(theirs, option, None), (name, option)
    assert nn.MultiLabelSoftMarginLoss().weight is None
    assert list(nn.MultiLabelSoftMarginLoss(weight=tensor(CLASS_WEIGHT)).state_dict()) == ["weight"]
    with pytest.raises(TypeError):
        nn.GaussianNLLLoss(True)                       # keyword-only, as in PyTorch


def test_float32_stays_float32():
    x, y = tensor(X.astype(np.float32)), tensor(Y.astype(np.float32))
    signs, counts = tensor(SIGNS.astype(np.float32)), tensor(COUNTS.astype(np.float32))
    losses = [F.gaussian_nll_loss(x, y, tensor(VAR.astype(np.float32)), full=True), F.gaussian_nll_loss(x, y, 0.5),
              F.poisson_nll_loss(x, counts, full=True), F.margin_ranking_loss(x, y, signs),
              F.triplet_margin_loss(x, y, x * 2), F.cosine_embedding_loss(x, y, tensor(LABELS)),
              F.hinge_embedding_loss(x, signs), F.soft_margin_loss(x, signs), F.multilabel_soft_margin_loss(x, signs)]
    assert [loss.dtype for loss in losses] == [np.float32] * len(losses)


ERRORS = {  # name: (ours, theirs (given torch), error, message fragments)
    "negative var": (lambda: F.gaussian_nll_loss(tensor(X), tensor(Y), tensor(-VAR)),
                     lambda t: t.nn.functional.gaussian_nll_loss(t.tensor(X), t.tensor(Y), t.tensor(-VAR)),
                     ValueError, ("gaussian_nll_loss: var has negative entry/entries",)),
    "negative var number": (lambda: F.gaussian_nll_loss(tensor(X), tensor(Y), -0.5),
                            lambda t: t.nn.functional.gaussian_nll_loss(t.tensor(X), t.tensor(Y), -0.5),
                            ValueError, ("gaussian_nll_loss: var has negative entry/entries", "-0.5")),
    "var size": (lambda: F.gaussian_nll_loss(tensor(X), tensor(Y), tensor(VAR[:2, :2])),
                 lambda t: t.nn.functional.gaussian_nll_loss(t.tensor(X), t.tensor(Y), t.tensor(VAR[:2, :2])),
                 ValueError, ("gaussian_nll_loss: var is of incorrect size", "(4, 3)", "(4,)", "got (2, 2)")),
    "var two axes of size 1": (
        lambda: F.gaussian_nll_loss(tensor(X), tensor(Y), tensor(VAR[:1, :1])),
        lambda t: t.nn.functional.gaussian_nll_loss(t.tensor(X), t.tensor(Y), t.tensor(VAR[:1, :1])),
        ValueError, ("gaussian_nll_loss: var is of incorrect size", "got (1, 1)")),
    "gaussian reduction": (lambda: F.gaussian_nll_loss(tensor(X), tensor(Y), tensor(VAR), reduction="avg"),
                           lambda t: t.nn.functional.gaussian_nll_loss(t.tensor(X), t.tensor(Y), t.tensor(VAR),
                                                                       reduction="avg"),
                           ValueError, ("gaussian_nll_loss: reduction must be one of", "got 'avg'")),
    "gaussian target shape": (lambda: F.gaussian_nll_loss(tensor(X), tensor(Y[:, :2]), tensor(VAR)),
                              lambda t: t.nn.functional.gaussian_nll_loss(t.tensor(X), t.tensor(Y[:, :2]),
                                                                          t.tensor(VAR)),
                              ValueError, ("gaussian_nll_loss: the shapes input (4, 3), target (4, 2)",
                                           "cannot be broadcast")),
    "poisson shape": (lambda: F.poisson_nll_loss(tensor(X), tensor(COUNTS[:, :2])),
                      lambda t: t.nn.functional.poisson_nll_loss(t.tensor(X), t.tensor(COUNTS[:, :2])),
                      ValueError, ("poisson_nll_loss: the shapes input (4, 3), target (4, 2) cannot be broadcast",)),
    "poisson reduction": (lambda: F.poisson_nll_loss(tensor(X), tensor(COUNTS), reduction="batchmean"),
                          lambda t: t.nn.functional.poisson_nll_loss(t.tensor(X), t.tensor(COUNTS),
                                                                     reduction="batchmean"),
                          ValueError, ("poisson_nll_loss: reduction must be one of", "got 'batchmean'")),
    "margin ranking dimensions": (lambda: F.margin_ranking_loss(tensor(X[0]), tensor(Y[0]), tensor(1.0)),
                                  lambda t: t.nn.functional.margin_ranking_loss(t.tensor(X[0]), t.tensor(Y[0]),
                                                                                t.tensor(1.0)),
                                  ValueError, ("margin_ranking_loss: input1, input2 and target must have the same "
                                               "number of dimensions, got shapes (3,), (3,) and ()",)),
    "triplet margin": (lambda: F.triplet_margin_loss(tensor(X), tensor(Y), tensor(Z), margin=0.0),
                       lambda t: t.nn.functional.triplet_margin_loss(t.tensor(X), t.tensor(Y), t.tensor(Z), margin=0.0),
                       ValueError, ("triplet_margin_loss: margin must be greater than 0, got 0.0",)),
    "triplet module margin": (lambda: nn.TripletMarginLoss(margin=-1.0), lambda t: t.nn.TripletMarginLoss(margin=-1.0),
                              ValueError, ("TripletMarginLoss: expected margin to be greater than 0, got -1.0",)),
    "triplet dimensions": (lambda: F.triplet_margin_loss(tensor(X), tensor(Y[0]), tensor(Z)),
                           lambda t: t.nn.functional.triplet_margin_loss(t.tensor(X), t.tensor(Y[0]), t.tensor(Z)),
                           ValueError, ("triplet_margin_loss: anchor, positive and negative must have the same number "
                                        "of dimensions, got shapes (4, 3), (3,) and (4, 3)",)),
    "triplet shapes": (lambda: F.triplet_margin_loss(tensor(X), tensor(Y[:, :2]), tensor(Z)),
                       lambda t: t.nn.functional.triplet_margin_loss(t.tensor(X), t.tensor(Y[:, :2]), t.tensor(Z)),
                       ValueError, ("triplet_margin_loss: the shapes anchor (4, 3), positive (4, 2), "
                                    "negative (4, 3)",)),
    "cosine 2-d target": (lambda: F.cosine_embedding_loss(tensor(X), tensor(Y), tensor(SIGNS)),
                          lambda t: t.nn.functional.cosine_embedding_loss(t.tensor(X), t.tensor(Y), t.tensor(SIGNS)),
                          ValueError, ("cosine_embedding_loss: 0-d or 1-d target expected", "got shape (4, 3)")),
    "cosine input dimensions": (lambda: F.cosine_embedding_loss(tensor(X[0]), tensor(Y[0]), tensor(LABELS)),
                                lambda t: t.nn.functional.cosine_embedding_loss(t.tensor(X[0]), t.tensor(Y[0]),
                                                                                t.tensor(LABELS)),
                                ValueError, ("cosine_embedding_loss: a 1-d target expects 2-d input tensors",
                                             "got inputs of shapes (3,) and (3,)")),
    "cosine target length": (lambda: F.cosine_embedding_loss(tensor(X), tensor(Y), tensor(LABELS[:3])),
                             lambda t: t.nn.functional.cosine_embedding_loss(t.tensor(X), t.tensor(Y),
                                                                             t.tensor(LABELS[:3])),
                             ValueError, ("cosine_embedding_loss: the shapes input1 (4,), input2 (4,), target (3,)",)),
    "hinge shapes": (lambda: F.hinge_embedding_loss(tensor(X), tensor(SIGNS[:, :2])),
                     lambda t: t.nn.functional.hinge_embedding_loss(t.tensor(X), t.tensor(SIGNS[:, :2])),
                     ValueError, ("hinge_embedding_loss: the shapes input (4, 3), target (4, 2)",)),
    "soft margin shapes": (lambda: F.soft_margin_loss(tensor(X), tensor(SIGNS[:2, :2])),
                           lambda t: t.nn.functional.soft_margin_loss(t.tensor(X), t.tensor(SIGNS[:2, :2])),
                           ValueError, ("soft_margin_loss: the shapes input (4, 3), target (2, 2)",)),
    "multilabel weight shape": (lambda: F.multilabel_soft_margin_loss(tensor(X), tensor(PROBS), tensor(np.ones(2))),
                                lambda t: t.nn.functional.multilabel_soft_margin_loss(t.tensor(X), t.tensor(PROBS),
                                                                                      t.tensor(np.ones(2))),
                                ValueError, ("multilabel_soft_margin_loss: the shapes input (4, 3), weight (2,)",)),
    "multilabel 0-d input": (lambda: F.multilabel_soft_margin_loss(tensor(1.0), tensor(1.0)),
                             lambda t: t.nn.functional.multilabel_soft_margin_loss(t.tensor(1.0), t.tensor(1.0)),
                             ValueError, ("multilabel_soft_margin_loss: input must have a class dimension",)),
    "multilabel reduction": (lambda: F.multilabel_soft_margin_loss(tensor(X), tensor(PROBS), reduction="max"),
                             lambda t: t.nn.functional.multilabel_soft_margin_loss(t.tensor(X), t.tensor(PROBS),
                                                                                   reduction="max"),
                             ValueError, ("multilabel_soft_margin_loss: reduction must be one of", "got 'max'")),
}


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_bad_input_is_named_where_pytorch_refuses_it(name):
    ours, theirs, error, fragments = ERRORS[name]
    with raises(error, *fragments):
        ours()
    torch = pytest.importorskip("torch")
    with pytest.raises((RuntimeError, ValueError, IndexError)):
        theirs(torch)


def test_module_reduction_is_checked():
    with raises(ValueError, "SoftMarginLoss: reduction must be one of", "got 'avg'"):
        nn.SoftMarginLoss(reduction="avg")
    with raises(ValueError, "GaussianNLLLoss: reduction must be one of", "got 'batchmean'"):
        nn.GaussianNLLLoss(reduction="batchmean")
