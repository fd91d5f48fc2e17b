"""Sensitivity analyses and backtests an operator has already made, found once when the server starts.

They cost minutes to hours, so the web app does not run them; ``refuge serve
--results DIR`` shows those found under ``DIR`` (read-only, by their number in
this list, never by a path a request gives).
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pandas as pd

#: the most folders shown, the deepest they are looked for, the largest file read
MOST, DEPTH, LARGEST = 50, 4, 4 * 2**20


def find_analyses(root: Path) -> list[dict]:
    """Each sensitivity (``sensitivity.json``) or backtest (``scores.csv``) folder under ``root``, read."""
    found = []
    for marker, kind in (("sensitivity.json", "sensitivity"), ("scores.csv", "backtest")):
        for path in sorted(Path(root).rglob(marker)):
            depth = len(path.relative_to(root).parts)
            if depth <= DEPTH and len(found) < MOST and path.stat().st_size <= LARGEST:
                found.append(_READ[kind](path.parent, path.parent.relative_to(root).as_posix() or "."))
    return found


def _sensitivity(folder: Path, title: str) -> dict:
    meta = json.loads((folder / "sensitivity.json").read_text(encoding="utf-8"))
    return {
        "kind": "sensitivity",
        "title": f"sensitivity of {meta.get('scenario', '?')} ({meta.get('method', '?')}), {title}",
        "settings": {k: v for k, v in meta.items() if not isinstance(v, dict | list)},
        "words": _lines(folder / "drivers.txt"),
        "table": _records(folder / "indices.csv"),
        "image": _image(folder / "indices.png"),
    }


def _backtest(folder: Path, title: str) -> dict:
    table = folder / "summary.csv" if (folder / "summary.csv").exists() else folder / "scores.csv"
    return {
        "kind": "backtest",
        "title": f"backtest, {title}",
        "settings": {},
        "words": _lines(folder / "summary.md"),
        "table": _records(table),
        "image": _image(folder / "backtest.png"),
    }


_READ = {"sensitivity": _sensitivity, "backtest": _backtest}


def _records(path: Path) -> list[dict]:
    if not path.exists() or path.stat().st_size > LARGEST:
        return []
    return json.loads(pd.read_csv(path).head(500).to_json(orient="records"))


def _lines(path: Path) -> list[str]:
    if not path.exists() or path.stat().st_size > LARGEST:
        return []
    return [line for line in path.read_text(encoding="utf-8", errors="replace").splitlines() if line.strip()][:200]


def _image(path: Path) -> str | None:
    if not path.exists() or path.stat().st_size > LARGEST:
        return None
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")
