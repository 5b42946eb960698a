"""`Compose`, `ToTensor`, `Normalize` and `Lambda` with torchvision.transforms' names and semantics.

    from tinygan.data import transforms     # for: from torchvision import transforms
    transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))])

They work on NumPy arrays where torchvision's work on PIL images: tinygan has no PIL, and its datasets
give uint8 arrays. A transform's output is data, not part of a graph (it records no history).
"""
import numpy as np

from .. import backend
from ..autograd import Tensor


class Compose:
    """Apply each transform in turn: Compose([f, g])(x) = g(f(x))."""

    def __init__(self, transforms):
        self.transforms = list(transforms)

    def __call__(self, x):
        for transform in self.transforms:
            x = transform(x)
        return x

    def __repr__(self):
        return "Compose(" + "".join(f"\n    {t!r}" for t in self.transforms) + "\n)"


class ToTensor:
    """An image array (H, W) or (H, W, C) -> a Tensor (C, H, W); uint8 values v become float32 v / 255 on [0, 1].

    As torchvision's ToTensor on an array: other dtypes keep their values and dtype (a float64 image stays float64).
    """

    def __call__(self, pic):
        if isinstance(pic, Tensor) or not isinstance(pic, np.ndarray):
            raise TypeError(f"ToTensor: pic should be an image array (H, W) or (H, W, C), got {type(pic).__name__}")
        if pic.ndim not in (2, 3):
            raise ValueError(f"ToTensor: pic should be 2 or 3 dimensional, got {pic.ndim} dimensions")
        chw = (pic[None] if pic.ndim == 2 else pic.transpose(2, 0, 1))
        if pic.dtype == np.uint8:
            return Tensor(chw.astype(np.float32) / np.float32(255))
        return Tensor(np.ascontiguousarray(chw))

    def __repr__(self):
        return "ToTensor()"


class Normalize:
    """A Tensor (C, H, W) or (N, C, H, W) -> (x - mean[c]) / std[c] per channel c, as torchvision's Normalize.

    mean, std -- one number per channel (a sequence of C numbers, or of 1 for every channel)
    """

    def __init__(self, mean, std, inplace=False):
        self.mean, self.std, self.inplace = tuple(mean), tuple(std), inplace
        if any(s == 0 for s in self.std):
            raise ValueError(f"Normalize: std evaluated to zero after conversion, leading to division by zero "
                             f"(std={self.std})")

    def __call__(self, tensor):
        if not isinstance(tensor, Tensor):
            raise TypeError(f"Normalize: expected a Tensor, got {type(tensor).__name__} (put ToTensor() before it)")
        x = tensor.array
        if x.ndim < 3:
            raise ValueError(f"Normalize: expected a tensor image (..., C, H, W), got shape {tuple(x.shape)}")
        if x.dtype.kind != "f":
            raise TypeError(f"Normalize: input tensor should be a float tensor, got {x.dtype}")
        xp = backend.get_array_module(x)
        mean = xp.asarray(self.mean, dtype=x.dtype).reshape(-1, 1, 1)
        std = xp.asarray(self.std, dtype=x.dtype).reshape(-1, 1, 1)
        if mean.shape[0] not in (1, x.shape[-3]) or std.shape[0] not in (1, x.shape[-3]):
            raise ValueError(f"Normalize: mean {self.mean} and std {self.std} need 1 or {x.shape[-3]} values, "
                             f"one per channel of the image of shape {tuple(x.shape)}")
        if self.inplace:
            x -= mean
            x /= std
            return tensor
        return Tensor((x - mean) / std)

    def __repr__(self):
        return f"Normalize(mean={list(self.mean)}, std={list(self.std)})"


class Lambda:
    """A function used as a transform."""

    def __init__(self, lambd):
        if not callable(lambd):
            raise TypeError(f"Lambda: argument should be callable, got {type(lambd).__name__}")
        self.lambd = lambd

    def __call__(self, x):
        return self.lambd(x)

    def __repr__(self):
        return "Lambda()"
