"""Parametric CMS-like detector (Delphes 3.4.1 CMS card numbers) on flat particle arrays of many events.

All particles of a batch are processed at once: the per-particle and per-event loops run in the compiled kernels of
:mod:`turbosim_hep.generation.detector_kernels`, and this module draws every random number (so the detector costs
less than the anti-kt clustering it feeds). The chain follows the card's modules:

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

from turbosim_hep.generation import detector_kernels as kernels
from turbosim_hep.generation import tower_kernels
from turbosim_hep.generation.detector_card import DetectorCard
from turbosim_hep.generation.jets import cluster_antikt, jet_energy_scale, match_to_quarks
from turbosim_hep.generation.pythia import ParticleBatch

__all__ = ("DetectorOutput", "ecal_sigma", "hcal_sigma", "run_detector", "tracking_tables")


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


def tracking_tables(card: DetectorCard) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The card's tracking rows as the arrays :func:`~turbosim_hep.generation.detector_kernels.particle_tracking` reads.

    Kinds in order hadron, electron, muon; a kind with fewer |eta| rows repeats its last row (same lookup result).

    Returns
    -------
    eff_edges : (3, r) float64
    eff_table : (3, r, 3) float64
        Efficiency for pT <= 1, 1 < pT <= 100 and pT > 100 GeV (only electrons differ above 100 GeV).
    res_edges : (3, r) float64
    res_table : (3, r, 2) float64
        Constant and slope [1/GeV] of sigma(pT)/pT.
    """
    eff_rows = [
        [(r[0], r[1], r[2], r[2]) for r in card.hadron_track_eff],
        [tuple(r) for r in card.electron_track_eff],
        [(r[0], r[1], r[2], r[2]) for r in card.muon_track_eff],
    ]
    res_rows = [list(card.hadron_track_res), list(card.electron_track_res), list(card.muon_track_res)]

    def padded(rows_per_kind: list) -> np.ndarray:
        r = max(len(rows) for rows in rows_per_kind)
        return np.array([list(rows) + [rows[-1]] * (r - len(rows)) for rows in rows_per_kind], dtype=np.float64)

    eff, res = padded(eff_rows), padded(res_rows)
    return (
        np.ascontiguousarray(eff[..., 0]),
        np.ascontiguousarray(eff[..., 1:]),
        np.ascontiguousarray(res[..., 0]),
        np.ascontiguousarray(res[..., 1:]),
    )


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
    idx: np.ndarray,
    energy: np.ndarray,
    owner: np.ndarray,
    eta: np.ndarray,
    phi: np.ndarray,
    n_events: int,
    *,
    grid: tuple[tuple[float, float, int], ...],
    sigma,
    energy_min: float,
    significance_min: float,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Sum deposits (particle ``idx``, ``energy``) into towers, smear, threshold.

    Returns owner, E, eta, phi of the surviving towers, grouped by event.

    Draws, in this order, one standard normal (smearing), then one uniform per tower for eta, then one for phi.
    """
    edges = np.array([g[0] for g in grid], dtype=np.float64)
    deta = np.array([g[1] for g in grid], dtype=np.float64)
    nphi = np.array([g[2] for g in grid], dtype=np.int64)
    t_owner, t_region, t_ieta, t_iphi, t_e = tower_kernels.tower_sums(
        idx, energy, owner, eta, phi, n_events, edges, deta, nphi
    )
    t_deta, t_nphi = deta[t_region], nphi[t_region]
    s = sigma(t_e, (t_ieta + 0.5) * t_deta)
    n_towers = len(t_e)
    z, u_eta, u_phi = rng.standard_normal(n_towers), rng.random(n_towers), rng.random(n_towers)
    return tower_kernels.tower_finalize(
        t_owner, t_e, s, t_ieta, t_iphi, t_deta, t_nphi, z, u_eta, u_phi, energy_min, significance_min
    )


def run_detector(batch: ParticleBatch, card: DetectorCard, rng: np.random.Generator) -> DetectorOutput:
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
    counts = np.asarray(batch.counts, dtype=np.int64)
    owner_all = np.repeat(np.arange(n), counts)
    pid = batch.pdg_id
    px, py, pz, energy_all = (np.asarray(a, dtype=np.float64) for a in (batch.px, batch.py, batch.pz, batch.e))

    # 1. tracking (and every particle's pT, eta, phi)
    u_track = rng.random(len(pid))
    pt, eta, phi, tracked, res = kernels.particle_tracking(
        px, py, pz, pid, np.asarray(batch.charge, dtype=np.float64), u_track, *tracking_tables(card),
        card.track_pt_min, card.track_eta_max,
    )  # fmt: skip
    trk = np.flatnonzero(tracked)
    trk_pt = kernels.lognormal(pt[trk], res[trk], rng.standard_normal(len(trk)))

    # 2. calorimeters: untracked visible particles; muons deposit nothing
    ecal_idx, ecal_e, hcal_idx, hcal_e = kernels.calo_deposits(pid, tracked, energy_all, card.k0s_lambda_ecal_fraction)
    ecal = _towers(ecal_idx, ecal_e, owner_all, eta, phi, n, grid=card.ecal_towers,
                   sigma=lambda e_, eta_: ecal_sigma(card, e_, eta_), energy_min=card.ecal_energy_min,
                   significance_min=card.energy_significance_min, rng=rng)  # fmt: skip
    hcal = _towers(hcal_idx, hcal_e, owner_all, eta, phi, n, grid=card.hcal_towers,
                   sigma=lambda e_, eta_: hcal_sigma(card, e_, eta_), energy_min=card.hcal_energy_min,
                   significance_min=card.energy_significance_min, rng=rng)  # fmt: skip

    # 3. energy flow: tracks (massless, along the particle), ECal towers, HCal towers; MET from all of them
    ef_offsets, (ef_kind, ef_pid), ef_kin, met = kernels.energy_flow(
        n, owner_all[trk], trk_pt, eta[trk], phi[trk], pid[trk].astype(np.int64), *ecal, *hcal
    )
    ef_pt, ef_eta, ef_phi, ef_px, ef_py, ef_pz, ef_e = ef_kin
    ef_owner = np.repeat(np.arange(n), np.diff(ef_offsets))
    kind_track, kind_ecal = 0, 1

    # 4. identification and isolation; one uniform per energy-flow candidate and object type, as the card's order
    def identified(sel: np.ndarray, eff_: np.ndarray, iso_max: float) -> np.ndarray:
        u = rng.random(len(ef_pt))
        cand = sel[u[sel] < eff_]
        sums = kernels.isolation_sums(cand, ef_offsets, ef_owner, ef_pt, ef_eta, ef_phi,
                                      card.isolation_dr, card.isolation_pt_min)  # fmt: skip
        return cand[sums / ef_pt[cand] < iso_max]

    is_trk = ef_kind == kind_track
    sel = np.flatnonzero(is_trk & (np.abs(ef_pid) == 11) & (ef_pt > card.electron_pt_min))
    electrons = identified(sel, np.nan_to_num(_binned(np.abs(ef_eta[sel]), card.electron_id_eff, 1)),
                           card.electron_iso_max)  # fmt: skip
    sel = np.flatnonzero(is_trk & (np.abs(ef_pid) == 13) & (ef_pt > card.muon_pt_min))
    sel = sel[np.abs(ef_eta[sel]) < card.muon_eta_max]
    muons = identified(sel, np.full(len(sel), card.muon_eff), card.muon_iso_max)
    sel = np.flatnonzero((ef_kind == kind_ecal) & (ef_pt > card.photon_pt_min))
    photons = identified(sel, np.nan_to_num(_binned(np.abs(ef_eta[sel]), card.photon_eff, 1)), card.photon_iso_max)
    mx, my, mz = met

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


def warm_up(card: DetectorCard) -> None:
    """Run the detector once on a made-up two-event batch, so numba loads its compiled kernels now.

    The first call in a process loads (or compiles) every kernel; generation workers call this during start-up so
    that the per-event detector timing measures the detector, not the loading.
    """
    from turbosim_hep.generation.pythia import ParticleBatch

    pdg = np.array([211, 22, 11, -211, 130, 22], dtype=np.int32)
    charge = np.array([1.0, 0.0, -1.0, -1.0, 0.0, 0.0])
    px = np.array([30.0, 20.0, 40.0, -25.0, -35.0, 5.0])
    py = np.array([5.0, -10.0, 12.0, 8.0, -6.0, 30.0])
    pz = np.array([10.0, 3.0, -20.0, 40.0, 2.0, -9.0])
    e = np.sqrt(px**2 + py**2 + pz**2 + 0.0195)
    quarks = np.tile(np.array([30.0, 5.0, 10.0, 32.0]), (2, 4, 1))
    batch = ParticleBatch(
        counts=np.array([3, 3], dtype=np.int64), pdg_id=pdg, charge=charge, px=px, py=py, pz=pz, e=e,
        partons=np.tile(np.array([30.0, 5.0, 10.0, 32.0]), (2, 6, 1)), parton_masses=np.zeros((2, 6)),
        quarks_event=quarks,
    )  # fmt: skip
    run_detector(batch, card, np.random.default_rng(0))
