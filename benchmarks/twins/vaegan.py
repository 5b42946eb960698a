"""PyTorch twins of tinygan.models.vaegan for 28x28x1: the encoder and the discriminator (the decoder is
gan.dcgan_generator), and the loss of the encoder and decoder trained as a plain VAE (tinygan's vaegan-vae)."""
import torch
from torch import nn
from torch.nn import functional as F

from ..specs import LEAKY_SLOPE


class VAEGANEncoder(nn.Module):
    """tinygan.models.vaegan.VAEGANEncoder for 28x28x1."""

    def __init__(self, latent, w):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(1, w, 4, stride=2, padding=1), nn.LeakyReLU(LEAKY_SLOPE),                # (N, w, 14, 14)
            nn.Conv2d(w, 2 * w, 4, stride=2, padding=1), nn.BatchNorm2d(2 * w),
            nn.LeakyReLU(LEAKY_SLOPE), nn.Flatten())                                          # (N, 2w*49)
        self.fc_mu = nn.Linear(2 * w * 49, latent)
        self.fc_logvar = nn.Linear(2 * w * 49, latent)

    def forward(self, x):
        h = self.net(x)
        return self.fc_mu(h), self.fc_logvar(h)


class VAEGANDiscriminator(nn.Module):
    """tinygan.models.vaegan.VAEGANDiscriminator for 28x28x1: Dis_l, then the logit."""

    def __init__(self, w):
        super().__init__()
        self.feature_layers = nn.Sequential(
            nn.Conv2d(1, w, 4, stride=2, padding=1), nn.LeakyReLU(LEAKY_SLOPE),
            nn.Conv2d(w, 2 * w, 4, stride=2, padding=1), nn.BatchNorm2d(2 * w),
            nn.LeakyReLU(LEAKY_SLOPE))                                                        # (N, 2w, 7, 7)
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(2 * w * 49, 1))                    # (N, 1)

    def logit_and_features(self, x):
        features = self.feature_layers(x)
        return self.head(features), features

    def forward(self, x):
        return self.head(self.feature_layers(x))


def plain_vae_loss(E, G, x, eps=None):
    """vaegan-vae's loss: KL + Bernoulli pixels with logits 2a (a = G's pre-tanh output), per image, averaged
    over the batch; x (N, 1, 28, 28) on [0, 1], seen by the encoder on [-1, 1]; eps default N(0, I)."""
    mu, logvar = E(x * 2 - 1)
    eps = torch.randn_like(mu) if eps is None else eps
    logits = 2 * G[:-1](mu + (logvar * 0.5).exp() * eps)                        # G without its tanh
    return (F.binary_cross_entropy_with_logits(logits, x, reduction="sum")
            - 0.5 * (1 + logvar - mu * mu - logvar.exp()).sum()) / x.shape[0]
