"""pix2pix (Isola, Zhu, Zhou & Efros, 2017, "Image-to-image translation with conditional adversarial networks"):
a U-Net generator that maps a damaged digit to a restored one, and a PatchGAN discriminator that judges
(input, output) pairs patch by patch.

    generator      x (N, 1, 28, 28) on [-1, 1] -> UNet(1, 1, output="tanh") -> y (N, 1, 28, 28) on [-1, 1]
    discriminator  (x, y) -> concat along channels (N, 2, 28, 28) -> PatchGAN -> logits (N, 1, 7, 7)
"""
from .. import functional as F
from .. import nn
from .gan import dcgan_init_
from .unet import UNet


class PatchGAN(nn.Module):
    """The pair (x, y), each (N, C, 28, 28), -> a map of logits (N, 1, 7, 7): one real/fake verdict per patch.

        concat(x, y)                                 (N, 2C, 28, 28)
        Conv 4x4 stride 2 pad 1 -> LeakyReLU 0.2      (N, 64, 14, 14)
        Conv 4x4 stride 2 pad 1 -> BN -> LeakyReLU    (N, 128, 7, 7)
        Conv 3x3 stride 1 pad 1                       (N, 1, 7, 7) logits

    Receptive field of one logit: 4, then 4 + 3*2 = 10, then 10 + 2*4 = 18 pixels: each verdict sees an
    18x18 patch of the 28x28 pair (the paper's 70x70 PatchGAN, scaled down to digits). As in the paper,
    the first layer has no BatchNorm and every later one (but the output) has.
    """

    def __init__(self, channels=1, width=64):
        super().__init__()
        self.channels = channels
        self.net = nn.Sequential(
            nn.Conv2d(2 * channels, width, 4, stride=2, padding=1),        # (N, 64, 14, 14)
            nn.LeakyReLU(0.2),
            nn.Conv2d(width, 2 * width, 4, stride=2, padding=1),           # (N, 128, 7, 7)
            nn.BatchNorm2d(2 * width),
            nn.LeakyReLU(0.2),
            nn.Conv2d(2 * width, 1, 3, stride=1, padding=1),               # (N, 1, 7, 7) logits
        )

    def forward(self, x, y):
        if x.shape != y.shape or x.ndim != 4 or x.shape[1] != self.channels:
            raise ValueError(f"PatchGAN: expected an input and an output of the same shape (N, {self.channels}, H, W), "
                             f"got {tuple(x.shape)} and {tuple(y.shape)}")
        return self.net(F.concat([x, y], axis=1))


def pix2pix_networks(channels=1, width=64):
    """{"G": U-Net with a tanh output, "D": PatchGAN}, both initialised N(0, 0.02) as in the paper (section 6.2)."""
    return {"G": dcgan_init_(UNet(channels, channels, output="tanh")),
            "D": dcgan_init_(PatchGAN(channels, width))}
