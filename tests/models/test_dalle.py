"""DALL-E's transformer prior: shapes, the causal mask, the loss on the image positions only (against a NumPy
transcription), top-k sampling, generation, AdamW's weight-decay groups, and drawing from captions."""
import numpy as np
import pytest

from tinygan import backend
from tinygan.autograd import no_grad
from tinygan.data.captions import BOS, TEXT_TOKENS, tokenize
from tinygan.models import VQVAE, Dalle, DallePrior
from tinygan.models.dalle import IMAGE_TOKENS, SEQUENCE_LENGTH, caption_tokens, sample_top_k


@pytest.fixture
def prior():
    backend.manual_seed(0)
    model = DallePrior(num_codes=16, width=16, num_layers=2, num_heads=4, feedforward=32)
    model.eval()
    return model


def _codes(n, k=16, seed=0):
    return np.random.default_rng(seed).integers(0, k, size=(n, IMAGE_TOKENS))


def _text(n):
    return caption_tokens([(i % 6, i % 10, i % 3) for i in range(n)])


def test_the_sequence_is_bos_words_then_codes_after_the_text_tokens():
    seq = DallePrior.sequence([tokenize("red seven on white")], [[0, 5, 15]])
    assert seq.tolist() == [[BOS, 0, 13, 16, 19, TEXT_TOKENS, TEXT_TOKENS + 5, TEXT_TOKENS + 15]]
    assert SEQUENCE_LENGTH == 54


def test_forward_gives_logits_over_the_codes_and_refuses_a_full_sequence(prior):
    tokens = DallePrior.sequence(_text(3), _codes(3))
    assert prior(tokens[:, :-1]).shape == (3, 53, 16)
    assert prior(tokens[:, :7]).shape == (3, 7, 16)
    with pytest.raises(ValueError, match="1 <= L <= 53"):
        prior(tokens)


def test_a_later_token_never_changes_earlier_logits(prior):
    tokens = DallePrior.sequence(_text(2), _codes(2))[:, :-1]
    changed = tokens.copy()
    changed[:, 20] = TEXT_TOKENS + (changed[:, 20] - TEXT_TOKENS + 1) % 16
    with no_grad():
        a, b = prior(tokens).array, prior(changed).array
    np.testing.assert_array_equal(a[:, :20], b[:, :20])
    assert np.abs(a[:, 20:] - b[:, 20:]).max() > 1e-6


def test_the_loss_is_the_cross_entropy_of_the_image_positions_only(prior):
    text, codes = _text(3), _codes(3)
    with no_grad():
        logits = prior(DallePrior.sequence(text, codes)[:, :-1]).array.astype(np.float64)
        loss = prior.loss(text, codes).item()
    image_logits = logits[:, 4:53]                                             # positions 4..52 -> codes 0..48
    log_p = image_logits - np.log(np.exp(image_logits).sum(-1, keepdims=True))
    expected = -np.take_along_axis(log_p, codes[..., None], axis=-1).mean()
    assert loss == pytest.approx(expected, rel=1e-5)
    # the text positions' logits enter nothing: changing the words' targets is impossible, and the loss of the
    # first 4 positions would differ from the loss computed
    everything = logits[:, :53]
    assert not np.isclose(loss, -np.log(np.exp(everything).sum(-1)).mean())


def test_the_loss_gradient_reaches_every_weight(prior):
    prior.train()
    prior.loss(_text(2), _codes(2)).backward()
    assert all(p.grad is not None and np.isfinite(p.grad.array).all() for p in prior.parameters())


def test_sample_top_k_draws_only_among_the_k_largest_and_follows_the_softmax():
    logits = np.array([[0.0, 3.0, 1.0, 2.0, -1.0]] * 20000)
    rng = np.random.default_rng(0)
    drawn = sample_top_k(logits, 2, 1.0, rng)
    assert set(drawn.tolist()) == {1, 3}
    assert np.mean(drawn == 1) == pytest.approx(np.e / (np.e + 1), abs=0.01)     # softmax of (3, 2)
    hot = sample_top_k(logits, None, 0.5, rng)                                   # T = 0.5: exp(2 l)
    p = np.exp(2 * logits[0]) / np.exp(2 * logits[0]).sum()
    np.testing.assert_allclose(np.bincount(hot, minlength=5) / len(hot), p, atol=0.01)
    assert (sample_top_k(logits[:5], 1, 1.0, rng) == 1).all()
    with pytest.raises(ValueError, match="temperature"):
        sample_top_k(logits, 2, 0.0, rng)
    with pytest.raises(ValueError, match="top_k"):
        sample_top_k(logits, 0, 1.0, rng)


def test_generate_gives_valid_codes_and_top_k_one_is_greedy(prior):
    text = _text(3)
    codes = prior.generate(text, top_k=16, generator=np.random.default_rng(1)).array
    assert codes.shape == (3, IMAGE_TOKENS) and codes.dtype == np.int64
    assert codes.min() >= 0 and codes.max() < 16
    again = prior.generate(text, generator=np.random.default_rng(1)).array
    np.testing.assert_array_equal(codes, again)
    greedy = prior.generate(text, top_k=1).array
    with no_grad():
        logits = prior(DallePrior.sequence(text, greedy)[:, :-1]).array
    np.testing.assert_array_equal(logits[:, 4:].argmax(-1), greedy)
    prior.train()
    prior.generate(text[:1])
    assert prior.training


def test_generation_with_the_key_value_cache_samples_what_full_passes_sample(prior):
    """The cache's logits at every step equal a full pass over the sequence so far (float64), so the same
    generator draws the same codes as the plain loop: reread everything, take the last position's logits."""
    prior = prior.double()
    text = _text(3)
    cached = prior.generate(text, top_k=4, generator=np.random.default_rng(7)).numpy()
    rng, tokens = np.random.default_rng(7), DallePrior.sequence(text)
    with no_grad():
        for j in range(IMAGE_TOKENS):
            logits = prior(tokens)[:, -1].numpy()
            code = sample_top_k(logits, 4, 1.0, rng)
            assert np.array_equal(code, cached[:, j]), j
            tokens = np.concatenate([tokens, (code + TEXT_TOKENS)[:, None]], axis=1)


def test_weight_decay_only_on_the_weight_matrices(prior):
    decay, no_decay = prior.weight_decay_groups(0.01)
    assert decay["weight_decay"] == 0.01 and no_decay["weight_decay"] == 0.0
    names = {id(p): name for name, p in prior.named_parameters()}
    decayed = sorted(names[id(p)] for p in decay["params"])
    assert decayed == sorted(["head.weight"] + [f"transformer.layers.{i}.{w}" for i in range(2) for w in (
        "self_attn.in_proj_weight", "self_attn.out_proj.weight", "linear1.weight", "linear2.weight")])
    kept = {names[id(p)] for p in no_decay["params"]}
    assert {"token_embedding.weight", "position_embedding.weight", "norm.weight", "head.bias"} <= kept
    assert len(decay["params"]) + len(no_decay["params"]) == len(list(prior.parameters()))


def test_dalle_draws_images_of_captions_and_refuses_unknown_words(prior):
    dalle = Dalle(VQVAE(num_codes=16), prior)
    images = dalle.draw(["red seven on white", "cyan two on black"], generator=np.random.default_rng(0)).array
    assert images.shape == (2, 3, 28, 28) and images.min() >= 0 and images.max() <= 1
    same = dalle.draw([(0, 7, 2), (5, 2, 0)], generator=np.random.default_rng(0)).array
    np.testing.assert_array_equal(images, same)
    with pytest.raises(ValueError, match="unknown word 'purple'.*vocabulary is red, green"):
        dalle.draw(["purple seven on white"])
    with pytest.raises(ValueError, match=r"triples \(N, 3\)"):
        caption_tokens(np.zeros((2, 4), int))
