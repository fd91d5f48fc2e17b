"""A small seeded Korean agents run, pinned person by person: moving the agents into the engine changes no number.

Three members of the Korean model on a small border population (as ``test_agents.py``), 1990-2000,
seed 11: every flow and stock per year and member, every output per year, and the recorded moves
(counted by member, year and flow, and each recorded trait summed), with the Korean traits and without.
The arrays were written by this module (``python tests/test_pinned_agents.py``) at commit d968616,
before the agents backend moved into the engine (issue 10, item 1), and written again when a newcomer
taking an aged-out place began with no broker costs paid: only the summed ``cost`` changed; and again
when such a newcomer got a number of their own: only ``people`` changed.
"""

import dataclasses
from pathlib import Path

import numpy as np
import pytest

import refuge
from refuge.model.timeline import Timeline

PINNED = Path(__file__).with_name("pinned") / "korea_agents_seed11.npz"
KINDS = ("traits", "alike")
#: the recorded traits summed over every move (what a journey is made of)
RECORDED = ("age", "kin", "attempts", "route", "savings", "cost", "crossed")


def _small():
    initial = {"nk_at_risk": (5_000, 5_000), "china_hiding": (200, 300), "sk_settled": (61, 546)}
    return dataclasses.replace(refuge.north_korea(), initial=initial)


def pinned_run(kind: str) -> dict[str, np.ndarray]:
    from refuge.systems.korea.agents.agents import Agents

    recorder = Agents(record=True, heterogeneous=kind == "traits")
    res = refuge.run("baseline", members=3, seed=11, backend=recorder, model=_small(), timeline=Timeline(1990, 2000))
    events = recorder.take_events()
    counted = events.groupby(["member", events["year"].astype(int), "flow"], observed=False).size()
    sums = events.groupby("member")[[*RECORDED]].agg(lambda c: c.astype(np.int64).sum() if c.dtype != "category"
                                                     else c.cat.codes.astype(np.int64).sum())  # fmt: skip
    return {f"{kind}_flows": res.data.flows.values, f"{kind}_stocks": res.data.stocks.values,
            f"{kind}_outputs": res.outputs().values, f"{kind}_moves": counted.values,
            f"{kind}_traits": sums.values, f"{kind}_people": events["person"].values}  # fmt: skip


@pytest.mark.parametrize("kind", KINDS)
def test_a_small_seeded_korean_agents_run_keeps_its_numbers(kind):
    arrays = pinned_run(kind)
    with np.load(PINNED) as pinned:
        for name, values in arrays.items():
            np.testing.assert_array_equal(values, pinned[name], err_msg=name)


if __name__ == "__main__":
    np.savez_compressed(PINNED, **{k: v for kind in KINDS for k, v in pinned_run(kind).items()})
