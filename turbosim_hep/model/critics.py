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

__all__ = ("Critic", "critic_loss", "generator_adversarial_loss", "gradient_penalty")


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
