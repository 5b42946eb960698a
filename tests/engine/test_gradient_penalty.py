"""Second derivatives end to end: the gradient penalty of small critics (WGAN-GP), differentiated with respect to
the critic's weights, by backward and by central differences.

Each op's own second derivative (gradgradcheck) and its create_graph gradient are checked case by case in
tests/engine/test_op_contract.py; these tests check that the ops compose into a penalty that trains: a conv critic with
leaky_relu and linear, and one with batch norm in training mode between its convolutions.
"""
import numpy as np

import tinygan
import tinygan.functional as F
from tinygan.gradcheck import gradcheck


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
    data = tensor.array
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
