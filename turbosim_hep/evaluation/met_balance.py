"""Missing-pT balance: how much of each object's mismeasurement the missing pT carries, model against full simulation.

For every visible object (electron, and the jets matched one to one to the b, b̄, u, d̄ quarks) of a (parton,
detector) event: its log pT(reco)/pT(parton) beside the missing pT's residual (MET − ν̄)_T projected on the parton's
transverse direction [GeV]. In a calorimeter, energy an object loses to the resolution, or to a neutrino of its own
decay (a semileptonic b), shows up in the missing pT along it; energy lost out of a jet's cone, still measured
elsewhere, does not. The correlation of the two is a number per object; per-object response plots and the marginal
MET hide it. The leptonic top's b̄ matters most: its mass is built from the electron, the MET and that jet.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from turbosim_hep.evaluation.features import four_vectors, pt_eta_phi_mass
from turbosim_hep.evaluation.response import match_jets_to_quarks
from turbosim_hep.evaluation.uncertainty import bootstrap_std

__all__ = ("BALANCE_OBJECTS", "balance_observables", "met_balance_correlations")

#: The objects whose balance is measured, with their parton slot.
BALANCE_OBJECTS: dict[str, int] = {"electron": 0, "b": 2, "bbar": 3, "u": 4, "dbar": 5}


def balance_observables(z: np.ndarray, x: np.ndarray) -> dict[str, np.ndarray]:
    """``{object: (n, 2)}``: log pT(reco)/pT(parton) and (MET − ν̄)_T along the parton's direction [GeV] of the
    events ``z``, ``x`` ``(n, 24)`` [GeV]; jets matched to quarks by the smallest summed ΔR (the scorecard's
    matching). Non-finite rows give NaN."""
    zp, xp = four_vectors(z, "parton (Z) features"), four_vectors(x, "detector (X) features")
    pt_z, _, phi_z, _ = pt_eta_phi_mass(zp)
    pt_x = np.hypot(xp[..., 0], xp[..., 1])
    finite = np.isfinite(xp).all(axis=(1, 2)) & np.isfinite(zp).all(axis=(1, 2))
    jet = np.zeros((len(z), 4), dtype=np.intp)
    if finite.any():
        jet[finite] = match_jets_to_quarks(zp[finite].reshape(-1, 24), xp[finite].reshape(-1, 24))[0]
    residual = xp[:, 1, :2] - zp[:, 1, :2]  # (n, 2) [GeV]
    rows = np.arange(len(z))
    out = {}
    with np.errstate(divide="ignore", invalid="ignore"):
        for name, slot in BALANCE_OBJECTS.items():
            reco_pt = pt_x[:, 0] if slot == 0 else pt_x[rows, 2 + jet[:, slot - 2]]
            along = residual[:, 0] * np.cos(phi_z[:, slot]) + residual[:, 1] * np.sin(phi_z[:, slot])
            pair = np.stack([np.log(reco_pt / pt_z[:, slot]), along], axis=1)
            pair[~finite] = np.nan
            out[name] = pair
    return out


def _correlation(pair: np.ndarray) -> float:
    ok = np.isfinite(pair).all(axis=1)
    return float(np.corrcoef(pair[ok, 0], pair[ok, 1])[0, 1]) if ok.sum() > 2 else float("nan")


def met_balance_correlations(
    z: np.ndarray, x: np.ndarray, x_tilde: np.ndarray, *, n_boot: int = 30, seed: int = 0
) -> dict[str, dict[str, Any]]:
    """Per :data:`BALANCE_OBJECTS` entry: the correlation of :func:`balance_observables` in the full simulation ``x``
    and the model's ``x_tilde`` on the same partons ``z`` (each ``(n, 24)`` [GeV]), their difference ``shift`` and its
    paired bootstrap ``spread``."""
    full, model = balance_observables(z, x), balance_observables(z, x_tilde)
    out = {}
    for name in BALANCE_OBJECTS:
        a, b = full[name], model[name]
        spread = bootstrap_std(lambda p, q: _correlation(q) - _correlation(p), (a, b), n_boot=n_boot, seed=seed,
                               paired=True)  # fmt: skip
        c_full, c_model = _correlation(a), _correlation(b)
        out[name] = {"full": c_full, "model": c_model, "shift": c_model - c_full, "spread": spread}
    return out
