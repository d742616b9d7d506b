"""The validation policy, simulate's sidecars, event ids and file modes: behaviours behind the corpus."""

from __future__ import annotations

import json
import os
import stat

import awkward as ak
import numpy as np
import pytest

from tests.reliability.corpus import branches, events, good, set_value, write_branches
from turbosim_hep.cli import main
from turbosim_hep.events.validity import MASS2_TOLERANCE, check_features, invalid_events, validate
from turbosim_hep.io.root import read_events, write_events
from turbosim_hep.simulation.file_job import sidecar_path
from turbosim_hep.simulation.files import simulate_files


def test_rounding_sized_negative_masses_pass_and_real_ones_fail():
    ev = events(10)
    jets = ev["Jet"]
    for mass, ok in ((-3e-5, True), (-0.5, False)):
        bad = ak.with_field(ev, ak.where(ak.local_index(jets) == 0, mass, jets["mass"]), ("Jet", "mass"))
        if ok:
            validate(bad)
        else:
            with pytest.raises(ValueError, match=r"'Jet_mass', event 0 .*Jet\[0\] has a negative mass"):
                validate(bad)
    assert MASS2_TOLERANCE <= 1e-5


def test_invalid_events_counts_per_branch_for_readers_that_drop():
    br = set_value(set_value(branches(events(20)), "Jet_pt", 5, np.nan), "MET_pt", 7, np.inf)
    ev = ak.Array({"run": br["run"], "luminosityBlock": br["luminosityBlock"], "event": br["event"]})
    ev = ak.with_field(ev, ak.zip({"pt": br["MET_pt"], "phi": br["MET_phi"], "pzMiss": br["MET_pzMiss"]}), "MET")
    ev = ak.with_field(ev, ak.zip({k: br[f"Jet_{k}"] for k in ("pt", "eta", "phi", "mass")}), "Jet")
    mask, counts = invalid_events(ev)
    assert np.flatnonzero(mask).tolist() == [1, 7]  # jet 5 belongs to event 1 (four jets per event)
    assert counts == {"Jet_pt": 1, "MET_pt": 1}


def test_feature_check_names_object_and_row():
    x = events(5)
    from turbosim_hep.constants import RECO_NAMES
    from turbosim_hep.events.features import reco_to_features

    feats = reco_to_features(x).astype(np.float64)
    check_features(feats, source="f.h5", objects=RECO_NAMES)
    feats[3, 7] = -1.0  # MET E negative
    with pytest.raises(ValueError, match=r"f.h5: features row 3: met has E -1.0 GeV"):
        check_features(feats, source="f.h5", objects=RECO_NAMES)


def test_processor_drops_invalid_events_and_counts_them(tmp_path, model_path):
    from turbosim_hep.processors import TurboSimProcessor

    from turbosim_hep.io.nanoevents import open_nanoevents

    br = set_value(set_value(branches(events(50)), "Jet_eta", 12, np.nan), "Parton_pt", 60, np.inf)
    path = write_branches(tmp_path / "bad.root", br)
    with pytest.warns(UserWarning, match=r"dropped 2 of 50 events"):
        (out,) = TurboSimProcessor(model_path, selection="minimal").process(open_nanoevents(path)).values()
    assert out["cutflow"]["events read"] == 50
    assert out["cutflow"]["finite and physical"] == 48
    assert out["cutflow"]["simulated"] == 48
    for h in out["hists"].values():
        assert np.isfinite(h.values(flow=True)).all()


def test_written_files_follow_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        path = write_events(tmp_path / "a.root", events(5))
        assert stat.S_IMODE(path.stat().st_mode) == 0o644
        os.umask(0o077)
        path = write_events(tmp_path / "b.root", events(5))
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    finally:
        os.umask(old)


def test_generated_samples_with_other_seeds_have_other_runs(tmp_path):
    from turbosim_hep.generation.pipeline import generate

    runs = []
    for seed in (3, 4):
        out = generate(20, tmp_path / f"s{seed}", seed=seed, chunk_size=20, select=False, progress=False)
        runs.append(set(ak.to_numpy(read_events(out / "chunk-0000.root")["run"]).tolist()))
    assert runs == [{4}, {5}]


# ---------------------------------------------------------------------------------------------- simulate sidecars


@pytest.fixture
def parton_files(tmp_path):
    return [good(tmp_path, "chunk-0000.root"), good(tmp_path, "chunk-0001.root", first=1000, seed=1)]


def test_rerun_skips_only_outputs_made_with_the_same_settings(tmp_path, parton_files, model_path):
    out = tmp_path / "sim"
    first = simulate_files(parton_files, model_path, out, progress=False)
    assert (len(first.made), len(first.skipped)) == (2, 0)
    record = json.loads(sidecar_path(first.outputs[0]).read_text())
    assert record["settings"]["n_samples"] == 1 and len(record["settings"]["model_sha256"]) == 64
    assert record["output"]["entries"] == 300
    again = simulate_files(parton_files, model_path, out, progress=False)
    assert (len(again.made), len(again.remade), len(again.skipped)) == (0, 0, 2)
    assert again.summary().startswith("made 0, remade 0, skipped 2")
    with pytest.raises(FileExistsError, match=r"chunk-0000.root' was simulated with other settings .*n_samples"):
        simulate_files(parton_files, model_path, out, n_samples=2, progress=False)
    forced = simulate_files(parton_files, model_path, out, n_samples=2, overwrite=True, progress=False)
    assert len(forced.remade) == 2 and len(read_events(forced.outputs[0])) == 600


def test_a_changed_input_or_damaged_output_is_remade(tmp_path, parton_files, model_path):
    out = tmp_path / "sim"
    done = simulate_files(parton_files, model_path, out, progress=False)
    reference = ak.to_list(read_events(done.outputs[1]))
    done.outputs[1].write_bytes(done.outputs[1].read_bytes()[:100])  # a damaged output
    again = simulate_files(parton_files, model_path, out, progress=False)
    assert again.remade == (done.outputs[1],)
    assert ak.to_list(read_events(done.outputs[1])) == reference  # ROOT files hold a UUID: compare the events
    write_events(parton_files[0], events(seed=5))  # the input changed: same name, other events
    with pytest.raises(FileExistsError, match="differing: input_sha256"):
        simulate_files(parton_files, model_path, out, progress=False)


def test_temporary_files_of_a_killed_run_are_removed_and_counted(tmp_path, parton_files, model_path):
    out = tmp_path / "sim"
    out.mkdir()
    stale = out / ".chunk-0000.root.abc123.tmp"
    stale.write_bytes(b"x" * 1000)
    done = simulate_files(parton_files, model_path, out, progress=False)
    assert not stale.exists() and done.stale_removed == 1
    assert sorted(p.name for p in out.iterdir()) == [
        "chunk-0000.root", "chunk-0000.root.json", "chunk-0001.root", "chunk-0001.root.json"
    ]  # fmt: skip


def test_a_failed_file_leaves_no_output_and_no_sidecar_and_keeps_finished_ones(tmp_path, model_path):
    ok = good(tmp_path, "chunk-0000.root")
    bad = write_branches(
        tmp_path / "in" / "chunk-0001.root", set_value(branches(events(first=1000)), "Parton_phi", 400, np.nan)
    )
    out = tmp_path / "sim"
    with pytest.raises(ValueError, match=r"chunk-0001.root.*'Parton_phi', entry 66"):
        simulate_files([ok, bad], model_path, out, progress=False)
    assert sorted(p.name for p in out.iterdir()) == ["chunk-0000.root", "chunk-0000.root.json"]


def test_cli_prints_made_and_skipped_counts(tmp_path, parton_files, model_path, capsys):
    argv = ["simulate", *map(str, parton_files), "--model", str(model_path), "--out", str(tmp_path / "sim")]
    assert main(argv) == 0
    assert "2 output file(s)" in capsys.readouterr().out
    assert main(argv) == 0
    assert "made 0, remade 0, skipped 2 (complete)" in capsys.readouterr().out


def test_simulate_reads_the_tree_a_fileset_names(tmp_path, model_path):
    src = write_branches(tmp_path / "in" / "nominal.root", branches(events()), tree="Nominal")
    fileset = tmp_path / "in" / "fileset.json"
    fileset.write_text(json.dumps({"ttbar": {"files": {src.name: "Nominal"}}}))
    (out,) = simulate_files([fileset], model_path, tmp_path / "sim", progress=False)
    assert len(read_events(out)) == 300


def test_imported_otus_files_get_distinct_runs(tmp_path):
    from tests.reliability.corpus import otus

    a, b = otus(tmp_path, name="a.hdf5"), otus(tmp_path, name="b.hdf5")
    assert main(["import-otus", str(a), str(tmp_path / "a.root"), "--run", "1"]) == 0
    assert main(["import-otus", str(b), str(tmp_path / "b.root"), "--run", "2"]) == 0
    from turbosim_hep.model.data import load_pairs

    assert len(load_pairs([tmp_path / "a.root", tmp_path / "b.root"], progress=False)) == 600
