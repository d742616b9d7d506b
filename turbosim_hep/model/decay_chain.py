"""The t t̄ decay chain in physics coordinates: the 16 numbers from which six on-shell partons are built, and back.

Z holds the four-momenta of e⁻, ν̄ₑ, b, b̄, u, d̄ (24 numbers) of t → W⁺ b → (u d̄) b and t̄ → W⁻ b̄ → (e⁻ ν̄ₑ) b̄.
With the six parton masses fixed, 18 numbers remain. The generator's partons are those of the hard process, before
initial-state radiation gives the t t̄ pair a recoil: their t t̄ system has pT = 0 (|Σ pT| < 1e-4 GeV in the reference
sample), which removes two more. :func:`chain_to_partons` builds Z from the 16 numbers left and
:func:`partons_to_chain` reads them off Z. Every event built this way is on shell (E² = p² + m² for each parton), has
the truth's zero t t̄ pT, and has exactly the W and top masses its variables say.

The variables are chosen so that what a detector measures is explicit: the *laboratory directions* of the five
partons that leave an electron or a jet (e⁻, b, b̄, u, d̄) are variables of their own, so a posterior can put a quark
right on its jet; the resonance masses are variables too, so their line shapes are sharp; the momenta along those
directions follow from the masses. The columns of the ``(n, 16)`` chain arrays, :data:`CHAIN_VARIABLES`:

=====  ===========================  ==========================================================================
0-2    ``u_logpt u_eta u_phi``      u: log pT [log GeV], pseudorapidity, azimuth [rad]
3-5    ``dbar_eta dbar_phi whad_m``  d̄ direction; W⁺ mass [GeV] (fixes |p| of d̄)
6-8    ``b_eta b_phi thad_m``       b direction; hadronic top mass [GeV] (fixes |p| of b)
9-10   ``tlep_y tlep_m``            leptonic top rapidity and mass (its pT is minus the hadronic top's)
11-13  ``bbar_eta bbar_phi wlep_m``  b̄ direction; W⁻ mass (fixes |p| of b̄; W⁻ = t̄ − b̄)
14-15  ``e_eta e_phi``              e⁻ direction (fixes |p| of e⁻; ν̄ = W⁻ − e⁻)
=====  ===========================  ==========================================================================

Each |p| solves P·d = A for a daughter d along a given direction beside a known four-vector P (A from the masses);
the root taken is the only positive one whenever E_P·m_d < A. For the b quarks that fails in a far off-shell or
very boosted top (m_t ≲ 130 GeV, or a top above about 2 TeV), where the truth may hold the other root: 0.2 % of the
reference sample's events, which the map reads correctly but rebuilds with the larger root. All arithmetic is
float64 (float32 would round a massless parton's E below |p|).
"""

from __future__ import annotations

import torch

from turbosim_hep.constants import M_B_PYTHIA_GEV, M_ELECTRON_GEV, M_LIGHT_QUARK_PYTHIA_GEV

__all__ = ("CHAIN_VARIABLES", "N_CHAIN", "PARTON_MASSES_GEV", "chain_to_partons", "partons_to_chain")

#: Names of the 16 chain variables, in column order.
CHAIN_VARIABLES: tuple[str, ...] = (
    "u_logpt", "u_eta", "u_phi",
    "dbar_eta", "dbar_phi", "whad_m",
    "b_eta", "b_phi", "thad_m",
    "tlep_y", "tlep_m",
    "bbar_eta", "bbar_phi", "wlep_m",
    "e_eta", "e_phi",
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
#: Smallest W mass [GeV] and smallest top-minus-(W + b) mass gap [GeV] a generated chain is clamped to.
_MIN_W_GEV = 1.0
_MIN_GAP_GEV = 0.1
#: |η| of a generated direction is clamped to this (a wild draw stays finite).
_MAX_ETA = 12.0


def _on_shell(p3: torch.Tensor, mass: float) -> torch.Tensor:
    return torch.cat([p3, torch.sqrt((p3 * p3).sum(-1, keepdim=True) + mass * mass)], dim=-1)


def _direction(eta: torch.Tensor, phi: torch.Tensor) -> torch.Tensor:
    """Unit vectors ``(n, 3)`` of pseudorapidity ``eta`` and azimuth ``phi``."""
    eta = eta.clamp(-_MAX_ETA, _MAX_ETA)
    sin_theta = 1.0 / torch.cosh(eta)
    return torch.stack([sin_theta * torch.cos(phi), sin_theta * torch.sin(phi), torch.tanh(eta)], dim=-1)


def _along(parent: torch.Tensor, n: torch.Tensor, mass: float, a: torch.Tensor) -> torch.Tensor:
    """The four-vector d ``(n, 4)`` of mass ``mass`` along unit ``n`` with Minkowski product parent·d = ``a``.

    E_P E_d − (p_P·n) p = a, squared: p²(E_P² − b²) − 2ab p + (E_P² m² − a²) = 0 with b = p_P·n; the + root (the
    only positive one when E_P m < a, and the one with E_P E_d = a + b p > 0)."""
    e_p = parent[:, 3]
    b = (parent[:, :3] * n).sum(-1)
    a = a.clamp_min(mass * e_p + 1e-9) if mass > 0 else a.clamp_min(1e-9)
    denom = (e_p * e_p - b * b).clamp_min(1e-12)
    disc = (a * a - mass * mass * denom).clamp_min(0.0)
    p = ((a * b + e_p * torch.sqrt(disc)) / denom).clamp_min(1e-3)  # never at rest: its direction stays defined
    return _on_shell(p[:, None] * n, mass)


def _pt_y_phi_m(pt, y, phi, m) -> torch.Tensor:
    mt = torch.sqrt(pt * pt + m * m)
    return torch.stack([pt * torch.cos(phi), pt * torch.sin(phi), mt * torch.sinh(y), mt * torch.cosh(y)], dim=-1)


def _dot(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return a[:, 3] * b[:, 3] - (a[:, :3] * b[:, :3]).sum(-1)


def _mass(p4: torch.Tensor) -> torch.Tensor:
    m2 = _dot(p4, p4)
    return torch.copysign(torch.sqrt(m2.abs()), m2)


def _eta(p4: torch.Tensor) -> torch.Tensor:
    return torch.asinh(p4[:, 2] / torch.hypot(p4[:, 0], p4[:, 1]).clamp_min(1e-300))


def _phi(p4: torch.Tensor) -> torch.Tensor:
    return torch.atan2(p4[:, 1], p4[:, 0])


def chain_to_partons(chain: torch.Tensor) -> torch.Tensor:
    """Partons Z ``(n, 24)`` [GeV] (float64), on shell by construction, from chain variables ``(n, 16)``.

    Masses are clamped where a chain is not kinematically possible (m_W ≥ 1 GeV, m_t ≥ m_W + m_b + 0.1 GeV), so
    every input, however wild, gives six physical four-momenta. Differentiable (the unfolding back-propagates
    through it).
    """
    if chain.ndim != 2 or chain.shape[1] != N_CHAIN:
        raise ValueError(f"chain variables must have shape (n, {N_CHAIN}), got {tuple(chain.shape)}")
    c = chain.double()
    m_b, m_q, m_e = M_B_PYTHIA_GEV, M_LIGHT_QUARK_PYTHIA_GEV, M_ELECTRON_GEV
    w_had = c[:, 5].clamp_min(_MIN_W_GEV)
    t_had = torch.maximum(c[:, 8], w_had + m_b + _MIN_GAP_GEV)
    w_lep = c[:, 13].clamp_min(_MIN_W_GEV)
    t_lep = torch.maximum(c[:, 10], w_lep + m_b + _MIN_GAP_GEV)
    # hadronic side, bottom up: u given; d̄ along its direction with m(u d̄) = m_W; b with m(u d̄ b) = m_t
    u = _on_shell(
        torch.exp(c[:, 0].clamp(max=10.0))[:, None]
        * _direction(c[:, 1], c[:, 2])
        * torch.cosh(c[:, 1:2].clamp(-_MAX_ETA, _MAX_ETA)),
        m_q,
    )  # pT e^logpt along (η, φ)
    dbar = _along(u, _direction(c[:, 3], c[:, 4]), m_q, 0.5 * (w_had * w_had - 2 * m_q * m_q))
    wp = u + dbar
    b = _along(wp, _direction(c[:, 6], c[:, 7]), m_b, 0.5 * (t_had * t_had - w_had * w_had - m_b * m_b))
    top_had = wp + b
    # leptonic side, top down: t̄ balances the hadronic top in pT; b̄ along its direction with m(t̄ − b̄) = m_W
    pt = torch.hypot(top_had[:, 0], top_had[:, 1])
    top_lep = _pt_y_phi_m(pt, c[:, 9], _phi(top_had) + torch.pi, t_lep)
    bbar = _along(top_lep, _direction(c[:, 11], c[:, 12]), m_b, 0.5 * (t_lep * t_lep + m_b * m_b - w_lep * w_lep))
    wm = top_lep - bbar
    e = _along(wm, _direction(c[:, 14], c[:, 15]), m_e, 0.5 * (w_lep * w_lep + m_e * m_e))
    nu = _on_shell((wm - e)[:, :3], 0.0)
    return torch.cat([e, nu, b, bbar, u, dbar], dim=-1)


def partons_to_chain(z: torch.Tensor) -> torch.Tensor:
    """Chain variables ``(n, 16)`` (float64) of partons Z ``(n, 24)`` [GeV]: the inverse of :func:`chain_to_partons`
    for on-shell partons with the masses :data:`PARTON_MASSES_GEV` and a t t̄ pT of 0 (others map to a nearby chain:
    the t t̄ pT is dropped, the partons' own masses replaced)."""
    if z.ndim != 2 or z.shape[1] != 24:
        raise ValueError(f"partons must have shape (n, 24), got {tuple(z.shape)}")
    p = z.double().reshape(-1, 6, 4)
    e, nu, b, bbar, u, dbar = (p[:, i] for i in range(6))
    wp, wm = u + dbar, e + nu
    top_lep = wm + bbar
    y = 0.5 * torch.log((top_lep[:, 3] + top_lep[:, 2]) / (top_lep[:, 3] - top_lep[:, 2]))
    cols = [
        torch.log(torch.hypot(u[:, 0], u[:, 1])), _eta(u), _phi(u),
        _eta(dbar), _phi(dbar), _mass(wp),
        _eta(b), _phi(b), _mass(wp + b),
        y, _mass(top_lep),
        _eta(bbar), _phi(bbar), _mass(wm),
        _eta(e), _phi(e),
    ]  # fmt: skip
    return torch.stack(cols, dim=-1)
