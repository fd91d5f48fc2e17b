"""What a calibration says: posterior predictive against the record, fit error, hold-out error,
the posterior of each parameter, and estimates of people hiding in China.

The predictive distribution of an annual count is the model's value times the
calibrated log-normal spread (``sigma_arrivals``), so its bands are those the
record is expected to fall in, not only the spread of the model's mean path.
The hidden stock in China has no such noise: it is the model's own state.

Fit error is the mean absolute percentage error (MAPE) of the predictive
median against the record's annual totals, over the years with a single-year
record (1995 on): in-sample up to the cut-off year, hold-out after it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ....store import check_sealed, seal_folder
from ..evidence import arrivals, load_evidence, record_end
from .likelihood import COLUMNS, ONE_SIDED, simulate_posterior
from .posterior import Posterior
from .priors import OBSERVATION, parameter_space
from .sampler import FILES

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
#: A parameter whose posterior keeps this share of its prior's spread or more is reported as prior-only:
#: the record has not informed it, and its posterior is a statement about the prior.
PRIOR_ONLY = 0.75
FIRST_SCORED_YEAR = 1995
LAST_YEAR = record_end()


@dataclass(frozen=True)
class Predictive:
    """Posterior predictive draws by year: ``values[variable]`` is ``(draws, years)``."""

    years: np.ndarray
    values: dict[str, np.ndarray]

    def quantiles(self, variable: str) -> pd.DataFrame:
        q = np.quantile(self.values[variable], QUANTILES, axis=0).T
        return pd.DataFrame(q, index=pd.Index(self.years, name="year"),
                            columns=[f"q{round(x * 100):02d}" for x in QUANTILES])


def predictive(posterior: Posterior, *, until: int = LAST_YEAR, draws: int = 1000, seed: int = 0) -> Predictive:
    """Simulate ``draws`` posterior samples to ``until`` and add the observation spread to annual arrivals."""
    rng = np.random.default_rng(seed)
    rows = posterior.rows(draws, seed)
    sims = simulate_posterior(posterior, rows, until, seed=seed)
    sigma = posterior.spread(rows)[:, None]
    total, female = sims[..., COLUMNS.index("arrivals")], sims[..., COLUMNS.index("arrivals_female")]
    male = total - female

    def noisy(x):
        return x * np.exp(sigma * rng.standard_normal(x.shape))

    female_obs, male_obs = noisy(female), noisy(male)
    values = {
        "arrivals": noisy(total),
        "arrivals_female": female_obs,
        "arrivals_male": male_obs,
        "arrivals_model": total,
        "female_model": female,
        "hiding_in_china": sims[..., COLUMNS.index("hiding_in_china")],
        "deported_from_china": sims[..., COLUMNS.index("deported_from_china")],
        "time_abroad": sims[..., COLUMNS.index("time_abroad")],
    }
    return Predictive(np.arange(1990, until + 1), values)


def fit_table(pred: Predictive, until: int) -> pd.DataFrame:
    """Per year: record, predictive quantiles, absolute % error of the median, inside the 50%/90% bands."""
    record = arrivals()
    frames = []
    for variable, column in (("arrivals", "total"), ("arrivals_female", "female"), ("arrivals_male", "male")):
        q = pred.quantiles(variable)
        q["record"] = record[column].reindex(q.index)
        q["variable"] = variable
        frames.append(q)
    table = pd.concat(frames).reset_index()
    table = table[table["year"] >= FIRST_SCORED_YEAR].dropna(subset=["record"])
    table["ape"] = (table["q50"] - table["record"]).abs() / table["record"] * 100
    table["in50"] = (table["record"] >= table["q25"]) & (table["record"] <= table["q75"])
    table["in90"] = (table["record"] >= table["q05"]) & (table["record"] <= table["q95"])
    table["sample"] = np.where(table["year"] <= until, "in-sample", "hold-out")
    return table[["variable", "year", "sample", "record", "q05", "q25", "q50", "q75", "q95", "ape", "in50", "in90"]]


#: what the years after a calibration's cut-off are: not a forecast (``refuge backtest`` makes those)
CONDITIONAL = ("a projection given the drivers' history after the cut-off (the policies and events dated "
               "there), not a forecast; refuge backtest forecasts blind")


def fit_summary(table: pd.DataFrame, pred: Predictive | None = None) -> dict:
    """MAPE of the median and band coverage of annual total arrivals, in-sample and hold-out.

    With ``pred``, also what the record says beyond totals: the years the
    median female share is within 5 points of the record's (the hold-out years
    apart), and the mean time abroad of each surveyed year's arrivals beside the
    survey (EVIDENCE.md §4c).
    """
    out = {}
    totals = table[table["variable"] == "arrivals"]
    for sample, part in totals.groupby("sample"):
        out[sample] = {
            "years": f"{int(part['year'].min())}-{int(part['year'].max())}",
            "n_years": len(part),
            "mape_median_pct": round(float(part["ape"].mean()), 1),
            "years_in_90pct_band": int(part["in90"].sum()),
            "years_in_50pct_band": int(part["in50"].sum()),
        }
        if sample == "in-sample":
            record = part.set_index("year")["record"]
            out[sample]["smooth_reference_mape_pct"] = round(smooth_reference_mape(record), 1)
        else:
            out[sample]["conditional"] = CONDITIONAL
    for variable in ("arrivals_female", "arrivals_male"):
        part = table[(table["variable"] == variable) & (table["sample"] == "in-sample")]
        if len(part):
            out[f"{variable}_in_sample_mape_pct"] = round(float(part["ape"].mean()), 1)
    if pred is not None:
        until = int(table.loc[table["sample"] == "in-sample", "year"].max())
        out["female_share"] = female_share_fit(pred, until)
        out["time_abroad"] = time_abroad_fit(pred)
        out["time_abroad_range"] = time_abroad_range(pred)
    return out


def smooth_reference_mape(record: pd.Series) -> float:
    """MAPE of the record's own centred three-year geometric mean (two years at either end) against the record.

    A yardstick for the model's in-sample MAPE: a path as smooth as a three-year
    mean misses a record that dips and jumps from one year to the next by this
    much even when drawn through the record itself, so a lower MAPE asks the
    model to explain single years, not to follow the trend better.
    """
    logs = np.log(record.sort_index().to_numpy(dtype=float))
    padded = np.concatenate([[np.nan], logs, [np.nan]])
    smooth = np.exp(np.nanmean(np.stack([padded[:-2], padded[1:-1], padded[2:]]), axis=0))
    return float(np.mean(np.abs(smooth - np.exp(logs)) / np.exp(logs)) * 100)


def female_share_fit(pred: Predictive, until: int) -> dict:
    """Years up to ``until`` whose median modelled female share of arrivals is within 5 points of the record's;
    the years after it the same way under ``hold-out``."""
    record = arrivals()
    known = [y for y in pred.years if y in record.index and record.loc[y, "total"] > 0
             and np.isfinite(record.loc[y, "female"])]  # fmt: skip
    out = _share_within(pred, record, [y for y in known if y <= until])
    later = [y for y in known if y > until]
    if later:
        out["hold-out"] = _share_within(pred, record, later)
    return out


def _share_within(pred: Predictive, record: pd.DataFrame, years: list[int]) -> dict:
    index = [int(np.searchsorted(pred.years, y)) for y in years]
    model = pred.values["arrivals_model"][:, index]
    share = np.median(np.where(model > 0, pred.values["female_model"][:, index] / np.maximum(model, 1e-9), np.nan),
                      axis=0)  # fmt: skip
    seen = np.array([record.loc[y, "female"] / record.loc[y, "total"] for y in years])
    within = np.abs(share - seen) <= 0.05
    misses = [int(y) for y, ok in zip(years, within, strict=True) if not ok]
    return {"years": f"{years[0]}-{years[-1]}" if years else "", "n_years": len(years),
            "within_5_points": int(within.sum()), "misses": misses}  # fmt: skip


def time_abroad_fit(pred: Predictive) -> list[dict]:
    """Each survey of time abroad before arrival beside the model's median and 90% interval for that year."""
    rows = []
    for claim in load_evidence():
        year = int(claim.start)
        if claim.quantity != "time_abroad" or year not in pred.years:
            continue
        q = np.quantile(pred.values["time_abroad"][:, int(np.searchsorted(pred.years, year))], (0.05, 0.5, 0.95))
        rows.append({"year": year, "survey_years": claim.value, "median": round(float(q[1]), 2),
                     "q05": round(float(q[0]), 2), "q95": round(float(q[2]), 2),
                     "inside_90pct": bool(q[0] <= claim.value <= q[2])})  # fmt: skip
    return rows


def time_abroad_range(pred: Predictive) -> dict:
    """The model's median time abroad in every year the surveys span, against the range the surveys give (the
    goal read as "inside the evidence's range"; :func:`time_abroad_fit` reads it survey by survey)."""
    surveys = [c for c in load_evidence() if c.quantity == "time_abroad"]
    first, last = min(int(c.start) for c in surveys), max(int(c.start) for c in surveys)
    low, high = min(c.value for c in surveys), max(c.value for c in surveys)
    years = [y for y in range(first, last + 1) if y in pred.years]
    medians = np.median(pred.values["time_abroad"][:, np.searchsorted(pred.years, years)], axis=0)
    return {"years": f"{first}-{last}", "surveys_range": [low, high], "n_years": len(years),
            "median_range": [round(float(medians.min()), 2), round(float(medians.max()), 2)],
            "years_inside": int(((medians >= low) & (medians <= high)).sum())}  # fmt: skip


def parameter_table(posterior: Posterior) -> pd.DataFrame:
    """Posterior quantiles of each parameter beside its prior and the hand-set default."""
    from .. import north_korea

    model = north_korea()
    space = parameter_space()
    rows = []
    for name, prior in zip(space.names, space.priors, strict=True):
        if name not in posterior.samples:
            continue
        q = np.quantile(posterior.samples[name], QUANTILES)
        default = model.parameter(name).value if name not in OBSERVATION else np.nan
        values = posterior.samples[name].to_numpy(float)
        internal = np.log(values) if prior.log else values
        low, high = (np.log(prior.low), np.log(prior.high)) if prior.log else (prior.low, prior.high)
        prior_sd = (high - low) / np.sqrt(12.0)  # a uniform prior's spread, in the sampler's coordinates
        edge = 0.05 * (high - low)
        rows.append({"parameter": name, "prior_low": prior.low, "prior_high": prior.high,
                     "prior_scale": "log" if prior.log else "linear", "default": default,
                     **{f"q{round(x * 100):02d}": v for x, v in zip(QUANTILES, q, strict=True)},
                     "sd_over_prior_sd": float(np.std(internal) / prior_sd),
                     "share_at_bounds": float(np.mean((internal < low + edge) | (internal > high - edge))),
                     "informed": "prior-only" if np.std(internal) >= PRIOR_ONLY * prior_sd else "by the record"})
    return pd.DataFrame(rows)


def hiding_estimate(pred: Predictive, first: int = 1995, last: int = LAST_YEAR) -> pd.DataFrame:
    """People hiding in China at each year's end: posterior median with 50% and 90% intervals."""
    q = pred.quantiles("hiding_in_china")
    return q.loc[first:last]


def published_hiding_claims() -> pd.DataFrame:
    """The published estimates and the seeds' claims of people hiding in China, for display beside the estimate."""
    rows = []
    for c in load_evidence():
        if c.quantity != "hiding_in_china":
            continue
        rows.append({"id": c.id, "year": int(c.start), "value": c.value, "low": c.low, "high": c.high,
                     "origin": c.origin, "use": c.use, "source": c.source, "quote": c.quote})
    return pd.DataFrame(rows)


# -- plots -----------------------------------------------------------------------------


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def mark_record_end(ax) -> None:
    from ....plots import mark_record_end as mark

    mark(ax, record_end())


def plot_predictive(pred: Predictive, until: int, path: Path, title: str = "") -> Path:
    """Arrivals (total, women, men) with 50% and 90% predictive bands against the record."""
    plt = _pyplot()
    record = arrivals()
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2), sharex=True)
    for ax, (variable, column, label) in zip(
        axes, (("arrivals", "total", "all arrivals"), ("arrivals_female", "female", "women"),
               ("arrivals_male", "male", "men")), strict=True
    ):
        q = pred.quantiles(variable)
        ax.fill_between(q.index, q["q05"], q["q95"], color="tab:blue", alpha=0.2, label="90% predictive interval")
        ax.fill_between(q.index, q["q25"], q["q75"], color="tab:blue", alpha=0.4, label="50% predictive interval")
        ax.plot(q.index, q["q50"], color="tab:blue", label="median")
        obs = record[column].dropna()
        inside = obs.index <= until
        ax.plot(obs.index[inside], obs[inside], "ko", ms=4, label="record (fitted)")
        if (~inside).any():
            ax.plot(obs.index[~inside], obs[~inside], "o", mfc="white", mec="crimson", ms=5, label="record (held out)")
        ax.axvline(until + 0.5, color="grey", ls=":", lw=1, label=f"calibrated to {until}")
        mark_record_end(ax)
        ax.set_title(f"{label}, South Korea arrivals")
        ax.set_xlim(1994.5, pred.years.max() + 1.0)
        ax.set_ylim(bottom=0)
    axes[0].legend(fontsize=8, loc="upper left")
    fig.suptitle(title or f"Posterior predictive, calibrated to {until}"
                 + (f"; after {until}, conditional on the drivers' history" if until < pred.years[-1] else ""))
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_parameters(posterior: Posterior, path: Path) -> Path:
    """A histogram of each parameter's posterior over its prior range (log axis for log priors), its hand-set
    default marked."""
    from matplotlib.ticker import NullFormatter

    from .. import north_korea

    plt = _pyplot()
    model = north_korea()
    space = parameter_space()
    names = [n for n in space.names if n in posterior.samples]
    cols = 4
    rows = int(np.ceil(len(names) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(14, 2.6 * rows))
    for ax, name in zip(axes.flat, names, strict=False):
        prior = space.priors[space.names.index(name)]
        values = posterior.samples[name].to_numpy(float)
        if prior.log:
            bins = np.geomspace(prior.low, prior.high, 40)
            ax.set_xscale("log")
        else:
            bins = np.linspace(prior.low, prior.high, 40)
        ax.hist(values, bins=bins, color="tab:blue", alpha=0.8)
        if name not in OBSERVATION:
            ax.axvline(model.parameter(name).value, color="black", ls="--", lw=1)
        ax.set_xlim(prior.low, prior.high)
        ax.xaxis.set_minor_formatter(NullFormatter())  # a log axis labels its decades only: no overlapping labels
        ax.set_title(name, fontsize=9)
        ax.set_yticks([])
    for ax in list(axes.flat)[len(names):]:
        ax.axis("off")
    fig.suptitle("Posterior of each calibrated parameter (x axis: its prior range; dashed: the hand-set default)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def plot_hiding(estimate: pd.DataFrame, claims: pd.DataFrame, path: Path) -> Path:
    """The posterior of people hiding in China, with published estimates and the seeds' claims."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(10, 5))
    x = estimate.index
    ax.fill_between(x, estimate["q05"], estimate["q95"], color="tab:green", alpha=0.2, label="90% interval")
    ax.fill_between(x, estimate["q25"], estimate["q75"], color="tab:green", alpha=0.4, label="50% interval")
    ax.plot(estimate.index, estimate["q50"], color="tab:green", label="posterior median")
    for origin, marker, color in (("record", "s", "black"), ("seed", "D", "crimson")):
        part = claims[claims["origin"] == origin]
        jitter = np.linspace(-0.25, 0.25, max(len(part), 1))
        for (_, c), dx in zip(part.iterrows(), jitter, strict=False):
            x = c["year"] + dx
            low = c["low"] if pd.notna(c["low"]) else None
            high = c["high"] if pd.notna(c["high"]) else None
            if low is not None or high is not None:  # one-sided claims drawn as the likelihood reads them
                low = low if low is not None else high / ONE_SIDED
                high = high if high is not None else low * ONE_SIDED
                ax.vlines(x, low, high, color=color, alpha=0.6, lw=1.5)
            value = c["value"] if pd.notna(c["value"]) else (high or low)
            ax.plot(x, value, marker, color=color, mfc="white" if c["use"] == "context" else color, ms=5)
    ax.plot([], [], "s", color="black", label="published estimates (range as a line; 'up to' a factor 3 below)")
    ax.plot([], [], "s", color="black", mfc="white", label="published, not fitted (partial or known-only counts)")
    ax.plot([], [], "D", color="crimson", mfc="white", label="seeds' claims (not fitted)")
    mark_record_end(ax)
    ax.set_yscale("log")
    ax.set_ylim(1e3, 1e6)  # room above "up to 500,000" (2023)
    ax.set_xlim(estimate.index.min() - 0.5, estimate.index.max() + 0.5)
    ax.set_ylabel("people hiding in China (log scale)")
    ax.set_title("North Koreans hiding in China: posterior against published estimates")
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def write_report(posterior: Posterior, out: Path, until: int, *, draws: int = 1000, seed: int = 0) -> dict:
    """Write the posterior-predictive plot, fit tables, parameter table and plot, and the hiding estimate; in a
    calibration's folder, seal what it wrote (:func:`refuge.store.seal_folder`)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    check_sealed(out)
    pred = predictive(posterior, until=LAST_YEAR, draws=draws, seed=seed)
    table = fit_table(pred, until)
    summary = fit_summary(table, pred)
    table.to_csv(out / "fit.csv", index=False, float_format="%.1f")
    (out / "fit_summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    plot_predictive(pred, until, out / "predictive.png")
    parameter_table(posterior).to_csv(out / "parameters.csv", index=False, float_format="%.4g")
    plot_parameters(posterior, out / "parameters.png")
    estimate = hiding_estimate(pred)
    estimate.round(0).to_csv(out / "hiding_in_china.csv")
    plot_hiding(estimate, published_hiding_claims(), out / "hiding_in_china.png")
    seal_folder(out, FILES)
    return summary
