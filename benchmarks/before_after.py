"""A baseline run (or the agents' walk of ``peers.py``) with this checkout and an earlier revision, in one process.

The earlier revision's ``src/refuge`` is exported with ``git archive`` into a
temporary folder as the package ``refuge_before`` (refuge imports itself
relatively, so it runs under another name), so both see the same machine load.
Prints each run's wall and CPU seconds, the load average, and whether the
two revisions gave the same numbers.

    python benchmarks/before_after.py --rev main --members 2000 --repeats 3
    python benchmarks/before_after.py --rev main --backend agents --members 1 --until 1992
    python benchmarks/before_after.py --rev main --torus 10000 --repeats 5   # agent-steps/s on the torus
"""

from __future__ import annotations

import argparse
import importlib
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import numpy as np

import peers
import refuge

ROOT = Path(__file__).resolve().parents[1]


def earlier(rev: str, folder: Path):
    """Revision ``rev`` of the package, imported as ``refuge_before``."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "src/refuge"], capture_output=True, check=True)
    tar = folder / "before.tar"
    tar.write_bytes(archive.stdout)
    with tarfile.open(tar) as file:
        file.extractall(folder, filter="data")
    (folder / "src" / "refuge").rename(folder / "refuge_before")
    sys.path.insert(0, str(folder))
    package = importlib.import_module("refuge_before")
    # systems are registered by absolute module name: without this the earlier engine would run this
    # checkout's system (its model, hazards and agents), not its own
    systems = importlib.import_module("refuge_before.systems")
    systems._MODULES = {name: "refuge_before" + path.removeprefix("refuge") for name, path in systems._MODULES.items()}
    return package


def timed(package, members: int, seed: int, backend: str, until: int | None) -> tuple[float, float, np.ndarray]:
    timeline = package.simulation.Timeline(1990, until) if until else None
    start, cpu = time.perf_counter(), time.process_time()
    flows = package.run("baseline", members=members, seed=seed, backend=backend, timeline=timeline).data.flows.values
    return time.perf_counter() - start, time.process_time() - cpu, flows


def timed_torus(package: str, agents: int, steps: int) -> tuple[float, float, np.ndarray]:
    """``steps`` steps of ``peers.py``'s torus walk through ``package``'s engine loop (people built outside the
    clock): wall and CPU seconds, and the flows it recorded."""
    return peers.refuge_flows(agents, steps, package)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rev", default="main")
    parser.add_argument("--members", type=int, default=2_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--backend", default="counts")
    parser.add_argument("--until", type=int, help="last year simulated (default: the timeline's)")
    parser.add_argument("--torus", type=int, metavar="AGENTS", help="time the agents' torus walk of peers.py instead")
    parser.add_argument("--agent-steps", type=float, default=2e7, help="with --torus: agent-steps a repeat")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        packages = {args.rev: earlier(args.rev, Path(folder)), "this checkout": refuge}
        if args.torus:
            torus(packages, args)
            return
        for package in packages.values():
            # compile and load the kernels this size uses outside the clock
            package.run("baseline", members=args.members, seed=0, backend=args.backend,
                        timeline=package.simulation.Timeline(1990, 1990))  # fmt: skip
        results = {}
        for repeat in range(args.repeats):
            for name, package in packages.items():
                load = os.getloadavg()[0]
                wall, cpu, results[name] = timed(package, args.members, args.seed, args.backend, args.until)
                print(f"{repeat} {name:>14}: {wall:6.2f} s wall, {cpu:6.2f} s CPU, load {load:.2f}", flush=True)
        same = np.array_equal(*results.values())
        print(f"same numbers for seed {args.seed}: {same}")


def torus(packages: dict, args) -> None:
    steps = max(5, int(args.agent_steps // args.torus))
    results = {}
    for repeat in range(args.repeats):
        for name, package in packages.items():
            load = os.getloadavg()[0]
            wall, cpu, results[name] = timed_torus(package.__name__, args.torus, steps)
            print(f"{repeat} {name:>14}: {args.torus * steps / wall:.3g} agent-steps/s, {wall:6.2f} s wall, "
                  f"{cpu:6.2f} s CPU, load {load:.2f}", flush=True)  # fmt: skip
    print(f"same moves: {np.array_equal(*results.values())}")


if __name__ == "__main__":
    main()
