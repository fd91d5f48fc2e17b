"""The North Korean system as the engine sees it: model, scenarios, posterior draws, agents, plots."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

import numpy as np

from ...model.timeline import Timeline
from . import north_korea

#: outputs a comparison of scenarios shows: whether they add up over the window (flows) or peak (stocks)
MEASURES = {
    "arrivals_south_korea": ("sum", "arrivals in the South"),
    "crossings_to_china": ("sum", "crossings to China"),
    "deported_from_china": ("sum", "deported from China"),
    "deaths": ("sum", "deaths on the way"),
    "re_defections": ("sum", "re-defections"),
    "hiding_in_china": ("max", "peak hiding in China"),
    "south_korea_reception": ("max", "peak in reception"),
}

#: the names ``refuge sensitivity --output`` takes for them
SENSITIVITY_OUTPUTS = {
    "arrivals": "arrivals_south_korea",
    "peak_hiding": "hiding_in_china",
    "deaths": "deaths",
    "re_defections": "re_defections",
    "peak_reception": "south_korea_reception",
    "deported": "deported_from_china",
    "crossings": "crossings_to_china",
}


#: from the famine's first years to fifteen years past the record, weekly (seed 004 counts deportations a week)
TIMELINE = Timeline(1990, 2040, steps_per_year=52)


@dataclass(frozen=True)
class Korea:
    """The North Korean defection system (see :mod:`refuge.systems`)."""

    name: str = "korea"
    timeline: Timeline = TIMELINE
    #: after the record (to 2025) and the year it was gathered in: the built-in scenarios' levers start in 2027
    window: tuple[int, int] = (2027, 2040)
    plot_files: tuple[str, ...] = ("arrivals.png", "stocks.png")
    measures: dict[str, tuple[str, str]] = field(default_factory=lambda: dict(MEASURES))
    sensitivity_outputs: dict[str, str] = field(default_factory=lambda: dict(SENSITIVITY_OUTPUTS))
    headline: str = "arrivals_south_korea"
    charts: dict[str, tuple[str, ...]] = field(default_factory=lambda: {
        "People by place at year end": ("hiding_in_china", "in_transit", "south_korea_reception",
                                        "south_korea_settled"),
        "Journeys: mean years abroad (China, transit) of each year's arrivals": ("time_abroad",),
    })  # fmt: skip

    def model(self):
        return north_korea()

    def scenario_folder(self) -> Traversable:
        return resources.files(__package__) / "scenarios"

    def member_parameters(self, members: int, seed: int) -> tuple[dict[str, np.ndarray], np.ndarray | None]:
        from .calibration.posterior import shipped_posterior

        rows = _posterior_rows(members, seed)
        if rows is None:
            return {}, None
        return shipped_posterior().parameters(rows), shipped_posterior().spread(rows)

    def member_paths(self, members: int, seed: int, first: int, keys: np.ndarray, timeline) -> dict[str, np.ndarray]:
        from .calibration.posterior import shipped_posterior

        rows = _posterior_rows(members, seed)
        if rows is None:
            return {}
        return shipped_posterior().paths(rows[first : first + len(keys)], keys, timeline)

    def central_paths(self, timeline, quantiles=None) -> dict[str, np.ndarray]:
        from .calibration.posterior import shipped_posterior

        posterior = shipped_posterior()
        return {} if posterior is None else posterior.central_paths(timeline, quantiles)

    def parameter_draws(self, name: str) -> tuple[float, float] | None:
        from .calibration.posterior import shipped_posterior

        posterior = shipped_posterior()
        if posterior is None or name not in posterior.samples:
            return None
        return float(posterior.samples[name].min()), float(posterior.samples[name].max())

    def parameter_source(self, calibrated: bool) -> str:
        from .calibration.posterior import shipped_posterior

        posterior = shipped_posterior() if calibrated else None
        if posterior is None:
            return "defaults"
        meta = posterior.provenance
        return f"posterior to {meta['settings']['until']} (data {meta['data_version']}, {meta['created']})"

    def backends(self) -> dict[str, object]:
        from .agents.agents import Agents

        return {"agents": Agents()}

    def recorder(self):
        from .agents.agents import Agents

        return Agents(record=True)

    def write_trajectories(self, events, folder: Path) -> None:
        from . import journeys

        journeys.write(events, folder)

    def write_plots(self, results, folder: Path, *, predictive: bool) -> None:
        from . import plots

        plots.arrivals(results, folder / "arrivals.png", predictive=predictive)
        plots.stocks(results, folder / "stocks.png")

    def summary(self, results, *, predictive: bool):
        from .summary import run_summary

        return run_summary(results, predictive)

    def trajectory_summary(self, folder: Path):
        from .summary import journeys_summary

        return journeys_summary(folder / "journeys.csv")

    def record_end(self) -> int | None:
        from .evidence import record_end

        return record_end()

    def analyses(self):
        from . import analyses

        return analyses


SYSTEM = Korea()


@lru_cache(maxsize=2)
def _posterior_rows(members: int, seed: int) -> np.ndarray | None:
    """The posterior sample each member takes, drawn once a run: parameters and every block's paths read it."""
    from .calibration.posterior import shipped_posterior

    posterior = shipped_posterior()
    return None if posterior is None else posterior.rows(members, seed)
