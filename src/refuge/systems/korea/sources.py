"""The texts the Korean system's quotes cite (seed articles, EVIDENCE.md), and the check that a quote is in them."""

from __future__ import annotations

from functools import cache
from importlib import resources

from ...model.provenance import Provenance, Record, Seed


@cache
def seed_text(seed: str) -> str:
    """The full text of a shipped seed article, by its number."""
    folder = resources.files("refuge.systems.korea.data") / "seeds"
    for entry in folder.iterdir():
        if entry.name.startswith(f"{seed}_"):
            return entry.read_text(encoding="utf-8")
    raise KeyError(f"no seed article numbered {seed!r}")


@cache
def evidence_text() -> str:
    """The full text of the shipped ``EVIDENCE.md``."""
    return (resources.files("refuge.systems.korea.data") / "EVIDENCE.md").read_text(encoding="utf-8")


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
