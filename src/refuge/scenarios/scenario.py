"""What a scenario is once resolved, and how messages name its parts and values."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from .schema import LeverSpec


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


def shown(value: object) -> str:
    """A value for a message, cut short: messages name a value, they do not echo a file."""
    return cut(repr(value))


def cut(text: str) -> str:
    return text if len(text) <= 40 else text[:37] + "..."


def lever_label(i: int, own: int) -> str:
    """How a message names lever ``i`` of a resolved scenario whose own levers start at ``own``."""
    return f"levers[{i - own}]" if i >= own else f"a base's lever {i}"


def describe_range(low: float, high: float) -> str:
    """A driver's or parameter's range in messages: ``[0, 1]``, or ``0 or more`` without an upper bound."""
    return f"[{low:g}, {high:g}]" if math.isfinite(high) else f"{low:g} or more"
