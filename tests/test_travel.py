"""The engine's travel along links, with no system: a three-place line, arrays written by hand."""

import numpy as np
import pytest

from refuge.backends.random import member_keys
from refuge.backends.travel import travellers
from refuge.errors import RunError
from refuge.model.network import Network

NET = Network.build(["town", "crossing", "camp"], [("town", "crossing", 30.0), ("crossing", "camp", 50.0)])
CHANCE = np.array([1.0, 0.5, 0.0])  # everyone leaves the town at once, half leave the crossing a day, none the camp


def _one_link_routes():
    """Every arc as a route one link long, weighted by 1 / km."""
    start, end, km, first = [0], [], [], []
    for p in range(len(NET.places)):
        for arc in NET.arcs_from(p):
            end.append(NET.head[arc]), km.append(NET.length[arc]), first.append(arc)
        start.append(len(end))
    path = np.array(end, dtype=np.int16)[:, None]
    km = np.array(km)
    return (np.array(start, np.int32), np.array(end, np.int32), km, np.array(first, np.int32), path, 1.0 / km)


def _run(backend, seed, days=12, people=1000):
    movers = travellers(backend, np.array([people, 0, 0]), 0, 1, member_keys(seed, 1)[0])
    arcs = (NET.start, NET.order, NET.tail, NET.head, NET.length, np.zeros(4, np.uint8), np.ones(4, bool))
    rules = np.array([1.0, 0.9, 20.0])  # weight power, capacity buffer, 20 km a day
    out = []
    for day in range(days):
        place = (CHANCE, np.ones(3), np.full(3, -1.0), np.array([False, False, True]), movers.count)
        movers.step_day(day, place, arcs, _one_link_routes(), rules)
        out.append([*movers.count, movers.travelling])
    return np.array(out, dtype=float)


@pytest.mark.parametrize("backend", ["agents", "counts", "mean"])
def test_people_are_conserved_and_a_seed_repeats(backend):
    run = _run(backend, seed=3)
    np.testing.assert_allclose(run.sum(axis=1), 1000)
    assert np.array_equal(run, _run(backend, seed=3))
    assert run[-1, 2] > 0 and run[0, 0] == 0  # the town empties on day 0; people reach the camp


def test_agents_and_counts_agree_with_the_expected_counts():
    mean = _run("mean", seed=0)[-1]
    for backend in ("agents", "counts"):
        runs = np.array([_run(backend, seed=k)[-1] for k in range(10)])
        spread = runs.std(axis=0, ddof=1) / np.sqrt(len(runs))
        assert (np.abs(runs.mean(axis=0) - mean) <= 4 * spread + 2).all(), (backend, runs.mean(axis=0), mean)


def test_groups_refuse_routes_longer_than_a_link_and_unknown_backends():
    with pytest.raises(RunError, match="one link long"):
        travellers("counts", np.array([1, 0, 0]), 0, 3, member_keys(0, 1)[0])
    with pytest.raises(RunError, match="choose one of agents, counts, mean"):
        travellers("abm", np.array([1, 0, 0]), 0, 1, member_keys(0, 1)[0])
