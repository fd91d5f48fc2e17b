"""The evidence as data: the shipped claims load, quote their sources, and a malformed row is a clear error."""

from importlib import resources

import pytest

from refuge.errors import DataError
from refuge.systems.korea.evidence import (
    COLUMNS,
    QUANTITIES,
    evidence_table,
    load_evidence,
    parse_arrivals,
    parse_claims,
    record_cumulative,
    verdict,
)
from refuge.systems.korea.sources import evidence_text, seed_text, squash

HEADER = ",".join(COLUMNS)
GOOD = 'H99,hiding_in_china,2001,20000,10000,30000,record,estimate,target,ROK,https://example.org/a,2001,"a quote",'


def write(tmp_path, *rows, header=HEADER, name="claims.csv"):
    path = tmp_path / name
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def test_shipped_evidence_loads_with_sources_and_quotes():
    claims = load_evidence()
    assert len({c.id for c in claims}) == len(claims)
    assert {c.quantity for c in claims} <= set(QUANTITIES)
    assert all(c.quote and c.source_url for c in claims)
    by_id = {c.id: c for c in claims}
    assert by_id["A2009F"].value == 2252 and by_id["A2009M"].value == 662  # the record by sex
    assert by_id["A1995"].status == "derived"  # 1995 is arithmetic on sourced numbers, and says so


def test_quotes_are_word_for_word_in_their_sources():
    shipped = resources.files("refuge.systems.korea.data")
    record = squash(evidence_text()) + squash((shipped / "arrivals.csv").read_text())
    for claim in load_evidence():
        if claim.id.startswith("A"):
            continue
        source = squash(seed_text(claim.source_url.split()[1])) if claim.origin == "seed" else record
        assert squash(claim.quote) in source, claim.id


def test_conflicting_claims_stay_side_by_side():
    claims = [c for c in load_evidence() if c.quantity == "hiding_in_china" and c.when == "2001"]
    assert sorted(c.central for c in claims)[0] == 10_000 and max(c.high or 0 for c in claims) == 300_000
    assert len(claims) == 3  # China, the ROK government and NGOs, none merged into another


def test_the_record_contradicts_seed_004_and_bears_out_seed_000():
    by_id = {c.id: c for c in load_evidence()}
    check, why = verdict(by_id["S01"])  # "14,000 defectors between 1953 and 2005"
    assert check == "contradicted" and "7,6" in why
    assert verdict(by_id["S03"])[0] == "consistent"  # seed 000: "has surpassed 10,000" in January 2007
    assert verdict(by_id["C13"])[0] == "contradicted"  # KBS's "February 2006" against the MOU's February 2007
    table = evidence_table()
    assert set(table.loc[table.record_check == "contradicted", "id"]) == {"S01", "C13"}


def test_record_cumulative_reproduces_the_mou_milestones():
    assert record_cumulative(1999.0) == pytest.approx(607 + 86 + 42 + 56 + 85 + 71)
    assert record_cumulative(2012.0) == pytest.approx(23_100, rel=0.005)  # MOU: 23,100 on 31 Dec 2011


@pytest.mark.parametrize(
    ("row", "field", "allowed"),
    [
        (GOOD.replace("hiding_in_china", "hiding_in_japan"), "quantity", "hiding_in_china"),
        (GOOD.replace(",20000,", ",lots,"), "value", "a number"),
        (GOOD.replace(",10000,30000,", ",30000,10000,"), "low", "not above high"),
        (GOOD.replace(",2001,20000", ",spring 2001,20000"), "when", "YYYY"),
        (GOOD.replace(",record,estimate", ",rumour,estimate"), "origin", "record, seed"),
        (GOOD.replace("https://example.org/a", "example.org"), "source_url", "http"),
        (GOOD.replace('"a quote"', ""), "quote", "quote"),
        (GOOD.replace(",target,", ",maybe,"), "use", "target, context"),
        (GOOD.replace("hiding_in_china,2001", "arrivals,2001-05"), "when", "whole years"),
    ],
)
def test_a_malformed_row_names_file_row_field_value_and_what_is_allowed(tmp_path, row, field, allowed):
    path = write(tmp_path, GOOD.replace("H99", "H98"), row)
    with pytest.raises(DataError) as err:
        parse_claims(path)
    message = str(err.value)
    assert message.startswith("claims.csv, row 3, field ")
    assert f"field {field!r}" in message and "allowed:" in message and allowed in message


def test_missing_columns_and_duplicate_ids_are_errors(tmp_path):
    with pytest.raises(DataError, match="missing columns"):
        parse_claims(write(tmp_path, GOOD, header=HEADER.replace(",quote", "")))
    with pytest.raises(DataError, match="row 3, field 'id'"):
        parse_claims(write(tmp_path, GOOD, GOOD))


def test_arrivals_whose_sexes_do_not_add_up_are_an_error(tmp_path):
    header = "year,total,male,female,source_url,note"
    path = write(tmp_path, "2009,2914,662,2000,https://example.org,", header=header, name="arrivals.csv")
    with pytest.raises(DataError, match=r"arrivals.csv, row 2, field 'total'.*male \+ female = 2662"):
        parse_arrivals(path)


@pytest.mark.parametrize(
    ("row", "field", "value", "allowed"),
    [
        ("199x,10,,,https://example.org,", "year", "199x", "a year from 1990"),
        ("2009,many,,,https://example.org,", "total", "many", "a number 0 or more"),
        ("2009,-3,,,https://example.org,", "total", "-3", "a finite number 0 or more"),
        ("2009,2914,,,example.org,", "source_url", "example.org", "an http(s) address"),
    ],
)
def test_a_malformed_arrivals_row_names_file_row_field_value_and_what_is_allowed(tmp_path, row, field, value, allowed):
    header = "year,total,male,female,source_url,note"
    path = write(tmp_path, "2008,2809,,,https://example.org,", row, header=header, name="arrivals.csv")
    with pytest.raises(DataError) as err:
        parse_arrivals(path)
    assert str(err.value).startswith(f"arrivals.csv, row 3, field {field!r}: value {value!r} is not allowed; allowed: ")
    assert allowed in str(err.value)


def test_a_share_above_one_and_a_seed_without_its_number_are_errors(tmp_path):
    share = GOOD.replace("hiding_in_china,2001,20000,10000,30000", "female_share,2001,1.2,,")
    with pytest.raises(DataError, match=r"row 2, field 'value': value 1.2 .*a share between 0 and 1"):
        parse_claims(write(tmp_path, share))
    seed = GOOD.replace(",record,", ",seed,").replace("https://example.org/a", "seed 4")
    with pytest.raises(DataError, match=r"row 2, field 'source_url': value 'seed 4' .*'seed NNN'"):
        parse_claims(write(tmp_path, seed))


def test_a_record_with_a_year_missing_is_refused(tmp_path):
    """A deleted row made every cumulative check short by that year's arrivals, and said nothing."""
    shipped = (resources.files("refuge.systems.korea.data") / "arrivals.csv").read_text(encoding="utf-8")
    path = tmp_path / "arrivals.csv"
    path.write_text("\n".join(row for row in shipped.splitlines() if not row.startswith("2005,")) + "\n")
    with pytest.raises(DataError, match=r"arrivals\.csv: no row for year 2005"):
        parse_arrivals(path)


@pytest.mark.parametrize(
    ("row", "allowed"),
    [
        (GOOD.replace("20000,10000,30000", "900000,10000,30000"), "a number within the claim's own low and high"),
        (GOOD.replace("20000,10000,30000", "0,,"), "a number above 0 for a claim the calibration fits"),
    ],
)
def test_a_claim_that_contradicts_itself_or_cannot_be_fitted_is_refused(tmp_path, row, allowed):
    with pytest.raises(DataError, match=f"row 2, field 'value'.*allowed: {allowed}"):
        parse_claims(write(tmp_path, row))


def test_a_claim_the_calibration_fits_must_say_when_its_source_was_published(tmp_path):
    """A forecast fits only what was published by its origin (``backtest.known_at``): an undated target passed."""
    undated = GOOD.replace(',2001,"a quote"', ',,"a quote"')
    assert undated != GOOD
    with pytest.raises(DataError, match=r"row 2, field 'date': value '' is not allowed; allowed: the date its source"):
        parse_claims(write(tmp_path, undated))


def _claim(id_: str, year: int, value: int, repeats: str = "") -> str:
    return (f'{id_},hiding_in_china,{year},{value},,,record,estimate,target,outlet,https://example.org/{id_},{year},'
            f'"a quote",,{repeats}')


def test_a_figure_repeated_counts_once_and_an_estimate_of_its_own_fully(tmp_path):
    """Three claims of one estimate (one repeating, the other naming it) weigh a third each; another source's
    estimate of the same size, and a year's claims together, weigh by what they hold (the mean of their weights)."""
    from refuge.systems.korea.calibration.likelihood import Targets

    claims = parse_claims(write(tmp_path, _claim("H1", 2000, 100_000), _claim("H2", 2004, 100_000, "H1"),
                                _claim("H3", 2008, 100_000, "H1"), _claim("H4", 2010, 100_000),
                                _claim("H5", 2004, 30_000)))  # fmt: skip
    weights = {term.ids: term.weight for term in Targets(2025, claims).terms if term.kind == "soft"}
    assert weights == pytest.approx({("H1",): 1 / 3, ("H2", "H5"): (1 / 3 + 1) / 2, ("H3",): 1 / 3, ("H4",): 1.0})
    known = {term.ids: term.weight for term in Targets(2005, claims).terms if term.kind == "soft"}
    assert known[("H1",)] == pytest.approx(1 / 2)  # what a forecast at 2005 holds: two claims of the estimate


@pytest.mark.parametrize("repeats", ["H9", "H2", "D1"])  # unknown, itself a repeat, another quantity
def test_a_claim_repeats_an_earlier_estimate_of_the_same_quantity(tmp_path, repeats):
    deported = 'D1,deported_from_china,2000,5000,,,record,estimate,target,outlet,https://example.org/d,2000,"q",,'
    rows = [deported, _claim("H1", 2000, 100_000), _claim("H2", 2004, 100_000, "H1"), _claim("H3", 2008, 1, repeats)]
    with pytest.raises(DataError, match=f"row 5, field 'repeats': value '{repeats}' is not allowed; allowed: blank"):
        parse_claims(write(tmp_path, *rows))


@pytest.mark.parametrize("dates", [("2002", "2003"), ("2002", None)])  # two dates; one sex alone
def test_cumulative_totals_by_sex_come_in_pairs_with_one_date(tmp_path, dates):
    rows = [f'C{i},cumulative_arrivals_{sex},2001-12-31,{n},,,record,record,target,MOU,https://example.org/c,{date},'
            f'"q",,' for i, (sex, n, date) in enumerate(zip(("male", "female"), (1395, 595), dates, strict=True))
            if date]  # fmt: skip
    with pytest.raises(DataError, match=r"claims.csv: the cumulative totals by sex at 2001-12-31 \(C0.*allowed: one"):
        parse_claims(write(tmp_path, *rows))
