"""Scenarios side by side, member against member.

All scenarios run with one seed, so member ``m`` of each sees the same random
numbers until its levers act (common random numbers): the difference between
two scenarios, member by member, is the lever's effect with little chance noise.
Every figure is a median with a 90% band over members, in tables, CSV and plots alike.
The measures compared are the system's (:attr:`refuge.systems.System.measures`).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from rich.table import Table

from .results import Results
from .scenarios import Scenario
from .simulation import run
from .systems import System, get_system

#: the band every figure of a comparison shows, and how it is said
BAND = (0.05, 0.95)
BAND_WORDS = "median [90% band over members]"


def run_all(
    names: list[str], *, members: int, seed: int, backend: str, progress=None, client=None, block: int = 2_000,
    system: str | System | None = None,
) -> dict[str, Results]:
    """Every scenario with one seed (on a Dask ``client``'s workers when given: the same numbers)."""
    return {
        name: run(name, members=members, seed=seed, backend=backend, progress=progress, client=client, block=block,
                  system=system)
        for name in names
    }


def effects(results: dict[str, Results], start: int, end: int, system: str | System | None = None) -> pd.DataFrame:
    """Each measure over ``start..end`` per scenario, and its difference from the first scenario.

    Rows are (scenario, measure); ``statistic`` says whether the measure is the sum of the window's years or
    the peak of its year-end values; then the median and 90% band of the value
    and of the member-by-member difference from the first scenario, absolute
    and relative (the median of the members' ratios, minus one).
    """
    measures = get_system(system).measures
    names = list(results)
    window = {name: _measures(res.outputs().sel(year=slice(start, end)), measures) for name, res in results.items()}
    reference = window[names[0]]
    rows = []
    for name in names:
        for measure in measures:
            value = window[name][measure]
            change = value - reference[measure]
            ratio = (value / reference[measure].where(reference[measure] > 0)) - 1
            rows.append(
                {
                    "scenario": name,
                    "measure": measure,
                    "statistic": "sum" if measures[measure][0] == "sum" else "peak",
                    "median": value.median(),
                    "q05": value.quantile(BAND[0]),
                    "q95": value.quantile(BAND[1]),
                    "change_median": change.median(),
                    "change_q05": change.quantile(BAND[0]),
                    "change_q95": change.quantile(BAND[1]),
                    "change_pct_median": 100 * ratio.median(),
                }
            )
    return pd.DataFrame(rows)


def yearly_differences(results: dict[str, Results], first: int, last: int, system: str | System | None = None
                       ) -> pd.DataFrame:  # fmt: skip
    """Member-by-member differences from the first scenario, year by year: ``scenario, measure, year, q05, q50, q95``.

    Flows are the year's totals, stocks the year-end counts.
    """
    measures = list(get_system(system).measures)
    names = list(results)
    reference = results[names[0]].outputs().sel(year=slice(first, last), variable=measures)
    frames = []
    for name in names[1:]:
        change = results[name].outputs().sel(year=slice(first, last), variable=measures) - reference
        q = change.quantile([BAND[0], 0.5, BAND[1]], dim="member")
        frame = q.to_dataframe(name="value").reset_index().pivot_table(
            index=["variable", "year"], columns="quantile", values="value"
        )
        frame.columns = ["q05", "q50", "q95"]
        frames.append(frame.reset_index().rename(columns={"variable": "measure"}).assign(scenario=name))
    return pd.concat(frames)[["scenario", "measure", "year", "q05", "q50", "q95"]]


def yearly_words(how: str, words: str) -> tuple[str, str]:
    """A measure's title and unit year by year: a sum is the year's total, a peak becomes the count at year end."""
    if how == "sum":
        return words, "people a year"
    return f"{words.removeprefix('peak ')} at year end", "people at year end"


def definitions(scenarios: dict[str, Scenario]) -> dict[str, dict]:
    """What each compared scenario was, for ``compare.json``: its description, levers and parameters, under the
    label ``compare.csv`` gives it (a report cannot look an uploaded or edited scenario up by its name, and two
    files may share one)."""
    return {label: s.record() for label, s in scenarios.items()}


def save(folder: Path, effects_: pd.DataFrame, differences: pd.DataFrame, start: int, meta: dict,
         system: str | System | None = None) -> None:
    """Write ``compare.csv``, ``differences.csv``, ``compare.png`` and ``compare.json`` (``meta`` and the band)."""
    from . import plots

    effects_.to_csv(folder / "compare.csv", index=False, float_format="%.6g")
    differences.to_csv(folder / "differences.csv", index=False, float_format="%.6g")
    plots.differences(differences, folder / "compare.png", start, effects_.scenario.iloc[0], get_system(system))
    (folder / "compare.json").write_text(json.dumps({**meta, "band": BAND_WORDS}, indent=2) + "\n", encoding="utf-8")


def table(effects_: pd.DataFrame, start: int, end: int, backend: str = "counts", system: str | System | None = None
          ) -> Table:  # fmt: skip
    """The comparison for a terminal: one block of rows a scenario, so that 80 columns cut no name."""
    measures = get_system(system).measures
    reference = effects_.scenario.iloc[0]
    spread = "parameter draws" if backend == "mean" else "parameter draws and chance"
    shown = Table(title=f"Scenarios {start}-{end}: {BAND_WORDS} ({spread}); change is member by member "
                        f"against {reference}")  # fmt: skip
    shown.add_column("scenario / measure", no_wrap=True)
    shown.add_column("value", justify="right")
    shown.add_column(f"change from {reference}", justify="right")
    for name, rows in effects_.groupby("scenario", sort=False):
        shown.add_row(f"[bold]{name}[/]", "", "")
        for row in rows.itertuples():
            value = f"{row.median:,.0f} [{row.q05:,.0f}, {row.q95:,.0f}]"
            change = ""
            if name != reference:
                pct = "" if row.change_pct_median != row.change_pct_median else f" ({_signed(row.change_pct_median)}%)"
                change = f"{_signed(row.change_median)}{pct} [{_signed(row.change_q05)}, {_signed(row.change_q95)}]"
            shown.add_row(f"  {measures[row.measure][1]}", value, change)
        shown.add_section()
    return shown


def _signed(x: float) -> str:
    """A change with its sign, and a plain 0 for what rounds to nothing (never "-0")."""
    return "0" if round(x) == 0 else f"{x:+,.0f}"


def _measures(outputs, measures) -> pd.DataFrame:
    columns = {}
    for measure, (how, _) in measures.items():
        values = outputs.sel(variable=measure)
        columns[measure] = (values.sum("year") if how == "sum" else values.max("year")).to_pandas()
    return pd.DataFrame(columns)
