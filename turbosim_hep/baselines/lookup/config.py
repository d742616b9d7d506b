"""The settings of a lookup-baseline fit (binning, noise seed, split), saved in its file."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from turbosim_hep.baselines.lookup.tables import (
    DEFAULT_ABS_ETA_BINS,
    DEFAULT_MAX_DR,
    DEFAULT_MET_BALANCE,
    DEFAULT_MET_BINS_GEV,
    DEFAULT_MIN_ENTRIES,
    DEFAULT_PT_BINS_GEV,
    _edges,
)
from turbosim_hep.events.split import DEFAULT_FRACTIONS

__all__ = ("LookupConfig",)


@dataclasses.dataclass(frozen=True)
class LookupConfig:
    """Everything a lookup fit is run with; saved in its file.

    Arguments
    ---------
    pt_bins_gev, abs_eta_bins, met_bins_gev, met_balance, min_entries, max_dr
        Options of :func:`~turbosim_hep.baselines.lookup.tables.fit_lookup`.
    seed
        Seed of the per-event noise when simulating (the fit itself is deterministic).
    split_fractions
        (train, validation, test) of :func:`turbosim_hep.events.split.split_mask`; only the train split is fitted.
    """

    pt_bins_gev: tuple[float, ...] = DEFAULT_PT_BINS_GEV
    abs_eta_bins: tuple[float, ...] = DEFAULT_ABS_ETA_BINS
    met_bins_gev: tuple[float, ...] = DEFAULT_MET_BINS_GEV
    met_balance: float = DEFAULT_MET_BALANCE
    min_entries: int = DEFAULT_MIN_ENTRIES
    max_dr: float = DEFAULT_MAX_DR
    seed: int = 0
    split_fractions: tuple[float, float, float] = DEFAULT_FRACTIONS

    def __post_init__(self) -> None:
        for name in ("pt_bins_gev", "abs_eta_bins", "met_bins_gev"):
            object.__setattr__(self, name, tuple(float(v) for v in _edges(getattr(self, name), name)))
        fr = tuple(float(f) for f in self.split_fractions)
        if len(fr) != 3 or min(fr) < 0 or abs(sum(fr) - 1.0) > 1e-9 or fr[0] == 0:
            raise ValueError(f"split_fractions must be (train > 0, validation, test) >= 0 summing to 1, got {fr!r}")
        object.__setattr__(self, "split_fractions", fr)
        from turbosim_hep.runtime.seeds import check_seed

        check_seed(self.seed)
        if int(self.min_entries) != self.min_entries or self.min_entries < 1:
            raise ValueError(f"min_entries must be a positive integer, got {self.min_entries!r}")

    def fit_options(self) -> dict[str, Any]:
        """Keyword arguments of :func:`~turbosim_hep.baselines.lookup.tables.fit_lookup`."""
        return {
            "pt_bins": self.pt_bins_gev,
            "eta_bins": self.abs_eta_bins,
            "met_bins": self.met_bins_gev,
            "met_balance": self.met_balance,
            "min_entries": int(self.min_entries),
            "max_dr": self.max_dr,
        }

    def to_dict(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LookupConfig:
        unknown = set(data) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise ValueError(f"unknown lookup config keys {sorted(unknown)!r}")
        return cls(**data)
