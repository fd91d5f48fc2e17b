"""The counter-based generator and the exact samplers the counts backend draws with."""


import numba as nb
import numpy as np
import pytest
from scipy import stats

from refuge.backends import random as generator
from refuge.backends.random import binomial, fill_uniforms, member_keys, philox4x32, stochastic_round, uniforms

# Random123's known-answer vectors (kat_vectors) for Philox4x32-7 and -10: rounds, counter, key, expected output.
KAT = [
    (7, (0, 0, 0, 0), (0, 0), (0x5F6FB709, 0x0D893F64, 0x4F121F81, 0x4F730A48)),
    (7, (0xFFFFFFFF,) * 4, (0xFFFFFFFF,) * 2, (0x5207DDC2, 0x45165E59, 0x4D8EE751, 0x8C52F662)),
    (7, (0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344), (0xA4093822, 0x299F31D0),
     (0x4DFCCABA, 0x190A87F0, 0xC47362BA, 0xB6B5242A)),
    (10, (0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    (10, (0xFFFFFFFF,) * 4, (0xFFFFFFFF,) * 2, (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
    (10, (0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344), (0xA4093822, 0x299F31D0),
     (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1)),
]  # fmt: skip


@pytest.mark.parametrize(("rounds", "counter", "key", "expected"), KAT)
def test_philox_matches_random123_known_answers(rounds, counter, key, expected):
    assert tuple(int(w) for w in philox4x32(*counter, *key, rounds)) == expected


def test_draws_use_philox4x32_7():
    """The streams are Philox4x32-7 at (step, decision, block, 0): a change of generator shows here."""
    k0, k1 = np.uint32(0xA4093822), np.uint32(0x299F31D0)
    words = philox4x32(0x243F6A88, 0x85A308D3, 0x13198A2E, 0, k0, k1, 7)
    expected = tuple((np.float64(w) + 0.5) / 2.0**32 for w in words)
    assert uniforms(k0, k1, 0x243F6A88, 0x85A308D3, 0x13198A2E) == expected


def test_filled_uniforms_are_the_blocks_uniforms():
    out = np.empty(4 * 9)
    fill_uniforms(out, 7, 11, 3, 1234, 5)
    expected = [u for block in range(5, 14) for u in uniforms(7, 11, 3, 1234, block)]
    np.testing.assert_array_equal(out, expected)
    assert out.min() > 0.0 and out.max() < 1.0 and len(set(out)) == out.size


@nb.njit
def _draws(n, p, k0, k1, count):
    out = np.empty(count, dtype=np.int64)
    for step in range(count):
        out[step] = binomial(n, p, k0, k1, step, 12345)
    return out


@pytest.mark.parametrize(
    ("n", "p"),
    [(20, 0.1), (200, 0.03), (50, 0.5), (40, 0.93), (3_000, 0.02), (1_500_000, 1e-4), (10_000, 0.6)],
    ids=["inversion", "inversion-small-p", "btrs-half", "flipped", "btrs", "btrs-large-n", "btrs-flipped"],
)
def test_binomial_draws_follow_the_binomial_law(n, p):
    draws = _draws(n, p, np.uint32(7), np.uint32(11), 40_000)
    dist = stats.binom(n, p)
    lo, hi = int(dist.ppf(0.001)), int(dist.ppf(0.999))
    edges = np.arange(lo, hi + 2)
    observed = np.histogram(np.clip(draws, lo, hi), bins=edges)[0]
    expected = np.diff(np.concatenate([[0.0], dist.cdf(edges[1:-1] - 1), [1.0]])) * len(draws)
    keep = expected > 5
    if not keep.all():  # pool sparse cells into one
        observed = np.append(observed[keep], observed[~keep].sum())
        expected = np.append(expected[keep], expected[~keep].sum())
    _, pvalue = stats.chisquare(observed, expected * observed.sum() / expected.sum())
    assert pvalue > 1e-4, f"Binomial({n}, {p}) draws do not follow the law (p={pvalue:.2g})"


def test_binomial_edges():
    k = np.uint32(1)
    assert binomial(0, 0.4, k, k, 0, 1) == 0
    assert binomial(10, 0.0, k, k, 0, 1) == 0
    assert binomial(10, 1.0, k, k, 0, 1) == 10


@nb.njit
def _rounded(x, count):
    total = 0
    for step in range(count):
        total += stochastic_round(x, np.uint32(3), np.uint32(4), step, 99)
    return total


def test_stochastic_rounding_is_exact_in_the_mean():
    count = 200_000
    mean = _rounded(2.3, count) / count
    assert abs(mean - 2.3) < 4 * np.sqrt(0.21 / count)


def test_member_keys_do_not_depend_on_how_members_are_split():
    whole = member_keys(42, 10)
    assert np.array_equal(whole[6:], member_keys(42, 4, first=6))
    assert len({tuple(k) for k in whole}) == 10
    assert not np.array_equal(whole, member_keys(43, 10))


@nb.njit(error_model="numpy")
def _inversion_searched(n, q, k0, k1, step, decision):
    """The inversion as it was before its shortcut for no success: the full search from zero."""
    return generator._search(uniforms(k0, k1, step, decision, 0)[0], n, q)


_inversion = generator._inversion


@nb.njit(error_model="numpy")
def _differences(ns, qs, draws):
    differ = zeros = 0
    for n in ns:
        for q in qs:
            for step in range(draws):
                x = _inversion(n, q, np.uint32(5), np.uint32(9), step, 77)
                differ += x != _inversion_searched(n, q, np.uint32(5), np.uint32(9), step, 77)
                zeros += x == 0
    return differ, zeros


def test_the_inversions_shortcut_for_none_changes_no_draw():
    """A uniform below ``1 - n q`` returns 0 at once: the same draws as the full search, at means from 1e-9 to
    millions, ``1 - n q`` near zero included."""
    ns = np.array([1, 2, 3, 7, 30, 300, 5_000, 3_000_000])
    qs = np.concatenate([np.geomspace(1e-9, 0.5, 60), 1.0 / ns, 0.999999 / ns, 1.000001 / ns])
    qs = qs[qs <= 0.5]  # binomial() draws failures where p > 0.5
    differ, zeros = _differences(ns, qs, 2_000)
    assert differ == 0
    assert zeros > 100_000  # the shortcut's case is well covered
