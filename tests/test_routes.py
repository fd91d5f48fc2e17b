"""The route graph file: the shipped one is valid and cites its figures; faults get clear refuge errors."""

import dataclasses
from importlib import resources

import pytest
import yaml

import refuge
from refuge.errors import DataError
from refuge.systems.korea.routes import load_routes, parse_routes

SHIPPED = (resources.files("refuge.systems.korea.data") / "routes.yaml").read_text(encoding="utf-8")


def test_shipped_graph_loads_with_every_exit_covered(model):
    graph = load_routes()
    exits = {model.flow_index["reach_third_country"], model.flow_index["reach_embassy"]}
    assert set(graph.flows) == exits
    assert (graph.weeks[graph.weeks > 0] <= 4).all() and graph.legs.min() >= 2
    assert graph.crossing_fee(2017) == 8600 and graph.crossing_fee(1990) == 50
    assert graph.route_weights(model.flow_index["reach_third_country"], 2010)[graph.names.index("mongolia")] == 0


def test_figures_that_are_not_assumptions_cite_evidence_from_the_shared_record():
    evidence = (resources.files("refuge.systems.korea.data") / "EVIDENCE.md").read_text(encoding="utf-8")
    raw = yaml.safe_load(SHIPPED)
    cited = [e["source"] for e in raw["edges"] + raw["routes"] + raw["crossing_fee_usd"] if e["source"] != "assumption"]
    assert len(cited) >= 10
    for source in cited:
        assert source.split(" ")[0] in evidence, source


def _mutated(change) -> str:
    raw = yaml.safe_load(SHIPPED)
    change(raw)
    return yaml.safe_dump(raw, allow_unicode=True)


FAULTS = [
    (lambda r: r.pop("edges"), "missing section 'edges'"),
    (lambda r: r["edges"][0].update({"to": "atlantis"}), "edge 1, field 'to': 'atlantis' is not a place"),
    (lambda r: r["edges"][2].update({"weeks": -1}), "edge 3, field 'weeks': -1 is not a number in [0, 520]"),
    (lambda r: r["edges"][2].update({"capture": "high"}), "edge 3, field 'capture': 'high' is not a number"),
    (lambda r: r["edges"][0].pop("source"), "edge 1: missing field 'source'"),
    (lambda r: r["edges"].append(dict(r["edges"][0])), "a second edge from 'yanbian' to 'shenyang'"),
    (lambda r: r["places"]["yanbian"].update({"kind": "castle"}), "place 'yanbian', field 'kind': 'castle' is not one"),
    (lambda r: r["routes"][0]["path"].reverse(), "route 'laos_thailand', field 'path': no edge from 'thailand'"),
    (lambda r: r["routes"][0].update({"flow": "settle"}), "route 'laos_thailand', field 'flow': 'settle' is not one"),
    (lambda r: r["routes"][1].update({"name": "laos_thailand"}), "two routes are named 'laos_thailand'"),
    (lambda r: r["routes"][0].update({"share": 2}), "field 'share': 2 is not a number in [0, 1]"),
    (lambda r: r.update({"routes": [x for x in r["routes"] if x["flow"] != "reach_embassy"]}),
     "no route ends in flow 'reach_embassy'"),
    (lambda r: r["crossing_fee_usd"].reverse(), "crossing_fee_usd: years must increase"),
]


@pytest.mark.parametrize(("change", "message"), FAULTS)
def test_faults_are_named(model, change, message):
    with pytest.raises(DataError) as caught:
        parse_routes(_mutated(change), "my-routes.yaml", model)
    assert str(caught.value).startswith("my-routes.yaml: ")
    assert message in str(caught.value)


def test_unreadable_or_malformed_files_are_refuge_errors(tmp_path, model):
    with pytest.raises(DataError, match=r"route graph.*cannot be read"):
        load_routes(tmp_path / "missing.yaml", model)
    bad = tmp_path / "bad.yaml"
    bad.write_text("places: [unclosed")
    with pytest.raises(DataError, match="not valid YAML"):
        load_routes(bad, model)


def test_a_valid_user_graph_drives_the_backend(tmp_path, model):
    """A user's graph with one route per exit is used: everyone in transit is on one of its routes."""
    raw = yaml.safe_load(SHIPPED)
    raw["routes"] = [r for r in raw["routes"] if r["name"] in ("mongolia", "shenyang_consulate")]
    raw["routes"][0].pop("until")
    path = tmp_path / "two-routes.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True))
    graph = load_routes(path, model)
    assert graph.names == ("mongolia", "shenyang_consulate")
    from refuge.systems.korea.agents.agents import Agents

    recorder = Agents(routes=graph, record=True)
    small = dataclasses.replace(model, initial={"nk_at_risk": (3_000, 3_000), "china_hiding": (500, 500)})
    refuge.run("baseline", members=1, seed=3, model=small, timeline=refuge.model.timeline.Timeline(2000, 2002),
               backend=recorder)  # fmt: skip
    events = recorder.take_events()
    journeys = events[events["flow"].isin(["reach_third_country", "reach_embassy"])]
    assert len(journeys) > 10
    assert set(journeys["route"]) <= {"mongolia", "shenyang_consulate"}
    assert (journeys.loc[journeys["flow"] == "reach_embassy", "route"] == "shenyang_consulate").all()
