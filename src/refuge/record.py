"""The historical record shipped with refuge: yearly arrivals in the South, with sources."""

from __future__ import annotations

from functools import cache
from importlib import resources

import pandas as pd

from .errors import DataError

_COLUMNS = ["year", "total", "male", "female", "source_url", "note"]


@cache
def arrivals() -> pd.DataFrame:
    """Arrivals in South Korea by calendar year (1995-2019), with male, female, source and note.

    Rows that are not single years (the 1953-1989 total) or have no verified
    count are left out; their notes stay in the shipped CSV.
    """
    path = resources.files("refuge.data") / "arrivals.csv"
    with resources.as_file(path) as file:
        return parse_arrivals(pd.read_csv(file, dtype=str, keep_default_na=False), str(file))


def parse_arrivals(raw: pd.DataFrame, label: str) -> pd.DataFrame:
    """Validate the arrivals table; raise :class:`DataError` naming the row, field and value."""
    missing = [c for c in _COLUMNS if c not in raw.columns]
    if missing:
        raise DataError(f"{label}: missing columns {missing}; expected {_COLUMNS}")
    rows = []
    for i, row in raw.iterrows():
        if not row["year"].isdigit() or not row["total"]:
            continue
        record = {"year": int(row["year"]), "source_url": row["source_url"], "note": row["note"]}
        for field in ("total", "male", "female"):
            text = row[field].strip()
            if not text:
                record[field] = pd.NA
                continue
            if not text.isdigit():
                raise DataError(f"{label}: row {i + 2}, field {field!r}: {text!r} is not a whole number of people")
            record[field] = int(text)
        both = record["male"] is not pd.NA and record["female"] is not pd.NA
        if both and record["male"] + record["female"] != record["total"]:
            raise DataError(
                f"{label}: row {i + 2}: male {record['male']} + female {record['female']} "
                f"is not the total {record['total']}"
            )
        rows.append(record)
    table = pd.DataFrame(rows).set_index("year")
    return table.astype({"total": "Int64", "male": "Int64", "female": "Int64"})
