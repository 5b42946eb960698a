"""One registry of what tinygan trains: the models and the datasets, read by the command line, training,
evaluation and the benchmarks, so that a name, a size or a default is written in one place.

A new model is one ModelSpec in MODELS (its configuration defaults and its family), and, when it needs new
networks, one builder in ARCHITECTURES. A new dataset is one DatasetSpec in DATASETS (its loader lives in
tinygan/data/).
"""
from dataclasses import dataclass, field

import numpy as np

from . import models


@dataclass(frozen=True)
class DatasetSpec:
    """A dataset by name: what one sample is, and what the metrics can say about it."""
    name: str
    kind: str                      # "images": a fixed set loaded from files; "toy": a 2-D distribution sampled anew
    sample_shape: tuple            # one sample's shape: (1, 28, 28) for the digit images, (2,) for toy points
    num_classes: int = None        # labels 0..num_classes-1 (None: unlabelled)
    digits: bool = False           # handwritten digits: the digit classifier's metrics (FID, score) apply
    made: str = ""                 # how a derived set is made from others (empty for the sets as published)

    @property
    def channels(self):
        """Colour channels of an image set: 1 (grey) or 3 (RGB); the models are built for this many."""
        return self.sample_shape[0]

    @property
    def is_toy(self):
        return self.kind == "toy"


def _image_set(name, digits):
    return DatasetSpec(name, "images", (1, 28, 28), num_classes=10, digits=digits)


DATASETS = {spec.name: spec for spec in [
    _image_set("mnist5k", digits=True),      # the 5,000 digits embedded in the package
    _image_set("mnist", digits=True),
    _image_set("fashion", digits=False),
    _image_set("kmnist", digits=False),
    DatasetSpec("ring8", "toy", (2,)),
    DatasetSpec("grid25", "toy", (2,)),
    DatasetSpec("moons", "toy", (2,)),
    DatasetSpec("swissroll", "toy", (2,)),
    # colour
    DatasetSpec("colour-mnist5k", "images", (3, 28, 28), num_classes=10, digits=False,
                made="the embedded 5,000 digits, each tinted with a colour ~ U(0.5, 1)^3 on a darker background "
                     "~ U(0, 0.4)^3 (per image, seed 17): pixel = d * colour + (1 - d) * background, d = digit/255 "
                     "(tinygan/data/colour.py)"),
    DatasetSpec("cifar10", "images", (3, 32, 32), num_classes=10,
                made="the official binary archive cifar-10-binary.tar.gz (md5-checked), read straight out of the tar "
                     "from $TINYGAN_CACHE/cifar10 (tinygan/data/cifar.py)"),
    # 40 exact 32x32 views of a procedural 3-D scene (32 train, 8 held out), for the NeRF
    DatasetSpec("scene3d", "views", (3, 32, 32),
                made="a sphere, a box and a torus (signed distance functions), Lambertian shading, black background, "
                     "sphere-traced from 40 seeded cameras on a hemisphere of radius 4 (tinygan/data/scene.py)"),
]}


@dataclass(frozen=True)
class ModelSpec:
    """A model by name: its family ("gan" or "vae") and its configuration defaults (architecture, loss, ...)."""
    name: str
    family: str
    defaults: dict = field(default_factory=dict)
    conditional: bool = False      # G and D take class labels

    @property
    def is_vae(self):
        return self.family == "vae"

    @property
    def value_range(self):
        """The range of its images: a VAE's (or a recurrent generator's) Bernoulli pixels, a NeRF's colours and the
        segmentation scenes in [0, 1]; a GAN's tanh output (pix2pix's too) in [-1, 1]."""
        return (0, 1) if self.is_vae or self.family in ("rnn", "nerf", "segmentation") else (-1, 1)


_VAE_TRAINING = dict(batch_size=128, lr=1e-3, beta1=0.9, beta=1.0, likelihood="bernoulli")

MODELS = {spec.name: spec for spec in [
    ModelSpec("gan", "gan", dict(arch="mlp", loss="nonsaturating")),
    ModelSpec("dcgan", "gan", dict(arch="dcgan", loss="nonsaturating")),
    ModelSpec("cgan", "gan", dict(arch="cdcgan", loss="nonsaturating", epochs=10), conditional=True),
    ModelSpec("lsgan", "gan", dict(arch="dcgan", loss="lsgan")),
    ModelSpec("wgan-gp", "gan", dict(arch="dcgan-nobn", loss="wgan-gp", n_critic=5, lr=1e-4, beta1=0.5, beta2=0.9)),
    ModelSpec("vae", "vae", dict(arch="mlp-vae", epochs=30, latent_dim=20, **_VAE_TRAINING)),
    ModelSpec("conv-vae", "vae", dict(arch="conv-vae", epochs=20, latent_dim=16, width=32, **_VAE_TRAINING)),
    # a recurrent generator writing binarised digits row by row; its noise is one N(0, 1) per pixel
    # (latent_dim 784), turned into the Bernoulli draws of sampling; width is the LSTM's hidden size
    ModelSpec("rnn", "rnn", dict(arch="row-lstm", epochs=30, batch_size=64, lr=1e-3, beta1=0.9, latent_dim=784,
                                 width=256)),
    # VAE-GAN (Larsen et al., 2016): three Adams at 2e-4, betas 0.5/0.999,
    # batch 64. gamma weighs L_llike (~600 per image after an epoch) against the GAN terms (~2) in the decoder's
    # loss. Measured: 4 epochs on mnist5k, seed 0, eval --n 2000 on the official test set, per gamma
    #   gamma   FID    score  rarest  test MSE
    #   1       401.0  3.73   0.011   0.0178
    #   0.1     324.1  3.94   0.004   0.0173
    #   0.01    286.1  4.14   0.001   0.0217
    #   0.001   312.3  3.85   0.002   0.0330
    # 0.1 reconstructs best and its samples score second to 0.01's, whose reconstructions are 25% worse;
    # at 1 the feature reconstruction drowns the GAN terms (worst FID), at 0.001 both figures are worse.
    # (One seed and four of the recipe's 30 epochs: a short measurement, not a sweep.)
    ModelSpec("vaegan", "vaegan", dict(arch="vaegan", epochs=30, latent_dim=20, gamma=0.1)),
    # the VAE-GAN's encoder and decoder trained as a plain VAE (KL + Bernoulli pixels, no discriminator),
    # on the VAE-GAN's recipe (one Adam at 2e-4, betas 0.5/0.999, batch 64, 30 epochs, DCGAN init): the two models
    # differ only in the reconstruction term, so their samples show what the learned similarity buys.
    # The pixel likelihood, measured: 5 epochs on mnist5k, seed 0, eval --n 2000 on the official test set
    # (a Gaussian of variance s2 on [0, 1] is likelihood "gaussian" with beta = s2: 1/2 ||x - mean||^2 + s2 KL)
    #   likelihood             FID     score  rarest  test MSE
    #   Bernoulli (logits 2a)   589.1  3.69   0.030   0.0170
    #   Gaussian, s2 = 1       1383.5  2.15   0.014   0.0415   (the KL wins: the codes carry little)
    #   Gaussian, s2 = 0.01     688.5  3.12   0.015   0.0154
    #   Gaussian, s2 = 0.001    855.6  2.70   0.009   0.0151
    # Bernoulli gives the best samples with no variance to choose (and is every other tinygan VAE's likelihood);
    # a small Gaussian variance reconstructs a little better (-10% MSE) and samples worse.
    ModelSpec("vaegan-vae", "vae", dict(arch="vaegan-vae", epochs=30, latent_dim=20, batch_size=64, lr=2e-4,
                                        beta1=0.5, beta=1.0, likelihood="bernoulli")),
    # a tiny NeRF (Mildenhall et al., 2020): 32 samples per ray in [2, 6],
    # L = 6 frequencies, 4 hidden layers of 128, Adam 5e-4, 1024 random rays a step; an "epoch" is 100 steps,
    # so the default 20 epochs are 2,000 iterations. Images in [0, 1]. Measured (seeds 0 and 1, benchmarks/quality.py):
    # held-out PSNR 19.6 / 21.5 dB after 500 iterations and 29.5 / 29.4 dB after 2,000 (the PyTorch twin: 21.4 / 20.6
    # and 29.1 / 29.2; every pixel the mean training colour: 16.4). At 500 iterations the field is leaving its early
    # plateau, at a step that depends on the seed.
    ModelSpec("nerf", "nerf", dict(arch="nerf", data="scene3d", epochs=20, steps_per_epoch=100, batch_size=1024,
                                   lr=5e-4, beta1=0.9, beta2=0.999, width=128, num_samples=32, num_frequencies=6)),
    # pix2pix (Isola et al., 2017) restoring damaged digits: U-Net generator, PatchGAN discriminator,
    # lambda = 100, Adam 2e-4 betas 0.5/0.999, batch 64; --task inpaint|superres; --gan-weight 0 is the L1-only
    # baseline. 10 epochs, measured (benchmarks/results/quality.md, pix2pix; 2 seeds, official test set, inpaint):
    # classifier accuracy on the restored digits 0.854 (damaged 0.536, originals 0.981), PSNR over the square
    # 11.2 dB; the background is still a little grey then (at lr 2e-4 the tanh output takes hundreds of steps to
    # reach -1), so more epochs keep improving it.
    ModelSpec("pix2pix", "pix2pix", dict(arch="pix2pix", epochs=10, task="inpaint", l1_weight=100.0,
                                         gan_weight=1.0)),
]}


# -- the networks of each architecture --------------------------------------------------------------

def _mlp(config, sample_shape):
    return {"G": models.MLPGenerator(config["latent_dim"], out_shape=sample_shape),
            "D": models.MLPDiscriminator(in_shape=sample_shape, pack=config.get("pack", 1))}


def _mlp_toy(config, sample_shape):
    width = config["width"]
    return {"G": models.MLPGenerator(config["latent_dim"], hidden=(width, width), out_shape=sample_shape,
                                     batchnorm=False, activation="relu", output="linear"),
            "D": models.MLPDiscriminator(in_shape=sample_shape, hidden=(width, width), activation="relu",
                                         pack=config.get("pack", 1))}


def _dcgan(batchnorm):
    def build(config, sample_shape):
        channels, size = sample_shape[0], sample_shape[-1]
        return {"G": models.dcgan_init_(models.DCGANGenerator(config["latent_dim"], config["width"], channels,
                                                              size=size)),
                "D": models.dcgan_init_(models.DCGANDiscriminator(config["width"], channels, batchnorm=batchnorm,
                                                                  size=size))}
    return build


def _cdcgan(config, sample_shape):
    channels, size = sample_shape[0], sample_shape[-1]
    return {"G": models.dcgan_init_(models.ConditionalDCGANGenerator(config["latent_dim"], config["width"], channels,
                                                                     size=size)),
            "D": models.dcgan_init_(models.ConditionalDCGANDiscriminator(config["width"], channels, size=size))}


def _mlp_vae(config, sample_shape):
    return {"vae": models.MLPVAE(in_features=int(np.prod(sample_shape)), latent_dim=config["latent_dim"])}


def _conv_vae(config, sample_shape):
    return {"vae": models.ConvVAE(latent_dim=config["latent_dim"], width=config["width"], channels=sample_shape[0],
                                  size=sample_shape[-1])}


def _row_lstm(config, sample_shape):
    return {"rnn": models.RowLSTM(hidden=config["width"])}



def _vaegan(config, sample_shape):
    """Encoder, decoder (= generator) and discriminator of the VAE-GAN, for images of sample_shape[0] channels."""
    channels, size = sample_shape[0], sample_shape[-1]
    networks = {"E": models.VAEGANEncoder(config["latent_dim"], channels, size=size),
                "G": models.VAEGANDecoder(config["latent_dim"], channels, size=size),
                "D": models.VAEGANDiscriminator(channels, size=size)}
    return {name: models.dcgan_init_(net) for name, net in networks.items()}


def _vaegan_vae(config, sample_shape):
    """The VAE-GAN's encoder and decoder as one plain VAE, with the VAE-GAN's initialisation."""
    channels, size = sample_shape[0], sample_shape[-1]
    return {"vae": models.dcgan_init_(models.VAEGANPlainVAE(config["latent_dim"], channels, size=size))}
def _nerf(config, sample_shape):
    """The radiance field, 4 hidden layers of `width`."""
    return {"nerf": models.NeRF(num_frequencies=config["num_frequencies"], width=config["width"])}


# arch -> builder(config, sample_shape) -> {"G": ..., "D": ...}, {"vae": ...} , {"E": ..., "G": ..., "D": ...} or {"rnn": ...}
ARCHITECTURES = {
    "mlp": _mlp,
    "mlp-toy": _mlp_toy,
    "dcgan": _dcgan(batchnorm=True),
    "dcgan-nobn": _dcgan(batchnorm=False),
    "cdcgan": _cdcgan,
    "mlp-vae": _mlp_vae,
    "conv-vae": _conv_vae,
    "row-lstm": _row_lstm,
    "vaegan": _vaegan,
    "vaegan-vae": _vaegan_vae,
    "nerf": _nerf,
    "pix2pix": lambda config, sample_shape: models.pix2pix_networks(sample_shape[0], config["width"]),
}


def model_of(config):
    """The ModelSpec of a run's configuration."""
    return MODELS[config["model"]]


def dataset_of(config):
    """The DatasetSpec of a run's configuration."""
    return DATASETS[config["data"]]


def build_networks(config):
    """The networks of a run, by its configuration's `arch`, sized for its dataset's samples."""
    return ARCHITECTURES[config["arch"]](config, dataset_of(config).sample_shape)


# -- U-Net segmentation of scenes of digits ----------------------------------------------------------

DATASETS["scenes"] = DatasetSpec(
    "scenes", "scenes", (1, 64, 64), num_classes=11,
    made="64x64 scenes of 3 digits each, drawn with replacement and pasted by max at top-left corners uniform in "
         "[0, 36]; a pixel's class is the brightest digit's there if it is >= 0.5, else background (10). Train: "
         "5,000 fresh scenes per epoch from the embedded digits, default_rng(seed + epoch); test: 2,000 scenes "
         "from the official 10k test digits, default_rng(1234) (tinygan/data/scenes.py)")

# The recipe: pixelwise cross-entropy, Adam 1e-3 (PyTorch's betas), batch 32, 10 epochs.
MODELS["unet"] = ModelSpec("unet", "segmentation", dict(arch="unet", data="scenes", epochs=10, batch_size=32,
                                                        lr=1e-3, beta1=0.9, beta2=0.999))


def _unet(config, sample_shape):
    """The U-Net: one logit per class and pixel."""
    return {"unet": models.UNet(in_channels=sample_shape[0], out_channels=DATASETS[config["data"]].num_classes)}


ARCHITECTURES["unet"] = _unet
