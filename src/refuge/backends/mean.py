"""Backend ``mean``: the deterministic expected path (system dynamics).

Each step, a stock with total hazard ``H`` loses the share ``1 - exp(-H)``,
split among its flows in proportion to their hazards: the expectation of the
``counts`` backend's draw, from the same rates.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from ..model.definition import Model


class MeanBackend:
    name = "mean"
    dtype = np.float64

    def __init__(self, model: Model, keys: np.ndarray | None = None, timeline=None):
        self._sources = model.sources
        self._targets = model.targets

    def step(self, state: np.ndarray, rates: np.ndarray, step: int, tally: np.ndarray) -> None:
        """Move people for one step in place, adding what each flow moved to ``tally``."""
        _expected_step(state, rates, self._sources, self._targets, tally)


@nb.njit(cache=True, error_model="numpy")
def _expected_step(state, rates, sources, targets, tally):
    """One compiled pass per member and stratum: NumPy's version made ten temporaries a step."""
    members, stocks, strata = state.shape
    flows = rates.shape[1]
    total = np.empty(stocks)
    moved = np.empty(flows)
    for m in range(members):
        for x in range(strata):
            total[:] = 0.0
            for f in range(flows):
                if sources[f] >= 0:
                    total[sources[f]] += rates[m, f, x]
            for f in range(flows):
                s = sources[f]
                if s < 0:
                    moved[f] = rates[m, f, x]  # an inflow's rate is people a step
                elif total[s] > 0:
                    moved[f] = rates[m, f, x] * (state[m, s, x] * -np.expm1(-total[s]) / total[s])
                else:
                    moved[f] = 0.0
            for f in range(flows):
                if sources[f] >= 0:
                    state[m, sources[f], x] -= moved[f]
                state[m, targets[f], x] += moved[f]
                tally[m, f, x] += moved[f]
