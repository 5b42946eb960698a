"""The PyTorch twin of tinygan.models.NeRF and its renderer, for the speed workload N1 and the nerf experiment.

The same field (gamma(p) with L = 6, 4 x Linear(., 128) + ReLU, Linear(128, 4), softplus density, sigmoid
colour), the same stratified samples and the same quadrature, written the usual PyTorch way.
"""
import math

import numpy as np
import torch
from torch import nn


class NeRF(nn.Module):
    """tinygan.models.NeRF: gamma(p), `depth` x (Linear, ReLU), Linear(width, 4); softplus density, sigmoid colour."""

    def __init__(self, num_frequencies=6, width=128, depth=4):
        super().__init__()
        self.num_frequencies = num_frequencies
        encoded = 3 * (1 + 2 * num_frequencies)
        self.hidden = nn.ModuleList([nn.Linear(encoded if k == 0 else width, width) for k in range(depth)])
        self.out = nn.Linear(width, 4)

    def encode(self, p):
        features = [p]
        for k in range(self.num_frequencies):
            scaled = p * (2.0 ** k * math.pi)
            features += [torch.sin(scaled), torch.cos(scaled)]
        return torch.cat(features, dim=-1)

    def forward(self, points):
        h = self.encode(points)
        for layer in self.hidden:
            h = torch.relu(layer(h))
        out = self.out(h)
        return nn.functional.softplus(out[:, 0]), torch.sigmoid(out[:, 1:])


def stratified_samples(num_rays, num_samples, near, far, u=None):
    """t (R, N): one sample in each of N equal bins; u ~ U(0, 1) (R, N) jitters them, None gives the bin centres."""
    bins = torch.arange(num_samples, dtype=torch.float32)
    u = torch.full((num_rays, num_samples), 0.5) if u is None else u
    return near + (bins + u) * ((far - near) / num_samples)


def render_rays(model, origins, directions, near, far, num_samples, u=None):
    """Colour (R, 3), expected depth (R,) and opacity (R,) of rays (origins, unit directions: (R, 3) tensors)."""
    return render_samples(model, origins, directions, stratified_samples(origins.shape[0], num_samples, near, far, u),
                          far)


def render_samples(model, origins, directions, t, far):
    """render_rays at given sample distances t (R, N)."""
    R, num_samples = t.shape
    points = origins[:, None, :] + t[:, :, None] * directions[:, None, :]
    sigma, rgb = model(points.reshape(-1, 3))
    sigma, rgb = sigma.reshape(R, num_samples), rgb.reshape(R, num_samples, 3)
    delta = torch.cat([t[:, 1:], torch.full_like(t[:, :1], far)], dim=1) - t
    optical_depth = sigma * delta
    alpha = 1 - torch.exp(-optical_depth)
    transmittance = torch.exp(-(torch.cumsum(optical_depth, dim=1) - optical_depth))   # exclusive sum
    weights = transmittance * alpha
    return (weights[..., None] * rgb).sum(1), (weights * t).sum(1), weights.sum(1)


def render_views(model, poses, views, num_samples, chunk=4096):
    """Images (V, H, W, 3) of camera poses as NumPy arrays, samples at the bin centres, without a graph."""
    from tinygan.data.scene import camera_rays
    images = []
    with torch.no_grad():
        for pose in poses:
            origins, directions = (torch.tensor(a, dtype=torch.float32)
                                   for a in camera_rays(pose, views.height, views.width, views.focal))
            colour = torch.cat([render_rays(model, origins[s:s + chunk], directions[s:s + chunk], views.near,
                                            views.far, num_samples)[0] for s in range(0, len(origins), chunk)])
            images.append(colour.numpy().reshape(views.height, views.width, 3))
    return np.stack(images)


def copy_weights_from_tinygan(model, tinygan_model):
    """Give the twin the tinygan field's weights (same layer names and (out, in) layout)."""
    with torch.no_grad():
        for name, value in tinygan_model.state_dict().items():
            model.state_dict()[name].copy_(torch.from_numpy(np.asarray(value)))
    return model
