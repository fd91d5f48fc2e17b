"""Running a scenario into a folder: resumable, and never half-written.

Finished blocks of members are kept in a hidden ``.NAME.partial`` folder next
to the output, so an interrupted run picks up where it stopped when started
again with the same settings. The output itself is written to a staging folder
and moved into place only when complete.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import xarray as xr

from . import __version__, journeys, plots
from .backends.agents import Agents
from .errors import RunError
from .korea import north_korea
from .results import Results
from .scenarios import Scenario
from .simulation import Progress, iterate_blocks

MARKER = "run.json"


def run_to_folder(
    scenario: Scenario,
    out: Path,
    *,
    members: int,
    seed: int,
    backend: str,
    block: int = 5_000,
    progress: Progress | None = None,
    trajectories: bool = False,
    calibrated: bool = True,
    predictive: bool = True,
) -> Results:
    """Run ``scenario`` and write tables, plots and provenance to ``out``; return the results.

    ``trajectories`` (agents backend only) also writes every person's moves and their journeys.
    ``calibrated`` draws members' parameters from the shipped posterior (see ``refuge.run``);
    ``predictive`` plots predictive intervals of arrivals (the misfit included) rather than the ensemble's spread.
    """
    out = Path(out)
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / MARKER).exists())):
        raise RunError(f"--out {out} exists and is not a refuge output folder; choose another folder")
    settings = {
        "refuge": __version__,
        "scenario": scenario.name,
        "source": scenario.source,
        "levers": [lever.model_dump(by_alias=True) for lever in scenario.levers],
        "parameters": scenario.parameters,
        "members": members,
        "seed": seed,
        "backend": backend,
        "block": block,
        "member_parameters": _parameter_source(calibrated),
    }
    recorder = None
    if trajectories:
        if backend != "agents":
            raise RunError(f"--trajectories needs --backend agents, not {backend!r}: only agents are people")
        settings["trajectories"] = True
        recorder = Agents(record=True)
    partial = out.parent / f".{out.name}.partial"
    done = _finished_blocks(partial, settings)
    for first, part in iterate_blocks(
        scenario, members=members, seed=seed, backend=recorder or backend, block=block, progress=progress, skip=done,
        calibrated=calibrated,
    ):
        if recorder:
            recorder.take_events(first).to_parquet(partial / f"events-{first:09d}.parquet", index=False)
        part.data.to_netcdf(partial / f"block-{first:09d}.nc")
    model = north_korea()
    blocks = sorted(partial.glob("block-*.nc"))
    results = Results.concat([Results(xr.load_dataset(path), model) for path in blocks])
    events = pd.concat([pd.read_parquet(p) for p in sorted(partial.glob("events-*.parquet"))]) if recorder else None
    _publish(results, settings, out, events, predictive)
    shutil.rmtree(partial)
    return results


def _parameter_source(calibrated: bool) -> str:
    from .calibration.posterior import shipped_posterior

    posterior = shipped_posterior() if calibrated else None
    if posterior is None:
        return "defaults"
    meta = posterior.provenance
    return f"posterior to {meta['settings']['until']} (data {meta['data_version']}, {meta['created']})"


def _finished_blocks(partial: Path, settings: dict) -> frozenset[int]:
    marker = partial / "settings.json"
    if partial.exists() and marker.exists() and json.loads(marker.read_text()) == settings:
        return frozenset(int(p.stem.removeprefix("block-")) for p in partial.glob("block-*.nc"))
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    marker.write_text(json.dumps(settings, indent=2))
    return frozenset()


def _publish(results: Results, settings: dict, out: Path, events: pd.DataFrame | None = None,
             predictive: bool = True) -> None:
    staging = out.parent / f".{out.name}.staging"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    results.save(staging)
    plots.arrivals(results, staging / "arrivals.png", predictive=predictive)
    plots.stocks(results, staging / "stocks.png")
    if events is not None:
        journeys.write(events, staging)
    (staging / MARKER).write_text(json.dumps(settings, indent=2))
    if out.exists():
        shutil.rmtree(out)
    staging.rename(out)
