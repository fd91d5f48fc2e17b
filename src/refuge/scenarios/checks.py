"""A scenario checked against the model it will run on: names, dates, and values that stay in range."""

from __future__ import annotations

import math
import re

from ..errors import ScenarioError, did_you_mean
from ..model.definition import Model
from ..model.timeline import Timeline
from ..systems import System
from .levers import drivers_out_of_bounds
from .scenario import Scenario, cut, describe_range, lever_label, shown
from .schema import NAME_LENGTH, NAME_PATTERN, LeverSpec, ScenarioSpec, describe_date


def check_scenario(scenario: Scenario, model: Model, system: System, timeline: Timeline | None = None) -> None:
    """Refuse a scenario built in code, as a file's would be: levers and parameters the model does not know, or
    values outside their ranges. Its dates may fall anywhere in the system's timeline or the run's ``timeline``."""
    default = system.timeline
    span = default if timeline is None else Timeline(min(timeline.start, default.start), max(timeline.end, default.end),
                                                     timeline.steps_per_year)  # fmt: skip
    label = f"scenario {scenario.name!r}"
    name = scenario.name
    if not isinstance(name, str) or not re.fullmatch(NAME_PATTERN, name) or len(name) > NAME_LENGTH:
        raise ScenarioError(f"{label}: name: not allowed; allowed: lower-case letters, digits and dashes, as in a "
                            "scenario file (it names output folders)")  # fmt: skip
    check_against_model(label, scenario, model, system, span)
    check_levered_bounds(label, scenario, 0, model, system, span)


def check_levered_bounds(label: str, scenario: Scenario, own: int, model: Model, system: System,
                          timeline: Timeline) -> None:  # fmt: skip
    """Refuse levers that take a driver or parameter outside its range, acting after those of the bases: the
    scenario's own levers start at ``own`` (messages count them from there)."""
    problems = drivers_out_of_bounds(model, scenario.levers, timeline, own)
    problems += _levered_parameters_out_of_bounds(scenario, {p.name: p for p in model.parameters}, system, own)
    if problems:
        raise ScenarioError(f"{label}: " + "; ".join(problems[:10]))


def check_against_model(label: str, spec: ScenarioSpec | Scenario, model: Model, system: System,
                         timeline: Timeline) -> None:  # fmt: skip
    """The names, dates and set values of a scenario's own levers and parameters."""
    drivers = {d.name: d for d in model.drivers}
    parameters = {p.name: p for p in model.parameters}
    problems = []
    for i, lever in enumerate(spec.levers):
        where = f"levers[{i}]"
        target = drivers.get(lever.lever) or parameters.get(lever.lever)
        if target is None:
            hint = did_you_mean(lever.lever, [*drivers, *parameters])
            problems.append(f"{where}.lever: {shown(lever.lever)} is not a driver or parameter{hint} "
                            "(see 'refuge parameters' for drivers and parameters)")  # fmt: skip
            continue
        outside = [(key, when) for key, when in (("from", lever.start), ("until", lever.until))
                   if when is not None and not timeline.start <= when <= timeline.end + 1]  # fmt: skip
        for key, when in outside:
            problems.append(f"{where}.{key}: {describe_date(when)} is outside the run's years "
                            f"{timeline.start}-{timeline.end}")  # fmt: skip
        if not outside:
            problems += _never_acting(where, lever, timeline)
        kind, value = lever.action
        low, high = target.bounds
        if kind == "set" and not low <= value <= high:
            problems.append(f"{where}.set: {value:g} is outside {lever.lever}'s range {describe_range(low, high)}")
    for name, value in spec.parameters.items():
        if name not in parameters:
            problems.append(f"parameters.{cut(name)}: not a parameter of the model{did_you_mean(name, parameters)} "
                            "(see 'refuge parameters')")
            continue
        low, high = parameters[name].bounds
        if not (math.isfinite(value) and low <= value <= high):
            problems.append(f"parameters.{name}: {value:g} is outside the allowed range {describe_range(low, high)}")
    if problems:
        raise ScenarioError(f"{label}: " + "; ".join(problems[:10]))


def _never_acting(where: str, lever: LeverSpec, timeline: Timeline) -> list[str]:
    """A lever acts in the steps that start in ``[from, until)``: one with no such step is refused, not run idle."""
    first = timeline.first_step_from(lever.start)
    if first >= timeline.steps:
        return [f"{where}.from: {describe_date(lever.start)} is after the run's last step begins; allowed: a date in "
                f"{timeline.start}-{timeline.end}"]  # fmt: skip
    if lever.until is not None and timeline.first_step_from(lever.until) <= first:
        return [f"{where}.until: {describe_date(lever.until)} ends the lever before the first step it would act in "
                f"(steps start every 1/{timeline.steps_per_year} year); allowed: a later date"]  # fmt: skip
    return []


def _levered_parameters_out_of_bounds(spec: Scenario, parameters: dict, system: System, own: int) -> list[str]:
    """Parameters that ``scale`` or ``add`` levers would push outside their bounds at some time.

    The levers on a parameter act in order on its value in each window between
    their dates; the values checked are the scenario's override, or else the default
    and the lowest and highest values members may draw (the system's posterior, for one).
    """
    problems = []
    for name in sorted({lever.lever for lever in spec.levers if lever.lever in parameters}):
        drawn = system.parameter_draws(name)  # (lowest, highest) a member may draw
        if name in spec.parameters:  # every member runs with the scenario's value
            starts = [(spec.parameters[name], "the scenario's value")]
        else:
            starts = [(parameters[name].value, "its default")]
            if drawn:
                starts += [(drawn[0], "its lowest posterior draw"), (drawn[1], "its highest posterior draw")]
        problem = _first_out_of_bounds(spec.levers, name, starts, parameters[name].bounds, own)
        if problem:
            problems.append(problem)
    return problems


def _first_out_of_bounds(levers, name: str, starts: list[tuple[float, str]], bounds: tuple[float, float],
                         own: int) -> str | None:  # fmt: skip
    mine = [(i, lever) for i, lever in enumerate(levers) if lever.lever == name]
    times = sorted({t for _, lever in mine for t in (lever.start, lever.until) if t is not None})
    for t in times:
        active = [(i, lever) for i, lever in mine if lever.start <= t and (lever.until is None or t < lever.until)]
        for start, origin in starts:
            value = start
            for i, lever in active:
                kind, amount = lever.action
                value = amount if kind == "set" else value * amount if kind == "scale" else value + amount
                if not (math.isfinite(value) and bounds[0] <= value <= bounds[1]):
                    return (f"{lever_label(i, own)}.{kind}: {amount:g} takes {name} from {start:g} ({origin}) to "
                            f"{value:g}, outside its range {describe_range(*bounds)}")
    return None
