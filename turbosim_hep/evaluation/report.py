"""The evaluation report: the Turbo-Sim paper's Table 1 and every feature and mass, each beside its statistical floor.

Four model outputs are compared with the truth of the test split (arXiv:2112.10629, Table 1):

- sampled: z̃ = E(x) against z, and x̃ = D(z) against x;
- reconstructed: ẑ = E(D(z)) against z, and x̂ = D(E(x)) against x.

Two schemes: *independent* (the headline) splits the test events into halves A and B by event id, compares the model
output computed from A with the truth of B, and gives as floor the same statistic between the truths of A and B (a
perfect model scores the floor, up to fluctuations); *paired* compares the outputs of all test events with the truth
of the same events (as the paper did), beside the expected KS 0.87·sqrt(2/n).

This module holds :class:`Report` and the comparison on arrays (:func:`report_from_samples`, :func:`build_report`);
the physics scorecard (phase space, rich and pair classifiers, peaks, unfolding physics) comes from
:mod:`.scorecard`, running a model on data and writing the report folder from :mod:`.scoring`
(:func:`~.scoring.evaluate`), the Markdown from :mod:`.markdown`.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from turbosim_hep.evaluation import metrics
from turbosim_hep.evaluation.classifiers import MIN_CLASSIFIER_EVENTS
from turbosim_hep.evaluation.markdown import report_markdown
from turbosim_hep.evaluation.samples import (
    MASS_NAMES,
    Reconstruct,
    SpaceSamples,
    make_samples,
)
from turbosim_hep.evaluation.table1 import PAPER_TABLE1, TABLE1_COLUMNS

__all__ = (
    "MASS_NAMES",
    "PAPER_TABLE1",
    "TABLE1_COLUMNS",
    "Report",
    "SpaceSamples",
    "build_report",
    "make_samples",
    "report_from_samples",
)


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
    scorecard: dict[str, Any] | None = None
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

        outputs = [s for s in ("sampled", "reconstructed") if any(s in v["independent"] for v in self.variables)]
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
                "scorecard": self.scorecard,
                "variables": list(self.variables),
            }
        )

    def to_markdown(self, *, base: str | os.PathLike | None = None) -> str:
        """The Markdown report; with ``base`` (its directory) inputs are named relative to it, ``base/plots`` linked."""
        return report_markdown(self, base=base)

    def write(self, out: str | os.PathLike) -> tuple[Path, Path]:
        """Write ``out/report.json`` and ``out/report.md`` atomically; returns both paths.

        ``report.md`` links the plots already in ``out/plots`` and names its inputs relative to ``out``.
        """
        from turbosim_hep.io.atomic import atomic_path

        out = Path(out)
        paths = (out / "report.json", out / "report.md")
        texts = (json.dumps(self.to_dict(), indent=1) + "\n", self.to_markdown(base=out))
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
    smaller = min(int(half.sum()), int((~half).sum()), classifier_max_events)
    if classifier and smaller < MIN_CLASSIFIER_EVENTS:
        info["classifier_skipped"] = (
            f"the classifier tests need at least {MIN_CLASSIFIER_EVENTS} events in each half (their folds and early "
            f"stopping hold some out), got {int(half.sum())} and {int((~half).sum())}; evaluate more events"
        )
        classifier = False
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
    return _report_with_response(
        samples, z_true, x_true, x_gen, half=half, seed=seed, classifier=classifier,
        classifier_max_events=classifier_max_events, response=response, meta=meta,
    )  # fmt: skip


def _report_with_response(samples, z_true, x_true, x_gen, *, response: bool, **kwargs) -> Report:
    """:func:`report_from_samples` plus, with ``response``, the conditional response test on (z, x, x̃)."""
    resp = None
    if response:
        from turbosim_hep.evaluation.response import conditional_response

        resp = conditional_response(z_true, x_true, x_gen).to_dict()
    return report_from_samples(samples, response=resp, **kwargs)
