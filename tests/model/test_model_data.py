import json

import numpy as np
import pytest
import torch

from tests.conftest import toy_features
from turbosim_hep.cli import main
from turbosim_hep.events.features import events_from_features
from turbosim_hep.events.layout import make_events
from turbosim_hep.io.datasets import resolve_paths
from turbosim_hep.io.root import write_events
from turbosim_hep.model.checkpoint import load_model
from turbosim_hep.model.data import load_pairs

torch.set_num_threads(1)


@pytest.fixture
def chunk_dir(tmp_path):
    rng = np.random.default_rng(5)
    z, x = toy_features(600, rng), toy_features(600, rng, massless=True)
    d = tmp_path / "sample"
    for i in range(2):
        sl = slice(300 * i, 300 * (i + 1))
        write_events(d / f"chunk-{i:04d}.root", events_from_features(z=z[sl], x=x[sl], event=np.arange(600)[sl]))
    return d, z, x


def test_directory_and_fileset_resolve_to_the_same_chunks(chunk_dir):
    d, _, _ = chunk_dir
    fileset = d / "fileset.json"
    fileset.write_text(json.dumps({"ttbar": {"files": {"chunk-0000.root": "Events", "chunk-0001.root": "Events"}}}))
    assert resolve_paths([d]) == resolve_paths(fileset) == [d / "chunk-0000.root", d / "chunk-0001.root"]
    with pytest.raises(FileNotFoundError, match="missing"):
        resolve_paths(d / "missing")


def test_pairs_read_from_root_match_the_features_written(chunk_dir):
    d, z, x = chunk_dir
    data = load_pairs(d, progress=False)
    assert np.array_equal(data.event, np.arange(600))
    assert np.allclose(data.z, z, rtol=1e-4, atol=1e-2)
    assert np.allclose(data.x, x, rtol=1e-4, atol=1e-2)
    assert [f["events"] for f in data.provenance["files"]] == [300, 300]


def test_events_without_four_jets_are_dropped_with_a_warning(chunk_dir, tmp_path):
    d, _, _ = chunk_dir
    events = events_from_features(
        z=toy_features(10, np.random.default_rng(1)), x=toy_features(10, np.random.default_rng(2))
    )
    three_jets = make_events(
        event=np.arange(100, 110),
        partons=events["Parton"],
        electrons=events["Electron"],
        jets=events["Jet"][:, :3],
        met=events["MET"],
    )
    write_events(tmp_path / "three.root", three_jets)
    with pytest.warns(UserWarning, match="dropped 10 events"):
        data = load_pairs([d / "chunk-0000.root", tmp_path / "three.root"], progress=False)
    assert len(data) == 300 and data.provenance["dropped"] == 10


def test_cli_trains_then_resumes_from_a_directory(chunk_dir, tmp_path, capsys):
    d, _, _ = chunk_dir
    out = tmp_path / "models" / "m.pt"
    common = ["--out", str(out), "--no-physics", "--device", "cpu", "--batch-size", "16", "--steps-per-epoch", "4"]
    args = ["train", str(d), "--preset", "direct-only", "--epochs", "1", *common, "--weight", "l_x_xtilde=2.5"]
    assert main(args) == 0
    assert main(["train", str(d), "--preset", "direct-only", "--epochs", "2", "--resume", *common[:-4]]) == 0
    loaded = load_model(out, device="cpu")
    assert loaded.config.l_x_xtilde == 2.5 and loaded.config.batch_size == 16
    assert len(out.with_name("m.metrics.jsonl").read_text().splitlines()) == 2
    assert main(["train", str(d), "--out", str(out), "--weight", "bogus=1"]) == 1
    assert "bogus" in capsys.readouterr().err
