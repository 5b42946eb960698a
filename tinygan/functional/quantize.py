"""Vector quantisation: the maths of the VQ-VAE (van den Oord et al., 2017, "Neural Discrete Representation
Learning") and of its moving-average codebook (Razavi et al., 2019, VQ-VAE-2, appendix A.1).

Notation. z (M, D): M encoder outputs z_e of D numbers each (one per position of the latent grid, all images of
a batch together); codebook (K, D): the codes e_1..e_K; k_m: the index of the code chosen for z_m.
sg[.] is stop-gradient (`detach()`): the value passes, the gradient does not.

    nearest code       k_m = argmin_k ||z_m - e_k||^2
    straight-through   z_q = z_e + sg[e - z_e]        (forward: e;  backward: dL/dz_e = dL/dz_q)
    commitment         ||z_e - sg[e]||^2              (trains the encoder towards its codes)
    codebook loss      ||sg[z_e] - e||^2              (trains the codes towards the encoder; the paper's rule)
    moving averages    N_k, m_k, e_k = m_k / N_k      (the VQ-VAE-2 rule that replaces the codebook loss)
    perplexity         exp(-sum_k p_k log p_k)        (how many codes are in use, in effect)

The nearest code, the moving averages and the perplexity work on arrays: no gradient flows through an argmin
or a running average. The three others are Tensors in, Tensor out.
"""
from ._util import xp_of


def _check_codes(op, z, codebook):
    if z.ndim != 2 or codebook.ndim != 2 or z.shape[1] != codebook.shape[1]:
        raise ValueError(f"{op}: expected encoder outputs (M, D) and a codebook (K, D) with the same D, got "
                         f"outputs of shape {tuple(z.shape)} and a codebook of shape {tuple(codebook.shape)}")


def nearest_code(z, codebook):
    """Index of the nearest code of each row of z: arrays z (M, D), codebook (K, D) -> int64 (M,).

        ||z_m - e_k||^2 = ||z_m||^2 - 2 z_m . e_k + ||e_k||^2

    The expanded form is one matrix product instead of an (M, K, D) array of differences. Ties go to the
    lowest index.
    """
    _check_codes("nearest_code", z, codebook)
    z_squared, e_squared = (z * z).sum(axis=1, keepdims=True), (codebook * codebook).sum(axis=1)   # (M, 1), (K,)
    distances = z_squared - 2 * z @ codebook.T + e_squared  # (M, K)  [formula: vq-nearest-code]
    return distances.argmin(axis=1).astype("int64")


def straight_through(z_e, e):
    """z_q = z_e + sg[e - z_e] (Bengio et al., 2013; van den Oord et al., 2017, eq. 3's gradient).

    Its value is e (up to rounding), its gradient goes to z_e unchanged, and none goes to e: the decoder's
    gradient at z_q is copied to the encoder's output as if the quantiser were the identity.
    """
    if tuple(z_e.shape) != tuple(e.shape):
        raise ValueError(f"straight_through: z_e has shape {tuple(z_e.shape)} but the codes have shape "
                         f"{tuple(e.shape)}")
    return z_e + (e - z_e).detach()  # [formula: vq-straight-through]


def commitment_loss(z_e, e):
    """mean of ||z_e - sg[e]||^2 over all numbers: its gradient, 2 (z_e - e) / size, reaches the encoder only."""
    diff = z_e - e.detach()
    return (diff * diff).mean()  # [formula: vq-commitment]


def codebook_loss(z_e, e):
    """mean of ||sg[z_e] - e||^2 over all numbers (van den Oord et al., 2017, eq. 3, second term): its gradient,
    2 (e - z_e) / size, reaches the chosen codes only."""
    diff = z_e.detach() - e
    return (diff * diff).mean()  # [formula: vq-codebook-loss]


def code_counts(indices, num_codes):
    """n_k: how many positions chose code k, (K,) int64, from indices of any shape."""
    return xp_of(indices).bincount(indices.ravel(), minlength=num_codes)


def ema_update(codebook, cluster_size, code_sum, z, indices, decay=0.99, eps=1e-5):
    """Move the codes to the running mean of the outputs that chose them, in place, on arrays.

    codebook (K, D), cluster_size (K,) and code_sum (K, D) are updated; z (M, D) are this batch's outputs and
    indices (M,) their codes (Razavi et al., 2019, appendix A.1, with Laplace smoothing of N_k):

        N_k <- decay N_k + (1 - decay) n_k                   n_k = #{m : k_m = k}
        m_k <- decay m_k + (1 - decay) sum_{m: k_m = k} z_m
        N_k <- (N_k + eps) / (n + K eps) * n                 n = sum_k N_k  (no code is ever divided by 0)
        e_k = m_k / N_k
    """
    xp = xp_of(z)
    K = codebook.shape[0]
    one_hot = (indices[:, None] == xp.arange(K)[None, :]).astype(z.dtype)               # (M, K)
    cluster_size[...] = decay * cluster_size + (1 - decay) * one_hot.sum(axis=0)  # [formula: vq-ema-cluster-size]
    code_sum[...] = decay * code_sum + (1 - decay) * (one_hot.T @ z)  # [formula: vq-ema-sum]
    n = cluster_size.sum()
    smoothed = (cluster_size + eps) / (n + K * eps) * n  # [formula: vq-ema-smoothing]
    codebook[...] = code_sum / smoothed[:, None]  # [formula: vq-ema-code]


def perplexity(counts):
    """exp(-sum_k p_k log p_k) with p_k = counts_k / sum counts (0 log 0 = 0): K when every code is used equally,
    1 when one code takes every position. A Python float."""
    xp = xp_of(counts)
    p = counts / counts.sum()
    terms = xp.where(p > 0, p * xp.log(xp.where(p > 0, p, 1)), 0)
    return float(xp.exp(-terms.sum()))  # [formula: vq-perplexity]


__all__ = ["nearest_code", "straight_through", "commitment_loss", "codebook_loss", "code_counts", "ema_update",
           "perplexity"]
