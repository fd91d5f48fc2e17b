"""Run folders: published whole by one atomic rename, resumed from verified blocks, replaced only when refuge's.

A run into ``DIR`` works beside it, in ``DIR``'s parent:

* ``.DIR.lock``: held (``flock``) for the whole run, so a second run into the
  same folder is refused with the first one's process named, never interleaved;
* ``.DIR.partial/``: finished blocks of members, each with a record of the
  settings it belongs to and its checksum, so an interrupted run resumes from
  the blocks that match and verify, and recomputes the rest;
* ``.DIR.staging-PID/``: the finished folder being written, published by one
  atomic rename (an exchange when ``DIR`` already exists), so a reader sees the
  old folder or the new one, never a mixture.

``DIR/run.json`` is the manifest: the run's settings and every file refuge wrote
there with its size and SHA-256. refuge replaces a folder only when its manifest
verifies and lists everything in it, and deletes only files a manifest lists or
that its own working folders hold under its own names.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import fcntl
import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..errors import RunError
from .files import digest, fingerprint, fsync, held_interrupts, read_json, verifies, write_text
from .paths import check_output_path

MANIFEST = "run.json"
FORMAT = "refuge-run/1"
_PARTIAL_FORMAT = "refuge-partial/1"
_BLOCK_PREFIX = "block-"


@dataclass(frozen=True)
class Manifest:
    """What ``run.json`` says: the run's settings and the files written, name -> (bytes, sha256)."""

    settings: dict
    files: dict[str, tuple[int, str]]

    @classmethod
    def read(cls, folder: Path) -> Manifest | None:
        """The folder's manifest, or ``None`` where there is none or it is not refuge's."""
        try:
            data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
            if data.get("format") != FORMAT:
                return None
            files = {str(name): (int(size), str(check)) for name, (size, check) in data.pop("files").items()}
            data.pop("format")
            return cls(data, files)
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None

    def text(self) -> str:
        files = {name: [size, check] for name, (size, check) in sorted(self.files.items())}
        return json.dumps({"format": FORMAT, **self.settings, "files": files}, indent=2)

    def problems(self, folder: Path) -> list[str]:
        """Why ``folder`` does not hold exactly this manifest's files (and reports on them), intact; empty if so."""
        found = {p.name for p in folder.iterdir()} - {MANIFEST}
        problems = [f"{name} is not refuge's" for name in sorted(found - set(self.files) - DERIVED)]
        problems += [f"{name} is missing" for name in sorted(set(self.files) - found - DERIVED)]
        problems += [f"{name} was changed" for name in sorted(set(self.files) & found)
                     if not verifies(folder / name, *self.files[name])]  # fmt: skip
        return problems


def describe(settings: dict) -> str:
    """The settings that tell one run (or comparison, estimate, analysis) from another, in a few words."""
    shown = [f"{key} {settings[key]!r}" for key in _DESCRIBED if settings.get(key) is not None]
    return ", ".join(shown) or "other settings"


_DESCRIBED = ("scenario", "scenarios", "estimate", "method", "members", "seed", "backend")


class RunFolder:
    """One output folder and its working files, used as a context manager that holds the folder's lock.

    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> with RunFolder(root / "out", {"seed": 1}) as folder:
    ...     _ = write_text(folder.start_staging() / "a.txt", "hello")
    ...     _ = folder.publish()
    >>> sorted(p.name for p in (root / "out").iterdir())
    ['a.txt', 'run.json']
    """

    def __init__(self, out: Path, settings: dict, *, force: bool = False) -> None:
        self.out = check_output_path(out)
        self.settings = json.loads(json.dumps(settings, default=str))  # as run.json will give it back
        self.force = force
        parent, name = self.out.parent, self.out.name
        self.partial = parent / f".{name}.partial"
        self.staging = parent / f".{name}.staging-{os.getpid()}"
        self._lock_path = parent / f".{name}.lock"
        self._lock: int | None = None
        self._existing: Manifest | None = None

    # The lock -------------------------------------------------------------------------------------------------------

    def __enter__(self) -> RunFolder:
        self.check_replaceable()
        try:
            self.out.parent.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise RunError(f"--out {self.out}: its folder cannot be created ({err.strerror})") from None
        self._acquire()
        try:
            self._existing = self.check_replaceable()  # again, now that no other run can change it
            self._clear_stale()
        except BaseException:
            self._release()
            raise
        return self

    def __exit__(self, exc_type, *exc) -> None:
        with contextlib.suppress(OSError):
            _remove_own(self.staging)
        with contextlib.suppress(OSError):
            if exc_type and self.partial.is_dir() and not any(self.partial.glob(f"{_BLOCK_PREFIX}*.json")):
                _remove_own(self.partial)  # no finished block to resume from: a run that failed leaves nothing
        self._release()

    def _acquire(self) -> None:
        while True:
            try:
                fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as err:
                raise RunError(f"--out {self.out}: cannot write in {self.out.parent} ({err.strerror})") from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.read(fd, 4096).decode(errors="replace").strip() or "another process"
                os.close(fd)
                raise RunError(
                    f"--out {self.out}: another refuge run is writing there ({holder}); wait for it to finish, "
                    "or choose another --out"
                ) from None
            # the file may have been unlinked by the run that held it: lock the file that is there now
            try:
                same = os.fstat(fd).st_ino == os.stat(self._lock_path).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        os.ftruncate(fd, 0)
        os.write(fd, f"pid {os.getpid()}, started {time.strftime('%Y-%m-%d %H:%M:%S')}: {' '.join(sys.argv)}".encode())
        self._lock = fd

    def _release(self) -> None:
        if self._lock is None:
            return
        with contextlib.suppress(OSError):
            os.unlink(self._lock_path)
        os.close(self._lock)
        self._lock = None

    # What may be replaced -------------------------------------------------------------------------------------------

    def check_replaceable(self) -> Manifest | None:
        """Refuse an output folder that refuge may not replace; return its manifest if it has one."""
        out = self.out
        if not out.exists():
            return None
        if not out.is_dir():
            raise RunError(f"--out {out} is a file, not a folder; choose another --out")
        if not any(out.iterdir()):
            return None
        manifest = Manifest.read(out)
        if manifest is None:
            raise RunError(f"--out {out} exists and is not a refuge output folder (it has no {MANIFEST} "
                           "that refuge wrote); "
                           "refuge never deletes what it did not write: choose another --out")  # fmt: skip
        problems = manifest.problems(out)
        if problems:
            raise RunError(f"--out {out} holds files refuge did not write or that were changed since "
                           f"({'; '.join(problems[:5])}); move them away or choose another --out")  # fmt: skip
        if manifest.settings != self.settings and not self.force:
            raise RunError(f"--out {out} holds another run ({describe(manifest.settings)}; it differs in "
                           f"{differences(manifest.settings, self.settings)}); "
                           "choose another --out, or give --force to replace it")  # fmt: skip
        return manifest

    def completed(self) -> Manifest | None:
        """The folder's manifest if it already holds this very run, intact (then its working blocks go).

        Verified when the lock was taken: files are hashed once, not again here.
        """
        manifest = self._existing
        if manifest is not None and manifest.settings == self.settings:
            _remove_own(self.partial)  # left by a run killed between publishing and tidying up
            return manifest
        return None

    def _clear_stale(self) -> None:
        """Remove what killed runs into this folder left behind: their staging folders and temporary files."""
        for pattern in (f".{self.out.name}.staging-*", f".{self.out.name}.partial.new-*"):
            for stale in self.out.parent.glob(pattern):
                _remove_own(stale)
        if self.partial.exists():
            for temporary in self.partial.glob(".*.tmp-*"):
                temporary.unlink()

    # Blocks ---------------------------------------------------------------------------------------------------------

    def finished_blocks(self, expected: dict[int, int]) -> dict[int, list[str]]:
        """Blocks kept from an interrupted run of these settings: first member -> its files.

        ``expected`` maps each block's first member to its size. A block counts only if its
        record matches these settings and that size and its files verify; anything else in
        the partial folder is removed, and a partial folder of other settings is emptied.
        """
        marker = self.partial / "settings.json"
        mine = digest(self.settings)
        if self.partial.exists():
            try:
                same = json.loads(marker.read_text(encoding="utf-8")).get("digest") == mine
            except (OSError, ValueError, AttributeError):
                same = False
            if not same:
                _remove_own(self.partial)
                if self.partial.exists():
                    raise RunError(f"{self.partial} holds files refuge did not write; move them away")
        if not self.partial.exists():
            building = self.partial.with_name(f"{self.partial.name}.new-{os.getpid()}")
            building.mkdir()
            write_text(building / "settings.json", json.dumps({"format": _PARTIAL_FORMAT, "digest": mine,
                                                               "settings": self.settings}, indent=2, default=str))
            os.rename(building, self.partial)
        kept: dict[int, list[str]] = {}
        for record_path in self.partial.glob(f"{_BLOCK_PREFIX}*.json"):
            record = _read_record(record_path)
            first = record.get("first") if record else None
            files = record.get("files", {}) if record else {}
            if (record and record.get("digest") == mine and expected.get(first) == record.get("count")
                    and all(verifies(self.partial / n, size, check) for n, (size, check) in files.items())):
                kept[first] = sorted(files)
            else:
                for name in files:
                    with contextlib.suppress(OSError):
                        (self.partial / name).unlink()
                record_path.unlink()
        known = {name for files in kept.values() for name in files} | {"settings.json"}
        known |= {f"{_BLOCK_PREFIX}{first:09d}.json" for first in kept}
        for path in self.partial.iterdir():
            if path.name not in known and path.name.startswith((_BLOCK_PREFIX, "events-")):
                path.unlink()
        return kept

    def block_path(self, first: int, kind: str, suffix: str) -> Path:
        return self.partial / f"{kind}-{first:09d}{suffix}"

    def keep_block(self, first: int, count: int, files: list[Path]) -> None:
        """Record a finished block (its files already written in the partial folder) as one to resume from."""
        record = {
            "first": first,
            "count": count,
            "digest": digest(self.settings),
            "files": {p.name: fingerprint(p) for p in files},
        }
        write_text(self.partial / f"{_BLOCK_PREFIX}{first:09d}.json", json.dumps(record, indent=2))

    # Publishing -----------------------------------------------------------------------------------------------------

    def start_staging(self) -> Path:
        _remove_own(self.staging)
        self.staging.mkdir()
        return self.staging

    def publish(self) -> Manifest:
        """Write the manifest and put the staging folder in place of ``out`` in one atomic step."""
        names = sorted(p.name for p in self.staging.iterdir() if p.name != MANIFEST)
        files = {}
        for name in names:
            path = self.staging / name
            fsync(path)
            files[name] = fingerprint(path)
        manifest = Manifest(self.settings, files)
        write_text(self.staging / MANIFEST, manifest.text())
        fsync(self.staging)
        with held_interrupts():
            self.check_replaceable()
            if self.out.exists() and any(self.out.iterdir()):
                _exchange(self.staging, self.out)  # the old folder is now at the staging path
            else:
                os.replace(self.staging, self.out)  # onto nothing, or onto an empty folder
            fsync(self.out.parent)
        _remove_own(self.staging)
        _remove_own(self.partial)
        return manifest


def publish_folder(out: Path, settings: dict, write: Callable[[Path], object], *, force: bool = False) -> Manifest:
    """Write a whole folder at once through ``write(staging)`` and publish it, with the store's rules.

    For verbs whose work is quick (estimate, compare): no blocks, just the manifest, the lock and
    the atomic publish; a folder already holding the same settings is left as it is.
    """
    with RunFolder(out, settings, force=force) as folder:
        done = folder.completed()
        if done is not None:
            return done
        write(folder.start_staging())
        return folder.publish()


def differences(there: object, here: dict) -> str:
    """The settings that differ, as ``until 2011 there, 2015 here``."""
    there = there if isinstance(there, dict) else {}
    keys = [k for k in sorted(set(there) | set(here)) if there.get(k) != here.get(k)]

    def shown(value: object) -> str:
        text = repr(value)
        return text if len(text) <= 60 else text[:57] + "..."

    return "; ".join(f"{k} {shown(there.get(k))} there, {shown(here.get(k))} here" for k in keys[:4]) or "nothing"


def _read_record(path: Path) -> dict | None:
    record = read_json(path)
    return record if record is not None and isinstance(record.get("files"), dict) else None


def _remove_own(folder: Path) -> None:
    """Delete a working or replaced folder of refuge's: the files its manifest lists and refuge's own names only.

    Anything else found there stays, and so does the folder then.
    """
    if not folder.is_dir():
        return
    manifest = Manifest.read(folder)
    listed = set(manifest.files) if manifest else set()
    for path in folder.iterdir():
        name = path.name
        ours = (name in listed or name in _OUTPUT_NAMES or name.startswith((_BLOCK_PREFIX, "events-"))
                or (name.startswith(".") and ".tmp-" in name))  # fmt: skip
        if ours and path.is_file() and not path.is_symlink():
            path.unlink()
    with contextlib.suppress(OSError):
        folder.rmdir()


#: files refuge may add to a published folder later (``refuge report``): listed in its manifest when written
#: (:func:`add_derived`), checked like the rest from then on; a replaced folder loses them
DERIVED = frozenset({"report.html"})


#: the names of the files a run may write into its folder (staging folders of killed runs hold these)
_OUTPUT_NAMES = DERIVED | frozenset({
    MANIFEST, "settings.json", "annual.csv", "annual.parquet", "results.nc", "arrivals.png", "stocks.png",
    "trajectories.parquet", "journeys.csv", "journeys.png", "out.csv", "errors.json", "places.csv", "camps.png",
})


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> None:
    """Swap two folders atomically (Linux ``renameat2``); elsewhere, two renames a moment apart."""
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is not None:
        if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
            return
        code = ctypes.get_errno()
        if code not in (errno.ENOSYS, errno.EINVAL):
            raise OSError(code, os.strerror(code), str(b))
    aside = a.with_name(a.name + ".old")
    os.rename(b, aside)
    os.rename(a, b)
    os.rename(aside, a)
