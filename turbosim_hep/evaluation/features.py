"""What the classifiers of the scorecard see: physics features of detector events, parton events and their pairs.

A classifier on the 24 raw components cannot easily learn a ΔR, a threshold or a resonance mass, so it misses the
defects a physicist finds first. These functions add, per event:

- :func:`detector_features` (X: electron, MET, four jets): per-object pT, η and jet mass, MET pT, Δφ(e, MET), the six
  ΔR(j, j) and four ΔR(e, j), HT, the four χ²-reconstructed masses (m_tt, m_W^had, m_t^lep, m_t^had), plus the raw
  24 components;
- :func:`parton_features` (Z: e⁻, ν̄, b, b̄, u, d̄ in their labelled slots): per-object pT, η and mass, the quark
  ΔR's, the parton-level masses m(u d̄), m(b u d̄), m(e ν̄ b̄), m(e ν̄), m_tt, the top pTs, y_tt, ν pz, plus the raw 24;
- :func:`pair_features` ((z, x) of one event): both of the above plus the response, which only a pair shows: ΔR and
  pT ratio of each quark and its ΔR-matched jet, of the electron, and MET against the neutrino.

All arrays ``(n, 24)`` [GeV] in, ``(n, k)`` float64 out with the ``k`` names alongside.
"""

from __future__ import annotations

import itertools

import numpy as np

from turbosim_hep.constants import N_FEATURES, X_FEATURES, Z_FEATURES

__all__ = (
    "delta_r",
    "detector_features",
    "four_vectors",
    "invariant_mass",
    "pair_features",
    "parton_features",
    "parton_observables",
    "pt_eta_phi_mass",
)

_JET_PAIRS = tuple(itertools.combinations(range(4), 2))
_RECO_MASSES = ("m_tt", "m_w_had", "m_t_lep", "m_t_had")


def four_vectors(features: np.ndarray, what: str = "features") -> np.ndarray:
    """``(n, 24)`` features as ``(n, 6, 4)`` float64 four-vectors (px, py, pz, E) [GeV]."""
    f = np.asarray(features, dtype=np.float64)
    if f.ndim != 2 or f.shape[1] != N_FEATURES:
        raise ValueError(f"{what} must have shape (n, {N_FEATURES}), got {f.shape!r}")
    return f.reshape(len(f), 6, 4)


def invariant_mass(p4: np.ndarray) -> np.ndarray:
    """Signed mass ``copysign(sqrt(|m²|), m²)`` [GeV] of ``(..., 4)`` four-vectors (negative when E < |p|)."""
    m2 = p4[..., 3] ** 2 - (p4[..., :3] ** 2).sum(-1)
    return np.copysign(np.sqrt(np.abs(m2)), m2)


def pt_eta_phi_mass(p4: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """pT [GeV], η, φ [rad] and signed mass [GeV] of ``(..., 4)`` four-vectors (η = ±inf along the beam)."""
    pt = np.hypot(p4[..., 0], p4[..., 1])
    with np.errstate(divide="ignore", invalid="ignore"):
        eta = np.arcsinh(p4[..., 2] / pt)
    return pt, eta, np.arctan2(p4[..., 1], p4[..., 0]), invariant_mass(p4)


def delta_r(eta1: np.ndarray, phi1: np.ndarray, eta2: np.ndarray, phi2: np.ndarray) -> np.ndarray:
    """ΔR = sqrt(Δη² + Δφ²) with Δφ wrapped into [-π, π)."""
    dphi = np.mod(phi1 - phi2 + np.pi, 2.0 * np.pi) - np.pi
    return np.hypot(eta1 - eta2, dphi)


def _rapidity(p4: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return 0.5 * np.log((p4[..., 3] + p4[..., 2]) / (p4[..., 3] - p4[..., 2]))


def parton_observables(z: np.ndarray) -> dict[str, np.ndarray]:
    """Parton-level physics of labelled Z slots (e⁻, ν̄, b, b̄, u, d̄), each ``(n,)`` [GeV; y_tt dimensionless].

    ``m_w_had`` = m(u d̄), ``m_t_had`` = m(b u d̄), ``m_w_lep`` = m(e ν̄), ``m_t_lep`` = m(e ν̄ b̄), ``m_tt`` of all six,
    ``top_pt_had``, ``top_pt_lep``, ``y_tt`` (rapidity of the tt̄ system) and ``nu_pz``.
    """
    p = four_vectors(z, "parton (Z) features")
    w_had, w_lep = p[:, 4] + p[:, 5], p[:, 0] + p[:, 1]
    t_had, t_lep = w_had + p[:, 2], w_lep + p[:, 3]
    tt = t_had + t_lep
    return {
        "m_w_had": invariant_mass(w_had),
        "m_t_had": invariant_mass(t_had),
        "m_w_lep": invariant_mass(w_lep),
        "m_t_lep": invariant_mass(t_lep),
        "m_tt": invariant_mass(tt),
        "top_pt_had": np.hypot(t_had[:, 0], t_had[:, 1]),
        "top_pt_lep": np.hypot(t_lep[:, 0], t_lep[:, 1]),
        "y_tt": _rapidity(tt),
        "nu_pz": p[:, 1, 2].copy(),
    }


def _kinematic_block(p4: np.ndarray, names: tuple[str, ...], with_mass: tuple[int, ...]):
    pt, eta, phi, mass = pt_eta_phi_mass(p4)
    cols, labels = [], []
    for i, name in enumerate(names):
        cols += [pt[:, i], eta[:, i]]
        labels += [f"{name}_pt", f"{name}_eta"]
        if i in with_mass:
            cols.append(mass[:, i])
            labels.append(f"{name}_mass")
    return cols, labels, (pt, eta, phi)


def detector_features(x: np.ndarray, *, reconstruct=None) -> tuple[np.ndarray, tuple[str, ...]]:
    """Rich features of detector events X ``(n, 24)`` [GeV]; returns ``(n, 55)`` float64 and the names.

    ``reconstruct`` is the χ² mass reconstruction ``f(features, *, level)`` (default
    :func:`turbosim_hep.physics.reconstruction.reconstruct_features`).
    """
    if reconstruct is None:
        from turbosim_hep.physics.reconstruction import reconstruct_features as reconstruct
    p = four_vectors(x, "detector (X) features")
    objects = ("electron", "jet1", "jet2", "jet3", "jet4")
    visible = p[:, [0, 2, 3, 4, 5]]
    cols, names, (pt, eta, phi) = _kinematic_block(visible, objects, with_mass=(1, 2, 3, 4))
    met_pt, met_phi = np.hypot(p[:, 1, 0], p[:, 1, 1]), np.arctan2(p[:, 1, 1], p[:, 1, 0])
    dphi = np.abs(np.mod(phi[:, 0] - met_phi + np.pi, 2.0 * np.pi) - np.pi)
    cols += [met_pt, dphi]
    names += ["met_pt", "dphi_e_met"]
    for a, b in _JET_PAIRS:
        cols.append(delta_r(eta[:, a + 1], phi[:, a + 1], eta[:, b + 1], phi[:, b + 1]))
        names.append(f"dr_jet{a + 1}_jet{b + 1}")
    for j in range(4):
        cols.append(delta_r(eta[:, 0], phi[:, 0], eta[:, j + 1], phi[:, j + 1]))
        names.append(f"dr_e_jet{j + 1}")
    cols.append(pt[:, 1:].sum(1))
    names.append("ht")
    masses = reconstruct(np.ascontiguousarray(p.reshape(len(p), 24)), level="reco")
    cols += [np.asarray(masses[k], dtype=np.float64) for k in _RECO_MASSES]
    names += [f"reco_{k}" for k in _RECO_MASSES]
    out = np.concatenate([np.stack(cols, 1), p.reshape(len(p), 24)], 1)
    return out, (*names, *X_FEATURES)


def parton_features(z: np.ndarray) -> tuple[np.ndarray, tuple[str, ...]]:
    """Rich features of parton events Z ``(n, 24)`` [GeV] in labelled slots; returns ``(n, 62)`` float64, names."""
    p = four_vectors(z, "parton (Z) features")
    objects = ("e", "nu", "b", "bbar", "u", "dbar")
    cols, names, (pt, eta, phi) = _kinematic_block(p, objects, with_mass=tuple(range(6)))
    for a, b in _JET_PAIRS:
        cols.append(delta_r(eta[:, a + 2], phi[:, a + 2], eta[:, b + 2], phi[:, b + 2]))
        names.append(f"dr_{objects[a + 2]}_{objects[b + 2]}")
    for q in range(2, 6):
        cols.append(delta_r(eta[:, 0], phi[:, 0], eta[:, q], phi[:, q]))
        names.append(f"dr_e_{objects[q]}")
    cols.append(pt[:, 2:].sum(1))
    names.append("ht_quarks")
    obs = parton_observables(z)
    cols += list(obs.values())
    names += list(obs)
    out = np.concatenate([np.stack(cols, 1), p.reshape(len(p), 24)], 1)
    return out, (*names, *Z_FEATURES)


def _response_features(z: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, tuple[str, ...]]:
    from turbosim_hep.evaluation.response import match_jets_to_quarks

    zp, xp = four_vectors(z, "parton (Z) features"), four_vectors(x, "detector (X) features")
    pt_z, eta_z, phi_z, _ = pt_eta_phi_mass(zp)
    pt_x, eta_x, phi_x, _ = pt_eta_phi_mass(xp)
    finite = np.isfinite(xp).all(axis=(1, 2)) & np.isfinite(zp).all(axis=(1, 2))
    jet_index = np.zeros((len(z), 4), dtype=np.intp)
    if finite.any():
        jet_index[finite] = match_jets_to_quarks(zp[finite].reshape(-1, 24), xp[finite].reshape(-1, 24))[0]
    cols, names = [], []
    with np.errstate(divide="ignore", invalid="ignore"):
        for q, name in zip(range(4), ("b", "bbar", "u", "dbar"), strict=True):
            j = 2 + jet_index[:, q]
            rows = np.arange(len(z))
            cols.append(delta_r(eta_z[:, 2 + q], phi_z[:, 2 + q], eta_x[rows, j], phi_x[rows, j]))
            cols.append(pt_x[rows, j] / pt_z[:, 2 + q])
            names += [f"dr_{name}_jet", f"ratio_{name}_jet"]
        cols += [delta_r(eta_z[:, 0], phi_z[:, 0], eta_x[:, 0], phi_x[:, 0]), pt_x[:, 0] / pt_z[:, 0]]
        names += ["dr_e_electron", "ratio_e_electron"]
        dphi = np.abs(np.mod(phi_x[:, 1] - phi_z[:, 1] + np.pi, 2.0 * np.pi) - np.pi)
        cols += [pt_x[:, 1] / pt_z[:, 1], dphi, xp[:, 1, 0] - zp[:, 1, 0], xp[:, 1, 1] - zp[:, 1, 1]]
        names += ["ratio_met_nu", "dphi_met_nu", "dpx_met_nu", "dpy_met_nu"]
    out = np.stack(cols, 1)
    out[~np.isfinite(out)] = np.nan
    return out, tuple(names)


def pair_features(z: np.ndarray, x: np.ndarray, *, reconstruct=None) -> tuple[np.ndarray, tuple[str, ...]]:
    """Features of (parton event, detector event) pairs: parton, detector and response features, ``(n, 131)``."""
    if len(z) != len(x):
        raise ValueError(f"pairs need as many parton as detector events, got {len(z)} and {len(x)}")
    fz, nz = parton_features(z)
    fx, nx = detector_features(x, reconstruct=reconstruct)
    fr, nr = _response_features(z, x)
    return np.concatenate([fz, fx, fr], 1), (*(f"z_{n}" for n in nz), *(f"x_{n}" for n in nx), *nr)
