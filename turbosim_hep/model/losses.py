"""The eight loss terms of Turbo-Sim as plain functions of tensors (arXiv:2112.10629, its eq. for ℒ_Turbo).

Generated samples (all in normalised units, shape ``(n, 24)``): ``z_tilde`` = E(x), ``x_hat`` = D(E(x)),
``x_tilde`` = D(z), ``z_hat`` = E(D(z)). Supervised terms compare a generated sample with the true sample *of the
same events* (row i with row i; the paper's code compared permuted, unrelated events); adversarial terms ask the
critic of that sample. Every term returned here is a term that trains (the paper's code reported four supervised
terms but only back-propagated the last one).
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
import torch.nn.functional as F
from torch import nn

from turbosim_hep.model.config import ADVERSARIAL_TERMS, SUPERVISED_TERMS, TurboSimConfig
from turbosim_hep.model.critics import generator_adversarial_loss

__all__ = ("loss_terms", "supervised_loss", "weighted_total")


def supervised_loss(generated: torch.Tensor, target: torch.Tensor, *, kind: str = "gaussian") -> torch.Tensor:
    """Mean event-wise distance of ``generated`` to ``target`` (same shape, same events in the same rows).

    ``kind="gaussian"`` is the mean squared error (Gaussian likelihood), ``"laplace"`` the mean absolute error.
    """
    if generated.shape != target.shape:
        raise ValueError(f"supervised loss needs equal shapes, got {tuple(generated.shape)} and {tuple(target.shape)}")
    if kind == "gaussian":
        return F.mse_loss(generated.float(), target.float())
    if kind == "laplace":
        return F.l1_loss(generated.float(), target.float())
    raise ValueError(f"supervised loss kind must be 'gaussian' or 'laplace', got {kind!r}")


def loss_terms(
    samples: Mapping[str, torch.Tensor], *, config: TurboSimConfig, critics: Mapping[str, nn.Module]
) -> dict[str, torch.Tensor]:
    """Unweighted value of every active term, keyed by weight name (``"l_z_ztilde"``, ``"d_xtilde"``, ...).

    ``samples`` holds ``z`` and ``x`` (true, paired) and the generated samples the active terms need;
    ``critics`` maps a generated sample's name to its critic.
    """
    out: dict[str, torch.Tensor] = {}
    for term in config.active_terms:
        if term in SUPERVISED_TERMS:
            generated, true = SUPERVISED_TERMS[term]
            out[term] = supervised_loss(samples[generated], samples[true], kind=config.supervised_loss)
        else:
            generated, _ = ADVERSARIAL_TERMS[term]
            out[term] = generator_adversarial_loss(critics[generated], samples[generated], mode=config.critic_mode)
    return out


def weighted_total(terms: Mapping[str, torch.Tensor], config: TurboSimConfig) -> torch.Tensor:
    """Σ weight × term over ``terms`` (keyed by weight name)."""
    if not terms:
        raise ValueError("no active loss terms to sum")
    return sum(config.weight(name) * value for name, value in terms.items())
