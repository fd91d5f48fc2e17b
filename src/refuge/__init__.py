"""refuge: the North Korean defection system as a computable, calibrated model.

>>> import refuge
>>> results = refuge.run("baseline", members=10, seed=0)
>>> bool(results.quantiles("arrivals_south_korea").loc[2009, "q50"] > 0)
True
"""

from .korea import north_korea
from .results import Results
from .scenarios import Scenario, builtin_names, load_scenario
from .simulation import run

__version__ = "0.1.0"
__all__ = ["Results", "Scenario", "builtin_names", "load_scenario", "north_korea", "run"]
