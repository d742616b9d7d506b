"""``turbosim generate --events N --out DIR``: Pythia t tbar events through the parametric CMS detector."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "generate",
        help="generate pp -> t tbar -> e- nubar b bbar u dbar events (Pythia 8 + parametric Delphes-CMS detector)",
        description="Generate events in chunks (one seed per chunk, written atomically) into DIR: chunk-NNNN.root, "
        "fileset.json for coffea, provenance.json. Rerunning with the same settings resumes. With --lhe, Pythia "
        "showers the t t~ -> e- ve~ b b~ u d~ events of a Les Houches file (e.g. from MadGraph) instead, with the "
        "partons and ids 'turbosim simulate FILE.lhe' gives them, so full sim and Turbo-Sim match event by event.",
    )
    p.add_argument(
        "--events",
        type=int,
        default=None,
        metavar="N",
        help="events to generate (before selection); with --lhe, the most events to read from the file (default all)",
    )
    p.add_argument("--lhe", default=None, metavar="FILE", help="shower the events of this .lhe or .lhe.gz file")
    p.add_argument(
        "--run",
        type=int,
        default=None,
        help="run id of every event (default: seed + 1; with --lhe 1, as 'turbosim simulate FILE.lhe', and event = "
        "position in the file)",
    )
    p.add_argument("--strict", action="store_true", help="with --lhe: refuse an event of another decay channel")
    p.add_argument("--out", required=True, metavar="DIR", help="output directory")
    p.add_argument("--workers", type=int, default=None, metavar="W", help="processes on this machine (default 1)")
    p.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="run one task per chunk on a dask.distributed cluster instead: 'local' or 'local:N' starts a LocalCluster "
        "of N single-threaded worker processes here (default one per core), an address (tcp://host:8786) uses a "
        "running scheduler, whose workers must see DIR at the same path (a shared filesystem) and run one thread "
        "each; same events as the local pool",
    )
    p.add_argument("--seed", type=int, default=None, metavar="S", help="run seed (default 1)")
    p.add_argument("--chunk-size", type=int, default=None, metavar="C", help="generated events per chunk file")
    p.add_argument("--no-select", action="store_true", help="keep all events (default: the OTUS selection)")
    p.add_argument("--plots", action="store_true", help="write validation plots to DIR/plots")
    p.add_argument("--jet-r", type=float, default=None, metavar="R", help="anti-kt R (default: the card's 0.5)")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import contextlib
    import json
    import sys

    from turbosim_hep.generation.detector_card import DetectorCard
    from turbosim_hep.generation.pipeline import generate
    from turbosim_hep.runtime.cluster import open_client

    if args.events is None and args.lhe is None:
        raise ValueError("give --events N (Pythia makes the hard process) or --lhe FILE (shower a Les Houches file)")
    card = DetectorCard() if args.jet_r is None else DetectorCard(jet_r=args.jet_r)
    options = {
        k: v
        for k, v in (("workers", args.workers), ("seed", args.seed), ("chunk_size", args.chunk_size))
        if v is not None
    }
    with contextlib.nullcontext() if args.scheduler is None else open_client(args.scheduler) as client:
        out = generate(
            args.events,
            args.out,
            client=client,
            select=not args.no_select,
            card=card,
            plots=args.plots,
            progress=False if args.no_progress else None,
            log=lambda line: print(f"turbosim generate: {line}", file=sys.stderr, flush=True),
            **options,
            lhe=args.lhe,
            run=args.run,
            strict=args.strict,
        )
    prov = json.loads((out / "provenance.json").read_text())
    timing = prov["timing"]
    rate = timing["events_per_worker_second"]
    overall = timing["events_made_last_invocation"] / timing["wall_s_last_invocation"]
    print(
        f"{prov['n_events_generated']} events generated, {prov['n_events_written']} written to {out} "
        f"(sigma = {prov['cross_section_pb']:.2f} pb; {timing['chunks_made_last_invocation']} chunks made in "
        f"{timing['wall_s_last_invocation']:.1f} s, {overall:.0f} events/s, {timing['executor_last_invocation']}; "
        f"{rate:.0f} events/s per worker)"
    )
    return 0
