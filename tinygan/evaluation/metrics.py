"""Numbers for "is my generative model any good": Fréchet distance, classifier score, mode coverage, ELBO/IWAE,
PSNR and mean absolute error.

    from tinygan.evaluation import metrics
    probs, features = classify(generated)             # tinygan.evaluation.classifier: p(y|x) and 128-d features
    metrics.frechet_distance_from_features(features, test_features)   # FID on the classifier's features
    metrics.classifier_score(probs)                   # exp(E_x KL(p(y|x) || p(y))), 10 at best on digits
    metrics.mode_metrics(points, ring.modes, ring.std)   # toy sets: modes covered, high-quality fraction
    metrics.vae_test_losses(vae, test_images, k=50)   # negative ELBO and negative IWAE bound per image
    metrics.psnr(renders, views)                      # images compared pixel by pixel, in dB

These are evaluation, not training: every function accepts NumPy arrays, CuPy arrays or
Tensors, brings them to the host, and does its arithmetic in float64. The VAE bounds reuse
the training loss's own formulas (reparameterisation, Bernoulli reconstruction, Gaussian KL)
on float64 host tensors, so there is one line for each. Nothing here needs SciPy.
"""
import math

import numpy as np

from .. import backend
from .. import functional as F
from ..autograd import Tensor, no_grad
from ..functional.loss import bernoulli_reconstruction, reparameterize

LOG_2PI = math.log(2 * math.pi)


def as_float64(values):
    """A float64 NumPy array on the host from a NumPy/CuPy array, a Tensor, or a list."""
    if isinstance(values, Tensor):
        values = values.array
    return np.asarray(backend.to_numpy(values) if hasattr(values, "shape") else values, dtype=np.float64)


# -- Fréchet distance ------------------------------------------------------------------------

def gaussian_statistics(features):
    """Mean (D,) and covariance (D, D) of features (N, D), the Gaussian the Fréchet distance fits.

    The covariance is the unbiased one (divided by N - 1), as np.cov and the FID reference code use.
    """
    features = as_float64(features)
    if features.ndim != 2 or len(features) < 2:
        raise ValueError(f"gaussian_statistics: expected features of shape (N, D) with N >= 2, got {features.shape}")
    return features.mean(axis=0), np.cov(features, rowvar=False)


def sqrtm_psd(matrix):
    """The symmetric square root of a symmetric positive semi-definite matrix, by eigen-decomposition.

    A = V diag(w) V^T  ->  A^{1/2} = V diag(sqrt(w)) V^T, so that A^{1/2} A^{1/2} = A.
    Eigenvalues that rounding made slightly negative are set to 0.
    """
    matrix = as_float64(matrix)
    matrix = (matrix + matrix.T) / 2                        # symmetric to the last bit, for eigh
    w, v = np.linalg.eigh(matrix)
    return (v * np.sqrt(np.clip(w, 0, None))) @ v.T  # [formula: matrix-sqrt]


def trace_sqrt_product(sigma1, sigma2):
    """Tr((S1 S2)^{1/2}), computed as Tr((S1^{1/2} S2 S1^{1/2})^{1/2}).

    S1 S2 is not symmetric, but it is similar to the symmetric PSD matrix
    M = S1^{1/2} S2 S1^{1/2} (S1 S2 = S1^{1/2} M S1^{-1/2}), so both have the same
    non-negative eigenvalues, and the trace of the square root is the sum of their square roots.
    """
    root1 = sqrtm_psd(sigma1)
    return float(np.trace(sqrtm_psd(root1 @ as_float64(sigma2) @ root1)))


def frechet_distance(mu1, sigma1, mu2, sigma2):
    """Fréchet (2-Wasserstein) distance between N(mu1, S1) and N(mu2, S2) (Dowson & Landau, 1982):

        d^2 = ||mu1 - mu2||^2 + Tr(S1 + S2 - 2 (S1 S2)^{1/2})

    On a classifier's features of generated vs real images this is the FID (Heusel et al., 2017).
    It is a squared distance, >= 0 (a tiny negative value can only come from rounding).
    """
    mu1, mu2, sigma1, sigma2 = (as_float64(a) for a in (mu1, mu2, sigma1, sigma2))
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape or sigma1.shape != mu1.shape * 2:
        raise ValueError(f"frechet_distance: means {mu1.shape}, {mu2.shape} and covariances {sigma1.shape}, "
                         f"{sigma2.shape} do not fit together")
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2)
                 - 2 * trace_sqrt_product(sigma1, sigma2))  # [formula: frechet-distance]


def frechet_distance_from_features(features1, features2):
    """The Fréchet distance between Gaussians fitted to two feature sets (N1, D) and (N2, D).

    The value depends on N (it is biased upward for small N): compare scores computed
    with the same numbers of samples.
    """
    return frechet_distance(*gaussian_statistics(features1), *gaussian_statistics(features2))


# -- classifier-based scores -----------------------------------------------------------------

def classifier_score(probs):
    """exp(E_x KL(p(y|x) || p(y))) with p(y) = E_x p(y|x) (the Inception Score of Salimans et al., 2016,
    on a digit classifier).

    From 1 (every sample gets the same prediction) to the number of classes (every sample
    confidently one class, all classes equally often). Terms with p(y|x) = 0 count 0.
    """
    probs = as_float64(probs)
    marginal = probs.mean(axis=0, keepdims=True)                                      # p(y), (1, C)
    safe = np.where(probs > 0, probs, 1.0)                                            # log 1 = 0 where p = 0
    kl = (probs * (np.log(safe) - np.log(np.where(probs > 0, marginal, 1.0)))).sum(axis=1)   # (N,)
    return float(np.exp(kl.mean()))  # [formula: classifier-score]


def class_histogram(predicted, num_classes=10):
    """Fraction of samples in each class (num_classes,), from predicted labels (N,) or probabilities (N, C)."""
    predicted = as_float64(predicted)
    labels = predicted.argmax(axis=1) if predicted.ndim == 2 else predicted.astype(np.int64)
    return np.bincount(labels, minlength=num_classes)[:num_classes] / max(len(labels), 1)


def rarest_class_fraction(predicted, num_classes=10):
    """The smallest class fraction: near 1/num_classes when no class is dropped, 0 when one is."""
    return float(class_histogram(predicted, num_classes).min())


def label_accuracy(probs, requested):
    """For a conditional model: the fraction of samples the classifier puts in the class they were asked for."""
    probs = as_float64(probs)
    predicted = probs.argmax(axis=1) if probs.ndim == 2 else probs.astype(np.int64)
    return float((predicted == as_float64(requested).astype(np.int64)).mean())


# -- toy 2-D sets --------------------------------------------------------------------------

def mode_metrics(points, modes, std, within=3.0):
    """Mode coverage and sample quality on a mixture of Gaussians (as in VEEGAN, Srivastava et al., 2017).

    A sample is high quality when it lies within `within` (3) standard deviations of its nearest
    mode; a mode is covered when it is the nearest mode of at least one high-quality sample.
    Returns {"modes_covered", "n_modes", "high_quality_fraction"}.
    """
    points, modes = as_float64(points).reshape(-1, 2), as_float64(modes).reshape(-1, 2)
    distances = np.linalg.norm(points[:, None, :] - modes[None, :, :], axis=-1)     # (N, K)
    nearest = distances.argmin(axis=1)
    high_quality = distances[np.arange(len(points)), nearest] <= within * std
    fraction = float(high_quality.mean()) if len(points) else 0.0  # [formula: high-quality-fraction]
    covered = np.unique(nearest[high_quality])  # [formula: mode-coverage]
    return {"modes_covered": int(len(covered)), "n_modes": int(len(modes)), "high_quality_fraction": fraction}


# -- VAE likelihood bounds -------------------------------------------------------------------

def log_mean_exp(values, axis=-1):
    """log((1/K) sum_k exp(v_k)) along `axis`, stable for any magnitude.

    = m + log((1/K) sum_k exp(v_k - m)) with m = max_k v_k: every exp is at most 1 and one is exactly 1.
    """
    values = as_float64(values)
    m = values.max(axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)                    # all -inf: log(0) = -inf, without nan
    with np.errstate(divide="ignore"):                      # ... and without a warning
        out = m + np.log(np.exp(values - m).mean(axis=axis, keepdims=True))  # [formula: log-mean-exp]
    return np.squeeze(out, axis=axis)


def _host_tensor(values):
    """A float64 Tensor on the host, outside any graph: the training formulas, evaluated in float64."""
    return Tensor(as_float64(values))


def bernoulli_log_likelihood(logits, targets):
    """log p(x|z) per image for Bernoulli pixels, in float64: minus the training loss's reconstruction term.

    That term is bernoulli_reconstruction (formula bernoulli-reconstruction): BCE on the
    logits, sum_pixels softplus(l) - l x.
    """
    return -as_float64(bernoulli_reconstruction(_host_tensor(logits), _host_tensor(targets)))


def standard_normal_log_density(z):
    """log N(z; 0, I) per row: -1/2 sum_j (z_j^2 + log 2 pi)."""
    z = as_float64(z)
    return -0.5 * (z * z + LOG_2PI).sum(axis=-1)


def diagonal_normal_log_density(z, mu, logvar):
    """log N(z; mu, diag(exp(logvar))) per row: -1/2 sum_j ((z_j - mu_j)^2 / sigma_j^2 + logvar_j + log 2 pi)."""
    z, mu, logvar = as_float64(z), as_float64(mu), as_float64(logvar)
    return -0.5 * (((z - mu) ** 2) * np.exp(-logvar) + logvar + LOG_2PI).sum(axis=-1)


def gaussian_kl_to_standard(mu, logvar):
    """KL(N(mu, diag(sigma^2)) || N(0, I)) per row, in float64: the training loss's F.gaussian_kl (formula gaussian-kl)."""
    return as_float64(F.gaussian_kl(_host_tensor(mu), _host_tensor(logvar), reduction="none"))


def _sample_q(mu, logvar, rng):
    """z = mu + exp(logvar / 2) eps with eps from the NumPy generator rng: reparameterize (tinygan/functional/loss.py) in float64."""
    return as_float64(reparameterize(_host_tensor(mu), _host_tensor(logvar), rng))


def _encode(model, x):
    """(mu, logvar) of q(z|x) as float64 host arrays, for a float32 batch x on the host."""
    mu, logvar = model.encode(Tensor(backend.to_device(x, backend.current_device())))
    return as_float64(mu), as_float64(logvar)


def _decode(model, z):
    """Decoder logits (M, D) as float64 host arrays, for latent codes z (M, latent) on the host."""
    logits = model.decode(Tensor(backend.to_device(z.astype(np.float32), backend.current_device())))
    return as_float64(logits)


def negative_elbo(model, images, rng):
    """Negative ELBO per image (N,) with one sampled z: -log p(x|z) + KL(q(z|x) || p(z)), z ~ q(z|x).

    The KL is in closed form; this is the loss the VAE trains on, per image.
    `images` are floats in [0, 1], (N, 784) or (N, 1, 28, 28).
    """
    x = as_float64(images).reshape(len(images), -1)
    mu, logvar = _encode(model, x.astype(np.float32))
    z = _sample_q(mu, logvar, rng)
    return -bernoulli_log_likelihood(_decode(model, z), x) + gaussian_kl_to_standard(mu, logvar)


def negative_iwae_bound(model, images, k, rng):
    """Negative importance-weighted bound per image (N,) with K samples (Burda et al., 2016, eq. 8):

        L_K = E[log (1/K) sum_k w_k],  w_k = p(x|z_k) p(z_k) / q(z_k|x),  z_k ~ q(z|x)

    log p(x) >= L_K >= L_1 = ELBO, and L_K grows towards log p(x) with K; so -L_K <= -ELBO.
    """
    x = as_float64(images).reshape(len(images), -1)
    mu, logvar = _encode(model, x.astype(np.float32))
    n, d = mu.shape
    z = _sample_q(np.broadcast_to(mu[:, None, :], (n, k, d)), np.broadcast_to(logvar[:, None, :], (n, k, d)),
                  rng)                                                                     # (N, K, d)
    logits = _decode(model, z.reshape(n * k, d)).reshape(n, k, -1)                            # (N, K, 784)
    log_w = (bernoulli_log_likelihood(logits.reshape(n * k, -1), np.repeat(x, k, axis=0)).reshape(n, k)
             + standard_normal_log_density(z)
             - diagonal_normal_log_density(z, mu[:, None, :], logvar[:, None, :]))           # (N, K)
    return -log_mean_exp(log_w, axis=1)  # [formula: iwae-bound]


def vae_test_losses(model, images, k=50, seed=0, batch_size=None):
    """Average over `images` of the negative ELBO (one z) and of the negative IWAE bound (K samples).

    `images`: uint8 pixels, or floats in [0, 1] (what the VAE trained on), (N, 784) or (N, 1, 28, 28).
    Returns {"elbo_loss", "iwae_loss", "k", "n"} in nats per image; iwae_loss <= elbo_loss
    up to sampling noise. The model runs in eval mode without a graph.
    """
    images = as_float64(images) / (255.0 if getattr(images, "dtype", None) == np.uint8 else 1.0)
    rng_elbo, rng_iwae = np.random.default_rng([seed, 0]), np.random.default_rng([seed, 1])
    batch_size = batch_size or max(1, 10000 // max(k, 1))
    model.eval()
    elbo, iwae = [], []
    with no_grad():
        for start in range(0, len(images), batch_size):
            batch = images[start:start + batch_size]
            elbo.append(negative_elbo(model, batch, rng_elbo))
            if k:
                iwae.append(negative_iwae_bound(model, batch, k, rng_iwae))
    result = {"elbo_loss": float(np.concatenate(elbo).mean()), "n": int(len(images))}
    if k:
        result.update(iwae_loss=float(np.concatenate(iwae).mean()), k=int(k))
    return result


# -- images compared pixel by pixel (a NeRF's renders against the true views) ----------------

def psnr(images, targets, peak=1.0):
    """Peak signal-to-noise ratio in dB: 10 log10(peak^2 / MSE), the MSE over every pixel and channel.

    Images in [0, peak]; higher is better (each 0.5 dB is an MSE about 11% smaller). Identical images: inf.
    """
    images, targets = as_float64(images), as_float64(targets)
    if images.shape != targets.shape:
        raise ValueError(f"psnr: images {images.shape} and targets {targets.shape} must have the same shape")
    mse = float(np.mean((images - targets) ** 2))
    return math.inf if mse == 0 else 10 * math.log10(peak ** 2 / mse)  # [formula: psnr]


def mean_absolute_error(images, targets):
    """The mean of |image - target| over every pixel and channel."""
    images, targets = as_float64(images), as_float64(targets)
    if images.shape != targets.shape:
        raise ValueError(f"mean_absolute_error: images {images.shape} and targets {targets.shape} must have the "
                         f"same shape")
    return float(np.mean(np.abs(images - targets)))
