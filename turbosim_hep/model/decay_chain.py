"""The t t̄ decay chain in physics coordinates: the 18 numbers from which six on-shell partons are built, and back.

Z holds the four-momenta of e⁻, ν̄ₑ, b, b̄, u, d̄ (24 numbers) of t → W⁺ b → (u d̄) b and t̄ → W⁻ b̄ → (e⁻ ν̄ₑ) b̄.
With the six parton masses fixed, 18 numbers remain. The generator's partons are those of the hard process, before
initial-state radiation gives the t t̄ pair a recoil: their t t̄ system has pT = 0 (|Σ pT| < 1e-4 GeV in the reference
sample), which removes two more. :func:`chain_to_partons` builds Z from the 16 numbers left and
:func:`partons_to_chain` reads them off Z. Every event built this way is on shell (E² = p² + m² for each parton), has
the truth's zero t t̄ pT, and has the W and top masses its chain variables say, so a generator of chain variables
controls the resonance masses directly. The columns of the ``(n, 16)`` chain arrays, :data:`CHAIN_VARIABLES`:

=====  ======================  ===============================================================================
0-1    ``tt_m tt_y``           t t̄ system: mass [GeV], rapidity (pT 0)
2-3    ``thad_cos thad_phi``   hadronic top direction in the t t̄ rest frame: cos θ (to the beam), azimuth [rad]
4-5    ``thad_m tlep_m``       hadronic and leptonic top masses [GeV]
6-8    ``whad_cos phi m``      W⁺ direction in the hadronic top's rest frame (cos θ, φ), W⁺ mass [GeV]
9-11   ``wlep_cos phi m``      W⁻ in the leptonic top's rest frame, its mass [GeV]
12-13  ``u_cos phi``           u direction in the W⁺ rest frame
14-15  ``e_cos phi``           e⁻ direction in the W⁻ rest frame
=====  ======================  ===============================================================================

Rest-frame directions below the t t̄ are given in helicity axes: the polar axis is the parent's direction in the
laboratory, the azimuth is measured from the plane of the beam and that axis. Each rest frame is reached from the
laboratory by one pure boost along the parent's velocity, so its axes are parallel to the laboratory's and both
directions of the map use the same frame. All arithmetic is float64 (float32 would round a massless parton's E
below |p|).
"""

from __future__ import annotations

import torch

from turbosim_hep.constants import (
    M_B_PYTHIA_GEV,
    M_ELECTRON_GEV,
    M_LIGHT_QUARK_PYTHIA_GEV,
)

__all__ = ("CHAIN_VARIABLES", "N_CHAIN", "PARTON_MASSES_GEV", "chain_to_partons", "partons_to_chain")

#: Names of the 18 chain variables, in column order.
CHAIN_VARIABLES: tuple[str, ...] = (
    "tt_m", "tt_y", "thad_cos", "thad_phi", "thad_m", "tlep_m",
    "whad_cos", "whad_phi", "whad_m",
    "wlep_cos", "wlep_phi", "wlep_m",
    "u_cos", "u_phi",
    "e_cos", "e_phi",
)  # fmt: skip
N_CHAIN: int = len(CHAIN_VARIABLES)
#: On-shell masses [GeV] of the Z slots e⁻, ν̄ₑ, b, b̄, u, d̄.
PARTON_MASSES_GEV: tuple[float, ...] = (
    M_ELECTRON_GEV,
    0.0,
    M_B_PYTHIA_GEV,
    M_B_PYTHIA_GEV,
    M_LIGHT_QUARK_PYTHIA_GEV,
    M_LIGHT_QUARK_PYTHIA_GEV,
)
_E, _NU, _B, _BBAR, _U, _DBAR = range(6)
#: Smallest W mass [GeV] and smallest top-minus-(W + b) mass gap [GeV] a generated chain is clamped to.
_MIN_W_GEV = 1.0
_MIN_GAP_GEV = 0.1


def _on_shell(p3: torch.Tensor, mass: float) -> torch.Tensor:
    return torch.cat([p3, torch.sqrt((p3 * p3).sum(-1, keepdim=True) + mass * mass)], dim=-1)


def _from_pt_y_phi_m(pt, y, phi, m) -> torch.Tensor:
    mt = torch.sqrt(pt * pt + m * m)
    return torch.stack([pt * torch.cos(phi), pt * torch.sin(phi), mt * torch.sinh(y), mt * torch.cosh(y)], dim=-1)


def _helicity_axes(p3: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Unit vectors (x', y', n) ``(n, 3)`` each: n along ``p3``, x' in the plane of the beam and n."""
    n = p3 / torch.linalg.vector_norm(p3, dim=-1, keepdim=True).clamp_min(1e-12)
    beam = torch.zeros_like(n)
    beam[:, 2] = 1.0
    xp = beam - (n * beam).sum(-1, keepdim=True) * n
    xp = xp / torch.linalg.vector_norm(xp, dim=-1, keepdim=True).clamp_min(1e-12)
    return xp, torch.linalg.cross(n, xp), n


def _boost(p4: torch.Tensor, beta: torch.Tensor) -> torch.Tensor:
    """Four-vectors ``(n, 4)`` boosted by velocity ``beta`` ``(n, 3)`` (a frame moving at -beta sees them)."""
    b2 = (beta * beta).sum(-1, keepdim=True).clamp(max=1.0 - 1e-15)
    gamma = 1.0 / torch.sqrt(1.0 - b2)
    bp = (beta * p4[:, :3]).sum(-1, keepdim=True)
    coef = torch.where(b2 > 0, (gamma - 1.0) / b2.clamp_min(1e-300), 0.5 * torch.ones_like(b2))
    p3 = p4[:, :3] + coef * bp * beta + gamma * beta * p4[:, 3:]
    return torch.cat([p3, gamma * (p4[:, 3:] + bp)], dim=-1)


def _two_body_momentum(m: torch.Tensor, m1: torch.Tensor | float, m2: torch.Tensor | float) -> torch.Tensor:
    """Daughter momentum [GeV] in the rest frame of a parent of mass ``m`` decaying to masses ``m1``, ``m2``."""
    lam = (m * m - (m1 + m2) ** 2) * (m * m - (m1 - m2) ** 2)
    return torch.sqrt(lam.clamp_min(0.0)) / (2.0 * m)


def _lab_axes(p3: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The laboratory's x, y and beam axes, each ``(n, 3)`` like ``p3`` (the t t̄ system moves along the beam)."""
    eye = torch.eye(3, dtype=p3.dtype, device=p3.device)
    return tuple(eye[i].expand_as(p3) for i in range(3))


def _decay(parent: torch.Tensor, cos, phi, m1, m2, axes=_helicity_axes) -> tuple[torch.Tensor, torch.Tensor]:
    """Daughters (lab) of ``parent`` ``(n, 4)``: daughter 1 along (cos θ, φ) in ``axes(parent)`` of its rest frame."""
    mass = torch.sqrt((parent[:, 3] ** 2 - (parent[:, :3] ** 2).sum(-1)).clamp_min(1e-12))
    p = _two_body_momentum(mass, m1, m2)
    xp, yp, n = axes(parent[:, :3])
    sin = torch.sqrt((1.0 - cos * cos).clamp_min(0.0))
    d = (sin * torch.cos(phi))[:, None] * xp + (sin * torch.sin(phi))[:, None] * yp + cos[:, None] * n
    m1 = torch.as_tensor(m1, dtype=parent.dtype)
    m2 = torch.as_tensor(m2, dtype=parent.dtype)
    first = torch.cat([p[:, None] * d, torch.sqrt(p * p + m1 * m1)[:, None]], dim=-1)
    second = torch.cat([-p[:, None] * d, torch.sqrt(p * p + m2 * m2)[:, None]], dim=-1)
    beta = parent[:, :3] / parent[:, 3:]
    return _boost(first, beta), _boost(second, beta)


def _angles(parent: torch.Tensor, daughter: torch.Tensor, axes=_helicity_axes) -> tuple[torch.Tensor, torch.Tensor]:
    """(cos θ, φ) of ``daughter`` in the rest frame of ``parent`` (``axes``), both ``(n,)``."""
    rest = _boost(daughter, -parent[:, :3] / parent[:, 3:])[:, :3]
    rest = rest / torch.linalg.vector_norm(rest, dim=-1, keepdim=True).clamp_min(1e-300)
    xp, yp, n = axes(parent[:, :3])
    return (rest * n).sum(-1).clamp(-1.0, 1.0), torch.atan2((rest * yp).sum(-1), (rest * xp).sum(-1))


def _unit(v: torch.Tensor) -> torch.Tensor:
    return v / torch.linalg.vector_norm(v, dim=-1, keepdim=True).clamp_min(1e-300)


def _reference_axes(parent: torch.Tensor, first: torch.Tensor, second: torch.Tensor | None = None):
    """An ``axes`` function for :func:`_decay` / :func:`_angles` whose polar axis is where a reference event puts
    the first daughter, seen from ``parent``'s rest frame: along ``first`` ``(n, 4)``, or with ``second`` (the
    reference's other daughter) along the bisector of ``first`` and the reverse of ``second`` (a two-body decay's
    daughters are back to back there). x' lies in the plane of that axis and the beam."""
    beta = -parent[:, :3] / parent[:, 3:]
    axis = _unit(_boost(first, beta)[:, :3])
    if second is not None:
        axis = axis - _unit(_boost(second, beta)[:, :3])
    axes = _helicity_axes(axis)
    return lambda _p3: axes


def _reference_daughters(reference: torch.Tensor | None) -> tuple[tuple[torch.Tensor, ...], ...] | None:
    """Per decay (t t̄, t_had, W⁺, t_lep, W⁻) the reference's daughters that fix its polar axis, or ``None``: the
    hadronic top alone for the t t̄ (the leptonic top holds the poorly measured ν), both daughters for the tops and
    the W⁺, the electron alone for the W⁻ (its ν, again)."""
    if reference is None:
        return None
    r = reference.double().reshape(-1, 6, 4)
    e, nu, b, bbar, u, dbar = (r[:, i] for i in range(6))
    return (b + u + dbar,), (u + dbar, b), (u, dbar), (e + nu, bbar), (e,)


def _axes(parent: torch.Tensor, refs, k: int, default=_helicity_axes):
    return default if refs is None else _reference_axes(parent, *refs[k])


def _mass(p4: torch.Tensor) -> torch.Tensor:
    m2 = p4[:, 3] ** 2 - (p4[:, :3] ** 2).sum(-1)
    return torch.copysign(torch.sqrt(m2.abs()), m2)


def _rapidity(p4: torch.Tensor) -> torch.Tensor:
    return 0.5 * torch.log((p4[:, 3] + p4[:, 2]) / (p4[:, 3] - p4[:, 2]))


def _tops_and_hadronic_side(c: torch.Tensor, w_lep: torch.Tensor, refs):
    """(leptonic top ``(n, 4)``, its mass ``(n,)``, b, u, d̄ ``(n, 4)`` each) [GeV] from the chain columns 0-8, 12 and
    13 of ``c`` ``(n, >= 14)`` and the W⁻ mass ``w_lep``, masses raised where a decay is not possible; shared by
    :func:`chain_to_partons` and :mod:`~turbosim_hep.model.electron_chain` (which keeps those columns)."""
    m_b, m_q = M_B_PYTHIA_GEV, M_LIGHT_QUARK_PYTHIA_GEV
    w_had = torch.maximum(c[:, 8], torch.full_like(c[:, 8], _MIN_W_GEV))
    t_had = torch.maximum(c[:, 4], w_had + m_b + _MIN_GAP_GEV)
    t_lep = torch.maximum(c[:, 5], w_lep + m_b + _MIN_GAP_GEV)
    m_tt = torch.maximum(c[:, 0], t_had + t_lep + _MIN_GAP_GEV)
    zero = torch.zeros_like(m_tt)
    pair = _from_pt_y_phi_m(zero, c[:, 1], zero, m_tt)
    top_had, top_lep = _decay(pair, c[:, 2], c[:, 3], t_had, t_lep, axes=_axes(pair, refs, 0, _lab_axes))
    wp, b = _decay(top_had, c[:, 6], c[:, 7], w_had, m_b, axes=_axes(top_had, refs, 1))
    u, dbar = _decay(wp, c[:, 12], c[:, 13], m_q, m_q, axes=_axes(wp, refs, 2))
    return top_lep, t_lep, b, u, dbar


def chain_to_partons(chain: torch.Tensor, reference: torch.Tensor | None = None) -> torch.Tensor:
    """Partons Z ``(n, 24)`` [GeV] (float64), on shell by construction, from chain variables ``(n, 16)``.

    With a ``reference`` event ``(n, 24)`` [GeV] (e.g. detector objects in the parton slots), every decay angle is
    measured from where the reference puts that decay's first daughter, seen in the rest frame of the parent being
    built (t_had in the t t̄ frame; W⁺ against b in the hadronic top's; u against d̄ in the W⁺'s; W⁻ = e + ν against
    b̄ in the leptonic top's; e⁻ in the W⁻'s) instead of the helicity axes: a rotation of each rest-frame sphere, so
    densities in the chain variables are unchanged.

    Masses are clamped where a chain is not kinematically possible (m_W ≥ 1 GeV, m_t ≥ m_W + m_b + 0.1 GeV,
    m_tt ≥ both tops + 0.1 GeV), so every input, however wild, gives six physical four-momenta. Differentiable (the
    unfolding back-propagates through it).
    """
    if chain.ndim != 2 or chain.shape[1] != N_CHAIN:
        raise ValueError(f"chain variables must have shape (n, {N_CHAIN}), got {tuple(chain.shape)}")
    c = chain.double()
    w_lep = torch.maximum(c[:, 11], torch.full_like(c[:, 11], _MIN_W_GEV))
    refs = _reference_daughters(reference)
    top_lep, _, b, u, dbar = _tops_and_hadronic_side(c, w_lep, refs)
    wm, bbar = _decay(top_lep, c[:, 9], c[:, 10], w_lep, M_B_PYTHIA_GEV, axes=_axes(top_lep, refs, 3))
    e, nu = _decay(wm, c[:, 14], c[:, 15], M_ELECTRON_GEV, 0.0, axes=_axes(wm, refs, 4))
    # each parton's energy from its momentum and its mass: on shell to float64 rounding, whatever the boosts did
    masses = PARTON_MASSES_GEV
    parts = [_on_shell(p[:, :3], m) for p, m in zip((e, nu, b, bbar, u, dbar), masses, strict=True)]
    return torch.cat(parts, dim=-1)


def partons_to_chain(z: torch.Tensor, reference: torch.Tensor | None = None) -> torch.Tensor:
    """Chain variables ``(n, 16)`` (float64) of partons Z ``(n, 24)`` [GeV]: the inverse of :func:`chain_to_partons`
    for on-shell partons with the masses :data:`PARTON_MASSES_GEV` and a t t̄ pT of 0 (others map to a nearby chain:
    the t t̄ pT is dropped, the partons' own masses replaced). ``reference``: decay angles measured from a
    reference event's daughters, as in :func:`chain_to_partons`."""
    if z.ndim != 2 or z.shape[1] != 24:
        raise ValueError(f"partons must have shape (n, 24), got {tuple(z.shape)}")
    p = z.double().reshape(-1, 6, 4)
    e, nu, b, bbar, u, dbar = (p[:, i] for i in range(6))
    wp, wm = u + dbar, e + nu
    top_had, top_lep = wp + b, wm + bbar
    pair = top_had + top_lep
    refs = _reference_daughters(reference)
    thad_cos, thad_phi = _angles(pair, top_had, axes=_axes(pair, refs, 0, _lab_axes))
    whad_cos, whad_phi = _angles(top_had, wp, axes=_axes(top_had, refs, 1))
    wlep_cos, wlep_phi = _angles(top_lep, wm, axes=_axes(top_lep, refs, 3))
    u_cos, u_phi = _angles(wp, u, axes=_axes(wp, refs, 2))
    e_cos, e_phi = _angles(wm, e, axes=_axes(wm, refs, 4))
    cols = [
        _mass(pair), _rapidity(pair), thad_cos, thad_phi, _mass(top_had), _mass(top_lep),
        whad_cos, whad_phi, _mass(wp), wlep_cos, wlep_phi, _mass(wm), u_cos, u_phi, e_cos, e_phi,
    ]  # fmt: skip
    return torch.stack(cols, dim=-1)
