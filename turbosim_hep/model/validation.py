"""Per-epoch validation and the model-selection criterion.

Four criteria (:attr:`TurboSimConfig.selection`), lower is better, all on a fixed, seeded set of validation events,
every generated X with its jets sorted by pT exactly as ``simulate()`` returns them
(:func:`turbosim_hep.events.features.sort_jets`):

- ``"scorecard"`` (default): the ``"physics"`` criterion plus what the scorecard (:mod:`turbosim_hep.evaluation`)
  showed the reported columns miss: the share of x̃ = D(z) outside the detector's phase space beyond the full
  simulation's (:func:`turbosim_hep.evaluation.phase_space.phase_space_violations`), and the pair classifier's
  excess AUC − 0.5 on (z, D(z)) against (z, x) (:func:`turbosim_hep.evaluation.classifiers.heldout_auc` on
  :data:`PAIR_EVENTS` pairs per side from independent halves, :data:`PAIR_ITERATIONS` boosting rounds). A model
  that puts jets below threshold, or whose x̃ does not follow its z, cannot be selected for its marginals. Cost,
  measured on the reference sample's 27.6k validation events with one thread on the development machine (load ≈ 3
  on its two cores): 2.9–3.4 s wall, 2.0–2.3 s CPU per epoch on top of the ``"physics"`` criterion's, against about
  35 s for an epoch of training steps of the physics preset (recorded per epoch as ``seconds.scorecard``).
- ``"physics"``: what users care about. The mean of the ten Table-1 KS columns of arXiv:2112.10629
  (p_y, p_z, E of the parton-level b from z̃ = E(x); p_y, p_z, E of the leading jet and the four reconstructed
  masses m_tt, m_W(had), m_t(lep), m_t(had) from x̃ = D(z)) plus the mean KS of the conditional response
  pT(reco)/pT(parton) over the (object type, parton-pT) bins with at least 200 events
  (:func:`turbosim_hep.evaluation.response.conditional_response`), which no marginal test sees. With the whole
  validation split of the reference sample (27.6k events) each KS carries a statistical noise of about 0.007, and
  their mean about 0.003.
- ``"ks96"``: the paper's sum of 96 marginal KS statistics, 24 features x {z̃, ẑ, x̃, x̂}.
- ``"likelihood"`` (flow encoders only): minus the mean held-out log q_φ(z|x) of the validation events' true partons
  (``encoder_log_q``), the proper score of the unfolding's posterior. It judges the encoder alone: meant for an
  encoder trained beside a fixed decoder (``freeze_decoder``). It and the scorecard's unfolding pair AUC can
  disagree about the best epoch (the shipped model card shows a run where they did).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import torch

from turbosim_hep.model.normalisation import Normalisation
from turbosim_hep.model.turbosim import TurboSim

__all__ = (
    "GROUPS",
    "PAIR_EVENTS",
    "PHYSICS_KEYS",
    "RESPONSE_MIN_EVENTS",
    "physics_ks",
    "scorecard_terms",
    "selection_score",
    "validate",
)

#: Pairs per side of the selection's pair classifier, and its boosting rounds (cost vs noise: AUC spread ≈ 0.007).
PAIR_EVENTS = 10_000
PAIR_ITERATIONS = 100

#: Response bins with fewer full-simulation entries than this are left out of the selection criterion.
RESPONSE_MIN_EVENTS = 200
_Z_COLUMNS = ("b_py", "b_pz", "b_E")
_X_COLUMNS = ("jet1_py", "jet1_pz", "jet1_E")

#: Parton-level masses of the unfolding term of the criterion (keys of ``parton_observables``).
UNFOLDED_MASSES: tuple[str, ...] = ("m_w_had", "m_t_had", "m_w_lep", "m_t_lep", "m_tt")

#: The four generated samples of the selection metric, each with the true sample it is compared with.
GROUPS: dict[str, str] = {"z_tilde": "z", "z_hat": "z", "x_tilde": "x", "x_hat": "x"}
#: The physics columns of Table 1, as keys of ``reconstruct_features``.
PHYSICS_KEYS: tuple[str, ...] = ("m_tt", "m_w_had", "m_t_lep", "m_t_had")


def physics_ks(generated: np.ndarray, truth: np.ndarray, *, level: str = "reco") -> dict[str, float] | None:
    """KS of the reconstructed masses of ``generated`` against ``truth`` ``(n, 24)`` [GeV]; ``None`` if unavailable.

    Uses :func:`turbosim_hep.physics.reconstruction.reconstruct_features`; events with a non-finite mass are left
    out of that mass's comparison.
    """
    from turbosim_hep.evaluation.metrics import ks_statistic

    try:
        from turbosim_hep.physics.reconstruction import reconstruct_features
    except ImportError as err:
        warnings.warn(f"physics columns skipped: {err}", stacklevel=2)
        return None
    gen = reconstruct_features(generated, level=level)
    tru = reconstruct_features(truth, level=level)
    out = {}
    for key in PHYSICS_KEYS:
        a, b = np.asarray(gen[key], dtype=np.float64), np.asarray(tru[key], dtype=np.float64)
        a, b = a[np.isfinite(a)], b[np.isfinite(b)]
        out[key] = ks_statistic(a, b) if len(a) and len(b) else float("nan")
    return out


def _on_shell(z: np.ndarray) -> np.ndarray:
    """Parton events ``(n, 24)`` [GeV] with each energy recomputed from the momentum and the slot's mass."""
    from turbosim_hep.model.decay_chain import PARTON_MASSES_GEV

    p = np.array(z, dtype=np.float64).reshape(len(z), 6, 4)
    masses = np.asarray(PARTON_MASSES_GEV)
    p[..., 3] = np.sqrt((p[..., :3] ** 2).sum(-1) + masses**2)
    return p.reshape(len(z), 24)


def scorecard_terms(
    z: np.ndarray, x: np.ndarray, x_tilde: np.ndarray, *, z_tilde: np.ndarray | None = None, seed: int = 0
) -> dict[str, float]:
    """The scorecard's additions to the criterion: phase-space excess and pair-AUC excess, with their parts.

    ``z``, ``x``, ``x_tilde`` ``(n, 24)`` [GeV] of the same validation events (x̃ jets sorted). Returns
    ``{"phase_space_excess", "outside_model", "outside_full", "pair_auc", "pair_excess", "seconds"}``; with fewer
    than twice :data:`~turbosim_hep.evaluation.classifiers.MIN_CLASSIFIER_EVENTS` events the pair AUC is NaN and
    its excess 0 (no classifier can be held out). With ``z_tilde`` (a generative encoder's draws) also the
    unfolding's pair AUC, (z̃, x) against (z, x), both z put on shell at the parton masses first:
    ``"unfolding_pair_auc"``, ``"unfolding_pair_excess"``.
    """
    import time

    from turbosim_hep.evaluation.classifiers import MIN_CLASSIFIER_EVENTS, classifier_scorecard
    from turbosim_hep.evaluation.metrics import split_halves
    from turbosim_hep.evaluation.phase_space import phase_space_violations

    t0 = time.perf_counter()
    outside_model = phase_space_violations(x_tilde)["outside"]
    outside_full = phase_space_violations(x)["outside"]
    if len(z) < 2 * MIN_CLASSIFIER_EVENTS:
        # too few validation events for a held-out classifier (train warns about such runs): the term is left out
        pair = {"auc": float("nan")}
    else:
        half = split_halves(len(z), seed=seed)
        pair = classifier_scorecard(
            z, x, {"x_tilde": x_tilde}, half, max_events=PAIR_EVENTS, max_iter=PAIR_ITERATIONS, seed=seed,
            tests=("pair_simulation",),
        )["pair_simulation"]  # fmt: skip
        if z_tilde is not None:
            # both on shell at the parton masses: a normalised float32 round trip moves E by ~1e-5 relative, which
            # gives a 0.5 MeV electron a mass of ~0.1 GeV, and the classifier would select on rounding, not physics
            unfolding_pair = classifier_scorecard(
                _on_shell(z), x, {"z_tilde": _on_shell(z_tilde)}, half, max_events=PAIR_EVENTS,
                max_iter=PAIR_ITERATIONS, seed=seed, tests=("pair_unfolding",),
            )["pair_unfolding"]  # fmt: skip
    out = {
        "phase_space_excess": max(outside_model - outside_full, 0.0),
        "outside_model": outside_model,
        "outside_full": outside_full,
        "pair_auc": pair["auc"],
        "pair_excess": max(pair["auc"] - 0.5, 0.0) if np.isfinite(pair["auc"]) else 0.0,
    }
    if z_tilde is not None:
        auc = unfolding_pair["auc"] if len(z) >= 2 * MIN_CLASSIFIER_EVENTS else float("nan")
        out["unfolding_pair_auc"] = auc
        out["unfolding_pair_excess"] = max(auc - 0.5, 0.0) if np.isfinite(auc) else 0.0
    out["seconds"] = time.perf_counter() - t0
    return out


def selection_score(
    z: np.ndarray,
    x: np.ndarray,
    z_tilde: np.ndarray,
    x_tilde: np.ndarray,
    *,
    physics: dict[str, float] | None,
    scorecard: bool = False,
    unfolding: bool = False,
    seed: int = 0,
) -> dict[str, Any]:
    """The ``"physics"`` (or, with ``scorecard``, the ``"scorecard"``) criterion and its parts [GeV inputs].

    From validation truth and one draw of z̃, x̃ (jets sorted). Returns ``{"score", "table1" (10 KS, Table-1 order),
    "table1_mean", "response_mean"}`` and, with ``scorecard``, the terms of :func:`scorecard_terms`. With
    ``unfolding`` (a generative encoder, whose partons are meant to be physical) the mean KS of the unfolded parton
    masses (:data:`UNFOLDED_MASSES`, z̃ against z) is added as ``unfolding_mean``, and with ``scorecard`` also the
    unfolding's pair-AUC excess (``unfolding_pair_excess``: do the unfolded partons follow *their* detector event?):
    a frozen decoder leaves the rest of the criterion nearly constant, and the unfolding is then what is selected.
    """
    from turbosim_hep.constants import X_FEATURES, Z_FEATURES
    from turbosim_hep.evaluation.metrics import ks_statistic
    from turbosim_hep.evaluation.response import conditional_response

    cols = [ks_statistic(z_tilde[:, Z_FEATURES.index(f)], z[:, Z_FEATURES.index(f)]) for f in _Z_COLUMNS]
    cols += [ks_statistic(x_tilde[:, X_FEATURES.index(f)], x[:, X_FEATURES.index(f)]) for f in _X_COLUMNS]
    cols += [float(physics[k]) if physics else float("nan") for k in PHYSICS_KEYS]
    bins = conditional_response(z, x, x_tilde).bins
    resp = [b.ks for b in bins if b.n_full >= RESPONSE_MIN_EVENTS and np.isfinite(b.ks)]
    table_mean = float(np.nanmean(cols))
    resp_mean = float(np.mean(resp)) if resp else 0.0
    out = {"score": table_mean + resp_mean, "table1": cols, "table1_mean": table_mean, "response_mean": resp_mean}
    if unfolding:
        from turbosim_hep.evaluation.features import parton_observables

        gen, true = parton_observables(z_tilde), parton_observables(z)
        masses = [ks_statistic(gen[k][np.isfinite(gen[k])], true[k]) for k in UNFOLDED_MASSES]
        out["unfolding_mean"] = float(np.mean(masses))
        out["score"] += out["unfolding_mean"]
    if scorecard:
        terms = scorecard_terms(z, x, x_tilde, z_tilde=z_tilde if unfolding else None, seed=seed)
        out.update(terms)
        out["score"] += terms["phase_space_excess"] + terms["pair_excess"] + terms.get("unfolding_pair_excess", 0.0)
    return out


def validate(
    model: TurboSim,
    z: np.ndarray,
    x: np.ndarray,
    *,
    z_norm: Normalisation,
    x_norm: Normalisation,
    generator: torch.Generator,
    physics: bool = True,
    batch_size: int = 65_536,
) -> dict[str, Any]:
    """Validation metrics of ``model`` on true pairs ``z``, ``x`` ``(n, 24)`` [GeV].

    Returns a JSON-ready dict: ``selection`` (the criterion of ``model.config.selection``, lower is better),
    ``ks_sum`` (the paper's 96 KS), ``ks_group`` (sum per generated sample), ``ks`` (the 24 values per generated
    sample), ``physics`` (KS per mass, or ``None``), ``criterion`` (the parts of the physics criterion) and the mean
    supervised distances ``mse`` per generated sample (normalised units), and ``seconds`` (wall time of the whole
    validation and of the scorecard terms). Generated X have their jets sorted by pT.
    """
    import time

    from turbosim_hep.evaluation.metrics import ks_statistics
    from turbosim_hep.events.features import reco_as_stored

    t0 = time.perf_counter()
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    parts: dict[str, list[np.ndarray]] = {k: [] for k in GROUPS}
    # x̃ = D(z) draws from a stream of its own: how much noise the other samples consumed (a truncated decoder's
    # redraws of x̂ depend on the encoder) cannot move it, so a frozen decoder scores the same every epoch
    simulation_rng = torch.Generator(device=generator.device).manual_seed(generator.initial_seed() + 1)
    with torch.no_grad():
        for start in range(0, len(z), batch_size):
            zb = torch.from_numpy(z_norm.normalise(z[start : start + batch_size])).to(device)
            xb = torch.from_numpy(x_norm.normalise(x[start : start + batch_size])).to(device)
            samples = model.samples(zb, xb, ("z_tilde", "x_hat", "z_hat"), generator=generator)
            samples["x_tilde"] = model.samples(zb, xb, ("x_tilde",), generator=simulation_rng)["x_tilde"]
            for k in GROUPS:
                parts[k].append(samples[k].float().cpu().numpy())
        log_q = _encoder_log_likelihood(model, z, x, batch_size)
    model.train(was_training)
    x = reco_as_stored(x)  # a no-op for features read from the event layout; arrays given by hand may differ
    truth = {"z": z, "x": x}
    norms = {"z": z_norm, "x": x_norm}
    ks, mse = {}, {}
    generated = {}
    for k, ref in GROUPS.items():
        normalised = np.concatenate(parts[k])
        generated[k] = norms[ref].denormalise(normalised)
        if ref == "x":
            generated[k] = reco_as_stored(generated[k])
        ks[k] = ks_statistics(generated[k], truth[ref])
        mse[k] = float(np.mean((normalised - norms[ref].normalise(truth[ref])) ** 2))
    phys = physics_ks(generated["x_tilde"], x) if physics else None
    criterion = selection_score(
        z, x, generated["z_tilde"], generated["x_tilde"], physics=phys, scorecard=model.config.selection == "scorecard",
        unfolding=getattr(model.config, "encoder_kind", "mlp") == "flow",
    )  # fmt: skip
    ks_sum = float(sum(v.sum() for v in ks.values()))
    # timings vary from run to run: kept out of the criterion, so a resumed run writes the same metrics
    seconds = {"scorecard": criterion.pop("seconds")} if "seconds" in criterion else {}
    seconds["validation"] = time.perf_counter() - t0
    result: dict[str, Any] = {
        "seconds": seconds,
        "selection": _selection_value(model.config.selection, ks_sum, criterion["score"], log_q),
        "criterion": criterion,
        "ks_sum": ks_sum,
        "ks_group": {k: float(v.sum()) for k, v in ks.items()},
        "ks": {k: [round(float(s), 6) for s in v] for k, v in ks.items()},
        "mse": mse,
        "physics": phys,
    }
    if log_q is not None:
        result["encoder_log_q"] = log_q
    return result


def _selection_value(selection: str, ks_sum: float, score: float, log_q: float | None) -> float:
    """The number the run's criterion ``selection`` minimises (see the module docstring)."""
    if selection == "ks96":
        return ks_sum
    if selection == "likelihood":  # TurboSimConfig allows it only with a flow encoder: log_q is computed
        return -log_q
    return score


def _encoder_log_likelihood(model: TurboSim, z: np.ndarray, x: np.ndarray, batch_size: int) -> float | None:
    """Mean log q_φ(z|x) of a generative (flow) encoder on the true pairs ``z``, ``x`` ``(n, 24)`` [GeV], in its flow
    coordinates (``None`` for other encoders): the held-out value of the likelihood term ℒ(z, z̃) it is trained on.
    While the training loss keeps falling, a falling value here is the flow learning the training events by heart.
    Cost: 4.0 s for the reference sample's 27.6k validation events (one thread), beside ~150 s of training steps."""
    encoder = model.encoder
    if not hasattr(encoder, "log_prob_gev"):
        return None
    device = next(model.parameters()).device
    total = 0.0
    for start in range(0, len(z), batch_size):
        zb = torch.as_tensor(z[start : start + batch_size], dtype=torch.float32, device=device)
        xb = torch.as_tensor(x[start : start + batch_size], dtype=torch.float32, device=device)
        total += float(encoder.log_prob_gev(zb, xb).double().sum())
    return total / len(z)
