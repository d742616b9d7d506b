"""Posterior calibration of the unfolding: do the draws z̃ ~ q(z|x) cover the true z as often as they claim?

For each event the rank of the true value among its K posterior draws is uniform on 0 … K when the posterior is
calibrated. The randomised probability integral transform u = (rank + U) / (K + 1), U uniform, is then exactly
uniform on [0, 1] for any K, so the share of events with |u − ½| ≤ 0.34 is the coverage of the central 68 % of the
draws (0.475 for 95 %): 68 % when calibrated, less for a posterior too narrow, more for one too wide. The rank
histogram shows which: a U shape is too narrow, a dome too wide, a slope biased.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

__all__ = ("CALIBRATION_LEVELS", "coverage", "posterior_calibration", "ranks")

#: Central intervals whose coverage is reported.
CALIBRATION_LEVELS: tuple[float, ...] = (0.68, 0.95)


def ranks(truth: np.ndarray, draws: np.ndarray) -> np.ndarray:
    """Rank of ``truth`` ``(n,)`` among ``draws`` ``(K, n)``: the number of draws below it, ``(n,)`` int in 0 … K.

    Rows with a non-finite truth or draw get −1.
    """
    truth = np.asarray(truth, dtype=np.float64)
    draws = np.asarray(draws, dtype=np.float64)
    if draws.ndim != 2 or draws.shape[1] != len(truth):
        raise ValueError(f"draws must have shape (K, n) = (K, {len(truth)}), got {draws.shape!r}")
    r = (draws < truth[None, :]).sum(axis=0)
    bad = ~np.isfinite(truth) | ~np.isfinite(draws).all(axis=0)
    return np.where(bad, -1, r)


def coverage(
    rank: np.ndarray, n_draws: int, *, levels: Sequence[float] = CALIBRATION_LEVELS, seed: int = 0
) -> dict[str, dict[str, float]]:
    """Coverage of the central ``levels`` of the draws from ranks (−1 rows left out), with binomial spreads.

    Returns ``{"68": {"value", "spread"}, "95": {...}}`` as fractions.
    """
    r = np.asarray(rank)
    r = r[r >= 0]
    rng = np.random.default_rng(seed)
    u = (r + rng.random(len(r))) / (n_draws + 1)
    out = {}
    for level in levels:
        inside = np.abs(u - 0.5) <= level / 2
        p = float(inside.mean()) if len(r) else float("nan")
        out[f"{round(100 * level)}"] = {
            "value": p,
            "spread": float(np.sqrt(level * (1 - level) / max(len(r), 1))),
        }
    return out


def posterior_calibration(
    truth: Mapping[str, np.ndarray], draws: Mapping[str, np.ndarray], *, seed: int = 0
) -> dict[str, Any]:
    """Coverage and rank histogram per quantity.

    ``truth[q]`` is ``(n,)``, ``draws[q]`` ``(K, n)`` posterior draws of the same events. Returns ``{q: {"coverage":
    {...}, "rank_histogram": (K + 1,) counts, "n_draws": K, "n_events"}}``. The coverage spread is the one of a
    calibrated posterior at this many events (binomial), the yardstick a target is judged against.
    """
    out: dict[str, Any] = {}
    for q, t in truth.items():
        d = np.asarray(draws[q])
        r = ranks(t, d)
        k = d.shape[0]
        out[q] = {
            "coverage": coverage(r, k, seed=seed),
            "rank_histogram": np.bincount(r[r >= 0], minlength=k + 1).tolist(),
            "n_draws": int(k),
            "n_events": int((r >= 0).sum()),
        }
    return out
