"""The run store: what refuge may replace or delete, locks, checksummed blocks, arguments checked up front."""

import json
import os
import signal
import subprocess
import sys

import numpy as np
import pytest

import refuge
from refuge.errors import RunError
from refuge.results import Results, ResultsWriter
from refuge.store import RunFolder, held_interrupts, write_text
from refuge.systems.korea.system import TIMELINE

SETTINGS = {"scenario": "baseline", "members": 4, "seed": 1, "backend": "counts"}


def publish(out, settings=SETTINGS, *, force=False, files=("a.txt",)):
    with RunFolder(out, settings, force=force) as folder:
        staging = folder.start_staging()
        for name in files:
            write_text(staging / name, name)
        return folder.publish()


def test_a_folder_refuge_did_not_write_is_never_touched(tmp_path):
    (tmp_path / "thesis.tex").write_text("years of work")
    (tmp_path / "sub").mkdir()
    (tmp_path / "run.json").write_text(json.dumps({"seed": 1}))  # a stray file of that name is not a manifest
    with pytest.raises(RunError, match="not a refuge output folder"):
        publish(tmp_path)
    assert (tmp_path / "thesis.tex").read_text() == "years of work" and (tmp_path / "sub").is_dir()
    assert sorted(p.name for p in tmp_path.parent.iterdir() if p.name.startswith(f".{tmp_path.name}")) == []


def test_another_run_is_replaced_only_with_force_and_then_whole(tmp_path):
    out = tmp_path / "o"
    publish(out, files=("a.txt", "b.txt"))
    other = {**SETTINGS, "scenario": "border-closure"}
    with pytest.raises(RunError, match=r"holds another run \(scenario 'baseline'.*--force"):
        publish(out, other, files=("c.txt",))
    publish(out, other, force=True, files=("c.txt",))
    assert sorted(p.name for p in out.iterdir()) == ["c.txt", "run.json"]
    assert json.loads((out / "run.json").read_text())["scenario"] == "border-closure"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o"]  # nothing left beside it


@pytest.mark.parametrize("damage", ["extra", "changed", "missing"])
def test_a_run_folder_that_was_changed_is_refused_even_with_force(tmp_path, damage):
    out = tmp_path / "o"
    publish(out)
    if damage == "extra":
        (out / "notes.md").write_text("mine")
    elif damage == "changed":
        (out / "a.txt").write_text("edited by hand")
    else:
        (out / "a.txt").unlink()
    with pytest.raises(RunError, match="did not write or that were changed"):
        publish(out, {**SETTINGS, "seed": 2}, force=True)
    assert (out / "run.json").exists()


def test_a_second_run_into_a_locked_folder_is_refused_naming_the_first(tmp_path):
    out = tmp_path / "o"
    busy = rf"another refuge run is writing there \(pid {os.getpid()}"
    with RunFolder(out, SETTINGS), pytest.raises(RunError, match=busy):
        RunFolder(out, SETTINGS).__enter__()
    with RunFolder(out, SETTINGS):  # released on exit
        pass


def test_only_blocks_that_match_and_verify_are_kept(tmp_path):
    out = tmp_path / "o"
    sizes = {0: 2, 2: 2, 4: 1}
    with RunFolder(out, SETTINGS) as folder:
        assert folder.finished_blocks(sizes) == {}
        for first, count in sizes.items():
            path = folder.block_path(first, "block", ".npz")
            write_text(path, f"block {first}")
            folder.keep_block(first, count, [path])
        folder.block_path(2, "block", ".npz").write_text("block 2, damaged")
        (folder.partial / ".block-000000004.npz.tmp-99").write_text("half")
        kept = folder.finished_blocks(sizes)
        assert sorted(kept) == [0, 4]
        assert not folder.block_path(2, "block", ".npz").exists()
        assert sorted(folder.finished_blocks({0: 2, 2: 2, 4: 2})) == [0]  # a block of another size is not this run's
    with RunFolder(out, {**SETTINGS, "seed": 9}) as folder:
        assert folder.finished_blocks(sizes) == {}  # blocks of other settings are dropped


def test_ctrl_c_during_a_write_lands_after_it(tmp_path):
    path = tmp_path / "f.txt"
    with pytest.raises(KeyboardInterrupt), held_interrupts():
        os.kill(os.getpid(), signal.SIGINT)
        path.write_text("whole")
    assert path.read_text() == "whole"


def test_results_written_block_by_block_equal_the_blocks_joined(tmp_path, model, short):
    whole = refuge.run("baseline", members=5, seed=4, timeline=short, block=2, backend="counts")
    blocks = [Results(whole.data.isel(member=slice(i, i + 2)), model) for i in (0, 2, 4)]
    with ResultsWriter(tmp_path / "r.nc", model, short, {"scenario": "baseline"}) as writer:
        for block in blocks:
            writer.append(block)
    back = Results.open(tmp_path / "r.nc", model)
    np.testing.assert_array_equal(back.data.flows.values, whole.data.flows.values)
    np.testing.assert_array_equal(back.data.stocks.values, whole.data.stocks.values)
    assert list(back.data.member.values) == list(range(5))
    assert back.data.flows.attrs["units"] == "people per year" and back.data.stocks.attrs["units"] == "people"
    back.data.close()


def cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "refuge", *args], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, "COLUMNS": "200"})  # fmt: skip


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--seed", str(2**64)], "--seed"),
        (["--members", str(2**70)], "--members"),
        (["--members", "10000000", "--out", "/proc/refuge"], "/proc cannot be written"),
        (["--out", "afile/sub"], "is a file, so no folder can be made under it"),
        (["--out", "x" * 5000], "characters long"),
        (["--backend", "quantum"], "backend 'quantum' is not known"),
        (["--backend", "counts", "--trajectories"], "--trajectories needs --backend agents"),
    ],
)
def test_bad_arguments_are_refused_before_any_work_and_leave_nothing(tmp_path, args, message):
    (tmp_path / "afile").write_text("")
    done = cli("run", "baseline", *args, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert message in " ".join(done.stderr.split()), done.stderr
    assert "Traceback" not in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"]


def test_members_beyond_the_disk_are_refused_with_the_estimate(tmp_path):
    done = cli("run", "baseline", "--members", "10000000", "--out", str(tmp_path / "o"), cwd=tmp_path)
    free = os.statvfs(tmp_path).f_bavail * os.statvfs(tmp_path).f_frsize
    if free > 10_000_000 * 30_000:
        pytest.skip("this disk has room for ten million members' results")
    assert done.returncode == 2 and "GiB of disk" in done.stderr
    assert not (tmp_path / "o").exists()


def test_the_output_folder_may_not_hold_the_current_folder(tmp_path):
    publish(tmp_path / "o")
    done = cli("run", "baseline", "--members", "2", "--out", ".", cwd=tmp_path / "o")
    assert done.returncode == 2 and "current folder" in done.stderr
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == ["a.txt", "run.json"]


def test_a_run_into_a_folder_publishes_the_numbers_of_the_api(tmp_path):
    """``run_to_folder`` publishes the same numbers ``refuge.run`` returns."""
    from refuge.output import run_to_folder
    from refuge.scenarios import load_scenario

    results = run_to_folder(load_scenario("baseline"), tmp_path / "o", members=3, seed=2, backend="mean", block=2)
    direct = refuge.run("baseline", members=3, seed=2, backend="mean", block=2, timeline=TIMELINE)
    np.testing.assert_allclose(results.data.flows.values, direct.data.flows.values)
    results.data.close()


def test_a_working_folder_is_claimed_only_when_empty_or_of_the_same_kind(tmp_path):
    """calibrate and backtest fill their folders step by step: the same rules keep users' files safe."""
    from refuge.store import claim_folder

    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "posterior.csv").write_text("my own table")  # a name calibrate writes, in a folder refuge did not mark
    with pytest.raises(RunError, match="not a refuge calibration folder"):
        claim_folder(mine, "calibration", {"until": 2011}, ("posterior.csv",), force=True)
    assert (mine / "posterior.csv").read_text() == "my own table" and len(list(mine.iterdir())) == 1
    with pytest.raises(RunError, match="is a file"):
        claim_folder(mine / "posterior.csv", "calibration", {"until": 2011}, ("posterior.csv",))

    out = claim_folder(tmp_path / "c", "calibration", {"until": 2011}, ("chain-*.h5", "fit.csv"))
    (out / "chain-0.h5").write_text("chain")
    assert claim_folder(out, "calibration", {"until": 2011}, ("chain-*.h5",)) == out  # the same: go on
    assert (out / "chain-0.h5").read_text() == "chain"
    (out / ".chain-1.h5.tmp-4242").write_text("half")  # left by a process killed while writing: refuge's own
    assert claim_folder(out, "calibration", {"until": 2011}, ("chain-*.h5",)) == out
    (out / ".chain-1.h5.tmp-4242").unlink()
    with pytest.raises(RunError, match="not a refuge backtest folder"):
        claim_folder(out, "backtest", {"until": 2011}, ("chain-*.h5",))
    with pytest.raises(RunError, match=r"until 2011 there, 2015 here.*--force"):
        claim_folder(out, "calibration", {"until": 2015}, ("chain-*.h5",))
    (out / "notes.txt").write_text("a user's note")
    with pytest.raises(RunError, match=r"did not write \(notes.txt\)"):
        claim_folder(out, "calibration", {"until": 2015}, ("chain-*.h5",), force=True)
    (out / "notes.txt").unlink()
    (out / "origin-2005").mkdir()
    (out / "origin-2005" / "x.csv").write_text("kept")
    claim_folder(out, "calibration", {"until": 2015}, ("chain-*.h5", "origin-*"), force=True)
    assert sorted(p.name for p in out.iterdir()) == ["origin-2005", "refuge.json"]  # files go, folders are claimed
    assert (out / "origin-2005" / "x.csv").read_text() == "kept"
    assert json.loads((out / "refuge.json").read_text())["settings"] == {"until": 2015}


def test_cli_calibrate_and_backtest_never_overwrite_a_users_folder(tmp_path):
    users = tmp_path / "users"
    users.mkdir()
    (users / "fit.csv").write_text("mine")
    (users / "scores.csv").write_text("mine")
    for args in (("calibrate", "--until", "2005", "--live", "100", "--chains", "1", "--workers", "1"),
                 ("backtest", "--quick", "--origins", "2005", "--workers", "1")):  # fmt: skip
        done = subprocess.run([sys.executable, "-m", "refuge", *args, "--out", str(users)], capture_output=True,
                              text=True, timeout=300)  # fmt: skip
        assert done.returncode == 2, done.stderr
        assert "refuge never overwrites what it did not write" in done.stderr and "Traceback" not in done.stderr
    assert sorted(p.name for p in users.iterdir()) == ["fit.csv", "scores.csv"]
    assert (users / "fit.csv").read_text() == (users / "scores.csv").read_text() == "mine"


def test_a_file_a_working_folder_sealed_and_a_person_edited_is_never_overwritten(tmp_path):
    """What calibrate or backtest wrote and sealed, then someone edited, stops every verb that would write it:
    the same settings resumed, --force, and refuge report."""
    from refuge.report import write_report
    from refuge.store import check_sealed, claim_folder, seal_folder

    own = ("fit.csv", "scores.csv", "report.html", "chain-*.h5")
    out = claim_folder(tmp_path / "bt", "backtest", {"seed": 0}, own)
    (out / "scores.csv").write_text("origin,forecaster,crps\n2011,refuge,10091.3\n")
    (out / "fit.csv").write_text("year,q50\n2009,2914\n")
    seal_folder(out, own)
    write_report(out)  # refuge's own page is listed in the seal, and rewritten at will
    write_report(out)
    assert "report.html" in json.loads((out / "refuge.json").read_text())["files"]

    (out / "report.html").write_text("my annotated copy")
    with pytest.raises(RunError, match="was not written by refuge or was changed since"):
        write_report(out)
    for settings, force in (({"seed": 0}, False), ({"seed": 1}, True)):
        with pytest.raises(RunError, match=r"report.html changed since refuge wrote it"):
            claim_folder(out, "backtest", settings, own, force=force)
    assert (out / "report.html").read_text() == "my annotated copy"

    (out / "report.html").unlink()
    (out / "fit.csv").write_text("year,q50\n2009,1\n")
    with pytest.raises(RunError, match=r"fit.csv changed since refuge wrote it"):
        check_sealed(out)
    (out / "fit.csv").unlink()  # moved away: the claim goes on, and clears the seal for the verb to rewrite
    claim_folder(out, "backtest", {"seed": 1}, own, force=True)
    assert "files" not in json.loads((out / "refuge.json").read_text())
    assert sorted(p.name for p in out.iterdir()) == ["refuge.json"]


def test_going_on_in_a_working_folder_removes_the_page_made_from_its_former_results(tmp_path):
    """A calibration continued with more steps rewrote its tables and kept report.html with the former numbers."""
    from refuge.report import write_report
    from refuge.store import claim_folder, seal_folder

    own = ("fit.csv", "scores.csv", "report.html")
    out = claim_folder(tmp_path / "bt", "backtest", {"seed": 0}, own)
    (out / "scores.csv").write_text("origin,forecaster,crps\n2011,refuge,10091.3\n")
    (out / "fit.csv").write_text("year,q50\n2009,2914\n")
    seal_folder(out, own)
    write_report(out)
    claim_folder(out, "backtest", {"seed": 0}, own)  # the same settings: the verb goes on
    assert sorted(p.name for p in out.iterdir()) == ["fit.csv", "refuge.json", "scores.csv"]


def test_a_run_that_fails_before_any_block_is_kept_leaves_nothing_beside_its_folder(tmp_path):
    """A lever whose hazards the engine refuses at 70% once left ``.out.partial/settings.json`` behind."""
    with pytest.raises(RunError, match="late"), RunFolder(tmp_path / "out", {"seed": 1}) as folder:
        folder.finished_blocks({0: 2})
        assert folder.partial.is_dir()
        raise RunError("late")
    assert list(tmp_path.iterdir()) == []


def test_force_deletes_only_the_names_a_working_folder_writes_and_its_own_folders_whole(tmp_path):
    """``predictive*.png`` took a person's annotated copy for calibrate's own and --force deleted it; a backtest's
    calibration of an origin no longer asked for stayed in the "fresh" folder, while one still asked for must stay."""
    from refuge.store import claim_folder, remove_claimed

    out = claim_folder(tmp_path / "c", "calibration", {"until": 2011}, ("chain-*.h5", "predictive.png"))
    (out / "chain-0.h5").write_text("chain")
    for name in ("predictive_my_annotated.png", "chain-notes.h5"):
        (out / name).write_text("a person's")
        with pytest.raises(RunError, match=f"did not write \\({name}\\)"):
            claim_folder(out, "calibration", {"until": 2015}, ("chain-*.h5", "predictive.png"), force=True)
        assert (out / name).read_text() == "a person's" and (out / "chain-0.h5").exists()
        (out / name).unlink()

    backtest = claim_folder(tmp_path / "b", "backtest", {"origins": [2019]}, ("origin-*", "scores.csv"))
    origin = claim_folder(backtest / "origin-2019", "calibration", {"until": 2019}, ("chain-*.h5",))
    (origin / "chain-0.h5").write_text("chain")
    (backtest / "scores.csv").write_text("scores")
    claim_folder(backtest, "backtest", {"origins": [2011, 2019]}, ("origin-*", "scores.csv"), force=True)
    assert (origin / "chain-0.h5").exists() and not (backtest / "scores.csv").exists()  # a kept origin resumes
    (origin / "notes.txt").write_text("a person's")  # inside the origin's folder: nothing at all goes
    with pytest.raises(RunError, match=r"did not write \(notes.txt\)"):
        remove_claimed(origin)
    assert (origin / "chain-0.h5").exists()
    (origin / "notes.txt").unlink()
    remove_claimed(origin)  # an origin no longer asked for
    assert sorted(p.name for p in backtest.iterdir()) == ["refuge.json"]
