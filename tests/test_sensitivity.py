"""Sensitivity analysis: right on a function whose indices are known, and wired to the model and the CLI."""

import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from refuge.model.timeline import Timeline
from refuge.sensitivity import Factor, indices, sensitivity

#: Ishigami (a=7, b=0.1): first-order and total Sobol indices, known in closed form
ISHIGAMI_S1 = {"x1": 0.3139, "x2": 0.4424, "x3": 0.0}
ISHIGAMI_ST = {"x1": 0.5576, "x2": 0.4424, "x3": 0.2437}


def ishigami(x):
    return {"y": np.sin(x[:, 0]) + 7 * np.sin(x[:, 1]) ** 2 + 0.1 * x[:, 2] ** 4 * np.sin(x[:, 0])}


def test_sobol_recovers_the_ishigami_indices_within_their_intervals():
    factors = [Factor(f"x{i}", f"x{i}", -np.pi, np.pi) for i in (1, 2, 3)]
    table = indices(factors, ishigami, method="sobol", samples=2048, seed=1).set_index(["parameter", "index"])
    for key, known in (("S1", ISHIGAMI_S1), ("ST", ISHIGAMI_ST)):
        for name, value in known.items():
            row = table.loc[(name, key)]
            assert row.low <= value <= row.high, (name, key, row.to_dict())
            assert row.high - row.low < 0.2  # intervals narrow enough to tell the factors apart


@pytest.mark.parametrize("method", ["sobol", "morris"])
def test_the_same_seed_gives_the_same_indices_and_intervals_seed_0_too(method):
    factors = [Factor(f"x{i}", f"x{i}", -np.pi, np.pi) for i in (1, 2, 3)]
    samples = 64 if method == "sobol" else 8
    runs = [indices(factors, ishigami, method=method, samples=samples, seed=0) for _ in range(2)]
    pd.testing.assert_frame_equal(*runs)


def test_morris_screens_out_a_factor_that_does_nothing():
    factors = [Factor(f"x{i}", f"x{i}", -np.pi, np.pi) for i in (1, 2, 3, 4)]  # x4 is not used
    table = indices(factors, ishigami, method="morris", samples=30, seed=2)
    star = table[table["index"] == "mu_star"].set_index("parameter").value
    assert star["x4"] == 0 and star["x1"] > 1 and star["x2"] > 1
    assert list(table.columns) == ["output", "parameter", "index", "value", "low", "high"]


def test_a_log_factor_is_sampled_evenly_in_its_logarithm():
    values = Factor("k", "k", 1e-4, 1e-2, log=True).scale(np.array([0.0, 0.5, 1.0]))
    assert np.allclose(values, [1e-4, 1e-3, 1e-2])


def test_the_model_s_indices_cover_its_parameters_and_the_scenario_s_levers():
    result = sensitivity("border-closure", method="morris", samples=2, outputs=["arrivals", "re_defections"],
                         end=2030)  # fmt: skip
    names = {f.name for f in result.factors}
    levers = {"lever1.north_border_closure.set", "lever1.north_border_closure.from", "lever2.china_closure.set"}
    assert {"attempt_base", "hiding_capacity", *levers} <= names
    star = result.table[result.table["index"] == "mu_star"].set_index(["output", "parameter"]).value
    assert star[("arrivals", "attempt_base")] > 0
    assert star[("arrivals", "lever1.north_border_closure.set")] > 0  # a weaker closure lets more people out
    assert set(result.table.output) == {"arrivals", "re_defections"}
    assert result.in_words()[0].startswith("Arrivals in the South 2027-2030 hang most on ")


def test_sensitivity_command_writes_indices_a_plot_and_the_drivers_in_words(tmp_path):
    env = {**os.environ, "COLUMNS": "80"}
    done = subprocess.run(
        [sys.executable, "-m", "refuge", "sensitivity", "more-aid", "--samples", "4", "--output", "arrivals",
         "--output", "deaths", "--end", "2029", "--out", str(tmp_path)],
        capture_output=True, text=True, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    table = pd.read_csv(tmp_path / "indices.csv")
    assert list(table.columns) == ["output", "parameter", "index", "value", "low", "high"]
    assert set(table["index"]) == {"S1", "ST"} and "lever1.aid.from" in set(table.parameter)
    assert (table.low <= table.value).all() and (table.value <= table.high).all()
    assert (tmp_path / "indices.png").stat().st_size > 0
    assert "hang most on" in (tmp_path / "drivers.txt").read_text()
    meta = json.loads((tmp_path / "sensitivity.json").read_text())
    assert meta["method"] == "sobol" and meta["command"].startswith("refuge sensitivity more-aid")
    assert "% of 1" in done.stderr  # progress as plain lines when stderr is not a terminal


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--output", "happiness"], "--output 'happiness' is not known"),
        (["--samples", "100"], "power of two"),
        (["--method", "fast"], "--method 'fast' is not known"),
        (["--method", "morris", "--samples", "0"], "--samples must be at least 2, not 0"),  # not the default's 20
        (["--samples", str(2**40)], "take fewer samples"),  # a MemoryError and its traceback once
    ],
)
def test_bad_sensitivity_settings_are_one_message_and_exit_2(tmp_path, args, message):
    done = subprocess.run([sys.executable, "-m", "refuge", "sensitivity", *args, "--out", str(tmp_path / "s")],
                          capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 2 and message in done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "s").exists()


def test_a_lever_on_a_parameter_is_a_factor_whose_rows_run_as_the_scenario_would():
    """coordinated-resettlement scales ``resettle_abroad`` from 2027; its rows once broke the run's shapes."""
    from refuge.scenarios import load_scenario
    from refuge.sensitivity import lever_factors, model_function
    from refuge.systems.korea import north_korea

    scenario = load_scenario("coordinated-resettlement")
    factors = [f for f in lever_factors(north_korea(), scenario, Timeline(1990, 2030)) if f.kind == "lever value"]
    assert [f.name for f in factors] == ["lever1.resettle_abroad.scale"]
    evaluate = model_function(scenario, factors, ["arrivals"], start=2027, end=2030, backend="mean")
    low, high = factors[0].scale(np.array([0.0, 1.0]))
    arrivals = evaluate(np.array([[low], [high]]))["arrivals"]
    assert arrivals[1] < arrivals[0]  # more resettled elsewhere from third countries, fewer come to the South


def test_on_counts_every_row_draws_the_same_random_numbers():
    from refuge.scenarios import load_scenario
    from refuge.sensitivity import model_function, parameter_factors
    from refuge.systems.korea import north_korea

    factors = parameter_factors(north_korea())
    middle = np.array([[f.scale(np.array(0.5)) for f in factors]])
    rows = np.repeat(middle, 3, axis=0)
    rows[2, 0] *= 1.5  # a third row with more attempts
    evaluate = model_function(load_scenario("baseline"), factors, ["arrivals", "deaths"], start=1996, end=2000,
                              backend="counts")  # fmt: skip
    arrivals = evaluate(rows)["arrivals"]
    assert arrivals[0] == arrivals[1]  # same factors, same draws: chance does not enter the indices
    assert arrivals[2] > arrivals[0]


def test_a_share_of_variance_in_words_stays_inside_its_interval_and_says_when_samples_were_too_few():
    from refuge.sensitivity import Sensitivity

    table = pd.DataFrame([("arrivals", "x1", "ST", 1.18, 0.9, 1.3), ("arrivals", "x2", "ST", 0.4, 0.3, 0.5)],
                         columns=["output", "parameter", "index", "value", "low", "high"])  # fmt: skip
    factors = [Factor("x1", "the first", 0, 1), Factor("x2", "the second", 0, 1)]
    settings = {"start": 2027, "end": 2030, "method": "sobol", "outputs": ["arrivals"],
                "words": {"arrivals": "arrivals in the South"}}  # fmt: skip
    (line,) = Sensitivity(table, factors, settings).in_words()
    assert "x1 (the first): 100% of the variance with its interactions [90%-100%] (estimated 118%: too few" in line
    assert "x2 (the second): 40% of the variance with its interactions [30%-50%]" in line


def test_an_output_folder_it_may_not_write_is_refused_before_the_runs(tmp_path):
    """It once ran to the end before saying the folder held someone else's files."""
    foreign = tmp_path / "notes"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine\n")
    done = subprocess.run([sys.executable, "-m", "refuge", "sensitivity", "--method", "morris", "--samples", "2",
                           "--end", "2028", "--out", str(foreign)], capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 2 and "not a refuge output folder" in done.stderr.replace("\n", " ")
    assert "runs (mean)" not in done.stderr + done.stdout  # no progress line: nothing ran
    assert [p.name for p in foreign.iterdir()] == ["notes.txt"]


def test_every_lever_that_can_act_in_the_years_simulated_is_a_factor(tmp_path):
    """A negative ``add`` was clipped to an empty range, and a start date dropped for a lever running past
    ``--end``: both left out without a word; a lever starting after ``--end`` however shifted is left out."""
    from refuge.sensitivity import plan

    path = tmp_path / "long.yaml"
    path.write_text("name: long\nbase: baseline\nlevers:\n  - {lever: food_crisis, from: 2028-01, until: 2038-01, "
                    "set: 1.0}\n  - {lever: punishment, from: 2028-01, add: -0.3}\n"
                    "  - {lever: aid, from: 2036-01, set: 1.0}\n")  # fmt: skip
    factors = {f.name: f for f in plan(str(path), method="morris", samples=2, end=2033).factors if "lever" in f.kind}
    assert set(factors) == {"lever1.food_crisis.set", "lever1.food_crisis.from", "lever2.punishment.add",
                            "lever2.punishment.from"}  # fmt: skip
    added = factors["lever2.punishment.add"]
    assert (added.low, added.high) == pytest.approx((-0.45, -0.15))
    assert factors["lever1.food_crisis.from"].high == pytest.approx(2030.0)  # within --end, though it runs to 2038


def test_a_row_runs_the_model_as_calibrated_on_the_walks_central_paths():
    """Sensitivity once ran the routes' walks at 1 (the model without its calibrated history): 2005-2011 arrivals
    at half the record's. A row is the run of its parameters on the walks' median paths, held after 2025."""
    import refuge
    from refuge.scenarios import load_scenario
    from refuge.sensitivity import model_function, parameter_factors
    from refuge.systems.korea import north_korea
    from refuge.systems.korea.calibration.posterior import shipped_posterior

    factors = parameter_factors(north_korea())  # every calibrated parameter, each at the middle of its range
    row = np.array([[f.scale(np.array([0.5]))[0] for f in factors]])
    evaluate = model_function(load_scenario("baseline"), factors, ["arrivals"], start=2005, end=2030, backend="mean")
    timeline = Timeline(1990, 2030)
    central = shipped_posterior().central_paths(timeline)
    assert set(central) == {"route_permeability", "route_female_tilt"}
    # after 2025 the median path is drawn back towards the walk's level by its persistence, a year at a time
    posterior = shipped_posterior()
    every = np.arange(len(posterior.samples))
    kept, level = np.median(posterior.persistence(every)[:, 0]), np.median(posterior.level(every)[:, 0])
    last = np.log(central["route_permeability"][0, 2025 - 1990])
    assert kept < 1 and abs(last - level) > 0.1  # so that the check below can fail
    assert np.log(central["route_permeability"][0, -1]) == pytest.approx(level + kept**5 * (last - level), rel=1e-12)
    run = refuge.run("baseline", members=1, backend="mean", timeline=timeline, calibrated=False,
                     parameters={f.name: row[0, i] for i, f in enumerate(factors)}, paths=central)  # fmt: skip
    expected = float(run.outputs().sel(variable="arrivals_south_korea", year=slice(2005, 2030)).sum())
    assert evaluate(row)["arrivals"][0] == pytest.approx(expected, rel=1e-9)
    record = refuge.systems.korea.evidence.arrivals().total.loc[2005:2011].sum()
    in_record = model_function(load_scenario("baseline"), factors, ["arrivals"], start=2005, end=2011)(row)
    assert 0.7 * record < in_record["arrivals"][0] < 1.3 * record  # was half the record without the paths


def test_where_a_walk_goes_after_the_record_is_a_factor_a_fan_of_its_quantiles():
    """After 2025 the routes' walks are unknown: each is a factor, the quantile of its spread a sample follows
    (the posterior's median step times the spread of the walk's sum of steps since, drawn back by its
    persistence), the history untouched."""
    from refuge.sensitivity import path_factors
    from refuge.systems.korea.calibration.posterior import shipped_posterior

    timeline = Timeline(1990, 2035)
    assert [f.name for f in path_factors(timeline)] == ["route_permeability.future", "route_female_tilt.future"]
    assert path_factors(Timeline(1990, 2025)) == []  # nothing simulated after the record
    posterior = shipped_posterior()
    fan = posterior.central_paths(timeline, {"route_permeability": np.array([0.05, 0.5, 0.95])})["route_permeability"]
    central = posterior.central_paths(timeline)["route_permeability"][0]
    np.testing.assert_array_equal(fan[1], central)
    np.testing.assert_array_equal(fan[:, : 2025 - 1990 + 1], np.repeat(central[None, : 2025 - 1990 + 1], 3, axis=0))
    step = float(posterior.samples["permeability_step"].median())
    kept = float(np.median(posterior.persistence(np.arange(len(posterior.samples)))[:, 0]))
    spread = np.sqrt(sum(kept ** (2 * j) for j in range(10)))  # ten years of steps, each kept^j of it left
    after = np.log(fan[2, -1] / central[-1])
    assert after == pytest.approx(1.6448536 * step * spread) == -np.log(fan[0, -1] / central[-1])
    result = sensitivity("north-reopens", method="morris", samples=2, outputs=["arrivals"], end=2035, levers=False)
    star = result.table[result.table["index"] == "mu_star"].set_index("parameter").value
    assert star["route_permeability.future"] > 0  # where the route goes moves arrivals once the border reopens


def test_an_amount_added_to_a_parameter_keeps_it_within_its_bounds_for_every_value_a_row_gives_it():
    """attempt_base less 0.00009 is valid for every posterior draw, but widened by --spread 0.5 it took the
    parameter's 5% quantile below zero: a negative hazard midway through the runs."""
    from refuge.scenarios import Scenario
    from refuge.scenarios.schema import LeverSpec
    from refuge.sensitivity import Factor, lever_factors
    from refuge.systems.korea import north_korea

    lever = LeverSpec(lever="attempt_base", start=2027, add=-0.00009)
    scenario = Scenario(name="fewer-attempts", description="", levers=(lever,))
    timeline = Timeline(1990, 2030)
    ranges = {"attempt_base": (1.02e-4, 3e-4)}
    (factor,) = [f for f in lever_factors(north_korea(), scenario, timeline, ranges=ranges) if f.kind == "lever value"]
    assert factor.low == -1.02e-4 and factor.high == -0.00009 * 0.5
    (unbound,) = [f for f in lever_factors(north_korea(), scenario, timeline) if f.kind == "lever value"]
    assert unbound.low == -0.00009 * 1.5  # without ranges, only the parameter's own value bounds it
    lowest = Factor("attempt_base", "", 1.02e-4, 3e-4, log=True).scale(np.array([0.0, 1.0]))
    assert lowest[0] + factor.low == 0.0 and lowest[1] == 3e-4  # the log scale's ends, not a rounding past them
