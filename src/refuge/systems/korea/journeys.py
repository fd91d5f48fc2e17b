"""Journeys of individual people, from the agents backend's records: what analysts ask of them.

Each record is one move of one person (``Agents(record=True)``): who (member,
person, sex, age, kin), when (step, year), along which flow, and what they had
done and paid by then (attempts, route, savings, cost, step of first crossing).
From these come the distributions that counts cannot give: time from crossing
into China to arrival in the South, attempts per arrival and cost per arrival.

>>> import refuge
>>> from refuge.systems.korea.agents.agents import Agents
>>> recorder = Agents(record=True)
>>> _ = refuge.run("baseline", members=1, seed=0, backend=recorder, timeline=refuge.model.timeline.Timeline(2009, 2009))
>>> table = arrivals(recorder.take_events())
>>> list(table.columns)
['member', 'person', 'year', 'flow', 'sex', 'route', 'weeks_from_crossing', 'attempts', 'cost_usd']
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from .flows import ARRIVALS

MEASURES = {
    "weeks_from_crossing": "weeks from crossing into China to arrival in the South",
    "attempts": "attempts to cross per arrival",
    "cost_usd": "dollars paid to brokers per arrival",
}


def arrivals(events: pd.DataFrame) -> pd.DataFrame:
    """One row per arrival in the South, with the journey's length, attempts and cost.

    ``weeks_from_crossing`` is missing for people who crossed before the run began
    or went straight to the South (direct defection) without crossing into China first.
    """
    rows = events[events["flow"].isin(ARRIVALS)]
    weeks = (rows["step"] - rows["crossed"]).where(rows["crossed"] >= 0)
    return pd.DataFrame({
        "member": rows["member"], "person": rows["person"], "year": rows["year"].astype(int),
        "flow": rows["flow"].astype(str), "sex": rows["sex"], "route": rows["route"],
        "weeks_from_crossing": weeks, "attempts": rows["attempts"].astype(int), "cost_usd": rows["cost"].astype(int),
    }).reset_index(drop=True)  # fmt: skip


def distributions(table: pd.DataFrame, q=(0.05, 0.25, 0.5, 0.75, 0.95)) -> pd.DataFrame:
    """Mean and quantiles of each journey measure over all arrivals (rows: measures)."""
    out = {}
    for measure in MEASURES:
        values = table[measure].dropna().astype(float)
        stats = {"arrivals": int(values.size), "mean": values.mean() if values.size else np.nan}
        stats.update({f"q{round(x * 100):02d}": values.quantile(x) if values.size else np.nan for x in q})
        out[measure] = stats
    return pd.DataFrame(out).T


def write(events: pd.DataFrame, folder: Path) -> list[Path]:
    """Write ``trajectories.parquet``, ``journeys.csv`` and ``journeys.png`` into ``folder``; return the paths."""
    folder = Path(folder)
    paths = [folder / "trajectories.parquet", folder / "journeys.csv", folder / "journeys.png"]
    events.to_parquet(paths[0], index=False)
    table = arrivals(events)
    distributions(table).to_csv(paths[1], index_label="measure")
    plot(table, paths[2])
    return paths


def plot(table: pd.DataFrame, path: Path) -> None:
    """Histograms of the three journey measures, women and men overlaid."""
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    for ax, (measure, label) in zip(axes, MEASURES.items(), strict=True):
        values = table[[measure, "sex"]].dropna()
        if measure == "attempts":
            bins = np.arange(0.5, max(values[measure].max() if len(values) else 1, 1) + 1.5)
        else:
            bins = 30
        for sex, part in values.groupby("sex", observed=True):
            ax.hist(part[measure], bins=bins, alpha=0.6, label=str(sex))
        ax.set_xlabel(label)
        ax.set_ylabel("arrivals")
        ax.legend(frameon=False)
    fig.suptitle(f"Journeys of {len(table):,} arrivals in the South (all members)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
