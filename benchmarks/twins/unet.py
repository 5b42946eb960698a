"""The PyTorch twin of tinygan.models.UNet (skips on)."""
import torch
from torch import nn


def conv_block(cin, cout):
    """Two rounds of conv 3x3 (padding 1) -> BatchNorm2d -> ReLU, as tinygan.models.unet.conv_block."""
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(),
                         nn.Conv2d(cout, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU())


class UNet(nn.Module):
    """tinygan.models.UNet (skips on): the same layers, registered in the same order; raw logits, or an image on
    [-1, 1] with output="tanh" (pix2pix's generator)."""

    def __init__(self, in_channels=1, out_channels=11, widths=(16, 32, 64), output=None):
        super().__init__()
        self.output = output
        w1, w2, w3 = widths
        self.enc1, self.enc2, self.bottleneck = conv_block(in_channels, w1), conv_block(w1, w2), conv_block(w2, w3)
        self.pool = nn.MaxPool2d(2)
        self.up2 = nn.ConvTranspose2d(w3, w2, 2, stride=2)
        self.dec2 = conv_block(2 * w2, w2)
        self.up1 = nn.ConvTranspose2d(w2, w1, 2, stride=2)
        self.dec1 = conv_block(2 * w1, w1)
        self.head = nn.Conv2d(w1, out_channels, 1)

    def forward(self, x):
        e1 = self.enc1(x)
        e2 = self.enc2(self.pool(e1))
        bottom = self.bottleneck(self.pool(e2))
        d2 = self.dec2(torch.cat([e2, self.up2(bottom)], dim=1))      # [encoder skip, upsampled]
        d1 = self.dec1(torch.cat([e1, self.up1(d2)], dim=1))
        out = self.head(d1)
        return torch.tanh(out) if self.output == "tanh" else out
