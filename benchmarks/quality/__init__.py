"""The quality benchmarks: what each tinygan model reaches with its default recipe, beside its PyTorch twin.

    python -m benchmarks.quality --only vae --test-data FOLDER   # see run.py for every option

Modules
    run       the command line and the table of experiments
    report    quality.json and quality.md, the page written from it
    common    what several experiments share (training up to an epoch, scoring generated digits)
    vae, dcgan, cgan, ring8, vaegan, rnn, nerf, pix2pix, unet, dalle
              one experiment each: its run (tinygan, and the PyTorch twin's where it has one) and its table

This package file imports nothing: the experiments load tinygan when run.py imports them.
"""
