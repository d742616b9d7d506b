"""The eight loss terms of Turbo-Sim as plain functions of tensors (arXiv:2112.10629, its eq. for ℒ_Turbo).

Generated samples (all in normalised units, shape ``(n, 24)``): ``z_tilde`` = E(x), ``x_hat`` = D(E(x)),
``x_tilde`` = D(z), ``z_hat`` = E(D(z)). Supervised terms compare a generated sample with the true sample *of the
same events* (row i with row i; the paper's code compared permuted, unrelated events); adversarial terms ask the
critic of that sample. Every term returned here is a term that trains (the paper's code reported four supervised
terms but only back-propagated the last one).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import torch
import torch.nn.functional as F
from torch import nn

from turbosim_hep.model.config import ADVERSARIAL_TERMS, SUPERVISED_TERMS, TurboSimConfig
from turbosim_hep.model.critics import critic_inputs, generator_adversarial_loss
from turbosim_hep.model.observables import jet_observables, response_observables

__all__ = ("energy_score", "loss_terms", "observable_score", "response_score", "supervised_loss", "weighted_total")

_EPS = 1e-8


def _norm(d: torch.Tensor) -> torch.Tensor:
    # the epsilon keeps the gradient finite where two draws coincide
    return torch.sqrt((d * d).sum(dim=-1) + _EPS)


def energy_score(draws: torch.Tensor, target: torch.Tensor, *, block: int | None = None) -> torch.Tensor:
    """Mean energy score of the conditional distributions sampled by ``draws`` ``(k, n, d)`` at ``target`` ``(n, d)``.

    ES = mean_i ‖x̃ᵢ − x‖ − ½ mean_{i≠j} ‖x̃ᵢ − x̃ⱼ‖ per event (Gneiting & Raftery 2007, eq. 22), averaged over
    events. It is strictly proper: its expectation is minimised only when the draws come from the true p(x|z), so,
    unlike a point-wise loss, it rewards the right spread. For an implicit (sampling-only) network it plays the part
    of the likelihood term of the Turbo-Sim bound (arXiv:2112.10629), which needs a density the network lacks.

    With ``block`` (e.g. 4: one four-momentum) the score of each block of ``block`` features (each object's
    conditional distribution) is added to the joint one. The sum is still strictly proper, and it keeps the
    gradient of a well-measured object (a jet, resolution ~0.2 in normalised units) from being drowned in the
    norm of a poorly predictable one (MET pzMiss, ~1): in 24 dimensions the joint score alone barely sees a
    jet's spread.
    """
    k = draws.shape[0]
    if draws.ndim != 3 or k < 2 or draws.shape[1:] != target.shape:
        raise ValueError(
            f"energy score needs draws (k >= 2, n, d) and target (n, d), got {tuple(draws.shape)} and "
            f"{tuple(target.shape)}"
        )
    draws, target = draws.float(), target.float()
    i, j = torch.triu_indices(k, k, offset=1)
    diff_fit, diff_spread = draws - target[None], draws[i] - draws[j]
    score = _norm(diff_fit).mean() - 0.5 * _norm(diff_spread).mean()
    if block:
        d = target.shape[-1]
        if d % block:
            raise ValueError(f"energy score block {block!r} does not divide the {d} features")
        fit = _norm(diff_fit.reshape(*diff_fit.shape[:-1], d // block, block)).mean(dim=(0, 1)).sum()
        spread = _norm(diff_spread.reshape(*diff_spread.shape[:-1], d // block, block)).mean(dim=(0, 1)).sum()
        score = score + fit - 0.5 * spread
    return score


def supervised_loss(
    generated: torch.Tensor, target: torch.Tensor, *, kind: str = "gaussian", block: int | None = None
) -> torch.Tensor:
    """Mean event-wise score of ``generated`` against ``target`` (same events in the same rows).

    ``generated`` is ``(n, d)`` like ``target``, or ``(k, n, d)``: k draws per event. ``kind="gaussian"`` is the
    mean squared error (Gaussian likelihood), ``"laplace"`` the mean absolute error (both averaged over draws and
    minimised by zero spread), ``"energy"`` the :func:`energy_score` (needs k ≥ 2; ``block`` adds the per-object
    scores).
    """
    if generated.shape[-target.ndim :] != target.shape or generated.ndim not in (target.ndim, target.ndim + 1):
        raise ValueError(f"supervised loss needs equal shapes, got {tuple(generated.shape)} and {tuple(target.shape)}")
    if kind == "energy":
        return energy_score(generated if generated.ndim == 3 else generated[None], target, block=block)
    target = target.float().expand_as(generated)
    if kind == "gaussian":
        return F.mse_loss(generated.float(), target)
    if kind == "laplace":
        return F.l1_loss(generated.float(), target)
    raise ValueError(f"supervised loss kind must be 'gaussian', 'laplace' or 'energy', got {kind!r}")


def observable_score(
    draws_gev: torch.Tensor,
    target_gev: torch.Tensor,
    *,
    directions: bool = False,
    shapes: bool = False,
    leptons: bool = False,
    reconstructed: bool = False,
) -> torch.Tensor:
    """Sum over :data:`~turbosim_hep.model.observables.OBSERVABLE_GROUPS` of the energy score of each group of jet
    observables (jet, dijet, trijet masses; with ``directions`` each object's log pT, η, φ; with ``shapes`` each jet's
    log pT, η, m / pT; with ``leptons`` the W's transverse mass, m(e, jet) and m(e, ν, jet); with ``reconstructed``
    the χ² reconstruction's m_W^had, m_t^had, m_t^lep, m_tt jointly) of ``draws_gev`` ``(k, n, 24)`` at ``target_gev``
    ``(n, 24)`` [GeV]."""
    options = {"directions": directions, "shapes": shapes, "leptons": leptons, "reconstructed": reconstructed}
    gen = jet_observables(draws_gev, **options)
    true = jet_observables(target_gev, **options)
    return sum(energy_score(gen[k], true[k]) for k in gen)


def response_score(
    draws_gev: torch.Tensor, target_gev: torch.Tensor, z_gev: torch.Tensor, *, balance: bool = False
) -> torch.Tensor:
    """Sum over :data:`~turbosim_hep.model.observables.RESPONSE_GROUPS` of the energy score of the detector's
    response to the partons ``z_gev`` ``(n, 24)``: draws ``(k, n, 24)`` against the measured ``target_gev``
    ``(n, 24)`` [GeV] (each quark's nearest-jet ΔR and pT ratio, the electron's and the missing pT's residuals; with
    ``balance`` also each object's pT ratio jointly with the missing pT's residual along it)."""
    gen = response_observables(draws_gev, z_gev.expand_as(draws_gev), balance=balance)
    true = response_observables(target_gev, z_gev, balance=balance)
    return sum(energy_score(gen[k], true[k]) for k in gen)


def loss_terms(
    samples: Mapping[str, torch.Tensor],
    *,
    config: TurboSimConfig,
    critics: Mapping[str, nn.Module],
    x_to_gev: Callable[[torch.Tensor], torch.Tensor] | None = None,
    z_to_gev: Callable[[torch.Tensor], torch.Tensor] | None = None,
    terms: tuple[str, ...] | None = None,
) -> dict[str, torch.Tensor]:
    """Unweighted value of every active term, keyed by weight name (``"l_z_ztilde"``, ``"d_xtilde"``, ...).

    ``samples`` holds ``z`` and ``x`` (true, paired, ``(n, 24)``) and the generated samples the active terms need,
    ``(k, n, 24)`` (k draws per event); ``critics`` maps a generated sample's name to its critic, which sees every
    draw. With ``config.energy_observables > 0`` an energy-score term on X also scores the jet observables
    (:func:`observable_score`, weighted by it), and with ``config.energy_response > 0`` ℒ(x, x̃) also scores the
    response to the event's partons (:func:`response_score`); ``x_to_gev``, ``z_to_gev`` map normalised X, Z to
    GeV. ``terms``: the terms to compute (default: every active one).
    """
    out: dict[str, torch.Tensor] = {}
    for term in config.active_terms if terms is None else terms:
        if term in SUPERVISED_TERMS:
            generated, true = SUPERVISED_TERMS[term]
            kind = config.supervised_kind(term)
            out[term] = supervised_loss(samples[generated], samples[true], kind=kind, block=config.energy_block or None)
            if kind == "energy" and true == "x" and config.energy_observables > 0:
                if x_to_gev is None:
                    raise ValueError("scoring the jet observables needs x_to_gev (normalised X -> GeV)")
                obs = observable_score(
                    x_to_gev(samples[generated]),
                    x_to_gev(samples[true]),
                    directions=config.energy_directions,
                    shapes=config.energy_jet_shapes,
                    leptons=config.energy_leptons,
                    reconstructed=config.energy_reconstructed,
                )
                out[term] = out[term] + config.energy_observables * obs
            if kind == "energy" and term == "l_x_xtilde" and config.energy_response > 0:
                if x_to_gev is None or z_to_gev is None:
                    raise ValueError("scoring the response needs x_to_gev and z_to_gev (normalised -> GeV)")
                resp = response_score(
                    x_to_gev(samples[generated]),
                    x_to_gev(samples[true]),
                    z_to_gev(samples["z"]),
                    balance=config.energy_met_balance,
                )
                out[term] = out[term] + config.energy_response * resp
        else:
            generated, _ = ADVERSARIAL_TERMS[term]
            fake = critic_inputs(critics[generated], generated, samples[generated], samples)
            out[term] = generator_adversarial_loss(
                critics[generated], fake.reshape(-1, fake.shape[-1]), mode=config.critic_mode
            )
    return out


def weighted_total(terms: Mapping[str, torch.Tensor], config: TurboSimConfig) -> torch.Tensor:
    """Σ weight × term over ``terms`` (keyed by weight name)."""
    if not terms:
        raise ValueError("no active loss terms to sum")
    return sum(config.weight(name) * value for name, value in terms.items())
