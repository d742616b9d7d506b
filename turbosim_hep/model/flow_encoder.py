"""A generative, on-shell encoder q_φ(z|x): a conditional normalising flow over the t t̄ decay chain.

The flow (``zuko``'s neural spline flow, coupling layers so that sampling and density cost one pass each) models the
16 chain variables of :mod:`turbosim_hep.model.decay_chain` given the detector event x; every draw is turned into six
partons by :func:`~turbosim_hep.model.decay_chain.chain_to_partons`, so unfolded partons are on shell and have the
truth's zero t t̄ pT by construction, and their W and top masses are drawn from the flow's learned line shapes.
Its log density log q_φ(z|x) *is* the likelihood term ℒ(z, z̃) of the Turbo-Sim bound (arXiv:2112.10629), exact
where the MLP encoder's energy score was a stand-in, and the posterior can hold several modes (which jet is which
quark, the two neutrino pz roots).

Coordinates the flow sees (``(n, 16)``, each of order one): log m_tt and y_tt scaled; cos θ through atanh; the
resonance masses through asinh((m − M)/Γ) (a Breit–Wigner core of width one, logarithmic tails); azimuths wrapped
into (−π, π] after subtracting an offset the context network predicts (a rotation of the circle: unit Jacobian, so
the density stays exact) and scaled to (−2, 2]. The event is first rotated so that the detector-level electron lies at
φ = 0 (the physics is invariant under that rotation), and rotated back at the end.

Interface as :class:`~turbosim_hep.model.networks.StochasticMLP`: ``forward(x_norm (n, 24), noise (n, 16))`` →
z normalised ``(n, 24)``, deterministic given the noise (which is the flow's base draw), so keyed noise, batching and
the transform work unchanged; :meth:`FlowEncoder.in_gev` is the GeV view the transform runs.
"""

from __future__ import annotations

import math

import torch
import zuko
from torch import nn

from turbosim_hep.constants import N_FEATURES
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

__all__ = ("FlowEncoder",)

#: Fixed part of the azimuth offsets: the hadronic top lies opposite the electron (rotated to φ = 0).
_PHI_BASE = (math.pi, 0.0, 0.0, 0.0, 0.0)


class _GeVView(nn.Module):
    """The encoder in GeV: ``forward(x [GeV] (n, 24), noise (n, 16)) -> z [GeV] (n, 24)``."""

    physical = True

    def __init__(self, encoder: FlowEncoder) -> None:
        super().__init__()
        self.encoder = encoder
        self.noise_dim = encoder.noise_dim

    def forward(self, x_gev: torch.Tensor, noise: torch.Tensor | None = None) -> torch.Tensor:
        return self.encoder.sample_gev(x_gev, noise)


class FlowEncoder(nn.Module):
    """q_φ(z|x) as a conditional neural spline flow over the decay chain (see the module docstring).

    Arguments
    ---------
    context
        Width of the detector-event embedding the flow is conditioned on.
    hidden
        Hidden widths of the embedding network and of each coupling layer's network.
    transforms
        Number of spline coupling layers.
    bins
        Spline bins per coordinate.
    passes
        Passes each transform takes to invert: 2 (coupling) or 0 (fully autoregressive; sampling costs one pass
        per chain variable).

    Attributes
    ----------
    noise_dim : int
        16: one standard normal per chain variable (the flow's base draw).
    """

    physical = True

    def __init__(
        self,
        *,
        context: int = 128,
        hidden: tuple[int, ...] = (256, 256),
        transforms: int = 6,
        bins: int = 8,
        passes: int = 2,
    ) -> None:
        super().__init__()
        self.noise_dim = N_CHAIN
        layers: list[nn.Module] = []
        width = N_CONTEXT_IN
        for h in hidden:
            layers += [nn.Linear(width, h), nn.SiLU()]
            width = h
        self.embedding = nn.Sequential(*layers, nn.Linear(width, context))
        self.offsets = nn.Linear(width, 2 * len(PHI_COLUMNS))
        self.offsets.zero_init = True  # starts at the fixed offsets
        self.flow = zuko.flows.NSF(
            N_CHAIN,
            context=context,
            bins=bins,
            transforms=transforms,
            passes=passes or None,
            hidden_features=tuple(hidden),
        )
        for name in ("z_mean", "x_mean"):
            self.register_buffer(name, torch.zeros(N_FEATURES), persistent=False)
        for name in ("z_std", "x_std"):
            self.register_buffer(name, torch.ones(N_FEATURES), persistent=False)
        self.register_buffer("phi_base", torch.tensor(_PHI_BASE), persistent=False)

    def set_normalisation(self, z_mean, z_std, x_mean, x_std) -> None:
        """Store the per-feature normalisation ``(24,)`` [GeV] of the normalised interface."""
        for name, value in (("z_mean", z_mean), ("z_std", z_std), ("x_mean", x_mean), ("x_std", x_std)):
            getattr(self, name).copy_(torch.as_tensor(value, dtype=torch.float32))

    def in_gev(self) -> _GeVView:
        """The same network taking and returning GeV (what the transform runs)."""
        return _GeVView(self)

    # ---- coordinates ---------------------------------------------------------------------------------------------

    def _condition(self, x_gev: torch.Tensor):
        """(flow distribution, azimuth offsets ``(n, 5)``, electron azimuth ``(n,)``) of detector events [GeV]."""
        x_gev = x_gev.float()
        phi_e = torch.atan2(x_gev[:, 1], x_gev[:, 0])
        h = context_features(rotate(x_gev, -phi_e))
        for layer in self.embedding[:-1]:
            h = layer(h)
        raw = self.offsets(h).reshape(-1, len(PHI_COLUMNS), 2)
        offsets = self.phi_base + torch.atan2(raw[..., 1], 1.0 + raw[..., 0])
        return self.flow(self.embedding[-1](h)), offsets, phi_e

    @staticmethod
    def _to_flow(chain: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
        chain = chain.float()
        cols = list(chain_coordinates(chain).unbind(-1))
        for k, i in enumerate(PHI_COLUMNS):
            cols[i] = wrap(chain[:, i] - offsets[:, k]) * (2.0 / math.pi)
        return torch.stack(cols, dim=-1)

    @staticmethod
    def _from_flow(u: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
        u = u.double().clamp(-U_MAX, U_MAX)
        cols = list(chain_from_coordinates(u).unbind(-1))
        for k, i in enumerate(PHI_COLUMNS):
            cols[i] = wrap(u[:, i] * (math.pi / 2.0) + offsets[:, k].double())
        return torch.stack(cols, dim=-1)

    # ---- sampling and density ------------------------------------------------------------------------------------

    def sample_gev(self, x_gev: torch.Tensor, noise: torch.Tensor | None = None) -> torch.Tensor:
        """One posterior draw of partons [GeV] ``(n, 24)`` per detector event ``x_gev`` ``(n, 24)``, from the base
        draw ``noise`` ``(n, 16)`` (``None``: fresh standard normals). Differentiable in the weights."""
        if noise is None:
            noise = torch.randn(x_gev.shape[0], self.noise_dim, device=x_gev.device)
        dist, offsets, phi_e = self._condition(x_gev)
        u = dist.transform.inv(noise.float())
        z = chain_to_partons(self._from_flow(u, offsets))
        return rotate(z, phi_e.double()).float()

    def log_prob_gev(self, z_gev: torch.Tensor, x_gev: torch.Tensor) -> torch.Tensor:
        """log q_φ(chain(z) | x) ``(n,)`` of partons ``z_gev`` given detector events ``x_gev`` (both ``(n, 24)`` GeV),
        in the flow's coordinates: it differs from the density in the chain variables by a Jacobian that does not
        depend on the weights, so maximising it is maximum likelihood."""
        dist, offsets, phi_e = self._condition(x_gev)
        chain = partons_to_chain(rotate(z_gev.double(), -phi_e.double()))
        return dist.log_prob(self._to_flow(chain, offsets))

    def forward(self, x: torch.Tensor, noise: torch.Tensor | None = None) -> torch.Tensor:
        """Normalised z ``(n, 24)`` from normalised x ``(n, 24)`` and base noise ``(n, 16)``."""
        z = self.sample_gev(x * self.x_std + self.x_mean, noise)
        return (z - self.z_mean) / self.z_std

    def log_prob(self, z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """:meth:`log_prob_gev` of normalised ``z``, ``x`` ``(n, 24)``."""
        return self.log_prob_gev(z * self.z_std + self.z_mean, x * self.x_std + self.x_mean)
