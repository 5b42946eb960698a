"""VAE-GAN (Larsen, Sønderby, Larochelle & Winther, 2016, "Autoencoding beyond pixels using a learned
similarity metric"): a VAE whose decoder is a GAN's generator, and whose reconstruction is measured in
the discriminator's feature layer Dis_l instead of in pixels.

    encoder        x (N, C, 28, 28) -> mu, logvar (N, latent)
    decoder = G    z (N, latent) -> x (N, C, 28, 28) on [-1, 1] (tanh)
    discriminator  x -> logit (N, 1); its feature layer Dis_l(x) is (N, 128, 7, 7)
"""
from .. import nn
from .gan import DCGANGenerator, _base_size
from .vae import VAE


def _leaky():
    return nn.LeakyReLU(0.2)


class VAEGANEncoder(nn.Module):
    """x (N, C, 28, 28) -> Conv -> LReLU -> Conv -> BN -> LReLU -> flatten -> (mu, logvar), each (N, latent)."""

    def __init__(self, latent_dim=20, channels=1, width=32, size=28):
        super().__init__()
        self.latent_dim, self.channels = latent_dim, channels
        s = _base_size(size)
        self.net = nn.Sequential(
            nn.Conv2d(channels, width, 4, stride=2, padding=1),        # (N, 32, 14, 14)
            _leaky(),
            nn.Conv2d(width, 2 * width, 4, stride=2, padding=1),       # (N, 64, 7, 7)
            nn.BatchNorm2d(2 * width),
            _leaky(),
            nn.Flatten(),                                              # (N, 64*7*7)
        )
        self.fc_mu = nn.Linear(2 * width * s * s, latent_dim)          # (N, 20)
        self.fc_logvar = nn.Linear(2 * width * s * s, latent_dim)      # (N, 20)

    def forward(self, x):
        h = self.net(x)
        return self.fc_mu(h), self.fc_logvar(h)


class VAEGANDecoder(DCGANGenerator):
    """The decoder is the DCGAN generator: Linear(20, 128*7*7), BN1d, ReLU, (N, 128, 7, 7), ConvT -> (N, 64, 14, 14),
    BN2d, ReLU, ConvT -> (N, C, 28, 28), tanh."""

    def __init__(self, latent_dim=20, channels=1, width=64, size=28):
        super().__init__(latent_dim, width, channels, size=size)


class VAEGANDiscriminator(nn.Module):
    """x (N, C, 28, 28) -> Conv -> LReLU -> Conv -> BN -> LReLU = Dis_l (N, 128, 7, 7) -> flatten -> Linear -> logit.

    forward(x) returns the logit, as every discriminator here; logit_and_features(x) returns
    (logit, Dis_l(x)) from one pass, which is what the VAE-GAN's losses need.
    """

    def __init__(self, channels=1, width=64, size=28):
        super().__init__()
        self.channels = channels
        s = _base_size(size)
        self.feature_layers = nn.Sequential(
            nn.Conv2d(channels, width, 4, stride=2, padding=1),        # (N, 64, 14, 14)
            _leaky(),
            nn.Conv2d(width, 2 * width, 4, stride=2, padding=1),       # (N, 128, 7, 7)
            nn.BatchNorm2d(2 * width),
            _leaky(),                                                  # Dis_l
        )
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(2 * width * s * s, 1))   # (N, 1) logit

    def features(self, x):
        """Dis_l(x): (N, 128, 7, 7)."""
        return self.feature_layers(x)

    def logit_and_features(self, x):
        features = self.features(x)
        return self.head(features), features

    def forward(self, x):
        return self.head(self.features(x))


class VAEGANPlainVAE(VAE):
    """The VAE-GAN's own encoder and decoder trained as a plain VAE: no discriminator, a pixel reconstruction.

    The decoder ends in tanh, an image on [-1, 1]. Read on [0, 1] that image is (tanh(a) + 1) / 2 = sigmoid(2a),
    a the decoder's pre-tanh output, so 2a are the logits of Bernoulli pixels on (x + 1) / 2: the same network and
    the same mean image as the VAE-GAN's decoder, with the likelihood every VAE here uses (decode returns 2a).

    x (N, C*28*28) on [0, 1] -> encoder -> (mu, logvar) (N, latent);  z (N, latent) -> logits (N, C*28*28)
    """

    def __init__(self, latent_dim=20, channels=1, size=28):
        super().__init__()
        self.latent_dim, self.channels, self.size = latent_dim, channels, size
        self.in_features = channels * size * size
        self.encoder = VAEGANEncoder(latent_dim, channels, size=size)
        self.decoder = VAEGANDecoder(latent_dim, channels, size=size)

    def encode(self, x):
        """mu, logvar of q(z|x); x is flat or (N, C, H, W), on [0, 1], and the encoder sees it on [-1, 1] as in the
        VAE-GAN."""
        return self.encoder(x.reshape(x.shape[0], self.channels, self.size, self.size) * 2 - 1)

    def decode(self, z):
        """Bernoulli logits 2a (N, C*H*W): sigmoid(2a) = (tanh(a) + 1) / 2, the decoder's image on [0, 1]."""
        pre_tanh = self.decoder.net[:-1](z)                       # every layer of the generator but its tanh
        return (2 * pre_tanh).reshape(z.shape[0], -1)  # [formula: vaegan-vae-logits]
