"""Anti-kt jets with fastjet's multi-event awkward interface, jet energy scale and jet-quark matching."""

from __future__ import annotations

import awkward as ak
import numpy as np

from turbosim_hep.physics.jet_energy_scale import jet_energy_scale_factor

__all__ = ("cluster_antikt", "jet_energy_scale", "match_to_quarks")


def cluster_antikt(
    px: np.ndarray, py: np.ndarray, pz: np.ndarray, e: np.ndarray, counts: np.ndarray, *, r: float, pt_min: float
) -> tuple[np.ndarray, np.ndarray]:
    """Cluster the inputs of many events into anti-kt jets at once (fastjet, E recombination).

    Parameters
    ----------
    px, py, pz, e : (m,) float64
        Flat four-momenta [GeV] of all events' inputs, grouped by event.
    counts : (n,) int
        Inputs per event.
    r : float
        Distance parameter (0.5 in the CMS card).
    pt_min : float
        Keep jets above this pT [GeV].

    Returns
    -------
    jets : (k, 4) float64
        px, py, pz, E of all jets, grouped by event, each event's jets by descending pT.
    jet_counts : (n,) int64
    """
    import fastjet

    fastjet._swig.ClusterSequence.set_fastjet_banner_stream(None)
    counts = np.asarray(counts, dtype=np.int64)
    if len(counts) == 0:
        return np.zeros((0, 4)), np.zeros(0, dtype=np.int64)
    flat = ak.zip({"px": px, "py": py, "pz": pz, "E": e})
    inputs = ak.unflatten(flat, counts)
    jetdef = fastjet.JetDefinition(fastjet.antikt_algorithm, float(r))
    jets = fastjet.ClusterSequence(inputs, jetdef).inclusive_jets(min_pt=float(pt_min))
    jet_counts = ak.to_numpy(ak.num(jets, axis=1)).astype(np.int64)
    flat_jets = ak.flatten(jets, axis=1)
    out = np.stack([ak.to_numpy(flat_jets[c]).astype(np.float64) for c in ("px", "py", "pz", "E")], axis=1)
    owner = np.repeat(np.arange(len(counts)), jet_counts)
    order = np.lexsort((-np.hypot(out[:, 0], out[:, 1]), owner))
    return out[order], jet_counts


def jet_energy_scale(jets: np.ndarray, *, a: float = 2.5, b: float = 0.15) -> np.ndarray:
    """Scale ``(k, 4)`` jet four-vectors by sqrt((a - b|eta|)^2 / pT + 1) (Delphes CMS card, pT in GeV)."""
    pt = np.hypot(jets[:, 0], jets[:, 1])
    eta = np.arcsinh(np.divide(jets[:, 2], pt, out=np.zeros_like(pt), where=pt > 0))
    scale = jet_energy_scale_factor(np.maximum(pt, 1e-9), np.abs(eta), a, b)
    return jets * scale[:, None]


def match_to_quarks(
    jet_eta: np.ndarray,
    jet_phi: np.ndarray,
    jet_owner: np.ndarray,
    quark_eta: np.ndarray,
    quark_phi: np.ndarray,
    *,
    max_dr: float,
    offset: int = 2,
) -> np.ndarray:
    """Index of the nearest quark within ``max_dr`` of each jet, or -1.

    ``quark_eta``/``quark_phi`` are ``(n, q)``; the result is ``offset + column`` so that it indexes the six-parton
    collection (the quarks b, bbar, u, dbar are partons 2..5). Several jets may match the same quark.
    """
    if len(jet_eta) == 0:
        return np.zeros(0, dtype=np.int32)
    deta = jet_eta[:, None] - quark_eta[jet_owner]
    dphi = np.remainder(jet_phi[:, None] - quark_phi[jet_owner] + np.pi, 2 * np.pi) - np.pi
    dr = np.hypot(deta, dphi)
    best = np.argmin(dr, axis=1)
    ok = dr[np.arange(len(best)), best] < max_dr
    return np.where(ok, best + offset, -1).astype(np.int32)
