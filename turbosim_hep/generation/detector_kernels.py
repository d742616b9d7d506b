"""Numba kernels of the parametric detector: per-particle kinematics and tracking, tower binning, isolation.

Every kernel takes flat float64/int64 NumPy arrays of many events (particles grouped by event, plus per-event
``offsets`` of length ``n_events + 1``) and returns arrays; :mod:`turbosim_hep.generation.detector` is the front end
that draws the random numbers (in the same order and amounts as the vectorised NumPy version, so a seed gives the
same events) and passes them in. All kernels are compiled with one policy, lazily on first call and cached on disk
(:mod:`turbosim_hep.physics.jit`); the tower kernels are :mod:`~turbosim_hep.generation.tower_kernels`.
The pure NumPy twin of each kernel lives in ``tests/generation/test_detector_kernels.py``.

The kernels exist for speed: the detector must not cost more than the anti-kt clustering it feeds.
"""

from __future__ import annotations

import math

import numpy as np

from turbosim_hep.physics.jit import jit

__all__ = (
    "calo_deposits",
    "energy_flow",
    "isolation_sums",
    "lognormal",
    "particle_tracking",
    "table_row",
)

#: Pseudorapidity given to particles along the beam line (pT = 0), before the +-1e3 clip (as the NumPy version).
_BEAM_ARCSINH_ARG = 1e3


@jit
def table_row(edges: np.ndarray, x: float) -> int:
    """Index of the first upper edge >= ``x`` (``np.searchsorted(edges, x, side="left")``); len(edges) if none."""
    for i in range(len(edges)):
        if x <= edges[i]:
            return i
    return len(edges)


@jit
def particle_tracking(
    px: np.ndarray,
    py: np.ndarray,
    pz: np.ndarray,
    pdg: np.ndarray,
    charge: np.ndarray,
    u_track: np.ndarray,
    eff_edges: np.ndarray,
    eff_table: np.ndarray,
    res_edges: np.ndarray,
    res_table: np.ndarray,
    track_pt_min: float,
    track_eta_max: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """pT [GeV], eta, phi of every particle, whether it gets a track, and its absolute sigma(pT) [GeV].

    Parameters
    ----------
    px, py, pz : (m,) float64
        Momenta [GeV].
    pdg : (m,) int
        PDG ids; kind 0 = charged hadron (any other charged particle), 1 = electron, 2 = muon.
    charge : (m,) float64
        Charge [e]; neutral particles are never tracked.
    u_track : (m,) float64
        Uniform draws in [0, 1); a particle is tracked when ``u_track < efficiency``.
    eff_edges : (3, r) float64
        Upper |eta| edges of the efficiency rows per kind (short tables padded by repeating their last row).
    eff_table : (3, r, 3) float64
        Efficiency for pT <= 1, 1 < pT <= 100, pT > 100 GeV per kind and row.
    res_edges, res_table : (3, r) and (3, r, 2) float64
        Resolution rows per kind: sigma(pT)/pT = constant ⊕ slope·pT.
    track_pt_min, track_eta_max : float
        Tracker acceptance.

    Returns
    -------
    pt, eta, phi : (m,) float64
    tracked : (m,) bool
    res : (m,) float64
        sigma(pT) [GeV] of the tracked particles (0 for the others).
    """
    m = len(px)
    pt = np.empty(m)
    eta = np.empty(m)
    phi = np.empty(m)
    tracked = np.zeros(m, dtype=np.bool_)
    res = np.zeros(m)
    n_eff, n_res = eff_edges.shape[1], res_edges.shape[1]
    for i in range(m):
        p_t = math.hypot(px[i], py[i])
        if p_t > 0:
            arg = pz[i] / p_t
        else:
            arg = math.copysign(_BEAM_ARCSINH_ARG, pz[i])
        h = min(max(math.asinh(arg), -_BEAM_ARCSINH_ARG), _BEAM_ARCSINH_ARG)
        pt[i] = p_t
        eta[i] = h
        phi[i] = math.atan2(py[i], px[i])
        if charge[i] == 0:
            continue
        a = abs(pdg[i])
        kind = 1 if a == 11 else (2 if a == 13 else 0)
        ae = abs(h)
        r = table_row(eff_edges[kind], ae)
        eff = 0.0
        if r < n_eff and p_t > track_pt_min and ae <= track_eta_max:
            col = 0 if p_t <= 1.0 else (1 if p_t <= 100.0 else 2)
            eff = eff_table[kind, r, col]
        if not u_track[i] < eff:
            continue
        tracked[i] = True
        r = table_row(res_edges[kind], ae)
        if r < n_res:
            res[i] = p_t * math.hypot(res_table[kind, r, 0], res_table[kind, r, 1] * p_t)
    return pt, eta, phi, tracked, res


@jit
def lognormal(mean: np.ndarray, sigma: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Log-normal values of the given mean and standard deviation from standard-normal draws ``z`` (all (k,))."""
    out = np.empty(len(mean))
    for i in range(len(mean)):
        mu = max(mean[i], 1e-12)
        ratio = sigma[i] / mu
        s2 = math.log1p(ratio * ratio)
        out[i] = math.exp(math.log(mu) - 0.5 * s2 + math.sqrt(s2) * z[i])
    return out


@jit
def calo_deposits(
    pdg: np.ndarray, tracked: np.ndarray, energy: np.ndarray, k0s_lambda_ecal_fraction: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Calorimeter deposits of the untracked visible particles (muons and neutrinos deposit nothing).

    Photons and electrons deposit all their energy [GeV] in the ECal, other hadrons in the HCal, K0S and Lambda
    share it (``k0s_lambda_ecal_fraction`` in the ECal).

    Returns
    -------
    ecal_idx, ecal_energy : (a,) int64, float64
        Particle index and energy of the ECal deposits: the photons/electrons in particle order, then the
        K0S/Lambda shares in particle order.
    hcal_idx, hcal_energy : (b,) int64, float64
        The same for the HCal, in particle order.
    """
    m = len(pdg)
    ecal_idx = np.empty(m, dtype=np.int64)
    hcal_idx = np.empty(m, dtype=np.int64)
    ecal_energy = np.empty(m)
    hcal_energy = np.empty(m)
    n_e = 0
    n_h = 0
    for i in range(m):
        a = abs(pdg[i])
        if tracked[i] or a == 12 or a == 13 or a == 14 or a == 16:
            continue
        if a == 22 or a == 11:
            ecal_idx[n_e] = i
            ecal_energy[n_e] = energy[i]
            n_e += 1
        else:
            hcal_idx[n_h] = i
            hcal_energy[n_h] = (1 - k0s_lambda_ecal_fraction) * energy[i] if a == 310 or a == 3122 else energy[i]
            n_h += 1
    for j in range(n_h):
        i = hcal_idx[j]
        a = abs(pdg[i])
        if a == 310 or a == 3122:
            ecal_idx[n_e] = i
            ecal_energy[n_e] = k0s_lambda_ecal_fraction * energy[i]
            n_e += 1
    return ecal_idx[:n_e], ecal_energy[:n_e], hcal_idx[:n_h], hcal_energy[:n_h]


@jit
def isolation_sums(
    cand: np.ndarray,
    offsets: np.ndarray,
    owner: np.ndarray,
    pt: np.ndarray,
    eta: np.ndarray,
    phi: np.ndarray,
    dr_max: float,
    pt_min: float,
) -> np.ndarray:
    """Sum pT [GeV] of the other candidates of the same event with pT > ``pt_min`` within Delta R < ``dr_max``.

    ``cand`` (c,) indexes the flat candidates, which are grouped by event (``owner``, ``offsets`` (n+1,)).
    """
    out = np.zeros(len(cand))
    dr2 = dr_max * dr_max
    two_pi = 2 * np.pi
    for k in range(len(cand)):
        c = cand[k]
        ev = owner[c]
        s = 0.0
        for j in range(offsets[ev], offsets[ev + 1]):
            if j == c or not pt[j] > pt_min:
                continue
            d_eta = eta[j] - eta[c]
            d_phi = np.remainder(phi[j] - phi[c] + np.pi, two_pi) - np.pi
            if d_eta * d_eta + d_phi * d_phi < dr2:
                s += pt[j]
        out[k] = s
    return out


@jit
def energy_flow(
    n_events: int,
    trk_owner: np.ndarray,
    trk_pt: np.ndarray,
    trk_eta: np.ndarray,
    trk_phi: np.ndarray,
    trk_pid: np.ndarray,
    ecal_owner: np.ndarray,
    ecal_energy: np.ndarray,
    ecal_eta: np.ndarray,
    ecal_phi: np.ndarray,
    hcal_owner: np.ndarray,
    hcal_energy: np.ndarray,
    hcal_eta: np.ndarray,
    hcal_phi: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Energy-flow candidates grouped by event: each event's tracks, then its ECal towers, then its HCal towers.

    Each input block (tracks: pT [GeV]; towers: energy [GeV]) must be grouped by event (``*_owner`` sorted).
    Candidates are massless, along their track or tower direction.

    Returns
    -------
    offsets : (n_events + 1,) int64
        Candidates of event ``i`` are ``offsets[i]:offsets[i+1]``.
    kind_pid : (2, c) int64
        Kind (0 track, 1 ECal tower, 2 HCal tower) and PDG id (0 for towers) of each candidate.
    kin : (7, c) float64
        pT, eta, phi, px, py, pz, E [GeV] of each candidate.
    met : (3, n_events) float64
        Minus the summed px, py, pz [GeV] of each event's candidates.
    """
    n_c = len(trk_owner) + len(ecal_owner) + len(hcal_owner)
    offsets = np.zeros(n_events + 1, dtype=np.int64)
    for block in (trk_owner, ecal_owner, hcal_owner):
        for o in block:
            offsets[o + 1] += 1
    for e in range(n_events):
        offsets[e + 1] += offsets[e]
    kind_pid = np.zeros((2, n_c), dtype=np.int64)
    kin = np.empty((7, n_c))
    met = np.zeros((3, n_events))
    it = 0
    ie = 0
    ih = 0
    for ev in range(n_events):
        j = offsets[ev]
        while it < len(trk_owner) and trk_owner[it] == ev:
            kind_pid[1, j] = trk_pid[it]
            pt, h = trk_pt[it], trk_eta[it]
            kin[0, j], kin[1, j], kin[2, j] = pt, h, trk_phi[it]
            kin[6, j] = pt * math.cosh(h)
            it += 1
            j += 1
        while ie < len(ecal_owner) and ecal_owner[ie] == ev:
            kind_pid[0, j] = 1
            h = ecal_eta[ie]
            c = math.cosh(h)
            pt = ecal_energy[ie] / c
            kin[0, j], kin[1, j], kin[2, j] = pt, h, ecal_phi[ie]
            kin[6, j] = pt * c
            ie += 1
            j += 1
        while ih < len(hcal_owner) and hcal_owner[ih] == ev:
            kind_pid[0, j] = 2
            h = hcal_eta[ih]
            c = math.cosh(h)
            pt = hcal_energy[ih] / c
            kin[0, j], kin[1, j], kin[2, j] = pt, h, hcal_phi[ih]
            kin[6, j] = pt * c
            ih += 1
            j += 1
        sx = 0.0
        sy = 0.0
        sz = 0.0
        for j in range(offsets[ev], offsets[ev + 1]):
            pt, h, f = kin[0, j], kin[1, j], kin[2, j]
            kin[3, j] = pt * math.cos(f)
            kin[4, j] = pt * math.sin(f)
            kin[5, j] = pt * math.sinh(h)
            sx += kin[3, j]
            sy += kin[4, j]
            sz += kin[5, j]
        met[0, ev], met[1, ev], met[2, ev] = -sx, -sy, -sz
    return offsets, kind_pid, kin, met
