"""Critics of Turbo-Sim's adversarial terms: MLPs 24 -> 256 -> 128 -> 64 -> 1 (arXiv:2112.10629).

Two modes, chosen by :attr:`TurboSimConfig.critic_mode`:

- ``"wasserstein"``: the critic's score estimates the Wasserstein-1 potential (WGAN-GP, Gulrajani et al.,
  arXiv:1704.00028); the critic minimises ``E[D(fake)] - E[D(real)] + λ_gp E[(|∇D(mix)| - 1)²]`` and the generator
  minimises ``-E[D(fake)]``.
- ``"density-ratio"``: the score is a logit of "real"; the critic minimises the binary cross-entropy, the generator
  the non-saturating ``BCE(D(fake), real)``. No gradient penalty.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = (
    "ConditionalCritic",
    "Critic",
    "critic_loss",
    "generator_adversarial_loss",
    "gradient_penalty",
    "with_condition",
    "critic_inputs",
    "CONDITIONED",
)


class Critic(nn.Module):
    """MLP critic: ``(n, in_features)`` -> scores ``(n,)``, ReLU hidden layers, linear output.

    Arguments
    ---------
    in_features
        Input width (24).
    hidden
        Hidden widths; the paper's ``(256, 128, 64)``.
    """

    def __init__(self, in_features: int = 24, *, hidden: tuple[int, ...] = (256, 128, 64)) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        width = in_features
        for h in hidden:
            layers += [nn.Linear(width, h), nn.ReLU()]
            width = h
        layers.append(nn.Linear(width, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return self.net(inputs).squeeze(-1)


def gradient_penalty(
    critic: nn.Module, real: torch.Tensor, fake: torch.Tensor, *, generator: torch.Generator | None = None
) -> torch.Tensor:
    """WGAN-GP penalty ``E[(|∇D(mix)| - 1)²]`` on random mixtures of ``real`` and ``fake`` ``(n, k)``, in float32."""
    alpha = torch.rand(real.shape[0], 1, generator=generator, device=real.device, dtype=torch.float32)
    mix = (alpha * real.float() + (1 - alpha) * fake.float()).requires_grad_(True)
    with torch.autocast(device_type=real.device.type, enabled=False):
        scores = critic(mix)
        (grad,) = torch.autograd.grad(scores.sum(), mix, create_graph=True)
    return ((grad.norm(dim=1) - 1.0) ** 2).mean()


def critic_loss(
    critic: nn.Module,
    real: torch.Tensor,
    fake: torch.Tensor,
    *,
    mode: str = "wasserstein",
    gp_weight: float = 1000.0,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """The loss the critic minimises, for true samples ``real`` and detached generated samples ``fake``."""
    real_scores = critic(real).float()
    fake_scores = critic(fake).float()
    if mode == "wasserstein":
        loss = fake_scores.mean() - real_scores.mean()
        if gp_weight > 0:
            loss = loss + gp_weight * gradient_penalty(critic, real, fake, generator=generator)
        return loss
    if mode == "density-ratio":
        return F.binary_cross_entropy_with_logits(
            real_scores, torch.ones_like(real_scores)
        ) + F.binary_cross_entropy_with_logits(fake_scores, torch.zeros_like(fake_scores))
    raise ValueError(f"critic mode must be 'wasserstein' or 'density-ratio', got {mode!r}")


def generator_adversarial_loss(critic: nn.Module, fake: torch.Tensor, *, mode: str = "wasserstein") -> torch.Tensor:
    """The adversarial loss the generator minimises for its samples ``fake`` (gradients flow into ``fake``)."""
    scores = critic(fake).float()
    if mode == "wasserstein":
        return -scores.mean()
    if mode == "density-ratio":
        return F.binary_cross_entropy_with_logits(scores, torch.ones_like(scores))
    raise ValueError(f"critic mode must be 'wasserstein' or 'density-ratio', got {mode!r}")


class ConditionalCritic(nn.Module):
    """A critic of pairs D(x | z): the detector event beside its parton event, with physics features computed in torch.

    Its input is ``(n, 48)``: normalised x then normalised z. It scores them together with the jet, dijet and trijet
    masses and the directions of x (:func:`~turbosim_hep.model.observables.jet_observables`) and the ΔR of every
    (jet, quark) pair, the features the scorecard's pair classifier sees: a critic of the marginal p(x) cannot tell
    whether x̃ follows *its* z.
    """

    conditional = True

    def __init__(self, *, hidden: tuple[int, ...] = (256, 128, 64)) -> None:
        super().__init__()
        self.net = Critic(48 + 34 + 16, hidden=hidden)
        for name, size in (("z_mean", 24), ("z_std", 24), ("x_mean", 24), ("x_std", 24)):
            self.register_buffer(name, torch.zeros(size) if "mean" in name else torch.ones(size), persistent=False)

    def set_normalisation(self, z_mean, z_std, x_mean, x_std) -> None:
        for name, value in (("z_mean", z_mean), ("z_std", z_std), ("x_mean", x_mean), ("x_std", x_std)):
            getattr(self, name).copy_(torch.as_tensor(value, dtype=torch.float32))

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        from turbosim_hep.model.observables import jet_observables, object_direction

        x_gev = inputs[..., :24] * self.x_std + self.x_mean
        z_gev = inputs[..., 24:] * self.z_std + self.z_mean
        observables = jet_observables(x_gev, directions=True)
        jets = x_gev.reshape(-1, 6, 4)[:, 2:]
        quarks = z_gev.reshape(-1, 6, 4)[:, 2:]

        _, je, jc, js = object_direction(jets).unbind(-1)
        _, qe, qc, qs = object_direction(quarks).unbind(-1)
        # 1 - cos Δφ instead of Δφ²: smooth everywhere, so the gradient penalty stays well defined
        cos_dphi = jc[:, :, None] * qc[:, None] + js[:, :, None] * qs[:, None]
        dr2 = (je[:, :, None] - qe[:, None]) ** 2 + 2.0 * (1.0 - cos_dphi)
        features = torch.cat([inputs, *observables.values(), torch.log1p(dr2.reshape(-1, 16))], dim=-1)
        return self.net(features)


#: Generated samples a conditional critic can judge, with what it reads beside them: D(x̃ | z) and D(z̃ | x).
CONDITIONED: dict[str, str] = {"x_tilde": "z", "z_tilde": "x"}


def with_condition(
    critic: nn.Module, samples: torch.Tensor, condition: torch.Tensor, *, detector: bool = True
) -> torch.Tensor:
    """What ``critic`` reads of ``samples`` ``(n, 24)`` or ``(k, n, 24)``: the samples themselves, or for a
    :class:`ConditionalCritic` the (detector, parton) pair ``(..., 48)``: ``samples`` beside their parton events
    ``condition`` ``(n, 24)`` when they are detector events (``detector``), else the detector events ``condition``
    beside the parton ``samples`` (D(z̃ | x))."""
    if not getattr(critic, "conditional", False):
        return samples
    condition = condition.expand(*samples.shape[:-1], condition.shape[-1])
    return torch.cat([samples, condition] if detector else [condition, samples], dim=-1)


def critic_inputs(critic: nn.Module, name: str, sample: torch.Tensor, samples: dict) -> torch.Tensor:
    """:func:`with_condition` for the generated (or true) ``sample`` standing for ``name`` (``"x_tilde"``, ...),
    conditioned on the true side :data:`CONDITIONED` names from ``samples`` (which holds ``"z"`` and ``"x"``)."""
    side = CONDITIONED.get(name, "z")
    return with_condition(critic, sample, samples[side], detector=side == "z")
