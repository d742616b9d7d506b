import awkward as ak
import numpy as np
import pytest

from tests.conftest import toy_features
from turbosim_hep.cli import main
from turbosim_hep.events.features import events_from_features, reco_to_features
from turbosim_hep.events.validity import validate
from turbosim_hep.io.root import read_events, write_events
from turbosim_hep.model.transform import TurboSimTransform
from turbosim_hep.simulation.files import simulate_files


@pytest.fixture
def parton_file(tmp_path):
    z = toy_features(400, np.random.default_rng(2))
    return write_events(tmp_path / "in" / "chunk-0000.root", events_from_features(z=z, event=np.arange(400)))


def test_cli_simulate_writes_the_layout_readable_by_nanoevents(model_path, parton_file, tmp_path):
    from turbosim_hep.io.nanoevents import open_nanoevents

    assert main(["simulate", str(parton_file), "--model", str(model_path), "--out", str(tmp_path / "ts")]) == 0
    out = read_events(tmp_path / "ts" / "chunk-0000.root")
    validate(out)
    assert {"Parton", "Electron", "MET", "Jet"} <= set(ak.fields(out))
    want = TurboSimTransform.load(model_path, device="cpu").simulate(read_events(parton_file))
    np.testing.assert_array_equal(reco_to_features(out), reco_to_features(want))
    nano = open_nanoevents(tmp_path / "ts" / "chunk-0000.root")
    assert len(nano.Jet) == 400


def test_small_steps_give_the_same_file_and_complete_outputs_are_skipped(model_path, parton_file, tmp_path):
    (a,) = simulate_files([parton_file], model_path, tmp_path / "a", step_size=1000)
    (b,) = simulate_files([parton_file], model_path, tmp_path / "b", step_size=64)
    np.testing.assert_array_equal(reco_to_features(read_events(a)), reco_to_features(read_events(b)))
    before = b.stat().st_mtime_ns
    simulate_files([parton_file], model_path, tmp_path / "b", step_size=64)
    assert b.stat().st_mtime_ns == before


def test_oversampling_keeps_partons_aligned(model_path, parton_file, tmp_path):
    (out,) = simulate_files([parton_file], model_path, tmp_path / "k", n_samples=3)
    events = read_events(out)
    assert len(events) == 1200
    src = read_events(parton_file)
    np.testing.assert_array_equal(ak.to_numpy(events["event"]), np.repeat(ak.to_numpy(src["event"]), 3))
    assert ak.to_list(events["Parton"][3]) == ak.to_list(src["Parton"][1])


def test_simulate_refuses_to_overwrite_its_input(model_path, parton_file):
    before = parton_file.read_bytes()
    with pytest.raises(ValueError, match="it is the input"):
        simulate_files([parton_file], model_path, parton_file.parent)
    assert parton_file.read_bytes() == before


def test_simulate_needs_partons(model_path, tmp_path):
    x = toy_features(10, np.random.default_rng(0), massless=True)
    reco_only = write_events(tmp_path / "reco.root", events_from_features(x=x))
    with pytest.raises(ValueError, match=r"reco.root.*no branch 'nParton'"):
        simulate_files([reco_only], model_path, tmp_path / "out")
