"""`tinygan.nn.parallel`: PyTorch's wrappers that spread a model over several GPUs or processes.

tinygan computes on one device. `DataParallel` on one device is, in PyTorch too, the wrapped module itself:
here it always is, a wrapper that calls its `.module`, so that a script written for several GPUs runs, and its
state_dict has PyTorch's `module.` prefix. `DistributedDataParallel` needs processes that talk to each other
(torch.distributed), which tinygan does not have: it refuses, naming what to write.
"""
from .module import Module


class DataParallel(Module):
    """`DataParallel(module)`: runs `module` on tinygan's one device (PyTorch would split each batch over
    `device_ids`; with one device it, too, just calls the module). `device_ids`, `output_device` and `dim`
    are accepted; more than one device id is refused, as tinygan uses one device."""

    def __init__(self, module, device_ids=None, output_device=None, dim=0):
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DataParallel: expected a tinygan.nn.Module, got {type(module).__name__}")
        if device_ids is not None and len(device_ids) > 1:
            raise ValueError(f"DataParallel: tinygan computes on one device, so device_ids={list(device_ids)} cannot "
                             f"be used; leave device_ids out, or use the module itself")
        self.module = module
        self.dim = dim

    def forward(self, *inputs, **kwargs):
        return self.module(*inputs, **kwargs)


class DistributedDataParallel(Module):
    """Refused: tinygan has no processes that share gradients (torch.distributed)."""

    def __init__(self, module, *args, **kwargs):
        raise NotImplementedError(
            "DistributedDataParallel: tinygan computes in one process on one device and has no torch.distributed; "
            "train the module itself (model = module), or nn.DataParallel(module), which tinygan runs on its one "
            "device")


def data_parallel(module, inputs, device_ids=None, output_device=None, dim=0, module_kwargs=None):
    """`module(inputs)` on tinygan's one device, as torch.nn.parallel.data_parallel with one device."""
    inputs = inputs if isinstance(inputs, tuple) else (inputs,)
    return module(*inputs, **(module_kwargs or {}))


__all__ = ["DataParallel", "DistributedDataParallel", "data_parallel"]
