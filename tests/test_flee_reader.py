"""The Flee reader: every format variant of shared/flee/README.md, and one clear message for each bad input."""

from pathlib import Path

import numpy as np
import pytest

from refuge.errors import DataError, DataWarning
from refuge.systems.flee.reader import read_scenario

REAL = Path(__file__).parents[2] / "shared" / "flee"
LOCATIONS = "input_csv/locations.csv"


def test_the_base_folder_reads_into_places_links_and_daily_counts(flee_folder):
    s = read_scenario(flee_folder())
    assert s.network.places == ("A", "B", "C")
    assert s.kind == ("conflict", "town", "camp")
    assert list(s.foreign) == [False, False, True]  # the home country is the first row's
    assert list(s.capacity) == [-1, -1, 500] and list(s.population) == [1000, 0, 0]  # empty population: none
    assert s.days == 12 and s.camps == (2,)
    assert list(s.camp_data[:, 0]) == [0, 20, 40, 60, 80, 100, 120, 140, 160, 180, 200, 200]
    assert s.total[0] == 100 + 200 * 12 // 22  # interpolated from before the start, truncated
    assert s.settings.move_rules.camp_weight == 2.0 and s.settings.move_rules.awareness_level == 1  # Flee's default


def test_an_empty_fourth_route_field_and_a_ninth_location_column_are_accepted(flee_folder):
    def with_ipc(text):
        header, *rows = text.splitlines()
        return "\n".join([header + ",IPC", *(row + ",3" for row in rows)]) + "\n"

    s = read_scenario(flee_folder({LOCATIONS: with_ipc}))
    assert s.network.places == ("A", "B", "C")
    assert np.array_equal(s.network.length, [50, 50, 120, 120])


def test_hasten_divides_populations_capacities_and_counts(flee_folder):
    s = read_scenario(flee_folder({"simsetting.yml": "optimisations:\n  hasten: 10\n"}))
    assert list(s.population) == [100, 0, 0] and s.capacity[2] == 50
    assert s.camp_data[-1, 0] == 20


@pytest.mark.parametrize("first_line", ["Date,count\n", "DateTime,count\n", ",\n", "#DateTime,count\n", ""])
def test_count_files_with_every_kind_of_first_line(flee_folder, first_line):
    s = read_scenario(flee_folder({"source_data/c.csv": first_line + "2020-01-01,0\n# a note\n2020-01-11,200\n"}))
    assert s.camp_data[10, 0] == 200 and s.camp_data[0, 0] == 0


def test_a_count_row_of_one_field_is_skipped_as_flee_does_and_told(flee_folder):
    """``2020-01-11 200`` (a space for the comma) is not data to Flee; refuge skips it too, but says so."""
    with pytest.warns(DataWarning, match=r"c.csv, row 3: '2020-01-11 200' is one field"):
        s = read_scenario(flee_folder({"source_data/c.csv": "2020-01-01,0\n# a note\n2020-01-11 200\n2020-01-21,50\n"}))
    assert s.camp_data[10, 0] == 25  # the row left out: halfway from 0 on day 0 to 50 on day 20


def test_a_camp_with_two_files_sums_them_as_flee_does(flee_folder):
    s = read_scenario(flee_folder({"source_data/data_layout.csv": "total,refugees.csv\nC,c.csv,d.csv\n",
                                   "source_data/d.csv": "2020-01-03,10\n2020-01-11,30\n"}))  # fmt: skip
    assert s.camp_data[10, 0] == 230  # both files at their last date
    assert s.camp_data[0, 0] == 0  # before d.csv's first date, c.csv alone
    assert s.camp_data[2, 0] == 210  # Flee's merge: at d.csv's date, d.csv's value plus c.csv's *next* one


def test_registration_corrections_rescale_the_counts_before_their_date(flee_folder):
    counts = "2020-01-01,100\n2020-01-05,200\n2020-01-06,100\n"
    corrections = 'C,2020-01-06,"normalize"\n'
    s = read_scenario(flee_folder({"source_data/c.csv": counts, "input_csv/registration_corrections.csv": corrections}))
    assert s.camp_data[0, 0] == 50 and s.camp_data[4, 0] == 100 and s.camp_data[5, 0] == 100


def test_conflicts_csv_with_spaces_and_a_trailing_comma_starts_conflicts_on_its_days(flee_folder):
    conflicts = "#Day, A, B, Elsewhere,\n" + "".join(f"{d}, 1, {int(d >= 4)}, 1,\n" for d in range(12))
    s = read_scenario(flee_folder({"input_csv/conflicts.csv": conflicts}))
    assert s.onsets[0, 0] == 1.0 and s.onsets[4, 1] == 1.0 and s.onsets[5:, 1].sum() == 0
    assert s.onsets.sum() == 2  # an unknown place (Flee too only warns) and later days start nothing


def test_without_conflicts_csv_conflict_zones_start_on_their_conflict_date(flee_folder):
    s = read_scenario(flee_folder({LOCATIONS: lambda t: t.replace("B,rb,Home,0.1,0.1,town,,", "B,rb,Home,0.1,0.1,"
                                                                                      "conflict_zone,3,50")}))
    assert s.kind[1] == "town" and s.onsets[3, 1] == 1.0


def test_closures_of_each_type_are_read(flee_folder):
    closures = ("#closure_type,name1,name2,closure_start,closure_end\ncountry,Home,Abroad,0,3\nlocation,B,,2,4\n"
                "camp,C,,0,5\nremove_forced_redirection,A,B,1,0\nlink,A,B,6,7\n")  # fmt: skip
    s = read_scenario(flee_folder({"input_csv/closures.csv": closures}))
    assert [c.kind for c in s.closures] == ["country", "location", "camp", "remove_forced_redirection", "link"]


def test_demographics_files_are_checked(flee_folder):
    good = {"input_csv/demographics_age.csv": "age,Default\n0,3\n1,3\n"}
    read_scenario(flee_folder(good))
    with pytest.raises(DataError, match=r"demographics_age.csv, row 3, field weight"):
        read_scenario(flee_folder({"input_csv/demographics_age.csv": "age,Default\n0,3\n1,x\n"}, name="bad"))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"input_csv/routes.csv": "A,Nowhere,10\n"}, r"routes.csv, row 1, field name2: 'Nowhere' is not a location"),
        ({"input_csv/routes.csv": "A,B,-5\n"}, r"routes.csv, row 1, field distance"),
        ({"input_csv/routes.csv": "A,A,5\n"}, r"routes.csv, row 1, field name2: a link from 'A' to itself"),
        ({LOCATIONS: lambda t: t + "A,x,Home,0,0,town,,\n"}, r"row 5, field name: 'A' appears"),
        ({LOCATIONS: lambda t: t.replace("town,,", "village,,")}, r"row 3, field location_type"),
        ({LOCATIONS: lambda t: t.replace(",500", ",many")}, r"row 4, field population"),
        ({"input_csv/closures.csv": "bridge,A,B,1,2\n"}, r"closures.csv, row 1, field closure_type"),
        ({"input_csv/closures.csv": "country,Home,Mars,1,2\n"}, r"row 1, field name2: 'Mars' is not a country"),
        ({"input_csv/sim_period.csv": "StartDate,2020-13-01\nLength,12\n"}, r"sim_period.csv, row 1, field StartDate"),
        ({"input_csv/sim_period.csv": "StartDate,2020-01-01\nLength,-3\n"}, r"sim_period.csv, row 2, field Length"),
        ({"input_csv/sim_period.csv": "StartDate,2020-01-01\nLength,99999999999\n"},
         r"sim_period.csv, row 2, field Length: .99999999999. is not allowed; allowed: a whole number .* 1 to 36,525"),
        ({"input_csv/routes.csv": None}, r"routes.csv: missing"),
        ({"source_data/c.csv": "2020-01-01,0\n2020-01-11,lots\n"}, r"c.csv, row 2, field count"),
        ({"source_data/c.csv": "2020/01/01,0\n"}, r"c.csv, row 1, field date"),
        ({"source_data/data_layout.csv": "total,refugees.csv\nC,gone.csv\n"}, r"data_layout.csv, row 2, field file"),
        ({"source_data/data_layout.csv": "C,c.csv\n"}, r"data_layout.csv: needs a row 'total"),
        ({"input_csv/registration_corrections.csv": "C,2020-01-04\n"}, r"corrections.csv, row 1, field date"),
        ({"input_csv/conflicts.csv": "#Day, A\n0, 1\n"}, r"conflicts.csv: 1 days of conflict intensities"),
        ({"input_csv/conflicts.csv": "#Day, A, B\n" + "0, 1, 0\n" * 5 + "5, 1, lots\n" + "0, 1, 0\n" * 6},
         r"conflicts.csv, row 7, field 'B': 'lots' is not allowed; allowed: a conflict intensity"),
        ({"input_csv/conflicts.csv": "#Day, A, B\n" + "0, 1\n" * 12}, r"conflicts.csv, row 2: 1 intensities"),
        ({"simsetting.yml": "move_rules:\n  awareness_level: 0\n"}, r"simsetting.yml, field move_rules.awareness"),
        ({"simsetting.yml": "move_rules:\n  start_on_foot: true\n"}, r"field move_rules.start_on_foot: True is not"),
        ({"simsetting.yml": "move_rules:\n  camp_wieght: 5.0\n"},
         r"field move_rules.camp_wieght: not a setting Flee reads; did you mean 'camp_weight'\?"),
        ({"simsetting.yml": "optimizations:\n  hasten: 10\n"},
         r"field optimizations: not a section Flee reads; did you mean 'optimisations'\?"),
        ({"simsetting.yml": "spawn_rules:\n  conflict_spawn_decay: [1.0, -1.0]\n"},
         r"field spawn_rules.conflict_spawn_decay.1: -1.0 is not allowed"),
        ({"source_data/data_layout.csv": "total,refugees.csv\nCc,c.csv\n"},
         r"data_layout.csv, row 2, field name: 'Cc' is not a location of locations.csv; did you mean 'C'\?"),
        ({"source_data/data_layout.csv": "total,refugees.csv\nC,c.csv\nC,c.csv\n"},
         r"data_layout.csv, row 3, field name: 'C' is listed twice \(row 2 too\)"),
        ({"source_data/data_layout.csv": "total,refugees.csv\nB,c.csv\n"}, r"data_layout.csv: names no camp"),
        ({"source_data/c.csv": "2020-01-05,10\n2020-01-01,0\n"}, r"c.csv, row 2, field date: dates go backwards"),
        ({"input_csv/sim_period.csv": "StartDate,2020-01-01\nLength,12\nLength,30\n"},
         r"sim_period.csv, row 3, field Length: given twice \(row 2 too\)"),
        ({"input_csv/conflicts.csv": "#Day, A, A\n" + "0, 1, 1\n" * 12}, r"conflicts.csv, row 1, field 'A': a column "
                                                                          "named twice"),
        ({"input_csv/closures.csv": "link,A,C,1,2\n"}, r"closures.csv, row 1, field name2: routes.csv has no link"),
        ({"input_csv/routes.csv": "#name1,name2,distance,forced_redirection,max_move_speed\nA,B,50,,10\nB,C,120,,10\n"},
         r"routes.csv, row 1, field max_move_speed: a link attribute Flee's rules read, not implemented"),
    ],
)
def test_a_bad_folder_gets_one_message_naming_file_row_and_field(flee_folder, changes, message):
    with pytest.raises(DataError, match=message):
        read_scenario(flee_folder(changes))


def test_a_conflict_ends_where_its_intensity_falls_from_one_as_in_flee(flee_folder):
    """Flee 3.1 removes a conflict zone on a day its intensity drops below 1e-6 from exactly 1 the day before."""
    conflicts = "#Day, A, B\n" + "".join(f"{d}, {int(d < 5)}, {0.5 if d < 5 else 0}\n" for d in range(12))
    s = read_scenario(flee_folder({"input_csv/conflicts.csv": conflicts}))
    assert np.flatnonzero(s.ends[:, 0]).tolist() == [5]
    assert not s.ends[:, 1].any()  # from 0.5 it does not end: Flee's quirk, kept
    assert s.onsets[0, 1] == 0.5


def test_sim_period_keys_are_read_in_any_case_as_flees_reader_lowercases_them(flee_folder):
    s = read_scenario(flee_folder({"input_csv/sim_period.csv": "startdate,2020-01-01\nlength,7\n"}))
    assert s.days == 7


def test_settings_flee_does_not_read_are_ignored_as_flee_ignores_them(flee_folder):
    """Flee reads its keys with defaults and ignores the rest; only a near miss of one of its keys is an error."""
    read_scenario(flee_folder({"simsetting.yml": "move_rules:\n  newer_rule: 3\nlog_levels:\n  agent: 0\n"}))


@pytest.mark.parametrize("name", ["burundi", "mali2012"])
def test_the_daily_camp_data_are_flees_own(name):
    """Against Flee's ``out.csv`` for the shared scenarios: the camp data columns, day by day."""
    pd = pytest.importorskip("pandas")
    if not (REAL / name).is_dir():
        pytest.skip("the shared Flee scenarios are not here")
    s = read_scenario(REAL / name)
    reference = pd.read_csv(REAL / "reference" / f"{name}-flee-out.csv")
    names = [s.network.places[c] for c in s.camps]
    assert np.array_equal(reference[[f"{n} data" for n in names]].to_numpy(), s.camp_data)

