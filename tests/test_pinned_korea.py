"""A small seeded Korean run on every backend, pinned: moving code about must change no number.

The pinned arrays were written by this module (``python tests/test_pinned_korea.py``) at commit
e600d80, before the engine and the Korean system were split (issue 10); a science change that moves
them is rewritten here in its own commit, saying why.
"""

from pathlib import Path

import numpy as np
import pytest

import refuge
from refuge.model.timeline import Timeline

PINNED = Path(__file__).with_name("pinned") / "korea_seed11.npz"
BACKENDS = ("counts", "mean", "agents")


def pinned_run(backend: str):
    members = 1 if backend == "agents" else 3  # three million people each: one member is enough
    return refuge.run("baseline", members=members, seed=11, backend=backend, timeline=Timeline(1994, 1995))


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_small_seeded_korean_run_keeps_its_numbers(backend):
    res = pinned_run(backend)
    with np.load(PINNED) as pinned:
        np.testing.assert_array_equal(res.data.flows.values, pinned[f"{backend}_flows"])
        np.testing.assert_array_equal(res.data.stocks.values, pinned[f"{backend}_stocks"])


if __name__ == "__main__":
    arrays = {}
    for backend in BACKENDS:
        res = pinned_run(backend)
        arrays[f"{backend}_flows"], arrays[f"{backend}_stocks"] = res.data.flows.values, res.data.stocks.values
    np.savez_compressed(PINNED, **arrays)
