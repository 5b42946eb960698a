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
# # Lesson 14: judging generative models
#
# A full run draws, among its figures, this one: [`docs/images/lessons/14_judging_generative_models.png`](../docs/images/lessons/14_judging_generative_models.png) (`fid_of_known_flaws.png`).
#
# **What you will see.** Four ways to put a number on "how good is this generator", each tried on sets of
# images whose flaws we know (noise, blur, missing digits, one digit only) before it is trusted with a
# real model: a Fréchet distance between classifier features (the FID idea), the classifier score (the
# Inception-score idea), mode coverage on the ring of 8 Gaussians, and for a VAE the importance-weighted
# bound that closes in on the true log-likelihood as it uses more samples.
#
# **What you will build.**
#
# | step | formula ids (`docs/formulas.md`) | where the code lives |
# | --- | --- | --- |
# | Fréchet distance between two Gaussians | `frechet-distance`, `matrix-sqrt` | `tinygan/evaluation/metrics.py` |
# | features and p(y given x) from a digit classifier | `classifier-cross-entropy` (how it was trained) | `tinygan/evaluation/classifier.py` |
# | classifier score | `classifier-score` | `tinygan/evaluation/metrics.py` |
# | modes covered, high-quality samples | `mode-coverage`, `high-quality-fraction` | `tinygan/evaluation/metrics.py` |
# | importance-weighted bound, computed stably | `iwae-bound`, `log-mean-exp` | `tinygan/evaluation/metrics.py` |
#
# Run: `python lessons/14_judging_generative_models.py` (full mode: about 1 minute on a 2-core CPU)
# or add `--quick` (seconds; fewer images, so the numbers are noisier).

# %%
import time

import matplotlib.pyplot as plt
import numpy as np

import tinygan
from tinygan import backend, optim, viz
from tinygan.evaluation import metrics
from tinygan.evaluation.classifier import classify
from tinygan.data import ImageLoader, embedded_split, ring8, scale_images
from tinygan.models import MLPVAE
from tinygan.teach import Lesson
from tinygan.train import VAEStep

QUICK = False   # True: tiny settings, a run of seconds (a script takes --quick or TINYGAN_QUICK=1)
lesson = Lesson("14_judging_generative_models", quick=QUICK)
started = time.perf_counter()
tinygan.manual_seed(0)
rng = np.random.default_rng(0)

N = 200 if lesson.quick else 1000                 # images per set compared
VAE_EPOCHS = 2 if lesson.quick else 30
IWAE_IMAGES = 20 if lesson.quick else 200
IWAE_KS = [1, 5, 20] if lesson.quick else [1, 5, 20, 100, 500]

# %% [markdown]
# ## Step 1: the Fréchet distance between two Gaussians
#
# Fit a Gaussian to each of two clouds of feature vectors and measure (Dowson & Landau 1982; Heusel et
# al. 2017 for the FID):
#
# $$d^2 = \|\mu_1 - \mu_2\|^2 + \operatorname{Tr}\big(\Sigma_1 + \Sigma_2 - 2(\Sigma_1\Sigma_2)^{1/2}\big).$$
#
# `metrics.frechet_distance` computes the matrix square root from an eigen-decomposition
# (`matrix-sqrt`). In one dimension the formula is $(\mu_1 - \mu_2)^2 + (\sigma_1 - \sigma_2)^2$, and for
# two identical Gaussians it is 0: two checks before we use it.

# %%
one_d = metrics.frechet_distance(np.array([1.0]), np.array([[4.0]]), np.array([-0.5]), np.array([[0.25]]))
print(f"1-D: N(1, 2^2) vs N(-0.5, 0.5^2): {one_d:.6f}, by hand (1.5)^2 + (2 - 0.5)^2 = {1.5 ** 2 + 1.5 ** 2:.6f}")
cloud = rng.standard_normal((500, 8)) @ rng.standard_normal((8, 8))
same = metrics.frechet_distance_from_features(cloud, cloud)
lesson.check("Fréchet distance: 1-D closed form, and 0 between a set and itself",
             abs(one_d - 4.5) < 1e-9 and abs(same) < 1e-8, f"{one_d:.6f} and {same:.1e}")

# %% [markdown]
# ## Step 2: a model to judge
#
# The 784-400-20 VAE of lesson 12, trained for a while on 4,000 embedded digits (`VAEStep`,
# `tinygan/train/vae.py`). Its samples are the decoder's pixel probabilities for $z \sim N(0, I)$.

# %%
(train_images, train_labels), (test_images, test_labels) = embedded_split()
loader = ImageLoader(train_images[:1024] if lesson.quick else train_images, batch_size=128, value_range=(0, 1),
                    flatten=True, seed=0)
vae = MLPVAE()
step = VAEStep(vae, optim.Adam(vae.parameters(), lr=1e-3))
for epoch in range(1, VAE_EPOCHS + 1):
    figures = [step(x) for x in loader]
    if epoch in (1, VAE_EPOCHS) or epoch % 10 == 0:
        print(f"VAE epoch {epoch:3d}: loss {np.mean([f['loss'] for f in figures]):.2f} nats per image")
vae.eval()
with tinygan.no_grad():
    vae_samples = backend.to_numpy(vae.decode(tinygan.randn(N, 20)).sigmoid().array).reshape(N, 28, 28)

# %% [markdown]
# ## Step 3: image sets with known flaws, through the classifier's eyes
#
# The FID uses an Inception network trained on ImageNet; for digits tinygan uses its own small MNIST
# classifier (`tinygan/evaluation/classifier.py`, 98% test accuracy) and takes the 128 numbers of its last hidden
# layer as the features. The reference is the held-out digits; every set below has N images:
#
# * **real (train)**: other real digits, the best any model can do with N samples (the *floor*);
# * **noisy**: real digits plus Gaussian pixel noise of standard deviation 0.1, 0.2, 0.4;
# * **blurred**: real digits averaged over 3x3 pixels;
# * **digits 0-4 only**: perfect images, but half the classes missing;
# * **one digit**: the same digit class every time (mode collapse);
# * **VAE samples**: the model from Step 2.

# %%
def pick(images, labels, n, allowed=range(10)):
    index = np.flatnonzero(np.isin(labels, list(allowed)))
    return images[rng.choice(index, n, replace=len(index) < n)].astype(np.float64) / 255


def blur(batch):
    padded = np.pad(batch, ((0, 0), (1, 1), (1, 1)))
    return sum(padded[:, i:i + 28, j:j + 28] for i in range(3) for j in range(3)) / 9


real = pick(train_images, train_labels, N)
sets = {
    "real (train)": real,
    "noisy 0.1": np.clip(real + 0.1 * rng.standard_normal(real.shape), 0, 1),
    "noisy 0.2": np.clip(real + 0.2 * rng.standard_normal(real.shape), 0, 1),
    "noisy 0.4": np.clip(real + 0.4 * rng.standard_normal(real.shape), 0, 1),
    "blurred": blur(real),
    "digits 0-4 only": pick(train_images, train_labels, N, range(5)),
    "one digit (3)": pick(train_images, train_labels, N, [3]),
    "VAE samples": vae_samples,
}
reference = pick(test_images, test_labels, N)
_, reference_features = classify(reference, value_range=(0, 1))
table = {}
for name, images in sets.items():
    probs, features = classify(images, value_range=(0, 1))
    table[name] = {"fid": metrics.frechet_distance_from_features(features, reference_features),
                   "score": metrics.classifier_score(probs),
                   "rarest": metrics.rarest_class_fraction(probs)}
print(f"{'set':18s} {'FID':>9s} {'score':>7s} {'rarest class':>13s}    (N = {N} each; reference: held-out digits)")
for name, row in table.items():
    print(f"{name:18s} {row['fid']:9.1f} {row['score']:7.2f} {row['rarest']:13.3f}")

fig, axes = plt.subplots(2, len(sets), figsize=(2.0 * len(sets), 4.6), gridspec_kw={"height_ratios": [1, 1.3]})
for i, (name, images) in enumerate(sets.items()):
    axes[0, i].imshow(viz.image_grid(images[:9], ncols=3, value_range=(0, 1)), cmap="gray")
    axes[0, i].set_title(name, fontsize=8), axes[0, i].axis("off")
axes_fid = plt.subplot2grid((2, len(sets)), (1, 0), colspan=len(sets), fig=fig)
for ax in axes[1]:
    ax.remove()
axes_fid.bar(range(len(sets)), [row["fid"] for row in table.values()], color="C0")
axes_fid.set_xticks(range(len(sets)), list(sets), fontsize=8), axes_fid.set_ylabel("FID to held-out digits")
axes_fid.set_yscale("log"), axes_fid.grid(alpha=0.3, axis="y")
fig.tight_layout()
lesson.savefig(fig, "fid_of_known_flaws.png")
plt.close(fig)

# %% [markdown]
# The FID notices everything: noise (more noise, larger distance), blur, missing classes, collapse. The
# VAE's samples are the decoder's pixel means: blurry, and often not clearly any one digit, so both
# numbers judge them harshly (compare them with the "blurred" row, and with lesson 09's DCGAN, whose
# classifier score the lesson prints). The real-vs-real floor is not 0: with N samples the fitted means and covariances wobble, and $d^2$ can only
# be pushed up by that. This bias shrinks as N grows, so **FIDs are comparable only at the same N** (and
# the same feature network):

# %%
sizes = [50, 100, 200] if lesson.quick else [100, 250, 500, 1000]
all_train = pick(train_images, train_labels, max(sizes))
_, all_train_features = classify(all_train, value_range=(0, 1))
floor_by_n = {n: metrics.frechet_distance_from_features(all_train_features[:n], reference_features[:n]) for n in sizes}
print("real-vs-real FID by sample size: " + ", ".join(f"N={n}: {v:.1f}" for n, v in floor_by_n.items()))

# %% [markdown]
# ## Step 4: the classifier score
#
# $$\text{score} = \exp\big(\mathbb{E}_x\, \mathrm{KL}(p(y \mid x) \,\|\, p(y))\big), \qquad p(y) = \mathbb{E}_x\, p(y \mid x)$$
#
# (`classifier-score`; Salimans et al. 2016 on Inception, here on digits). It is large when each image is
# confidently one class (sharp $p(y \mid x)$) *and* the classes are balanced (flat $p(y)$): between 1 and the
# number of classes. Two exact cases: ten classes, each image one-hot and every class equally often gives
# exactly 10; every image with $p(y \mid x)$ uniform gives exactly 1. In the table, "one digit" scores about
# 1 and "digits 0-4" about 5, while the FID also sees *within-class* quality that the score ignores.

# %%
one_hot = np.eye(10)[np.arange(1000) % 10]
uniform = np.full((1000, 10), 0.1)
print(f"score of balanced one-hot predictions: {metrics.classifier_score(one_hot):.6f}; "
      f"of uniform predictions: {metrics.classifier_score(uniform):.6f}")
lesson.check("classifier score: exactly 10 for balanced confident predictions, 1 for uniform ones",
             abs(metrics.classifier_score(one_hot) - 10) < 1e-9 and abs(metrics.classifier_score(uniform) - 1) < 1e-9)

# %% [markdown]
# ## Step 5: mode coverage on the ring of 8 Gaussians
#
# For toy data we know the modes, so we can count directly (`mode_metrics` in `tinygan/evaluation/metrics.py`,
# following VEEGAN, Srivastava et al. 2017): a sample is **high quality** if it lies within 3 standard
# deviations of its nearest mode (`high-quality-fraction`); a mode is **covered** if at least one
# high-quality sample has it as nearest mode (`mode-coverage`). Three fake "generators": the true
# distribution, a collapsed one that found 3 modes, and a blurry one with 10 times the spread.

# %%
ring = ring8()
toy = {
    "true samples": ring.sample(2500, rng),
    "collapsed (3 modes)": ring.modes[rng.integers(0, 3, 2500)] + ring.std * rng.standard_normal((2500, 2)),
    "blurry (10x std)": ring.modes[rng.integers(0, 8, 2500)] + 10 * ring.std * rng.standard_normal((2500, 2)),
}
toy_metrics = {name: metrics.mode_metrics(points, ring.modes, ring.std) for name, points in toy.items()}
fig, axes = plt.subplots(1, 3, figsize=(12, 4))
for ax, (name, points) in zip(axes, toy.items()):
    m = toy_metrics[name]
    ax.scatter(points[:, 0], points[:, 1], s=2, alpha=0.4)
    ax.scatter(ring.modes[:, 0], ring.modes[:, 1], marker="+", color="red", s=30, linewidths=0.8)
    ax.set_title(f"{name}\n{m['modes_covered']}/8 modes, {m['high_quality_fraction']:.0%} high quality", fontsize=9)
    ax.set_aspect("equal"), ax.set_xlim(-3, 3), ax.set_ylim(-3, 3)
fig.tight_layout()
lesson.savefig(fig, "mode_coverage.png")
plt.close(fig)
for name, m in toy_metrics.items():
    print(f"{name:20s} modes covered {m['modes_covered']}/8, high-quality samples {m['high_quality_fraction']:.1%}")
lesson.check("mode metrics: 8/8 and >95% high quality for true samples, 3/8 for the collapsed, <50% for the blurry",
             toy_metrics["true samples"]["modes_covered"] == 8
             and toy_metrics["true samples"]["high_quality_fraction"] > 0.95
             and toy_metrics["collapsed (3 modes)"]["modes_covered"] == 3
             and toy_metrics["blurry (10x std)"]["high_quality_fraction"] < 0.5,
             ", ".join(f"{m['modes_covered']}/8 {m['high_quality_fraction']:.1%}" for m in toy_metrics.values()))

# %% [markdown]
# ## Step 6: a VAE's likelihood, bounded from below more and more tightly
#
# A VAE can be judged by the probability it gives held-out digits. $\log p(x)$ itself is an intractable
# integral over $z$, but importance sampling with the encoder as proposal gives lower bounds (Burda et al.
# 2016, `iwae-bound`):
#
# $$\mathcal{L}_K = \mathbb{E}\Big[\log \frac1K \sum_{k=1}^K w_k\Big],\quad
#   w_k = \frac{p(x \mid z_k)\,p(z_k)}{q(z_k \mid x)},\ z_k \sim q(z \mid x),
#   \qquad \mathcal{L}_1 = \text{ELBO} \le \mathcal{L}_K \le \mathcal{L}_{K+1} \le \log p(x).$$
#
# The $\log w_k$ are numbers like -100, whose exponentials underflow in float32 (and at about -745 in
# float64), so the mean is taken in log space: $\log\frac1K\sum_k e^{v_k} = m + \log\frac1K\sum_k e^{v_k - m}$
# with $m = \max_k v_k$ (`log-mean-exp`):

# %%
v = np.array([-800.0, -801.0, -802.0])
with np.errstate(divide="ignore"):
    naive = float(np.log(np.mean(np.exp(v))))
stable = float(metrics.log_mean_exp(v))
print(f"log mean exp of {v}: naive {naive}, stable {stable:.4f}")
lesson.check("log-mean-exp stays finite where the naive formula gives -inf",
             np.isfinite(stable) and abs(stable - (-800 + np.log(np.mean(np.exp(v + 800))))) < 1e-12, f"{stable:.4f}")

# %%
x_iwae = scale_images(test_images[:: len(test_images) // IWAE_IMAGES][:IWAE_IMAGES], (0, 1)).reshape(IWAE_IMAGES, -1)
bounds = {}
for k in IWAE_KS:
    bounds[k] = float(metrics.negative_iwae_bound(vae, x_iwae, k, np.random.default_rng(k)).mean())
    print(f"K = {k:4d}: -L_K = {bounds[k]:8.2f} nats per image")
elbo_check = float(np.mean([metrics.negative_elbo(vae, x_iwae, np.random.default_rng(100 + i)).mean() for i in range(5)]))
print(f"negative ELBO (the training loss) on the same images, averaged over 5 draws: {elbo_check:.2f}")

fig, ax = plt.subplots(figsize=(5.5, 3.5))
ax.plot(IWAE_KS, [bounds[k] for k in IWAE_KS], marker="o", label="-L_K (upper bound on -log p(x))")
ax.axhline(elbo_check, color="gray", ls=":", label="negative ELBO")
ax.set_xscale("log"), ax.set_xlabel("K (importance samples)"), ax.set_ylabel("nats per held-out image")
ax.grid(alpha=0.3), ax.legend(fontsize=8)
lesson.savefig(fig, "iwae_bound.png")
plt.close(fig)

# %% [markdown]
# The bound tightens quickly at first and then slowly: the remaining gap to $-\log p(x)$ is what the
# encoder's Gaussian $q(z \mid x)$ gets wrong about the true posterior. `tinygan eval RUN --k 50`
# (`tinygan/train/evaluate.py`) prints the same numbers for a trained run.
#
# ## Checks

# %%
fid = {name: row["fid"] for name, row in table.items()}
lesson.check("FID grows with the noise level (0.1 < 0.2 < 0.4)",
             fid["noisy 0.1"] < fid["noisy 0.2"] < fid["noisy 0.4"],
             f"{fid['noisy 0.1']:.1f}, {fid['noisy 0.2']:.1f}, {fid['noisy 0.4']:.1f}")
flawed = ["noisy 0.4", "blurred", "digits 0-4 only", "one digit (3)"]
lesson.check("every flawed set is farther from the held-out digits than real digits are",
             all(fid[name] > fid["real (train)"] for name in flawed),
             f"real {fid['real (train)']:.1f}; flawed from {min(fid[n] for n in flawed):.1f}")
lesson.check("the classifier score sees missing classes: one digit < 1.5 < digits 0-4 < 6 < real",
             table["one digit (3)"]["score"] < 1.5 < table["digits 0-4 only"]["score"] < 6 < table["real (train)"]["score"],
             f"{table['one digit (3)']['score']:.2f}, {table['digits 0-4 only']['score']:.2f}, "
             f"{table['real (train)']['score']:.2f}")
lesson.check("the real-vs-real FID shrinks as the sample size grows (its bias)",
             floor_by_n[sizes[0]] > floor_by_n[sizes[-1]], ", ".join(f"{v:.1f}" for v in floor_by_n.values()))
ks = sorted(bounds)
lesson.check("the IWAE bound tightens with K: -L_K(largest K) < -L_1, and -L_1 matches the negative ELBO",
             bounds[ks[-1]] < bounds[1] and abs(bounds[1] - elbo_check) < 0.05 * elbo_check,
             f"-L_1 {bounds[1]:.2f}, -L_{ks[-1]} {bounds[ks[-1]]:.2f}, -ELBO {elbo_check:.2f}")
print(f"wall time: {time.perf_counter() - started:.1f} s")
lesson.finish()
