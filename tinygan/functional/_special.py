"""The complementary error function erfc, for the exact GELU.

NumPy has no erf (SciPy has, but tinygan needs only NumPy), so here it is from two textbook expansions,
each used where it converges fast and keeps its digits (Abramowitz & Stegun, 1964, 7.1.6 and 7.1.14):

    |z| < 1:   erf(z) = 2/sqrt(pi) e^{-z^2} sum_n 2^n z^{2n+1} / (1 3 5 ... (2n+1))
               (every term has the sign of z: no cancellation, unlike the alternating Taylor series)
    z >= 1:    erfc(z) = e^{-z^2}/sqrt(pi) * 1/(z + (1/2)/(z + 1/(z + (3/2)/(z + 2/(z + ...)))))
               (a continued fraction, evaluated from a fixed depth upwards)

and erfc(z) = 1 - erf(z) for |z| < 1, erfc(z) = 2 - erfc(-z) for z <= -1. The result is within
1e-14 relative of the true value in float64 (tests/engine/test_activations.py::test_erfc_matches_math_erfc).
"""
import math

from ._util import xp_of

SERIES_TERMS = 30          # for |z| < 1 the terms fall below 1e-17 of the sum by then
FRACTION_DEPTH = 200       # the continued fraction has converged to float64 for z >= 1 at this depth
SWITCH = 1.0


def _erf_series(z):
    """erf(z) for small |z|, by the series of positive terms."""
    term = z.copy()
    total = z.copy()
    for n in range(1, SERIES_TERMS):
        term = term * (2 * z * z) / (2 * n + 1)
        total = total + term
    return 2 / math.sqrt(math.pi) * total * xp_of(z).exp(-z * z)  # [formula: erf-series]


def _erfc_fraction(z):
    """erfc(z) for z >= SWITCH, by the continued fraction."""
    tail = z.copy()
    for k in range(FRACTION_DEPTH, 0, -1):
        tail = z + (k / 2) / tail
    return xp_of(z).exp(-z * z) / (math.sqrt(math.pi) * tail)  # [formula: erfc-continued-fraction]


def erfc(z):
    """erfc(z) = 1 - erf(z) = 2/sqrt(pi) int_z^inf e^{-t^2} dt, elementwise, in z's dtype.

    Computed in float64 (in float32 the sums would lose a few more digits than the result has).
    """
    xp = xp_of(z)
    dtype, z = z.dtype, z.astype(xp.float64)
    result = xp.empty_like(z)
    small = xp.abs(z) < SWITCH
    large = z >= SWITCH
    very_negative = z <= -SWITCH
    result[small] = 1 - _erf_series(z[small])
    result[large] = _erfc_fraction(z[large])
    result[very_negative] = 2 - _erfc_fraction(-z[very_negative])
    result[xp.isnan(z)] = xp.nan
    return result.astype(dtype, copy=False)


def erf(z):
    """erf(z) = 2/sqrt(pi) int_0^z e^{-t^2} dt, elementwise, in z's dtype: the series where |z| < 1 (1 - erfc
    there would lose the digits of a small erf), else 1 - erfc(z)."""
    xp = xp_of(z)
    dtype, z = z.dtype, z.astype(xp.float64)
    small = xp.abs(z) < SWITCH
    result = 1 - erfc(z)
    result[small] = _erf_series(z[small])
    return result.astype(dtype, copy=False)
