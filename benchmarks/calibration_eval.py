"""Throughput of the calibration's likelihood: batches of parameter sets through the mean backend, 1990-2025.

Each parameter set runs twice (route permeability 1 and 2: see ``calibration/latent.py``), then is
scored against every target. Prints, per batch size, the wall and CPU time of one batched
log-posterior call in this process, and the CPU time per parameter set, which a busy machine
inflates less than wall time.

    .venv/bin/python benchmarks/calibration_eval.py [BATCH ...]
    PYTHONPATH=OTHER/src .venv/bin/python benchmarks/calibration_eval.py   # another source tree
"""

import os
import sys
import time

import numpy as np

import refuge
from refuge.systems.korea.calibration.likelihood import Targets
from refuge.systems.korea.calibration.priors import parameter_space
from refuge.systems.korea.calibration.sampler import Evaluator
from refuge.systems.korea.evidence import record_end


def main(batches: list[int]) -> None:
    space, targets = parameter_space(), Targets(record_end())
    points = space.draw(max(batches), np.random.default_rng(0))
    evaluator = Evaluator(space, targets)
    evaluator(points[:4])  # compiled kernels loaded, data read
    print(f"refuge from {os.path.dirname(refuge.__file__)}, 1990-{record_end()}")
    print("batch  wall s  cpu s  cpu ms per parameter set")
    for batch in batches:
        wall, cpu = time.perf_counter(), time.process_time()
        evaluator(points[:batch])
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        print(f"{batch:5d}  {wall:6.2f}  {cpu:5.2f}  {1e3 * cpu / batch:6.1f}")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [32, 128, 512])
