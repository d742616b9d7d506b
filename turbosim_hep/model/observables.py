"""Physics observables of detector events computed in torch (differentiable), for the training scores.

The per-feature scores see (px, py, pz, E) of each object, in which a jet's mass is a small correction to E (a
10 GeV mass on a 100 GeV jet moves E by 0.5 GeV): a decoder can get the jet masses wrong, and with them every
multi-jet mass, at almost no cost. Scoring these observables as well closes that gap.
"""

from __future__ import annotations

import itertools

import torch

from turbosim_hep.model.jet_assignment import ORDERINGS, best_ordering

__all__ = (
    "DIRECTION_GROUPS",
    "OBSERVABLE_GROUPS",
    "RESPONSE_GROUPS",
    "SHAPE_GROUPS",
    "jet_observables",
    "object_direction",
    "response_observables",
)

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


#: Per-jet shape groups: each jet slot's (log pT, η, 10 m / pT), its mass seen against its pT and direction.
SHAPE_GROUPS: tuple[str, ...] = tuple(f"jet{k}_shape" for k in range(1, 5))


def jet_observables(x_gev: torch.Tensor, *, directions: bool = False, shapes: bool = False) -> dict[str, torch.Tensor]:
    """Masses of the four jets, the six jet pairs and the four jet triplets of ``x_gev`` ``(..., 24)`` [GeV].

    Returns one tensor ``(..., k)`` per :data:`OBSERVABLE_GROUPS` entry, divided by the group's scale. With
    ``directions`` also one ``(..., 4)`` group per :data:`DIRECTION_GROUPS` entry: in (px, py, pz, E) a jet's
    angular resolution (~0.05) hides behind its energy spread, scored on its own it cannot. With ``shapes`` also one
    ``(..., 3)`` group per :data:`SHAPE_GROUPS` entry: the jet mass against the jet's pT and η (the full simulation's
    m / pT depends on both; the marginal jet masses hide it).
    """
    objects = x_gev.reshape(*x_gev.shape[:-1], 6, 4)
    jets = objects[..., 2:, :]
    pairs = torch.stack([jets[..., i, :] + jets[..., j, :] for i, j in _PAIRS], dim=-2)
    triplets = torch.stack([jets[..., i, :] + jets[..., j, :] + jets[..., k, :] for i, j, k in _TRIPLETS], dim=-2)
    jet_mass = _mass(jets)  # (..., 4) [GeV]
    out = {"jet_mass": jet_mass, "dijet_mass": _mass(pairs), "trijet_mass": _mass(triplets)}
    out = {k: v / OBSERVABLE_GROUPS[k][1] for k, v in out.items()}
    if directions:
        for name, k in zip(DIRECTION_GROUPS, (0, 2, 3, 4, 5), strict=True):
            out[name] = object_direction(objects[..., k, :])
    if shapes:
        d = object_direction(jets)  # (..., 4 jets, 4): log pT, η, cos φ, sin φ
        m_over_pt = 10.0 * jet_mass / torch.exp(d[..., 0])
        for k, name in enumerate(SHAPE_GROUPS):
            out[name] = torch.stack([d[..., k, 0], d[..., k, 1], m_over_pt[..., k]], -1)
    return out


#: Response groups: each quark's (ΔR, log pT ratio) to its matched jet, the electron's (log pT ratio, Δη, Δφ) and the
#: missing pT minus the neutrino's (x, y, /50 GeV): what a physicist's jet-parton response plots show.
RESPONSE_GROUPS: tuple[str, ...] = ("b_response", "bbar_response", "u_response", "dbar_response",
                                    "electron_response", "met_response")  # fmt: skip


def _wrapped_dphi(cos_a, sin_a, cos_b, sin_b) -> torch.Tensor:
    return torch.atan2(sin_a * cos_b - cos_a * sin_b, cos_a * cos_b + sin_a * sin_b)


def response_observables(x_gev: torch.Tensor, z_gev: torch.Tensor) -> dict[str, torch.Tensor]:
    """The detector's response to the partons of the same event: x ``(..., 24)`` against z ``(..., 24)`` [GeV].

    One ``(..., k)`` tensor per :data:`RESPONSE_GROUPS` entry. Jets are matched to quarks one to one, by the smallest
    summed ΔR of the 24 assignments (as the scorecard's response and pair features; the choice carries no gradient,
    the matched ΔR and pT ratio do).
    """
    x_obj = object_direction(x_gev.reshape(*x_gev.shape[:-1], 6, 4))  # (..., 6, 4) log pT, η, cos φ, sin φ
    z_obj = object_direction(z_gev.reshape(*z_gev.shape[:-1], 6, 4))
    q, j = z_obj[..., 2:, None, :], x_obj[..., None, 2:, :]  # (..., 4 quarks, 1, 4), (..., 1, 4 jets, 4)
    dphi = _wrapped_dphi(q[..., 2], q[..., 3], j[..., 2], j[..., 3])
    dr = torch.sqrt((q[..., 1] - j[..., 1]) ** 2 + dphi**2 + 1e-12)  # (..., quark, jet)
    jet = ORDERINGS.to(dr.device)[best_ordering(dr)][..., None]  # (..., 4, 1): the jet of each quark
    dr = torch.gather(dr, -1, jet).squeeze(-1)
    log_ratio = torch.gather(j[..., 0].expand_as(dphi), -1, jet).squeeze(-1) - q[..., 0].squeeze(-1)
    out = {name: torch.stack([dr[..., k], log_ratio[..., k]], dim=-1) for k, name in enumerate(RESPONSE_GROUPS[:4])}
    e_x, e_z = x_obj[..., 0, :], z_obj[..., 0, :]
    e_dphi = _wrapped_dphi(e_x[..., 2], e_x[..., 3], e_z[..., 2], e_z[..., 3])
    out["electron_response"] = torch.stack([e_x[..., 0] - e_z[..., 0], e_x[..., 1] - e_z[..., 1], e_dphi], dim=-1)
    out["met_response"] = (x_gev[..., 4:6] - z_gev[..., 4:6]) / 50.0
    return out
