"""The agents backend: same distributions as counts, people conserved, reproducible however it is split.

The North Korean system on a small border population (10,000 at risk instead of
3 million) keeps every flow active while an ensemble of people runs in seconds.
"""

import dataclasses
import os
import subprocess
import sys

import numba
import numpy as np
import pandas as pd
import pytest
from scipy import stats

import refuge
from refuge.backends.agents.step import hazard_tables
from refuge.model.definition import DriverView, ParameterView
from refuge.model.timeline import Timeline
from refuge.scenarios.levers import compile_inputs
from refuge.simulation import simulate
from refuge.systems.korea import journeys
from refuge.systems.korea.agents.agent_step import route_split
from refuge.systems.korea.agents.agents import WEEKS_PER_YEAR, Agents
from refuge.systems.korea.routes import load_routes

TIMELINE = Timeline(1995, 2001)
#: family-wise significance of the agreement test: each of the K comparisons is made at ALPHA / K (Bonferroni)
ALPHA = 0.01
COMPARED = [
    ("arrivals_south_korea", 1999), ("arrivals_south_korea", 2001), ("crossings_to_china", 1998),
    ("crossings_to_china", 2001), ("hiding_in_china", 2001), ("deported_from_china", 2000),
    ("caught_at_border", 2001), ("deaths", 2001), ("in_transit", 2001),
]  # fmt: skip


@pytest.fixture(scope="module")
def small():
    initial = {"nk_at_risk": (5_000, 5_000), "china_hiding": (200, 300), "sk_settled": (61, 546)}
    return dataclasses.replace(refuge.north_korea(), initial=initial)


def _diverging(a, b) -> list[tuple[str, int, float]]:
    """The compared outputs whose two-sample Kolmogorov-Smirnov test rejects equality at ALPHA / K."""
    bad = []
    for variable, year in COMPARED:
        x = a.sel(variable=variable, year=year).values
        y = b.sel(variable=variable, year=year).values
        p = stats.ks_2samp(x, y, method="asymp").pvalue
        if p < ALPHA / len(COMPARED):
            bad.append((variable, year, p))
    return bad


@pytest.fixture(scope="module")
def ensembles(small):
    counts = refuge.run("baseline", members=120, seed=1, model=small, timeline=TIMELINE).outputs()
    agents = refuge.run("baseline", members=120, seed=2, model=small, timeline=TIMELINE,
                        backend=Agents(heterogeneous=False)).outputs()  # fmt: skip
    return counts, agents


def test_agents_without_heterogeneity_match_counts(ensembles):
    counts, agents = ensembles
    assert _diverging(counts, agents) == []


def test_agreement_test_detects_a_ten_percent_change(small, ensembles):
    """The comparison has power: counts with attempts 10% more frequent is told apart from agents."""
    _counts, agents = ensembles
    more = {"attempt_base": small.parameter("attempt_base").value * 1.1}
    shifted = refuge.run("baseline", members=120, seed=3, model=small, timeline=TIMELINE, parameters=more).outputs()
    assert _diverging(shifted, agents) != []


def test_heterogeneous_agents_keep_the_aggregate_close(small, ensembles):
    """Weights averaging one per stock move who leaves, and keep totals near the model's (within 10%)."""
    counts, _ = ensembles
    agents = refuge.run("baseline", members=40, seed=4, model=small, timeline=TIMELINE, backend="agents").outputs()
    for variable in ("crossings_to_china", "arrivals_south_korea"):
        a = float(agents.sel(variable=variable).sum("year").mean())
        c = float(counts.sel(variable=variable).sum("year").mean())
        assert abs(a / c - 1) < 0.10, (variable, a, c)


COLLAPSE = Timeline(2027, 2029)


def _run_backend(model, backend, members=3, seed=5, scenario="regime-collapse", timeline=COLLAPSE):
    scenario = refuge.load_scenario(scenario, model)
    inputs = compile_inputs(model, scenario, timeline, {})
    keys = refuge.backends.random.member_keys(seed, members)
    built = backend(model, keys, timeline)
    flows, stocks, _ = simulate(model, inputs, built, members)
    return built, flows, stocks


SMALL_COLLAPSE = """
name: small-collapse
levers:
  - {lever: border_security, from: 2028-01, set: 0.0}
  - {lever: punishment, from: 2028-01, set: 0.0}
  - {lever: food_crisis, from: 2028-01, until: 2029-01, set: 1.0}
  - {lever: at_risk_inflow, from: 2028-01, until: 2029-01, set: 100}
"""


def test_people_are_conserved_and_the_state_is_their_sum(small, tmp_path):
    """Every person is in one stock; the aggregate state, the census and the people table agree."""
    collapse = dataclasses.replace(small, initial={"nk_at_risk": (2_000, 2_000), "china_hiding": (50, 50)})
    (tmp_path / "collapse.yaml").write_text(SMALL_COLLAPSE)
    built, flows, stocks = _run_backend(collapse, Agents(), scenario=str(tmp_path / "collapse.yaml"))
    inflow = flows[:, :, collapse.flow_index["newly_at_risk"], :].sum(axis=(1, 2))
    assert inflow.min() > 0
    for m in range(3):
        people = built.people(m)
        assert people.count == 4_100 + inflow[m]
        assert stocks[m, -1].sum() == people.count
        by_stock = np.zeros(stocks.shape[2:], dtype=np.int64)
        np.add.at(by_stock, (people.stock[: people.count], people.stratum[: people.count]), 1)
        np.testing.assert_array_equal(by_stock, stocks[m, -1])
        np.testing.assert_array_equal(built.census(m).sum(axis=-1), stocks[m, -1])


def test_same_seed_same_people_whatever_the_blocks_and_threads(small, monkeypatch):
    """Members in blocks of 3 on the parallel kernel (2 threads, 3 chunks), or one by one on one thread:
    the same flows and the same trajectories, person by person."""
    runs = []
    for block, threads in ((3, 2), (1, 1)):
        monkeypatch.setattr(refuge.backends.agents.step, "PARALLEL_FROM", 0 if threads == 2 else 1 << 30)
        numba.set_num_threads(threads)
        try:
            recorder, flows, events = Agents(record=True), [], []
            blocks = refuge.simulation.iterate_blocks("baseline", members=3, seed=7, backend=recorder, model=small,
                                                      timeline=TIMELINE, block=block)  # fmt: skip
            for first, part in blocks:
                flows.append(part.data.flows.values)
                events.append(recorder.take_events(first))
        finally:
            numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
        runs.append((np.concatenate(flows), pd.concat(events, ignore_index=True)))
    (flows_a, events_a), (flows_b, events_b) = runs
    np.testing.assert_array_equal(flows_a, flows_b)
    assert flows_a.sum() > 1_000 and len(events_a) > 1_000 and events_a["member"].nunique() == 3
    pd.testing.assert_frame_equal(events_a, events_b)


def test_recorded_moves_add_up_to_the_flows(small):
    """The journey records are the flows, person by person: same counts per flow and year."""
    recorder = Agents(record=True)
    results = refuge.run("baseline", members=2, seed=8, model=small, timeline=TIMELINE, backend=recorder)
    events = recorder.take_events()
    counted = events.groupby(["member", events["year"].astype(int), "flow"], observed=False).size()
    for flow in ("cross_to_china", "leave_china", "reach_third_country", "transfer_to_south", "deported_from_china"):
        tallied = results.data.flows.sel(flow=flow).sum("sex").to_pandas()
        for member in (0, 1):
            np.testing.assert_array_equal(counted.xs((member, flow), level=("member", "flow")).values,
                                          tallied.loc[member].values)  # fmt: skip


def test_kin_in_the_south_raise_attempts_when_people_differ(small):
    """M8 at the level of people: with heterogeneity, people with kin in the South try more often."""
    model = dataclasses.replace(small, initial={"nk_at_risk": (5_000, 5_000), "sk_settled": (1_000, 1_000)})
    built, _, _ = _run_backend(model, Agents(), members=2, scenario="baseline", timeline=Timeline(2000, 2003))
    with_kin, without = [], []
    for m in range(2):
        people = built.people(m)
        tried = people.attempts[: people.count] > 0
        kin = people.kin[: people.count] == 1
        with_kin.append(tried[kin].mean())
        without.append(tried[~kin].mean())
    assert min(with_kin) > 1.3 * max(without)


def test_hazard_tables_match_plain_numpy(small):
    """The compiled table of leaving chances equals 1 - exp(-summed rates) without heterogeneity."""
    built, _, stocks = _run_backend(small, Agents(heterogeneous=False), members=1, scenario="baseline",
                                    timeline=Timeline(2005, 2005))  # fmt: skip
    inputs = compile_inputs(small, refuge.load_scenario("baseline", small), Timeline(2005, 2005), {})
    rates = small.rates(stocks[:, -1].astype(float), DriverView(inputs.drivers_at(10)),
                        ParameterView(inputs.parameters_at(10)))[0]  # fmt: skip
    b, korean = built, built.traits
    p_leave, cum, route_cum = np.zeros_like(b._p_leave), np.zeros_like(b._cum), np.zeros((2, len(korean.graph.names)))
    hazard_tables(rates, b.census(0), b._weights, b._outflows, b._nout, b._destined, b._destinations, p_leave, cum)
    route_split(rates, korean.route_exit, korean.graph.flows, korean._route_weights(2005.2), route_cum)
    for s in range(len(small.stocks)):
        total = rates[small.sources == s].sum(axis=0)
        if total.sum() == 0:
            continue
        present = b.census(0)[s, :, 0] > 0  # tables are made for classes with people in them
        np.testing.assert_allclose(p_leave[s, present, 0], -np.expm1(-total[present]))
        if s != korean.transit:
            split = np.cumsum(rates[small.sources == s], axis=0).T / total[:, None]
            np.testing.assert_allclose(cum[s, present, 0, : b._nout[s]], split[present])
    embassy, third = rates[small.flow_index["reach_embassy"]], rates[small.flow_index["reach_third_country"]]
    embassy_routes = korean.graph.flows == small.flow_index["reach_embassy"]
    on_embassy_routes = np.diff(route_cum, prepend=0.0, axis=1)[:, embassy_routes]
    np.testing.assert_allclose(route_cum[:, -1], 1.0)
    np.testing.assert_allclose(on_embassy_routes.sum(axis=1), embassy / (embassy + third))


def test_journeys_are_written_and_add_up(small, tmp_path):
    """Trajectories go to Parquet; every arrival in the flows is one journey, with its cost and attempts."""
    recorder = Agents(record=True)
    results = refuge.run("baseline", members=2, seed=9, model=small, timeline=Timeline(2008, 2012), backend=recorder)
    events = recorder.take_events()
    paths = journeys.write(events, tmp_path)
    assert [p.name for p in paths if p.stat().st_size > 0] == ["trajectories.parquet", "journeys.csv", "journeys.png"]
    table = journeys.arrivals(pd.read_parquet(paths[0]))
    tallied = results.data.flows.sel(flow=list(journeys.ARRIVALS)).sum().item()
    assert len(table) == tallied > 20
    crossed = table.dropna(subset=["weeks_from_crossing"])
    assert (crossed["weeks_from_crossing"] > 0).all() and (crossed["attempts"] >= 1).all()
    graph, first_crossing = load_routes(), events.groupby(["member", "person"])["crossed"].first()
    pairs = zip(crossed.member, crossed.person, strict=True)
    fee = [graph.crossing_fee(2008 + first_crossing[m, p] // 52) for m, p in pairs]
    # the fee of the year, then a first edge (300 $) unless they went straight to the South after returning home
    edge = np.where(crossed["route"] != "none", 300, 0)
    assert (crossed["cost_usd"] >= np.floor(fee) + edge).all()
    summary = journeys.distributions(table)
    assert summary.loc["attempts", "q50"] >= 1 and summary.loc["cost_usd", "arrivals"] == len(table)


def test_move_kernel_matches_a_plain_python_week(small):
    """One week of the compiled kernel equals the same week written person by person in Python."""
    from refuge.backends.agents.step import MOVE
    from refuge.backends.random import uniforms
    from refuge.systems.korea.agents.agent_step import COLUMNS, class_of

    busy = dataclasses.replace(small, initial={**small.initial, "china_hiding": (3_000, 3_000),
                                               "in_transit": (500, 500), "third_country": (300, 300)})  # fmt: skip
    built, _, stocks = _run_backend(busy, Agents(heterogeneous=False), members=1, scenario="baseline",
                                    timeline=Timeline(2005, 2005))  # fmt: skip
    b, people = built, built.people(0)
    before = {name: column.copy() for name, column in people.table().items()}
    inputs = compile_inputs(busy, refuge.load_scenario("baseline", busy), Timeline(2005, 2005), {})
    state = stocks[:, -1].copy()
    rates = busy.rates(state, DriverView(inputs.drivers_at(51)), ParameterView(inputs.parameters_at(51)))
    b.step(state, rates, 51, np.zeros(rates.shape, dtype=np.int64))
    k0, k1 = b._keys[0]
    traits, context = tuple(before[name] for name in COLUMNS), b.traits.context(state[0], rates[0], 51, None)
    classes = np.empty(before["stock"].size, dtype=np.int64)
    class_of(traits, before["stock"], 0, classes.size, context, classes)
    expected = before["stock"].copy()
    for i in range(expected.size):
        s = int(before["stock"][i])
        if b._nout[s] == 0:
            continue
        x, c = before["stratum"][i], classes[i]
        u = uniforms(k0, k1, 51, MOVE, i >> 2)[i & 3]
        p = b._p_leave[s, x, c]
        if u < p:
            j = int(np.searchsorted(b._cum[s, x, c, : b._nout[s] - 1], u / p, side="left"))
            expected[i] = b._targets[b._outflows[s, j]]
    assert (expected != before["stock"]).sum() > 20  # the week moved people, so the comparison has teeth
    np.testing.assert_array_equal(people.stock[: expected.size], expected)


def test_trajectories_need_the_agents_backend(tmp_path):
    """Asking counts for journeys is one clear message, exit code 2, and nothing written."""
    out = tmp_path / "o"
    command = [sys.executable, "-m", "refuge", "run", "baseline", "--members", "2", "--trajectories", "--out", str(out)]
    done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "COLUMNS": "200"})
    assert done.returncode == 2
    assert "--trajectories needs --backend agents, not 'counts'" in done.stderr
    assert "Traceback" not in done.stderr and not out.exists() and not list(tmp_path.glob(".*"))


def _ring(first_flow: str):
    """Five places in a ring, each person leaving along one of two flows; the first flow named ``first_flow``."""
    from refuge.model.definition import Flow, Model, Parameter, Stock, Strata

    stocks = tuple(Stock(f"place_{i}", f"place {i}", "a place") for i in range(5))
    ends = [(i, (i + d) % 5) for i in range(5) for d in (1, 2)]
    names = [first_flow, *(f"move_{i}_{j}" for i, j in ends[1:])]
    flows = tuple(Flow(n, f"place_{i}", f"place_{j}", lambda s, d, p: p.move_hazard, ()) for n, (i, j) in
                  zip(names, ends, strict=True))  # fmt: skip
    hazard = Parameter("move_hazard", 0.1, "per week", "hazard of each move", ())
    return Model("ring", stocks, flows, (), (hazard,), {s.name: (300, 200) for s in stocks}, (),
                 strata=Strata("sex", ("female", "male")))  # fmt: skip


def test_people_alike_take_the_short_walk_and_move_as_in_the_full_week():
    """The engine's agents without traits take ``_walk_alike``; the Korean traits (on a ring without the Korean
    stocks, one flow named an attempt) send the same people through the full week with the Korean hooks, which
    count attempts and age people: they must make the same moves, recorded."""
    from refuge.backends import agents
    from refuge.backends.random import member_keys

    runs = {}
    for first, recorder in (("move_0_1", agents.Agents(record=True)),
                            ("cross_to_china", Agents(heterogeneous=False, record=True))):  # fmt: skip
        model = _ring(first)
        backend = recorder(model, member_keys(3, 1), TIMELINE)
        state = model.initial_state(1, dtype=np.int64)
        rates = model.rates(state, DriverView({}), ParameterView({"move_hazard": 0.1}))
        tally = np.zeros(rates.shape, dtype=np.int64)
        for step in range(WEEKS_PER_YEAR + 1):  # across a new year: everyone in the full week ages once
            backend.step(state, rates, step, tally)
        runs[first] = backend.people(0), tally, backend.take_events()
    (short, short_tally, short_events), (full, full_tally, full_events) = runs["move_0_1"], runs["cross_to_china"]
    assert short_tally.sum() > 1_000 and full.attempts.max() > 0 and not hasattr(short, "attempts")
    np.testing.assert_array_equal(short_tally, full_tally)
    np.testing.assert_array_equal(short.stock, full.stock)
    assert len(short_events) == short_tally.sum()
    for column in ("step", "person", "sex"):
        np.testing.assert_array_equal(short_events[column], full_events[column])
    np.testing.assert_array_equal(short_events["flow"].cat.codes, full_events["flow"].cat.codes)


def test_a_newcomer_in_an_aged_out_place_has_paid_nothing():
    """The broker fees of the one who aged out at 60 passed to the 16-year-old who took the place."""
    from refuge.systems.korea.agents import agent_step as hooks
    from refuge.systems.korea.agents.agent_step import AGE, ATTEMPTS, COST, CROSSED, SAVINGS

    traits = tuple(np.zeros(1, dtype=kind) for kind in hooks.COLUMNS.values())
    traits[AGE][0], traits[COST][0], traits[SAVINGS][0], traits[ATTEMPTS][0], traits[CROSSED][0] = 59, 500, 80, 3, 7
    flows = np.zeros(3, np.bool_)
    week = hooks.Week(0, 1, 2, 1, 100, 300.0, 0, 0.0, 0.0, np.ones((2, 1)), np.ones(1, np.int64), np.ones((1, 1)),
                      np.zeros((1, 1)), np.ones(1), flows, flows, flows)  # fmt: skip
    stayed = np.full(1, -1, np.int64)
    hooks.live(traits, np.zeros(1, np.uint8), np.zeros(1, np.uint8), 0, 1, stayed, np.array([0.9]), np.array([0.1]),
               (np.uint64(1), np.uint64(2), 52, True), week)  # a new year, at risk (stock 0), turning 60
    assert (traits[AGE][0], traits[COST][0], traits[SAVINGS][0], traits[ATTEMPTS][0], traits[CROSSED][0]) == \
        (hooks.AGE_IN, 0, 0, 0, -1)


def test_newcomers_are_recorded_as_they_come(small, tmp_path):
    """``record=True`` keeps every move: the inflow's newcomers were missing from the journeys."""
    collapse = dataclasses.replace(small, initial={"nk_at_risk": (2_000, 2_000), "china_hiding": (50, 50)})
    (tmp_path / "collapse.yaml").write_text(SMALL_COLLAPSE)
    built, flows, _ = _run_backend(collapse, Agents(record=True), scenario=str(tmp_path / "collapse.yaml"))
    events = built.take_events()
    came = events[events.flow == "newly_at_risk"].groupby("member").size()
    inflow = flows[:, :, collapse.flow_index["newly_at_risk"], :].sum(axis=(1, 2))
    assert inflow.min() > 0 and came.tolist() == inflow.tolist()
    assert (events[events.flow == "newly_at_risk"].person >= 4_100).all()  # rows after the people there at the start


def test_a_newcomer_who_takes_a_row_of_the_pool_at_risk_is_someone_else(small):
    """Someone at risk who reaches 60 leaves the pool and a newcomer of 16 takes their row: a person of their
    own, not the moves of two people under one number."""
    recorder = Agents(record=True)
    refuge.run("baseline", members=1, seed=3, model=small, timeline=Timeline(1990, 2040), backend=recorder,
               calibrated=False)  # fmt: skip
    events = recorder.take_events()
    birth = np.floor(events["year"]) - events["age"].astype(int)
    assert (birth.groupby([events["member"], events["person"]]).nunique() == 1).all()
    assert (events["person"] >= 100_000).any()  # a newcomer who moved: row + 10**5 (the member has 11,107 rows)


def test_people_are_numbered_by_their_year_of_birth():
    from refuge.systems.korea.agents.agents import people

    table = pd.DataFrame({"member": [0, 0, 0, 0, 1], "person": [7, 7, 7, 123, 7],
                          "year": [1991.2, 2001.5, 2040.1, 1995.0, 2040.1], "age": [30, 40, 20, 16, 20]})  # fmt: skip
    assert list(people(table)) == [7, 7, 1007, 123, 7]  # the third move is a newcomer's; member 1 has its own rows
