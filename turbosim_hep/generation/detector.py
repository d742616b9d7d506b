"""Parametric CMS-like detector (Delphes 3.4.1 CMS card numbers) on flat particle arrays of many events.

Everything is vectorised over all particles of a batch; no Python loop runs per particle or per event. The chain
follows the card's modules:

1. tracking: charged hadrons, electrons and muons get a track with the card's efficiency and a log-normal pT
   smearing (direction kept);
2. calorimeters: every visible particle without a track deposits its energy (photons, electrons: ECal; hadrons:
   HCal; K0S and Lambda split 30/70) in (eta, phi) towers; each tower's energy is smeared log-normally with the
   card's resolution and kept above the energy and significance thresholds, at a random point inside the tower
   (``SmearTowerCenter``); muons and neutrinos deposit nothing;
3. energy flow = tracks + ECal towers (photons) + HCal towers (neutral hadrons);
4. identification: electrons and muons from their tracks, photons from ECal towers, each with the card's efficiency
   and isolation (sum pT of the other energy-flow candidates above 0.5 GeV within Delta R 0.5, over the object's pT);
5. unique objects: isolated photons, electrons and muons are taken out of the jet inputs;
6. jets: anti-kt (R from the card) on the remaining energy-flow candidates, pT above the card's threshold, then the
   jet energy scale; MET = minus the vector sum of all energy-flow candidates, pzMiss = minus their summed pz.

Simplifications (say so when comparing with Delphes): tracked particles leave no calorimeter energy (Delphes
subtracts the track energy from the smeared tower, so its neutral towers fluctuate more); uniform tower sizes per
region; no curling of soft tracks in the 3.8 T field; no pile-up.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from turbosim_hep.generation.detector_card import DetectorCard
from turbosim_hep.generation.jets import cluster_antikt, jet_energy_scale, match_to_quarks
from turbosim_hep.generation.pythia import ParticleBatch

__all__ = ("DetectorOutput", "simulate_detector")

_K0S_LAMBDA = (310, 3122)


@dataclass(frozen=True)
class DetectorOutput:
    """Reconstructed objects of ``n`` events as flat arrays plus per-event counts (energies in GeV).

    ``electron_*``: isolated identified electrons by descending pT (``electron_charge`` in e, ``electron_pdg``
    11 for e-); ``jets`` ``(k, 4)`` px, py, pz, E after the energy scale, by descending pT per event;
    ``jet_parton_idx`` index 2..5 of the matched quark in the six-parton collection or -1; ``n_muons``,
    ``n_photons`` isolated identified muons and photons per event; MET pt, phi and pzMiss.
    """

    electron_pt: np.ndarray
    electron_eta: np.ndarray
    electron_phi: np.ndarray
    electron_charge: np.ndarray
    electron_pdg: np.ndarray
    electron_counts: np.ndarray
    jets: np.ndarray
    jet_parton_idx: np.ndarray
    jet_counts: np.ndarray
    n_muons: np.ndarray
    n_photons: np.ndarray
    met_pt: np.ndarray
    met_phi: np.ndarray
    met_pz_miss: np.ndarray
    timing: dict[str, float] = field(default_factory=dict)


def _pt_eta_phi(px: np.ndarray, py: np.ndarray, pz: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    pt = np.hypot(px, py)
    eta = np.arcsinh(np.divide(pz, pt, out=np.copysign(np.full_like(pz, 1e3), pz), where=pt > 0))
    return pt, np.clip(eta, -1e3, 1e3), np.arctan2(py, px)


def _binned(abs_eta: np.ndarray, rows: tuple[tuple[float, ...], ...], column: int) -> np.ndarray:
    """Value in ``column`` of the first row whose |eta| edge is >= ``abs_eta``; NaN beyond the last edge."""
    edges = np.array([r[0] for r in rows])
    values = np.array([r[column] for r in rows] + [np.nan])
    return values[np.searchsorted(edges, abs_eta, side="left")]


def _lognormal(rng: np.random.Generator, mean: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """Log-normal draws with the given mean and standard deviation (Delphes' smearing; never negative)."""
    mean = np.maximum(mean, 1e-12)
    s2 = np.log1p((sigma / mean) ** 2)
    return np.exp(np.log(mean) - 0.5 * s2 + np.sqrt(s2) * rng.standard_normal(len(mean)))


def _track_efficiency(card: DetectorCard, kind: str, pt: np.ndarray, abs_eta: np.ndarray) -> np.ndarray:
    rows = {"hadron": card.hadron_track_eff, "electron": card.electron_track_eff, "muon": card.muon_track_eff}[kind]
    low, high = _binned(abs_eta, rows, 1), _binned(abs_eta, rows, 2)
    eff = np.where(pt > 1.0, high, low)
    if kind == "electron":
        eff = np.where(pt > 100.0, _binned(abs_eta, rows, 3), eff)
    ok = (pt > card.track_pt_min) & (abs_eta <= card.track_eta_max)
    return np.where(ok, np.nan_to_num(eff), 0.0)


def _track_resolution(card: DetectorCard, kind: str, pt: np.ndarray, abs_eta: np.ndarray) -> np.ndarray:
    """Absolute sigma(pT) [GeV]."""
    rows = {"hadron": card.hadron_track_res, "electron": card.electron_track_res, "muon": card.muon_track_res}[kind]
    const, slope = _binned(abs_eta, rows, 1), _binned(abs_eta, rows, 2)
    return pt * np.hypot(np.nan_to_num(const), np.nan_to_num(slope) * pt)


def ecal_sigma(card: DetectorCard, energy: np.ndarray, eta: np.ndarray) -> np.ndarray:
    """ECal sigma(E) [GeV] of the card (REFERENCE.md §3)."""
    a, b, c = card.ecal_abc
    fa, fb = card.ecal_forward_ab
    ae = np.abs(eta)
    core = np.sqrt(a * a * energy * energy + b * b * energy + c * c)
    return np.where(
        ae <= 1.5,
        (1 + 0.64 * eta * eta) * core,
        np.where(
            ae <= 2.5,
            (2.16 + 5.6 * (ae - 2) ** 2) * core,
            np.sqrt(fa * fa * energy * energy + fb * fb * energy),
        ),
    )


def hcal_sigma(card: DetectorCard, energy: np.ndarray, eta: np.ndarray) -> np.ndarray:
    """HCal sigma(E) [GeV] of the card (REFERENCE.md §3)."""
    ae = np.abs(eta)
    a = np.nan_to_num(_binned(ae, card.hcal_res, 1))
    b = np.nan_to_num(_binned(ae, card.hcal_res, 2))
    return np.sqrt(a * a * energy * energy + b * b * energy)


def _towers(
    owner: np.ndarray,
    energy: np.ndarray,
    eta: np.ndarray,
    phi: np.ndarray,
    *,
    grid: tuple[tuple[float, float, int], ...],
    sigma,
    energy_min: float,
    significance_min: float,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Sum deposits into towers, smear, threshold. Returns owner, E, eta, phi of the surviving towers."""
    ae = np.abs(eta)
    region = np.searchsorted(np.array([g[0] for g in grid]), ae, side="left")
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
    t_owner, t_ieta, t_iphi = owner[first], ieta[first], iphi[first]
    t_deta, t_nphi = deta[first], nphi[first]
    center_eta = (t_ieta + 0.5) * t_deta
    s = sigma(tower_e, center_eta)
    smeared = _lognormal(rng, tower_e, s)
    keep = (smeared > energy_min) & (smeared > significance_min * s)
    t_eta = (t_ieta + rng.random(len(keys))) * t_deta
    t_phi = (t_iphi + rng.random(len(keys))) * (2 * np.pi / t_nphi) - np.pi
    return t_owner[keep], smeared[keep], t_eta[keep], t_phi[keep]


def _isolation_ratio(
    cand: np.ndarray, owner: np.ndarray, pt: np.ndarray, eta: np.ndarray, phi: np.ndarray, n_events: int,
    *, dr_max: float, pt_min: float,
) -> np.ndarray:  # fmt: skip
    """Sum pT of the other energy-flow candidates (pT > pt_min, Delta R < dr_max) over the candidate's pT.

    ``owner`` (event index of each candidate) must be sorted; pairs are formed per event, vectorised.
    """
    if len(cand) == 0:
        return np.zeros(0)
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
    sums = np.bincount(rep, weights=np.where(use, pt[other], 0.0), minlength=len(cand))
    return sums / pt[cand]


def simulate_detector(batch: ParticleBatch, card: DetectorCard, rng: np.random.Generator) -> DetectorOutput:
    """Run the parametric detector on a batch of generated events.

    Parameters
    ----------
    batch : ParticleBatch
        Stable particles (flat, grouped by event) and parton truth of ``n`` events.
    card : DetectorCard
        Detector numbers.
    rng : numpy.random.Generator
        Source of all randomness (efficiencies, smearing, tower positions).

    Returns
    -------
    DetectorOutput
        Electrons, jets, MET and the isolated-muon/photon counts of the ``n`` events; ``timing`` holds the seconds
        spent in the detector and in the clustering.
    """
    t0 = time.perf_counter()
    n = len(batch)
    owner_all = np.repeat(np.arange(n), batch.counts)
    pid = batch.pdg_id
    apid = np.abs(pid)
    pt, eta, phi = _pt_eta_phi(batch.px, batch.py, batch.pz)
    ae = np.abs(eta)
    charged = batch.charge != 0
    is_e, is_mu = apid == 11, apid == 13
    is_had = charged & ~is_e & ~is_mu
    visible = ~np.isin(apid, (12, 14, 16))

    # 1. tracking
    eff = np.zeros(len(pid))
    res = np.zeros(len(pid))
    for kind, mask in (("hadron", is_had), ("electron", is_e), ("muon", is_mu)):
        eff[mask] = _track_efficiency(card, kind, pt[mask], ae[mask])
        res[mask] = _track_resolution(card, kind, pt[mask], ae[mask])
    tracked = charged & (rng.random(len(pid)) < eff)
    trk = np.flatnonzero(tracked)
    trk_pt = _lognormal(rng, pt[trk], res[trk])

    # 2. calorimeters: untracked visible particles; muons deposit nothing
    calo = visible & ~tracked & ~is_mu
    k0l = np.isin(apid, _K0S_LAMBDA)
    em = calo & ((apid == 22) | is_e)
    had = calo & ~em
    frac = card.k0s_lambda_ecal_fraction
    e_ecal = np.concatenate([batch.e[em], frac * batch.e[had & k0l]])
    idx_ecal = np.concatenate([np.flatnonzero(em), np.flatnonzero(had & k0l)])
    e_hcal = np.where(k0l[had], (1 - frac) * batch.e[had], batch.e[had])
    idx_hcal = np.flatnonzero(had)
    towers = {}
    for name, idx, energy, grid, sig, emin in (
        ("ecal", idx_ecal, e_ecal, card.ecal_towers, ecal_sigma, card.ecal_energy_min),
        ("hcal", idx_hcal, e_hcal, card.hcal_towers, hcal_sigma, card.hcal_energy_min),
    ):
        towers[name] = _towers(
            owner_all[idx], energy, eta[idx], phi[idx], grid=grid,
            sigma=lambda e_, eta_, s=sig: s(card, e_, eta_), energy_min=emin,
            significance_min=card.energy_significance_min, rng=rng,
        )  # fmt: skip

    # 3. energy flow: tracks (massless... kept with their direction), ECal towers, HCal towers
    kind_track, kind_ecal, kind_hcal = 0, 1, 2
    ef_owner = np.concatenate([owner_all[trk], towers["ecal"][0], towers["hcal"][0]])
    ef_pt = np.concatenate([trk_pt, towers["ecal"][1] / np.cosh(towers["ecal"][2]),
                            towers["hcal"][1] / np.cosh(towers["hcal"][2])])  # fmt: skip
    ef_eta = np.concatenate([eta[trk], towers["ecal"][2], towers["hcal"][2]])
    ef_phi = np.concatenate([phi[trk], towers["ecal"][3], towers["hcal"][3]])
    ef_kind = np.concatenate([np.full(len(trk), kind_track), np.full(len(towers["ecal"][0]), kind_ecal),
                              np.full(len(towers["hcal"][0]), kind_hcal)])  # fmt: skip
    ef_pid = np.concatenate([pid[trk], np.full(len(ef_kind) - len(trk), 0)])
    order = np.argsort(ef_owner, kind="stable")
    ef_owner, ef_pt, ef_eta, ef_phi, ef_kind, ef_pid = (
        a[order] for a in (ef_owner, ef_pt, ef_eta, ef_phi, ef_kind, ef_pid)
    )
    ef_ae = np.abs(ef_eta)

    # 4. identification and isolation
    def identified(mask: np.ndarray, eff_: np.ndarray, iso_max: float) -> np.ndarray:
        cand = np.flatnonzero(mask & (rng.random(len(mask)) < eff_))
        ratio = _isolation_ratio(cand, ef_owner, ef_pt, ef_eta, ef_phi, n,
                                 dr_max=card.isolation_dr, pt_min=card.isolation_pt_min)  # fmt: skip
        return cand[ratio < iso_max]

    e_mask = (ef_kind == kind_track) & (np.abs(ef_pid) == 11) & (ef_pt > card.electron_pt_min)
    e_eff = np.nan_to_num(_binned(ef_ae, card.electron_id_eff, 1))
    electrons = identified(e_mask, e_eff, card.electron_iso_max)
    mu_mask = (ef_kind == kind_track) & (np.abs(ef_pid) == 13) & (ef_pt > card.muon_pt_min)
    mu_mask &= ef_ae < card.muon_eta_max
    muons = identified(mu_mask, np.full(len(ef_pt), card.muon_eff), card.muon_iso_max)
    ph_mask = (ef_kind == kind_ecal) & (ef_pt > card.photon_pt_min)
    ph_eff = np.nan_to_num(_binned(ef_ae, card.photon_eff, 1))
    photons = identified(ph_mask, ph_eff, card.photon_iso_max)

    # 6. MET from all energy-flow candidates
    ef_px, ef_py = ef_pt * np.cos(ef_phi), ef_pt * np.sin(ef_phi)
    ef_pz = ef_pt * np.sinh(ef_eta)
    ef_e = ef_pt * np.cosh(ef_eta)
    mx = -np.bincount(ef_owner, weights=ef_px, minlength=n)
    my = -np.bincount(ef_owner, weights=ef_py, minlength=n)
    mz = -np.bincount(ef_owner, weights=ef_pz, minlength=n)

    # 5. unique objects out of the jet inputs
    jet_in = np.ones(len(ef_pt), dtype=bool)
    jet_in[np.concatenate([electrons, muons, photons])] = False
    t1 = time.perf_counter()
    jets, jet_counts = cluster_antikt(
        ef_px[jet_in], ef_py[jet_in], ef_pz[jet_in], ef_e[jet_in],
        np.bincount(ef_owner[jet_in], minlength=n), r=card.jet_r, pt_min=card.jet_pt_min,
    )  # fmt: skip
    t2 = time.perf_counter()
    a, b = card.jet_energy_scale_ab
    jets = jet_energy_scale(jets, a=a, b=b)
    jet_owner = np.repeat(np.arange(n), jet_counts)
    j_pt, j_eta, j_phi = _pt_eta_phi(jets[:, 0], jets[:, 1], jets[:, 2])
    resort = np.lexsort((-j_pt, jet_owner))  # the scale depends on eta and may swap neighbours
    jets, j_pt, j_eta, j_phi = jets[resort], j_pt[resort], j_eta[resort], j_phi[resort]
    _, q_eta, q_phi = _pt_eta_phi(*(batch.quarks_event[..., i] for i in range(3)))
    parton_idx = match_to_quarks(j_eta, j_phi, jet_owner, q_eta, q_phi, max_dr=card.jet_match_dr)

    electrons = electrons[np.lexsort((-ef_pt[electrons], ef_owner[electrons]))]
    e_pdg = ef_pid[electrons].astype(np.int32)
    out = DetectorOutput(
        electron_pt=ef_pt[electrons],
        electron_eta=ef_eta[electrons],
        electron_phi=ef_phi[electrons],
        electron_charge=np.where(e_pdg > 0, -1, 1).astype(np.int32),
        electron_pdg=e_pdg,
        electron_counts=np.bincount(ef_owner[electrons], minlength=n),
        jets=jets,
        jet_parton_idx=parton_idx,
        jet_counts=jet_counts,
        n_muons=np.bincount(ef_owner[muons], minlength=n),
        n_photons=np.bincount(ef_owner[photons], minlength=n),
        met_pt=np.hypot(mx, my),
        met_phi=np.arctan2(my, mx),
        met_pz_miss=mz,
        timing={"detector_s": (t1 - t0) + (time.perf_counter() - t2), "clustering_s": t2 - t1},
    )
    return out
