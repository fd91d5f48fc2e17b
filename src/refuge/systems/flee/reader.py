"""A Flee/FabFlee scenario folder read into one checked value: places, links, closures, conflicts, UNHCR counts.

The folder is Flee's own (``input_csv/``, ``source_data/``, ``simsetting.yml``;
``shared/flee/README.md`` lists every file and quirk). Everything is read and
checked before anything runs: a bad or inconsistent folder raises one
:class:`~refuge.errors.DataError` naming the file, the row and the field.

Where Flee 3.1's reader and its documented format part ways, refuge follows the format:
without ``conflicts.csv``, conflict zones start on their ``conflict_date`` (Flee 3.1
reads the wrong column there and never starts them).
"""

from __future__ import annotations

import csv
import datetime as dt
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ValidationError

from ... import safe_yaml
from ...errors import DataError, did_you_mean
from ...model.network import Network
from .counts import Series, merged, read_series
from .schema import FLEE_KEYS, FLEE_SECTIONS, LINK_ATTRIBUTES, UNSUPPORTED, ClosureRow, LocationRow, RouteRow, Settings

#: a conflict intensity below this is no conflict (Flee's threshold)
NO_CONFLICT = 1e-6


@dataclass(frozen=True)
class Closure:
    kind: str
    name1: str
    name2: str
    start: int
    end: int


@dataclass(frozen=True)
class FleeScenario:
    """Everything a Flee run needs, checked: the network and its places' attributes by place index."""

    folder: Path
    start: dt.date
    days: int
    settings: Settings
    network: Network
    kind: tuple[str, ...]  # camp | conflict | town | forward | marker, as at the start
    idp: np.ndarray  # (places,) bool: an IDP camp
    country: tuple[str, ...]
    foreign: np.ndarray  # (places,) bool: not in the home country (the first row's)
    population: np.ndarray  # (places,) int: people living there (towns, conflict zones), divided by hasten
    capacity: np.ndarray  # (places,) int: a camp's capacity, divided by hasten; -1: none
    onsets: np.ndarray  # (days, places) float: conflict intensity starting that day, 0 for none
    ends: np.ndarray  # (days, places) bool: a conflict ending that day (the place becomes a town)
    closures: tuple[Closure, ...]
    camps: tuple[int, ...]  # places scored against UNHCR counts (camps with counts), in locations.csv order
    camp_data: np.ndarray  # (days, camps) int: the UNHCR counts each day
    total: np.ndarray  # (days,) int: the UNHCR total, which drives how many people leave

    @property
    def name(self) -> str:
        return self.folder.resolve().name

    @property
    def hasten(self) -> int:
        return self.settings.optimisations.hasten


def read_scenario(folder: str | Path) -> FleeScenario:
    """Read and check the scenario folder ``folder``."""
    folder = Path(folder)
    inputs, source = folder / "input_csv", folder / "source_data"
    for needed in (inputs, source):
        if not needed.is_dir():
            raise DataError(f"{needed}: not a folder; a Flee scenario folder holds input_csv/ and source_data/")
    settings = _settings(folder / "simsetting.yml")
    hasten = settings.optimisations.hasten
    start, days = _period(inputs / "sim_period.csv")
    columns = ("name", "region", "country", "latitude", "longitude", "location_type", "conflict_date", "population")
    rows = _rows(inputs / "locations.csv", LocationRow, columns, 7)
    places = _places(inputs / "locations.csv", rows)
    routes = _rows(inputs / "routes.csv", RouteRow, ("name1", "name2", "distance", "forced_redirection"), 3)
    _refuse_link_attributes(inputs / "routes.csv")
    for number, route in routes:
        for field in ("name1", "name2"):
            _known(inputs / "routes.csv", number, field, getattr(route, field), places)
        if route.name1 == route.name2:
            raise DataError(f"{inputs / 'routes.csv'}, row {number}, field name2: a link from {route.name1[:40]!r} to "
                            "itself; allowed: two different locations")  # fmt: skip
    network = Network.build(list(places), [(r.name1, r.name2, r.distance) for _, r in routes])
    closures = _closures(inputs / "closures.csv", places, {row.country for _, row in rows}, network)
    onsets, ends = _conflicts(inputs / "conflicts.csv", rows, places, days)
    kind = tuple(_start_kind(row) for _, row in rows)
    scaled = np.array([-1 if row.population is None else row.population // hasten for _, row in rows])
    camps_at_start = [i for i, k in enumerate(kind) if k == "camp"]
    series = _layout(source, start, hasten, places)
    series = _corrections(inputs / "registration_corrections.csv", series, start)
    _demographics(inputs)
    scored = tuple(i for i in camps_at_start if rows[i][1].name in series)
    if not scored:
        raise DataError(f"{source / 'data_layout.csv'}: names no camp of locations.csv; allowed: at least "
                        "one camp with UNHCR counts (the people who leave each day are the rise in their counts)")
    home = rows[0][1].country or "unknown"
    return FleeScenario(
        folder=folder, start=start, days=days, settings=settings, network=network, kind=kind,
        idp=np.array(["idp" in row.location_type.lower() for _, row in rows]),
        country=tuple(row.country or "unknown" for _, row in rows),
        foreign=np.array([(row.country or "unknown") != home for _, row in rows]),
        population=np.where(np.array(kind) == "camp", 0, np.maximum(scaled, 0)),
        capacity=np.where(np.array(kind) == "camp", scaled, -1),
        onsets=onsets, ends=ends, closures=closures, camps=scored,
        camp_data=np.stack([series[network.places[c]].daily(days) for c in scored], axis=1),
        total=series["total"].daily(days),
    )  # fmt: skip


def _settings(path: Path) -> Settings:
    if not path.exists():
        return Settings()
    data = safe_yaml.load(safe_yaml.read(path, str(path)), str(path)) or {}
    if not isinstance(data, dict):
        raise DataError(f"{path}: a mapping of spawn_rules, move_rules and optimisations is needed")
    _refuse_near_misses(path, data, FLEE_SECTIONS, "", "a section")
    for section, known in FLEE_KEYS.items():
        part = data.get(section)
        _refuse_near_misses(path, part if isinstance(part, dict) else {}, known, f"{section}.", "a setting")
    for section, key, default in UNSUPPORTED:
        part = data.get(section)
        if key is None and part is not None:
            raise DataError(f"{path}, field {section}: Flee's {section} are not implemented in refuge")
        if isinstance(part, dict) and key in part and part[key] != default:
            raise DataError(f"{path}, field {section}.{key}: {part[key]!r} is not supported; refuge implements "
                            f"Flee's rules with {key} = {default!r}")  # fmt: skip
    try:
        return Settings.model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise DataError(f"{path}, field {where}: {first.get('input')!r} is not allowed: {first['msg']}") from None


def _refuse_near_misses(path: Path, names, known, prefix: str, what: str) -> None:
    """Flee ignores names it does not read, so a near miss of one it reads is a typo that would run on defaults."""
    for name in names:
        hint = "" if name in known else did_you_mean(name, known, cutoff=0.8)
        if hint:
            raise DataError(f"{path}, field {prefix}{name}: not {what} Flee reads{hint}")


def _period(path: Path) -> tuple[dt.date, int]:
    found = {}
    names = {"startdate": "StartDate", "length": "Length"}  # Flee's reader lowercases them
    for number, row in _csv(path):
        key = names.get(row[0].strip().lower()) if len(row) >= 2 else None
        if key in found:
            raise DataError(f"{path}, row {number}, field {key}: given twice (row {found[key][0]} too); "
                            "allowed: one row")  # fmt: skip
        if key:
            found[key] = (number, row[1].strip())
    if set(found) != {"StartDate", "Length"}:
        raise DataError(f"{path}: needs a StartDate,YYYY-MM-DD row and a Length,<days> row")
    try:
        start = dt.date.fromisoformat(found["StartDate"][1])
    except ValueError:
        raise DataError(f"{path}, row {found['StartDate'][0]}, field StartDate: {found['StartDate'][1]!r} is not "
                        "allowed; allowed: YYYY-MM-DD") from None  # fmt: skip
    length = found["Length"][1]
    if not length.isdigit() or not 1 <= int(length) <= MAX_DAYS:
        raise DataError(f"{path}, row {found['Length'][0]}, field Length: {length[:20]!r} is not allowed; "
                        f"allowed: a whole number of days, 1 to {MAX_DAYS:,}")  # fmt: skip
    return start, int(length)


#: the longest run a scenario may ask for: a century of days (Flee's own run for months or a few years)
MAX_DAYS = 36_525


def _intensity(path: Path, number: int, name: str, text: str) -> float:
    """One location's conflict intensity on one day: a finite number, 0 or more."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value >= 0):
        raise DataError(f"{path}, row {number}, field {name[:40]!r}: {text.strip()[:20]!r} is not allowed; allowed: "
                        "a conflict intensity, a number 0 or more")  # fmt: skip
    return value


def _lines(path: Path) -> list[tuple[int, list[str]]]:
    """The rows that are not blank, with their line numbers, comment rows (``#`` first) included."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.reader(f)
            rows = [(reader.line_num, row) for row in reader]
    except FileNotFoundError:
        raise DataError(f"{path}: missing; a Flee scenario folder needs it") from None
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise DataError(f"{path}: cannot be read ({err})") from None
    return [(n, row) for n, row in rows if row and any(c.strip() for c in row)]


def _csv(path: Path) -> list[tuple[int, list[str]]]:
    """Rows with their line numbers; blank rows and rows whose first field starts with ``#`` left out."""
    return [(n, row) for n, row in _lines(path) if not row[0].startswith("#")]


def _rows(path: Path, schema: type[BaseModel], fields: tuple[str, ...], least: int, *, required: bool = True
          ) -> list[tuple[int, BaseModel]]:  # fmt: skip
    out = []
    for number, row in _csv(path):
        if len(row) < least:
            raise DataError(f"{path}, row {number}: {len(row)} fields; allowed: at least {least} "
                            f"({', '.join(fields[:least])})")  # fmt: skip
        try:
            out.append((number, schema.model_validate(dict(zip(fields, row, strict=False)))))
        except ValidationError as err:
            first = err.errors()[0]
            field = str(first["loc"][0]) if first["loc"] else fields[0]
            raise DataError(f"{path}, row {number}, field {field}: {str(first.get('input'))[:40]!r} is not "
                            f"allowed: {first['msg'].removeprefix('Value error, ')}") from None  # fmt: skip
    if not out and required:
        raise DataError(f"{path}: no rows; a scenario needs at least one")
    return out


def _refuse_link_attributes(path: Path) -> None:
    """Link attributes Flee's rules read (a link's own speed, walking) are refused by name, not ignored."""
    rows = _csv_with_header(path, required=False)
    if not rows:
        return
    number, header = rows[0]
    for name in (h.strip() for h in header[4:]):
        if name in LINK_ATTRIBUTES:
            raise DataError(f"{path}, row {number}, field {name}: a link attribute Flee's rules read, not "
                            "implemented in refuge; allowed: the columns name1, name2, distance, forced_redirection "
                            "and attributes no rule reads")  # fmt: skip


def _known(path: Path, number: int, field: str, name: str, names) -> None:
    if name not in names:
        raise DataError(f"{path}, row {number}, field {field}: {name[:40]!r} is not a location in locations.csv")


def _places(path: Path, rows) -> dict[str, int]:
    places: dict[str, int] = {}
    for number, row in rows:
        if row.name in places:
            raise DataError(f"{path}, row {number}, field name: {row.name[:40]!r} appears twice")
        if row.kind == "conflict" and row.conflict_date is None:
            raise DataError(f"{path}, row {number}, field conflict_date: a conflict zone needs the day its "
                            "conflict starts; allowed: a whole number of days")  # fmt: skip
        places[row.name] = len(places)
    return places


def _start_kind(row: LocationRow) -> str:
    """The place's type on day 0: a conflict zone whose conflict starts later is a town until then."""
    if row.kind == "conflict" and row.conflict_date > 0:
        return "town"
    return "town" if row.kind == "default" else row.kind


def _closures(path: Path, places: dict[str, int], countries: set[str], network: Network) -> tuple[Closure, ...]:
    if not path.exists():
        return ()
    rows = _rows(path, ClosureRow, ("closure_type", "name1", "name2", "closure_start", "closure_end"), 5,
                 required=False)  # fmt: skip
    out = []
    for number, row in rows:
        names = countries if row.closure_type == "country" else places
        both = row.closure_type in ("country", "link", "remove_forced_redirection")
        for field in ("name1", "name2") if both else ("name1",):
            if getattr(row, field) not in names:
                what = "a country" if row.closure_type == "country" else "a location"
                raise DataError(f"{path}, row {number}, field {field}: {getattr(row, field)[:40]!r} is not {what} "
                                "of locations.csv")  # fmt: skip
        if row.closure_type == "link" and places[row.name2] not in network.head[network.arcs_from(places[row.name1])]:
            raise DataError(f"{path}, row {number}, field name2: routes.csv has no link from {row.name1[:40]!r} to "
                            f"{row.name2[:40]!r}; allowed: the two ends of a link")  # fmt: skip
        out.append(Closure(row.closure_type, row.name1, row.name2, row.closure_start, row.closure_end))
    return tuple(out)


def _conflicts(path: Path, rows, places: dict[str, int], days: int) -> tuple[np.ndarray, np.ndarray]:
    """Conflict intensity starting each day at each place, and the conflicts ending each day: from
    ``conflicts.csv``, else every conflict starts on its ``conflict_date`` and none ends.

    As Flee 3.1 (``AddNewConflictZones``): a conflict starts on a day its intensity rises above
    :data:`NO_CONFLICT` from below it (or on day 0), and ends on a day it falls below from exactly 1.
    """
    onsets, ends = np.zeros((days, len(places))), np.zeros((days, len(places)), dtype=bool)
    if not path.exists():
        for _, row in rows:
            if row.kind == "conflict" and 0 < row.conflict_date < days:
                onsets[row.conflict_date, places[row.name]] = 1.0
        return onsets, ends
    table = _csv_with_header(path)
    header = table[0][1]
    names = [h.strip() for h in header[1:]]
    while names and names[-1] == "":
        names.pop()
    seen = set()
    for name in names:
        if name in seen:
            raise DataError(f"{path}, row {table[0][0]}, field {name[:40]!r}: a column named twice; allowed: one "
                            "column a location")  # fmt: skip
        if name:  # a blank column is no location
            seen.add(name)
    series = table[1:]
    if len(series) < days:
        raise DataError(f"{path}: {len(series)} days of conflict intensities; the run has {days} "
                        "(sim_period.csv Length); allowed: a row for every day")  # fmt: skip
    known = np.array([name in places for name in names], dtype=bool)  # Flee too skips a place it does not know
    where = np.array([places.get(name, 0) for name in names], dtype=np.int64)[known]
    previous = np.zeros(len(names))
    for day, (number, row) in enumerate(series[:days]):
        if len(row) <= len(names):
            raise DataError(f"{path}, row {number}: {len(row) - 1} intensities; allowed: one for each of the "
                            f"{len(names)} locations of the header")  # fmt: skip
        values = np.array([_intensity(path, number, name, row[i + 1]) for i, name in enumerate(names)])
        starting = (values > NO_CONFLICT) & ((previous < NO_CONFLICT) | (day == 0))
        ending = (values < NO_CONFLICT) & (previous == 1.0) & (day > 0)
        onsets[day, where] = np.where(starting, values, 0.0)[known]
        ends[day, where] = ending[known]
        previous = values
    return onsets, ends


def _csv_with_header(path: Path, required: bool = True) -> list[tuple[int, list[str]]]:
    """Rows with line numbers, the ``#`` header kept first (``conflicts.csv`` names its columns in it); none when
    the file has no header and it is not ``required``."""
    rows = _lines(path)
    if not rows or not rows[0][1][0].lstrip().startswith("#"):
        if required:
            raise DataError(f"{path}, row 1: needs a header '#Day, <location>, ...'")
        return []
    return rows


def _layout(source: Path, start: dt.date, hasten: int, places: dict[str, int]) -> dict[str, Series]:
    """The count files of the total and of each camp: a name that is no location is a typo, and a camp named
    twice ambiguous (Flee would read the first row), so both are refused."""
    path = source / "data_layout.csv"
    series, rows = {}, {}
    for number, row in _csv(path):
        name = row[0].strip()
        files = [f.strip() for f in row[1:] if f.strip()]
        if not files:
            raise DataError(f"{path}, row {number}, field file: {row[0][:40]!r} has no count file")
        if name != "total" and name not in places:
            raise DataError(f"{path}, row {number}, field name: {name[:40]!r} is not a location of locations.csv"
                            f"{did_you_mean(name, places)}")  # fmt: skip
        if name in rows:
            raise DataError(f"{path}, row {number}, field name: {name[:40]!r} is listed twice (row {rows[name]} "
                            "too); allowed: one row, naming all its count files")  # fmt: skip
        tables = []
        for file in files:
            if not (source / file).is_file():
                raise DataError(f"{path}, row {number}, field file: {file[:60]!r} is not a file in {source}")
            tables.append(read_series(source / file, start, hasten))
        total = tables[0]
        for extra in tables[1:]:
            total = merged(total, extra)
        series[name], rows[name] = total, number
    if "total" not in series:
        raise DataError(f"{path}: needs a row 'total,<file>' naming the UNHCR total (e.g. refugees.csv)")
    return series


def _corrections(path: Path, series: dict[str, Series], start: dt.date) -> dict[str, Series]:
    if not path.exists():
        return series
    series = dict(series)
    for number, row in _csv(path):
        if len(row) < 2:
            continue
        name, when = row[0].strip(), row[1].strip()
        if name not in series:
            raise DataError(f"{path}, row {number}, field camp: {name[:40]!r} has no counts in data_layout.csv")
        try:
            day = (dt.date.fromisoformat(when) - start).days
        except ValueError:
            raise DataError(f"{path}, row {number}, field date: {when[:40]!r} is not allowed; "
                            "allowed: YYYY-MM-DD") from None  # fmt: skip
        series[name] = series[name].corrected(day, f"{path}, row {number}, field date")
    return series


def _demographics(inputs: Path) -> None:
    """``demographics_<attr>.csv`` checked: ``<attr>,Default[,location...]`` then ``value,weight...`` rows.

    Flee draws these attributes for each person; its rules that read them are not
    enabled by any setting refuge accepts, so they are checked, not used.
    """
    for path in sorted(inputs.glob("demographics_*.csv")):
        rows = _csv(path)
        attribute = path.stem.removeprefix("demographics_")
        if not rows or len(rows[0][1]) < 2 or rows[0][1][0].strip() != attribute:
            raise DataError(f"{path}, row 1: needs a header '{attribute},Default'")
        for number, row in rows[1:]:
            try:
                weights = [float(w) for w in row[1:]]
            except ValueError:
                raise DataError(f"{path}, row {number}, field weight: needs numbers") from None
            if len(weights) != len(rows[0][1]) - 1 or any(not w >= 0 for w in weights):
                raise DataError(f"{path}, row {number}, field weight: needs one weight, 0 or more, for each "
                                "column of the header")  # fmt: skip
