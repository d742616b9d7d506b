"""Conditional response test: does Turbo-Sim smear each parton the way the full simulation does?

Marginal distributions can agree while the event-by-event response is wrong (a model that ignores its input and
samples the detector-level marginals scores well on Table 1). This test takes the *same* parton events z, the full
simulation's detector objects x and Turbo-Sim's x̃ = D(z), matches the four jets to the four quarks by ΔR (the
assignment with the smallest summed ΔR, among all 24) and the electron to the parton electron, and compares the
distributions of pT(reco) / pT(parton) in bins of parton pT with the KS statistic.
"""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass

import numpy as np

from turbosim_hep.constants import N_FEATURES
from turbosim_hep.evaluation.metrics import ks_expected_floor, ks_statistic
from turbosim_hep.physics.kinematics import ptetaphim_from_p4

__all__ = (
    "DEFAULT_PT_BINS_GEV",
    "RESPONSE_GROUPS",
    "ResponseBin",
    "ResponseResult",
    "conditional_response",
    "match_jets_to_quarks",
    "response_ratios",
)

#: Parton-pT bin edges [GeV] of the response test.
DEFAULT_PT_BINS_GEV: tuple[float, ...] = (0.0, 30.0, 50.0, 80.0, 120.0, 200.0, np.inf)

#: Object groups of the response test: name -> parton slots (Z object index: 0 e-, 2 b, 3 bbar, 4 u, 5 dbar).
RESPONSE_GROUPS: dict[str, tuple[int, ...]] = {"electron": (0,), "b jet": (2, 3), "light jet": (4, 5)}

_QUARK_SLOTS = (2, 3, 4, 5)
_JET_SLOTS = (2, 3, 4, 5)
_PERMUTATIONS = np.array(list(itertools.permutations(range(4))), dtype=np.intp)


def _objects(features: np.ndarray, what: str) -> np.ndarray:
    f = np.asarray(features, dtype=np.float64)
    if f.ndim != 2 or f.shape[1] != N_FEATURES:
        raise ValueError(f"{what} features must have shape (n, {N_FEATURES}), got {f.shape!r}")
    return f.reshape(len(f), 6, 4)


def _pt_eta_phi(obj: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    pt, eta, phi, _ = ptetaphim_from_p4(obj)
    return pt, eta, phi


def _delta_r(eta1, phi1, eta2, phi2) -> np.ndarray:
    dphi = np.mod(phi1 - phi2 + np.pi, 2.0 * np.pi) - np.pi
    return np.hypot(eta1 - eta2, dphi)


def match_jets_to_quarks(z: np.ndarray, x: np.ndarray, *, max_dr: float = 0.4) -> tuple[np.ndarray, np.ndarray]:
    """Match the four jets of ``x`` to the four quarks (b, bbar, u, dbar) of ``z``, event by event.

    Among the 24 one-to-one assignments the one with the smallest summed ΔR is taken.

    Returns
    -------
    jet_index : ``(n, 4)`` int, the jet (0..3 = jet1..jet4) assigned to quark b, bbar, u, dbar.
    matched : ``(n, 4)`` bool, the assigned pair is within ``max_dr``.
    """
    zq = _objects(z, "parton (Z)")[:, _QUARK_SLOTS]
    xj = _objects(x, "detector (X)")[:, _JET_SLOTS]
    if len(zq) != len(xj):
        raise ValueError(f"z has {len(zq)} events but x has {len(xj)}; the response test needs paired events")
    _, eta_q, phi_q = _pt_eta_phi(zq)
    _, eta_j, phi_j = _pt_eta_phi(xj)
    dr = _delta_r(eta_q[:, :, None], phi_q[:, :, None], eta_j[:, None, :], phi_j[:, None, :])  # (n, quark, jet)
    dr = np.where(np.isfinite(dr), dr, 1e6)
    cost = dr[:, np.arange(4), _PERMUTATIONS].sum(axis=-1)  # (n, 24)
    jet_index = _PERMUTATIONS[np.argmin(cost, axis=1)]
    best = np.take_along_axis(dr, jet_index[:, :, None], axis=2)[:, :, 0]
    return jet_index, best < max_dr


def response_ratios(
    z: np.ndarray, x: np.ndarray, *, max_dr: float = 0.4, max_dr_electron: float = 0.2
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """pT(reco) / pT(parton) for the electron and the four quarks.

    Returns ``(ratio, parton_pt, matched)``, each ``(n, 5)`` over the parton slots e-, b, bbar, u, dbar; ``ratio``
    is NaN where the object is not matched. ``parton_pt`` in GeV.
    """
    zo = _objects(z, "parton (Z)")
    xo = _objects(x, "detector (X)")
    if len(zo) != len(xo):
        raise ValueError(f"z has {len(zo)} events but x has {len(xo)}; the response test needs paired events")
    pt_z, eta_z, phi_z = _pt_eta_phi(zo)
    pt_x, eta_x, phi_x = _pt_eta_phi(xo)
    jet_index, jet_ok = match_jets_to_quarks(z, x, max_dr=max_dr)
    e_ok = _delta_r(eta_z[:, 0], phi_z[:, 0], eta_x[:, 0], phi_x[:, 0]) < max_dr_electron
    reco_pt = np.concatenate([pt_x[:, :1], np.take_along_axis(pt_x[:, 2:], jet_index, axis=1)], axis=1)
    parton_pt = pt_z[:, [0, *_QUARK_SLOTS]]
    matched = np.concatenate([e_ok[:, None], jet_ok], axis=1) & (parton_pt > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(matched, reco_pt / parton_pt, np.nan)
    return ratio, parton_pt, matched


@dataclass(frozen=True)
class ResponseBin:
    """One (object group, parton-pT bin) cell: full simulation vs Turbo-Sim response pT(reco)/pT(parton)."""

    group: str
    pt_low_gev: float
    pt_high_gev: float
    n_full: int
    n_turbo: int
    median_full: float
    median_turbo: float
    iqr_full: float
    iqr_turbo: float
    width68_full: float
    width68_turbo: float
    ks: float
    ks_floor: float


@dataclass(frozen=True)
class ResponseResult:
    """Per-bin response comparison plus the ΔR matching efficiency of each group in both samples."""

    bins: tuple[ResponseBin, ...]
    efficiency_full: dict[str, float]
    efficiency_turbo: dict[str, float]

    def ks(self, group: str) -> np.ndarray:
        """KS statistics of ``group``'s parton-pT bins, in bin order (NaN for a bin empty on one side)."""
        return np.array([b.ks for b in self.bins if b.group == group])

    def to_dict(self) -> dict:
        return {
            "bins": [asdict(b) for b in self.bins],
            "efficiency_full": dict(self.efficiency_full),
            "efficiency_turbo": dict(self.efficiency_turbo),
        }


def _summary(r: np.ndarray) -> tuple[float, float, float]:
    """Median, inter-quartile range and 68 % half-width ((q84 - q16) / 2) of ``r``."""
    if len(r) == 0:
        return float("nan"), float("nan"), float("nan")
    q16, q25, q50, q75, q84 = np.quantile(r, (0.16, 0.25, 0.5, 0.75, 0.84))
    return float(q50), float(q75 - q25), float(0.5 * (q84 - q16))


def conditional_response(
    z: np.ndarray,
    x_true: np.ndarray,
    x_generated: np.ndarray,
    *,
    pt_bins: tuple[float, ...] = DEFAULT_PT_BINS_GEV,
    max_dr: float = 0.4,
    max_dr_electron: float = 0.2,
) -> ResponseResult:
    """Compare the response pT(reco)/pT(parton) of the full simulation and Turbo-Sim on the same parton events.

    Parameters
    ----------
    z : ``(n, 24)`` parton features [GeV].
    x_true : ``(n, 24)`` full-simulation detector features of the same events [GeV].
    x_generated : ``(n, 24)`` Turbo-Sim's D(z) for the same events [GeV].
    pt_bins : parton-pT bin edges [GeV].
    max_dr, max_dr_electron : ΔR below which a jet (electron) counts as matched to its parton.

    Returns
    -------
    ResponseResult with one :class:`ResponseBin` per group of :data:`RESPONSE_GROUPS` and pT bin: median,
    inter-quartile range and 68 % half-width of both responses, their KS statistic, and the expected KS of two
    equal distributions at those sizes (``ks_floor``).
    """
    edges = np.asarray(pt_bins, dtype=np.float64)
    if edges.ndim != 1 or len(edges) < 2 or np.any(np.diff(edges) <= 0):
        raise ValueError(f"pt_bins must be at least two increasing edges, got {pt_bins!r}")
    kwargs = {"max_dr": max_dr, "max_dr_electron": max_dr_electron}
    r_full, pt_parton, ok_full = response_ratios(z, x_true, **kwargs)
    r_turbo, _, ok_turbo = response_ratios(z, x_generated, **kwargs)
    slot_of = {0: 0, 2: 1, 3: 2, 4: 3, 5: 4}
    bins: list[ResponseBin] = []
    eff_full: dict[str, float] = {}
    eff_turbo: dict[str, float] = {}
    for group, slots in RESPONSE_GROUPS.items():
        cols = [slot_of[s] for s in slots]
        pt = pt_parton[:, cols].ravel()
        rf, rt = r_full[:, cols].ravel(), r_turbo[:, cols].ravel()
        eff_full[group] = float(ok_full[:, cols].mean()) if ok_full.size else float("nan")
        eff_turbo[group] = float(ok_turbo[:, cols].mean()) if ok_turbo.size else float("nan")
        for lo, hi in itertools.pairwise(edges):
            sel = (pt >= lo) & (pt < hi)
            a, b = rf[sel], rt[sel]
            a, b = a[np.isfinite(a)], b[np.isfinite(b)]
            both = len(a) > 0 and len(b) > 0
            sa, sb = _summary(a), _summary(b)
            bins.append(
                ResponseBin(
                    group=group,
                    pt_low_gev=float(lo),
                    pt_high_gev=float(hi),
                    n_full=len(a),
                    n_turbo=len(b),
                    median_full=sa[0],
                    median_turbo=sb[0],
                    iqr_full=sa[1],
                    iqr_turbo=sb[1],
                    width68_full=sa[2],
                    width68_turbo=sb[2],
                    ks=ks_statistic(a, b) if both else float("nan"),
                    ks_floor=ks_expected_floor(len(a), len(b)) if both else float("nan"),
                )
            )
    return ResponseResult(bins=tuple(bins), efficiency_full=eff_full, efficiency_turbo=eff_turbo)
