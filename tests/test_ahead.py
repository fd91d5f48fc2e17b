"""Hazards computed ahead of their steps (``Model.ahead``) are the hazards of each step, whatever the block."""

import dataclasses

import numpy as np
import pytest

import refuge
import refuge.simulation
from refuge.errors import ModelError
from refuge.model.definition import DriverView, Flow, ParameterView, Term
from refuge.model.timeline import Timeline
from refuge.scenarios import load_scenario
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


def test_most_korean_flows_are_computed_ahead():
    ahead = [f.name for f in MODEL.flows if not f.reads_stocks]
    assert len(ahead) >= len(MODEL.flows) - 8
    assert "settle" not in ahead and "deported_from_china" not in ahead  # they read stocks


def _run(model):
    refuge.run("baseline", members=1, backend="mean", model=model, timeline=Timeline(2000, 2000), calibrated=False)


def test_a_flow_marked_ahead_that_reads_stocks_is_refused():
    leak = Flow("leak", "china_hiding", "dead", lambda s, d, p: 1e-9 * s.total("china_hiding"), ("M4",),
                reads_stocks=False)  # fmt: skip
    with pytest.raises(ModelError, match="reads_stocks=False reads the stocks"):
        _run(_with(flows=(*MODEL.flows, leak)))


def test_a_term_marked_ahead_that_reads_a_term_of_the_step_is_refused():
    late = Term("late", lambda s, d, p: 2.0 * d.attempts, reads_stocks=False)
    with pytest.raises(ModelError, match="'attempts' is read by a flow or term marked reads_stocks=False"):
        _run(_with(terms=(*MODEL.terms, late)))
