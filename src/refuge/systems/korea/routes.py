"""The route graph people follow through China: places, edges, broker routes, crossing fees.

The agents backend gives each person in transit a route and a position on it;
the graph says how long each edge takes, how risky it is and what the broker
charges. The shipped graph (``refuge/systems/korea/data/routes.yaml``) cites
EVIDENCE.md where it has figures. A user's file is validated with pydantic
(:class:`RouteFile`), and any error names the file, the entry, the field and
what is allowed.

>>> graph = load_routes()
>>> graph.names[0], int(graph.legs[0])
('laos_thailand', 5)
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

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


class _Entry(BaseModel):
    """An entry of the file: labels and notes beside the fields are allowed."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)


def _number(low: float, high: float = np.inf, **options):
    return Field(ge=low, le=high, strict=True, allow_inf_nan=False, **options)


class PlaceSpec(_Entry):
    kind: Literal["hiding", "transit", "border", "third_country", "embassy"]
    lat: float | None = _number(-90.0, 90.0, default=None)  # for a map; the backends do not read them
    lon: float | None = _number(-180.0, 180.0, default=None)


class EdgeSpec(_Entry):
    start: str = Field(alias="from")
    to: str
    weeks: float = _number(0.0, 520.0)
    capture: float = _number(0.0, 100.0)
    cost_usd: float = _number(0.0, 65_535.0)
    source: str = Field(min_length=1)


class RouteSpec(_Entry):
    name: str = Field(min_length=1)
    path: list[str] = Field(min_length=2, max_length=16)
    flow: str
    share: float = _number(0.0, 1.0)
    until: float | None = _number(1900.0, 2200.0, default=None)  # the year the route closes; none: never
    source: str = Field(min_length=1)


class FeeSpec(_Entry):
    year: float = _number(1900.0, 2200.0)
    usd: float = _number(0.0)
    source: str = Field(min_length=1)


class RouteFile(BaseModel):
    """The file: places by name, edges between them, routes along edges, the river-crossing fee by year."""

    places: dict[str, PlaceSpec]
    edges: list[EdgeSpec]
    routes: list[RouteSpec] = Field(min_length=1)
    crossing_fee_usd: list[FeeSpec] = Field(min_length=1)


_WHERE = {"places": "place {key!r}", "edges": "edge {n}", "routes": "route {n}", "crossing_fee_usd":
          "crossing_fee_usd entry {n}"}  # fmt: skip


def _message(error: dict, raw: dict, label: str) -> str:
    """A pydantic error as the file's reader says it: the entry, the field, the value and what is allowed."""
    loc = error["loc"]
    if len(loc) == 1:
        if error["type"] == "missing":
            return f"{label}: missing section {loc[0]!r}"
        return f"{label}: {loc[0]}: {error['msg'].lower()}"
    section, key = loc[0], loc[1]
    where = _WHERE[section].format(key=key, n=key + 1 if isinstance(key, int) else key)
    if section == "routes" and isinstance(key, int) and isinstance(raw["routes"][key], dict) \
            and raw["routes"][key].get("name"):  # fmt: skip
        where = f"route {raw['routes'][key]['name']!r}"
    if len(loc) == 2:
        return f"{label}: {where}: expected a mapping, got {error.get('input')!r}"
    field = "from" if loc[2] == "start" else str(loc[2])
    value = error.get("input")
    if error["type"] == "missing" or (field == "source" and not value):
        return f"{label}: {where}: missing field {field!r}"
    if field == "kind":
        return f"{label}: {where}, field 'kind': {value!r} is not one of {', '.join(PLACE_KINDS)}"
    if field == "path":
        return f"{label}: {where}, field 'path': expected a list of at least two and at most 16 places, got {value!r}"
    spec = {"places": PlaceSpec, "edges": EdgeSpec, "routes": RouteSpec, "crossing_fee_usd": FeeSpec}[section]
    spec = spec.model_fields[loc[2]]
    low = next((m.ge for m in spec.metadata if getattr(m, "ge", None) is not None), None)
    high = next((m.le for m in spec.metadata if getattr(m, "le", None) is not None), np.inf)
    if low is not None:
        return f"{label}: {where}, field {field!r}: {value!r} is not a number in [{low:g}, {high:g}]"
    return f"{label}: {where}, field {field!r}: {value!r} is not allowed: {error['msg']}"


def parse_routes(text: str, label: str, model: Model) -> RouteGraph:
    """Validate the YAML text of a route graph against ``model``; raise :class:`DataError` on any fault."""
    raw = safe_yaml.load(text, label)
    if not isinstance(raw, dict):
        raise DataError(f"{label}: expected a mapping with places, edges, routes and crossing_fee_usd")
    try:
        spec = RouteFile.model_validate(raw)
    except ValidationError as err:
        raise DataError(_message(err.errors()[0], raw, label)) from None
    edges = _edges(spec, label)
    transit = model.stock_index["in_transit"]
    exits = {f.name: i for i, f in enumerate(model.flows) if model.sources[i] == transit and f.target != "detained"
             and f.target != "dead"}  # fmt: skip
    names = [r.name for r in spec.routes]
    if len(set(names)) != len(names):
        twice = sorted(n for n in names if names.count(n) > 1)[0]
        raise DataError(f"{label}: routes: two routes are named {twice!r}")
    legs = [_legs(r, edges, exits, label) for r in spec.routes]
    for flow in exits:
        if not any(r.flow == flow for r in spec.routes):
            raise DataError(f"{label}: routes: no route ends in flow {flow!r}; every exit from transit needs one")
    table = np.zeros((3, len(legs), max(map(len, legs))))
    for i, route_legs in enumerate(legs):
        for j, edge in enumerate(route_legs):
            table[:, i, j] = edge
    years = [k.year for k in spec.crossing_fee_usd]
    if years != sorted(set(years)):
        raise DataError(f"{label}: crossing_fee_usd: years must increase, got {years}")
    return RouteGraph(
        names=tuple(names),
        flows=np.array([exits[r.flow] for r in spec.routes], dtype=np.int64),
        shares=np.array([r.share for r in spec.routes]),
        until=np.array([np.inf if r.until is None else r.until for r in spec.routes]),
        legs=np.array([len(x) for x in legs], dtype=np.int64),
        weeks=table[0],
        capture=table[1],
        cost=table[2],
        fee_years=np.array(years),
        fee_usd=np.array([k.usd for k in spec.crossing_fee_usd]),
    )


def _edges(spec: RouteFile, label: str) -> dict[tuple[str, str], tuple[float, float, float]]:
    edges = {}
    for i, edge in enumerate(spec.edges):
        for end, name in (("from", edge.start), ("to", edge.to)):
            if name not in spec.places:
                raise DataError(f"{label}: edge {i + 1}, field {end!r}: {name!r} is not a place in 'places'")
        key = (edge.start, edge.to)
        if key in edges:
            raise DataError(f"{label}: edge {i + 1}: a second edge from {key[0]!r} to {key[1]!r}")
        edges[key] = (edge.weeks, edge.capture, edge.cost_usd)
    return edges


def _legs(route: RouteSpec, edges, exits: dict[str, int], label: str) -> list[tuple[float, float, float]]:
    where = f"route {route.name!r}"
    legs = []
    for a, b in itertools.pairwise(route.path):
        if (a, b) not in edges:
            raise DataError(f"{label}: {where}, field 'path': no edge from {a!r} to {b!r} in 'edges'")
        legs.append(edges[(a, b)])
    if route.flow not in exits:
        raise DataError(f"{label}: {where}, field 'flow': {route.flow!r} is not one of {', '.join(exits)}")
    return legs


def route_map() -> dict:
    """The shipped graph for drawing: places (kind, label, lat, lon), edges and routes by name and path.

    The backends need arrays; a map needs names and coordinates, so this reads the
    same validated file as :func:`load_routes` and keeps what a reader sees.

    >>> shown = route_map()
    >>> shown["places"]["beijing"]["lat"], shown["routes"][0]["path"][:2]
    (39.9, ['yanbian', 'shenyang'])
    """
    load_routes()
    text = (resources.files("refuge.systems.korea.data") / "routes.yaml").read_text(encoding="utf-8")
    raw = safe_yaml.load(text, "routes.yaml")
    return {
        "places": {name: {k: place.get(k) for k in ("kind", "label", "lat", "lon")}
                   for name, place in raw["places"].items()},
        "edges": [{k: e[k] for k in ("from", "to", "weeks", "capture", "cost_usd", "source")} for e in raw["edges"]],
        "routes": [{k: r.get(k) for k in ("name", "path", "flow", "share", "until", "source")} for r in raw["routes"]],
    }
