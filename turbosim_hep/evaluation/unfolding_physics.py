"""Does the unfolding return physics? On-shell partons, parton-level resonances, and dependence on the prior.

- :func:`off_shell_shares`: share of unfolded partons with E < |p| per slot (e⁻, ν̄, b, b̄, u, d̄); true partons have 0.
- :func:`parton_mass_comparison`: KS (with spread) and 16/50/84 % quantiles of the parton-level observables of
  :func:`~turbosim_hep.evaluation.features.parton_observables` (m(u d̄), m(b u d̄), m(e ν̄ b̄), m(e ν̄), m_tt, top pTs,
  y_tt, ν pz): unfolded z̃ of half A against the truth of half B, beside the truth-vs-truth floor.
- :func:`prior_dependence`: unfold a test sample reweighted in the true hadronic top pT, w = 1 + slope·(pT − pivot),
  and report the share of the true spectrum's shift (of the weighted mean) that the unfolded spectrum recovers: 100 %
  for an unfolding that follows the data, 0 % for one that returns its training prior whatever it sees.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from turbosim_hep.evaluation.features import four_vectors, parton_observables
from turbosim_hep.evaluation.uncertainty import ks_with_spread

__all__ = (
    "PARTON_SLOTS",
    "PRIOR_PIVOT_GEV",
    "PRIOR_SLOPE_PER_GEV",
    "off_shell_shares",
    "parton_mass_comparison",
    "prior_dependence",
)

#: Parton slots of Z, in order.
PARTON_SLOTS: tuple[str, ...] = ("e", "nu", "b", "bbar", "u", "dbar")
#: Relative tolerance of E ≥ |p| (float32 storage rounds massless partons either way).
OFF_SHELL_RTOL: float = 1e-5
#: Reweighting of :func:`prior_dependence`: w = 1 + slope·(pT_top − pivot) (issue 19's example).
PRIOR_SLOPE_PER_GEV: float = 0.004
PRIOR_PIVOT_GEV: float = 100.0


def off_shell_shares(z: np.ndarray) -> dict[str, float]:
    """Share of events whose parton in each slot has E < |p| (beyond float rounding), and ``"any"`` slot."""
    p = four_vectors(z, "parton (Z) features")
    momentum = np.sqrt((p[..., :3] ** 2).sum(-1))
    off = (p[..., 3] < momentum * (1 - OFF_SHELL_RTOL)) | ~np.isfinite(p).all(-1)
    out = {slot: float(off[:, i].mean()) for i, slot in enumerate(PARTON_SLOTS)}
    out["any"] = float(off.any(axis=1).mean())
    return out


def parton_mass_comparison(
    z_true: np.ndarray, z_unfolded: np.ndarray, half: np.ndarray, *, n_boot: int = 30, seed: int = 0
) -> dict[str, dict[str, Any]]:
    """Per observable: ``ks`` and ``floor`` (``{"value", "spread"}``), ``quantiles_truth``, ``quantiles_unfolded``.

    ``z_unfolded`` row i is z̃ = E(x_i); ``half`` the boolean mask of half A (unfolded from A, truth from B).
    """
    half = np.asarray(half, dtype=bool)
    true_obs, unf_obs = parton_observables(z_true), parton_observables(z_unfolded)
    out: dict[str, dict[str, Any]] = {}
    for k, t in true_obs.items():
        u = unf_obs[k]
        finite_u = u[np.isfinite(u)]
        out[k] = {
            "ks": ks_with_spread(u[half], t[~half], n_boot=n_boot, seed=seed),
            "floor": ks_with_spread(t[half], t[~half], n_boot=n_boot, seed=seed),
            "quantiles_truth": np.quantile(t[np.isfinite(t)], (0.16, 0.5, 0.84)).tolist(),
            "quantiles_unfolded": (
                np.quantile(finite_u, (0.16, 0.5, 0.84)).tolist() if len(finite_u) else [np.nan] * 3
            ),
        }
    return out


def prior_dependence(
    z_true: np.ndarray,
    z_unfolded: np.ndarray,
    *,
    slope_per_gev: float = PRIOR_SLOPE_PER_GEV,
    pivot_gev: float = PRIOR_PIVOT_GEV,
    n_boot: int = 100,
    seed: int = 0,
) -> dict[str, float]:
    """Share of a reweighting of the true top pT that the unfolded top pT recovers, with its bootstrap spread.

    Weights w = max(1 + slope·(pT_true − pivot), 0) of the true hadronic top pT; the recovered share is
    (⟨pT_unf⟩_w − ⟨pT_unf⟩) / (⟨pT_true⟩_w − ⟨pT_true⟩). Returns ``{"recovered", "spread", "true_shift_gev",
    "unfolded_shift_gev"}``.
    """
    t = parton_observables(z_true)["top_pt_had"]
    u = parton_observables(z_unfolded)["top_pt_had"]
    ok = np.isfinite(t) & np.isfinite(u)
    t, u = t[ok], u[ok]
    w = np.maximum(1.0 + slope_per_gev * (t - pivot_gev), 0.0)

    def shifts(rows: np.ndarray) -> tuple[float, float]:
        tw, uw, ww = t[rows], u[rows], w[rows]
        return float(np.average(tw, weights=ww) - tw.mean()), float(np.average(uw, weights=ww) - uw.mean())

    everything = np.arange(len(t))
    true_shift, unf_shift = shifts(everything)
    rng = np.random.default_rng(seed)
    boots = []
    for _ in range(n_boot):
        ts, us = shifts(rng.integers(0, len(t), len(t)))
        boots.append(us / ts if ts else np.nan)  # a resample of a few events may repeat one event: no shift
    finite = np.asarray(boots)[np.isfinite(boots)]
    return {
        "recovered": unf_shift / true_shift if true_shift else float("nan"),
        "spread": float(np.std(finite, ddof=1)) if len(finite) > 1 else float("nan"),
        "true_shift_gev": true_shift,
        "unfolded_shift_gev": unf_shift,
    }
