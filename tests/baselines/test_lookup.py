"""The lookup baseline: it learns a known smearing, simulates physical events keyed on the event ids, round-trips
through a safe file, fits on the train split only and is reachable from the CLI."""

from __future__ import annotations

import awkward as ak
import numpy as np
import pytest
import torch

from tests.physics.toy_ttbar import toy_ttbar_partons
from turbosim_hep.baselines.lookup.checkpoint import FORMAT, load_lookup
from turbosim_hep.baselines.lookup.config import LookupConfig
from turbosim_hep.baselines.lookup.fit import fit_lookup_arrays
from turbosim_hep.baselines.lookup.tables import NOISE_DIM, fit_lookup, simulate_lookup
from turbosim_hep.baselines.lookup.transform import LookupTransform
from turbosim_hep.cli import main
from turbosim_hep.evaluation.response import response_ratios
from turbosim_hep.events.features import events_from_features
from turbosim_hep.events.split import split_mask
from turbosim_hep.events.validity import validate
from turbosim_hep.io.root import write_events
from turbosim_hep.physics.kinematics import p4_from_ptetaphim, ptetaphim_from_p4

#: Relative pT resolution of the toy detector below / above 50 GeV parton pT.
SIGMA = {"low": 0.20, "high": 0.08}
PT_SPLIT_GEV = 50.0


def toy_detector(z: np.ndarray, rng: np.random.Generator, *, met_balance: bool = False) -> np.ndarray:
    """X of partons ``z``: pT x N(1, sigma(pT)), eta and phi kept, jets of mass 5 GeV sorted by pT; MET the
    neutrino plus N(0, 10 GeV) (or, ``met_balance``, exactly the transverse balance and pzMiss = -sum pz)."""
    n = len(z)
    pt, eta, phi, _ = ptetaphim_from_p4(z.reshape(n, 6, 4))
    sigma = np.where(pt < PT_SPLIT_GEV, SIGMA["low"], SIGMA["high"])
    mass = np.array([0.0, 0.0, 5.0, 5.0, 5.0, 5.0])
    eta = np.clip(eta, -4.9, 4.9)  # the detector's coverage (the readers refuse objects beyond |eta| = 5.5)
    reco = p4_from_ptetaphim(
        pt * (1.0 + sigma * rng.standard_normal(pt.shape)), eta, phi, np.broadcast_to(mass, pt.shape)
    )
    zo, visible = z.reshape(n, 6, 4), [0, 2, 3, 4, 5]
    if met_balance:
        met_t = zo[:, 1, :2] - (reco[:, visible, :2] - zo[:, visible, :2]).sum(1)
        met = np.concatenate([met_t, -reco[:, visible, 2].sum(1, keepdims=True)], axis=1)
    else:
        met = np.concatenate([zo[:, 1, :2] + 10.0 * rng.standard_normal((n, 2)), rng.normal(0, 300.0, (n, 1))], 1)
    reco[:, 1] = np.concatenate([met, np.linalg.norm(met, axis=1, keepdims=True)], axis=1)
    jets = reco[:, 2:]
    order = np.argsort(-np.hypot(jets[..., 0], jets[..., 1]), axis=1)
    reco[:, 2:] = np.take_along_axis(jets, order[..., None], axis=1)
    return reco.reshape(n, 24)


@pytest.fixture(scope="module")
def sample() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(31)
    z = toy_ttbar_partons(4000, rng)
    return {"z": z, "x": toy_detector(z, rng), "run": np.full(4000, 2), "event": np.arange(100, 4100)}


@pytest.fixture(scope="module")
def tables(sample):
    return fit_lookup(sample["z"], sample["x"], pt_bins=(0, PT_SPLIT_GEV, np.inf), eta_bins=(0, np.inf))


@pytest.fixture(scope="module")
def lookup_file(tmp_path_factory, sample):
    out = tmp_path_factory.mktemp("lookup") / "lookup.pt"
    s = sample
    return fit_lookup_arrays(s["z"], s["x"], s["run"], s["event"], out=out, seed=9, min_entries=40)


def test_fit_reproduces_a_known_pt_smearing_in_each_bin(tables):
    rng = np.random.default_rng(4)
    z = toy_ttbar_partons(6000, rng)
    x = LookupTransform.from_tables(tables, seed=1).simulate_features(z, event=np.arange(6000))
    ratio, parton_pt, matched = response_ratios(z, x)
    assert matched.mean() > 0.97
    for name, sel in (("low", parton_pt < PT_SPLIT_GEV), ("high", parton_pt >= PT_SPLIT_GEV)):
        for cols in ([0], [1, 2, 3, 4]):  # electron, jets
            r = ratio[:, cols][sel[:, cols] & matched[:, cols]]
            q25, q50, q75 = np.quantile(r, (0.25, 0.5, 0.75))
            assert abs(q50 - 1.0) < 0.02, (name, cols)
            assert (q75 - q25) / 1.349 == pytest.approx(SIGMA[name], rel=0.12), (name, cols)


def test_simulated_events_are_physical_with_jets_sorted_by_pt(tables, sample):
    x = LookupTransform.from_tables(tables).simulate_features(sample["z"][:1000], event=np.arange(1000))
    assert x.shape == (1000, 24) and x.dtype == np.float32 and np.isfinite(x).all()
    obj = x.astype(np.float64).reshape(1000, 6, 4)
    p = np.linalg.norm(obj[:, 2:, :3], axis=-1)
    assert np.all(obj[:, 2:, 3] >= p * (1 - 1e-6))
    _, _, _, mass = ptetaphim_from_p4(obj[:, 2:])
    assert np.all(mass > -1e-2)  # float32 rounding of E ~ |p| only
    assert np.all(np.diff(np.hypot(obj[:, 2:, 0], obj[:, 2:, 1]), axis=1) <= 1e-4)
    np.testing.assert_allclose(obj[:, 1, 3], np.linalg.norm(obj[:, 1, :3], axis=1), rtol=1e-5)


def test_every_bin_resamples_from_enough_tuples(sample):
    t = fit_lookup(sample["z"][:600], sample["x"][:600], min_entries=50)
    for table in (*t.objects.values(), t.met):
        assert np.all(table.stop - table.start >= 50)
        assert table.entries.sum() == len(table.pool)
        own = table.entries >= 50  # well-filled bins keep exactly their own tuples
        assert np.all((table.stop - table.start)[own] == table.entries[own])
    everything = fit_lookup(sample["z"][:20], sample["x"][:20], min_entries=10_000).objects["b"]
    assert np.all(everything.start == 0) and np.all(everything.stop == len(everything.pool))


def test_full_transverse_balance_puts_the_mismeasurement_into_the_met():
    rng = np.random.default_rng(8)
    z = toy_ttbar_partons(1500, rng)
    t = fit_lookup(z, toy_detector(z, rng, met_balance=True), met_balance=1.0)
    np.testing.assert_allclose(t.met.pool, 0.0, atol=0.05)
    z_new = toy_ttbar_partons(200, rng)
    x = simulate_lookup(t, z_new, np.random.default_rng(0).random((200, NOISE_DIM)))
    zo, xo, visible = z_new.reshape(200, 6, 4), x.reshape(200, 6, 4), [0, 2, 3, 4, 5]
    balance = zo[:, 1, :2] - (xo[:, visible, :2].sum(1) - zo[:, visible, :2].sum(1))
    np.testing.assert_allclose(xo[:, 1, :2], balance, atol=0.1)
    np.testing.assert_allclose(xo[:, 1, 2], -xo[:, visible, 2].sum(1), atol=0.1)


def test_noise_is_keyed_on_event_ids_not_on_order_or_batching(tables, sample):
    z, event = sample["z"][:300], sample["event"][:300]
    a = LookupTransform.from_tables(tables, seed=3, batch_size=1000)
    b = LookupTransform.from_tables(tables, seed=3, batch_size=7)
    out = a.simulate_features(z, run=2, event=event)
    np.testing.assert_array_equal(a.simulate_features(z, run=2, event=event), out)
    perm = np.random.default_rng(0).permutation(300)
    np.testing.assert_array_equal(b.simulate_features(z[perm], run=2, event=event[perm]), out[perm])
    other = a.simulate_features(z, run=2, event=event + 1)
    assert np.mean(np.any(other != out, axis=1)) > 0.99
    reseeded = LookupTransform.from_tables(tables, seed=4).simulate_features(z, run=2, event=event)
    assert np.mean(np.any(reseeded != out, axis=1)) > 0.99


def test_simulates_awkward_events_and_refuses_to_unfold(tables, sample):
    tf = LookupTransform.from_tables(tables)
    partons = events_from_features(z=sample["z"][:50], event=np.arange(50))
    reco = tf.simulate(partons, n_samples=2)
    validate(reco)
    assert len(reco) == 100 and set(ak.fields(reco)) >= {"Electron", "MET", "Jet", "sample"}
    assert tf.directions == ("simulate",)
    with pytest.raises(NotImplementedError, match="simulates only"):
        tf.unfold_features(sample["x"][:5], event=np.arange(5))


def test_file_round_trips_and_records_the_train_split(lookup_file, sample):
    content = torch.load(lookup_file, weights_only=True)
    assert content["format"] == FORMAT and content["config"]["seed"] == 9
    prov = content["provenance"]
    train = split_mask(sample["run"], sample["event"], "train", fractions=(0.7, 0.15, 0.15))
    assert prov["split_fractions"] == [0.7, 0.15, 0.15] and prov["split_events"]["train"] == train.sum()
    assert len(prov["train_sha256"]) == 64 and prov["data"]["events"] == 4000
    loaded = load_lookup(lookup_file)
    assert loaded.config == LookupConfig(seed=9, min_entries=40) and loaded.tables.n_events == train.sum()
    z32, x32 = (sample[k][train].astype(np.float32) for k in ("z", "x"))  # the files are fitted in float32
    fitted = fit_lookup(z32, x32, **loaded.config.fit_options())
    for kind, t in fitted.objects.items():
        np.testing.assert_array_equal(loaded.tables.objects[kind].pool, t.pool)
        np.testing.assert_array_equal(loaded.tables.objects[kind].start, t.start)
    tf = LookupTransform.load(lookup_file)
    assert tf.seed == 9 and tf.split_fractions == (0.7, 0.15, 0.15)
    z, ev = sample["z"][:100], sample["event"][:100]
    np.testing.assert_array_equal(
        tf.simulate_features(z, event=ev), LookupTransform.from_tables(fitted, seed=9).simulate_features(z, event=ev)
    )


def test_edited_file_is_refused(lookup_file, tmp_path):
    content = torch.load(lookup_file, weights_only=True)
    content["tables"]["objects"]["b"]["pool"][0, 0] += 1.0
    edited = tmp_path / "edited.pt"
    torch.save(content, edited)
    with pytest.raises(ValueError, match=r"edited\.pt.*integrity"):
        load_lookup(edited)


def test_bad_options_are_refused_before_any_work(sample, tmp_path):
    s = sample
    with pytest.raises(ValueError, match="split_fractions"):
        fit_lookup_arrays(s["z"], s["x"], 1, s["event"], out=tmp_path / "a.pt", split_fractions=(0.5, 0.5, 0.5))
    with pytest.raises(TypeError, match="pt_bins"):
        fit_lookup_arrays(s["z"], s["x"], 1, s["event"], out=tmp_path / "a.pt", pt_bins=(0, 10))
    with pytest.raises(ValueError, match="increasing"):
        LookupConfig(pt_bins_gev=(0, 50, 30))


def test_cli_fits_from_root_files_and_refuses_to_overwrite_an_input(tmp_path, sample, capsys):
    z, x = sample["z"][:1000], sample["x"][:1000]
    for i in range(2):
        sl = slice(500 * i, 500 * (i + 1))
        events = events_from_features(z=z[sl], x=x[sl], event=np.arange(sl.start, sl.stop))
        write_events(tmp_path / f"chunk-{i:04d}.root", events)
    out = tmp_path / "lookup.pt"
    assert main(["baseline-lookup", str(tmp_path), "--out", str(out), "--seed", "5", "--pt-bins", "0,50,inf"]) == 0
    assert "lookup model" in capsys.readouterr().out
    tf = LookupTransform.load(out)
    assert tf.seed == 5 and tf.loaded.config.pt_bins_gev == (0.0, 50.0, np.inf)
    assert len(tf.loaded.provenance["data"]["files"]) == 2
    assert main(["baseline-lookup", str(tmp_path), "--out", str(out)]) == 1
    assert "exists" in capsys.readouterr().err
    victim = tmp_path / "chunk-0000.root"
    before = victim.read_bytes()
    assert main(["baseline-lookup", str(tmp_path), "--out", str(victim), "--overwrite"]) == 1
    err = capsys.readouterr().err
    assert "it is the input" in err and err.count("\n") == 1
    assert victim.read_bytes() == before
