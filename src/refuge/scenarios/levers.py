"""Levers applied to the model's inputs: the driver series and the parameter values of a run.

A lever acts on its window ``[from, until)``, the steps that start in it (so
never before its date): ``set`` replaces the value, ``scale`` multiplies it,
``add`` adds to it. Levers apply in the order they are
listed (a base scenario's first). A lever that would take a driver outside its
bounds is refused when the scenario is read (:func:`drivers_out_of_bounds`); a
member's own path of a driver must lie inside them (``refuge.run`` checks), and a
lever acting on paths keeps them there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ..model.definition import Model
from ..model.timeline import Timeline
from .scenario import Scenario, describe_range, lever_label
from .schema import LeverSpec


@dataclass(frozen=True)
class Inputs:
    """Everything outside the state that a run needs, step by step.

    A driver's series is ``(steps,)``, shared by every member, or
    ``(steps, members, 1)`` where members follow their own path; so is each of a
    levered parameter's schedules ``(a, b)`` (its value times ``a`` plus ``b``).
    """

    timeline: Timeline
    drivers: dict[str, np.ndarray]
    parameters: dict[str, float | np.ndarray]
    schedules: dict[str, tuple[np.ndarray, np.ndarray]]

    def drivers_at(self, step: int) -> dict[str, float | np.ndarray]:
        return {name: series[step] if series.ndim > 1 else float(series[step]) for name, series in self.drivers.items()}

    def parameters_at(self, step: int) -> dict[str, float | np.ndarray]:
        """Parameter values at a step: ``value * a[step] + b[step]`` for levered ones."""
        if not self.schedules:
            return self.parameters
        values = dict(self.parameters)
        for name, (a, b) in self.schedules.items():
            values[name] = values[name] * a[step] + b[step]
        return values

    def drivers_between(self, first: int, stop: int) -> dict[str, np.ndarray]:
        """Driver values over steps ``[first, stop)``, each ``(steps, members or 1, 1)`` (see ``Model.ahead``)."""
        return {name: _between(series, first, stop) for name, series in self.drivers.items()}

    def parameters_between(self, first: int, stop: int) -> dict[str, float | np.ndarray]:
        """Parameter values over steps ``[first, stop)``: a float, ``(1, members, 1)`` where members differ, or
        ``(steps, members or 1, 1)`` where a lever acts."""
        values = {name: value[None] if isinstance(value, np.ndarray) else value
                  for name, value in self.parameters.items()}  # fmt: skip
        for name, (a, b) in self.schedules.items():
            values[name] = values[name] * _between(a, first, stop) + _between(b, first, stop)
        return values


def _between(series: np.ndarray, first: int, stop: int) -> np.ndarray:
    """Steps ``[first, stop)`` of a series shared by members ``(steps,)`` or a member's own ``(steps, members, 1)``,
    as ``(steps, members or 1, 1)``."""
    return series[first:stop] if series.ndim > 1 else series[first:stop, None, None]


def compile_inputs(
    model: Model,
    scenario: Scenario,
    timeline: Timeline,
    parameters: Mapping[str, float | np.ndarray] | None = None,
    paths: Mapping[str, np.ndarray] | None = None,
) -> Inputs:
    """Driver series and parameter values of ``scenario``.

    ``parameters`` replaces defaults (a float, or an array ``(members, 1)`` of
    per-member draws); the scenario's own overrides replace those in turn.
    ``paths`` replaces a driver's knots by each member's own yearly values,
    ``(members, years of the timeline)``; levers act on them as on any driver.
    """
    values: dict[str, float | np.ndarray] = {p.name: p.value for p in model.parameters}
    values.update(parameters or {})
    values.update(scenario.parameters)
    drivers = {d.name: d.series(timeline) for d in model.drivers}
    for name, yearly in (paths or {}).items():
        model.driver(name)
        drivers[name] = np.ascontiguousarray(np.asarray(yearly, dtype=float)[:, timeline.year_index].T[..., None])
    schedules: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for lever in scenario.levers:
        window = _window(lever, timeline)
        kind, value = lever.action
        if lever.lever in drivers:
            series = drivers[lever.lever]
            series[window] = _act(series[window], kind, value)
            low, high = model.driver(lever.lever).bounds
            np.clip(series, low, high, out=series)
        else:
            a, b = schedules.setdefault(lever.lever, (np.ones(timeline.steps), np.zeros(timeline.steps)))
            # compose value -> value * a + b with the new action
            if kind == "set":
                a[window], b[window] = 0.0, value
            elif kind == "scale":
                a[window] *= value
                b[window] *= value
            else:
                b[window] += value
    return Inputs(timeline, drivers, values, schedules)


def drivers_out_of_bounds(model: Model, levers: list[LeverSpec], timeline: Timeline, own: int = 0) -> list[str]:
    """Levers that take a driver's series (from its knots) outside its bounds, in the order they act, as
    ``levers[i].scale: 3 takes refugee_status to 3, outside its range [0, 1]`` (``i`` counted from ``own``, where
    a scenario's own levers follow its bases')."""
    drivers = {d.name for d in model.drivers}
    series: dict[str, np.ndarray] = {}
    problems = []
    for i, lever in enumerate(levers):
        if lever.lever not in drivers:
            continue
        driver = model.driver(lever.lever)
        values = series.setdefault(lever.lever, driver.series(timeline))
        window = _window(lever, timeline)
        kind, amount = lever.action
        values[window] = _act(values[window], kind, amount)
        low, high = driver.bounds
        outside = values[window][~((values[window] >= low) & (values[window] <= high))]
        if outside.size:
            problems.append(f"{lever_label(i, own)}.{kind}: {amount:g} takes {lever.lever} to {outside[0]:g}, "
                            f"outside its range {describe_range(low, high)}")  # fmt: skip
            np.clip(values, low, high, out=values)
    return problems


def _window(lever: LeverSpec, timeline: Timeline) -> slice:
    stop = timeline.steps if lever.until is None else timeline.first_step_from(lever.until)
    return slice(timeline.first_step_from(lever.start), stop)


def _act(values: np.ndarray, kind: str, value: float) -> np.ndarray:
    if kind == "set":
        return np.full_like(values, value)
    if kind == "scale":
        return values * value
    return values + value
