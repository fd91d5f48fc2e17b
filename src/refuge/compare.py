"""Scenarios side by side, member against member.

All scenarios run with one seed, so member ``m`` of each sees the same random
numbers until its levers act (common random numbers): the difference between
two scenarios, member by member, is the lever's effect with little chance noise.
"""

from __future__ import annotations

import pandas as pd

from .results import Results
from .simulation import run

#: outputs compared, and whether they add up over the window (flows) or peak (stocks)
MEASURES = {
    "arrivals_south_korea": "sum",
    "crossings_to_china": "sum",
    "deported_from_china": "sum",
    "deaths": "sum",
    "re_defections": "sum",
    "hiding_in_china": "max",
    "south_korea_reception": "max",
}


def run_all(names: list[str], *, members: int, seed: int, backend: str, progress=None) -> dict[str, Results]:
    return {name: run(name, members=members, seed=seed, backend=backend, progress=progress) for name in names}


def effects(results: dict[str, Results], start: int, end: int) -> pd.DataFrame:
    """Each measure over ``start..end`` per scenario, and its difference from the first scenario.

    Rows are (scenario, measure); columns the median and 90% band of the value
    and of the member-by-member difference from the first scenario.
    """
    names = list(results)
    window = {
        name: _measures(res.outputs().sel(year=slice(start, end))) for name, res in results.items()
    }
    reference = window[names[0]]
    rows = []
    for name in names:
        for measure in MEASURES:
            value = window[name][measure]
            change = value - reference[measure]
            rows.append(
                {
                    "scenario": name,
                    "measure": measure,
                    "median": value.median(),
                    "q05": value.quantile(0.05),
                    "q95": value.quantile(0.95),
                    "change_median": change.median(),
                    "change_q05": change.quantile(0.05),
                    "change_q95": change.quantile(0.95),
                }
            )
    return pd.DataFrame(rows)


def _measures(outputs) -> pd.DataFrame:
    columns = {}
    for measure, how in MEASURES.items():
        values = outputs.sel(variable=measure)
        columns[measure] = (values.sum("year") if how == "sum" else values.max("year")).to_pandas()
    return pd.DataFrame(columns)
