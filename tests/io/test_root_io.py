import awkward as ak
import numpy as np
import pytest
import uproot

from turbosim_hep.events.features import partons_to_features, reco_to_features
from turbosim_hep.io.root import iterate_events, read_events, write_events


def test_awkward_to_root_to_awkward_round_trip_is_equal(tmp_path, toy_events):
    events, _, _ = toy_events
    path = write_events(tmp_path / "a.root", events, chunk_size=128)
    back = read_events(path)
    assert ak.fields(back) == ak.fields(events) or set(ak.fields(back)) == set(ak.fields(events))
    for name in ak.fields(events):
        assert ak.to_list(back[name]) == ak.to_list(events[name]), name
    np.testing.assert_array_equal(partons_to_features(back), partons_to_features(events))


def test_written_file_has_nanoaod_branch_names_in_a_ttree(tmp_path, toy_events):
    path = write_events(tmp_path / "a.root", toy_events[0])
    tree = uproot.open(path)["Events"]
    assert isinstance(tree, uproot.TTree)
    for name in ("run", "luminosityBlock", "event", "nJet", "Jet_pt", "nParton", "Parton_pdgId", "MET_pt"):
        assert name in tree.keys()
    assert tree.num_entries == 500
    np.testing.assert_array_equal(tree["nParton"].array(library="np"), 6)


def test_nanoevents_reads_our_file_with_four_vectors(tmp_path, toy_events):
    from turbosim_hep.io.nanoevents import open_nanoevents

    events, z, x = toy_events
    path = write_events(tmp_path / "a.root", events)
    nano = open_nanoevents(path)
    for coll in ("Electron", "Jet", "MET", "Parton"):
        assert coll in nano.fields
    mjj = ak.to_numpy((nano.Jet[:, 0] + nano.Jet[:, 1]).mass)
    ours = ak.to_numpy((events["Jet"][:, 0] + events["Jet"][:, 1]).mass)
    np.testing.assert_allclose(mjj, ours, rtol=1e-4, atol=1e-2)
    np.testing.assert_allclose(ak.to_numpy(nano.Parton[:, 2].px), z[:, 8], rtol=1e-4, atol=1e-2)


def test_chunked_iteration_sees_every_event_once(tmp_path, toy_events):
    events = toy_events[0]
    a = write_events(tmp_path / "a.root", events[:300])
    b = write_events(tmp_path / "b.root", events[300:])
    chunks = list(iterate_events([a, b], step_size=128))
    assert [len(c) for c in chunks] == [128, 128, 44, 128, 72]
    got = np.concatenate([ak.to_numpy(c["event"]) for c in chunks])
    np.testing.assert_array_equal(got, ak.to_numpy(events["event"]))
    np.testing.assert_array_equal(np.concatenate([reco_to_features(c) for c in chunks]), reco_to_features(events))


def test_writer_that_fails_midway_leaves_no_file(tmp_path, toy_events):
    target = tmp_path / "out.root"

    def chunks():
        yield toy_events[0][:100]
        raise RuntimeError("simulated crash")

    with pytest.raises(RuntimeError, match="simulated crash"):
        write_events(target, chunks())
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []


def test_writing_over_an_input_is_refused(tmp_path, toy_events):
    src = write_events(tmp_path / "in.root", toy_events[0])
    before = src.read_bytes()
    with pytest.raises(ValueError, match="also an input"):
        write_events(src, read_events(src), inputs=[src])
    assert src.read_bytes() == before


def test_missing_file_tree_and_branch_are_named(tmp_path, toy_events):
    with pytest.raises(FileNotFoundError, match="nope.root"):
        read_events(tmp_path / "nope.root")
    path = tmp_path / "other.root"
    with uproot.recreate(path) as f:
        f.mktree("Other", {"x": np.float32})
        f["Other"].extend({"x": np.zeros(3, np.float32)})
    with pytest.raises(ValueError, match=r"other.root.*no TTree 'Events'.*'Other'"):
        read_events(path)
    nojet = tmp_path / "nojet.root"
    events = toy_events[0]
    write_events(nojet, events[[f for f in ak.fields(events) if f != "Jet"]])
    with pytest.raises(ValueError, match=r"nojet.root.*no branch 'nJet'"):
        read_events(nojet, collections=("Electron", "Jet", "MET"))


def test_wrong_counter_is_named(tmp_path):
    path = tmp_path / "badcount.root"
    with uproot.recreate(path) as f:
        f.mktree(
            "Events",
            {
                "run": np.uint32,
                "luminosityBlock": np.uint32,
                "event": np.uint64,
                "nJet": np.int32,
                "Jet_pt": "var * float32",
            },
            counter_name=lambda n: "nJetOther",
        )
        f["Events"].extend(
            {
                "run": np.ones(2, np.uint32),
                "luminosityBlock": np.ones(2, np.uint32),
                "event": np.arange(2, dtype=np.uint64),
                "nJet": np.array([3, 1], np.int32),
                "Jet_pt": ak.Array([[1.0, 2.0], [3.0]]),
            }
        )
    with pytest.raises(ValueError, match=r"badcount.root.*'Jet_pt' has 2 values in entry 0 .*'nJet' says 3"):
        read_events(path)


def test_truncated_file_is_named(tmp_path, toy_events):
    path = write_events(tmp_path / "full.root", toy_events[0])
    cut = tmp_path / "cut.root"
    cut.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(ValueError, match=r"cut.root.*truncated"):
        read_events(cut)
