"""The agents backend: each ensemble member's people one by one, moved by the model's hazards.

Each step a person leaves their stock with the model's per-capita hazard for their stock and
stratum, times the weight of their class (what their declared traits make of them, :mod:`.traits`)
over the stock's mean weight, so the stock's expected outflow is the model's; competing flows are
split by the same hazards. With no traits declared everyone in a stock and stratum is alike and
the backend draws from the same distribution as ``counts``. Inflows arrive as new people, rounded
stochastically as in ``counts``. People are conserved exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ...errors import RunError
from ...model.definition import Model
from ...model.timeline import Timeline
from ..random import decision_id, stochastic_round
from . import step as kernels
from .people import People
from .traits import NO_TRAITS, Traits


class Agents:
    """A configured agents backend, accepted by ``run(..., backend=Agents(...))``: people with ``traits``.

    ``record=True`` keeps every move of every person; :meth:`take_events` hands over those of the
    last block simulated. ``traits`` is a :class:`Traits`, or a function of ``(model, timeline)``
    that makes one (a system's traits may depend on the model's stocks and flows).
    """

    name = "agents"

    def __init__(self, traits=NO_TRAITS, *, record: bool = False):
        self.traits = traits
        self.record = record
        self.last: AgentsBackend | None = None

    def __call__(self, model: Model, keys: np.ndarray, timeline: Timeline) -> AgentsBackend:
        traits = self.traits if isinstance(self.traits, Traits) else self.traits(model, timeline)
        backend = AgentsBackend(model, keys, timeline, traits=traits, record=self.record)
        if self.record:  # keep the people (and their moves) only when asked to
            self.last = backend
        return backend

    def take_events(self, first_member: int = 0) -> pd.DataFrame:
        """Moves of the last block as a table, members numbered from ``first_member``; clears them."""
        if self.last is None or not self.record:
            raise RunError("no moves were recorded; build the backend with record=True and run it first")
        return self.last.take_events(first_member)


@dataclass
class _Member:
    people: People
    census: np.ndarray
    event: np.ndarray
    #: what each flow moved in the member's last step, ``(flows, strata)``
    moved: np.ndarray
    events: list = field(default_factory=list)
    #: the kernel's counts per chunk, kept from step to step (resized when the number of chunks changes)
    moved_by_chunk: np.ndarray = field(default_factory=lambda: np.empty((0, 0, 0), dtype=np.int64))
    census_by_chunk: np.ndarray = field(default_factory=lambda: np.empty((0, 0, 0, 0), dtype=np.int64))


class AgentsBackend:
    """The people of a block of ensemble members and their step; ``AgentsBackend(model, keys, timeline)`` has
    people alike, :class:`Agents` gives them traits."""

    name = "agents"
    dtype = np.int64

    def __init__(self, model: Model, keys: np.ndarray, timeline: Timeline, *,
                 traits: Traits = NO_TRAITS, record: bool = False):  # fmt: skip
        self._model = model
        self._keys = keys
        self._timeline = timeline
        self._traits = traits
        self._record = record
        sources, targets = model.sources, model.targets
        self._sources, self._targets = sources, targets
        stocks, strata, flows = len(model.stocks), model.strata.size, len(model.flows)
        widest = max(1, max(int((sources == s).sum()) for s in range(stocks)))
        self._outflows = np.zeros((stocks, widest), dtype=np.int64)
        self._nout = np.zeros(stocks, dtype=np.int64)
        for f in np.flatnonzero(sources >= 0):
            s = sources[f]
            self._outflows[s, self._nout[s]] = f
            self._nout[s] += 1
        self._inflows = np.flatnonzero(sources < 0)
        ids = [[decision_id(f"flow:{f.name}/{x}") for x in model.strata.names] for f in model.flows]
        self._flow_ids = np.array(ids, dtype=np.uint32)
        classes = traits.classes
        self._weights = _by_outflow(traits.weights, self._outflows, self._nout, classes, flows)
        self._destinations = (np.full((stocks, classes), -1, dtype=np.int64) if traits.destinations is None
                              else np.asarray(traits.destinations, dtype=np.int64))  # fmt: skip
        self._destined = np.zeros(flows, dtype=np.bool_)
        self._destined[np.unique(self._destinations[self._destinations >= 0])] = True
        self._alike = traits.alike
        #: whether :meth:`steps` can take a block of steps in one call (the engine asks): people alike, weighed
        #: alike, bound to no flow, with no newcomers and no record, so each step's tables are the model's rates alone
        self.takes_blocks = (self._alike and not self._destined.any() and bool((self._weights == 1.0).all())
                              and not record and self._inflows.size == 0)  # fmt: skip
        self._kernels = kernels.kernels(traits.class_of, traits.born, traits.live)
        self._p_leave = np.zeros((stocks, strata, classes))
        self._cum = np.zeros((stocks, strata, classes, widest))
        self._members = [self._populate(m) for m in range(len(keys))]

    def _populate(self, m: int) -> _Member:
        model = self._model
        initial = model.initial_state(1, dtype=np.int64)[0]
        people = People(self._traits.columns, capacity=int(initial.sum()) + 1024, stocks=len(model.stocks),
                        classes=self._traits.classes)
        census = np.zeros((len(model.stocks), model.strata.size, self._traits.classes), dtype=np.int64)
        context = self._traits.context(initial, None, -1, None)
        for s in range(initial.shape[0]):
            for x in range(initial.shape[1]):
                self._add(people, census, m, s, x, int(initial[s, x]), context, step=-1)
        event = np.zeros(people.capacity if self._record else 0, dtype=np.int8 if len(model.flows) < 128 else np.int16)
        return _Member(people, census, event, np.zeros((len(model.flows), model.strata.size), dtype=np.int64))

    def _add(self, people: People, census, m, s, x, n, context, step) -> range:
        """``n`` new people of stratum ``x`` in stock ``s``: their rows."""
        if n <= 0:
            return range(0)
        start, end = people.add(n)
        k0, k1 = self._keys[m]
        self._kernels[2](people.stock, people.stratum, people.classes, people.traits, start, end, s, x, k0, k1, step,
                         context, census)
        return range(start, end)

    # -- the step ----------------------------------------------------------------

    def step(self, state: np.ndarray, rates: np.ndarray, step: int, tally: np.ndarray) -> None:
        """Move every person of every member for one step, in place; add what each flow moved to ``tally``.

        1. the system's values for this step (:meth:`Traits.context`);
        2. tabulate this step's hazards per (stock, stratum, class) from the model's rates;
        3. move people (:func:`~refuge.backends.agents.step.move_people`);
        4. add the inflows as new people;
        5. update the aggregate state and the tally from what moved.
        """
        new_year = step > 0 and step % self._timeline.steps_per_year == 0
        for m, member in enumerate(self._members):
            self._step_member(m, member, state[m], rates[m], step, tally[m], new_year)

    def _step_member(self, m, member: _Member, state, rates, step, tally, new_year) -> None:
        people = member.people
        k0, k1 = self._keys[m]
        context = self._traits.context(state, rates, step, member.moved)
        kernels.hazard_tables(rates, member.census, self._weights, self._outflows, self._nout, self._destined,
                              self._destinations, self._p_leave, self._cum)  # fmt: skip
        rows = kernels.chunk_rows(people.count)
        chunks = -(-people.count // rows)  # none without people: no counts to add
        if member.moved_by_chunk.shape[0] != chunks:
            member.moved_by_chunk = np.empty((chunks, *member.moved.shape), dtype=np.int64)
            member.census_by_chunk = np.empty((chunks, *member.census.shape), dtype=np.int64)
        if self._record and member.event.shape[0] < people.count:
            member.event = np.empty(people.capacity, dtype=member.event.dtype)
        parallel, serial, _ = self._kernels
        kernel = parallel if people.count >= kernels.PARALLEL_FROM else serial
        flows = (self._p_leave, self._cum, self._outflows, self._nout, self._targets, self._alike)
        clock = (k0, k1, step, new_year)
        columns = (people.stock, people.stratum, people.classes, people.traits, member.event)
        kernel(*columns, people.count, rows, clock, flows, context, member.moved_by_chunk, member.census_by_chunk)
        moved = member.moved
        kernels.add_chunks(member.moved_by_chunk, member.census_by_chunk, moved, member.census)
        recorded = []  # (rows, flows) of the step's moves, kept in one record after the newcomers come
        if self._record:
            movers = np.flatnonzero(member.event[: people.count] >= 0)
            recorded.append((movers, member.event[movers]))
        for f in self._inflows:
            for x in range(moved.shape[1]):
                n = int(stochastic_round(rates[f, x], k0, k1, step, self._flow_ids[f, x]))
                added = self._add(people, member.census, m, self._targets[f], x, n, context, step)
                if self._record and added:  # the newcomers' first move is their coming
                    recorded.append((np.arange(added.start, added.stop), np.full(n, f)))
                moved[f, x] += n
        if recorded:  # a newcomer's traits are written in its own row only, so the movers' are as they were
            rows, flows = zip(*recorded, strict=True)
            self._keep_events(member, step, np.concatenate(rows), np.concatenate(flows))
        kernels.apply_moves(state, tally, moved, self._sources, self._targets, member.census, not self._alike)

    def steps(self, state: np.ndarray, rates: np.ndarray, first: int, periods: np.ndarray, moved: np.ndarray) -> None:
        """Steps ``first .. first + len(rates) - 1`` with hazards known ahead, ``rates`` ``(steps, members, flows,
        strata)``; what each flow moved is added to ``moved`` ``(members, periods, flows, strata)`` by the period of
        each step (``periods``, numbered from 0 in the block).

        Every step of the block in one compiled call per member
        (:func:`~refuge.backends.agents.step.move_block`): the same moves as :meth:`step`
        step by step, without a wait between steps. Only where :attr:`takes_blocks`.
        """
        if not self.takes_blocks:
            raise RunError("agents: these people cannot take a block of steps at once (traits that weigh or bind "
                           "them, newcomers or a record of moves); step them one step at a time")  # fmt: skip
        model = self._model
        shape = (len(model.stocks), model.strata.size, 1)
        for m, member in enumerate(self._members):
            people = member.people
            rows = kernels.block_rows(people.count)
            chunks = -(-people.count // rows)  # none without people: no counts to add
            table = np.empty(rates.shape[0], dtype=np.int64)
            p_leave = np.zeros((rates.shape[0], *shape))
            cum = np.zeros((rates.shape[0], *shape, self._outflows.shape[1]))
            kernels.block_tables(rates[:, m], self._outflows, self._nout, table, p_leave, cum)
            by_chunk = np.empty((chunks, *moved.shape[1:]), dtype=np.int64)
            k0, k1 = self._keys[m]
            parallel = chunks > 1 and people.count * rates.shape[0] >= kernels.PARALLEL_FROM
            kernel = kernels.move_block if parallel else kernels.move_block_serial
            kernel(people.stock, people.stratum, people.count, rows, k0, k1, first, periods, table, p_leave, cum,
                   self._outflows, self._nout, self._targets, by_chunk)  # fmt: skip
            kernels.add_block(by_chunk, moved[m], state[m], self._sources, self._targets)
            member.census[:, :, 0] = state[m]

    # -- records -----------------------------------------------------------------

    def _keep_events(self, member: _Member, step: int, rows: np.ndarray, flows: np.ndarray) -> None:
        """The moves of people ``rows`` along ``flows`` this step, with their stratum and traits after it."""
        if rows.size:
            table = member.people.table()
            columns = {name: table[name][rows] for name in ("stratum", *self._recorded)}
            member.events.append({"step": np.full(rows.size, step, np.int32), "person": rows.astype(np.int64),
                                  "flow": flows.astype(member.event.dtype), **columns})  # fmt: skip

    @property
    def _recorded(self) -> tuple[str, ...]:
        recorded = self._traits.recorded
        return tuple(self._traits.columns) if recorded is None else recorded

    def take_events(self, first_member: int = 0) -> pd.DataFrame:
        """Every recorded move, one row each: who, when, along which flow, their stratum and traits then.

        The stratum's column is named after the model's strata (``sex`` in the Korean system).
        """
        strata = self._model.strata
        frames = []
        for m, member in enumerate(self._members):
            for part in member.events:
                frames.append(pd.DataFrame({"member": np.full(part["step"].size, first_member + m), **part}))
            member.events = []
        if not frames:
            return pd.DataFrame(columns=["member", "step", "person", "flow", strata.dimension, *self._recorded, "year"])
        table = pd.concat(frames, ignore_index=True).sort_values(["member", "person", "step"], kind="stable")
        table["year"] = self._timeline.start + table["step"] / self._timeline.steps_per_year
        table["flow"] = pd.Categorical.from_codes(table["flow"], categories=[f.name for f in self._model.flows])
        table["stratum"] = pd.Categorical.from_codes(table["stratum"], categories=list(strata.names))
        table = table.rename(columns={"stratum": strata.dimension})
        return self._traits.label(table.reset_index(drop=True))

    # -- inspection --------------------------------------------------------------

    @property
    def traits(self) -> Traits:
        """The traits the people carry, as declared."""
        return self._traits

    def people(self, member: int = 0) -> People:
        """The people of one member (for analysis and tests)."""
        return self._members[member].people

    def census(self, member: int = 0) -> np.ndarray:
        """People per (stock, stratum, class) of one member, as the kernel counted them."""
        return self._members[member].census


def _by_outflow(weights, outflows, nout, classes, flows) -> np.ndarray:
    """The declared ``(flows, classes)`` weights as ``(stocks, classes, outflow)``, the layout the tables read."""
    weights = np.ones((flows, classes)) if weights is None else np.asarray(weights, dtype=float)
    if weights.shape != (flows, classes):
        raise RunError(f"agents: trait weights have shape {weights.shape}; allowed: (flows, classes) = "
                       f"({flows}, {classes})")  # fmt: skip
    out = np.ones((outflows.shape[0], classes, outflows.shape[1]))
    for s in range(outflows.shape[0]):
        for j in range(nout[s]):
            out[s, :, j] = weights[outflows[s, j]]
    return out
