"""The scorecard: what a physicist checks before trusting a fast simulation and its unfolding, each with its spread.

:func:`scorecard` takes the test events' truth and a model's outputs (arrays, as :func:`~.scoring.run_model` makes
them) and returns a JSON-ready dict:

- ``table1``: the ten Table-1 KS columns with bootstrap spreads (model output of half A against the truth of half B)
  and the floor (truth A against truth B);
- ``phase_space``: :func:`~.phase_space.phase_space_violations` of the full simulation, x̃ = D(z) and x̂ = D(E(x));
- ``classifiers``: :func:`~.classifiers.classifier_scorecard` (rich and pair AUCs both ways, refolding, floors);
- ``peaks``: :func:`~.peaks.peak_positions` of x̃ against the full simulation on the same partons;
- ``met_balance``: :func:`~.met_balance.met_balance_correlations`, how much of each object's mismeasurement the
  missing pT carries, x̃ against the full simulation on the same partons;
- ``unfolding`` (models that unfold): off-shell shares, parton-level masses, prior dependence and, given posterior
  draws, :func:`~.calibration.posterior_calibration` of top pT (both), m_tt, y_tt and ν pz.

:mod:`.targets` turns it into verdicts; :mod:`.scorecard_markdown` into tables.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from turbosim_hep.evaluation.calibration import posterior_calibration
from turbosim_hep.evaluation.classifiers import MIN_CLASSIFIER_EVENTS, classifier_scorecard
from turbosim_hep.evaluation.features import parton_observables
from turbosim_hep.evaluation.met_balance import met_balance_correlations
from turbosim_hep.evaluation.peaks import peak_positions
from turbosim_hep.evaluation.phase_space import phase_space_violations
from turbosim_hep.evaluation.uncertainty import ks_with_spread
from turbosim_hep.evaluation.unfolding_physics import off_shell_shares, parton_mass_comparison, prior_dependence

__all__ = ("CALIBRATED_QUANTITIES", "scorecard", "table1_with_spreads")

#: Parton-level quantities whose posterior calibration is reported (keys of ``parton_observables``).
CALIBRATED_QUANTITIES: tuple[str, ...] = ("top_pt_had", "top_pt_lep", "m_tt", "y_tt", "nu_pz")


def table1_with_spreads(
    z: np.ndarray,
    x: np.ndarray,
    z_tilde: np.ndarray | None,
    x_tilde: np.ndarray,
    half: np.ndarray,
    *,
    reconstruct: Callable[..., Mapping[str, np.ndarray]] | None = None,
    n_boot: int = 30,
    seed: int = 0,
) -> dict[str, list[dict[str, float] | None]]:
    """The ten Table-1 KS columns (fractions) with bootstrap spreads: ``{"model": [...], "floor": [...]}``.

    Each entry is ``{"value", "spread"}``; the Z columns are ``None`` when ``z_tilde`` is.
    """
    from turbosim_hep.constants import X_FEATURES, Z_FEATURES
    from turbosim_hep.evaluation.table1 import TABLE1_COLUMNS

    if reconstruct is None:
        from turbosim_hep.physics.reconstruction import reconstruct_features as reconstruct
    a, b = half, ~half
    masses = {"truth": reconstruct(x, level="reco"), "model": reconstruct(x_tilde, level="reco")}
    model, floor = [], []
    for _, _, space, name in TABLE1_COLUMNS:
        if space == "Z":
            j = Z_FEATURES.index(name)
            t, g = z[:, j], None if z_tilde is None else z_tilde[:, j]
        elif name in X_FEATURES:
            j = X_FEATURES.index(name)
            t, g = x[:, j], x_tilde[:, j]
        else:
            t, g = masses["truth"][name], masses["model"][name]
        model.append(None if g is None else ks_with_spread(g[a], t[b], n_boot=n_boot, seed=seed))
        floor.append(ks_with_spread(t[a], t[b], n_boot=n_boot, seed=seed))
    return {"model": model, "floor": floor}


def scorecard(
    z: np.ndarray,
    x: np.ndarray,
    outputs: Mapping[str, np.ndarray | None],
    half: np.ndarray,
    *,
    draws: np.ndarray | None = None,
    draw_rows: np.ndarray | None = None,
    card: Any = None,
    classifier: bool = True,
    classifier_max_events: int | None = 50_000,
    reconstruct: Callable[..., Mapping[str, np.ndarray]] | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """The scorecard of one model on test events ``z``, ``x`` ``(n, 24)`` [GeV].

    Parameters
    ----------
    outputs : ``x_tilde`` = D(z) (required), ``z_tilde`` = E(x), ``x_hat`` = D(E(x)), each ``(n, 24)`` or ``None``.
    half : boolean ``(n,)`` mask of half A of the independent comparisons.
    draws : ``(K, n, 24)`` posterior draws z̃ ~ q(z|x) for the calibration (K ≥ 20 advised); ``None`` skips it.
    draw_rows : the rows of ``z`` the draws belong to, ``(m,)`` indices, when ``draws`` is ``(K, m, 24)`` for a
        subset of the events (a cheaper calibration); ``None``: every event.
    card : the detector card of the phase-space check (default: the reference sample's).
    classifier : run the classifier tests (the slowest part: about a minute for 27k events); skipped below
        :data:`~.classifiers.MIN_CLASSIFIER_EVENTS` events in a half.
    """
    half = np.asarray(half, dtype=bool)
    if half.shape != (len(z),) or half.all() or not half.any():
        raise ValueError(f"half must be a boolean (n,) = ({len(z)},) mask selecting some but not all events")
    x_tilde = outputs.get("x_tilde")
    if x_tilde is None:
        raise ValueError("the scorecard needs outputs['x_tilde'] = D(z)")
    z_tilde, x_hat = outputs.get("z_tilde"), outputs.get("x_hat")
    phase = {"full_sim": phase_space_violations(x, card=card), "x_tilde": phase_space_violations(x_tilde, card=card)}
    if x_hat is not None:
        phase["x_hat"] = phase_space_violations(x_hat, card=card)
    result: dict[str, Any] = {
        "n_events": len(z),
        "n_half": [int(half.sum()), int((~half).sum())],
        "table1": table1_with_spreads(z, x, z_tilde, x_tilde, half, reconstruct=reconstruct, seed=seed),
        "phase_space": phase,
        "peaks": peak_positions(x, x_tilde, reconstruct=reconstruct, seed=seed),
        "met_balance": met_balance_correlations(z, x, x_tilde, seed=seed),
        "classifiers": (
            classifier_scorecard(
                z, x, outputs, half, max_events=classifier_max_events, seed=seed, reconstruct=reconstruct
            )
            if classifier and min(int(half.sum()), int((~half).sum())) >= MIN_CLASSIFIER_EVENTS
            else None
        ),
        "unfolding": None,
    }
    n_half = min(int(half.sum()), int((~half).sum()))
    if classifier and n_half < MIN_CLASSIFIER_EVENTS:
        result["classifiers_skipped"] = (
            f"the classifier tests need at least {MIN_CLASSIFIER_EVENTS} events in each half (their held-out events "
            f"and early stopping take some), got {int(half.sum())} and {int((~half).sum())}; evaluate more events"
        )
    if z_tilde is not None:
        unfolding: dict[str, Any] = {
            "off_shell": off_shell_shares(z_tilde),
            "off_shell_truth": off_shell_shares(z),
            "parton_masses": parton_mass_comparison(z, z_tilde, half, seed=seed),
            "prior_dependence": prior_dependence(z, z_tilde, seed=seed),
            "calibration": None,
        }
        if draws is not None:
            draws = np.asarray(draws)
            rows = np.arange(len(z)) if draw_rows is None else np.asarray(draw_rows)
            if draws.ndim != 3 or draws.shape[1:] != (len(rows), z.shape[1]):
                raise ValueError(
                    f"draws must have shape (K, {len(rows)}, {z.shape[1]}) for {len(rows)} events, got {draws.shape!r}"
                )
            truth = parton_observables(z[rows])
            per_draw = [parton_observables(d) for d in draws]
            unfolding["calibration"] = posterior_calibration(
                {q: truth[q] for q in CALIBRATED_QUANTITIES},
                {q: np.stack([p[q] for p in per_draw]) for q in CALIBRATED_QUANTITIES},
                seed=seed,
            )
        result["unfolding"] = unfolding
    return result
