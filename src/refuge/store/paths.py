"""Where output may go: an output path refused early, with the reason, when no folder could ever be written there."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from ..errors import RunError

#: the longest output path accepted (Linux's PATH_MAX less room for refuge's own names)
MAX_PATH = 3_800


def check_output_path(out: Path) -> Path:
    """The output folder as an absolute path, refused early when it can never be written."""
    text = str(out)
    if not text or "\x00" in text:
        raise RunError(f"--out {out!r} is not a usable path")
    if len(text) > MAX_PATH:
        raise RunError(f"--out is {len(text):,} characters long; at most {MAX_PATH:,} are allowed")
    try:
        out = Path(os.path.abspath(out))
    except OSError as err:
        raise RunError(f"--out {out}: {err.strerror}") from None
    if out == out.parent:
        raise RunError(f"--out {out} is the root of the file system; choose a folder of its own")
    if out.is_symlink():
        raise RunError(f"--out {out} is a symbolic link; give the folder itself ({os.path.realpath(out)})")
    if any(len(part.encode()) > 200 for part in out.parts):
        raise RunError(f"--out {out}: a folder name is longer than 200 bytes")
    try:
        here = Path.cwd()
    except OSError:
        here = None
    if here is not None and (here == out or out in here.parents):
        raise RunError(f"--out {out} is the current folder or holds it; a run replaces its folder whole, "
                       "so run from outside it or choose another --out")  # fmt: skip
    ancestor = nearest_existing(out.parent)
    if not ancestor.is_dir():
        raise RunError(f"--out {out}: {ancestor} is a file, so no folder can be made under it")
    try:
        with tempfile.TemporaryFile(dir=ancestor):
            pass
    except OSError as err:
        raise RunError(f"--out {out}: {ancestor} cannot be written ({err.strerror})") from None
    return out


def nearest_existing(path: Path) -> Path:
    """``path`` or its closest ancestor that exists: where a folder would be made, and whose disk it would use."""
    while not path.exists():
        path = path.parent
    return path
