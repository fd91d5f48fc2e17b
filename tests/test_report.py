"""refuge report: one HTML page that holds everything it shows and points at nothing outside itself."""

import json
import os
import subprocess
import sys
from html.parser import HTMLParser

import pytest

from refuge.systems.korea.calibration.posterior import shipped_folder


class Page(HTMLParser):
    """Collects every reference a page makes, and checks its tags are balanced."""

    VOID = frozenset({"meta", "img", "br", "hr", "link", "input"})

    def __init__(self):
        super().__init__()
        self.references, self.open, self.tags, self.text = [], [], set(), []

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.references += [value for name, value in attrs if name in ("src", "href", "action", "data") and value]
        if tag not in self.VOID:
            self.open.append(tag)

    def handle_endtag(self, tag):
        assert self.open and self.open[-1] == tag, (tag, self.open[-3:])
        self.open.pop()

    def handle_data(self, data):
        self.text.append(data)


def refuge_cli(*args):
    env = {**os.environ, "COLUMNS": "80"}
    return subprocess.run([sys.executable, "-m", "refuge", *args], capture_output=True, text=True, env=env)


def parse(path):
    page = Page()
    page.feed(path.read_text(encoding="utf-8"))
    page.close()
    assert not page.open, page.open
    return page, "".join(page.text)


def assert_self_contained(page):
    assert page.references, "no plots embedded"
    for reference in page.references:
        assert reference.startswith(("data:image/png;base64,", "#")), reference[:80]
    assert not {"link", "script", "iframe"} & page.tags


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("reports") / "aid"
    done = refuge_cli("run", "more-aid", "--members", "3", "--seed", "5", "--backend", "mean", "--out", str(folder))
    assert done.returncode == 0, done.stderr
    return folder


def test_a_run_report_holds_the_scenario_tables_plots_provenance_and_command(run_folder):
    done = refuge_cli("report", str(run_folder))
    assert done.returncode == 0, done.stderr
    page, text = parse(run_folder / "report.html")
    assert_self_contained(page)
    assert sum(r.startswith("data:image/png") for r in page.references) == 2  # arrivals.png, stocks.png
    assert "From 2027-01, aid" in text and "is set to 1" in text
    assert f"refuge run more-aid --members 3 --seed 5 --backend mean --out {run_folder}" in text
    assert "hiding_capacity" in text and 'seed 002: "' in text  # every parameter with its evidence
    meta = json.loads((shipped_folder() / "posterior.json").read_text())
    rhat = (f"R-hat between its 2 independent runs at most {meta['rhat_max']}, effective samples of the runs "
            f"{meta['effective_samples_runs']}, log-evidence {meta['log_evidence']}")
    assert rhat in text  # the shipped posterior's convergence, in the nested sampler's terms
    assert "2,914" in text  # the record beside the model


def test_an_edited_report_is_never_overwritten_nor_replaced_unseen(tmp_path):
    folder = tmp_path / "r"
    assert refuge_cli("run", "baseline", "--members", "2", "--backend", "mean", "--out", str(folder)).returncode == 0
    assert refuge_cli("report", str(folder)).returncode == 0
    assert "report.html" in json.loads((folder / "run.json").read_text())["files"]  # listed with its checksum
    assert refuge_cli("report", str(folder)).returncode == 0  # refuge's own page is rewritten at will
    (folder / "report.html").write_text("my annotated copy")
    again = refuge_cli("report", str(folder))
    assert again.returncode == 2 and "was changed since" in again.stderr
    other = refuge_cli("run", "more-aid", "--members", "2", "--backend", "mean", "--out", str(folder), "--force")
    assert other.returncode == 2 and "report.html was changed" in other.stderr
    assert (folder / "report.html").read_text() == "my annotated copy"


def test_a_report_describes_the_scenario_that_ran_not_a_built_in_of_its_name(tmp_path):
    impostor = tmp_path / "closure.yaml"  # named like a built-in, but only aid
    impostor.write_text("name: border-closure\ndescription: Aid only, no closure.\n"
                        "levers:\n  - {lever: aid, from: 2027-01, set: 1.0}\n"
                        "parameters:\n  attempt_base: 0.0005\n")  # fmt: skip
    run = tmp_path / "run"
    assert refuge_cli("run", str(impostor), "--members", "2", "--backend", "mean", "--out", str(run)).returncode == 0
    assert refuge_cli("report", str(run)).returncode == 0
    _, text = parse(run / "report.html")
    assert "seals its border" not in text and "From 2027-01, aid" in text
    assert "0.0005 (the scenario's)" in text  # the value every member ran with, not the posterior's
    assert "Aid only, no closure." in text  # the file's own description, read from the file that ran
    compared = tmp_path / "compare"
    twin = tmp_path / "twin.yaml"  # a second file of the same name, so a record by name would keep one of the two
    twin.write_text(impostor.read_text().replace("set: 1.0", "set: 0.5").replace("Aid only", "Half aid"))
    done = refuge_cli("compare", "baseline", str(impostor), str(twin), "--members", "2", "--backend", "mean", "--out",
                      str(compared))  # fmt: skip
    assert done.returncode == 0, done.stderr
    impostor.write_text(impostor.read_text().replace("set: 1.0", "set: 0.3"))  # edited after the comparison
    assert refuge_cli("report", str(compared)).returncode == 0
    _, text = parse(compared / "report.html")
    assert "Aid only, no closure." in text and "Half aid" in text and "seals its border" not in text
    assert "is set to 1" in text and "is set to 0.5" in text and "is set to 0.3" not in text
    sensitivity = tmp_path / "sa"
    done = refuge_cli("sensitivity", str(twin), "--method", "morris", "--samples", "2", "--end", "2029", "--output",
                      "arrivals", "--backend", "mean", "--out", str(sensitivity))  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert refuge_cli("report", str(sensitivity)).returncode == 0
    _, text = parse(sensitivity / "report.html")
    assert "Half aid" in text and "seals its border" not in text and "is set to 0.5" in text


def test_a_sensitivity_report_names_the_drivers(tmp_path):
    folder = tmp_path / "sa"
    done = refuge_cli("sensitivity", "border-closure", "--method", "morris", "--samples", "2", "--end", "2029",
                      "--output", "arrivals", "--out", str(folder))  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert refuge_cli("report", str(folder)).returncode == 0
    page, text = parse(folder / "report.html")
    assert_self_contained(page)
    assert "hang most on" in text and "lever1.north_border_closure.set" in text and "refuge sensitivity" in text


def test_report_of_a_folder_that_is_not_refuge_s_is_one_message(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    done = refuge_cli("report", str(tmp_path))
    assert done.returncode == 2 and "not a refuge results folder" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "report.html").exists()


def test_calibration_and_backtest_folders_report_their_fit_scores_and_command(tmp_path):
    import json

    from refuge.report import write_report

    fit = {"in-sample": {"years": "1995-2011", "n_years": 17, "mape_median_pct": 42.6},
           "hold-out": {"years": "2012-2019", "n_years": 8, "mape_median_pct": 52.7},
           "female_share": {"years": "2001-2011", "n_years": 11, "within_5_points": 7, "misses": [2001, 2002]},
           "time_abroad": [{"year": 2010, "survey_years": 1.5, "median": 2.14, "q05": 1.78, "q95": 2.52,
                            "inside_90pct": False}]}  # fmt: skip
    (tmp_path / "fit_summary.json").write_text(json.dumps(fit))
    settings = {"until": 2011, "walkers": 34, "chains": 2, "steps": 40, "seed": 1, "screen": 400}
    (tmp_path / "posterior.json").write_text(json.dumps({"settings": settings, "samples": 680, "refuge": "0.1.0"}))
    (tmp_path / "scores.csv").write_text("origin,forecaster,mape,width90\n2011,refuge,21.5,10091.3\n"
                                         "2011,naive,34.0,3.2e-07\n")
    page, text = parse(write_report(tmp_path))
    assert all(r.startswith("data:") for r in page.references)
    assert "Calibration fit" in text and "2012-2019" in text and "52.7" in text
    assert "within 5 points of the record in 7 of 11 years (2001-2011; missed: 2001, 2002)" in text
    assert "Time abroad before arrival" in text and "2.14" in text
    assert "refuge calibrate --until 2011 --sampler emcee --particles 68 --chains 2 --steps 40 --seed 1 --screen 400" \
        in text
    assert "Backtest scores" in text and "naive" in text and "34" in text
    assert "10,091" in text and "3.2e-07" in text and "e+0" not in text  # whole people in full, not 1.009e+04
    nested = {"until": 2025, "sampler": "nautilus", "chains": 2, "live": 1000, "seed": 0}
    (tmp_path / "posterior.json").write_text(json.dumps({"settings": nested, "samples": 5000, "rhat_max": 1.0011,
                                                         "effective_samples_runs": [13422, 12806],
                                                         "arviz_ess_bulk_min": 4250, "log_evidence": -49.03}))
    page, text = parse(write_report(tmp_path))
    assert "refuge calibrate --until 2025 --sampler nautilus --chains 2 --live 1000 --seed 0" in text
    assert "-49.03" in text and "13422" in text and "walker by walker" not in text


def test_a_run_report_shows_the_bands_its_plots_show_and_the_choice_is_part_of_the_run(tmp_path):
    """Predictive intervals by default, as the CLI's summary and the plots; --ensemble-bands is another run."""
    import refuge
    from refuge.results import Results

    for bands, flag in (("predictive", ()), ("ensemble", ("--ensemble-bands",))):
        folder = tmp_path / bands
        args = ("run", "baseline", "--members", "6", "--seed", "3", "--backend", "mean", "--out", str(folder))
        assert refuge_cli(*args, *flag).returncode == 0
        assert json.loads((folder / "run.json").read_text()).get("bands", "predictive") == bands
        assert refuge_cli("report", str(folder)).returncode == 0
        _, text = parse(folder / "report.html")
        q = Results.open(folder / "results.nc", refuge.north_korea()).quantiles(
            "arrivals_south_korea", predictive=bands == "predictive").loc[2009]
        assert f"2009{q.q50:,.0f}{q.q05:,.0f}{q.q95:,.0f}2,914" in text.replace("\n", "").replace(" ", "")
        assert ("90% predictive interval" in text) == (bands == "predictive")
        again = refuge_cli(*args, *(() if flag else ("--ensemble-bands",)))
        assert again.returncode == 2 and "bands" in again.stderr
