"""Flee's rules on refuge: people conserved, seeded, closures and capacity obeyed, Flee's out.csv and errors."""

import csv
import io
import itertools
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from refuge.errors import DataError
from refuge.systems.flee.output import errors, flee_csv, plot_camps, write_run
from refuge.systems.flee.reader import read_scenario
from refuge.systems.flee.rules import Places
from refuge.systems.flee.run import run_to_folder
from refuge.systems.flee.simulate import schedule, simulate

REAL = Path(__file__).parents[2] / "shared" / "flee"


def _routes(ab: float, bc: float) -> str:
    return f"#name1,name2,distance,forced_redirection\nA,B,{ab:g},\nB,C,{bc:g},\nA,C,{ab + bc + 40:g},\n"


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32), ab=st.floats(5, 400), bc=st.floats(5, 400), chance=st.floats(0.05, 1.0))
def test_people_are_conserved_and_a_seed_gives_the_same_numbers(flee_folder, seed, ab, bc, chance):
    s = read_scenario(flee_folder({"input_csv/routes.csv": _routes(ab, bc),
                                   "simsetting.yml": f"move_rules:\n  default_movechance: {chance}\n"}))  # fmt: skip
    run = simulate(s, seed=seed)
    plan = schedule(s)
    assert np.array_equal(run.total, s.camp_data[0].sum() + np.cumsum(plan.new))  # no one lost, no one made
    assert (run.places >= 0).all() and (run.travelling >= 0).all()
    again = simulate(s, seed=seed)
    assert np.array_equal(run.places, again.places) and np.array_equal(run.travelling, again.travelling)


def test_the_compiled_kernel_moves_people_as_its_plain_python_does(flee_folder, monkeypatch):
    from refuge.backends.travel import people as kernel

    s = read_scenario(flee_folder({"input_csv/routes.csv": _routes(30, 90),
                                   "input_csv/locations.csv": lambda t: t.replace(",500", ",60")}))  # fmt: skip
    compiled = simulate(s, seed=9)
    for name in ("step_day", "spawn", "redraw"):
        monkeypatch.setattr(kernel, name, getattr(kernel, name).py_func)
    plain = simulate(s, seed=9)
    assert np.array_equal(compiled.places, plain.places) and np.array_equal(compiled.travelling, plain.travelling)


@pytest.mark.parametrize("chance", [0.001, 0.3, 0.9])
def test_a_drawn_wait_is_the_law_of_deciding_each_day(chance):
    """P(leave on day k after arriving) = c (1 - c)^k, as deciding each day with chance c gives."""
    from refuge.backends.travel.people import _wait_scale, _wake

    chances = np.array([chance, 1.0, 0.0])
    scale = _wait_scale(chances)
    key = np.array([3, 4], np.uint32)
    waits = np.array([_wake(0, chance, scale[0], 0, person, 0, key) for person in range(200_000)])
    for k in (0, 1, 5, 50):
        expected = (1 - chance) ** k  # P(wait >= k)
        assert abs((waits >= k).mean() - expected) <= 4 * np.sqrt(expected * (1 - expected) / len(waits)) + 1e-9
    assert _wake(7, 1.0, scale[1], 0, 5, 0, key) == 7 and _wake(7, 0.0, scale[2], 0, 5, 0, key) > 10**9  # 1, 0


def test_people_at_a_place_whose_chance_changes_leave_at_the_new_rate(flee_folder):
    """A camp that becomes a town on day 10: its people leave at a town's chance from that day, not a camp's."""
    closed = "#closure_type,name1,name2,closure_start,closure_end\ncamp,C,,10,400\n"
    folder = {"input_csv/routes.csv": _routes(50, 120), "input_csv/sim_period.csv": "StartDate,2020-01-01\nLength,30\n",
              "source_data/c.csv": "2020-01-01,2000\n2020-01-31,2000\n"}  # fmt: skip
    kept = simulate(read_scenario(flee_folder(folder, name="kept")), seed=2)
    opened = simulate(read_scenario(flee_folder(folder | {"input_csv/closures.csv": closed}, name="opened")), seed=2)
    assert np.array_equal(kept.camps[:10], opened.camps[:10])  # the same draws until the change
    assert kept.camps[-1, 0] > 1900 and opened.camps[-1, 0] < 1000


def test_different_seeds_draw_different_people(flee_folder):
    s = read_scenario(flee_folder({"input_csv/sim_period.csv": "StartDate,2020-01-01\nLength,60\n",
                                   "source_data/c.csv": "2020-01-01,0\n2020-03-01,3000\n"}))  # fmt: skip
    assert not np.array_equal(simulate(s, seed=1).places, simulate(s, seed=2).places)


def test_a_conflict_that_ends_makes_its_place_a_town(flee_folder):
    conflicts = "#Day, A, B\n" + "".join(f"{d}, 1, {int(d < 3)}\n" for d in range(12))
    s = read_scenario(flee_folder({"input_csv/conflicts.csv": conflicts}))
    places = Places.start(s)
    places.change_conflicts(0)
    assert places.conflict[1] == 1.0 and places.spawn_weights(0)[1] == 0  # B has no population to spawn from
    assert places.change_conflicts(3)
    assert places.conflict[1] == -1.0 and places.base_chance[1] == s.settings.rules().default_movechance
    assert places.conflict[0] == 1.0


def test_a_chain_of_markers_is_walked_to_its_end_however_long(flee_folder):
    """Markers do not count towards awareness, so Flee reaches the town at the end of any chain of them."""
    markers = [f"M{i}" for i in range(8)]
    places = "".join(f"{m},r,Home,0,0,marker,,\n" for m in markers) + "T,r,Home,0,0,town,,\n"
    chain = ["A", *markers, "T"]
    links = "".join(f"{a},{b},10,\n" for a, b in itertools.pairwise(chain))
    s = read_scenario(flee_folder({"input_csv/locations.csv": lambda t: t + places,
                                   "input_csv/routes.csv": lambda t: t + links}))  # fmt: skip
    found = Places.start(s).routes()
    a, t = s.network.index("A"), s.network.index("T")
    ends = found.end[found.start[a] : found.start[a + 1]]
    assert t in ends
    k = found.start[a] + list(ends).index(t)
    assert found.km[k] == 90.0 and list(found.path[k][found.path[k] >= 0]) == [s.network.index(p) for p in chain[1:]]


def test_taking_more_people_from_a_place_than_live_there_is_refused(flee_folder):
    few = {"input_csv/locations.csv": lambda t: t.replace("conflict_zone,0,1000", "conflict_zone,0,30"),
           "simsetting.yml": "spawn_rules:\n  take_from_population: true\n"}  # fmt: skip
    with pytest.raises(DataError, match=r"locations.csv, field population: on day \d+, \d+ people leave 'A', where "):
        simulate(read_scenario(flee_folder(few)), seed=0)
    enough = simulate(read_scenario(flee_folder({**few, "input_csv/locations.csv": lambda t: t}, name="enough")))
    assert enough.total[-1] > 0


def test_a_camp_name_with_a_comma_is_quoted_in_out_csv(flee_folder):
    renamed = {"input_csv/locations.csv": lambda t: t.replace("C,rc", '"Camp, North",rc'),
               "input_csv/routes.csv": lambda t: t.replace("B,C,", 'B,"Camp, North",'),
               "source_data/data_layout.csv": 'total,refugees.csv\n"Camp, North",c.csv\n'}  # fmt: skip
    rows = list(csv.reader(io.StringIO(flee_csv(simulate(read_scenario(flee_folder(renamed)), seed=0)))))
    assert rows[0][2:5] == ["Camp, North sim", "Camp, North data", "Camp, North error"]
    assert {len(row) for row in rows} == {len(rows[0])}


def test_the_mean_backends_people_are_rounded_not_cut_in_errors_json(flee_folder, tmp_path):
    run = simulate(read_scenario(flee_folder()), seed=0, backend="mean")
    write_run(run, tmp_path)
    summary = json.loads((tmp_path / "errors.json").read_text())
    assert summary["people_at_end"] == round(float(run.total[-1])) and isinstance(summary["agent_steps"], int)


def test_a_closed_link_is_not_crossed_and_reopens(flee_folder):
    closed = "#closure_type,name1,name2,closure_start,closure_end\nlink,B,C,0,8\nlink,A,C,0,8\n"
    s = read_scenario(flee_folder({"input_csv/routes.csv": _routes(50, 120), "input_csv/closures.csv": closed}))
    run = simulate(s, seed=0)
    assert (run.camps[:8, 0] == 0).all()  # nobody reaches the camp while its links are closed
    assert run.camps[-1, 0] > 0  # and people arrive once they reopen


def test_a_camp_closed_as_a_town_repels_less_and_a_full_camp_takes_no_one_new(flee_folder):
    routes = {"input_csv/routes.csv": _routes(50, 120), "input_csv/sim_period.csv": "StartDate,2020-01-01\nLength,40\n",
              "source_data/c.csv": "2020-01-01,0\n2020-02-10,2000\n"}  # fmt: skip
    roomy = simulate(read_scenario(flee_folder(routes, name="roomy")), seed=4)
    small = routes | {"input_csv/locations.csv": lambda t: t.replace(",500", ",20")}
    full = simulate(read_scenario(flee_folder(small, name="small")), seed=4)
    assert roomy.camps[-1, 0] > 200
    assert full.camps[-1, 0] < 60  # 20 places: only those already on the road when it filled arrive


def test_out_csv_has_flees_columns_and_a_perfect_run_has_no_error(flee_folder):
    s = read_scenario(flee_folder())
    run = simulate(s, seed=0)
    lines = flee_csv(run).splitlines()
    assert lines[0] == ("Day,Date,C sim,C data,C error,Total error,refugees in camps (UNHCR),total refugees "
                        "(simulation),raw UNHCR refugee count,refugees in camps (simulation),refugee_debt")  # fmt: skip
    assert lines[1].startswith("0,2020-01-02,")  # Flee dates a day by the next one
    assert len(lines) == 1 + s.days
    perfect = type(run)(s, "agents", 0, np.zeros_like(run.places), run.travelling, run.schedule, 0, 0)
    perfect.places[:, 2] = s.camp_data[:, 0]
    assert errors(perfect) == {"ARD": 0.0, "ARD_rescaled": 0.0}
    doubled = type(run)(s, "agents", 0, perfect.places * 2, run.travelling, run.schedule, 0, 0)
    assert errors(doubled)["ARD_rescaled"] == 0.0 and errors(doubled)["ARD"] > 0  # only the total is wrong


def test_refuge_flee_writes_through_the_run_store_and_refuses_a_bad_folder(flee_folder, tmp_path):
    def refuge(*args):
        return subprocess.run([sys.executable, "-m", "refuge", "flee", *args], capture_output=True, text=True)

    out = tmp_path / "out"
    done = refuge(str(flee_folder()), "--out", str(out), "--seed", "3")
    assert done.returncode == 0, done.stderr
    assert {"out.csv", "errors.json", "places.csv", "camps.png"} <= {p.name for p in out.iterdir()}
    assert json.loads((out / "errors.json").read_text())["seed"] == 3
    bad_folder = flee_folder({"input_csv/routes.csv": "A,Nowhere,10\n"}, name="bad")
    bad = refuge(str(bad_folder), "--out", str(tmp_path / "no"))
    assert bad.returncode == 2 and "routes.csv, row 1, field name2" in bad.stderr and "Traceback" not in bad.stderr
    assert not (tmp_path / "no").exists()


def test_the_camp_plot_made_while_the_people_move_is_the_plot_made_after(flee_folder, tmp_path):
    folder = flee_folder()
    run_to_folder(folder, tmp_path / "out", seed=4)  # its figure made in another thread during the run
    after = plot_camps(simulate(read_scenario(folder), seed=4), tmp_path / "after.png")
    assert (tmp_path / "out" / "camps.png").read_bytes() == after.read_bytes()


@pytest.mark.parametrize("backend", ["counts", "mean"])
def test_groups_conserve_people(flee_folder, backend):
    s = read_scenario(flee_folder({"input_csv/routes.csv": _routes(30, 90)}))
    run = simulate(s, seed=5, backend=backend)
    np.testing.assert_allclose(run.total, s.camp_data[0].sum() + np.cumsum(schedule(s).new), rtol=1e-12)


def test_the_three_backends_agree_where_their_rules_coincide(flee_folder):
    """No camp near capacity: person by person or in groups, the same rules give the same expected counts."""
    s = read_scenario(flee_folder({"input_csv/routes.csv": _routes(30, 90),
                                   "input_csv/locations.csv": lambda t: t.replace(",500", ",100000"),
                                   "input_csv/sim_period.csv": "StartDate,2020-01-01\nLength,30\n",
                                   "source_data/c.csv": "2020-01-01,0\n2020-01-31,3000\n"}))  # fmt: skip
    mean = simulate(s, backend="mean").places[-1]
    for backend in ("agents", "counts"):
        runs = np.array([simulate(s, seed=k, backend=backend).places[-1] for k in range(12)])
        spread = runs.std(axis=0, ddof=1) / np.sqrt(len(runs))
        assert (np.abs(runs.mean(axis=0) - mean) <= 4 * spread + 1).all(), (backend, runs.mean(axis=0), mean)


@pytest.mark.skipif(not (REAL / "mali2012").is_dir(), reason="the shared Flee scenarios are not here")
@pytest.mark.parametrize("backend", ["agents", "counts", "mean"])
def test_mali2012_is_as_good_as_flee(backend):
    """Flee's own figures for its own scenario (shared/flee/README.md): ARD 0.356, rescaled 0.307."""
    import pandas as pd

    s = read_scenario(REAL / "mali2012")
    run = simulate(s, seed=0, backend=backend)
    reference = pd.read_csv(REAL / "reference" / "mali2012-flee-out.csv")
    np.testing.assert_allclose(run.total, reference["total refugees (simulation)"], rtol=1e-9)
    assert np.array_equal(run.schedule.raw, reference["raw UNHCR refugee count"])
    measured = errors(run)
    assert measured["ARD"] < 0.356 + 0.05 and measured["ARD_rescaled"] < 0.307 + 0.05
