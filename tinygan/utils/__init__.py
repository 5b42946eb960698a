"""Utilities with PyTorch's names: `tinygan.utils.data` (Dataset, TensorDataset, DataLoader)."""
from . import data
