"""Time to first answer: ``refuge --help`` and a 20-member run, the commands users start with.

Each command runs in a fresh process, after one warm-up run that fills the compiled-kernel cache.
Reports the median wall time and the median CPU time (user + system) of the child processes,
which a busy machine inflates less than wall time.

    .venv/bin/python benchmarks/startup.py            # this checkout
    .venv/bin/python benchmarks/startup.py OTHER/src  # another source tree, with this environment
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable


def timed(args: list[str], env: dict) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(args, check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def measure(make_args: Callable[[int], list[str]], env: dict, repeats: int) -> str:
    """Median wall and CPU of ``repeats`` runs of ``make_args(i)``, after one warm-up (``i = 0``)."""
    timed(make_args(0), env)  # warm-up: compiled kernels cached, files in the page cache
    walls, cpus = zip(*(timed(make_args(i), env) for i in range(1, repeats + 1)), strict=True)
    return f"wall {statistics.median(walls):.2f} s, cpu {statistics.median(cpus):.2f} s (median of {repeats})"


def main() -> None:
    env = {**os.environ}
    if len(sys.argv) > 1:
        env["PYTHONPATH"] = os.path.abspath(sys.argv[1])
    refuge = [sys.executable, "-m", "refuge"]
    print("refuge --help:", measure(lambda i: [*refuge, "--help"], env, 5))
    with tempfile.TemporaryDirectory() as folder:
        # a new folder each time: the same command on a finished folder only checks it (the run store)
        def run(i: int) -> list[str]:
            return [*refuge, "run", "baseline", "--members", "20", "--out", os.path.join(folder, f"b{i}")]

        print("refuge run baseline --members 20:", measure(run, env, 3))
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
