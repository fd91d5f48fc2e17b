"""Burundi 2015 end to end: ``refuge flee`` against Flee 3.1 on Flee's own scenario folder, side by side.

* refuge: ``python -m refuge flee <burundi> --out <tmp>`` as a fresh process: interpreter start,
  imports, reading and checking the folder, the run, ``out.csv``, ``places.csv``, the plot and the
  run store's publish. Wall time and CPU time; then, in this process and warm, the run alone
  (:func:`refuge.systems.flee.simulate.simulate`): agent-steps per second and bytes per person.
  With ``--groups``, the run alone on the ``counts`` and ``mean`` backends too, with their errors.
* Flee: Flee 3.1 (``pip install flee==3.1``, the ``bench`` extra; ``--flee-python`` may name another
  environment's interpreter) driven as Flee's github HEAD ``runscripts/run.py`` drives it (3.1 cannot
  run that script: it lacks ``read_period.read_sim_period``), as a fresh process: conflicts from
  ``conflicts.csv``, the day's new people from the rise of the camps' counts (``SumFromCamps``), and
  the same daily order. Its ARD is computed from its camp counts as refuge's is.

Each row carries the load average before it: the machine is shared, and Flee takes minutes, so half of
refuge's end-to-end runs come before Flee's and half after.

    python benchmarks/flee_burundi.py --groups --flee --json benchmarks/flee_burundi.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT.parent / "shared" / "flee" / "burundi"


def timed(command: list[str], cwd: str | None = None) -> dict:
    """Wall and CPU seconds of a fresh process running ``command`` (CPU: its own and its children's)."""
    load = os.getloadavg()[0]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, cwd=cwd)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{command[:4]} failed:\n{done.stderr[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "load_before": round(load, 2), "stdout": done.stdout}


def end_to_end(scenario: Path) -> tuple[dict, dict]:
    """``refuge flee`` on ``scenario`` as a fresh process: its timing row and the errors it wrote."""
    with tempfile.TemporaryDirectory() as tmp:
        row = timed([sys.executable, "-m", "refuge", "flee", str(scenario), "--out", f"{tmp}/out", "--seed", "0"])
        measured = json.loads(Path(tmp, "out", "errors.json").read_text())
    row.pop("stdout")
    return row, measured


def refuge_row(scenario: Path, repeats: int, meanwhile: Callable[[], None] = lambda: None) -> dict:
    """``refuge flee`` end to end ``repeats`` times (the median reported, every figure kept), then the run alone.

    ``meanwhile`` (Flee's run) is called between the first half of the repeats and the second, so that the
    two engines meet the shared machine over the same minutes.
    """
    from refuge.systems.flee.output import errors
    from refuge.systems.flee.reader import read_scenario
    from refuge.systems.flee.simulate import simulate

    rows = [end_to_end(scenario) for _ in range(repeats // 2)]
    meanwhile()
    rows += [end_to_end(scenario) for _ in range(repeats - repeats // 2)]
    measured = rows[0][1]
    row = {key: float(np.median([r[key] for r, _ in rows])) for key in ("wall_s", "cpu_s", "load_before")}
    row |= {"repeats_wall_s": [r["wall_s"] for r, _ in rows], "repeats_cpu_s": [r["cpu_s"] for r, _ in rows]}
    s = read_scenario(scenario)
    simulate(s, seed=0)  # compiled kernels loaded
    start_cpu, start = time.process_time(), time.perf_counter()
    run = simulate(s, seed=0)
    wall, cpu = time.perf_counter() - start, time.process_time() - start_cpu
    return {"engine": "refuge", **row, "run_wall_s": round(wall, 2), "run_cpu_s": round(cpu, 2),
            "agent_steps": run.agent_steps, "agent_steps_per_s": round(run.agent_steps / wall),
            "bytes_per_person": run.bytes_per_person, "people_at_end": int(run.total[-1]),
            "ARD": round(measured["ARD"], 4), "ARD_rescaled": round(measured["ARD_rescaled"], 4),
            "ARD_this_run": round(errors(run)["ARD"], 4)}  # fmt: skip


def group_row(scenario: Path, backend: str) -> dict:
    """The run alone on the ``counts`` or ``mean`` backend (groups of people), in this process."""
    from refuge.systems.flee.output import errors
    from refuge.systems.flee.reader import read_scenario
    from refuge.systems.flee.simulate import simulate

    s = read_scenario(scenario)
    load = os.getloadavg()[0]
    start_cpu, start = time.process_time(), time.perf_counter()
    run = simulate(s, seed=0, backend=backend)
    wall, cpu = time.perf_counter() - start, time.process_time() - start_cpu
    measured = errors(run)
    return {"engine": f"refuge {backend}", "load_before": round(load, 2), "run_wall_s": round(wall, 2),
            "run_cpu_s": round(cpu, 2), "people_at_end": round(float(run.total[-1])),
            "ARD": round(measured["ARD"], 4), "ARD_rescaled": round(measured["ARD_rescaled"], 4)}  # fmt: skip


def flee_row(scenario: Path, python: str) -> dict:
    with tempfile.TemporaryDirectory() as tmp:  # Flee writes its logs into the working folder
        row = timed([python, str(Path(__file__).resolve()), "--drive-flee", str(scenario.resolve())], cwd=tmp)
    result = json.loads(row.pop("stdout").strip().splitlines()[-1])
    return {"engine": "flee 3.1", **row, **result,
            "agent_steps_per_s": round(result["agent_steps"] / row["wall_s"])}  # fmt: skip


def drive_flee(folder: Path) -> None:
    """Flee 3.1 on ``folder`` in HEAD ``run.py``'s order; prints one JSON line: people, agent-steps, ARD."""
    import contextlib
    import csv

    import numpy as np
    from flee import InputGeography, flee, spawning
    from flee.datamanager import handle_refugee_data
    from flee.SimulationSettings import SimulationSettings

    inputs, source = folder / "input_csv", folder / "source_data"
    with open(inputs / "sim_period.csv", encoding="utf-8") as f:
        period = dict(row[:2] for row in csv.reader(f) if len(row) > 1)
    start, days = period["StartDate"], int(period["Length"])
    with open(os.devnull, "w") as quiet, contextlib.redirect_stderr(quiet):
        SimulationSettings.ReadFromYML(str(folder / "simsetting.yml"))
        SimulationSettings.log_levels.update(agent=0, link=0)  # as the README's timings: no per-agent files
        SimulationSettings.ConflictInputFile = str(inputs / "conflicts.csv")
        e = flee.Ecosystem()
        ig = InputGeography.InputGeography()
        ig.ReadConflictInputCSV(SimulationSettings.ConflictInputFile)
        ig.ReadLocationsFromCSV(str(inputs / "locations.csv"))
        ig.ReadLinksFromCSV(str(inputs / "routes.csv"))
        ig.ReadClosuresFromCSV(str(inputs / "closures.csv"))
        e, lm = ig.StoreInputGeographyInEcosystem(e)
        d = handle_refugee_data.RefugeeTable(csvformat="generic", data_directory=str(source), start_date=start,
                                             data_layout="data_layout.csv",
                                             population_scaledown_factor=SimulationSettings.optimisations[
                                                 "PopulationScaleDownFactor"])  # fmt: skip
        d.ReadL1Corrections(str(inputs / "registration_corrections.csv"))
        camps = e.get_camp_names()
        for name in camps:
            spawning.add_initial_refugees(e, d, lm[name])
        sim, data, steps = [], [], 0
        for t in range(days):
            ig.AddNewConflictZones(e, t)
            spawning.spawn_daily_displaced(e, t, d, SumFromCamps=True)
            spawning.refresh_spawn_weights(e)
            e.enact_border_closures(t)
            e.evolve()
            steps += e.numAgents()
            sim.append([lm[c].numAgents for c in camps])
            data.append([d.get_field(c, t) for c in camps])
    sim, data = np.array(sim, float), np.array(data, float)
    observed = data.sum(axis=1)
    in_camps = sim.sum(axis=1)
    rescaled = sim * (observed / np.where(in_camps > 0, in_camps, 1))[:, None]
    ard = (np.abs(sim - data).sum(axis=1) / np.maximum(observed, 1)).mean()
    ard_rescaled = (np.abs(rescaled - data).sum(axis=1) / np.maximum(observed, 1)).mean()
    print(json.dumps({"people_at_end": e.numAgents(), "agent_steps": steps, "ARD": round(float(ard), 4),
                      "ARD_rescaled": round(float(ard_rescaled), 4)}))  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", type=Path, default=DEFAULT)
    parser.add_argument("--flee", action="store_true", help="also run Flee 3.1 (minutes)")
    parser.add_argument("--groups", action="store_true", help="also run the counts and mean backends")
    parser.add_argument("--flee-python", default=sys.executable, help="an interpreter with flee==3.1 installed")
    parser.add_argument("--repeats", type=int, default=3, help="refuge's end-to-end runs (the median is compared)")
    parser.add_argument("--json", type=Path, help="write the rows here")
    parser.add_argument("--drive-flee", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.drive_flee:
        drive_flee(args.drive_flee)
        return
    flee: list[dict] = []

    def run_flee() -> None:
        if args.flee:
            flee.append(flee_row(args.scenario, args.flee_python))

    rows = [refuge_row(args.scenario, args.repeats, run_flee)]
    if args.groups:
        rows += [group_row(args.scenario, backend) for backend in ("counts", "mean")]
    if flee:
        rows += flee
        rows[0]["x_flee_end_to_end"] = round(flee[0]["wall_s"] / rows[0]["wall_s"], 1)
        rows[0]["x_flee_cpu"] = round(flee[0]["cpu_s"] / rows[0]["cpu_s"], 1)
    for row in rows:
        print(json.dumps(row))
    if args.json:
        meta = {"machine": platform.processor() or platform.machine(), "cpus": os.cpu_count(),
                "command": " ".join(["python", *sys.argv]), "scenario": str(args.scenario)}  # fmt: skip
        args.json.write_text(json.dumps({"meta": meta, "rows": rows}, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
