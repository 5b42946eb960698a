"""Variational autoencoders (Kingma & Welling, 2014). Decoders return logits of Bernoulli pixels."""
from .. import nn


class VAE(nn.Module):
    """What every VAE here shares: encode(x) -> (mu, logvar), decode(z) -> logits, and forward below."""

    def forward(self, x):
        """The mean reconstruction (logits), decoding z = mu: what the VAE makes of x without sampling."""
        mu, _ = self.encode(x)
        return self.decode(mu)


class MLPVAE(VAE):
    """The common reference VAE: 784 -> 400 -> (mu, logvar) of size 20; 20 -> 400 -> 784 logits."""

    def __init__(self, in_features=784, hidden=400, latent_dim=20):
        super().__init__()
        self.latent_dim, self.in_features = latent_dim, in_features
        self.fc1 = nn.Linear(in_features, hidden)      # (N, 400)
        self.fc_mu = nn.Linear(hidden, latent_dim)     # (N, 20)
        self.fc_logvar = nn.Linear(hidden, latent_dim)  # (N, 20)
        self.fc3 = nn.Linear(latent_dim, hidden)       # (N, 400)
        self.fc4 = nn.Linear(hidden, in_features)      # (N, 784) logits

    def encode(self, x):
        h = self.fc1(x.reshape(x.shape[0], -1)).relu()
        return self.fc_mu(h), self.fc_logvar(h)

    def decode(self, z):
        return self.fc4(self.fc3(z).relu())


class ConvVAE(VAE):
    """Convolutional VAE for 28x28 (or size x size, size divisible by 4): two stride-2 convs down to 7x7,
    two transposed convs back up."""

    def __init__(self, latent_dim=16, width=32, channels=1, size=28):
        super().__init__()
        self.latent_dim, self.in_features, self.size = latent_dim, channels * size * size, size
        s = size // 4
        if size % 4:
            raise ValueError(f"ConvVAE halves the image twice: its side must be divisible by 4, got {size}")
        self.encoder = nn.Sequential(
            nn.Conv2d(channels, width, 4, stride=2, padding=1),       # (N, w, 14, 14)
            nn.ReLU(),
            nn.Conv2d(width, 2 * width, 4, stride=2, padding=1),      # (N, 2w, 7, 7)
            nn.ReLU(),
            nn.Flatten(),                                             # (N, 2w*49)
        )
        self.fc_mu = nn.Linear(2 * width * s * s, latent_dim)
        self.fc_logvar = nn.Linear(2 * width * s * s, latent_dim)
        self.decoder = nn.Sequential(
            nn.Linear(latent_dim, 2 * width * s * s),
            nn.ReLU(),
            nn.Unflatten(1, (2 * width, s, s)),                        # (N, 2w, 7, 7)
            nn.ConvTranspose2d(2 * width, width, 4, stride=2, padding=1),  # (N, w, 14, 14)
            nn.ReLU(),
            nn.ConvTranspose2d(width, channels, 4, stride=2, padding=1),   # (N, C, 28, 28) logits
        )

    def encode(self, x):
        h = self.encoder(x.reshape(x.shape[0], -1, self.size, self.size))
        return self.fc_mu(h), self.fc_logvar(h)

    def decode(self, z):
        return self.decoder(z).reshape(z.shape[0], -1)
