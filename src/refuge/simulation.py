"""Running a scenario: one loop over the timeline's steps, shared by every backend, over blocks of members.

Each step (a week in the North Korean system):

1. the model turns the state, the drivers and the parameters into hazards
   (those that read no stocks computed ahead, a block of steps at a time);
2. the backend moves people along the flows at those hazards;
3. what moved is added to the period's totals (a year's, or the step's own),
   and at a period's last step the stocks are recorded.

When no hazard reads the stocks (a linear model: every rate known from the
drivers and parameters alone), the model has no clock stocks and the backend
can take a block of steps in one call (``backend.takes_blocks``, then ``backend.steps``), it does, and the
block's moves are recorded after it: the same numbers, without Python's cost
between steps; progress is then told once a block.

Members are simulated in blocks, so memory stays bounded and finished blocks
can be kept when a long run is interrupted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from numbers import Integral

import numba as nb
import numpy as np

from .backends import get_backend
from .backends.compiled import PARALLEL_MEMBERS, parallel_and_serial
from .backends.moves import apply_counts
from .backends.random import member_keys
from .errors import RunError, did_you_mean
from .limits import MAX_MEMBERS, MAX_SEED
from .model.definition import DriverView, Model, ParameterView
from .model.timeline import Timeline
from .results import Results
from .scenarios import Scenario, check_scenario, describe_range, load_scenario
from .scenarios.levers import compile_inputs
from .systems import System, get_system

Progress = Callable[[int], None]
#: Size of a block of hazards computed ahead of their steps (``Model.ahead``): the calibration's batch of 32
#: parameter sets (64 members) takes about 340 weeks in one call, a block of 5,000 members two.
AHEAD_BYTES = 4 * 2**20


def run(
    scenario: str | Scenario = "baseline",
    *,
    members: int = 100,
    seed: int = 0,
    backend: str | object = "counts",
    timeline: Timeline | None = None,
    parameters: Mapping[str, float | np.ndarray] | None = None,
    paths: Mapping[str, np.ndarray] | None = None,
    model: Model | None = None,
    block: int = 5_000,
    progress: Progress | None = None,
    calibrated: bool = True,
    client=None,
    system: str | System | None = None,
    resolution: str = "year",
) -> Results:
    """Run a scenario as an ensemble and return its labelled results.

    ``system`` is a registered name (the North Korean system by default) or a system value;
    ``model`` replaces the system's model. ``timeline`` (the default: the system's; Korea's is 1990-2040 in weeks)
    must have the steps a year the model's hazards are written for; the model starts from its initial population in
    the timeline's first year (the North Korean system's is that of 1990: start there for numbers that follow its
    history).
    ``backend`` is a registered name or a configured backend such as the Korean ``Agents(record=True)``.
    ``parameters`` overrides defaults: floats, or arrays of one value per member, inside each parameter's bounds
    (one the scenario itself sets is refused: it would not say which wins).
    ``paths`` gives drivers a path per member, ``(members, years)`` of yearly values.
    With ``calibrated`` (the default), members of the system's own model draw
    their parameters, and paths of drivers the system infers, as the system says
    (the North Korean system: from its shipped posterior), so an ensemble carries
    parameter uncertainty as well as chance; ``parameters`` and ``paths``
    still override those draws. ``calibrated=False`` runs the hand-set defaults.
    ``progress`` is called with the number of member-steps done after each year
    (after each block of members on a cluster, and of steps for a model whose
    hazards read no stocks). With a Dask ``client``, blocks run on its
    workers; each member keeps its own stream, so the numbers are the same.
    ``resolution="step"`` keeps what moved in each step and the stocks at each
    step's end (a ``step`` axis, labelled with its ``year`` and decimal ``time``)
    rather than yearly totals; the numbers are the same, summed or not.

    >>> res = run("baseline", members=4, seed=1)
    >>> res.outputs().sel(variable="arrivals_south_korea", year=2009).shape
    (4,)
    """
    settings = dict(members=members, seed=seed, backend=backend, timeline=timeline, parameters=parameters, paths=paths,
                    model=model, block=block, calibrated=calibrated, system=system, resolution=resolution)  # fmt: skip
    if client is not None:
        return Results.concat(_on_cluster(client, scenario, progress, **settings))
    return Results.concat([b for _, b in iterate_blocks(scenario, progress=progress, **settings)])


def _on_cluster(client, scenario, progress: Progress | None, **settings) -> list[Results]:
    """Blocks of members as tasks on a Dask cluster, gathered as they finish."""
    return [part for _, part in blocks_on_cluster(client, scenario, progress=progress, **settings)]


def blocks_on_cluster(
    client, scenario, *, progress: Progress | None = None, skip: frozenset[int] = frozenset(), **settings
) -> Iterator[tuple[int, Results]]:
    """Like :func:`iterate_blocks`, with each block a task on a Dask cluster; yielded as they finish."""
    from dask.distributed import as_completed

    if isinstance(scenario, str):
        scenario = load_scenario(scenario, settings.get("model"), system=settings.get("system"))
    members, block = settings["members"], settings["block"]
    steps = (settings.get("timeline") or get_system(settings.get("system")).timeline).steps
    futures = {client.submit(_one_block, scenario, first, pure=False, **settings): first
               for first in range(0, members, block) if first not in skip}  # fmt: skip
    if progress:
        progress(sum(min(block, members - first) for first in skip) * steps)
    for future in as_completed(futures):
        part = future.result()
        if progress:
            progress(part.members * steps)
        yield futures[future], part


def _one_block(scenario, first: int, **settings) -> Results:
    """The block of members starting at ``first``, as a local run would make it."""
    others = frozenset(range(0, settings["members"], settings["block"])) - {first}
    return next(part for _, part in iterate_blocks(scenario, skip=others, **settings))


def iterate_blocks(
    scenario: str | Scenario = "baseline",
    *,
    members: int,
    seed: int,
    backend,
    timeline: Timeline | None = None,
    parameters: Mapping[str, float | np.ndarray] | None = None,
    paths: Mapping[str, np.ndarray] | None = None,
    model: Model | None = None,
    block: int = 5_000,
    progress: Progress | None = None,
    skip: frozenset[int] = frozenset(),
    calibrated: bool = True,
    system: str | System | None = None,
    resolution: str = "year",
) -> Iterator[tuple[int, Results]]:
    """Simulate the ensemble block by block, yielding ``(first member, results)``; skip finished blocks.

    With ``calibrated``, members of the system's model draw their parameters and paths as the system says
    (see :func:`run`); ``resolution`` as :func:`run` says.
    """
    system = get_system(system)
    check_ensemble(members, seed, block)
    given = dict(parameters or {})
    _check_parameters(given, model or system.model(), members)
    spread = None
    from_system = calibrated and (model is None or model is system.model())
    if from_system:
        drawn, spread = system.member_parameters(members, seed)
        parameters = {**drawn, **given}
    model = model or system.model()
    timeline = timeline or system.timeline
    model.check_timeline(timeline)
    timeline.period_index(resolution)  # refuses an unknown resolution before any work
    if isinstance(scenario, str):
        scenario = load_scenario(scenario, model, system=system)
    check_scenario(scenario, model, system, timeline)  # a file's too: its levers against this run's steps
    twice = sorted(set(given) & set(scenario.parameters))
    if twice:
        raise RunError(f"parameters: {twice[0]!r} is given here and set by scenario {scenario.name!r} "
                       f"({scenario.parameters[twice[0]]:g}); allowed: one of the two")  # fmt: skip
    backend_class = get_backend(backend, system)
    per_member = _per_member(parameters or {}, members)
    for name, path in (paths or {}).items():
        if np.shape(path) != (members, len(timeline.years)):
            raise RunError(f"path of driver {name!r} has shape {np.shape(path)}; allowed: (members, years) = "
                           f"({members}, {len(timeline.years)})")
        bounds = model.driver(name).bounds
        outside = _first_outside(np.asarray(path, dtype=float), bounds)
        if outside is not None:
            raise RunError(f"path of driver {name!r}: {outside:g} is outside its range {describe_range(*bounds)}")
    for first in range(0, members, block):
        count = min(block, members - first)
        if first in skip:
            if progress:
                progress(count * timeline.steps)
            continue
        chunk = {k: v[first : first + count] if isinstance(v, np.ndarray) else v for k, v in per_member.items()}
        keys = member_keys(seed, count, first)
        block_paths = system.member_paths(members, seed, first, keys, timeline) if from_system else {}
        block_paths.update({k: np.asarray(v)[first : first + count] for k, v in (paths or {}).items()})
        inputs = compile_inputs(model, scenario, timeline, chunk, block_paths)
        flows, stocks, clock = simulate(model, inputs, backend_class(model, keys, timeline), count, progress,
                                        resolution)  # fmt: skip
        yield first, Results.from_arrays(
            model, timeline, flows, stocks, first_member=first, clock=clock, resolution=resolution,
            spread=None if spread is None else spread[first : first + count], scenario=scenario.name,
            backend=backend_class.name, seed=seed,
        )


def check_ensemble(members: int, seed: int, block: int = 1) -> None:
    """Refuse a number of members, a seed or a block size that is not a whole number in its range."""
    for name, value, least, most in (("members", members, 1, MAX_MEMBERS), ("seed", seed, 0, MAX_SEED),
                                     ("block", block, 1, MAX_MEMBERS)):  # fmt: skip
        if isinstance(value, bool) or not isinstance(value, Integral) or not least <= value <= most:
            raise RunError(f"{name}: {value!r} is not allowed; allowed: a whole number, {least:,} to {most:,}")


def simulate(model: Model, inputs, backend, members: int, progress: Progress | None = None, resolution: str = "year"):
    """The loop over steps. Returns flow totals and end stocks by period, ``(members, periods, ., strata)``, and
    the clock; a period is a year, or a step with ``resolution="step"``.

    The clock (``None`` for a model without clock stocks) is the time, in
    person-steps, that the people moved along each flow in the period had spent
    in the model's clock stocks (see :class:`Clock`).
    """
    timeline = inputs.timeline
    per_year = timeline.steps_per_year
    period_of = timeline.period_index(resolution)
    last_of_period = np.append(period_of[1:] != period_of[:-1], True)
    periods = int(period_of[-1]) + 1
    state = model.initial_state(members, dtype=backend.dtype)
    flows = np.zeros((members, periods, len(model.flows), model.strata.size), dtype=backend.dtype)
    stocks = np.zeros((members, periods, len(model.stocks), model.strata.size), dtype=backend.dtype)
    clock = Clock(model, members) if model.clock_stocks else None
    carried = np.zeros(flows.shape) if clock else None
    if clock is not None:  # the step's moves, the period's so far and the state before: what the clock reads
        moved = np.zeros(flows.shape[:1] + flows.shape[2:], dtype=backend.dtype)
        period_moved = np.zeros_like(moved)  # the period's totals so far, kept whole: flows[:, period] is strided
        before = np.empty_like(state)
    span = max(1, min(timeline.steps, AHEAD_BYTES // (members * len(model.flows) * model.strata.size * 8)))
    if not model.reads_stocks and clock is None and getattr(backend, "takes_blocks", False):
        for first in range(0, timeline.steps, span):
            stop = min(first + span, timeline.steps)
            _simulate_block(model, inputs, backend, state, first, stop, period_of, last_of_period, flows, stocks)
            years = (stop // per_year) - (first // per_year)
            if progress and years:
                progress(members * per_year * years)
        return flows, stocks, None
    ahead, computes_ahead = None, model.computes_ahead
    for step in range(timeline.steps):
        period = period_of[step]
        if computes_ahead and step % span == 0:
            stop = min(step + span, timeline.steps)
            ahead = model.ahead(DriverView(inputs.drivers_between(step, stop)),
                                ParameterView(inputs.parameters_between(step, stop)), members, stop - step)
        rates = model.rates(state, DriverView(inputs.drivers_at(step)), ParameterView(inputs.parameters_at(step)),
                            ahead, step % span)  # fmt: skip
        if clock is None:
            backend.step(state, rates, step, flows[:, period])
        else:
            np.copyto(before, state)
            backend.step(state, rates, step, moved)
            clock.advance(before, state, moved, carried[:, period], period_moved)
        if last_of_period[step]:
            stocks[:, period] = state
            if clock is not None:
                flows[:, period] = period_moved
                period_moved[...] = 0
        if progress and (step + 1) % per_year == 0:
            progress(members * per_year)
    return flows, stocks, carried


def _simulate_block(model: Model, inputs, backend, state, first: int, stop: int, period_of, last_of_period, flows,
                    stocks) -> None:  # fmt: skip
    """Steps ``first .. stop-1`` of a model whose hazards read no stocks, in one call of the backend's ``steps``;
    their moves added to their periods' totals in ``flows`` and the stocks of the periods that end in them kept."""
    members = state.shape[0]
    ahead = model.ahead(DriverView(inputs.drivers_between(first, stop)),
                        ParameterView(inputs.parameters_between(first, stop)), members, stop - first)  # fmt: skip
    model.check_rates(ahead.distinct_rates)
    period = period_of[first:stop] - period_of[first]  # each step's period, counted from the block's first
    by_period = np.zeros((members, period[-1] + 1, len(model.flows), model.strata.size), dtype=backend.dtype)
    before = state.copy()
    backend.steps(state, ahead.rates, first, period, by_period)
    ends = last_of_period[first:stop][np.append(period[1:] != period[:-1], True)]
    _record_block(before, by_period, model.sources, model.targets, period_of[first], ends, flows, stocks)


@nb.njit(cache=True)
def _record_block(state, moved, sources, targets, first, ends, flows, stocks):
    """Add a block's moves ``(members, periods, flows, strata)`` to the totals of periods ``first ..`` and record
    the stocks of those that end in the block (``ends``), replaying the moves from ``state``, the stocks before it."""
    for m in range(moved.shape[0]):
        for k in range(moved.shape[1]):
            flows[m, first + k] += moved[m, k]
            apply_counts(state[m], moved[m, k], sources, targets)
            if ends[k]:
                stocks[m, first + k] = state[m]


class Clock:
    """Time spent in the clock stocks (time abroad), carried by people along flows, for any backend.

    ``mass[m, s, x]`` is the total steps the people of stock ``s`` have spent in
    clock stocks. Each step:

    1. each flow takes its share of its source's mass, the share of the
       source's people it moved (people in a stock are exchangeable);
    2. that mass is added to what the flow carried this year, and follows the
       flow if its target is a clock stock (else the clock stops);
    3. everyone in a clock stock at the step's end is one step older abroad.
    """

    def __init__(self, model: Model, members: int):
        clocked = [model.stock_index[s] for s in model.clock_stocks]
        position = {stock: k for k, stock in enumerate(clocked)}
        sources, targets = model.sources, model.targets
        self._stocks = np.array(clocked, dtype=np.int64)
        self._flows = np.array([f for f, s in enumerate(sources) if s in position], dtype=np.int64)  # they carry it
        self._source = sources[self._flows]
        self._from = np.array([position[sources[f]] for f in self._flows], dtype=np.int64)
        self._to = np.array([position.get(targets[f], -1) for f in self._flows], dtype=np.int64)  # -1: it stops
        self.mass = np.zeros((members, len(clocked), model.strata.size))
        self._taken = np.empty((members, self._flows.size))
        self._kernel = carry_clock if members >= PARALLEL_MEMBERS else carry_clock_serial

    def advance(self, before: np.ndarray, after: np.ndarray, moved: np.ndarray, carried: np.ndarray,
                totals: np.ndarray) -> None:  # fmt: skip
        """One step: ``moved`` (the step's moves) carries its time to ``carried``, is added to ``totals`` and
        left at zero for the next step."""
        self._kernel(self.mass, before, after, moved, carried, totals, self._taken, self._stocks, self._flows,
               self._source, self._from, self._to)  # fmt: skip


def _carry_clock(mass, before, after, moved, carried, totals, taken, stocks, flows, source, start, end):
    """:meth:`Clock.advance` compiled: one pass per member and stratum, every share from the step's start
    (``taken``, a row a member, holds each flow's share of its source's mass until the sources have given it)."""
    members, clocked, strata = mass.shape
    for m in nb.prange(members):
        for x in range(strata):
            for i in range(len(flows)):
                held = before[m, source[i], x]
                taken[m, i] = mass[m, start[i], x] * (moved[m, flows[i], x] / held) if held > 0 else 0.0
                carried[m, flows[i], x] += taken[m, i]
            for i in range(len(flows)):
                mass[m, start[i], x] -= taken[m, i]
                if end[i] >= 0:
                    mass[m, end[i], x] += taken[m, i]
            for c in range(clocked):
                mass[m, c, x] = max(mass[m, c, x], 0.0) + after[m, stocks[c], x]
        for f in range(moved.shape[1]):
            for x in range(strata):
                totals[m, f, x] += moved[m, f, x]
                moved[m, f, x] = 0


#: :meth:`Clock.advance` on all cores, and on one (see ``PARALLEL_MEMBERS``)
carry_clock, carry_clock_serial = parallel_and_serial(_carry_clock, error_model="numpy")


def _check_parameters(parameters: Mapping[str, object], model: Model, members: int) -> None:
    """A misspelt parameter is an error, not a run with the default (``atempt_base`` for ``attempt_base``); a
    value must be a finite number inside the parameter's bounds, one for all members or one for each."""
    known = {p.name: p for p in model.parameters}
    for name, value in parameters.items():
        if name not in known:
            raise RunError(f"parameters: {str(name)[:40]!r} is not a parameter of the model"
                           f"{did_you_mean(name, known)} (see 'refuge parameters')")  # fmt: skip
        try:
            array = np.asarray(value, dtype=float)
        except (TypeError, ValueError):
            raise RunError(f"parameters: {name!r} = {str(value)[:40]!r} is not a number") from None
        if array.ndim and array.shape not in ((members,), (members, 1)):
            raise RunError(f"parameters: {name!r} has shape {array.shape}; allowed: one value, or one for each of "
                           f"the {members} members")  # fmt: skip
        outside = _first_outside(array, known[name].bounds)
        if outside is not None:
            raise RunError(f"parameters: {name!r} = {outside:g} is outside its range "
                           f"{describe_range(*known[name].bounds)}")


def _first_outside(values: np.ndarray, bounds: tuple[float, float]) -> float | None:
    """The first of ``values`` that is not finite or lies outside ``bounds``; ``None`` if all are inside."""
    low, high = bounds
    outside = values[~(np.isfinite(values) & (values >= low) & (values <= high))]
    return float(outside.flat[0]) if outside.size else None


def _per_member(parameters: Mapping[str, float | np.ndarray], members: int) -> dict[str, float | np.ndarray]:
    out: dict[str, float | np.ndarray] = {}
    for name, value in parameters.items():
        array = np.asarray(value, dtype=float)
        out[name] = float(array) if array.ndim == 0 else array.reshape(members, 1)  # shapes: _check_parameters
    return out
