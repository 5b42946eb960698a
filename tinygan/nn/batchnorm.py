"""BatchNorm1d and BatchNorm2d: parameters, running statistics and the train/eval switch, as PyTorch; the
normalisation and its closed-form backward are F.batch_norm's (tinygan.functional).
"""
from .. import backend
from .. import functional as F
from . import init
from ..autograd import Tensor
from .module import Module, Parameter, _positive_int


class _BatchNorm(Module):
    """Batch normalisation (Ioffe & Szegedy, 2015) with PyTorch's parameters, buffers and defaults.

    Training: normalise with the batch's mean and biased variance, and move the
    running statistics towards the batch's (unbiased variance):
        running = (1 - momentum) running + momentum batch
    (momentum=None: a cumulative average, momentum = 1 / num_batches_tracked).
    Evaluation (`eval()`): normalise with the running statistics.
    weight (gamma) starts at ones, bias (beta) at zeros, running_mean at zeros,
    running_var at ones.
    """

    _ranks = ()
    _shapes = ""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True):
        super().__init__()
        num_features = _positive_int(num_features, "num_features", type(self).__name__)
        if momentum is not None and not 0 <= momentum <= 1:
            raise ValueError(f"{type(self).__name__}: momentum must be in [0, 1] or None, got {momentum}")
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        xp, dtype = backend.xp(), backend.get_default_dtype()
        if affine:
            self.weight = Parameter(xp.ones(num_features, dtype=dtype))
            self.bias = Parameter(xp.zeros(num_features, dtype=dtype))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", xp.zeros(num_features, dtype=dtype))
            self.register_buffer("running_var", xp.ones(num_features, dtype=dtype))
            self.register_buffer("num_batches_tracked", xp.zeros((), dtype="int64"))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self):
        if self.track_running_stats:
            init.zeros_(self.running_mean)
            init.ones_(self.running_var)
            self.num_batches_tracked.array[...] = 0

    def _check_input(self, x):
        name = f"{type(self).__name__}({self.num_features})"
        if x.ndim not in self._ranks:
            raise ValueError(f"{name}: expected a {' or '.join(f'{r}-D' for r in self._ranks)} input "
                             f"{self._shapes}, got shape {tuple(x.shape)}")
        if x.shape[1] != self.num_features:
            raise ValueError(f"{name}: input has {x.shape[1]} channels (shape {tuple(x.shape)}) but the layer "
                             f"was built for {self.num_features}")

    def forward(self, x):
        self._check_input(x)
        momentum = self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked.array += 1
            if momentum is None:
                momentum = 1.0 / int(self.num_batches_tracked.array)
        use_batch_stats = self.training or not self.track_running_stats
        if self.affine:
            weight, bias = self.weight, self.bias
        else:
            xp = backend.get_array_module(x.array)
            weight = Tensor(xp.ones(self.num_features, dtype=x.dtype))
            bias = Tensor(xp.zeros(self.num_features, dtype=x.dtype))
        shape = tuple(x.shape)
        if x.ndim == 3:  # (N, C, L) is normalised over N and L, like an image of height L and width 1
            x = x.reshape(shape + (1,))
        y = F.batch_norm(x, self.running_mean, self.running_var, weight, bias, training=use_batch_stats,
                         momentum=momentum if momentum is not None else 0.0, eps=self.eps)
        return y.reshape(shape) if len(shape) == 3 else y

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of (N, C) or (N, C, L) inputs, per feature C. See _BatchNorm."""

    _ranks = (2, 3)
    _shapes = "(N, C) or (N, C, L)"


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of (N, C, H, W) inputs, per channel C. See _BatchNorm."""

    _ranks = (4,)
    _shapes = "(N, C, H, W)"
