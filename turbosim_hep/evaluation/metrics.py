"""Two-sample distances between generated and true samples.

KS is the two-sided ``scipy.stats.ks_2samp`` statistic (the Turbo-Sim paper's Table 1 and its model-selection metric).
"""

from __future__ import annotations

import numpy as np
from scipy import stats

__all__ = ("ks_statistic", "ks_statistics")


def ks_statistic(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sided Kolmogorov-Smirnov statistic between two 1-d samples (0 = identical empirical CDFs)."""
    a = np.asarray(a, dtype=np.float64).ravel()
    b = np.asarray(b, dtype=np.float64).ravel()
    if len(a) == 0 or len(b) == 0:
        raise ValueError(f"KS needs two non-empty samples, got sizes {len(a)} and {len(b)}")
    return float(stats.ks_2samp(a, b).statistic)


def ks_statistics(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Column-wise KS statistics of two ``(n, k)`` and ``(m, k)`` samples; shape ``(k,)``."""
    a = np.asarray(a)
    b = np.asarray(b)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(f"need (n, k) and (m, k) arrays with the same k, got {a.shape!r} and {b.shape!r}")
    return np.array([ks_statistic(a[:, j], b[:, j]) for j in range(a.shape[1])])
