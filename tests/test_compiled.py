"""Parallel kernels run on several threads, even when their serial twin was cached first (numba issue 6845)."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from refuge import simulation
from refuge.backends import counts
from refuge.backends.agents import step
from refuge.systems.korea.agents import agent_step

KOREAN = step.kernels(agent_step.class_of, agent_step.born, agent_step.live)

PROBE = textwrap.dedent("""
    import sys
    import numba as nb
    import numpy as np
    from refuge.backends.compiled import parallel_and_serial

    def thread_ids(n):
        out = np.empty(n, dtype=np.int64)
        for i in nb.prange(n):
            out[i] = nb.get_thread_id()
        return out

    parallel, serial = parallel_and_serial(thread_ids)
    if sys.argv[1] == "serial-first":
        serial(8)
    threads = np.unique(parallel(1 << 16)).size
    print(threads, sum(parallel.stats.cache_hits.values()))
""")


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="needs two CPUs")
def test_parallel_build_loaded_from_cache_uses_several_threads(tmp_path):
    """Serial twin compiled and cached first; a fresh process then loads the parallel build from the cache."""
    (tmp_path / "probe.py").write_text(PROBE)
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "cache"), "NUMBA_NUM_THREADS": "2"}

    def probe(order: str) -> tuple[int, int]:
        done = subprocess.run([sys.executable, "probe.py", order], cwd=tmp_path, env=env, capture_output=True,
                              text=True, check=True)  # fmt: skip
        threads, hits = done.stdout.split()
        return int(threads), int(hits)

    assert probe("serial-first") == (2, 0)
    assert probe("parallel-only") == (2, 1)


@pytest.mark.parametrize(("parallel", "serial"), [(step.move_people, step.move_people_serial), KOREAN[:2],
                                                  (counts.draw_week, counts.draw_week_serial)],
                         ids=["agents", "agents-korea", "counts"])  # fmt: skip
def test_refuge_kernels_are_separate_builds(parallel, serial):
    assert parallel.targetoptions.get("parallel") and not serial.targetoptions.get("parallel")
    assert parallel.py_func.__qualname__ != serial.py_func.__qualname__


def test_a_systems_hooks_make_builds_of_their_own():
    """The Korean hooks bound into the step are cached apart from the engine's own step (and named after the hooks'
    source, so a cached build never keeps an old hook)."""
    names = {f.py_func.__qualname__ for f in (step.move_people, step.move_people_serial, *KOREAN[:2])}
    assert len(names) == 4
    assert all("class_of_born_live_" in f.py_func.__qualname__ for f in KOREAN)
    assert step.kernels(agent_step.class_of, agent_step.born, agent_step.live) is KOREAN


def _clock_in_numpy(mass, before, after, moved, carried, stocks, flows, source, start, end):
    """The clock's step in plain NumPy: each flow takes its share of its source's mass, then the clock runs."""
    held = before[:, source, :].astype(float)
    share = np.divide(moved[:, flows, :], held, out=np.zeros(held.shape), where=held > 0)
    taken = mass[:, start, :] * share
    carried[:, flows, :] += taken
    for i in range(len(flows)):
        mass[:, start[i], :] -= taken[:, i, :]
        if end[i] >= 0:
            mass[:, end[i], :] += taken[:, i, :]
    mass[...] = np.maximum(mass, 0.0) + after[:, stocks, :]


@pytest.mark.parametrize("kernel", [simulation.carry_clock, simulation.carry_clock_serial])
@pytest.mark.parametrize("dtype", [np.int64, np.float64])
def test_the_compiled_clock_is_the_numpy_clock(dtype, kernel):
    """The compiled clock gives the NumPy clock's numbers to the last bit, from whole or fractional moves, on
    all cores and on one; it adds the step's moves to the period's totals and leaves them at zero."""
    rng = np.random.default_rng(3)
    members, stocks_, strata = 300, 6, 2
    stocks, flows = np.array([1, 2, 4]), np.array([0, 2, 3, 5, 6])
    source, start, end = np.array([1, 1, 2, 4, 4]), np.array([0, 0, 1, 2, 2]), np.array([1, -1, 2, -1, 0])
    before = rng.integers(0, 5, (members, stocks_, strata)).astype(dtype)
    after = rng.integers(0, 5, (members, stocks_, strata)).astype(dtype)
    moved = rng.integers(0, 4, (members, 8, strata)).astype(dtype)
    mass = rng.random((members, 3, strata)) * 10
    periods = rng.random((members, 3, 8, strata))
    carried = periods[:, 1]  # one period's view, strided as simulate passes it
    others = periods[:, [0, 2]].copy()
    totals = rng.integers(0, 9, moved.shape).astype(dtype)
    expected = [a.copy() for a in (mass, carried)]
    _clock_in_numpy(expected[0], before, after, moved, expected[1], stocks, flows, source, start, end)
    expected_totals = totals + moved
    kernel(mass, before, after, moved, carried, totals, np.empty((members, len(flows))), stocks, flows, source,
           start, end)  # fmt: skip
    np.testing.assert_array_equal(mass, expected[0])
    np.testing.assert_array_equal(carried, expected[1])
    np.testing.assert_array_equal(periods[:, [0, 2]], others)
    np.testing.assert_array_equal(totals, expected_totals)
    assert not moved.any()
