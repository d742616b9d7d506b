"""The detector's phase space in torch: which simulated events a selected full-simulation event could be.

Every selected full-simulation event has exactly one isolated electron inside the tracker and exactly four jets, each
above the jet finder's threshold after the energy scale (``scaled_jet_pt_threshold``: 22.9 GeV at η = 0), inside the calorimeter and at least the anti-kt radius R from the others (in
rapidity and φ). :func:`inside_phase_space` is the torch twin of the scorecard's check
(:func:`turbosim_hep.evaluation.phase_space.outside_masks` followed by the selection's own function): with one
electron and four jets in X, an event is inside exactly when no object would have been lost. The tests compare the
two on events built to sit on every boundary.

The bounds come from the detector card that made the training data (:class:`PhaseSpaceBounds.from_card`) and travel
with the model (the physics decoder holds them as a buffer), so a model trained on another card keeps its own.
"""

from __future__ import annotations

from dataclasses import astuple, dataclass
from typing import Any

import torch

from turbosim_hep.physics.jet_energy_scale import scaled_jet_pt_threshold

__all__ = ("ELECTRON_JET_DR", "PhaseSpaceBounds", "inside_phase_space")

#: ΔR(e, jet) below which the electron counts as not isolated (the scorecard's value).
ELECTRON_JET_DR: float = 0.4
#: Relative tolerance of E ≥ |p| (the scorecard's ``ON_SHELL_RTOL``).
_ON_SHELL_RTOL = 1e-5


@dataclass(frozen=True)
class PhaseSpaceBounds:
    """The cuts every selected full-simulation event passes [GeV, dimensionless].

    ``jet_scale_a``, ``jet_scale_b``: the jet energy scale's (a, b) applied after the jet finder's ``jet_pt_min``, so
    a measured jet's pT is at least :meth:`jet_pt_threshold` of its |η| (both 0: the bare ``jet_pt_min``, as models
    trained before this correction were truncated). The defaults are the reference detector card's.
    """

    jet_pt_min: float = 20.0
    calo_eta_max: float = 5.0
    jet_r: float = 0.5
    electron_pt_min: float = 10.0
    track_eta_max: float = 2.5
    electron_jet_dr: float = ELECTRON_JET_DR
    jet_scale_a: float = 2.5
    jet_scale_b: float = 0.15

    @classmethod
    def from_card(cls, card: Any = None, *, scaled_jet_threshold: bool = True) -> PhaseSpaceBounds:
        """The bounds of a :class:`~turbosim_hep.generation.detector_card.DetectorCard` (default: the reference one);
        ``scaled_jet_threshold=False`` leaves out the jet energy scale (the threshold is the bare ``jet_pt_min``)."""
        if card is None:
            from turbosim_hep.generation.detector_card import DetectorCard

            card = DetectorCard()
        a, b = card.jet_energy_scale_ab if scaled_jet_threshold else (0.0, 0.0)
        return cls(
            card.jet_pt_min, card.calo_eta_max, card.jet_r, card.electron_pt_min, card.track_eta_max,
            ELECTRON_JET_DR, float(a), float(b),
        )  # fmt: skip

    def jet_pt_threshold(self, abs_eta: torch.Tensor) -> torch.Tensor:
        """Lowest measured jet pT [GeV] at ``abs_eta`` (any shape): ``jet_pt_min`` after the energy scale."""
        return scaled_jet_pt_threshold(abs_eta, self.jet_pt_min, self.jet_scale_a, self.jet_scale_b)

    def as_tensor(self) -> torch.Tensor:
        """``(8,)`` float64, in the field order."""
        return torch.tensor(astuple(self), dtype=torch.float64)

    @classmethod
    def from_tensor(cls, values: torch.Tensor) -> PhaseSpaceBounds:
        """Inverse of :meth:`as_tensor` (a ``(6,)`` tensor of older exports: no jet energy scale)."""
        v = [float(x) for x in values.tolist()]
        return cls(*v) if len(v) == 8 else cls(*v, 0.0, 0.0)


def _delta_r2(a1: torch.Tensor, p1: torch.Tensor, a2: torch.Tensor, p2: torch.Tensor) -> torch.Tensor:
    dphi = torch.remainder(p1 - p2 + torch.pi, 2.0 * torch.pi) - torch.pi
    return (a1 - a2) ** 2 + dphi**2


def inside_phase_space(x_gev: torch.Tensor, bounds: PhaseSpaceBounds | torch.Tensor | None = None) -> torch.Tensor:
    """``(n,)`` bool: the events of ``x_gev`` ``(n, 24)`` [GeV] (electron, MET, four jets) a selected full-simulation
    event could be. ``bounds``: :class:`PhaseSpaceBounds` or its tensor (default: the reference card, jet threshold
    after the energy scale)."""
    b = bounds if isinstance(bounds, PhaseSpaceBounds) else (
        PhaseSpaceBounds() if bounds is None else PhaseSpaceBounds.from_tensor(bounds)
    )  # fmt: skip
    # float32, as the events are stored: a cut decided in float64 differs only within 1e-7 of its edge (and float64
    # costs twice the time of this check, 10 % of simulate())
    p = x_gev.detach().float().reshape(-1, 6, 4)
    vis = p[:, [0, 2, 3, 4, 5]]
    px, py, pz, e = vis.unbind(-1)
    pt = torch.sqrt(px * px + py * py)
    ratio = pz / pt.clamp_min(1e-12)  # asinh as log/sqrt (vectorised on a CPU; ONNX Runtime lacks some Asinh)
    eta = torch.sign(ratio) * torch.log(ratio.abs() + torch.sqrt(ratio * ratio + 1.0))
    phi = torch.atan2(py, px)
    momentum = torch.sqrt(px * px + py * py + pz * pz)
    ok = torch.isfinite(p).all(dim=(1, 2)) & (e >= momentum * (1.0 - _ON_SHELL_RTOL)).all(dim=1)
    jpt, jeta, jphi = pt[:, 1:], eta[:, 1:], phi[:, 1:]
    ok &= (jpt >= b.jet_pt_min).all(dim=1) & (jeta.abs() <= b.calo_eta_max).all(dim=1)
    if b.jet_scale_a or b.jet_scale_b:
        ok &= (jpt >= b.jet_pt_threshold(jeta.abs().clamp_max(b.calo_eta_max))).all(dim=1)
    ok &= (pt[:, 0] >= b.electron_pt_min) & (eta[:, 0].abs() <= b.track_eta_max)
    # anti-kt measures distances in rapidity
    je, jz = e[:, 1:], pz[:, 1:]
    jy = 0.5 * torch.log((je + jz).clamp_min(1e-30) / (je - jz).clamp_min(1e-30))
    r2 = b.jet_r**2
    for a in range(4):
        for c in range(a + 1, 4):
            ok &= _delta_r2(jy[:, a], jphi[:, a], jy[:, c], jphi[:, c]) >= r2
    dr_ej = _delta_r2(eta[:, :1], phi[:, :1], jeta, jphi)
    ok &= (dr_ej >= b.electron_jet_dr**2).all(dim=1)
    return ok
