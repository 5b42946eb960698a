"""GAN generators and discriminators. Discriminators return logits (no sigmoid): the losses apply it."""
from .. import backend, nn
from ..nn import init
from .. import functional as F
from ..autograd import Tensor


def _leaky():
    return nn.LeakyReLU(0.2)


def _base_size(size):
    """The side after two stride-2 layers: size / 4 (7 for 28x28 digits, 8 for 32x32 CIFAR-10)."""
    if size % 4:
        raise ValueError(f"the conv models halve the image twice: its side must be divisible by 4, got {size}")
    return size // 4


class MLPGenerator(nn.Module):
    """z -> hidden layers (Linear, optional BatchNorm1d, activation) -> Linear -> tanh (or identity for toy data)."""

    def __init__(self, latent_dim=100, hidden=(256, 512), out_shape=(1, 28, 28), batchnorm=True,
                 activation="leaky_relu", output="tanh"):
        super().__init__()
        self.latent_dim, self.out_shape = latent_dim, tuple(out_shape)
        out_features = 1
        for n in self.out_shape:
            out_features *= n
        layers, width = [], latent_dim
        for h in hidden:
            layers.append(nn.Linear(width, h))                        # (N, h)
            if batchnorm:
                layers.append(nn.BatchNorm1d(h))
            layers.append(_leaky() if activation == "leaky_relu" else nn.ReLU())
            width = h
        layers.append(nn.Linear(width, out_features))                 # (N, prod(out_shape))
        if output == "tanh":
            layers.append(nn.Tanh())
        self.net = nn.Sequential(*layers)

    def forward(self, z):
        return self.net(z).reshape((z.shape[0],) + self.out_shape)


class MLPDiscriminator(nn.Module):
    """x -> flatten -> hidden layers (Linear, activation) -> Linear -> one logit per sample (or per pack).

    pack -- PacGAN (Lin et al., 2018): with pack = m the discriminator judges m samples at once,
            concatenated into one input, and returns one logit per m samples (N / m in all).
            A generator that drops a mode makes packs less varied than real ones, which a
            discriminator of single samples cannot see; so packing keeps every mode of the
            ring of 8 Gaussians (benchmarks/results/quality.md).
    """

    def __init__(self, in_shape=(1, 28, 28), hidden=(512, 256), activation="leaky_relu", pack=1):
        super().__init__()
        if not isinstance(pack, int) or pack < 1:
            raise ValueError(f"MLPDiscriminator: pack must be a positive integer, got {pack!r}")
        self.pack = pack
        in_features = pack
        for n in in_shape:
            in_features *= n
        layers, width = [], in_features
        for h in hidden:
            layers += [nn.Linear(width, h), _leaky() if activation == "leaky_relu" else nn.ReLU()]
            width = h
        layers.append(nn.Linear(width, 1))                            # (N / pack, 1)
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        if x.shape[0] % self.pack:
            raise ValueError(f"MLPDiscriminator: a batch of {x.shape[0]} samples does not split into packs of "
                             f"{self.pack}; use a batch size divisible by {self.pack}")
        return self.net(x.reshape(x.shape[0] // self.pack, -1))     # m samples side by side per row


class DCGANGenerator(nn.Module):
    """DCGAN generator for 28x28 (Radford et al., 2016, adapted to MNIST's size), or any size S divisible by 4.

    z (N, latent) -> Linear -> BN -> ReLU -> (N, 2w, 7, 7) -> ConvT -> BN -> ReLU -> (N, w, 14, 14)
      -> ConvT -> tanh -> (N, C, 28, 28)          (S = 32, CIFAR-10: 8 -> 16 -> 32)
    """

    def __init__(self, latent_dim=100, width=64, channels=1, extra_inputs=0, size=28):
        super().__init__()
        self.latent_dim = latent_dim
        s = _base_size(size)                                            # 7 for 28x28
        self.net = nn.Sequential(
            nn.Linear(latent_dim + extra_inputs, 2 * width * s * s),  # (N, 2w*7*7)
            nn.BatchNorm1d(2 * width * s * s),
            nn.ReLU(),
            nn.Unflatten(1, (2 * width, s, s)),                         # (N, 2w, 7, 7)
            nn.ConvTranspose2d(2 * width, width, 4, stride=2, padding=1),  # (N, w, 14, 14)
            nn.BatchNorm2d(width),
            nn.ReLU(),
            nn.ConvTranspose2d(width, channels, 4, stride=2, padding=1),   # (N, C, 28, 28)
            nn.Tanh(),
        )

    def forward(self, z):
        return self.net(z)


class DCGANDiscriminator(nn.Module):
    """DCGAN discriminator (critic) for 28x28; BatchNorm optional (a WGAN-GP critic must omit it).

    x (N, C, 28, 28) -> Conv -> LReLU -> (N, w, 14, 14) -> Conv -> [BN] -> LReLU -> (N, 2w, 7, 7)
      -> flatten -> Linear -> (N, 1) logit
    """

    def __init__(self, width=64, channels=1, batchnorm=True, extra_channels=0, size=28):
        super().__init__()
        s = _base_size(size)
        layers = [
            nn.Conv2d(channels + extra_channels, width, 4, stride=2, padding=1),  # (N, w, 14, 14)
            _leaky(),
            nn.Conv2d(width, 2 * width, 4, stride=2, padding=1),                  # (N, 2w, 7, 7)
        ]
        if batchnorm:
            layers.append(nn.BatchNorm2d(2 * width))
        layers += [_leaky(), nn.Flatten(), nn.Linear(2 * width * s * s, 1)]       # (N, 1)
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x)


def _one_hot(labels, num_classes, like):
    """(N,) integer labels -> (N, num_classes) one-hot floats on like's device and dtype."""
    xp = backend.get_array_module(like.array)
    index = xp.asarray(backend.to_device(labels.array if isinstance(labels, Tensor) else labels, like.device))
    return Tensor((index[:, None] == xp.arange(num_classes)[None, :]).astype(like.dtype))


class ConditionalDCGANGenerator(DCGANGenerator):
    """DCGAN generator that is told which digit to draw: the one-hot label is concatenated to z."""

    def __init__(self, latent_dim=100, width=64, channels=1, num_classes=10, size=28):
        super().__init__(latent_dim, width, channels, extra_inputs=num_classes, size=size)
        self.num_classes = num_classes

    def forward(self, z, labels):
        return self.net(F.concat([z, _one_hot(labels, self.num_classes, z)], axis=1))


class ConditionalDCGANDiscriminator(DCGANDiscriminator):
    """DCGAN discriminator that sees the claimed label as extra constant input planes (one per class)."""

    def __init__(self, width=64, channels=1, batchnorm=True, num_classes=10, size=28):
        super().__init__(width, channels, batchnorm, extra_channels=num_classes, size=size)
        self.num_classes = num_classes

    def forward(self, x, labels):
        N, _, H, W = x.shape
        planes = _one_hot(labels, self.num_classes, x).reshape(N, self.num_classes, 1, 1)
        planes = planes.broadcast_to((N, self.num_classes, H, W))
        return self.net(F.concat([x, planes], axis=1))


def dcgan_init_(module, std=0.02):
    """DCGAN initialisation (Radford et al., 2016, section 4): conv and linear weights ~ N(0, 0.02), biases 0,
    BatchNorm weights ~ N(1, 0.02)."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            init.normal_(m.weight, 0.0, std)
            if m.bias is not None:
                init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            init.normal_(m.weight, 1.0, std)
            init.zeros_(m.bias)
    return module
