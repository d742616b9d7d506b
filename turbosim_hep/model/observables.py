"""Physics observables of detector events computed in torch (differentiable), for the training scores.

The per-feature scores see (px, py, pz, E) of each object, in which a jet's mass is a small correction to E (a
10 GeV mass on a 100 GeV jet moves E by 0.5 GeV): a decoder can get the jet masses wrong, and with them every
multi-jet mass, at almost no cost. Scoring these observables as well closes that gap.
"""

from __future__ import annotations

import itertools

import torch

__all__ = ("DIRECTION_GROUPS", "OBSERVABLE_GROUPS", "jet_observables", "object_direction")

_PAIRS = list(itertools.combinations(range(4), 2))
_TRIPLETS = list(itertools.combinations(range(4), 3))

#: Observable groups: name -> (number of observables, scale [GeV] they are divided by).
OBSERVABLE_GROUPS: dict[str, tuple[int, float]] = {
    "jet_mass": (4, 10.0),
    "dijet_mass": (len(_PAIRS), 100.0),
    "trijet_mass": (len(_TRIPLETS), 150.0),
}


def _mass(p4: torch.Tensor) -> torch.Tensor:
    m2 = p4[..., 3] ** 2 - (p4[..., :3] ** 2).sum(-1)
    return torch.sqrt(m2.clamp_min(0.0) + 1e-6)


#: Per-object direction groups: (log pT, η, cos φ, sin φ) of the electron and of each jet slot.
DIRECTION_GROUPS: tuple[str, ...] = ("electron_direction", *(f"jet{k}_direction" for k in range(1, 5)))


def object_direction(p4: torch.Tensor) -> torch.Tensor:
    """``(..., 4)`` four-vectors [GeV] -> ``(..., 4)`` log pT, η, cos φ, sin φ (differentiable; no atan2)."""
    pt = torch.sqrt(p4[..., 0] ** 2 + p4[..., 1] ** 2).clamp_min(1e-3)
    eta = torch.asinh(p4[..., 2] / pt)
    return torch.stack([torch.log(pt), eta, p4[..., 0] / pt, p4[..., 1] / pt], dim=-1)


def jet_observables(x_gev: torch.Tensor, *, directions: bool = False) -> dict[str, torch.Tensor]:
    """Masses of the four jets, the six jet pairs and the four jet triplets of ``x_gev`` ``(..., 24)`` [GeV].

    Returns one tensor ``(..., k)`` per :data:`OBSERVABLE_GROUPS` entry, divided by the group's scale. With
    ``directions`` also one ``(..., 4)`` group per :data:`DIRECTION_GROUPS` entry: in (px, py, pz, E) a jet's
    angular resolution (~0.05) hides behind its energy spread, scored on its own it cannot.
    """
    objects = x_gev.reshape(*x_gev.shape[:-1], 6, 4)
    jets = objects[..., 2:, :]
    pairs = torch.stack([jets[..., i, :] + jets[..., j, :] for i, j in _PAIRS], dim=-2)
    triplets = torch.stack([jets[..., i, :] + jets[..., j, :] + jets[..., k, :] for i, j, k in _TRIPLETS], dim=-2)
    out = {"jet_mass": _mass(jets), "dijet_mass": _mass(pairs), "trijet_mass": _mass(triplets)}
    out = {k: v / OBSERVABLE_GROUPS[k][1] for k, v in out.items()}
    if directions:
        for name, k in zip(DIRECTION_GROUPS, (0, 2, 3, 4, 5), strict=True):
            out[name] = object_direction(objects[..., k, :])
    return out
