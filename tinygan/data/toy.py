"""Toy 2-D distributions for watching a GAN learn, and collapse, in seconds.

    ring = ring8()                              # 8 Gaussians on a circle of radius 2
    points = ring.sample(512, np.random.default_rng(0))    # float32 (512, 2)

Every distribution has `sample(n, rng)`, where `rng` is a NumPy Generator (or a seed).
The Gaussian mixtures also expose their true `modes` (K, 2) and `std`, so a metric
can count how many modes a generator covers.
"""
import numpy as np


class ToyDistribution:
    """A 2-D distribution: `sample(n, rng)` returns float32 points of shape (n, 2)."""

    name = "toy"

    def sample(self, n, rng):
        points = self._sample(int(n), np.random.default_rng(rng))  # a Generator passes through unchanged
        return points.astype(np.float32)

    def _sample(self, n, rng):
        raise NotImplementedError


class GaussianMixture(ToyDistribution):
    """Equal-weight mixture of isotropic Gaussians with centres `modes` (K, 2) and spread `std`."""

    def __init__(self, modes, std, name="mixture"):
        self.modes = np.asarray(modes, dtype=np.float32).reshape(-1, 2)
        self.std = float(std)
        self.name = name

    def _sample(self, n, rng):
        which = rng.integers(0, len(self.modes), size=n)
        return self.modes[which] + self.std * rng.standard_normal((n, 2))

    def nearest_mode(self, points):
        """For each point, the index of the closest mode and the distance to it."""
        distances = np.linalg.norm(np.asarray(points)[:, None, :] - self.modes[None, :, :], axis=-1)
        index = distances.argmin(axis=1)
        return index, distances[np.arange(len(index)), index]

    def __repr__(self):
        return f"GaussianMixture(name={self.name!r}, {len(self.modes)} modes, std={self.std})"


def ring8(radius=2.0, std=0.02, n_modes=8):
    """8 Gaussians evenly spaced on a circle of `radius` (mode k at angle 2*pi*k/8), std 0.02."""
    angles = 2 * np.pi * np.arange(n_modes) / n_modes
    modes = radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    return GaussianMixture(modes, std, name="ring8")


def grid25(spacing=2.0, std=0.05, per_side=5):
    """5x5 Gaussians with modes at (-4, -2, 0, 2, 4) on each axis (spacing 2, centred), std 0.05."""
    ticks = spacing * (np.arange(per_side) - (per_side - 1) / 2)
    modes = np.stack(np.meshgrid(ticks, ticks, indexing="ij"), axis=-1).reshape(-1, 2)
    return GaussianMixture(modes, std, name="grid25")


class TwoMoons(ToyDistribution):
    """Two interleaving half circles of radius 1 (as sklearn's make_moons), shifted to centre on 0.

    Upper moon: (cos t, sin t); lower moon: (1 - cos t, 0.5 - sin t), t uniform in [0, pi];
    then shifted by (-0.5, -0.25) and blurred with Gaussian noise of std `noise`.
    """

    name = "moons"

    def __init__(self, noise=0.05):
        self.noise = float(noise)

    def _sample(self, n, rng):
        t = np.pi * rng.random(n)
        lower = rng.random(n) < 0.5
        x = np.where(lower, 1 - np.cos(t), np.cos(t))
        y = np.where(lower, 0.5 - np.sin(t), np.sin(t))
        points = np.stack([x - 0.5, y - 0.25], axis=1)
        return points + self.noise * rng.standard_normal((n, 2))


class SwissRoll(ToyDistribution):
    """A 2-D spiral: t uniform in [1.5*pi, 4.5*pi], point (t cos t, t sin t) / 7.5 plus noise.

    The scale 1/7.5 keeps points within about [-2, 2], as in the WGAN-GP toy experiments
    (Gulrajani et al., 2017); `noise` is the std of the Gaussian noise after scaling.
    """

    name = "swissroll"

    def __init__(self, noise=0.25 / 7.5):
        self.noise = float(noise)

    def _sample(self, n, rng):
        t = 1.5 * np.pi * (1 + 2 * rng.random(n))
        points = np.stack([t * np.cos(t), t * np.sin(t)], axis=1) / 7.5
        return points + self.noise * rng.standard_normal((n, 2))


def two_moons(noise=0.05):
    """The two-moons distribution (see TwoMoons)."""
    return TwoMoons(noise)


def swiss_roll(noise=0.25 / 7.5):
    """The 2-D swiss roll (see SwissRoll)."""
    return SwissRoll(noise)
