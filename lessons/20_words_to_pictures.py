# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Lesson 20: words to pictures
#
# A full run draws, among its figures, this one: [`docs/images/lessons/20_words_to_pictures.png`](../docs/images/lessons/20_words_to_pictures.png) (`captions.png`).
#
# **What you will see.** DALL-E (Ramesh et al., 2021) draws a picture from a sentence in two stages. A discrete
# autoencoder (here a VQ-VAE) turns an image into a 7 x 7 grid of tokens, each one of 128 learned codes. A
# transformer then learns the sequence [text tokens, image tokens] one token at a time, like a language model; to
# draw, it is given the text and samples the 49 image tokens, which the decoder turns into pixels. You compute
# attention by hand and check it against the module; you see why a causal mask lets one forward pass train every
# next-token prediction at once; you watch the VQ-VAE's nearest-code step and the straight-through estimator pass
# a gradient that the rounding itself does not have; and you train a tiny DALL-E on captioned colour digits
# ("red seven on white") and ask it for captions it has never seen. Beside it you train what some course notes
# call DALL-E, a stack of 3 x 3 convolutions with BatchNorm and an L1 loss, to see what it cannot do.
#
# | step | formula id (see `docs/formulas.md`) | where the code lives |
# | --- | --- | --- |
# | scores, scaling, mask, softmax, weighted sum | `attention-scores`, `attention-scale`, `attention-mask`, `attention-softmax`, `attention-weighted-sum` | `tinygan/functional/attention.py` |
# | the causal mask | `attention-causal-mask` | `tinygan/functional/attention.py` |
# | heads: split and merge | `attention-split-heads`, `attention-merge-heads` | `tinygan/functional/attention.py` |
# | the nearest code and the straight-through estimator | `vq-nearest-code`, `vq-straight-through` | `tinygan/functional/quantize.py` |
# | the VQ-VAE loss and the codebook's updates | `vqvae-loss`, `vq-commitment`, `vq-codebook-loss`, `vq-ema-code` | `tinygan/models/vqvae.py`, `tinygan/functional/quantize.py` |
# | how much of the codebook is used | `vq-perplexity` | `tinygan/functional/quantize.py` |
# | the sources' two descriptions of DALL-E | common mistakes | `docs/formulas.md` |
#
# `tinygan train dalle` trains both stages with the full recipe; `tinygan sample RUN --caption "red seven on white"`
# draws, and `tinygan eval RUN` scores caption accuracy on seen and never-seen captions.
#
# Run it with `python lessons/20_words_to_pictures.py` (full mode: about 7 minutes on a 2-core CPU) or add `--quick`
# for a seconds-long smoke run whose numbers are not the lesson's promises. Figures go to
# `lessons/output/20_words_to_pictures/`.

# %%
import math
import time

import matplotlib.pyplot as plt
import numpy as np

import tinygan
import tinygan.functional as F
from tinygan import nn, optim, viz
from tinygan.autograd import Tensor, no_grad
from tinygan.data import captions
from tinygan.functional import quantize
from tinygan.models import VQVAE
from tinygan.teach import Lesson

QUICK = False   # True: tiny settings, a run of seconds (a script takes --quick or TINYGAN_QUICK=1)
lesson = Lesson("20_words_to_pictures", quick=QUICK)
started = time.perf_counter()
tinygan.manual_seed(0)
rng = np.random.default_rng(0)

# %% [markdown]
# ## 1. Attention by hand
#
# Four tokens, each a vector of E = 3 numbers. Every token asks a question (its query q_i), offers a label (its
# key k_j) and carries a message (its value v_j). The score of query i for key j is q_i . k_j / sqrt(E); a softmax
# over j turns scores into weights that sum to 1; the output of token i is the weighted sum of the values. The
# division by sqrt(E) keeps the scores' spread near 1 whatever E is, so the softmax does not saturate.
#
# A causal mask adds -inf to the scores of every key after the query (j > i): e^-inf = 0, so token i reads only
# tokens 0..i.

# %%
Q, K, V = (rng.standard_normal((4, 3)) for _ in range(3))
scores = Q @ K.T / math.sqrt(3)                                   # (4 queries, 4 keys)
mask = np.where(np.tril(np.ones((4, 4), dtype=bool)), 0.0, -np.inf)
weights = np.exp(scores + mask - (scores + mask).max(axis=1, keepdims=True))
weights /= weights.sum(axis=1, keepdims=True)
by_hand = weights @ V
print("weights of the causal attention (row i: how much token i takes from each token):")
print(np.round(weights, 3))

module_out = F.scaled_dot_product_attention(Tensor(Q), Tensor(K), Tensor(V), is_causal=True).numpy()
attention_matches = np.allclose(by_hand, module_out, rtol=1e-10, atol=1e-12)
print("F.scaled_dot_product_attention(is_causal=True) equals the hand computation:", attention_matches)

# %% [markdown]
# `nn.MultiheadAttention` does the same after three learned projections (W_q, W_k, W_v, stacked in
# `in_proj_weight`), once per head on its own D = E / H numbers, then merges the heads and projects once more
# (`out_proj`). With one head we can repeat it by hand from its weights.

# %%
E = 6
mha = nn.MultiheadAttention(E, num_heads=1, batch_first=True).double()
x = rng.standard_normal((1, 4, E))
W, b = mha.in_proj_weight.numpy(), mha.in_proj_bias.numpy()
q, k, v = (x[0] @ W[i * E:(i + 1) * E].T + b[i * E:(i + 1) * E] for i in range(3))
s = q @ k.T / math.sqrt(E) + mask
a = np.exp(s - s.max(axis=1, keepdims=True))
a /= a.sum(axis=1, keepdims=True)
hand_mha = (a @ v) @ mha.out_proj.weight.numpy().T + mha.out_proj.bias.numpy()
causal = nn.Transformer.generate_square_subsequent_mask(4, dtype=tinygan.float64)
out, att = mha(Tensor(x), Tensor(x), Tensor(x), attn_mask=causal)
mha_matches = np.allclose(out.numpy()[0], hand_mha, rtol=1e-10, atol=1e-12) and np.allclose(att.numpy()[0], a)
print("nn.MultiheadAttention with one head equals the hand computation:", mha_matches)

# %% [markdown]
# ## 2. Why a causal mask trains every next token at once
#
# A language model predicts token t + 1 from tokens 0..t. Run naively, that is one forward pass per position. With
# the causal mask, the output at position t depends on tokens 0..t only, so one pass over the whole sequence gives
# all the predictions at once, and each is honest: none has seen the token it must predict. We check that by
# changing the last token of a sequence and watching which outputs move.

# %%
layer = nn.TransformerEncoderLayer(d_model=16, nhead=4, dim_feedforward=32, dropout=0.0, batch_first=True,
                                   norm_first=True)
encoder = nn.TransformerEncoder(layer, num_layers=2).double().eval()
sequence = rng.standard_normal((1, 6, 16))
changed = sequence.copy()
changed[0, -1] = rng.standard_normal(16)                          # a different last token
mask6 = nn.Transformer.generate_square_subsequent_mask(6, dtype=tinygan.float64)
with no_grad():
    moved_causal = np.abs(encoder(Tensor(changed), mask=mask6).numpy()
                          - encoder(Tensor(sequence), mask=mask6).numpy()).max(axis=2)[0]
    moved_open = np.abs(encoder(Tensor(changed)).numpy() - encoder(Tensor(sequence)).numpy()).max(axis=2)[0]
print("how far each position's output moved when the last token changed")
print("  with the causal mask:", np.round(moved_causal, 4))
print("  without a mask:      ", np.round(moved_open, 4))
earlier_untouched = bool(moved_causal[:-1].max() == 0.0 and moved_causal[-1] > 0)
open_leaks = bool(moved_open[:-1].min() > 0)

# %% [markdown]
# ## 3. The nearest code and the straight-through estimator
#
# The VQ-VAE's encoder gives a vector z_e at each of the 7 x 7 positions. The quantiser replaces it by the nearest
# of K codes, e_k with k = argmin ||z_e - e_k||^2. That choice is a step function of z_e: move z_e a little and the
# code does not change, so its true derivative is 0 almost everywhere and nothing would reach the encoder. The
# straight-through estimator writes z_q = z_e + sg(e - z_e) (sg: stop gradient): its value is the code e, and its
# gradient with respect to z_e is the identity, so the decoder's gradient is copied to the encoder unchanged. It
# passes nothing to the codebook; the codes learn by another route (below).

# %%
codebook = rng.standard_normal((8, 2))
z = rng.standard_normal((5, 2))
nearest = quantize.nearest_code(z, codebook)
by_loop = np.array([min(range(8), key=lambda k: ((z_i - codebook[k]) ** 2).sum()) for z_i in z])
nearest_matches = bool((nearest == by_loop).all())

z_e = Tensor(z, requires_grad=True)
e = Tensor(codebook[nearest], requires_grad=True)                # the chosen codes, as a leaf
upstream = rng.standard_normal((5, 2))                           # a gradient arriving from the decoder
z_q = quantize.straight_through(z_e, e)
(z_q * Tensor(upstream)).sum().backward()
passes_to_encoder = z_e.grad is not None and np.allclose(z_e.grad.numpy(), upstream)
nothing_to_codes = e.grad is None or np.abs(e.grad.numpy()).max() == 0
print("z_q equals the codes:", np.allclose(z_q.numpy(), codebook[nearest]))
print("dL/dz_e equals the decoder's gradient dL/dz_q:", passes_to_encoder, "; the codes get none:", nothing_to_codes)


def quantised(values):
    return codebook[quantize.nearest_code(values, codebook)]


h = 1e-6                                                          # the rounding's own derivative, numerically
true_derivative = (quantised(z + h) - quantised(z - h)) / (2 * h)
print("the rounding's true derivative (central differences):", np.abs(true_derivative).max())

# %% [markdown]
# The loss is MSE(x_hat, x) + beta ||z_e - sg[e]||^2. The second term, the commitment, pulls each encoder output
# towards its code (its gradient is 2 beta (z_e - e) / n) so that the encoder's outputs do not drift away from
# the codebook. The codes themselves move by one of two rules. The original paper adds a codebook loss
# ||sg[z_e] - e||^2, whose gradient step moves each chosen code towards the outputs that chose it. VQ-VAE-2 replaces
# that gradient step by exponential moving averages: each code becomes the running mean of the encoder outputs
# assigned to it (decay 0.99), the same fixed point with no learning rate to tune.

# %%
vq = VQVAE().double()
images = captions.captioned_train(seed=0, epoch=0).images(slice(0, 8)).astype(np.float64)
with no_grad():
    vq.init_codebook(vq.encode(Tensor(images)), np.random.default_rng(0))
vq.eval()
output = vq(Tensor(images))
z_leaf = Tensor(output.z_e.numpy(), requires_grad=True)
_, terms = vq.loss(Tensor(images), output._replace(z_e=z_leaf))
terms["commitment"].backward()
expected_pull = 2 * (output.z_e.numpy() - output.codes.numpy()) / output.z_e.numpy().size
commitment_pulls = z_leaf.grad is not None and np.allclose(z_leaf.grad.numpy(), expected_pull, rtol=1e-9)
print("the commitment term's gradient is 2 (z_e - e) / n:", commitment_pulls)

# %% [markdown]
# ## 4. The codebook: moving averages against a gradient that collapses
#
# Train the VQ-VAE on captioned colour digits with both codebook rules: the recipe's moving averages (codes started
# from encoder outputs of the first batch, and at each epoch's end every code no position chose restarted at an
# encoder output), and the paper's codebook loss from a small random start with no restarts. Perplexity,
# exp(-sum p_k log p_k) over the codes' frequencies, counts how many codes are in real use: 128 if all are used
# equally, 1 if one code does everything. Codes that nobody chooses never move under the gradient rule (their
# gradient is zero), so once the encoder's outputs have left them behind they stay dead.

# %%
EPOCH_STEPS = 4 if lesson.quick else None         # quick mode: a few steps of each epoch
VQ_EPOCHS = 1 if lesson.quick else 3
BATCH = 64


def train_vqvae(model, epochs, recipe):
    """Adam 1e-3 on each epoch's fresh colourings; `recipe`: start the codes from the first batch and restart dead
    codes at each epoch's end. Returns the model, the code use of its last 10 batches, and the last loss."""
    opt = optim.Adam(model.parameters(), lr=1e-3)
    loader = captions.CaptionLoader(BATCH, seed=1)
    for epoch in range(epochs):
        loader.set_epoch(epoch)
        counts = np.zeros(model.num_codes)
        for step, (x, _) in enumerate(loader):
            if epoch == 0 and step == 0 and recipe:
                with no_grad():
                    model.init_codebook(model.encode(x), np.random.default_rng(0))
            out = model(x)
            loss, _ = model.loss(x, out)
            opt.zero_grad()
            loss.backward()
            opt.step()
            counts += quantize.code_counts(out.indices.numpy().reshape(-1), model.num_codes)
            if step + 1 == EPOCH_STEPS:
                break
        use = model.code_use(counts)                          # this epoch's use, before any restart
        if recipe:
            model.restart_dead_codes(np.random.default_rng(epoch + 1))
    return model, use, float(loss.item())


tinygan.manual_seed(0)
vq_ema, use_ema, loss_ema = train_vqvae(VQVAE(codebook="ema"), VQ_EPOCHS, recipe=True)
tinygan.manual_seed(0)
vq_grad, use_grad, loss_grad = train_vqvae(VQVAE(codebook="loss"), VQ_EPOCHS, recipe=False)
print(f"moving averages and restarts: perplexity {use_ema['perplexity']:.1f}, unused codes {use_ema['unused_codes']} "
      f"in the last epoch, loss {loss_ema:.4f}")
print(f"codebook loss, small random start: perplexity {use_grad['perplexity']:.1f}, "
      f"unused codes {use_grad['unused_codes']}, loss {loss_grad:.4f}")

# %% [markdown]
# ## 5. The sources' "DALL-E": convolutions and an L1 loss
#
# Some course notes describe DALL-E as a stack of 3 x 3 convolutions with BatchNorm trained with an L1 (or L2)
# loss. Such a network maps an input picture to an output picture; it has no way to read a sentence. The nearest we
# can get is to give it the caption as picture-sized planes, one per word (20 channels, each all ones or all
# zeros), and train it with L1 to produce the image. Whatever it learns, it is a function: one caption in, one
# picture out, the same picture every time, the per-pixel median of every digit that caption ever described.
# A sentence names a set of pictures; a model that draws from it must sample.

# %%
def caption_planes(tokens):
    """Word tokens (N, 4) -> (N, 20, 28, 28): plane w is all ones when word w is in the caption."""
    planes = np.zeros((len(tokens), len(captions.VOCABULARY), 28, 28), dtype=np.float32)
    for i, words in enumerate(tokens):
        planes[i, words] = 1.0
    return Tensor(planes)


conv_dalle = nn.Sequential(
    nn.Conv2d(len(captions.VOCABULARY), 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(),
    nn.Conv2d(32, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(),
    nn.Conv2d(32, 3, 3, padding=1), nn.Sigmoid())
conv_opt = optim.Adam(conv_dalle.parameters(), lr=1e-3)
conv_loader = captions.CaptionLoader(BATCH, seed=2)
conv_loader.set_epoch(0)
for i, (x, words) in enumerate(conv_loader):
    loss = F.l1_loss(conv_dalle(caption_planes(words.numpy())), x)
    conv_opt.zero_grad()
    loss.backward()
    conv_opt.step()
    if i + 1 == (3 if lesson.quick else 60):
        break
conv_dalle.eval()
seven_on_white = np.tile(captions.tokenize("red seven on white"), (4, 1))
with no_grad():
    conv_draws = conv_dalle(caption_planes(seven_on_white)).numpy()
conv_spread = float(conv_draws.std(axis=0).max())
print(f"the conv model's four drawings of 'red seven on white' differ by at most {conv_spread:.2e}")

# %% [markdown]
# ## 6. A tiny DALL-E
#
# Stage 1 is the VQ-VAE of section 4 (moving averages), frozen: it turns each epoch's fresh colourings into 49
# tokens. Stage 2 is a GPT: token and position embeddings, pre-norm transformer layers under the causal mask, and a
# head onto the 128 codes. Its input is [BOS, the 4 words, the 49 image tokens] and its loss is the cross-entropy of
# the image tokens only: the words are given, not predicted. To draw, it reads BOS and the words and samples the
# image tokens one at a time, each from the 16 most likely codes (top-k sampling).
#
# Twenty of the 180 captions never occur in training (for each digit, two colour pairs); every word does. Asked
# for one of those, the model must combine words it has only seen apart.

# %%
from tinygan.models.dalle import Dalle, DallePrior, caption_tokens  # noqa: E402 (the lesson's second half)

PRIOR_STEPS = 3 if lesson.quick else 400
tinygan.manual_seed(0)
prior = DallePrior()
# The recipe's AdamW, at a higher constant rate than its 3e-4 with warm-up and cosine: this run is 5 epochs, not 30.
prior_opt = optim.AdamW(prior.weight_decay_groups(0.01), lr=1e-3, betas=(0.9, 0.95))
vq_ema.eval()
prior_loader = captions.CaptionLoader(BATCH, seed=3)
prior_losses, step, epoch = [], 0, 0
while step < PRIOR_STEPS:
    prior_loader.set_epoch(epoch)
    for x, words in prior_loader:
        codes = vq_ema.encode_to_indices(x)                       # the frozen stage 1 writes the tokens
        loss = prior.loss(words, codes)
        prior_opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(prior.parameters(), 1.0)
        prior_opt.step()
        prior_losses.append(loss.item())
        step += 1
        if step == PRIOR_STEPS:
            break
    epoch += 1
print(f"prior loss: {prior_losses[0]:.3f} at the start (log 128 = {math.log(128):.3f}), "
      f"{np.mean(prior_losses[-20:]):.3f} at the end")

dalle = Dalle(vq_ema, prior)
SEEN = ["red seven on white", "blue two on black", "yellow zero on grey", "cyan four on white"]
NEVER_SEEN = [captions.caption_of(*triple) for triple in captions.HELD_OUT_TRIPLES[:8:2]]
PER_CAPTION = 1 if lesson.quick else 6
shown = SEEN + NEVER_SEEN
drawn = dalle.draw([c for c in shown for _ in range(PER_CAPTION)], generator=np.random.default_rng(5)).numpy()
print("never seen in training:", ", ".join(NEVER_SEEN))

with no_grad():
    conv_drawn = conv_dalle(caption_planes(caption_tokens([c for c in SEEN for _ in range(PER_CAPTION)]))).numpy()
fig, axes = plt.subplots(3, len(SEEN), figsize=(2.2 * len(SEEN), 7.6))
rows = [(drawn, shown[:len(SEEN)], ""), (drawn[len(SEEN) * PER_CAPTION:], NEVER_SEEN, "\n(never seen)"),
        (conv_drawn, SEEN, "\n(conv + L1)")]
for row, (images, names, note) in zip(axes, rows):
    for ax, caption, start in zip(row, names, range(0, len(images), PER_CAPTION)):
        ax.imshow(viz.image_grid(images[start:start + PER_CAPTION], ncols=3, value_range=(0, 1)))
        ax.set_title(caption + note, fontsize=8)
        ax.axis("off")
fig.suptitle("a tiny DALL-E on seen (top) and never-seen captions (middle); the sources' conv model (bottom)")
lesson.savefig(fig, "captions.png")


def background_of(images):
    """The index of the background nearest each image's border median colour."""
    border = np.concatenate([images[:, :, 0], images[:, :, -1], images[:, :, :, 0], images[:, :, :, -1]], axis=2)
    colour = np.median(border, axis=2)                                          # (N, 3)
    palette = np.array(list(captions.BACKGROUNDS.values()))
    return np.argmin(((colour[:, None] - palette[None]) ** 2).sum(-1), axis=1)


asked_backgrounds = np.array([captions.parse(c)[2] for c in shown for _ in range(PER_CAPTION)])
background_right = float((background_of(drawn) == asked_backgrounds).mean())
one_caption = drawn[:PER_CAPTION]
dalle_spread = float(one_caption.std(axis=0).max())
token_grids = prior.generate(caption_tokens([SEEN[0]] * 3), generator=np.random.default_rng(6)).numpy()
grids_differ = bool((token_grids[1:] != token_grids[0]).any(axis=1).all())
print(f"backgrounds as asked: {background_right:.0%}; the drawings of '{SEEN[0]}' differ by up to {dalle_spread:.2f}")

# %% [markdown]
# The conv model answers each caption with one picture, the same every time; DALL-E answers with samples that
# differ in the digit's shape, as the real digits of that caption do. The sources' second description,
# "autoregressive generation of each pixel, x_t = g(x_{t-1}, h(x_{t-1}))", names the right idea (one token at a time,
# each from the ones before) but leaves out the two things that make DALL-E: the text that conditions every token,
# and the discrete codes that make a 28 x 28 picture a sentence of 49 tokens a transformer can write.

# %% [markdown]
# ## Checks

# %%
lesson.check("causal attention by hand equals F.scaled_dot_product_attention", attention_matches)
lesson.check("one-head nn.MultiheadAttention equals the hand computation from its weights", mha_matches)
lesson.check("with the causal mask, changing the last token leaves every earlier output unchanged",
             earlier_untouched, f"moved {np.round(moved_causal, 4).tolist()}")
lesson.check("without a mask, every output sees the last token", open_leaks)
lesson.check("the quantiser picks each vector's nearest code", nearest_matches)
lesson.check("the straight-through estimator passes the decoder's gradient to the encoder unchanged",
             passes_to_encoder)
lesson.check("the straight-through path gives the codes no gradient", nothing_to_codes)
lesson.check("the rounding itself has derivative 0: the gradient is the estimator's choice",
             float(np.abs(true_derivative).max()) == 0.0)
lesson.check("the commitment term pulls z_e towards its code: gradient 2 (z_e - e) / n", commitment_pulls)
lesson.check("the conv model draws the same picture for a caption every time", conv_spread < 1e-6,
             f"{conv_spread:.2e}")
lesson.check("DALL-E samples: its token grids for one caption differ", grids_differ)
if not lesson.quick:
    lesson.check("the moving-average codebook uses more codes than the gradient-trained one from a small start",
                 use_ema["perplexity"] > 2 * use_grad["perplexity"],
                 f"perplexity {use_ema['perplexity']:.1f} vs {use_grad['perplexity']:.1f}")
    lesson.check("the prior learned: its loss fell well below log 128", np.mean(prior_losses[-20:]) < 0.8 * math.log(128),
                 f"{np.mean(prior_losses[-20:]):.3f}")
    lesson.check("most drawings have the background their caption asks for", background_right > 0.8,
                 f"{background_right:.0%}")
    lesson.check("DALL-E's drawings of one caption differ in their pixels", dalle_spread > 0.05, f"{dalle_spread:.3f}")
print(f"({time.perf_counter() - started:.0f} s)")
lesson.finish()
