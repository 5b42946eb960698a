"""Generators, discriminators, encoders and decoders for GANs and VAEs on 28x28 digits and 2-D toy data."""
from .gan import (ConditionalDCGANDiscriminator, ConditionalDCGANGenerator, DCGANDiscriminator, DCGANGenerator,
                  MLPDiscriminator, MLPGenerator, dcgan_init_)
from .vae import ConvVAE, MLPVAE

__all__ = ["MLPGenerator", "MLPDiscriminator", "DCGANGenerator", "DCGANDiscriminator",
           "ConditionalDCGANGenerator", "ConditionalDCGANDiscriminator", "dcgan_init_", "MLPVAE", "ConvVAE"]

# issue 15: the row-by-row recurrent generator
from .rnn import RowLSTM

__all__ += ["RowLSTM"]
from .vaegan import VAEGANDecoder, VAEGANDiscriminator, VAEGANEncoder, VAEGANPlainVAE  # noqa: E402 (issue 17's block)

__all__ += ["VAEGANEncoder", "VAEGANDecoder", "VAEGANDiscriminator", "VAEGANPlainVAE"]
from .unet import UNet  # noqa: E402 (issue 16: image to image)

__all__ += ["UNet"]
from .nerf import NeRF  # noqa: E402 (issue 18: neural rendering)

__all__ += ["NeRF"]
from .pix2pix import PatchGAN, pix2pix_networks  # noqa: E402 (issue 16 part B: pix2pix)

__all__ += ["PatchGAN", "pix2pix_networks"]
