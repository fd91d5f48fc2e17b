"""Rolling-origin backtest: forecasts made at past origins, scored against what happened, beside naive forecasters.

For each origin (2005, 2008, 2011, 2014, 2019) :func:`backtest`:

1. keeps only the evidence a forecaster had at the end of the origin year:
   claims about years up to the origin, published (where the date is known) by
   then;
2. calibrates the model to it with drivers blind after the origin (no knot
   dated after it; each driver holds its value at the origin, see
   :func:`refuge.systems.korea.blind_model`);
3. forecasts annual arrivals in the South for the next ``horizon`` years (to
   the end of the record at most) as posterior predictive draws (the model's
   value times the calibrated log-normal misfit);
4. scores the draws against the record: CRPS, absolute percentage error of the
   median, whether the record falls in the 50% and 90% intervals, and the 90%
   interval's width; the naive forecasters are scored the same way on the same
   years: ``last`` (the origin's value, a log random walk), ``drift`` (the
   log random walk with the mean log change of the ten years to the origin)
   and ``ets`` (statsmodels' exponential smoothing with a damped additive
   trend on the log counts, simulated).

Rows with ``kind == "forecast"`` are forecasts. Rows with ``kind ==
"conditional"`` are the same posterior run with the drivers as history knows
them (the 2012 crackdown, the 2020 sealing): a projection *given* the later
events, which says what knowing the policy buys, not what could have been
forecast. The naive forecasters know no events; their rows repeat under both
kinds so each table stands alone.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ....errors import RunError
from ....store import claim_folder, remove_claimed, seal_folder
from ..evidence import Claim, arrivals, load_evidence, record_end
from .likelihood import COLUMNS, simulate_posterior
from .posterior import Posterior
from .sampler import Settings, calibrate, check_sampler, identity_of

ORIGINS = (2005, 2008, 2011, 2014, 2019)
#: the first origin: ETS's damped trend is fitted to 1995 to the origin, five years at least
FIRST_ORIGIN = 1999
HORIZON = 5
SCORE_COLUMNS = ("origin", "horizon", "forecaster", "kind", "crps", "ape", "in50", "in90", "width90")
NAIVE = ("last", "drift", "ets")


@dataclass(frozen=True)
class Budget:
    """Sampler budget of each origin's calibration; :meth:`quick` for tests."""

    walkers: int = 36  # twice the 18 sampled parameters, the fewest emcee allows
    chains: int = 2
    steps: int = 60
    screen: int = 800
    refine: int = 2
    draws: int = 400
    sampler: str = "nautilus"  # ``chains`` nested runs of ``live`` points; or "emcee", with the budget above
    live: int = Settings.live

    def __post_init__(self) -> None:
        check_sampler(self.sampler)

    @classmethod
    def quick(cls) -> Budget:
        return cls(walkers=36, chains=1, steps=2, screen=64, refine=0, draws=40, sampler="emcee")


def _calibration(origin: int, budget: Budget, seed: int) -> Settings:
    """The settings of an origin's blind calibration."""
    return Settings(until=origin, sampler=budget.sampler, live=budget.live, walkers=budget.walkers,
                    chains=budget.chains, steps=budget.steps, screen=budget.screen, refine=budget.refine, seed=seed,
                    blind=True)  # fmt: skip


def known_at(origin: int, claims: list[Claim] | None = None) -> list[Claim]:
    """The claims a forecaster had at the end of ``origin``: about years to ``origin``, published by then."""
    claims = load_evidence() if claims is None else claims
    out = []
    for c in claims:
        if c.end > origin + 1:
            continue
        published = c.date[:4]
        if published.isdigit() and int(published) > origin:
            continue
        out.append(c)
    return out


def refuge_forecast(origin: int, posterior: Posterior, years: int, *, blind: bool, draws: int,
                    seed: int = 0) -> np.ndarray:  # fmt: skip
    """Predictive draws of annual arrivals for ``origin + 1 .. origin + years``, ``(draws, years)``."""
    rng = np.random.default_rng([seed, origin, int(blind)])
    rows = rng.integers(0, len(posterior.samples), size=draws)
    sims = simulate_posterior(posterior, rows, origin + years, origin if blind else None, seed)
    total = sims[:, -years:, COLUMNS.index("arrivals")]
    return total * np.exp(posterior.spread(rows)[:, None] * rng.standard_normal(total.shape))


def naive_forecast(name: str, history: pd.Series, years: int, draws: int, seed: int = 0) -> np.ndarray:
    """Draws ``(draws, years)`` of a naive forecaster fitted to ``history`` (annual counts to the origin)."""
    rng = np.random.default_rng([seed, len(history), NAIVE.index(name)])
    logs = np.log(history.to_numpy(float))
    steps = np.diff(logs)[-10:]
    h = np.arange(1, years + 1)
    if name in ("last", "drift"):
        drift = steps.mean() if name == "drift" else 0.0
        sd = np.sqrt(np.mean((steps - drift) ** 2)) if len(steps) else 0.1
        return np.exp(logs[-1] + drift * h + sd * np.sqrt(h) * rng.standard_normal((draws, years)))
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    fit = ETSModel(pd.Series(logs), error="add", trend="add", damped_trend=True).fit(disp=False)
    sims = fit.simulate(years, repetitions=draws, anchor="end", rng=rng)
    return np.exp(np.asarray(sims).T.reshape(draws, years))


def scores(draws: np.ndarray, observed: float) -> dict[str, float]:
    """CRPS (sample estimator), absolute % error of the median, 50%/90% coverage and the 90% width."""
    x = np.sort(draws)
    n = len(x)
    crps = np.mean(np.abs(x - observed)) - np.sum((2 * np.arange(1, n + 1) - n - 1) * x) / n**2
    q05, q25, q50, q75, q95 = np.quantile(x, [0.05, 0.25, 0.5, 0.75, 0.95])
    return {"crps": float(crps), "ape": float(abs(q50 - observed) / observed * 100),
            "in50": bool(q25 <= observed <= q75), "in90": bool(q05 <= observed <= q95),
            "width90": float(q95 - q05)}  # fmt: skip


def forecast_origin(origin: int, budget: Budget, out: Path, *, claims: list[Claim] | None = None,
                    record: pd.Series | None = None, seed: int = 0, workers: int | None = None,
                    client=None, force: bool = False) -> dict:  # fmt: skip
    """Calibrate at ``origin`` (blind) and return the forecasters' draws ``{(forecaster, kind): (draws, years)}``.

    With a Dask ``client``, the calibration's runs (emcee: search and chains) run on its workers (the same numbers).
    """
    record = arrivals()["total"] if record is None else record
    years = min(HORIZON, record_end() - origin)
    settings = _calibration(origin, budget, seed)
    known = known_at(origin, claims)
    posterior = calibrate(settings, out / f"origin-{origin}", workers=workers, claims=known, client=client,
                          force=force)
    result = {}
    result[("refuge", "forecast")] = refuge_forecast(origin, posterior, years, blind=True, draws=budget.draws,
                                                     seed=seed)
    result[("refuge", "conditional")] = refuge_forecast(origin, posterior, years, blind=False, draws=budget.draws,
                                                        seed=seed)
    history = record.loc[1995:origin].dropna()
    for name in NAIVE:
        draws = naive_forecast(name, history, years, budget.draws, seed)  # as many as refuge's: one estimator's bias
        result[(name, "forecast")] = result[(name, "conditional")] = draws
    return result


#: what a backtest writes into its folder: each origin's calibration, the scores, their summary and plot
FILES = ("origin-*", "scores.csv", "summary.csv", "summary.md", "backtest.png", "report.html")


def backtest(out: Path | str, *, origins: tuple[int, ...] = ORIGINS, budget: Budget = Budget(), seed: int = 0,
             workers: int | None = None, progress=None, client=None, force: bool = False) -> pd.DataFrame:  # fmt: skip
    """Run the rolling-origin backtest; write ``scores.csv``, ``summary.csv``, ``summary.md`` and ``backtest.png``.

    ``out`` must be absent, empty, or a backtest of the same settings; ``force`` replaces one of others
    (:func:`refuge.store.claim_folder`).
    """
    if len(set(origins)) != len(origins):
        raise RunError(f"origins {list(origins)}: an origin is listed twice")
    last = record_end() - 1  # a year of record to score, at least
    bad = [o for o in origins if not FIRST_ORIGIN <= o <= last]
    if bad:
        raise RunError(f"--origins: {bad} not allowed; an origin is a year from {FIRST_ORIGIN} to {last} (the naive "
                       "forecasters fit five years of the record at least, which starts in 1995)")  # fmt: skip
    if not origins:
        raise RunError(f"origins: none given; allowed: years from {FIRST_ORIGIN} to {last}")
    _calibration(origins[0], budget, seed).check()  # a budget or seed refused before the folder is claimed
    # what makes two backtests one: the settings its calibrations read (emcee's steps, which go on, aside)
    settings = {"origins": sorted(origins), "budget": identity_of(asdict(budget)), "seed": seed}
    out = claim_folder(out, "backtest", settings, FILES, force=force)
    for stale in sorted(set(out.glob("origin-*")) - {out / f"origin-{o}" for o in origins}):
        remove_claimed(stale)  # an origin no longer asked for: never mixed with the new ones
    record = arrivals()["total"]
    rows = []
    for i, origin in enumerate(origins):
        forecasts = forecast_origin(origin, budget, out, record=record, seed=seed, workers=workers, client=client,
                                    force=force)
        for (forecaster, kind), draws in forecasts.items():
            for h in range(1, draws.shape[1] + 1):
                rows.append({"origin": origin, "horizon": h, "forecaster": forecaster, "kind": kind,
                             **scores(draws[:, h - 1], float(record[origin + h]))})
        if progress:
            progress(i + 1, len(origins))
    table = pd.DataFrame(rows, columns=list(SCORE_COLUMNS))
    table.to_csv(out / "scores.csv", index=False, float_format="%.6g")
    summary = summarise(table)
    summary.to_csv(out / "summary.csv", index=False, float_format="%.6g")
    (out / "summary.md").write_text(summary_markdown(summary), encoding="utf-8")
    plot(table, out / "backtest.png")
    seal_folder(out, FILES)
    return table


def summarise(table: pd.DataFrame) -> pd.DataFrame:
    """Scores averaged over origins, by kind, forecaster and horizon (in50/in90 as shares of held-out years)."""
    grouped = table.groupby(["kind", "forecaster", "horizon"], sort=True)
    summary = grouped[["crps", "ape", "in50", "in90", "width90"]].mean().reset_index()
    summary["origins"] = grouped.size().to_numpy()
    return summary


def summary_markdown(summary: pd.DataFrame) -> str:
    lines = []
    for kind, title in (("forecast", "Forecasts (blind after the origin)"),
                        ("conditional", "Conditional projections (given the dated events after the origin)")):
        part = summary[summary["kind"] == kind]
        lines += [f"### {title}", "", "| forecaster | horizon | origins | CRPS | APE of median % | in 50% | in 90% "
                  "| width of 90% |", "|---|---|---|---|---|---|---|---|"]
        for _, r in part.iterrows():
            lines.append(f"| {r.forecaster} | {r.horizon} | {r.origins} | {r.crps:,.0f} | {r.ape:.1f} | "
                         f"{r.in50:.0%} | {r.in90:.0%} | {r.width90:,.0f} |")
        lines.append("")
    return "\n".join(lines)


def plot(table: pd.DataFrame, path: Path) -> Path:
    """Mean CRPS by horizon for each forecaster, forecasts and conditional projections side by side."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    summary = summarise(table)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    for ax, kind in zip(axes, ("forecast", "conditional"), strict=True):
        for name, part in summary[summary["kind"] == kind].groupby("forecaster"):
            ax.plot(part["horizon"], part["crps"], "o-", label=name, lw=2.2 if name == "refuge" else 1.2)
        ax.set_title("forecasts (blind after origin)" if kind == "forecast" else "conditional on later events")
        ax.set_xlabel("horizon (years after origin)")
        ax.set_xticks(sorted(summary["horizon"].unique()))  # whole years
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("CRPS, annual arrivals (mean over origins)")
    axes[0].legend(fontsize=8)
    fig.suptitle("Rolling-origin backtest of annual arrivals in the South")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


__all__ = ["ORIGINS", "Budget", "backtest", "forecast_origin", "known_at", "naive_forecast", "scores"]
