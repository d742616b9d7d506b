"""Pythia truth extraction, detector pieces and the OTUS selection, checked against oracles."""

from __future__ import annotations

import awkward as ak
import numpy as np
import pytest

from turbosim_hep.events.layout import make_events, momentum4d
from turbosim_hep.generation.detector import ecal_sigma, run_detector
from turbosim_hep.generation.detector_card import DetectorCard
from turbosim_hep.generation.jets import jet_energy_scale
from turbosim_hep.generation.pythia import ParticleBatch, generate_batch, make_pythia
from turbosim_hep.generation.selection import OTUS_CUTS, otus_selection


def test_batched_truth_equals_pythia_process_record():
    pythia = make_pythia(11)
    for _ in range(15):
        batch = generate_batch(pythia, 1)
        process = {q.id(): [q.px(), q.py(), q.pz(), q.e()] for q in pythia.process if q.status() == 23}
        assert sorted(process) == sorted([11, -12, 5, -5, 2, -1])
        expected = np.array([process[k] for k in (11, -12, 5, -5, 2, -1)])
        np.testing.assert_allclose(batch.partons[0], expected, atol=1e-7)


def test_unknown_pythia_setting_is_refused():
    with pytest.raises(ValueError, match="Foo:bar"):
        make_pythia(1, settings=("Foo:bar = on",))
    with pytest.raises(ValueError, match="seed"):
        make_pythia(0)


def _single_electrons(n: int, pt: float, eta: float) -> ParticleBatch:
    """n events, each holding one electron (pdgId 11) of the given pT and eta and nothing else."""
    phi = np.linspace(-3, 3, n)
    px, py, pz = pt * np.cos(phi), pt * np.sin(phi), np.full(n, pt * np.sinh(eta))
    e = np.sqrt(px**2 + py**2 + pz**2)
    far = np.tile(np.array([0.0, 0.0, 1.0, 1.0]), (n, 4, 1))
    return ParticleBatch(
        counts=np.ones(n, dtype=np.int64), pdg_id=np.full(n, 11, dtype=np.int32), charge=np.full(n, -1.0),
        px=px, py=py, pz=pz, e=e, partons=np.zeros((n, 6, 4)), parton_masses=np.zeros((n, 6)), quarks_event=far,
    )  # fmt: skip


@pytest.mark.parametrize("eta, expected", [(0.5, 0.95 * 0.95), (2.0, 0.83 * 0.85)])
def test_isolated_electron_efficiency_is_tracking_times_identification(eta, expected):
    n = 20_000
    out = run_detector(_single_electrons(n, 50.0, eta), DetectorCard(), np.random.default_rng(3))
    eff = out.electron_counts.mean()
    assert abs(eff - expected) < 4 * np.sqrt(expected * (1 - expected) / n)
    assert np.all(out.electron_charge == -1)
    assert np.all(out.electron_pdg == 11)
    rel = out.electron_pt / 50.0 - 1
    sigma = np.hypot(0.03 if eta < 0.5 + 1e-9 else 0.15, (1.3e-3 if eta <= 0.5 else 3.1e-3) * 50)
    assert abs(rel.std() - sigma) < 0.1 * sigma
    # an isolated electron is not a jet input; a lost one becomes a jet or (no track) an isolated photon
    has = out.electron_counts == 1
    assert np.all(out.jet_counts[has] + out.n_photons[has] == 0)
    assert np.all(out.jet_counts[~has] + out.n_photons[~has] == 1)
    np.testing.assert_allclose(out.met_pt[has], out.electron_pt, rtol=1e-9)


def test_detector_is_deterministic_given_the_generator():
    batch = _single_electrons(500, 30.0, 1.0)
    a = run_detector(batch, DetectorCard(), np.random.default_rng(9))
    b = run_detector(batch, DetectorCard(), np.random.default_rng(9))
    c = run_detector(batch, DetectorCard(), np.random.default_rng(10))
    np.testing.assert_array_equal(a.electron_pt, b.electron_pt)
    assert not np.array_equal(a.electron_counts, c.electron_counts)


def test_jet_energy_scale_matches_card_formula():
    jet = np.array([[30.0, 1e-9, 1e-9, 30.0]])
    scaled = jet_energy_scale(jet)
    np.testing.assert_allclose(scaled / jet, np.sqrt(2.5**2 / 30 + 1), rtol=1e-12)


def test_ecal_resolution_matches_card_in_barrel():
    e = np.array([100.0])
    expected = np.sqrt(0.008**2 * 100**2 + 0.11**2 * 100 + 0.40**2)
    np.testing.assert_allclose(ecal_sigma(DetectorCard(), e, np.array([0.0])), expected)


def _events(n_ele, charges, n_jets, n_mu, n_ph):
    n = len(n_ele)
    ele = momentum4d(
        {k: ak.unflatten(np.ones(sum(n_ele)), n_ele) for k in ("pt", "eta", "phi", "mass")}
        | {"charge": ak.unflatten(np.array(charges, dtype=np.int32), n_ele)}
    )
    jets = momentum4d({k: ak.unflatten(np.ones(sum(n_jets)), n_jets) for k in ("pt", "eta", "phi", "mass")})
    met = ak.zip({"pt": np.ones(n), "phi": np.zeros(n), "pzMiss": np.zeros(n)})
    return make_events(
        event=np.arange(n), electrons=ele, jets=jets, met=met,
        extra={"isoMuonCount": np.array(n_mu), "isoPhotonCount": np.array(n_ph)},
    )  # fmt: skip


def test_otus_selection_mask_and_cutflow():
    ev = _events(
        n_ele=[1, 1, 2, 0, 1, 1, 1],
        charges=[-1, 1, -1, -1, -1, -1, -1],
        n_jets=[4, 4, 4, 4, 4, 5, 4],
        n_mu=[0, 0, 0, 0, 1, 0, 0],
        n_ph=[0, 0, 0, 0, 0, 0, 1],
    )
    mask, cutflow = otus_selection(ev)
    assert mask.tolist() == [True, False, False, False, False, False, False]
    assert list(cutflow) == list(OTUS_CUTS)
    assert list(cutflow.values()) == [7, 5, 4, 3, 2, 1]


def test_otus_selection_names_a_missing_field():
    ev = _events(n_ele=[1], charges=[-1], n_jets=[4], n_mu=[0], n_ph=[0])
    with pytest.raises(ValueError, match="isoMuonCount"):
        otus_selection(ev[["Electron", "Jet", "isoPhotonCount"]])
