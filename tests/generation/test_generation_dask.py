"""Generation on a dask cluster: the arrays of a serial run, whatever the executor, and a lost worker's chunk redone.

The module shares one LocalCluster (2 worker processes, one thread each) and one serial reference sample
(600 events in 3 chunks of 200, no selection, so every generated event is compared).
"""

from __future__ import annotations

import concurrent.futures as cf
import json
import os
import signal
import sys
import time

import awkward as ak
import pytest
import uproot

from turbosim_hep.constants import TREE_NAME
from turbosim_hep.generation.pipeline import generate
from turbosim_hep.runtime.cluster import local_workers, open_client

SEED = 11
N_EVENTS = 600
CHUNK = 200
SETTINGS = {"seed": SEED, "chunk_size": CHUNK, "select": False, "progress": False}


@pytest.fixture(scope="module")
def client():
    with open_client("local:2") as c:
        yield c


@pytest.fixture(scope="module")
def serial(tmp_path_factory):
    out = tmp_path_factory.mktemp("dask") / "serial"
    generate(N_EVENTS, out, **SETTINGS)
    return out


def _assert_same_arrays(made, reference) -> None:
    """Every branch of every chunk file read back with uproot is equal, dtype included."""
    names = sorted(p.name for p in reference.glob("chunk-*.root"))
    assert sorted(p.name for p in made.glob("chunk-*.root")) == names
    for name in names:
        a = uproot.open(made / name)[TREE_NAME].arrays(library="ak")
        b = uproot.open(reference / name)[TREE_NAME].arrays(library="ak")
        assert a.fields == b.fields
        assert len(a) == len(b) > 0
        for field in b.fields:
            assert ak.array_equal(a[field], b[field], equal_nan=True), f"{name}: branch {field!r} differs"


def _provenance(out) -> dict:
    return json.loads((out / "provenance.json").read_text())


def test_dask_run_has_the_arrays_of_a_serial_run_and_of_the_local_pool(client, serial, tmp_path):
    generate(N_EVENTS, tmp_path / "pool", workers=2, **SETTINGS)
    generate(N_EVENTS, tmp_path / "dask", client=client, **SETTINGS)
    _assert_same_arrays(tmp_path / "pool", serial)
    _assert_same_arrays(tmp_path / "dask", serial)
    prov = _provenance(tmp_path / "dask")
    assert prov["timing"]["executor_last_invocation"] == "dask.distributed (2 workers)"
    assert prov["timing"]["chunks_made_last_invocation"] == N_EVENTS // CHUNK
    assert prov["chunks"] == _provenance(serial)["chunks"]
    assert not list((tmp_path / "dask").glob(".*.tmp"))


def test_worker_killed_mid_chunk_is_replaced_and_the_sample_is_complete_and_identical(client, serial, tmp_path):
    def executing_chunks(dask_worker):
        return [str(k) for k, ts in dask_worker.state.tasks.items() if ts.state == "executing"]

    pids = client.run(os.getpid)
    with cf.ThreadPoolExecutor(1) as pool:
        run = pool.submit(generate, N_EVENTS, tmp_path / "killed", client=client, **SETTINGS)
        victim = None
        deadline = time.monotonic() + 60
        while victim is None and time.monotonic() < deadline and not run.done():
            busy = {w: keys for w, keys in client.run(executing_chunks).items() if keys}
            victim = next(iter(busy), None)
            time.sleep(0.05)
        assert victim is not None, "no worker was seen running a chunk"
        os.kill(pids[victim], signal.SIGKILL)
        run.result(timeout=120)
    client.wait_for_workers(2, timeout=60)
    assert pids[victim] not in client.run(os.getpid).values()  # the nanny started a new worker process
    _assert_same_arrays(tmp_path / "killed", serial)
    assert not list((tmp_path / "killed").glob(".*.tmp"))
    assert len(json.loads((tmp_path / "killed" / "fileset.json").read_text())["ttbar"]["files"]) == N_EVENTS // CHUNK


def test_two_attempts_of_a_chunk_at_once_leave_one_complete_chunk(client, serial, tmp_path):
    from turbosim_hep.generation.chunks import ChunkTask, chunk_seeds
    from turbosim_hep.generation.dask_runner import run_chunk_task
    from turbosim_hep.generation.detector_card import DetectorCard

    out = tmp_path / "twice"
    out.mkdir()
    spec = json.loads((serial / "chunk-0000.json").read_text())["spec"]
    p_seed, d_seed = chunk_seeds(SEED, 0)
    task = ChunkTask(
        index=0,
        n_events=CHUNK,
        first_event=0,
        pythia_seed=p_seed,
        detector_seed=d_seed,
        select=False,
        card=DetectorCard(),
        root_path=str(out / "chunk-0000.root"),
        sidecar_path=str(out / "chunk-0000.json"),
        spec=spec,
    )
    attempts = [client.submit(run_chunk_task, task, pure=False, workers=[w]) for w in client.nthreads()]
    assert len(client.gather(attempts)) == 2
    assert sorted(p.name for p in out.iterdir()) == ["chunk-0000.json", "chunk-0000.root"]
    b = uproot.open(serial / "chunk-0000.root")[TREE_NAME].arrays(library="ak")
    assert ak.array_equal(uproot.open(out / "chunk-0000.root")[TREE_NAME].arrays(library="ak"), b)
    generate(CHUNK, out, **SETTINGS)
    assert _provenance(out)["timing"]["chunks_made_last_invocation"] == 0  # the rerun accepts the chunk


def test_cli_runs_on_a_scheduler_address_and_leaves_its_cluster_running(client, serial, tmp_path, capsys):
    from turbosim_hep.cli import main

    out = tmp_path / "cli"
    argv = ["generate", "--events", str(CHUNK), "--chunk-size", str(CHUNK), "--seed", str(SEED), "--no-select"]
    assert main([*argv, "--out", str(out), "--scheduler", client.scheduler.address, "--no-progress"]) == 0
    assert "dask.distributed (2 workers)" in capsys.readouterr().out
    a = uproot.open(out / "chunk-0000.root")[TREE_NAME].arrays(library="ak")
    b = uproot.open(serial / "chunk-0000.root")[TREE_NAME].arrays(library="ak")
    assert ak.array_equal(a, b)
    assert client.submit(sum, [1, 2]).result() == 3


def test_workers_and_client_together_are_refused(client, tmp_path):
    with pytest.raises(ValueError, match="workers=2 and a dask client"):
        generate(10, tmp_path / "x", workers=2, client=client, progress=False)


@pytest.mark.parametrize("spec, n", [("local:3", 3), ("tcp://10.0.0.1:8786", None), ("localhost:8786", None)])
def test_scheduler_spec_names_local_workers_or_an_address(spec, n):
    assert local_workers(spec) == n


@pytest.mark.parametrize("spec", ["local:0", "local:two", ""])
def test_bad_scheduler_spec_is_a_one_line_cli_error(spec, tmp_path, capsys):
    from turbosim_hep.cli import main

    assert main(["generate", "--events", "10", "--out", str(tmp_path / "y"), "--scheduler", spec]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("turbosim generate: error: scheduler") and "local:N" in err and "\n" not in err


def test_missing_distributed_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(ModuleNotFoundError, match=r"pip install 'turbosim-hep\[dask\]'"):
        with open_client("local:1"):
            pass
