"""Running a scenario into a folder: resumable, never half-written, never mixed with another run.

Blocks of members go to disk as they finish (:mod:`refuge.store` keeps them with
their settings and checksums), so an interrupted run resumes where it stopped
and memory stays bounded as members grow; the folder's tables and plots are then
written from the blocks one at a time and published in one atomic step.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd

from . import __version__
from .backends import get_backend
from .errors import RunError
from .model.timeline import Timeline
from .results import Results, ResultsWriter
from .scenarios import Scenario
from .simulation import Progress, blocks_on_cluster, check_ensemble, iterate_blocks
from .store import RunFolder, check_output_path, nearest_existing, write_file
from .systems import System, get_system


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
    force: bool = False,
    predictive: bool = True,
    client=None,
    system: str | System | None = None,
) -> Results:
    """Run ``scenario`` and write tables, plots and provenance to ``out``; return the results (read from ``out``).

    ``trajectories`` (agents backend only) also writes every person's moves and the system's journeys.
    ``calibrated`` draws members' parameters as the system says (see ``refuge.run``);
    ``predictive`` plots predictive intervals of arrivals (the misfit included) rather than the ensemble's spread.
    With a Dask ``client``, blocks run on its workers and are written here as they finish (same numbers).
    A folder holding another run is replaced only with ``force``; one holding this run
    intact is not run again; one holding anything refuge did not write is never touched.
    """
    system = get_system(system)
    model, timeline = system.model(), system.timeline
    check_run(members=members, seed=seed, backend=backend, trajectories=trajectories, out=Path(out),
              model=model, timeline=timeline, client=client, system=system)  # fmt: skip
    settings = {
        "refuge": __version__,
        "scenario": scenario.name,
        "source": scenario.source,
        "levers": [lever.model_dump(by_alias=True) for lever in scenario.levers],
        "parameters": scenario.parameters,
        "members": members,
        "seed": seed,
        "backend": backend,  # not the block size: results are the same whatever it is
        "member_parameters": system.parameter_source(calibrated),
        "trajectories": trajectories,
    }
    if not predictive:  # what the plots show: another choice, another run (predictive intervals, as before: no key)
        settings["bands"] = "ensemble"
    recorder = system.recorder() if trajectories else None
    with RunFolder(Path(out), settings, force=force) as folder:
        if folder.completed() is not None:
            if progress:
                progress(members * timeline.steps)
            return Results.open(folder.out / "results.nc", model)
        sizes = {first: min(block, members - first) for first in range(0, members, block)}
        done = folder.finished_blocks(sizes)
        work = dict(members=members, seed=seed, backend=recorder or backend, block=block, progress=progress,
                    skip=frozenset(done), calibrated=calibrated, timeline=timeline,
                    system=system)  # the model: each worker's own
        finished = blocks_on_cluster(client, scenario, **work) if client else iterate_blocks(scenario, **work)
        for first, part in finished:
            files = [write_file(folder.block_path(first, "block", ".npz"), part.save_block)]
            if recorder:
                events = recorder.take_events(first)
                files.append(write_file(folder.block_path(first, "events", ".parquet"),
                                        lambda p, e=events: e.to_parquet(p, index=False)))  # fmt: skip
            folder.keep_block(first, part.members, files)
        staging = folder.start_staging()
        blocks = [folder.block_path(first, "block", ".npz") for first in sorted(sizes)]
        _write_outputs(staging, blocks, system, timeline, {"scenario": scenario.name, "backend": backend, "seed": seed},
                       predictive=predictive)  # fmt: skip
        if recorder:
            events = pd.concat([pd.read_parquet(folder.block_path(f, "events", ".parquet")) for f in sorted(sizes)])
            system.write_trajectories(events, staging)
        folder.publish()
    return Results.open(folder.out / "results.nc", model)


def check_run(*, members: int, seed: int, backend: str, trajectories: bool, out: Path, model, timeline,
              client=None, system: str | System | None = None) -> None:  # fmt: skip
    """Refuse, before any work, a run that cannot finish: its numbers, backend or the room its results need."""
    check_ensemble(members, seed)
    get_backend(backend, system)
    out = check_output_path(out)
    if trajectories and backend != "agents":
        raise RunError(f"--trajectories needs --backend agents, not {backend!r}: only agents are people")
    if trajectories and client is not None:
        raise RunError("--trajectories records people here, not on a cluster: leave out --scheduler")
    disk_needed = members * (bytes_per_member(model, timeline) + len(model.outputs) * len(timeline.years) * 40)
    ancestor = nearest_existing(out)
    free = shutil.disk_usage(ancestor).free
    if disk_needed > free:
        raise RunError(f"members: {members:,} members need about {_gb(disk_needed)} of disk for their results; "
                       f"{ancestor} has {_gb(free)} free; run fewer members")  # fmt: skip
    memory_needed = members * (len(model.parameters) * 8 + 64)  # each member's parameters, kept for the run
    refuse_beyond_memory(memory_needed, f"members: {members:,} members", "run fewer members")


def check_in_memory(members: int, scenarios: int, model, timeline) -> None:
    """Refuse, before any work, a comparison whose scenarios' results would not fit in memory at once."""
    needed = 2 * members * scenarios * bytes_per_member(model, timeline)  # the blocks, and the ensemble joined
    refuse_beyond_memory(needed, f"members: {scenarios} scenarios of {members:,} members", "compare fewer members")


def bytes_per_member(model, timeline) -> int:
    """What a member's results hold: each year's flows, their clock and the stocks, for every stratum."""
    return len(timeline.years) * (2 * len(model.flows) + len(model.stocks)) * model.strata.size * 8


def refuse_beyond_memory(needed: int, what: str, advice: str) -> None:
    """Refuse work that needs more memory than the machine has free: ``what`` names the field and the value."""
    available = _available_memory()
    if available is not None and needed > available:
        raise RunError(f"{what} need about {_gb(needed)} of memory; {_gb(available)} is available; {advice}")


def _gb(n: float) -> str:
    return f"{n / 2**30:,.1f} GiB"


def _available_memory() -> int | None:
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def _write_outputs(folder: Path, blocks: list[Path], system: System, timeline: Timeline, attrs: dict, *,
                   predictive: bool) -> None:  # fmt: skip
    """Tables and ``results.nc`` written block by block, then the system's plots, read back from ``results.nc``."""
    model = system.model()
    import pyarrow as pa
    import pyarrow.parquet as pq

    with ResultsWriter(folder / "results.nc", model, timeline, attrs) as netcdf, \
            open(folder / "annual.csv", "w", encoding="utf-8", newline="") as csv:  # fmt: skip
        parquet = None
        for i, path in enumerate(blocks):
            with np.load(path) as arrays:
                part = Results.from_arrays(model, timeline, arrays["flows"], arrays["stocks"],
                                           first_member=int(arrays["first"]), clock=arrays.get("clock"),
                                           spread=arrays.get("spread"), **attrs)  # fmt: skip
            netcdf.append(part)
            tidy = part.tidy()
            tidy.to_csv(csv, index=False, header=i == 0)
            table = pa.Table.from_pandas(tidy, preserve_index=False)
            if parquet is None:
                parquet = pq.ParquetWriter(folder / "annual.parquet", table.schema)
            parquet.write_table(table)
        parquet.close()
    results = Results.open(folder / "results.nc", model)
    try:
        system.write_plots(results, folder, predictive=predictive)
    finally:
        results.data.close()
