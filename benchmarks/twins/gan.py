"""PyTorch twins of tinygan.models.gan: the MLP GAN and the DCGAN for 28x28x1 images, and the DCGAN initialisation."""
from torch import nn

from ..specs import LEAKY_SLOPE


def mlp_generator(latent, hidden):
    """tinygan.models.gan.MLPGenerator: (Linear -> BatchNorm1d -> LeakyReLU 0.2) per hidden, Linear -> tanh."""
    layers, width = [], latent
    for h in hidden:
        layers += [nn.Linear(width, h), nn.BatchNorm1d(h), nn.LeakyReLU(LEAKY_SLOPE)]        # (N, h)
        width = h
    layers += [nn.Linear(width, 784), nn.Tanh(), nn.Unflatten(1, (1, 28, 28))]           # (N, 1, 28, 28)
    return nn.Sequential(*layers)


def mlp_discriminator(hidden):
    """tinygan.models.gan.MLPDiscriminator: flatten, (Linear -> LeakyReLU 0.2) per hidden, Linear -> logit."""
    layers, width = [nn.Flatten()], 784
    for h in hidden:
        layers += [nn.Linear(width, h), nn.LeakyReLU(LEAKY_SLOPE)]                           # (N, h)
        width = h
    return nn.Sequential(*layers, nn.Linear(width, 1))                                      # (N, 1)


def dcgan_generator(latent, w):
    """tinygan.models.gan.DCGANGenerator for 28x28x1."""
    return nn.Sequential(
        nn.Linear(latent, 2 * w * 7 * 7), nn.BatchNorm1d(2 * w * 7 * 7), nn.ReLU(),
        nn.Unflatten(1, (2 * w, 7, 7)),                                                 # (N, 2w, 7, 7)
        nn.ConvTranspose2d(2 * w, w, 4, stride=2, padding=1), nn.BatchNorm2d(w), nn.ReLU(),  # (N, w, 14, 14)
        nn.ConvTranspose2d(w, 1, 4, stride=2, padding=1), nn.Tanh())                    # (N, 1, 28, 28)


def dcgan_discriminator(w):
    """tinygan.models.gan.DCGANDiscriminator (with BatchNorm) for 28x28x1."""
    return nn.Sequential(
        nn.Conv2d(1, w, 4, stride=2, padding=1), nn.LeakyReLU(LEAKY_SLOPE),                 # (N, w, 14, 14)
        nn.Conv2d(w, 2 * w, 4, stride=2, padding=1), nn.BatchNorm2d(2 * w),
        nn.LeakyReLU(LEAKY_SLOPE),                                                          # (N, 2w, 7, 7)
        nn.Flatten(), nn.Linear(2 * w * 7 * 7, 1))                                          # (N, 1)


def dcgan_init_(*nets):
    """DCGAN initialisation of PyTorch modules, as tinygan.models.dcgan_init_: weights N(0, 0.02), BatchNorm's
    scales N(1, 0.02), biases 0."""
    for net in nets:
        for m in net.modules():
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
                nn.init.normal_(m.weight, 0.0, 0.02)
                nn.init.zeros_(m.bias)
            elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
                nn.init.normal_(m.weight, 1.0, 0.02)
                nn.init.zeros_(m.bias)
