"""Working folders: what a verb fills step by step and resumes (a calibration's runs, a backtest's origins).

They are not published whole as a run's folder is; a mark (``refuge.json``)
says which verb and settings they hold and the names the verb writes, so refuge
goes on, replaces or removes only its own files, and a seal of each file's size
and SHA-256 stops it overwriting one a person edited.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from ..errors import RunError
from .files import fingerprint, read_json, verifies, write_text
from .paths import check_output_path
from .runs import DERIVED, differences

#: the mark of a folder a verb fills step by step (:func:`claim_folder`)
WORKING_MARK = "refuge.json"
_WORKING_FORMAT = "refuge-working/1"


def claim_folder(out: Path | str, kind: str, settings: dict, own: tuple[str, ...], *, force: bool = False) -> Path:
    """A folder that a verb fills step by step and resumes (a calibration's chains, a backtest's origins).

    Such a folder is not published whole as a run's is, so the store's rules are kept here: refuge
    writes into ``out`` only if it is absent, empty, or marked (``refuge.json``) as a ``kind`` folder
    holding nothing but the names the verb writes (``own``: names, a ``*`` in one standing for a number,
    as in ``chain-*.h5``; ``predictive-mine.png`` is not ``predictive.png``). Marked with the same
    ``settings``, the verb goes on from what is there, less the page derived from it (``report.html``:
    the verb rewrites what it shows); with others it is refused unless ``force``,
    which deletes the verb's own files, and only those, before starting afresh (its own folders, such
    as a backtest's calibrations, are claimed in turn by the verb that fills them, or removed by
    :func:`remove_claimed`). Either way, a file the verb wrote and sealed (:func:`seal_folder`) that
    was changed since is refused, force or not: refuge does not overwrite what a person edited.
    """
    out = check_output_path(Path(out))
    settings = json.loads(json.dumps(settings, default=str))
    if out.exists() and not out.is_dir():
        raise RunError(f"--out {out} is a file, not a folder; choose another --out")
    entries = sorted(out.iterdir()) if out.exists() else []
    if entries:
        mark = read_mark(out / WORKING_MARK)
        if mark is None or mark.get("kind") != kind:
            raise RunError(f"--out {out} exists and is not a refuge {kind} folder (it has no {WORKING_MARK} of one); "
                           "refuge never overwrites what it did not write: choose another --out")  # fmt: skip
        ours = _own_entries(out, kind, own)
        if mark.get("settings") != settings:
            if not force:
                raise RunError(f"--out {out} holds another {kind} ({differences(mark.get('settings'), settings)}); "
                               "choose another --out, or give --force to start afresh")  # fmt: skip
            stale = [entry for entry in ours if not entry.is_dir() or entry.is_symlink()]
        else:  # going on rewrites the results, so a page made from them would contradict them
            stale = [entry for entry in ours if entry.name in DERIVED]
        for entry in stale:
            entry.unlink()
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise RunError(f"--out {out}: the folder cannot be created ({err.strerror})") from None
    write_mark(out, {"format": _WORKING_FORMAT, "kind": kind, "settings": settings, "own": list(own)})
    return out


def _own_entries(out: Path, kind: str, own) -> list[Path]:
    """What a claimed folder holds of its verb's (refused if it holds anything else, or a sealed file edited)."""
    entries = [e for e in sorted(out.iterdir()) if e.name != WORKING_MARK]
    ours = [e for e in entries if _owned(e.name, own)]
    foreign = [e.name for e in entries if e not in ours]
    if foreign:
        raise RunError(f"--out {out} holds what refuge's {kind} did not write ({', '.join(foreign[:5])}); "
                       "move it away or choose another --out")  # fmt: skip
    check_sealed(out)
    return ours


def _owned(name: str, own) -> bool:
    """Whether ``name`` is one of a verb's names (``own``), a ``*`` in one standing for a number, or the temporary
    file :func:`write_file` makes of one (``.NAME.tmp-PID``), which a process killed mid-write leaves behind."""
    written = re.fullmatch(r"\.(.+)\.tmp-\d+", name)
    name = written.group(1) if written else name
    return any(re.fullmatch(re.escape(pattern).replace(r"\*", r"\d+"), name) for pattern in own)


def remove_claimed(folder: Path) -> None:
    """Remove a claimed folder (:func:`claim_folder`) that is no longer wanted, such as a backtest's calibration
    of an origin no longer asked for: what its verb wrote and nothing else. It is checked whole before anything
    goes: a person's file anywhere inside, or a folder whose mark does not list its verb's names, stops it."""
    for path in _claimed_contents(folder):
        if path.is_dir() and not path.is_symlink():
            path.rmdir()
        else:
            path.unlink()


def _claimed_contents(entry: Path) -> list[Path]:
    """What removing one of a verb's entries removes, deepest first."""
    if not entry.is_dir() or entry.is_symlink():
        return [entry]
    mark = read_mark(entry / WORKING_MARK)
    if mark is None or not isinstance(mark.get("own"), list):
        raise RunError(f"{entry} has no {WORKING_MARK} listing what refuge wrote there; move it away or choose "
                       "another --out")  # fmt: skip
    inside = [path for own in _own_entries(entry, mark.get("kind", "working"), mark["own"])
              for path in _claimed_contents(own)]  # fmt: skip
    return [*inside, entry / WORKING_MARK, entry]


def seal_folder(out: Path, own: tuple[str, ...]) -> None:
    """Record, in a claimed folder's mark, the size and SHA-256 of each file the verb wrote there (``own``: its
    names), once it has written them all: a later claim or report then refuses to overwrite one changed since.

    Claiming the folder again clears the record, since the verb rewrites its files; a verb interrupted
    before sealing leaves them unrecorded, as refuge's to replace.
    """
    mark = read_mark(out / WORKING_MARK)
    if mark is None:
        return
    # a killed write's leftover (``.NAME.tmp-PID``) is refuge's but not a result: it is not sealed
    written = [p for p in sorted(out.iterdir()) if p.name != WORKING_MARK and p.is_file()
               and not p.name.startswith(".") and _owned(p.name, own)]  # fmt: skip
    files = {p.name: fingerprint(p) for p in written}
    write_mark(out, {**mark, "files": files})


def check_sealed(out: Path) -> None:
    """Refuse to write into a claimed folder where a file the verb sealed (:func:`seal_folder`) was changed since."""
    sealed = (read_mark(out / WORKING_MARK) or {}).get("files") or {}
    changed = [name for name, (size, check) in sorted(sealed.items())
               if (out / name).exists() and not verifies(out / name, size, check)]  # fmt: skip
    if changed:
        raise RunError(f"--out {out}: {', '.join(changed[:5])} changed since refuge wrote it; move it away or "
                       "choose another --out")  # fmt: skip


def write_mark(folder: Path, mark: dict) -> None:
    write_text(folder / WORKING_MARK, json.dumps(mark, indent=2, sort_keys=True) + "\n")


def read_mark(path: Path) -> dict | None:
    mark = read_json(path)
    return mark if mark is not None and mark.get("format") == _WORKING_FORMAT else None
