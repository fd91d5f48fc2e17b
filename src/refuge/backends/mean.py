"""Backend ``mean``: the deterministic expected path (system dynamics).

Each week, a stock with total hazard ``H`` loses the share ``1 - exp(-H)``,
split among its flows in proportion to their hazards: the expectation of the
``counts`` backend's draw, from the same rates.
"""

from __future__ import annotations

import numpy as np

from ..model.definition import Model


class MeanBackend:
    name = "mean"
    dtype = np.float64

    def __init__(self, model: Model, keys: np.ndarray | None = None, timeline=None):
        sources = model.sources
        self._outflow = sources >= 0
        self._source = np.where(self._outflow, sources, 0)
        stocks = len(model.stocks)
        # (flows, stocks): +1 at the target, -1 at the source
        self._change = np.zeros((len(model.flows), stocks))
        self._change[np.arange(len(sources)), model.targets] += 1.0
        self._change[self._outflow.nonzero()[0], sources[self._outflow]] -= 1.0
        self._by_source = np.zeros((len(model.flows), stocks))
        self._by_source[self._outflow.nonzero()[0], sources[self._outflow]] = 1.0

    def step(self, state: np.ndarray, rates: np.ndarray, step: int, tally: np.ndarray) -> None:
        """Move people for one week in place, adding what each flow moved to ``tally``."""
        # (members, stocks, strata); matmul rather than einsum, which is several times slower here
        total = np.matmul(self._by_source.T, rates * self._outflow[None, :, None])
        leaving = -np.expm1(-total)
        with np.errstate(invalid="ignore", divide="ignore"):
            per_hazard = np.where(total > 0, state * leaving / total, 0.0)
        moved = np.where(self._outflow[None, :, None], rates * per_hazard[:, self._source, :], rates)
        state += np.matmul(self._change.T, moved)
        tally += moved
