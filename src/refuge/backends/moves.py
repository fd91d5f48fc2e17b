"""Counted moves applied to the stocks: the one loop the engine's record of a block and the agents backend share."""

import numba as nb


@nb.njit(cache=True, inline="always")
def apply_counts(state, counts, sources, targets):
    """Move ``counts`` ``(flows, strata)`` out of each flow's source stock (none for an inflow) and into its
    target, in ``state`` ``(stocks, strata)``, in place."""
    for f in range(counts.shape[0]):
        for x in range(counts.shape[1]):
            n = counts[f, x]
            if n != 0:
                if sources[f] >= 0:
                    state[sources[f], x] -= n
                state[targets[f], x] += n
