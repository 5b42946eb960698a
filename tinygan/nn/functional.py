"""`tinygan.nn.functional` is `tinygan.functional`, one module under both names, as `torch.nn.functional`.

    import tinygan.nn.functional as F      # the same module as: import tinygan.functional as F
"""
import sys

from .. import functional

sys.modules[__name__] = functional
