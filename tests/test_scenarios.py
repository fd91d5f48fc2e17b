"""Scenario files: built-ins load, bases extend, and every kind of bad file gets a precise message."""

import pytest

from refuge.errors import ScenarioError
from refuge.scenarios import Scenario, builtin_names, load_scenario, scenario_from_text


def test_builtins_load_and_extend_the_baseline():
    names = builtin_names()
    for required in ("baseline", "regime-collapse", "china-refugee-status", "border-crackdown", "new-famine",
                     "more-aid", "redefection-campaign", "border-closure", "north-reopens"):  # fmt: skip
        assert required in names
    assert load_scenario("baseline").levers == ()
    assert all(load_scenario(n).levers for n in names if n != "baseline")


def test_a_scenario_extends_another_with_its_levers_after_the_base(tmp_path):
    (tmp_path / "longer.yaml").write_text(
        "name: longer-closure\nbase: border-closure\nlevers:\n"
        "  - {lever: china_closure, from: 2029-01, until: 2031-01, set: 0.5}\n"
        "parameters: {hiding_capacity: 90000}\n"
    )
    (tmp_path / "child.yaml").write_text("name: child\nbase: longer.yaml\n")
    scenario = load_scenario(tmp_path / "child.yaml")
    assert [lv.lever for lv in scenario.levers] == ["north_border_closure", "china_closure", "china_closure"]
    assert scenario.levers[0].start < scenario.levers[-1].start
    assert scenario.parameters == {"hiding_capacity": 90000}


BAD = {
    "invalid-yaml": ("name: x\nlevers: [\n", ["not valid YAML", "line"]),
    "empty": ("", ["empty"]),
    "not-a-mapping": ("- a\n- b\n", ["mapping", "list"]),
    "missing-name": ("description: hi\n", ["name: is required"]),
    "bad-name": ("name: My Scenario\n", ["name", "'My Scenario'", "lower-case"]),
    "unknown-field": ("name: x\nlever: []\n", ["lever: unknown field"]),
    "unknown-lever": ("name: x\nlevers: [{lever: magic, from: 2027, set: 1}]\n", ["levers[0].lever", "'magic'", "refuge parameters"]),
    "bad-date": ("name: x\nlevers: [{lever: aid, from: next year, set: 1}]\n", ["levers[0].from", "'next year'", "YYYY-MM"]),
    "impossible-date": ("name: x\nlevers: [{lever: aid, from: 2027-13, set: 1}]\n", ["levers[0].from", "2027-13"]),
    "impossible-day": ("name: x\nlevers: [{lever: aid, from: 2027-02-30, set: 1}]\n", ["levers[0].from", "2027-02-30", "not a calendar date"]),
    "month-zero": ("name: x\nlevers: [{lever: aid, from: '2027-00', set: 1}]\n", ["levers[0].from", "2027-00", "month must be in 1..12"]),
    "day-zero": ("name: x\nlevers: [{lever: aid, until: 2027-03-00, from: 2026, set: 1}]\n", ["levers[0].until", "2027-03-00"]),
    "add-out-of-range": ("name: x\nlevers: [{lever: refugee_status, from: 2027, add: 3}]\n", ["levers[0].add", "refugee_status", "[0, 1]"]),
    "until-before-from": ("name: x\nlevers: [{lever: aid, from: 2030, until: 2027, set: 1}]\n", ["levers[0]", "must come after"]),
    "two-actions": ("name: x\nlevers: [{lever: aid, from: 2027, set: 1, scale: 2}]\n", ["levers[0]", "exactly one of set, scale, add", "set, scale"]),
    "no-action": ("name: x\nlevers: [{lever: aid, from: 2027}]\n", ["levers[0]", "exactly one", "none"]),
    "negative-scale": ("name: x\nlevers: [{lever: food_crisis, from: 2027, scale: -1}]\n", ["levers[0].scale", "-1", "0 or more"]),
    "set-out-of-range": ("name: x\nlevers: [{lever: refugee_status, from: 2027, set: 3}]\n", ["levers[0].set", "3", "[0, 1]"]),
    "not-a-number": ("name: x\nlevers: [{lever: aid, from: 2027, set: lots}]\n", ["levers[0].set", "'lots'", "number"]),
    "unknown-parameter": ("name: x\nparameters: {speed_of_light: 3}\n", ["parameters.speed_of_light", "not a parameter"]),
    "parameter-out-of-range": ("name: x\nparameters: {catch_at_border: 0.9}\n", ["parameters.catch_at_border", "0.9", "[0, 0.6]"]),
    "levers-not-a-list": ("name: x\nlevers: {lever: aid}\n", ["levers", "list"]),
    "unknown-base": ("name: x\nbase: nowhere\n", ["base", "'nowhere'", "neither a built-in"]),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_files_get_a_message_naming_file_field_and_value(tmp_path, case):
    text, fragments = BAD[case]
    path = tmp_path / f"{case}.yaml"
    path.write_text(text)
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    message = str(err.value)
    assert message.startswith(str(path))
    for fragment in fragments:
        assert fragment in message, (fragment, message)


def test_bases_that_cycle_are_refused(tmp_path):
    (tmp_path / "a.yaml").write_text("name: a\nbase: b.yaml\n")
    (tmp_path / "b.yaml").write_text("name: b\nbase: a.yaml\n")
    with pytest.raises(ScenarioError, match="cycle"):
        load_scenario(tmp_path / "a.yaml")


def test_a_chain_too_long_is_named_once_without_blaming_a_link_of_it(tmp_path):
    for i in range(9):
        (tmp_path / f"a{i}.yaml").write_text(f"name: a{i}\nbase: a{i + 1}.yaml\n")
    (tmp_path / "a9.yaml").write_text("name: a9\nbase: baseline\n")
    with pytest.raises(ScenarioError) as err:
        load_scenario(tmp_path / "a0.yaml")
    message = str(err.value)
    assert message.startswith(f"{tmp_path / 'a0.yaml'}: base: a chain of more than 8 scenarios") and "cannot be used" \
        not in message, message


def test_a_missing_file_is_named():
    with pytest.raises(ScenarioError, match=r"no-such\.yaml"):
        load_scenario("no-such.yaml")


def test_a_file_that_is_no_scenario_is_not_quoted_back(tmp_path):
    """A password file given as a scenario (issue 12): the message says what is wrong without its lines."""
    shadow = tmp_path / "shadow"
    shadow.write_text("root:$6$Zq8f$hashhashhashhash:20228:0:99999:7:::\ndaemon:*:20228:0:99999:7:::\n")
    with pytest.raises(ScenarioError) as err:
        load_scenario(shadow)
    message = str(err.value)
    assert "a key that is no field name" in message and "name: is required" in message
    assert "$6$" not in message and "daemon" not in message and "20228" not in message
    (tmp_path / "typo.yaml").write_text("name: x\ndescriptoin: y\n")
    with pytest.raises(ScenarioError, match="descriptoin: unknown field; did you mean 'description'"):
        load_scenario(tmp_path / "typo.yaml")


def test_a_lever_is_bounded_after_its_bases_levers_and_a_scenario_in_code_by_the_runs_years(tmp_path):
    """A child's scale acts on what its base set, not on the driver's knots; a scenario built in code may date
    its levers in the run's own years."""
    import refuge
    from refuge.model.timeline import Timeline
    from refuge.scenarios.schema import LeverSpec

    (tmp_path / "base.yaml").write_text("name: base\nlevers: [{lever: punishment, from: 2027-01, set: 0.5}]\n")
    for scale, refused in ((1.5, False), (2.2, True)):
        child = tmp_path / f"child{scale}.yaml"
        child.write_text(f"name: child\nbase: base.yaml\nlevers: [{{lever: punishment, from: 2028, scale: {scale}}}]\n")
        if refused:
            with pytest.raises(ScenarioError, match=r"levers\[0\].scale: 2.2 takes punishment to 1.1, outside"):
                load_scenario(child)
        else:
            assert load_scenario(child).levers[-1].scale == 1.5
    (tmp_path / "closed.yaml").write_text("name: closed\nbase: border-closure\n"
                                          "levers: [{lever: north_border_closure, from: 2027-06, add: 0.05}]\n")
    with pytest.raises(ScenarioError, match=r"levers\[0\].add: 0.05 takes north_border_closure to 1.05"):
        load_scenario(tmp_path / "closed.yaml")
    late = Scenario("late", "", levers=(LeverSpec(lever="aid", start=2045, set=1.0),))
    assert refuge.run(late, members=1, backend="mean", calibrated=False, timeline=Timeline(1990, 2046)).members == 1
    with pytest.raises(ScenarioError, match=r"levers\[0\].from: 2045-01 is outside the run's years 1990-2040"):
        refuge.run(late, members=1, backend="mean", calibrated=False, timeline=Timeline(1990, 2000))


@pytest.mark.parametrize("written", ["set: yes", "set: '1'", "scale: true"])
def test_a_lever_value_written_as_a_word_or_text_is_refused(tmp_path, written):
    """YAML reads ``yes`` as true, and pydantic would take true as 1 and "1" as 1: not what anyone wrote."""
    path = tmp_path / "words.yaml"
    path.write_text(f"name: words\nbase: baseline\nlevers:\n  - {{lever: aid, from: 2027, {written}}}\n")
    with pytest.raises(ScenarioError, match="is not a number"):
        load_scenario(path)
    path.write_text("name: words\nbase: baseline\nparameters:\n  female_direct_ratio: true\n")
    with pytest.raises(ScenarioError, match="is not a number"):
        load_scenario(path)


def test_numbers_in_scientific_notation_are_numbers():
    """YAML 1.1 reads 1e-4 as text; a scenario's parameters are often written so."""
    written = scenario_from_text("name: small\nbase: baseline\nparameters:\n  return_home: 1e-4\n"
                                 "levers:\n  - {lever: attempt_base, from: 2027, scale: 2e0}\n")  # fmt: skip
    assert written.parameters["return_home"] == 1e-4 and written.levers[-1].scale == 2.0


def test_a_parameter_lever_out_of_range_says_where_the_value_started(tmp_path):
    """It named an unexplained posterior draw; a scenario's own value is the only one its members start from."""
    path = tmp_path / "tiny.yaml"
    path.write_text("name: tiny\nbase: baseline\nlevers:\n  - {lever: hiding_capacity, from: 2027, scale: 0.001}\n")
    with pytest.raises(ScenarioError, match=r"takes hiding_capacity from 150000 \(its default\) to 150, outside"):
        load_scenario(path)
    path.write_text("name: tiny\nbase: baseline\nparameters:\n  hiding_capacity: 1500000\n"
                    "levers:\n  - {lever: hiding_capacity, from: 2027, scale: 1.2}\n")  # fmt: skip
    assert load_scenario(path).parameters["hiding_capacity"] == 1_500_000  # 1.8e6 is inside; no draw is used
    path.write_text(path.read_text().replace("scale: 1.2", "scale: 2"))
    with pytest.raises(ScenarioError, match=r"from 1\.5e\+06 \(the scenario's value\) to 3e\+06"):
        load_scenario(path)
