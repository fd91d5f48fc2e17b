"""The floor of a counts ensemble: draws per member-week times the cost of each draw.

Runs the baseline with a wrapper round the counts backend that counts, each week,
the draws the kernel makes (departures draws of stocks with people and hazard;
conditional binomials of a split, at most one fewer than the stock's flows; Philox
blocks of the one-by-one assignments), then times a Philox block and binomial
draws like the kernel's on one thread. Their product over 10,000 members and
2,392 weeks, shared by the cores, is the time the draws alone need.

    python benchmarks/draw_cost.py --members 200
"""

from __future__ import annotations

import argparse
import os
import time

import numba as nb
import numpy as np

import refuge
from refuge.backends.counts import _ONE_BY_ONE, CountsBackend
from refuge.backends.random import binomial, uniforms
from refuge.systems.korea.system import TIMELINE


class Counting:
    """The counts backend, counting its draws from the state before and the moves after each week."""

    name = "counts"
    dtype = np.int64

    def __init__(self, model, keys, timeline=None):
        self.inner = CountsBackend(model, keys, timeline)
        self.outflows = [np.flatnonzero(model.sources == s) for s in range(len(model.stocks))]
        self.draws = {"departures": 0, "split binomials (at most)": 0, "one-by-one blocks": 0}
        self.member_weeks = 0

    def step(self, state, rates, step, tally):
        people, before = state.copy(), tally.copy()
        self.inner.step(state, rates, step, tally)
        moved = tally - before
        self.member_weeks += state.shape[0]
        for s, flows in enumerate(self.outflows):
            if flows.size == 0:
                continue
            active = (people[:, s] > 0) & (rates[:, flows].sum(axis=1) > 0)
            left = moved[:, flows].sum(axis=1)
            self.draws["departures"] += int(active.sum())
            if flows.size > 1:
                self.draws["one-by-one blocks"] += int(np.ceil(left[(left > 0) & (left <= _ONE_BY_ONE)] / 4).sum())
                self.draws["split binomials (at most)"] += int((left > _ONE_BY_ONE).sum()) * (flows.size - 1)


@nb.njit
def _blocks(calls):
    total = 0.0
    for i in range(calls):
        total += uniforms(np.uint32(7), np.uint32(11), i, 12345, 0)[0]
    return total


@nb.njit
def _binomials(n, p, calls):
    total = 0
    for i in range(calls):
        total += binomial(n, p, np.uint32(7), np.uint32(11), i, 12345)
    return total


def per_call(function, *args, calls: int) -> float:
    function(*args, 10)
    start = time.perf_counter()
    function(*args, calls)
    return (time.perf_counter() - start) / calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=200)
    args = parser.parse_args()
    counting = {}

    def backend(model, keys, timeline=None):
        counting["backend"] = Counting(model, keys, timeline)
        return counting["backend"]

    backend.name = "counts"
    refuge.run("baseline", members=args.members, seed=1, backend=backend)
    draws = counting["backend"].draws
    weeks = counting["backend"].member_weeks
    print(f"load average {os.getloadavg()[0]:.2f}; draws per member-week, {args.members} members:")
    for kind, count in draws.items():
        print(f"  {kind}: {count / weeks:.1f}")
    block = per_call(_blocks, calls=20_000_000)
    print(f"Philox block (4 uniforms): {block * 1e9:.1f} ns")
    costs = []
    for n, p in [(30, 0.05), (300, 0.01), (3_000_000, 2e-4), (400, 0.3), (50_000, 0.02)]:
        costs.append(per_call(_binomials, n, p, calls=5_000_000))
        print(f"Binomial({n}, {p}): {costs[-1] * 1e9:.1f} ns")
    binomials = draws["departures"] + draws["split binomials (at most)"]
    week = (binomials * np.median(costs) + draws["one-by-one blocks"] * block) / weeks
    total = week * 10_000 * TIMELINE.steps / (os.cpu_count() or 1)
    print(f"draws alone: {week * 1e9:.0f} ns a member-week (median binomial cost); 10,000 members x "
          f"{TIMELINE.steps} weeks on {os.cpu_count()} cores: {total:.1f} s")  # fmt: skip


if __name__ == "__main__":
    main()
