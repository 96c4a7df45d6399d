"""``exp`` for the fused loops (:mod:`hessian_explorer.fused`): one that LLVM can vectorise.

The C library's ``exp`` is a call numba cannot inline, so a loop that calls it runs one point at
a time (5.7 ns a point here); numpy's float64 ``exp`` is no faster without AVX-512. This one is
straight-line arithmetic that LLVM turns into four points per AVX2 instruction (2.1 ns a point):

* Cody-Waite reduction: ``x = k ln2 + r`` with ``k = rint(x / ln2)``, ``|r| <= ln2 / 2``, ln2
  split into a high part with trailing zero bits (``k * LN2_HI`` is exact) and a low part;
* ``e^r = 1 + (r + r^2 t(r))``, ``t`` the Taylor series to degree 13 (truncation below
  2e-16 relative) by Estrin's scheme: independent pairs, so the dependency chain is short. The
  small terms are summed first and ``1`` added last, so the rounding errors stay below an ulp;
* ``2^k`` built in the exponent bits as two factors ``2^k1 2^k2`` (``k1 + k2 = k``), so that
  results down in the subnormal range and up to overflow come out of one multiplication each.

Within 0.9 ulp of the exact value (tests: mpmath, 40 digits; the C library's is within 0.5), so
the two can differ in the last bit. ``inf`` for overflow, ``0`` below the subnormals, ``nan``
for ``nan``, like ``numpy.exp``. Imported only by :mod:`hessian_explorer.fused` (needs numba).
"""

from __future__ import annotations

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

__all__ = ["exp"]

LOG2E = 1.4426950408889634
LN2_HI = 6.93147180369123816490e-01  # ln 2 to 32 bits: k * LN2_HI is exact for |k| < 2^21
LN2_LO = 1.90821492927058770002e-10  # ln 2 - LN2_HI
# x + 1.5 * 2^52 rounds x to an integer and leaves it in the low bits of the sum's pattern.
_ROUND = 6755399441055744.0
_ROUND_BITS = 0x4338000000000000
_LIMIT = 1100.0  # beyond +-1075 * ln2 the result is inf or 0 anyway; keeps k in range


@intrinsic
def _bits_to_float(typingctx, bits):
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())
    return types.float64(types.int64), codegen


@intrinsic
def _float_to_bits(typingctx, x):
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(64))
    return types.int64(types.float64), codegen


@numba.njit(nogil=True, error_model="numpy", inline="always")
def _power_of_two(k):
    """``2.0 ** k`` for an integral float ``-1022 <= k <= 1023``, from its exponent bits."""
    return _bits_to_float(((_float_to_bits(k + _ROUND) - _ROUND_BITS) + 1023) << 52)


@numba.njit(nogil=True, error_model="numpy", inline="always")
def exp(x):
    x = np.minimum(np.maximum(x, -_LIMIT), _LIMIT)  # nan stays nan
    k = np.rint(x * LOG2E)
    r = (x - k * LN2_HI) - k * LN2_LO
    r2 = r * r
    r4 = r2 * r2
    t = ((0.5 + r * (1.0 / 6.0)) + r2 * (1.0 / 24.0 + r * (1.0 / 120.0))) + r4 * (
        ((1.0 / 720.0 + r * (1.0 / 5040.0)) + r2 * (1.0 / 40320.0 + r * (1.0 / 362880.0)))
        + r4 * ((1.0 / 3628800.0 + r * (1.0 / 39916800.0)) + r2 * (1.0 / 479001600.0 + r * (1.0 / 6227020800.0))))
    p = 1.0 + (r + r2 * t)
    k1 = np.floor(k * 0.5)
    return p * _power_of_two(k1) * _power_of_two(k - k1)
