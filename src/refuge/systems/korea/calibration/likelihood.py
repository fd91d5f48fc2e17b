"""The likelihood of the record given the model: targets, the simulator over a batch, the log-likelihood.

Targets, all from :mod:`refuge.systems.korea.evidence`, up to a cut-off year:

1. annual arrivals in the South, by sex where the record splits them (2001 on),
   the total otherwise (1995-2000), and the 1990-1994 combined total: log-normal
   around the model, spread ``sigma_arrivals`` (calibrated);
2. cumulative totals at dated points (by sex for 1998 and 2001): log-normal
   with the same spread ``sigma_arrivals``. They mostly restate the annual
   record (a cumulative total is a sum of annual counts), so a tighter spread
   would count the same people twice over; they matter for the 1990s, where
   only totals and two sex splits (end-1998, end-2001) are known;
3. soft, wide evidence: people hiding in China and deportations from China.
   The claims about one quantity in one year are a mixture (the truth is near
   one of them, we do not know which), each a log-normal as wide as its stated
   range plus :data:`SOFT_SIGMA`. One-sided claims ("up to 200,000") cover a
   factor of three below (or above) their bound. Claims that repeat the same
   figure (the second-hand "100,000" printed by outlet after outlet and year
   after year) are one piece of evidence, not several: a claim whose figure
   ``k`` claims share enters with weight ``1/k`` (a tempered likelihood), so
   together they count once;
4. time abroad before arrival (EVIDENCE.md §4c: surveys of a year's arrivals):
   log-normal around the model's mean time abroad of that year's arrivals,
   spread :data:`TIME_SIGMA`.

The simulator is the ``mean`` backend, vectorised over members: one call
evaluates a whole batch of parameter sets.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import logsumexp

from ....model.timeline import Timeline
from .. import INITIAL
from ..evidence import Claim, load_evidence

#: Extra log-scale spread of every soft claim (hiding in China, deportations): a factor of about 1.65.
SOFT_SIGMA = 0.5
#: One-sided claims cover this factor below an upper bound or above a lower bound.
ONE_SIDED = 3.0
#: Log-scale spread of a survey's mean time abroad around the model's (figures given to a month or "about").
TIME_SIGMA = 0.2
#: Output columns the simulator returns, in order.
COLUMNS = ("arrivals", "arrivals_female", "hiding_in_china", "deported_from_china", "time_abroad")
_FIRST_YEAR = 1990
_HALF_LOG_2PI = 0.5 * np.log(2 * np.pi)
_INITIAL_SOUTH = np.array(INITIAL["sk_settled"], dtype=float)  # (female, male) settled before 1990


def simulate_batch(values: dict[str, np.ndarray], until: int, blind: int | None = None) -> np.ndarray:
    """Run the mean backend for a batch of parameter sets; ``(members, years, COLUMNS)``, years 1990..until.

    ``blind``: the drivers know nothing dated after that year (see :func:`refuge.systems.korea.blind_model`).
    """
    from ....simulation import run
    from .. import blind_model, north_korea

    members = len(next(iter(values.values())))
    model = north_korea() if blind is None else blind_model(blind)
    res = run(
        "baseline", members=members, seed=0, backend="mean", timeline=Timeline(_FIRST_YEAR, until),
        parameters=values, block=members, calibrated=False, model=model,
    )
    out = res.outputs().sel(
        variable=["arrivals_south_korea", "arrivals_south_korea_female", "hiding_in_china", "deported_from_china",
                  "time_abroad"]
    )
    return np.nan_to_num(np.asarray(out.values, dtype=float))


def _range(claim: Claim) -> tuple[float, float]:
    """Centre (log) and half-width (log) of a claim's stated range."""
    low, high = claim.low, claim.high
    if low is None and high is None:
        return float(np.log(claim.central)), 0.0
    if low is None:
        low = high / ONE_SIDED  # type: ignore[operator]
    if high is None:
        high = low * ONE_SIDED
    return float(0.5 * (np.log(low) + np.log(high))), float(0.5 * (np.log(high) - np.log(low)))


@dataclass(frozen=True)
class Term:
    """A group of claims that enter the likelihood together."""

    kind: str  # "annual", "period", "cumulative", "soft", "time"
    column: str  # "total", "female", "male", or a soft quantity
    years: np.ndarray  # year indices (from 1990) the term reads
    when: float  # instant for cumulative terms
    mu: np.ndarray  # log centre of each claim (a mixture for soft terms)
    sd: np.ndarray  # log spread of each claim (0 where the calibrated sigma_arrivals is used)
    ids: tuple[str, ...]
    weight: float = 1.0  # tempering of claims that repeat a figure other claims give


class Targets:
    """The record up to ``until`` as likelihood terms.

    >>> t = Targets(2011)
    >>> sorted({term.kind for term in t.terms})
    ['annual', 'cumulative', 'period', 'soft', 'time']
    """

    def __init__(self, until: int, claims: list[Claim] | None = None, *, soft: bool = True):
        self.until = until
        self.claims = load_evidence() if claims is None else claims
        self.terms: list[Term] = []
        by_year: dict[tuple[str, int], list[Claim]] = {}
        for c in self.claims:
            if c.use != "target" or c.end > until + 1:
                continue
            if c.quantity in ("arrivals", "arrivals_female", "arrivals_male"):
                column = {"arrivals": "total", "arrivals_female": "female", "arrivals_male": "male"}[c.quantity]
                years = np.array([y - _FIRST_YEAR for y in c.years])
                if c.id.startswith("A") and c.quantity == "arrivals" and self._has_sex(c):
                    continue  # the sexes carry this year; the total would count it twice
                kind = "annual" if len(years) == 1 else "period"
                self.terms.append(Term(kind, column, years, c.end, np.array([np.log(c.value)]), np.zeros(1), (c.id,)))
            elif c.quantity.startswith("cumulative_arrivals"):
                column = {"cumulative_arrivals": "total", "cumulative_arrivals_female": "female",
                          "cumulative_arrivals_male": "male"}[c.quantity]
                self.terms.append(
                    Term("cumulative", column, np.array([], int), c.end, np.array([np.log(c.value)]),
                         np.zeros(1), (c.id,))
                )
            elif soft and c.quantity in ("hiding_in_china", "deported_from_china"):
                by_year.setdefault((c.quantity, int(c.start)), []).append(c)
            elif c.quantity == "time_abroad":
                self.terms.append(
                    Term("time", "time_abroad", np.array([int(c.start) - _FIRST_YEAR]), c.end,
                         np.array([np.log(c.value)]), np.array([TIME_SIGMA]), (c.id,))
                )
        repeats: dict[tuple[str, float], int] = {}
        for group in by_year.values():
            for c in group:
                repeats[(c.quantity, c.central)] = repeats.get((c.quantity, c.central), 0) + 1
        for (quantity, year), group in sorted(by_year.items()):
            ranges = [_range(c) for c in group]
            mu = np.array([r[0] for r in ranges])
            sd = np.sqrt(SOFT_SIGMA**2 + np.array([r[1] for r in ranges]) ** 2)
            weight = float(np.mean([1.0 / repeats[(c.quantity, c.central)] for c in group]))
            self.terms.append(
                Term("soft", quantity, np.array([year - _FIRST_YEAR]), year + 1.0, mu, sd, tuple(c.id for c in group),
                     weight)
            )

    def _has_sex(self, claim: Claim) -> bool:
        year = int(claim.start)
        return any(
            c.id.startswith("A") and int(c.start) == year and c.quantity != "arrivals" for c in self.claims
        )

    @property
    def annual_count(self) -> int:
        return sum(len(t.years) for t in self.terms if t.kind in ("annual", "period"))

    def log_likelihood(self, sims: np.ndarray, sigma: np.ndarray) -> np.ndarray:
        """Log-likelihood of each member, ``sims`` ``(members, years, COLUMNS)``, ``sigma`` ``(members,)``."""
        members = sims.shape[0]
        total, female = sims[..., 0], sims[..., 1]
        series = {"total": total, "female": female, "male": total - female,
                  "hiding_in_china": sims[..., 2], "deported_from_china": sims[..., 3], "time_abroad": sims[..., 4]}
        start = {"total": _INITIAL_SOUTH.sum(), "female": _INITIAL_SOUTH[0], "male": _INITIAL_SOUTH[1]}
        out = np.zeros(members)
        sigma = np.asarray(sigma, dtype=float)
        for term in self.terms:
            values = series[term.column]
            if term.kind in ("annual", "period"):
                model = values[:, term.years].sum(axis=1)
                z = (term.mu[0] - np.log(np.maximum(model, 1e-9))) / sigma
                out += -0.5 * z**2 - np.log(sigma) - _HALF_LOG_2PI
            elif term.kind == "cumulative":
                model = _cumulative(values, term.when) + start[term.column]
                z = (term.mu[0] - np.log(np.maximum(model, 1e-9))) / sigma
                out += -0.5 * z**2 - np.log(sigma) - _HALF_LOG_2PI
            elif term.kind == "time":
                z = (term.mu[0] - np.log(np.maximum(values[:, term.years[0]], 1e-3))) / term.sd[0]
                out += -0.5 * z**2 - np.log(term.sd[0]) - _HALF_LOG_2PI
            else:
                model = np.log(np.maximum(values[:, term.years[0]], 1e-9))[:, None]
                z = (model - term.mu[None, :]) / term.sd[None, :]
                mixture = logsumexp(-0.5 * z**2 - np.log(term.sd)[None, :], axis=1) - np.log(len(term.mu))
                out += term.weight * (mixture - _HALF_LOG_2PI)
        return np.where(np.isfinite(out), out, -np.inf)


def _cumulative(values: np.ndarray, when: float) -> np.ndarray:
    """People who arrived from 1990 up to the instant ``when``, spreading each year evenly."""
    year = int(np.floor(when)) - _FIRST_YEAR
    years = values.shape[1]
    done = values[:, : min(year, years)].sum(axis=1)
    if 0 <= year < years:
        done = done + values[:, year] * (when - np.floor(when))
    return done

