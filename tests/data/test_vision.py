"""make_grid and save_image: torchvision.utils' layout, normalisation and pixel bytes."""
import io

import matplotlib.image as mpimg
import numpy as np
import pytest

import tinygan as torch
from tinygan.utils import make_grid, save_image


def _images(n=5, c=1, h=2, w=3, seed=0):
    return np.random.default_rng(seed).random((n, c, h, w)).astype(np.float32)


def test_make_grid_lays_images_out_in_rows_with_padding_as_torchvision():
    x = _images()                                                       # 5 grey images 2x3
    grid = make_grid(torch.tensor(x), nrow=3, padding=1, pad_value=0.5).numpy()
    assert grid.shape == (3, 2 * (2 + 1) + 1, 3 * (3 + 1) + 1)          # 2 rows of 3, padding all round
    expected = np.full((3, 7, 13), 0.5, np.float32)
    for k in range(5):
        r, c = divmod(k, 3)
        expected[:, 1 + 3 * r:3 + 3 * r, 1 + 4 * c:4 + 4 * c] = x[k, 0]   # grey repeated into 3 channels
    np.testing.assert_array_equal(grid, expected)


def test_make_grid_defaults_and_fewer_images_than_a_row():
    x = _images(n=3, c=3, h=4, w=4)
    grid = make_grid(torch.tensor(x)).numpy()                           # nrow=8, padding=2, pad_value=0
    assert grid.shape == (3, 4 + 4, 3 * 6 + 2)
    np.testing.assert_array_equal(grid[:, 2:6, 8:12], x[1])
    assert grid[:, :2].max() == 0 and grid[:, :, :2].max() == 0


def test_make_grid_of_one_image_or_a_list():
    x = _images(n=2, c=1, h=3, w=3)
    np.testing.assert_array_equal(make_grid(torch.tensor(x[0])).numpy(), np.repeat(x[0], 3, axis=0))  # no padding
    np.testing.assert_array_equal(make_grid(torch.tensor(x[0, 0])).numpy(), np.repeat(x[0], 3, axis=0))
    from_list = make_grid([torch.tensor(x[0]), torch.tensor(x[1])], nrow=1, padding=0).numpy()
    np.testing.assert_array_equal(from_list, np.repeat(np.concatenate([x[0], x[1]], axis=1), 3, axis=0))


def test_make_grid_normalize_by_range_by_batch_and_by_image():
    x = np.array([[[[-2.0, 0.0]]], [[[0.5, 1.0]]]], dtype=np.float32)    # (2, 1, 1, 2)
    ranged = make_grid(torch.tensor(x), padding=0, normalize=True, value_range=(-1, 1)).numpy()[0]
    np.testing.assert_allclose(ranged, [[0.0, 0.5, 0.75, 1.0]])         # -2 clipped to -1
    batch = make_grid(torch.tensor(x), padding=0, normalize=True).numpy()[0]
    np.testing.assert_allclose(batch, [[0.0, 2 / 3, 2.5 / 3, 1.0]])
    each = make_grid(torch.tensor(x), padding=0, normalize=True, scale_each=True).numpy()[0]
    np.testing.assert_allclose(each, [[0.0, 1.0, 0.0, 1.0]])
    np.testing.assert_array_equal(x[0, 0, 0], [-2.0, 0.0])             # the input is left alone
    with pytest.raises(TypeError, match="value_range has to be a tuple"):
        make_grid(torch.tensor(x), normalize=True, value_range=[-1, 1])


def test_save_image_writes_the_grid_as_rgb_bytes(tmp_path):
    x = _images(n=10, c=1, h=5, w=4, seed=1)
    path = tmp_path / "grid.png"
    save_image(torch.tensor(x), path, nrow=4)
    pixels = mpimg.imread(path)
    grid = make_grid(torch.tensor(x), nrow=4).numpy().transpose(1, 2, 0)
    assert pixels.shape == grid.shape == (3 * 7 + 2, 4 * 6 + 2, 3)
    np.testing.assert_array_equal(np.round(pixels * 255), np.clip(np.floor(grid * 255 + 0.5), 0, 255))


def test_save_image_to_a_file_object_with_normalize():
    x = 2 * _images(n=4, c=3, h=3, w=3, seed=2) - 1                      # tanh outputs on [-1, 1]
    buffer = io.BytesIO()
    save_image(torch.tensor(x), buffer, nrow=2, padding=0, normalize=True, value_range=(-1, 1))
    buffer.seek(0)
    pixels = mpimg.imread(buffer, format="png")
    expected = np.floor((x[0].transpose(1, 2, 0) + 1) / 2 * 255 + 0.5)
    np.testing.assert_array_equal(np.round(pixels[:3, :3] * 255), expected)


def test_make_grid_and_save_image_equal_torchvisions(tmp_path):
    tv = pytest.importorskip("torchvision.utils", reason="torchvision is not installed")
    import torch as real_torch
    x = 2 * _images(n=7, c=1, h=6, w=5, seed=3) - 1
    for kwargs in ({}, {"nrow": 3, "padding": 1, "pad_value": 0.3}, {"normalize": True},
                   {"normalize": True, "value_range": (-0.5, 0.5)}, {"normalize": True, "scale_each": True}):
        np.testing.assert_allclose(make_grid(torch.tensor(x), **kwargs).numpy(),
                                   tv.make_grid(real_torch.from_numpy(x), **kwargs).numpy(), rtol=1e-6, atol=1e-6)
    save_image(torch.tensor(x), tmp_path / "ours.png", normalize=True)
    tv.save_image(real_torch.from_numpy(x), tmp_path / "theirs.png", normalize=True)
    np.testing.assert_array_equal(mpimg.imread(tmp_path / "ours.png"), mpimg.imread(tmp_path / "theirs.png"))
