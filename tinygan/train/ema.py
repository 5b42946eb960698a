"""An exponential moving average (EMA) of a generator's weights.

A GAN's generator keeps moving as long as the game goes on: at lr 1e-3 on the
ring of 8 Gaussians, the modes it covers change from one step to the next.
The average of its recent weights moves slowly and samples better (Karras et
al., 2018; Yazici et al., 2019). It is used only to draw samples; it is never
trained and never seen by the discriminator.
"""
import copy

from ..autograd import no_grad


class WeightAverage:
    """theta_ema <- decay * theta_ema + (1 - decay) * theta, after every generator step.

    decay 0.999 averages over about 1 / (1 - decay) = 1,000 steps.
    Buffers (BatchNorm's running statistics) are copied, not averaged: they are
    already running averages.
    """

    def __init__(self, model, decay):
        if not 0.0 < decay < 1.0:
            raise ValueError(f"WeightAverage: decay must be in (0, 1), got {decay}")
        self.decay = decay
        self.model = copy.deepcopy(model)
        self.model.requires_grad_(False)
        self.model.eval()

    def update(self, model):
        """Move the average one step towards `model`'s current weights (in place, no graph)."""
        with no_grad():
            for average, current in zip(self.model.parameters(), model.parameters()):
                average.array *= self.decay
                average.array += (1.0 - self.decay) * current.array  # [formula: ema-update]
            for average, current in zip(self.model.buffers(), model.buffers()):
                average.array[...] = current.array
