"""CIFAR-10's official binary format, on small archives built here in exactly that format."""
import io
import tarfile

import numpy as np
import pytest

from tinygan.data import DataError
from tinygan.data import cifar
from tinygan.data.cifar import load_cifar10

RECORDS = 4


def _batch(seed, records=RECORDS, record_bytes=cifar.RECORD_BYTES, labels=None):
    rng = np.random.default_rng(seed)
    table = rng.integers(0, 256, (records, record_bytes), dtype=np.uint8)
    table[:, 0] = rng.integers(0, 10, records) if labels is None else labels
    return table.tobytes()


def _archive(folder, batches=None, skip=()):
    """folder/cifar-10-binary.tar.gz holding the six batch files (bytes by name; default: valid random ones)."""
    batches = dict(batches or {})
    names = cifar.SPLITS["train"] + cifar.SPLITS["test"]
    path = folder / cifar.ARCHIVE
    with tarfile.open(path, "w:gz") as archive:
        for i, name in enumerate(names):
            if name in skip:
                continue
            data = batches.get(name, _batch(i))
            info = tarfile.TarInfo(f"{cifar.FOLDER_IN_ARCHIVE}/{name}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def _load(folder, split="train"):
    return load_cifar10(split, folder=folder, verify=False, records_per_batch=RECORDS)


def test_records_are_a_label_byte_then_red_green_blue_planes(tmp_path):
    _archive(tmp_path)
    images, labels = _load(tmp_path)
    assert images.shape == (5 * RECORDS, 3, 32, 32) and images.dtype == np.uint8
    first = np.frombuffer(_batch(0), dtype=np.uint8).reshape(RECORDS, cifar.RECORD_BYTES)
    np.testing.assert_array_equal(labels[:RECORDS], first[:, 0])
    np.testing.assert_array_equal(images[0, 0].ravel(), first[0, 1:1025])          # red plane
    np.testing.assert_array_equal(images[0, 2, 31], first[0, 1 + 2048 + 31 * 32:1 + 2048 + 32 * 32])  # blue, last row
    test_images, _ = _load(tmp_path, "test")
    assert test_images.shape == (RECORDS, 3, 32, 32)


def test_a_truncated_batch_is_named(tmp_path):
    _archive(tmp_path, {"data_batch_3.bin": _batch(3)[:-101]})                    # cut inside the last record
    with pytest.raises(DataError, match=r"data_batch_3\.bin.*truncated: 12,191 bytes, expected 12,292"):
        _load(tmp_path)
    _archive(tmp_path, {"data_batch_3.bin": _batch(3)[:-cifar.RECORD_BYTES]})     # a whole record missing
    with pytest.raises(DataError, match=r"data_batch_3\.bin.*truncated: 3 whole records of 4"):
        _load(tmp_path)


def test_records_of_the_wrong_size_are_named(tmp_path):
    _archive(tmp_path, {"test_batch.bin": _batch(5, record_bytes=3072)})
    with pytest.raises(DataError, match=r"test_batch\.bin.*3,072 bytes each, expected 3,073"):
        _load(tmp_path, "test")


def test_a_bad_label_byte_is_named(tmp_path):
    _archive(tmp_path, {"data_batch_2.bin": _batch(2, labels=[1, 2, 10, 3])})
    with pytest.raises(DataError, match=r"data_batch_2\.bin: record 2 has label byte 10"):
        _load(tmp_path)


def test_an_archive_with_the_wrong_md5_is_refused_naming_it(tmp_path):
    path = _archive(tmp_path)
    with pytest.raises(DataError, match=rf"{path}.*expected {cifar.MD5}"):
        load_cifar10("train", folder=tmp_path, records_per_batch=RECORDS)


def test_a_missing_member_and_a_missing_archive_are_named(tmp_path):
    _archive(tmp_path, skip=("data_batch_5.bin",))
    with pytest.raises(DataError, match=r"cifar-10-batches-bin/data_batch_5\.bin is missing"):
        _load(tmp_path)
    with pytest.raises(DataError, match=r"cifar-10-binary\.tar\.gz not found in .*empty"):
        _load(tmp_path / "empty")


def test_a_file_that_is_not_a_tar_is_named(tmp_path):
    (tmp_path / cifar.ARCHIVE).write_bytes(b"not a tar at all")
    with pytest.raises(DataError, match=r"cifar-10-binary\.tar\.gz: not a readable"):
        _load(tmp_path)


@pytest.mark.parametrize("model", ["dcgan", "vaegan", "conv-vae"])
def test_models_train_on_cifar10_from_the_cache(tmp_path, monkeypatch, model):
    """`--data cifar10` reads the archive in $TINYGAN_CACHE/cifar10, md5 checked; the models are built for 3x32x32.

    The small archive stands in for the official one: its record count and its md5 replace the published ones.
    """
    from tinygan.cli import main
    from tinygan.data import file_md5
    folder = tmp_path / "cache" / "cifar10"
    folder.mkdir(parents=True)
    path = _archive(folder, {name: _batch(i, records=8) for i, name in enumerate(cifar.SPLITS["train"])})
    monkeypatch.setenv("TINYGAN_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(cifar, "RECORDS_PER_BATCH", 8)
    monkeypatch.setattr(cifar, "MD5", file_md5(path))
    out = tmp_path / "run"
    width = ["--width", "8"] if model != "vaegan" else []              # the VAE-GAN's sizes are fixed
    assert main(["train", model, "--data", "cifar10", "--epochs", "1", "--steps-per-epoch", "1", "--batch-size", "8",
                 *width, "--threads", "1", "--quiet", "--out", str(out)]) == 0
    assert (out / "samples" / "epoch_001.png").stat().st_size > 0
