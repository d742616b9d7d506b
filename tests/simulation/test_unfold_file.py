"""``turbosim unfold``: detector-level ntuples back to parton-level ones in the generator's layout."""

import json

import awkward as ak
import numpy as np
import pytest
import uproot

from tests.conftest import toy_features
from turbosim_hep.cli import main
from turbosim_hep.constants import PARTON_PDG_IDS
from turbosim_hep.events.features import events_from_features, partons_to_features
from turbosim_hep.io.root import read_events, write_events
from turbosim_hep.model.transform import TurboSimTransform
from turbosim_hep.simulation.file_job import sidecar_path
from turbosim_hep.simulation.unfolding import reco_branches, unfold_file

PARTON_BRANCHES = {"nParton", "Parton_pt", "Parton_eta", "Parton_phi", "Parton_mass", "Parton_pdgId"}


@pytest.fixture
def reco_file(tmp_path):
    rng = np.random.default_rng(5)
    z, x = toy_features(300, rng), toy_features(300, rng, massless=True)
    return write_events(tmp_path / "in" / "chunk-0000.root", events_from_features(z=z, x=x, event=np.arange(300)))


def test_cli_unfold_writes_the_generators_parton_branches_and_the_transforms_partons(model_path, reco_file, tmp_path):
    out = tmp_path / "unf" / "unfolded.root"
    assert main(["unfold", str(reco_file), "--model", str(model_path), "--out", str(out)]) == 0
    branches = set(uproot.open(out)["Events"].keys())
    source = set(uproot.open(reco_file)["Events"].keys())
    assert PARTON_BRANCHES <= branches and set(reco_branches()) <= branches
    assert branches == source  # the truth's layout: the same branches, the partons unfolded
    events = read_events(out, validate=False)
    want = TurboSimTransform.load(model_path, device="cpu").unfold(read_events(reco_file))
    np.testing.assert_array_equal(partons_to_features(events), partons_to_features(want))
    assert not np.array_equal(partons_to_features(events), partons_to_features(read_events(reco_file)))
    assert ak.to_numpy(events.Parton.pdgId).tolist() == [list(PARTON_PDG_IDS)] * 300
    np.testing.assert_array_equal(ak.to_numpy(events.event), np.arange(300))
    record = json.loads(sidecar_path(out).read_text())
    assert record["made_by"] == "turbosim unfold" and record["output"]["entries"] == 300


def test_k_samples_per_event_come_with_sample_and_source_index(model_path, reco_file, tmp_path):
    done = unfold_file(reco_file, model_path, tmp_path / "k.root", n_samples=4, step_size=120)
    assert done.summary().endswith("300 detector events x 4 samples = 1,200 parton events")
    events = read_events(done.output, validate=False)
    assert len(events) == 1200
    np.testing.assert_array_equal(ak.to_numpy(events.sample), np.tile(np.arange(4), 300))
    entry = np.repeat(np.arange(300), 4)
    np.testing.assert_array_equal(ak.to_numpy(events.sourceIndex), entry % 120)  # within each read chunk
    np.testing.assert_array_equal(ak.to_numpy(events.event), entry)
    src = read_events(reco_file)
    assert ak.to_list(events.Jet[4 * 7 + 2]) == ak.to_list(src.Jet[7])  # the detector side rides along
    one = TurboSimTransform.load(model_path, device="cpu").unfold(src, n_samples=4)
    np.testing.assert_array_equal(partons_to_features(events), partons_to_features(one))
    draws = partons_to_features(events).reshape(300, 4, 24)
    assert np.all(np.abs(draws[:, 0] - draws[:, 1]).max(axis=1) > 0)  # K different draws per event


def test_a_rerun_skips_refuses_other_settings_and_overwrite_remakes(model_path, reco_file, tmp_path):
    out = tmp_path / "u.root"
    assert unfold_file(reco_file, model_path, out).action == "make"
    before = out.stat().st_mtime_ns
    assert unfold_file(reco_file, model_path, out).action == "skip"
    assert out.stat().st_mtime_ns == before
    with pytest.raises(FileExistsError, match=r"u.root' was unfolded with other settings \(differing: seed\)"):
        unfold_file(reco_file, model_path, out, seed=99)
    assert unfold_file(reco_file, model_path, out, seed=99, overwrite=True).action == "remake"
    assert json.loads(sidecar_path(out).read_text())["settings"]["seed"] == 99
    assert not list(tmp_path.glob(".*.tmp"))


def test_unfold_never_overwrites_its_input_nor_a_file_it_did_not_make(model_path, reco_file, tmp_path, capsys):
    before = reco_file.read_bytes()
    argv = ["unfold", str(reco_file), "--model", str(model_path), "--out", str(reco_file), "--overwrite"]
    assert main(argv) == 1
    assert "refusing to write" in capsys.readouterr().err and reco_file.read_bytes() == before
    foreign = write_events(tmp_path / "foreign.root", read_events(reco_file))
    with pytest.raises(FileExistsError, match="not made by turbosim unfold"):
        unfold_file(reco_file, model_path, foreign)
    assert not sidecar_path(foreign).exists()


def test_an_input_without_detector_objects_names_the_missing_branch(model_path, tmp_path, capsys):
    z = toy_features(10, np.random.default_rng(0))
    partons = write_events(tmp_path / "partons.root", events_from_features(z=z))
    assert main(["unfold", str(partons), "--model", str(model_path), "--out", str(tmp_path / "o" / "u.root")]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("turbosim unfold: error: ")
    assert "partons.root': TTree 'Events' has no branch 'nElectron'" in err
    assert not (tmp_path / "o").exists()  # no output, not even its directory


def test_transform_unfold_names_the_missing_field(model_path, reco_file):
    tf = TurboSimTransform.load(model_path, device="cpu")
    events = read_events(reco_file)
    with pytest.raises(ValueError, match=r"need the fields Electron, MET, Jet, but 'MET' is missing"):
        tf.unfold(events[["run", "luminosityBlock", "event", "Parton", "Electron", "Jet"]])
    with pytest.raises(ValueError, match=r"'Electron', 'MET', 'Jet' are missing"):
        tf.unfold(events[["run", "luminosityBlock", "event", "Parton"]])


def test_an_output_path_that_is_no_root_file_is_refused(model_path, reco_file, tmp_path):
    with pytest.raises(ValueError, match="must name a ROOT file"):
        unfold_file(reco_file, model_path, tmp_path)
    with pytest.raises(ValueError, match="n_samples must be an integer >= 1, got 0"):
        unfold_file(reco_file, model_path, tmp_path / "u.root", n_samples=0)


def test_the_shipped_model_unfolds_a_file_by_name(reco_file, tmp_path):
    done = unfold_file(reco_file, "ttbar-physics", tmp_path / "shipped.root", n_samples=2)
    events = read_events(done.output, validate=False)
    assert len(events) == 600 and ak.to_numpy(events.sample).tolist() == [0, 1] * 300
    z = partons_to_features(events)
    assert np.isfinite(z).all() and ak.to_numpy(events.Parton.pdgId).tolist() == [list(PARTON_PDG_IDS)] * 600
    assert json.loads(sidecar_path(done.output).read_text())["model"].endswith("ttbar-physics.pt")
