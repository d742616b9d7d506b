"""The t t̄ decay in laboratory coordinates next to a reference event: 16 numbers ↔ six on-shell partons.

:mod:`turbosim_hep.model.decay_chain` builds the partons top-down from rest-frame angles, so an unfolded parton's
laboratory momentum is a function of every chain variable above it: measured, the unfolded electron's pT is off its
detected pT by 16–84 % 0.78–1.39 where the truth's is 0.85–1.16, and the quarks lie twice as far from their jets.
Here each parton that the detector measures well is a variable of its own, measured from the reference event's
object (the detected electron, the jet an assignment gives the quark), and the resonance masses fix the rest:

=====  =================================  =============================================================================
0-2    ``u_log_pt u_deta u_dphi``         u quark: log(pT / pT of its jet), η and φ minus its jet's
3-5    ``dbar_deta dbar_dphi whad_m``     d̄ direction from its jet; its momentum solves m(u d̄) = m_W⁺ [GeV]
6-8    ``b_deta b_dphi thad_m``           b direction from its jet; its momentum solves m(u d̄ b) = m_t [GeV]
9-11   ``e_log_pt e_deta e_dphi``         e⁻ from the detected electron
12-13  ``tlep_dy tlep_m``                 leptonic top: rapidity minus the reference's (e, ν root, b̄ jet), mass [GeV];
                                          its pT is minus the hadronic top's (the generator's t t̄ pT is 0)
14-15  ``wlep_m nu_psi``                  W⁻ mass [GeV]; the ν̄ on the cone around the e⁻ that this mass and the top's
                                          fix in the top's rest frame, at azimuth ψ [rad] from the side that points
                                          the b̄ = t − e⁻ − ν̄ at the reference's b̄ jet
=====  =================================  =============================================================================

Every event built this way is on shell (energies from momenta and the masses of
:data:`~turbosim_hep.model.decay_chain.PARTON_MASSES_GEV`), has a t t̄ pT of zero, and has the four resonance masses
its variables say. The map is a bijection between such events and the variables, given the reference; the electron's
energy in the top's rest frame must leave the neutrino a positive energy and a real cone, which a true event always
does and a draw may not: :func:`lab_to_partons` then takes the nearest edge of the cone (``valid`` says where).
All arithmetic is float64.
"""

from __future__ import annotations

import math

import torch

from turbosim_hep.constants import (
    GAMMA_TOP_GEV,
    GAMMA_W_GEV,
    M_B_PYTHIA_GEV,
    M_ELECTRON_GEV,
    M_LIGHT_QUARK_PYTHIA_GEV,
    M_TOP_GEV,
    M_W_GEV,
)

# the decay chain's four-vector helpers and mass floors: both parametrisations build the same on-shell partons
from turbosim_hep.model.decay_chain import (
    _MIN_GAP_GEV,
    _MIN_W_GEV,
    _boost,
    _mass,
    _on_shell,
    _rapidity,
    _unit,
)
from turbosim_hep.model.flow_coordinates import wrap as _wrap

__all__ = (
    "LAB_VARIABLES",
    "N_LAB",
    "lab_coordinates",
    "lab_from_coordinates",
    "cone_azimuth",
    "lab_to_partons",
    "leptonic_decay",
    "partons_to_lab",
)

LAB_VARIABLES: tuple[str, ...] = (
    "u_log_pt", "u_deta", "u_dphi",
    "dbar_deta", "dbar_dphi", "whad_m",
    "b_deta", "b_dphi", "thad_m",
    "e_log_pt", "e_deta", "e_dphi",
    "tlep_dy", "tlep_m", "wlep_m", "nu_psi",
)  # fmt: skip
N_LAB: int = len(LAB_VARIABLES)

#: Columns that are azimuth differences (wrapped into [-π, π)) and the cone azimuth ψ.
_DPHI_COLUMNS = (2, 4, 7, 11)
_PSI_COLUMN = 15
#: Resonance-mass columns: (pole, width) [GeV] of the flow's asinh((m − M) / Γ) line-shape coordinate.
_MASS_COLUMNS = {5: (M_W_GEV, GAMMA_W_GEV), 8: (M_TOP_GEV, GAMMA_TOP_GEV), 13: (M_TOP_GEV, GAMMA_TOP_GEV),
                 14: (M_W_GEV, GAMMA_W_GEV)}  # fmt: skip
#: Scale of each remaining column on the flow's axis: its 16–84 % half-width in the reference sample with the truth's
#: assignment (quarks 0.15–0.27 in η and φ and 0.31 in log pT; the electron, before its radiation, 0.16 in log pT
#: and 0.085 in η and φ; the leptonic top's rapidity 0.22).
_SCALES = {0: 0.31, 1: 0.18, 2: 0.17, 3: 0.27, 4: 0.24, 6: 0.16, 7: 0.15, 9: 0.16, 10: 0.082, 11: 0.089, 12: 0.22}
_E, _NU, _B, _BBAR, _U, _DBAR = range(6)


def _pt_eta_phi(p4: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    pt = torch.hypot(p4[:, 0], p4[:, 1]).clamp_min(1e-12)
    return pt, torch.asinh(p4[:, 2] / pt), torch.atan2(p4[:, 1], p4[:, 0])


def _direction(eta: torch.Tensor, phi: torch.Tensor) -> torch.Tensor:
    """Unit vectors ``(n, 3)`` at pseudorapidity ``eta`` and azimuth ``phi``."""
    ch = torch.cosh(eta)
    return torch.stack([torch.cos(phi) / ch, torch.sin(phi) / ch, torch.tanh(eta)], dim=-1)


def _momentum(pt: torch.Tensor, eta: torch.Tensor, phi: torch.Tensor) -> torch.Tensor:
    """Three-momenta ``(n, 3)`` [GeV] of transverse momentum ``pt``, pseudorapidity ``eta`` and azimuth ``phi``."""
    return torch.stack([pt * torch.cos(phi), pt * torch.sin(phi), pt * torch.sinh(eta)], dim=-1)


def _solve_momentum(
    parent: torch.Tensor, direction: torch.Tensor, m: float, target: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """(|p| [GeV] ``(n,)``, ``solved`` ``(n,)`` bool) of a daughter of mass ``m`` along unit ``direction`` ``(n, 3)``
    such that m(parent + daughter) = ``target`` [GeV]: E_P √(p² + m²) − (p⃗_P·n̂) p = K with K = (M² − m_P² − m²)/2,
    whose larger root is p = (K c + E_P √(K² − (E_P² − c²) m²)) / (E_P² − c²), c = p⃗_P·n̂. It is the only positive
    one while K > E_P m (every W and top below a few TeV of energy). ``solved`` is false where no momentum along the
    direction reaches the target (the extremum is returned)."""
    e_p = parent[:, 3]
    c = (parent[:, :3] * direction).sum(-1)
    k = 0.5 * (target * target - (e_p * e_p - (parent[:, :3] ** 2).sum(-1)) - m * m)
    a = (e_p * e_p - c * c).clamp_min(1e-12)
    disc = k * k - a * m * m
    p = ((k * c + e_p * torch.sqrt(disc.clamp_min(0.0))) / a).clamp_min(0.0)
    return p, (disc >= 0) & (k > 0)


def _cone_axes(e_rest: torch.Tensor, bbar_rest: torch.Tensor):
    """(axis, x', y') ``(n, 3)`` each of the ν̄ cone in the top's rest frame: the axis along the e⁻, x' towards
    minus the reference b̄ (ψ = 0 tilts W⁻ = e⁻ + ν̄ away from the b̄ jet, so the b̄ = t − W⁻ points at it)."""
    axis = _unit(e_rest)
    toward = -_unit(bbar_rest)
    xp = _unit(toward - (toward * axis).sum(-1, keepdim=True) * axis)
    return axis, xp, torch.linalg.cross(axis, xp)


def _reference_top(reference: torch.Tensor) -> torch.Tensor:
    r = reference.reshape(-1, 6, 4)
    return r[:, _E] + r[:, _NU] + r[:, _BBAR]


def partons_to_lab(z: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
    """Laboratory variables ``(n, 16)`` (float64, :data:`LAB_VARIABLES`) of partons Z ``(n, 24)`` [GeV] (e⁻, ν̄ₑ, b,
    b̄, u, d̄) measured from a ``reference`` event ``(n, 24)`` [GeV] in the same slots (e.g. the detected electron,
    a neutrino root and the jets of an assignment). The inverse of :func:`lab_to_partons` for on-shell partons with a
    t t̄ pT of zero."""
    if z.shape[-1] != 24 or reference.shape != z.shape:
        raise ValueError(f"partons and reference must both have shape (n, 24), got {tuple(z.shape)} and "
                         f"{tuple(reference.shape)}")  # fmt: skip
    p = z.double().reshape(-1, 6, 4)
    r = reference.double().reshape(-1, 6, 4)
    kin = {i: _pt_eta_phi(p[:, i]) for i in (_E, _B, _U, _DBAR)}
    ref = {i: _pt_eta_phi(r[:, i]) for i in (_E, _B, _U, _DBAR)}
    e, nu, bbar = p[:, _E], p[:, _NU], p[:, _BBAR]
    w_had = p[:, _U] + p[:, _DBAR]
    top_lep = e + nu + bbar
    psi = cone_azimuth(top_lep, e, nu, r[:, _BBAR])
    u, d, b, el = kin[_U], kin[_DBAR], kin[_B], kin[_E]
    ru, rd, rb, re = ref[_U], ref[_DBAR], ref[_B], ref[_E]
    cols = [
        torch.log(u[0] / ru[0]), u[1] - ru[1], _wrap(u[2] - ru[2]),
        d[1] - rd[1], _wrap(d[2] - rd[2]), _mass(w_had),
        b[1] - rb[1], _wrap(b[2] - rb[2]), _mass(w_had + p[:, _B]),
        torch.log(el[0] / re[0]), el[1] - re[1], _wrap(el[2] - re[2]),
        _rapidity(top_lep) - _rapidity(_reference_top(r)), _mass(top_lep), _mass(e + nu), psi,
    ]  # fmt: skip
    return torch.stack(cols, dim=-1)


def lab_to_partons(lab: torch.Tensor, reference: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(partons Z ``(n, 24)`` [GeV] float64, ``valid`` ``(n,)`` bool) from laboratory variables ``(n, 16)`` and the
    ``reference`` event ``(n, 24)`` they are measured from (see the module docstring).

    Masses are raised where a decay is not kinematically possible (m_W ≥ 1 GeV, m_t ≥ m_W + m_b + 0.1 GeV). ``valid``
    is false where a drawn mass cannot be reached: no momentum along the drawn d̄ or b direction gives the W⁺ or top
    mass (the nearest is taken), or the electron leaves the neutrino no cone (its energy in the top's rest frame is
    out of the range the two masses allow; the neutrino takes the cone's nearest edge). Such an event is still six
    on-shell partons with a t t̄ pT of zero, but some of its resonance masses differ from the variables'.
    """
    if lab.ndim != 2 or lab.shape[1] != N_LAB:
        raise ValueError(f"laboratory variables must have shape (n, {N_LAB}), got {tuple(lab.shape)}")
    v = lab.double()
    r = reference.double().reshape(-1, 6, 4)
    m_b, m_q, m_e = M_B_PYTHIA_GEV, M_LIGHT_QUARK_PYTHIA_GEV, M_ELECTRON_GEV
    ru, rd, rb, re = (_pt_eta_phi(r[:, i]) for i in (_U, _DBAR, _B, _E))
    # hadronic side: the u as drawn, the d̄ and b momenta from the W⁺ and top masses
    u = _on_shell(_momentum(ru[0] * torch.exp(v[:, 0]), ru[1] + v[:, 1], ru[2] + v[:, 2]), m_q)
    n_d = _direction(rd[1] + v[:, 3], rd[2] + v[:, 4])
    m_wp = v[:, 5].clamp_min(2.0 * m_q + _MIN_GAP_GEV)
    p_d, solved_d = _solve_momentum(u, n_d, m_q, m_wp)
    dbar = _on_shell(p_d[:, None] * n_d, m_q)
    w_had = u + dbar
    n_b = _direction(rb[1] + v[:, 6], rb[2] + v[:, 7])
    m_th = torch.maximum(v[:, 8], _mass(w_had) + m_b + _MIN_GAP_GEV)
    p_b, solved_b = _solve_momentum(w_had, n_b, m_b, m_th)
    b = _on_shell(p_b[:, None] * n_b, m_b)
    top_had = w_had + b
    # leptonic side: the e⁻ as drawn, the top from the pT balance, the ν̄ on its cone
    e = _on_shell(_momentum(re[0] * torch.exp(v[:, 9]), re[1] + v[:, 10], re[2] + v[:, 11]), m_e)
    m_wm = v[:, 14].clamp_min(_MIN_W_GEV)
    m_tl = torch.maximum(v[:, 13], m_wm + m_b + _MIN_GAP_GEV)
    pt_x, pt_y = -top_had[:, 0], -top_had[:, 1]
    y = _rapidity(_reference_top(r)) + v[:, 12]
    mt = torch.sqrt(pt_x * pt_x + pt_y * pt_y + m_tl * m_tl)
    top_lep = torch.stack([pt_x, pt_y, mt * torch.sinh(y), mt * torch.cosh(y)], dim=-1)
    nu, bbar, on_cone = leptonic_decay(top_lep, e, m_tl, m_wm, v[:, _PSI_COLUMN], r[:, _BBAR])
    return torch.cat([e, nu, b, bbar, u, dbar], dim=-1), on_cone & solved_d & solved_b


def leptonic_decay(
    top_lep: torch.Tensor,
    e: torch.Tensor,
    m_top: torch.Tensor,
    m_w: torch.Tensor,
    psi: torch.Tensor,
    reference_bbar: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(ν̄, b̄ ``(n, 4)`` [GeV] on shell, ``valid`` ``(n,)`` bool) of t̄ → W⁻ b̄ → e⁻ ν̄ b̄ given the leptonic top
    ``top_lep`` ``(n, 4)`` of mass ``m_top``, its electron ``e`` ``(n, 4)`` and the W⁻ mass ``m_w`` [GeV] ``(n,)``.

    In the top's rest frame the W⁻ = e⁻ + ν̄ has the two-body energy of (m_top, m_w, m_b), which fixes the ν̄'s
    energy, and m(e⁻ ν̄) = m_w fixes its angle to the e⁻: the ν̄ lies on a cone around the e⁻, at azimuth ``psi``
    [rad] from the side that points the b̄ = t − e⁻ − ν̄ at ``reference_bbar`` ``(n, 4)`` (:func:`cone_azimuth`).
    ``valid`` is false where the electron's energy there leaves no cone (the ν̄ then takes the nearest edge)."""
    m_b, m_e = M_B_PYTHIA_GEV, M_ELECTRON_GEV
    beta = top_lep[:, :3] / top_lep[:, 3:]
    e_rest = _boost(e, -beta)
    e_energy, e_mom = e_rest[:, 3], torch.linalg.vector_norm(e_rest[:, :3], dim=-1).clamp_min(1e-12)
    nu_energy = (m_top * m_top + m_w * m_w - m_b * m_b) / (2.0 * m_top) - e_energy
    cos = (e_energy - (m_w * m_w - m_e * m_e) / (2.0 * nu_energy.clamp_min(1e-9))) / e_mom
    valid = (nu_energy > 0) & (cos.abs() <= 1.0)
    nu_energy, cos = nu_energy.clamp_min(1e-6), cos.clamp(-1.0, 1.0)
    sin = torch.sqrt(1.0 - cos * cos)
    axis, xp, yp = _cone_axes(e_rest[:, :3], _boost(reference_bbar, -beta)[:, :3])
    d = cos[:, None] * axis + (sin * torch.cos(psi))[:, None] * xp + (sin * torch.sin(psi))[:, None] * yp
    nu = _boost(torch.cat([nu_energy[:, None] * d, nu_energy[:, None]], dim=-1), beta)
    nu = _on_shell(nu[:, :3], 0.0)
    bbar = _on_shell(top_lep[:, :3] - e[:, :3] - nu[:, :3], m_b)
    return nu, bbar, valid


def cone_azimuth(
    top_lep: torch.Tensor, e: torch.Tensor, nu: torch.Tensor, reference_bbar: torch.Tensor
) -> torch.Tensor:
    """The ν̄'s azimuth ψ [rad] ``(n,)`` on its cone around the e⁻ in the leptonic top's rest frame (all ``(n, 4)``
    [GeV]): the inverse of :func:`leptonic_decay`'s ``psi``."""
    beta = -top_lep[:, :3] / top_lep[:, 3:]
    e_rest, nu_rest = _boost(e, beta)[:, :3], _boost(nu, beta)[:, :3]
    axis, xp, yp = _cone_axes(e_rest, _boost(reference_bbar, beta)[:, :3])
    return torch.atan2((nu_rest * yp).sum(-1), (nu_rest * xp).sum(-1))


def lab_coordinates(lab: torch.Tensor) -> torch.Tensor:
    """Laboratory variables ``(n, 16)`` on the flow's scale (each of order one): differences over their spread,
    resonance masses through asinh((m − M) / Γ), ψ wrapped and scaled to [-2, 2)."""
    cols = list(lab.unbind(-1))
    for i, s in _SCALES.items():
        cols[i] = (_wrap(cols[i]) if i in _DPHI_COLUMNS else cols[i]) / s
    for i, (centre, width) in _MASS_COLUMNS.items():
        cols[i] = torch.asinh((cols[i] - centre) / width)
    cols[_PSI_COLUMN] = _wrap(cols[_PSI_COLUMN]) * (2.0 / math.pi)
    return torch.stack(cols, dim=-1)


def lab_from_coordinates(u: torch.Tensor) -> torch.Tensor:
    """The inverse of :func:`lab_coordinates` ``(n, 16)``."""
    cols = list(u.unbind(-1))
    for i, s in _SCALES.items():
        cols[i] = cols[i] * s
    for i, (centre, width) in _MASS_COLUMNS.items():
        cols[i] = centre + width * torch.sinh(cols[i])
    cols[_PSI_COLUMN] = _wrap(cols[_PSI_COLUMN] * (math.pi / 2.0))
    return torch.stack(cols, dim=-1)
