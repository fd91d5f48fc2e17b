"""The pieces a model is made of: stocks split into strata, flows with hazards, drivers, parameters.

A model is data plus hazard functions. Every backend asks the same
:meth:`Model.rates` for the per-step per-capita hazard of every flow, so the
mechanisms are written once and the backends cannot drift apart.

Every stock and flow is split into the model's :class:`Strata` (the North
Korean model: two sexes; a model without groups: one stratum), each stratum
with its own hazards and counts. With ``k`` strata, a hazard is a plain
function ``hazard(s, d, p)`` of three views:

* ``s``: stocks, ``s.china_hiding`` is an array ``(members, k)``;
  ``s.total("a", "b")`` sums stocks over all strata, shape ``(members, 1)``;
* ``d``: drivers at this step, ``d.food_crisis`` is a float, and the model's
  :class:`Term` values, computed once a step before any hazard (``d.attempts``);
* ``p``: parameters, ``p.attempt_base`` is a float or an array ``(members, 1)``.

It returns something that broadcasts to ``(members, k)``: the hazard per
person per step of the flow's source stock, or, for an inflow (no source),
people per step.

A :class:`FlowFamily` computes many flows in one call (every move along every
link of a :class:`~refuge.model.network.Network`, say): its hazard returns
``(members, flows, k)``, so a model with hundreds of links pays one Python
call a step for them, not hundreds.

A flow or term marked ``reads_stocks=False`` depends only on drivers,
parameters and terms that read no stocks, so it is known before the step:
:meth:`Model.ahead` computes it for a block of steps in one call, with a
leading axis of steps on every driver and per-member parameter, and the step
itself computes only what reads the stocks. Such a function must broadcast
along its arguments' leading axes, not index them, and give what broadcasts
to ``(members, strata)`` a step. Flow families are computed each step.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from ..errors import ModelError
from .network import Network
from .provenance import Provenance
from .timeline import Timeline

Hazard = Callable[["StockView", "DriverView", "ParameterView"], object]


def _index(kind: str, names: list[str]) -> dict[str, int]:
    seen: dict[str, int] = {}
    for i, name in enumerate(names):
        if name in seen:
            raise ModelError(f"two {kind}s are named {name!r}")
        seen[name] = i
    return seen


@dataclass(frozen=True)
class Strata:
    """The groups every stock and flow is split into: ``dimension`` names the results' axis, ``names`` its labels.

    >>> Strata("sex", ("female", "male")).size
    2
    """

    dimension: str = "stratum"
    names: tuple[str, ...] = ("all",)

    def __post_init__(self) -> None:
        if not self.names:
            raise ModelError("strata: names is empty; allowed: one name or more")
        _index("stratum", list(self.names))

    @property
    def size(self) -> int:
        return len(self.names)


@dataclass(frozen=True)
class Term:
    """A quantity several hazards share, computed once a step by ``function(s, d, p)`` and read as ``d.<name>``.

    Terms are computed in the order the model lists them, so a term may read the ones before it.
    ``reads_stocks=False``: it reads no stocks and no term that does (see the module's note on steps ahead).
    """

    name: str
    function: Hazard
    label: str = ""
    reads_stocks: bool = True


@dataclass(frozen=True)
class Mechanism:
    """One causal mechanism of the system (``M1`` .. ``M12``) with its evidence."""

    id: str
    title: str
    evidence: tuple[Provenance, ...]


@dataclass(frozen=True)
class Stock:
    name: str
    label: str
    description: str


@dataclass(frozen=True)
class Flow:
    """People moving from ``source`` to ``target`` at the rate ``hazard`` gives.

    ``source=None`` makes an inflow from outside the system. ``reads_stocks=False``: the hazard reads no
    stocks and no term that does, so it is computed ahead of the steps (see the module's note).
    """

    name: str
    source: str | None
    target: str
    hazard: Hazard
    mechanisms: tuple[str, ...]
    label: str = ""
    reads_stocks: bool = True
    #: the family whose one call computes this flow with its siblings (see :class:`FlowFamily`)
    family: FlowFamily | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class FlowFamily:
    """Flows whose hazards one call computes: ``hazard(s, d, p)`` gives ``(members, len(ends), strata)``
    (or what broadcasts to it), one slice per flow in the order of ``ends``.

    A model lists the family's :meth:`flows` together, in order, among its
    flows; :meth:`Model.rates` then calls the hazard once a step for all of them.

    >>> net = Network.build(["a", "b"], [("a", "b", 10.0)])
    >>> [f.name for f in FlowFamily.along(net, "walk", lambda s, d, p: 0.1).flows()]
    ['walk:a->b', 'walk:b->a']
    """

    name: str
    ends: tuple[tuple[str | None, str], ...]
    hazard: Hazard
    mechanisms: tuple[str, ...] = ()
    label: str = ""

    @classmethod
    def along(cls, network: Network, name: str, hazard: Hazard, mechanisms: tuple[str, ...] = (),
              label: str = "") -> FlowFamily:  # fmt: skip
        """One flow per arc of ``network`` (each link both ways, in arc order), between the stocks named after
        its places: ``hazard`` gives each arc's hazard, ``(members, arcs, strata)``."""
        ends = tuple((network.places[t], network.places[h]) for t, h in zip(network.tail, network.head, strict=True))
        return cls(name, ends, hazard, mechanisms, label)

    def flows(self) -> tuple[Flow, ...]:
        """The family's flows, each also computable alone (its slice of one family call)."""
        return tuple(Flow(f"{self.name}:{source or 'outside'}->{target}", source, target, _Sibling(self, k),
                          self.mechanisms, self.label, family=self)
                     for k, (source, target) in enumerate(self.ends))  # fmt: skip


@dataclass(frozen=True)
class _Sibling:
    """One flow's hazard taken out of its family's call."""

    family: FlowFamily
    k: int

    def __call__(self, s, d, p):
        values = np.asarray(self.family.hazard(s, d, p), dtype=float)
        return values[..., self.k, :] if values.ndim >= 2 else values


@dataclass(frozen=True)
class Driver:
    """A time series that moves the system from outside: piecewise linear between knots.

    ``knots`` maps decimal years to values; the first and last values hold
    before and after. ``bounds`` are the values a lever may set.
    ``published`` maps a knot to the decimal year its first dated evidence
    appeared, where that is later than the knot itself (an order of 2008
    reported in 2010): a forecast made before then does not know the knot
    (:meth:`known_at`).
    """

    name: str
    label: str
    knots: Mapping[float, float]
    evidence: tuple[Provenance, ...]
    bounds: tuple[float, float] = (0.0, np.inf)
    unit: str = "index"
    published: Mapping[float, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.knots:
            raise ModelError(f"driver {self.name!r} has no knots; allowed: at least one (year: value)")
        for year, value in self.knots.items():
            if not (np.isfinite(year) and np.isfinite(value)):
                raise ModelError(f"driver {self.name!r}: knot {year!r}: {value!r} is not allowed; allowed: a finite "
                                 "year and value")  # fmt: skip
        for year, seen in self.published.items():
            if year not in self.knots or year == min(self.knots) or not seen > year:
                raise ModelError(f"driver {self.name!r}: published {year!r}: {seen!r} is not allowed; allowed: a "
                                 "knot of the driver after its first (the value before any event, which a "
                                 "forecast holds when it knows no other), published after its own date")  # fmt: skip

    def known_at(self, knot: float) -> float:
        """When ``knot`` could first be known: its own date, or the later one its evidence appeared."""
        return self.published.get(knot, knot)

    def series(self, timeline: Timeline) -> np.ndarray:
        years = np.array(sorted(self.knots), dtype=float)
        values = np.array([self.knots[y] for y in years], dtype=float)
        return np.interp(timeline.times, years, values)


@dataclass(frozen=True)
class Prior:
    """Plausible range of an uncertain parameter, for calibration: uniform or log-uniform."""

    low: float
    high: float
    log: bool = False
    reason: str = ""


@dataclass(frozen=True)
class Parameter:
    name: str
    value: float
    unit: str
    label: str
    evidence: tuple[Provenance, ...]
    bounds: tuple[float, float] = (0.0, np.inf)
    prior: Prior | None = None

    def __post_init__(self) -> None:
        low, high = self.bounds
        if not (np.isfinite(self.value) and low <= self.value <= high):
            raise ModelError(f"parameter {self.name!r}: default {self.value!r} is not allowed; allowed: a finite "
                             f"value in its bounds [{low:g}, {high:g}]")  # fmt: skip


@dataclass(frozen=True)
class Output:
    """A quantity users read: a sum of flows over the year (or step), or a stock at its end.

    With ``clock``, the output is instead the mean time (years) the people who
    moved along ``flows`` in the period had spent in the model's clock stocks
    (:attr:`Model.clock_stocks`), e.g. time abroad before arrival.
    ``stratum`` counts one stratum only (e.g. women), all when ``None``.
    """

    name: str
    label: str
    flows: tuple[str, ...] = ()
    stock: str | None = None
    stratum: str | None = None
    clock: bool = False
    #: the record counts this output, so predictive intervals add the calibrated misfit to it
    observed: bool = False

    def __post_init__(self) -> None:
        if bool(self.flows) == (self.stock is not None):
            raise ModelError(f"output {self.name!r} names {'both flows and a stock' if self.flows else 'nothing'}; "
                             "allowed: flows (a sum, or with clock their time abroad) or one stock")  # fmt: skip


@dataclass
class Model:
    """A system of stocks and flows, with everything needed to run it."""

    name: str
    stocks: tuple[Stock, ...]
    flows: tuple[Flow, ...]
    drivers: tuple[Driver, ...]
    parameters: tuple[Parameter, ...]
    #: people in each stock at the start, one value per stratum
    initial: Mapping[str, tuple[float, ...]]
    outputs: tuple[Output, ...]
    mechanisms: tuple[Mechanism, ...] = ()
    strata: Strata = Strata()
    #: quantities hazards share, computed once a step (see :class:`Term`)
    terms: tuple[Term, ...] = ()
    #: stocks where a person's clock runs (time abroad): it keeps running along flows between them
    #: and stops (is dropped) on a flow to any other stock
    clock_stocks: tuple[str, ...] = ()
    #: places and the links between them, where the system has geography; each place is a stock
    network: Network | None = None
    #: the steps a year its hazards are written for (52: per week); a run's timeline must have them (``None``: any)
    steps_per_year: int | None = None
    stock_index: dict[str, int] = field(init=False, repr=False)
    flow_index: dict[str, int] = field(init=False, repr=False)
    _plan: tuple[tuple[int, int, Hazard], ...] = field(init=False, repr=False)
    _ahead_plan: tuple[tuple[int, int, Hazard], ...] = field(init=False, repr=False)
    _step_plan: tuple[tuple[int, int, Hazard], ...] = field(init=False, repr=False)
    _ahead_terms: tuple[Term, ...] = field(init=False, repr=False)
    _step_terms: tuple[Term, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.stock_index = _index("stock", [s.name for s in self.stocks])
        self.flow_index = _index("flow", [f.name for f in self.flows])
        _index("driver", [d.name for d in self.drivers])
        for name in _index("term", [t.name for t in self.terms]):
            if any(d.name == name for d in self.drivers):
                raise ModelError(f"term {name!r} has a driver's name; allowed: a name of its own (d.{name} reads one)")
        _index("parameter", [p.name for p in self.parameters])
        known_mechanisms = {m.id for m in self.mechanisms}
        for flow in self.flows:
            for end in (flow.source, flow.target):
                if end is not None and end not in self.stock_index:
                    raise ModelError(f"flow {flow.name!r} names unknown stock {end!r}")
            unknown = set(flow.mechanisms) - known_mechanisms
            if self.mechanisms and unknown:
                raise ModelError(f"flow {flow.name!r} cites unknown mechanisms {sorted(unknown)}")
        for name, people in self.initial.items():
            if name not in self.stock_index:
                raise ModelError(f"initial population given for unknown stock {name!r}")
            if np.shape(people) != (self.strata.size,):
                raise ModelError(f"initial[{name!r}]: {people!r} has not one value per stratum; allowed: "
                                 f"{self.strata.size} values, for {', '.join(self.strata.names)}")  # fmt: skip
            if not all(np.isfinite(x) and x >= 0 for x in people):
                raise ModelError(f"initial[{name!r}]: {people!r} is not allowed; allowed: people, 0 or more")
        for name in self.clock_stocks:
            if name not in self.stock_index:
                raise ModelError(f"clock stock {name!r} is not a stock of the model")
        if self.network is not None:
            missing = [p for p in self.network.places if p not in self.stock_index]
            if missing:
                raise ModelError(f"network: places {missing[:5]} are not stocks; allowed: each place a stock")
        self._plan = self._hazard_calls()
        for flow in self.flows:
            if flow.family is not None and not flow.reads_stocks:
                raise ModelError(f"flow {flow.name!r} of family {flow.family.name!r} is marked reads_stocks=False; "
                                 "allowed: a family is computed each step")  # fmt: skip
        self._ahead_plan = tuple(call for call in self._plan if not self.flows[call[0]].reads_stocks)
        self._step_plan = tuple(call for call in self._plan if self.flows[call[0]].reads_stocks)
        self._ahead_terms = tuple(t for t in self.terms if not t.reads_stocks)
        self._step_terms = tuple(t for t in self.terms if t.reads_stocks)
        _index("output", [o.name for o in self.outputs])
        for out in self.outputs:
            if out.clock and not self.clock_stocks:
                raise ModelError(f"output {out.name!r} reads the clock, but the model has no clock stocks")
            for name in out.flows:
                if name not in self.flow_index:
                    raise ModelError(f"output {out.name!r} names unknown flow {name!r}")
            if out.stock is not None and out.stock not in self.stock_index:
                raise ModelError(f"output {out.name!r} names unknown stock {out.stock!r}")
            if out.stratum is not None and out.stratum not in self.strata.names:
                raise ModelError(f"output {out.name!r}: stratum {out.stratum!r} is not known; "
                                 f"allowed: {', '.join(self.strata.names)}")  # fmt: skip

    def _hazard_calls(self) -> tuple[tuple[int, int, Hazard], ...]:
        """``(first, stop, hazard)`` per call :meth:`rates` makes: a flow alone, or a family's flows together."""
        calls, i = [], 0
        while i < len(self.flows):
            family = self.flows[i].family
            if family is None:
                calls.append((i, i + 1, self.flows[i].hazard))
                i += 1
                continue
            stop = i + len(family.ends)
            if [f.name for f in self.flows[i:stop]] != [f.name for f in family.flows()]:
                raise ModelError(f"family {family.name!r}: its flows must be listed together, all of them, in "
                                 f"the order FlowFamily.flows() gives; found {self.flows[i].name!r} at flow {i}")
            calls.append((i, stop, family.hazard))
            i = stop
        return tuple(calls)

    def check_timeline(self, timeline) -> None:
        """Refuse a timeline whose steps the hazards are not written for: a weekly hazard taken per month, or per
        day, gives wrong numbers without an error."""
        if self.steps_per_year is not None and timeline.steps_per_year != self.steps_per_year:
            raise ModelError(f"timeline: steps_per_year {timeline.steps_per_year} is not allowed for model "
                             f"{self.name!r}; allowed: {self.steps_per_year}, the step its hazards are written for")

    # -- lookups -----------------------------------------------------------------

    def driver(self, name: str) -> Driver:
        return _find(self.drivers, name, "driver")

    def parameter(self, name: str) -> Parameter:
        return _find(self.parameters, name, "parameter")

    def output(self, name: str) -> Output:
        return _find(self.outputs, name, "output")

    @property
    def sources(self) -> np.ndarray:
        """Source stock index of each flow, ``-1`` for inflows."""
        return np.array([-1 if f.source is None else self.stock_index[f.source] for f in self.flows])

    @property
    def targets(self) -> np.ndarray:
        return np.array([self.stock_index[f.target] for f in self.flows])

    def initial_state(self, members: int, dtype=np.float64) -> np.ndarray:
        state = np.zeros((members, len(self.stocks), self.strata.size), dtype=dtype)
        for name, people in self.initial.items():
            state[:, self.stock_index[name], :] = people
        return state

    # -- the one place hazards are evaluated -----------------------------------

    @property
    def computes_ahead(self) -> bool:
        """Whether any flow or term reads no stocks, so that :meth:`ahead` has something to compute."""
        return bool(self._ahead_plan or self._ahead_terms)

    def rates(self, state: np.ndarray, drivers: DriverView, params: ParameterView, ahead: Ahead | None = None,
              step: int = 0) -> np.ndarray:  # fmt: skip
        """Hazard of every flow over one step, ``(members, flows, strata)``: per person, or people for inflows.

        With ``ahead`` (from :meth:`ahead`), the flows and terms that read no
        stocks are taken from its ``step``-th step and only the others computed;
        the array returned is that step of ``ahead.rates``.
        """
        stocks = StockView(state, self.stock_index)
        if ahead is None:
            terms, plan = self.terms, self._plan
            out = np.empty((state.shape[0], len(self.flows), self.strata.size))
            values = dict(drivers._values)
        else:
            terms, plan = self._step_terms, self._step_plan
            out = ahead.rates[step]
            values = {**drivers._values, **ahead.terms_at(step)}
        for term in terms:
            values[term.name] = term.function(stocks, DriverView(values), params)
        drivers = DriverView(values)
        for first, stop, hazard in plan:
            if stop == first + 1:
                out[:, first, :] = hazard(stocks, drivers, params)
            else:
                out[:, first:stop, :] = hazard(stocks, drivers, params)
        self.check_rates(out)
        return out

    @property
    def reads_stocks(self) -> bool:
        """Whether any flow or term reads the stocks; if none does, :meth:`ahead` computes every hazard."""
        return bool(self._step_plan or self._step_terms)

    def check_rates(self, rates: np.ndarray) -> None:
        """Refuse hazards that are negative, undefined or beyond :data:`MAX_HAZARD`, naming the flow (``rates``
        ``(..., flows, strata)``): an infinite one has no draw, and whole people beyond it overflow."""
        if not (rates.min() >= 0.0 and rates.max() <= MAX_HAZARD):  # a NaN fails both
            at = np.argwhere(~((rates >= 0.0) & (rates <= MAX_HAZARD)))[0]
            raise ModelError(f"flow {self.flows[int(at[-2])].name!r} has a hazard of {rates[tuple(at)]:g}; allowed: "
                             f"0 to {MAX_HAZARD:g} (per person a step, or people a step for an inflow); check its "
                             "parameters and levers")  # fmt: skip

    def ahead(self, drivers: DriverView, params: ParameterView, members: int, steps: int) -> Ahead:
        """The flows and terms that read no stocks over ``steps`` steps, one call each: Python's cost a call is
        paid once a block, not once a step.

        Every array in ``drivers`` and ``params`` has a leading axis of steps:
        ``(steps, 1, 1)`` for a driver (``(steps, members, 1)`` where members
        follow their own paths), ``(1, members, 1)`` for a parameter that
        differs between members and ``(steps, members or 1, 1)`` for one a
        lever moves (``Inputs.drivers_between``, ``Inputs.parameters_between``).
        """
        shape = (steps, members, self.strata.size)
        values = dict(drivers._values)
        seen = _AheadDrivers(values)  # a view of ``values``: each term computed is seen by those after it
        terms = {}
        for term in self._ahead_terms:
            try:
                value = term.function(_NO_STOCKS, seen, params)
            except ModelError as error:
                raise ModelError(f"term {term.name!r}: {error}") from None
            values[term.name] = terms[term.name] = _broadcast(value, shape, "term", term.name)
        hazards = []
        for first, _, hazard in self._ahead_plan:
            try:  # not a context manager, which cost a third of a constant flow's time (400 flows)
                hazards.append(hazard(_NO_STOCKS, seen, params))
            except ModelError as error:
                raise ModelError(f"flow {self.flows[first].name!r}: {error}") from None
        # hazards the same at every step are written once and seen at every step through a view, where no flow
        # computed step by step writes into the steps (400 constant flows over 655 steps: 2 against 13 ms)
        varying = any(not isinstance(h, float) and np.ndim(h) == 3 and np.shape(h)[0] > 1 for h in hazards)
        depth = steps if varying or self._step_plan else 1
        rates = np.empty((depth, members, len(self.flows), self.strata.size))
        for (first, _, _), value in zip(self._ahead_plan, hazards, strict=True):
            # a constant needs no check of its shape, most of a flow's cost (400 flows: 40 against 15 ms)
            rates[:, :, first, :] = (value if isinstance(value, float) else
                                     _broadcast(value, (depth, *shape[1:]), "flow", self.flows[first].name))
        if depth < steps:
            return Ahead(np.broadcast_to(rates, (steps, *rates.shape[1:])), terms, steady=True)
        return Ahead(rates, terms)


#: the largest hazard a flow may have: far beyond any rate a person or an inflow has, and below what a count of
#: whole people (int64) holds
MAX_HAZARD = 1e15


def _broadcast(value, shape: tuple[int, ...], kind: str, name: str) -> np.ndarray:
    try:
        return np.broadcast_to(value, shape)
    except ValueError:
        raise ModelError(f"{kind} {name!r}, computed ahead of its steps, gives shape {np.shape(value)}; allowed: "
                         f"what broadcasts to (steps, members, strata) = {shape}, each step's value broadcasting "
                         "to (members, strata) (or mark it reads_stocks=True)") from None


@dataclass(frozen=True)
class Ahead:
    """What :meth:`Model.ahead` computed for a block of steps.

    ``rates`` is ``(steps, members, flows, strata)`` with the flows that read
    no stocks filled (:meth:`Model.rates` fills the rest, step by step); with
    ``steady``, a read-only view of one step that is every step's.
    ``terms`` holds the terms that read none, each ``(steps, members, strata)``
    (a broadcast view: no copy where a value does not vary).
    """

    rates: np.ndarray
    terms: dict[str, np.ndarray]
    steady: bool = False

    @property
    def distinct_rates(self) -> np.ndarray:
        """The steps whose rates differ: one where they are steady (what a check of them needs to read)."""
        return self.rates[:1] if self.steady else self.rates

    def terms_at(self, step: int) -> dict[str, np.ndarray]:
        """The terms' values at the block's ``step``-th step, ``(members, strata)`` each."""
        return {name: value[step] for name, value in self.terms.items()}


class _NoStocks:
    """The stocks a function computed ahead sees: reading one is a modelling error, said plainly."""

    def __getattr__(self, name: str):
        if name.startswith("__"):  # Python's own lookups (copy, doctest, pickle)
            raise AttributeError(name)
        return self.total()

    def total(self, *names):
        raise ModelError("it is marked reads_stocks=False but reads the stocks; allowed: drivers, parameters "
                         "and terms that read no stocks (or mark it reads_stocks=True)")  # fmt: skip

    stack = total


_NO_STOCKS = _NoStocks()


class StockView:
    """Stocks of a state array by name: ``s.china_hiding`` is ``(members, strata)``."""

    __slots__ = ("_index", "_state", "_totals")

    def __init__(self, state: np.ndarray, index: Mapping[str, int]):
        self._state = state
        self._index = index
        self._totals = None

    def __getattr__(self, name: str) -> np.ndarray:
        try:
            return self._state[:, self._index[name], :]
        except KeyError:
            raise AttributeError(f"no stock named {name!r}") from None

    def stack(self, names) -> np.ndarray:
        """The named stocks side by side, ``(members, len(names), strata)``: e.g. every place of a network."""
        return self._state[:, [self._index[name] for name in names], :]

    def total(self, *names: str) -> np.ndarray:
        """People in the named stocks, all strata, shape ``(members, 1)``."""
        if self._totals is None:
            self._totals = _over_strata(self._state).astype(float)
        out = self._totals[:, self._index[names[0]]]
        for name in names[1:]:
            out = out + self._totals[:, self._index[name]]
        return out[:, None]


def _over_strata(state: np.ndarray) -> np.ndarray:
    """``state.sum(axis=2)``, the same numbers, stratum by stratum: NumPy sums along a short last axis
    element by element, 15 times slower (0.76 ms a week for 5,000 members of the Korean model against 0.05).
    Whole numbers add exactly in any order, and two floats in either; more floats keep NumPy's own order."""
    strata = state.shape[2]
    if strata > 2 and not np.issubdtype(state.dtype, np.integer):
        return state.sum(axis=2)
    out = state[:, :, 0].astype(np.sum(state[:0, :0], axis=2).dtype)  # NumPy's dtype of the sum (int64 for int32)
    for x in range(1, strata):
        out += state[:, :, x]
    return out


class DriverView:
    """Driver values at one step: ``d.food_crisis`` is a float; with the model's terms once :meth:`Model.rates`
    has computed them."""

    __slots__ = ("_values",)

    def __init__(self, values: Mapping[str, float]):
        self._values = values

    def __getattr__(self, name: str) -> float:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(f"no driver named {name!r}") from None


class _AheadDrivers(DriverView):
    """Drivers and the terms computed ahead, as functions computed ahead see them: any other name is refused."""

    __slots__ = ()

    def __getattr__(self, name: str):
        try:
            return self._values[name]
        except KeyError:
            raise ModelError(f"it is marked reads_stocks=False but reads {name!r}, which is neither a driver nor a "
                             "term marked reads_stocks=False") from None


class ParameterView:
    """Parameter values: a float, or an array ``(members, 1)`` when members differ."""

    __slots__ = ("_values",)

    def __init__(self, values: Mapping[str, float | np.ndarray]):
        self._values = values

    def __getattr__(self, name: str):
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(f"no parameter named {name!r}") from None


def per_stratum(*values) -> np.ndarray:
    """One value per stratum, side by side on a last axis: ``(strata,)`` or ``(members, strata)``.

    >>> per_stratum(0.5, 1.0)
    array([0.5, 1. ])
    """
    arrays = [value.shape for value in values if isinstance(value, np.ndarray) and value.ndim]
    if not arrays:  # a hazard's constants
        return np.array(values, dtype=float)
    shape = arrays[0] if len(arrays) == 1 else np.broadcast_shapes(*arrays)  # numbers broadcast to any shape
    out = np.empty((*shape[:-1], len(values)))
    for i, value in enumerate(values):
        out[..., i : i + 1] = value
    return out


def _find(items, name: str, kind: str):
    for item in items:
        if item.name == name:
            return item
    raise ModelError(f"no {kind} named {name!r}")
