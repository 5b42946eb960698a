"""Fast implementations of hot ops, beside the readable reference code in `tinygan/functional/` and `optim.py`.

The reference code carries the formulas (and their formula markers); a kernel here computes
the same numbers with fewer passes over memory or fewer launches, and a test compares the two.

`cupy_fused`: on the GPU every CuPy call is one kernel launch costing some microseconds of Python and
driver time, so a formula written as ten array expressions costs ten launches. These kernels fuse an
op's elementwise steps into one launch each (BatchNorm's normalisation and its input gradient, Adam's
update). They are used only for CuPy arrays; NumPy arrays always take the reference code.

This package imports only `backend` (never `functional`), so the dependency runs one way.
"""
