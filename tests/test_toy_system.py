"""The engine runs a model that is not Korea's: three strata (no sexes), monthly steps, results per step."""

import dataclasses
import sys

import numba
import numpy as np
import pytest
from scipy import stats

import refuge
import refuge.systems
from refuge.backends.agents import Agents, AgentsBackend, Traits
from refuge.cli import main
from refuge.errors import ModelError, RunError, ScenarioError
from refuge.model.definition import Driver, Flow, Model, Output, Parameter, Stock, Strata, Term, per_stratum
from refuge.model.timeline import Timeline
from refuge.scenarios import Scenario
from refuge.scenarios.schema import LeverSpec

AGES = Strata("age", ("child", "adult", "elder"))
TIMELINE = Timeline(2000, 2002, steps_per_year=12)


def _flight(s, d, p):
    """The pressure to leave home, a term two flows share: more as the camp fills (news of the way)."""
    return p.flight * per_stratum(1.5, 1.0, 0.5) * (1.0 + s.total("camp") / 1e5)


def _toy(flight=_flight) -> Model:
    """A camp: people flee home at monthly rates that differ by age, arrive from outside, resettle or return."""
    return Model(
        name="camp",
        stocks=(Stock("home", "home", ""), Stock("camp", "camp", ""), Stock("resettled", "resettled", "")),
        flows=(
            Flow("flee", "home", "camp", lambda s, d, p: 0.9 * d.flight, ()),
            Flow("flee_far", "home", "resettled", lambda s, d, p: 0.1 * d.flight, ()),
            Flow("arrive", None, "camp", lambda s, d, p: per_stratum(30.0, 50.0, 10.0), ()),
            Flow("resettle", "camp", "resettled", lambda s, d, p: p.resettle * s.total("home") / 9e3, ()),
            Flow("return", "camp", "home", lambda s, d, p: 0.01, ()),
        ),
        drivers=(),
        parameters=(
            Parameter("flight", 0.02, "per step", "flight", ()),
            Parameter("resettle", 0.01, "per step", "resettle", ()),
        ),
        initial={"home": (3_000, 5_000, 1_000), "camp": (100, 100, 0)},
        outputs=(
            Output("in_camp", "in the camp", stock="camp"),
            Output("elders_fled", "elders who fled", flows=("flee",), stratum="elder"),
        ),
        strata=AGES,
        terms=(Term("flight", flight),),
    )


def _run(backend, members: int, seed: int = 5, **kw):
    return refuge.run(Scenario("toy", ""), members=members, seed=seed, backend=backend, model=_toy(), timeline=TIMELINE,
                      calibrated=False, **kw)  # fmt: skip


@pytest.fixture(scope="module")
def both():
    return _run("counts", 40), _run("mean", 1)


def test_results_are_labelled_by_the_models_strata(both):
    for res in both:
        assert list(res.data.age.values) == list(AGES.names)
        assert res.data.flows.dims == ("member", "year", "flow", "age")


@pytest.mark.parametrize("backend", [0, 1], ids=["counts", "mean"])
def test_every_backend_conserves_people_in_every_stratum(both, backend):
    data = both[backend].data
    initial = np.array([3_100, 5_100, 1_000])
    arrived = data.flows.sel(flow="arrive").cumsum("year")
    held = data.stocks.sum("stock")
    np.testing.assert_allclose(held.values, (initial + arrived).values, rtol=1e-12)
    assert (data.stocks >= 0).all()


def test_counts_agree_with_the_mean_backend_in_every_stratum(both):
    counts, mean = both
    for name in ("flows", "stocks"):
        ensemble = counts.data[name].astype(float)
        centre = ensemble.mean("member")
        stderr = ensemble.std("member") / np.sqrt(ensemble.sizes["member"])
        expected = mean.data[name].isel(member=0)
        assert (abs(centre - expected) <= 5 * stderr + 0.01 * abs(expected) + 1).all(), name
    # the strata differ as their hazards say: children flee at three times the elders' rate
    fled = mean.data.flows.sel(flow=["flee", "flee_far"], year=2000).isel(member=0).sum("flow").values
    assert fled[0] / 3_000 > fled[1] / 5_000 > fled[2] / 1_000


def test_an_output_may_count_one_stratum(both):
    counts, _ = both
    elders = counts.outputs().sel(variable="elders_fled")
    np.testing.assert_array_equal(elders.values, counts.data.flows.sel(flow="flee", age="elder").values)


def test_a_model_needs_one_initial_value_per_stratum():
    with pytest.raises(ModelError, match=r"initial\['home'\].*allowed: 3 values, for child, adult, elder"):
        dataclasses.replace(_toy(), initial={"home": (3_000, 5_000)})


def test_an_output_names_a_stratum_of_the_model():
    toy = _toy()
    with pytest.raises(ModelError, match="stratum 'women' is not known; allowed: child, adult, elder"):
        dataclasses.replace(toy, outputs=(Output("w", "w", flows=("flee",), stratum="women"),))


def test_the_korean_agents_refuse_a_model_without_two_sexes():
    with pytest.raises(RunError, match=r"3 strata .*allowed: 2"):
        _run("agents", 1)


# -- people one by one: the engine's agents, alike or with a trait the camp declares -------------


@numba.njit(cache=True)
def _vulnerable(traits, stock, start, end, context, out):
    out[: end - start] = traits[0][start:end]


@numba.njit(cache=True)
def _one_in_three(traits, start, end, stock, stratum, u, context):
    for i in range(start, end):
        traits[0][i] = u[i - start, 0] < 1.0 / 3.0


@numba.njit(cache=True)
def _months_in_camp(traits, stock, stratum, start, end, moved, u, p, clock, context):
    months = traits[1]
    for i in range(start, end):
        if stock[i] == 1 and months[i] < 65535:
            months[i] += 1


def _camp_traits() -> Traits:
    """One person in three is vulnerable, and the vulnerable are resettled three times as often; months in the
    camp are counted."""
    weights = np.ones((len(_toy().flows), 2))
    weights[_toy().flow_index["resettle"]] = (1.0, 3.0)
    return Traits(columns={"vulnerable": np.uint8, "months_in_camp": np.uint16}, classes=2, weights=weights,
                  class_of=_vulnerable, born=_one_in_three, live=_months_in_camp)  # fmt: skip


#: outputs and flows compared between backends, each at ALPHA / K (Bonferroni)
ALPHA = 0.01
COMPARED = [("outputs", "in_camp", y) for y in (2000, 2002)] + [("outputs", "elders_fled", y) for y in (2000, 2002)] + [
    ("flows", "resettle", y) for y in (2000, 2001, 2002)] + [("flows", "return", 2002)]  # fmt: skip


def _diverging(a, b) -> list:
    bad = []
    for kind, name, year in COMPARED:
        x, y = ((r.outputs().sel(variable=name) if kind == "outputs" else r.data.flows.sel(flow=name).sum("age"))
                .sel(year=year).values for r in (a, b))  # fmt: skip
        p = stats.ks_2samp(x, y, method="asymp").pvalue
        if p < ALPHA / len(COMPARED):
            bad.append((name, year, p))
    return bad


@pytest.fixture(scope="module")
def camp_agents():
    recorder = Agents(_camp_traits(), record=True)
    return _run(recorder, 40, seed=6), recorder.take_events()


def test_agents_without_traits_conserve_people_and_agree_with_counts(both):
    agents = _run(AgentsBackend, 40, seed=7)
    arrived = agents.data.flows.sel(flow="arrive").cumsum("year")
    held = agents.data.stocks.sum("stock").values
    np.testing.assert_array_equal(held, (np.array([3_100, 5_100, 1_000]) + arrived).values)
    assert _diverging(both[0], agents) == []


def test_a_declared_trait_moves_a_different_mix_and_keeps_the_totals(both, camp_agents):
    """The vulnerable third is three times as likely to be resettled: about 60% of those resettled, a third of
    those who flee; the totals are the model's, in distribution, as counts draws them."""
    agents, events = camp_agents
    share = events.groupby("flow", observed=True)["vulnerable"].mean()
    assert 0.55 < share["resettle"] < 0.65 and 0.30 < share["flee"] < 0.37, share
    assert _diverging(both[0], agents) == []
    arrived = agents.data.flows.sel(flow="arrive").cumsum("year")
    held = agents.data.stocks.sum("stock").values
    np.testing.assert_array_equal(held, (np.array([3_100, 5_100, 1_000]) + arrived).values)
    returned = events[events["flow"] == "return"]
    assert returned["months_in_camp"].mean() > 3 and returned["months_in_camp"].max() > 12


def test_a_declared_trait_gives_the_same_people_on_one_thread_or_two(monkeypatch):
    """The parallel step (two threads, chunks of rows) and the serial one write the same traits, person by person."""
    from refuge.backends.agents import step

    people = []
    for threads in (2, 1):
        monkeypatch.setattr(step, "PARALLEL_FROM", 0 if threads == 2 else 1 << 30)
        numba.set_num_threads(threads)
        try:
            recorder = Agents(_camp_traits(), record=True)
            _run(recorder, 1, seed=8)
        finally:
            numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
        people.append(recorder.last.people(0).table())
    assert people[0]["months_in_camp"].sum() > 10_000 and len(people[0]["stock"]) > 2 * step.SMALLEST_CHUNK
    for name, column in people[0].items():
        np.testing.assert_array_equal(column, people[1][name], err_msg=name)


def test_a_term_is_computed_once_a_step_and_every_hazard_reads_it():
    calls = []

    def counted(s, d, p):
        calls.append(1)
        return _flight(s, d, p)

    refuge.run(Scenario("toy", ""), members=1, backend="mean", model=_toy(counted), timeline=TIMELINE, calibrated=False)
    assert len(calls) == TIMELINE.steps


def test_a_term_may_not_take_a_drivers_name():
    with pytest.raises(ModelError, match="term 'flight' has a driver's name"):
        dataclasses.replace(_toy(), drivers=(Driver("flight", "flight", {2000: 1.0}, ()),))


# -- steps of any length, results per step -------------------------------------------------------


def test_a_year_has_as_many_steps_as_the_timeline_says():
    assert TIMELINE.steps == 36 and TIMELINE.times[13] == pytest.approx(2001 + 1 / 12)
    assert TIMELINE.first_step_from(2001.5) == 18 and TIMELINE.first_step_from(2001.51) == 19  # never before
    with pytest.raises(ModelError, match="steps_per_year 0 is not allowed; allowed: a whole number, 1 or more"):
        Timeline(2000, 2001, steps_per_year=0)


@pytest.mark.parametrize("backend", ["counts", "mean"])
def test_results_per_step_add_up_to_the_yearly_results(both, backend):
    yearly = both[0] if backend == "counts" else both[1]
    steps = _run(backend, yearly.members, resolution="step")
    assert steps.data.flows.sizes["step"] == 36 and steps.data.flows.attrs["units"] == "people per step"
    by_year = steps.data.flows.groupby("year").sum("step")
    np.testing.assert_allclose(by_year.values, yearly.data.flows.values, rtol=1e-12)
    year_ends = steps.data.stocks.isel(step=slice(11, None, 12)).values
    np.testing.assert_array_equal(year_ends, yearly.data.stocks.values)
    fled = steps.outputs().sel(variable="elders_fled").groupby("year").sum("step")
    np.testing.assert_allclose(fled.values, yearly.outputs().sel(variable="elders_fled").values, rtol=1e-12)
    assert list(steps.tidy().columns) == ["member", "step", "year", "time", "variable", "value"]


def test_korean_results_per_step_add_up_to_its_years_and_time_abroad():
    kw = dict(members=1, backend="mean", calibrated=False, timeline=Timeline(1994, 1995))
    yearly, steps = refuge.run("baseline", **kw), refuge.run("baseline", resolution="step", **kw)
    for name in ("flows", "clock"):
        by_year = steps.data[name].groupby("year").sum("step")
        np.testing.assert_allclose(by_year.values, yearly.data[name].values, rtol=1e-9)
    assert (steps.data.stocks.sel(step=103).values == yearly.data.stocks.sel(year=1995).values).all()


def test_an_unknown_resolution_is_refused_with_those_allowed():
    with pytest.raises(RunError, match="resolution: 'month' is not allowed; allowed: year, step"):
        _run("mean", 1, resolution="month")


@pytest.mark.parametrize("backend", ["mean", "counts", "agents"])
def test_the_korean_model_refuses_a_step_that_is_not_a_week_on_every_backend(backend):
    """Its hazards are weekly: taken per month they once gave a fifth of the arrivals, without an error."""
    with pytest.raises(ModelError, match="steps_per_year 12 is not allowed for model 'north-korea'; allowed: 52"):
        refuge.run("baseline", members=1, backend=backend, calibrated=False, timeline=Timeline(1994, 1994, 12))


# -- a system without a calibration, asked for by the analysis verbs ------------------------------


class _Toy:
    """The camp as a registered system: a model, and no calibration."""

    name = "toy"

    def model(self):
        return _toy()

    def analyses(self):
        return None


SYSTEM = _Toy()


@pytest.mark.parametrize("verb", [["calibrate"], ["sensitivity"], ["report", "."], ["serve"], ["backtest"],
                                  ["estimate", "hiding-in-china"], ["evidence"]], ids=lambda v: v[0])  # fmt: skip
def test_a_verb_that_needs_a_calibration_refuses_a_system_without_one(verb, monkeypatch, capsys):
    monkeypatch.setitem(refuge.systems._MODULES, "toy", __name__)
    monkeypatch.setattr(sys, "argv", ["refuge", *verb, "--system", "toy"])
    with pytest.raises(SystemExit) as done:
        main()
    assert done.value.code == 2
    message = " ".join(capsys.readouterr().err.split())
    expected = f"--system 'toy': 'refuge {verb[0]}' needs a calibrated system, and 'toy' has no calibration; "
    assert expected + "allowed: korea" in message
    assert "Traceback" not in message


def test_a_lever_with_no_step_of_its_own_in_this_timeline_is_refused():
    """Checked against weekly steps only, a lever inside one month ran idle on a monthly model."""
    within_a_month = LeverSpec(lever="flight", start="2001-03-05", until="2001-03-20", scale=5.0)
    with pytest.raises(ScenarioError, match=r"until: 2001-03-20 ends the lever before the first step .* every 1/12"):
        refuge.run(Scenario("short", "", levers=(within_a_month,)), members=1, backend="mean", model=_toy(),
                   timeline=TIMELINE, calibrated=False)  # fmt: skip


@pytest.mark.parametrize("count", [1, 2, 9])
def test_the_comparison_plot_has_a_panel_for_each_of_a_systems_measures(tmp_path, monkeypatch, count):
    import matplotlib.pyplot as plt
    import pandas as pd

    from refuge.plots import differences

    measures = {f"m{i}": ("sum", f"measure {i}") for i in range(count)}
    system = type("Many", (), {"measures": measures, "record_end": lambda self: None})()
    table = pd.DataFrame([{"scenario": "other", "measure": m, "year": y, "q05": -1.0, "q50": 0.0, "q95": 1.0}
                          for m in measures for y in (2030, 2031)])  # fmt: skip
    captured = {}
    monkeypatch.setattr(plt, "close", lambda fig=None: captured.setdefault("figure", fig))  # keep it to read
    differences(table, tmp_path / "compare.png", 2030, "baseline", system)
    titles = [ax.get_title() for ax in captured["figure"].axes if ax.get_title()]
    assert titles == [f"measure {i}" for i in range(count)]
    assert (tmp_path / "compare.png").stat().st_size > 0
