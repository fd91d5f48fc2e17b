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


def test_run_on_a_scheduler_writes_the_local_numbers_through_the_run_store(cluster, tmp_path):
    import subprocess
    import sys

    import xarray as xr

    args = ["run", "more-aid", "--members", "5", "--block", "2", "--seed", "3"]
    here = subprocess.run([sys.executable, "-m", "refuge", *args, "--out", str(tmp_path / "here")],
                          capture_output=True, text=True)  # fmt: skip
    there = subprocess.run([sys.executable, "-m", "refuge", *args, "--scheduler", cluster.scheduler_address,
                            "--out", str(tmp_path / "there")], capture_output=True, text=True)  # fmt: skip
    assert here.returncode == 0 and there.returncode == 0, here.stderr + there.stderr
    with xr.open_dataset(tmp_path / "here" / "results.nc") as a, \
            xr.open_dataset(tmp_path / "there" / "results.nc") as b:  # fmt: skip
        assert a.equals(b)
    assert (tmp_path / "here" / "annual.csv").read_bytes() == (tmp_path / "there" / "annual.csv").read_bytes()
