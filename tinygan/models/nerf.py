"""A tiny neural radiance field (Mildenhall et al., 2020): an MLP from a 3-D point to density and colour,
seen through a differentiable volume renderer.

    point p (M, 3) -> gamma(p) (M, 39)                      positional encoding, L = 6 frequencies
                   -> 4 x [Linear(., 128), ReLU] (M, 128)
                   -> Linear(128, 4) (M, 4)
    sigma = softplus(out_0) (M,),  rgb = sigmoid(out_1..3) (M, 3)

A pixel's colour: N samples t_1 < ... < t_N on its ray between near and far (one in each of N equal bins,
jittered within its bin in training, at the bin centres otherwise), the field at o + t_i d, and the
quadrature of tinygan.functional.rendering. The scene here is Lambertian, so the colour does not depend on
the viewing direction and the network is not given it.
"""
import numpy as np

from .. import backend, nn
from .. import functional as F
from ..autograd import Tensor, no_grad
from ..data.scene import camera_rays


class NeRF(nn.Module):
    """The field: points (M, 3) -> (sigma (M,), rgb (M, 3))."""

    def __init__(self, num_frequencies=6, width=128, depth=4):
        super().__init__()
        self.num_frequencies = num_frequencies
        encoded = 3 * (1 + 2 * num_frequencies)
        self.hidden = nn.ModuleList([nn.Linear(encoded if k == 0 else width, width) for k in range(depth)])
        self.out = nn.Linear(width, 4)

    def forward(self, points):
        h = F.positional_encoding(points, self.num_frequencies)      # (M, 39)
        for layer in self.hidden:
            h = F.relu(layer(h))                                     # (M, 128)
        out = self.out(h)                                            # (M, 4)
        return F.softplus(out[:, 0]), F.sigmoid(out[:, 1:])          # (M,), (M, 3)


def stratified_samples(num_rays, num_samples, near, far, rng=None, dtype=None):
    """Sample distances t (num_rays, num_samples): one in each of N equal bins of [near, far].

    t_i = near + (i + u_i) (far - near) / N with u_i ~ U(0, 1) from `rng` (training: every part of the ray
    is seen over the steps), or u_i = 1/2, the bin centres, when rng is None (evaluation: the same t each time).
    """
    xp = backend.xp()
    dtype = dtype or backend.get_default_dtype()
    bins = xp.arange(num_samples, dtype=dtype)
    u = rng.random((num_rays, num_samples), dtype=dtype) if rng is not None else xp.full((num_rays, num_samples),
                                                                                       0.5, dtype=dtype)
    return near + (bins + u) * ((far - near) / num_samples)  # [formula: nerf-stratified-samples]


def render_rays(model, origins, directions, near, far, num_samples, rng=None):
    """colour (R, 3), expected depth (R,) and opacity (R,) of rays (origins, unit directions: (R, 3) arrays)."""
    t = stratified_samples(origins.shape[0], num_samples, near, far, rng, dtype=origins.dtype)   # (R, N)
    return render_samples(model, origins, directions, t, far)


def render_samples(model, origins, directions, t, far):
    """render_rays at given sample distances t (R, N) (an array): the field at o + t d, then the quadrature."""
    R, N = t.shape
    points = origins[:, None, :] + t[:, :, None] * directions[:, None, :]                 # (R, N, 3)
    sigma, rgb = model(Tensor(points.reshape(R * N, 3)))                                  # (R N,), (R N, 3)
    return F.volume_render(sigma.reshape(R, N), rgb.reshape(R, N, 3), Tensor(t), far)


def render_views(model, poses, near, far, num_samples, height, width, focal, chunk=4096):
    """Images (V, H, W, 3), expected depths (V, H, W) and opacities (V, H, W) of camera poses (V, 4, 4),
    as host arrays, rendered with samples at the bin centres (no randomness), without a graph."""
    model.eval()
    dtype = backend.get_default_dtype()
    images, depths, opacities = [], [], []
    with no_grad():
        for pose in poses:
            origins, directions = (backend.to_device(a.astype(dtype), backend.current_device())
                                   for a in camera_rays(pose, height, width, focal))
            parts = [render_rays(model, origins[s:s + chunk], directions[s:s + chunk], near, far, num_samples)
                     for s in range(0, len(origins), chunk)]
            colour, depth, opacity = (np.concatenate([backend.to_numpy(p[k].array) for p in parts]) for k in range(3))
            images.append(colour.reshape(height, width, 3))
            depths.append(depth.reshape(height, width))
            opacities.append(opacity.reshape(height, width))
    return np.stack(images), np.stack(depths), np.stack(opacities)
