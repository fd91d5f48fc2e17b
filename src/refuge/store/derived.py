"""Pages made later from a folder's results (``refuge report``): written only over refuge's own, then vouched for."""

from __future__ import annotations

from pathlib import Path

from ..errors import RunError
from .files import fingerprint, verifies, write_text
from .runs import MANIFEST, Manifest
from .working import WORKING_MARK, read_mark, write_mark


def check_derived(path: Path) -> None:
    """Refuse to overwrite a derived file (``report.html``) that its folder's manifest, or the seal of a claimed
    folder (:func:`seal_folder`), does not vouch for."""
    if not path.exists():
        return
    manifest = Manifest.read(path.parent)
    if manifest is not None:
        listed = manifest.files.get(path.name)
    else:
        mark = read_mark(path.parent / WORKING_MARK)
        if mark is None or "files" not in mark:  # not sealed: the verb is writing, or was interrupted
            return
        listed = mark["files"].get(path.name)
    if listed is None or not verifies(path, *listed):
        raise RunError(f"{path} was not written by refuge or was changed since; move it away to write a new one")


def add_derived(path: Path) -> None:
    """List a derived file just written in its folder's manifest (or seal), so that an edited copy is never lost
    unseen."""
    entry = fingerprint(path)
    manifest = Manifest.read(path.parent)
    if manifest is not None:
        write_text(path.parent / MANIFEST, Manifest(manifest.settings, {**manifest.files, path.name: entry}).text())
        return
    mark = read_mark(path.parent / WORKING_MARK)
    if mark is not None and "files" in mark:
        write_mark(path.parent, {**mark, "files": {**mark["files"], path.name: list(entry)}})
