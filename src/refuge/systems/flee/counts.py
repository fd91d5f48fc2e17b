"""UNHCR counts as Flee reads them: dated rows, summed files, registration corrections, daily interpolation.

Each count file holds ``YYYY-MM-DD,count`` rows at irregular dates. As Flee's
``DataTable`` does, and so the daily camp data match Flee's to the person:

* a first line whose first field is empty, ``Date`` or ``DateTime`` is a header; any line whose first
  field starts with ``#``, has fewer than two fields or an empty count is not data;
* counts are divided by ``hasten`` (as floats);
* a camp with several files sums them with Flee's merge (``AddCSVTables``), which carries the last
  value of a later file only at its own dates;
* a registration correction ``camp,date`` rescales every count before ``date`` by the jump at ``date``
  (level-1 registrations overcounted before level-2 ones);
* a day's value is the linear interpolation between the rows around it, truncated to a whole
  number; before the first row the first value holds, after the last the last.
"""

from __future__ import annotations

import csv
import datetime as dt
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ...errors import DataError, DataWarning

_HEADERS = ("", "Date", "DateTime")


@dataclass(frozen=True)
class Series:
    """Counts at days since the start (``days`` may be negative or fractional-free integers)."""

    days: np.ndarray  # (rows,) float
    values: np.ndarray  # (rows,) float

    def daily(self, length: int) -> np.ndarray:
        """Whole counts on days ``0 .. length-1``, as Flee's ``get_interpolated_data``."""
        out = np.empty(length, dtype=np.int64)
        for day in range(length):
            out[day] = self._at(day)
        return out

    def _at(self, day: int) -> int:
        days, values = self.days, self.values
        if day <= days[0]:
            return int(values[0])
        for i in range(1, len(days)):
            if day < days[i]:
                fraction = float(day - days[i - 1]) / float(days[i] - days[i - 1])
                return int(values[i - 1] + fraction * float(values[i] - values[i - 1]))
        return int(values[-1])

    def corrected(self, day: int, where: str) -> Series:
        """Counts before ``day`` rescaled by the jump at ``day`` (a registration correction)."""
        hits = np.flatnonzero(self.days == day)
        if len(hits) == 0 or hits[0] == 0 or self.values[hits[0] - 1] == 0:
            raise DataError(f"{where}: the camp's counts have no row on that date after a nonzero row, so there "
                            "is no jump to rescale by; allowed: a date the camp's count file lists")  # fmt: skip
        i = int(hits[0])
        values = self.values.copy()
        values[:i] *= self.values[i] / self.values[i - 1]
        return Series(self.days, values)


def read_series(path: Path, start: dt.date, hasten: int) -> Series:
    """One count file, checked row by row (a bad row names the file, the row and the field)."""
    days, values = [], []
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            rows = list(csv.reader(f))
    except (OSError, UnicodeDecodeError) as err:
        raise DataError(f"{path}: cannot be read ({err})") from None
    for number, row in enumerate(rows, start=1):
        if number == 1 and row and row[0].strip() in _HEADERS:
            continue
        if len(row) < 2 and row and row[0].strip() and not row[0].startswith("#"):
            warnings.warn(f"{path}, row {number}: {','.join(row)[:40]!r} is one field, not a date and a count; "
                          "skipped, as Flee skips it", DataWarning, stacklevel=2)  # fmt: skip
        if len(row) < 2 or row[0].startswith("#") or row[1].strip() == "":
            continue
        try:
            when = dt.date.fromisoformat(row[0].strip())
        except ValueError:
            raise DataError(f"{path}, row {number}, field date: {row[0][:40]!r} is not a date; "
                            "allowed: YYYY-MM-DD") from None  # fmt: skip
        try:
            count = int(row[1].strip())
        except ValueError:
            raise DataError(f"{path}, row {number}, field count: {row[1][:40]!r} is not allowed; "
                            "allowed: a whole number of people") from None  # fmt: skip
        if count < 0:
            raise DataError(f"{path}, row {number}, field count: {count} is not allowed; allowed: 0 or more")
        day = (when - start).days
        if days and day < days[-1]:
            raise DataError(f"{path}, row {number}, field date: dates go backwards ({row[0].strip()} after a later "
                            "one); allowed: rows in date order")  # fmt: skip
        days.append(float(day))
        values.append(count / hasten)
    if not days:
        raise DataError(f"{path}: no dated counts; allowed: rows of YYYY-MM-DD,count")
    return Series(np.array(days), np.array(values))


def merged(first: Series, second: Series) -> Series:
    """Two count files of one camp summed as Flee's ``AddCSVTables`` sums them, quirks included."""
    days, values = [], []
    offset = 0
    last = 0.0
    t1d, t1v = first.days, first.values
    for d2, v2 in zip(second.days, second.values, strict=True):
        while d2 > t1d[offset]:
            days.append(t1d[offset])
            values.append(last + t1v[offset])
            if offset < len(t1d) - 1:
                offset += 1
            else:
                break
        if d2 == t1d[offset]:
            days.append(d2)
            values.append(v2 + t1v[offset])
            if offset < len(t1d) - 1:
                offset += 1
            last = v2
            continue
        if d2 < t1d[offset]:
            days.append(d2)
            values.append(v2 + t1v[offset])
            last = v2
    return Series(np.array(days), np.array(values))
