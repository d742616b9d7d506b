"""The Turbo-Sim model: encoder E (x -> z), decoder D (z -> x) and the critics its config switches on.

All tensors here are in normalised units (per-feature standardisation, :mod:`turbosim_hep.model.normalisation`);
shapes ``(n, 24)``. ``model.decoder(z, noise)`` simulates, ``model.encoder(x, noise)`` unfolds; both are
:class:`~turbosim_hep.model.networks.StochasticMLP` with a ``noise_dim``.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from turbosim_hep.constants import N_FEATURES
from turbosim_hep.model.assigned_flow_encoder import AssignedFlowEncoder
from turbosim_hep.model.config import ADVERSARIAL_TERMS, SUPERVISED_TERMS, TurboSimConfig
from turbosim_hep.model.critics import CONDITIONED, ConditionalCritic, Critic, critic_inputs, critic_loss
from turbosim_hep.model.decay_chain import N_CHAIN
from turbosim_hep.model.electron_flow_encoder import ElectronFlowEncoder
from turbosim_hep.model.flow_encoder import FlowEncoder
from turbosim_hep.model.lab_flow_encoder import LabFlowEncoder
from turbosim_hep.model.losses import loss_terms, weighted_total
from turbosim_hep.model.networks import StochasticMLP
from turbosim_hep.model.physics_decoder import PhysicsDecoder, lost_quarks
from turbosim_hep.simulation.phase_space import PhaseSpaceBounds
from turbosim_hep.simulation.redraw import draw_inside

__all__ = ("TurboSim", "needed_samples")

#: Draws per event a truncated decoder may take in training (the rare event still outside keeps its last draw).
TRAINING_REDRAWS = 4

#: With a flow encoder these terms are its likelihood, -log q(z | x) and -log q(z | D(z)): the sample they need.
_LIKELIHOOD_TERMS = {"l_z_ztilde": None, "l_z_zhat": "x_tilde"}

#: Terms whose generated sample depends on the decoder alone (nothing to train when it is frozen).
_DECODER_ONLY_TERMS = ("l_x_xtilde", "d_xtilde")
#: Terms whose generated sample depends on the encoder alone.
_ENCODER_ONLY_TERMS = ("l_z_ztilde", "d_ztilde")

_SAMPLE_DEPS = {"z_tilde": (), "x_hat": ("z_tilde",), "x_tilde": (), "z_hat": ("x_tilde",)}


def needed_samples(targets: tuple[str, ...]) -> tuple[str, ...]:
    """The generated samples to compute for ``targets`` (names), dependencies included, in computation order."""
    need = set(targets)
    for t in targets:
        need.update(_SAMPLE_DEPS[t])
    return tuple(s for s in _SAMPLE_DEPS if s in need)


class TurboSim(nn.Module):
    """Encoder, decoder and critics of one Turbo-Sim configuration.

    Arguments
    ---------
    config
        The run's :class:`~turbosim_hep.model.config.TurboSimConfig` (defaults: the paper's model).
    generator
        Source of the initial weights; ``None`` seeds one from ``config.seed``.
    """

    def __init__(self, config: TurboSimConfig | None = None, *, generator: torch.Generator | None = None) -> None:
        super().__init__()
        self.config = config = config or TurboSimConfig()
        noise = {
            "input_noise": config.input_noise,
            "noise_features": config.noise_features,
            "layer_noise": config.layer_noise,
            "layer_noise_init": config.layer_noise_init,
        }
        if config.encoder_kind == "flow":
            flow = FlowEncoder
            if config.flow_assignment:
                flow = LabFlowEncoder if config.flow_lab else AssignedFlowEncoder
                flow = ElectronFlowEncoder if config.flow_electron else flow
            self.encoder = flow(
                context=config.flow_context,
                hidden=config.flow_hidden,
                transforms=config.flow_transforms,
                passes=config.flow_passes,
            )
        else:
            self.encoder = StochasticMLP(N_FEATURES, N_FEATURES, hidden=config.encoder_hidden, **noise)
        if config.decoder_kind == "physics":
            self.decoder = PhysicsDecoder(
                context_dim=config.physics_context,
                hidden=config.physics_hidden,
                object_noise=config.object_noise,
                event_noise=config.event_noise,
                phase_space=(
                    PhaseSpaceBounds.from_card(scaled_jet_threshold=config.scaled_jet_threshold)
                    if config.truncate
                    else None
                ),
                redraw_attempts=config.redraw_attempts,
                radiation=config.radiation,
                jet_mass_bound=config.jet_mass_bound,
                met_per_object=config.met_per_object,
            )
        else:
            self.decoder = StochasticMLP(N_FEATURES, N_FEATURES, hidden=config.decoder_hidden, **noise)
        self.critics = nn.ModuleDict(
            {
                name: ConditionalCritic(hidden=config.critic_hidden)
                if config.conditional_critic and name in CONDITIONED
                else Critic(N_FEATURES, hidden=config.critic_hidden)
                for name in config.active_critics
            }
        )
        self.register_buffer("x_mean", torch.zeros(N_FEATURES), persistent=False)
        self.register_buffer("x_std", torch.ones(N_FEATURES), persistent=False)
        self.register_buffer("z_mean", torch.zeros(N_FEATURES), persistent=False)
        self.register_buffer("z_std", torch.ones(N_FEATURES), persistent=False)
        if generator is None:
            generator = torch.Generator().manual_seed(config.seed)
        _initialise(self, generator)

    def set_normalisation(self, z_mean, z_std, x_mean, x_std) -> None:
        """Store the per-feature normalisation ``(24,)`` [GeV]: the physics decoder's interface and the GeV
        observables of the training scores need it (not saved in the state dict: checkpoints hold it already)."""
        with torch.no_grad():
            self.x_mean.copy_(torch.as_tensor(x_mean, dtype=torch.float32))
            self.x_std.copy_(torch.as_tensor(x_std, dtype=torch.float32))
            self.z_mean.copy_(torch.as_tensor(z_mean, dtype=torch.float32))
            self.z_std.copy_(torch.as_tensor(z_std, dtype=torch.float32))
            for net in (self.encoder, self.decoder, *self.critics.values()):
                if isinstance(net, FlowEncoder | PhysicsDecoder | ConditionalCritic):
                    net.set_normalisation(z_mean, z_std, x_mean, x_std)

    def x_to_gev(self, x: torch.Tensor) -> torch.Tensor:
        """Normalised X ``(..., 24)`` to GeV."""
        return x * self.x_std + self.x_mean

    def z_to_gev(self, z: torch.Tensor) -> torch.Tensor:
        """Normalised Z ``(..., 24)`` to GeV."""
        return z * self.z_std + self.z_mean

    def generator_parameters(self) -> list[nn.Parameter]:
        """Parameters of the encoder and decoder (what the generator optimiser updates)."""
        return [*self.encoder.parameters(), *self.decoder.parameters()]

    def _noise(self, net: nn.Module, n: int, like: torch.Tensor, generator: torch.Generator | None):
        return torch.randn(n, net.noise_dim, generator=generator, device=like.device, dtype=torch.float32)

    def _decode(self, z: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        """D(z) in normalised units. A truncated physics decoder first finds, without gradients, noise whose draw lies
        in the phase space (fresh noise for the events outside, up to :data:`TRAINING_REDRAWS` draws each), then
        decodes once with it: training scores the truncated draws at 1.5x the cost of an untruncated step, where
        back-propagating through every redraw cost 2x."""
        decoder = self.decoder
        noise = self._noise(decoder, len(z), z, generator)
        if getattr(decoder, "phase_space", None) is None:
            return decoder(z, noise)
        z_gev = z.detach() * decoder.z_std + decoder.z_mean
        redrawn: list[tuple[torch.Tensor, torch.Tensor]] = []

        def draw(rows: torch.Tensor | None, attempt: int) -> torch.Tensor:
            if rows is None:
                return decoder.simulate_gev(z_gev, noise)
            fresh = self._noise(decoder, len(rows), z, generator)
            redrawn.append((rows, fresh))
            return decoder.simulate_gev(z_gev[rows], fresh)

        with torch.no_grad():
            draw_inside(draw, len(z), decoder.phase_space, attempts=TRAINING_REDRAWS)
        for rows, fresh in redrawn:  # later attempts overwrite earlier ones: each event keeps its last draw's noise
            noise[rows] = fresh
        return decoder(z, noise)

    def draw_samples(
        self,
        z: torch.Tensor,
        x: torch.Tensor,
        which: tuple[str, ...],
        *,
        draws: int = 1,
        generator: torch.Generator | None = None,
    ) -> dict[str, torch.Tensor]:
        """``z``, ``x`` ``(n, 24)`` and ``draws`` draws of each generated sample in ``which`` (plus what they depend
        on), ``(draws, n, 24)``; each draw of x̂ (ẑ) is decoded (encoded) from the same draw of z̃ (x̃)."""
        out = {"z": z, "x": x}
        n = z.shape[0]
        rows = n * draws
        flat = {"z": z.repeat(draws, 1), "x": x.repeat(draws, 1)}
        for name in needed_samples(which):
            if name == "z_tilde":
                flat[name] = self.encoder(flat["x"], self._noise(self.encoder, rows, x, generator))
            elif name == "x_hat":
                flat[name] = self._decode(flat["z_tilde"], generator)
            elif name == "x_tilde":
                flat[name] = self._decode(flat["z"], generator)
            else:
                flat[name] = self.encoder(flat["x_tilde"], self._noise(self.encoder, rows, z, generator))
            out[name] = flat[name].reshape(draws, n, -1)
        return out

    def samples(
        self, z: torch.Tensor, x: torch.Tensor, which: tuple[str, ...], *, generator: torch.Generator | None = None
    ) -> dict[str, torch.Tensor]:
        """``z``, ``x`` and one draw of the generated samples in ``which`` (plus what they depend on), ``(n, 24)``."""
        out = self.draw_samples(z, x, which, draws=1, generator=generator)
        return {k: v[0] if v.ndim == 3 else v for k, v in out.items()}

    def generator_loss(
        self, z: torch.Tensor, x: torch.Tensor, *, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Weighted total and unweighted active terms for a batch of true pairs ``z``, ``x`` ``(n, 24)``."""
        terms = self.config.active_terms
        if self.config.freeze_decoder:  # x̃ = D(z) has nothing left to train: skip its terms
            terms = tuple(t for t in terms if t not in _DECODER_ONLY_TERMS)
        if self.config.freeze_encoder:  # z̃ = E(x) likewise
            terms = tuple(t for t in terms if t not in _ENCODER_ONLY_TERMS)
        likelihood = _LIKELIHOOD_TERMS if self.config.encoder_kind == "flow" else {}
        sampled = tuple(t for t in terms if t not in likelihood)
        which = tuple({**SUPERVISED_TERMS, **ADVERSARIAL_TERMS}[t][0] for t in sampled)
        which += tuple(likelihood[t] for t in terms if t in likelihood and likelihood[t])
        samples = self.draw_samples(z, x, which, draws=self.config.draws, generator=generator)
        values = loss_terms(
            samples, config=self.config, critics=self.critics, x_to_gev=self.x_to_gev, z_to_gev=self.z_to_gev,
            terms=sampled,
        )  # fmt: skip
        if "l_z_ztilde" in likelihood and "l_z_ztilde" in terms:
            values["l_z_ztilde"] = self.flow_nll(z, x)
        if "l_z_zhat" in likelihood and "l_z_zhat" in terms:
            x_tilde = samples["x_tilde"]
            values["l_z_zhat"] = self.flow_nll(z.repeat(len(x_tilde), 1), x_tilde.reshape(-1, x_tilde.shape[-1]))
        total = weighted_total(values, self.config)
        if getattr(self.decoder, "radiation", False):
            # the lost-quark head has its own parameters: its cross-entropy trains it alone, at weight 1
            dec = self.decoder
            z_gev, x_gev = z * dec.z_std + dec.z_mean, x * dec.x_std + dec.x_mean
            labels = lost_quarks(z_gev, x_gev)
            values["lost_quarks"] = F.binary_cross_entropy_with_logits(dec.lost_logits(z_gev), labels)
            total = total + values["lost_quarks"]
        return total, values

    def flow_nll(self, z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Mean negative log-likelihood per chain variable, -log q_φ(z|x) / 16, of a flow encoder at the pairs
        ``z``, ``x`` ``(n, 24)`` (normalised): the likelihood terms ℒ(z, z̃) (x measured) and ℒ(z, ẑ) (x = D(z))."""
        return -self.encoder.log_prob(z, x).mean() / N_CHAIN

    def critic_loss(
        self, z: torch.Tensor, x: torch.Tensor, *, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Summed loss of all critics (generated samples detached) and each critic's loss, keyed by sample name."""
        if not self.critics:
            raise ValueError("this configuration has no adversarial term, so no critic to train")
        with torch.no_grad():
            samples = self.draw_samples(z, x, tuple(self.critics), draws=self.config.draws, generator=generator)
        values = {}
        for name, critic in self.critics.items():
            fake = critic_inputs(critic, name, samples[name], samples)  # (k, n, 24 or 48)
            real = critic_inputs(critic, name, samples[ADVERSARIAL_TERMS["d_" + name.replace("_", "")][1]], samples)
            values[name] = critic_loss(
                critic,
                real.repeat(fake.shape[0], 1),
                fake.reshape(-1, fake.shape[-1]),
                mode=self.config.critic_mode,
                gp_weight=self.config.gp_weight(name),
                generator=generator,
            )
        return sum(values.values()), values


def _initialise(module: nn.Module, generator: torch.Generator) -> None:
    """PyTorch's default Linear initialisation, drawn from ``generator`` (no global RNG); layers marked
    ``zero_init`` (the physics decoder's heads, so that it starts at jets = quarks) start at zero."""
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, nn.Linear):
                bound = 1.0 / math.sqrt(m.in_features)
                m.weight.uniform_(-bound, bound, generator=generator)
                m.bias.uniform_(-bound, bound, generator=generator)
                if getattr(m, "zero_init", False):
                    m.weight.zero_()
                    m.bias.zero_()
