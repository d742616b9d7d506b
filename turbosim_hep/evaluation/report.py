"""The evaluation report: the Turbo-Sim paper's Table 1 and every feature and mass, each beside its statistical floor.

Four model outputs are compared with the truth of the test split (arXiv:2112.10629, Table 1):

- sampled: z̃ = E(x) against z, and x̃ = D(z) against x;
- reconstructed: ẑ = E(D(z)) against z, and x̂ = D(E(x)) against x.

Two schemes: *independent* (the headline) splits the test events into halves A and B by event id, compares the model
output computed from A with the truth of B, and gives as floor the same statistic between the truths of A and B (a
perfect model scores the floor, up to fluctuations); *paired* compares the outputs of all test events with the truth
of the same events (as the paper did), beside the expected KS 0.87·sqrt(2/n).

The work is done on arrays (:func:`make_samples`, :func:`report_from_samples`, :func:`build_report`);
:func:`evaluate` loads the model and data, runs the model, writes ``report.md``, ``report.json`` and ``plots/``.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from turbosim_hep.constants import N_FEATURES, X_FEATURES, Z_FEATURES
from turbosim_hep.evaluation import metrics

__all__ = (
    "MASS_NAMES",
    "PAPER_TABLE1",
    "TABLE1_COLUMNS",
    "Report",
    "SpaceSamples",
    "build_report",
    "evaluate",
    "load_features",
    "make_samples",
    "report_from_samples",
)

#: Reconstructed masses of the report (keys of ``reconstruct_features``), in Table-1 order.
MASS_NAMES: tuple[str, ...] = ("m_tt", "m_w_had", "m_t_lep", "m_t_had")

#: Table-1 columns: (key, plain label, space, variable). The b is the Z-space b quark (columns 8-11), jet1 the
#: leading X jet; masses are reconstructed from X.
TABLE1_COLUMNS: tuple[tuple[str, str, str, str], ...] = (
    ("b_py", "p_y^b", "Z", "b_py"),
    ("b_pz", "p_z^b", "Z", "b_pz"),
    ("b_E", "E^b", "Z", "b_E"),
    ("jet1_py", "p_y^jet1", "X", "jet1_py"),
    ("jet1_pz", "p_z^jet1", "X", "jet1_pz"),
    ("jet1_E", "E^jet1", "X", "jet1_E"),
    ("m_tt", "m_tt", "X", "m_tt"),
    ("m_w_had", "m_W^had", "X", "m_w_had"),
    ("m_t_lep", "m_t^lep", "X", "m_t_lep"),
    ("m_t_had", "m_t^had", "X", "m_t_had"),
)

#: Published KS distances to the truth (x 1e-2) in the Table-1 column order; None where not published.
PAPER_TABLE1: dict[str, tuple[float | None, ...]] = {
    "Turbo-Sim (arXiv:2112.10629)": (5.28, 7.28, 3.96, 2.89, 10.3, 4.43, 2.97, 7.72, 5.20, 8.52),
    "OTUS (arXiv:2112.10629)": (1.59, 1.23, 2.76, 3.78, 2.39, 5.75, 15.8, 11.7, 14.1, 24.9),
    "OTUS (arXiv:2101.08944)": (None, None, None, 4.59, 0.69, 4.80, 10.3, 10.9, 13.1, 23.5),
}

#: Detector artefacts kept for OTUS compatibility (REFERENCE.md §1); flagged in the report, not the neutrino.
ARTEFACT_FEATURES: tuple[str, ...] = ("met_pz", "met_E")

SOURCES: tuple[str, ...] = ("truth", "sampled", "reconstructed")
_HALF_SALT = 0x7E57_4A1F
_OBJECT_TEX = {
    "electron": "electron",
    "antineutrino": r"$\bar{\nu}_e$",
    "b": "$b$",
    "bbar": r"$\bar{b}$",
    "u": "$u$",
    "dbar": r"$\bar{d}$",
    "met": "MET",
    "jet1": "jet 1",
    "jet2": "jet 2",
    "jet3": "jet 3",
    "jet4": "jet 4",
}
_COMPONENT_TEX = {"px": "$p_x$", "py": "$p_y$", "pz": "$p_z$", "E": "$E$", "pt": "$p_T$"}
_MASS_TEX = {
    "m_tt": r"$m_{t\bar{t}}$",
    "m_w_had": r"$m_{W}^{\mathrm{had}}$",
    "m_t_lep": r"$m_{t}^{\mathrm{lep}}$",
    "m_t_had": r"$m_{t}^{\mathrm{had}}$",
}

Reconstruct = Callable[..., Mapping[str, np.ndarray]]


# --------------------------------------------------------------------------------------------------------- samples
@dataclass(frozen=True)
class SpaceSamples:
    """Named 1-d variables of one space (Z or X) for truth and model outputs, on the same ``n`` events.

    ``columns[source]`` is an ``(n, k)`` float64 array for source "truth", "sampled" or "reconstructed" (absent when
    the output was not given); ``names``, ``kinds`` ("feature", "derived", "mass") and ``labels`` (TeX, with unit)
    describe the ``k`` columns.
    """

    space: str
    names: tuple[str, ...]
    kinds: tuple[str, ...]
    labels: tuple[str, ...]
    columns: dict[str, np.ndarray]

    def column(self, source: str, name: str) -> np.ndarray:
        return self.columns[source][:, self.names.index(name)]

    def classifier_inputs(self, source: str) -> np.ndarray:
        """The 24 features plus the reconstructed masses, ``(n, 28)``."""
        keep = [j for j, k in enumerate(self.kinds) if k != "derived"]
        return self.columns[source][:, keep]


def _feature_label(name: str) -> str:
    obj, _, comp = name.rpartition("_")
    return f"{_COMPONENT_TEX[comp]} of {_OBJECT_TEX[obj]} [GeV]"


def _space_variables(
    features: np.ndarray, space: str, reconstruct: Reconstruct
) -> tuple[np.ndarray, tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    f = np.asarray(features, dtype=np.float64)
    if f.ndim != 2 or f.shape[1] != N_FEATURES:
        raise ValueError(f"{space} features must have shape (n, {N_FEATURES}), got {f.shape!r}")
    base = Z_FEATURES if space == "Z" else X_FEATURES
    names, kinds, cols = list(base), ["feature"] * N_FEATURES, [f]
    if space == "X":
        names.append("met_pt")
        kinds.append("derived")
        cols.append(np.hypot(f[:, 4], f[:, 5])[:, None])
    masses = reconstruct(f, level="parton" if space == "Z" else "reco")
    for m in MASS_NAMES:
        names.append(m)
        kinds.append("mass")
        cols.append(np.asarray(masses[m], dtype=np.float64)[:, None])
    labels = tuple(
        f"{_MASS_TEX[n]} [GeV]" if k == "mass" else _feature_label(n) for n, k in zip(names, kinds, strict=True)
    )
    return np.concatenate(cols, axis=1), tuple(names), tuple(kinds), labels


def _default_reconstruct() -> Reconstruct:
    from turbosim_hep.physics.reconstruction import reconstruct_features

    return reconstruct_features


def make_samples(
    z_true: np.ndarray,
    x_true: np.ndarray,
    z_gen: np.ndarray | None = None,
    x_gen: np.ndarray | None = None,
    *,
    z_rec: np.ndarray | None = None,
    x_rec: np.ndarray | None = None,
    reconstruct: Reconstruct | None = None,
) -> dict[str, SpaceSamples]:
    """Features, MET pT and reconstructed masses of truth and model outputs, per space.

    Parameters
    ----------
    z_true, x_true : ``(n, 24)`` parton and detector truth of the same events [GeV].
    z_gen, x_gen : sampled outputs z̃ = E(x) and x̃ = D(z), ``(n, 24)`` [GeV] (row i from event i's input).
    z_rec, x_rec : reconstructed outputs ẑ = E(D(z)) and x̂ = D(E(x)), ``(n, 24)`` [GeV]; optional.
    reconstruct : ``f(features, *, level) -> dict`` of masses; defaults to
        :func:`turbosim_hep.physics.reconstruction.reconstruct_features`.

    Returns
    -------
    ``{"Z": SpaceSamples, "X": SpaceSamples}``
    """
    reconstruct = reconstruct or _default_reconstruct()
    n = len(z_true)
    out: dict[str, SpaceSamples] = {}
    for space, arrays in (
        ("Z", {"truth": z_true, "sampled": z_gen, "reconstructed": z_rec}),
        ("X", {"truth": x_true, "sampled": x_gen, "reconstructed": x_rec}),
    ):
        columns: dict[str, np.ndarray] = {}
        for source, arr in arrays.items():
            if arr is None:
                continue
            if len(arr) != n:
                raise ValueError(f"{space} {source} has {len(arr)} rows but the truth has {n}; rows must pair up")
            columns[source], names, kinds, labels = _space_variables(arr, space, reconstruct)
        out[space] = SpaceSamples(space=space, names=names, kinds=kinds, labels=labels, columns=columns)
    return out


# --------------------------------------------------------------------------------------------------------- report
def _finite(a: np.ndarray) -> np.ndarray:
    return a[np.isfinite(a)]


def _stats(gen: np.ndarray, truth: np.ndarray, *, full: bool = True) -> dict[str, float | int]:
    g, t = _finite(gen), _finite(truth)
    out: dict[str, float | int] = {"nonfinite": int(len(gen) - len(g))}
    if len(g) == 0 or len(t) == 0:
        return {**out, "ks": math.nan, "w1": math.nan, "chi2": math.nan}
    out["ks"] = metrics.ks_statistic(g, t)
    if full:
        out["w1"] = metrics.wasserstein1(g, t)
        out["chi2"] = metrics.reduced_chi2(g, t)
    return out


def _compare_variable(samples: SpaceSamples, j: int, half: np.ndarray) -> dict[str, Any]:
    cols = samples.columns
    t = cols["truth"][:, j]
    t_a, t_b = t[half], t[~half]
    outputs = [s for s in ("sampled", "reconstructed") if s in cols]
    floor = _stats(t_a, t_b)
    floor.pop("nonfinite")
    n_a, n_b = len(_finite(t_a)), len(_finite(t_b))
    return {
        "space": samples.space,
        "variable": samples.names[j],
        "kind": samples.kinds[j],
        "independent": {
            **{s: _stats(cols[s][half, j], t_b) for s in outputs},
            "floor": floor,
            "ks_floor_expected": metrics.ks_expected_floor(n_a, n_b) if n_a and n_b else math.nan,
        },
        "paired": {
            **{s: _stats(cols[s][:, j], t, full=False) for s in outputs},
            "ks_floor_expected": metrics.ks_expected_floor(len(_finite(t))) if len(_finite(t)) else math.nan,
        },
    }


def _default_half(n: int, seed: int) -> np.ndarray:
    return metrics.split_halves(n, seed=seed)


@dataclass(frozen=True)
class Report:
    """The evaluation results; ``to_dict()`` is the JSON, ``to_markdown()`` the human-readable report.

    KS values are stored as fractions (the Markdown shows them x 1e-2 like the paper), W1 in GeV, chi^2 reduced.
    """

    meta: dict[str, Any]
    variables: tuple[dict[str, Any], ...]
    classifier: dict[str, Any] | None = None
    response: dict[str, Any] | None = None
    table1: dict[str, Any] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "table1", self._table1())

    def variable(self, space: str, name: str) -> dict[str, Any]:
        """The comparison record of one variable, e.g. ``report.variable("X", "m_tt")``."""
        for v in self.variables:
            if v["space"] == space and v["variable"] == name:
                return v
        raise KeyError(f"no variable {name!r} in space {space!r}")

    def _table1(self) -> dict[str, Any]:
        def col(scheme: str, source: str) -> list[float | None]:
            out = []
            for _, _, space, name in TABLE1_COLUMNS:
                rec = self.variable(space, name)[scheme]
                if source == "floor":
                    out.append(rec["floor"]["ks"])
                elif source == "floor_expected":
                    out.append(rec["ks_floor_expected"])
                else:
                    out.append(rec[source]["ks"] if source in rec else None)
            return out

        outputs = [s for s in ("sampled", "reconstructed") if s in self.variables[0]["independent"]]
        return {
            "columns": [{"key": k, "label": lab, "space": s, "variable": v} for k, lab, s, v in TABLE1_COLUMNS],
            "unit": "KS statistic (fraction; the paper quotes x 1e-2)",
            "paper": {k: [None if v is None else v * 1e-2 for v in vals] for k, vals in PAPER_TABLE1.items()},
            "independent": {s: col("independent", s) for s in (*outputs, "floor", "floor_expected")},
            "paired": {s: col("paired", s) for s in (*outputs, "floor_expected")},
        }

    def table1_rows(self, scheme: str = "independent") -> list[tuple[str, list[float | None]]]:
        """Rows (label, values x 1e-2) of Table 1 for ``scheme``: the paper's rows, this model's, the floors."""
        rows: list[tuple[str, list[float | None]]] = [
            (f"{k} [paper]", [None if v is None else 100 * v for v in vals]) for k, vals in self.table1["paper"].items()
        ]
        names = {
            "sampled": "this model, sampled",
            "reconstructed": "this model, reconstructed",
            "floor": "floor: truth half vs half",
            "floor_expected": "expected floor 0.87*sqrt(1/n+1/m)",
        }
        for key, vals in self.table1[scheme].items():
            rows.append((names[key], [None if v is None else 100 * v for v in vals]))
        return rows

    def to_dict(self) -> dict[str, Any]:
        return _json_safe(
            {
                "meta": self.meta,
                "table1": self.table1,
                "classifier": self.classifier,
                "response": self.response,
                "variables": list(self.variables),
            }
        )

    def to_markdown(self) -> str:
        return _markdown(self)

    def write(self, out: str | os.PathLike) -> tuple[Path, Path]:
        """Write ``out/report.json`` and ``out/report.md`` atomically; returns both paths."""
        from turbosim_hep.io.root import atomic_path

        out = Path(out)
        paths = (out / "report.json", out / "report.md")
        texts = (json.dumps(self.to_dict(), indent=1) + "\n", self.to_markdown())
        for path, text in zip(paths, texts, strict=True):
            with atomic_path(path) as tmp:
                tmp.write_text(text, encoding="utf-8")
        return paths


def _json_safe(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_json_safe(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def _classifier_block(
    samples: Mapping[str, SpaceSamples], half: np.ndarray, *, max_events: int, seed: int
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for space, s in samples.items():
        t = s.classifier_inputs("truth")
        t_a, t_b = t[half], t[~half]
        rec: dict[str, Any] = {
            "features": [n for n, k in zip(s.names, s.kinds, strict=True) if k != "derived"],
            "floor": metrics.classifier_auc(t_a, t_b, max_events=max_events, seed=seed),
        }
        for source in ("sampled", "reconstructed"):
            if source in s.columns:
                gen = s.classifier_inputs(source)[half]
                rec[source] = metrics.classifier_auc(gen, t_b, max_events=max_events, seed=seed)
        n_a, n_b = min(len(t_a), max_events), min(len(t_b), max_events)
        rec["null_std"] = metrics.auc_null_std(n_a, n_b)
        rec["n_events"] = [n_a, n_b]
        out[space] = rec
    return out


def report_from_samples(
    samples: Mapping[str, SpaceSamples],
    *,
    half: np.ndarray | None = None,
    seed: int = 0,
    classifier: bool = True,
    classifier_max_events: int = 50_000,
    response: Mapping[str, Any] | None = None,
    meta: Mapping[str, Any] | None = None,
) -> Report:
    """Compare every variable of ``samples`` (from :func:`make_samples`) with its truth; see :func:`build_report`."""
    n = len(samples["Z"].columns["truth"])
    if n < 4:
        raise ValueError(f"the report needs at least 4 events, got {n}")
    half = _default_half(n, seed) if half is None else np.asarray(half, dtype=bool)
    if half.shape != (n,) or half.all() or not half.any():
        raise ValueError(f"half must be a boolean (n,) = ({n},) mask selecting some but not all events")
    records = tuple(
        _compare_variable(s, j, half) for space in ("Z", "X") for s in (samples[space],) for j in range(len(s.names))
    )
    features = [r for r in records if r["kind"] == "feature"]
    sums = {}
    for scheme in ("independent", "paired"):
        for source in ("sampled", "reconstructed"):
            vals = [r[scheme][source]["ks"] for r in features if source in r[scheme]]
            if vals:
                sums[f"{scheme}_{source}"] = float(np.nansum(vals))
    if {"paired_sampled", "paired_reconstructed"} <= set(sums):
        sums_96 = {"sum_ks_96": sums["paired_sampled"] + sums["paired_reconstructed"]}
    else:
        sums_96 = {}
    info = {
        "n_events": n,
        "n_half_a": int(half.sum()),
        "n_half_b": int((~half).sum()),
        "ks_floor_expected_independent": metrics.ks_expected_floor(int(half.sum()), int((~half).sum())),
        "ks_floor_expected_paired": metrics.ks_expected_floor(n),
        "sum_ks_features": sums,
        **sums_96,
        "seed": seed,
        **(meta or {}),
    }
    clf = _classifier_block(samples, half, max_events=classifier_max_events, seed=seed) if classifier else None
    return Report(meta=info, variables=records, classifier=clf, response=dict(response) if response else None)


def build_report(
    z_true: np.ndarray,
    x_true: np.ndarray,
    z_gen: np.ndarray,
    x_gen: np.ndarray,
    *,
    z_rec: np.ndarray | None = None,
    x_rec: np.ndarray | None = None,
    half: np.ndarray | None = None,
    seed: int = 0,
    classifier: bool = True,
    classifier_max_events: int = 50_000,
    response: bool = True,
    reconstruct: Reconstruct | None = None,
    meta: Mapping[str, Any] | None = None,
) -> Report:
    """The Table-1 report from arrays of the test events.

    Parameters
    ----------
    z_true, x_true : ``(n, 24)`` parton and detector truth [GeV], row i = event i.
    z_gen, x_gen : z̃ = E(x_true) and x̃ = D(z_true), ``(n, 24)`` [GeV], row i from event i.
    z_rec, x_rec : ẑ = E(D(z_true)) and x̂ = D(E(x_true)), ``(n, 24)``; optional (omitted from the report if None).
    half : boolean ``(n,)`` mask of half A for the independent scheme; default a seeded random half.
    seed : seeds the default half and the classifier.
    classifier : run the classifier two-sample test (a few gradient-boosting fits; the slowest part).
    response : run the conditional response test on (z_true, x_true, x_gen).
    reconstruct : mass reconstruction ``f(features, *, level)``; default ``reconstruct_features``.
    meta : extra entries for ``report.meta`` (sources, model, timings).
    """
    samples = make_samples(z_true, x_true, z_gen, x_gen, z_rec=z_rec, x_rec=x_rec, reconstruct=reconstruct)
    resp = None
    if response:
        from turbosim_hep.evaluation.response import conditional_response

        resp = conditional_response(z_true, x_true, x_gen).to_dict()
    return report_from_samples(
        samples,
        half=half,
        seed=seed,
        classifier=classifier,
        classifier_max_events=classifier_max_events,
        response=resp,
        meta=meta,
    )


# --------------------------------------------------------------------------------------------------------- markdown
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


def _markdown(report: Report) -> str:
    m, t1 = report.meta, report.table1
    labels = [c["label"] for c in t1["columns"]]
    outputs = [s for s in ("sampled", "reconstructed") if s in t1["independent"]]
    lines = [
        "# Turbo-Sim evaluation report",
        "",
        f"- events: {m['n_events']} ({m.get('split') or 'all'} split); independent halves A = {m['n_half_a']}, "
        f"B = {m['n_half_b']}",
        f"- model: {m.get('model', '–')}; data: {', '.join(map(str, m.get('data', []))) or '–'}",
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
            name = r["variable"] + (" †" if r["variable"] in ARTEFACT_FEATURES and space == "X" else "")
            row = [name]
            for stat, scale in (("ks", 100), ("w1", 1), ("chi2", 1)):
                row += [_cell(ind[s][stat], ind["floor"][stat], scale) for s in outputs]
            row += [_cell(pai[s]["ks"], pai["ks_floor_expected"], 100) for s in outputs]
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


# --------------------------------------------------------------------------------------------------------- loading
@dataclass(frozen=True)
class FeatureSet:
    """Paired parton and detector features of the selected events, with their ids."""

    z: np.ndarray
    x: np.ndarray
    run: np.ndarray
    luminosity_block: np.ndarray
    event: np.ndarray
    sources: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.z)


def load_features(
    data: Any,
    *,
    split: str | None = "test",
    max_events: int | None = None,
    step_size: int = 200_000,
) -> FeatureSet:
    """Paired Z and X features of the ``split`` events of ``data``.

    ``data`` is a ROOT file, a directory (its ``fileset.json`` or ``*.root``), a coffea fileset JSON, a list of
    these, an events array (:mod:`turbosim_hep.events`), or a mapping with ``z`` and ``x`` ``(n, 24)`` arrays and
    optionally ``run``, ``luminosityBlock``, ``event`` (default: 1, 1, row index). ``split=None`` keeps every event;
    ``max_events`` keeps the first that many selected events.
    """
    import awkward as ak

    from turbosim_hep.events import partons_to_features, reco_to_features
    from turbosim_hep.split import split_mask

    def select(z, x, run, lumi, event):
        keep = np.ones(len(z), dtype=bool) if split is None else split_mask(run, event, split)
        return z[keep], x[keep], run[keep], lumi[keep], event[keep]

    if isinstance(data, Mapping):
        missing = [k for k in ("z", "x") if k not in data]
        if missing:
            raise ValueError(f"in-memory data needs keys 'z' and 'x' ((n, 24) arrays); missing {missing!r}")
        z, x = np.asarray(data["z"]), np.asarray(data["x"])
        n = len(z)
        ids = (
            np.broadcast_to(np.asarray(data.get("run", 1), dtype=np.uint32), (n,)),
            np.broadcast_to(np.asarray(data.get("luminosityBlock", 1), dtype=np.uint32), (n,)),
            np.asarray(data.get("event", np.arange(n)), dtype=np.uint64),
        )
        parts, sources = [select(z, x, *ids)], ("<arrays>",)
    else:
        if isinstance(data, ak.Array):
            chunks, sources = [data], ("<events array>",)
        else:
            from turbosim_hep.io.datasets import resolve_paths

            paths = resolve_paths(data)
            sources = tuple(str(p) for p in paths)
            from turbosim_hep.io.root import iterate_events

            chunks = iterate_events(paths, step_size=step_size, collections=("Parton", "Electron", "Jet", "MET"))
        parts, total = [], 0
        for chunk in chunks:
            ids = [ak.to_numpy(chunk[k]) for k in ("run", "luminosityBlock", "event")]
            part = select(partons_to_features(chunk), reco_to_features(chunk), *ids)
            parts.append(part)
            total += len(part[0])
            if max_events is not None and total >= max_events:
                break
    z, x, run, lumi, event = (np.concatenate([p[i] for p in parts]) for i in range(5))
    if max_events is not None:
        z, x, run, lumi, event = (a[:max_events] for a in (z, x, run, lumi, event))
    if len(z) == 0:
        raise ValueError(f"no {split!r} events in {list(sources)!r}; check the data or pass split=None")
    return FeatureSet(z=z, x=x, run=run, luminosity_block=lumi, event=event, sources=sources)


def _load_model(model: Any, seed: int | None) -> Any:
    if hasattr(model, "simulate_features") and hasattr(model, "unfold_features"):
        return model
    path = Path(model)
    if not path.exists():
        raise FileNotFoundError(f"model {str(path)!r} does not exist (give a checkpoint saved by `turbosim train`)")
    from turbosim_hep.transform import TurboSimTransform

    return TurboSimTransform.load(path, seed=seed)


def _run_model(method: Callable[..., np.ndarray], inputs: np.ndarray, data: FeatureSet, batch: int) -> np.ndarray:
    out = []
    for s in range(0, len(inputs), batch):
        sl = slice(s, s + batch)
        res = method(inputs[sl], run=data.run[sl], luminosity_block=data.luminosity_block[sl], event=data.event[sl])
        out.append(np.asarray(res, dtype=np.float64))
    return np.concatenate(out)


def evaluate(
    model: Any,
    data: Any,
    *,
    out: str | os.PathLike,
    split: str | None = "test",
    max_events: int | None = None,
    plots: bool = True,
    plot_formats: tuple[str, ...] = ("png", "pdf"),
    plot_variables: Sequence[tuple[str, str]] | None = None,
    classifier: bool = True,
    classifier_max_events: int = 50_000,
    response: bool = True,
    seed: int = 0,
    batch_size: int = 100_000,
    reconstruct: Reconstruct | None = None,
) -> Report:
    """Evaluate a Turbo-Sim model on the test split and write ``report.md``, ``report.json`` and ``plots/``.

    Parameters
    ----------
    model : checkpoint path (loaded with ``TurboSimTransform.load``) or any object with
        ``simulate_features(z, *, run, luminosity_block, event)`` (x̃ = D(z)) and
        ``unfold_features(x, *, run, luminosity_block, event)`` (z̃ = E(x)), ``(n, 24)`` GeV in and out.
    data : see :func:`load_features` (ROOT files, directories, fileset JSON, events array or ``{"z", "x"}``).
    out : output directory (created).
    split : which split to evaluate ("test"; None = all events).
    max_events : evaluate at most this many events.
    plots, classifier, response : switch the comparison plots, the classifier AUC and the response test.
    plot_formats, plot_variables : file formats of the plots; ``(space, name)`` pairs to plot (default: all).
    seed : model noise seed (for a path) and classifier seed.

    The halves A/B of the independent scheme are chosen from the event ids (``split_uniform`` with its own salt),
    so they do not depend on file order.

    Returns
    -------
    Report (also written to ``out``).
    """
    from turbosim_hep.progress import progress_bar
    from turbosim_hep.split import split_uniform

    t0 = time.perf_counter()
    transform = _load_model(model, seed)
    feats = load_features(data, split=split, max_events=max_events)
    timings: dict[str, float] = {"load_s": time.perf_counter() - t0}
    with progress_bar(4, "running the model", unit="passes") as bar:
        t1 = time.perf_counter()
        x_gen = _run_model(transform.simulate_features, feats.z, feats, batch_size)
        bar.advance()
        timings["simulate_events_per_s"] = len(feats) / max(time.perf_counter() - t1, 1e-9)
        t1 = time.perf_counter()
        z_gen = _run_model(transform.unfold_features, feats.x, feats, batch_size)
        bar.advance()
        timings["unfold_events_per_s"] = len(feats) / max(time.perf_counter() - t1, 1e-9)
        x_rec = _run_model(transform.simulate_features, z_gen, feats, batch_size)
        bar.advance()
        z_rec = _run_model(transform.unfold_features, x_gen, feats, batch_size)
        bar.advance()
    t1 = time.perf_counter()
    samples = make_samples(feats.z, feats.x, z_gen, x_gen, z_rec=z_rec, x_rec=x_rec, reconstruct=reconstruct)
    half = split_uniform(feats.run, feats.event, salt=_HALF_SALT) < 0.5
    if half.all() or not half.any():
        half = _default_half(len(feats), seed)
    resp = None
    if response:
        from turbosim_hep.evaluation.response import conditional_response

        resp = conditional_response(feats.z, feats.x, x_gen).to_dict()
    # ``timings`` is shared with the report's meta, so the stages after this point still reach report.json
    meta = {
        "model": str(model) if isinstance(model, str | os.PathLike) else type(model).__name__,
        "data": list(feats.sources),
        "split": split,
        "timing": timings,
    }
    report = report_from_samples(
        samples,
        half=half,
        seed=seed,
        classifier=classifier,
        classifier_max_events=classifier_max_events,
        response=resp,
        meta=meta,
    )
    timings["metrics_s"] = time.perf_counter() - t1
    out = Path(out)
    if plots:
        from turbosim_hep.plotting import plot_samples

        t1 = time.perf_counter()
        plot_samples(samples, out / "plots", formats=plot_formats, variables=plot_variables)
        timings["plots_s"] = time.perf_counter() - t1
    timings["total_s"] = time.perf_counter() - t0
    report.write(out)
    return report
