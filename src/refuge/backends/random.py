"""Counter-based random numbers and the draws the stochastic backends make.

Every random number is a pure function of (member k0, k1, step, decision, block):
Philox4x32-7 (Salmon et al. 2011, the Random123 generator) turns that counter
into four 32-bit words. Salmon et al. found seven rounds pass all of TestU01's
BigCrush (``ROUNDS``); Random123's default of ten adds a safety margin that
costs time in every draw. Nothing is carried from one draw to the next, so

* the same seed gives the same numbers whatever the chunking of members or the
  number of workers;
* a decision is keyed by the stable hash of its name, so adding a flow or a
  lever leaves the draws of every other decision as they were, and two
  scenarios see the same random numbers for the same decision (common random
  numbers).

The binomial sampler is inversion for small means and Hörmann's BTRS
(transformed rejection with squeeze, 1993) for large ones: both exact.
"""

from __future__ import annotations

import math
import zlib

import numba as nb
import numpy as np

_M0 = np.uint64(0xD2511F53)
_M1 = np.uint64(0xCD9E8D57)
_W0 = np.uint32(0x9E3779B9)
_W1 = np.uint32(0xBB67AE85)
_LO = np.uint64(0xFFFFFFFF)
_SHIFT = np.uint64(32)
_TO_UNIT = 1.0 / 4294967296.0


def decision_id(name: str) -> int:
    """Stable 32-bit key of a named decision (a flow, a stock's departures)."""
    return zlib.crc32(name.encode())


def member_keys(seed: int, members: int, first: int = 0) -> np.ndarray:
    """Philox keys of members ``first .. first+members-1``, spawned from one seed.

    Member ``m`` always gets the key of ``SeedSequence(seed).spawn`` child ``m``,
    so a member's numbers do not depend on how the ensemble is split up.
    """
    keys = np.empty((members, 2), dtype=np.uint32)
    for i in range(members):
        child = np.random.SeedSequence(seed, spawn_key=(first + i,))
        keys[i] = child.generate_state(2, dtype=np.uint32)
    return keys


@nb.njit(cache=True, inline="always", error_model="numpy")
def _mulhilo(m, x):
    prod = m * np.uint64(x)
    return np.uint32(prod >> _SHIFT), np.uint32(prod & _LO)


ROUNDS = 7


@nb.njit(cache=True, error_model="numpy")
def philox4x32(c0, c1, c2, c3, k0, k1, rounds):
    """The four 32-bit words of Philox4x32-``rounds`` at counter (c0..c3), key (k0, k1)."""
    c0 = np.uint32(c0)
    c1 = np.uint32(c1)
    c2 = np.uint32(c2)
    c3 = np.uint32(c3)
    k0 = np.uint32(k0)
    k1 = np.uint32(k1)
    for r in range(rounds):
        if r > 0:
            k0 = np.uint32(k0 + _W0)
            k1 = np.uint32(k1 + _W1)
        hi0, lo0 = _mulhilo(_M0, c0)
        hi1, lo1 = _mulhilo(_M1, c2)
        c0, c1, c2, c3 = hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0
    return c0, c1, c2, c3


@nb.njit(cache=True, inline="always", error_model="numpy")
def unit(word):
    """A uniform in the open interval (0, 1) from one 32-bit word."""
    return (np.float64(word) + 0.5) * _TO_UNIT


@nb.njit(cache=True, error_model="numpy")
def uniforms(k0, k1, step, decision, block):
    """Four uniforms for one block of one decision at one step, for the member keyed (k0, k1)."""
    w0, w1, w2, w3 = philox4x32(step, decision, block, 0, k0, k1, ROUNDS)
    return unit(w0), unit(w1), unit(w2), unit(w3)


@nb.njit(cache=True, error_model="numpy")
def fill_uniforms(out, k0, k1, step, decision, first_block):
    """``out[4 b + k]``: uniform ``k`` of block ``first_block + b``, the numbers of :func:`uniforms`.

    Made in one loop the compiler vectorises: about 2.5 times as fast a number as block by block where each is used.
    """
    for b in range(out.shape[0] // 4):
        w0, w1, w2, w3 = philox4x32(step, decision, first_block + b, 0, k0, k1, ROUNDS)
        out[4 * b] = unit(w0)
        out[4 * b + 1] = unit(w1)
        out[4 * b + 2] = unit(w2)
        out[4 * b + 3] = unit(w3)


@nb.njit(cache=True, error_model="numpy")
def binomial(n, p, k0, k1, step, decision):
    """An exact Binomial(n, p) draw from the decision's own stream."""
    if n <= 0 or p <= 0.0:
        return 0
    if p >= 1.0:
        return n
    flip = p > 0.5
    q = 1.0 - p if flip else p
    x = _inversion(n, q, k0, k1, step, decision) if n * q < 10.0 else _btrs(n, q, k0, k1, step, decision)
    return n - x if flip else x


@nb.njit(cache=True, error_model="numpy")
def _inversion(n, q, k0, k1, step, decision):
    u = uniforms(k0, k1, step, decision, 0)[0]
    if u <= 1.0 - n * q - _MARGIN:
        return 0  # below (1 - q)^n, the chance of none, without its logarithm and exponential (see _MARGIN)
    return _search(u, n, q)


@nb.njit(cache=True, error_model="numpy")
def _search(u, n, q):
    """The binomial draw of the uniform ``u`` by inversion: the first count whose cumulative chance reaches it."""
    odds = q / (1.0 - q)
    f = math.exp(n * math.log1p(-q))
    x = 0
    while u > f and x < n:
        u -= f
        x += 1
        f *= odds * (n - x + 1) / x
        if f == 0.0:
            break
    return x


#: ``1 - n q`` is at most ``(1 - q)^n`` (Bernoulli's inequality), so a uniform below ``1 - n q`` is below the
#: chance of no success and the inversion returns 0 without computing that chance; the margin covers the rounding
#: of ``exp(n log1p(-q))``, some 1e-15 where ``1 - n q > 0``, so the draws are exactly those of the full search
_MARGIN = 1e-9


@nb.njit(cache=True, error_model="numpy")
def _btrs(n, q, k0, k1, step, decision):
    spq = math.sqrt(n * q * (1.0 - q))
    b = 1.15 + 2.53 * spq
    a = -0.0873 + 0.0248 * b + 0.01 * q
    c = n * q + 0.5
    vr = 0.92 - 4.2 / b
    block = 0
    while True:
        u0, v0, u1, v1 = uniforms(k0, k1, step, decision, block)
        block += 1
        k = _btrs_try(u0 - 0.5, v0, n, q, spq, a, b, c, vr)
        if k < 0:
            k = _btrs_try(u1 - 0.5, v1, n, q, spq, a, b, c, vr)
        if k >= 0:
            return k


@nb.njit(cache=True, inline="always", error_model="numpy")
def _btrs_try(u, v, n, q, spq, a, b, c, vr):
    """One BTRS proposal: the draw if accepted, else -1."""
    us = 0.5 - abs(u)
    k = math.floor((2.0 * a / us + b) * u + c)
    if k < 0 or k > n:
        return np.int64(-1)
    if us >= 0.07 and v <= vr:
        return np.int64(k)
    # the exact test, needed for about one proposal in seven (log-factorials by Stirling's series)
    alpha = (2.83 + 5.1 / b) * spq
    r = q / (1.0 - q)
    m = math.floor((n + 1) * q)
    bound = (
        (m + 0.5) * math.log((m + 1.0) / (r * (n - m + 1.0)))
        + (n + 1.0) * math.log((n - m + 1.0) / (n - k + 1.0))
        + (k + 0.5) * math.log(r * (n - k + 1.0) / (k + 1.0))
        + _stirling_tail(m) + _stirling_tail(n - m) - _stirling_tail(k) - _stirling_tail(n - k)
    )
    if math.log(v * alpha / (a / (us * us) + b)) <= bound:
        return np.int64(k)
    return np.int64(-1)


_TAIL = np.array([math.lgamma(k + 1.0) - ((k + 0.5) * math.log(k + 1.0) - (k + 1.0) + 0.5 * math.log(2 * math.pi))
                  for k in range(10)])


@nb.njit(cache=True, inline="always", error_model="numpy")
def _stirling_tail(k):
    """``log k!`` less its Stirling approximation ``(k + 1/2) log(k + 1) - (k + 1) + log(2 pi) / 2``."""
    if k < 10:
        return _TAIL[int(k)]
    k1sq = (k + 1.0) * (k + 1.0)
    return (1.0 / 12 - (1.0 / 360 - 1.0 / 1260 / k1sq) / k1sq) / (k + 1.0)


@nb.njit(cache=True, error_model="numpy")
def stochastic_round(x, k0, k1, step, decision):
    """``floor(x)`` plus one with probability ``x - floor(x)``: exact in the mean."""
    whole = math.floor(x)
    if x > whole and uniforms(k0, k1, step, decision, 0)[0] < x - whole:
        whole += 1.0
    return np.int64(whole)


@nb.njit(cache=True, error_model="numpy")
def member_normals(keys, decision, count):
    """Standard normals ``(members, count)``: member ``m``'s ``j``-th from its own stream (Box-Muller)."""
    out = np.empty((keys.shape[0], count))
    for m in range(keys.shape[0]):
        for j in range(0, count, 2):
            u0, u1, _, _ = uniforms(keys[m, 0], keys[m, 1], j, decision, 0)
            radius = math.sqrt(-2.0 * math.log(u0))
            out[m, j] = radius * math.cos(2.0 * math.pi * u1)
            if j + 1 < count:
                out[m, j + 1] = radius * math.sin(2.0 * math.pi * u1)
    return out
