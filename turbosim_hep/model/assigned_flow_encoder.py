"""The flow encoder with the jet–quark assignment made explicit: q_φ(z, a | x) = π_φ(a | x) · q_φ(z | x, a).

The plain :class:`~turbosim_hep.model.flow_encoder.FlowEncoder` has to put the posterior's many modes (which jet is
which quark, which neutrino root) into one flow over the decay chain, and a quark's laboratory direction there is a
function of every chain variable above it; measured, its unfolded quarks lie a median ΔR 0.5–0.8 from every jet
where the true quarks lie 0.13–0.18 from one. Here:

- a categorical head weighs the 48 assignments of :mod:`turbosim_hep.model.jet_assignment` (four jets to b, b̄, u,
  d̄, times the two neutrino roots) from features of each (the W and top masses it reconstructs, its jets' pT);
- given the chosen assignment a, its *reference event* (the detected electron, the neutrino of the root, the jets
  in that order) fixes the axes of every decay angle: each daughter's direction is measured from the reference's
  daughter as seen in the rest frame of the parent being built (``reference=`` of
  :func:`~turbosim_hep.model.decay_chain.chain_to_partons`). A u quark that comes out along its jet has cos θ ≈ 1
  whatever the chain above it drew, so the flow learns a jet's angular resolution, not a chain of correlations.
  These are rotations of each rest-frame sphere: the density stays exact;
- m_tt and y_tt are shifted by the reference's (a translation), the resonance masses keep the plain encoder's
  absolute line shapes, and a context-dependent scale and shift (its log-determinant counted) hand the residual
  to the spline flow, whose context also sees the assignment's features and reference chain.

Training maximises the joint likelihood log π(a* | x) + log q(z | x, a*) at the truth's assignment a*(z, x)
(:func:`~turbosim_hep.model.jet_assignment.truth_assignment`: the ordering nearest in ΔR, the nearer root): a
latent-class maximum likelihood (the flow may still place a draw where another assignment would be nearer, so its
density of z is not restricted to the region where a*(z, x) = a). Sampling draws a from π with one more keyed normal
(``noise[:, 16]``, through its CDF), then the flow from ``noise[:, :16]``: ``noise_dim`` is 17.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from turbosim_hep.model.decay_chain import N_CHAIN, chain_to_partons, partons_to_chain
from turbosim_hep.model.flow_coordinates import (
    N_CONTEXT_IN,
    PHI_COLUMNS,
    U_MAX,
    chain_coordinates,
    chain_from_coordinates,
    context_features,
    rotate,
    wrap,
)
from turbosim_hep.model.flow_encoder import FlowEncoder
from turbosim_hep.model.jet_assignment import (
    N_ASSIGNMENT_FEATURES,
    N_ASSIGNMENTS,
    assignment_features,
    reference_partons,
    truth_assignment,
)

__all__ = ("AssignedFlowEncoder",)

#: Chain columns shifted by the reference chain's: m_tt and y_tt (the decay angles are relative by construction).
_TRANSLATED = (0, 1)
#: Largest |log scale| of the context-dependent affine step (a bound keeps early training stable).
_MAX_LOG_SCALE = 4.0
#: Width of the assignment head.
_HEAD = 64


def _relative(chain: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
    """Flow coordinates ``(n, 16)`` of a chain whose decay angles are measured from the reference's daughters (see
    :func:`~turbosim_hep.model.decay_chain.partons_to_chain`), with m_tt and y_tt shifted by the ``reference``
    chain's (both ``(n, 16)``)."""
    c = chain_coordinates(chain)
    cols = list(c.unbind(-1))
    r = chain_coordinates(reference)
    for i in _TRANSLATED:
        cols[i] = c[:, i] - r[:, i]
    for i in PHI_COLUMNS:
        cols[i] = wrap(chain[:, i]) * (2.0 / math.pi)
    return torch.stack(cols, dim=-1)


def _absolute(u: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
    """The chain ``(n, 16)`` (float64, decay angles from the reference's daughters) at flow coordinates ``u``: the
    inverse of :func:`_relative`."""
    u, reference = u.double(), reference.double()
    r = chain_coordinates(reference)
    cols = list(u.unbind(-1))
    for i in _TRANSLATED:
        cols[i] = cols[i] + r[:, i]
    cols = list(chain_from_coordinates(torch.stack(cols, dim=-1).clamp(-U_MAX, U_MAX)).unbind(-1))
    for i in PHI_COLUMNS:
        cols[i] = wrap(u[:, i] * (math.pi / 2.0))
    return torch.stack(cols, dim=-1)


class AssignedFlowEncoder(FlowEncoder):
    """q_φ(z|x) as a mixture over the 48 jet–quark assignments of conditional flows (see the module docstring).

    Arguments as :class:`~turbosim_hep.model.flow_encoder.FlowEncoder`.

    Attributes
    ----------
    noise_dim : int
        17: the flow's 16 base normals and one normal that picks the assignment.
    """

    def __init__(
        self,
        *,
        context: int = 128,
        hidden: tuple[int, ...] = (256, 256),
        transforms: int = 6,
        bins: int = 8,
        passes: int = 2,
    ) -> None:
        super().__init__(context=context, hidden=hidden, transforms=transforms, bins=bins, passes=passes)
        self.noise_dim = N_CHAIN + 1
        width = hidden[-1] if hidden else N_CONTEXT_IN
        self.offsets = None  # the plain encoder's learned azimuth offsets: replaced by the assignment's reference
        self.head_event = nn.Linear(width, _HEAD)
        self.head_assignment = nn.Linear(N_ASSIGNMENT_FEATURES, _HEAD)
        self.head = nn.Sequential(nn.SiLU(), nn.Linear(_HEAD, _HEAD), nn.SiLU(), nn.Linear(_HEAD, 1))
        self.assigned_context = nn.Linear(N_ASSIGNMENT_FEATURES + N_CHAIN, context)
        self.affine = nn.Linear(width + N_ASSIGNMENT_FEATURES + N_CHAIN, 2 * N_CHAIN)
        self.affine.zero_init = True  # starts as the identity

    # ---- the assignment ------------------------------------------------------------------------------------------

    def _event(self, x_gev: torch.Tensor):
        """Rotated events (electron at φ = 0), the electron azimuth ``(n,)``, the trunk's hidden features and the
        assignment features ``(n, 48, 9)``."""
        x_gev = x_gev.float()
        phi_e = torch.atan2(x_gev[:, 1], x_gev[:, 0])
        x_rot = rotate(x_gev, -phi_e)
        h = context_features(x_rot)
        for layer in self.embedding[:-1]:
            h = layer(h)
        return x_rot, phi_e, h, assignment_features(x_rot)

    def assignment_logits(self, h: torch.Tensor, features: torch.Tensor) -> torch.Tensor:
        """Unnormalised log π(a | x) ``(n, 48)`` from the trunk's features ``(n, width)`` and the assignment
        features ``(n, 48, 9)``."""
        joint = self.head_event(h)[:, None, :] + self.head_assignment(features)
        return self.head(joint).squeeze(-1)

    def assignment_probabilities(self, x_gev: torch.Tensor) -> torch.Tensor:
        """π(a | x) ``(n, 48)`` of detector events ``x_gev`` ``(n, 24)`` [GeV] (classes as
        :mod:`~turbosim_hep.model.jet_assignment`)."""
        _, _, h, features = self._event(x_gev)
        return torch.softmax(self.assignment_logits(h, features), dim=-1)

    # ---- the coordinates given an assignment (the hooks a subclass replaces) ------------------------------------

    def _reference(self, partons: torch.Tensor):
        """(what the coordinates are measured from, its flow coordinates ``(n, 16)``) of the reference event
        ``partons`` ``(n, 24)``: here its decay chain."""
        reference = partons_to_chain(partons)
        return reference, chain_coordinates(reference)

    def _coordinates_of(self, z_rot: torch.Tensor, partons: torch.Tensor, reference) -> torch.Tensor:
        """Flow coordinates ``(n, 16)`` of rotated partons ``z_rot`` ``(n, 24)`` [GeV] given the reference."""
        return _relative(partons_to_chain(z_rot, reference=partons), reference)

    def _partons_at(self, u: torch.Tensor, partons: torch.Tensor, reference) -> torch.Tensor:
        """Rotated partons ``(n, 24)`` [GeV] at flow coordinates ``u`` ``(n, 16)``: the inverse of
        :meth:`_coordinates_of`."""
        return chain_to_partons(_absolute(u, reference), reference=partons)

    def _given(self, x_rot, h, features, assignment):
        """(flow distribution, reference, reference event ``(n, 24)``, shift and log scale ``(n, 16)``) given an
        assignment."""
        rows = torch.arange(len(x_rot), device=x_rot.device)
        f = features[rows, assignment]
        partons = reference_partons(x_rot.double(), assignment)
        reference, ref_in = self._reference(partons)
        ref_in = torch.cat([f, torch.nan_to_num(ref_in.float().clamp(-U_MAX, U_MAX))], dim=-1)
        shift, log_scale = self.affine(torch.cat([h, ref_in], dim=-1)).chunk(2, dim=-1)
        log_scale = _MAX_LOG_SCALE * torch.tanh(log_scale / _MAX_LOG_SCALE)
        context = self.embedding[-1](h) + self.assigned_context(ref_in)
        return self.flow(context), reference, partons, shift, log_scale

    # ---- sampling and density ------------------------------------------------------------------------------------

    def _flow_draw(self, x_gev: torch.Tensor, noise: torch.Tensor | None):
        """(flow coordinates ``(n, 16)``, reference event, reference, electron azimuth ``(n,)``) of one posterior draw
        per detector event ``x_gev`` ``(n, 24)`` [GeV] from the keyed normals ``noise`` ``(n, 17)``."""
        if noise is None:
            noise = torch.randn(x_gev.shape[0], self.noise_dim, device=x_gev.device)
        x_rot, phi_e, h, features = self._event(x_gev)
        probs = torch.softmax(self.assignment_logits(h, features), dim=-1)
        uniform = torch.special.ndtr(noise[:, N_CHAIN].float())
        assignment = (probs.cumsum(-1) < uniform[:, None]).sum(-1).clamp(max=N_ASSIGNMENTS - 1)
        dist, reference, partons, shift, log_scale = self._given(x_rot, h, features, assignment)
        u = dist.transform.inv(noise[:, :N_CHAIN].float()) * torch.exp(log_scale) + shift
        return u, partons, reference, phi_e

    def sample_gev(self, x_gev: torch.Tensor, noise: torch.Tensor | None = None) -> torch.Tensor:
        """One posterior draw of partons [GeV] ``(n, 24)`` per detector event ``x_gev`` ``(n, 24)``, from the keyed
        normals ``noise`` ``(n, 17)`` (``None``: fresh ones)."""
        u, partons, reference, phi_e = self._flow_draw(x_gev, noise)
        z = self._partons_at(u, partons, reference)
        return rotate(z, phi_e.double()).float()

    def log_prob_gev(self, z_gev: torch.Tensor, x_gev: torch.Tensor) -> torch.Tensor:
        """log π(a* | x) + log q(chain(z) | x, a*) ``(n,)`` at the truth's assignment a*(z, x), both ``(n, 24)``
        GeV (flow coordinates: a weight-independent Jacobian from the chain variables' density)."""
        x_rot, phi_e, h, features = self._event(x_gev)
        z_rot = rotate(z_gev.double(), -phi_e.double())
        assignment = truth_assignment(z_rot, x_rot.double())
        log_pi = torch.log_softmax(self.assignment_logits(h, features), dim=-1)
        log_pi = log_pi[torch.arange(len(z_gev), device=z_gev.device), assignment]
        dist, reference, partons, shift, log_scale = self._given(x_rot, h, features, assignment)
        u = self._coordinates_of(z_rot, partons, reference).float()
        return log_pi + dist.log_prob((u - shift) * torch.exp(-log_scale)) - log_scale.sum(-1)
