"""Deterministic train / validation / test assignment from the event ids alone.

Each event's split depends only on ``(run, event)``: both are mixed by the splitmix64 finaliser into a 64-bit hash,
whose top 53 bits give a number u in [0, 1). The event is in *train* if u < f_train, *validation* if
u < f_train + f_val, else *test*. The assignment therefore does not change when files are reordered, re-chunked or
merged, and the test split never depends on how the data were read.
"""

from __future__ import annotations

import numpy as np

from turbosim_hep.events.keys import hash_ids

__all__ = ("DEFAULT_FRACTIONS", "SPLITS", "split_mask", "split_uniform")

#: Names of the three splits, in order.
SPLITS: tuple[str, ...] = ("train", "validation", "test")
#: Default fractions (train, validation, test); the test split is never used for training or model selection.
DEFAULT_FRACTIONS: tuple[float, float, float] = (0.7, 0.15, 0.15)


def split_uniform(run: np.ndarray, event: np.ndarray, *, salt: int = 0) -> np.ndarray:
    """Uniform number in [0, 1) per event, a pure function of ``(run, event, salt)``; shape ``(n,)`` float64."""
    h = hash_ids(salt, event, run)
    return (h >> np.uint64(11)).astype(np.float64) * 2.0**-53


def split_mask(
    run: np.ndarray,
    event: np.ndarray,
    split: str,
    *,
    fractions: tuple[float, float, float] = DEFAULT_FRACTIONS,
) -> np.ndarray:
    """Boolean mask of the events in ``split`` ("train", "validation" or "test"), shape ``(n,)``."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS!r}, got {split!r}")
    if len(fractions) != 3 or min(fractions) < 0 or abs(sum(fractions) - 1.0) > 1e-9:
        raise ValueError(f"fractions must be three non-negative numbers summing to 1, got {fractions!r}")
    u = split_uniform(run, event)
    edges = np.cumsum((0.0, *fractions))
    edges[-1] = np.inf
    i = SPLITS.index(split)
    return (u >= edges[i]) & (u < edges[i + 1])
