"""PyTorch twins of tinygan's networks, one file per model family.

Each twin has the same layers as the tinygan model it copies, registered in the same order, so a
state_dict moves between them, and both the speed workloads (benchmarks/torch_workloads.py) and the
quality experiments (benchmarks/quality/) train the same network in both frameworks.

    gan      the MLP GAN and the DCGAN (generator, discriminator), and the DCGAN initialisation
    vae      the MLP VAE
    vaegan   the VAE-GAN's encoder and discriminator (its decoder is gan's DCGAN generator), and the loss of
             its encoder and decoder trained as a plain VAE
    rnn      the row-by-row LSTM generator
    unet     the U-Net
    pix2pix  the PatchGAN discriminator, and pix2pix's generator and discriminator together
    nerf     the NeRF field and its renderer

Importing a twin imports torch; tinygan itself never does. This package file imports nothing.
"""
