"""``refuge flee``: a scenario folder read, run and written through the run store (all or nothing)."""

from __future__ import annotations

import hashlib
import json
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ... import __version__
from ...backends.travel import BACKENDS
from ...errors import RunError
from ...store import check_output_path, publish_folder
from .output import camp_figure, write_run
from .reader import FleeScenario, read_scenario
from .simulate import simulate


def run_to_folder(scenario_folder: Path, out: Path, *, seed: int = 0, backend: str = "agents",
                  force: bool = False) -> dict:  # fmt: skip
    """Read ``scenario_folder`` (every check before anything is written), run it, publish ``out``; its errors.

    A folder already holding this run (same inputs, seed, backend, refuge) is left as it is.
    """
    if backend not in BACKENDS:
        raise RunError(f"--backend {backend!r} is not available for Flee scenarios; choose one of "
                       f"{', '.join(BACKENDS)}")
    scenario = read_scenario(scenario_folder)
    out = check_output_path(out)
    settings = {"refuge": __version__, "system": "flee", "scenario": str(Path(scenario_folder).resolve()),
                "inputs": fingerprint(Path(scenario_folder)), "seed": seed, "backend": backend}  # fmt: skip
    publish_folder(out, settings, lambda staging: _run_and_write(scenario, staging, seed, backend), force=force)
    return json.loads((out / "errors.json").read_text(encoding="utf-8"))


def _run_and_write(scenario: FleeScenario, staging: Path, seed: int, backend: str) -> None:
    """The run and its outputs, the plot's figure made in another thread while the people move.

    The thread starts after the first day: loading the compiled kernels and loading the plotting
    library both need the GIL, which the kernel's days leave free. Each day the people's thread
    needs the GIL back for a moment; at the interpreter's default switch interval it waited up to
    5 ms for it every day (~0.25 s of Burundi's 396 days), so the interval is shortened meanwhile.
    """
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-4)
    try:
        with ThreadPoolExecutor(max_workers=1) as pool:
            figure = []
            run = simulate(scenario, seed=seed, backend=backend,
                           running=lambda: figure.append(pool.submit(camp_figure, scenario)))  # fmt: skip
            write_run(run, staging, figure[0].result() if figure else None)
    finally:
        sys.setswitchinterval(interval)


def fingerprint(folder: Path) -> str:
    """A hash of every input file of a scenario folder, so a changed input is a different run."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(folder)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()
