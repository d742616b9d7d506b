"""``turbosim unfold RECO.root --model M --out OUT.root``: parton-level ntuples from detector-level ones."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "unfold",
        help="unfold detector-level events back to the parton level with a trained model",
        description="Write OUT.root with the ids, the unfolded Parton collection in the generator's layout (the "
        "branches 'turbosim generate' writes for the truth) and the input's Electron, MET and Jet, and OUT.root.json "
        "recording the model, seed and input digest. With --samples K each event gives K parton events with 'sample' "
        "and 'sourceIndex' branches. A rerun skips an output made with the same model, seed and input, remakes an "
        "unfinished one and refuses the rest unless --overwrite; the input is never overwritten.",
    )
    p.add_argument("input", help="ROOT file with Electron, MET and Jet branches (from turbosim generate or simulate)")
    p.add_argument("--model", required=True, help="model file (turbosim train, baseline-*) or a shipped model's name")
    p.add_argument("--out", required=True, help="output ROOT file, e.g. unfolded.root")
    p.add_argument("--samples", type=int, default=None, help="parton events drawn per detector event (default: one)")
    p.add_argument("--seed", type=int, default=None, help="noise seed (default: the model's)")
    p.add_argument("--device", default=None, help="cpu or cuda (default: cuda when available)")
    p.add_argument(
        "--overwrite", action="store_true", help="remake an output made with other settings or not made by unfold"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from turbosim_hep.simulation.unfolding import unfold_file

    done = unfold_file(
        args.input,
        args.model,
        args.out,
        **({} if args.samples is None else {"n_samples": args.samples}),
        seed=args.seed,
        device=args.device,
        overwrite=args.overwrite,
    )
    print(done.summary())
    return 0
