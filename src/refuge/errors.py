"""refuge's exceptions: library code raises these; only the CLI turns them into messages."""

import difflib
from collections.abc import Iterable


def did_you_mean(name: object, known: Iterable[str], cutoff: float = 0.6) -> str:
    """``"; did you mean 'attempt_base'?"`` for a misspelt name, the closest of ``known``; empty if none is close
    (``difflib``'s ``cutoff``)."""
    close = difflib.get_close_matches(str(name), list(known), n=1, cutoff=cutoff)
    return f"; did you mean {close[0]!r}?" if close else ""


class RefugeError(Exception):
    """Base of every error refuge raises on purpose."""


class ScenarioError(RefugeError):
    """A scenario file or lever is invalid: names the file, the field, the value and what is allowed."""


class ModelError(RefugeError):
    """A model definition is inconsistent (unknown stock, duplicate name, bad parameter)."""


class DataError(RefugeError):
    """A shipped or user-supplied data file is malformed."""


class RunError(RefugeError):
    """A run was asked for with settings that cannot work (members, backend, output folder)."""


class DataWarning(UserWarning):
    """Input read as the tool that wrote it reads it, though it looks like a slip (a count row of one field): told,
    not refused, so the numbers stay that tool's."""
