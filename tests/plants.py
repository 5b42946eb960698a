"""Classic mistakes, each planted by patching the function a lesson's checks go through (not by editing a
file), for tests/docs/test_lesson_plants.py. Run as a script: `python tests/plants.py PLANT LESSON` plants one
mistake, then runs the lesson in this process (quick mode comes from TINYGAN_QUICK)."""
import runpy
import sys

import numpy as np


def _kl_without_minus_half():
    import tinygan.functional as F
    from tinygan.functional import loss
    right = loss.gaussian_kl

    def wrong(mu, logvar, reduction="sum"):         # sum(1 + logvar - mu^2 - e^logvar): -2 KL
        return right(mu, logvar, reduction) * -2.0
    F.gaussian_kl = loss.gaussian_kl = wrong


def _sample_with_the_variance():
    from tinygan import Tensor, backend
    from tinygan.functional import loss
    from tinygan.train import losses

    def wrong(mu, logvar, rng):                      # z = mu + e^logvar eps: the variance as the std
        eps = backend.to_device(rng.standard_normal(mu.shape, dtype=mu.dtype), mu.device)
        return mu + logvar.exp() * Tensor(eps)
    loss.reparameterize = losses.reparameterize = wrong


def _biased_running_variance():
    from tinygan import kernels
    from tinygan.functional import normalization
    right = {"fast": kernels.batch_norm.batch_norm_train_forward, "reference": normalization.batch_norm_train_forward}

    def make(original):
        def wrong(x, gamma, beta, eps, running_mean=None, running_var=None, momentum=0.1):
            before = None if running_var is None else running_var.copy()
            out = original(x, gamma, beta, eps, running_mean, running_var, momentum)
            if before is not None:                   # the running variance moved with the *biased* variance
                axes = (0,) if x.ndim == 2 else (0, 2, 3)
                running_var[...] = (1 - momentum) * before + momentum * x.var(axis=axes)
            return out
        return wrong
    kernels.batch_norm.batch_norm_train_forward = make(right["fast"])
    normalization.batch_norm_train_forward = make(right["reference"])


def _adam_without_bias_correction():
    from tinygan.kernels import optim
    right = optim.adam_update

    def wrong(p, g, m, v, beta1, beta2, lr, eps, step):
        right(p, g, m, v, beta1, beta2, lr, eps, 10**9)   # beta^step = 0: no correction at any step
    optim.adam_update = wrong


def _d_loss_as_the_entropy_of_d():
    from tinygan.train import losses

    def wrong(real_logits, fake_logits):             # the seeds' "loss": D's entropy, not -V
        def entropy(logits):
            p = logits.sigmoid()
            return -(p * (p + 1e-12).log() + (1 - p) * (1 - p + 1e-12).log()).mean()
        return entropy(real_logits) + entropy(fake_logits)
    losses.discriminator_loss = wrong


def _lsgan_generator_target_zero():
    from tinygan.train import losses
    losses.lsgan_generator_loss = lambda fake_scores: 0.5 * (fake_scores ** 2).mean()


def _gradient_penalty_without_minus_one():
    from tinygan.autograd import grad
    from tinygan.train import losses

    def wrong(critic, real, fake, rng, *critic_args):   # E[||grad||^2]: pushes the gradient to 0, not 1
        e = rng.random((real.shape[0],) + (1,) * (real.ndim - 1), dtype=real.dtype)
        mixed = (real.detach() * e + fake.detach() * (1 - e)).detach()
        mixed.requires_grad = True
        (grad_x,) = grad(critic(mixed, *critic_args).sum(), mixed, create_graph=True)
        return (grad_x.reshape(real.shape[0], -1) ** 2).sum(axis=1).mean()
    losses.gradient_penalty = wrong


def _batchnorm_eval_with_batch_statistics():
    import tinygan.functional as F
    from tinygan.functional import normalization
    right = normalization.batch_norm

    def wrong(x, running_mean, running_var, weight, bias, training=True, momentum=0.1, eps=1e-5):
        def copy(stat):                              # keep the real running statistics untouched
            return None if stat is None else (stat.array if hasattr(stat, "grad") else stat).copy()
        return right(x, copy(running_mean), copy(running_var), weight, bias, True, momentum, eps)
    F.batch_norm = normalization.batch_norm = wrong


def _conv_transpose_without_output_padding():
    from tinygan.functional import conv
    right = conv.conv_transpose_output_size
    conv.conv_transpose_output_size = lambda size, kernel, stride=1, padding=0, output_padding=0, dilation=1: \
        right(size, kernel, stride, padding, 0, dilation)


def _nonsaturating_sign_flip():
    import tinygan.functional as F
    from tinygan.train import losses
    losses.generator_loss_nonsaturating = lambda fake_logits: -F.softplus(-fake_logits).mean()


def _dropout_without_scaling():
    import tinygan
    import tinygan.functional as F
    from tinygan.functional import layers
    right = layers.dropout

    def wrong(x, p=0.5, training=True):             # the mask without the 1/(1 - p)
        return right(x, p, training) * (1 - p) if training and p > 0 else right(x, p, training)
    F.dropout = layers.dropout = tinygan.nn.functional.dropout = wrong


def _lstm_gates_in_the_wrong_order():
    import tinygan.functional as F
    from tinygan.functional import recurrent
    right = recurrent.lstm_cell

    def wrong(input, hx, cx, weight_ih, weight_hh, bias_ih=None, bias_hh=None):   # reads the rows as f, i, g, o
        H = hx.shape[1]

        def swap(w):                                 # exchange the input-gate and forget-gate rows
            return None if w is None else F.concat([w[H:2 * H], w[:H], w[2 * H:]], axis=0)
        return right(input, hx, cx, swap(weight_ih), swap(weight_hh), swap(bias_ih), swap(bias_hh))
    recurrent.lstm_cell = wrong


# name -> (the lesson whose checks must catch it, how to plant it)
def _attention_mask_that_is_not_causal():
    from tinygan.functional import attention
    from tinygan.nn import transformer

    def open_bias(L, S, dtype, xp):                  # every query sees every key, the future included
        return attention.constant(xp.zeros((L, S), dtype=dtype))
    attention.causal_bias = transformer.causal_bias = open_bias


def _quantiser_without_straight_through():
    from tinygan.functional import quantize
    from tinygan.models import vqvae

    def codes_alone(z_e, e):                         # z_q = e: the codes' value, and no path back to the encoder
        return e
    quantize.straight_through = vqvae.straight_through = codes_alone


def _vqvae_without_commitment():
    from tinygan.functional import quantize
    from tinygan.models import vqvae

    def nothing(z_e, e):                             # the commitment term left out of the loss
        return (z_e * 0).sum()
    quantize.commitment_loss = vqvae.commitment_loss = nothing


PLANTS = {
    "KL without -1/2": ("12_autoencoder_to_vae", _kl_without_minus_half),
    "z = mu + e^logvar eps": ("12_autoencoder_to_vae", _sample_with_the_variance),
    "biased running variance": ("05_batchnorm", _biased_running_variance),
    "Adam without bias correction": ("06_optimizers", _adam_without_bias_correction),
    "D loss as the entropy of D": ("07_gan_on_a_ring", _d_loss_as_the_entropy_of_d),
    "LSGAN G target 0": ("11_lsgan_and_wgan_gp", _lsgan_generator_target_zero),
    "gradient penalty without -1": ("11_lsgan_and_wgan_gp", _gradient_penalty_without_minus_one),
    "BatchNorm eval with batch statistics": ("05_batchnorm", _batchnorm_eval_with_batch_statistics),
    "conv_transpose2d without output_padding": ("04_convolution", _conv_transpose_without_output_padding),
    "sign flip in the non-saturating G loss": ("08_mlp_gan_digits", _nonsaturating_sign_flip),
    "dropout not scaled by 1/(1-p)": ("03_mlp_classifier", _dropout_without_scaling),
    "LSTM gates in the wrong order (f, i, g, o)": ("16_recurrent_networks", _lstm_gates_in_the_wrong_order),
    "attention mask that is not causal": ("20_words_to_pictures", _attention_mask_that_is_not_causal),
    "quantiser without the straight-through estimator": ("20_words_to_pictures", _quantiser_without_straight_through),
    "VQ-VAE loss without the commitment term": ("20_words_to_pictures", _vqvae_without_commitment),
}


if __name__ == "__main__":
    plant_name, lesson_path = sys.argv[1], sys.argv[2]
    if plant_name != "none":
        PLANTS[plant_name][1]()
    sys.argv = [lesson_path, "--quick"]
    np.seterr(all="ignore")                           # a planted mistake may overflow; the checks must say FAIL
    runpy.run_path(lesson_path, run_name="__main__")
