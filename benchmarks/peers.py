"""One movement model, four engines, one run: refuge's agents backend, Flee 3.1, Mesa 3 and a compiled ceiling.

The model: a torus of places; every step each agent moves with probability 0.3
to one of its four neighbours. Every engine is set up so that it makes the same
work per agent-step: one decision per agent, 0.3 moves. The run counts the moves
each engine made and reports them per agent-step (``moves_per_agent_step``).

* refuge: a :class:`refuge.model.definition.Model` on a 10x10 torus with one stock
  per place and one flow per directed edge, hazard ``-ln(0.7)/4`` each (so the
  chance to leave in a step is 0.3, split evenly), run by the engine's loop
  (``refuge.simulation.simulate``) on the ``agents`` backend: hazards, moves and the
  year's totals. The hazards read no stocks (``reads_stocks=False``), so the
  engine computes them ahead and the backend takes a block of steps in one call;
  ``refuge-weekly`` is the same torus as one flow family along a network of links,
  computed each step like any family (Flee's rules read the camps' stocks): the
  backend goes step by step, the path every model whose hazards read stocks takes;
* Flee: the 10x10 torus, all places towns, the move chance 0.3 given as Flee's
  ``default_movechance`` (the one it reads for towns), awareness level 1. Links are
  1.5 days' travel long: a move starts one day and ends the next, and the agent
  arriving decides again that day. Shorter links let an agent arrive and move on
  within one day (0.43 moves per agent-step instead of 0.3); longer ones leave it
  on the link for days. Agents added with ``addAgent(location, {})``;
* Mesa 3: a ``Network`` discrete space on a torus with about 100 agents per cell
  whatever the number of agents (side ``sqrt(agents / 100)``), ``CellAgent`` agents
  that move to ``cell.neighborhood.select_random_cell()``, stepped with
  ``shuffle_do``. ``mesa-crowded`` is the same on the 10x10 torus, where a cell
  holds ``agents / 100``: Mesa's cells keep lists of agents, so there its moves slow
  down with the crowd;
* ceiling: the fastest plain walk this machine runs: positions as ``uint8``, one
  SplitMix64 hash of (agent, step) per agent-step for the decision and the
  direction, parallel over all cores, each thread taking its agents through every
  step in one go (these agents never interact, so no per-step synchronisation).

Reports agent-steps per second, the CPU time over the wall time of the timed
steps (below 1 for a one-thread engine: the share of a core the busy machine
gave it), moves per agent-step, bytes per agent (tracemalloc peak while the
agents are built, divided by their number), the ratios to refuge, and the load
average before each row.

    python benchmarks/peers.py --sizes 10000 100000 1000000 --json benchmarks/peers.json
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import json
import math
import os
import platform
import tempfile
import time
import tracemalloc
from functools import partial
from pathlib import Path

import numba as nb
import numpy as np

SIDE = 10
MOVE = 0.3
OCCUPANCY = 100  # Mesa's agents per cell
FLEE_SPEED = 360.0  # km a day; links are 1.5 days long


def torus(side: int = SIDE) -> np.ndarray:
    """Neighbours of each place, ``(side * side, 4)``: right, left, down, up, wrapping around."""
    places = np.arange(side * side)
    row, col = divmod(places, side)
    return np.stack([row * side + (col + 1) % side, row * side + (col - 1) % side,
                     ((row + 1) % side) * side + col, ((row - 1) % side) * side + col], axis=1)  # fmt: skip


# -- refuge -----------------------------------------------------------------------


def _move(s, d, p):
    return p.move_hazard


def refuge_model(agents: int, package: str = "refuge", weekly: bool = False):
    """The torus as a refuge model. Its hazards read no stocks, so the engine knows them ahead of the steps; or,
    ``weekly``, as one flow family along a network of links, the way a model of places is written: a family is
    computed each step (Flee's rules read the camps' stocks), so the backend takes the steps one at a time."""
    definition = importlib.import_module(f"{package}.model.definition")
    (Network,) = _names(f"{package}.model.network", "Network")
    places = [f"place_{i}" for i in range(SIDE * SIDE)]
    stocks = tuple(definition.Stock(p, p, "a place on the torus") for p in places)
    hazard = definition.Parameter("move_hazard", -math.log(1 - MOVE) / 4, "per step", "hazard of each move", ())
    per_place = agents // (SIDE * SIDE)
    initial = {s.name: (per_place // 2, per_place - per_place // 2) for s in stocks}
    strata = definition.Strata("sex", ("female", "male"))  # two, as the agents timed before the engine had strata
    if weekly:
        links = [(places[i], places[j], 1.0) for i, (right, _, down, _) in enumerate(torus()) for j in (right, down)]
        network = Network.build(places, links)
        flows = definition.FlowFamily.along(network, "move", _move).flows()
    else:
        network = None
        flows = tuple(definition.Flow(f"move_{i}_{j}", places[i], places[j], _move, (), reads_stocks=False)
                      for i, ends in enumerate(torus()) for j in ends)  # fmt: skip
    return definition.Model("torus", stocks, flows, (), (hazard,), initial, (), strata=strata, network=network)


def build_refuge(agents: int, steps: int = 1, package: str = "refuge", weekly: bool = False):
    """The torus, its inputs over ``steps`` steps (one year of them) and refuge's agents, people alike;
    ``package`` another revision imported under its own name (``before_after.py``)."""
    (member_keys,) = _names(f"{package}.backends.random", "member_keys")
    (AgentsBackend,) = _names(f"{package}.backends.agents", "AgentsBackend")
    (Timeline,) = _names(f"{package}.model.timeline", "Timeline")
    (Scenario,) = _names(f"{package}.scenarios", "Scenario")
    (compile_inputs,) = _names(f"{package}.scenarios.levers", "compile_inputs")
    model = refuge_model(agents, package, weekly)
    timeline = Timeline(2000, 2000, steps_per_year=steps)
    inputs = compile_inputs(model, Scenario("torus", ""), timeline, {}, {})
    return model, inputs, AgentsBackend(model, member_keys(0, 1), timeline)


def _names(module: str, *names: str) -> list:
    loaded = importlib.import_module(module)
    return [getattr(loaded, name) for name in names]


def refuge_flows(agents: int, steps: int, package: str = "refuge", weekly: bool = False):
    """The engine's own loop (``simulation.simulate``: hazards, backend, the year's totals), people built outside
    the clock and the kernels compiled by a short run first: wall and CPU seconds, and the flows it recorded."""
    (simulate,) = _names(f"{package}.simulation", "simulate")
    simulate(*build_refuge(agents, 8, package, weekly), 1)
    model, inputs, backend = build_refuge(agents, steps, package, weekly)
    start, cpu = time.perf_counter(), time.process_time()
    flows, _, _ = simulate(model, inputs, backend, 1)
    return time.perf_counter() - start, time.process_time() - cpu, flows


def run_refuge(agents: int, steps: int, weekly: bool = False) -> tuple[float, float, float]:
    seconds, cpu, flows = refuge_flows(agents, steps, weekly=weekly)
    return seconds, cpu, flows.sum() / (agents * steps)


# -- Flee -------------------------------------------------------------------------

_FLEE_SETTINGS = f"""
log_levels: {{agent: 0, link: 0, camp: 0, init: 0}}
spawn_rules: {{take_from_population: false, camps_are_sinks: false}}
move_rules: {{max_move_speed: {FLEE_SPEED}, max_walk_speed: {FLEE_SPEED}, awareness_level: 1,
             default_movechance: {MOVE}}}
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
        places = [world.addLocation(f"p{i}", x=i % SIDE, y=i // SIDE, location_type="town") for i in range(SIDE**2)]
        for i, (right, _, down, _) in enumerate(torus()):
            world.linkUp(f"p{i}", f"p{right}", 1.5 * FLEE_SPEED)
            world.linkUp(f"p{i}", f"p{down}", 1.5 * FLEE_SPEED)
        for k in range(agents):
            world.addAgent(places[k % len(places)], {})
    os.unlink(file.name)
    assert all(p.movechance == MOVE for p in places), "Flee did not take the move chance"
    return world


def run_flee(agents: int, steps: int) -> tuple[float, float, float]:
    """After a step, the agents on links are exactly those that set out that step (each link takes 1.5 days)."""
    world = build_flee(agents)
    quiet = io.StringIO()
    seconds, cpu, moves = 0.0, 0.0, 0
    with contextlib.redirect_stderr(quiet), contextlib.redirect_stdout(quiet):
        for _ in range(steps):
            start, started = time.perf_counter(), time.process_time()
            world.evolve()
            seconds += time.perf_counter() - start
            cpu += time.process_time() - started
            moves += sum(a.travelling for a in world.agents)
    return seconds, cpu, moves / (agents * steps)


# -- Mesa -------------------------------------------------------------------------


def build_mesa(agents: int, side: int | None = None):
    """Mesa on a torus of ``side`` (by default about ``OCCUPANCY`` agents a cell)."""
    import mesa
    import networkx as nx
    from mesa.discrete_space import CellAgent, Network

    side = side or max(SIDE, round(math.sqrt(agents / OCCUPANCY)))

    class Walker(CellAgent):
        def step(self):
            if self.random.random() < MOVE:
                self.cell = self.cell.neighborhood.select_random_cell()

    class Walk(mesa.Model):
        def __init__(self, n):
            super().__init__(seed=0)
            graph = nx.Graph()
            for i, (right, _, down, _) in enumerate(torus(side)):
                graph.add_edge(i, int(right))
                graph.add_edge(i, int(down))
            self.space = Network(graph, random=self.random)
            cells = [self.space[i] for i in range(side * side)]
            for k in range(n):
                Walker(self).cell = cells[k % len(cells)]

        def step(self):
            self.agents.shuffle_do("step")

    return Walk(agents)


def build_mesa_crowded(agents: int):
    return build_mesa(agents, SIDE)


def run_mesa(agents: int, steps: int, build=build_mesa) -> tuple[float, float, float]:
    model = build(agents)
    walkers = list(model.agents)
    seconds, cpu, moves = 0.0, 0.0, 0
    for _ in range(steps):
        before = [a.cell for a in walkers]
        start, started = time.perf_counter(), time.process_time()
        model.step()
        seconds += time.perf_counter() - start
        cpu += time.process_time() - started
        moves += sum(a.cell is not b for a, b in zip(walkers, before, strict=True))
    return seconds, cpu, moves / (agents * steps)


def run_mesa_crowded(agents: int, steps: int) -> tuple[float, float, float]:
    return run_mesa(agents, steps, build_mesa_crowded)


# -- ceiling ----------------------------------------------------------------------

_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


@nb.njit(inline="always")
def _splitmix64(z):
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    return z ^ (z >> np.uint64(31))


@nb.njit(parallel=True, cache=True)
def _walk(position, neighbours, steps, threshold):
    """Every agent through every step: move when the hash's top 62 bits fall under ``threshold``; returns moves."""
    moves = 0
    for i in nb.prange(position.shape[0]):
        p = position[i]
        counter = np.uint64(i) * np.uint64(steps)
        for step in range(steps):
            h = _splitmix64((counter + np.uint64(step)) * _GAMMA)
            if (h >> np.uint64(2)) < threshold:
                p = neighbours[p, h & np.uint64(3)]
                moves += 1
        position[i] = p
    return moves


def run_ceiling(agents: int, steps: int) -> tuple[float, float, float]:
    neighbours = torus().astype(np.uint8)
    position = (np.arange(agents) % (SIDE * SIDE)).astype(np.uint8)
    threshold = np.uint64(MOVE * 2.0**62)
    _walk(position.copy(), neighbours, 1, threshold)
    start, cpu = time.perf_counter(), time.process_time()
    moves = _walk(position, neighbours, steps, threshold)
    return time.perf_counter() - start, time.process_time() - cpu, moves / (agents * steps)


# -- the run ----------------------------------------------------------------------

ENGINES = {"refuge": (run_refuge, build_refuge),
           "refuge-weekly": (partial(run_refuge, weekly=True), partial(build_refuge, weekly=True)),
           "flee": (run_flee, build_flee), "mesa": (run_mesa, build_mesa),
           "mesa-crowded": (run_mesa_crowded, build_mesa_crowded), "ceiling": (run_ceiling, None)}  # fmt: skip
PEERS = ("flee", "mesa", "mesa-crowded")


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


def machine() -> dict:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())  # fmt: skip
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {"cpu": cpu, "cpus": os.cpu_count(), "memory_gib": round(memory, 1), "python": platform.python_version(),
            "numba": nb.__version__, "numba_threads": nb.get_num_threads()}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--agent-steps", type=float, default=4e7,
                        help="agent-steps per size for refuge and the ceiling (steps = this / agents; peers 1/100)")
    parser.add_argument("--peer-limit", type=float, default=120.0,
                        help="skip a peer at larger sizes once one of its runs took this long (s)")
    parser.add_argument("--engines", nargs="+", default=list(ENGINES), choices=list(ENGINES))
    parser.add_argument("--threads", type=int, help="Numba threads for refuge and the ceiling (default: all cores)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if args.threads:
        nb.set_num_threads(args.threads)
    rows, too_slow = [], set()
    for agents in args.sizes:
        steps = max(5, int(args.agent_steps // agents))
        for engine in args.engines:
            if engine in too_slow:
                rows.append({"engine": engine, "agents": agents, "skipped": "previous size over --peer-limit"})
                continue
            run, _ = ENGINES[engine]
            engine_steps = max(2, steps // 100) if engine in PEERS else steps
            load = os.getloadavg()[0]
            seconds, cpu, moves = run(agents, engine_steps)
            memory = bytes_per_agent(engine, min(agents, 100_000) if engine in PEERS else agents)
            row = {"engine": engine, "agents": agents, "steps": engine_steps, "seconds": round(seconds, 3),
                   "cpu_seconds": round(cpu, 3),
                   "agent_steps_per_s": agents * engine_steps / seconds, "moves_per_agent_step": round(moves, 4),
                   "bytes_per_agent": round(memory, 1), "load_before": load}  # fmt: skip
            rows.append(row)
            print(json.dumps(row), flush=True)
            if engine in PEERS and seconds > args.peer_limit:
                too_slow.add(engine)
    report = {"machine": machine(), "started": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "rows": rows}
    print(table(rows))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))


def table(rows: list[dict]) -> str:
    """A Markdown table: speed, moves per agent-step, memory, refuge's ratio to each engine, load."""
    speed = {(r["engine"], r["agents"]): r.get("agent_steps_per_s") for r in rows}
    lines = ["| agents | engine | agent-steps/s | CPU/wall | moves/agent-step | bytes/agent | refuge ÷ engine | load |",
             "|---:|---|---:|---:|---:|---:|---:|---:|"]  # fmt: skip
    for r in rows:
        if "skipped" in r:
            lines.append(f"| {r['agents']:,} | {r['engine']} | skipped ({r['skipped']}) | | | | | |")
            continue
        ours = speed.get(("refuge", r["agents"]))
        ratio = f"{ours / r['agent_steps_per_s']:.3g}" if ours else ""
        lines.append(f"| {r['agents']:,} | {r['engine']} | {r['agent_steps_per_s']:.3g} | "
                     f"{r['cpu_seconds'] / r['seconds']:.2f} | "
                     f"{r['moves_per_agent_step']:.3f} | {r['bytes_per_agent']:.0f} | {ratio} | "
                     f"{r['load_before']:.2f} |")  # fmt: skip
    return "\n".join(lines)


if __name__ == "__main__":
    main()
