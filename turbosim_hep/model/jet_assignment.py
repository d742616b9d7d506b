"""Which jet came from which quark: the 48 hypotheses an unfolding has to weigh, in torch.

A detector event has four jets and no b-tag, so the four quarks of the t t̄ decay (b, b̄, u, d̄: Z slots 2–5) can sit
in any of the 24 orderings of the jets, and the W mass constraint gives the neutrino two pz roots. An assignment is
one of the 48 pairs (jet ordering, root); class ``a`` is ``2 * ordering + root``, the orderings in
:data:`ORDERINGS` (slot k of (b, b̄, u, d̄) takes jet ``ORDERINGS[p, k]`` of the pT-sorted jets), the roots in
:func:`neutrino_roots` order (smaller pz first).

Functions take detector events ``x`` ``(n, 24)`` [GeV] in the generator's layout (electron, MET, four jets; each
(px, py, pz, E)) and parton events ``z`` ``(n, 24)`` [GeV] (e⁻, ν̄ₑ, b, b̄, u, d̄).
"""

from __future__ import annotations

import itertools
import math

import torch

from turbosim_hep.constants import M_TOP_GEV, M_W_GEV

__all__ = (
    "N_ASSIGNMENTS",
    "N_ASSIGNMENT_FEATURES",
    "ORDERINGS",
    "assignment_features",
    "best_ordering",
    "neutrino_roots",
    "reference_partons",
    "truth_assignment",
)

#: The 24 jet orderings: row p gives the jet index (0–3, pT order) of the b, b̄, u and d̄ slots.
ORDERINGS = torch.tensor(list(itertools.permutations(range(4))), dtype=torch.long)
#: Jet orderings × neutrino roots.
N_ASSIGNMENTS = 2 * len(ORDERINGS)
#: Features per assignment of :func:`assignment_features`.
N_ASSIGNMENT_FEATURES = 9


def neutrino_roots(x: torch.Tensor) -> torch.Tensor:
    """The two neutrino pz [GeV] ``(n, 2)`` (smaller first) that give the electron and the missing pT the W mass;
    both the real part where the solution is complex."""
    e, met = x[:, 0:4], x[:, 4:8]
    a = 0.5 * M_W_GEV**2 + e[:, 0] * met[:, 0] + e[:, 1] * met[:, 1]
    pt_e2 = (e[:, 0] ** 2 + e[:, 1] ** 2).clamp_min(1e-6)
    met2 = met[:, 0] ** 2 + met[:, 1] ** 2
    root = torch.sqrt(((a * a - pt_e2 * met2) * e[:, 3] ** 2).clamp_min(0.0))
    return torch.stack([(a * e[:, 2] - root) / pt_e2, (a * e[:, 2] + root) / pt_e2], dim=-1)


def _neutrinos(x: torch.Tensor) -> torch.Tensor:
    """Massless neutrino four-vectors ``(n, 2, 4)`` [GeV]: the missing pT with each root's pz."""
    pz = neutrino_roots(x)
    px, py = x[:, 4:5].expand_as(pz), x[:, 5:6].expand_as(pz)
    return torch.stack([px, py, pz, torch.sqrt(px * px + py * py + pz * pz)], dim=-1)


def _mass(p4: torch.Tensor) -> torch.Tensor:
    return torch.sqrt((p4[..., 3] ** 2 - (p4[..., :3] ** 2).sum(-1)).clamp_min(0.0))


def reference_partons(x: torch.Tensor, assignment: torch.Tensor) -> torch.Tensor:
    """Parton-like events ``(n, 24)`` [GeV] of assignment ``assignment`` ``(n,)``: the detected electron, the
    neutrino of the chosen root, the jets in the chosen b, b̄, u, d̄ order (their measured four-vectors)."""
    order = ORDERINGS.to(x.device)[assignment // 2]  # (n, 4)
    jets = x[:, 8:].reshape(-1, 4, 4)
    slots = torch.gather(jets, 1, order[..., None].expand(-1, -1, 4))
    nu = _neutrinos(x)[torch.arange(len(x), device=x.device), assignment % 2]
    return torch.cat([x[:, 0:4], nu, slots.reshape(-1, 16)], dim=-1)


def assignment_features(x: torch.Tensor) -> torch.Tensor:
    """Features ``(n, 48, 9)`` of every assignment: the hadronic W, hadronic top and leptonic top masses it
    reconstructs (asinh of the distance to the pole in units of 15, 25 and 25 GeV), log pT of the jets in the
    b, b̄, u, d̄ slots, the root's pz and the ΔR of the two W jets."""
    jets = x[:, 8:].reshape(-1, 4, 4)
    order = ORDERINGS.to(x.device)
    slots = jets[:, order]  # (n, 24, 4 slots, 4)
    w_had = slots[:, :, 2] + slots[:, :, 3]
    t_had = w_had + slots[:, :, 0]
    lep = x[:, None, 0:4] + _neutrinos(x)  # (n, 2, 4)
    t_lep = lep[:, None, :, :] + slots[:, :, None, 1]  # (n, 24, 2, 4)
    m_w = torch.asinh((_mass(w_had) - M_W_GEV) / 15.0)[..., None].expand(-1, -1, 2)
    m_th = torch.asinh((_mass(t_had) - M_TOP_GEV) / 25.0)[..., None].expand(-1, -1, 2)
    m_tl = torch.asinh((_mass(t_lep) - M_TOP_GEV) / 25.0)
    log_pt = torch.log(torch.hypot(slots[..., 0], slots[..., 1]).clamp_min(1.0) / 50.0)  # (n, 24, 4)
    pz = torch.asinh(neutrino_roots(x) / 100.0)[:, None, :].expand(-1, len(order), -1)
    dr_w = _delta_r(slots[:, :, 2], slots[:, :, 3])
    per_ordering = torch.stack([*log_pt.unbind(-1), dr_w], dim=-1)[:, :, None].expand(-1, -1, 2, -1)
    feats = torch.cat([torch.stack([m_w, m_th, m_tl, pz], dim=-1), per_ordering], dim=-1)  # (n, 24, 2, 9)
    return feats.reshape(len(x), N_ASSIGNMENTS, N_ASSIGNMENT_FEATURES)


def _eta_phi(p4: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    pt = torch.hypot(p4[..., 0], p4[..., 1]).clamp_min(1e-9)
    return torch.asinh(p4[..., 2] / pt), torch.atan2(p4[..., 1], p4[..., 0])


def _delta_r(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    eta_a, phi_a = _eta_phi(a)
    eta_b, phi_b = _eta_phi(b)
    dphi = torch.remainder(phi_a - phi_b + math.pi, 2.0 * math.pi) - math.pi
    return torch.sqrt((eta_a - eta_b) ** 2 + dphi**2)


def best_ordering(dr: torch.Tensor) -> torch.Tensor:
    """The one-to-one quark–jet matching with the smallest summed ΔR: an index ``(...,)`` into :data:`ORDERINGS`,
    from the ΔR ``(..., 4 quarks, 4 jets)`` of the b, b̄, u, d̄ quarks to the jets."""
    order = ORDERINGS.to(dr.device)
    return dr[..., torch.arange(4, device=dr.device), order].sum(-1).argmin(dim=-1)


def truth_assignment(z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """The assignment ``(n,)`` (long) of parton events ``z`` to their detector events ``x``: the jet ordering with the
    smallest summed quark–jet ΔR, and the root nearer the true neutrino pz."""
    quarks = z[:, 8:].reshape(-1, 4, 1, 4)
    jets = x[:, 8:].reshape(-1, 1, 4, 4)
    root = (neutrino_roots(x) - z[:, 6:7]).abs().argmin(-1)
    return 2 * best_ordering(_delta_r(quarks, jets)) + root
