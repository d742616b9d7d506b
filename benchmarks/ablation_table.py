"""One ablation table from several ``quality.json`` files of ``benchmarks/quality.py``: rows = runs, columns = the
unfolding's headline figures (issue 21) with spreads and verdicts, and the simulation's classifier AUCs.

    python benchmarks/ablation_table.py abl/A/quality.json=A abl/B/quality.json=B --baseline A --out abl/table.md

Each JSON is ``PATH[=LABEL]``; a file with several models gives one row per model (``LABEL/model``, or
``--model NAME`` keeps one). The default label is the file's directory name. ``--baseline LABEL`` adds a column
counting the simulation figures worse than that run's beyond two spreads (the runs must be scored on the same test
events); ``--transpose`` puts the runs in columns; ``--csv`` also writes one record per run and figure.
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

from turbosim_hep.evaluation.ablation import ablation_markdown, ablation_records


def load_runs(specs: list[str], *, model: str | None = None) -> dict[str, dict]:
    """``{label: scorecard}`` of the ``PATH[=LABEL]`` quality files, in the order given."""
    runs: dict[str, dict] = {}
    for spec in specs:
        path, _, label = spec.partition("=")
        p = Path(path)
        if not p.is_file():
            raise SystemExit(f"{path!r}: no such file (give the quality.json written by benchmarks/quality.py)")
        result = json.loads(p.read_text(encoding="utf-8"))
        models = [m for m in result.get("models", []) if model is None or m["label"] == model]
        if not models:
            raise SystemExit(f"{path!r}: no model{'' if model is None else f' labelled {model!r}'} in it")
        label = label or (p.parent.name if p.name == "quality.json" else p.stem)
        for m in models:
            key = label if len(models) == 1 else f"{label}/{m['label']}"
            if key in runs:
                raise SystemExit(f"two runs are labelled {key!r}: name them with PATH=LABEL")
            runs[key] = m["scorecard"]
    return runs


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("quality", nargs="+", metavar="QUALITY_JSON[=LABEL]")
    p.add_argument("--model", help="keep only the model with this label from each file")
    p.add_argument("--baseline", help="label of the run whose simulation figures the others must not be worse than")
    p.add_argument("--transpose", action="store_true", help="runs in columns, figures in rows")
    p.add_argument("--out", help="write the Markdown table here too")
    p.add_argument("--csv", help="write one record per run and figure here")
    args = p.parse_intermixed_args()
    runs = load_runs(args.quality, model=args.model)
    try:
        text = ablation_markdown(runs, baseline=args.baseline, transpose=args.transpose)
    except ValueError as err:
        raise SystemExit(str(err)) from None
    print(text)
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
    if args.csv:
        records = ablation_records(runs)
        with open(args.csv, "w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(records[0]))
            writer.writeheader()
            writer.writerows(records)


if __name__ == "__main__":
    main()
