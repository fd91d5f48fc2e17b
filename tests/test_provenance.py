"""Every mechanism is traceable to its evidence, and every quote is verbatim."""

import pytest

import refuge
from refuge.model.provenance import Assumption, Record, Seed
from refuge.systems.korea.evidence import arrivals
from refuge.systems.korea.sources import is_verbatim

MODEL = refuge.north_korea()


def _all_evidence():
    for m in MODEL.mechanisms:
        for e in m.evidence:
            yield f"mechanism {m.id}", e
    for d in MODEL.drivers:
        for e in d.evidence:
            yield f"driver {d.name}", e
    for p in MODEL.parameters:
        for e in p.evidence:
            yield f"parameter {p.name}", e


@pytest.mark.parametrize(("owner", "evidence"), list(_all_evidence()), ids=lambda v: str(v)[:60])
def test_quotes_appear_verbatim_in_their_source(owner, evidence):
    assert is_verbatim(evidence), f"{owner}: {evidence} is not in its source"


def test_a_misquote_is_caught():
    assert not is_verbatim(Seed("003", "the regime welcomed every defector home"))
    assert not is_verbatim(Record("1", "arrivals were a million"))


def test_every_mechanism_is_carried_by_a_flow_and_has_seed_evidence():
    carried = {m for f in MODEL.flows for m in f.mechanisms}
    for mechanism in MODEL.mechanisms:
        assert mechanism.id in carried, mechanism.id
        assert any(isinstance(e, Seed) for e in mechanism.evidence), mechanism.id
    assert [m.id for m in MODEL.mechanisms] == [f"M{i}" for i in range(1, 13)]


def test_every_parameter_and_driver_has_evidence():
    for item in (*MODEL.parameters, *MODEL.drivers):
        assert item.evidence, item.name
        for e in item.evidence:
            assert isinstance(e, Seed | Record | Assumption)


def test_default_parameters_lie_within_their_bounds_and_priors():
    for p in MODEL.parameters:
        assert p.bounds[0] <= p.value <= p.bounds[1], p.name
        if p.prior is not None:
            assert p.prior.low <= p.value <= p.prior.high, p.name


def test_shipped_arrivals_record_matches_the_evidence():
    table = arrivals().dropna(subset=["total"])
    assert table.loc[2009, "total"] == 2914
    assert table.loc[2019, "female"] == 845
    assert table.loc[2021, "total"] == 63 and table.loc[2025, "female"] == 198
    assert list(table.index) == list(range(1995, 2026))
