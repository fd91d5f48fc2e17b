"""Shared fixtures: the model, small runs reused across tests, and small Flee scenario folders."""

from pathlib import Path

import pytest

import refuge
from refuge.model.timeline import Timeline


@pytest.fixture(scope="session")
def model():
    return refuge.north_korea()


@pytest.fixture(scope="session")
def short():
    """1990-2012: long enough for every mechanism to act, short enough to be quick."""
    return Timeline(1990, 2012)

FLEE_LOCATIONS = """\
#name,region,country,latitude,longitude,location_type,conflict_date,population
A,ra,Home,0.0,0.0,conflict_zone,0,1000
B,rb,Home,0.1,0.1,town,,
C,rc,Abroad,0.2,0.2,camp,,500
"""

FLEE_ROUTES = """\
#name1,name2,distance,forced_redirection
A,B,50,
B,C,120,0
"""

FLEE_FILES = {
    "input_csv/locations.csv": FLEE_LOCATIONS,
    "input_csv/routes.csv": FLEE_ROUTES,
    "input_csv/closures.csv": "#closure_type,name1,name2,closure_start,closure_end\n",
    "input_csv/sim_period.csv": "StartDate,2020-01-01\nLength,12\n",
    "source_data/data_layout.csv": "total,refugees.csv\nC,c.csv\n",
    "source_data/refugees.csv": "Date,Refugee_numbers\n2019-12-20,100\n2020-01-11,300\n",
    "source_data/c.csv": "DateTime,refugees\n2020-01-01,0\n2020-01-11,200\n",
    "simsetting.yml": "move_rules:\n  max_move_speed: 200.0\n  camp_weight: 2.0\n",
}


@pytest.fixture
def flee_folder(tmp_path):
    """A writer of small Flee scenario folders: the base one, with files replaced (by text, or by a function
    of the base file's text) or left out (``None``)."""

    def write(changes: dict | None = None, name: str = "scenario") -> Path:
        folder = tmp_path / name
        for file, text in {**FLEE_FILES, **(changes or {})}.items():
            if callable(text):
                text = text(FLEE_FILES[file])
            if text is None:
                continue
            path = folder / file
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        return folder

    return write
