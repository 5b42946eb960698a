"""The judge of captioned colour digits: real coloured digits read right, noise and random codes read at chance,
a wrong part of a caption is caught, and bad inputs get clear errors."""
import numpy as np
import pytest

import tinygan
from tinygan.data.captions import ALL_TRIPLES, BACKGROUND_RGB, FOREGROUND_RGB, captioned_test, colour_digits
from tinygan.evaluation.captions import CHANCE, caption_accuracy, read_captions, shape_fid, shape_images
from tinygan.models.vqvae import VQVAE

from paths import OFFICIAL_MNIST

needs_mnist = pytest.mark.skipif(not OFFICIAL_MNIST.is_dir(),
                                 reason=f"official MNIST test set not found at {OFFICIAL_MNIST}")
COUNT = 1000        # test digits per check: the first of the official set, all 18 colour pairs among them


@pytest.fixture(scope="module")
def real():
    """The first COUNT captioned test digits: (images, triples, grey digits)."""
    captioned = captioned_test(folder=OFFICIAL_MNIST)
    which = np.arange(COUNT)
    return captioned.images(which), captioned.triples[which], captioned.digits[which]


@pytest.fixture(scope="module")
def real_reading(real):
    images, triples, _ = real
    return caption_accuracy(images, triples)


def balanced_triples(repeats):
    """Every one of the 180 captions `repeats` times: any reading that ignores the image scores chance exactly."""
    return np.array(ALL_TRIPLES * repeats, dtype=np.int64)


@needs_mnist
def test_real_coloured_digits_read_right(real_reading):
    rates = real_reading.rates
    assert rates["background"] == 1.0 and rates["foreground"] == 1.0
    assert rates["digit"] >= 0.97 and rates["all"] == rates["digit"]
    assert real_reading.read.shape == (COUNT, 3) and real_reading.read.dtype == np.int64
    assert set(real_reading.right) == {"background", "digit", "foreground", "all"}


@needs_mnist
def test_the_shape_of_a_coloured_digit_is_the_grey_digit(real):
    images, triples, digits = real
    shapes = shape_images(images)
    grey = digits.astype(np.float32) / 255
    grey /= grey.reshape(len(grey), -1).max(axis=1)[:, None, None]
    assert shapes.shape == (COUNT, 28, 28) and shapes.dtype == np.float32
    np.testing.assert_allclose(shapes, grey, atol=1e-5)
    # measured from given backgrounds, the same
    np.testing.assert_allclose(shape_images(images, BACKGROUND_RGB[triples[:, 2]]), grey, atol=1e-5)


@needs_mnist
@pytest.mark.parametrize("part, column, size", [("foreground", 0, 6), ("digit", 1, 10), ("background", 2, 3)])
def test_a_wrong_part_of_the_caption_is_caught(real, real_reading, part, column, size):
    images, triples, _ = real
    wrong = triples.copy()
    wrong[:, column] = (wrong[:, column] + 1 + np.arange(COUNT) % (size - 1)) % size     # never the true value
    rates = caption_accuracy(images, wrong).rates
    assert rates[part] <= 0.02 and rates["all"] <= 0.02
    for other in {"foreground", "digit", "background"} - {part}:
        assert rates[other] == real_reading.rates[other]


def test_random_noise_reads_at_chance():
    triples = balanced_triples(3)
    images = np.random.default_rng(0).uniform(size=(len(triples), 3, 28, 28)).astype(np.float32)
    rates = caption_accuracy(images, triples).rates
    for part, chance in CHANCE.items():
        assert abs(rates[part] - chance) <= 0.05 + 0.5 * chance, (part, rates[part], chance)


def test_random_codes_read_at_chance():
    tinygan.manual_seed(0)
    model = VQVAE().eval()
    triples = balanced_triples(2)
    with tinygan.no_grad():
        images = model.decode_indices(np.random.default_rng(1).integers(0, 128, (len(triples), 49))).array
    rates = caption_accuracy(images, triples).rates
    for part, chance in CHANCE.items():
        assert abs(rates[part] - chance) <= 0.05 + 0.5 * chance, (part, rates[part], chance)


def test_a_drawn_caption_reads_back_without_the_classifier_in_doubt():
    # a thick bar coloured with every pair: background and foreground read right whatever the digit class is
    digits = np.zeros((18, 28, 28), dtype=np.uint8)
    digits[:, 6:22, 11:17] = 255
    fg, bg = np.repeat(np.arange(6), 3), np.tile(np.arange(3), 6)
    read, shapes = read_captions(colour_digits(digits, fg, bg))
    np.testing.assert_array_equal(read[:, 0], fg)
    np.testing.assert_array_equal(read[:, 2], bg)
    np.testing.assert_allclose(shapes, digits / 255.0, atol=1e-6)


def test_an_image_all_of_its_background_has_an_empty_shape():
    images = np.broadcast_to(BACKGROUND_RGB[:, :, None, None], (3, 3, 28, 28)).astype(np.float32)
    assert not shape_images(images).any()
    read, _ = read_captions(images)
    np.testing.assert_array_equal(read[:, 2], [0, 1, 2])


def test_rates_of_a_subset():
    images = colour_digits(np.zeros((4, 28, 28), np.uint8), [0, 0, 0, 0], [0, 1, 2, 2])
    reading = caption_accuracy(images, np.array([[0, 0, 0], [0, 0, 1], [0, 0, 0], [0, 0, 2]]))
    assert reading.right["background"].tolist() == [True, True, False, True]
    assert reading.rates_of(np.array([True, False, True, False]))["background"] == 0.5
    assert reading.rates_of([1, 3])["background"] == 1.0


@pytest.mark.parametrize("shape, dtype, words", [
    ((4, 1, 28, 28), np.float32, "grey digits"),
    ((4, 28, 28), np.float32, "grey digits"),
    ((4, 3, 32, 32), np.float32, "(N, 3, 28, 28)"),
    ((4, 3, 28, 28), np.uint8, "divide by 255"),
])
def test_bad_images_are_refused_clearly(shape, dtype, words):
    with pytest.raises(ValueError, match=words.replace("(", r"\(").replace(")", r"\)")):
        caption_accuracy(np.zeros(shape, dtype), np.zeros((4, 3), np.int64))
    with pytest.raises(ValueError, match="expected colour images"):
        shape_images(np.zeros((4, 784), np.float32))


@pytest.mark.parametrize("triples, words", [
    (np.zeros((3, 3), np.int64), r"of shape \(4, 3\)"),
    (np.zeros((4, 4), np.int64), r"of shape \(4, 3\)"),
    (np.zeros((4, 3), np.float32), "integer triples"),
    (np.array([[6, 0, 0]] * 4), r"foreground 6 is out of range \(0..5\)"),
    (np.array([[0, 10, 0]] * 4), r"digit 10 is out of range \(0..9\)"),
    (np.array([[0, 0, -1]] * 4), r"background -1 is out of range \(0..2\)"),
])
def test_bad_triples_are_refused_clearly(triples, words):
    images = np.zeros((4, 3, 28, 28), np.float32)
    with pytest.raises(ValueError, match=words):
        caption_accuracy(images, triples)


def test_bad_backgrounds_are_refused_clearly():
    with pytest.raises(ValueError, match=r"one background colour \(N, 3\) = \(2, 3\)"):
        shape_images(np.zeros((2, 3, 28, 28), np.float32), FOREGROUND_RGB[:3])


@needs_mnist
def test_shape_fid_of_real_digits_is_small_and_of_noise_large(real):
    images, _, digits = real
    other = captioned_test(folder=OFFICIAL_MNIST).digits[COUNT:2 * COUNT]
    real_fid = shape_fid(images, other)
    noise = np.random.default_rng(0).uniform(size=(COUNT, 3, 28, 28)).astype(np.float32)
    assert real_fid < 0.1 * shape_fid(noise, other)
    # from a Reference's cached features, the same number
    class Reference:
        def outputs(self, which):
            assert which == "test"
            from tinygan.evaluation.classifier import classify
            return classify(other)
    assert shape_fid(images, Reference()) == pytest.approx(real_fid)
