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

Last comes the candidate's issue-21 block (the unfolding's must-show figures with their targets and verdicts, the
rank histograms in ``OUT/plots/calibration_<label>.png``) and, with ``--reference``, whether its simulation figures
are worse than a reference model's: ``--reference LABEL`` (another model of this run) or ``--reference
OLD/quality.json[:LABEL]`` (a model scored earlier on the same events; default its first). The calibration draws
``--draws`` posterior samples of ``--draw-events`` events chosen from the event ids (0: every event).
``benchmarks/ablation_table.py`` puts several runs' quality.json side by side.
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
    models: list[tuple[str, str]],
    data: list[str],
    *,
    split: str,
    seed: int,
    classifier: bool,
    n_draws: int,
    draw_events: int | None = None,
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
        "n_draws": n_draws,
        "draw_events": draw_events,
        "load_average": list(os.getloadavg()),
        "columns": [c[1] for c in TABLE1_COLUMNS],
        "paper": {k: list(v) for k, v in PAPER_TABLE1.items()},
        "models": [],
    }
    for label, path, tf in transforms:
        t0, c0 = time.perf_counter(), time.process_time()
        report, _, _ = score_transform(
            tf, feats, seed=seed, classifier=classifier, n_draws=n_draws, draw_events=draw_events
        )
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
    out["load_average_end"] = list(os.getloadavg())
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


def load_reference(spec: str, result: dict) -> tuple[str, dict]:
    """``(label, scorecard)`` of ``--reference``: a label of this run or ``PATH.json[:LABEL]`` scored earlier."""
    models = {m["label"]: m for m in result["models"]}
    if spec in models:
        return spec, models[spec]["scorecard"]
    path, _, label = spec.partition(":") if not Path(spec).is_file() else (spec, "", "")
    if not Path(path).is_file():
        raise SystemExit(f"--reference {spec!r} is neither a model label of this run {sorted(models)!r} nor a file")
    old = json.loads(Path(path).read_text(encoding="utf-8"))
    found = [m for m in old.get("models", []) if not label or m["label"] == label]
    if not found:
        raise SystemExit(f"--reference {spec!r}: no model {label!r} in {path!r}")
    if (old.get("n_events"), old.get("split"), old.get("data")) != (
        result["n_events"],
        result["split"],
        result["data"],
    ):
        raise SystemExit(
            f"--reference {spec!r} was scored on {old.get('n_events')} {old.get('split')} events of "
            f"{old.get('data')}, this run on {result['n_events']} {result['split']} events of {result['data']}: "
            "score both on the same events"
        )
    return f"{Path(path).parent.name}/{found[0]['label']}", found[0]["scorecard"]


def issue21_records(result: dict, candidate: str, reference: tuple[str, dict] | None) -> dict:
    """The issue-21 figures and the non-regression of ``candidate`` as JSON records."""
    from dataclasses import asdict

    from turbosim_hep.evaluation.non_regression import no_worse_than
    from turbosim_hep.evaluation.unfolding_targets import unfolding_figures

    card = next(m for m in result["models"] if m["label"] == candidate)["scorecard"]
    return {
        "candidate": candidate,
        "figures": [asdict(f) for f in unfolding_figures(card)],
        "reference": None if reference is None else reference[0],
        "simulation_no_worse": [] if reference is None else [asdict(f) for f in no_worse_than(card, reference[1])],
    }


def issue21_lines(result: dict, candidate: str, reference: tuple[str, dict] | None) -> list[str]:
    """The candidate's issue-21 block: must-show figures with verdicts, the rank-histogram plot, non-regression."""
    from turbosim_hep.evaluation.non_regression import no_worse_than
    from turbosim_hep.evaluation.scorecard_markdown import targets_markdown
    from turbosim_hep.evaluation.scorecard_plots import calibration_plot_stem
    from turbosim_hep.evaluation.unfolding_targets import unfolding_figures

    card = next(m for m in result["models"] if m["label"] == candidate)["scorecard"]
    figures = unfolding_figures(card)
    if not figures:
        return [f"## Issue 21 (unfolding): {candidate} does not unfold", ""]
    counts = {v: sum(f.verdict == v for f in figures) for v in ("met", "within noise", "missed")}
    cal = (card["unfolding"].get("calibration") or {}).get("top_pt_had")
    drawn = f"{cal['n_draws']} draws of {cal['n_events']} events" if cal else "no posterior draws"
    title = f"Issue 21 (unfolding): the must-show figures of {candidate} (met / within noise / missed)"
    lines = targets_markdown(candidate, [f.row() for f in figures], title=title)
    lines += [
        f"{counts['met']} met, {counts['within noise']} within noise, {counts['missed']} missed. Calibration from "
        f"{drawn}; rank histograms: `plots/{calibration_plot_stem(candidate)}.png`.",
        "",
    ]
    if reference is not None:
        label, ref = reference
        judged = no_worse_than(card, ref, label=label)
        worse = sum(f.verdict == "missed" for f in judged)
        title = f"Simulation of {candidate} no worse than {label}'s (same events)"
        lines += targets_markdown(candidate, [f.row() for f in judged], title=title)
        lines += [f"{worse} of {len(judged)} simulation figures worse than {label}'s beyond two spreads "
                  "(within noise: no measurable change; met: better).", ""]  # fmt: skip
    return lines


def markdown(result: dict, candidate: str, lookup: str | None, reference: tuple[str, dict] | None = None) -> str:
    from turbosim_hep.evaluation.scorecard_markdown import scorecard_markdown, targets_markdown

    load = ", ".join(f"{v:.2f}" for v in result["load_average"])
    load_end = ", ".join(f"{v:.2f}" for v in result.get("load_average_end", []))
    timing = "; ".join(f"{m['label']} {m['seconds']:.0f} s ({m['cpu_seconds']:.0f} s CPU)" for m in result["models"])
    n = result["models"][0]["scorecard"]["n_half"]
    lines = [
        f"# Quality on {result['n_events']} {result['split']} events of {', '.join(result['data'])}",
        "",
        f"Independent halves A ({n[0]} events, model output) and B ({n[1]}, truth). Z columns (b) from the "
        "unfolding z̃ = E(x), the others from the simulation x̃ = D(z) with jets sorted as simulate() returns them. "
        f"Scoring time per model (one torch thread): {timing}; load average at the start {load}, at the end "
        f"{load_end}.",
        "",
        scorecard_markdown({m["label"]: m["scorecard"] for m in result["models"]}).rstrip("\n"),
        "",
        *_redraw_lines(result),
        *_response_table(result),
        *targets_markdown(candidate, model_targets(result, candidate, lookup)),
        *issue21_lines(result, candidate, reference),
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
    p.add_argument("--draws", type=int, default=32, help="posterior draws per event (default: %(default)s)")
    p.add_argument(
        "--draw-events",
        type=int,
        default=10_000,
        help="events whose posterior is drawn, chosen from the event ids; 0: every event (default: %(default)s)",
    )
    p.add_argument("--reference", help="LABEL of this run or OLD/quality.json[:LABEL]: simulation must not be worse")
    p.add_argument("--seed", type=int, default=0, help="classifier seed")
    p.add_argument("--no-classifier", action="store_true")
    args = p.parse_args()
    models = [_parse_model(s) for s in args.models]
    if args.reference and args.reference not in {lab for _, lab in models}:
        ref_file = args.reference if Path(args.reference).is_file() else args.reference.partition(":")[0]
        if not Path(ref_file).is_file():
            p.error(f"--reference {args.reference!r} is neither a model label of this run nor a quality.json file")
    t0 = time.perf_counter()
    result = score_models(
        models,
        args.data,
        split=args.split,
        seed=args.seed,
        classifier=not args.no_classifier,
        n_draws=args.draws,
        draw_events=args.draw_events or None,
    )
    result["seconds"] = round(time.perf_counter() - t0, 1)
    candidate = args.candidate or models[0][1]
    reference = load_reference(args.reference, result) if args.reference else None
    lookup = args.lookup or next((lab for _, lab in models if "lookup" in lab.lower()), None)
    rows = model_targets(result, candidate, lookup)
    result["targets"] = [{"target": t, "verdict": v, "figure": f} for t, v, f in rows]
    result["issue21"] = issue21_records(result, candidate, reference)
    text = markdown(result, candidate, lookup, reference)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    from turbosim_hep.evaluation.scorecard_plots import plot_scorecard

    plot_scorecard({m["label"]: m["scorecard"] for m in result["models"]}, out / "plots", formats=("png",))
    (out / "quality.md").write_text(text, encoding="utf-8")
    (out / "quality.json").write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(text)
    print(
        f"wrote {out / 'quality.md'}, {out / 'quality.json'} and {out / 'plots'}/ ({result['seconds']:.0f} s scoring)"
    )


if __name__ == "__main__":
    main()
