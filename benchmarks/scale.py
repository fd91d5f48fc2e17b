"""The regime-collapse scenario with more than ten million people, one ensemble member, on this machine.

The model's at-risk pool (3 million in the border provinces) is raised to
7 million, as if the interior had already started north, and the scenario's own
inflow adds 60,000 a week through 2028, so over ten million people are
simulated one by one. Reports seconds per simulated year and bytes per person:
the columns' bytes (spare capacity included) and the process's peak resident
memory less its resident memory before the people were made, both divided by
the number of people (the peak includes the copy made when the table grows).

    python benchmarks/scale.py --at-risk 7000000 --start 2027 --end 2029 --json benchmarks/scale.json
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import resource
import time
from pathlib import Path

import numba as nb
import numpy as np

import refuge
from refuge.backends.agents.step import PARALLEL_FROM
from refuge.backends.random import member_keys
from refuge.model.timeline import Timeline
from refuge.scenarios.levers import compile_inputs
from refuge.simulation import simulate
from refuge.systems.korea.agents.agents import Agents


def peak_rss() -> int:
    """Peak resident memory of this process so far, in bytes (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def current_rss() -> int:
    """Resident memory of this process now, in bytes (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise OSError("no VmRSS in /proc/self/status")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--at-risk", type=int, default=7_000_000, help="people at risk at the start, both sexes")
    parser.add_argument("--start", type=int, default=2027)
    parser.add_argument("--end", type=int, default=2029)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    base = refuge.north_korea()
    model = dataclasses.replace(base, initial={**base.initial, "nk_at_risk": (args.at_risk // 2, args.at_risk // 2)})
    timeline = Timeline(args.start, args.end)
    inputs = compile_inputs(model, refuge.load_scenario("regime-collapse", model), timeline, {})
    warm = Timeline(args.start, args.start)
    half = PARALLEL_FROM // 2  # enough people for the parallel kernel, the one the run uses
    small = dataclasses.replace(model, initial={"nk_at_risk": (half, half)})
    simulate(small, compile_inputs(small, refuge.load_scenario("regime-collapse", small), warm, {}),
             Agents()(small, member_keys(0, 1), warm), 1)  # compile the kernels outside the clock  # fmt: skip
    before = current_rss()
    recorder = Agents()
    backend = recorder(model, member_keys(0, 1), timeline)
    years = []
    load = os.getloadavg()[0]
    start, cpu = time.perf_counter(), time.process_time()

    def tick(_done: int) -> None:
        years.append(time.perf_counter())

    flows, stocks, _ = simulate(model, inputs, backend, 1, progress=tick)
    total, cpu = time.perf_counter() - start, time.process_time() - cpu
    people = backend.people(0)
    per_year = np.diff([start, *years])
    moved = flows[0].sum(axis=(1, 2))
    report = {
        "people": people.count,
        "people_at_risk_at_start": args.at_risk,
        "years": [int(y) for y in timeline.years],
        "seconds_per_year": [round(float(s), 2) for s in per_year],
        "moves_per_year": [int(m) for m in moved],
        "seconds_total": round(total, 1),
        "cpu_seconds_total": round(cpu, 1),  # about threads x wall when the kernel really runs in parallel
        "load_before": load,
        "agent_steps_per_second": people.count * timeline.steps_per_year * len(years) / total,
        "column_bytes_per_person": people.bytes_per_person,
        "column_bytes_incl_spare_per_person": round(people.nbytes / people.count, 2),
        "peak_rss_growth_per_person": round((peak_rss() - before) / people.count, 2),
        "threads": nb.get_num_threads(),
        "stocks_at_end": {s.name: int(stocks[0, -1, i].sum()) for i, s in enumerate(model.stocks)},
    }
    print(json.dumps(report, indent=2))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
