"""One quality table for several models on the same test events: Table 1, classifier AUC, conditional response.

    python benchmarks/quality.py ttbar-physics=Turbo-Sim /work/data/otus.pt=OTUS lookup.pt=lookup \\
        --data /work/shared/data/ttbar-ref --out quality/

Each MODEL is a model file (Turbo-Sim checkpoint, OTUS or lookup baseline) or a shipped model's name, optionally
``=LABEL``. Every model is scored through the public path (``simulate_features``, jets sorted as ``simulate()``
returns them) on the same events: the test split of ``--data`` by the models' split fractions (which must agree),
or every event with ``--split all`` (a dedicated sample made with other seeds). Printed and written to
``OUT/quality.md`` and ``OUT/quality.json``: the paper's two rows, one row per model (KS x 1e-2, model output from
half A against the truth of half B) and the truth-vs-truth floor; the classifier AUC (X features + masses; 0.5 =
indistinguishable); the response pT(reco)/pT(parton) per object type and parton-pT bin (median and 68 % half-width,
full sim vs model); and the targets of the first model (``--candidate`` to choose another), each met or missed.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

#: Targets: the paper's Turbo-Sim row (KS x 1e-2, Table-1 order), the AUC bound, the response tolerances.
AUC_TARGET = 0.65
RESPONSE_MEDIAN_TOL = 0.02
RESPONSE_WIDTH_TOL = 0.10
RESPONSE_MIN_EVENTS = 200
MASS_COLUMNS = (6, 7, 8, 9)


def _parse_model(spec: str) -> tuple[str, str]:
    path, _, label = spec.partition("=")
    return path, label or Path(path).stem


def _negative_jets(x: np.ndarray) -> int:
    jets = np.asarray(x, dtype=np.float64).reshape(len(x), 6, 4)[:, 2:]
    return int(np.sum(jets[..., 3] ** 2 < (jets[..., :3] ** 2).sum(-1)))


def _fmt(v) -> str:
    return "–" if v is None or not np.isfinite(v) else f"{v:.2f}"


def score_models(models: list[tuple[str, str]], data: list[str], *, split: str, seed: int, classifier: bool) -> dict:
    """Score every ``(path_or_name, label)`` on the same events of ``data``; a JSON-ready dict."""
    import torch

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
        "columns": [c[1] for c in TABLE1_COLUMNS],
        "paper": {k: list(v) for k, v in PAPER_TABLE1.items()},
        "models": [],
    }
    for label, path, tf in transforms:
        t0 = time.perf_counter()
        report, _, outputs = score_transform(tf, feats, seed=seed, classifier=classifier)
        ind = report.table1["independent"]
        row = [None if v is None else 100 * v for v in ind["sampled"]]
        out["floor"] = [100 * v for v in ind["floor"]]
        out["n_half"] = [report.meta["n_half_a"], report.meta["n_half_b"]]
        auc = report.classifier or {}
        out["models"].append(
            {
                "label": label,
                "model": str(path),
                "table1": row,
                "auc_x": auc.get("X", {}).get("sampled"),
                "auc_z": auc.get("Z", {}).get("sampled"),
                "auc_floor": auc.get("X", {}).get("floor"),
                "response": report.response["bins"],
                "negative_mass_jets": _negative_jets(outputs["x_tilde"]),
                "seconds": round(time.perf_counter() - t0, 1),
            }
        )
        print(f"scored {label} in {time.perf_counter() - t0:.0f} s")
    return out


def targets(result: dict, candidate: str) -> list[tuple[str, bool, str]]:
    """(target, met, figure) rows for the model labelled ``candidate``."""
    models = {m["label"]: m for m in result["models"]}
    m = models[candidate]
    paper = result["paper"]["Turbo-Sim (arXiv:2112.10629)"]
    rows = []
    for i, col in enumerate(result["columns"]):
        v = m["table1"][i]
        rows.append((f"{col} ≤ paper Turbo-Sim {paper[i]}", v is not None and v <= paper[i], _fmt(v)))
    for other in result["models"]:
        if other["label"] == candidate:
            continue
        for i in MASS_COLUMNS:
            v, w = m["table1"][i], other["table1"][i]
            rows.append((f"{result['columns'][i]} ≤ {other['label']} ({_fmt(w)})", v <= w, _fmt(v)))
    auc = m["auc_x"]
    if auc is not None:
        rows.append((f"classifier AUC (X + masses) ≤ {AUC_TARGET}", auc <= AUC_TARGET, f"{auc:.3f}"))
        for other in result["models"]:
            if other["label"] != candidate and other["auc_x"] is not None:
                rows.append((f"AUC below {other['label']} ({other['auc_x']:.3f})", auc < other["auc_x"], f"{auc:.3f}"))
    big = [b for b in m["response"] if b["n_full"] >= RESPONSE_MIN_EVENTS]
    med_ok = [abs(b["median_turbo"] - b["median_full"]) <= RESPONSE_MEDIAN_TOL for b in big]
    wid_ok = [abs(b["width68_turbo"] / b["width68_full"] - 1) <= RESPONSE_WIDTH_TOL for b in big]
    worst_med = max(abs(b["median_turbo"] - b["median_full"]) for b in big)
    worst_wid = max(abs(b["width68_turbo"] / b["width68_full"] - 1) for b in big)
    rows.append(
        (f"response median within {RESPONSE_MEDIAN_TOL} (bins ≥ {RESPONSE_MIN_EVENTS} events)", all(med_ok),
         f"{sum(med_ok)}/{len(big)} bins, worst {worst_med:.3f}")
    )  # fmt: skip
    rows.append(
        (f"response 68 % width within {RESPONSE_WIDTH_TOL:.0%}", all(wid_ok),
         f"{sum(wid_ok)}/{len(big)} bins, worst {worst_wid:.1%}")
    )  # fmt: skip
    rows.append(("no jet with negative mass or E < |p|", m["negative_mass_jets"] == 0, str(m["negative_mass_jets"])))
    return rows


def markdown(result: dict, candidate: str) -> str:
    cols = result["columns"]
    lines = [
        f"# Quality on {result['n_events']} {result['split']} events of {', '.join(result['data'])}",
        "",
        f"KS distance to the full simulation (x 1e-2): model output from half A ({result['n_half'][0]} events) "
        f"against the truth of half B ({result['n_half'][1]}); floor = truth A vs truth B. Z columns (b) from the "
        "unfolding z̃ = E(x), the others from the simulation x̃ = D(z) with jets sorted as simulate() returns them.",
        "",
        "| row | " + " | ".join(cols) + " | AUC X | AUC Z |",
        "|---|" + "---|" * (len(cols) + 2),
    ]
    for name, vals in result["paper"].items():
        lines.append(f"| paper: {name} | " + " | ".join(_fmt(v) for v in vals) + " | – | – |")
    for m in result["models"]:
        auc = ["–" if a is None else f"{a:.3f}" for a in (m["auc_x"], m["auc_z"])]
        lines.append(f"| **{m['label']}** | " + " | ".join(_fmt(v) for v in m["table1"]) + f" | {auc[0]} | {auc[1]} |")
    floor_auc = next((m["auc_floor"] for m in result["models"] if m["auc_floor"] is not None), None)
    lines.append(
        "| floor (truth vs truth) | " + " | ".join(_fmt(v) for v in result["floor"])
        + f" | {'–' if floor_auc is None else f'{floor_auc:.3f}'} | |"
    )  # fmt: skip
    lines += ["", "## Response pT(reco)/pT(parton): median / 68 % half-width", ""]
    header = "| object | parton pT [GeV] | events | full sim | " + " | ".join(m["label"] for m in result["models"])
    lines += [header + " |", "|---|---|---|---|" + "---|" * len(result["models"])]
    first = result["models"][0]["response"]
    for j, b in enumerate(first):
        hi = "∞" if b["pt_high_gev"] == float("inf") else f"{b['pt_high_gev']:.0f}"
        cells = [f"{m['response'][j]['median_turbo']:.3f} / {m['response'][j]['width68_turbo']:.3f}"
                 for m in result["models"]]  # fmt: skip
        lines.append(
            f"| {b['group']} | {b['pt_low_gev']:.0f}–{hi} | {b['n_full']} | "
            f"{b['median_full']:.3f} / {b['width68_full']:.3f} | " + " | ".join(cells) + " |"
        )
    lines += ["", f"## Targets of {candidate}", "", "| target | met | figure |", "|---|---|---|"]
    lines += [f"| {t} | {'met' if ok else '**missed**'} | {fig} |" for t, ok, fig in targets(result, candidate)]
    return "\n".join(lines) + "\n"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("models", nargs="+", metavar="MODEL[=LABEL]")
    p.add_argument("--data", nargs="+", required=True, help="ROOT files, directories or fileset JSON")
    p.add_argument("--split", choices=("test", "all"), default="test")
    p.add_argument("--out", default="quality", help="output directory (default: %(default)s)")
    p.add_argument("--candidate", help="label whose targets are checked (default: the first model)")
    p.add_argument("--seed", type=int, default=0, help="classifier seed")
    p.add_argument("--no-classifier", action="store_true")
    args = p.parse_args()
    models = [_parse_model(s) for s in args.models]
    result = score_models(models, args.data, split=args.split, seed=args.seed, classifier=not args.no_classifier)
    candidate = args.candidate or models[0][1]
    result["targets"] = [{"target": t, "met": ok, "figure": f} for t, ok, f in targets(result, candidate)]
    text = markdown(result, candidate)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "quality.md").write_text(text, encoding="utf-8")
    (out / "quality.json").write_text(json.dumps(result, indent=1, default=float) + "\n", encoding="utf-8")
    print(text)
    print(f"wrote {out / 'quality.md'} and {out / 'quality.json'}")


if __name__ == "__main__":
    main()
