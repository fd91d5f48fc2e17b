"""A model whose hazards read no stocks runs a block of steps in one call of the agents backend, with the numbers
of the same model stepped one step at a time."""

import dataclasses

import numba
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import refuge
import refuge.scenarios.levers
from refuge.backends.agents import Agents, AgentsBackend, Traits
from refuge.backends.agents import step as kernels
from refuge.errors import ModelError
from refuge.model.definition import Driver, DriverView, Flow, Model, Output, Parameter, ParameterView, Stock, Strata
from refuge.model.timeline import Timeline
from refuge.scenarios import Scenario

TIMELINE = Timeline(2000, 2002, steps_per_year=52)


def _linear(ahead: bool, *, inflow: bool = False, returns: float = 0.02, people=(50_000.0, 40_000.0)) -> Model:
    """Flight driven by fear, death, return and resettlement from the camp: every hazard known ahead
    (``ahead``), or the same hazards computed step by step."""
    flows = [Flow("flee", "home", "camp", lambda s, d, p: p.move * d.fear, (), reads_stocks=not ahead),
             Flow("die", "home", "gone", lambda s, d, p: 1e-4, (), reads_stocks=not ahead),
             Flow("return", "camp", "home", lambda s, d, p: returns + 0.0 * d.fear, (), reads_stocks=not ahead),
             Flow("resettle", "camp", "gone", lambda s, d, p: 0.003 * d.fear, (), reads_stocks=not ahead)]  # fmt: skip
    if inflow:
        flows.append(Flow("born", None, "home", lambda s, d, p: 3.0 * d.fear, (), reads_stocks=not ahead))
    return Model(
        name="camp",
        stocks=(Stock("home", "home", ""), Stock("camp", "camp", ""), Stock("gone", "gone", "")),
        flows=tuple(flows),
        drivers=(Driver("fear", "fear", {2000.0: 0.5, 2001.5: 2.0}, ()),),
        parameters=(Parameter("move", 0.01, "per step", "move", ()),),
        initial={"home": people},
        outputs=(Output("in_camp", "in the camp", stock="camp"),),
        strata=Strata("sex", ("female", "male")),
    )


def _run(model: Model, backend=None, *, seed: int = 4, resolution: str = "year", timeline: Timeline = TIMELINE):
    return refuge.run(Scenario("camp", ""), members=3, seed=seed, backend=backend or Agents(), model=model,
                      timeline=timeline, parameters={"move": [0.01, 0.02, 0.03]}, calibrated=False,
                      resolution=resolution).data  # fmt: skip


def _assert_same(a, b) -> None:
    np.testing.assert_array_equal(a.flows.values, b.flows.values)
    np.testing.assert_array_equal(a.stocks.values, b.stocks.values)


def _counting_block_calls(monkeypatch) -> list:
    """Count the calls of the block kernels (both builds), so a test knows the block path was taken."""
    calls = []
    for name in ("move_block", "move_block_serial"):
        kernel = getattr(kernels, name)
        monkeypatch.setattr(kernels, name, lambda *args, kernel=kernel: calls.append(1) or kernel(*args))
    return calls


@pytest.mark.parametrize("resolution", ["year", "step"])
@pytest.mark.parametrize("parallel_from", [0, 1 << 40])
def test_a_block_of_steps_moves_people_as_step_by_step(monkeypatch, resolution, parallel_from):
    monkeypatch.setattr(kernels, "PARALLEL_FROM", parallel_from)
    calls = _counting_block_calls(monkeypatch)
    stepped = _run(_linear(False), resolution=resolution)
    assert not calls  # hazards that read the stocks: step by step
    blocked = _run(_linear(True), resolution=resolution)
    assert calls  # the block kernel ran
    _assert_same(stepped, blocked)
    assert blocked.flows.sel(flow="flee").values.sum(axis=-1).min() > 0  # people fled in every period


def test_the_size_of_the_block_changes_no_number(monkeypatch):
    step = 3 * 4 * 2 * 8  # a step's hazards: members x flows x strata, in bytes
    runs = []
    for size in (1, 10 * step, 10**9):  # blocks of one step, of ten (inside a year's 52), and of all of them
        monkeypatch.setattr(refuge.simulation, "AHEAD_BYTES", size)
        runs.append(_run(_linear(True)))
    _assert_same(runs[0], runs[1])
    _assert_same(runs[0], runs[2])


@pytest.mark.parametrize("backend", [lambda: Agents(_camp_traits()), lambda: Agents(_weighed_traits())],
                         ids=["hooks", "weights"])  # fmt: skip
def test_people_who_differ_go_step_by_step(monkeypatch, backend):
    calls = _counting_block_calls(monkeypatch)
    _assert_same(_run(_linear(False), backend()), _run(_linear(True), backend()))
    assert not calls


def test_a_record_of_moves_goes_step_by_step_and_keeps_every_move(monkeypatch):
    calls = _counting_block_calls(monkeypatch)
    events = []
    for ahead in (False, True):
        backend = Agents(record=True)
        _run(_linear(ahead), backend)
        events.append(backend.take_events())
    assert not calls
    assert len(events[0]) > 1000
    pd.testing.assert_frame_equal(events[0], events[1])


def test_inflows_go_step_by_step_with_the_same_numbers():
    _assert_same(_run(_linear(False, inflow=True)), _run(_linear(True, inflow=True)))


def test_a_negative_hazard_known_ahead_is_refused_by_name():
    with pytest.raises(ModelError, match=r"flow .return. has a hazard of -0.5; allowed: 0 to 1e\+15"):
        _run(_linear(True, returns=-0.5))


def test_a_run_of_steps_with_the_same_rates_shares_one_table():
    rates = np.zeros((6, 2, 1))
    rates[:3] = 0.1
    rates[3:] = 0.2
    rates[5, 1] = 0.3
    outflows, nout = np.array([[0, 1]]), np.array([2])
    table, p_leave, cum = np.empty(6, dtype=np.int64), np.zeros((6, 1, 1, 1)), np.zeros((6, 1, 1, 1, 2))
    assert kernels.block_tables(rates, outflows, nout, table, p_leave, cum) == 3
    assert table.tolist() == [0, 0, 0, 1, 1, 2]
    np.testing.assert_allclose(p_leave[:3, 0, 0, 0], 1 - np.exp(-np.array([0.2, 0.4, 0.5])))
    np.testing.assert_allclose(cum[2, 0, 0, 0], [0.4, 1.0])


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), home=st.integers(0, 3_000), camp_return=st.floats(0.0, 0.5),
       steps_per_year=st.sampled_from([1, 12, 52, 365]))  # fmt: skip
def test_blocked_and_stepped_runs_agree_and_conserve_people(seed, home, camp_return, steps_per_year):
    timeline = Timeline(2000, 2001, steps_per_year=steps_per_year)
    people = (float(home), float(home // 2))
    runs = [_run(_linear(ahead, returns=camp_return, people=people), seed=seed, timeline=timeline)
            for ahead in (False, True)]  # fmt: skip
    _assert_same(*runs)
    assert (runs[1].stocks.values.sum(axis=(2, 3)) == sum(people)).all()


@numba.njit
def _count_months(traits, stock, stratum, start, end, moved, u, p, clock, context):
    for i in range(start, end):
        traits[0][i] = min(traits[0][i] + 1, 255)


def _camp_traits() -> Traits:
    """A trait each step changes (a ``live`` hook): the people are not alike, and the kernel with hooks runs."""
    return Traits(columns={"months": np.uint8}, classes=1, live=_count_months)


def _weighed_traits() -> Traits:
    """No hooks, one class whose hazards are weighed: the step's tables divide by the stock's mean weight."""
    return Traits(columns={"months": np.uint8}, classes=1, weights=np.full((4, 1), 3.0))


def test_the_backend_takes_a_block_without_the_engines_loop():
    model = _linear(True)
    backend = AgentsBackend(model, refuge.backends.random.member_keys(0, 1), TIMELINE)
    state = model.initial_state(1, dtype=np.int64)
    rates = np.broadcast_to(np.array([0.05, 0.0, 0.0, 0.0])[None, None, :, None], (10, 1, 4, 2))
    moved = np.zeros((1, 2, 4, 2), dtype=np.int64)
    backend.steps(state, rates, 0, np.repeat([0, 1], 5), moved)
    assert moved[0, :, 0].sum() == state[0, 1].sum() > 0  # everyone in the camp fled there, in one period or other
    assert moved[0, 0, 0].sum() > 0 and moved[0, 1, 0].sum() > 0  # in both periods
    assert moved[0, :, 1:].sum() == 0
    assert state.sum() == 90_000


def test_a_member_with_nobody_yet_moves_nobody():
    """With no one in a member at a step, the backend counts no moves (it once added uninitialised memory)."""
    data = _run(_linear(False, inflow=True, people=(0.0, 0.0)), resolution="step")
    first = data.flows.isel(step=0)
    assert (first.sel(flow=[f for f in first.flow.values if f != "born"]).values == 0).all()
    assert (first.sel(flow="born").values.sum(axis=-1) > 0).all()


def test_a_block_of_nobody_moves_nobody(monkeypatch):
    calls = _counting_block_calls(monkeypatch)
    data = _run(_linear(True, people=(0.0, 0.0)))
    assert calls and (data.flows.values == 0).all() and (data.stocks.values == 0).all()


def _still(ahead: bool, returns: float = 0.02) -> Model:
    """Hazards the same at every step: a parameter members draw and a plain number."""
    return Model(
        name="still",
        stocks=(Stock("home", "home", ""), Stock("camp", "camp", "")),
        flows=(Flow("flee", "home", "camp", lambda s, d, p: p.move, (), reads_stocks=not ahead),
               Flow("return", "camp", "home", lambda s, d, p: returns, (), reads_stocks=not ahead)),
        drivers=(),
        parameters=(Parameter("move", 0.01, "per step", "move", ()),),
        initial={"home": (5_000.0, 4_000.0)},
        outputs=(Output("in_camp", "in the camp", stock="camp"),),
        strata=Strata("sex", ("female", "male")),
    )  # fmt: skip


@pytest.mark.parametrize("backend", ["mean", "counts", None])
def test_hazards_the_same_every_step_are_computed_once_with_the_numbers_of_each_step(monkeypatch, backend):
    calls = _counting_block_calls(monkeypatch)
    _assert_same(_run(_still(False), backend), _run(_still(True), backend))
    assert bool(calls) == (backend is None)  # the agents take them as a block
    model = _still(True)
    move = {"move": np.array([[0.01], [0.02]])}
    inputs = refuge.scenarios.levers.compile_inputs(model, Scenario("still", ""), TIMELINE, move, {})
    ahead = model.ahead(DriverView(inputs.drivers_between(0, 9)), ParameterView(inputs.parameters_between(0, 9)), 2, 9)
    assert ahead.steady and ahead.rates.shape == (9, 2, 2, 2) and ahead.rates.strides[0] == 0  # one step, seen
    np.testing.assert_array_equal(ahead.rates[8, :, :, 0], [[0.01, 0.02], [0.02, 0.02]])  # members, flows


def test_a_negative_hazard_the_same_every_step_is_refused_by_name():
    with pytest.raises(ModelError, match=r"flow .return. has a hazard of -0.5; allowed: 0 to 1e\+15"):
        _run(_still(True, returns=-0.5))


def test_a_hazard_that_varies_by_step_may_be_a_nested_list():
    """What broadcasts to the steps is taken as it is, an array or not (a list once read as steady and refused)."""
    flows = (Flow("flee", "home", "camp", lambda s, d, p: (0.01 * np.asarray(d.fear)).tolist(), (),
                  reads_stocks=False),)  # fmt: skip
    model = dataclasses.replace(_linear(True), flows=flows, outputs=())
    inputs = refuge.scenarios.levers.compile_inputs(model, Scenario("camp", ""), TIMELINE, {}, {})
    ahead = model.ahead(DriverView(inputs.drivers_between(0, 9)), ParameterView(inputs.parameters_between(0, 9)), 1, 9)
    assert not ahead.steady
    np.testing.assert_allclose(ahead.rates[:, 0, 0, 0], 0.01 * inputs.drivers_between(0, 9)["fear"].reshape(-1))
