"""The rolling-origin backtest: blind after its origin, scored like its naive rivals, written as a tidy table."""

import dataclasses
import itertools
import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import refuge
from refuge.model.timeline import Timeline
from refuge.systems.korea import blind_driver
from refuge.systems.korea.calibration.backtest import (
    SCORE_COLUMNS,
    Budget,
    forecast_origin,
    known_at,
    naive_forecast,
    scores,
)
from refuge.systems.korea.evidence import load_evidence

ORIGIN = 2005


def test_a_forecast_is_identical_whatever_the_data_after_its_origin(tmp_path):
    claims = load_evidence()
    changed = [dataclasses.replace(c, value=c.value * 3) if c.end > ORIGIN + 1 and c.value else c for c in claims]
    record = refuge.systems.korea.evidence.arrivals()["total"]
    other_record = record.where(record.index <= ORIGIN, record * 5)
    first = forecast_origin(ORIGIN, Budget.quick(), tmp_path / "a", claims=claims, record=record, workers=1)
    second = forecast_origin(ORIGIN, Budget.quick(), tmp_path / "b", claims=changed, record=other_record, workers=1)
    for key in (("refuge", "forecast"), ("last", "forecast"), ("drift", "forecast"), ("ets", "forecast")):
        np.testing.assert_array_equal(first[key], second[key], err_msg=str(key))
    assert first[("refuge", "forecast")].shape[1] == 5


def test_knots_after_the_origin_do_not_reach_the_blind_drivers():
    timeline = Timeline(1990, 2030)
    for driver in refuge.north_korea().drivers:
        first = min(driver.knots)  # the value before any event: what the driver was, not a later event
        unknown = [t for t in driver.knots if driver.known_at(t) >= ORIGIN + 1 and t != first]
        knots = {t: (v * 7 + 1 if t in unknown else v) for t, v in driver.knots.items()}
        knots[2015.5] = 123.0  # a new event after the origin
        moved = dataclasses.replace(driver, knots=knots)
        np.testing.assert_array_equal(blind_driver(driver, ORIGIN).series(timeline),
                                      blind_driver(moved, ORIGIN).series(timeline), err_msg=driver.name)
        # up to the last knot known before the first unknown one the blind driver is history itself
        upto = timeline.times <= max([t for t in driver.knots if t < min(unknown, default=np.inf)], default=1990)
        np.testing.assert_array_equal(blind_driver(driver, ORIGIN).series(timeline)[upto],
                                      driver.series(timeline)[upto])


def test_the_evidence_known_at_an_origin_is_about_and_published_before_it():
    known = known_at(2011)
    assert all(c.end <= 2012 for c in known)
    assert not any(c.date[:4].isdigit() and int(c.date[:4]) > 2011 for c in known)
    assert "H19" not in {c.id for c in known}  # a 2012 estimate


def test_scores_of_a_known_case():
    draws = np.arange(1, 101, dtype=float)  # uniform on 1..100
    s = scores(draws, 50.0)
    assert s["in50"] and s["in90"] and abs(s["ape"] - 0.99) < 0.1
    assert abs(s["width90"] - 89.1) < 0.1
    far = scores(draws, 1000.0)
    assert not far["in90"] and far["crps"] > s["crps"]


def test_naive_forecasters_draw_positive_counts():
    history = pd.Series([100.0, 120, 150, 140, 180, 200], index=range(2000, 2006))
    for name in ("last", "drift", "ets"):
        draws = naive_forecast(name, history, 3, 50)
        assert draws.shape == (50, 3) and (draws > 0).all(), name


def test_cli_backtest_writes_the_tidy_scores(tmp_path):
    env = {**os.environ, "COLUMNS": "200"}
    done = subprocess.run([sys.executable, "-m", "refuge", "backtest", "--quick", "--origins", "2019", "--workers", "1",
                           "--out", str(tmp_path)], capture_output=True, text=True, env=env)  # fmt: skip
    assert done.returncode == 0, done.stderr
    table = pd.read_csv(tmp_path / "scores.csv")
    assert tuple(table.columns) == SCORE_COLUMNS
    assert set(table.forecaster) == {"refuge", "last", "drift", "ets"}
    assert set(table.kind) == {"forecast", "conditional"}
    assert table.horizon.max() == 5 and (table.origin == 2019).all()
    assert "Conditional projections" in done.stdout
    for name in ("summary.csv", "summary.md", "backtest.png"):
        assert (tmp_path / name).stat().st_size > 0
    for origins in ("2030", "1995"):  # 1995: one year to fit the naive forecasters to, once a traceback
        bad = subprocess.run([sys.executable, "-m", "refuge", "backtest", "--origins", origins, "--out",
                              str(tmp_path / "not")], capture_output=True, text=True, env=env)  # fmt: skip
        assert bad.returncode == 2 and "an origin is a year from 1999" in bad.stderr and "Traceback" not in bad.stderr
    for quick in ([], ["--quick"]):  # --quick takes its own sampler, but a name that is none is still refused
        bad = subprocess.run([sys.executable, "-m", "refuge", "backtest", *quick, "--sampler", "dynesty", "--out",
                              str(tmp_path / "not")], capture_output=True, text=True, env=env)  # fmt: skip
        assert bad.returncode == 2 and "sampler must be one of emcee, nautilus" in bad.stderr
        assert not (tmp_path / "not").exists()  # refused before anything was written


def test_the_2012_crackdown_is_not_known_at_the_end_of_2011():
    """Knots dated 2012.0 (shooting orders, punishment, propaganda) are 2012's events; a 2011 forecast kept them."""
    from refuge.systems.korea import blind_model

    blind = {d.name: d for d in blind_model(2011).drivers}
    for name in ("lethal_force", "punishment", "counter_propaganda"):
        assert max(blind[name].knots) < 2012, name
    assert blind["lethal_force"].series(Timeline(2011, 2016))[-1] == 0.6  # held at 2011's orders


def test_a_knot_reported_after_the_origin_is_not_known_there():
    """The May 2008 orders were reported in January 2010, the fee before 2020 in 2024: a forecast from the end of
    2008 (of 2019) does not know them, though their dates come before its origin."""
    from refuge.systems.korea import blind_model

    drivers = {d.name: d for d in refuge.north_korea().drivers}
    assert drivers["lethal_force"].known_at(2008.4) == 2010.07
    for origin, name, knot in ((2008, "lethal_force", 2008.4), (2008, "border_security", 2008.4),
                               (2008, "punishment", 2008.4), (2019, "broker_cost", 2019.9)):  # fmt: skip
        blind = {d.name: d for d in blind_model(origin).drivers}
        assert knot not in blind[name].knots, (origin, name)
        assert knot in {d.name: d for d in blind_model(2014).drivers}[name].knots or origin == 2019
    held = {d.name: d for d in blind_model(2008).drivers}["lethal_force"].series(Timeline(2008, 2012))
    assert (held == 0.2).all()  # the orders before May 2008, held


def test_a_knot_that_holds_an_earlier_value_is_not_known_before_it():
    """A hold (2023.5's fee, the 2019.9 level kept until the 2024 rise) is known no earlier than the knot it
    holds: otherwise a forecast that may not know that knot would interpolate towards it through the hold."""
    for driver in refuge.north_korea().drivers:
        knots = sorted(driver.knots)
        for before, after in itertools.pairwise(knots):
            if driver.knots[after] == driver.knots[before]:
                assert driver.known_at(after) >= driver.known_at(before), (driver.name, after)


def test_a_publication_date_is_that_of_a_knot_after_the_first_and_after_it():
    from refuge.errors import ModelError
    from refuge.model.definition import Driver

    for published in ({2001.0: 2005.0}, {2002.0: 2001.0}, {2000.0: 2005.0}):
        with pytest.raises(ModelError, match=r"driver 'd': published .* allowed: a knot of the driver after its first"):
            Driver("d", "", {2000.0: 1.0, 2002.0: 2.0}, (), published=published)


def test_force_keeps_the_origins_still_asked_for_and_removes_the_others(tmp_path):
    """A backtest forced to other origins once kept a stale origin's calibration beside the new ones, and then,
    the other way, deleted the calibrations of origins still asked for."""
    from refuge.systems.korea.calibration.backtest import backtest

    backtest(tmp_path, origins=(2014, 2019), budget=Budget.quick(), workers=1)
    backtest(tmp_path, origins=(2011, 2019), budget=Budget.quick(), workers=1, force=True)
    assert sorted(p.name for p in tmp_path.glob("origin-*")) == ["origin-2011", "origin-2019"]
    provenance = json.loads((tmp_path / "origin-2019" / "posterior.json").read_text())
    assert provenance["resumed"] is True  # its chains went on from what was there, not computed again


def test_a_budget_no_calibration_takes_is_refused_before_the_folder_is_claimed(tmp_path):
    from refuge.errors import RunError
    from refuge.systems.korea.calibration.backtest import backtest

    for budget, message in ((Budget(live=10**6), "live must be 100 to 100,000"),
                            (Budget(sampler="emcee", walkers=7), "walkers must be even")):  # fmt: skip
        with pytest.raises(RunError, match=message):
            backtest(tmp_path / "bt", origins=(2019,), budget=budget, workers=1)
        assert not (tmp_path / "bt").exists()  # a corrected run is then not refused as "another backtest"
