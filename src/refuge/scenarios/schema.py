"""The scenario file format, validated with pydantic.

```yaml
name: china-refugee-status
description: China recognises North Koreans as refugees.
base: baseline                 # a built-in name or a path, relative to this file
levers:
  - lever: refugee_status      # a driver or a parameter of the model
    from: 2027-01              # YYYY, YYYY-MM or YYYY-MM-DD
    until: 2030-01             # optional: the lever ends here
    set: 1.0                   # exactly one of set, scale, add
parameters:                    # optional overrides of default parameters
  hiding_capacity: 120000
```
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from ..model.timeline import decimal_year

NAME_PATTERN = r"^[a-z0-9][a-z0-9-]*$"
NAME_LENGTH = 64


def _written_as_number(value: object) -> object:
    """``yes``, ``true`` or ``"1"`` are not numbers a person meant (YAML reads ``yes`` as true, which is 1)."""
    if isinstance(value, bool | str):
        raise ValueError(f"{value!r} is not a number; write a number such as 1 or 0.5")
    return value


#: a lever's or a parameter's value: a number as written, not a word or text that converts to one
Number = Annotated[float, BeforeValidator(_written_as_number)]


class LeverSpec(BaseModel):
    """One dated intervention on a driver or a parameter."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, allow_inf_nan=False)

    lever: str = Field(description="name of a driver or parameter")
    start: float = Field(alias="from", description="when the lever starts")
    until: float | None = Field(default=None, description="when it ends (optional)")
    set: Number | None = None
    scale: Number | None = None
    add: Number | None = None

    @field_validator("start", "until", mode="before")
    @classmethod
    def _date(cls, value: object) -> float | None:
        if value is None:
            return None
        if isinstance(value, float):
            raise ValueError(f"{value!r} is not a date; write YYYY, YYYY-MM or YYYY-MM-DD")
        return decimal_year(value)

    @field_validator("scale")
    @classmethod
    def _non_negative_scale(cls, value: float | None) -> float | None:
        if value is not None and value < 0:
            raise ValueError(f"scale {value} is negative; a scale must be 0 or more")
        return value

    @model_validator(mode="after")
    def _one_action(self) -> LeverSpec:
        given = [k for k in ("set", "scale", "add") if getattr(self, k) is not None]
        if len(given) != 1:
            shown = ", ".join(given) if given else "none"
            raise ValueError(f"a lever needs exactly one of set, scale, add (got {shown})")
        if self.until is not None and self.until <= self.start:
            raise ValueError(f"'until' ({describe_date(self.until)}) must come after "
                             f"'from' ({describe_date(self.start)})")
        return self

    @property
    def action(self) -> tuple[str, float]:
        for kind in ("set", "scale", "add"):
            value = getattr(self, kind)
            if value is not None:
                return kind, value
        raise AssertionError("validated lever without an action")


class ScenarioSpec(BaseModel):
    """A scenario as written in a file: a base, levers, parameter overrides."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    name: str = Field(pattern=NAME_PATTERN, max_length=NAME_LENGTH, description="lower-case letters, digits and dashes")
    description: str = Field(default="", max_length=4_000)
    base: str | None = Field(default=None, max_length=1_024)
    levers: list[LeverSpec] = Field(default=[], max_length=200)
    parameters: dict[str, Number] = Field(default={}, max_length=200)

    @field_validator("levers", "parameters", mode="before")
    @classmethod
    def _none_is_empty(cls, value, info):
        if value is None:
            return [] if info.field_name == "levers" else {}
        return value


def describe_date(year: float) -> str:
    """A decimal year as ``YYYY-MM`` for messages and tables, or ``YYYY-MM-DD`` where it is not a month's first day.

    >>> describe_date(2027.0), describe_date(2027 + 73 / 365.25)
    ('2027-01', '2027-03-15')
    """
    whole = int(year)
    day = round((year - whole) * 365.25)
    date = dt.date(whole, 1, 1) + dt.timedelta(days=day)
    return f"{date.year:04d}-{date.month:02d}" + (f"-{date.day:02d}" if date.day > 1 else "")


#: how each kind of lever acts, in words
VERBS = {"set": "is set to", "scale": "is multiplied by", "add": "is raised by"}


def lever_in_words(lever: str, label: str, kind: str, value: float, start: float, until: float | None) -> str:
    """One lever as a sentence, for people who do not read YAML (the report and the web app say it alike).

    >>> lever_in_words("refugee_status", "refugee status in China", "set", 1.0, 2027.0, None)
    'From 2027-01, refugee_status (refugee status in China) is set to 1.'
    """
    when = f"from {describe_date(start)}" + (f" until {describe_date(until)}" if until is not None else "")
    about = f" ({label})" if label else ""
    return f"{when.capitalize()}, {lever}{about} {VERBS[kind]} {value:g}."


def parameter_in_words(name: str, label: str, value: float) -> str:
    """A scenario's override of a parameter as a sentence.

    >>> parameter_in_words("hiding_capacity", "", 120000)
    'Parameter hiding_capacity is 120000 throughout.'
    """
    about = f" ({label})" if label else ""
    return f"Parameter {name}{about} is {value:g} throughout."
