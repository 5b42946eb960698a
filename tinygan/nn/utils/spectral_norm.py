"""Spectral normalisation (Miyato et al., 2018, "Spectral Normalization for GANs", Algorithm 1), as
torch.nn.utils.spectral_norm: the layer's weight W is replaced by W / sigma(W), so the layer is
1-Lipschitz in the spectral norm, which keeps a GAN's discriminator from growing too steep.

sigma(W), the largest singular value of W (as a matrix with one row per output channel), is estimated
by power iteration, one step per training forward, carrying the vectors u and v over between steps:

    v = W^T u / ||W^T u||,   u = W v / ||W v||,   sigma = u^T W v

u and v are buffers (weight_u, weight_v) and no gradient flows into them; the gradient flows into
weight_orig, the Parameter that holds the unnormalised W, through W / sigma(W) with u and v fixed.
"""
from ... import backend
from ... import functional as F
from ...autograd import Tensor
from ..conv import ConvTranspose2d
from ..module import Parameter


def _normalize(vector, eps):
    """vector / max(||vector||, eps)."""
    xp = backend.get_array_module(vector)
    return vector / max(float(xp.sqrt((vector * vector).sum())), eps)


class SpectralNorm:
    """The forward pre-hook: before every forward, module.<name> = <name>_orig / sigma(<name>_orig)."""

    def __init__(self, name, n_power_iterations, dim, eps):
        if n_power_iterations < 0:
            raise ValueError(f"spectral_norm: n_power_iterations must be >= 0, got {n_power_iterations}")
        self.name, self.n_power_iterations, self.dim, self.eps = name, n_power_iterations, dim, eps

    def matrix(self, weight):
        """The weight as a matrix (shape[dim], everything else): (out, in*KH*KW) for Conv2d's (out, in, KH, KW)."""
        if self.dim != 0:
            weight = F.permute(weight, [self.dim] + [d for d in range(weight.ndim) if d != self.dim])
        return F.reshape(weight, (weight.shape[0], -1))

    def power_iteration(self, W, u, v):
        """n_power_iterations steps of v = W^T u / ||W^T u||, u = W v / ||W v||, in place on the arrays u, v."""
        for _ in range(self.n_power_iterations):
            v[...] = _normalize(W.T @ u, self.eps)                  # [formula: spectral-norm-power-iteration]
            u[...] = _normalize(W @ v, self.eps)

    def compute_weight(self, module, do_power_iteration):
        """W / sigma, sigma = u^T W v with u and v constants (copies: later iterations change the buffers)."""
        weight = getattr(module, self.name + "_orig")
        u, v = getattr(module, self.name + "_u"), getattr(module, self.name + "_v")
        W = self.matrix(weight)
        if do_power_iteration:
            self.power_iteration(W.array, u.array, v.array)
        u_row, v_column = Tensor(u.array.reshape(1, -1).copy()), Tensor(v.array.reshape(-1, 1).copy())
        sigma = F.reshape(u_row @ W @ v_column, ())                  # [formula: spectral-norm-sigma]
        return weight / sigma

    def __call__(self, module, inputs):
        setattr(module, self.name, self.compute_weight(module, do_power_iteration=module.training))


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None):
    """Normalise module.<name> by its spectral norm before every forward; returns the module.

    As PyTorch: the Parameter becomes <name>_orig, the buffers <name>_u and <name>_v hold the power
    iteration's vectors (random unit vectors at first), dim is 1 for ConvTranspose2d (its weight is
    (in, out, KH, KW)) and 0 otherwise. In train() each forward runs n_power_iterations steps first.
    """
    if any(isinstance(hook, SpectralNorm) and hook.name == name for hook in module._forward_pre_hooks.values()):
        raise RuntimeError(f"spectral_norm: {type(module).__name__}.{name} is already spectrally normalised")
    weight = module._parameters.get(name)
    if weight is None:
        raise ValueError(f"spectral_norm: {type(module).__name__} has no parameter {name!r}")
    dim = (1 if isinstance(module, ConvTranspose2d) else 0) if dim is None else dim
    hook = SpectralNorm(name, n_power_iterations, dim, eps)
    h, w = hook.matrix(weight).shape
    xp = backend.get_array_module(weight.array)
    rng = backend.rng()
    u = _normalize(backend.to_device(rng.standard_normal(h), backend.device_of(weight.array)), eps)
    v = _normalize(backend.to_device(rng.standard_normal(w), backend.device_of(weight.array)), eps)
    delattr(module, name)
    module.register_parameter(name + "_orig", weight)
    setattr(module, name, Tensor(weight.array))
    module.register_buffer(name + "_u", xp.asarray(u, dtype=weight.dtype))
    module.register_buffer(name + "_v", xp.asarray(v, dtype=weight.dtype))
    module.register_forward_pre_hook(hook)
    return module


def remove_spectral_norm(module, name="weight"):
    """Undo spectral_norm: <name> becomes a Parameter again, holding the current W / sigma; returns the module."""
    for key, hook in list(module._forward_pre_hooks.items()):
        if isinstance(hook, SpectralNorm) and hook.name == name:
            weight = hook.compute_weight(module, do_power_iteration=False)
            del module._forward_pre_hooks[key]
            break
    else:
        raise ValueError(f"remove_spectral_norm: {type(module).__name__}.{name} is not spectrally normalised")
    for suffix in ("", "_orig", "_u", "_v"):
        delattr(module, name + suffix)
    module.register_parameter(name, Parameter(weight.array.copy()))
    return module
