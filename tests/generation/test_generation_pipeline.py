"""Generation pipeline: determinism, resume, physics sanity, coffea compatibility, errors.

One small sample (200 events, 2 chunks, no selection) is generated once per module and shared.
"""

from __future__ import annotations

import json
import os
import shutil

import awkward as ak
import numpy as np
import pytest

from turbosim_hep.constants import PARTON_PDG_IDS
from turbosim_hep.events.validity import validate
from turbosim_hep.generation.chunks import chunk_seeds
from turbosim_hep.generation.detector_card import DetectorCard
from turbosim_hep.generation.pipeline import generate
from turbosim_hep.io.root import read_events

SEED = 5
CHUNK = 100


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    out = tmp_path_factory.mktemp("gen") / "sample"
    generate(2 * CHUNK, out, seed=SEED, chunk_size=CHUNK, select=False, progress=False)
    return out


@pytest.fixture(scope="module")
def events(sample):
    return ak.concatenate([read_events(sample / f"chunk-{i:04d}.root") for i in range(2)])


def _p4(events):
    from turbosim_hep.events.features import partons_to_features

    return partons_to_features(events).astype(np.float64).reshape(len(events), 6, 4)


def _mass(p):
    s = p.sum(axis=1)
    return np.sqrt(np.maximum(s[:, 3] ** 2 - np.sum(s[:, :3] ** 2, axis=1), 0))


def _arrays_equal(a, b) -> bool:
    return ak.to_list(a) == ak.to_list(b)


def test_output_directory_has_chunks_fileset_and_provenance(sample):
    names = sorted(p.name for p in sample.iterdir())
    assert names == ["chunk-0000.json", "chunk-0000.root", "chunk-0001.json", "chunk-0001.root",
                     "fileset.json", "provenance.json"]  # fmt: skip
    prov = json.loads((sample / "provenance.json").read_text())
    assert prov["n_events_generated"] == 2 * CHUNK
    assert list(prov["cutflow"].values())[0] == 2 * CHUNK
    assert 10 < prov["cross_section_pb"] < 30
    assert prov["versions"]["pythia8mc"] == "8.317.2"
    assert prov["detector_card"]["jet_r"] == 0.5


def test_events_validate_and_ids_are_stable(events):
    validate(events, source="sample")
    assert ak.to_numpy(events["event"]).tolist() == list(range(2 * CHUNK))
    assert set(ak.to_numpy(events["luminosityBlock"]).tolist()) == {1, 2}
    assert set(ak.to_numpy(events["run"]).tolist()) == {SEED + 1}


def test_run_number_comes_from_the_seed_so_samples_never_share_ids():
    from turbosim_hep.generation.chunks import run_number
    from turbosim_hep.generation.pipeline import MAX_SEED

    assert [run_number(s) for s in (0, 1, 2026)] == [1, 2, 2027]
    assert run_number(MAX_SEED) == 2**32 - 1  # the largest uint32


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_events": 10**13}, "more than 10,000,000,000"),
        ({"n_events": 10**9, "chunk_size": 100}, "use a chunk_size of at least 10,000"),
        ({"n_events": 10, "seed": 2**32}, "seed must be an integer from 0 to 4294967294"),
        ({"n_events": 0}, "n_events must be an integer >= 1"),
    ],
)
def test_absurd_requests_are_refused_before_any_work(tmp_path, kwargs, message):
    with pytest.raises(ValueError, match=message):
        generate(out=tmp_path / "never", progress=False, **kwargs)
    assert not (tmp_path / "never").exists()


def test_every_event_has_the_six_partons_in_order(events):
    pdg = ak.to_numpy(ak.to_regular(events["Parton"]["pdgId"], axis=1))
    assert pdg.shape == (len(events), 6)
    assert np.all(pdg == np.array(PARTON_PDG_IDS))


def test_parton_w_and_top_masses_peak_at_their_pole_values(events):
    p = _p4(events)
    for slots in ([0, 1], [4, 5]):
        assert abs(np.median(_mass(p[:, slots])) - 80.4) < 2.0
    for slots in ([3, 0, 1], [2, 4, 5]):
        assert abs(np.median(_mass(p[:, slots])) - 172.5) < 3.0


def test_matched_jet_response_mean_is_near_one(events):
    p = _p4(events)
    idx = ak.to_numpy(ak.flatten(events["Jet"]["partonIdx"]))
    jpt = ak.to_numpy(ak.flatten(events["Jet"]["pt"])).astype(np.float64)
    owner = np.repeat(np.arange(len(events)), ak.to_numpy(ak.num(events["Jet"], axis=1)))
    ok = idx >= 0
    assert ok.sum() > 200
    assert set(np.unique(idx[ok])) <= {2, 3, 4, 5}
    response = jpt[ok] / np.hypot(p[owner[ok], idx[ok], 0], p[owner[ok], idx[ok], 1])
    assert 0.9 < response.mean() < 1.2


def test_jets_sorted_by_pt_above_threshold(events):
    pt = events["Jet"]["pt"]
    assert ak.all(pt[:, 1:] <= pt[:, :-1])
    assert ak.all(pt > 20.0)


def test_w_electron_efficiency_within_card_range(events):
    p = _p4(events)
    pt = np.hypot(p[:, 0, 0], p[:, 0, 1])
    eta = np.arcsinh(p[:, 0, 2] / pt)
    central = (pt > 20) & (np.abs(eta) < 1.5)
    ele = events["Electron"]
    d_eta = ele["eta"] - eta[:, None]
    d_phi = np.angle(
        np.exp(1j * (ak.to_numpy(ak.flatten(ele["phi"])) - np.repeat(np.arctan2(p[:, 0, 1], p[:, 0, 0]), ak.num(ele))))
    )
    dr2 = ak.unflatten(ak.to_numpy(ak.flatten(d_eta)) ** 2 + d_phi**2, ak.num(ele))
    found = ak.to_numpy(ak.any(dr2 < 0.4**2, axis=1))  # process-level truth: recoil moves it
    eff = found[central].mean()
    # tracking x identification = 0.95 x 0.95 at most; isolation in t tbar events costs a little more
    assert 0.6 < eff <= 0.95 * 0.99


def test_output_reads_with_coffea_nanoevents(sample):
    from turbosim_hep.io.nanoevents import open_nanoevents

    ev = open_nanoevents(str(sample / "chunk-0000.root"))
    assert len(ev) == CHUNK
    assert ak.all(ak.num(ev.Parton) == 6)
    assert abs(float(ak.mean(ev.Parton[:, 0].pt)) - float(ak.mean(ev.Parton.pt[:, 0]))) < 1e-6
    assert "partonIdx" in ak.fields(ev.Jet)
    assert len(ev.MET.pt) == CHUNK


def test_fileset_runs_under_coffea_runner(sample):
    from coffea import processor

    from turbosim_hep.io.nanoevents import TurboSimSchema

    class CountJets(processor.ProcessorABC):
        def process(self, events):
            return {"events": len(events), "jets": int(ak.sum(ak.num(events.Jet)))}

        def postprocess(self, accumulator):
            return accumulator

    runner = processor.Runner(executor=processor.IterativeExecutor(), schema=TurboSimSchema, chunksize=1000)
    out = runner(str(sample / "fileset.json"), CountJets(), treename="Events")
    assert out["events"] == 2 * CHUNK
    assert out["jets"] > 2 * CHUNK * 3


def test_same_seed_gives_identical_chunk(sample, tmp_path):
    generate(CHUNK, tmp_path / "again", seed=SEED, chunk_size=CHUNK, select=False, progress=False)
    a = read_events(sample / "chunk-0000.root")
    b = read_events(tmp_path / "again" / "chunk-0000.root")
    assert _arrays_equal(a, b)


def test_different_seed_gives_different_events(sample, tmp_path):
    assert chunk_seeds(SEED, 0) != chunk_seeds(SEED + 1, 0)
    assert chunk_seeds(SEED, 0) != chunk_seeds(SEED, 1)
    generate(CHUNK, tmp_path / "other", seed=SEED + 1, chunk_size=CHUNK, select=False, progress=False)
    a = read_events(sample / "chunk-0000.root", collections=("Parton",))
    b = read_events(tmp_path / "other" / "chunk-0000.root", collections=("Parton",))
    assert not np.allclose(ak.to_numpy(ak.flatten(a["Parton"]["pt"])), ak.to_numpy(ak.flatten(b["Parton"]["pt"])))


def test_interrupted_run_resumes_to_the_same_result_with_a_worker_process(sample, tmp_path):
    crashed = tmp_path / "crashed"
    shutil.copytree(sample, crashed)
    (crashed / "chunk-0001.root").unlink()  # the crash hit while chunk 1 was being made ...
    (crashed / ".chunk-0001.root.x.tmp").write_bytes(b"partial")  # ... leaving its temporary file behind
    kept = os.stat(crashed / "chunk-0000.root").st_mtime_ns
    generate(2 * CHUNK, crashed, seed=SEED, chunk_size=CHUNK, select=False, workers=2, progress=False)
    assert os.stat(crashed / "chunk-0000.root").st_mtime_ns == kept
    assert not list(crashed.glob(".*.tmp"))
    assert _arrays_equal(read_events(sample / "chunk-0001.root"), read_events(crashed / "chunk-0001.root"))
    prov = json.loads((crashed / "provenance.json").read_text())
    assert prov["timing"]["chunks_made_last_invocation"] == 1


def test_rerun_with_other_settings_in_same_directory_is_refused(sample, tmp_path):
    target = tmp_path / "copy"
    shutil.copytree(sample, target)
    with pytest.raises(ValueError, match="other settings"):
        generate(2 * CHUNK, target, seed=SEED + 1, chunk_size=CHUNK, select=False, progress=False)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n_events": 0}, "n_events"),
        ({"workers": 0}, "workers"),
        ({"seed": -1}, "seed"),
        ({"chunk_size": 2.5}, "chunk_size"),
    ],
)
def test_bad_arguments_give_clear_errors(tmp_path, kwargs, match):
    args = {"n_events": 10, **kwargs}
    n = args.pop("n_events")
    with pytest.raises(ValueError, match=match):
        generate(n, tmp_path / "x", progress=False, **args)


def test_bad_card_is_refused():
    with pytest.raises(ValueError, match="jet_r"):
        DetectorCard(jet_r=-0.4)
    with pytest.raises(TypeError, match="no field"):
        DetectorCard().replace(jet_radius=0.4)


def test_cli_reports_bad_settings_in_one_line(tmp_path, capsys):
    from turbosim_hep.cli import main

    assert main(["generate", "--events", "0", "--out", str(tmp_path / "y")]) == 1
    err = capsys.readouterr().err
    assert "--events must be an integer >= 1" in err  # a flag on the command line, not the keyword
