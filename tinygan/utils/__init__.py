"""Utilities with PyTorch's names: `tinygan.utils.data` (Dataset, TensorDataset, DataLoader), and torchvision.utils'
`make_grid` and `save_image` (`from tinygan.utils import save_image` for `from torchvision.utils import save_image`)."""
from . import data
from .vision import make_grid, save_image
