"""``kill -9`` at a random moment of ``generate``, ``train`` and ``simulate``, then the same command again: the outputs
equal those of an uninterrupted run, and nothing temporary is left.

Each verb runs as a subprocess (``python -m turbosim_hep``). The kill comes a seeded random delay after the first
sign of work (a finished chunk, an epoch's metrics line, a simulate sidecar), while work remains; the test checks the
process really died of the signal. ROOT files embed a UUID and timestamps, so outputs are compared as arrays.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import awkward as ak
import numpy as np
import pytest
import uproot

from tests.reliability.corpus import good

pytestmark = pytest.mark.slow

RNG = np.random.default_rng(20261201)


def _command(*args: str) -> list[str]:
    return [sys.executable, "-m", "turbosim_hep", *args]


def _env() -> dict[str, str]:
    return {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(Path(__file__).resolve().parents[2])}


def _run(argv: list[str]) -> None:
    done = subprocess.run(argv, env=_env(), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]


def _kill_after(argv: list[str], started, window_s: float, timeout_s: float = 300) -> float:
    """Start ``argv``; once ``started()`` is true wait a random time in [0, window_s) and SIGKILL it."""
    proc = subprocess.Popen(argv, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    t0 = time.monotonic()
    try:
        while not started():
            assert proc.poll() is None, f"finished before any sign of work: {proc.stderr.read().decode()[-2000:]}"
            assert time.monotonic() - t0 < timeout_s, "no sign of work"
            time.sleep(0.02)
        delay = float(RNG.uniform(0.0, window_s))
        time.sleep(delay)
        assert proc.poll() is None, "the run finished before the kill: widen the sample"
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stderr.close()
    return delay


def _events_of(directory: Path) -> dict[str, dict[str, bytes]]:
    """Per file, per branch: the bytes of its flattened values and of its counts (every branch, exact)."""
    out = {}
    for p in sorted(directory.glob("*.root")):
        tree = uproot.open(p)["Events"]
        arrays = tree.arrays()
        out[p.name] = {k: ak.to_numpy(ak.flatten(arrays[k], axis=None)).tobytes() for k in ak.fields(arrays)}
        out[p.name]["__entries__"] = str(tree.num_entries).encode()
    return out


def _no_temporaries(directory: Path) -> None:
    assert sorted(directory.rglob("*.tmp")) == []


def test_generate_killed_mid_run_resumes_to_the_uninterrupted_sample(tmp_path):
    args = ["--events", "600", "--chunk-size", "150", "--seed", "11", "--no-select", "--no-progress"]
    _run(_command("generate", *args, "--out", str(tmp_path / "whole")))
    killed = tmp_path / "killed"
    argv = _command("generate", *args, "--out", str(killed))
    _kill_after(argv, lambda: (killed / "chunk-0000.json").exists(), window_s=1.0)
    assert not (killed / "provenance.json").exists()
    _run(argv)
    whole = _events_of(tmp_path / "whole")
    assert len(whole) == 4
    assert _events_of(killed) == whole
    for name in ("fileset.json",):
        a = json.loads((tmp_path / "whole" / name).read_text())["ttbar"]["metadata"]
        b = json.loads((killed / name).read_text())["ttbar"]["metadata"]
        assert a == b
    _no_temporaries(killed)


@pytest.fixture(scope="module")
def training_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("train-data")
    return [good(d, "a.root", n=600, seed=1), good(d, "b.root", n=600, seed=2, first=600)]


def _train_argv(files, out: Path) -> list[str]:
    return _command(
        "train", *map(str, files), "--out", str(out), "--preset", "turbo", "--epochs", "5", "--steps-per-epoch", "40",
        "--batch-size", "64", "--val-events", "200", "--seed", "3", "--no-physics", "--device", "cpu", "--resume",
    )  # fmt: skip


def _checkpoint_tensors(path: Path) -> dict:
    import torch

    content = torch.load(path, map_location="cpu", weights_only=True)
    return {k: v for k, v in content["model"].items()}


def _metrics(path: Path) -> list[dict]:
    lines = [json.loads(ln) for ln in path.read_text().splitlines()]
    for ln in lines:
        ln.pop("train_seconds"), ln.pop("events_per_s")
        ln["validation"].pop("seconds", None)
    return lines


def test_train_killed_mid_run_resumes_to_the_uninterrupted_model(tmp_path, training_files):
    import torch

    whole = tmp_path / "whole" / "m.pt"
    _run(_train_argv(training_files, whole))
    killed = tmp_path / "killed" / "m.pt"
    metrics = killed.with_name("m.metrics.jsonl")
    _kill_after(_train_argv(training_files, killed), lambda: metrics.exists() and metrics.read_text(), window_s=1.0)
    _run(_train_argv(training_files, killed))
    for name in ("m.pt", "m.last.pt"):
        a, b = _checkpoint_tensors(whole.with_name(name)), _checkpoint_tensors(killed.with_name(name))
        assert a.keys() == b.keys()
        for k in a:
            assert torch.equal(a[k], b[k]), f"{name}: {k}"
    assert _metrics(metrics) == _metrics(whole.with_name("m.metrics.jsonl"))
    _no_temporaries(killed.parent)


def test_simulate_killed_mid_run_resumes_to_the_uninterrupted_outputs(tmp_path, model_path):
    inputs = [good(tmp_path, f"chunk-{i:04d}.root", n=30_000, seed=i, first=i * 30_000) for i in range(4)]

    def argv(out: Path) -> list[str]:
        return _command("simulate", *map(str, inputs), "--model", str(model_path), "--out", str(out), "--samples", "2")

    _run(argv(tmp_path / "whole"))
    killed = tmp_path / "killed"
    _kill_after(argv(killed), lambda: (killed / "chunk-0000.root.json").exists(), window_s=0.6)
    _run(argv(killed))
    assert _events_of(killed) == _events_of(tmp_path / "whole")
    for p in sorted(killed.glob("*.json")):
        record = json.loads(p.read_text())
        assert record["output"]["entries"] == 60_000
    _no_temporaries(killed)
