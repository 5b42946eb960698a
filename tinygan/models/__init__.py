"""The networks tinygan trains, one file per family: GANs (MLP, DCGAN, conditional DCGAN), VAEs, the row-by-row
recurrent generator, the VAE-GAN, the U-Net, pix2pix's generator and PatchGAN, the NeRF, the VQ-VAE, and
DALL-E's transformer prior."""
from .dalle import Dalle, DallePrior
from .gan import (ConditionalDCGANDiscriminator, ConditionalDCGANGenerator, DCGANDiscriminator, DCGANGenerator,
                  MLPDiscriminator, MLPGenerator, dcgan_init_)
from .nerf import NeRF
from .pix2pix import PatchGAN, pix2pix_networks
from .rnn import RowLSTM
from .unet import UNet
from .vae import ConvVAE, MLPVAE
from .vaegan import VAEGANDecoder, VAEGANDiscriminator, VAEGANEncoder, VAEGANPlainVAE
from .vqvae import VQVAE, VQOutput

__all__ = ["MLPGenerator", "MLPDiscriminator", "DCGANGenerator", "DCGANDiscriminator",
           "ConditionalDCGANGenerator", "ConditionalDCGANDiscriminator", "dcgan_init_", "MLPVAE", "ConvVAE",
           "RowLSTM", "VAEGANEncoder", "VAEGANDecoder", "VAEGANDiscriminator", "VAEGANPlainVAE", "UNet",
           "PatchGAN", "pix2pix_networks", "NeRF", "VQVAE", "VQOutput", "DallePrior", "Dalle"]
