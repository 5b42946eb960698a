"""In-place changes and autograd: `x += y` and friends, operands that require grad, and the version count that
stops a backward from reading values changed since its forward (PyTorch's 'modified by an inplace operation').
Where torch is installed, each case is run in both and must end the same way."""
import numpy as np
import pytest

import tinygan
import tinygan.nn.functional as F
from tinygan import backend, nn

from test_tensor_api import IN_PLACE, host, leaf


# -- x += y and friends ----------------------------------------------------------------------------

def test_the_manual_sgd_loop_of_pytorchs_tutorial_updates_the_parameters():
    """`with no_grad(): for p in model.parameters(): p -= lr * p.grad`, unchanged, changes the model itself."""
    tinygan.manual_seed(0)
    model = nn.Linear(2, 1)
    before = [host(p).copy() for p in model.parameters()]
    model(tinygan.ones(4, 2)).sum().backward()
    grads = [host(p.grad).copy() for p in model.parameters()]
    with tinygan.no_grad():
        for p in model.parameters():
            p -= 0.1 * p.grad
    for p, start, g in zip(model.parameters(), before, grads):
        np.testing.assert_allclose(host(p), start - 0.1 * g, rtol=1e-6)
        assert p.requires_grad and p.is_leaf


@pytest.mark.parametrize("op, expected", [("+=", 6.0), ("-=", 2.0), ("*=", 8.0), ("/=", 2.0), ("**=", 16.0)])
def test_augmented_assignment_outside_a_graph_changes_the_tensor_itself(op, expected):
    x = tinygan.full((3,), 4.0)
    same = x
    if op == "+=":
        x += 2
    elif op == "-=":
        x -= 2
    elif op == "*=":
        x *= 2
    elif op == "/=":
        x /= 2
    else:
        x **= 2
    assert x is same and host(same).tolist() == [expected] * 3


def test_augmented_assignment_inside_a_graph_records_a_new_tensor():
    q = leaf([1.0, 2.0])
    h = q * 2
    first = h
    h += q                                               # recorded: h is now a new tensor, 3q
    assert h is not first and host(first).tolist() == [2.0, 4.0]
    h.sum().backward()
    assert host(q.grad).tolist() == [3.0, 3.0]
    total = tinygan.zeros(2, dtype=tinygan.float64)
    total += q * q                                       # an operand in a graph: the sum joins it
    assert total.requires_grad
    q.grad = None
    total.sum().backward()
    assert host(q.grad).tolist() == [2.0, 4.0]


def test_augmented_assignment_on_a_leaf_that_requires_grad_is_refused_as_in_pytorch():
    q = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match=r"\+=: a leaf Variable that requires grad is being used in an in-place"):
        q += 1
    assert host(q).tolist() == [1.0, 2.0]
    with tinygan.no_grad():
        q += 1
    assert host(q).tolist() == [2.0, 3.0] and q.requires_grad


def test_an_in_place_method_refuses_an_operand_that_requires_grad():
    """The sum would not be recorded, so the operand's gradient would be lost without a word."""
    total, q = tinygan.zeros(2, dtype=tinygan.float64), leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match=r"add_: the operand of shape \(2,\) requires grad.*gradient would be lost"):
        total.add_(q * 2)
    assert host(total).tolist() == [0.0, 0.0]
    with tinygan.no_grad():
        total.add_(q * 2)
    assert host(total).tolist() == [2.0, 4.0]


def test_item_assignment_writes_in_place_with_numbers_tensors_and_masks():
    x = tinygan.zeros(2, 3, dtype=tinygan.float64)
    same = x
    x[0] = 5
    x[1, 2] = tinygan.tensor(7.0)
    x[:, 0] = tinygan.tensor([1.0, 2.0])
    x[x > 6] = -1
    assert x is same and host(x).tolist() == [[1.0, 5.0, 5.0], [2.0, 0.0, -1.0]]
    one_hot = tinygan.zeros(3, 4)
    one_hot[tinygan.arange(3), tinygan.tensor([1, 3, 0])] = 1
    assert host(one_hot).tolist() == [[0, 1, 0, 0], [0, 0, 0, 1], [1, 0, 0, 0]]


def test_item_assignment_follows_the_rules_of_the_in_place_methods():
    w = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="item assignment: a leaf Variable that requires grad"):
        w[0] = 3.0
    with pytest.raises(RuntimeError, match="item assignment: in-place operations on a tensor computed by a "
                                           "recorded graph"):
        (w * 2)[0] = 3.0
    plain = tinygan.zeros(2, dtype=tinygan.float64)
    with pytest.raises(RuntimeError, match=r"item assignment: the operand of shape \(\) requires grad"):
        plain[0] = w[1]
    with tinygan.no_grad():
        w[0] = 3.0
    assert host(w).tolist() == [3.0, 2.0] and host(plain).tolist() == [0.0, 0.0]


# -- the version count ------------------------------------------------------------------------------

def _set_first_item(x, value):
    x[0] = value


CHANGES = {name: (lambda x, name=name: getattr(x, name)(*IN_PLACE[name][0])) for name in IN_PLACE}
CHANGES.update({"x[0] = 4": lambda x: _set_first_item(x, 4.0), "x += 1": lambda x: x.__iadd__(1.0),
                "x /= 2": lambda x: x.__itruediv__(2.0)})


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_every_in_place_change_is_counted(change):
    x = tinygan.tensor(backend.to_device(np.array([-1.0, 0.25, 2.0]), backend.current_device()))
    w = leaf([1.0, 1.0, 1.0])
    loss = (w * x).sum()
    CHANGES[change](x)
    with pytest.raises(RuntimeError, match=r"Mul.backward: its input 1 \(shape \(3,\), float64\) was changed in "
                                           r"place after the forward used it \(version 1, expected 0\)"):
        loss.backward()


def test_a_step_between_a_forward_and_its_backward_is_refused_and_a_new_forward_is_not():
    """The GAN mistake that PyTorch's version check teaches: the graph was built with the weights before the step."""
    tinygan.manual_seed(0)
    layer = nn.Linear(3, 1)
    optimizer = tinygan.optim.Adam(layer.parameters(), lr=0.1)
    features = tinygan.ones(2, 3, requires_grad=True)     # as a discriminator's input from the generator
    first, stale = layer(features).sum(), layer(features).sum()
    first.backward()
    optimizer.step()
    with pytest.raises(RuntimeError, match=r"Linear.backward: its input 1 .*optimizer.step\(\) after "
                                           r"loss.backward\(\)"):
        stale.backward()
    optimizer.zero_grad()
    layer(tinygan.ones(2, 3)).sum().backward()          # the forward run again after the step
    assert layer.weight.grad is not None


def test_assigning_new_values_counts_as_a_change():
    w, x = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    loss = (w * x).sum()
    with tinygan.no_grad():
        x.data = tinygan.tensor([5.0, 6.0], dtype=tinygan.float64)
    with pytest.raises(RuntimeError, match="Mul.backward: its input 1"):
        loss.backward()


def test_a_change_to_an_output_the_backward_reads_is_refused_through_detach():
    z = leaf([0.0, 1.0])
    y = z.exp()
    loss = y.sum()
    y.detach().mul_(2.0)                                 # detach() shares the count, as in PyTorch
    with pytest.raises(RuntimeError, match=r"Exp.backward: its output \(shape \(2,\), float64\) was changed"):
        loss.backward()


def test_what_the_backward_does_not_read_may_change():
    """As in PyTorch: a sum's operands, and anything changed through `.data`, pass the check."""
    a, b = leaf([1.0, 2.0]), tinygan.tensor([1.0, 1.0], dtype=tinygan.float64)
    (a + b).sum().backward()
    loss = (a - b).sum()
    b.add_(5.0)
    loss.backward()
    assert host(a.grad).tolist() == [2.0, 2.0]
    w, x = leaf([1.0, 1.0]), tinygan.tensor([1.0, 2.0], dtype=tinygan.float64)
    loss = (w * x).sum()
    x.data.add_(10.0)                                    # `.data` has its own count: unseen, as in PyTorch
    loss.backward()
    assert host(w.grad).tolist() == [11.0, 12.0]


# -- the same cases in PyTorch ---------------------------------------------------------------------

def _data_changed_after_use(t):
    w, x = t.ones(3, requires_grad=True), t.tensor([1.0, 2.0, 3.0])
    loss = (w * x).sum()
    x.add_(10)
    loss.backward()


def _step_between_forward_and_backward(t):
    t.manual_seed(0)
    layer = t.nn.Linear(3, 1)
    optimizer = t.optim.SGD(layer.parameters(), lr=0.1)
    features = t.ones(2, 3, requires_grad=True)           # the weights are read for the features' gradient
    first, stale = layer(features).sum(), layer(features).sum()
    first.backward()
    optimizer.step()
    stale.backward()


def _first_layer_stepped_between_forward_and_backward(t):
    """Its input needs no gradient, so the weights are not read: the stale graph still gives the right dL/dw."""
    t.manual_seed(0)
    layer = t.nn.Linear(3, 1)
    optimizer = t.optim.SGD(layer.parameters(), lr=0.1)
    first, stale = layer(t.ones(2, 3)).sum(), layer(t.ones(2, 3)).sum()
    first.backward()
    optimizer.step()
    stale.backward()


def _sum_operand_changed(t):
    a, b = t.ones(3, requires_grad=True), t.ones(3)
    loss = (a + b).sum()
    b.add_(1)
    loss.backward()


def _changed_through_data(t):
    w, x = t.ones(3, requires_grad=True), t.tensor([1.0, 2.0, 3.0])
    loss = (w * x).sum()
    x.data.add_(10)
    loss.backward()


def _exp_output_changed_through_detach(t):
    z = t.ones(3, requires_grad=True)
    y = z.exp()
    loss = y.sum()
    y.detach().mul_(2)
    loss.backward()


def _sigmoid_output_changed_through_detach(t):
    z = t.ones(3, requires_grad=True)
    y = t.sigmoid(z)
    loss = y.sum()
    y.detach().clamp_(0.0, 0.5)
    loss.backward()


def _linear_output_changed_through_detach(t):
    layer = t.nn.Linear(3, 2)
    y = layer(t.ones(4, 3))
    loss = y.sum()
    y.detach().clamp_(0.0, 0.5)
    loss.backward()


def _item_assigned_after_use(t):
    w, x = t.ones(3, requires_grad=True), t.tensor([1.0, 2.0, 3.0])
    loss = (w * x).sum()
    x[0] = 5.0
    loss.backward()


def _augmented_assignment_in_a_graph(t):
    q = t.ones(3, requires_grad=True)
    h = q * 2
    h += q
    h.sum().backward()


def _leaf_augmented_assignment(t):
    q = t.ones(3, requires_grad=True)
    q += 1


def _changed_through_a_slice_after_use(t):
    w, x = t.ones(3, requires_grad=True), t.tensor([1.0, 2.0, 3.0])
    loss = (w * x).sum()
    x[0:2].add_(10)                                      # a view: the change reaches x and counts for it
    loss.backward()


def _base_changed_after_its_view_was_used(t):
    w, x = t.ones(2, requires_grad=True), t.tensor([[1.0, 2.0], [3.0, 4.0]])
    loss = (w * x[0]).sum()
    x.mul_(2)
    loss.backward()


def _changed_through_a_reshape_after_use(t):
    w, x = t.ones(2, 2, requires_grad=True), t.tensor([1.0, 2.0, 3.0, 4.0])
    loss = (w * x.reshape(2, 2)).sum()
    x.reshape(2, 2).transpose(0, 1)[0].zero_()          # a view of a view of x
    loss.backward()


def _a_copy_by_an_index_list_changed(t):
    w, x = t.ones(3, requires_grad=True), t.tensor([1.0, 2.0, 3.0])
    loss = (w * x).sum()
    x[[0, 1]].add_(10)                                   # an index list makes a copy: x is not changed
    loss.backward()


def _a_view_of_a_changed_tensor_used_after_the_change(t):
    w, x = t.ones(2, requires_grad=True), t.tensor([[1.0, 2.0], [3.0, 4.0]])
    x.add_(1)
    loss = (w * x[1]).sum()                              # the view is made and used after the change
    loss.backward()


CASES = {
    "data changed after use": (_data_changed_after_use, True),
    "step between forward and backward": (_step_between_forward_and_backward, True),
    "a first layer stepped between forward and backward": (_first_layer_stepped_between_forward_and_backward, False),
    "a sum's operand changed": (_sum_operand_changed, False),
    "changed through .data": (_changed_through_data, False),
    "exp's output changed through detach": (_exp_output_changed_through_detach, True),
    "sigmoid's output changed through detach": (_sigmoid_output_changed_through_detach, True),
    "a linear layer's output changed through detach": (_linear_output_changed_through_detach, False),
    "an item assigned after use": (_item_assigned_after_use, True),
    "x += y inside a graph": (_augmented_assignment_in_a_graph, False),
    "+= on a leaf that requires grad": (_leaf_augmented_assignment, True),
    "changed through a slice after use": (_changed_through_a_slice_after_use, True),
    "the base changed after its view was used": (_base_changed_after_its_view_was_used, True),
    "changed through a view of a reshape after use": (_changed_through_a_reshape_after_use, True),
    "a copy made by an index list changed": (_a_copy_by_an_index_list_changed, False),
    "a view made after the change": (_a_view_of_a_changed_tensor_used_after_the_change, False),
}


def _ends_as_said(case, module):
    """Run a case's program with `module` (tinygan or torch): it must raise RuntimeError exactly when refused."""
    program, refused = CASES[case]
    if refused:
        with pytest.raises(RuntimeError):
            program(module)
    else:
        program(module)


@pytest.mark.parametrize("case", sorted(CASES))
def test_tinygan_refuses_what_it_should(case):
    _ends_as_said(case, tinygan)


@pytest.mark.parametrize("case", sorted(CASES))
def test_pytorch_ends_each_case_the_same_way(case):
    _ends_as_said(case, pytest.importorskip("torch"))


# -- what each op says its backward reads is true -----------------------------------------------------

def _constant(shape, seed):
    values = np.random.default_rng(seed).uniform(0.5, 1.5, size=shape)
    return tinygan.tensor(backend.to_device(values, backend.current_device()))


# op: (shape of x, y = f(x)), where the op that takes x says (reads_in_backward) that its backward does not read
# x: (), ("output",), or ("factors",) with the other factor needing no gradient.
X_NOT_READ = {
    "Add": ((2, 3), lambda x: x + 1.0),
    "Sub": ((2, 3), lambda x: 1.0 - x),
    "Neg": ((2, 3), lambda x: -x),
    "Clamp": ((2, 3), lambda x: x.clamp(0.7, 1.2)),
    "Abs": ((2, 3), lambda x: x.abs()),
    "Maximum": ((2, 3), lambda x: tinygan.maximum(x, _constant((2, 3), 1))),
    "Where": ((2, 3), lambda x: tinygan.where(_constant((2, 3), 1) > 1.0, x, _constant((2, 3), 2))),
    "Reshape": ((2, 3), lambda x: x.reshape(3, 2)),
    "Transpose": ((2, 3), lambda x: x.t()),
    "GetItem": ((2, 3), lambda x: x[:, 1:]),
    "Concat": ((2, 3), lambda x: tinygan.cat([x, _constant((2, 3), 1)], 0)),
    "Pad": ((2, 3), lambda x: F.pad(x, (1, 1))),
    "Clone": ((2, 3), lambda x: x.clone()),
    "Sum": ((2, 3), lambda x: x.sum(dim=1)),
    "Mean": ((2, 3), lambda x: x.mean(dim=0)),
    "ReLU": ((2, 3), lambda x: F.relu(x - 1.0) * 1.0),
    "LeakyReLU": ((2, 3), lambda x: F.leaky_relu(x, 0.2)),
    "Exp": ((2, 3), lambda x: x.exp()),
    "Sqrt": ((2, 3), lambda x: x.sqrt()),
    "Tanh": ((2, 3), lambda x: x.tanh()),
    "ELU": ((2, 3), lambda x: F.elu(x)),
    "Mul": ((2, 3), lambda x: x * _constant((2, 3), 1)),
    "MatMul": ((2, 3), lambda x: x @ _constant((3, 4), 1)),
    "Linear": ((2, 3), lambda x: F.linear(x, _constant((4, 3), 1), _constant((4,), 2))),
    "Conv2d": ((1, 2, 4, 4), lambda x: F.conv2d(x, _constant((3, 2, 3, 3), 1), padding=1)),
    "ConvTranspose2d": ((1, 2, 3, 3), lambda x: F.conv_transpose2d(x, _constant((2, 3, 4, 4), 1), stride=2)),
}


@pytest.mark.parametrize("op", sorted(X_NOT_READ))
def test_an_op_that_says_its_backward_does_not_read_x_gives_the_same_gradient_when_x_changed(op):
    """x is changed through `.data` (which passes the check) between the forward and the backward: an op whose
    backward read x after all would give another gradient, and its reads_in_backward would be a lie."""
    shape, f = X_NOT_READ[op]
    values = backend.to_numpy(_constant(shape, 0).array)
    weights = None
    grads = []
    for change in (False, True):
        x = leaf(values)
        y = f(x)
        weights = _constant(tuple(y.shape), 3) if weights is None else weights
        loss = (y * weights).sum()
        if change:
            x.data.mul_(1.7)
        loss.backward()
        grads.append(host(x.grad))
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-12)


def test_the_ops_checked_above_are_the_ones_they_name():
    for op, (shape, f) in X_NOT_READ.items():
        y = f(leaf(np.ones(shape)))
        creators, stack = set(), [y]
        while stack:
            t = stack.pop()
            if t.creator is not None:
                creators.add(type(t.creator).__name__)
                stack.extend(t.creator.inputs)
        assert op in creators, (op, creators)
