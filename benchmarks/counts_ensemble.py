"""Speed and memory of the counts backend: the baseline, 1990-2035 in weekly steps.

Members draw their parameters from the shipped posterior (the default of
``refuge.run``) or all use the hand-set defaults. Each size runs in a fresh
process (after a one-year warm-up of the same size that loads the kernels it
uses, serial or parallel), so its peak resident memory is its own; the load
average before each run is reported with it. Run from the repository root:

    .venv/bin/python benchmarks/counts_ensemble.py            # 1,000 and 10,000 members
    .venv/bin/python benchmarks/counts_ensemble.py 2000 5000  # other sizes
"""

from __future__ import annotations

import json
import subprocess
import sys

WORKER = """
import json, os, resource, sys, time
import numba, refuge
from refuge.model.timeline import Timeline
from refuge.systems.korea.system import TIMELINE
members, calibrated = int(sys.argv[1]), sys.argv[2] == "posterior"
refuge.run("baseline", members=members, seed=0, calibrated=calibrated, timeline=Timeline(1990, 1990))  # compile
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
load = os.getloadavg()[0]
start, cpu = time.perf_counter(), time.process_time()
results = refuge.run("baseline", members=members, seed=1, calibrated=calibrated)
seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
steps = TIMELINE.steps
print(json.dumps({
    "members": members, "parameters": sys.argv[2], "seconds": seconds, "cpu_seconds": cpu, "load_before": load,
    "member_steps_per_second": members * steps / seconds,
    "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "rss_before_mib": before / 1024,
    "threads": numba.get_num_threads(),
    "arrivals_2009_median": float(results.quantiles("arrivals_south_korea").loc[2009, "q50"]),
}))
"""


def measure(members: int, parameters: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", WORKER, str(members), parameters], capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(sizes: list[int]) -> None:
    print(f"{'members':>8} {'parameters':>10} {'seconds':>8} {'CPU s':>7} {'member-steps/s':>15} "
          f"{'peak RSS MiB':>13} {'load':>5}")  # fmt: skip
    for members in sizes:
        for parameters in ("posterior", "defaults"):
            row = measure(members, parameters)
            print(
                f"{row['members']:>8} {parameters:>10} {row['seconds']:>8.2f} {row['cpu_seconds']:>7.2f} "
                f"{row['member_steps_per_second']:>15.3g} {row['peak_rss_mib']:>13.0f} {row['load_before']:>5.2f}"
            )


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [1_000, 10_000])
