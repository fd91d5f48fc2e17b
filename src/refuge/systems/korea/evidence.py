"""The evidence, as data: every quantitative claim that bears on the model, with its source.

Two files ship in ``refuge.systems.korea.data``:

* ``arrivals.csv``: arrivals in the South by year (and by sex where known), the
  record we trust most, one row per year with its source;
* ``evidence.csv``: every other claim (cumulative totals at dated points, people
  hiding in China, deportations, female shares, resettlement abroad,
  re-defections, and the seeds' own numbers), each with its source, date and a
  short quote.

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
import hashlib
import math
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

import pandas as pd

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
    "source", "source_url", "date", "quote", "note",
)
ARRIVAL_COLUMNS = ("year", "total", "male", "female", "source_url", "note")

#: People who had arrived in the South before 1990 (EVIDENCE.md §1: "89년까지는 총 607명").
BEFORE_1990 = 607
#: 1990-1994 combined (ICG 2011); single years are not known.
ARRIVALS_1990_1994 = 86
#: A claim the arrivals record can check is "contradicted" when it is off by more than this share.
TOLERANCE = 0.10

_WHEN = re.compile(r"^(\d{4})(?:\.\.(\d{4}))?$")


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


def _number(file: str, row: int, field: str, text: str, *, required: bool = False) -> float | None:
    text = (text or "").strip()
    if not text:
        if required:
            raise _fail(file, row, field, text, "a number (this field may not be empty)")
        return None
    try:
        value = float(text.replace(",", ""))
    except ValueError:
        raise _fail(file, row, field, text, "a number 0 or more") from None
    if not math.isfinite(value) or value < 0:
        raise _fail(file, row, field, text, "a finite number 0 or more")
    return value


def _span(file: str, row: int, quantity: str, when: str) -> tuple[float, float]:
    match = _WHEN.match(when.strip())
    if match:
        first = int(match.group(1))
        last = int(match.group(2) or first)
        if last < first:
            raise _fail(file, row, "when", when, "YYYY, YYYY..YYYY (first year not after last), YYYY-MM or YYYY-MM-DD")
        if quantity in CUMULATIVE:
            return last + 1.0, last + 1.0
        return float(first), last + 1.0
    if quantity in FLOWS:
        raise _fail(file, row, "when", when, f"whole years (YYYY or YYYY..YYYY) for the flow {quantity!r}")
    try:
        t = decimal_year(when.strip())
    except ValueError:
        raise _fail(file, row, "when", when, "YYYY, YYYY..YYYY, YYYY-MM or YYYY-MM-DD") from None
    return t, t


def _choice(file: str, row: int, field: str, value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise _fail(file, row, field, value, ", ".join(allowed))
    return value


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
    """Read and validate an evidence file like ``evidence.csv``; raise :class:`DataError` on a bad row."""
    file = path.name
    claims: list[Claim] = []
    seen: set[str] = set()
    for number, raw in enumerate(_read_csv(path, COLUMNS), start=2):
        if None in raw:
            raise _fail(file, number, "(extra)", raw[None], f"exactly {len(COLUMNS)} fields: {', '.join(COLUMNS)}")
        row = {k: (v or "").strip() for k, v in raw.items()}
        cid = row["id"]
        if not cid or cid in seen:
            raise _fail(file, number, "id", cid, "a non-empty id not used on an earlier row")
        seen.add(cid)
        quantity = _choice(file, number, "quantity", row["quantity"], QUANTITIES)
        start, end = _span(file, number, quantity, row["when"])
        value = _number(file, number, "value", row["value"])
        low = _number(file, number, "low", row["low"])
        high = _number(file, number, "high", row["high"])
        if value is None and low is None and high is None:
            raise _fail(file, number, "value", "", "a value, or a low and/or high bound")
        if low is not None and high is not None and low > high:
            raise _fail(file, number, "low", row["low"], f"a number not above high ({row['high']})")
        if quantity in SHARES and any(x is not None and x > 1 for x in (value, low, high)):
            raise _fail(file, number, "value", row["value"], "a share between 0 and 1")
        origin = _choice(file, number, "origin", row["origin"], ORIGINS)
        url = row["source_url"]
        if origin == "record" and not url.startswith(("http://", "https://")):
            raise _fail(file, number, "source_url", url, "an http(s) address for a claim from the record")
        if origin == "seed" and not re.fullmatch(r"seed \d{3}", url):
            raise _fail(file, number, "source_url", url, "'seed NNN' for a seed's claim")
        if not row["quote"]:
            raise _fail(file, number, "quote", "", "a short quote from the source")
        claims.append(
            Claim(
                id=cid,
                quantity=quantity,
                when=row["when"],
                start=start,
                end=end,
                value=value,
                low=low,
                high=high,
                origin=origin,
                status=_choice(file, number, "status", row["status"], STATUSES),
                use=_choice(file, number, "use", row["use"], USES),
                source=row["source"],
                source_url=url,
                date=row["date"],
                quote=row["quote"],
                note=row["note"],
            )
        )
    return claims


def parse_arrivals(path: Path) -> pd.DataFrame:
    """Read and validate an arrivals table like ``arrivals.csv``: ``year, total, male, female`` (sex may be blank).

    The ``pre-1990`` row is the cumulative 1953-1989 total and is dropped here
    (it is :data:`BEFORE_1990`); years without a value stay as NaN.
    """
    file = path.name
    records = []
    for number, raw in enumerate(_read_csv(path, ARRIVAL_COLUMNS), start=2):
        year_text = (raw["year"] or "").strip()
        if year_text == "pre-1990":
            continue
        if not re.fullmatch(r"\d{4}", year_text) or not 1990 <= int(year_text) <= 2100:
            raise _fail(file, number, "year", year_text, "a year from 1990 (or 'pre-1990')")
        total = _number(file, number, "total", raw["total"])
        male = _number(file, number, "male", raw["male"])
        female = _number(file, number, "female", raw["female"])
        if male is not None and female is not None and total is not None and male + female != total:
            raise _fail(file, number, "total", raw["total"], f"male + female = {male + female:g}")
        if (raw["total"] or "").strip() and not (raw["source_url"] or "").startswith(("http://", "https://")):
            raise _fail(file, number, "source_url", raw["source_url"], "an http(s) address")
        records.append(
            {"year": int(year_text), "total": total, "male": male, "female": female,
             "source_url": raw["source_url"], "note": raw["note"] or ""}
        )
    frame = pd.DataFrame.from_records(records).set_index("year").sort_index()
    if frame.index.duplicated().any():
        year = int(frame.index[frame.index.duplicated()][0])
        raise DataError(f"{file}: year {year} appears twice; allowed: one row per year")
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
                "source": c.source, "source_url": c.source_url, "quote": c.quote,
            }
        )
    return pd.DataFrame(rows)
