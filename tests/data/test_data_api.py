"""tinygan's top level as PyTorch code uses it: creation functions, functions, save/load, utils.data."""
import io

import numpy as np
import pytest

import tinygan
from tinygan import Tensor, backend, nn
from tinygan.serialization import SerializationError
from tinygan.utils.data import DataLoader, Dataset, TensorDataset


def host(t):
    return backend.to_numpy(t.array)


# -- creation ------------------------------------------------------------------------------------

def test_creation_functions_take_varargs_or_tuples_and_pytorchs_keywords():
    for make in (tinygan.zeros, tinygan.ones, tinygan.empty, tinygan.randn, tinygan.rand):
        assert make(2, 3).shape == make((2, 3)).shape == make([2, 3]).shape == (2, 3)
        assert make(2, dtype=tinygan.float64).dtype == np.float64 and make(2).dtype == np.float32
        x = make(2, 3, requires_grad=True, device="cpu" if backend.current_device() == "cpu" else "cuda")
        assert x.requires_grad and x.is_leaf and x.device == backend.current_device()
    assert host(tinygan.zeros(2)).tolist() == [0.0, 0.0] and host(tinygan.ones(1)).tolist() == [1.0]
    assert host(tinygan.full((2,), 7)).tolist() == [7, 7] and tinygan.full((2,), 7).dtype == np.int64
    assert tinygan.full((2, 2), 0.5).dtype == np.float32
    assert host(tinygan.arange(4)).tolist() == [0, 1, 2, 3] and tinygan.arange(4).dtype == np.int64
    assert host(tinygan.arange(1, 2, 0.5)).tolist() == [1.0, 1.5] and tinygan.arange(0.0, 1.0).dtype == np.float32
    assert host(tinygan.linspace(0, 1, 5)).tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert host(tinygan.eye(2)).tolist() == [[1.0, 0.0], [0.0, 1.0]] and tinygan.eye(2, 3).shape == (2, 3)
    r = tinygan.randint(0, 10, (1000,))
    assert r.dtype == np.int64 and host(r).min() >= 0 and host(r).max() == 9
    assert tinygan.randint(5, size=(3,)).shape == (3,)
    with pytest.raises(TypeError, match="expected a shape of non-negative ints"):
        tinygan.zeros(2.5)


def test_tensor_copies_and_types_like_pytorch():
    assert tinygan.tensor([1, 2]).dtype == np.int64 and tinygan.tensor([1.0]).dtype == np.float32
    assert tinygan.tensor([True]).dtype == np.bool_ and tinygan.tensor(np.zeros(2)).dtype == np.float64
    array = np.zeros(2)
    copied, shared = tinygan.tensor(array), tinygan.from_numpy(array)
    array[0] = 5.0
    assert host(copied).tolist() == [0.0, 0.0] and host(shared).tolist() == [5.0, 0.0]
    assert tinygan.tensor([1.0], dtype=tinygan.float64, requires_grad=True).requires_grad
    with pytest.raises(TypeError, match="from_numpy: expected a NumPy array, got list"):
        tinygan.from_numpy([1.0])


def test_like_functions_and_helpers():
    x = tinygan.randn(2, 3, dtype=tinygan.float64)
    for like in (tinygan.zeros_like, tinygan.ones_like, tinygan.randn_like):
        y = like(x)
        assert y.shape == (2, 3) and y.dtype == np.float64 and not y.requires_grad
    assert host(tinygan.full_like(x, 2.0)).tolist() == [[2.0] * 3] * 2
    assert tinygan.is_tensor(x) and not tinygan.is_tensor(host(x))
    assert tinygan.allclose(x, x + 1e-9) and not tinygan.allclose(x, x + 1.0)
    assert host(tinygan.sum(x, dim=1)).shape == (2,) and host(tinygan.mean(x)).shape == ()
    np.testing.assert_allclose(host(tinygan.exp(tinygan.log(x.abs()))), np.abs(host(x)), rtol=1e-12)
    assert host(tinygan.relu(tinygan.tensor([-1.0, 2.0]))).tolist() == [0.0, 2.0]
    assert tinygan.sigmoid(x).shape == tinygan.tanh(x).shape == (2, 3)
    assert (tinygan.float32, tinygan.float64, tinygan.int64, tinygan.bool) == (np.float32, np.float64, np.int64, np.bool_)


def test_randn_follows_manual_seed():
    tinygan.manual_seed(3)
    a = host(tinygan.randn(4))
    tinygan.manual_seed(3)
    assert np.array_equal(a, host(tinygan.randn(4)))


# -- save / load ---------------------------------------------------------------------------------

def test_save_and_load_a_state_dict_and_nested_data(tmp_path):
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    checkpoint = {"model": model.state_dict(), "epoch": 3, "loss": 0.25, "betas": (0.5, 0.999),
                  "history": [1.0, 2.0], "name": "dcgan", "tensor": tinygan.ones(2), "none": None}
    path = tmp_path / "model.pt"
    tinygan.save(checkpoint, path)
    assert path.exists()                                     # no ".npz" appended to the name
    loaded = tinygan.load(path)
    assert list(loaded["model"]) == list(model.state_dict())
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(loaded["model"][key], backend.to_numpy(value))
    assert (loaded["epoch"], loaded["loss"], loaded["betas"], loaded["history"], loaded["name"], loaded["none"]) == \
        (3, 0.25, (0.5, 0.999), [1.0, 2.0], "dcgan", None)
    assert isinstance(loaded["tensor"], Tensor) and host(loaded["tensor"]).tolist() == [1.0, 1.0]
    other = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    other.load_state_dict(loaded["model"])
    np.testing.assert_array_equal(host(other[0].weight), host(model[0].weight))


def test_save_refuses_objects_and_load_refuses_pickles(tmp_path):
    with pytest.raises(SerializationError, match=r"save: the object\['model'\] is a Linear: tinygan.save never pickles"):
        tinygan.save({"model": nn.Linear(2, 2)}, io.BytesIO())
    with pytest.raises(SerializationError, match="is a set"):
        tinygan.save({1, 2}, io.BytesIO())
    with pytest.raises(SerializationError, match="keys must be strings or ints"):
        tinygan.save({(1, 2): 3}, io.BytesIO())
    pickled = tmp_path / "pickled.npz"
    np.savez(pickled, objects=np.array([{"a": 1}], dtype=object))
    with pytest.raises(SerializationError, match="not an archive of plain arrays, and tinygan never loads pickled"):
        tinygan.load(pickled)
    plain = tmp_path / "plain.npz"
    np.savez(plain, x=np.zeros(2))
    with pytest.raises(SerializationError, match="not one written by tinygan.save"):
        tinygan.load(plain)
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"not a zip file")
    with pytest.raises(SerializationError, match="tinygan never loads pickled objects"):
        tinygan.load(garbage)                          # NumPy would take a file that is not a zip for a pickle


# -- utils.data ----------------------------------------------------------------------------------

def test_dataloader_batches_like_pytorch():
    x = tinygan.tensor(np.arange(20.0).reshape(10, 2))
    y = tinygan.arange(10)
    loader = DataLoader(TensorDataset(x, y), batch_size=4)
    batches = list(loader)
    assert len(loader) == len(batches) == 3
    xb, yb = batches[0]
    assert isinstance(batches[0], tuple) and xb.shape == (4, 2) and host(yb).tolist() == [0, 1, 2, 3]
    assert batches[-1][0].shape == (2, 2)
    dropping = DataLoader(TensorDataset(x, y), batch_size=4, drop_last=True)
    assert len(dropping) == len(list(dropping)) == 2


@pytest.mark.parametrize("n,batch_size,drop_last,sizes", [
    (12, 4, False, [4, 4, 4]), (12, 4, True, [4, 4, 4]),        # the batch size divides the data
    (10, 4, False, [4, 4, 2]), (10, 4, True, [4, 4]),           # it does not
    (3, 1, False, [1, 1, 1]), (3, 3, True, [3]),                # batches of one; one batch of everything
    (3, 5, False, [3]), (3, 5, True, []),                       # a batch larger than the data
])
def test_dataloader_length_is_the_number_of_batches_it_yields(n, batch_size, drop_last, sizes):
    loader = DataLoader(TensorDataset(tinygan.arange(n)), batch_size=batch_size, drop_last=drop_last)
    assert [len(b[0]) for b in loader] == sizes
    assert len(loader) == len(sizes)


def test_dataloader_shuffles_every_epoch_from_the_generator():
    data = TensorDataset(tinygan.arange(10))
    loader = DataLoader(data, batch_size=10, shuffle=True, generator=np.random.default_rng(0))
    first = [host(b[0]).tolist() for b in loader][0]
    second = [host(b[0]).tolist() for b in loader][0]
    assert sorted(first) == list(range(10)) and first != second and first != list(range(10))
    again = DataLoader(data, batch_size=10, shuffle=True, generator=np.random.default_rng(0))
    assert [host(b[0]).tolist() for b in again][0] == first


def test_dataloader_collates_a_custom_dataset_as_pytorch_does():
    torch = pytest.importorskip("torch")

    class Squares(Dataset):
        def __len__(self):
            return 5

        def __getitem__(self, i):
            return np.full(2, float(i)), i * i, {"id": i}

    ours = list(DataLoader(Squares(), batch_size=2))
    theirs = list(torch.utils.data.DataLoader(Squares(), batch_size=2))
    assert len(ours) == len(theirs) == 3
    for (a, b, c), (ta, tb, tc) in zip(ours, theirs):
        np.testing.assert_array_equal(host(a), ta.numpy())
        np.testing.assert_array_equal(host(b), tb.numpy())
        np.testing.assert_array_equal(host(c["id"]), tc["id"].numpy())
        assert host(b).dtype == tb.numpy().dtype


def test_dataset_errors():
    with pytest.raises(ValueError, match=r"TensorDataset: size mismatch between tensors: first dimensions \[3, 2\]"):
        TensorDataset(tinygan.zeros(3), tinygan.zeros(2))
    with pytest.raises(ValueError, match="DataLoader: batch_size must be a positive int, got 0"):
        DataLoader(TensorDataset(tinygan.zeros(3)), batch_size=0)
    with pytest.raises(NotImplementedError, match="must define __getitem__"):
        Dataset()[0]


def test_the_loader_accepts_the_examples_worker_and_pinning_options():
    """pytorch/examples' VAE passes num_workers=1, pin_memory=True on a GPU; tinygan accepts both
    (its batches are made in this process, and it has no page-locked memory to ask for)."""
    import tinygan
    from tinygan.utils.data import DataLoader, TensorDataset
    loader = DataLoader(TensorDataset(tinygan.arange(10)), batch_size=4, num_workers=1, pin_memory=True)
    assert [len(batch[0]) for batch in loader] == [4, 4, 2]
