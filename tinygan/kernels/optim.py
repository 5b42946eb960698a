"""The fast optimizer step: Adam's update in place, with no temporaries beyond one buffer.

The reference (the lines of Adam._adam_step in tinygan/optim/adam.py) writes the textbook lines, each
making a new array. This computes the last line as PyTorch does, without building m_hat and v_hat:
p -= (lr / (1 - beta1^t)) m / (sqrt(v) / sqrt(1 - beta2^t) + eps), the same number up to rounding.
On the GPU the whole step is one fused kernel (cupy_fused.adam_update).
"""
import math

from . import cupy_fused
from .layout import xp_of


def adam_update(p, g, m, v, beta1, beta2, lr, eps, step):
    """One Adam step at step number `step` (1, 2, ...), in place on the arrays p, m and v."""
    bias_correction1 = 1 - beta1 ** step
    sqrt_bias_correction2 = math.sqrt(1 - beta2 ** step)
    step_size = lr / bias_correction1
    if cupy_fused.applies_to(p):
        cupy_fused.adam_update(p, g, m, v, beta1, beta2, step_size, sqrt_bias_correction2, eps)
        return
    m *= beta1
    m += (1 - beta1) * g
    v *= beta2
    v += (1 - beta2) * (g * g)
    denom = xp_of(v).sqrt(v)
    denom /= sqrt_bias_correction2
    denom += eps                                                 # sqrt(v_hat) + eps
    update = xp_of(m).divide(m, denom, out=denom)
    update *= step_size                                          # lr * m_hat / (sqrt(v_hat) + eps)
    p -= update
