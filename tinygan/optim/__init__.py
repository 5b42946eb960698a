"""Optimizers and learning-rate schedules with PyTorch's names, arguments and update rules (torch.optim).

    opt = optim.Adam(model.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt.zero_grad(); loss.backward(); opt.step()
    scheduler = optim.lr_scheduler.StepLR(opt, step_size=10, gamma=0.5)

One file per algorithm, each the algorithm box of the torch.optim docs step for step: optimizer.py (the
base class: parameter groups, zero_grad, step, state_dict), sgd.py, adam.py (Adam, AdamW), rmsprop.py,
adagrad.py, adadelta.py;
lr_scheduler.py holds the schedules.
"""
from . import lr_scheduler
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "lr_scheduler"]
