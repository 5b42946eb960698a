"""`tinygan.nn.parallel`: DataParallel runs the module on tinygan's one device, with PyTorch's `module.` keys;
DistributedDataParallel is refused with a message naming what to write."""
import numpy as np
import pytest

import tinygan
from tinygan import backend, nn
from tinygan.nn.parallel import DataParallel, DistributedDataParallel, data_parallel


def test_data_parallel_is_the_module_behind_pytorchs_module_prefix():
    torch = pytest.importorskip("torch")
    tinygan.manual_seed(0)
    inner = nn.Linear(3, 2).double()
    model = nn.DataParallel(inner)
    assert model.module is inner and nn.parallel.DataParallel is DataParallel
    theirs = torch.nn.DataParallel(torch.nn.Linear(3, 2)).double()
    assert list(model.state_dict()) == list(theirs.state_dict())
    theirs.load_state_dict({k: torch.tensor(np.array(backend.to_numpy(
        v.numpy() if isinstance(v, tinygan.Tensor) else v))) for k, v in model.state_dict().items()})
    x = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]])
    ours, expected = model(tinygan.tensor(x, dtype=np.float64)), theirs(torch.tensor(x))
    np.testing.assert_allclose(backend.to_numpy(ours.array), expected.detach().numpy(), rtol=1e-12)
    ours.sum().backward()
    expected.sum().backward()
    np.testing.assert_allclose(backend.to_numpy(inner.weight.grad.array), theirs.module.weight.grad.numpy(), rtol=1e-12)
    assert list(model.parameters()) == list(inner.parameters())
    assert backend.to_numpy(data_parallel(inner, tinygan.tensor(x, dtype=np.float64)).array).shape == (2, 2)


def test_data_parallel_refuses_several_devices_and_ddp_is_refused_with_the_replacement():
    with pytest.raises(ValueError, match="tinygan computes on one device"):
        DataParallel(nn.Linear(2, 2), device_ids=[0, 1])
    with pytest.raises(NotImplementedError, match=r"has no torch.distributed; train the module itself"):
        DistributedDataParallel(nn.Linear(2, 2))
