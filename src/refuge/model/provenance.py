"""Where a number or a mechanism comes from.

Three kinds of provenance, and only these: a quote from one of the seed
articles, a quote from the evidence file of the historical record, or a
stated modelling assumption. Quotes are checked verbatim against the shipped
texts by the test suite, so a citation cannot drift from its source.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources


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


@cache
def seed_text(seed: str) -> str:
    """The full text of a shipped seed article, by its number."""
    folder = resources.files("refuge.data") / "seeds"
    for entry in folder.iterdir():
        if entry.name.startswith(f"{seed}_"):
            return entry.read_text(encoding="utf-8")
    raise KeyError(f"no seed article numbered {seed!r}")


@cache
def evidence_text() -> str:
    """The full text of the shipped ``EVIDENCE.md``."""
    return (resources.files("refuge.data") / "EVIDENCE.md").read_text(encoding="utf-8")


def squash(text: str) -> str:
    """Text with curly apostrophes straightened and runs of whitespace made one space, for quote checks."""
    return " ".join(text.replace("\u2019", "'").split())


def is_verbatim(provenance: Provenance) -> bool:
    """Whether a quote appears word for word (up to whitespace) in its source."""
    match provenance:
        case Seed(seed, quote):
            return squash(quote) in squash(seed_text(seed))
        case Record(_, quote):
            return squash(quote) in squash(evidence_text())
        case _:
            return True
