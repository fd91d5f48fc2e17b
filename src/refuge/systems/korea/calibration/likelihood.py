"""The likelihood of the record given the model: targets, the simulator over a batch, the log-likelihood.

Targets, all from :mod:`refuge.systems.korea.evidence`, up to a cut-off year:

1. annual arrivals in the South, by sex where the record splits them (2001 on),
   the total otherwise (1995-2000), and the 1990-1994 combined total: log-normal
   around the model, spread ``sigma_arrivals`` (calibrated), with the route's
   permeability and the ratio of women to men it carries latent walks
   integrated out by a Kalman filter (:mod:`refuge.systems.korea.calibration.latent`);
2. the sex split of the cumulative totals at end-1998 and end-2001 (831 men
   and 116 women; 1,395 and 595): the log ratio of women to men, normal with
   spread ``sigma_arrivals`` times the square root of 2 (the difference of two
   log-normal counts). They are what the 1990s record says of the sexes; their
   totals are sums of the annual record, so only the ratio is counted;
3. soft, wide evidence: people hiding in China and deportations from China.
   The claims about one quantity in one year are a mixture (the truth is near
   one of them, we do not know which), each a log-normal as wide as its stated
   range plus :data:`SOFT_SIGMA`. One-sided claims ("up to 200,000") cover a
   factor of three below (or above) their bound. Claims that repeat the same
   figure (the second-hand "100,000" printed by outlet after outlet and year
   after year) are one piece of evidence, not several: a claim that repeats
   another's figure names it (``repeats`` in ``evidence.csv``), and each of the
   ``k`` claims giving one estimate enters with weight ``1/k`` (a tempered
   likelihood; a year's mixture with the mean weight of its claims), so
   together they count once;
4. time abroad before arrival (EVIDENCE.md §4c: surveys of a year's arrivals):
   log-normal around the model's mean time abroad of that year's arrivals,
   spread :data:`TIME_SIGMA`; the latent walks move it (a more open pipeline
   brings people through faster), so the filter reads it too.

The simulator is the ``mean`` backend, vectorised over members: one call
evaluates a whole batch of parameter sets, each at two permeabilities.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
from scipy.special import logsumexp

from ....errors import DataError
from ....model.timeline import Timeline
from .. import INITIAL
from ..drivers import LATENT, ROUTE_PERMEABILITY
from ..evidence import Claim, load_evidence
from .latent import LOADINGS, Filtered, Observation, filter_paths

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
_BOTH = np.stack([LOADINGS["female"], LOADINGS["male"]])


def simulate_batch(values: dict[str, np.ndarray], until: int, blind: int | None = None,
                   paths: dict[str, np.ndarray] | None = None) -> np.ndarray:
    """Run the mean backend for a batch of parameter sets; ``(members, years, COLUMNS)``, years 1990..until.

    ``blind``: the drivers know nothing dated after that year (see :func:`refuge.systems.korea.blind_model`).
    ``paths``: latent drivers by member and year, ``{driver: (members, years)}`` (1 without them).
    """
    from ....simulation import run
    from .. import blind_model, north_korea

    members = len(next(iter(values.values())))
    model = north_korea() if blind is None else blind_model(blind)
    res = run(
        "baseline", members=members, seed=0, backend="mean", timeline=Timeline(_FIRST_YEAR, until),
        parameters=values, block=members, calibrated=False, model=model, paths=paths,
    )
    out = res.outputs().sel(
        variable=["arrivals_south_korea", "arrivals_south_korea_female", "hiding_in_china", "deported_from_china",
                  "time_abroad"]
    )
    return np.nan_to_num(np.asarray(out.values, dtype=float))


def simulate_posterior(posterior, rows: np.ndarray, until: int, blind: int | None = None,
                       seed: int = 0) -> np.ndarray:
    """The posterior samples ``rows`` run to ``until`` on their latent paths, ``(len(rows), years, COLUMNS)``.

    After the years the calibration saw, each path goes on by its walk
    (each draw from its own stream), so a forecast does not know the route's future.
    """
    from ....backends.random import member_keys

    timeline = Timeline(_FIRST_YEAR, until)
    paths = posterior.paths(rows, member_keys(seed, len(rows)), timeline)
    return simulate_batch(posterior.parameters(rows), until, blind, paths or None)


def latent_paths(x: np.ndarray) -> dict[str, np.ndarray]:
    """The latent drivers' values from their logarithms ``x`` ``(members, years, dims)``."""
    return {name: np.exp(x[..., k]) for k, name in enumerate(LATENT)}


#: The second run of the split multiplies the route's permeability by this: a small step, so that ``b`` is the
#: model's slope at the paths (a tangent). A secant to twice the permeability overstated it where kin-funded
#: escapes compound (they grow with the settled, who grow with arrivals): the slow part was clipped to zero in
#: 40-65% of the posterior's samples in 2011-2019, and the paths drawn did not give the record when the full
#: model ran on them (``docs/calibration.md``, section 2a).
PROBE = 1.05


def simulate_routes(values: dict[str, np.ndarray], until: int, blind: int | None = None,
                    centre: np.ndarray | None = None) -> np.ndarray:
    """The batch on latent paths and with their permeability times :data:`PROBE`, in one run.

    Returns ``(members, years, COLUMNS, 2)`` (see :func:`split_routes`); the
    paths are ``centre`` (logarithms, ``(members, years, dims)``), or 0 throughout.
    """
    members = len(next(iter(values.values())))
    years = until - _FIRST_YEAR + 1
    doubled = {k: np.concatenate([v, v]) for k, v in values.items()}
    x = np.zeros((members, years, len(LATENT))) if centre is None else centre
    probed = x.copy()
    probed[..., LATENT.index(ROUTE_PERMEABILITY)] += np.log(PROBE)
    sims = simulate_batch(doubled, until, blind, latent_paths(np.concatenate([x, probed])))
    return np.stack([sims[:members], sims[members:]], axis=-1)


def split_routes(sims: np.ndarray, centre: np.ndarray | None = None) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Arrivals by sex as ``a + b exp(c . x)`` (see :mod:`.latent`), and their person-years abroad.

    The runs on the paths ``centre`` and at :data:`PROBE` times their permeability
    give ``b exp(c . centre) = (A2 - A1) / (PROBE - 1)``: the linearisation about the paths the runs
    took (0 without ``centre``). Person-years abroad split between the sexes
    of the pipeline as its arrivals do (the pipeline moves women and men alike).
    """

    def slope(one, two):
        return np.maximum(two - one, 0.0) / (PROBE - 1.0)

    def parts(one, two, sex):
        b = slope(one, two)
        scale = 1.0 if centre is None else np.exp(-centre @ LOADINGS[sex])
        return np.maximum(one - b, 0.0), b * scale

    female = parts(sims[..., 1, 0], sims[..., 1, 1], "female")
    male = parts(sims[..., 0, 0] - sims[..., 1, 0], sims[..., 0, 1] - sims[..., 1, 1], "male")
    years_one, years_two = sims[..., 4, 0] * sims[..., 0, 0], sims[..., 4, 1] * sims[..., 0, 1]
    pipeline = slope(years_one, years_two)
    total_b = female[1] + male[1]
    share = np.divide(female[1], total_b, out=np.full_like(total_b, 0.5), where=total_b > 0)
    time_b = np.stack([pipeline * share, pipeline * (1.0 - share)], axis=-1)
    if centre is not None:
        time_b = time_b * np.exp(-centre @ np.stack([LOADINGS["female"], LOADINGS["male"]]).T)
    return {"female": female, "male": male, "time": (np.maximum(years_one - pipeline, 0.0), time_b)}


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

    kind: str  # "annual", "period", "split", "soft", "time"
    column: str  # "total", "female", "male", or a soft quantity
    years: np.ndarray  # year indices (from 1990) the term reads
    when: float  # instant for a split of cumulative totals
    mu: np.ndarray  # log centre of each claim (a mixture for soft terms)
    sd: np.ndarray  # log spread of each claim (0 where the calibrated sigma_arrivals is used)
    ids: tuple[str, ...]
    weight: float = 1.0  # tempering of claims that repeat a figure other claims give


class Targets:
    """The record up to ``until`` as likelihood terms.

    >>> t = Targets(2011)
    >>> sorted({term.kind for term in t.terms})
    ['annual', 'period', 'soft', 'split', 'time']
    """

    first_year = _FIRST_YEAR

    def __init__(self, until: int, claims: list[Claim] | None = None, *, soft: bool = True):
        self.until = until
        self.claims = load_evidence() if claims is None else claims
        self.terms: list[Term] = []
        by_year: dict[tuple[str, int], list[Claim]] = {}
        splits: dict[float, dict[str, Claim]] = {}
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
            elif c.quantity in ("cumulative_arrivals_female", "cumulative_arrivals_male"):
                splits.setdefault(c.end, {})[c.quantity.removeprefix("cumulative_arrivals_")] = c
            elif soft and c.quantity in ("hiding_in_china", "deported_from_china"):
                by_year.setdefault((c.quantity, int(c.start)), []).append(c)
            elif c.quantity == "time_abroad":
                self.terms.append(
                    Term("time", "time_abroad", np.array([int(c.start) - _FIRST_YEAR]), c.end,
                         np.array([np.log(c.value)]), np.array([TIME_SIGMA]), (c.id,))
                )
        for when, sexes in sorted(splits.items()):
            if set(sexes) != {"female", "male"}:
                raise DataError(f"the claims give one sex's cumulative total at {when:g} ({sexes.popitem()[1].id}) "
                                "without the other's; allowed: both, whose ratio is fitted")  # fmt: skip
            women, men = sexes["female"], sexes["male"]
            self.terms.append(Term("split", "female", np.array([], int), when,
                                   np.array([np.log(women.value / men.value)]), np.zeros(1), (women.id, men.id)))
        lineages = Counter(c.lineage for group in by_year.values() for c in group)
        for (quantity, year), group in sorted(by_year.items()):
            ranges = [_range(c) for c in group]
            mu = np.array([r[0] for r in ranges])
            sd = np.sqrt(SOFT_SIGMA**2 + np.array([r[1] for r in ranges]) ** 2)
            weight = float(np.mean([1.0 / lineages[c.lineage] for c in group]))
            self.terms.append(
                Term("soft", quantity, np.array([year - _FIRST_YEAR]), year + 1.0, mu, sd, tuple(c.id for c in group),
                     weight)
            )

    def _has_sex(self, claim: Claim) -> bool:
        year = int(claim.start)
        return any(
            c.id.startswith("A") and int(c.start) == year and c.quantity != "arrivals" for c in self.claims
        )

    def observations(self, sims: np.ndarray, sigma: np.ndarray, centre: np.ndarray | None = None) -> list[Observation]:
        """The annual record and the time-abroad surveys as observations of the latent walks (``centre``: see
        :func:`split_routes`)."""
        routes = split_routes(sims, centre)
        sexes = {"total": ("female", "male"), "female": ("female",), "male": ("male",)}
        out = []
        for term in self.terms:
            if term.kind in ("annual", "period"):
                years, parts = term.years, sexes[term.column]
                a = sum(routes[x][0][:, years].sum(axis=1) for x in parts)
                b = np.stack([routes[x][1][:, years].sum(axis=1) for x in parts], axis=-1)
                loading = np.stack([LOADINGS[x] for x in parts])
                out.append(Observation(int(years.max()), float(term.mu[0]), sigma, a, b, loading))
            elif term.kind == "time":
                t = int(term.years[0])
                a = routes["female"][0][:, t] + routes["male"][0][:, t]
                b = np.stack([routes["female"][1][:, t], routes["male"][1][:, t]], axis=-1)
                spent_a, spent_b = routes["time"]
                out.append(Observation(t, float(term.mu[0]), float(term.sd[0]), a, b, _BOTH,
                                       (spent_a[:, t], spent_b[:, t])))
        return out

    def filtered(self, sims: np.ndarray, sigma: np.ndarray, steps: np.ndarray, persistence: np.ndarray,
                 level: np.ndarray, centre: np.ndarray | None = None) -> Filtered:
        """The latent walks given the record, per member (``sims`` from :func:`simulate_routes` about ``centre``;
        ``steps``, ``persistence`` and ``level`` ``(members, dims)``)."""
        sigma = np.asarray(sigma, dtype=float)
        return filter_paths(self.observations(sims, sigma, centre), sims.shape[0], sims.shape[1], steps,
                            persistence, level)  # fmt: skip

    def log_likelihood(self, sims: np.ndarray, sigma: np.ndarray, steps: np.ndarray,
                       persistence: np.ndarray, level: np.ndarray) -> np.ndarray:  # fmt: skip
        """Log-likelihood per member: ``sims`` ``(members, years, COLUMNS, 2)``; ``sigma`` ``(members,)``,
        ``steps``, ``persistence`` and ``level`` ``(members, dims)``.

        The annual record and time abroad enter through the filter, with the
        walks integrated out; the other terms read the run at permeability 1,
        which the walks do not change (see :mod:`refuge.systems.korea.calibration.latent`).
        """
        sigma = np.asarray(sigma, dtype=float)
        out = self.filtered(sims, sigma, steps, persistence, level).log_likelihood
        base = sims[..., 0]
        total, female = base[..., 0], base[..., 1]
        series = {"total": total, "female": female, "male": total - female,
                  "hiding_in_china": base[..., 2], "deported_from_china": base[..., 3]}
        start = {"total": _INITIAL_SOUTH.sum(), "female": _INITIAL_SOUTH[0], "male": _INITIAL_SOUTH[1]}
        for term in self.terms:
            values = series.get(term.column)
            if term.kind == "split":
                women = _cumulative(series["female"], term.when) + start["female"]
                men = _cumulative(series["male"], term.when) + start["male"]
                spread = sigma * np.sqrt(2.0)
                z = (term.mu[0] - np.log(np.maximum(women, 1e-9) / np.maximum(men, 1e-9))) / spread
                out = out - 0.5 * z**2 - np.log(spread) - _HALF_LOG_2PI
            elif term.kind == "soft":
                model = np.log(np.maximum(values[:, term.years[0]], 1e-9))[:, None]
                z = (model - term.mu[None, :]) / term.sd[None, :]
                mixture = logsumexp(-0.5 * z**2 - np.log(term.sd)[None, :], axis=1) - np.log(len(term.mu))
                out = out + term.weight * (mixture - _HALF_LOG_2PI)
        return np.where(np.isfinite(out), out, -np.inf)


def _cumulative(values: np.ndarray, when: float) -> np.ndarray:
    """People who arrived from 1990 up to the instant ``when``, spreading each year evenly."""
    year = int(np.floor(when)) - _FIRST_YEAR
    years = values.shape[1]
    done = values[:, : min(year, years)].sum(axis=1)
    if 0 <= year < years:
        done = done + values[:, year] * (when - np.floor(when))
    return done

