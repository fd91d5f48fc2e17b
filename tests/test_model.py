"""The model definition API refuses inconsistent models."""

import dataclasses

import numpy as np
import pytest

import refuge
from refuge.errors import ModelError
from refuge.model.definition import DriverView, Flow, Model, ParameterView, Stock
from refuge.model.timeline import Timeline
from refuge.scenarios import Scenario
from refuge.systems.korea.system import TIMELINE

MODEL = refuge.north_korea()


def _with(**changes):
    fields = {f.name: getattr(MODEL, f.name) for f in dataclasses.fields(MODEL) if f.init}
    fields.update(changes)
    return type(MODEL)(**fields)


def test_a_flow_to_an_unknown_stock_is_refused():
    bad = Flow("teleport", "nk_at_risk", "moon", lambda s, d, p: 0.1, ("M1",))
    with pytest.raises(ModelError, match="unknown stock 'moon'"):
        _with(flows=(*MODEL.flows, bad))


def test_duplicate_names_are_refused():
    with pytest.raises(ModelError, match="two flows are named 'settle'"):
        _with(flows=(*MODEL.flows, MODEL.flows[MODEL.flow_index['settle']]))


def test_an_unknown_mechanism_is_refused():
    bad = Flow("rumour", "nk_at_risk", "dead", lambda s, d, p: 0.0, ("M99",))
    with pytest.raises(ModelError, match="M99"):
        _with(flows=(*MODEL.flows, bad))


def test_a_negative_hazard_is_named():
    model = _with(flows=(*MODEL.flows, Flow("backwards", "dead", "nk_at_risk", lambda s, d, p: -1.0, ("M1",))))
    drivers = DriverView({d.name: float(d.series(TIMELINE)[0]) for d in model.drivers})
    params = ParameterView({p.name: p.value for p in model.parameters})
    with pytest.raises(ModelError, match="'backwards'"):
        model.rates(model.initial_state(1), drivers, params)


def test_rates_have_one_value_per_member_flow_and_sex():
    timeline = TIMELINE
    drivers = DriverView({d.name: float(d.series(timeline)[400]) for d in MODEL.drivers})
    values = {p.name: p.value for p in MODEL.parameters}
    values["attempt_base"] = np.array([[1e-4], [2e-4]])
    rates = MODEL.rates(MODEL.initial_state(2), drivers, ParameterView(values))
    assert rates.shape == (2, len(MODEL.flows), 2)
    cross = MODEL.flow_index["cross_to_china"]
    np.testing.assert_allclose(rates[1, cross], 2 * rates[0, cross])


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint8, np.float64])
@pytest.mark.parametrize("strata", [1, 2, 3, 9])
def test_stock_totals_are_numpys_sums(dtype, strata):
    """``s.total`` sums stratum by stratum (faster than NumPy along a short axis): the same numbers and dtype."""
    from refuge.model.definition import _over_strata

    state = (np.random.default_rng(strata).random((40, 5, strata)) * 200).astype(dtype)
    total = _over_strata(state)
    assert total.dtype == state.sum(axis=2).dtype
    np.testing.assert_array_equal(total, state.sum(axis=2))


@pytest.mark.parametrize("backend", ["mean", "counts"])
@pytest.mark.parametrize("hazard", [np.inf, np.nan, -1.0, 2e15])
def test_a_hazard_that_is_infinite_undefined_negative_or_beyond_any_rate_is_refused_by_name(backend, hazard):
    """An infinite hazard once sent the counts backend's binomial draw into an endless loop, and the mean
    backend on to NaN; now every backend stops at the first step with the flow's name."""
    model = Model("leak", (Stock("a", "", ""), Stock("b", "", "")),
                  (Flow("go", "a", "b", lambda s, d, p: hazard, ()), Flow("stay", "a", "b", lambda s, d, p: 0.1, ())),
                  (), (), {"a": (1e6,)}, ())  # fmt: skip
    with pytest.raises(ModelError, match=r"flow 'go' has a hazard of (inf|nan|-1|2e\+15); allowed: 0 to 1e\+15"):
        refuge.run(Scenario("x", ""), members=1, backend=backend, model=model, calibrated=False,
                   timeline=Timeline(2000, 2000))  # fmt: skip
