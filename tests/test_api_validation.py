"""The Python API refuses what the CLI and scenario files refuse: one refuge error naming the argument, the value
and what is allowed, never a traceback from deep inside and never a run on values it would not accept."""

import numpy as np
import pytest

import refuge
from refuge.errors import ModelError, RunError, ScenarioError
from refuge.model.definition import Driver, Flow, Model, Output, Parameter, Stock
from refuge.model.timeline import Timeline
from refuge.scenarios import Scenario, scenario_from_text
from refuge.scenarios.schema import LeverSpec

YEAR = Timeline(1990, 1990)


def _run(scenario="baseline", **settings):
    settings = {"members": 2, "backend": "mean", "timeline": YEAR, **settings}
    return refuge.run(scenario, **settings)


@pytest.mark.parametrize(("settings", "message"), [
    ({"members": -1}, r"members: -1 is not allowed; allowed: a whole number, 1 to"),
    ({"members": 2.5}, r"members: 2.5 is not allowed"),
    ({"members": True}, r"members: True is not allowed"),
    ({"seed": -1}, r"seed: -1 is not allowed; allowed: a whole number, 0 to"),
    ({"seed": 2.5}, r"seed: 2.5 is not allowed"),
    ({"block": 0}, r"block: 0 is not allowed; allowed: a whole number, 1 to"),
    ({"parameters": {"hiding_capacity": 10}}, r"'hiding_capacity' = 10 is outside its range \[1000, 2e\+06\]"),
    ({"parameters": {"hiding_capacity": [2e5, np.nan]}}, r"'hiding_capacity' = nan is outside its range"),
    ({"parameters": {"hiding_capacity": np.ones((2, 3)) * 2e5}}, r"'hiding_capacity' has shape \(2, 3\); allowed: one"),
    ({"parameters": {"hiding_capacity": "lots"}}, r"'hiding_capacity' = 'lots' is not a number"),
    ({"parameters": {"atempt_base": 1e-4}}, r"'atempt_base' is not a parameter of the model; did you mean"),
    ({"timeline": Timeline(1990, 1995, steps_per_year=12)}, r"steps_per_year 12 is not allowed .*; allowed: 52"),
    ({"paths": {"refugee_status": np.full((2, 1), 5.0)}}, r"path of driver 'refugee_status': 5 is outside its range"),
], ids=lambda v: str(v)[:40])  # fmt: skip
def test_run_refuses_bad_settings_before_any_work_calibrated_or_not(settings, message):
    for calibrated in (True, False):
        with pytest.raises((RunError, ModelError), match=message):
            _run(calibrated=calibrated, **settings)


def test_a_scenario_built_in_code_is_checked_as_a_file_is():
    with pytest.raises(ScenarioError, match=r"levers\[0\].lever: 'pushh' is not a driver or parameter"):
        _run(Scenario("x", "", levers=(LeverSpec(lever="pushh", start=2027, set=1.0),)))
    with pytest.raises(ScenarioError, match=r"parameters.ratee: not a parameter of the model"):
        _run(Scenario("x", "", parameters={"ratee": 0.0}))
    with pytest.raises(ScenarioError, match=r"levers\[0\].set: 3 is outside refugee_status's range"):
        _run(Scenario("x", "", levers=(LeverSpec(lever="refugee_status", start=2027, set=3.0),)))


def test_a_parameter_given_to_run_and_set_by_the_scenario_is_refused_not_overridden_unseen():
    scenario = scenario_from_text("name: a\nparameters:\n  hiding_capacity: 120000\n")
    with pytest.raises(RunError, match=r"'hiding_capacity' is given here and set by scenario 'a' \(120000\)"):
        _run(scenario, parameters={"hiding_capacity": 2000.0})
    assert _run(scenario).members == 2  # either alone runs


def test_timelines_that_end_before_they_start_or_are_not_whole_years_are_refused():
    with pytest.raises(ModelError, match="end 1990 is before start 2000"):
        Timeline(2000, 1990)
    with pytest.raises(ModelError, match=r"start 1990.5 is not allowed; allowed: a year"):
        Timeline(1990.5, 2000)


def test_quantiles_have_a_name_each_and_refuse_what_is_no_quantile():
    results = _run()
    table = results.quantiles("arrivals_south_korea", q=(0.025, 0.05, 0.5, 0.975, 0.001))
    assert list(table.columns) == ["q2.5", "q05", "q50", "q97.5", "q0.1"]
    assert list(results.quantiles("arrivals_south_korea", q=0.5).columns) == ["q50"]
    for q in ((1.5,), (0.5, 0.5), (-0.1,)):
        with pytest.raises(RunError, match="allowed: distinct quantiles between 0 and 1"):
            results.quantiles("arrivals_south_korea", q=q)


def _model(**changes):
    settings = dict(name="m", stocks=(Stock("a", "", ""), Stock("b", "", "")),
                    flows=(Flow("go", "a", "b", lambda s, d, p: 0.1, ()),), drivers=(), parameters=(),
                    initial={"a": (100.0,)}, outputs=(Output("moved", "", flows=("go",)),))  # fmt: skip
    return Model(**{**settings, **changes})


@pytest.mark.parametrize(("build", "message"), [
    (lambda: _model(initial={"a": (-50.0,)}), r"initial\['a'\]: \(-50.0,\) is not allowed; allowed: people, 0"),
    (lambda: _model(initial={"a": (np.nan,)}), r"initial\['a'\]: \(nan,\) is not allowed"),
    (lambda: _model(outputs=(Output("x", "", flows=("go",)), Output("x", "", stock="a"))), "two outputs are named 'x'"),
    (lambda: Output("x", ""), "output 'x' names nothing; allowed: flows"),
    (lambda: Output("x", "", flows=("go",), stock="a"), "output 'x' names both flows and a stock"),
    (lambda: Parameter("rate", 2.0, "", "", (), bounds=(0.0, 1.0)), r"parameter 'rate': default 2.0 is not allowed"),
    (lambda: Driver("push", "", {}, ()), "driver 'push' has no knots"),
    (lambda: Driver("push", "", {2000: np.nan}, ()), r"driver 'push': knot 2000: nan is not allowed"),
], ids=lambda v: v if isinstance(v, str) else "")  # fmt: skip
def test_a_model_that_cannot_be_run_right_is_refused_when_it_is_built(build, message):
    with pytest.raises(ModelError, match=message):
        build()


def test_a_scenario_built_in_code_is_held_to_a_files_name_rule():
    """A name is an output folder's default: a file's must be lower-case letters, digits and dashes, and so now
    must one built in code."""
    with pytest.raises(ScenarioError, match=r"scenario 'Bad Name!': name: not allowed"):
        _run(Scenario("Bad Name!", ""))
