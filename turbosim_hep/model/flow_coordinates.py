"""The flow encoders' coordinates: which decay-chain columns are azimuths, cosines and resonance masses, the scales
that make each of order one, and the detector-event features both encoders are conditioned on.

Shared by :mod:`turbosim_hep.model.flow_encoder` (the plain flow) and :mod:`turbosim_hep.model.assigned_flow_encoder`
(the flow with the jet–quark assignment); chain columns as :data:`~turbosim_hep.model.decay_chain.CHAIN_VARIABLES`.
"""

from __future__ import annotations

import math

import torch

from turbosim_hep.constants import GAMMA_TOP_GEV, GAMMA_W_GEV, M_TOP_GEV, M_W_GEV
from turbosim_hep.model.jet_assignment import neutrino_roots

__all__ = (
    "COS_COLUMNS",
    "COS_EDGE",
    "LOG_MTT",
    "MASS_COLUMNS",
    "N_CONTEXT_IN",
    "PHI_COLUMNS",
    "U_MAX",
    "Y_SCALE",
    "chain_coordinates",
    "chain_from_coordinates",
    "context_features",
    "mass",
    "rotate",
    "wrap",
)

#: Chain columns holding azimuths, resonance masses (asinh line shape, pole and width [GeV]) and cosines (atanh).
PHI_COLUMNS = (3, 7, 10, 13, 15)
COS_COLUMNS = (2, 6, 9, 12, 14)
MASS_COLUMNS = {
    4: (M_TOP_GEV, GAMMA_TOP_GEV),
    5: (M_TOP_GEV, GAMMA_TOP_GEV),
    8: (M_W_GEV, GAMMA_W_GEV),
    11: (M_W_GEV, GAMMA_W_GEV),
}
#: log m_tt [log GeV] centre and scale; y_tt scale.
LOG_MTT = (6.2, 0.35)
Y_SCALE = 1.1
#: Flow coordinates are clamped to this range before the inverse maps (a wild draw stays finite).
U_MAX = 12.0
COS_EDGE = 1.0 - 1e-6
#: Detector-level context: engineered features per event.
N_CONTEXT_IN = 6 * 8 + 6 + 4 + 2


def wrap(phi: torch.Tensor) -> torch.Tensor:
    """Azimuths [rad] wrapped into [-π, π)."""
    return torch.remainder(phi + math.pi, 2.0 * math.pi) - math.pi


def rotate(v: torch.Tensor, angle: torch.Tensor) -> torch.Tensor:
    """Four-vector blocks of ``v`` ``(n, 24)`` rotated about the beam by ``angle`` ``(n,)``."""
    p = v.reshape(v.shape[0], -1, 4)
    c, s = torch.cos(angle)[:, None], torch.sin(angle)[:, None]
    px, py = p[..., 0] * c - p[..., 1] * s, p[..., 0] * s + p[..., 1] * c
    return torch.stack([px, py, p[..., 2], p[..., 3]], dim=-1).reshape(v.shape)


def mass(p4: torch.Tensor) -> torch.Tensor:
    """Invariant masses [GeV] of four-vectors ``(..., 4)`` (0 where spacelike)."""
    m2 = p4[..., 3] ** 2 - (p4[..., :3] ** 2).sum(-1)
    return torch.sqrt(m2.clamp_min(0.0))


def context_features(x_rot: torch.Tensor) -> torch.Tensor:
    """Engineered features ``(n, 60)`` of rotated detector events ``(n, 24)`` [GeV]: per object its compressed
    four-momentum, log pT, η-like and direction; the jet pair and triple masses; the two neutrino pz of the W mass
    constraint (the real part where complex)."""
    p = x_rot.reshape(-1, 6, 4)
    pt = torch.hypot(p[..., 0], p[..., 1])
    phi = torch.atan2(p[..., 1], p[..., 0])
    per_object = [
        torch.asinh(p / 50.0),
        torch.log1p(pt)[..., None],
        torch.asinh(p[..., 2] / pt.clamp_min(1.0))[..., None],
        torch.cos(phi)[..., None],
        torch.sin(phi)[..., None],
    ]
    objects = torch.cat(per_object, dim=-1).reshape(len(x_rot), -1)  # (n, 48)
    jets = p[:, 2:]
    pairs = [(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)]
    triples = [(0, 1, 2), (0, 1, 3), (0, 2, 3), (1, 2, 3)]
    masses = [mass(jets[:, i] + jets[:, j]) for i, j in pairs] + [mass(jets[:, list(t)].sum(1)) for t in triples]
    masses = torch.log1p(torch.stack(masses, dim=-1))  # (n, 10)
    nu = neutrino_roots(x_rot)
    return torch.cat([objects, masses, torch.asinh(nu / 100.0)], dim=-1)


def chain_coordinates(chain: torch.Tensor) -> torch.Tensor:
    """Each chain column ``(n, 16)`` on the flow's scale: log m_tt and y_tt scaled, atanh of the cosines, the
    resonance masses through asinh((m − M) / Γ); azimuths are returned as they are (each encoder places them)."""
    cols = list(chain.unbind(-1))
    cols[0] = (torch.log(cols[0].clamp_min(1.0)) - LOG_MTT[0]) / LOG_MTT[1]
    cols[1] = cols[1] / Y_SCALE
    for i in COS_COLUMNS:
        cols[i] = torch.atanh(cols[i].clamp(-COS_EDGE, COS_EDGE))
    for i, (centre, width) in MASS_COLUMNS.items():
        cols[i] = torch.asinh((cols[i] - centre) / width)
    return torch.stack(cols, dim=-1)


def chain_from_coordinates(u: torch.Tensor) -> torch.Tensor:
    """The inverse of :func:`chain_coordinates` ``(n, 16)``; azimuth columns are returned as they are."""
    cols = list(u.unbind(-1))
    cols[0] = torch.exp(cols[0] * LOG_MTT[1] + LOG_MTT[0])
    cols[1] = cols[1] * Y_SCALE
    for i in COS_COLUMNS:
        cols[i] = torch.tanh(cols[i])
    for i, (centre, width) in MASS_COLUMNS.items():
        cols[i] = centre + width * torch.sinh(cols[i])
    return torch.stack(cols, dim=-1)
