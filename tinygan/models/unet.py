"""U-Net (Ronneberger, Fischer & Brox, 2015): an encoder that halves the image twice, a decoder that doubles it back,
and skip connections that hand each decoder step the encoder's features of the same size.

Widths (16, 32, 64), on a 64x64 scene (a 28x28 digit works the same way: 28 -> 14 -> 7 -> 14 -> 28):

    enc1        x (N, in, 64, 64) -> conv 3x3 -> BN -> ReLU, twice -> e1 (N, 16, 64, 64)
    enc2        maxpool 2 -> (N, 16, 32, 32) -> two conv blocks -> e2 (N, 32, 32, 32)
    bottleneck  maxpool 2 -> (N, 32, 16, 16) -> two conv blocks -> (N, 64, 16, 16)
    dec2        ConvTranspose2d(64, 32, 2, stride 2) -> (N, 32, 32, 32); concat with e2 -> (N, 64, 32, 32)
                -> two conv blocks -> (N, 32, 32, 32)
    dec1        ConvTranspose2d(32, 16, 2, stride 2) -> (N, 16, 64, 64); concat with e1 -> (N, 32, 64, 64)
                -> two conv blocks -> (N, 16, 64, 64)
    head        conv 1x1 16 -> out (N, out, 64, 64): class logits, or an image after tanh

Without skips (skips=False), each decoder step sees only its upsampled features: the same network with the
concatenations taken out, so that the fine detail has to pass through the 16x16 bottleneck.
"""
from .. import functional as F
from .. import nn


def conv_block(in_channels, out_channels):
    """Two rounds of conv 3x3 (padding 1, size kept) -> BatchNorm -> ReLU."""
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 3, padding=1), nn.BatchNorm2d(out_channels), nn.ReLU(),
        nn.Conv2d(out_channels, out_channels, 3, padding=1), nn.BatchNorm2d(out_channels), nn.ReLU(),
    )


class UNet(nn.Module):
    """x (N, in_channels, H, W) -> (N, out_channels, H, W), H and W divisible by 4.

    output: None for raw outputs (class logits for segmentation), "tanh" for an image on [-1, 1] (pix2pix).
    """

    def __init__(self, in_channels=1, out_channels=11, widths=(16, 32, 64), skips=True, output=None):
        super().__init__()
        if output not in (None, "tanh"):
            raise ValueError(f"UNet: output must be None or 'tanh', got {output!r}")
        w1, w2, w3 = widths
        self.skips, self.output = skips, output
        self.enc1 = conv_block(in_channels, w1)
        self.enc2 = conv_block(w1, w2)
        self.bottleneck = conv_block(w2, w3)
        self.pool = nn.MaxPool2d(2)
        self.up2 = nn.ConvTranspose2d(w3, w2, 2, stride=2)
        self.dec2 = conv_block(2 * w2 if skips else w2, w2)
        self.up1 = nn.ConvTranspose2d(w2, w1, 2, stride=2)
        self.dec1 = conv_block(2 * w1 if skips else w1, w1)
        self.head = nn.Conv2d(w1, out_channels, 1)

    def _join(self, skip, upsampled):
        """The skip connection: the encoder's features and the decoder's upsampled ones side by side in channels."""
        return F.concat([skip, upsampled], axis=1) if self.skips else upsampled

    def forward(self, x):
        if x.ndim != 4 or x.shape[-1] % 4 or x.shape[-2] % 4:
            raise ValueError(f"UNet: expected (N, C, H, W) with H and W divisible by 4, got {tuple(x.shape)}")
        e1 = self.enc1(x)
        e2 = self.enc2(self.pool(e1))
        bottom = self.bottleneck(self.pool(e2))
        d2 = self.dec2(self._join(e2, self.up2(bottom)))
        d1 = self.dec1(self._join(e1, self.up1(d2)))
        out = self.head(d1)
        return out.tanh() if self.output == "tanh" else out
