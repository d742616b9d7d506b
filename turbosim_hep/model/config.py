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

from turbosim_hep.model.presets import PRESETS

#: Epochs of a training run unless told otherwise (``train(epochs=...)``, ``turbosim train --epochs``).
DEFAULT_EPOCHS = 100

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

_CRITIC_MODES = ("wasserstein", "density-ratio")
_SUPERVISED_LOSSES = ("gaussian", "laplace", "energy")
_DECODER_KINDS = ("mlp", "physics")
_ENCODER_KINDS = ("mlp", "flow")
_LR_SCHEDULES = ("constant", "cosine")
_SELECTIONS = ("scorecard", "physics", "ks96", "likelihood")


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
        ``"gaussian"`` (mean squared error), ``"laplace"`` (mean absolute error), both point-wise and so minimised
        by a deterministic network, or ``"energy"``: the energy score of the conditional distribution estimated
        from ``energy_draws`` draws per event, a strictly proper scoring rule (minimised only when the network's
        p(x|z) equals the data's), so it pays for the right spread. In normalised units.
    kind_z_ztilde, kind_x_xhat, kind_x_xtilde, kind_z_zhat
        Per-term override of ``supervised_loss`` (``None``: use ``supervised_loss``).
    energy_draws
        Draws per event of the energy score (k ≥ 2).
    energy_block
        Add the energy score of each block of this many features (4: each object) to the joint one; 0: joint only.
    energy_observables
        Weight of the energy scores of the jet, dijet and trijet masses (:mod:`turbosim_hep.model.observables`)
        added to every energy-score term on X; 0 switches them off.
    energy_directions
        Also score each X object's (log pT, η, cos φ, sin φ) on its own (with ``energy_observables``).
    energy_jet_shapes
        Also score each jet slot's (log pT, η, 10 m / pT) jointly (with ``energy_observables``): the jet mass against
        the jet's pT and η, which the marginal jet masses hide.
    energy_leptons
        Also score the lepton side's masses (with ``energy_observables``): the W's transverse mass, the electron with
        each jet and the electron, the neutrino of the W-mass constraint and each jet (the leptonic-top candidates;
        :func:`~turbosim_hep.model.observables.lepton_observables`), the twins of the dijet and trijet masses.
    energy_reconstructed
        Also score the χ² reconstruction's m_W^had, m_t^had, m_t^lep and m_tt jointly (with ``energy_observables``;
        :func:`~turbosim_hep.model.observables.reconstructed_masses`): the masses a top analysis and Table 1 read.
    energy_response
        Weight of the response score added to an energy-score ℒ(x, x̃): each quark's nearest-jet ΔR and pT ratio, the
        electron's and the missing pT's residuals against the partons of the same event (what a (parton, detector)
        pair shows and the X features alone hide; 0: off).
    energy_met_balance
        The response score (with ``energy_response``) also scores each visible object's pT ratio jointly with the
        missing pT's residual along its parton's direction: how much of the object's mismeasurement the missing pT
        carries (the separate groups leave that correlation free).
    decoder_kind
        ``"mlp"`` (the paper's) or ``"physics"``
        (:class:`~turbosim_hep.model.physics_decoder.PhysicsDecoder`: per-object response networks, outputs
        physical by construction).
    physics_context, physics_hidden, object_noise, event_noise
        Context width, hidden widths, per-object and per-event (shared by all objects) noise sizes of the physics
        decoder.
    radiation
        Give the physics decoder a lost-quark branch: with a probability fitted to the data (a quark without a jet
        within ΔR 0.4, by cross-entropy), a quark's jet comes from a second, wide response network instead.
    jet_mass_bound
        Largest m / pT of a physics-decoder jet, reached smoothly (0: unbounded). An anti-kt jet of radius 0.5 has
        m / pT below about 0.36 (the reference full simulation's largest: 0.368 in 240k jets).
    met_per_object
        Physics decoder: the missing pT's head reads each visible object's transverse mismeasurement, not only their
        sum, so a b jet soft by a neutrino of its own decay can leave more missing pT along it than one soft by
        radiation out of its cone. A decoder saved without it warm-starts (``decoder_from``): the new inputs start
        at zero weight.
    conditional_critic
        The critics of D(x̃) and D(z̃) judge (detector, parton) pairs, D(x̃ | z) and D(z̃ | x)
        (:class:`~turbosim_hep.model.critics.ConditionalCritic`, with physics features), instead of the marginals.
    encoder_kind
        ``"mlp"`` (the paper's: a stochastic MLP, trained by a point or energy score) or ``"flow"``
        (:class:`~turbosim_hep.model.flow_encoder.FlowEncoder`: a conditional normalising flow over the t t̄ decay
        chain, unfolded partons on shell by construction; ℒ(z, z̃) and ℒ(z, ẑ) become its exact negative
        log-likelihood per chain variable, of z given x and of z given x̃ = D(z)).
    flow_context, flow_hidden, flow_transforms
        Width of the flow encoder's detector-event embedding, hidden widths of the embedding and coupling networks,
        number of spline coupling layers.
    flow_passes
        Passes each spline transform of the flow encoder takes to invert: 2 (coupling layers: half the variables
        conditioned on the other half, sampling as fast as the density) or 0 (fully autoregressive: each variable
        conditioned on all before it, one pass per variable to sample, 16 in all).
    flow_assignment
        The flow encoder weighs the 48 jet–quark assignments (four jets to b, b̄, u, d̄, and the two neutrino roots)
        with a categorical head and models the chain relative to the chosen one's reference
        (:class:`~turbosim_hep.model.assigned_flow_encoder.AssignedFlowEncoder`); needs ``encoder_kind='flow'``.
    flow_lab
        With ``flow_assignment``: the flow models each parton in the laboratory next to its detected object (pT ratio
        and η, φ offsets of the u quark and the electron, the d̄ and b directions with momenta from the W⁺ and top
        masses, the leptonic top's rapidity and mass, the W⁻ mass and the neutrino's cone azimuth) instead of the
        decay chain's rest-frame angles (:class:`~turbosim_hep.model.lab_flow_encoder.LabFlowEncoder`).
    flow_electron
        With ``flow_assignment``: the decay chain keeps the t t̄ system, both tops and the hadronic side, and the
        electron is drawn in the laboratory next to the detected electron (pT ratio, η and φ offsets), the leptonic
        top's decay from the W⁻ mass and the neutrino's cone azimuth
        (:class:`~turbosim_hep.model.electron_flow_encoder.ElectronFlowEncoder`). Excludes ``flow_lab``.
    beam_flip
        Each training event enters a batch as itself or, with probability 1/2, rotated by π about the x axis
        (p_y, p_z → −p_y, −p_z for every parton and detector object, the pair alike): the beams swapped, an exact
        symmetry of pp collisions and of the detector, so the networks see twice the events they can learn by heart.
    decoder_from, freeze_decoder
        Start the decoder from the decoder of this model (a file or a shipped name; ``""``: from scratch; the
        configurations' decoders must match) and, with ``freeze_decoder``, keep it fixed: the encoder then learns
        against a trained simulation (its refolding term ℒ(x, x̂) goes through the fixed decoder).
    encoder_from, freeze_encoder
        The same for the encoder: with ``freeze_encoder`` a new simulation is trained beside a finished unfolding
        (terms that train only the encoder are skipped; validation still scores both).
    truncate, redraw_attempts
        Truncate the physics decoder to the detector's phase space (:mod:`turbosim_hep.simulation.phase_space`): a draw
        outside it is redrawn, up to ``redraw_attempts`` draws per event in ``simulate()`` (training scores the
        truncated draws after up to 4).
    scaled_jet_threshold
        Truncate the jets at the jet finder's threshold after the energy scale (22.9 GeV at η = 0, where no measured
        jet lies below; the detector card's) rather than at the bare 20 GeV (what models written before this field
        used, and keep).
    encoder_hidden, decoder_hidden, critic_hidden
        Hidden widths; paper: encoder 256, 128, 64; decoder 64, 128, 256; critics 256, 128, 64. ReLU, linear output.
    input_noise
        Scale of the N(0, 1) noise added (out of place) to each network's normalised input; paper 0.05.
    noise_features
        Standard normals concatenated to each MLP's input (the MLP's own randomness; 0 in the paper).
    layer_noise
        Inject N(0, 1) noise after every hidden layer, with a learned per-unit scale starting at
        ``layer_noise_init`` (not weight-decayed, so it can grow or shrink).
    lr, betas, weight_decay
        Adam for encoder and decoder; paper 1e-4, (0.9, 0.7), 1e-3.
    critic_lr, critic_betas, critic_weight_decay
        Adam for the critics; paper 1e-4, (0.9, 0.7), 1e-4.
    lr_schedule
        ``"constant"`` or ``"cosine"`` (from ``lr`` down to ``lr / 20`` at the last epoch, per epoch).
    ema
        Decay per step of an exponential moving average of the encoder and decoder weights (e.g. 0.999; 0: off).
        Validation scores, and the best model holds, the averaged weights; the ``.last`` file keeps both.
    batch_size, steps_per_epoch, critic_steps
        Events per batch (paper 100), generator steps per epoch (paper 2000), critic steps per generator step (1).
    patience
        Stop after this many epochs without a better validation selection metric.
    selection
        Model-selection criterion on validation: ``"scorecard"`` (default: ``"physics"`` plus the share of D(z)
        outside the detector's phase space beyond the full simulation's and the pair classifier's AUC − 0.5),
        ``"physics"`` (the ten Table-1 KS columns, jets sorted as ``simulate()`` returns them, plus the mean KS of
        the conditional response), ``"ks96"`` (the paper's sum of 96 marginal KS) or ``"likelihood"`` (a flow
        encoder's held-out −log q(z|x): for an encoder trained beside a fixed decoder; it judges nothing else); see
        :mod:`turbosim_hep.model.validation`.
    val_events
        Validation events used for the per-epoch metrics (a fixed, seeded subsample; default: up to 100k, i.e. all
        of a sample of a few hundred thousand events, so the criterion's noise stays below the differences it
        decides).
    split_fractions
        Train / validation / test fractions of :func:`turbosim_hep.events.split.split_mask`.
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
    kind_z_ztilde: str | None = None
    kind_x_xhat: str | None = None
    kind_x_xtilde: str | None = None
    kind_z_zhat: str | None = None
    energy_draws: int = 2
    energy_block: int = 4
    energy_observables: float = 0.0
    energy_directions: bool = False
    energy_jet_shapes: bool = False
    energy_leptons: bool = False
    energy_reconstructed: bool = False
    energy_response: float = 0.0
    energy_met_balance: bool = False

    decoder_kind: str = "mlp"
    encoder_hidden: tuple[int, ...] = (256, 128, 64)
    decoder_hidden: tuple[int, ...] = (64, 128, 256)
    critic_hidden: tuple[int, ...] = (256, 128, 64)
    physics_context: int = 32
    physics_hidden: tuple[int, ...] = (64, 64)
    object_noise: int = 8
    event_noise: int = 0
    truncate: bool = False
    scaled_jet_threshold: bool = True
    radiation: bool = False
    jet_mass_bound: float = 0.0
    met_per_object: bool = False
    conditional_critic: bool = False
    redraw_attempts: int = 32
    encoder_kind: str = "mlp"
    flow_context: int = 128
    flow_hidden: tuple[int, ...] = (256, 256)
    flow_transforms: int = 6
    flow_passes: int = 2
    flow_assignment: bool = False
    flow_lab: bool = False
    flow_electron: bool = False
    beam_flip: bool = False
    decoder_from: str = ""
    freeze_decoder: bool = False
    encoder_from: str = ""
    freeze_encoder: bool = False
    input_noise: float = 0.05
    noise_features: int = 0
    layer_noise: bool = False
    layer_noise_init: float = 0.1

    lr: float = 1e-4
    betas: tuple[float, float] = (0.9, 0.7)
    weight_decay: float = 1e-3
    critic_lr: float = 1e-4
    critic_betas: tuple[float, float] = (0.9, 0.7)
    critic_weight_decay: float = 1e-4
    lr_schedule: str = "constant"
    ema: float = 0.0

    batch_size: int = 100
    steps_per_epoch: int = 2000
    critic_steps: int = 1
    patience: int = 10
    selection: str = "scorecard"
    val_events: int = 100_000
    split_fractions: tuple[float, float, float] = (0.7, 0.15, 0.15)
    seed: int = 0

    def __post_init__(self) -> None:
        for name in TERMS + (
            "gp_ztilde", "gp_xhat", "gp_xtilde", "gp_zhat", "input_noise", "weight_decay", "energy_observables",
            "energy_response", "jet_mass_bound"
        ):  # fmt: skip
            value = getattr(self, name)
            if not isinstance(value, int | float) or isinstance(value, bool) or not value >= 0:
                raise ValueError(f"TurboSimConfig.{name} must be a non-negative number, got {value!r}")
        if not any(getattr(self, t) > 0 for t in TERMS):
            raise ValueError("TurboSimConfig: every loss weight is zero; switch on at least one term")
        if self.critic_mode not in _CRITIC_MODES:
            raise ValueError(f"critic_mode must be one of {_CRITIC_MODES!r}, got {self.critic_mode!r}")
        if self.supervised_loss not in _SUPERVISED_LOSSES:
            raise ValueError(f"supervised_loss must be one of {_SUPERVISED_LOSSES!r}, got {self.supervised_loss!r}")
        for term in SUPERVISED_TERMS:
            kind = self.supervised_kind(term)
            if kind not in _SUPERVISED_LOSSES:
                raise ValueError(f"supervised loss of {term} must be one of {_SUPERVISED_LOSSES!r}, got {kind!r}")
        for name, allowed in (
            ("decoder_kind", _DECODER_KINDS),
            ("encoder_kind", _ENCODER_KINDS),
            ("lr_schedule", _LR_SCHEDULES),
            ("selection", _SELECTIONS),
        ):
            if getattr(self, name) not in allowed:
                raise ValueError(f"TurboSimConfig.{name} must be one of {allowed!r}, got {getattr(self, name)!r}")
        if not isinstance(self.energy_draws, int) or self.energy_draws < 2:
            raise ValueError(f"TurboSimConfig.energy_draws must be an int >= 2, got {self.energy_draws!r}")
        if not (isinstance(self.ema, int | float) and 0.0 <= self.ema < 1.0):
            raise ValueError(f"TurboSimConfig.ema must be in [0, 1), got {self.ema!r}")
        if self.energy_block not in (0, 1, 2, 3, 4, 6, 8, 12, 24):
            raise ValueError(f"TurboSimConfig.energy_block must divide 24 (or be 0), got {self.energy_block!r}")
        if not isinstance(self.object_noise, int) or self.object_noise < 4:
            raise ValueError(f"TurboSimConfig.object_noise must be an int >= 4, got {self.object_noise!r}")
        if self.flow_passes != 0 and self.flow_passes < 2:
            raise ValueError(
                f"TurboSimConfig.flow_passes must be 0 (fully autoregressive) or at least 2, got {self.flow_passes!r}"
            )
        for name in ("noise_features", "physics_context", "event_noise", "flow_context", "flow_transforms"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 0:
                raise ValueError(f"TurboSimConfig.{name} must be a non-negative int, got {getattr(self, name)!r}")
        if self.freeze_decoder and not self.decoder_from:
            raise ValueError("TurboSimConfig.freeze_decoder needs decoder_from (a model whose decoder to keep)")
        if self.selection == "likelihood" and self.encoder_kind != "flow":
            raise ValueError(
                "TurboSimConfig.selection='likelihood' (the flow encoder's held-out log q(z|x)) needs "
                "encoder_kind='flow'"
            )
        if self.flow_assignment and self.encoder_kind != "flow":
            raise ValueError("TurboSimConfig.flow_assignment needs encoder_kind='flow'")
        if self.flow_lab and not self.flow_assignment:
            raise ValueError(
                "TurboSimConfig.flow_lab needs flow_assignment (its coordinates are measured from an assignment's jets)"
            )
        if self.flow_electron and not self.flow_assignment:
            raise ValueError(
                "TurboSimConfig.flow_electron needs flow_assignment (the electron chain is measured from an "
                "assignment's reference event)"
            )
        if self.flow_electron and self.flow_lab:
            raise ValueError("TurboSimConfig: flow_electron and flow_lab are two coordinate choices; pick one")
        if self.freeze_encoder and not self.encoder_from:
            raise ValueError("TurboSimConfig.freeze_encoder needs encoder_from (a model whose encoder to keep)")
        if self.freeze_encoder and self.freeze_decoder:
            raise ValueError("TurboSimConfig: freeze_encoder and freeze_decoder together leave nothing to train")
        for name in ("encoder_hidden", "decoder_hidden", "critic_hidden", "physics_hidden", "flow_hidden"):
            widths = getattr(self, name)
            if not isinstance(widths, tuple) or not all(isinstance(w, int) and w > 0 for w in widths):
                raise ValueError(f"TurboSimConfig.{name} must be a tuple of positive ints, got {widths!r}")
        for name in ("batch_size", "steps_per_epoch", "critic_steps", "patience", "val_events", "redraw_attempts"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < (0 if name == "critic_steps" else 1):
                raise ValueError(f"TurboSimConfig.{name} must be a positive int, got {value!r}")
        for name in ("lr", "critic_lr"):
            if not getattr(self, name) > 0:
                raise ValueError(f"TurboSimConfig.{name} must be positive, got {getattr(self, name)!r}")
        from turbosim_hep.runtime.seeds import check_seed

        check_seed(self.seed)
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

    def supervised_kind(self, term: str) -> str:
        """The supervised loss of ``term`` (``"l_z_ztilde"``, ...): its ``kind_*`` override or ``supervised_loss``."""
        override = getattr(self, "kind_" + term.removeprefix("l_"))
        return self.supervised_loss if override is None else override

    @property
    def draws(self) -> int:
        """Network draws per event in a training step: ``energy_draws`` if an active term uses the energy score."""
        uses_energy = any(self.supervised_kind(t) == "energy" for t in self.active_terms if t in SUPERVISED_TERMS)
        return self.energy_draws if uses_energy else 1

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
        return cls(**{**dict.fromkeys(TERMS, 0.0), **weights, **extra, **overrides})  # unlisted weights: off

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
        # written before the truncation knew the jet energy scale: those models were truncated at the bare 20 GeV
        values: dict[str, Any] = {"scaled_jet_threshold": False}
        for key, value in data.items():
            if isinstance(value, list):
                value = tuple(value)
            if known[key].type == "float" and isinstance(value, int) and not isinstance(value, bool):
                value = float(value)
            values[key] = value
        return cls(**values)


def _fields() -> tuple[dataclasses.Field, ...]:
    return dataclasses.fields(TurboSimConfig)
