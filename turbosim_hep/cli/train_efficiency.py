"""``turbosim train-efficiency DATA... --model IN.pt --out OUT.pt``: attach a selection-efficiency model ε(z)."""

from __future__ import annotations

import argparse
import sys


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train-efficiency",
        help="train the selection efficiency eps(z) on a --no-select sample and attach it to a model",
        description="Train eps(z) = P(selected | partons) on a sample made with 'turbosim generate --no-select' (the "
        "OTUS selection decides each event), on the train split with early stopping on the validation split, and "
        "write OUT: the model IN plus the efficiency, so that 'turbosim simulate --unselected-input' marks each event "
        "with passSelection and efficiency. IN is never overwritten. Unset options take the defaults of "
        "turbosim_hep.model.efficiency_training.train_efficiency.",
    )
    p.add_argument(
        "data", nargs="+", metavar="DATA", help="ROOT files, directories or fileset.json of --no-select output"
    )
    p.add_argument("--model", required=True, help="model file (or a shipped model's name) to attach the efficiency to")
    p.add_argument("--out", required=True, help="new model file to write, e.g. model-eff.pt")
    p.add_argument("--seed", type=int, help="seed of the training (weights, batches)")
    p.add_argument("--epochs", type=int, help="most training epochs (early stopping ends sooner)")
    p.add_argument("--report", metavar="DIR", help="also write DIR/efficiency.md, .json and the plot (test split)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    from turbosim_hep.model.efficiency_training import train_efficiency

    options = {k: getattr(args, k) for k in ("seed", "epochs") if getattr(args, k) is not None}
    path, eff = train_efficiency(
        args.data, model=args.model, out=args.out, log=lambda line: print(line, file=sys.stderr, flush=True), **options
    )
    if args.report:
        from turbosim_hep.evaluation.efficiency import efficiency_markdown
        from turbosim_hep.evaluation.efficiency_plots import efficiency_figure
        from turbosim_hep.io.atomic import atomic_path

        out = Path(args.report)
        report = eff.provenance["test"]
        with atomic_path(out / "efficiency.md") as tmp:
            tmp.write_text("# Selection efficiency on the test split\n\n" + efficiency_markdown(report))
        with atomic_path(out / "efficiency.json") as tmp:
            tmp.write_text(json.dumps(eff.provenance, indent=1) + "\n")
        efficiency_figure(report, out / "efficiency")
        print(f"report: {out / 'efficiency.md'}")
    print(f"model with efficiency: {path}")
    return 0
