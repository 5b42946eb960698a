"""Embedding: a lookup table of learnt rows indexed by integers, initialised from N(0, 1) as PyTorch.
"""
from .. import functional as F
from ..autograd import no_grad
from ..functional.layers import padding_row
from . import init
from .module import Module, _new_parameter, _positive_int


class Embedding(Module):
    """A lookup table: integer indices (e.g. class labels) -> rows of weight (num_embeddings, embedding_dim).

    Initialised from N(0, 1), as in PyTorch. padding_idx names the row that stands for padding (negative counts
    from the end): it starts at zeros and gets no gradient, so it stays zeros while the model trains.
    """

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None):
        super().__init__()
        num_embeddings = _positive_int(num_embeddings, "num_embeddings", "Embedding")
        embedding_dim = _positive_int(embedding_dim, "embedding_dim", "Embedding")
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.padding_idx = None if padding_idx is None else padding_row(padding_idx, num_embeddings, "Embedding")
        self.weight = _new_parameter(num_embeddings, embedding_dim)
        self.reset_parameters()

    def reset_parameters(self):
        init.normal_(self.weight)
        if self.padding_idx is not None:
            with no_grad():
                self.weight[self.padding_idx] = 0.0

    def forward(self, indices):
        return F.embedding(indices, self.weight, padding_idx=self.padding_idx)

    def extra_repr(self):
        padding = "" if self.padding_idx is None else f", padding_idx={self.padding_idx}"
        return f"{self.num_embeddings}, {self.embedding_dim}{padding}"
