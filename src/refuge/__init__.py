"""refuge: the North Korean defection system as a computable, calibrated model.

>>> import refuge
>>> results = refuge.run("baseline", members=10, seed=0)
>>> bool(results.quantiles("arrivals_south_korea").loc[2009, "q50"] > 0)
True

The public names are imported on first use, so that ``refuge --help`` and
``import refuge.errors`` do not pay for numpy, numba, pandas and xarray.
"""

from importlib import import_module

__version__ = "0.1.0"
__all__ = ["Results", "Scenario", "builtin_names", "load_scenario", "north_korea", "run"]

_HOMES = {
    "north_korea": ".systems.korea",
    "Results": ".results",
    "Scenario": ".scenarios",
    "builtin_names": ".scenarios",
    "load_scenario": ".scenarios",
    "run": ".simulation",
}


def __getattr__(name: str):
    if name not in _HOMES:
        raise AttributeError(f"module 'refuge' has no attribute {name!r}")
    value = getattr(import_module(_HOMES[name], __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_HOMES])
