"""Rendering a :class:`~turbosim_hep.evaluation.report.Report` as Markdown (``report.md``).

It reads the report's attributes only (``meta``, ``table1``, ``variables``, ``classifier``, ``response``,
``scorecard``) and imports nothing from :mod:`.report`, so the two modules do not import each other.

Given the report's directory, the Markdown names its inputs (model, data files) by paths relative to it and links the
plots under its ``plots/`` folder by relative links, so the folder can be moved or shared as a whole.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from turbosim_hep.evaluation.samples import ARTEFACT_FEATURES

__all__ = ("report_markdown",)

#: Data file lists longer than this are summarised (directory, count, first and last file).
MAX_LISTED_FILES = 4


def _fmt(v: float | None, scale: float = 1.0) -> str:
    if v is None or not math.isfinite(v):
        return "–"
    return f"{v * scale:.3g}"


def _cell(v: float | None, floor: float | None, scale: float = 1.0) -> str:
    return f"{_fmt(v, scale)} ({_fmt(floor, scale)})"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    return [
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
        *("| " + " | ".join(r) + " |" for r in rows),
    ]


def _link(text: str, target: str) -> str:
    text = text.replace("[", r"\[").replace("]", r"\]")
    return f"[{text}](<{target}>)" if any(c in target for c in " ()<>") else f"[{text}]({target})"


def _is_path(source: str) -> bool:
    """A file name rather than a description such as ``<arrays>`` or a model's class name."""
    return not source.startswith("<") and ("/" in source or os.sep in source or os.path.exists(source))


def _path_link(path: str | os.PathLike, base: Path | None, text: str | None = None) -> str:
    """A link to ``path`` relative to ``base`` (POSIX separators); absolute where none exists (another drive)."""
    if base is None:
        return f"`{path}`"
    p = Path(path).absolute()
    slash = "/" if p.is_dir() else ""
    try:
        rel = Path(os.path.relpath(p, base.absolute())).as_posix() + slash
    except ValueError:
        return _link(text or str(p), p.as_uri())
    return _link(text or rel, rel)


def _inputs(meta: Mapping[str, Any], base: Path | None) -> list[str]:
    model = str(meta.get("model", "–"))
    lines = [f"- model: {_path_link(model, base) if _is_path(model) else model}"]
    data = [str(d) for d in meta.get("data", [])]
    files = [d for d in data if _is_path(d)]
    if len(files) <= MAX_LISTED_FILES or len(files) < len(data):
        named = [_path_link(d, base) if _is_path(d) else d for d in data]
        lines.append(f"- data: {', '.join(named) or '–'}")
    else:
        top = Path(os.path.commonpath([os.path.dirname(os.path.abspath(f)) for f in files]))
        first, last = (Path(os.path.abspath(f)).relative_to(top).as_posix() for f in (files[0], files[-1]))
        lines.append(f"- data: {len(files)} files in {_path_link(top, base)} (`{first}` … `{last}`)")
    return lines


def _plot_target(base: Path | None, stem: str) -> str | None:
    """``plots/<stem>.png`` (else ``.pdf``) relative to ``base`` if that file exists."""
    if base is None:
        return None
    for fmt in ("png", "pdf"):
        if (base / "plots" / f"{stem}.{fmt}").is_file():
            return f"plots/{stem}.{fmt}"
    return None


def _plots(report: Any, base: Path | None) -> list[str]:
    overview = _plot_target(base, "overview")
    columns = [(c["label"], _plot_target(base, f"{c['space']}_{c['variable']}")) for c in report.table1["columns"]]
    masses = {
        space: [
            (r["variable"], _plot_target(base, f"{space}_{r['variable']}"))
            for r in report.variables
            if r["space"] == space and r["kind"] == "mass"
        ]
        for space in ("Z", "X")
    }
    if overview is None and not any(t for _, t in columns) and not any(t for v in masses.values() for _, t in v):
        return []

    def links(items: Sequence[tuple[str, str | None]]) -> str:
        return " · ".join(_link(text, target) for text, target in items if target) or "–"

    lines = [
        "## Plots",
        "",
        "One figure per variable in " + _link("plots/", "plots") + " (`Z_*` parton level, `X_*` detector level): "
        "truth filled, Turbo-Sim as lines, ratio to the truth below; each histogram has unit area over all its "
        "events, so events outside the range show as a deficit. The variable names in the tables below link to "
        "their figures.",
        "",
    ]
    if overview:
        lines += [f"![The Table-1 variables: truth and Turbo-Sim]({overview})", ""]
    lines += [
        f"- Table 1: {links(columns)}",
        f"- masses, parton level (Z): {links(masses['Z'])}",
        f"- masses, detector level (X): {links(masses['X'])}",
        "",
    ]
    return lines


def _scorecard(report: Any, base: Path | None) -> list[str]:
    """The scorecard's tables, the targets and links to its plots (phase space, rank histograms)."""
    card = getattr(report, "scorecard", None)
    if not card:
        return []
    from turbosim_hep.evaluation.scorecard_markdown import scorecard_markdown, targets_markdown
    from turbosim_hep.evaluation.targets import scorecard_targets

    lines = ["# Scorecard", "", scorecard_markdown({"this model": card}).rstrip("\n"), ""]
    for stem, alt in (("phase_space", "Events outside the phase space"),
                      ("calibration_this_model", "Posterior rank histograms")):  # fmt: skip
        target = _plot_target(base, stem)
        if target:
            lines += [f"![{alt}]({target})", ""]
    return lines + targets_markdown("this model", scorecard_targets(card))


def report_markdown(report: Any, *, base: str | os.PathLike | None = None) -> str:
    """The human-readable Markdown of ``report``: Table 1, plots, classifier AUCs, every variable, the response test.

    ``base`` is the directory the Markdown is written to: inputs are named relative to it and the plots found in
    ``base/plots`` are linked (without it, inputs are named as given and no plots are linked).
    """
    base = None if base is None else Path(base)
    m, t1 = report.meta, report.table1
    labels = [c["label"] for c in t1["columns"]]
    outputs = [s for s in ("sampled", "reconstructed") if s in t1["independent"]]
    lines = [
        "# Turbo-Sim evaluation report",
        "",
        f"- events: {m['n_events']} ({m.get('split') or 'all'} split); independent halves A = {m['n_half_a']}, "
        f"B = {m['n_half_b']}",
        *_inputs(m, base),
        f"- expected KS floor 0.87·sqrt(1/n + 1/m): independent {_fmt(m['ks_floor_expected_independent'], 100)}, "
        f"paired {_fmt(m['ks_floor_expected_paired'], 100)} (x 1e-2)",
        "",
        "Sampled: z̃ = E(x) vs z, x̃ = D(z) vs x. Reconstructed: ẑ = E(D(z)) vs z, x̂ = D(E(x)) vs x. "
        "The b columns are the parton-level b quark (Z), the others the detector level (X).",
        "",
        "## Table 1: KS distance to the truth (x 1e-2), independent samples",
        "",
        "Model output from half A against the truth of half B; in brackets the floor: the same statistic between "
        "the truths of A and B.",
        "",
    ]
    paper = [[f"{k} [paper]", *(_fmt(v, 100) for v in vals)] for k, vals in t1["paper"].items()]
    ind = t1["independent"]
    rows = [
        [f"this model, {s}", *(_cell(v, f, 100) for v, f in zip(ind[s], ind["floor"], strict=True))] for s in outputs
    ]
    lines += _table(["model", *labels], paper + rows)
    lines += ["", "## Table 1, paired (outputs and truth of the same events; in brackets the expected floor)", ""]
    pai = t1["paired"]
    rows = [
        [f"this model, {s}", *(_cell(v, f, 100) for v, f in zip(pai[s], pai["floor_expected"], strict=True))]
        for s in outputs
    ]
    lines += _table(["model", *labels], paper + rows)
    sums = m.get("sum_ks_features", {})
    if sums:
        lines += [
            "",
            "Sums of the KS statistics over the 48 features (24 Z + 24 X) per output: "
            + ", ".join(f"{k.replace('_', ' ')} {v:.3f}" for k, v in sums.items())
            + (
                f"; the paper's model-selection metric (96 terms, paired) = {m['sum_ks_96']:.3f}"
                if "sum_ks_96" in m
                else ""
            ),
            "",
        ]
    else:
        lines.append("")
    lines += _plots(report, base)
    if report.classifier:
        lines += [
            "## Classifier two-sample test (ROC AUC, held-out folds; 0.5 = indistinguishable)",
            "",
            "Gradient-boosted trees on the 24 features plus the four reconstructed masses; half A's output against "
            "half B's truth. Floor: truth A vs truth B; σ: spread of a useless classifier's AUC.",
            "",
        ]
        rows = [
            [space, *(_fmt(c.get(s)) for s in (*outputs, "floor")), _fmt(c["null_std"]), str(c["n_events"][0])]
            for space, c in report.classifier.items()
        ]
        lines += _table(["space", *outputs, "floor", "σ (null)", "events per sample"], rows)
        lines.append("")
    elif report.meta.get("classifier_skipped"):
        lines += ["## Classifier two-sample test", "", f"Skipped: {report.meta['classifier_skipped']}.", ""]
    lines += _scorecard(report, base)
    for space, title in (("Z", "Parton level Z"), ("X", "Detector level X")):
        lines += [
            f"## {title}: every feature and mass",
            "",
            "KS x 1e-2, W1 [GeV], reduced χ² (20 bins); independent samples, floor in brackets; paired KS x 1e-2 "
            "at the right. † detector artefact (MET pz, E), not the neutrino.",
            "",
        ]
        header = ["variable"]
        for stat in ("KS", "W1", "χ²/ndf"):
            header += [f"{stat} {s}" for s in outputs]
        header += [f"KS paired {s}" for s in outputs]
        rows = []
        for r in report.variables:
            if r["space"] != space:
                continue
            ind, pai = r["independent"], r["paired"]
            target = _plot_target(base, f"{space}_{r['variable']}")
            name = _link(r["variable"], target) if target else r["variable"]
            name += " †" if r["variable"] in ARTEFACT_FEATURES and space == "X" else ""
            row = [name]
            for stat, scale in (("ks", 100), ("w1", 1), ("chi2", 1)):
                row += [_cell(ind[s][stat] if s in ind else None, ind["floor"][stat], scale) for s in outputs]
            row += [_cell(pai[s]["ks"] if s in pai else None, pai["ks_floor_expected"], 100) for s in outputs]
            rows.append(row)
        lines += _table(header, rows)
        lines.append("")
    if report.response:
        resp = report.response
        lines += [
            "## Conditional response pT(reco) / pT(parton), same parton events: full simulation vs Turbo-Sim",
            "",
            "Jets matched to quarks by ΔR; median and inter-quartile range of the response per parton-pT bin; "
            "KS x 1e-2 with the expected floor at those sizes in brackets.",
            "",
            "Matching efficiency (full / Turbo-Sim): "
            + ", ".join(
                f"{g} {_fmt(resp['efficiency_full'][g])} / {_fmt(resp['efficiency_turbo'][g])}"
                for g in resp["efficiency_full"]
            ),
            "",
        ]
        rows = [
            [
                b["group"],
                f"{b['pt_low_gev']:.0f}–{b['pt_high_gev']:.0f}",
                f"{b['n_full']} / {b['n_turbo']}",
                f"{_fmt(b['median_full'])} / {_fmt(b['median_turbo'])}",
                f"{_fmt(b['iqr_full'])} / {_fmt(b['iqr_turbo'])}",
                _cell(b["ks"], b["ks_floor"], 100),
            ]
            for b in resp["bins"]
        ]
        lines += _table(["object", "parton pT [GeV]", "n full / turbo", "median", "IQR", "KS (floor)"], rows)
        lines.append("")
    return "\n".join(lines) + "\n"
