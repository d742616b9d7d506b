"""``turbosim evaluate MODEL DATA... --out DIR``: the Table-1 report of a model on the test split."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "evaluate",
        help="compare a model's outputs with the truth of the test split (Table 1, all features, plots)",
        description="Run the model both ways on the test split of DATA (x~ = D(z), z~ = E(x), x^ = D(E(x)), "
        "z^ = E(D(z))), compare with the truth by KS, W1, chi^2 and a classifier AUC, each beside its statistical "
        "floor, and write OUT/report.md, OUT/report.json and OUT/plots/.",
    )
    p.add_argument("model", help="model file: `turbosim train`, `baseline-otus` or `baseline-lookup` output")
    p.add_argument("data", nargs="+", help="ROOT files, directories (fileset.json or *.root) or fileset JSON files")
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument(
        "--split",
        choices=("test", "validation", "all"),
        default="test",
        help="events to score: the model's test split (default; by the split fractions saved with the model), its "
        "validation split (only for a model that did not select on it) or all events (a dedicated sample made "
        "with other seeds; refused for files the model trained on)",
    )
    p.add_argument("--max-events", type=int, default=None, help="evaluate at most N events")
    p.add_argument("--no-plots", action="store_true", help="skip the comparison plots")
    p.add_argument(
        "--classifier",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="run the classifier two-sample test (default: on)",
    )
    p.add_argument(
        "--seed", type=int, default=None, help="seed of the model noise and the classifier (default: evaluate()'s)"
    )
    p.set_defaults(func=run)


_SHORT = {
    "Turbo-Sim (arXiv:2112.10629) [paper]": "Turbo-Sim¹",
    "OTUS (arXiv:2112.10629) [paper]": "OTUS¹",
    "OTUS (arXiv:2101.08944) [paper]": "OTUS²",
    "this model, sampled": "sampled",
    "this model, reconstructed": "reco.",
    "floor: truth half vs half": "floor",
    "expected floor 0.87*sqrt(1/n+1/m)": "exp. floor",
}


def _print_table(report) -> None:
    """Table 1 transposed (one row per variable) so that it fits a terminal."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    labels = [c["label"] for c in report.table1["columns"]]
    for scheme in ("independent", "paired"):
        rows = report.table1_rows(scheme)
        table = Table(title=f"KS distance to the truth (x 1e-2), {scheme} samples", title_justify="left")
        table.add_column("variable")
        for name, _ in rows:
            style = "dim" if "[paper]" in name else ("italic" if "floor" in name else "bold")
            table.add_column(_SHORT.get(name, name), justify="right", style=style)
        for i, lab in enumerate(labels):
            table.add_row(lab, *("–" if vals[i] is None else f"{vals[i]:.3g}" for _, vals in rows))
        console.print(table)
    console.print("¹ arXiv:2112.10629 Table 1; ² arXiv:2101.08944. Floor: the same KS between two halves of the truth.")
    if report.classifier:
        parts = [
            f"{space}: sampled {c.get('sampled', float('nan')):.3f}, floor {c['floor']:.3f} ± {c['null_std']:.3f}"
            for space, c in report.classifier.items()
        ]
        console.print("classifier AUC (0.5 = indistinguishable): " + "; ".join(parts))
    elif report.meta.get("classifier_skipped"):
        console.print(f"classifier two-sample test skipped: {report.meta['classifier_skipped']}")
    if report.scorecard:
        _print_scorecard(console, report.scorecard)


def _print_scorecard(console, card) -> None:
    """Phase space, classifier AUCs and the targets with their verdicts."""
    from rich.table import Table

    from turbosim_hep.evaluation.targets import scorecard_targets

    ps = card["phase_space"]
    console.print(
        "events outside the detector's phase space: "
        + ", ".join(f"{k} {100 * v['outside']:.2f} ± {100 * v['outside_spread']:.2f} %" for k, v in ps.items())
    )
    for c in (card.get("classifiers") or {}).values():
        console.print(f"AUC {c['description']}: {c['auc']:.3f} ± {c['spread']:.3f}")
    table = Table(title="targets (beyond 2 spreads)", title_justify="left")
    for col in ("target", "verdict", "figure"):
        table.add_column(col)
    style = {"met": "green", "within noise": "yellow", "missed": "bold red"}
    for target, verdict, figure in scorecard_targets(card):
        table.add_row(target, f"[{style[verdict]}]{verdict}[/]", figure)
    console.print(table)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from turbosim_hep.evaluation.scoring import evaluate

    if args.max_events is not None and args.max_events < 4:
        raise ValueError(f"--max-events must be at least 4, got {args.max_events!r}")
    report = evaluate(
        args.model,
        args.data,
        out=args.out,
        split=args.split,
        max_events=args.max_events,
        plots=not args.no_plots,
        classifier=args.classifier,
        **({} if args.seed is None else {"seed": args.seed}),
    )
    _print_table(report)
    out = Path(args.out)
    print(f"wrote {out / 'report.md'}, {out / 'report.json'}" + ("" if args.no_plots else f" and {out / 'plots'}/"))
    return 0
