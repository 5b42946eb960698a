"""`tinygan.backends.mps`: Apple's Metal backend, which tinygan does not have (it runs on NumPy or CuPy)."""


def is_available():
    """False: tinygan has no Metal backend."""
    return False


def is_built():
    """False: tinygan has no Metal backend."""
    return False
