"""Markdown tables of one or several models' scorecards (:func:`~.scorecard.scorecard`), side by side.

Every figure is printed with its spread (``value ± spread``); KS values ×10⁻², shares in %, AUCs as fractions.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from turbosim_hep.evaluation.phase_space import CONDITIONS
from turbosim_hep.evaluation.unfolding_physics import PARTON_SLOTS

__all__ = ("scorecard_markdown", "targets_markdown")


def _pm(d: Mapping[str, float] | None, scale: float = 1.0, digits: int = 2) -> str:
    if not d or d.get("value") is None or not math.isfinite(d["value"]):
        return "–"
    s = d.get("spread")
    tail = "" if s is None or not math.isfinite(s) else f" ± {s * scale:.{digits}f}"
    return f"{d['value'] * scale:.{digits}f}{tail}"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    def line(cells: Sequence[str]) -> str:  # a "|" inside a cell (|η|, |p|) would split it
        return "| " + " | ".join(str(c).replace("|", r"\|") for c in cells) + " |"

    return [line(header), "|" + "---|" * len(header), *(line(r) for r in rows)]


def _phase_space(cards: Mapping[str, Any]) -> list[str]:
    first = next(iter(cards.values()))["phase_space"]["full_sim"]
    columns: list[tuple[str, Mapping[str, Any]]] = [("full sim", first)]
    for label, c in cards.items():
        columns.append((f"{label} D(z)", c["phase_space"]["x_tilde"]))
        if "x_hat" in c["phase_space"]:
            columns.append((f"{label} D(E(x))", c["phase_space"]["x_hat"]))
    rows = [
        [desc, *(_pm({"value": p["shares"][k], "spread": p["spreads"][k]}, 100) for _, p in columns)]
        for k, desc in CONDITIONS.items()
    ]
    rows.append(
        ["**outside (the selection's own function)**",
         *(f"**{_pm({'value': p['outside'], 'spread': p['outside_spread']}, 100)}**" for _, p in columns)]
    )  # fmt: skip
    return [
        "## Events outside the detector's phase space [%]",
        "",
        "Share of events breaking each condition every selected full-simulation event satisfies, and their union: "
        "the objects the detector would not have produced are removed and the OTUS selection is applied again.",
        "",
        *_table(["condition", *(n for n, _ in columns)], rows),
        "",
    ]


def _classifiers(cards: Mapping[str, Any]) -> list[str]:
    with_clf = {k: c["classifiers"] for k, c in cards.items() if c.get("classifiers")}
    if not with_clf:
        return []
    first = next(iter(with_clf.values()))
    tests = [
        ("rich_x", "floor_x"),
        ("pair_simulation", "floor_pair"),
        ("rich_z", "floor_z"),
        ("pair_unfolding", "floor_pair"),
        ("refolding", "floor_x"),
    ]
    rows = []
    for key, floor in tests:
        if not any(key in c for c in with_clf.values()):
            continue
        desc = next(c[key]["description"] for c in with_clf.values() if key in c)
        cells = [_pm({"value": c[key]["auc"], "spread": c[key]["spread"]}, 1, 3) if key in c else "–"
                 for c in with_clf.values()]  # fmt: skip
        rows.append([desc, *cells, _pm({"value": first[floor]["auc"], "spread": first[floor]["spread"]}, 1, 3)])
    n = first["floor_x"]
    return [
        "## Classifier two-sample tests (ROC AUC on a held-out third; 0.5 = indistinguishable)",
        "",
        "Gradient-boosted trees on rich features (per-object pT, η, mass, MET, Δφ(e, MET), every ΔR(j, j) and "
        "ΔR(e, j), HT, the four reconstructed masses, the raw components); pairs add the parton event and the "
        "jet–quark ΔR and pT ratios. Model output of half A against the truth of half B; floor: truth A against "
        f"truth B. ± the bootstrap spread of the held-out AUC ({n['n_train']} training, {n['n_test']} held-out "
        "events).",
        "",
        *_table(["test", *with_clf, "floor"], rows),
        "",
    ]


def _table1(cards: Mapping[str, Any]) -> list[str]:
    from turbosim_hep.evaluation.table1 import PAPER_TABLE1, TABLE1_COLUMNS

    labels = [c[1] for c in TABLE1_COLUMNS]
    rows = [[f"paper: {k}", *("–" if v is None else f"{v:.2f}" for v in vals)] for k, vals in PAPER_TABLE1.items()]
    for label, c in cards.items():
        rows.append([f"**{label}**", *(_pm(v, 100) for v in c["table1"]["model"])])
    first = next(iter(cards.values()))
    rows.append(["floor (truth A vs B)", *(_pm(v, 100) for v in first["table1"]["floor"])])
    return [
        "## Table 1: KS distance to the full simulation (×10⁻²) ± bootstrap spread",
        "",
        "The paper's rows come from another sample (MadGraph + Delphes, OTUS files) and detector; compare them with "
        "our own run of the paper's preset, not with these rows.",
        "",
        *_table(["model", *labels], rows),
        "",
    ]


def _peaks(cards: Mapping[str, Any]) -> list[str]:
    first = next(iter(cards.values()))["peaks"]
    rows = []
    for key, p in first.items():
        cells = []
        for c in cards.values():
            q = c["peaks"][key]
            med = _pm({"value": q["median_shift"], "spread": q["median_shift_spread"]})
            peak = _pm({"value": q["peak_shift"], "spread": q["peak_shift_spread"]})
            cells.append(f"{med} / {peak}")
        rows.append([key, f"{p['median_full']:.2f} / {p['peak_full']:.2f}", *cells])
    return [
        "## Mass-peak positions [GeV]: median / fitted peak",
        "",
        "Reconstructed (χ²) masses; the model's shift from the full simulation on the same partons, ± the paired "
        "bootstrap spread.",
        "",
        *_table(["mass", "full sim", *(f"{k} shift" for k in cards)], rows),
        "",
    ]


def _met_balance(cards: Mapping[str, Any]) -> list[str]:
    if not all(c.get("met_balance") for c in cards.values()):
        return []  # scorecards written before the balance was measured
    first = next(iter(cards.values()))["met_balance"]
    rows = []
    for key, b in first.items():
        cells = [_pm({"value": c["met_balance"][key]["model"], "spread": c["met_balance"][key]["spread"]}, digits=3)
                 for c in cards.values()]  # fmt: skip
        rows.append([key, f"{b['full']:.3f}", *cells])
    return [
        "## Missing-pT balance: corr(log pT(reco)/pT(parton), (MET − ν̄) along the parton)",
        "",
        "How much of each object's mismeasurement the missing pT carries (jets matched to quarks); ± the paired "
        "bootstrap spread of the difference from the full simulation.",
        "",
        *_table(["object", "full sim", *cards], rows),
        "",
    ]


def _unfolding(cards: Mapping[str, Any]) -> list[str]:
    unf = {k: c["unfolding"] for k, c in cards.items() if c.get("unfolding")}
    if not unf:
        return []
    first = next(iter(unf.values()))
    lines = ["## Unfolding physics", "", "Unfolded partons with E < |p| [%] per slot:", ""]
    rows = [[slot, *(f"{100 * u['off_shell'][slot]:.2f}" for u in unf.values()),
             f"{100 * first['off_shell_truth'][slot]:.2f}"] for slot in (*PARTON_SLOTS, "any")]  # fmt: skip
    lines += [*_table(["slot", *unf, "truth"], rows), ""]
    lines += [
        "Parton-level observables of z̃ = E(x) (half A) against the truth (half B): KS ×10⁻² ± spread, and the "
        "unfolded 16 / 50 / 84 % quantiles [GeV] beside the truth's:",
        "",
    ]
    rows = []
    for key, m in first["parton_masses"].items():
        q = m["quantiles_truth"]
        cells = []
        for u in unf.values():
            r = u["parton_masses"][key]
            qu = r["quantiles_unfolded"]
            cells.append(f"{_pm(r['ks'], 100)} ({qu[0]:.4g} / {qu[1]:.4g} / {qu[2]:.4g})")
        rows.append([key, *cells, f"{_pm(m['floor'], 100)} ({q[0]:.4g} / {q[1]:.4g} / {q[2]:.4g})"])
    lines += [*_table(["observable", *unf, "floor (truth)"], rows), ""]
    cal = {k: u["calibration"] for k, u in unf.items() if u.get("calibration")}
    if cal:
        c0 = next(iter(cal.values()))
        k = next(iter(c0.values()))["n_draws"]
        lines += [f"Posterior calibration from {k} draws per event: coverage of the central 68 % / 95 % of the "
                  "draws [%] (calibrated: 68 / 95):", ""]  # fmt: skip
        rows = [[q, *(f"{_pm(c[q]['coverage']['68'], 100, 1)} / {_pm(c[q]['coverage']['95'], 100, 1)}"
                      for c in cal.values())] for q in c0]  # fmt: skip
        lines += [*_table(["quantity", *cal], rows), ""]
    rows = [[k, _pm({"value": u["prior_dependence"]["recovered"], "spread": u["prior_dependence"]["spread"]}, 100, 0),
             f"{u['prior_dependence']['unfolded_shift_gev']:.2f} / {u['prior_dependence']['true_shift_gev']:.2f}"]
            for k, u in unf.items()]  # fmt: skip
    lines += [
        "Prior dependence: the true top pT reweighted by 1 + 0.004·(pT − 100 GeV); share of the shift of its mean "
        "that the unfolded spectrum recovers [%] (ideal 100, a model returning its prior 0):",
        "",
        *_table(["model", "recovered [%]", "shift unfolded / true [GeV]"], rows),
        "",
    ]
    return lines


def targets_markdown(label: str, rows: Sequence[tuple[str, str, str]], *, title: str | None = None) -> list[str]:
    """The targets of one model as a Markdown table (verdicts other than "met" in bold) under ``title``."""
    body = [[t, v if v == "met" else f"**{v}**", f] for t, v, f in rows]
    title = title or f"Targets of {label} (met / within noise / missed, beyond 2 spreads)"
    return [f"## {title}", "", *_table(["target", "verdict", "figure"], body), ""]


def scorecard_markdown(cards: Mapping[str, Mapping[str, Any]]) -> str:
    """Markdown of the scorecards ``{label: scorecard}``: Table 1, phase space, classifiers, peaks, missing-pT
    balance, unfolding."""
    if not cards:
        raise ValueError("no scorecard to print")
    lines = [
        *_table1(cards), *_phase_space(cards), *_classifiers(cards), *_peaks(cards), *_met_balance(cards),
        *_unfolding(cards),
    ]  # fmt: skip
    return "\n".join(lines) + "\n"
