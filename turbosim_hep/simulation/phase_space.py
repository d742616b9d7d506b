"""The detector's phase space in torch: which simulated events a selected full-simulation event could be.

Every selected full-simulation event has exactly one isolated electron inside the tracker and exactly four jets, each
above the jet finder's threshold after the energy scale (``scaled_jet_pt_threshold``: 22.9 GeV at η = 0), inside the
calorimeter and at least the anti-kt radius R from the others (in rapidity and φ). :func:`inside_phase_space` is the
torch twin of the scorecard's check (:func:`turbosim_hep.evaluation.phase_space.outside_masks` followed by the
selection's own function): with one electron and four jets in X, an event is inside exactly when no object would have
been lost. The tests compare the two on events built to sit on every boundary.

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
    return _delta_r2_of(a1 - a2, p1 - p2)


def _delta_r2_of(d_rapidity: torch.Tensor, d_phi: torch.Tensor) -> torch.Tensor:
    dphi = torch.remainder(d_phi + torch.pi, 2.0 * torch.pi) - torch.pi
    return d_rapidity**2 + dphi**2


def _jet_pairs(t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The first and the second jet of the pairs (0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3) of ``t`` ``(..., 4)``,
    each ``(..., 6)``: slices, where an advanced index is 5x slower on a CPU."""
    size = t.shape[:-1]
    first = torch.cat([t[..., :1].expand(*size, 3), t[..., 1:2].expand(*size, 2), t[..., 2:3]], dim=-1)
    return first, torch.cat([t[..., 1:], t[..., 2:], t[..., 3:]], dim=-1)


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
    # written for speed, the same booleans as one reduction per cut and one call per jet pair (every number by the
    # same operation on the same inputs; tests/simulation/test_phase_space_truncation.py): the cuts gathered in one
    # table summed once (bool .all() is 6x slower), the six jet pairs side by side, no advanced index: 1.5x faster
    # on 65k events (28.6 -> 19.3 ms, one thread), 1.7x on 20 (a late redraw: 373 -> 218 us)
    vis = torch.cat([p[:, :1], p[:, 2:]], dim=1)  # electron, four jets
    px, py, pz, e = vis.unbind(-1)
    pt2 = px * px + py * py
    pt = torch.sqrt(pt2)
    ratio = pz / pt.clamp_min(1e-12)  # asinh as log/sqrt (vectorised on a CPU; ONNX Runtime lacks some Asinh)
    eta = torch.sign(ratio) * torch.log(ratio.abs() + torch.sqrt(ratio * ratio + 1.0))
    abs_eta = eta.abs()
    phi = torch.atan2(py, px)  # of strided views: torch's scalar atan2 (contiguous inputs take another, SIMD one)
    on_shell = e >= torch.sqrt(pt2 + pz * pz) * (1.0 - _ON_SHELL_RTOL)  # (n, 5)
    jpt, jeta, jphi = pt[:, 1:], eta[:, 1:], phi[:, 1:]
    jets = (jpt >= b.jet_pt_min) & (abs_eta[:, 1:] <= b.calo_eta_max)
    if b.jet_scale_a or b.jet_scale_b:
        jets &= jpt >= b.jet_pt_threshold(abs_eta[:, 1:].clamp_max(b.calo_eta_max))
    electron = (pt[:, :1] >= b.electron_pt_min) & (abs_eta[:, :1] <= b.track_eta_max)
    # anti-kt measures distances in rapidity
    je, jz = e[:, 1:], pz[:, 1:]
    jy = 0.5 * torch.log((je + jz).clamp_min(1e-30) / (je - jz).clamp_min(1e-30))
    first, second = _jet_pairs(torch.stack([jy, jphi], dim=1))  # (n, 2, 6): rapidity and φ of each pair
    d = first - second
    separated = _delta_r2_of(d[:, 0], d[:, 1]) >= b.jet_r**2  # (n, 6)
    isolated = _delta_r2(eta[:, :1], phi[:, :1], jeta, jphi) >= b.electron_jet_dr**2  # (n, 4)
    cuts = torch.cat([on_shell, jets & isolated, electron, separated], dim=1)
    finite = (p - p).sum(dim=(1, 2)) == 0  # x - x is 0, or NaN where x is not finite
    return finite & (cuts.sum(dim=1, dtype=torch.int32) == cuts.shape[1])
