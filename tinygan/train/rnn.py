"""How a recurrent generator trains: rnn, an LSTM writing binarised digits row by row.

    step = RNNStep(model, optimizer)
    figures = step(x)                      # {"loss": -log p(x) per image, the true rows fed in}

A run of this family (RNNFamily) trains on the batches of an image set on [0, 1], draws digits row by row
from fixed noise (one N(0, 1) per pixel, turned into its Bernoulli draw) each epoch, and is judged by the
digit classifier on its samples and by its exact negative log-likelihood of the binarised test digits.
"""
import numpy as np

from .. import backend, registry
from ..autograd import Tensor, no_grad
from ..models.rnn import binarize
from ..nn.utils import clip_grad_norm_
from .checks import ConfigError
from .family import Family, check_finite


class RNNStep:
    """One step of a row-by-row generator: binarise the batch, -log p(x) with the true rows fed in, Adam.

    clip -- the largest gradient norm (nn.utils.clip_grad_norm_), or None for no clipping (the default recipe)
    """

    def __init__(self, model, optimizer, clip=None):
        self.model, self.optimizer, self.clip = model, optimizer, clip
        self.steps = 0

    def __call__(self, x, labels=None):
        loss = self.model.nll(binarize(x))
        self.optimizer.zero_grad()
        loss.backward()
        if self.clip is not None:
            clip_grad_norm_(self.model.parameters(), self.clip)
        self.optimizer.step()
        self.steps += 1
        value = loss.item()
        check_finite("negative log-likelihood", value, self.steps)
        return {"loss": value}


class RNNFamily(Family):
    """One network 'rnn', trained on its negative log-likelihood."""

    scores_test_sets = True

    def check_settings(self, config):
        """Its noise is one value per pixel: --latent-dim is 784."""
        if config["latent_dim"] != 784:
            raise ConfigError(f"--latent-dim is fixed at 784 for {config['model']!r}: its noise is one value per "
                              f"pixel (the Bernoulli draw of each of the 28x28 pixels), got {config['latent_dim']}")

    def make_step(self, run):
        return RNNStep(run.nets["rnn"], run.optimizers["rnn"])

    def sample(self, run, n, label, z):
        """Digits drawn row by row, each pixel's Bernoulli draw made from its value of z."""
        z = run.fixed_noise(n) if z is None else z
        for net in run.nets.values():
            net.eval()
        with no_grad():
            return run.nets["rnn"].sample(z)

    def network_inputs(self, run):
        return {"rnn": ((2,) + registry.dataset_of(run.config).sample_shape,)}

    def test_image_scores(self, run, images, k, seed):
        return {"rnn": evaluate_rnn(run, images)}


def evaluate_rnn(run, images, batch_size=500):
    """Test negative log-likelihood in nats per image of binarised uint8 `images` (N, 28, 28) (exact, no bound)."""
    model = run.nets["rnn"]
    model.eval()
    total = 0.0
    with no_grad():
        for start in range(0, len(images), batch_size):
            chunk = images[start:start + batch_size]
            binary = (chunk.astype(np.float64) / 255 >= 0.5).astype(backend.get_default_dtype())
            x = Tensor(backend.to_device(binary.reshape(-1, 1, 28, 28), backend.current_device()))
            total += model.nll(x).item() * len(chunk)
    return {"model": {"test_nll": total / len(images), "n": len(images)}}
