"""``turbosim train DATA... --preset turbo --epochs N --out model.pt``: train a Turbo-Sim model."""

from __future__ import annotations

import argparse
import sys

from turbosim_hep.model.config import DEFAULT_EPOCHS


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train",
        help="train a Turbo-Sim model on files of the event layout",
        description="Train encoder and decoder on paired parton/detector events. DATA are ROOT files, directories "
        "of chunk-*.root or a coffea fileset.json. Writes OUT (best model by the validation KS sum), "
        "OUT.last.pt (for --resume) and OUT.metrics.jsonl. Unset options take the preset's values "
        "(turbosim_hep.model.config.TurboSimConfig).",
    )
    p.add_argument("data", nargs="+", metavar="DATA", help="ROOT files, directories or fileset.json")
    p.add_argument(
        "--preset",
        default="turbo",
        help="physics (the toolkit's simulator), turbo (the paper's), aae, gan, pix2pix, cycle, direct-only, "
        "reverse-only (default: %(default)s)",
    )
    p.add_argument("--epochs", type=int, default=None, help=f"total number of epochs (default: {DEFAULT_EPOCHS})")
    p.add_argument("--out", required=True, help="model file to write, e.g. model.pt")
    p.add_argument("--resume", action="store_true", help="continue the run saved in OUT's .last.pt exactly")
    p.add_argument("--overwrite", action="store_true", help="start afresh even if OUT exists")
    p.add_argument("--device", choices=("cuda", "cpu"), help="default: CUDA when available")
    p.add_argument("--batch-size", type=int)
    p.add_argument("--steps-per-epoch", type=int)
    p.add_argument("--critic-steps", type=int, help="critic steps per generator step")
    p.add_argument("--lr", type=float, help="learning rate of encoder and decoder")
    p.add_argument("--patience", type=int, help="early stopping: epochs without improvement")
    p.add_argument("--val-events", type=int, help="validation events used for the per-epoch metrics")
    p.add_argument("--seed", type=int)
    p.add_argument("--input-noise", type=float, help="scale of the noise added to the normalised inputs (paper 0.05)")
    p.add_argument(
        "--layer-noise", action="store_true", default=None, help="inject noise after every hidden layer (learned scale)"
    )
    p.add_argument(
        "--weight",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="set a loss weight, e.g. --weight l_x_xtilde=10 (names: l_z_ztilde d_ztilde l_x_xhat d_xhat "
        "l_x_xtilde d_xtilde l_z_zhat d_zhat; 0 switches a term off)",
    )
    p.add_argument(
        "--loss",
        action="append",
        default=[],
        metavar="TERM=KIND",
        help="supervised loss of one term: gaussian, laplace or energy (the energy score of the conditional "
        "distribution), e.g. --loss l_x_xtilde=energy; --loss all=KIND sets every term",
    )
    p.add_argument("--ema", type=float, help="decay per step of a moving average of the weights (e.g. 0.999; 0 off)")
    p.add_argument(
        "--truncate",
        action=argparse.BooleanOptionalAction,
        help="physics decoder: redraw draws outside the detector's phase space (the physics preset's default)",
    )
    p.add_argument("--event-noise", type=int, help="physics decoder: noise shared by all objects of an event")
    p.add_argument(
        "--radiation",
        action=argparse.BooleanOptionalAction,
        help="physics decoder: a quark may lose its jet to a wide response (off in the physics preset: it made the "
        "pair classifier's job easier in the ablation)",
    )
    p.add_argument(
        "--jet-mass-bound",
        type=float,
        metavar="RATIO",
        help="physics decoder: largest jet m / pT, reached smoothly (0: unbounded; the full simulation's is 0.36)",
    )
    p.add_argument(
        "--met-per-object",
        action=argparse.BooleanOptionalAction,
        help="physics decoder: the missing pT's head reads each visible object's mismeasurement, not only their "
        "sum (a model without it warm-starts with --decoder-from: the new inputs start at zero weight)",
    )
    p.add_argument(
        "--jet-shapes",
        dest="energy_jet_shapes",
        action=argparse.BooleanOptionalAction,
        help="the energy score on X also scores each jet's (log pT, eta, m / pT) jointly (on in the physics presets)",
    )
    p.add_argument(
        "--lepton-observables",
        dest="energy_leptons",
        action=argparse.BooleanOptionalAction,
        help="the energy score on X also scores the lepton side's masses: the W's transverse mass, m(e, jet) and "
        "m(e, nu, jet) with the nu of the W-mass constraint (the leptonic twins of the dijet and trijet masses)",
    )
    p.add_argument(
        "--met-balance",
        dest="energy_met_balance",
        action=argparse.BooleanOptionalAction,
        help="the response score also scores each object's pT ratio jointly with the missing pT's residual along "
        "it (how much of a mismeasurement the missing pT carries)",
    )
    p.add_argument(
        "--reconstructed-masses",
        dest="energy_reconstructed",
        action=argparse.BooleanOptionalAction,
        help="the energy score on X also scores the chi^2 reconstruction's m_W(had), m_t(had), m_t(lep) and m_tt "
        "jointly (the masses of Table 1 and of the mass peaks)",
    )
    p.add_argument(
        "--conditional-critic",
        action=argparse.BooleanOptionalAction,
        help="the critic of D(x~) judges (z, x) pairs with physics features (needs --weight d_xtilde=... and "
        "--critic-steps)",
    )
    p.add_argument(
        "--encoder",
        dest="encoder_kind",
        choices=("mlp", "flow"),
        help="flow: a conditional normalising flow over the t tbar decay chain (on-shell unfolded partons, exact "
        "likelihood); mlp: the paper's stochastic MLP",
    )
    p.add_argument(
        "--flow-assignment",
        action=argparse.BooleanOptionalAction,
        help="the flow encoder weighs the 48 jet-quark assignments (and neutrino roots) and models the partons "
        "relative to the chosen one: unfolded quarks next to jets",
    )
    p.add_argument(
        "--flow-lab",
        action=argparse.BooleanOptionalAction,
        help="with --flow-assignment: the flow models each parton in the laboratory next to its detected object (pT "
        "ratio, eta and phi offsets; d-bar and b momenta from the W and top masses; the neutrino on the cone the W- "
        "and leptonic top masses leave) instead of the decay chain's rest-frame angles",
    )
    p.add_argument(
        "--flow-electron",
        action=argparse.BooleanOptionalAction,
        help="with --flow-assignment: the decay chain with the electron drawn in the laboratory next to the detected "
        "electron (pT ratio, eta and phi offsets) and the neutrino on the cone the W- and leptonic top masses leave; "
        "the tops and the hadronic side keep the chain's rest-frame angles",
    )
    p.add_argument(
        "--flow-passes",
        type=int,
        help="passes each spline transform of the flow encoder takes to invert: 2 (coupling layers, the default) or "
        "0 (fully autoregressive: each chain variable conditioned on all before it; sampling takes 16 passes)",
    )
    p.add_argument(
        "--beam-flip",
        action=argparse.BooleanOptionalAction,
        help="train on each event or, at random, its copy rotated by pi about the x axis (py, pz -> -py, -pz; the "
        "beams swapped: an exact symmetry of pp collisions and the detector): twice the events to learn from",
    )
    p.add_argument(
        "--decoder-from",
        metavar="MODEL",
        help="start the decoder from this model's (file or shipped name, e.g. ttbar-physics)",
    )
    p.add_argument(
        "--freeze-decoder",
        action=argparse.BooleanOptionalAction,
        help="keep the decoder of --decoder-from fixed: train the encoder against that simulation",
    )
    p.add_argument(
        "--encoder-from",
        metavar="MODEL",
        help="start the encoder from this model's (file or shipped name, e.g. ttbar-physics)",
    )
    p.add_argument(
        "--freeze-encoder",
        action=argparse.BooleanOptionalAction,
        help="keep the encoder of --encoder-from fixed: train a new simulation beside that unfolding",
    )
    p.add_argument(
        "--selection",
        choices=("scorecard", "physics", "ks96", "likelihood"),
        help="model-selection criterion on validation (default scorecard: Table-1 columns + response + the share "
        "outside the detector's phase space + the pair classifier's AUC; physics: without the last two; likelihood: a "
        "flow encoder's held-out log q(z|x), for an encoder trained beside a frozen decoder)",
    )
    p.add_argument("--no-physics", action="store_true", help="skip the reconstructed-mass KS columns")
    p.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch CPU threads (default 1: these small networks gain little from more threads, and a second thread on "
        "a busy machine made training 50x slower here)",
    )
    p.set_defaults(func=run)


def _overrides(args: argparse.Namespace) -> dict[str, object]:
    from turbosim_hep.model.config import TERMS

    out: dict[str, object] = {}
    for name in (
        "batch_size",
        "steps_per_epoch",
        "critic_steps",
        "lr",
        "patience",
        "val_events",
        "seed",
        "input_noise",
        "layer_noise",
        "selection",
        "ema",
        "truncate",
        "event_noise",
        "radiation",
        "jet_mass_bound",
        "met_per_object",
        "energy_jet_shapes",
        "energy_leptons",
        "energy_reconstructed",
        "energy_met_balance",
        "conditional_critic",
        "encoder_kind",
        "flow_assignment",
        "flow_lab",
        "flow_electron",
        "flow_passes",
        "beam_flip",
        "decoder_from",
        "freeze_decoder",
        "encoder_from",
        "freeze_encoder",
    ):
        value = getattr(args, name)
        if value is not None:
            out[name] = value
    for item in args.weight:
        name, sep, value = item.partition("=")
        if not sep or name not in TERMS:
            raise ValueError(f"--weight expects NAME=VALUE with NAME one of {TERMS!r}, got {item!r}")
        try:
            out[name] = float(value)
        except ValueError:
            raise ValueError(f"--weight {name}: {value!r} is not a number") from None
    for item in args.loss:
        name, sep, kind = item.partition("=")
        supervised = [t for t in TERMS if t.startswith("l_")]
        if not sep or name not in (*supervised, "all"):
            raise ValueError(f"--loss expects TERM=KIND with TERM one of {(*supervised, 'all')!r}, got {item!r}")
        if name == "all":
            out["supervised_loss"] = kind
            out.update({"kind_" + t.removeprefix("l_"): None for t in supervised})
        else:
            out["kind_" + name.removeprefix("l_")] = kind
    return out


def run(args: argparse.Namespace) -> int:
    import torch

    from turbosim_hep.model.config import TurboSimConfig
    from turbosim_hep.model.training import train

    if args.threads:
        torch.set_num_threads(args.threads)
    overrides = _overrides(args)
    config = None if args.resume and not overrides else TurboSimConfig.preset(args.preset, **overrides)
    best = train(
        args.data,
        config=config,
        **({} if args.epochs is None else {"epochs": args.epochs}),
        out=args.out,
        resume=args.resume,
        overwrite=args.overwrite,
        device=args.device,
        physics=not args.no_physics,
        log=lambda line: print(line, file=sys.stderr, flush=True),
    )
    print(f"best model: {best}")
    return 0
