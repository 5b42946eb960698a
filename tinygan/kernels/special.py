"""The fast twins of functional/_special.py's erfc (rational approximations, as C libraries compute it) and of the
exact GELU (one op instead of x * NormalCDF(x), by chunks that stay in the cache).

The reference sums a series and a continued fraction of up to 200 terms, which is clear and slow (GELU's erfc
over a transformer's activations took longer than the layer's products).

float32 takes Eigen's erf (the one XLA uses): erf(x) = x A(x^2) / B(x^2) on x clamped to [-4, 4], one ratio of
two short polynomials with no branch, within a unit or two of float32's last place; erfc = 1 - erf, so its
error is absolute (about 1e-7), which is all a float32 GELU, x Phi(x), can hold anyway.

float64 takes fdlibm's s_erf.c (Sun Microsystems, 1993; the code of FreeBSD's and musl's libm), with its
published coefficients: on each of four ranges of |x|, a ratio of two short polynomials, accurate to about 2^-57
relative:

    |x| < 0.84375           erf(x) = x + x P(x^2) / Q(x^2)
    0.84375 <= |x| < 1.25   erfc(|x|) = 1 - erx - P(s) / Q(s),   s = |x| - 1
    1.25 <= |x| < 28        erfc(|x|) = exp(-x^2 - 0.5625 + R(1/x^2) / S(1/x^2)) / |x|
    |x| >= 28               erfc(x) = 0 (or 2 for x < 0): below the smallest double

and erfc(-x) = 2 - erfc(x). Both agree with the reference as tests/engine/test_kernels.py says.
"""
import math

import numpy as np

from ..autograd import Function, Tensor, is_grad_enabled
from ..backend import get_array_module

# Eigen's float32 erf: A and B, highest power first.
ALPHA = (-2.72614225801306e-10, 2.77068142495902e-08, -2.10102402082508e-06, -5.69250639462346e-05,
         -7.34990630326855e-04, -2.95459980854025e-03, -1.60960333262415e-02)
BETA = (-1.45660718464996e-05, -2.13374055278905e-04, -1.68282697438203e-03, -7.37332916720468e-03,
        -1.42647390514189e-02)

ERX = 8.45062911510467529297e-01
PP = (1.28379167095512558561e-01, -3.25042107247001499370e-01, -2.84817495755985104766e-02,
      -5.77027029648944159157e-03, -2.37630166566501626084e-05)
QQ = (1.0, 3.97917223959155352819e-01, 6.50222499887672944485e-02, 5.08130628187576562776e-03,
      1.32494738004321644526e-04, -3.96022827877536812320e-06)
PA = (-2.36211856075265944077e-03, 4.14856118683748331666e-01, -3.72207876035701323847e-01,
      3.18346619901161753674e-01, -1.10894694282396677476e-01, 3.54783043256182359371e-02,
      -2.16637559486879084300e-03)
QA = (1.0, 1.06420880400844228286e-01, 5.40397917702171048937e-01, 7.18286544141962662868e-02,
      1.26171219808761642112e-01, 1.36370839120290507362e-02, 1.19844998467991074170e-02)
RA = (-9.86494403484714822705e-03, -6.93858572707181764372e-01, -1.05586262253232909814e+01,
      -6.23753324503260060396e+01, -1.62396669462573470355e+02, -1.84605092906711035994e+02,
      -8.12874355063065934246e+01, -9.81432934416914548592e+00)
SA = (1.0, 1.96512716674392571292e+01, 1.37657754143519042600e+02, 4.34565877475229228821e+02,
      6.45387271733267880336e+02, 4.29008140027567833386e+02, 1.08635005541779435134e+02,
      6.57024977031928170135e+00, -6.04244152148580987438e-02)
RB = (-9.86494292470009928597e-03, -7.99283237680523006574e-01, -1.77579549177547519889e+01,
      -1.60636384855821916062e+02, -6.37566443368389627722e+02, -1.02509513161107724954e+03,
      -4.83519191608651397019e+02)
SB = (1.0, 3.03380607434824582924e+01, 3.25792512996573918826e+02, 1.53672958608443695994e+03,
      3.19985821950859553908e+03, 2.55305040643316442583e+03, 4.74528541206955367215e+02,
      -2.24409524465858183362e+01)


def _polynomial(coefficients, x):
    """c0 + c1 x + c2 x^2 + ..., by Horner's rule, in place on one new array."""
    total = x * coefficients[-1]
    total += coefficients[-2]
    for c in coefficients[-3::-1]:
        total *= x
        total += c
    return total


def _upper_half(x):
    """float64 x with the low 32 bits of its mantissa cleared: z*z is then exact, which keeps the digits of
    exp(-x^2) = exp(-z^2) exp((z - x)(z + x))."""
    xp = get_array_module(x)
    return (x.view(xp.uint64) & xp.uint64(0xFFFFFFFF00000000)).view(xp.float64)


def _erfc_of_magnitude(a):
    """erfc(a) for 0.84375 <= a < 28."""
    xp = get_array_module(a)
    result = xp.empty_like(a)
    near_one = a < 1.25
    s = a[near_one] - 1
    result[near_one] = 1 - ERX - _polynomial(PA, s) / _polynomial(QA, s)
    far = ~near_one
    b = a[far]
    s = 1 / (b * b)
    ratio = xp.empty_like(b)
    below = b < 1 / 0.35
    ratio[below] = _polynomial(RA, s[below]) / _polynomial(SA, s[below])
    ratio[~below] = _polynomial(RB, s[~below]) / _polynomial(SB, s[~below])
    z = _upper_half(b)
    result[far] = xp.exp(-z * z - 0.5625) * xp.exp((z - b) * (z + b) + ratio) / b
    return result


CHUNK = 65536   # values per pass of the CPU path: a formula's dozen passes over a chunk stay in the cache


def by_chunks(fn, *arrays, outputs=1):
    """fn(*arrays) elementwise, into a new array of the first's shape (a tuple of `outputs` new arrays when fn
    returns that many); on the CPU a chunk of CHUNK values at a time (twice as fast on a transformer's activations
    as one pass over the whole arrays per operation), on the GPU in one go. The arrays have one shape."""
    xp = get_array_module(arrays[0])
    if xp is not np or arrays[0].size <= CHUNK:
        return fn(*arrays)
    results = tuple(np.empty(arrays[0].shape, dtype=np.result_type(*arrays)) for _ in range(outputs))
    flats, outs = [np.ascontiguousarray(a).reshape(-1) for a in arrays], [r.reshape(-1) for r in results]
    for start in range(0, outs[0].size, CHUNK):
        chunk = fn(*(flat[start:start + CHUNK] for flat in flats))
        for out, values in zip(outs, chunk if outputs > 1 else (chunk,)):
            out[start:start + CHUNK] = values
    return results if outputs > 1 else results[0]


def _erfc_float32(z):
    """erfc(z) for float32 z, by chunks."""
    return by_chunks(_erfc_float32_block, z)


def _erfc_float32_block(x):
    """erfc(x) = 1 - erf(x) for float32 x, with Eigen's erf."""
    xp = get_array_module(x)
    x = xp.clip(x, -4, 4)
    x2 = x * x
    numerator = _polynomial(ALPHA[::-1], x2)
    numerator *= x
    numerator /= _polynomial(BETA[::-1], x2)
    return 1 - numerator


def erfc(z):
    """erfc(z) elementwise, in z's dtype, as functional/_special.py's erfc: float32 with Eigen's erf, other
    dtypes in float64 with fdlibm's."""
    xp = get_array_module(z)
    if z.dtype == xp.float32:
        return _erfc_float32(z)
    dtype, x = z.dtype, z.astype(xp.float64)
    a = xp.abs(x)
    result = xp.where(x < 0, x.dtype.type(2), x.dtype.type(0))     # |x| >= 28: 0, or 2 below zero
    small = a < 0.84375
    xs = x[small]
    y = xs * (_polynomial(PP, xs * xs) / _polynomial(QQ, xs * xs))
    result[small] = xp.where(xs < 0.25, 1 - (xs + y), 0.5 - (xs - 0.5 + y))
    middle = ~small & (a < 28)
    tail = _erfc_of_magnitude(a[middle])
    result[middle] = xp.where(x[middle] < 0, 2 - tail, tail)
    result[xp.isnan(x)] = xp.nan
    return result.astype(dtype, copy=False)


# -- GELU as one op --------------------------------------------------------------------------------------------

SQRT_HALF = 0.7071067811865476                    # 1 / sqrt(2)
INV_SQRT_2PI = 0.3989422804014327                 # 1 / sqrt(2 pi)


# Eigen's erf with its argument and result scaled for Phi, so no pass goes to the 1/sqrt(2) or the halving:
# Phi(x) = 1/2 + erf(x / sqrt 2) / 2 = 1/2 + x A'(x^2) / B'(x^2), with a'_k = a_k / (2 sqrt(2) 2^k) and b'_k = b_k / 2^k
# (lowest power first), on x clamped to [-4 sqrt 2, 4 sqrt 2] where Eigen clamps x / sqrt 2 to [-4, 4].
PHI_ALPHA = tuple(a / (2 * math.sqrt(2) * 2 ** k) for k, a in enumerate(ALPHA[::-1]))
PHI_BETA = tuple(b / 2 ** k for k, b in enumerate(BETA[::-1]))
PHI_CLAMP = 4 * math.sqrt(2)


def _normal_cdf(x):
    """Phi(x) = erfc(-x / sqrt 2) / 2; for float32, 1/2 + erf(x / sqrt 2) / 2 in one formula (_normal_cdf_float32)."""
    if x.dtype == get_array_module(x).float32:
        return _normal_cdf_float32(x)
    return erfc(x * -SQRT_HALF) * 0.5


def _normal_cdf_float32(x):
    """Phi(x) = 1/2 + x A'(x^2) / B'(x^2) for float32 x (PHI_ALPHA, PHI_BETA): about 25 passes, two fewer than
    through erfc. Its error is absolute, about 1e-7, as erfc's."""
    xp = get_array_module(x)
    clamped = xp.clip(x, x.dtype.type(-PHI_CLAMP), x.dtype.type(PHI_CLAMP))
    square = clamped * clamped
    cdf = _polynomial(PHI_ALPHA, square)
    cdf *= clamped
    cdf /= _polynomial(PHI_BETA, square)
    cdf += 0.5
    return cdf


def _gelu_and_cdf(x):
    """(x Phi(x), Phi(x)): GELU and the Phi its backward needs, the product taken while Phi is in the cache."""
    cdf = _normal_cdf(x)
    return x * cdf, cdf


def _gelu_derivative_times(x, cdf, grad):
    """grad (Phi(x) + x phi(x)), phi(x) = e^{-x^2/2} / sqrt(2 pi): GELU's derivative, times the incoming gradient,
    with Phi(x) kept from the forward."""
    return grad * (cdf + x * (get_array_module(x).exp(x * x * -0.5) * INV_SQRT_2PI))


def gelu(input, backward_in_ops=None):
    """The twin of functional.activation's exact gelu: GELU(x) = x Phi(x) as one op, a chunk at a time on the CPU.
    backward_in_ops(x, grad) is the derivative written in tinygan ops, the backward under create_graph."""
    return GELU.apply(input, backward_in_ops=backward_in_ops)


class GELU(Function):
    """y = x Phi(x);  dy/dx = Phi(x) + x phi(x). The reference is x * NormalCDF(x), two ops whose forward and
    backward take a dozen passes over the activations; here Phi is computed once, by chunks, and kept."""

    def forward(self, x, backward_in_ops=None):
        self.backward_in_ops = backward_in_ops
        y, self.cdf = by_chunks(_gelu_and_cdf, x, outputs=2)  # Phi(x), kept: the backward needs it again
        return y

    def backward(self, grad):
        x = self.inputs[0]
        if is_grad_enabled():
            return (self.backward_in_ops(x, grad),)
        return (Tensor(by_chunks(_gelu_derivative_times, x.array, self.cdf, grad.array)),)
