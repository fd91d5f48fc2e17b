"""One seed, the same numbers: whatever the blocks, and shared by scenarios until they differ."""

import numpy as np

import refuge


def test_same_seed_same_results_different_seed_different(short):
    a = refuge.run("baseline", members=6, seed=5, timeline=short)
    b = refuge.run("baseline", members=6, seed=5, timeline=short)
    c = refuge.run("baseline", members=6, seed=6, timeline=short)
    assert a.data.equals(b.data)
    assert not np.array_equal(a.data.flows.values, c.data.flows.values)


def test_members_do_not_depend_on_block_size(short):
    whole = refuge.run("baseline", members=7, seed=3, timeline=short, block=7)
    blocks = refuge.run("baseline", members=7, seed=3, timeline=short, block=3)
    np.testing.assert_array_equal(whole.data.flows.values, blocks.data.flows.values)
    np.testing.assert_array_equal(whole.data.stocks.values, blocks.data.stocks.values)


def test_the_parallel_and_serial_kernels_draw_the_same_numbers():
    from refuge.backends.counts import PARALLEL_MEMBERS
    from refuge.model.timeline import Timeline

    members, famine = PARALLEL_MEMBERS + 4, Timeline(1994, 1999)
    parallel = refuge.run("baseline", members=members, seed=5, timeline=famine, block=members)
    serial = refuge.run("baseline", members=members, seed=5, timeline=famine, block=PARALLEL_MEMBERS // 2)
    np.testing.assert_array_equal(parallel.data.stocks.values, serial.data.stocks.values)


def test_members_are_different_draws(short):
    res = refuge.run("baseline", members=4, seed=0, timeline=short)
    arrivals = res.outputs().sel(variable="arrivals_south_korea", year=2005).values
    assert len(set(arrivals)) > 1


def test_scenarios_share_random_numbers_until_their_levers_act():
    """Common random numbers: a lever from 2027 leaves every draw before 2027 as it was."""
    base = refuge.run("baseline", members=3, seed=9)
    closed = refuge.run("border-closure", members=3, seed=9)
    before = dict(year=slice(1990, 2026))
    assert base.data.flows.sel(**before).equals(closed.data.flows.sel(**before))
    assert not base.data.flows.sel(year=2027).equals(closed.data.flows.sel(year=2027))


def test_draws_are_keyed_by_decision(model):
    """Changing one stock's hazards leaves every other stock's draws exactly as they were."""
    from refuge.backends.counts import CountsBackend
    from refuge.backends.random import member_keys

    state = model.initial_state(4, dtype=np.int64)
    state[:, model.stock_index["china_hiding"]] = 50_000
    state[:, model.stock_index["sk_settled"]] = 20_000
    rates = np.full((4, len(model.flows), 2), 1e-3)
    changed = rates.copy()
    changed[:, model.flow_index["re_defect"]] = 0.2
    moved = []
    for r in (rates, changed):
        tally = np.zeros(r.shape, dtype=np.int64)
        CountsBackend(model, member_keys(1, 4)).step(state.copy(), r, 100, tally)
        moved.append(tally)
    settled = [f.name for f in model.flows if f.source == "sk_settled"]
    others = [model.flow_index[f.name] for f in model.flows if f.name not in settled]
    assert not np.array_equal(moved[0][:, model.flow_index["re_defect"]], moved[1][:, model.flow_index["re_defect"]])
    np.testing.assert_array_equal(moved[0][:, others], moved[1][:, others])


def test_a_misspelt_parameter_is_an_error_with_a_suggestion():
    import pytest

    from refuge.errors import RunError

    with pytest.raises(RunError, match=r"'atempt_base' is not a parameter of the model; did you mean 'attempt_base'"):
        refuge.run("baseline", members=1, parameters={"atempt_base": 1.0})
