"""The rows of a Flee scenario folder and its ``simsetting.yml``, validated with pydantic.

Defaults are Flee 3.1's (``SimulationSettings.ReadFromYML``). Options Flee has
that change the rules refuge does not implement yet (flood rules, conflict-driven
spawning, agent demographics that steer routes) are refused by name rather than
silently ignored.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

#: location types, matched as Flee matches them: by substring, first match wins
PLACE_KINDS = ("camp", "conflict", "forward", "marker", "default", "town")


def _empty_is_none(value: object) -> object:
    return None if isinstance(value, str) and value.strip() == "" else value


class LocationRow(BaseModel):
    """A row of ``locations.csv``: ``name,region,country,latitude,longitude,location_type,conflict_date,population``."""

    model_config = ConfigDict(str_strip_whitespace=True)

    name: str = Field(min_length=1)
    region: str = ""
    country: str = ""
    latitude: float | None = None
    longitude: float | None = None
    location_type: str
    conflict_date: int | None = None
    population: int | None = Field(default=None, ge=0)

    @field_validator("latitude", "longitude", "conflict_date", "population", mode="before")
    @classmethod
    def _blank(cls, value: object) -> object:
        return _empty_is_none(value)

    @field_validator("location_type")
    @classmethod
    def _kind(cls, value: str) -> str:
        if not any(kind in value.lower() for kind in PLACE_KINDS):
            raise ValueError(f"not a location type; allowed: one containing {', '.join(PLACE_KINDS)}")
        return value

    @property
    def kind(self) -> str:
        return next(kind for kind in PLACE_KINDS if kind in self.location_type.lower())


class RouteRow(BaseModel):
    """One row of ``routes.csv``: ``#name1,name2,distance,forced_redirection`` (links are two-way)."""

    model_config = ConfigDict(str_strip_whitespace=True)

    name1: str = Field(min_length=1)
    name2: str = Field(min_length=1)
    distance: float = Field(gt=0, allow_inf_nan=False)
    forced_redirection: int = Field(default=0, ge=0, le=2)

    @field_validator("forced_redirection", mode="before")
    @classmethod
    def _blank(cls, value: object) -> object:
        return 0 if _empty_is_none(value) is None else value


class ClosureRow(BaseModel):
    """One row of ``closures.csv``: ``#closure_type,name1,name2,closure_start,closure_end`` (days)."""

    model_config = ConfigDict(str_strip_whitespace=True)

    closure_type: str
    name1: str = Field(min_length=1)
    name2: str = ""
    closure_start: int
    closure_end: int

    @field_validator("closure_type")
    @classmethod
    def _type(cls, value: str) -> str:
        allowed = ("country", "location", "link", "camp", "idpcamp", "remove_forced_redirection")
        if value not in allowed:
            raise ValueError(f"not a closure type; allowed: {', '.join(allowed)}")
        return value


class _Section(BaseModel):
    model_config = ConfigDict(extra="ignore", allow_inf_nan=False)


class SpawnRules(_Section):
    take_from_population: bool = False
    insert_day0: bool = True
    conflict_spawn_decay: list[Annotated[float, Field(ge=0)]] | None = None
    conflict_zone_spawning_only: bool = True


class MoveRules(_Section):
    max_move_speed: float = Field(default=360.0, gt=0)
    foreign_weight: float = Field(default=1.0, ge=0)
    camp_weight: float = Field(default=1.0, ge=0)
    conflict_weight: float = Field(default=1.0 / 3.16227766017, ge=0)
    conflict_movechance: float = Field(default=1.0, ge=0, le=1)
    camp_movechance: float = Field(default=0.001, ge=0, le=1)
    idpcamp_movechance: float = Field(default=0.1, ge=0, le=1)
    default_movechance: float = Field(default=0.3, ge=0, le=1)
    awareness_level: int = Field(default=1, ge=1, le=4)  # at 0 nobody in Flee 3.1 ever moves
    capacity_buffer: float = Field(default=0.9, gt=0, lt=1)
    softening: float = Field(default=10.0, ge=0)
    weight_softening: float = Field(default=0.0, ge=0)
    weight_power: float = Field(default=1.0, ge=0)
    distance_power: float = Field(default=1.0, ge=0)
    movechance_pop_base: float = Field(default=10000.0, gt=0)
    movechance_pop_scale_factor: float = 0.0
    use_v1_rules: bool = False


class Optimisations(_Section):
    hasten: int = Field(default=1, ge=1)


#: every key Flee 3.1 reads in each section of ``simsetting.yml`` (its ``SimulationSettings``; Flee ignores any
#: other, and so does refuge, unless the key is a near miss of one of these: a typo). ``camps_are_sicks`` is
#: spelt as Flee reads it (its rule is ``camps_are_sinks``; a file saying that is ignored by Flee)
FLEE_KEYS = {
    "spawn_rules": ("take_from_population", "insert_day0", "conflict_zone_spawning_only", "flood_zone_spawning_only",
                    "camps_are_sicks", "read_from_agents_csv_file", "conflict_driven_spawning",
                    "flood_driven_spawning", "conflict_spawn_decay", "flood_movechances", "flood_loc_weights",
                    "flood_link_weights"),
    "move_rules": ("max_move_speed", "max_walk_speed", "max_crossing_speed", "foreign_weight", "camp_weight",
                   "conflict_weight", "conflict_movechance", "camp_movechance", "idpcamp_movechance",
                   "default_movechance", "awareness_level", "capacity_buffer", "avoid_short_stints", "start_on_foot",
                   "use_v1_rules", "softening", "weight_softening", "weight_power", "distance_power",
                   "stay_close_to_home", "home_distance_power", "use_pop_for_loc_weight", "pop_power_for_loc_weight",
                   "movechance_pop_base", "movechance_pop_scale_factor", "ChildrenAvoidHazards", "BoysTakeRisk",
                   "MatchCampEthnicity", "MatchTownEthnicity", "MatchConflictEthnicity"),
    "optimisations": ("hasten",),
}

#: the top-level names Flee 3.1 reads in ``simsetting.yml``: a near miss of one is a typo
FLEE_SECTIONS = ("number_of_steps", "conflict_input_file", "log_levels", "spawn_rules", "move_rules", "flood_rules",
                 "optimisations")  # fmt: skip

#: columns of ``routes.csv`` that Flee's rules read (``Person.finish_travel``) and refuge does not implement
LINK_ATTRIBUTES = ("max_move_speed", "walk_probability")

#: settings whose rules refuge does not implement: (section, key, the value that is Flee's default)
UNSUPPORTED = (
    ("spawn_rules", "conflict_driven_spawning", None),
    ("spawn_rules", "flood_zone_spawning_only", False),
    ("spawn_rules", "read_from_agents_csv_file", False),
    ("spawn_rules", "camps_are_sicks", False),
    ("move_rules", "avoid_short_stints", False),
    ("move_rules", "start_on_foot", False),
    ("move_rules", "stay_close_to_home", False),
    ("move_rules", "use_pop_for_loc_weight", False),
    ("move_rules", "ChildrenAvoidHazards", False),
    ("move_rules", "MatchCampEthnicity", False),
    ("move_rules", "MatchTownEthnicity", False),
    ("move_rules", "MatchConflictEthnicity", False),
    ("flood_rules", None, None),
)


class Settings(_Section):
    """``simsetting.yml``: Flee's spawn and move rules and the population scale-down (``hasten``)."""

    spawn_rules: SpawnRules = Field(default_factory=SpawnRules)
    move_rules: MoveRules = Field(default_factory=MoveRules)
    optimisations: Optimisations = Field(default_factory=Optimisations)

    def rules(self) -> MoveRules:
        """The move rules in force: Flee's version-1 rules replace four of them when asked for."""
        if not self.move_rules.use_v1_rules:
            return self.move_rules
        return self.move_rules.model_copy(update={"max_move_speed": 200.0, "camp_weight": 2.0,
                                                  "conflict_weight": 0.25})  # fmt: skip
