"""Second derivatives: gradients of gradients, as WGAN-GP and R1 penalties need them.

gradgradcheck(fn, inputs) builds x -> d<u, fn(x)>/dx with create_graph=True and checks *that*
function's gradient against central differences. The last test does the whole gradient penalty
of a small conv critic, differentiated with respect to the critic's weights.
"""
import numpy as np
import pytest

import tinygan
import tinygan.functional as F
from tinygan.gradcheck import gradcheck, gradgradcheck


def check2(fn, *inputs, **tolerances):
    assert gradgradcheck(fn, list(inputs), **tolerances)


def test_linear(rand):
    x, w, b = rand.randn(3, 4), rand.randn(2, 4), rand.randn(2)
    check2(F.linear, x, w, b)
    check2(lambda x, w: F.tanh(F.linear(x, w)), x, w)  # a nonlinearity after it: the mixed terms matter


@pytest.mark.parametrize("shapes", [((3, 4), (4, 2)), ((2, 3, 4), (4, 5))], ids=["2d", "batched"])
def test_matmul(shapes, rand):
    a, b = rand.randn(*shapes[0]), rand.randn(*shapes[1])
    check2(F.matmul, a, b)
    check2(lambda a, b: (a @ b) * (a @ b), a, b)


@pytest.mark.parametrize("stride, padding, dilation", [(1, 0, 1), (2, 1, 1), (1, 1, 2)])
def test_conv2d_input_and_weight_paths(stride, padding, dilation, rand):
    x, w, b = rand.randn(2, 2, 5, 5), rand.randn(3, 2, 2, 2), rand.randn(3)

    def conv(x, w, b):
        return F.conv2d(x, w, b, stride=stride, padding=padding, dilation=dilation)
    check2(conv, x, w, b)                                                    # bilinear: the x-w cross terms
    check2(lambda x, w, b: F.tanh(conv(x, w, b)), x, w, b)                   # curvature through tanh
    check2(lambda x: F.softplus(conv(x, w.detach(), b.detach())), x)         # input path alone
    check2(lambda w: F.softplus(conv(x.detach(), w, b.detach())), w)         # weight path alone


@pytest.mark.parametrize("stride, padding, output_padding", [(1, 0, 0), (2, 1, 1)])
def test_conv_transpose2d(stride, padding, output_padding, rand):
    x, w, b = rand.randn(2, 2, 3, 3), rand.randn(2, 3, 3, 3), rand.randn(3)

    def conv_t(x, w, b):
        return F.conv_transpose2d(x, w, b, stride=stride, padding=padding, output_padding=output_padding)
    check2(conv_t, x, w, b)
    check2(lambda x, w, b: F.tanh(conv_t(x, w, b)), x, w, b)


def test_leaky_relu(rand):
    x = rand.separated(3, 4)
    check2(lambda x: F.leaky_relu(x, 0.2) * x, x)  # the activation's own second derivative is 0: multiply by x
    check2(lambda x: F.leaky_relu(x, 0.2), x)


def test_relu(rand):
    x = rand.separated(3, 4)
    check2(lambda x: F.relu(x) * x, x)
    check2(F.relu, x)


@pytest.mark.parametrize("op", ["tanh", "sigmoid", "softplus"])
def test_smooth_activations(op, rand):
    check2(getattr(F, op), rand.randn(3, 4, scale=2.0))


def test_mul_add(rand):
    a, b = rand.randn(2, 3), rand.randn(3)
    check2(lambda a, b: a * b, a, b)
    check2(lambda a, b: a * a * b, a, b)
    check2(lambda a, b: a + b, a, b)
    check2(lambda a, b: (a + b) * (a - b) / (b * b + 1.0), a, b)


@pytest.mark.parametrize("exponent", [2, 3, 0.5, -1.5])
def test_pow(exponent, rand):
    check2(lambda x: x ** exponent, rand.uniform(3, 4, low=0.5, high=2.0))


def test_sqrt_exp_log(rand):
    x = rand.uniform(3, 4, low=0.5, high=2.0)
    check2(F.sqrt, x)
    check2(F.exp, x)
    check2(F.log, x)
    check2(lambda x: F.logsumexp(x, axis=1), rand.randn(3, 4, scale=2.0))


def test_sum_mean_reshape(rand):
    x = rand.randn(2, 3, 4)
    check2(lambda x: F.sum(x * x, axis=1), x)
    check2(lambda x: F.mean(x * x, axis=(0, 2), keepdims=True), x)
    check2(lambda x: F.reshape(x * x, (4, 6)), x)
    check2(lambda x: F.sum(x) * F.sum(x), x)
    check2(lambda x: (x.reshape(6, 4) @ x.reshape(4, 6)).mean(), x)


@pytest.mark.parametrize("shape", [(5, 3), (3, 2, 2, 2)], ids=["1d", "2d"])
def test_batch_norm_train(shape, rand):
    C = shape[1]
    x, weight, bias = rand.randn(*shape, scale=2.0), rand.randn(C, shift=1.0), rand.randn(C)
    check2(lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True), x, weight, bias)


FIRST_ORDER = {
    "batch_norm 1d": (lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True), [(5, 3), (3,), (3,)]),
    "batch_norm 2d": (lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True), [(3, 2, 2, 2), (2,), (2,)]),
    "conv2d": (lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1), [(2, 2, 5, 5), (3, 2, 3, 3), (3,)]),
    "conv_transpose2d": (lambda x, w: F.conv_transpose2d(x, w, stride=2, output_padding=1), [(1, 2, 3, 3), (2, 2, 3, 3)]),
    "linear": (F.linear, [(3, 4), (2, 4), (2,)]),
    "div": (lambda a, b: a / (b * b + 1.0), [(2, 3), (3,)]),
    "softplus, sigmoid, tanh": (lambda x: F.softplus(x) * F.sigmoid(x) + F.tanh(x), [(3, 4)]),
    "losses": (lambda x, y: F.binary_cross_entropy_with_logits(x, F.sigmoid(y)) + F.mse_loss(x, y), [(3, 2), (3, 2)]),
}


@pytest.mark.parametrize("name", list(FIRST_ORDER))
def test_create_graph_gives_the_same_first_derivative(name, rand):
    """gradgradcheck differentiates the create_graph=True gradient; it must equal the ordinary one.

    Some ops (batch norm) compute their gradient in closed form without create_graph and from a
    differentiable composite with it: the two paths must agree, or the penalty would be of a wrong gradient.
    """
    fn, shapes = FIRST_ORDER[name]
    inputs = [rand.randn(*shape) for shape in shapes]
    out = fn(*inputs)
    u = rand.randn(*out.shape, requires_grad=False)
    plain = tinygan.grad(fn(*inputs), inputs, grad_outputs=u)
    recorded = tinygan.grad(fn(*inputs), inputs, grad_outputs=u, create_graph=True)
    for i, (p, r) in enumerate(zip(plain, recorded)):
        np.testing.assert_allclose(r.numpy(), p.numpy(), rtol=1e-10, atol=1e-12, err_msg=f"input {i}")


def test_pools_and_losses(rand):
    x = rand.separated(1, 2, 4, 4, gap=0.03)
    check2(lambda x: F.max_pool2d(x * x, 2), x)
    check2(lambda x: F.avg_pool2d(x * x, 2, 1, 1), x)
    logits, targets = rand.randn(4, 3), rand.uniform(4, 3, requires_grad=False)
    check2(lambda x: F.binary_cross_entropy_with_logits(x, targets), logits)
    check2(lambda x: F.mse_loss(x, targets), logits)


# --- the gradient penalty of a conv critic, end to end ----------------------------------------

def critic(x, w1, b1, w2, b2, w3, b3):
    """D(x): conv2d -> leaky_relu -> conv2d -> leaky_relu -> linear, one score per image."""
    h = F.leaky_relu(F.conv2d(x, w1, b1, stride=1, padding=1), 0.2)   # (N, 3, 4, 4)
    h = F.leaky_relu(F.conv2d(h, w2, b2, stride=2), 0.2)                # (N, 2, 2, 2)
    return F.linear(h.reshape(h.shape[0], -1), w3, b3)                  # (N, 1)


def gradient_penalty(x, *weights):
    """GP = mean over the batch of (||grad_x D(x)||_2 - 1)^2  (Gulrajani et al., 2017, eq. 3)."""
    (grad_x,) = tinygan.grad(critic(x, *weights).sum(), x, create_graph=True)
    norms = F.sqrt(F.sum(grad_x * grad_x, axis=(1, 2, 3)))
    return F.mean((norms - 1.0) ** 2)


def _critic_weights(rand):
    return [rand.randn(3, 1, 3, 3, scale=0.5), rand.randn(3, scale=0.1),
            rand.randn(2, 3, 2, 2, scale=0.5), rand.randn(2, scale=0.1),
            rand.randn(1, 8, scale=0.5), rand.randn(1, scale=0.1)]


def test_gradient_penalty_of_a_conv_critic(rand):
    # smooth, well-separated inputs keep every leaky_relu pre-activation away from 0 under the step h
    x = rand.randn(3, 1, 4, 4, requires_grad=True)
    weights = _critic_weights(rand)

    # backward through the penalty fills .grad of every weight ...
    penalty = gradient_penalty(x, *weights)
    penalty.backward()
    for w in weights[0::2]:  # the conv and linear weights; grad_x depends on the biases only through
        assert w.grad is not None and w.grad.shape == w.shape  # leaky_relu's piecewise-constant slope,
        assert w.grad.creator is None                          # so their gradient is 0 (left as None)
        assert float(np.abs(w.grad.numpy()).max()) > 0

    # ... and those gradients agree with central differences of GP over the weights
    analytic = [np.zeros(w.shape) if w.grad is None else w.grad.numpy().copy() for w in weights]
    assert gradcheck(lambda *ws: gradient_penalty(x, *ws), weights)
    for i, w in enumerate(weights):
        numeric = _central_difference(lambda: gradient_penalty(x, *weights).item(), w)
        np.testing.assert_allclose(analytic[i], numeric, rtol=1e-4, atol=1e-6, err_msg=f"weight {i}")


def _central_difference(f, tensor, h=1e-6):
    data = tensor.data
    numeric = np.zeros(tensor.shape)
    for index in np.ndindex(*tensor.shape):
        original = data[index].item()
        data[index] = original + h
        plus = f()
        data[index] = original - h
        minus = f()
        data[index] = original
        numeric[index] = (plus - minus) / (2 * h)
    return numeric


def test_gradient_penalty_with_batch_norm_in_the_critic(rand):
    """A critic with batch norm (train mode) between the convs: BN's create_graph path is exercised."""
    x = rand.randn(3, 1, 4, 4, requires_grad=True)
    w1, w2 = rand.randn(2, 1, 3, 3, scale=0.5), rand.randn(1, 2, 4, 4, scale=0.5)
    gamma, beta = rand.randn(2, shift=1.0, scale=0.1), rand.randn(2, scale=0.1)

    def penalty(w1, w2, gamma, beta):
        h = F.batch_norm(F.conv2d(x, w1, padding=1), None, None, gamma, beta, training=True)
        score = F.conv2d(F.tanh(h), w2).sum()
        (grad_x,) = tinygan.grad(score, x, create_graph=True)
        return ((F.sqrt((grad_x * grad_x).sum(axis=(1, 2, 3))) - 1.0) ** 2).mean()
    assert gradcheck(penalty, [w1, w2, gamma, beta])
