"""The fast twins of the hot ops, reached through one table, and the switch between them and the reference.

Two rooms for every hot op:
- the reference, in `tinygan/functional/` (and Adam's step in `tinygan/optim/adam.py`): short code over the
  array module that a learner reads beside docs/formulas.md, with the formula markers on the lines that
  compute them;
- its fast twin here: the same arguments and the same results, computed with fewer passes over memory (CPU)
  or fewer launches (GPU). tests/engine/test_op_contract.py proves each equal to its reference.

`TWINS` is the one place where an op meets its twin, and `twin(op, reference)` the one call that chooses:
the twin while the kernels are "fast" (the default), `reference` itself while they are "reference"
(`tinygan.use_kernels("reference")`, or TINYGAN_KERNELS=reference in the environment), so a lesson can show
that both give the same numbers.

A twin stands in for the reference at whatever level the speed-up needs: an array function (im2col, BatchNorm's
closed forms, Adam's update), or a whole differentiable op whose forward keeps other things for its backward
than the reference does (a convolution's im2col rows, channels-last copies of its inputs, an LSTM's gates).
Those memory layouts are the kernels' own business, stated in each module's docstring:

    conv         im2col rows in (kh, kw, c) order, channels-last images, slabs of images, col2im by
                 classes of windows that never overlap (the CPU layout rule is in its docstring)
    batch_norm   per-channel sums as matrix-vector products, in-place elementwise steps
    reduce       per-channel sums of images as one product with a row of ones
    pool         max pooling whose windows tile the image, read in place instead of copied out by im2col
    loss         softmax cross-entropy with class labels: the loss and its gradient softmax - onehot in a few passes
    softmax      softmax as one op that keeps its output: five passes forward, four back, row sums as products
    layer_norm   layer norm as one op with its backward in closed form, every sum a matrix-vector product
    recurrent    an LSTM layer's whole recurrence as one loop of array operations, BPTT in closed form
    optim        Adam's update in place, without temporaries
    special      erfc (GELU's normal CDF) by the C library's rational approximations instead of long series; the
                 exact GELU as one op, a chunk of the activations at a time
    cupy_fused   on the GPU: one CuPy kernel launch for what the reference does in several expressions

This package imports only `backend` and `autograd`, never `functional`: the dependency runs one way. A twin
whose backward, under create_graph, is written in tinygan's ops gets those ops from its caller (`twin`'s
keyword arguments).
"""
import contextlib
import functools
import os

from . import batch_norm, conv, layer_norm, loss, optim, pool, recurrent, reduce, softmax, special

MODES = ("fast", "reference")
_state = {"mode": None}

# op -> (the module of its twin, the twin's name there, None or the name of the test that says whether the twin
# takes these arguments; other arguments go to the reference). The twin is looked up by name when the op runs,
# so a test or a benchmark that wraps a kernel function sees its calls.
TWINS = {
    "conv2d": (conv, "conv2d", None),                                          # functional.conv.Conv2d.apply
    "conv_transpose2d": (conv, "conv_transpose2d", None),                      # functional.conv.ConvTranspose2d.apply
    "im2col": (conv, "unfold", None),                                          # functional.conv.unfold
    "col2im": (conv, "fold", None),                                            # functional.conv.fold
    "batch_norm_train_forward": (batch_norm, "batch_norm_train_forward", None),
    "batch_norm_train_backward": (batch_norm, "batch_norm_train_backward", None),
    "sum": (reduce, "sum", None),                                              # functional.reduce.Sum's array sum
    "max_pool2d": (pool, "max_pool2d", "windows_tile"),
    "cross_entropy": (loss, "cross_entropy", "plain_labels"),
    "lstm_sequence": (recurrent, "lstm_sequence", None),
    "adam_update": (optim, "adam_update", None),                               # the lines of Adam._adam_step
    "erfc": (special, "erfc", None),                                           # functional._special.erfc
    "gelu": (special, "gelu", None),                                           # functional.activation's exact gelu
    "softmax": (softmax, "softmax", None),                                     # functional.softmax.softmax
    "layer_norm": (layer_norm, "layer_norm", None),                            # functional.norms.layer_norm
}


def use_kernels(mode):
    """Run every op with its fast kernel ("fast", the default) or its readable reference code ("reference")."""
    if mode not in MODES:
        raise ValueError(f"use_kernels: unknown mode {mode!r}; expected one of {MODES}")
    _state["mode"] = mode


def current_kernels():
    """"fast" or "reference": TINYGAN_KERNELS on first use, else "fast"."""
    if _state["mode"] is None:
        use_kernels(os.environ.get("TINYGAN_KERNELS", "fast").strip().lower() or "fast")
    return _state["mode"]


def fast():
    """Whether ops should use their fast kernels now."""
    return current_kernels() == "fast"


def twin(op, reference, **ops):
    """What computes `op` now: its fast twin (TWINS[op]) while the kernels are fast, else `reference`.

    Both take the same arguments and give the same results. A twin that takes only some arguments hands the
    others to `reference`. `ops` go to the twin alone: tinygan ops that kernels/ cannot import (a create-graph
    backward written in them, the check of a loss's labels). With reference None the caller's own lines are
    the reference, and None comes back while the kernels are "reference".
    """
    if not fast():
        return reference
    module, name, takes = TWINS[op]
    fast_twin = getattr(module, name)
    if ops:
        fast_twin = functools.partial(fast_twin, **ops)
    if takes is None:
        return fast_twin
    return functools.partial(_where, getattr(module, takes), fast_twin, reference)


def _where(takes, fast_twin, reference, *args, **kwargs):
    """fast_twin(...) where takes(...) says that it takes these arguments, else reference(...)."""
    return (fast_twin if takes(*args, **kwargs) else reference)(*args, **kwargs)


@contextlib.contextmanager
def using(mode):
    """`with kernels.using("reference"):` runs the block with that choice, then restores the previous one."""
    previous = current_kernels()
    use_kernels(mode)
    try:
        yield
    finally:
        use_kernels(previous)
