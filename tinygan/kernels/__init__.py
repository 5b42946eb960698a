"""Fast implementations of the hot ops, beside the readable reference code that carries the formulas.

Two rooms for every hot op:
- the reference, in `tinygan/functional/` and `tinygan/optim.py`: short code over the array module that
  a learner reads beside docs/formulas.md, with the formula markers on the lines that compute them;
- a fast kernel here, with the same signature, computing the same numbers with fewer passes over
  memory (CPU) or fewer launches (GPU). tests/test_kernels.py proves each equal to its reference.

The fast kernels are the default. `tinygan.use_kernels("reference")`, or TINYGAN_KERNELS=reference in
the environment, makes every op run its reference code instead, so a lesson can show that both give the
same numbers.

    conv         im2col rows in (kh, kw, c) order, channels-last images, slabs of images, col2im by
                 classes of windows that never overlap (the CPU layout rule is in its docstring)
    batch_norm   per-channel sums as matrix-vector products, in-place elementwise steps
    optim        Adam's update in place, without temporaries
    recurrent    an LSTM layer's whole recurrence as one loop of array operations, BPTT in closed form
    loss         softmax cross-entropy with class labels: the loss and its gradient softmax - onehot in a few passes
    pool         max pooling whose windows tile the image, read in place instead of copied out by im2col
    cupy_fused   on the GPU: one CuPy kernel launch for what the reference does in several expressions

This package imports only `backend` and `autograd`, never `functional`: the dependency runs one way.
"""
import contextlib
import os

MODES = ("fast", "reference")
_state = {"mode": None}


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


@contextlib.contextmanager
def using(mode):
    """`with kernels.using("reference"):` runs the block with that choice, then restores the previous one."""
    previous = current_kernels()
    use_kernels(mode)
    try:
        yield
    finally:
        use_kernels(previous)
