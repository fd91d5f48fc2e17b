"""Flow families: one hazard call for many flows (every move along every link), the same numbers as flows alone."""

import numpy as np
import pytest

import refuge
from refuge.errors import ModelError
from refuge.model.definition import Flow, FlowFamily, Model, Output, Parameter, Stock
from refuge.model.network import Network
from refuge.model.timeline import Timeline
from refuge.scenarios import Scenario

NET = Network.build(["home", "town", "border", "camp"],
                    [("home", "town", 40.0), ("town", "border", 60.0), ("town", "camp", 150.0)])  # fmt: skip
DEGREE = np.bincount(NET.tail, minlength=len(NET.places))[NET.tail]  # links at each arc's tail


def moves(s, d, p):
    """Leave a place at ``p.move`` a step, more when it is crowded, split evenly over its links."""
    people = s.stack(NET.places)[:, NET.tail, :]  # (members, arcs, strata)
    return p.move * (1.0 + people / 5e4) / DEGREE[:, None]


def camp_model(family: bool) -> Model:
    walk = FlowFamily.along(NET, "move", moves)
    if family:
        flows = walk.flows()
    else:  # the same flows, one hazard call each
        flows = tuple(Flow(f.name, f.source, f.target, (lambda s, d, p, k=k: moves(s, d, p)[:, k, :]), ())
                      for k, f in enumerate(walk.flows()))  # fmt: skip
    return Model(
        name="walk",
        stocks=tuple(Stock(p, p, "") for p in NET.places),
        flows=(*flows, Flow("arrive", None, "home", lambda s, d, p: 200.0, ())),
        drivers=(),
        parameters=(Parameter("move", 0.05, "per step", "move", ()),),
        initial={"home": (60_000.0,)},
        outputs=(Output("in_camp", "in the camp", stock="camp"),),
        network=NET,
    )


def run(model: Model, backend: str):
    return refuge.run(Scenario("walk", ""), members=3, seed=2, backend=backend, model=model,
                      timeline=Timeline(2000, 2001, steps_per_year=365), calibrated=False)  # fmt: skip


@pytest.mark.parametrize("backend", ["mean", "counts"])
def test_a_family_gives_the_numbers_its_flows_give_one_by_one(backend):
    together, alone = run(camp_model(True), backend), run(camp_model(False), backend)
    np.testing.assert_array_equal(together.data.flows.values, alone.data.flows.values)
    np.testing.assert_array_equal(together.data.stocks.values, alone.data.stocks.values)
    assert together.data.stocks.sel(stock="camp").values.min() > 0  # people walked two links to the camp


def test_a_family_is_one_hazard_call_a_step():
    calls = []

    def counted(s, d, p):
        calls.append(1)
        return moves(s, d, p)

    walk = FlowFamily.along(NET, "move", counted)
    parameters = (Parameter("move", 0.05, "per step", "move", ()),)
    model = Model("walk", tuple(Stock(p, p, "") for p in NET.places), walk.flows(), (), parameters,
                  {"home": (1_000.0,)}, (), network=NET)  # fmt: skip
    run(model, "mean")
    assert len(calls) == Timeline(2000, 2001, steps_per_year=365).steps
    assert [f.name for f in model.flows][:2] == ["move:home->town", "move:town->home"]


def test_a_family_split_apart_or_a_place_without_a_stock_is_refused():
    walk = FlowFamily.along(NET, "move", moves)
    stocks = tuple(Stock(p, p, "") for p in NET.places)
    parameters = (Parameter("move", 0.05, "per step", "move", ()),)
    flows = walk.flows()
    with pytest.raises(ModelError, match="family 'move': its flows must be listed together"):
        Model("walk", stocks, (flows[0], Flow("x", "home", "camp", moves, ()), *flows[1:]), (), parameters, {}, ())
    with pytest.raises(ModelError, match="family 'move': its flows must be listed together"):
        Model("walk", stocks, flows[:-1], (), parameters, {}, ())
    with pytest.raises(ModelError, match=r"network: places \['camp'\] are not stocks"):
        Model("walk", stocks[:-1], (), (), parameters, {}, (), network=NET)
