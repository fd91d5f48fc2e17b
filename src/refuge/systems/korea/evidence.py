"""The evidence, as data: every quantitative claim that bears on the model, with its source.

Two files ship in ``refuge.systems.korea.data``:

* ``arrivals.csv``: arrivals in the South by year (and by sex where known), the
  record we trust most, one row per year with its source;
* ``evidence.csv``: every other claim (cumulative totals at dated points, people
  hiding in China, deportations, female shares, resettlement abroad,
  re-defections, and the seeds' own numbers), each with its source, date and a
  short quote.

Both are validated with pydantic (:class:`ClaimRow`, :class:`ArrivalRow`), like scenarios
and routes; a bad row is a :class:`~refuge.errors.DataError` naming the file, the row, the
field, the value and what is allowed.

Conflicting claims are kept side by side, never merged: calibration treats the
claims about one quantity and period as a mixture, and :func:`evidence_table`
shows each claim next to what the arrivals record says where the record can
check it (seed 004's "14,000 between 1953 and 2005" is contradicted).

>>> claims = load_evidence()
>>> any(c.id == "S01" for c in claims)
True
>>> verdict(next(c for c in claims if c.id == "S01"))[0]
'contradicted'
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import math
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Annotated

import pandas as pd
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from ...errors import DataError
from ...model.timeline import decimal_year

#: What a claim may be about: a flow summed over whole years, a stock, a cumulative total, or a share.
FLOWS = ("arrivals", "arrivals_female", "arrivals_male", "deported_from_china", "re_defections")
STOCKS = ("hiding_in_china",)
CUMULATIVE = (
    "cumulative_arrivals", "cumulative_arrivals_female", "cumulative_arrivals_male", "resettled_us_cumulative",
)
SHARES = ("female_share",)
#: means over the people of a year's flow: years abroad before arrival in the South (EVIDENCE.md §4c)
MEANS = ("time_abroad",)
QUANTITIES = FLOWS + STOCKS + CUMULATIVE + SHARES + MEANS
ORIGINS = ("record", "seed")
STATUSES = ("record", "estimate", "derived", "unverified")
USES = ("target", "context")
COLUMNS = (
    "id", "quantity", "when", "value", "low", "high", "origin", "status", "use",
    "source", "source_url", "date", "quote", "note", "repeats",
)
ARRIVAL_COLUMNS = ("year", "total", "male", "female", "source_url", "note")

#: People who had arrived in the South before 1990 (EVIDENCE.md §1: "89년까지는 총 607명").
BEFORE_1990 = 607
#: 1990-1994 combined (ICG 2011); single years are not known.
ARRIVALS_1990_1994 = 86
#: A claim the arrivals record can check is "contradicted" when it is off by more than this share.
TOLERANCE = 0.10

_WHEN = re.compile(r"^(\d{4})(?:\.\.(\d{4}))?$")
#: when a source was published: a year, a month or a day
_PUBLISHED = re.compile(r"\d{4}(-\d{2}(-\d{2})?)?")


@dataclass(frozen=True)
class Claim:
    """One quantitative claim with its source. ``start``/``end`` are decimal years.

    A flow claim covers whole years ``[start, end)``; a stock claim is about the
    year of ``start``; a cumulative claim is the total at the instant ``end``.
    """

    id: str
    quantity: str
    when: str
    start: float
    end: float
    value: float | None
    low: float | None
    high: float | None
    origin: str
    status: str
    use: str
    source: str
    source_url: str
    date: str
    quote: str
    note: str = ""
    repeats: str = ""  # the id of the claim whose figure this one repeats: together they are one piece of evidence

    @property
    def lineage(self) -> str:
        """The estimate the claim gives: its own id, or that of the claim it repeats."""
        return self.repeats or self.id

    @property
    def central(self) -> float:
        """The claim's central value: its value, else the middle of its range (geometric)."""
        if self.value is not None:
            return self.value
        if self.low is not None and self.high is not None:
            return math.sqrt(self.low * self.high)
        return self.low if self.low is not None else self.high  # type: ignore[return-value]

    @property
    def years(self) -> range:
        return range(int(self.start), math.ceil(self.end))


def _fail(file: str, row: int, field: str, value: object, allowed: str) -> DataError:
    return DataError(f"{file}, row {row}, field {field!r}: value {value!r} is not allowed; allowed: {allowed}")


def _refuse(allowed: str, **where) -> PydanticCustomError:
    """A row's fault as pydantic carries it: what is allowed, and (from a check across fields) the field and value."""
    return PydanticCustomError("allowed", "{allowed}", {"allowed": allowed, **where})


def _number(text: str) -> float | None:
    if not text:
        return None
    try:
        value = float(text.replace(",", ""))
    except ValueError:
        raise _refuse("a number 0 or more") from None
    if not math.isfinite(value) or value < 0:
        raise _refuse("a finite number 0 or more")
    return value


def _choice(*allowed: str):
    def check(value: str) -> str:
        if value not in allowed:
            raise _refuse(", ".join(allowed))
        return value

    return AfterValidator(check)


#: a number written in a CSV cell ("1,234" allowed), 0 or more; an empty cell is None
Number = Annotated[float | None, BeforeValidator(_number)]


class _Row(BaseModel):
    """A row of an evidence table: text cells, stripped; columns beside the known ones are ignored."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="ignore", frozen=True)


class ClaimRow(_Row):
    """A row of ``evidence.csv``, validated; :meth:`claim` is the claim it makes."""

    id: str
    quantity: Annotated[str, _choice(*QUANTITIES)]
    when: str
    value: Number
    low: Number
    high: Number
    origin: Annotated[str, _choice(*ORIGINS)]
    status: Annotated[str, _choice(*STATUSES)]
    use: Annotated[str, _choice(*USES)]
    source: str
    source_url: str
    date: str
    quote: str
    note: str
    repeats: str

    @field_validator("id")
    @classmethod
    def _named(cls, value: str) -> str:
        if not value:
            raise _refuse("a non-empty id not used on an earlier row")
        return value

    @field_validator("quote")
    @classmethod
    def _quoted(cls, value: str) -> str:
        if not value:
            raise _refuse("a short quote from the source")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> ClaimRow:
        self.span()
        values = (self.value, self.low, self.high)
        if all(x is None for x in values):
            raise _refuse("a value, or a low and/or high bound", field="value", value="")
        if self.low is not None and self.high is not None and self.low > self.high:
            raise _refuse(f"a number not above high ({self.high:g})", field="low", value=self.low)
        if self.value is not None and not ((self.low is None or self.low <= self.value)
                                           and (self.high is None or self.value <= self.high)):  # fmt: skip
            raise _refuse("a number within the claim's own low and high", field="value", value=self.value)
        zero = next((f for f, x in zip(("value", "low", "high"), values, strict=True) if x == 0), None)
        if self.use == "target" and zero:  # fitted on a log scale
            raise _refuse("a number above 0 for a claim the calibration fits", field=zero, value=0)
        if self.use == "target" and not _PUBLISHED.fullmatch(self.date):  # a forecast fits what it could know
            raise _refuse("the date its source was published (YYYY, YYYY-MM or YYYY-MM-DD) for a claim the "
                          "calibration fits", field="date", value=self.date)  # fmt: skip
        if self.quantity in SHARES and any(x is not None and x > 1 for x in values):
            raise _refuse("a share between 0 and 1", field="value", value=self.value)
        if self.origin == "record" and not self.source_url.startswith(("http://", "https://")):
            raise _refuse("an http(s) address for a claim from the record", field="source_url", value=self.source_url)
        if self.origin == "seed" and not re.fullmatch(r"seed \d{3}", self.source_url):
            raise _refuse("'seed NNN' for a seed's claim", field="source_url", value=self.source_url)
        return self

    def span(self) -> tuple[float, float]:
        """``when`` as decimal years ``(start, end)`` (see :class:`Claim`)."""
        where = {"field": "when", "value": self.when}
        match = _WHEN.match(self.when)
        if match:
            first = int(match.group(1))
            last = int(match.group(2) or first)
            if last < first:
                raise _refuse("YYYY, YYYY..YYYY (first year not after last), YYYY-MM or YYYY-MM-DD", **where)
            if self.quantity in CUMULATIVE:
                return last + 1.0, last + 1.0
            return float(first), last + 1.0
        if self.quantity in FLOWS:
            raise _refuse(f"whole years (YYYY or YYYY..YYYY) for the flow {self.quantity!r}", **where)
        try:
            t = decimal_year(self.when)
            if self.quantity in CUMULATIVE and re.fullmatch(r"\d{4}-\d{2}-\d{2}", self.when):
                t = decimal_year(dt.date.fromisoformat(self.when) + dt.timedelta(days=1))  # a total to a day's end
        except (ValueError, OverflowError):
            raise _refuse("YYYY, YYYY..YYYY, YYYY-MM or YYYY-MM-DD", **where) from None
        return t, t

    def claim(self) -> Claim:
        start, end = self.span()
        return Claim(start=start, end=end, **self.model_dump())


class ArrivalRow(_Row):
    """A year's row of ``arrivals.csv``, validated: the total, and the sexes where known, add up."""

    year: int
    total: Number
    male: Number
    female: Number
    source_url: str
    note: str

    @field_validator("year", mode="before")
    @classmethod
    def _year(cls, value: str) -> int:
        if not re.fullmatch(r"\d{4}", value.strip()) or not 1990 <= int(value) <= 2100:
            raise _refuse("a year from 1990 (or 'pre-1990')")
        return int(value)

    @model_validator(mode="after")
    def _consistent(self) -> ArrivalRow:
        if None not in (self.male, self.female, self.total) and self.male + self.female != self.total:
            raise _refuse(f"male + female = {self.male + self.female:g}", field="total", value=self.total)
        if self.total is not None and not self.source_url.startswith(("http://", "https://")):
            raise _refuse("an http(s) address", field="source_url", value=self.source_url)
        return self


def _validated(spec: type[_Row], file: str, number: int, raw: dict[str, str | None]) -> _Row:
    """``raw`` as a ``spec`` row, or a :class:`DataError` naming the file, row, field, value and what is allowed."""
    try:
        return spec.model_validate({k: v or "" for k, v in raw.items() if k is not None})
    except ValidationError as err:
        error = err.errors()[0]
        where = error.get("ctx", {})
        field = where.get("field", error["loc"][0] if error["loc"] else "")
        value = where.get("value", (raw.get(field) or "").strip())
        raise _fail(file, number, field, value, where.get("allowed", error["msg"])) from None


def _read_csv(path: Path, columns: tuple[str, ...]) -> list[dict[str, str]]:
    try:
        with open(path, encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in columns if c not in (reader.fieldnames or [])]
            if missing:
                raise DataError(f"{path.name}: missing columns {missing}; the header must name {', '.join(columns)}")
            rows = list(reader)
    except OSError as err:
        raise DataError(f"cannot read evidence file {path}: {err.strerror}") from None
    except csv.Error as err:
        raise DataError(f"{path.name}: not a valid CSV file ({err})") from None
    return rows


def parse_claims(path: Path) -> list[Claim]:
    """Read and validate an evidence file like ``evidence.csv`` (:class:`ClaimRow`); raise :class:`DataError`."""
    file = path.name
    claims: list[Claim] = []
    seen: dict[str, ClaimRow] = {}
    for number, raw in enumerate(_read_csv(path, COLUMNS), start=2):
        if None in raw:
            raise _fail(file, number, "(extra)", raw[None], f"exactly {len(COLUMNS)} fields: {', '.join(COLUMNS)}")
        row = _validated(ClaimRow, file, number, raw)
        if row.id in seen:
            raise _fail(file, number, "id", row.id, "a non-empty id not used on an earlier row")
        if row.repeats and (row.repeats not in seen or seen[row.repeats].quantity != row.quantity
                            or seen[row.repeats].repeats):  # fmt: skip
            raise _fail(file, number, "repeats", row.repeats, "blank, or the id of an earlier claim of the same "
                        "quantity that repeats no other (the claim whose figure this one repeats)")  # fmt: skip
        seen[row.id] = row
        claims.append(row.claim())
    _check_splits(file, claims)
    return claims


def _check_splits(file: str, claims: list[Claim]) -> None:
    """Cumulative totals by sex come in pairs, one date for both: their ratio is what the calibration fits, and a
    forecast knows both or neither."""
    pairs: dict[str, list[Claim]] = {}
    for c in claims:
        if c.quantity in ("cumulative_arrivals_female", "cumulative_arrivals_male") and c.use == "target":
            pairs.setdefault(c.when, []).append(c)
    for when, pair in pairs.items():
        if sorted(c.quantity for c in pair) != ["cumulative_arrivals_female", "cumulative_arrivals_male"] or (
                pair[0].date != pair[1].date):  # fmt: skip
            raise DataError(f"{file}: the cumulative totals by sex at {when} ({', '.join(c.id for c in pair)}) are "
                            "not allowed; allowed: one claim of women and one of men, with the same date")  # fmt: skip


def parse_arrivals(path: Path) -> pd.DataFrame:
    """Read and validate an arrivals table like ``arrivals.csv`` (:class:`ArrivalRow`): ``year, total, male,
    female`` (sex may be blank).

    The ``pre-1990`` row is the cumulative 1953-1989 total and is dropped here
    (it is :data:`BEFORE_1990`); years without a value stay as NaN.
    """
    file = path.name
    records = []
    for number, raw in enumerate(_read_csv(path, ARRIVAL_COLUMNS), start=2):
        if (raw["year"] or "").strip() == "pre-1990":
            continue
        records.append(_validated(ArrivalRow, file, number, raw).model_dump())
    if not records:
        raise DataError(f"{file}: no years; allowed: a row for every year, 1990 on")
    frame = pd.DataFrame.from_records(records, columns=list(ArrivalRow.model_fields)).set_index("year").sort_index()
    if frame.index.duplicated().any():
        year = int(frame.index[frame.index.duplicated()][0])
        raise DataError(f"{file}: year {year} appears twice; allowed: one row per year")
    missing = sorted(set(range(int(frame.index.min()), int(frame.index.max()) + 1)) - set(frame.index))
    if missing:  # a cumulative total would silently lose that year
        raise DataError(f"{file}: no row for year {missing[0]}; allowed: a row for every year, blank where unknown")
    return frame.astype({"total": float, "male": float, "female": float})


def _data_file(name: str) -> Path:
    return Path(str(resources.files("refuge.systems.korea.data") / name))


@cache
def arrivals() -> pd.DataFrame:
    """The shipped arrivals record by year (1990 on): ``total, male, female, source_url, note``."""
    return parse_arrivals(_data_file("arrivals.csv"))


def record_end() -> int:
    """The last year the shipped arrivals record counts (2025): where the record ends and projections begin."""
    return int(arrivals()["total"].dropna().index.max())


def _arrival_claims(table: pd.DataFrame) -> list[Claim]:
    claims = []
    for year, row in table.iterrows():
        for column, quantity in (("total", "arrivals"), ("female", "arrivals_female"), ("male", "arrivals_male")):
            value = row[column]
            if pd.isna(value):
                continue
            derived = "DERIVED" in row["note"]
            claims.append(
                Claim(
                    id=f"A{year}{'' if column == 'total' else column[0].upper()}",
                    quantity=quantity,
                    when=str(year),
                    start=float(year),
                    end=year + 1.0,
                    value=float(value),
                    low=None,
                    high=None,
                    origin="record",
                    status="derived" if derived else "record",
                    use="target",
                    source="arrivals.csv (MOU and press)",
                    source_url=row["source_url"],
                    date="",
                    quote=row["note"][:160],
                )
            )
    return claims


def load_evidence(path: Path | None = None, arrivals_path: Path | None = None) -> list[Claim]:
    """Every claim: the annual arrivals record followed by the claims of ``evidence.csv``."""
    table = parse_arrivals(arrivals_path) if arrivals_path else arrivals()
    return _arrival_claims(table) + (parse_claims(path) if path else _shipped_claims())


@cache
def _shipped_claims() -> list[Claim]:
    return parse_claims(_data_file("evidence.csv"))


def data_version() -> str:
    """A short hash of the shipped evidence files, recorded with every calibration."""
    digest = hashlib.sha256()
    for name in ("arrivals.csv", "evidence.csv"):
        digest.update(_data_file(name).read_bytes())
    return digest.hexdigest()[:12]


# -- what the record says ---------------------------------------------------------


def record_arrivals_by_year(table: pd.DataFrame | None = None) -> pd.DataFrame:
    """Arrivals by year with 1990-1994 filled in as the combined 86 spread evenly (for cumulative checks)."""
    table = (arrivals() if table is None else table)[["total", "male", "female"]].copy()
    for year in range(1990, 1995):
        table.loc[year, "total"] = ARRIVALS_1990_1994 / 5
    return table.sort_index()


def record_cumulative(when: float, table: pd.DataFrame | None = None) -> float | None:
    """All arrivals in the South since 1953 at the decimal year ``when``, from the annual record.

    Within a year, arrivals are spread evenly. ``None`` outside the record's years.
    """
    totals = record_arrivals_by_year(table)["total"]
    if when < 1990:
        return float(BEFORE_1990) if when >= 1989 else None
    year = math.floor(when)
    if year > totals.index.max() + 1 or (year in totals.index and pd.isna(totals[year])):
        return None
    done = totals[totals.index < year].sum()
    part = totals.get(year, 0.0) * (when - year) if year in totals.index else 0.0
    return float(BEFORE_1990 + done + part)


def verdict(claim: Claim) -> tuple[str, str]:
    """Whether the arrivals record bears a claim out: ``('consistent' | 'contradicted' | 'not checked', why)``."""
    record: float | None = None
    if claim.quantity == "cumulative_arrivals":
        record = record_cumulative(claim.end)
    elif claim.quantity == "arrivals" and claim.id.startswith(("S", "C")):
        totals = record_arrivals_by_year()["total"]
        years = list(claim.years)
        if all(y in totals.index and not pd.isna(totals[y]) for y in years) and claim.start >= 1995:
            record = float(totals[years].sum())
    if record is None:
        return "not checked", "the arrivals record does not cover this quantity"
    central = claim.central
    off = (central - record) / record
    why = f"record gives {record:,.0f}; claim is {off:+.0%} off"
    return ("contradicted" if abs(off) > TOLERANCE else "consistent"), why


def evidence_table(claims: list[Claim] | None = None, *, include_annual: bool = False) -> pd.DataFrame:
    """The claims as a table, with what the record says of each it can check."""
    claims = load_evidence() if claims is None else claims
    rows = []
    for c in claims:
        if not include_annual and c.id.startswith("A"):
            continue
        check, why = verdict(c)
        rows.append(
            {
                "id": c.id, "quantity": c.quantity, "when": c.when,
                "value": c.value, "low": c.low, "high": c.high,
                "origin": c.origin, "status": c.status, "use": c.use,
                "record_check": check, "record_says": why if check != "not checked" else "",
                "source": c.source, "source_url": c.source_url, "date": c.date, "repeats": c.repeats,
                "quote": c.quote, "note": c.note,
            }
        )
    return pd.DataFrame(rows)
