"""Embedding: a lookup table of learnt rows indexed by integers, initialised from N(0, 1) as PyTorch.
"""
from .. import functional as F
from . import init
from .module import Module, _new_parameter, _positive_int


class Embedding(Module):
    """A lookup table: integer indices (e.g. class labels) -> rows of weight (num_embeddings, embedding_dim).

    Initialised from N(0, 1), as in PyTorch.
    """

    def __init__(self, num_embeddings, embedding_dim):
        super().__init__()
        num_embeddings = _positive_int(num_embeddings, "num_embeddings", "Embedding")
        embedding_dim = _positive_int(embedding_dim, "embedding_dim", "Embedding")
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.weight = _new_parameter(num_embeddings, embedding_dim)
        self.reset_parameters()

    def reset_parameters(self):
        init.normal_(self.weight)

    def forward(self, indices):
        return F.embedding(indices, self.weight)

    def extra_repr(self):
        return f"{self.num_embeddings}, {self.embedding_dim}"
