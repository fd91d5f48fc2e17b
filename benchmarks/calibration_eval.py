"""Throughput of the calibration's likelihood: batches of parameter sets through the mean backend, 1990-2019.

Usage: python benchmarks/calibration_eval.py [BATCH ...]
Prints, per batch size and number of worker processes, the wall time of one batched log-posterior call.
"""

import sys
import time

import numpy as np

from refuge.systems.korea.calibration.likelihood import Targets
from refuge.systems.korea.calibration.priors import parameter_space
from refuge.systems.korea.calibration.sampler import Evaluator


def main(batches: list[int]) -> None:
    space, targets = parameter_space(), Targets(2019)
    points = space.draw(max(batches), np.random.default_rng(0))
    print("workers  batch  seconds  evaluations/s")
    for workers in (1, 2):
        evaluator = Evaluator(space, targets, workers=workers)
        evaluator(points[:4])  # start the workers
        for batch in batches:
            start = time.perf_counter()
            evaluator(points[:batch])
            seconds = time.perf_counter() - start
            print(f"{workers:7d}  {batch:5d}  {seconds:7.2f}  {batch / seconds:13.0f}")
        evaluator.close()


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [32, 128, 1000])
