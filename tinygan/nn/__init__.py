"""Layers and models: `Module`, `Parameter`, and layers with PyTorch's names, arguments and weight shapes.

    from tinygan import nn
    G = nn.Sequential(nn.Linear(100, 256), nn.ReLU(), nn.Linear(256, 784), nn.Tanh())

One file per kind of layer, as torch.nn.modules: each layer holds its Parameters and calls an operation
of tinygan.functional, where the formulas and their gradients live. Constructor arguments, weight
shapes, default initialisations and reprs follow PyTorch, so a layer here and its torch.nn twin share a
state_dict. `nn.init` holds the weight initialisers, `nn.functional` is tinygan.functional, and
`nn.utils` holds gradient clipping, spectral norm and parameter-vector helpers.
"""
from . import functional, init, utils
from .module import IncompatibleKeys, Module, Parameter, RemovableHandle
from .container import ModuleDict, ModuleList, ParameterDict, ParameterList, Sequential
from .linear import Identity, Linear
from .conv import Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d
from .batchnorm import BatchNorm1d, BatchNorm2d
from .normalization import GroupNorm, InstanceNorm1d, InstanceNorm2d, LayerNorm, RMSNorm
from .activation import (ELU, GELU, Hardtanh, LeakyReLU, LogSigmoid, LogSoftmax, Mish, PReLU, ReLU, SiLU, Sigmoid,
                         Softmax, Softmin, Softplus, Tanh)
from .activation import (CELU, GLU, SELU, Hardshrink, Hardsigmoid, Hardswish, ReLU6, Softshrink, Softsign, Tanhshrink,
                         Threshold)
from .pooling import AdaptiveAvgPool2d, AdaptiveMaxPool2d, AvgPool1d, AvgPool2d, MaxPool1d, MaxPool2d
from .dropout import Dropout, Dropout1d, Dropout2d
from .embedding import Embedding
from .flatten import Flatten, Unflatten
from .padding import (CircularPad1d, CircularPad2d, ConstantPad1d, ConstantPad2d, ReflectionPad1d, ReflectionPad2d,
                      ReplicationPad1d, ReplicationPad2d, ZeroPad1d, ZeroPad2d)
from .upsampling import PixelShuffle, PixelUnshuffle, Upsample, UpsamplingBilinear2d, UpsamplingNearest2d
from .fold import Fold, Unfold
from .distance import CosineSimilarity, PairwiseDistance
from .rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNBase, RNNCell
from .loss import (BCELoss, BCEWithLogitsLoss, CosineEmbeddingLoss, CrossEntropyLoss, GaussianNLLLoss,
                   HingeEmbeddingLoss, HuberLoss, KLDivLoss, L1Loss, MarginRankingLoss, MSELoss,
                   MultiLabelSoftMarginLoss, NLLLoss, PoissonNLLLoss, SmoothL1Loss, SoftMarginLoss, TripletMarginLoss)
from .transformer import MultiheadAttention, Transformer, TransformerEncoder, TransformerEncoderLayer
from .summary import summary
from . import parallel
from .parallel import DataParallel

__all__ = [
    # the base classes
    "Module", "Parameter", "IncompatibleKeys", "RemovableHandle",
    # containers
    "Sequential", "ModuleList", "ModuleDict", "ParameterList", "ParameterDict",
    # layers with weights
    "Identity", "Linear", "Conv1d", "Conv2d", "ConvTranspose1d", "ConvTranspose2d", "Embedding",
    # normalisation
    "BatchNorm1d", "BatchNorm2d", "LayerNorm", "GroupNorm", "InstanceNorm1d", "InstanceNorm2d", "RMSNorm",
    # activations
    "ReLU", "LeakyReLU", "Sigmoid", "Tanh", "Softmax", "LogSoftmax", "GELU", "SiLU", "ELU", "Softplus", "Hardtanh",
    "Mish", "LogSigmoid", "Softmin", "PReLU", "ReLU6", "Hardswish", "Hardsigmoid", "SELU", "CELU", "GLU", "Softsign",
    "Tanhshrink", "Threshold", "Hardshrink", "Softshrink",
    # pooling, dropout, reshaping and resizing
    "MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d", "AdaptiveAvgPool2d", "AdaptiveMaxPool2d", "Dropout",
    "Dropout1d", "Dropout2d", "Flatten", "Unflatten", "Upsample", "PixelShuffle", "PixelUnshuffle",
    "UpsamplingNearest2d", "UpsamplingBilinear2d", "Unfold", "Fold",
    # distances
    "CosineSimilarity", "PairwiseDistance",
    # padding
    "ZeroPad1d", "ZeroPad2d", "ConstantPad1d", "ConstantPad2d", "ReflectionPad1d", "ReflectionPad2d",
    "ReplicationPad1d", "ReplicationPad2d", "CircularPad1d", "CircularPad2d",
    # recurrent layers
    "RNNBase", "RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell",
    # attention and the transformer encoder (Transformer holds the causal mask only)
    "MultiheadAttention", "TransformerEncoderLayer", "TransformerEncoder", "Transformer",
    # losses
    "BCELoss", "BCEWithLogitsLoss", "MSELoss", "L1Loss", "CrossEntropyLoss", "NLLLoss", "KLDivLoss", "SmoothL1Loss",
    "HuberLoss", "GaussianNLLLoss", "PoissonNLLLoss", "MarginRankingLoss", "TripletMarginLoss", "CosineEmbeddingLoss",
    "HingeEmbeddingLoss", "SoftMarginLoss", "MultiLabelSoftMarginLoss",
    # the submodules and summary()
    "functional", "init", "utils", "summary",
    # one device: DataParallel calls its module (see parallel.py)
    "parallel", "DataParallel",
]
