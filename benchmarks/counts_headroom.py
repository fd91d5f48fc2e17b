"""The counts backend before and after, side by side in one process: speed, where a run goes, same numbers.

An earlier revision's package is imported as ``refuge_before`` (see
``before_after.py``); each repeat runs the baseline on ``counts`` with that
revision and with this checkout, one after the other, so both see the same
machine. For each run it prints the wall and CPU seconds (CPU over wall near 2
means both cores worked, near 1 one), the load average before it, and where the
wall time went: the backend's ``step`` (the kernel: draws and their
bookkeeping), ``Model.rates`` (the hazards, Python functions of the system),
the clock of time abroad, and the rest (the weekly loop's own array work,
inputs, results). Then it says whether the two revisions gave the same flows
and stocks, for the timed seed and for a few more seeds at sizes that take the
serial and the parallel kernel, and counts the draws per member-week
(``draw_cost.py``'s counting, on ``--draw-members`` members).

    python benchmarks/counts_headroom.py --rev main --members 10000 --repeats 2
    python benchmarks/counts_headroom.py --rev main --members 2000 --last 1999 --repeats 1   # a quick look
"""

from __future__ import annotations

import argparse
import importlib
import os
import tempfile
import time
from pathlib import Path

import numpy as np

import refuge
from before_after import earlier
from draw_cost import Counting


class Stopwatch:
    """Wall seconds spent in a few named parts of a run, by wrapping the functions that do them."""

    def __init__(self):
        self.seconds: dict[str, float] = {}

    def wrap(self, owner, attribute: str, part: str) -> None:
        inner = getattr(owner, attribute)
        seconds = self.seconds

        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return inner(*args, **kwargs)
            finally:
                seconds[part] = seconds.get(part, 0.0) + time.perf_counter() - start

        timed.inner = inner
        setattr(owner, attribute, timed)


def module(package, name: str):
    """``package``'s module ``name`` (refuge imports its parts on first use)."""
    return importlib.import_module(f"{package.__name__}.{name}")


def instrument(package, watch: Stopwatch) -> None:
    """Time ``package``'s counts kernel, hazards and clock from now on (class attributes, so every run)."""
    watch.wrap(module(package, "backends.counts").CountsBackend, "step", "kernel")
    watch.wrap(module(package, "model.definition").Model, "rates", "hazards")
    watch.wrap(module(package, "simulation").Clock, "advance", "clock")


def run(package, members: int, seed: int, first: int, last: int):
    timeline = module(package, "model.timeline").Timeline(first, last)
    return package.run("baseline", members=members, seed=seed, backend="counts", timeline=timeline)


def arrays(results) -> tuple[np.ndarray, np.ndarray]:
    return results.data.flows.values, results.data.stocks.values


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rev", default="main", help="the revision to compare with (default: main)")
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--first", type=int, default=1990)
    parser.add_argument("--last", type=int, default=2035)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--check-seeds", type=int, nargs="*", default=[0, 2, 3, 7], help="more seeds compared")
    parser.add_argument("--draw-members", type=int, default=200, help="members of the run that counts draws")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        packages = {args.rev: earlier(args.rev, Path(folder)), "this checkout": refuge}
        watches = {name: Stopwatch() for name in packages}
        for name, package in packages.items():
            run(package, args.members, 0, args.first, args.first + 1)  # compile and load the kernels outside the clock
            instrument(package, watches[name])
        weeks = module(refuge, "model.timeline").Timeline(args.first, args.last).steps
        print(f"{args.members} members x {weeks} weeks ({args.first}-{args.last}), seed {args.seed}, "
              f"{os.cpu_count()} cores", flush=True)  # fmt: skip
        results = {}
        for repeat in range(args.repeats):
            for name, package in packages.items():
                watch = watches[name]
                watch.seconds.clear()
                load = os.getloadavg()[0]
                start, cpu = time.perf_counter(), time.process_time()
                results[name] = arrays(run(package, args.members, args.seed, args.first, args.last))
                wall, cpu = time.perf_counter() - start, time.process_time() - cpu
                parts = dict(watch.seconds)
                parts["rest"] = wall - sum(parts.values())
                split = ", ".join(f"{part} {s:.1f} s ({s / wall:.0%})" for part, s in parts.items())
                print(f"{repeat} {name:>14}: {wall:6.1f} s wall, {cpu:6.1f} s CPU (CPU/wall {cpu / wall:.2f}), "
                      f"{wall / (args.members * weeks) * 1e6:.2f} us a member-week, load {load:.2f}\n"
                      f"{'':>18}{split}", flush=True)  # fmt: skip
        same = all(np.array_equal(a, b) for a, b in zip(*results.values(), strict=True))
        print(f"same flows and stocks, seed {args.seed}, {args.members} members: {same}")
        for seed in args.check_seeds:
            for members in (30, 1_200):  # the serial kernel, and the parallel one
                pairs = [arrays(run(p, members, seed, args.first, min(args.last, args.first + 15)))
                         for p in packages.values()]  # fmt: skip
                same = all(np.array_equal(a, b) for a, b in zip(*pairs, strict=True))
                print(f"same flows and stocks, seed {seed}, {members} members, {args.first}-"
                      f"{min(args.last, args.first + 15)}: {same}", flush=True)  # fmt: skip
    draws_per_member_week(args.draw_members)


def draws_per_member_week(members: int) -> None:
    counting = {}

    def backend(model, keys, timeline=None):
        counting["backend"] = Counting(model, keys, timeline)
        return counting["backend"]

    backend.name = "counts"
    refuge.run("baseline", members=members, seed=1, backend=backend)
    weeks = counting["backend"].member_weeks
    draws = ", ".join(f"{kind} {count / weeks:.1f}" for kind, count in counting["backend"].draws.items())
    print(f"draws per member-week ({members} members, this checkout): {draws}")


if __name__ == "__main__":
    main()
