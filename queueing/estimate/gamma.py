"""Gamma distribution quantiles without scipy.

The time to the k-th of a run of exponential completions is Gamma(k); with measured
variability it is a gamma with a non-integer shape. Quantiles are found by Halley steps on
the regularised incomplete gamma function (the method of Numerical Recipes, 3rd ed., §6.2)
and cached on a rounded shape, because the hub asks for the same few shapes over and over.
"""

from __future__ import annotations

import math
from functools import lru_cache

_EPS = 1e-10
_BIG_SHAPE = 400.0  # above this, Wilson–Hilferty is exact to well under 0.1 %


def gamma_cdf(x: float, shape: float) -> float:
    """P(X <= x) for X ~ Gamma(shape, scale 1): the regularised lower incomplete gamma."""
    if x <= 0.0:
        return 0.0
    if x < shape + 1.0:
        return _series(x, shape)
    return 1.0 - _continued_fraction(x, shape)


def _series(x: float, a: float) -> float:
    term = total = 1.0 / a
    ap = a
    for _ in range(10_000):
        ap += 1.0
        term *= x / ap
        total += term
        if abs(term) < abs(total) * _EPS:
            break
    return total * math.exp(-x + a * math.log(x) - math.lgamma(a))


def _continued_fraction(x: float, a: float) -> float:
    tiny = 1e-300
    b = x + 1.0 - a
    c = 1.0 / tiny
    d = 1.0 / b
    h = d
    for i in range(1, 10_000):
        an = -i * (i - a)
        b += 2.0
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < _EPS:
            break
    return math.exp(-x + a * math.log(x) - math.lgamma(a)) * h


def _wilson_hilferty(p: float, shape: float) -> float:
    z = normal_ppf(p)
    t = 1.0 - 1.0 / (9.0 * shape) + z / (3.0 * math.sqrt(shape))
    return shape * max(t, 1e-3) ** 3


def normal_ppf(p: float) -> float:
    """Standard normal quantile (Acklam's rational approximation, |error| < 1.2e-9)."""
    a = (-3.969683028665376e01, 2.209460984245205e02, -2.759285104469687e02,
         1.383577518672690e02, -3.066479806614716e01, 2.506628277459239e00)
    b = (-5.447609879822406e01, 1.615858368580409e02, -1.556989798598866e02,
         6.680131188771972e01, -1.328068155288572e01)
    c = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e00,
         -2.549732539343734e00, 4.374664141464968e00, 2.938163982698783e00)
    d = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e00,
         3.754408661907416e00)
    if p < 0.02425:
        q = math.sqrt(-2.0 * math.log(p))
        return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / (
            (((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1.0)
    if p > 1.0 - 0.02425:
        return -normal_ppf(1.0 - p)
    q = p - 0.5
    r = q * q
    return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q / (
        ((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1.0)


def gamma_ppf(p: float, shape: float) -> float:
    """The ``p``-quantile of Gamma(shape, scale 1); ``p`` in (0, 1), ``shape`` > 0.

    The shape is rounded to 3 significant digits and ``p`` to 1e-3 before the cached solve
    (a few thousand distinct keys in a day): that moves a quantile by well under 1 %, far
    below what a wait estimate can resolve.
    """
    p = min(max(p, 1e-3), 1.0 - 1e-3)
    digits = 2 - math.floor(math.log10(shape)) if shape > 0 else 2
    return _ppf_cached(round(p, 3), round(shape, max(digits, 0)))


@lru_cache(maxsize=65_536)
def _ppf_cached(p: float, a: float) -> float:
    if a >= _BIG_SHAPE:
        return _wilson_hilferty(p, a)
    gln = math.lgamma(a)
    a1 = a - 1.0
    lna1 = afac = 0.0
    if a > 1.0:
        lna1 = math.log(a1)
        afac = math.exp(a1 * (lna1 - 1.0) - gln)
        x = max(1e-3, _wilson_hilferty(p, a))
    else:
        t = 1.0 - a * (0.253 + a * 0.12)
        x = (p / t) ** (1.0 / a) if p < t else 1.0 - math.log(1.0 - (p - t) / (1.0 - t))
    for _ in range(20):
        if x <= 0.0:
            return 0.0
        err = gamma_cdf(x, a) - p
        if a > 1.0:
            dens = afac * math.exp(-(x - a1) + a1 * (math.log(x) - lna1))
        else:
            dens = math.exp(-x + a1 * math.log(x) - gln)
        if dens <= 0.0:
            break
        u = err / dens
        step = u / (1.0 - 0.5 * min(1.0, u * ((a - 1.0) / x - 1.0)))
        x -= step
        if x <= 0.0:
            x = 0.5 * (x + step)
        if abs(step) < 1e-9 * x:
            break
    return x
