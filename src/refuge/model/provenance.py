"""Where a number or a mechanism comes from.

Three kinds of provenance, and only these: a quote from one of the seed
articles, a quote from the evidence file of the historical record, or a
stated modelling assumption. A system ships the texts its quotes cite and checks
them verbatim in its tests (the Korean system: :mod:`refuge.systems.korea.sources`),
so a citation cannot drift from its source.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Seed:
    """A short quote from a seed article, by its number (``"003"``)."""

    seed: str
    quote: str

    def __str__(self) -> str:
        return f'seed {self.seed}: "{self.quote}"'


@dataclass(frozen=True)
class Record:
    """A short quote from ``EVIDENCE.md``, the historical record, with its section."""

    section: str
    quote: str

    def __str__(self) -> str:
        return f'EVIDENCE.md §{self.section}: "{self.quote}"'


@dataclass(frozen=True)
class Assumption:
    """A modelling choice made by hand, with the reason for it."""

    reason: str

    def __str__(self) -> str:
        return f"assumption: {self.reason}"


Provenance = Seed | Record | Assumption
