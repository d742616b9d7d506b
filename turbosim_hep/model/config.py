"""Training configuration of the Turbo-Sim model: one frozen dataclass, saved with every checkpoint.

The model (arXiv:2112.10629, Quétant et al. 2021) links parton level z and detector level x with an encoder
E: x -> z and a decoder D: z -> x. Four generated samples appear in training:

- z̃ = E(x) (unfolded), x̂ = D(E(x)) (reverse path reconstructed);
- x̃ = D(z) (simulated), ẑ = E(D(z)) (direct path reconstructed).

Each has a supervised term against its true partner *of the same event* and an adversarial term (a critic telling
the generated sample from the true marginal), eight terms in all, with one weight each:

=============  ================================  =====================
weight field    term                               paper (``turbo``)
=============  ================================  =====================
``l_z_ztilde``  ℒ(z, z̃)   encoder, supervised        10
``d_ztilde``    D(z̃)      encoder, adversarial        1
``l_x_xhat``    ℒ(x, x̂)   both, supervised            10
``d_xhat``      D(x̂)      both, adversarial           1
``l_x_xtilde``  ℒ(x, x̃)   decoder, supervised         0
``d_xtilde``    D(x̃)      decoder, adversarial        10
``l_z_zhat``    ℒ(z, ẑ)   both, supervised            100
``d_zhat``      D(ẑ)      both, adversarial           0
=============  ================================  =====================

A zero weight switches the term off entirely: its critic is not built and nothing is computed for it. This module
imports no torch, so ``turbosim_hep.TurboSimConfig`` stays light.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

__all__ = ("ADVERSARIAL_TERMS", "PRESETS", "SUPERVISED_TERMS", "TERMS", "TurboSimConfig")

#: Supervised terms: weight name -> (generated sample, true sample it is compared with, event by event).
SUPERVISED_TERMS: dict[str, tuple[str, str]] = {
    "l_z_ztilde": ("z_tilde", "z"),
    "l_x_xhat": ("x_hat", "x"),
    "l_x_xtilde": ("x_tilde", "x"),
    "l_z_zhat": ("z_hat", "z"),
}
#: Adversarial terms: weight name -> (generated sample, true sample whose distribution the critic compares it with).
ADVERSARIAL_TERMS: dict[str, tuple[str, str]] = {
    "d_ztilde": ("z_tilde", "z"),
    "d_xhat": ("x_hat", "x"),
    "d_xtilde": ("x_tilde", "x"),
    "d_zhat": ("z_hat", "z"),
}
#: All eight weight names, in the paper's order.
TERMS: tuple[str, ...] = (
    "l_z_ztilde",
    "d_ztilde",
    "l_x_xhat",
    "d_xhat",
    "l_x_xtilde",
    "d_xtilde",
    "l_z_zhat",
    "d_zhat",
)

_OFF = dict.fromkeys(TERMS, 0.0)

#: Presets: name -> (weights, other overrides, description). Unlisted weights are zero.
PRESETS: dict[str, tuple[dict[str, float], dict[str, Any], str]] = {
    "turbo": (
        {"l_z_ztilde": 10.0, "d_ztilde": 1.0, "l_x_xhat": 10.0, "d_xhat": 1.0, "d_xtilde": 10.0, "l_z_zhat": 100.0},
        {},
        "the paper's Turbo-Sim: ℒ(z,z̃) 10, D(z̃) 1, ℒ(x,x̂) 10, D(x̂) 1, D(x̃) 10, ℒ(z,ẑ) 100",
    ),
    "aae": (
        {"l_x_xhat": 10.0, "d_ztilde": 1.0},
        {},
        "adversarial autoencoder on x with the parton distribution as prior: ℒ(x,x̂) 10, D(z̃) 1",
    ),
    "gan": (
        {"d_xtilde": 1.0},
        {},
        "conditional GAN simulating x̃ = D(z) with no pairing: D(x̃) 1",
    ),
    "pix2pix": (
        {"l_x_xtilde": 100.0, "d_xtilde": 1.0},
        {"supervised_loss": "laplace"},
        "pix2pix (paired translation z -> x, L1 + adversarial): ℒ(x,x̃) 100 (Laplace), D(x̃) 1",
    ),
    "cycle": (
        {"d_ztilde": 1.0, "d_xtilde": 1.0, "l_x_xhat": 10.0, "l_z_zhat": 10.0},
        {},
        "CycleGAN (unpaired, cycle-consistent): D(z̃) 1, D(x̃) 1, ℒ(x,x̂) 10, ℒ(z,ẑ) 10",
    ),
    "direct-only": (
        {"l_z_ztilde": 10.0, "d_ztilde": 1.0, "l_x_xhat": 10.0, "d_xhat": 1.0},
        {},
        "Turbo-Sim's direct direction x -> z̃ -> x̂ only: ℒ(z,z̃) 10, D(z̃) 1, ℒ(x,x̂) 10, D(x̂) 1",
    ),
    "reverse-only": (
        {"d_xtilde": 10.0, "l_z_zhat": 100.0},
        {},
        "Turbo-Sim's reverse direction z -> x̃ -> ẑ only: D(x̃) 10, ℒ(z,ẑ) 100",
    ),
}

_CRITIC_MODES = ("wasserstein", "density-ratio")
_SUPERVISED_LOSSES = ("gaussian", "laplace")


@dataclasses.dataclass(frozen=True, kw_only=True)
class TurboSimConfig:
    """Everything that defines a Turbo-Sim training run; defaults are the paper's (arXiv:2112.10629, its code).

    Weights (see the module docstring): ``l_z_ztilde``, ``d_ztilde``, ``l_x_xhat``, ``d_xhat``, ``l_x_xtilde``,
    ``d_xtilde``, ``l_z_zhat``, ``d_zhat``; 0 switches a term off and builds no critic for it.

    Other fields
    ------------
    gp_ztilde, gp_xhat, gp_xtilde, gp_zhat
        Gradient-penalty weight of each critic (Wasserstein mode); paper 1000, except 10 for the x̃ critic.
    critic_mode
        ``"wasserstein"`` (WGAN with gradient penalty) or ``"density-ratio"`` (logistic critic, BCE loss).
    supervised_loss
        ``"gaussian"`` (mean squared error) or ``"laplace"`` (mean absolute error), in normalised units.
    encoder_hidden, decoder_hidden, critic_hidden
        Hidden widths; paper: encoder 256, 128, 64; decoder 64, 128, 256; critics 256, 128, 64. ReLU, linear output.
    input_noise
        Scale of the N(0, 1) noise added (out of place) to each network's normalised input; paper 0.05.
    layer_noise
        Inject N(0, 1) noise after every hidden layer, with a learned per-unit scale (starting at 0).
    lr, betas, weight_decay
        Adam for encoder and decoder; paper 1e-4, (0.9, 0.7), 1e-3.
    critic_lr, critic_betas, critic_weight_decay
        Adam for the critics; paper 1e-4, (0.9, 0.7), 1e-4.
    batch_size, steps_per_epoch, critic_steps
        Events per batch (paper 100), generator steps per epoch (paper 2000), critic steps per generator step (1).
    patience
        Stop after this many epochs without a better validation selection metric.
    val_events
        Validation events used for the per-epoch metrics (a fixed, seeded subsample).
    split_fractions
        Train / validation / test fractions of :func:`turbosim_hep.split.split_mask`.
    seed
        Seed of the weights' initialisation, the batches and the noise.
    """

    l_z_ztilde: float = 10.0
    d_ztilde: float = 1.0
    l_x_xhat: float = 10.0
    d_xhat: float = 1.0
    l_x_xtilde: float = 0.0
    d_xtilde: float = 10.0
    l_z_zhat: float = 100.0
    d_zhat: float = 0.0

    gp_ztilde: float = 1000.0
    gp_xhat: float = 1000.0
    gp_xtilde: float = 10.0
    gp_zhat: float = 1000.0
    critic_mode: str = "wasserstein"
    supervised_loss: str = "gaussian"

    encoder_hidden: tuple[int, ...] = (256, 128, 64)
    decoder_hidden: tuple[int, ...] = (64, 128, 256)
    critic_hidden: tuple[int, ...] = (256, 128, 64)
    input_noise: float = 0.05
    layer_noise: bool = False

    lr: float = 1e-4
    betas: tuple[float, float] = (0.9, 0.7)
    weight_decay: float = 1e-3
    critic_lr: float = 1e-4
    critic_betas: tuple[float, float] = (0.9, 0.7)
    critic_weight_decay: float = 1e-4

    batch_size: int = 100
    steps_per_epoch: int = 2000
    critic_steps: int = 1
    patience: int = 10
    val_events: int = 10_000
    split_fractions: tuple[float, float, float] = (0.7, 0.15, 0.15)
    seed: int = 0

    def __post_init__(self) -> None:
        for name in TERMS + ("gp_ztilde", "gp_xhat", "gp_xtilde", "gp_zhat", "input_noise", "weight_decay"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or isinstance(value, bool) or not value >= 0:
                raise ValueError(f"TurboSimConfig.{name} must be a non-negative number, got {value!r}")
        if not any(getattr(self, t) > 0 for t in TERMS):
            raise ValueError("TurboSimConfig: every loss weight is zero; switch on at least one term")
        if self.critic_mode not in _CRITIC_MODES:
            raise ValueError(f"critic_mode must be one of {_CRITIC_MODES!r}, got {self.critic_mode!r}")
        if self.supervised_loss not in _SUPERVISED_LOSSES:
            raise ValueError(f"supervised_loss must be one of {_SUPERVISED_LOSSES!r}, got {self.supervised_loss!r}")
        for name in ("encoder_hidden", "decoder_hidden", "critic_hidden"):
            widths = getattr(self, name)
            if not isinstance(widths, tuple) or not all(isinstance(w, int) and w > 0 for w in widths):
                raise ValueError(f"TurboSimConfig.{name} must be a tuple of positive ints, got {widths!r}")
        for name in ("batch_size", "steps_per_epoch", "critic_steps", "patience", "val_events"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < (0 if name == "critic_steps" else 1):
                raise ValueError(f"TurboSimConfig.{name} must be a positive int, got {value!r}")
        for name in ("lr", "critic_lr"):
            if not getattr(self, name) > 0:
                raise ValueError(f"TurboSimConfig.{name} must be positive, got {getattr(self, name)!r}")
        fr = self.split_fractions
        if len(fr) != 3 or min(fr) < 0 or abs(sum(fr) - 1.0) > 1e-9 or fr[0] == 0 or fr[1] == 0:
            raise ValueError(
                f"split_fractions must be (train, validation, test) >= 0 summing to 1 with train and validation "
                f"non-zero, got {fr!r}"
            )

    @property
    def active_terms(self) -> tuple[str, ...]:
        """Weight names with a non-zero weight, in the paper's order."""
        return tuple(t for t in TERMS if getattr(self, t) > 0)

    @property
    def active_critics(self) -> tuple[str, ...]:
        """Generated samples that get a critic: ``"z_tilde"``, ``"x_hat"``, ``"x_tilde"``, ``"z_hat"``."""
        return tuple(ADVERSARIAL_TERMS[t][0] for t in self.active_terms if t in ADVERSARIAL_TERMS)

    def weight(self, term: str) -> float:
        """The weight of ``term`` (one of :data:`TERMS`)."""
        if term not in TERMS:
            raise ValueError(f"unknown loss term {term!r}; terms are {TERMS!r}")
        return float(getattr(self, term))

    def gp_weight(self, sample: str) -> float:
        """Gradient-penalty weight of the critic of ``sample`` (``"z_tilde"``, ``"x_hat"``, ...)."""
        return float(getattr(self, "gp_" + sample.replace("_", "")))

    @classmethod
    def preset(cls, name: str, **overrides: Any) -> TurboSimConfig:
        """A named configuration (:data:`PRESETS`), optionally with fields overridden.

        ``turbo`` is the paper's model; ``aae``, ``gan``, ``pix2pix``, ``cycle``, ``direct-only`` and
        ``reverse-only`` switch on the subsets of terms their descriptions list (all other weights zero).

        Example
        -------
        >>> TurboSimConfig.preset("pix2pix", batch_size=256).active_terms
        ('l_x_xtilde', 'd_xtilde')
        """
        if name not in PRESETS:
            raise ValueError(f"unknown preset {name!r}; choose one of {tuple(PRESETS)!r}")
        weights, extra, _ = PRESETS[name]
        return cls(**{**_OFF, **weights, **extra, **overrides})

    def replace(self, **changes: Any) -> TurboSimConfig:
        """A copy with ``changes`` applied (validated again)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (numbers, strings, bools, lists) for JSON and ``torch.load(weights_only=True)``."""
        return {f.name: list(v) if isinstance(v := getattr(self, f.name), tuple) else v for f in _fields()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TurboSimConfig:
        """Inverse of :meth:`to_dict`; unknown keys are a ``ValueError`` (missing ones take their defaults)."""
        known = {f.name: f for f in _fields()}
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise ValueError(f"unknown TurboSimConfig fields {unknown!r}; known fields are {sorted(known)!r}")
        values = {}
        for key, value in data.items():
            if isinstance(value, list):
                value = tuple(value)
            if known[key].type == "float" and isinstance(value, int) and not isinstance(value, bool):
                value = float(value)
            values[key] = value
        return cls(**values)


def _fields() -> tuple[dataclasses.Field, ...]:
    return dataclasses.fields(TurboSimConfig)
