"""Issue 16: the scenes of digits, exactly as the issue defines them (tinygan/data/scenes.py)."""

import numpy as np
import pytest

from tinygan.data import DataError
from tinygan.data.scenes import BACKGROUND, SceneLoader, make_scene, make_scenes, official_test_scenes, train_scenes

from paths import OFFICIAL_MNIST as MNIST


def square(value, size=28):
    """A digit image that is one square of brightness `value` (uint8) in its top-left 4x4 corner."""
    digit = np.zeros((size, size), np.uint8)
    digit[:4, :4] = value
    return digit


def test_a_lone_digit_is_pasted_at_its_corner_and_labelled_where_bright():
    digit = np.zeros((28, 28), np.uint8)
    digit[0, 0], digit[0, 1], digit[27, 27] = 127, 128, 255      # 127/255 < 0.5 <= 128/255
    canvas, labels = make_scene([digit], [7], [(3, 36)])
    expected = np.zeros((64, 64), np.uint8)
    expected[3:31, 36:64] = digit
    np.testing.assert_array_equal(canvas, expected)
    assert labels[3, 36] == BACKGROUND                             # dimmer than 0.5: background
    assert labels[3, 37] == 7 and labels[30, 63] == 7
    assert (labels == 7).sum() == 2 and (labels == BACKGROUND).sum() == 64 * 64 - 2


def test_overlapping_digits_paste_by_maximum_and_the_brightest_names_the_pixel():
    dim, bright = square(150), square(200)
    canvas, labels = make_scene([dim, bright], [1, 2], [(10, 10), (12, 12)])
    assert canvas[10, 10] == 150 and labels[10, 10] == 1           # only the first digit covers (10, 10)
    assert canvas[12, 12] == 200 and labels[12, 12] == 2           # both cover (12, 12): the brighter one
    assert canvas[15, 15] == 200 and labels[15, 15] == 2           # only the second covers (15, 15)
    canvas_swapped, labels_swapped = make_scene([bright, dim], [2, 1], [(12, 12), (10, 10)])
    np.testing.assert_array_equal(canvas_swapped, canvas)          # max does not depend on the order ...
    np.testing.assert_array_equal(labels_swapped, labels)          # ... nor does the brightest digit


def test_a_brighter_digit_below_keeps_its_pixels_from_a_dimmer_one_pasted_later():
    canvas, labels = make_scene([square(240), square(130)], [4, 9], [(0, 0), (0, 0)])
    assert canvas[0, 0] == 240 and labels[0, 0] == 4


def test_on_a_tie_the_digit_pasted_first_names_the_pixel():
    canvas, labels = make_scene([square(200), square(200), square(200)], [3, 5, 8], [(20, 20)] * 3)
    assert canvas[20, 20] == 200 and labels[20, 20] == 3


def test_a_bright_pixel_over_a_dim_part_of_another_digit_takes_the_bright_ones_class():
    """The brightest digit at the pixel names it, even where the other digit is too dim to count."""
    canvas, labels = make_scene([square(100), square(128)], [6, 0], [(0, 0), (0, 0)])
    assert labels[0, 0] == 0
    canvas, labels = make_scene([square(100), square(120)], [6, 0], [(0, 0), (0, 0)])
    assert canvas[0, 0] == 120 and labels[0, 0] == BACKGROUND    # the brightest is below 0.5


def test_scenes_follow_the_documented_draw_order():
    rng = np.random.default_rng(5)
    images = rng.integers(0, 256, (9, 28, 28)).astype(np.uint8)
    classes = np.arange(9, dtype=np.uint8)
    scenes, label_maps = make_scenes(images, classes, 4, np.random.default_rng(42))
    draw = np.random.default_rng(42)
    picks = draw.integers(0, 9, size=(4, 3))
    positions = draw.integers(0, 37, size=(4, 3, 2))
    for i in range(4):
        canvas = np.zeros((64, 64), np.uint8)
        for k in range(3):
            r, c = positions[i, k]
            canvas[r:r + 28, c:c + 28] = np.maximum(canvas[r:r + 28, c:c + 28], images[picks[i, k]])
        np.testing.assert_array_equal(scenes[i], canvas)
        expected = make_scene(images[picks[i]], classes[picks[i]], positions[i])[1]
        np.testing.assert_array_equal(label_maps[i], expected)


def test_labels_by_brute_force_over_the_three_digits():
    """Each pixel's label from the three placed digits, computed independently of the paste loop."""
    rng = np.random.default_rng(3)
    images = rng.integers(0, 256, (5, 28, 28)).astype(np.uint8)
    classes = np.array([0, 3, 3, 7, 9], np.uint8)
    scenes, label_maps = make_scenes(images, classes, 6, np.random.default_rng(8))
    draw = np.random.default_rng(8)
    picks, positions = draw.integers(0, 5, size=(6, 3)), draw.integers(0, 37, size=(6, 3, 2))
    for i in range(6):
        placed = np.zeros((3, 64, 64), np.int64)                   # each digit on its own canvas
        for k in range(3):
            r, c = positions[i, k]
            placed[k, r:r + 28, c:c + 28] = images[picks[i, k]]
        brightest = placed.argmax(axis=0)                          # the first of equals, as documented
        expected = np.where(placed.max(axis=0) / 255 >= 0.5, classes[picks[i]][brightest], BACKGROUND)
        np.testing.assert_array_equal(label_maps[i], expected)
        np.testing.assert_array_equal(scenes[i], placed.max(axis=0))


def test_training_scenes_are_fresh_each_epoch_and_the_same_for_the_same_seed_and_epoch():
    a, la = train_scenes(seed=0, epoch=1, count=50)
    b, lb = train_scenes(seed=0, epoch=1, count=50)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(la, lb)
    assert not np.array_equal(a, train_scenes(seed=0, epoch=2, count=50)[0])
    np.testing.assert_array_equal(train_scenes(seed=1, epoch=1, count=50)[0], train_scenes(seed=0, epoch=2, count=50)[0])
    assert a.shape == la.shape == (50, 64, 64) and a.dtype == la.dtype == np.uint8
    assert la.max() == BACKGROUND and set(np.unique(la)) <= set(range(11))


def test_loader_gives_every_scene_in_batches_and_resumes_by_epoch():
    loader = SceneLoader(batch_size=32, seed=3, count=70)
    assert len(loader) == 3
    batches = list(loader)
    assert [tuple(x.shape) for x, _ in batches] == [(32, 1, 64, 64), (32, 1, 64, 64), (6, 1, 64, 64)]
    x, y = batches[0]
    assert x.dtype == np.float32 and y.dtype == np.int64 and tuple(y.shape) == (32, 64, 64)
    scenes, label_maps = loader.scenes(0)
    np.testing.assert_array_equal(x.array, scenes[:32, None] / np.float32(255))
    np.testing.assert_array_equal(y.array, label_maps[:32])
    second = [b for b in loader]                                    # epoch 1: other scenes
    loader.set_epoch(1)
    np.testing.assert_array_equal(next(iter(loader))[0].array, second[0][0].array)
    assert not np.array_equal(second[0][0].array, x.array)


def test_bad_digits_are_refused_with_what_was_given():
    with pytest.raises(DataError, match=r"make_scenes: expected digits uint8 \(N, 28, 28\), got float64"):
        make_scenes(np.zeros((3, 28, 28)), np.zeros(3), 2, np.random.default_rng(0))
    with pytest.raises(DataError, match=r"expected labels \(3,\)"):
        make_scenes(np.zeros((3, 28, 28), np.uint8), np.zeros(4), 2, np.random.default_rng(0))


@pytest.mark.skipif(not MNIST.is_dir(), reason="the official MNIST test set is not in ../shared/data/mnist")
def test_test_scenes_are_the_same_in_every_call_and_mostly_background():
    scenes, label_maps = official_test_scenes(MNIST)
    again, _ = official_test_scenes(MNIST)
    assert scenes.shape == (2000, 64, 64)
    np.testing.assert_array_equal(scenes, again)
    background = (label_maps == BACKGROUND).mean()
    assert 0.85 < background < 0.97                                # three digits cover a few percent each


def test_scenes_by_name():
    from tinygan.registry import load_dataset
    scenes, label_maps = load_dataset("scenes")
    np.testing.assert_array_equal(scenes, train_scenes(seed=0, epoch=0)[0])
    assert label_maps.shape == (5000, 64, 64)
    with pytest.raises(DataError, match="splits 'train' and 'test', not 'valid'"):
        load_dataset("scenes", split="valid")
    if MNIST.is_dir():
        np.testing.assert_array_equal(load_dataset("scenes", "test", folder=MNIST)[1], official_test_scenes(MNIST)[1])
