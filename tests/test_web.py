"""The web app (issue 12): its API's safety, a real browser through the main path, a crashed run, and load.

One server (a ``refuge serve`` process on a free loopback port) serves every test here;
the browser is Debian's chromium driven by Playwright, and these tests skip, saying why,
where either is missing.
"""

from __future__ import annotations

import importlib.util
import shutil
import signal
import time
from pathlib import Path

import pytest

from refuge.errors import ScenarioError
from refuge.scenarios import load_scenario

httpx = pytest.importorskip("httpx", reason="the web tests need the web and test extras: pip install -e '.[test]'")
pytest.importorskip("starlette", reason="refuge serve needs the web extra: pip install -e '.[web]'")
pytest.importorskip("uvicorn", reason="refuge serve needs the web extra: pip install -e '.[web]'")
psutil = pytest.importorskip("psutil", reason="the load test samples memory with psutil (the test extra)")

_spec = importlib.util.spec_from_file_location("web_load", Path(__file__).parents[1] / "benchmarks" / "web_load.py")
web_load = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(web_load)

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
#: the closed network refuses chromium's background connections; these flags stop it making them
BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run"]  # fmt: skip
MAX_MEMBERS = 50
BAD_LEVER = "name: mine\nlevers:\n  - lever: china_enforcment\n    from: 2027\n    scale: 0\n"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    process, base = web_load.start_server("--max-runs", "2", "--max-queue", "0", "--max-members", str(MAX_MEMBERS),
                                          "--results", str(_analyses(tmp_path_factory.mktemp("results"))))  # fmt: skip
    yield process, base
    process.send_signal(signal.SIGINT)
    try:
        process.wait(15)
    except Exception:
        process.kill()
        raise


def _analyses(root: Path) -> Path:
    """A backtest (the one in docs/figures) and a small sensitivity analysis, as the commands write them."""
    figures = Path(__file__).parents[1] / "docs" / "figures"
    (root / "backtest").mkdir()
    shutil.copy(figures / "backtest-scores.csv", root / "backtest" / "scores.csv")
    shutil.copy(figures / "backtest.png", root / "backtest" / "backtest.png")
    folder = root / "runs" / "sensitivity-border-closure"
    folder.mkdir(parents=True)
    (folder / "sensitivity.json").write_text('{"scenario": "border-closure", "method": "morris", "samples": 2}')
    (folder / "indices.csv").write_text("output,parameter,index,value,low,high\n"
                                        "arrivals,cost_elasticity,mu_star,954,30,1800\n")
    (folder / "drivers.txt").write_text("Arrivals in the South 2027-2030 hang most on cost_elasticity.\n")
    return root


@pytest.fixture(scope="module")
def http(server):
    with httpx.Client(base_url=server[1], timeout=60) as client:
        yield client


@pytest.fixture(scope="module")
def browser():
    playwright_api = pytest.importorskip("playwright.sync_api", reason="no Playwright: pip install -e '.[test]'")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no browser: {CHROMIUM} is missing (apt-get install chromium; .ci/run installs it)")
    with playwright_api.sync_playwright() as p:
        try:
            launched = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        except playwright_api.Error as err:
            pytest.skip(f"no usable browser: {CHROMIUM} does not start under Playwright ({str(err)[:300]})")
        # the server and the page may take seconds to answer on a busy machine (CI): an assertion waits up to
        # 15 s for what it asserts, not Playwright's 5 (one did time out at 5 s once, in a fresh clone's suite)
        playwright_api.expect.set_options(timeout=15_000)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def opened(browser, server):
    """One page for every browser test, as one person would keep it open (plotly.js is parsed once)."""
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 1280, "height": 1000}, accept_downloads=True)
    shown = context.new_page()
    problems = []
    shown.on("pageerror", lambda err: problems.append(str(err)))
    shown.goto(server[1])
    expect(shown.locator("body[data-ready=yes]")).to_have_count(1, timeout=30_000)
    yield shown, problems
    context.close()


@pytest.fixture
def page(opened):
    shown, problems = opened
    shown.click("nav button[data-tab=scenario]")
    yield shown
    assert not problems, problems  # no script error on the page


def wait(http, job_id: str, seconds: float = 60) -> dict:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        shown = http.get(f"/api/jobs/{job_id}").json()
        if shown["state"] in ("done", "failed"):
            return shown
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not finish in {seconds} s")


# -- the API: the same checks as the command line, bounded, no paths -------------------------------------------------


def test_an_upload_gets_the_command_lines_message(http, tmp_path):
    answer = http.post("/api/scenario/upload", content=BAD_LEVER)
    assert answer.status_code == 400
    (tmp_path / "mine.yaml").write_text(BAD_LEVER)
    with pytest.raises(ScenarioError) as cli:
        load_scenario(tmp_path / "mine.yaml")
    assert answer.json()["error"] == str(cli.value).replace(str(tmp_path / "mine.yaml"), "uploaded scenario")
    assert "did you mean 'china_enforcement'" in answer.json()["error"]


@pytest.mark.parametrize("base", ["/etc/shadow", "/etc/passwd", "../../../../etc/passwd.yaml", "baseline.yaml"])
def test_an_uploaded_base_names_only_built_ins_and_no_file_is_echoed(http, base):
    answer = http.post("/api/scenario/upload", content=f"name: mine\nbase: {base}\n")
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert "is not a built-in scenario" in error and "root:" not in error and "/bin/" not in error


def test_request_bodies_and_members_are_bounded_by_the_operator(http):
    too_big = http.post("/api/scenario/upload", content="name: x\n" + "#" * 70_000)
    assert too_big.status_code == 413 and "at most 65,536" in too_big.json()["error"]
    text = http.get("/api/scenarios/baseline").json()["yaml"]
    many = http.post("/api/runs", json={"yaml": text, "members": MAX_MEMBERS + 1, "backend": "mean"})
    assert many.status_code == 400 and "--max-members" in many.json()["error"]
    agents = http.post("/api/runs", json={"yaml": text, "members": 2, "backend": "agents"})
    assert agents.status_code == 400 and "allowed: mean, counts" in agents.json()["error"]
    compare = http.post("/api/compares", json={"scenarios": [text] * 5, "members": 2})
    assert compare.status_code == 400 and "2 to 4 scenarios" in compare.json()["error"]
    early = http.post("/api/compares", json={"scenarios": [text, text], "members": 2, "start": 1989})
    assert early.status_code == 400 and "a whole number from 1990 to 2040" in early.json()["error"]  # as the CLI
    quoted = http.post("/api/runs", json={"yaml": text, "members": "4", "backend": "mean"})
    assert quoted.status_code == 400 and 'members: "4" is not allowed' in quoted.json()["error"]
    missing = http.post("/api/runs", json={"members": 2})
    assert missing.status_code == 400 and "yaml: missing" in missing.json()["error"]
    for payload in ({"yaml": {"name": "x"}, "members": 2}, {"scenarios": [text, ["name: y"]], "members": 2}):
        refused = http.post("/api/runs" if "yaml" in payload else "/api/compares", json=payload)
        assert refused.status_code == 400 and "expected a scenario's YAML as text" in refused.json()["error"]


def test_a_misspelt_field_is_refused_by_name_not_left_at_its_default(http):
    """{"seeed": 3} once ran seed 0, and a lever's "untill" ran to the end of the timeline."""
    text = http.get("/api/scenarios/baseline").json()["yaml"]
    for path, payload, message in (
        ("/api/runs", {"yaml": text, "members": 2, "seeed": 3}, "run: 'seeed' is not a field; did you mean 'seed'"),
        ("/api/compares", {"scenarios": [text, text], "strat": 2030}, "compare: 'strat' is not a field"),
        ("/api/scenario/form", {"name": "x", "levers": [{"lever": "aid", "kind": "set", "value": 1, "from": "2027-01",
                                                         "untill": "2029-01"}]},
         "levers[0]: 'untill' is not a field; did you mean 'until'"),
        ("/api/scenario/form", {"name": "x", "levers": [{"lever": "aid", "kind": "set", "value": 1, "from": "2027-01",
                                                         "until": 0}]}, "levers[0].until"),
    ):  # fmt: skip
        refused = http.post(path, json=payload)
        assert refused.status_code == 400 and message in refused.json()["error"], refused.json()
    missing = http.get("/api/scenarios/nope")
    assert missing.status_code == 404 and "built-in: baseline" in missing.json()["error"]


def test_no_path_from_a_request_reaches_the_file_system(http):
    for path in ("/static/..%2F..%2F..%2Fpyproject.toml", "/static/index.html", "/api/scenarios/..%2F..%2Fcli.py",
                 "/api/jobs/nothing/annual.csv", "/api/analyses/99"):  # fmt: skip
        answer = http.get(path)
        assert answer.status_code in (400, 404), path
        assert "[project]" not in answer.text and "typer" not in answer.text
    assert http.get("/", headers={"Host": "attacker.example"}).status_code == 400  # DNS rebinding
    text = http.get("/api/scenarios/baseline").json()["yaml"]
    forged = http.post("/api/runs", json={"yaml": text, "members": 1}, headers={"Origin": "http://attacker.example"})
    assert forged.status_code == 400 and "another site" in forged.json()["error"]


def test_the_server_s_work_folder_goes_when_it_is_terminated(tmp_path, monkeypatch):
    """SIGTERM (what systemd and docker send) stops the server as Ctrl-C does: its job folder goes with it."""
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    process, _ = web_load.start_server()
    assert len(list(tmp_path.glob("refuge-serve-*"))) == 1
    process.send_signal(signal.SIGTERM)
    assert process.wait(30) == 128 + signal.SIGTERM
    assert list(tmp_path.glob("refuge-serve-*")) == []


def test_a_port_in_use_gets_a_message_not_a_traceback(server):
    import subprocess
    import sys

    port = server[1].rsplit(":", 1)[1]
    done = subprocess.run([sys.executable, "-m", "refuge", "serve", "--port", port], capture_output=True, text=True,
                          timeout=60)  # fmt: skip
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert f"--port {port}: cannot listen there (Address already in use)" in done.stderr


# -- a real browser ---------------------------------------------------------------------------------------------------


def test_a_person_picks_changes_runs_and_downloads(page):
    from playwright.sync_api import expect

    page.select_option("#builtin", "border-closure")
    expect(page.locator("#levers tbody tr")).to_have_count(2)
    until = page.get_by_label("lever 1 until")
    until.fill("2031-06")
    until.dispatch_event("change")
    expect(page.locator("#yaml")).to_contain_text("until: 2031-06")
    expect(page.locator("#levers tbody tr").first).to_contain_text("From 2027-01 until 2031-06")
    expect(page.locator("#scenario-name")).to_have_value("border-closure-edited")
    expect(page.locator("#yaml")).to_contain_text("Edited on this page from border-closure.")  # not its old words
    page.fill("#members", "3")
    page.click("#run")
    expect(page.locator("#jobs li").first).to_contain_text("run border-closure-edited")
    expect(page.locator("#chart-arrivals[data-job]")).to_have_count(1, timeout=60_000)
    expect(page.locator("#run-status")).to_have_text("done")
    expect(page.locator("#result-name")).to_have_text("border-closure-edited")
    # the system's charts: four stocks, then time abroad, each a median and its band
    for chart, traces in (("#chart-arrivals", 4), ("#chart-1", 12), ("#chart-2", 3)):
        expect(page.locator(f"{chart} .scatterlayer .trace")).to_have_count(traces)
    with page.expect_download() as download:
        page.click("#download-csv")
    table = Path(download.value.path()).read_text()
    assert table.startswith("member,year,variable,value\n") and "2040,arrivals_south_korea," in table
    assert len({line.split(",")[0] for line in table.splitlines()[1:]}) == 3  # three members
    with page.expect_download() as download:
        page.click("#download-report")
    report = Path(download.value.path()).read_text()
    assert "border-closure-edited" in report and "2031-06" in report and "src='http" not in report
    assert "<title>refuge run: border-closure-edited</title>" in report  # not the job folder's name, "run"


def test_run_right_after_an_edit_runs_the_edit_and_never_a_wrong_form(page):
    """The edit's check answers after the click: the run waits for it, and refuses a form the check refused."""
    from playwright.sync_api import expect

    page.select_option("#builtin", "border-closure")
    expect(page.locator("#levers tbody tr")).to_have_count(2)
    page.fill("#members", "2")
    page.get_by_label("lever 1 value").fill("0")
    # the page is shared: the jobs list and the run's status still show the last test's run, done
    jobs = page.locator("#jobs li").count() + 1
    page.click("#run")  # at once: the field's change event fires as the click takes the focus
    expect(page.locator("#jobs li")).to_have_count(jobs, timeout=30_000)
    expect(page.locator("#jobs li").first).to_contain_text("run border-closure-edited: done", timeout=60_000)
    page.get_by_label("lever 1 value").fill("-5")
    page.click("#run")
    # the server's check may take seconds on a fresh install (first imports): the run waits for it, and so does this
    expect(page.locator("#run-error")).to_contain_text("fix the scenario first", timeout=30_000)
    expect(page.locator("#run-error")).to_contain_text("outside north_border_closure's range")
    expect(page.locator("#jobs li")).to_have_count(jobs)  # nothing ran


def test_a_lever_dated_to_the_day_keeps_its_day_through_edits(page):
    from playwright.sync_api import expect

    text = ("name: fortnight\ndescription: two weeks of closure\nlevers:\n"
            "  - {lever: china_closure, from: 2027-03-15, until: 2027-03-29, set: 1.0}\n"
            "  - {lever: aid, from: 2027-01, set: 0.5}\n")  # fmt: skip
    page.set_input_files("#upload", files=[{"name": "f.yaml", "mimeType": "text/yaml", "buffer": text.encode()}])
    expect(page.locator("#levers tbody tr").first).to_contain_text("From 2027-03-15 until 2027-03-29")
    value = page.get_by_label("lever 2 value")
    value.fill("0.7")
    value.dispatch_event("change")
    expect(page.locator("#yaml")).to_contain_text("0.7")
    expect(page.locator("#scenario-error")).to_be_hidden()
    expect(page.locator("#levers tbody tr").first).to_contain_text("From 2027-03-15 until 2027-03-29")


def test_a_new_lever_changes_nothing_until_it_is_edited(page):
    from playwright.sync_api import expect

    page.select_option("#builtin", "baseline")
    page.select_option("#new-lever", "reception_capacity")
    page.click("#add-lever")
    row = page.locator("#levers tbody tr").last
    expect(row).to_contain_text("reception")
    expect(page.get_by_label("lever 1 how")).to_have_value("scale")
    expect(page.get_by_label("lever 1 value")).to_have_value("1")
    expect(page.locator("#yaml")).to_contain_text("scale: 1")


def test_a_bad_upload_reads_a_clear_error(page):
    from playwright.sync_api import expect

    def upload(text: str) -> None:
        page.set_input_files("#upload", files=[{"name": "mine.yaml", "mimeType": "text/yaml", "buffer": text.encode()}])

    upload("name: mine\nlevers: [\n")
    expect(page.locator("#scenario-error")).to_contain_text("uploaded scenario: not valid YAML")
    upload(BAD_LEVER)
    expect(page.locator("#scenario-error")).to_contain_text("'china_enforcment' is not a driver or parameter")
    upload("name: mine\nbase: more-aid\nlevers:\n  - lever: china_enforcement\n    from: 2028\n    scale: 0.5\n"
           "parameters:\n  hiding_capacity: 120000\n")
    expect(page.locator("#scenario-error")).to_be_hidden()
    expect(page.locator("#levers tbody tr").last).to_contain_text("china_enforcement")
    expect(page.locator("#scenario-name")).to_have_value("mine")
    expect(page.locator("#parameter-words")).to_contain_text("Parameter hiding_capacity")
    expect(page.locator("#parameter-words")).to_contain_text("is 120000 throughout.")


def test_two_scenarios_compared_as_differences(page):
    from playwright.sync_api import expect

    page.click("nav button[data-tab=compare]")
    page.select_option("#compare-0", "baseline")
    page.select_option("#compare-1", "border-closure")
    page.fill("#compare-members", "3")
    page.click("#compare")
    expect(page.locator("#chart-compare[data-job]")).to_have_count(1, timeout=90_000)
    expect(page.locator("#chart-compare .scatterlayer .trace")).to_have_count(3)
    page.select_option("#compare-measure", "hiding_in_china")  # a stock: year by year it is a year-end count
    expect(page.locator("#chart-compare .gtitle")).to_contain_text("hiding in China at year end: change from baseline")
    expect(page.locator("#chart-compare .ytitle")).to_have_text("change (people at year end)")
    rows = page.locator("#compare-table tbody tr")
    expect(rows).to_have_count(14)  # seven measures for each of two scenarios
    expect(rows.nth(7)).to_contain_text("border-closure")
    with page.expect_download() as download:
        page.click("#download-compare-csv")
    table = Path(download.value.path()).read_text()
    assert table.startswith("scenario,measure,statistic,median") and "border-closure,arrivals_south_korea,sum" in table


def test_the_map_and_the_evidence(page):
    from playwright.sync_api import expect

    page.click("nav button[data-tab=map]")
    expect(page.locator("#chart-map .scatterlayer .trace")).to_have_count(7)  # six routes and the places
    expect(page.locator("#route-table tbody tr").first).to_contain_text("yanbian → shenyang")
    page.click("nav button[data-tab=evidence]")
    page.fill("#evidence-filter", "hiding_capacity")
    row = page.locator("#evidence tbody tr[data-name=hiding_capacity]")
    expect(row).to_be_visible()
    expect(row).to_contain_text("002")  # its seed
    expect(page.locator("#posterior-about")).to_contain_text("shipped posterior")
    expect(page.locator("#posterior-about")).to_contain_text("R-hat between its 2 independent runs at most")


def test_sensitivity_and_backtest_results_where_they_exist(page):
    from playwright.sync_api import expect

    page.click("nav button[data-tab=analyses]")
    expect(page.locator("#analyses-none")).to_be_hidden()
    page.get_by_role("button", name="sensitivity of border-closure (morris), runs/sensitivity-border-closure").click()
    expect(page.locator("#analysis")).to_contain_text("hang most on cost_elasticity")
    page.get_by_role("button", name="backtest, backtest").click()
    expect(page.locator("#analysis img")).to_have_count(1)
    expect(page.locator("#analysis table tr").nth(1)).to_contain_text("2005")


# -- a crash, and load ------------------------------------------------------------------------------------------------


def test_a_crashed_run_ends_alone(server, http):
    text = http.get("/api/scenarios/baseline").json()["yaml"]
    doomed = http.post("/api/runs", json={"yaml": text, "members": MAX_MEMBERS, "backend": "mean"}).json()["id"]
    other = http.post("/api/runs", json={"yaml": text, "members": 2, "backend": "mean", "seed": 1}).json()["id"]
    early = http.get(f"/api/jobs/{doomed}/annual.csv")  # asked for before the job is done: said so, not "Not Found"
    assert early.status_code == 409 and "its files come when it is done" in early.json()["error"]
    killed = False
    deadline = time.monotonic() + 30
    while not killed and time.monotonic() < deadline:
        for child in psutil.Process(server[0].pid).children(recursive=True):
            try:
                if doomed in child.cwd():
                    child.kill()  # as the kernel's out-of-memory killer would
                    killed = True
            except psutil.Error:
                continue
        time.sleep(0.05)
    assert killed
    crashed = wait(http, doomed)
    assert crashed["state"] == "failed" and "stopped unexpectedly" in crashed["error"]
    assert wait(http, other)["state"] == "done"
    assert http.get(f"/api/jobs/{other}/annual.csv").status_code == 200
    unknown = http.get(f"/api/jobs/{other}/secrets.csv")
    assert unknown.status_code == 404 and "its files: " in unknown.json()["error"]
    assert http.get("/api/info").status_code == 200


def test_jobs_past_the_time_limit_or_failing_inside_end_alone_and_old_ones_are_removed(tmp_path):
    import multiprocessing

    import refuge.web.worker  # noqa: F401  (forked jobs start with it imported, as the fork server's do)
    from refuge.web.jobs import Busy, Jobs, Limits

    jobs = Jobs(Limits(runs=1, queue=1, seconds=1.0, kept=1), tmp_path, multiprocessing.get_context("fork"))
    try:
        slow = jobs.submit("run", {"yaml": "name: slow\n", "members": MAX_MEMBERS, "seed": 0, "backend": "counts"}, 1)
        broken = jobs.submit("run", {"yaml": "name: Broken\n", "members": 1, "seed": 0, "backend": "mean"}, 1)
        with pytest.raises(Busy, match="busy: 2 jobs are running or waiting"):
            jobs.submit("run", {}, 1)
        deadline = time.monotonic() + 30
        while broken.state != "failed" and time.monotonic() < deadline:
            time.sleep(0.1)
        assert slow.state == "failed" and slow.error.startswith("stopped after 1 s, the longest this server lets")
        assert broken.error.startswith("scenario: name: 'Broken' is not allowed; use lower-case letters")
        time.sleep(0.3)
        assert jobs.get(slow.id) is None and not slow.folder.exists()  # the older of two finished jobs: removed
        assert jobs.get(broken.id) is broken
    finally:
        jobs.close()


def test_twenty_clients_get_an_answer_each_and_only_their_own_results(server):
    result = web_load.load(server[1], clients=20, seconds=3, members=2, server_pid=server[0].pid)
    assert result["other"] == [] and result["wrong_or_failed"] == []
    assert result["accepted"] >= 2 and result["done_own"] == result["accepted"]
    assert result["busy"] >= 1 and result["busy_clear"] == result["busy"]  # 20 clients, 2 slots: some told "busy"
    assert result["peak_rss_mib"] < 2_500, result  # the server, its fork server and at most two runs
    assert result["server_rss_after_mib"] < 600, result
