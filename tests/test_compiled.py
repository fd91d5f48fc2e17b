"""Parallel kernels run on several threads, even when their serial twin was cached first (numba issue 6845)."""

import os
import subprocess
import sys
import textwrap

import pytest

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
