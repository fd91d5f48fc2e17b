"""Every lever moves the outputs the way its mechanism says, and nothing before it starts."""

import pytest

import refuge


@pytest.fixture(scope="module")
def baseline():
    return refuge.run("baseline", members=1, backend="mean").outputs().isel(member=0)


def _outputs(name):
    return refuge.run(name, members=1, backend="mean").outputs().isel(member=0)


def _change(baseline, name, variable, years):
    scenario = _outputs(name)
    before = slice(1990, 2026)
    assert (scenario.sel(year=before) == baseline.sel(year=before)).all(), f"{name} acts before its levers"
    window = slice(*years)
    return float(scenario.sel(variable=variable, year=window).sum()), float(
        baseline.sel(variable=variable, year=window).sum()
    )


# scenario, output, years, direction, mechanism
EXPECTED = [
    ("china-refugee-status", "deported_from_china", (2027, 2040), "down", "M4/M12: no deportations as refugees"),
    ("china-refugee-status", "arrivals_south_korea", (2027, 2040), "up", "M6/M12: refugees may leave openly"),
    ("border-crackdown", "crossings_to_china", (2027, 2040), "down", "M2: guards deter and stop crossings"),
    ("new-famine", "crossings_to_china", (2027, 2029), "up", "M1: hunger pushes people out"),
    ("more-aid", "crossings_to_china", (2027, 2040), "down", "M12: aid removes the push"),
    ("redefection-campaign", "re_defections", (2027, 2029), "up", "M9: the North lures defectors back"),
    ("border-closure", "crossings_to_china", (2027, 2028), "down", "M12: a sealed border stops crossings"),
    ("border-closure", "arrivals_south_korea", (2027, 2028), "down", "M12: movement through China stops"),
    ("north-reopens", "crossings_to_china", (2027, 2040), "up", "M12: an open border lets people cross again"),
    ("regime-collapse", "crossings_to_china", (2028, 2030), "up", "M12: collapse, no guards, mass exodus"),
    ("regime-collapse", "south_korea_reception", (2028, 2040), "up", "M7: reception overflows"),
    ("coordinated-resettlement", "resettled_elsewhere", (2027, 2040), "up", "M11/M12: more resettled abroad"),
]


@pytest.mark.parametrize(("name", "variable", "years", "direction", "why"), EXPECTED, ids=lambda v: str(v))
def test_lever_moves_output_in_its_mechanisms_direction(baseline, name, variable, years, direction, why):
    scenario, base = _change(baseline, name, variable, years)
    if direction == "up":
        assert scenario > base * 1.01, why
    else:
        assert scenario < base * 0.99, why


def test_the_border_crackdown_lowers_arrivals_too(baseline):
    scenario, base = _change(baseline, "border-crackdown", "arrivals_south_korea", (2028, 2040))
    assert scenario < base


def test_the_counts_backend_agrees_on_direction():
    """With common random numbers, even a small counts ensemble sees a closure cut crossings."""
    base = refuge.run("baseline", members=5, seed=4).outputs()
    closed = refuge.run("border-closure", members=5, seed=4).outputs()
    window = dict(variable="crossings_to_china", year=slice(2027, 2028))
    assert (closed.sel(**window).sum("year") < base.sel(**window).sum("year")).all()


def test_a_lever_that_takes_a_driver_outside_its_range_is_refused_by_name(tmp_path):
    """Punishment scaled past 1 once ran returns home into a negative hazard, then was held at 1 unseen; a
    scale or add that leaves a driver's range is now refused when the scenario is read, as for parameters."""
    from refuge.errors import ScenarioError

    for action, message in (("scale: 1.5", r"levers\[0\].scale: 1.5 takes punishment to 1.\d+, outside its range "
                                           r"\[0, 1\]"),
                            ("add: -100", r"levers\[0\].add: -100 takes punishment to -99.\d+, outside its range")):
        harsher = tmp_path / "harsher.yaml"
        harsher.write_text("name: harsher\ndescription: punishment moved from 2027\nbase: baseline\n"
                           f"levers:\n  - {{lever: punishment, from: 2027-01, {action}}}\n")  # fmt: skip
        with pytest.raises(ScenarioError, match=message):
            refuge.run(str(harsher), members=1, backend="mean")
    harshest = tmp_path / "harshest.yaml"
    harshest.write_text("name: harshest\ndescription: punishment at its most from 2027\nbase: baseline\n"
                        "levers:\n  - {lever: punishment, from: 2027-01, set: 1}\n")  # fmt: skip
    flows = refuge.run(str(harshest), members=1, backend="mean").data.flows
    assert float(flows.sel(flow="return_home", year=slice(2028, 2040)).sum()) == 0.0  # returns go as 1 - punishment


def test_a_lever_acts_from_the_first_step_on_or_after_its_date_never_before(baseline, tmp_path):
    """A lever from 2027-12-31 once changed 2027's totals: it acted in the week that held its date."""
    late = tmp_path / "late.yaml"
    late.write_text("name: late\nbase: baseline\nlevers:\n  - {lever: aid, from: 2027-12-31, set: 1}\n")
    outputs = refuge.run(str(late), members=1, backend="mean").outputs().isel(member=0)
    assert (outputs.sel(year=slice(1990, 2027)) == baseline.sel(year=slice(1990, 2027))).all()
    crossings = {"year": 2028, "variable": "crossings_to_china"}
    assert outputs.sel(**crossings) < baseline.sel(**crossings)  # aid eases the push to leave


@pytest.mark.parametrize(
    ("dates", "message"),
    [
        ("from: 2041", r"levers\[0\].from: 2041-01 is after the run's last step begins"),
        ("from: 2027-01-05, until: 2027-01-07", r"levers\[0\].until: 2027-01-07 ends the lever before the first step"),
    ],
)
def test_a_lever_that_could_never_act_is_refused(tmp_path, dates, message):
    from refuge.errors import ScenarioError
    from refuge.scenarios import load_scenario

    path = tmp_path / "never.yaml"
    path.write_text(f"name: never\nbase: baseline\nlevers:\n  - {{lever: aid, {dates}, set: 1}}\n")
    with pytest.raises(ScenarioError, match=message):
        load_scenario(path)
