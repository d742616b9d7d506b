"""The detector's numba kernels equal their vectorised NumPy twins (the detector's previous implementation)."""

from __future__ import annotations

import numpy as np
import pytest

from turbosim_hep.generation import detector_kernels as kernels
from turbosim_hep.generation import tower_kernels
from turbosim_hep.generation.detector import tracking_tables
from turbosim_hep.generation.detector_card import DetectorCard

N_EVENTS = 40
CARD = DetectorCard()
_PDG = np.array([22, 22, 22, 211, -211, 321, -321, 2212, 2112, 130, 310, 3122, 11, -11, 13, -13, 12, -14, 16])
_CHARGE = {211: 1, -211: -1, 321: 1, -321: -1, 2212: 1, 11: -1, -11: 1, 13: -1, -13: 1}


@pytest.fixture(scope="module")
def particles():
    """Synthetic events: a Pythia-like species mix, pT 0 ... ~100 GeV, |eta| up to 6, collinear groups, pT = 0."""
    rng = np.random.default_rng(2024)
    counts = rng.integers(0, 400, N_EVENTS)
    counts[3] = 0
    m = counts.sum()
    pdg = rng.choice(_PDG, m).astype(np.int32)
    charge = np.array([_CHARGE.get(int(p), 0) for p in pdg], dtype=np.float64)
    pt = rng.exponential(3.0, m) * np.where(rng.random(m) < 0.02, 30.0, 1.0)
    eta = rng.uniform(-6, 6, m)
    phi = rng.uniform(-np.pi, np.pi, m)
    pair = np.flatnonzero(rng.random(m) < 0.3)  # copy the previous particle's direction: shared towers
    pair = pair[pair > 0]
    eta[pair], phi[pair] = eta[pair - 1] + 1e-4, phi[pair - 1]
    pt[:5] = 0.0
    px, py, pz = pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)
    pz[0] = 0.0
    e = np.sqrt(px**2 + py**2 + pz**2 + 0.14**2)
    return {"counts": counts, "pdg": pdg, "charge": charge, "px": px, "py": py, "pz": pz, "e": e, "rng": rng}


# --- the NumPy twins ---------------------------------------------------------------------------------------------


def _pt_eta_phi(px, py, pz):
    pt = np.hypot(px, py)
    eta = np.arcsinh(np.divide(pz, pt, out=np.copysign(np.full_like(pz, 1e3), pz), where=pt > 0))
    return pt, np.clip(eta, -1e3, 1e3), np.arctan2(py, px)


def _binned(abs_eta, rows, column):
    edges = np.array([r[0] for r in rows])
    values = np.array([r[column] for r in rows] + [np.nan])
    return values[np.searchsorted(edges, abs_eta, side="left")]


def _tracking_reference(card, pdg, charge, pt, eta, u):
    ae = np.abs(eta)
    apid = np.abs(pdg)
    charged = charge != 0
    is_e, is_mu = apid == 11, apid == 13
    eff, res = np.zeros(len(pt)), np.zeros(len(pt))
    for kind, mask in (("hadron", charged & ~is_e & ~is_mu), ("electron", is_e), ("muon", is_mu)):
        rows = {"hadron": card.hadron_track_eff, "electron": card.electron_track_eff, "muon": card.muon_track_eff}
        rows = rows[kind]
        p, a = pt[mask], ae[mask]
        e_ = np.where(p > 1.0, _binned(a, rows, 2), _binned(a, rows, 1))
        if kind == "electron":
            e_ = np.where(p > 100.0, _binned(a, rows, 3), e_)
        ok = (p > card.track_pt_min) & (a <= card.track_eta_max)
        eff[mask] = np.where(ok, np.nan_to_num(e_), 0.0)
        rrows = {"hadron": card.hadron_track_res, "electron": card.electron_track_res, "muon": card.muon_track_res}
        rrows = rrows[kind]
        res[mask] = p * np.hypot(np.nan_to_num(_binned(a, rrows, 1)), np.nan_to_num(_binned(a, rrows, 2)) * p)
    return charged & (u < eff), res


def _lognormal_reference(mean, sigma, z):
    mean = np.maximum(mean, 1e-12)
    s2 = np.log1p((sigma / mean) ** 2)
    return np.exp(np.log(mean) - 0.5 * s2 + np.sqrt(s2) * z)


def _deposits_reference(pdg, tracked, energy, frac):
    apid = np.abs(pdg)
    calo = ~np.isin(apid, (12, 14, 16)) & ~tracked & (apid != 13)
    k0l = np.isin(apid, (310, 3122))
    em = calo & ((apid == 22) | (apid == 11))
    had = calo & ~em
    e_ecal = np.concatenate([energy[em], frac * energy[had & k0l]])
    idx_ecal = np.concatenate([np.flatnonzero(em), np.flatnonzero(had & k0l)])
    e_hcal = np.where(k0l[had], (1 - frac) * energy[had], energy[had])
    return idx_ecal, e_ecal, np.flatnonzero(had), e_hcal


def _tower_sums_reference(owner, energy, eta, phi, grid):
    region = np.searchsorted(np.array([g[0] for g in grid]), np.abs(eta), side="left")
    inside = region < len(grid)
    owner, energy, eta, phi, region = owner[inside], energy[inside], eta[inside], phi[inside], region[inside]
    deta = np.array([g[1] for g in grid])[region]
    nphi = np.array([g[2] for g in grid])[region]
    ieta = np.floor(eta / deta).astype(np.int64)
    iphi = np.floor((phi + np.pi) / (2 * np.pi) * nphi).astype(np.int64) % nphi
    key = ((owner.astype(np.int64) * 8 + region) * 4096 + (ieta + 2048)) * 512 + iphi
    keys, inverse = np.unique(key, return_inverse=True)
    tower_e = np.bincount(inverse, weights=energy, minlength=len(keys))
    first = np.zeros(len(keys), dtype=np.int64)
    first[inverse[::-1]] = np.arange(len(key))[::-1]
    return owner[first], region[first], ieta[first], iphi[first], tower_e


def _isolation_reference(cand, owner, pt, eta, phi, n_events, dr_max, pt_min):
    keep = np.flatnonzero(pt > pt_min)
    counts = np.bincount(owner[keep], minlength=n_events)
    starts = np.cumsum(counts) - counts
    ev = owner[cand]
    n = counts[ev]
    rep = np.repeat(np.arange(len(cand)), n)
    within = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
    other = keep[starts[ev][rep] + within]
    c = cand[rep]
    deta = eta[other] - eta[c]
    dphi = np.remainder(phi[other] - phi[c] + np.pi, 2 * np.pi) - np.pi
    use = (other != c) & (deta * deta + dphi * dphi < dr_max * dr_max)
    return np.bincount(rep, weights=np.where(use, pt[other], 0.0), minlength=len(cand))


# --- kernels == twins --------------------------------------------------------------------------------------------


def _tracking(p):
    u = p["rng"].random(len(p["pdg"]))
    out = kernels.particle_tracking(
        p["px"], p["py"], p["pz"], p["pdg"], p["charge"], u, *tracking_tables(CARD),
        CARD.track_pt_min, CARD.track_eta_max,
    )  # fmt: skip
    return u, out


def test_particle_tracking_equals_numpy_reference(particles):
    p = particles
    u, (pt, eta, phi, tracked, res) = _tracking(p)
    ref_pt, ref_eta, ref_phi = _pt_eta_phi(p["px"], p["py"], p["pz"])
    np.testing.assert_allclose(pt, ref_pt, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(eta, ref_eta, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(phi, ref_phi, rtol=1e-13, atol=1e-13)
    ref_tracked, ref_res = _tracking_reference(CARD, p["pdg"], p["charge"], ref_pt, ref_eta, u)
    assert 0 < tracked.sum() < (p["charge"] != 0).sum()
    np.testing.assert_array_equal(tracked, ref_tracked)
    np.testing.assert_allclose(res[tracked], ref_res[tracked], rtol=1e-13, atol=1e-13)


def test_lognormal_equals_numpy_reference_and_has_the_requested_moments():
    rng = np.random.default_rng(1)
    mean, sigma = np.full(200_000, 10.0), np.full(200_000, 2.0)
    z = rng.standard_normal(len(mean))
    out = kernels.lognormal(mean, sigma, z)
    np.testing.assert_allclose(out, _lognormal_reference(mean, sigma, z), rtol=1e-13, atol=1e-13)
    assert abs(out.mean() - 10.0) < 0.02 and abs(out.std() - 2.0) < 0.02 and out.min() > 0


@pytest.mark.parametrize("which", ["ecal", "hcal"])
def test_calo_deposits_and_tower_sums_equal_numpy_reference(particles, which):
    p = particles
    _, (_, eta, phi, tracked, _) = _tracking(p)
    owner = np.repeat(np.arange(N_EVENTS), p["counts"])
    frac = CARD.k0s_lambda_ecal_fraction
    deposits = kernels.calo_deposits(p["pdg"], tracked, p["e"], frac)
    reference = _deposits_reference(p["pdg"], tracked, p["e"], frac)
    for got, want in zip(deposits, reference, strict=True):
        np.testing.assert_array_equal(got, want)
    idx, energy = deposits[:2] if which == "ecal" else deposits[2:]
    grid = CARD.ecal_towers if which == "ecal" else CARD.hcal_towers
    edges, deta, nphi = (np.array([g[i] for g in grid], dtype=t) for i, t in enumerate((float, float, np.int64)))
    got = tower_kernels.tower_sums(idx, energy, owner, eta, phi, N_EVENTS, edges, deta, nphi)
    want = _tower_sums_reference(owner[idx], energy, eta[idx], phi[idx], grid)
    assert len(want[0]) < len(idx)  # some towers hold several deposits
    for g, w in zip(got, want, strict=True):
        np.testing.assert_array_equal(g, w)


def test_energy_flow_groups_by_event_and_sums_met():
    rng = np.random.default_rng(5)
    blocks = []
    for _ in range(3):
        owner = np.sort(rng.integers(0, N_EVENTS, 300))
        blocks.append((owner, rng.exponential(5, 300), rng.uniform(-4, 4, 300), rng.uniform(-np.pi, np.pi, 300)))
    pid = rng.choice([11, -211, 13], 300)
    offsets, (kind, got_pid), kin, met = kernels.energy_flow(N_EVENTS, *blocks[0], pid, *blocks[1], *blocks[2])
    # twin: concatenate, compute, stable argsort by event (the detector's previous implementation)
    owner = np.concatenate([b[0] for b in blocks])
    pt = np.concatenate([blocks[0][1], blocks[1][1] / np.cosh(blocks[1][2]), blocks[2][1] / np.cosh(blocks[2][2])])
    eta, phi = np.concatenate([b[2] for b in blocks]), np.concatenate([b[3] for b in blocks])
    order = np.argsort(owner, kind="stable")
    owner, pt, eta, phi = owner[order], pt[order], eta[order], phi[order]
    np.testing.assert_array_equal(np.repeat(np.arange(N_EVENTS), np.diff(offsets)), owner)
    np.testing.assert_array_equal(kind, np.repeat([0, 1, 2], 300)[order])
    np.testing.assert_array_equal(got_pid, np.concatenate([pid, np.zeros(600, dtype=int)])[order])
    p4 = [pt, eta, phi, pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta), pt * np.cosh(eta)]
    np.testing.assert_allclose(kin, np.array(p4), rtol=1e-13, atol=1e-13)
    for row, comp in zip(met, p4[3:6], strict=True):
        np.testing.assert_allclose(row, -np.bincount(owner, weights=comp, minlength=N_EVENTS), rtol=1e-13, atol=1e-13)


def test_isolation_sums_equal_pairwise_numpy_reference():
    rng = np.random.default_rng(8)
    owner = np.sort(rng.integers(0, N_EVENTS, 3000))
    offsets = np.concatenate([[0], np.cumsum(np.bincount(owner, minlength=N_EVENTS))])
    pt, eta, phi = rng.exponential(2.0, 3000), rng.uniform(-2.5, 2.5, 3000), rng.uniform(-np.pi, np.pi, 3000)
    cand = np.flatnonzero(pt > 4.0)
    got = kernels.isolation_sums(cand, offsets, owner, pt, eta, phi, 0.5, 0.5)
    want = _isolation_reference(cand, owner, pt, eta, phi, N_EVENTS, 0.5, 0.5)
    assert np.count_nonzero(want) > len(cand) // 2
    np.testing.assert_array_equal(got, want)
