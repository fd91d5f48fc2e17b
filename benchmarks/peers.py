"""One movement model, four engines, one run: refuge's agents backend, Flee 3.1, Mesa 3 and a compiled ceiling.

The model: a 10x10 torus of places; every step each agent moves with probability
0.3 to one of its four neighbours, chosen uniformly. The same graph, agents and
steps go to each engine:

* refuge: a :class:`refuge.model.definition.Model` with one stock per place and one
  flow per directed edge, hazard ``-ln(0.7)/4`` each (so the chance to leave in a
  step is 0.3, split evenly), stepped by the ``agents`` backend. The rates are
  constant, so they are evaluated once and the backend's ``step`` is timed;
* Flee: all places are towns with move chance 0.3, links of length 1 (shorter than
  the daily move distance), awareness level 1; agents added with ``addAgent(location, {})``
  (``insertAgent`` fails in Flee 3.1 on a missing argument);
* Mesa 3: a ``Network`` discrete space on the torus graph, ``CellAgent`` agents that
  move to ``cell.neighborhood.select_random_cell()``, stepped with ``shuffle_do``;
* ceiling: the same walk written directly in Numba over an array of positions,
  parallel over both cores, with Numba's per-thread generator; since these agents
  never interact, each thread takes its agents through every step in one go.

Reports agent-steps per second and bytes per agent (tracemalloc peak while the
agents are built, divided by their number), and the ratios to refuge.

    python benchmarks/peers.py --sizes 10000 100000 1000000 --json benchmarks/peers.json
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import os
import platform
import tempfile
import time
import tracemalloc
from pathlib import Path

import numba as nb
import numpy as np

SIDE = 10
MOVE = 0.3


def torus() -> np.ndarray:
    """Neighbours of each place, ``(100, 4)``: right, left, down, up, wrapping around."""
    places = np.arange(SIDE * SIDE)
    row, col = divmod(places, SIDE)
    return np.stack([row * SIDE + (col + 1) % SIDE, row * SIDE + (col - 1) % SIDE,
                     ((row + 1) % SIDE) * SIDE + col, ((row - 1) % SIDE) * SIDE + col], axis=1)  # fmt: skip


# -- refuge -----------------------------------------------------------------------


def _move(s, d, p):
    return p.move_hazard


def refuge_model(agents: int):
    from refuge.model.definition import Flow, Model, Parameter, Stock

    neighbours = torus()
    stocks = tuple(Stock(f"place_{i}", f"place {i}", "a place on the torus") for i in range(SIDE * SIDE))
    flows = tuple(Flow(f"move_{i}_{j}", f"place_{i}", f"place_{j}", _move, ()) for i in range(SIDE * SIDE)
                  for j in neighbours[i])  # fmt: skip
    hazard = Parameter("move_hazard", -math.log(1 - MOVE) / 4, "per step", "hazard of each move", ())
    per_place = agents // (SIDE * SIDE)
    initial = {s.name: (per_place // 2, per_place - per_place // 2) for s in stocks}
    return Model("torus", stocks, flows, (), (hazard,), initial, ())


def build_refuge(agents: int):
    from refuge.backends.agents import Agents
    from refuge.backends.random import member_keys
    from refuge.model.definition import DriverView, ParameterView

    model = refuge_model(agents)
    backend = Agents(heterogeneous=False)(model, member_keys(0, 1))
    state = model.initial_state(1, dtype=np.int64)
    rates = model.rates(state, DriverView({}), ParameterView({"move_hazard": model.parameter("move_hazard").value}))
    return backend, state, rates


def run_refuge(agents: int, steps: int) -> tuple[float, float]:
    backend, state, rates = build_refuge(agents)
    tally = np.zeros(rates.shape, dtype=np.int64)
    backend.step(state, rates, 0, tally)  # compile outside the clock
    start = time.perf_counter()
    for step in range(1, steps):
        backend.step(state, rates, step, tally)
    tally[:] = 0
    backend.step(state, rates, steps, tally)
    seconds = time.perf_counter() - start
    return seconds, tally.sum() / agents


# -- Flee -------------------------------------------------------------------------

_FLEE_SETTINGS = """
log_levels: {agent: 0, link: 0, camp: 0, init: 0}
spawn_rules: {take_from_population: false, camps_are_sinks: false}
move_rules: {max_move_speed: 360.0, max_walk_speed: 360.0, awareness_level: 1}
"""


def build_flee(agents: int):
    from flee import flee
    from flee.SimulationSettings import SimulationSettings

    with tempfile.NamedTemporaryFile("w", suffix=".yml", delete=False) as file:
        file.write(_FLEE_SETTINGS)
    quiet = io.StringIO()
    with contextlib.redirect_stderr(quiet), contextlib.redirect_stdout(quiet):
        SimulationSettings.ReadFromYML(file.name)
        world = flee.Ecosystem()
        places = [world.addLocation(f"p{i}", x=i % SIDE, y=i // SIDE, location_type="town", movechance=MOVE)
                  for i in range(SIDE * SIDE)]  # fmt: skip
        for i, (right, _, down, _) in enumerate(torus()):
            world.linkUp(f"p{i}", f"p{right}", 1.0)
            world.linkUp(f"p{i}", f"p{down}", 1.0)
        for k in range(agents):
            world.addAgent(places[k % len(places)], {})
    os.unlink(file.name)
    return world


def run_flee(agents: int, steps: int) -> tuple[float, float]:
    world = build_flee(agents)
    quiet = io.StringIO()
    seconds = 0.0
    with contextlib.redirect_stderr(quiet), contextlib.redirect_stdout(quiet):
        for _ in range(steps):
            before = [a.location for a in world.agents]
            start = time.perf_counter()
            world.evolve()
            seconds += time.perf_counter() - start
    moved = sum(a.location is not b for a, b in zip(world.agents, before, strict=True)) / agents
    return seconds, moved


# -- Mesa -------------------------------------------------------------------------


def build_mesa(agents: int):
    import mesa
    import networkx as nx
    from mesa.discrete_space import CellAgent, Network

    class Walker(CellAgent):
        def step(self):
            if self.random.random() < MOVE:
                self.cell = self.cell.neighborhood.select_random_cell()

    class Walk(mesa.Model):
        def __init__(self, n):
            super().__init__(seed=0)
            graph = nx.Graph()
            for i, (right, _, down, _) in enumerate(torus()):
                graph.add_edge(i, int(right))
                graph.add_edge(i, int(down))
            self.space = Network(graph, random=self.random)
            cells = [self.space[i] for i in range(SIDE * SIDE)]
            for k in range(n):
                Walker(self).cell = cells[k % len(cells)]

        def step(self):
            self.agents.shuffle_do("step")

    return Walk(agents)


def run_mesa(agents: int, steps: int) -> tuple[float, float]:
    model = build_mesa(agents)
    walkers = list(model.agents)
    seconds = 0.0
    for _ in range(steps):
        before = [a.cell for a in walkers]
        start = time.perf_counter()
        model.step()
        seconds += time.perf_counter() - start
    moved = sum(a.cell is not b for a, b in zip(walkers, before, strict=True)) / agents
    return seconds, moved


# -- ceiling ----------------------------------------------------------------------


@nb.njit(parallel=True, cache=True)
def _walk(position, neighbours, steps, chance):
    """Every agent through every step; returns the number of moves in the last step."""
    moves = 0
    for i in nb.prange(position.shape[0]):
        for step in range(steps):
            if np.random.random() < chance:
                position[i] = neighbours[position[i], np.random.randint(4)]
                if step == steps - 1:
                    moves += 1
    return moves


def run_ceiling(agents: int, steps: int) -> tuple[float, float]:
    neighbours = torus().astype(np.uint8)
    position = (np.arange(agents) % (SIDE * SIDE)).astype(np.uint8)
    _walk(position.copy(), neighbours, 1, MOVE)
    start = time.perf_counter()
    moves = _walk(position, neighbours, steps, MOVE)
    return time.perf_counter() - start, moves / agents


# -- the run ----------------------------------------------------------------------

ENGINES = {"refuge": (run_refuge, build_refuge), "flee": (run_flee, build_flee), "mesa": (run_mesa, build_mesa),
           "ceiling": (run_ceiling, None)}  # fmt: skip


def bytes_per_agent(engine: str, agents: int) -> float | None:
    """Peak Python-tracked memory (NumPy included) while building ``agents`` agents, per agent."""
    if engine == "ceiling":
        return 2.0  # one uint8 position (plus the one copy the warm-up makes)
    tracemalloc.start()
    built = ENGINES[engine][1](agents)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del built
    return peak / agents


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--agent-steps", type=float, default=4e7,
                        help="agent-steps per size for refuge and the ceiling (steps = this / agents; peers 1/100)")
    parser.add_argument("--peer-limit", type=float, default=120.0,
                        help="skip a peer at larger sizes once one of its runs took this long (s)")
    parser.add_argument("--engines", nargs="+", default=list(ENGINES))
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    rows, too_slow = [], set()
    for agents in args.sizes:
        steps = max(5, int(args.agent_steps // agents))
        for engine in args.engines:
            if engine in too_slow:
                rows.append({"engine": engine, "agents": agents, "skipped": "previous size over --peer-limit"})
                continue
            run, _ = ENGINES[engine]
            engine_steps = steps if engine in ("refuge", "ceiling") else max(2, steps // 100)
            seconds, moved = run(agents, engine_steps)
            memory = bytes_per_agent(engine, min(agents, 100_000) if engine in ("flee", "mesa") else agents)
            row = {"engine": engine, "agents": agents, "steps": engine_steps, "seconds": round(seconds, 3),
                   "agent_steps_per_s": agents * engine_steps / seconds, "moved_last_step": round(moved, 4),
                   "bytes_per_agent": round(memory, 1)}  # fmt: skip
            rows.append(row)
            print(json.dumps(row), flush=True)
            if engine in ("flee", "mesa") and seconds > args.peer_limit:
                too_slow.add(engine)
    machine = {"cpus": os.cpu_count(), "python": platform.python_version(), "numba_threads": nb.get_num_threads()}
    report = {"machine": machine, "rows": rows}
    print(table(rows))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))


def table(rows: list[dict]) -> str:
    """A Markdown table: speed, memory, and refuge's ratio to each engine."""
    speed = {(r["engine"], r["agents"]): r.get("agent_steps_per_s") for r in rows}
    lines = ["| agents | engine | agent-steps/s | bytes/agent | refuge ÷ engine |", "|---:|---|---:|---:|---:|"]
    for r in rows:
        if "skipped" in r:
            lines.append(f"| {r['agents']:,} | {r['engine']} | skipped ({r['skipped']}) | | |")
            continue
        ours = speed.get(("refuge", r["agents"]))
        ratio = f"{ours / r['agent_steps_per_s']:.3g}" if ours else ""
        speed_text, memory = f"{r['agent_steps_per_s']:.3g}", f"{r['bytes_per_agent']:.0f}"
        lines.append(f"| {r['agents']:,} | {r['engine']} | {speed_text} | {memory} | {ratio} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
