"""``turbosim demo --out DIR``: the whole chain on a small sample (generate, train, evaluate, simulate, coffea)."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    from turbosim_hep.demo import DemoSettings

    d = DemoSettings()
    p = sub.add_parser(
        "demo",
        help="run generate -> train -> evaluate -> simulate -> coffea processor on a small sample",
        description="A few-minute tour of the toolkit: generates events with Pythia, trains a small Turbo-Sim model, "
        "writes the Table-1 report and plots, simulates ntuples and runs the coffea processor. Resumable.",
    )
    p.add_argument("--out", default="turbosim-demo", help="output directory (default: %(default)s)")
    p.add_argument("--events", type=int, default=d.events, help="events to generate (default: %(default)s)")
    p.add_argument("--workers", type=int, default=d.workers, help="generation processes (default: %(default)s)")
    p.add_argument("--epochs", type=int, default=d.epochs, help="training epochs (default: %(default)s)")
    p.add_argument("--seed", type=int, default=d.seed, help="run seed (default: %(default)s)")
    p.add_argument(
        "--model",
        default=d.model,
        help="model of the evaluate, simulate and processor steps: a shipped name or a file (default: %(default)s; "
        "'' uses the demo's own short training)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from turbosim_hep.demo import DemoSettings, run_demo

    run_demo(
        args.out,
        DemoSettings(events=args.events, workers=args.workers, epochs=args.epochs, seed=args.seed, model=args.model),
    )
    return 0
