"""Per-feature standardisation of the 24 Z and 24 X features, fitted on the training split only.

The paper's code used one scalar mean and standard deviation per space; here every feature has its own, so MET pz
(±3000 GeV) and an electron's px (tens of GeV) both reach the networks at unit scale. Saved in every checkpoint.
"""

from __future__ import annotations

import dataclasses

import numpy as np

__all__ = ("Normalisation",)


@dataclasses.dataclass(frozen=True)
class Normalisation:
    """Mean and standard deviation [GeV] per feature, shape ``(k,)`` float64; ``normalise(a) = (a - mean) / std``."""

    mean: np.ndarray
    std: np.ndarray

    def __post_init__(self) -> None:
        mean = np.asarray(self.mean, dtype=np.float64)
        std = np.asarray(self.std, dtype=np.float64)
        if mean.ndim != 1 or mean.shape != std.shape:
            raise ValueError(f"mean and std must be 1-d of equal length, got {mean.shape!r} and {std.shape!r}")
        if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(std)) and np.all(std > 0)):
            raise ValueError(f"normalisation needs finite means and positive finite stds, got std {std!r}")
        object.__setattr__(self, "mean", mean)
        object.__setattr__(self, "std", std)

    @classmethod
    def fit(cls, features: np.ndarray) -> Normalisation:
        """Fit on ``(n, k)`` features [GeV] (the training split); a constant feature gets std 1."""
        a = np.asarray(features, dtype=np.float64)
        if a.ndim != 2 or len(a) < 2:
            raise ValueError(f"need at least two events of shape (n, k) to normalise, got {a.shape!r}")
        std = a.std(axis=0)
        return cls(a.mean(axis=0), np.where(std > 0, std, 1.0))

    def normalise(self, features: np.ndarray) -> np.ndarray:
        """``(n, k)`` [GeV] -> ``(n, k)`` float32 in normalised units."""
        return ((np.asarray(features, dtype=np.float64) - self.mean) / self.std).astype(np.float32)

    def denormalise(self, features: np.ndarray) -> np.ndarray:
        """``(n, k)`` normalised -> ``(n, k)`` float64 [GeV]."""
        return np.asarray(features, dtype=np.float64) * self.std + self.mean
