"""End to end: every verb of the ``refuge`` command, as a user runs it."""

import io
import json
import os
import re
import subprocess
import sys

import pandas as pd
import pytest
import xarray as xr

import refuge
from refuge.output import run_to_folder
from refuge.scenarios import load_scenario
from refuge.systems import get_system


def refuge_cli(*args, cwd=None):
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "refuge", *args], capture_output=True, text=True, cwd=cwd, env=env)


@pytest.mark.parametrize("backend", ["counts", "mean"])
def test_run_prints_a_summary_and_writes_tables_and_plots(tmp_path, backend):
    out = tmp_path / "base"
    done = refuge_cli("run", "baseline", "--members", "8", "--seed", "3", "--backend", backend, "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert "Arrivals in South Korea per year" in done.stdout
    assert "2,914" in done.stdout  # the record of 2009 printed beside the model
    for name in ("annual.csv", "annual.parquet", "results.nc", "arrivals.png", "stocks.png", "run.json"):
        assert (out / name).stat().st_size > 0, name
    table = pd.read_csv(out / "annual.csv")
    assert list(table.columns) == ["member", "year", "variable", "value"]
    required = {"arrivals_south_korea", "arrivals_south_korea_female", "hiding_in_china", "deported_from_china",
                "deaths", "re_defections"}  # fmt: skip
    assert required <= set(table.variable)
    assert table.member.nunique() == 8 and table.year.min() == 1990 and table.year.max() >= 2035
    assert json.loads((out / "run.json").read_text())["seed"] == 3
    with xr.open_dataset(out / "results.nc") as saved:
        assert saved.flows.attrs["units"] == "people per year" and saved.stocks.attrs["units"] == "people"
        assert saved.year.attrs["units"] == "calendar year"
    assert not list(tmp_path.glob(".*"))  # no staging or partial folders left behind


def test_run_accepts_a_scenario_file(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text("name: mine\nbase: baseline\nlevers: [{lever: aid, from: 2027, set: 1}]\n")
    done = refuge_cli("run", str(path), "--members", "2", "--out", str(tmp_path / "o"))
    assert done.returncode == 0, done.stderr
    assert "scenario mine" in done.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "no-such-scenario"], "neither a built-in scenario"),
        (["run", "baseline", "--backend", "quantum"], "backend 'quantum' is not known"),
        (["run", "baseline", "--members", "0"], "greater than or equal to 1"),
        (["validate", "BAD"], "levers[0].scale"),
        (["sensitivity", "--start", "1980", "--end", "1985"], "--start 1980 and --end 1985 must satisfy 1990 <= start"),
    ],
)
def test_bad_input_is_one_message_exit_2_and_nothing_written(tmp_path, args, message):
    (tmp_path / "BAD").write_text("name: bad\nlevers: [{lever: aid, from: 2027, scale: -2}]\n")
    done = refuge_cli(*args, "--out", str(tmp_path / "o")) if args[0] == "run" else refuge_cli(*args, cwd=tmp_path)
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert not (tmp_path / "o").exists()


def test_run_refuses_to_overwrite_a_folder_that_is_not_its_own(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    done = refuge_cli("run", "baseline", "--members", "2", "--out", str(tmp_path))
    assert done.returncode == 2
    assert "not a refuge output folder" in done.stderr
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_scenarios_lists_every_builtin_with_a_line():
    done = refuge_cli("scenarios")
    assert done.returncode == 0
    for name in refuge.builtin_names():
        assert name in done.stdout


def test_validate_shows_the_levers_of_a_good_file():
    done = refuge_cli("validate", "border-closure")
    assert done.returncode == 0
    assert "valid" in done.stdout and "north_border_closure: set 1 from 2027-01 until 2029-01" in done.stdout
    assert "china_closure: set 1 from 2027-01 until 2029-01" in done.stdout


def test_parameters_and_mechanisms_show_their_evidence():
    params = refuge_cli("parameters")
    assert params.returncode == 0 and "hiding_capacity" in params.stdout and "seed 002" in params.stdout
    mech = refuge_cli("mechanisms")
    assert mech.returncode == 0 and "M12" in mech.stdout and "kin_funded_escape" in mech.stdout


def test_parameters_lists_the_drivers_levers_act_on_with_ranges_and_units():
    done = refuge_cli("parameters", "--csv")
    assert done.returncode == 0, done.stderr
    table = pd.read_csv(io.StringIO(done.stdout)).set_index("name")
    drivers = table[table.kind == "driver"]
    assert {"refugee_status", "border_security", "north_border_closure", "china_closure", "aid"} <= set(drivers.index)
    assert drivers.loc["refugee_status", "allowed_range"] == "0 to 1"
    assert table.loc["catch_at_border", "unit"] == "probability at security 1"
    assert table.loc["hiding_capacity", "allowed_range"] == "1000 to 2e+06"


def test_evidence_says_when_a_claim_was_published_and_whose_figure_it_repeats():
    done = refuge_cli("evidence", "--quantity", "hiding_in_china", "--csv")
    assert done.returncode == 0, done.stderr
    table = pd.read_csv(io.StringIO(done.stdout), dtype=str).set_index("id")
    assert table.loc["H14", "repeats"] == "H03" and table.loc["H14", "published"] == "2005-03-16"
    assert pd.isna(table.loc["H02", "repeats"])  # Robinson's survey is its own estimate


@pytest.mark.parametrize(("verb", "column", "item"), [("scenarios", "name", "border-closure"),
                                                      ("mechanisms", "id", "M9"), ("evidence", "quantity", "arrivals"),
                                                      ("parameters", "name", "news_effect")])  # fmt: skip
def test_listing_verbs_write_csv_and_break_no_word_at_80_columns(verb, column, item):
    listed = refuge_cli(verb, "--csv")
    assert listed.returncode == 0, listed.stderr
    assert item in set(pd.read_csv(io.StringIO(listed.stdout))[column])
    wide = listed.stdout.split("\n", 1)[1]  # the rows, not the header
    words = {w for w in re.split(r"[\s,\"]+", wide) if len(w) <= 70 and w.isascii() and w.isalnum()}
    done = subprocess.run([sys.executable, "-m", "refuge", verb], capture_output=True, text=True,
                          env={**os.environ, "COLUMNS": "80"})  # fmt: skip
    assert done.returncode == 0, done.stderr
    shown = set(re.split(r"[^A-Za-z0-9]+", done.stdout))
    assert words <= shown, sorted(words - shown)[:10]  # every word of the listing appears whole
    assert all(len(line) <= 80 or " " not in line.strip() for line in done.stdout.splitlines())


def test_an_interrupted_run_resumes_without_losing_finished_members(tmp_path, short):
    scenario = load_scenario("baseline")
    settings = dict(members=6, seed=8, backend="counts", block=2)
    whole = run_to_folder(scenario, tmp_path / "whole", **settings)

    calls = []

    def interrupt_in_second_block(done):
        calls.append(done)
        if len(calls) == 60:  # one block of 46 years has finished, the second is under way
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_to_folder(scenario, tmp_path / "again", progress=interrupt_in_second_block, **settings)
    partial = tmp_path / ".again.partial"
    assert len(list(partial.glob("block-*.npz"))) == len(list(partial.glob("block-*.json"))) == 1
    assert not (tmp_path / "again").exists()

    redone = []
    resumed = run_to_folder(scenario, tmp_path / "again", progress=redone.append, **settings)
    assert resumed.data.equals(whole.data)
    assert not partial.exists()


def test_compare_puts_scenarios_side_by_side_member_by_member(tmp_path):
    names = ["baseline", "border-closure", "coordinated-resettlement", "redefection-campaign"]
    done = subprocess.run([sys.executable, "-m", "refuge", "compare", *names, "--members", "4", "--backend", "mean",
                           "--out", str(tmp_path)], capture_output=True, text=True,
                          env={**os.environ, "COLUMNS": "80"})  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert max(len(line) for line in done.stdout.splitlines()) <= 80
    for name in names:
        assert name in done.stdout  # no name cut at 80 columns
    assert "re-defections" in done.stdout and done.stdout.count("90% band") == 1  # one band, said once
    table = pd.read_csv(tmp_path / "compare.csv")
    assert "re_defections" in set(table.measure)
    closed = table.set_index(["scenario", "measure"]).loc[("border-closure", "crossings_to_china")]
    assert closed.change_q95 < 0  # every member crosses less under a closure
    baseline = table.set_index(["scenario", "measure"]).loc[("baseline", "arrivals_south_korea")]
    assert baseline.change_median == 0
    campaign = table.set_index(["scenario", "measure"]).loc[("redefection-campaign", "re_defections")]
    assert campaign.change_q05 > 0 and campaign.change_pct_median > 0
    differences = pd.read_csv(tmp_path / "differences.csv")
    assert set(differences.scenario) == set(names[1:]) and differences.year.min() == 2022
    assert (tmp_path / "compare.png").stat().st_size > 0
    written = json.loads((tmp_path / "compare.json").read_text())
    assert written["scenarios"] == names
    assert (written["start"], written["end"]) == get_system().window  # the system's window, none given
    assert refuge_cli("report", str(tmp_path)).returncode == 0
    page = (tmp_path / "report.html").read_text()
    assert "Comparison" in page and "redefection-campaign" in page and "data:image/png;base64," in page


def test_compare_needs_two_scenarios(tmp_path):
    done = refuge_cli("compare", "baseline", "--out", str(tmp_path / "c"))
    assert done.returncode == 2 and "at least two scenarios" in done.stderr
    assert "e.g. refuge compare baseline border-closure" in done.stderr  # the system's own scenarios
    assert not (tmp_path / "c").exists()


def test_compare_checks_every_name_before_running(tmp_path):
    done = refuge_cli("compare", "baseline", "utopia", "--out", str(tmp_path / "c"))
    assert done.returncode == 2 and "'utopia'" in done.stderr
    assert not (tmp_path / "c").exists()
    twice = refuge_cli("compare", "baseline", "more-aid", "baseline", "--out", str(tmp_path / "c"))
    assert twice.returncode == 2 and "'baseline' is listed twice" in twice.stderr


def test_compare_and_estimate_refuse_work_that_cannot_fit_before_starting(tmp_path):
    huge = refuge_cli("compare", "baseline", "more-aid", "--members", "10000000", "--out", str(tmp_path / "c"))
    assert huge.returncode == 2 and "of memory" in huge.stderr and "compare fewer members" in huge.stderr
    draws = refuge_cli("estimate", "hiding-in-china", "--draws", "100000000", "--out", str(tmp_path / "e"))
    assert draws.returncode == 2 and "--draws" in draws.stderr
    assert not (tmp_path / "c").exists() and not (tmp_path / "e").exists()


def test_the_command_line_starts_without_the_numerical_libraries():
    heavy = "{'numpy', 'numba', 'pandas', 'xarray', 'matplotlib'}"
    probe = f"import sys, refuge.cli; print(sorted({heavy} & set(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"  # so `refuge --help` answers at once (BENCHMARKS.md)


def test_compare_and_run_never_replace_other_results_without_force(tmp_path):
    """A three-scenario comparison is not silently replaced by another one, nor by a run."""
    three = ["baseline", "border-closure", "more-aid"]
    first = refuge_cli("compare", *three, "--members", "2", "--backend", "mean", "--out", str(tmp_path / "c"))
    assert first.returncode == 0, first.stderr
    before = (tmp_path / "c" / "compare.csv").read_bytes()
    other = refuge_cli("compare", "baseline", "new-famine", "--members", "2", "--backend", "mean",
                       "--out", str(tmp_path / "c"))  # fmt: skip
    assert other.returncode == 2 and "holds another run" in other.stderr and "--force" in other.stderr
    assert "it differs in scenarios ['baseline', 'border-closure', 'more-aid'] there, ['baseline', 'new-famine']" \
        in " ".join(other.stderr.split())
    run = refuge_cli("run", "baseline", "--members", "2", "--out", str(tmp_path / "c"))
    assert run.returncode == 2 and "holds another run" in run.stderr
    assert (tmp_path / "c" / "compare.csv").read_bytes() == before
    forced = refuge_cli("compare", "baseline", "new-famine", "--members", "2", "--backend", "mean",
                        "--out", str(tmp_path / "c"), "--force")  # fmt: skip
    assert forced.returncode == 0, forced.stderr
    assert set(pd.read_csv(tmp_path / "c" / "compare.csv").scenario) == {"baseline", "new-famine"}


def test_a_run_again_with_another_block_size_is_the_same_run(tmp_path):
    """Block size changes how the work is cut, not the numbers: the folder is not another run's."""
    first = refuge_cli("run", "baseline", "--members", "5", "--seed", "3", "--block", "2", "--out", str(tmp_path / "r"))
    assert first.returncode == 0, first.stderr
    before = (tmp_path / "r" / "run.json").read_bytes()
    again = refuge_cli("run", "baseline", "--members", "5", "--seed", "3", "--out", str(tmp_path / "r"))
    assert again.returncode == 0, again.stderr
    assert (tmp_path / "r" / "run.json").read_bytes() == before  # found done, not run again


def test_progress_off_a_terminal_prints_a_line_a_tenth_in_the_works_own_words():
    from rich.console import Console

    from refuge.progress import progress

    lines = io.StringIO()
    console = Console(file=lines, force_terminal=False, width=200)
    with progress(console, "calibrating", 100, of="the slowest run (estimated)") as advance:
        advance(10)
    with progress(console, "running", 2_000, unit="member-weeks") as advance:
        advance(2_000)
    assert lines.getvalue().splitlines()[0].startswith("calibrating: 10% of the slowest run (estimated) done, ")
    assert lines.getvalue().splitlines()[1].startswith("running: 100% of 2,000 member-weeks done, ")


@pytest.mark.parametrize(("verb", "shown"), [("calibrate", ("all cores", "calibration/until-YEAR")),
                                             ("sensitivity", ("its first five", "out/sensitivity-SCENARIO")),
                                             ("run", ("out/SCENARIO",)), ("estimate", ("shipped", "out/estimate"))])
def test_help_shows_the_defaults_that_are_words(verb, shown):
    """Defaults written as words (all cores, out/SCENARIO) reach --help; Rich once took them for markup."""
    done = refuge_cli(verb, "--help")
    assert done.returncode == 0
    text = " ".join(done.stdout.split())  # the help's own line breaks and borders aside
    for words in shown:
        assert f"[default: ({words})]" in text.replace("│ ", "").replace(" │", ""), (verb, words)
