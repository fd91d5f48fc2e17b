"""Scenarios: the baseline plus dated levers, loaded from small YAML files and validated.

A system ships its built-in scenarios (:meth:`refuge.systems.System.scenario_folder`);
names are looked up in the system asked for, the North Korean one by default.

>>> from refuge.scenarios import load_scenario
>>> load_scenario("china-refugee-status").levers[0].lever
'refugee_status'
"""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import ValidationError

from .. import safe_yaml
from ..errors import ScenarioError, did_you_mean
from ..model.definition import Model
from ..systems import System, get_system
from .checks import check_against_model, check_levered_bounds, check_scenario
from .scenario import Scenario, describe_range, lever_label, shown
from .schema import ScenarioSpec

#: the longest chain of scenarios extending each other through ``base:``
MAX_BASES = 8
#: the longest scenario reference (a name or a path) accepted
MAX_REFERENCE = 1_024


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
        raise ScenarioError(f"{label}: base: {shown(spec.base)} is not a built-in scenario; a scenario given as "
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
    check_against_model(label, spec, model, system, system.timeline)
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
    check_levered_bounds(label, scenario, len(base.levers), model, system, system.timeline)
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
    given = error.get("input")
    if isinstance(given, dict | list):
        return f"{path}: {message}"
    if error["type"] == "string_pattern_mismatch":
        return f"{path}: {shown(given)} is not allowed; use lower-case letters, digits and dashes"
    return f"{path}: {shown(given)} is not allowed: {message}"


#: a key a person may have meant as a field; anything else is not quoted back
_FIELD_LIKE = re.compile(r"[A-Za-z_][A-Za-z0-9_-]{0,39}")
#: the fields allowed at each depth of an error's location: the scenario's, then a lever's
_FIELDS = {1: tuple(ScenarioSpec.model_fields), 3: ("lever", "from", "until", "set", "scale", "add")}


__all__ = ["Scenario", "builtin_names", "builtin_scenarios", "check_scenario", "describe_range", "lever_label",
           "load_scenario", "scenario_from_text"]
