"""Layers and models: `Module`, `Parameter`, and layers with PyTorch's names, arguments and weight shapes.

    from tinygan import nn
    G = nn.Sequential(nn.Linear(100, 256), nn.ReLU(), nn.Linear(256, 784), nn.Tanh())

`nn.init` is tinygan.init (weight initialisers), as torch.nn.init.
"""
from .. import init
from .containers import ModuleList, Sequential
from .layers import (BatchNorm1d, BatchNorm2d, Conv2d, ConvTranspose2d, Dropout, Embedding, Flatten, Identity,
                     LeakyReLU, Linear, ReLU, Sigmoid, Tanh, Unflatten, Upsample)
from .module import IncompatibleKeys, Module, Parameter, RemovableHandle
from .summary import summary
# issue 14, part B: losses, activations and normalisations
from .activations import ELU, GELU, LogSoftmax, SiLU, Softmax
from .losses import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, KLDivLoss, L1Loss, MSELoss, NLLLoss
from .normalization import GroupNorm, InstanceNorm2d, LayerNorm
# issue 14, part C: pooling and resizing layers, containers, nn.functional, nn.utils
from .containers import ModuleDict, ParameterDict, ParameterList
from .layers import AdaptiveAvgPool2d, AvgPool2d, MaxPool2d
from . import functional, utils

__all__ = [
    "Module", "Parameter", "IncompatibleKeys", "RemovableHandle",
    "Sequential", "ModuleList",
    "Linear", "Conv2d", "ConvTranspose2d", "BatchNorm1d", "BatchNorm2d", "Embedding",
    "Dropout", "ReLU", "LeakyReLU", "Sigmoid", "Tanh", "Identity",
    "Flatten", "Unflatten", "Upsample",
    "summary", "init",
    # issue 14, part B
    "BCELoss", "BCEWithLogitsLoss", "MSELoss", "L1Loss", "CrossEntropyLoss", "NLLLoss", "KLDivLoss",
    "Softmax", "LogSoftmax", "GELU", "SiLU", "ELU",
    "LayerNorm", "GroupNorm", "InstanceNorm2d",
    # issue 14, part C
    "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "ModuleDict", "ParameterList", "ParameterDict",
    "functional", "utils",
]

# issue 15: recurrent layers
from .recurrent import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNBase, RNNCell

__all__ += ["RNNBase", "RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell"]
