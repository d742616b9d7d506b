"""The scorecard of several models on the same test events, side by side, every figure with its spread.

    python benchmarks/quality.py ttbar-physics=Turbo-Sim ttbar-otus=OTUS lookup.pt=lookup \\
        --data /work/shared/data/ttbar-ref --out quality/

Each MODEL is a model file (Turbo-Sim checkpoint, OTUS or lookup baseline) or a shipped model's name, optionally
``=LABEL``. Every model is scored through the public path (``simulate_features`` / ``unfold_features``, jets sorted
as ``simulate()`` returns them, posterior draws from the keyed noise) on the same events: the test split of
``--data`` by the models' split fractions (which must agree), or every event with ``--split all``. Printed and written
to ``OUT/quality.md``, ``OUT/quality.json`` and ``OUT/plots/`` (phase space, posterior rank histograms): Table 1 with
bootstrap spreads, the events outside the detector's phase space, the rich and pair classifier AUCs (both
directions, refolding, floors), mass-peak positions, the unfolding physics (off-shell partons, parton-level masses,
posterior calibration, prior dependence), the response per object and parton pT, and the targets of the first model
(``--candidate`` to choose another), each met, within noise or missed beyond two spreads, against the model labelled
``--lookup`` (default: a label containing "lookup") where it applies.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path


def _parse_model(spec: str) -> tuple[str, str]:
    path, _, label = spec.partition("=")
    return path, label or Path(path).stem


RESPONSE_MEDIAN_TOL = 0.02
RESPONSE_WIDTH_TOL = 0.10
RESPONSE_MIN_EVENTS = 200


def score_models(
    models: list[tuple[str, str]], data: list[str], *, split: str, seed: int, classifier: bool, n_draws: int
) -> dict:
    """Score every ``(path_or_name, label)`` on the same events of ``data``; a JSON-ready dict."""
    import os

    import torch

    from turbosim_hep.evaluation.report import _json_safe
    from turbosim_hep.evaluation.samples import load_features
    from turbosim_hep.evaluation.scoring import check_split, score_transform
    from turbosim_hep.evaluation.table1 import PAPER_TABLE1, TABLE1_COLUMNS
    from turbosim_hep.simulation.registry import load_transform

    torch.set_num_threads(1)
    transforms = [(label, path, load_transform(path, device="cpu")) for path, label in models]
    reads = {check_split(tf, data, split) for _, _, tf in transforms}
    if len(reads) != 1:
        raise SystemExit(f"the models were trained with different split fractions {sorted(reads)!r}: no common test")
    read_split, fractions = reads.pop()
    t0 = time.perf_counter()
    feats = load_features(data, split=read_split, fractions=fractions)
    print(f"{len(feats)} events ({split} split, fractions {fractions}) read in {time.perf_counter() - t0:.1f} s")
    out = {
        "data": list(data),
        "split": split,
        "split_fractions": list(fractions),
        "n_events": len(feats),
        "load_average": list(os.getloadavg()),
        "columns": [c[1] for c in TABLE1_COLUMNS],
        "paper": {k: list(v) for k, v in PAPER_TABLE1.items()},
        "models": [],
    }
    for label, path, tf in transforms:
        t0, c0 = time.perf_counter(), time.process_time()
        report, _, _ = score_transform(tf, feats, seed=seed, classifier=classifier, n_draws=n_draws)
        out["models"].append(
            {
                "label": label,
                "model": str(path),
                "scorecard": report.scorecard,
                "response": report.response["bins"],
                "timing": report.meta["timing"],
                "seconds": round(time.perf_counter() - t0, 1),
                "cpu_seconds": round(time.process_time() - c0, 1),
                # a decoder truncated to the phase space: its draws per event over every simulate call above
                "redraws": tf.redraws.as_dict() if getattr(tf, "redraws", None) and tf.redraws.events else None,
            }
        )
        print(f"scored {label} in {time.perf_counter() - t0:.0f} s ({time.process_time() - c0:.0f} s CPU)")
    return _json_safe(out)


def response_targets(m: dict) -> list[tuple[str, str, str]]:
    """Response medians and widths against the full simulation, per bin with enough events."""
    big = [b for b in m["response"] if b["n_full"] >= RESPONSE_MIN_EVENTS]
    med = [abs(b["median_turbo"] - b["median_full"]) for b in big]
    wid = [abs(b["width68_turbo"] / b["width68_full"] - 1) for b in big]
    n_med = sum(v <= RESPONSE_MEDIAN_TOL for v in med)
    n_wid = sum(v <= RESPONSE_WIDTH_TOL for v in wid)
    return [
        (f"response median within {RESPONSE_MEDIAN_TOL} (bins ≥ {RESPONSE_MIN_EVENTS} events)",
         "met" if n_med == len(big) else "missed", f"{n_med}/{len(big)} bins, worst {max(med):.3f}"),
        (f"response 68 % width within {RESPONSE_WIDTH_TOL:.0%}", "met" if n_wid == len(big) else "missed",
         f"{n_wid}/{len(big)} bins, worst {max(wid):.1%}"),
    ]  # fmt: skip


def model_targets(result: dict, candidate: str, lookup: str | None) -> list[tuple[str, str, str]]:
    """(target, verdict, figure) rows of the model labelled ``candidate``, against ``lookup`` where given."""
    from turbosim_hep.evaluation.targets import scorecard_targets

    models = {m["label"]: m for m in result["models"]}
    ref = models[lookup]["scorecard"] if lookup and lookup in models and lookup != candidate else None
    return scorecard_targets(models[candidate]["scorecard"], lookup=ref) + response_targets(models[candidate])


def _response_table(result: dict) -> list[str]:
    lines = ["## Response pT(reco)/pT(parton): median / 68 % half-width", ""]
    header = "| object | parton pT [GeV] | events | full sim | " + " | ".join(m["label"] for m in result["models"])
    lines += [header + " |", "|---|---|---|---|" + "---|" * len(result["models"])]
    for j, b in enumerate(result["models"][0]["response"]):
        hi = "∞" if b["pt_high_gev"] is None or b["pt_high_gev"] == float("inf") else f"{b['pt_high_gev']:.0f}"
        cells = [f"{m['response'][j]['median_turbo']:.3f} / {m['response'][j]['width68_turbo']:.3f}"
                 for m in result["models"]]  # fmt: skip
        lines.append(
            f"| {b['group']} | {b['pt_low_gev']:.0f}–{hi} | {b['n_full']} | "
            f"{b['median_full']:.3f} / {b['width68_full']:.3f} | " + " | ".join(cells) + " |"
        )
    return lines + [""]


def _redraw_lines(result: dict) -> list[str]:
    rows = [(m["label"], m.get("redraws")) for m in result["models"] if m.get("redraws")]
    if not rows:
        return []
    lines = [
        "## Truncation to the phase space: draws per event",
        "",
        "A decoder truncated to the detector's phase space redraws an event outside it with its next keyed noise "
        "(every simulate call of the scoring above: D(z) of the test partons and D(E(x)) of the unfolded ones, "
        "whose off-shell partons need many draws; D(z) alone: `benchmarks/throughput.py --data`).",
        "",
        "| model | draws per event | redraws [%] | events that used every draw [%] |",
        "|---|---|---|---|",
    ]
    for label, r in rows:
        lines.append(
            f"| {label} | {r['draws'] / r['events']:.3f} | {100 * r['redraw_rate']:.1f} | "
            f"{100 * r['at_cap'] / r['events']:.3f} |"
        )
    return [*lines, ""]


def markdown(result: dict, candidate: str, lookup: str | None) -> str:
    from turbosim_hep.evaluation.scorecard_markdown import scorecard_markdown, targets_markdown

    load = ", ".join(f"{v:.2f}" for v in result["load_average"])
    timing = "; ".join(f"{m['label']} {m['seconds']:.0f} s ({m['cpu_seconds']:.0f} s CPU)" for m in result["models"])
    n = result["models"][0]["scorecard"]["n_half"]
    lines = [
        f"# Quality on {result['n_events']} {result['split']} events of {', '.join(result['data'])}",
        "",
        f"Independent halves A ({n[0]} events, model output) and B ({n[1]}, truth). Z columns (b) from the "
        "unfolding z̃ = E(x), the others from the simulation x̃ = D(z) with jets sorted as simulate() returns them. "
        f"Scoring time per model (one torch thread): {timing}; load average at the start {load}.",
        "",
        scorecard_markdown({m["label"]: m["scorecard"] for m in result["models"]}).rstrip("\n"),
        "",
        *_redraw_lines(result),
        *_response_table(result),
        *targets_markdown(candidate, model_targets(result, candidate, lookup)),
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("models", nargs="+", metavar="MODEL[=LABEL]")
    p.add_argument("--data", nargs="+", required=True, help="ROOT files, directories or fileset JSON")
    p.add_argument("--split", choices=("test", "all"), default="test")
    p.add_argument("--out", default="quality", help="output directory (default: %(default)s)")
    p.add_argument("--candidate", help="label whose targets are checked (default: the first model)")
    p.add_argument("--lookup", help="label of the lookup baseline (default: the first label containing 'lookup')")
    p.add_argument("--draws", type=int, default=20, help="posterior draws per event (default: %(default)s)")
    p.add_argument("--seed", type=int, default=0, help="classifier seed")
    p.add_argument("--no-classifier", action="store_true")
    args = p.parse_args()
    models = [_parse_model(s) for s in args.models]
    result = score_models(
        models, args.data, split=args.split, seed=args.seed, classifier=not args.no_classifier, n_draws=args.draws
    )
    candidate = args.candidate or models[0][1]
    lookup = args.lookup or next((lab for _, lab in models if "lookup" in lab.lower()), None)
    rows = model_targets(result, candidate, lookup)
    result["targets"] = [{"target": t, "verdict": v, "figure": f} for t, v, f in rows]
    text = markdown(result, candidate, lookup)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    from turbosim_hep.evaluation.scorecard_plots import plot_scorecard

    plot_scorecard({m["label"]: m["scorecard"] for m in result["models"]}, out / "plots", formats=("png",))
    (out / "quality.md").write_text(text, encoding="utf-8")
    (out / "quality.json").write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(text)
    print(f"wrote {out / 'quality.md'}, {out / 'quality.json'} and {out / 'plots'}/")


if __name__ == "__main__":
    main()
