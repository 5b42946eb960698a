"""The PyTorch twin of tinygan.models.vae.MLPVAE."""
from torch import nn
from torch.nn import functional as F


class MLPVAE(nn.Module):
    """tinygan.models.vae.MLPVAE: 784 -> 400 -> (mu, logvar); 20 -> 400 -> 784 logits."""

    def __init__(self, features, hidden, latent):
        super().__init__()
        self.fc1 = nn.Linear(features, hidden)        # (N, 400)
        self.fc_mu = nn.Linear(hidden, latent)        # (N, 20)
        self.fc_logvar = nn.Linear(hidden, latent)    # (N, 20)
        self.fc3 = nn.Linear(latent, hidden)          # (N, 400)
        self.fc4 = nn.Linear(hidden, features)        # (N, 784) logits

    def encode(self, x):
        h = F.relu(self.fc1(x))
        return self.fc_mu(h), self.fc_logvar(h)

    def decode(self, z):
        return self.fc4(F.relu(self.fc3(z)))
