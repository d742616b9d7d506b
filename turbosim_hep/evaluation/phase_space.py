"""The detector's phase space: the share of events that could not have come out of the detector and the selection.

Every selected full-simulation event satisfies what the detector card and the selection impose: each jet has pT above
the jet finder's threshold after the energy scale (20 GeV clustered, 22.9 GeV measured at η = 0) and lies within the
calorimeter, no two jets are closer than the anti-kt radius (they would have been one jet), the electron is inside the
tracker, above its pT threshold and isolated (not inside a jet), and every object has E ≥ |p|. A fast simulation that
breaks these produces events an analysis would never see.

:func:`phase_space_violations` counts each condition and their union. The union is decided by the selection's own
function (:func:`turbosim_hep.generation.selection.otus_selection`): the objects the detector would not have
produced are removed (jets below threshold or outside the calorimeter, the second of two jets closer than R, an
electron outside the tracker, below threshold or not isolated) and the events are selected again, so an event is
inside the phase space exactly when it still passes "exactly one electron, exactly four jets".

The electron counts as not isolated within ΔR :data:`ELECTRON_JET_DR` = 0.4 of a jet (a jet core inside its
isolation cone of ΔR 0.5, ``DetectorCard.isolation_dr``): 0.03 % of selected full-simulation events have one there
(REFERENCE.md §11).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from turbosim_hep.evaluation.features import delta_r, four_vectors, pt_eta_phi_mass
from turbosim_hep.physics.jet_energy_scale import scaled_jet_pt_threshold

__all__ = ("CONDITIONS", "ELECTRON_JET_DR", "outside_masks", "phase_space_violations")

#: ΔR(e, jet) below which the electron counts as not isolated.
ELECTRON_JET_DR: float = 0.4
#: Relative tolerance of the E ≥ |p| check (float32 storage rounds massless objects either way).
ON_SHELL_RTOL: float = 1e-5

#: The conditions, in report order: key -> description.
CONDITIONS: dict[str, str] = {
    "jet_below_threshold": "a jet below the jet finder's pT threshold after the energy scale (22.9 GeV at η = 0)",
    "jet_outside_calorimeter": "a jet beyond the calorimeter's |η|",
    "jets_overlap": "two jets closer than the anti-kt radius R (in rapidity and φ)",
    "electron_outside": "electron below its pT threshold or beyond the tracker's |η|",
    "electron_in_jet": f"electron within ΔR {ELECTRON_JET_DR} of a jet",
    "object_off_shell": "an object with E < |p| (negative mass)",
    "not_finite": "a non-finite component",
}


def _rapidity(p4: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        y = 0.5 * np.log((p4[..., 3] + p4[..., 2]) / (p4[..., 3] - p4[..., 2]))
    return np.where(np.isfinite(y), y, np.sign(p4[..., 2]) * 1e3)


def _card(card: Any) -> Any:
    if card is None:
        from turbosim_hep.generation.detector_card import DetectorCard

        return DetectorCard()
    return card


def outside_masks(x: np.ndarray, *, card: Any = None) -> dict[str, np.ndarray]:
    """Boolean ``(n,)`` masks of :data:`CONDITIONS` plus the per-object masks the union needs.

    ``x`` is ``(n, 24)`` detector features [GeV]; ``card`` a :class:`~turbosim_hep.generation.detector_card.
    DetectorCard` (default: the one that made the reference sample). Besides the conditions the dict holds
    ``"_jet_lost"`` ``(n, 4)`` and ``"_electron_lost"`` ``(n,)``: the objects the detector would not have produced.
    """
    card = _card(card)
    p = four_vectors(x, "detector (X) features")
    finite = np.isfinite(p).all(axis=(1, 2))
    pt, eta, phi, _ = pt_eta_phi_mass(np.where(np.isfinite(p), p, 0.0))
    jpt, jeta, jphi = pt[:, 2:], eta[:, 2:], phi[:, 2:]
    a, b_scale = card.jet_energy_scale_ab  # the jet finder's threshold, then the energy scale: none lies below
    jet_low = jpt < scaled_jet_pt_threshold(np.minimum(np.abs(jeta), card.calo_eta_max), card.jet_pt_min, a, b_scale)
    jet_far = ~(np.abs(jeta) <= card.calo_eta_max)
    jy = _rapidity(np.where(np.isfinite(p[:, 2:]), p[:, 2:], 0.0))
    close = np.zeros((len(p), 4), dtype=bool)  # the softer jet of a pair closer than R is merged away
    for a in range(4):
        for b in range(a + 1, 4):  # anti-kt measures distances in rapidity, not pseudorapidity
            near = delta_r(jy[:, a], jphi[:, a], jy[:, b], jphi[:, b]) < card.jet_r
            softer = np.where(jpt[:, a] >= jpt[:, b], b, a)
            close[near, softer[near]] = True
    e_out = (pt[:, 0] < card.electron_pt_min) | ~(np.abs(eta[:, 0]) <= card.track_eta_max)
    dr_ej = delta_r(eta[:, :1], phi[:, :1], jeta, jphi)
    e_in_jet = (dr_ej < ELECTRON_JET_DR).any(axis=1)
    visible = p[:, [0, 2, 3, 4, 5]]
    momentum = np.sqrt((visible[..., :3] ** 2).sum(-1))
    off_shell = (visible[..., 3] < momentum * (1 - ON_SHELL_RTOL)).any(axis=1)
    return {
        "jet_below_threshold": jet_low.any(axis=1) & finite,
        "jet_outside_calorimeter": jet_far.any(axis=1) & finite,
        "jets_overlap": close.any(axis=1) & finite,
        "electron_outside": e_out & finite,
        "electron_in_jet": e_in_jet & finite,
        "object_off_shell": off_shell & finite,
        "not_finite": ~finite,
        "_jet_lost": jet_low | jet_far | close | ~finite[:, None],
        "_electron_lost": e_out | e_in_jet | ~finite,
    }


def _selected_after_detector(masks: Mapping[str, np.ndarray]) -> np.ndarray:
    """The selection's own function on the objects the detector would have kept; ``(n,)`` bool."""
    import awkward as ak

    from turbosim_hep.generation.selection import otus_selection

    jet_kept = ~masks["_jet_lost"]
    e_kept = ~masks["_electron_lost"]
    n = len(e_kept)
    jets = ak.unflatten(np.zeros(int(jet_kept.sum())), jet_kept.sum(axis=1))
    electrons = ak.zip({"charge": ak.unflatten(np.full(int(e_kept.sum()), -1, dtype=np.int32), e_kept.astype(int))})
    events = ak.zip(
        {"Electron": electrons, "Jet": jets, "isoMuonCount": np.zeros(n, int), "isoPhotonCount": np.zeros(n, int)},
        depth_limit=1,
    )
    mask, _ = otus_selection(events)
    return mask


def phase_space_violations(x: np.ndarray, *, card: Any = None) -> dict[str, Any]:
    """Shares of events of ``x`` ``(n, 24)`` [GeV] breaking each condition of :data:`CONDITIONS`, and the union.

    Returns ``{"n_events", "shares": {condition: share}, "outside": share, "outside_spread"}``: ``outside`` is the
    share failing the selection once the objects the detector would not have produced are removed (or off-shell, or
    not finite), ``outside_spread`` its binomial standard deviation. Shares are fractions (0.19 = 19 %).
    """
    from turbosim_hep.evaluation.uncertainty import binomial_std

    n = len(x)
    if n == 0:
        raise ValueError("the phase-space check needs at least one event, got 0")
    masks = outside_masks(x, card=card)
    outside = ~_selected_after_detector(masks) | masks["object_off_shell"] | masks["not_finite"]
    share = float(outside.mean())
    return {
        "n_events": n,
        "shares": {k: float(masks[k].mean()) for k in CONDITIONS},
        "spreads": {k: binomial_std(float(masks[k].mean()), n) for k in CONDITIONS},
        "outside": share,
        "outside_spread": binomial_std(share, n),
    }
