"""Captioned colour digits (tinygan/data/captions.py): the captions, the held-out ones, the words and tokens, the
pixel formula, the seeded training epochs and the test set."""
import numpy as np
import pytest

from tinygan import backend
from tinygan.data import DataError, load_embedded_mnist
from tinygan.data import captions as C

from paths import OFFICIAL_MNIST

needs_official = pytest.mark.skipif(not OFFICIAL_MNIST.is_dir(),
                                    reason=f"official MNIST test set not found at {OFFICIAL_MNIST}")


def host(t):
    return backend.to_numpy(t.array)


def test_there_are_180_captions_of_20_words_and_20_are_held_out_2_per_digit():
    captions = {C.caption_of(*t) for t in C.ALL_TRIPLES}
    assert len(captions) == 180
    assert len(C.VOCABULARY) == len(set(C.VOCABULARY)) == 20
    assert {w for caption in captions for w in caption.split()} == set(C.VOCABULARY)
    assert len(C.HELD_OUT) == len(C.HELD_OUT_TRIPLES) == 20 and len(C.TRAIN_TRIPLES) == 160
    for k in range(10):
        held = sorted(t for t in C.HELD_OUT if t[1] == k)
        assert held == sorted([(k % 6, k, k % 3), ((k + 3) % 6, k, (k + 1) % 3)])
        assert len({tuple(p) for p in C.TRAIN_PAIRS[k]}) == 16
        assert all((f, k, b) not in C.HELD_OUT for f, b in C.TRAIN_PAIRS[k])
    assert C.is_held_out(0, 0, 0) and C.is_held_out(3, 0, 1) and not C.is_held_out(1, 0, 0)


def test_every_word_occurs_in_the_training_captions():
    words = {w for t in C.TRAIN_TRIPLES for w in C.caption_of(*t).split()}
    assert words == set(C.VOCABULARY)


def test_tokenize_and_parse_round_trip_and_the_numbering_is_the_documented_one():
    assert C.caption_of(0, 7, 2) == "red seven on white"
    assert C.tokenize("red seven on white") == [0, 13, 16, 19]
    assert C.BOS == 20 and C.TEXT_TOKENS == 21 and C.VOCABULARY[C.ON_TOKEN] == "on"
    for triple in C.ALL_TRIPLES:
        caption = C.caption_of(*triple)
        assert C.parse(caption) == triple
        tokens = C.tokenize(caption)
        assert len(tokens) == 4 and max(tokens) < C.BOS
        assert C.caption_of_tokens(tokens) == caption
        assert C.caption_of_tokens([C.BOS] + tokens) == caption
    np.testing.assert_array_equal(C.tokens_of(np.array(C.ALL_TRIPLES)),
                                  [C.tokenize(C.caption_of(*t)) for t in C.ALL_TRIPLES])


def test_an_unknown_word_or_a_misplaced_one_is_refused_by_name():
    with pytest.raises(ValueError, match=r"unknown word 'purple' in caption 'purple seven on white'"):
        C.tokenize("purple seven on white")
    with pytest.raises(ValueError, match=r"'seven red on white' is not a caption.*<foreground> <digit word>"):
        C.parse("seven red on white")
    with pytest.raises(ValueError, match=r"not a caption"):
        C.parse("red seven on")
    with pytest.raises(ValueError, match=r"21 is not a word token"):
        C.caption_of_tokens([0, 13, 16, 21])


def test_a_pixel_is_d_times_the_foreground_plus_1_minus_d_times_the_background():
    digit = np.zeros((1, 28, 28), np.uint8)
    digit[0, 5, 6], digit[0, 0, 0] = 51, 255                    # d = 0.2 and d = 1
    image = C.colour_digits(digit, [4], [1])[0]                  # magenta (1, .2, 1) on grey (.5, .5, .5)
    assert image.dtype == np.float32 and image.shape == (3, 28, 28)
    np.testing.assert_allclose(image[:, 5, 6], [0.2 * 1 + 0.8 * 0.5, 0.2 * 0.2 + 0.8 * 0.5, 0.2 * 1 + 0.8 * 0.5],
                               rtol=1e-6)
    np.testing.assert_allclose(image[:, 0, 0], [1, 0.2, 1], rtol=1e-6)
    np.testing.assert_allclose(image[:, 1, 1], [0.5, 0.5, 0.5], rtol=1e-6)


def test_training_epochs_are_determined_by_seed_and_epoch_and_differ_between_epochs():
    _, labels = load_embedded_mnist()
    triples, order = C.train_draw(labels, seed=3, epoch=2)
    again, order_again = C.train_draw(labels, seed=3, epoch=2)
    np.testing.assert_array_equal(triples, again)
    np.testing.assert_array_equal(order, order_again)
    np.testing.assert_array_equal(triples[:, 1], labels)
    assert sorted(order) == list(range(5000))
    for other in (C.train_draw(labels, seed=3, epoch=3), C.train_draw(labels, seed=4, epoch=2)):
        assert (other[0] != triples).any(axis=1).mean() > 0.8
        assert (other[1] != order).mean() > 0.9
    np.testing.assert_array_equal(C.train_draw(labels, seed=3, epoch=2)[0], C.train_draw(labels, seed=2, epoch=3)[0])


def test_no_held_out_caption_appears_in_a_training_epoch_and_each_training_pair_does():
    _, labels = load_embedded_mnist()
    for epoch in range(3):
        triples, _ = C.train_draw(labels, seed=0, epoch=epoch)
        seen = {tuple(t) for t in triples.tolist()}
        assert not seen & C.HELD_OUT
        assert seen == set(C.TRAIN_TRIPLES)                      # ~31 digits per caption: each one shows up


def test_the_loader_gives_the_epochs_images_and_tokens_in_its_order_and_resumes():
    digits, labels = load_embedded_mnist()
    pick = np.arange(0, 5000, 50)                                # 100 digits, 10 of each class
    loader = C.CaptionLoader(batch_size=32, seed=5, digits=digits[pick], labels=labels[pick])
    assert len(loader) == 4
    first = [(host(x), host(y)) for x, y in loader]
    assert [len(x) for x, _ in first] == [32, 32, 32, 4]
    x, y = first[0]
    assert x.dtype == np.float32 and x.shape == (32, 3, 28, 28) and 0 <= x.min() and x.max() <= 1
    assert y.dtype == np.int64 and y.shape == (32, 4)
    triples, order = C.train_draw(labels[pick], seed=5, epoch=0)
    np.testing.assert_array_equal(y, C.tokens_of(triples[order[:32]]))
    np.testing.assert_array_equal(x, C.colour_digits(digits[pick][order[:32]], triples[order[:32], 0],
                                                     triples[order[:32], 2]))
    second = [host(y) for _, y in loader]
    assert loader.epoch == 2
    loader.set_epoch(0)
    for (x_again, y_again), (x, y) in zip(loader, first):
        np.testing.assert_array_equal(x_again, x)
        np.testing.assert_array_equal(y_again, y)
    assert not all(np.array_equal(a, b) for a, b in zip(second, [y for _, y in first]))
    assert len(C.CaptionLoader(batch_size=32, drop_last=True, digits=digits[pick], labels=labels[pick])) == 3


def test_the_training_set_of_an_epoch_is_the_embedded_digits_captioned():
    captioned = C.captioned_train(seed=1, epoch=4)
    digits, labels = load_embedded_mnist()
    assert len(captioned) == 5000
    np.testing.assert_array_equal(captioned.digits, digits)
    np.testing.assert_array_equal(captioned.triples, C.train_draw(labels, 1, 4)[0])
    assert captioned.captions([0])[0] == C.caption_of(*captioned.triples[0])


@needs_official
def test_the_test_set_covers_all_18_pairs_of_every_digit_with_seed_1234():
    test = C.captioned_test(OFFICIAL_MNIST)
    assert len(test) == 10000
    assert {tuple(t) for t in test.triples.tolist()} == set(C.ALL_TRIPLES)      # held-out captions included
    pair = np.random.default_rng(1234).integers(0, 18, size=10000)
    np.testing.assert_array_equal(test.triples[:, 0], pair // 3)
    np.testing.assert_array_equal(test.triples[:, 2], pair % 3)
    x, y = next(test.batches(64))
    assert tuple(x.shape) == (64, 3, 28, 28) and tuple(y.shape) == (64, 4)
    np.testing.assert_array_equal(host(x), test.images(np.arange(64)))


def test_a_missing_test_set_is_a_data_error_naming_the_files(tmp_path):
    with pytest.raises(DataError, match=r"t10k-images-idx3-ubyte"):
        C.captioned_test(tmp_path)


def test_the_loader_refuses_labels_that_are_not_digits():
    with pytest.raises(DataError, match=r"CaptionLoader: expected digit labels 0..9 of shape \(2,\)"):
        C.CaptionLoader(digits=np.zeros((2, 28, 28), np.uint8), labels=np.array([1, 12]))
