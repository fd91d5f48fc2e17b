"""Ensembles on a Dask cluster: the same numbers, member by member, whatever the workers."""

import numpy as np
import pandas as pd
import pytest

import refuge
from refuge.sensitivity import sensitivity

distributed = pytest.importorskip("dask.distributed")


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, protocol="tcp",
                                  dashboard_address=None) as local:  # fmt: skip
        yield local


def test_a_run_on_a_cluster_is_the_local_run_member_by_member(cluster, short):
    here = refuge.run("border-closure", members=5, seed=4, timeline=short)
    with distributed.Client(cluster) as client:
        for workers in (1, 2):
            client.cluster.scale(workers)
            there = refuge.run("border-closure", members=5, seed=4, timeline=short, block=3, client=client)
            assert list(there.data.member.values) == list(range(5))
            np.testing.assert_array_equal(there.data.flows.values, here.data.flows.values)
            np.testing.assert_array_equal(there.data.stocks.values, here.data.stocks.values)


def test_sensitivity_on_a_cluster_gives_the_local_indices(cluster):
    settings = dict(method="morris", samples=2, outputs=["arrivals"], start=1996, end=2000, backend="counts", block=20)
    here = sensitivity("more-aid", **settings)
    with distributed.Client(cluster) as client:
        there = sensitivity("more-aid", client=client, **settings)
    pd.testing.assert_frame_equal(here.table, there.table)


def test_compare_command_runs_on_a_scheduler(cluster, tmp_path):
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "refuge", "compare", "baseline", "more-aid", "--members", "3",
                           "--backend", "mean", "--scheduler", cluster.scheduler_address, "--out", str(tmp_path)],
                          capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 0, done.stderr
    table = pd.read_csv(tmp_path / "compare.csv").set_index(["scenario", "measure"])
    assert table.loc[("baseline", "deaths"), "change_median"] == 0
