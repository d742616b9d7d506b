"""The Turbo-Sim model: encoder E (x -> z), decoder D (z -> x) and the critics its config switches on.

All tensors here are in normalised units (per-feature standardisation, :mod:`turbosim_hep.model.normalisation`);
shapes ``(n, 24)``. ``model.decoder(z, noise)`` simulates, ``model.encoder(x, noise)`` unfolds; both are
:class:`~turbosim_hep.model.networks.StochasticMLP` with a ``noise_dim``.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from turbosim_hep.constants import N_FEATURES
from turbosim_hep.model.config import ADVERSARIAL_TERMS, SUPERVISED_TERMS, TurboSimConfig
from turbosim_hep.model.critics import Critic, critic_loss
from turbosim_hep.model.losses import loss_terms, weighted_total
from turbosim_hep.model.networks import StochasticMLP

__all__ = ("TurboSim", "needed_samples")

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
        noise = {"input_noise": config.input_noise, "layer_noise": config.layer_noise}
        self.encoder = StochasticMLP(N_FEATURES, N_FEATURES, hidden=config.encoder_hidden, **noise)
        self.decoder = StochasticMLP(N_FEATURES, N_FEATURES, hidden=config.decoder_hidden, **noise)
        self.critics = nn.ModuleDict(
            {name: Critic(N_FEATURES, hidden=config.critic_hidden) for name in config.active_critics}
        )
        if generator is None:
            generator = torch.Generator().manual_seed(config.seed)
        _initialise(self, generator)

    def generator_parameters(self) -> list[nn.Parameter]:
        """Parameters of the encoder and decoder (what the generator optimiser updates)."""
        return [*self.encoder.parameters(), *self.decoder.parameters()]

    def _noise(self, net: StochasticMLP, n: int, like: torch.Tensor, generator: torch.Generator | None):
        return torch.randn(n, net.noise_dim, generator=generator, device=like.device, dtype=torch.float32)

    def samples(
        self, z: torch.Tensor, x: torch.Tensor, which: tuple[str, ...], *, generator: torch.Generator | None = None
    ) -> dict[str, torch.Tensor]:
        """``z``, ``x`` and the generated samples in ``which`` (plus what they depend on)."""
        out = {"z": z, "x": x}
        n = z.shape[0]
        for name in needed_samples(which):
            if name == "z_tilde":
                out[name] = self.encoder(x, self._noise(self.encoder, n, x, generator))
            elif name == "x_hat":
                out[name] = self.decoder(out["z_tilde"], self._noise(self.decoder, n, x, generator))
            elif name == "x_tilde":
                out[name] = self.decoder(z, self._noise(self.decoder, n, z, generator))
            else:
                out[name] = self.encoder(out["x_tilde"], self._noise(self.encoder, n, z, generator))
        return out

    def generator_loss(
        self, z: torch.Tensor, x: torch.Tensor, *, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Weighted total and unweighted active terms for a batch of true pairs ``z``, ``x`` ``(n, 24)``."""
        terms = self.config.active_terms
        which = tuple({**SUPERVISED_TERMS, **ADVERSARIAL_TERMS}[t][0] for t in terms)
        samples = self.samples(z, x, which, generator=generator)
        values = loss_terms(samples, config=self.config, critics=self.critics)
        return weighted_total(values, self.config), values

    def critic_loss(
        self, z: torch.Tensor, x: torch.Tensor, *, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Summed loss of all critics (generated samples detached) and each critic's loss, keyed by sample name."""
        if not self.critics:
            raise ValueError("this configuration has no adversarial term, so no critic to train")
        with torch.no_grad():
            samples = self.samples(z, x, tuple(self.critics), generator=generator)
        values = {}
        for name, critic in self.critics.items():
            real = samples[ADVERSARIAL_TERMS["d_" + name.replace("_", "")][1]]
            values[name] = critic_loss(
                critic,
                real,
                samples[name],
                mode=self.config.critic_mode,
                gp_weight=self.config.gp_weight(name),
                generator=generator,
            )
        return sum(values.values()), values


def _initialise(module: nn.Module, generator: torch.Generator) -> None:
    """PyTorch's default Linear initialisation, drawn from ``generator`` (no global RNG)."""
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, nn.Linear):
                bound = 1.0 / math.sqrt(m.in_features)
                m.weight.uniform_(-bound, bound, generator=generator)
                m.bias.uniform_(-bound, bound, generator=generator)
