"""Upsample: F.interpolate as a layer (nearest or bilinear), with PyTorch's arguments; PixelShuffle:
F.pixel_shuffle as a layer.
"""
from .. import functional as F
from ..functional.interpolate import MODES as _INTERPOLATE_MODES
from .module import Module


class Upsample(Module):
    """Resize images to `size` or by `scale_factor` (mode 'nearest' or 'bilinear'): F.interpolate as a layer."""

    def __init__(self, size=None, scale_factor=None, mode="nearest", align_corners=None, recompute_scale_factor=None):
        super().__init__()
        if (size is None) == (scale_factor is None):
            raise ValueError(f"Upsample: give exactly one of size and scale_factor, got size={size!r}, "
                             f"scale_factor={scale_factor!r}")
        if mode not in _INTERPOLATE_MODES:
            raise ValueError(f"Upsample: mode must be one of {_INTERPOLATE_MODES}, got mode={mode!r}")
        self.size, self.mode, self.align_corners = size, mode, align_corners
        self.scale_factor = (tuple(float(f) for f in scale_factor) if isinstance(scale_factor, (tuple, list))
                             else float(scale_factor) if scale_factor is not None else None)
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, x):
        return F.interpolate(x, self.size, self.scale_factor, self.mode, self.align_corners,
                             self.recompute_scale_factor)

    def extra_repr(self):
        what = f"scale_factor={self.scale_factor!r}" if self.size is None else f"size={self.size!r}"
        return f"{what}, mode={self.mode!r}"


class PixelShuffle(Module):
    """(N, C r^2, H, W) -> (N, C, H r, W r): F.pixel_shuffle as a layer, the upsampling of a sub-pixel convolution."""

    def __init__(self, upscale_factor):
        super().__init__()
        self.upscale_factor = int(upscale_factor)

    def forward(self, x):
        return F.pixel_shuffle(x, self.upscale_factor)

    def extra_repr(self):
        return f"upscale_factor={self.upscale_factor}"
