"""``simulate_files(..., client=)`` and ``turbosim simulate --scheduler``: one task per file on a LocalCluster, the
outputs of a serial run, the model loaded once per worker."""

from __future__ import annotations

import json

import awkward as ak
import numpy as np
import pytest
import uproot

from tests.reliability.corpus import good
from turbosim_hep.cli import main
from turbosim_hep.runtime.cluster import open_client
from turbosim_hep.simulation.file_job import sidecar_path
from turbosim_hep.simulation.files import simulate_files


@pytest.fixture(scope="module")
def client():
    with open_client("local:2") as c:
        yield c


@pytest.fixture
def inputs(tmp_path):
    return [good(tmp_path, f"chunk-{i:04d}.root", n=500, seed=i, first=500 * i) for i in range(4)]


def _branches(path):
    arrays = uproot.open(path)["Events"].arrays()
    return {k: ak.to_numpy(ak.flatten(arrays[k], axis=None)) for k in ak.fields(arrays)}


def _assert_same_outputs(a_dir, b_dir):
    names = sorted(p.name for p in a_dir.glob("*.root"))
    assert names == sorted(p.name for p in b_dir.glob("*.root")) and names
    for name in names:
        a, b = _branches(a_dir / name), _branches(b_dir / name)
        assert a.keys() == b.keys()
        for k in a:
            np.testing.assert_array_equal(a[k], b[k], err_msg=f"{name}: {k}")
        sa, sb = (json.loads(sidecar_path(d / name).read_text()) for d in (a_dir, b_dir))
        assert sa["settings"] == sb["settings"] and sa["output"]["entries"] == sb["output"]["entries"]


def test_simulate_through_dask_equals_the_serial_simulate(client, inputs, model_path, tmp_path):
    serial = simulate_files(inputs, model_path, tmp_path / "serial", n_samples=2, progress=False)
    dask = simulate_files(inputs, model_path, tmp_path / "dask", n_samples=2, progress=False, client=client)
    assert len(dask.made) == 4
    _assert_same_outputs(tmp_path / "serial", tmp_path / "dask")
    again = simulate_files(inputs, model_path, tmp_path / "dask", n_samples=2, progress=False, client=client)
    assert len(again.skipped) == 4 and not again.made
    assert serial.outputs[0].name == dask.outputs[0].name


def test_each_worker_loads_the_model_once(client, inputs, model_path, tmp_path):
    def clear():
        from turbosim_hep.simulation.worker_cache import _cached

        _cached.cache_clear()

    def misses():
        from turbosim_hep.simulation.worker_cache import _cached

        return _cached.cache_info().misses

    client.run(clear)
    simulate_files(inputs, model_path, tmp_path / "d", progress=False, client=client)
    per_worker = client.run(misses)
    assert sum(per_worker.values()) <= len(per_worker)  # at most one load per worker for four files


def test_cli_scheduler_equals_the_serial_cli(client, inputs, model_path, tmp_path, capsys):
    address = client.scheduler.address
    base = ["simulate", *map(str, inputs), "--model", str(model_path), "--seed", "5"]
    assert main([*base, "--out", str(tmp_path / "serial")]) == 0
    assert main([*base, "--out", str(tmp_path / "dask"), "--scheduler", address]) == 0
    assert "made 4" in capsys.readouterr().out
    _assert_same_outputs(tmp_path / "serial", tmp_path / "dask")


def test_a_bad_file_on_the_cluster_is_one_named_error(client, model_path, tmp_path):
    from tests.reliability.corpus import branches, events, set_value, write_branches

    ok = good(tmp_path, "chunk-0000.root")
    bad = write_branches(
        tmp_path / "in" / "chunk-0001.root", set_value(branches(events(first=1000)), "Parton_eta", 30, np.inf)
    )
    with pytest.raises(ValueError, match=r"chunk-0001.root.*'Parton_eta', entry 5"):
        simulate_files([ok, bad], model_path, tmp_path / "out", progress=False, client=client)
    assert not (tmp_path / "out" / "chunk-0001.root").exists()
    assert not (tmp_path / "out" / "chunk-0001.root.json").exists()
