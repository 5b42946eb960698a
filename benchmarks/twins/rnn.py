"""The PyTorch twin of tinygan.models.RowLSTM, the row-by-row LSTM generator of binary digits."""
import torch
from torch import nn
from torch.nn import functional as F


class RowLSTM(nn.Module):
    """tinygan.models.RowLSTM: LSTM(28, H, batch_first) over rows shifted down by one, Linear(H, 28) logits."""

    def __init__(self, columns, hidden):
        super().__init__()
        self.lstm = nn.LSTM(columns, hidden, batch_first=True)
        self.out = nn.Linear(hidden, columns)

    def nll(self, images):
        """-log p(images) per image, averaged over the batch: BCE with logits summed over the pixels / N."""
        N, _, rows, columns = images.shape
        x = images.reshape(N, rows, columns)
        inputs = torch.cat([x.new_zeros(N, 1, columns), x[:, :-1]], dim=1)   # row t-1 at step t
        logits = self.out(self.lstm(inputs)[0])
        return F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / N
