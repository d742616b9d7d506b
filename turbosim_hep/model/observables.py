"""Physics observables of detector events computed in torch (differentiable), for the training scores.

The per-feature scores see (px, py, pz, E) of each object, in which a jet's mass is a small correction to E (a
10 GeV mass on a 100 GeV jet moves E by 0.5 GeV): a decoder can get the jet masses wrong, and with them every
multi-jet mass, at almost no cost. Scoring these observables as well closes that gap.
"""

from __future__ import annotations

import itertools

import torch

from turbosim_hep.constants import (
    CHI2_SIGMA_TOP_HAD_GEV,
    CHI2_SIGMA_TOP_LEP_GEV,
    CHI2_SIGMA_W_HAD_GEV,
    M_TOP_GEV,
    M_W_GEV,
)
from turbosim_hep.model.jet_assignment import ORDERINGS, best_ordering

__all__ = (
    "BALANCE_GROUPS",
    "DIRECTION_GROUPS",
    "LEPTON_GROUPS",
    "OBSERVABLE_GROUPS",
    "RESPONSE_GROUPS",
    "SHAPE_GROUPS",
    "jet_observables",
    "lepton_observables",
    "reconstructed_masses",
    "solved_neutrino_pz",
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


def jet_observables(
    x_gev: torch.Tensor,
    *,
    directions: bool = False,
    shapes: bool = False,
    leptons: bool = False,
    reconstructed: bool = False,
) -> dict[str, torch.Tensor]:
    """Masses of the four jets, the six jet pairs and the four jet triplets of ``x_gev`` ``(..., 24)`` [GeV].

    Returns one tensor ``(..., k)`` per :data:`OBSERVABLE_GROUPS` entry, divided by the group's scale. With
    ``directions`` also one ``(..., 4)`` group per :data:`DIRECTION_GROUPS` entry: in (px, py, pz, E) a jet's
    angular resolution (~0.05) hides behind its energy spread, scored on its own it cannot. With ``shapes`` also one
    ``(..., 3)`` group per :data:`SHAPE_GROUPS` entry: the jet mass against the jet's pT and η (the full simulation's
    m / pT depends on both; the marginal jet masses hide it). With ``leptons`` also the :func:`lepton_observables`,
    with ``reconstructed`` also the ``"reconstructed_masses"`` group (:func:`reconstructed_masses`).
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
    if leptons:
        out.update(lepton_observables(x_gev))
    if reconstructed:
        out["reconstructed_masses"] = reconstructed_masses(x_gev)
    return out


#: Lepton-side groups: (name, scale [GeV]). The W's transverse mass; the electron with each jet (the m_lb a top-mass
#: analysis fits); the electron, the neutrino of the W-mass constraint and each jet (every leptonic-top candidate of
#: the χ² reconstruction). The hadronic side has its dijet and trijet masses; these are its leptonic twins.
LEPTON_GROUPS: dict[str, float] = {"w_transverse_mass": 100.0, "lepton_jet_mass": 150.0, "lepton_top_mass": 200.0}


def solved_neutrino_pz(electron: torch.Tensor, met_xy: torch.Tensor, m_w: float = M_W_GEV) -> torch.Tensor:
    """Neutrino pz [GeV] ``(...,)`` from (electron + ν)² = m_W² with ν_T = ``met_xy`` ``(..., 2)``, ``electron``
    ``(..., 4)`` [GeV]: the root of smaller |pz|, the real part where the roots are complex. The differentiable twin
    of :func:`turbosim_hep.physics.kernels.neutrino_pz` (the reconstruction's; the tests compare the two)."""
    ex, ey, ez, ee = electron.unbind(-1)
    mx, my = met_xy.unbind(-1)
    m_e2 = ee * ee - (ex * ex + ey * ey + ez * ez)
    k = 0.5 * (m_w * m_w - m_e2) + ex * mx + ey * my
    a = (ee * ee - ez * ez).clamp_min(1e-6)
    b = -2.0 * k * ez
    c = ee * ee * (mx * mx + my * my) - k * k
    disc = b * b - 4.0 * a * c
    # q carries the larger-magnitude numerator, so c / q is the smaller-|pz| root without cancellation; the clamp
    # keeps the gradient of the square root finite where the two roots meet
    q = -0.5 * (b + torch.copysign(torch.sqrt(disc.clamp_min(1e-6)), b))
    q = torch.where(q.abs() < 1e-6, torch.full_like(q, 1e-6), q)
    return torch.where(disc < 0.0, -b / (2.0 * a), c / q)


def _lepton_side(x_gev: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The electron ``(..., 4)``, the massless ν of the missing pT and :func:`solved_neutrino_pz` ``(..., 4)`` and
    the four jets ``(..., 4, 4)`` of ``x_gev`` ``(..., 24)`` [GeV]."""
    objects = x_gev.reshape(*x_gev.shape[:-1], 6, 4)
    electron, met = objects[..., 0, :], objects[..., 1, :2]
    pz = solved_neutrino_pz(electron, met)
    nu = torch.cat([met, pz[..., None], torch.sqrt((met**2).sum(-1) + pz**2)[..., None]], dim=-1)
    return electron, nu, objects[..., 2:, :]


def lepton_observables(x_gev: torch.Tensor) -> dict[str, torch.Tensor]:
    """The :data:`LEPTON_GROUPS` of ``x_gev`` ``(..., 24)`` [GeV], each divided by its scale: ``(..., 1)`` the
    transverse mass of the electron and the missing pT, ``(..., 4)`` m(e, jet k), ``(..., 4)`` m(e, ν, jet k) with
    the ν of :func:`solved_neutrino_pz` (massless)."""
    electron, nu, jets = _lepton_side(x_gev)
    e_pt = torch.sqrt(electron[..., 0] ** 2 + electron[..., 1] ** 2)
    met, met_pt = nu[..., :2], torch.sqrt(nu[..., 0] ** 2 + nu[..., 1] ** 2 + 1e-6)
    mt2 = 2.0 * (e_pt * met_pt - electron[..., 0] * met[..., 0] - electron[..., 1] * met[..., 1])
    e_jets = electron[..., None, :] + jets  # (..., 4, 4)
    return {
        "w_transverse_mass": torch.sqrt(mt2.clamp_min(0.0) + 1e-6)[..., None] / LEPTON_GROUPS["w_transverse_mass"],
        "lepton_jet_mass": _mass(e_jets) / LEPTON_GROUPS["lepton_jet_mass"],
        "lepton_top_mass": _mass(e_jets + nu[..., None, :]) / LEPTON_GROUPS["lepton_top_mass"],
    }


#: Response groups: each quark's (ΔR, log pT ratio) to its matched jet, the electron's (log pT ratio, Δη, Δφ) and the
#: missing pT minus the neutrino's (x, y, /50 GeV): what a physicist's jet-parton response plots show.
RESPONSE_GROUPS: tuple[str, ...] = ("b_response", "bbar_response", "u_response", "dbar_response",
                                    "electron_response", "met_response")  # fmt: skip


#: Balance groups (``response_observables(..., balance=True)``): each visible object's log pT ratio beside the missing
#: pT's residual along its parton's direction, in the order electron, b, b̄, u, d̄.
BALANCE_GROUPS: tuple[str, ...] = tuple(f"{name}_balance" for name in ("electron", "b", "bbar", "u", "dbar"))


def _wrapped_dphi(cos_a, sin_a, cos_b, sin_b) -> torch.Tensor:
    return torch.atan2(sin_a * cos_b - cos_a * sin_b, cos_a * cos_b + sin_a * sin_b)


def response_observables(x_gev: torch.Tensor, z_gev: torch.Tensor, *, balance: bool = False) -> dict[str, torch.Tensor]:
    """The detector's response to the partons of the same event: x ``(..., 24)`` against z ``(..., 24)`` [GeV].

    One ``(..., k)`` tensor per :data:`RESPONSE_GROUPS` entry. Jets are matched to quarks one to one, by the smallest
    summed ΔR of the 24 assignments (as the scorecard's response and pair features; the choice carries no gradient,
    the matched ΔR and pT ratio do). With ``balance`` also one ``(..., 2)`` group per :data:`BALANCE_GROUPS` entry:
    the object's log pT ratio beside the missing pT's residual along the parton's transverse direction (/50 GeV).
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
    if balance:
        # how much of each object's mismeasurement the missing pT carries: a jet's energy lost to the calorimeter's
        # resolution shows up in it, one lost out of the cone (still seen elsewhere) does not
        ratios = [out["electron_response"][..., 0], *(out[name][..., 1] for name in RESPONSE_GROUPS[:4])]
        slots = (0, 2, 3, 4, 5)
        for name, ratio, k in zip(BALANCE_GROUPS, ratios, slots, strict=True):
            along = (out["met_response"] * z_obj[..., k, 2:4]).sum(-1)  # (MET - ν) · (cos φ, sin φ) of the parton
            out[name] = torch.stack([ratio, along], dim=-1)
    return out


#: The 12 χ² assignments (b_lep, b_had, q1, q2), in the order the reconstruction's kernel tries them (ties go to the
#: first; :func:`turbosim_hep.physics.kernels.assign_jets`, the tests compare the choices).
_ASSIGNMENTS = torch.tensor(
    [[0, 3, 1, 2], [0, 2, 1, 3], [0, 1, 2, 3], [1, 3, 0, 2], [1, 2, 0, 3], [1, 0, 2, 3],
     [2, 3, 0, 1], [2, 1, 0, 3], [2, 0, 1, 3], [3, 2, 0, 1], [3, 1, 0, 2], [3, 0, 1, 2]]
)  # fmt: skip
#: Scales [GeV] of m_W^had, m_t^had, m_t^lep, m_tt in the ``"reconstructed_masses"`` group.
_RECONSTRUCTED_SCALES = (100.0, 200.0, 200.0, 500.0)


def reconstructed_masses(x_gev: torch.Tensor) -> torch.Tensor:
    """``(..., 4)`` m_W^had, m_t^had, m_t^lep, m_tt [GeV] of ``x_gev`` ``(..., 24)`` as the χ² reconstruction finds
    them (:func:`turbosim_hep.physics.reconstruction.reconstruct_features`: ν pz from the W mass, the assignment of
    smallest χ²), divided by 100, 200, 200, 500 GeV: the masses of Table 1 and the mass peaks. The choice carries no
    gradient, the chosen masses do."""
    electron, nu, jets = _lepton_side(x_gev)
    lep = electron + nu
    b_lep, b_had, q1, q2 = (jets[..., k, :] for k in _ASSIGNMENTS.to(x_gev.device).T)  # each (..., 12, 4)
    w = q1 + q2
    m_w, m_t_had, m_t_lep = _mass(w), _mass(w + b_had), _mass(lep[..., None, :] + b_lep)  # (..., 12)
    with torch.no_grad():
        chi2 = (
            ((m_t_lep - M_TOP_GEV) / CHI2_SIGMA_TOP_LEP_GEV) ** 2
            + ((m_w - M_W_GEV) / CHI2_SIGMA_W_HAD_GEV) ** 2
            + ((m_t_had - M_TOP_GEV) / CHI2_SIGMA_TOP_HAD_GEV) ** 2
        )
        best = torch.nan_to_num(chi2, nan=torch.inf).argmin(dim=-1, keepdim=True)
    chosen = [torch.gather(m, -1, best).squeeze(-1) for m in (m_w, m_t_had, m_t_lep)]
    m_tt = _mass(lep + jets.sum(dim=-2))
    return torch.stack([*chosen, m_tt], dim=-1) / torch.tensor(_RECONSTRUCTED_SCALES, dtype=x_gev.dtype).to(x_gev)
