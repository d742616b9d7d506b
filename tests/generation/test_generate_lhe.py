"""``turbosim generate --lhe``: Pythia showers a Les Houches file's events; full sim and Turbo-Sim share the ids."""

import json

import awkward as ak
import numpy as np
import pytest

from tests.io.test_lhe import _recode
from turbosim_hep.io.lhe_write import write_lhe
from turbosim_hep.io.root import read_events

N = 24


@pytest.fixture(scope="module")
def lhe_file(tmp_path_factory):
    """A Les Houches file of N Pythia hard processes (their six decay products), two of them turned into mu events."""
    from turbosim_hep.events.layout import make_events, make_partons
    from turbosim_hep.generation.pythia import generate_batch, make_pythia
    from turbosim_hep.physics.kinematics import ptetaphim_from_p4

    batch = generate_batch(make_pythia(11), N)
    pt, eta, phi, _ = ptetaphim_from_p4(batch.partons)
    events = make_events(event=np.arange(N), partons=make_partons(pt, eta, phi, batch.parton_masses))
    path = write_lhe(tmp_path_factory.mktemp("lhe") / "ttbar.lhe", events, weights=np.linspace(1.0, 3.0, N))
    _recode(path, {4: {11: 13, -12: -14}, 17: {11: 13, -12: -14}})
    return path


def test_generate_lhe_and_simulate_give_the_same_events_under_the_same_ids(lhe_file, tmp_path, model_path, capsys):
    from turbosim_hep.cli import main

    full = tmp_path / "full"
    args = ["generate", "--lhe", str(lhe_file), "--out", str(full), "--run", "9", "--chunk-size", "10", "--no-select"]
    assert main([*args, "--no-progress"]) == 0
    captured = capsys.readouterr()
    assert "ttbar.lhe: 24 events read, 22 kept" in captured.err and "skipped 2" in captured.err
    assert (
        main(["simulate", str(lhe_file), "--model", str(model_path), "--out", str(tmp_path / "ts"), "--run", "9"]) == 0
    )
    fast = read_events(tmp_path / "ts" / "ttbar.root")
    full_events = ak.concatenate([read_events(full / f"chunk-{i:04d}.root") for i in range(3)])
    ids = ak.to_numpy(full_events.event)
    assert ids.tolist() == ak.to_numpy(fast.event).tolist() == [i for i in range(N) if i not in (4, 17)]
    assert set(ak.to_numpy(full_events.run)) == set(ak.to_numpy(fast.run)) == {9}
    for k in ("pt", "eta", "phi", "mass", "pdgId"):
        np.testing.assert_array_equal(ak.to_numpy(full_events.Parton[k]), ak.to_numpy(fast.Parton[k]))
    np.testing.assert_array_equal(ak.to_numpy(full_events.genWeight), ak.to_numpy(fast.genWeight))
    assert ak.sum(ak.num(full_events.Jet)) > 3 * len(full_events)  # showered and clustered, not the partons
    provenance = json.loads((full / "provenance.json").read_text())
    assert provenance["lhe"]["n_kept"] == 22 and provenance["lhe"]["skipped_channels"] == {
        "W+ -> u d~, W- -> mu- vm~": 2
    }
    assert not list(full.glob(".lhe-chunk-*"))
    assert main([*args, "--no-progress"]) == 0
    assert "(3 complete, 0 to make" in capsys.readouterr().err


def test_a_chunk_without_an_event_of_the_channel_is_refused(tmp_path):
    from tests.io.test_lhe import _partons
    from turbosim_hep.generation.pipeline import generate

    path = write_lhe(tmp_path / "mu.lhe", _partons(6))
    _recode(path, {k: {11: 13, -12: -14} for k in (3, 4, 5)})
    with pytest.raises(ValueError, match=r"events 3 \.\.\. 5 hold no .*larger --chunk-size"):
        generate(None, tmp_path / "out", lhe=path, chunk_size=3)
    assert not list((tmp_path / "out").glob(".lhe-chunk-*"))
