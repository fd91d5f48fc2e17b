"""Hazards computed ahead of their steps (``Model.ahead``) are the hazards of each step, whatever the block."""

import dataclasses

import numpy as np
import pytest

import refuge
import refuge.simulation
from refuge.errors import ModelError
from refuge.model.definition import (
    Driver,
    DriverView,
    Flow,
    FlowFamily,
    Model,
    Output,
    Parameter,
    ParameterView,
    Stock,
    Term,
)
from refuge.model.network import Network
from refuge.model.timeline import Timeline
from refuge.scenarios import Scenario, load_scenario
from refuge.scenarios.levers import compile_inputs

MODEL = refuge.north_korea()


def _with(**changes):
    fields = {f.name: getattr(MODEL, f.name) for f in dataclasses.fields(MODEL) if f.init}
    fields.update(changes)
    return type(MODEL)(**fields)


def _inputs(members: int):
    """regime-collapse levers a parameter (``direct_defection``) as well as drivers; members differ in two
    parameters and follow their own paths of a driver."""
    timeline = Timeline(2026, 2029)
    rng = np.random.default_rng(3)
    parameters = {"attempt_base": rng.uniform(1e-4, 3e-4, (members, 1)),
                  "cost_elasticity": rng.uniform(0.2, 1.5, (members, 1))}  # fmt: skip
    paths = {"route_permeability": rng.uniform(0.5, 2.0, (members, len(timeline.years)))}
    return compile_inputs(MODEL, load_scenario("regime-collapse"), timeline, parameters, paths)


def test_a_block_computed_ahead_gives_each_steps_own_hazards():
    members, inputs = 3, _inputs(3)
    state = MODEL.initial_state(members) * np.arange(1, members + 1)[:, None, None]
    first, stop = 90, 110  # the collapse of January 2028 is inside the block
    ahead = MODEL.ahead(DriverView(inputs.drivers_between(first, stop)),
                        ParameterView(inputs.parameters_between(first, stop)), members, stop - first)  # fmt: skip
    for step in range(first, stop):
        drivers, params = DriverView(inputs.drivers_at(step)), ParameterView(inputs.parameters_at(step))
        alone = MODEL.rates(state, drivers, params)
        np.testing.assert_array_equal(MODEL.rates(state, drivers, params, ahead, step - first), alone)
    assert ahead.rates.shape == (stop - first, members, len(MODEL.flows), 2)


@pytest.mark.parametrize("backend", ["mean", "counts"])
def test_the_size_of_a_block_changes_no_number(monkeypatch, backend):
    runs = []
    for size in (1, 10**9):  # one step a block, and the whole timeline in one
        monkeypatch.setattr(refuge.simulation, "AHEAD_BYTES", size)
        res = refuge.run("regime-collapse", members=2, seed=5, backend=backend, timeline=Timeline(2026, 2029))
        runs.append(res.data.flows.values)
    np.testing.assert_array_equal(*runs)


def test_the_korean_flows_computed_each_week_are_those_that_read_the_stocks():
    each_week = {f.name for f in MODEL.flows if f.reads_stocks}
    assert each_week == {"cross_to_china", "brokered_crossing", "caught_at_border", "shot_at_border",
                         "kin_funded_escape", "deported_from_china", "settle"}  # fmt: skip
    assert [t.name for t in MODEL.terms if t.reads_stocks] == ["attempts"]


def _camp(ahead: bool) -> Model:
    """One stratum, a driver, a parameter that members draw: flight and arrivals known ahead, return not."""
    return Model(
        name="camp",
        stocks=(Stock("home", "home", ""), Stock("camp", "camp", "")),
        flows=(Flow("flee", "home", "camp", lambda s, d, p: p.move * d.fear, (), reads_stocks=not ahead),
               Flow("arrive", None, "camp", lambda s, d, p: 200.0 * d.fear, (), reads_stocks=not ahead),
               Flow("return", "camp", "home", lambda s, d, p: 0.01 * s.total("camp") / 1e5, ())),
        drivers=(Driver("fear", "fear", {2000.0: 0.5, 2001.5: 2.0}, ()),),
        parameters=(Parameter("move", 0.01, "per step", "move", ()),),
        initial={"home": (90_000.0,)},
        outputs=(Output("in_camp", "in the camp", stock="camp"),),
    )  # fmt: skip


@pytest.mark.parametrize("backend", ["mean", "counts"])
def test_a_model_with_one_stratum_runs_the_same_with_its_flows_computed_ahead_or_each_step(backend):
    runs = [refuge.run(Scenario("camp", ""), members=3, seed=4, backend=backend, model=_camp(ahead),
                       timeline=Timeline(2000, 2002, steps_per_year=365), parameters={"move": [0.01, 0.02, 0.03]},
                       calibrated=False).data.flows.values for ahead in (False, True)]  # fmt: skip
    np.testing.assert_array_equal(*runs)
    assert runs[0][:, -1, 0].min() > 0  # people fled


def _run(model):
    refuge.run("baseline", members=1, backend="mean", model=model, timeline=Timeline(2000, 2000), calibrated=False)


def test_a_flow_marked_ahead_that_reads_stocks_is_refused_by_name():
    leak = Flow("leak", "china_hiding", "dead", lambda s, d, p: 1e-9 * s.total("china_hiding"), ("M4",),
                reads_stocks=False)  # fmt: skip
    with pytest.raises(ModelError, match="flow 'leak': it is marked reads_stocks=False but reads the stocks"):
        _run(_with(flows=(*MODEL.flows, leak)))


def test_a_term_marked_ahead_that_reads_a_term_of_the_step_is_refused_by_name():
    late = Term("late", lambda s, d, p: 2.0 * d.attempts, reads_stocks=False)
    with pytest.raises(ModelError, match=r"term 'late': .* reads 'attempts', which is neither a driver nor a term"):
        _run(_with(terms=(*MODEL.terms, late)))


def test_a_term_computed_ahead_must_broadcast_to_members_and_strata():
    table = Term("table", lambda s, d, p: np.ones((2, 2, 2)), reads_stocks=False)
    with pytest.raises(ModelError, match=r"term 'table', computed ahead of its steps, gives shape \(2, 2, 2\)"):
        _run(_with(terms=(*MODEL.terms, table)))


def test_a_flow_family_is_computed_each_step():
    net = Network.build(["home", "camp"], [("home", "camp", 10.0)])
    flows = FlowFamily.along(net, "walk", lambda s, d, p: 0.1).flows()
    with pytest.raises(ModelError, match="family 'walk' is marked reads_stocks=False; allowed: a family is computed"):
        Model("walk", (Stock("home", "", ""), Stock("camp", "", "")),
              (dataclasses.replace(flows[0], reads_stocks=False), flows[1]), (), (), {}, (), network=net)  # fmt: skip


def test_constant_hazards_between_others_are_written_to_their_own_flows():
    """Runs of flows whose hazard is a plain number are written a run at a time, around the flows that vary."""
    places = tuple(Stock(f"p{i}", f"p{i}", "") for i in range(4))
    hazards = [0.01, 0.02, None, 0.03, None, 0.04, 0.05]  # None: varies with the driver
    flows = tuple(
        Flow(f"f{k}", f"p{k % 4}", f"p{(k + 1) % 4}", (lambda s, d, p: 0.1 * d.push) if h is None
             else (lambda s, d, p, h=h: h), (), reads_stocks=False)
        for k, h in enumerate(hazards)
    )  # fmt: skip
    model = Model("ring", places, flows, (Driver("push", "", {2000: 0.0, 2001: 1.0}, ()),), (), {"p0": (100,)}, ())
    inputs = compile_inputs(model, Scenario("ring", ""), Timeline(2000, 2001, steps_per_year=4), {}, {})
    ahead = model.ahead(DriverView(inputs.drivers_between(0, 8)), ParameterView(inputs.parameters_between(0, 8)), 2, 8)
    for step in range(8):
        alone = model.rates(model.initial_state(2), DriverView(inputs.drivers_at(step)),
                            ParameterView(inputs.parameters_at(step)))  # fmt: skip
        np.testing.assert_array_equal(ahead.rates[step], alone)
    assert ahead.rates[0, 0, [0, 1, 3, 5, 6], 0].tolist() == [0.01, 0.02, 0.03, 0.04, 0.05]
