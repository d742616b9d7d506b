"""Named configurations of :class:`~turbosim_hep.model.config.TurboSimConfig` (``--preset`` on the command line):
the paper's model, the models its eight terms recover when switched on and off, and the toolkit's simulator."""

from __future__ import annotations

from typing import Any

__all__ = ("PRESETS",)

#: What the physics presets share: the truncated physics decoder's options (phase space, event noise, the response
#: to the partons and each jet's mass against its pT and η scored beside the detector event) and the optimisation
#: (Adam 1e-3, cosine schedule, averaged weights, 512-event batches, no critic).
_PHYSICS_TRAINING: dict[str, Any] = {
    "input_noise": 0.0,
    "lr": 1e-3,
    "betas": (0.9, 0.999),
    "weight_decay": 0.0,
    "lr_schedule": "cosine",
    "ema": 0.999,
    "batch_size": 512,
    "steps_per_epoch": 1000,
    "critic_steps": 0,
    "patience": 1000,
    "truncate": True,
    "event_noise": 4,
    "energy_response": 1.0,
    "energy_jet_shapes": True,
}

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
    "physics": (
        {"l_x_xtilde": 1.0, "l_z_ztilde": 1.0},
        {
            "supervised_loss": "energy",
            "energy_observables": 1.0,
            "decoder_kind": "physics",
            "encoder_hidden": (256, 256, 128),
            "noise_features": 8,
            **_PHYSICS_TRAINING,
        },
        "the toolkit's simulator: physics-structured decoder (truncated to the detector's phase space, event noise) "
        "and MLP encoder, each trained by the energy score of its conditional distribution (ℒ(x,x̃) also scores the "
        "jet-parton response and each jet's mass against its pT and η): ℒ(x,x̃) 1, "
        "ℒ(z,z̃) 1 (energy), Adam 1e-3 with a cosine schedule, weights averaged",
    ),
    "turbo-physics": (
        {"l_x_xtilde": 1.0, "l_z_ztilde": 1.0},
        {
            "supervised_loss": "energy",
            "energy_observables": 1.0,
            "decoder_kind": "physics",
            "encoder_kind": "flow",
            "flow_assignment": True,
            **_PHYSICS_TRAINING,
        },
        "physics networks both ways (the shipped ttbar-physics): the physics decoder (as in 'physics') and a "
        "flow encoder over the t tbar decay chain (on-shell unfolded partons) that weighs the 48 jet-quark "
        "assignments and measures each decay angle from the chosen one's jets; ℒ(x,x̃) 1 (energy) and ℒ(z,z̃) 1 "
        "(the flow's likelihood of z given x). The joining terms ℒ(z,ẑ), ℒ(x,x̂) and the critics are options "
        "(--weight): in the eight-term ablation none earned its place at equal steps (model card)",
    ),
}
