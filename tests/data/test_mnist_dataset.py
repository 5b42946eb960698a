"""tinygan.data.MNIST and tinygan.data.transforms: torchvision's dataset and transforms, with their items."""
import numpy as np
import pytest

import tinygan as torch
from tinygan.data import MNIST, DataError, load_embedded_mnist, transforms, write_idx
from tinygan.data.mnist_dataset import embedded_interleaved_order
from tinygan.utils.data import DataLoader
from paths import OFFICIAL_MNIST

TUTORIAL = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))])


@pytest.fixture(scope="module")
def embedded():
    return MNIST("unused-root", train=True, download=True, transform=TUTORIAL)


def test_the_tutorial_data_block_gives_batches_as_torchvision(embedded):
    assert len(embedded) == 5000
    loader = DataLoader(embedded, batch_size=64, shuffle=False)
    images, targets = next(iter(loader))
    assert images.shape == (64, 1, 28, 28) and images.dtype == np.float32
    assert targets.shape == (64,) and targets.dtype == np.int64
    assert float(images.min()) == -1.0 and float(images.max()) == 1.0
    assert set(targets.numpy().tolist()) == set(range(10))             # every class in an unshuffled batch


def test_the_embedded_digits_are_interleaved_in_blocks_of_every_class(embedded):
    raw_images, raw_labels = load_embedded_mnist()
    targets = embedded.targets.numpy()
    assert targets.dtype == np.int64 and embedded.data.dtype == np.uint8 and embedded.data.shape == (5000, 28, 28)
    for block in targets.reshape(500, 10):
        assert sorted(block) == list(range(10))
    order = embedded_interleaved_order(raw_labels)
    assert sorted(order) == list(range(5000))
    rng = np.random.default_rng(0)
    for k in (0, 1):                                                   # the documented rule, block by block
        classes = rng.permutation(10)
        np.testing.assert_array_equal(targets[10 * k:10 * k + 10], classes)
        np.testing.assert_array_equal(embedded.data.numpy()[10 * k:10 * k + 10], raw_images[classes * 500 + k])
    sevens = embedded.data.numpy()[targets == 7]                       # each class keeps its stored order
    np.testing.assert_array_equal(sevens, raw_images[raw_labels == 7])


def test_items_without_a_transform_are_uint8_arrays_and_int_targets():
    plain = MNIST("unused-root", target_transform=lambda t: t + 100)
    image, target = plain[3]
    assert isinstance(image, np.ndarray) and image.dtype == np.uint8 and image.shape == (28, 28)
    assert isinstance(target, int) and target == int(plain.targets[3].item()) + 100
    tensor = transforms.ToTensor()(image)
    np.testing.assert_array_equal(tensor.numpy(), image[None].astype(np.float32) / np.float32(255))
    assert plain.classes[0] == "0 - zero" and "embedded" in repr(plain)


def test_full_idx_files_in_root_are_read_in_their_order(tmp_path):
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, (30, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, 30).astype(np.uint8)
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    write_idx(raw / "train-images-idx3-ubyte", images)
    write_idx(raw / "train-labels-idx1-ubyte", labels)
    full = MNIST(tmp_path, train=True)
    assert len(full) == 30 and str(raw) in full.source
    np.testing.assert_array_equal(full.data.numpy(), images)
    np.testing.assert_array_equal(full.targets.numpy(), labels)
    image, target = full[7]
    np.testing.assert_array_equal(image, images[7])
    assert target == labels[7]


def test_the_test_split_needs_its_files_and_names_where_they_go(tmp_path):
    with pytest.raises(DataError, match=r"t10k-images-idx3-ubyte\.gz.*MNIST/raw.*download=True"):
        MNIST(tmp_path, train=False)


@pytest.mark.skipif(not (OFFICIAL_MNIST / "t10k-images-idx3-ubyte.gz").exists(),
                    reason=f"the official MNIST test set is not in {OFFICIAL_MNIST}")
def test_the_official_test_files_in_root():
    test = MNIST(OFFICIAL_MNIST, train=False, transform=transforms.ToTensor())
    assert len(test) == 10000
    image, target = test[0]
    assert image.shape == (1, 28, 28) and image.dtype == np.float32 and target == 7   # the first test digit is a 7


def test_to_tensor_follows_torchvision():
    colour = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)     # (H, W, C)
    out = transforms.ToTensor()(colour)
    assert out.shape == (3, 2, 3) and out.dtype == np.float32
    np.testing.assert_allclose(out.numpy(), colour.transpose(2, 0, 1) / 255, rtol=1e-6)
    floats = np.full((2, 2), 3.0)
    assert transforms.ToTensor()(floats).dtype == np.float64 and float(transforms.ToTensor()(floats).max()) == 3.0
    with pytest.raises(TypeError, match="pic should be"):
        transforms.ToTensor()(torch.zeros(2, 2))


def test_normalize_per_channel_and_its_errors():
    x = torch.tensor(np.ones((3, 2, 2), np.float32))
    out = transforms.Normalize((0.5, 0.0, 1.0), (0.5, 2.0, 1.0))(x).numpy()
    np.testing.assert_allclose(out[:, 0, 0], [1.0, 0.5, 0.0])
    assert float(x.numpy().max()) == 1.0                                # not in place by default
    with pytest.raises(ValueError, match="division by zero"):
        transforms.Normalize((0.5,), (0.0,))
    with pytest.raises(ValueError, match="need 1 or 3 values"):
        transforms.Normalize((0.5, 0.5), (0.5, 0.5))(x)
    with pytest.raises(TypeError, match="put ToTensor"):
        transforms.Normalize((0.5,), (0.5,))(np.ones((1, 2, 2)))
    assert transforms.Lambda(lambda t: t * 2)(3) == 6


def test_transforms_equal_torchvisions():
    tv = pytest.importorskip("torchvision.transforms", reason="torchvision is not installed")
    image = np.random.default_rng(2).integers(0, 256, (28, 28), dtype=np.uint8)
    theirs = tv.Compose([tv.ToTensor(), tv.Normalize((0.1307,), (0.3081,))])(image).numpy()
    ours = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])(image).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-6)
