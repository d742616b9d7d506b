"""Spreads of the scorecard's figures and the verdict of a target: met, within noise or missed.

Every figure of the scorecard is one estimate from a finite test sample. Its spread is the standard deviation of the
same statistic over bootstrap resamples of the events (:func:`bootstrap_std`, :func:`ks_with_spread`); a target is
*met* only when it holds by more than ``k`` spreads, *missed* when it fails by more than ``k`` spreads, and *within
noise* otherwise (:func:`verdict`). ``k`` = :data:`SIGMAS` = 2 by default, so a "met" is not a fluctuation.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from turbosim_hep.evaluation.metrics import ks_statistic

__all__ = (
    "SIGMAS",
    "VERDICTS",
    "binomial_std",
    "bootstrap_std",
    "combined_std",
    "ks_with_spread",
    "median_with_spread",
    "verdict",
)

#: How many spreads a target must hold by to count as met (and fail by to count as missed).
SIGMAS: float = 2.0
#: The three verdicts of :func:`verdict`.
VERDICTS: tuple[str, ...] = ("met", "within noise", "missed")


def verdict(value: float, bound: float, spread: float, *, upper: bool = True, sigmas: float = SIGMAS) -> str:
    """``"met"``, ``"within noise"`` or ``"missed"`` for ``value ≤ bound`` (``upper``) or ``value ≥ bound``.

    ``spread`` is the standard deviation of ``value − bound`` (:func:`combined_std` when the bound is itself a
    measured figure). A NaN value or spread is ``"missed"``: a figure that cannot be computed proves nothing. An exact
    figure (``spread`` 0, e.g. a count that must be zero) is met when it holds, equality included.
    """
    if not (math.isfinite(value) and math.isfinite(bound) and math.isfinite(spread)):
        return "missed"
    margin = (bound - value) if upper else (value - bound)
    if margin > sigmas * spread or (spread == 0 and margin >= 0):
        return "met"
    if margin < -sigmas * spread:
        return "missed"
    return "within noise"


def combined_std(*spreads: float) -> float:
    """Spread of a sum or difference of independent figures: sqrt(Σ σ²)."""
    return float(np.sqrt(np.sum(np.square(spreads))))


def binomial_std(p: float, n: int) -> float:
    """Standard deviation of a share ``p`` measured on ``n`` events (at least the one-event resolution 1/n)."""
    if n <= 0:
        return math.nan
    return float(max(np.sqrt(p * (1 - p) / n), 1.0 / n))


def bootstrap_std(
    statistic: Callable[..., float],
    samples: Sequence[np.ndarray],
    *,
    n_boot: int = 30,
    seed: int = 0,
    paired: bool = False,
) -> float:
    """Standard deviation of ``statistic(*samples)`` over ``n_boot`` bootstrap resamples of the events.

    Each sample is resampled with replacement on its own, or, with ``paired``, all with the same rows (samples of
    the same events, e.g. the full simulation and the model on the same partons).
    """
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(n_boot):
        if paired:
            rows = rng.integers(0, len(samples[0]), len(samples[0]))
            values.append(statistic(*(s[rows] for s in samples)))
        else:
            values.append(statistic(*(s[rng.integers(0, len(s), len(s))] for s in samples)))
    return float(np.std(values, ddof=1))


def _finite(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    return a[np.isfinite(a)]


def ks_with_spread(a: np.ndarray, b: np.ndarray, *, n_boot: int = 30, seed: int = 0) -> dict[str, float]:
    """KS statistic of two independent samples (non-finite values left out) with its bootstrap spread."""
    a, b = _finite(a), _finite(b)
    if len(a) < 2 or len(b) < 2:
        return {"value": math.nan, "spread": math.nan}
    return {"value": ks_statistic(a, b), "spread": bootstrap_std(ks_statistic, (a, b), n_boot=n_boot, seed=seed)}


def median_with_spread(a: np.ndarray, *, n_boot: int = 100, seed: int = 0) -> dict[str, float]:
    """Median of the finite values of ``a`` with its bootstrap spread."""
    a = _finite(a)
    if len(a) < 2:
        return {"value": math.nan, "spread": math.nan}
    rng = np.random.default_rng(seed)
    boots = np.median(a[rng.integers(0, len(a), (n_boot, len(a)))], axis=1)
    return {"value": float(np.median(a)), "spread": float(np.std(boots, ddof=1))}
