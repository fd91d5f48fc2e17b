"""Files written whole: to a temporary name, flushed and renamed, with Ctrl-C held until they are done.

A process killed at any point, ``kill -9`` included, leaves the old file or the
new one, never half of one; the checksums here are what manifests and seals record.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import threading
from collections.abc import Callable, Iterator
from pathlib import Path


def digest(settings: dict) -> str:
    """A short fingerprint of a run's settings: blocks and folders carry it."""
    return hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode()).hexdigest()[:32]


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@contextlib.contextmanager
def held_interrupts() -> Iterator[None]:
    """Hold Ctrl-C (SIGINT, SIGTERM) while a file is written; deliver it as ``KeyboardInterrupt`` afterwards.

    A signal arriving inside a library's file write (netCDF, Parquet) can leave its
    locks held and the file half-made; held here, it lands between writes instead.
    Outside the main thread (where Python delivers signals) this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = {sig: signal.signal(sig, lambda number, frame: caught.append(number)) for sig in _HELD}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if caught:
            raise KeyboardInterrupt


_HELD = (signal.SIGINT, signal.SIGTERM)


def write_file(path: Path, write: Callable[[Path], object]) -> Path:
    """Write ``path`` through ``write(temporary)``, flush it to disk and rename it into place."""
    temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with held_interrupts():
        try:
            write(temporary)
            fsync(temporary)
            os.replace(temporary, path)
        except BaseException:
            with contextlib.suppress(OSError):
                temporary.unlink()
            raise
    return path


def write_text(path: Path, text: str) -> Path:
    return write_file(path, lambda p: p.write_text(text, encoding="utf-8"))


def fsync(path: Path) -> None:
    flags = os.O_RDONLY | (os.O_DIRECTORY if path.is_dir() else 0)
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def read_json(path: Path) -> dict | None:
    """The JSON object in ``path``, or ``None`` if there is none to read."""
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def fingerprint(path: Path) -> tuple[int, str]:
    """What a manifest or a seal records of a file: its size and SHA-256."""
    return path.stat().st_size, sha256(path)


def verifies(path: Path, size: object, check: object) -> bool:
    """Whether ``path`` is a file with this :func:`fingerprint`."""
    try:
        return path.is_file() and path.stat().st_size == size and sha256(path) == check
    except OSError:
        return False
