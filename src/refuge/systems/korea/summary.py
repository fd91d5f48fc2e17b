"""The Korean system's summary of a run for a terminal: arrivals against the record, and journeys."""

from __future__ import annotations

from pathlib import Path

from rich.table import Table

from .evidence import arrivals


def run_summary(results, predictive: bool = True) -> Table:
    history = arrivals()
    interval = predictive and results.predictive("arrivals_south_korea")
    arrivals_q = results.quantiles("arrivals_south_korea", predictive=interval)
    hiding_q = results.quantiles("hiding_in_china")
    chance = " (mean: parameter draws, no chance)" if results.data.attrs.get("backend") == "mean" else ""
    table = Table(title=f"Arrivals in South Korea per year — scenario {results.data.attrs['scenario']}")
    band = "90% predictive interval" if interval else f"90% ensemble band, no misfit{chance}"
    for column in ("year", "median", band, "record", "hiding in China (median)"):
        table.add_column(column, justify="right")
    for year, row in arrivals_q.iterrows():
        known = history["total"].get(year, float("nan"))
        table.add_row(
            str(year),
            f"{row.q50:,.0f}",
            f"{row.q05:,.0f} – {row.q95:,.0f}",
            "" if known != known else f"{known:,.0f}",
            f"{hiding_q.loc[year, 'q50']:,.0f}",
        )
    return table


def journeys_summary(path: Path) -> Table:
    import pandas as pd

    frame = pd.read_csv(path, index_col="measure")
    table = Table(title="Journeys of arrivals in the South (all members, all years)")
    for column in ("measure", "arrivals", "mean", "5%", "median", "95%"):
        table.add_column(column, justify="right")
    for measure, row in frame.iterrows():
        table.add_row(measure, f"{row.arrivals:,.0f}", f"{row['mean']:,.1f}", f"{row.q05:,.0f}", f"{row.q50:,.0f}",
                      f"{row.q95:,.0f}")  # fmt: skip
    return table
