"""The settings of an OTUS training run (arXiv:2101.08944), saved with the model."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

__all__ = ("OtusConfig",)


@dataclasses.dataclass(frozen=True, kw_only=True)
class OtusConfig:
    """Everything that defines an OTUS training run; defaults are the paper's except ``epochs`` (paper 1000).

    Fields
    ------
    beta, lam
        Weights of the reconstruction MSE and of the latent sliced-Wasserstein term (paper 1 and 20).
    n_slices
        Random directions per sliced-Wasserstein evaluation (paper 1000).
    hidden
        Width of the hidden layers (paper 64).
    lr, batch_size, epochs
        Stage 1: Adam learning rate (1e-3), events per batch (20,000; clipped to the training-set size) and epochs
        (passes over the training split).
    stage2_epochs, stage2_lr
        Stage 2 (decoder alone on SWD2(x, D(z))): epochs (paper 10; 0 skips it) and learning rate (1e-4).
    split_fractions
        Train / validation / test fractions, as for Turbo-Sim.
    seed
        Seed of the weights, batches, noise and directions (paper 2); also the default seed of the inference noise.
    """

    beta: float = 1.0
    lam: float = 20.0
    n_slices: int = 1000
    hidden: int = 64
    lr: float = 1e-3
    batch_size: int = 20_000
    epochs: int = 200
    stage2_epochs: int = 10
    stage2_lr: float = 1e-4
    split_fractions: tuple[float, float, float] = (0.7, 0.15, 0.15)
    seed: int = 2

    def __post_init__(self) -> None:
        for name in ("beta", "lam"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int | float) or not v >= 0:
                raise ValueError(f"OtusConfig.{name} must be a non-negative number, got {v!r}")
        for name in ("lr", "stage2_lr"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int | float) or not v > 0:
                raise ValueError(f"OtusConfig.{name} must be a positive number, got {v!r}")
        for name, low in (("n_slices", 1), ("hidden", 1), ("batch_size", 2), ("epochs", 0), ("stage2_epochs", 0)):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < low:
                raise ValueError(f"OtusConfig.{name} must be an int >= {low}, got {v!r}")
        from turbosim_hep.runtime.seeds import check_seed

        check_seed(self.seed)
        fr = tuple(self.split_fractions)
        if len(fr) != 3 or min(fr) < 0 or abs(sum(fr) - 1.0) > 1e-9 or fr[0] == 0:
            raise ValueError(f"split_fractions must be (train, validation, test) >= 0 summing to 1, got {fr!r}")

    def replace(self, **changes: Any) -> OtusConfig:
        """A copy with ``changes`` applied (validated again)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (numbers and lists) for JSON and ``torch.load(weights_only=True)``."""
        return {
            f.name: list(v) if isinstance(v := getattr(self, f.name), tuple) else v for f in dataclasses.fields(self)
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> OtusConfig:
        """Inverse of :meth:`to_dict`; unknown keys are a ``ValueError``."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown OtusConfig fields {unknown!r}; known fields are {sorted(known)!r}")
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})
