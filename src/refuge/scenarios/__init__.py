"""Scenarios: the baseline plus dated levers, loaded from small YAML files and validated.

A system ships its built-in scenarios (:meth:`refuge.systems.System.scenario_folder`);
names are looked up in the system asked for, the North Korean one by default.

>>> from refuge.scenarios import load_scenario
>>> load_scenario("china-refugee-status").levers[0].lever
'refugee_status'
"""

from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from .. import safe_yaml
from ..errors import ScenarioError, did_you_mean
from ..model.definition import Model
from ..model.timeline import Timeline
from ..systems import System, get_system
from .schema import NAME_LENGTH, NAME_PATTERN, LeverSpec, ScenarioSpec, describe_date

#: the longest chain of scenarios extending each other through ``base:``
MAX_BASES = 8
#: the longest scenario reference (a name or a path) accepted
MAX_REFERENCE = 1_024


@dataclass(frozen=True)
class Scenario:
    """A resolved scenario: its own levers after those of its bases, parameters merged."""

    name: str
    description: str
    levers: tuple[LeverSpec, ...] = ()
    parameters: dict[str, float] = field(default_factory=dict)
    source: str = "built-in"

    def record(self) -> dict:
        """What the scenario was, for an output folder's record: a report cannot look a file up again by name (it
        may have changed, or share a built-in's name). Not where it was read from: ``./x.yaml`` and ``x.yaml``
        are one scenario."""
        return {"description": self.description, "levers": [lever.model_dump(by_alias=True) for lever in self.levers],
                "parameters": dict(self.parameters)}  # fmt: skip


def builtin_names(system: str | System | None = None) -> list[str]:
    folder = get_system(system).scenario_folder()
    return sorted(p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml"))


def builtin_scenarios(system: str | System | None = None) -> list[Scenario]:
    return [load_scenario(name, system=system) for name in builtin_names(system)]


def load_scenario(name_or_path: str | Path, model: Model | None = None, *, system: str | System | None = None
                  ) -> Scenario:  # fmt: skip
    """A built-in scenario of ``system`` by name, or a scenario file by path, validated against the model.

    Raises :class:`ScenarioError` naming the file, the field, the value and what is allowed.
    """
    system = get_system(system)
    return _load(str(name_or_path), model or system.model(), system, chain=())


def scenario_from_text(text: str, label: str = "uploaded scenario", model: Model | None = None, *,
                       system: str | System | None = None) -> Scenario:  # fmt: skip
    """A scenario from YAML text that came from someone else (a web upload), validated as a file is.

    Its ``base:`` may name only a built-in scenario: text from outside never names a file
    to read. Errors are the command line's, under ``label``.

    >>> scenario_from_text("name: mine\\nbase: border-closure\\n").levers[0].lever
    'north_border_closure'
    >>> scenario_from_text("name: mine\\nbase: /etc/passwd\\n")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    refuge.errors.ScenarioError: uploaded scenario: base: '/etc/passwd' is not a built-in scenario; ...
    """
    if len(text) > safe_yaml.MAX_BYTES:
        raise ScenarioError(f"{label}: larger than {safe_yaml.MAX_BYTES // 1024} KiB; a scenario file is a few lines")
    system = get_system(system)
    spec = _parse(label, text)
    if spec.base is not None and spec.base not in builtin_names(system):
        raise ScenarioError(f"{label}: base: {_shown(spec.base)} is not a built-in scenario; a scenario given as "
                            f"text may extend only these: {', '.join(builtin_names(system))}")  # fmt: skip
    return _resolve(label, spec, model or system.model(), system, chain=())


def _load(ref: str, model: Model, system: System, chain: tuple[str, ...], relative_to: Path | None = None
          ) -> Scenario:  # fmt: skip
    label, text = _read(ref, system, relative_to, is_base=bool(chain))
    if label in chain:
        raise _ChainError(f"{chain[0]}: base: scenarios extend each other in a cycle ({' -> '.join((*chain, label))})")
    if len(chain) >= MAX_BASES:
        raise _ChainError(f"{chain[0]}: base: a chain of more than {MAX_BASES} scenarios extending each other "
                          f"({' -> '.join((*chain, label))})")  # fmt: skip
    return _resolve(label, _parse(label, text), model, system, chain)


class _ChainError(ScenarioError):
    """Bases that loop or go on too long: the message names the chain, so no link of it adds its own name."""


def _resolve(label: str, spec: ScenarioSpec, model: Model, system: System, chain: tuple[str, ...]) -> Scenario:
    """``spec`` checked against the model, after the levers and parameters of its base."""
    _check_against_model(label, spec, model, system, system.timeline)
    if spec.base is None:
        base = Scenario(name="", description="")
    else:
        folder = Path(label).parent if not label.startswith("built-in") else None
        try:
            base = _load(spec.base, model, system, (*chain, label), folder)
        except _ChainError:
            raise  # it names the whole chain already
        except ScenarioError as err:
            raise ScenarioError(f"{label}: base: {spec.base!r} cannot be used: {err}") from None
    scenario = Scenario(
        name=spec.name,
        description=spec.description,
        levers=(*base.levers, *spec.levers),
        parameters={**base.parameters, **spec.parameters},
        source=label,
    )
    _check_levered_bounds(label, scenario, len(base.levers), model, system, system.timeline)
    return scenario


def _read(ref: str, system: System, relative_to: Path | None, *, is_base: bool = False) -> tuple[str, str]:
    names = builtin_names(system)
    if ref in names:
        return f"built-in scenario {ref!r}", (system.scenario_folder() / f"{ref}.yaml").read_text(encoding="utf-8")
    if len(ref) > MAX_REFERENCE or "\x00" in ref:
        raise ScenarioError(f"a scenario reference of {len(ref):,} characters is not a name or a usable path")
    if is_base and not ref.endswith((".yaml", ".yml")):
        raise ScenarioError(f"{ref!r} is neither a built-in scenario ({', '.join(names)}) "
                            "nor a scenario file (.yaml or .yml)")  # fmt: skip
    path = Path(ref)
    if relative_to is not None and not path.is_absolute():
        path = relative_to / path
    try:
        exists = path.is_file()
    except OSError as err:
        raise ScenarioError(f"{ref!r}: not a usable path ({err.strerror})") from None
    if exists:
        return str(path), safe_yaml.read(path, str(path), ScenarioError)
    if path.is_dir():
        raise ScenarioError(f"{ref!r} is a folder; give a scenario file (.yaml) or a built-in scenario "
                            f"({', '.join(names)})")  # fmt: skip
    hint = did_you_mean(ref, names)
    raise ScenarioError(
        f"{ref!r} is neither a built-in scenario ({', '.join(names)}) nor a scenario file that exists{hint}"
    )


def _parse(label: str, text: str) -> ScenarioSpec:
    data = safe_yaml.load(text, label, ScenarioError)
    if not isinstance(data, dict):
        kind = "empty" if data is None else f"a {type(data).__name__}"
        raise ScenarioError(f"{label}: a scenario must be a mapping with at least 'name'; this file is {kind}")
    try:
        return ScenarioSpec.model_validate(data)
    except ValidationError as err:
        problems = list(dict.fromkeys(_describe(e) for e in err.errors()))[:10]
        misplaced = sorted(set(data) & {"lever", "from", "until", "set", "scale", "add"})
        if misplaced:
            problems.append(f"hint: {', '.join(misplaced)} belong(s) inside a lever: indent it under '- lever: ...'")
        raise ScenarioError(f"{label}: " + "; ".join(problems)) from None


def _describe(error: dict) -> str:
    path = ""
    for part in error["loc"]:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "missing":
        return f"{path}: is required"
    if error["type"] == "extra_forbidden":
        field = str(error["loc"][-1])
        if not _FIELD_LIKE.fullmatch(field):  # a line of some other file: say so without quoting it
            where = path.removesuffix(field).removesuffix(".") or "top level"
            return f"{where}: a key that is no field name (is this a scenario file?)"
        return f"{path}: unknown field{did_you_mean(field, _FIELDS.get(len(error['loc']), ()))}"
    shown = error.get("input")
    if isinstance(shown, dict | list):
        return f"{path}: {message}"
    if error["type"] == "string_pattern_mismatch":
        return f"{path}: {_shown(shown)} is not allowed; use lower-case letters, digits and dashes"
    return f"{path}: {_shown(shown)} is not allowed: {message}"


#: a key a person may have meant as a field; anything else is not quoted back
_FIELD_LIKE = re.compile(r"[A-Za-z_][A-Za-z0-9_-]{0,39}")
#: the fields allowed at each depth of an error's location: the scenario's, then a lever's
_FIELDS = {1: tuple(ScenarioSpec.model_fields), 3: ("lever", "from", "until", "set", "scale", "add")}


def _shown(value: object) -> str:
    """A value for a message, cut short: messages name a value, they do not echo a file."""
    return _cut(repr(value))


def _cut(text: str) -> str:
    return text if len(text) <= 40 else text[:37] + "..."


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
    _check_against_model(label, scenario, model, system, span)
    _check_levered_bounds(label, scenario, 0, model, system, span)


def _check_levered_bounds(label: str, scenario: Scenario, own: int, model: Model, system: System,
                          timeline: Timeline) -> None:  # fmt: skip
    """Refuse levers that take a driver or parameter outside its range, acting after those of the bases: the
    scenario's own levers start at ``own`` (messages count them from there)."""
    from .levers import drivers_out_of_bounds  # levers imports this module

    problems = drivers_out_of_bounds(model, scenario.levers, timeline, own)
    problems += _levered_parameters_out_of_bounds(scenario, {p.name: p for p in model.parameters}, system, own)
    if problems:
        raise ScenarioError(f"{label}: " + "; ".join(problems[:10]))


def _check_against_model(label: str, spec: ScenarioSpec | Scenario, model: Model, system: System,
                         timeline: Timeline) -> None:  # fmt: skip
    """The names, dates and set values of a scenario's own levers and parameters."""
    drivers = {d.name: d for d in model.drivers}
    parameters = {p.name: p for p in model.parameters}
    problems = []
    for i, lever in enumerate(spec.levers):
        where = f"levers[{i}]"
        target = drivers.get(lever.lever) or parameters.get(lever.lever)
        if target is None:
            close = difflib.get_close_matches(lever.lever, [*drivers, *parameters], n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            problems.append(f"{where}.lever: {_shown(lever.lever)} is not a driver or parameter; {hint}"
                            "see 'refuge parameters' for drivers and parameters")  # fmt: skip
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
            problems.append(f"parameters.{_cut(name)}: not a parameter of the model{did_you_mean(name, parameters)} "
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


def lever_label(i: int, own: int) -> str:
    """How a message names lever ``i`` of a resolved scenario whose own levers start at ``own``."""
    return f"levers[{i - own}]" if i >= own else f"a base's lever {i}"


def describe_range(low: float, high: float) -> str:
    """A driver's or parameter's range in messages: ``[0, 1]``, or ``0 or more`` without an upper bound."""
    return f"[{low:g}, {high:g}]" if math.isfinite(high) else f"{low:g} or more"


__all__ = ["Scenario", "builtin_names", "builtin_scenarios", "check_scenario", "load_scenario", "scenario_from_text"]
