"""PyTorch twins of pix2pix's networks: tinygan.models.PatchGAN, and the generator (the U-Net with a tanh output)
and discriminator that tinygan's pix2pix trains."""
import torch
from torch import nn

from .gan import dcgan_init_
from .unet import UNet


class PatchGAN(nn.Module):
    """tinygan.models.PatchGAN(1, width): one logit per patch of the (input, output) pair."""

    def __init__(self, width=64):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(2, width, 4, 2, 1), nn.LeakyReLU(0.2),
                                 nn.Conv2d(width, 2 * width, 4, 2, 1), nn.BatchNorm2d(2 * width),
                                 nn.LeakyReLU(0.2), nn.Conv2d(2 * width, 1, 3, 1, 1))

    def forward(self, x, y):
        return self.net(torch.cat([x, y], dim=1))


def networks():
    """(G, D): twins of models.UNet(1, 1, output="tanh") and models.PatchGAN(1, 64), initialised as dcgan_init_."""
    G, D = UNet(1, 1, output="tanh"), PatchGAN()
    dcgan_init_(G, D)
    return G, D
