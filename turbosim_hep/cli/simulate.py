"""``turbosim simulate PARTONS.root... --model M --out DIR``: Turbo-Sim detector-level ntuples from partons."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "simulate",
        help="simulate detector-level events from parton-level ntuples with a trained model",
        description="Write, for each input file, DIR/<same name>.root with the ids, the partons and the simulated "
        "Electron, MET and Jet branches in the generator's layout, and DIR/<same name>.root.json recording the model, "
        "seed and input digests. A rerun skips outputs made with the same model, seed and inputs, remakes unfinished "
        "ones and refuses the rest unless --overwrite; inputs are never overwritten.",
    )
    p.add_argument(
        "inputs",
        nargs="+",
        help="ROOT files with a Parton collection, directories of them, a fileset.json, or Les Houches files "
        "(run.lhe, run.lhe.gz, e.g. from MadGraph: the t t~ -> e- ve~ b b~ u d~ decay products, written as run.root)",
    )
    p.add_argument("--model", required=True, help="model file (turbosim train, baseline-*) or a shipped model's name")
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--samples", type=int, default=None, help="detector responses per parton event (default: one)")
    p.add_argument("--seed", type=int, default=None, help="noise seed (default: the model's)")
    p.add_argument("--device", default=None, help="cpu or cuda (default: cuda when available)")
    p.add_argument(
        "--overwrite", action="store_true", help="remake outputs made with other settings or not made by simulate"
    )
    p.add_argument(
        "--run", type=int, default=1, help="run id of the events of Les Houches inputs (event = position in the file)"
    )
    p.add_argument(
        "--strict",
        action="store_true",
        help="refuse a Les Houches event of another decay channel (default: count and skip it)",
    )
    chosen = p.add_mutually_exclusive_group()
    chosen.add_argument(
        "--selected-input",
        dest="selected_input",
        action="store_const",
        const=True,
        default=None,
        help="the partons passed the selection the model was trained on: every event comes back as selected, no extra "
        "branch (the default for ROOT files other than 'turbosim generate --no-select' output)",
    )
    chosen.add_argument(
        "--unselected-input",
        dest="selected_input",
        action="store_const",
        const=False,
        help="the partons were never selected (the default for Les Houches files and 'turbosim generate --no-select' "
        "output): each event gets passSelection (drawn with the model's efficiency eps(z)) and the weight "
        "efficiency; the model needs an efficiency ('turbosim train-efficiency')",
    )
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run one task per input file on a dask cluster: 'local' or 'local:N' (a LocalCluster of N one-thread "
        "workers here) or a scheduler address such as tcp://host:8786; workers must see the inputs and --out at the "
        "same paths (a shared filesystem). Outputs equal a serial run's",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import contextlib

    from turbosim_hep.runtime.cluster import open_client
    from turbosim_hep.simulation.files import simulate_files

    with contextlib.nullcontext() if args.scheduler is None else open_client(args.scheduler) as client:
        done = simulate_files(
            args.inputs,
            args.model,
            args.out,
            **({} if args.samples is None else {"n_samples": args.samples}),
            seed=args.seed,
            device=args.device,
            overwrite=args.overwrite,
            client=client,
            lhe_run=args.run,
            strict=args.strict,
            selected_input=args.selected_input,
        )
    for line in done.lhe_summaries:
        print(line)
    print(f"{len(done)} output file(s) in {args.out}: {done.summary()}")
    return 0
