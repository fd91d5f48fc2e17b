"""Scenarios as the page shows them: levers in words with values to change, and the YAML they amount to.

Every scenario the page sends back is turned into YAML here and read by
:func:`refuge.scenarios.scenario_from_text`, so a form, an upload and a file on
the command line meet the same checks and the same messages. Each function takes
the served system's name (``refuge serve --system``; the North Korean one by default).
"""

from __future__ import annotations

import math
from functools import cache

import yaml

from ..errors import RefugeError, ScenarioError, did_you_mean
from ..scenarios import Scenario, scenario_from_text
from ..scenarios.schema import describe_date, lever_in_words, parameter_in_words
from ..systems import get_system

KINDS = ("set", "scale", "add")


@cache
def targets(system: str | None = None) -> dict[str, dict]:
    """What a lever may act on: every driver and parameter, with words, unit, bounds and evidence."""
    model = get_system(system).model()
    found = {}
    for kind, items in (("driver", model.drivers), ("parameter", model.parameters)):
        for item in items:
            low, high = item.bounds
            found[item.name] = {"name": item.name, "kind": kind, "label": item.label, "unit": item.unit,
                                "low": low, "high": high if math.isfinite(high) else None,
                                "default": getattr(item, "value", None),
                                "evidence": [str(e) for e in item.evidence]}  # fmt: skip
    return found


def view(scenario: Scenario, text: str, system: str | None = None) -> dict:
    """A validated scenario for the page: its levers in words and as values, and its YAML."""
    shown = targets(system)
    levers = []
    for lever in scenario.levers:
        kind, value = lever.action
        label = shown[lever.lever]["label"]
        levers.append({"lever": lever.lever, "label": label, "kind": kind, "value": value,
                       "from": describe_date(lever.start),  # the page's month field shows its first 7 characters
                       "until": None if lever.until is None else describe_date(lever.until),
                       "low": shown[lever.lever]["low"], "high": shown[lever.lever]["high"],
                       "words": lever_in_words(lever.lever, label, kind, value, lever.start, lever.until)})  # fmt: skip
    overrides = [parameter_in_words(name, shown[name]["label"], value) for name, value in scenario.parameters.items()]
    return {"name": scenario.name, "description": " ".join(scenario.description.split()), "levers": levers,
            "parameters": scenario.parameters, "parameter_words": overrides, "yaml": text}  # fmt: skip


def builtin_text(name: str, system: str | None = None) -> str:
    """The YAML of a built-in scenario as shipped (``name`` must be one: checked by the caller)."""
    return (get_system(system).scenario_folder() / f"{name}.yaml").read_text(encoding="utf-8")


def builtin_view(name: str, system: str | None = None) -> dict:
    """The form of built-in scenario ``name`` (the app answers 404 for a name that is none)."""
    text = builtin_text(name, system)
    return from_text(text, system, f"built-in scenario {name!r}")


def from_text(text: str, system: str | None = None, label: str = "uploaded scenario") -> dict:
    """An uploaded or typed scenario, validated as the command line validates a file."""
    return view(scenario_from_text(text, label, system=system), text, system)


def from_form(form: object, system: str | None = None) -> dict:
    """The scenario a page's form describes: written out as YAML, then validated from that YAML."""
    return from_text(to_yaml(form), system, "scenario")


FORM_FIELDS = ("name", "description", "levers", "parameters")
LEVER_FIELDS = ("lever", "kind", "value", "from", "until")


def check_fields(fields: dict, allowed: tuple[str, ...], where: str, error: type[RefugeError] = ScenarioError) -> None:
    """A misspelt field of a request is an error naming it, not a value silently left at its default."""
    for key in fields:
        if key not in allowed:
            raise error(f"{where}: {str(key)[:40]!r} is not a field{did_you_mean(key, allowed)}; allowed: "
                        f"{', '.join(allowed)}")


def to_yaml(form: object) -> str:
    """YAML of ``{name, description, levers: [{lever, kind, value, from, until}], parameters}``.

    A field a scenario file does not have is refused by name (``untill``), as the file's loader would; the
    values are checked afterwards by the scenario loader.
    """
    if not isinstance(form, dict):
        raise ScenarioError("scenario: expected a form with name, description, levers and parameters")
    check_fields(form, FORM_FIELDS, "scenario")
    levers = form.get("levers") or []
    if not isinstance(levers, list):
        raise ScenarioError("scenario: levers: expected a list")
    data: dict = {"name": form.get("name"), "description": form.get("description") or ""}
    written = []
    for i, lever in enumerate(levers):
        if not isinstance(lever, dict) or lever.get("kind") not in KINDS:
            raise ScenarioError(f"scenario: levers[{i}]: expected lever, kind (one of {', '.join(KINDS)}), value, from")
        check_fields(lever, LEVER_FIELDS, f"scenario: levers[{i}]")
        entry = {"lever": lever.get("lever"), "from": lever.get("from")}
        if lever.get("until") is not None:  # 0 is a (bad) date the loader names, not "no end"
            entry["until"] = lever["until"]
        entry[lever["kind"]] = lever.get("value")
        written.append(entry)
    if written:
        data["levers"] = written
    if form.get("parameters"):
        data["parameters"] = form["parameters"]
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
