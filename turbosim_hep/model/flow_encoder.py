"""A generative, on-shell encoder q_φ(z|x): a conditional normalising flow over the t t̄ decay chain.

The flow (``zuko``'s neural spline flow, coupling layers so that sampling and density cost one pass each) models the
16 chain variables of :mod:`turbosim_hep.model.decay_chain` given the detector event x; every draw is turned into six
partons by :func:`~turbosim_hep.model.decay_chain.chain_to_partons`, so unfolded partons are on shell and have the
truth's zero t t̄ pT by construction, and their W and top masses are drawn from the flow's learned line shapes.
Its log density log q_φ(z|x) *is* the likelihood term ℒ(z, z̃) of the Turbo-Sim bound (arXiv:2112.10629), exact
where the MLP encoder's energy score was a stand-in, and the posterior can hold several modes (which jet is which
quark, the two neutrino pz roots).

Coordinates the flow sees (``(n, 16)``, each of order one): the resonance masses through asinh((m − M)/Γ) (a
Breit–Wigner core of width one, logarithmic tails); every other variable minus a shift the context network predicts
from the detector event (for the azimuths a rotation of the circle, wrapped into (−π, π]), then scaled: a shift has a
unit Jacobian, so the density stays exact, and the spline works near the origin, where the jet or electron that
measured the parton puts it. The event is first rotated so that the detector-level electron lies at φ = 0 (the
physics is invariant under that rotation), and rotated back at the end.

Which jet came from which quark is a discrete choice (there is no b-tag): the embedding predicts the probabilities of
the 256 assignments of b, b̄, u, d̄ to the four jets (a merged jet may take two), an event's draw first picks one, and
the flow, told the assignment, models each quark's direction around its jet. Training fits both to the pair's own
assignment (each quark's nearest jet): log p(a|x) + log q(z|x, a).

Interface as :class:`~turbosim_hep.model.networks.StochasticMLP`: ``forward(x_norm (n, 24), noise (n, 17))`` →
z normalised ``(n, 24)``, deterministic given the noise (which is the flow's base draw), so keyed noise, batching and
the transform work unchanged; :meth:`FlowEncoder.in_gev` is the GeV view the transform runs.
"""

from __future__ import annotations

import math

import torch
import zuko
from torch import nn

from turbosim_hep.constants import GAMMA_TOP_GEV, GAMMA_W_GEV, M_TOP_GEV, M_W_GEV, N_FEATURES
from turbosim_hep.model.decay_chain import N_CHAIN, chain_to_partons, partons_to_chain

__all__ = ("FlowEncoder",)

#: Chain columns holding azimuths (each gets a predicted rotation) and resonance masses (asinh line shape).
_PHI = (2, 4, 7, 12, 15)
_MASS = {
    5: (M_W_GEV, GAMMA_W_GEV),
    8: (M_TOP_GEV, GAMMA_TOP_GEV),
    10: (M_TOP_GEV, GAMMA_TOP_GEV),
    13: (M_W_GEV, GAMMA_W_GEV),
}
#: The other columns (u log pT, the pseudorapidities, t̄ rapidity) and their scales; all but the masses are shifted.
#: A scale is about the spread of the variable around its jet (electron): the flow starts near that width.
_SHIFTED = {0: 0.2, 1: 0.1, 3: 0.1, 6: 0.1, 9: 0.5, 11: 0.1, 14: 0.1}
#: Scale of the azimuths around their jet (electron) [rad].
_PHI_SCALE = 0.1
#: Chain columns (η, φ) of the quarks b, b̄, u, d̄ (the order of an assignment) and of the electron.
_QUARK_DIRECTIONS = ((6, 7), (11, 12), (1, 2), (3, 4))
_E_DIRECTION = (14, 15)
#: Jet–quark assignments: one of the four jets for each of b, b̄, u, d̄ (4⁴ = 256, merged quarks share a jet).
N_ASSIGNMENTS = 4**4
#: Flow coordinates are clamped to this range before the inverse maps (a wild draw stays finite; an azimuth at
#: scale 0.1 reaches all of (−π, π] within it).
_U_MAX = 40.0
_U_MASS_MAX = 8.0
#: Detector-level context: engineered features per event.
_N_CONTEXT_IN = 6 * 8 + 6 + 4 + 2


def _wrap(phi: torch.Tensor) -> torch.Tensor:
    return torch.remainder(phi + math.pi, 2.0 * math.pi) - math.pi


def _rotate(v: torch.Tensor, angle: torch.Tensor) -> torch.Tensor:
    """Four-vector blocks of ``v`` ``(n, 24)`` rotated about the beam by ``angle`` ``(n,)``."""
    p = v.reshape(v.shape[0], -1, 4)
    c, s = torch.cos(angle)[:, None], torch.sin(angle)[:, None]
    px, py = p[..., 0] * c - p[..., 1] * s, p[..., 0] * s + p[..., 1] * c
    return torch.stack([px, py, p[..., 2], p[..., 3]], dim=-1).reshape(v.shape)


def _mass(p4: torch.Tensor) -> torch.Tensor:
    m2 = p4[..., 3] ** 2 - (p4[..., :3] ** 2).sum(-1)
    return torch.sqrt(m2.clamp_min(0.0))


def _context_features(x_rot: torch.Tensor) -> torch.Tensor:
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
    masses = [_mass(jets[:, i] + jets[:, j]) for i, j in pairs] + [_mass(jets[:, list(t)].sum(1)) for t in triples]
    masses = torch.log1p(torch.stack(masses, dim=-1))  # (n, 10)
    e, met = p[:, 0], p[:, 1]
    a = 0.5 * M_W_GEV**2 + e[:, 0] * met[:, 0] + e[:, 1] * met[:, 1]
    pt_e2 = (e[:, 0] ** 2 + e[:, 1] ** 2).clamp_min(1e-6)
    met2 = met[:, 0] ** 2 + met[:, 1] ** 2
    disc = (a * a - pt_e2 * met2) * e[:, 3] ** 2
    root = torch.sqrt(disc.clamp_min(0.0))
    nu = torch.stack([(a * e[:, 2] - root) / pt_e2, (a * e[:, 2] + root) / pt_e2], dim=-1)
    return torch.cat([objects, masses, torch.asinh(nu / 100.0)], dim=-1)


def assignment_digits(assignment: torch.Tensor) -> torch.Tensor:
    """Jet index (0-3) of b, b̄, u, d̄ ``(n, 4)`` of assignments ``(n,)`` (base-4 numbers, b the leading digit)."""
    return torch.stack([(assignment // 4 ** (3 - q)) % 4 for q in range(4)], dim=-1)


def assignment_labels(chain: torch.Tensor, x_rot: torch.Tensor) -> torch.Tensor:
    """The assignment ``(n,)`` of partons to jets: each of b, b̄, u, d̄ (directions from the chain ``(n, 16)``) to
    its nearest jet in (η, φ) among the four of ``x_rot`` ``(n, 24)`` (same frame). A lost quark takes its nearest
    jet all the same; two quarks may share one (a merged jet)."""
    jets = x_rot.double().reshape(-1, 6, 4)[:, 2:]
    pt = torch.hypot(jets[..., 0], jets[..., 1]).clamp_min(1e-6)
    eta, phi = torch.asinh(jets[..., 2] / pt), torch.atan2(jets[..., 1], jets[..., 0])
    label = torch.zeros(len(chain), dtype=torch.long, device=chain.device)
    for ci, cj in _QUARK_DIRECTIONS:
        d_eta = chain[:, ci : ci + 1] - eta
        d_phi = _wrap(chain[:, cj : cj + 1] - phi)
        label = label * 4 + torch.argmin(d_eta * d_eta + d_phi * d_phi, dim=1)
    return label


class _GeVView(nn.Module):
    """The encoder in GeV: ``forward(x [GeV] (n, 24), noise (n, 17)) -> z [GeV] (n, 24)``."""

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

    Attributes
    ----------
    noise_dim : int
        17: one standard normal per chain variable (the flow's base draw) and one for the jet–quark assignment.
    """

    physical = True

    def __init__(
        self, *, context: int = 128, hidden: tuple[int, ...] = (256, 256), transforms: int = 6, bins: int = 8
    ) -> None:
        super().__init__()
        self.noise_dim = N_CHAIN + 1
        layers: list[nn.Module] = []
        width = _N_CONTEXT_IN
        for h in hidden:
            layers += [nn.Linear(width, h), nn.SiLU()]
            width = h
        self.embedding = nn.Sequential(*layers, nn.Linear(width, context))
        self.offsets = nn.Linear(width, N_CHAIN)
        self.offsets.zero_init = True  # starts on the assigned jets
        self.assignment = nn.Linear(width, N_ASSIGNMENTS)
        self.flow = zuko.flows.NSF(
            N_CHAIN, context=context + 16, bins=bins, transforms=transforms, passes=2, hidden_features=tuple(hidden)
        )
        for name in ("z_mean", "x_mean"):
            self.register_buffer(name, torch.zeros(N_FEATURES), persistent=False)
        for name in ("z_std", "x_std"):
            self.register_buffer(name, torch.ones(N_FEATURES), persistent=False)

    def set_normalisation(self, z_mean, z_std, x_mean, x_std) -> None:
        """Store the per-feature normalisation ``(24,)`` [GeV] of the normalised interface."""
        for name, value in (("z_mean", z_mean), ("z_std", z_std), ("x_mean", x_mean), ("x_std", x_std)):
            getattr(self, name).copy_(torch.as_tensor(value, dtype=torch.float32))

    def in_gev(self) -> _GeVView:
        """The same network taking and returning GeV (what the transform runs)."""
        return _GeVView(self)

    # ---- coordinates ---------------------------------------------------------------------------------------------

    def _embed(self, x_gev: torch.Tensor):
        """(hidden embedding ``(n, width)``, assignment logits ``(n, 256)``, rotated x ``(n, 24)``, electron φ)."""
        x_gev = x_gev.float()
        phi_e = torch.atan2(x_gev[:, 1], x_gev[:, 0])
        x_rot = _rotate(x_gev, -phi_e)
        h = _context_features(x_rot)
        for layer in self.embedding[:-1]:
            h = layer(h)
        return h, self.assignment(h), x_rot, phi_e

    def _condition(self, h: torch.Tensor, x_rot: torch.Tensor, assignment: torch.Tensor):
        """(flow distribution, shifts ``(n, 16)``) given an assignment ``(n,)`` (int, base-4 digits b b̄ u d̄)."""
        digits = assignment_digits(assignment)  # (n, 4) jet index of b, bbar, u, dbar
        jets = x_rot.reshape(-1, 6, 4)[:, 2:]
        pt = torch.hypot(jets[..., 0], jets[..., 1]).clamp_min(1e-6)
        eta, phi = torch.asinh(jets[..., 2] / pt), torch.atan2(jets[..., 1], jets[..., 0])
        shifts = self.offsets(h).clone()
        for q, (ci, cj) in enumerate(_QUARK_DIRECTIONS):
            j = digits[:, q : q + 1]
            shifts[:, ci] = shifts[:, ci] + eta.gather(1, j)[:, 0]
            shifts[:, cj] = shifts[:, cj] + phi.gather(1, j)[:, 0]
        shifts[:, 0] = shifts[:, 0] + torch.log(pt.gather(1, digits[:, 2:3])[:, 0])
        e = x_rot[:, :4]
        shifts[:, _E_DIRECTION[0]] = shifts[:, _E_DIRECTION[0]] + torch.asinh(
            e[:, 2] / torch.hypot(e[:, 0], e[:, 1]).clamp_min(1e-6)
        )
        onehot = torch.nn.functional.one_hot(digits, 4).reshape(len(h), 16).to(h.dtype)
        context = torch.cat([self.embedding[-1](h), onehot], dim=-1)
        return self.flow(context), shifts

    @staticmethod
    def _to_flow(chain: torch.Tensor, shifts: torch.Tensor) -> torch.Tensor:
        cols = list(chain.float().unbind(-1))
        for i in _PHI:
            cols[i] = _wrap(cols[i] - shifts[:, i]) / _PHI_SCALE
        for i, scale in _SHIFTED.items():
            cols[i] = (cols[i] - shifts[:, i]) / scale
        for i, (centre, width) in _MASS.items():
            cols[i] = torch.asinh((cols[i] - centre) / width)
        return torch.stack(cols, dim=-1)

    @staticmethod
    def _from_flow(u: torch.Tensor, shifts: torch.Tensor) -> torch.Tensor:
        cols = list(u.double().clamp(-_U_MAX, _U_MAX).unbind(-1))
        shifts = shifts.double()
        for i in _PHI:
            cols[i] = _wrap(cols[i] * _PHI_SCALE + shifts[:, i])
        for i, scale in _SHIFTED.items():
            cols[i] = cols[i] * scale + shifts[:, i]
        for i, (centre, width) in _MASS.items():
            cols[i] = centre + width * torch.sinh(cols[i].clamp(-_U_MASS_MAX, _U_MASS_MAX))
        return torch.stack(cols, dim=-1)

    # ---- sampling and density ------------------------------------------------------------------------------------

    def sample_gev(self, x_gev: torch.Tensor, noise: torch.Tensor | None = None) -> torch.Tensor:
        """One posterior draw of partons [GeV] ``(n, 24)`` per detector event ``x_gev`` ``(n, 24)``, from the base
        draw ``noise`` ``(n, 17)`` (``None``: fresh standard normals): its last column draws the jet–quark
        assignment (inverse CDF of the predicted probabilities), the others are the flow's base draw.
        Differentiable in the flow's weights (the assignment is a discrete choice)."""
        if noise is None:
            noise = torch.randn(x_gev.shape[0], self.noise_dim, device=x_gev.device)
        noise = noise.float()
        h, logits, x_rot, phi_e = self._embed(x_gev)
        cdf = torch.softmax(logits.detach(), dim=-1).cumsum(-1)
        uniform = 0.5 * (1.0 + torch.erf(noise[:, -1:] / math.sqrt(2.0)))
        assignment = torch.searchsorted(cdf.contiguous(), (uniform * cdf[:, -1:]).contiguous()).clamp(
            max=N_ASSIGNMENTS - 1
        )[:, 0]
        dist, shifts = self._condition(h, x_rot, assignment)
        u = dist.transform.inv(noise[:, :N_CHAIN])
        z = chain_to_partons(self._from_flow(u, shifts))
        return _rotate(z, phi_e.double()).float()

    def log_prob_gev(self, z_gev: torch.Tensor, x_gev: torch.Tensor) -> torch.Tensor:
        """log p(a | x) + log q_φ(chain(z) | x, a) ``(n,)`` of partons ``z_gev`` given detector events ``x_gev``
        (both ``(n, 24)`` GeV), a the jet–quark assignment of the pair (:func:`assignment_labels`): the likelihood of
        the mixture over assignments with each event's own component, a lower bound of log q_φ(z|x) that is
        exact where the components do not overlap. In the flow's coordinates: it differs from the density in the
        chain variables by a Jacobian that does not depend on the weights, so maximising it is maximum likelihood."""
        h, logits, x_rot, phi_e = self._embed(x_gev)
        z_rot = _rotate(z_gev.double(), -phi_e.double())
        chain = partons_to_chain(z_rot)
        assignment = assignment_labels(chain, x_rot)
        dist, shifts = self._condition(h, x_rot, assignment)
        log_p = torch.log_softmax(logits, dim=-1).gather(1, assignment[:, None])[:, 0]
        return log_p + dist.log_prob(self._to_flow(chain, shifts))

    def forward(self, x: torch.Tensor, noise: torch.Tensor | None = None) -> torch.Tensor:
        """Normalised z ``(n, 24)`` from normalised x ``(n, 24)`` and base noise ``(n, 17)``."""
        z = self.sample_gev(x * self.x_std + self.x_mean, noise)
        return (z - self.z_mean) / self.z_std

    def log_prob(self, z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """:meth:`log_prob_gev` of normalised ``z``, ``x`` ``(n, 24)``."""
        return self.log_prob_gev(z * self.z_std + self.z_mean, x * self.x_std + self.x_mean)
