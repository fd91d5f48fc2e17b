"""Scenarios: the baseline plus dated levers, loaded from small YAML files and validated.

>>> from refuge.scenarios import load_scenario
>>> load_scenario("china-refugee-status").levers[0].lever
'refugee_status'
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import yaml
from pydantic import ValidationError

from ..errors import ScenarioError
from ..korea import north_korea
from ..model.definition import Model
from .schema import LeverSpec, ScenarioSpec

_BUILTIN = resources.files(__package__) / "builtin"


@dataclass(frozen=True)
class Scenario:
    """A resolved scenario: its own levers after those of its bases, parameters merged."""

    name: str
    description: str
    levers: tuple[LeverSpec, ...] = ()
    parameters: dict[str, float] = field(default_factory=dict)
    source: str = "built-in"


def builtin_names() -> list[str]:
    return sorted(p.name.removesuffix(".yaml") for p in _BUILTIN.iterdir() if p.name.endswith(".yaml"))


def builtin_scenarios() -> list[Scenario]:
    return [load_scenario(name) for name in builtin_names()]


def load_scenario(name_or_path: str | Path, model: Model | None = None) -> Scenario:
    """A built-in scenario by name, or a scenario file by path, validated against the model.

    Raises :class:`ScenarioError` naming the file, the field, the value and what is allowed.
    """
    return _load(str(name_or_path), model or north_korea(), chain=())


def _load(ref: str, model: Model, chain: tuple[str, ...], relative_to: Path | None = None) -> Scenario:
    label, text = _read(ref, relative_to)
    if label in chain:
        raise ScenarioError(f"{label}: base: scenarios extend each other in a cycle ({' -> '.join((*chain, label))})")
    spec = _parse(label, text)
    _check_against_model(label, spec, model)
    if spec.base is None:
        base = Scenario(name="", description="")
    else:
        folder = Path(label).parent if label.endswith((".yaml", ".yml")) else None
        try:
            base = _load(spec.base, model, (*chain, label), folder)
        except ScenarioError as err:
            raise ScenarioError(f"{label}: base: {spec.base!r} cannot be used: {err}") from None
    return Scenario(
        name=spec.name,
        description=spec.description,
        levers=(*base.levers, *spec.levers),
        parameters={**base.parameters, **spec.parameters},
        source=label,
    )


def _read(ref: str, relative_to: Path | None) -> tuple[str, str]:
    if ref in builtin_names():
        return f"built-in scenario {ref!r}", (_BUILTIN / f"{ref}.yaml").read_text(encoding="utf-8")
    path = Path(ref)
    if relative_to is not None and not path.is_absolute():
        path = relative_to / path
    if path.is_file():
        try:
            return str(path), path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as err:
            raise ScenarioError(f"{path}: cannot be read ({err})") from None
    raise ScenarioError(
        f"{ref!r} is neither a built-in scenario ({', '.join(builtin_names())}) nor a scenario file that exists"
    )


def _parse(label: str, text: str) -> ScenarioSpec:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        where = getattr(err, "problem_mark", None)
        line = f" at line {where.line + 1}" if where is not None else ""
        raise ScenarioError(f"{label}: not valid YAML{line}: {getattr(err, 'problem', err)}") from None
    if not isinstance(data, dict):
        kind = "empty" if data is None else f"a {type(data).__name__}"
        raise ScenarioError(f"{label}: a scenario must be a mapping with at least 'name'; this file is {kind}")
    try:
        return ScenarioSpec.model_validate(data)
    except ValidationError as err:
        raise ScenarioError(f"{label}: " + "; ".join(_describe(e) for e in err.errors())) from None


def _describe(error: dict) -> str:
    path = ""
    for part in error["loc"]:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "missing":
        return f"{path}: is required"
    if error["type"] == "extra_forbidden":
        return f"{path}: unknown field (value {error['input']!r})"
    if error["type"] == "string_pattern_mismatch":
        return f"{path}: {error['input']!r} is not allowed; use lower-case letters, digits and dashes"
    shown = error.get("input")
    if isinstance(shown, dict | list):
        return f"{path}: {message}"
    return f"{path}: {shown!r} is not allowed: {message}"


def _check_against_model(label: str, spec: ScenarioSpec, model: Model) -> None:
    drivers = {d.name: d for d in model.drivers}
    parameters = {p.name: p for p in model.parameters}
    problems = []
    for i, lever in enumerate(spec.levers):
        where = f"levers[{i}]"
        target = drivers.get(lever.lever) or parameters.get(lever.lever)
        if target is None:
            problems.append(
                f"{where}.lever: {lever.lever!r} is not a driver or parameter; drivers are {', '.join(drivers)}"
            )
            continue
        kind, value = lever.action
        low, high = target.bounds
        if kind == "set" and not low <= value <= high:
            problems.append(f"{where}.set: {value:g} is outside {lever.lever}'s range {_range(low, high)}")
    for name, value in spec.parameters.items():
        if name not in parameters:
            problems.append(f"parameters.{name}: not a parameter of the model (see 'refuge parameters')")
            continue
        low, high = parameters[name].bounds
        if not (math.isfinite(value) and low <= value <= high):
            problems.append(f"parameters.{name}: {value:g} is outside the allowed range {_range(low, high)}")
    if problems:
        raise ScenarioError(f"{label}: " + "; ".join(problems))


def _range(low: float, high: float) -> str:
    return f"[{low:g}, {high:g}]" if math.isfinite(high) else f"{low:g} or more"


__all__ = ["Scenario", "builtin_names", "builtin_scenarios", "load_scenario"]
