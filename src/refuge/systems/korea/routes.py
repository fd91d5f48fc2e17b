"""The route graph people follow through China: places, edges, broker routes, crossing fees.

The agents backend gives each person in transit a route and a position on it;
the graph says how long each edge takes, how risky it is and what the broker
charges. The shipped graph (``refuge/data/routes.yaml``) cites EVIDENCE.md
where it has figures. A user's file is checked field by field, and any error
names the file, the entry, the field and what is allowed.

>>> graph = load_routes()
>>> graph.names[0], int(graph.legs[0])
('laos_thailand', 5)
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from ... import safe_yaml
from ...errors import DataError
from ...model.definition import Model

PLACE_KINDS = ("hiding", "transit", "border", "third_country", "embassy")


@dataclass(frozen=True)
class RouteGraph:
    """Routes as arrays, ``(routes, legs)`` padded with zeros past a route's last leg."""

    names: tuple[str, ...]
    flows: np.ndarray  # (routes,) index of the model flow that ends the route
    shares: np.ndarray  # (routes,) weight among routes ending in the same flow
    until: np.ndarray  # (routes,) decimal year the route closes (inf: never)
    legs: np.ndarray  # (routes,) number of edges on the route
    weeks: np.ndarray  # (routes, legs) expected weeks on each edge
    capture: np.ndarray  # (routes, legs) relative arrest risk on each edge
    cost: np.ndarray  # (routes, legs) broker fee in dollars on entering each edge
    fee_years: np.ndarray  # knots of the river-crossing fee
    fee_usd: np.ndarray

    def crossing_fee(self, year: float) -> float:
        """Dollars a broker asks to cross the river into China in ``year``."""
        return float(np.interp(year, self.fee_years, self.fee_usd))

    def route_weights(self, flow: int, year: float) -> np.ndarray:
        """Probability of each route for a journey ending in ``flow``, among routes open in ``year``."""
        weights = np.where((self.flows == flow) & (self.until > year), self.shares, 0.0)
        total = weights.sum()
        return weights / total if total > 0 else weights


#: the graph of a model without a transit stock: no routes, no fees
NO_ROUTES = RouteGraph(
    names=(), flows=np.zeros(0, np.int64), shares=np.zeros(0), until=np.zeros(0), legs=np.zeros(0, np.int64),
    weeks=np.zeros((0, 1)), capture=np.zeros((0, 1)), cost=np.zeros((0, 1)), fee_years=np.zeros(1), fee_usd=np.zeros(1),
)


def load_routes(path: str | Path | None = None, model: Model | None = None) -> RouteGraph:
    """Read and validate a route graph file (the shipped one when ``path`` is None)."""
    from . import north_korea

    model = model or north_korea()
    if path is None:
        with resources.as_file(resources.files("refuge.systems.korea.data") / "routes.yaml") as file:
            return parse_routes(file.read_text(encoding="utf-8"), "routes.yaml", model)
    path = Path(path)
    return parse_routes(safe_yaml.read(path, f"{path} (route graph)"), str(path), model)


def route_map() -> dict:
    """The shipped graph for drawing: places (kind, label, lat, lon), edges and routes by name and path.

    The backends need arrays; a map needs names and coordinates, so this reads the
    same validated file as :func:`load_routes` and keeps what a reader sees.

    >>> shown = route_map()
    >>> shown["places"]["beijing"]["lat"], shown["routes"][0]["path"][:2]
    (39.9, ['yanbian', 'shenyang'])
    """
    load_routes()
    raw = safe_yaml.load((resources.files("refuge.data") / "routes.yaml").read_text(encoding="utf-8"), "routes.yaml")
    return {
        "places": {name: {k: place.get(k) for k in ("kind", "label", "lat", "lon")}
                   for name, place in raw["places"].items()},
        "edges": [{k: e[k] for k in ("from", "to", "weeks", "capture", "cost_usd", "source")} for e in raw["edges"]],
        "routes": [{k: r.get(k) for k in ("name", "path", "flow", "share", "until", "source")} for r in raw["routes"]],
    }


def parse_routes(text: str, label: str, model: Model) -> RouteGraph:
    """Validate the YAML text of a route graph against ``model``; raise :class:`DataError` on any fault."""
    raw = safe_yaml.load(text, label)
    if not isinstance(raw, dict):
        raise DataError(f"{label}: expected a mapping with places, edges, routes and crossing_fee_usd")
    for key in ("places", "edges", "routes", "crossing_fee_usd"):
        if key not in raw:
            raise DataError(f"{label}: missing section {key!r}")
    places = _places(raw["places"], label)
    edges = _edges(raw["edges"], places, label)
    transit = model.stock_index["in_transit"]
    exits = {f.name: i for i, f in enumerate(model.flows) if model.sources[i] == transit and f.target != "detained"
             and f.target != "dead"}  # fmt: skip
    routes = [_route(i, entry, edges, exits, label) for i, entry in enumerate(_list(raw["routes"], "routes", label))]
    if not routes:
        raise DataError(f"{label}: routes: at least one route is needed")
    names = [r["name"] for r in routes]
    if len(set(names)) != len(names):
        twice = sorted(n for n in names if names.count(n) > 1)[0]
        raise DataError(f"{label}: routes: two routes are named {twice!r}")
    for flow in exits:
        if not any(r["flow"] == exits[flow] for r in routes):
            raise DataError(f"{label}: routes: no route ends in flow {flow!r}; every exit from transit needs one")
    most = max(len(r["legs"]) for r in routes)
    table = np.zeros((3, len(routes), most))
    for i, r in enumerate(routes):
        for j, edge in enumerate(r["legs"]):
            table[:, i, j] = edge
    years, fees = _fees(raw["crossing_fee_usd"], label)
    return RouteGraph(
        names=tuple(names),
        flows=np.array([r["flow"] for r in routes], dtype=np.int64),
        shares=np.array([r["share"] for r in routes]),
        until=np.array([r["until"] for r in routes]),
        legs=np.array([len(r["legs"]) for r in routes], dtype=np.int64),
        weeks=table[0],
        capture=table[1],
        cost=table[2],
        fee_years=years,
        fee_usd=fees,
    )


def _list(value, field: str, label: str) -> list:
    if not isinstance(value, list):
        raise DataError(f"{label}: {field}: expected a list, got {type(value).__name__}")
    return value


def _mapping(value, where: str, label: str) -> dict:
    if not isinstance(value, dict):
        raise DataError(f"{label}: {where}: expected a mapping, got {value!r}")
    return value


def _number(entry: dict, field: str, where: str, label: str, low: float, high: float = np.inf) -> float:
    if field not in entry:
        raise DataError(f"{label}: {where}: missing field {field!r}")
    value = entry[field]
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise DataError(f"{label}: {where}, field {field!r}: {value!r} is not a number in [{low:g}, {high:g}]")
    return float(value)


def _places(raw, label: str) -> dict[str, str]:
    places = {}
    for name, entry in _mapping(raw, "places", label).items():
        kind = _mapping(entry, f"place {name!r}", label).get("kind")
        if kind not in PLACE_KINDS:
            raise DataError(f"{label}: place {name!r}, field 'kind': {kind!r} is not one of {', '.join(PLACE_KINDS)}")
        for field, bound in (("lat", 90.0), ("lon", 180.0)):
            if field in entry:
                _number(entry, field, f"place {name!r}", label, -bound, bound)
        places[name] = kind
    return places


def _edges(raw, places: dict[str, str], label: str) -> dict[tuple[str, str], tuple[float, float, float]]:
    edges = {}
    for i, entry in enumerate(_list(raw, "edges", label)):
        where = f"edge {i + 1}"
        entry = _mapping(entry, where, label)
        for end in ("from", "to"):
            if entry.get(end) not in places:
                raise DataError(f"{label}: {where}, field {end!r}: {entry.get(end)!r} is not a place in 'places'")
        if not entry.get("source"):
            raise DataError(f"{label}: {where}: missing field 'source' (a URL with a quote, or 'assumption')")
        key = (entry["from"], entry["to"])
        if key in edges:
            raise DataError(f"{label}: {where}: a second edge from {key[0]!r} to {key[1]!r}")
        edges[key] = (
            _number(entry, "weeks", where, label, 0.0, 520.0),
            _number(entry, "capture", where, label, 0.0, 100.0),
            _number(entry, "cost_usd", where, label, 0.0, 65_535.0),
        )
    return edges


def _route(i: int, entry, edges, exits: dict[str, int], label: str) -> dict:
    entry = _mapping(entry, f"route {i + 1}", label)
    name = entry.get("name")
    if not isinstance(name, str) or not name:
        raise DataError(f"{label}: route {i + 1}: missing field 'name'")
    where = f"route {name!r}"
    path = entry.get("path")
    if not isinstance(path, list) or len(path) < 2:
        raise DataError(f"{label}: {where}, field 'path': expected a list of at least two places, got {path!r}")
    if len(path) > 16:
        raise DataError(f"{label}: {where}, field 'path': {len(path)} places; at most 16 are allowed")
    legs = []
    for a, b in itertools.pairwise(path):
        if (a, b) not in edges:
            raise DataError(f"{label}: {where}, field 'path': no edge from {a!r} to {b!r} in 'edges'")
        legs.append(edges[(a, b)])
    if entry.get("flow") not in exits:
        raise DataError(f"{label}: {where}, field 'flow': {entry.get('flow')!r} is not one of {', '.join(exits)}")
    if not entry.get("source"):
        raise DataError(f"{label}: {where}: missing field 'source'")
    until = _number(entry, "until", where, label, 1900.0, 2200.0) if "until" in entry else np.inf
    return {"name": name, "legs": legs, "flow": exits[entry["flow"]],
            "share": _number(entry, "share", where, label, 0.0, 1.0), "until": until}  # fmt: skip


def _fees(raw, label: str) -> tuple[np.ndarray, np.ndarray]:
    knots = []
    for i, entry in enumerate(_list(raw, "crossing_fee_usd", label)):
        where = f"crossing_fee_usd entry {i + 1}"
        entry = _mapping(entry, where, label)
        if not entry.get("source"):
            raise DataError(f"{label}: {where}: missing field 'source'")
        knots.append((_number(entry, "year", where, label, 1900.0, 2200.0), _number(entry, "usd", where, label, 0.0)))
    if not knots:
        raise DataError(f"{label}: crossing_fee_usd: at least one entry is needed")
    years = [k[0] for k in knots]
    if years != sorted(set(years)):
        raise DataError(f"{label}: crossing_fee_usd: years must increase, got {years}")
    return np.array(years), np.array([k[1] for k in knots])
