"""The evaluation report: the Turbo-Sim paper's Table 1 and every feature and mass, each beside its statistical floor.

Four model outputs are compared with the truth of the test split (arXiv:2112.10629, Table 1):

- sampled: z̃ = E(x) against z, and x̃ = D(z) against x;
- reconstructed: ẑ = E(D(z)) against z, and x̂ = D(E(x)) against x.

Two schemes: *independent* (the headline) splits the test events into halves A and B by event id, compares the model
output computed from A with the truth of B, and gives as floor the same statistic between the truths of A and B (a
perfect model scores the floor, up to fluctuations); *paired* compares the outputs of all test events with the truth
of the same events (as the paper did), beside the expected KS 0.87·sqrt(2/n).

This module holds :class:`Report`, the comparison on arrays (:func:`report_from_samples`, :func:`build_report`) and
:func:`evaluate`, which loads the model and data, runs the model, writes ``report.md``, ``report.json`` and ``plots/``.
The compared variables come from :mod:`.samples`, the Table-1 definitions from :mod:`.table1` and the Markdown from
:mod:`.markdown`; their public names used before the split are re-exported here.
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

from turbosim_hep.evaluation import metrics
from turbosim_hep.evaluation.markdown import report_markdown
from turbosim_hep.evaluation.samples import (
    MASS_NAMES,
    FeatureSet,
    Reconstruct,
    SpaceSamples,
    load_features,
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
    "evaluate",
    "load_features",
    "make_samples",
    "report_from_samples",
    "run_model",
    "score_transform",
)

_HALF_SALT = 0x7E57_4A1F


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


# ------------------------------------------------------------------------------------------------------- evaluate
def _load_model(model: Any, seed: int | None) -> Any:
    if hasattr(model, "simulate_features"):
        return model
    from turbosim_hep.simulation.registry import load_transform

    return load_transform(model, seed=seed)


def _run_model(
    method: Callable[..., np.ndarray], inputs: np.ndarray, data: FeatureSet, batch: int, stream: str
) -> np.ndarray:
    import inspect

    # a user's transform may take no noise stream: then it is responsible for drawing fresh noise per call
    streams = "stream" in inspect.signature(method).parameters
    out = []
    for s in range(0, len(inputs), batch):
        sl = slice(s, s + batch)
        ids = {"run": data.run[sl], "luminosity_block": data.luminosity_block[sl], "event": data.event[sl]}
        res = method(inputs[sl], **ids, stream=stream) if streams else method(inputs[sl], **ids)
        out.append(np.asarray(res, dtype=np.float64))
    return np.concatenate(out)


#: ``split`` values of :func:`evaluate`: one split of the model's own fractions, or every event (``"all"``).
EVALUATION_SPLITS: tuple[str, ...] = ("test", "validation", "all")


def _training_files(transform: Any) -> set[str]:
    """Resolved paths of the files a loaded model was trained on (from its provenance; empty when unknown)."""
    provenance = getattr(getattr(transform, "loaded", None), "provenance", None) or {}
    data = provenance.get("data", provenance) if isinstance(provenance, dict) else {}
    files = data.get("files", []) if isinstance(data, dict) else []
    return {str(Path(f["path"]).resolve()) for f in files if isinstance(f, dict) and "path" in f}


def check_split(transform: Any, data: Any, split: str | None) -> tuple[str | None, tuple[float, float, float]]:
    """The split to read and the model's own split fractions; refuses events the model trained or selected on.

    ``split`` is ``"test"`` (the model's test split, by the fractions saved with it), ``"validation"`` (only for a
    model that did not select on it: ``transform.used_splits``) or ``"all"``/``None`` (every event: for a
    dedicated sample made with other seeds; refused when a file is one the model was trained on).
    """
    from turbosim_hep.events.split import DEFAULT_FRACTIONS

    if split not in (*EVALUATION_SPLITS, None):
        raise ValueError(f"split must be one of {EVALUATION_SPLITS!r}, got {split!r}")
    fractions = getattr(transform, "split_fractions", None) or DEFAULT_FRACTIONS
    used = tuple(getattr(transform, "used_splits", ("train", "validation")))
    if split in used:
        raise ValueError(
            f"the model was trained or selected on its {split!r} split (fractions {fractions!r}); evaluate on "
            "split='test', or on a dedicated sample with split='all'"
        )
    if split in ("all", None) and not isinstance(data, Mapping) and not hasattr(data, "fields"):
        from turbosim_hep.io.datasets import resolve_paths

        overlap = sorted({str(p.resolve()) for p in resolve_paths(data)} & _training_files(transform))
        if overlap:
            raise ValueError(
                f"split='all' would score events the model trained on: {overlap[0]!r} (and {len(overlap) - 1} "
                "more) is in its training data; use split='test' there, or a sample made with other seeds"
            )
    return (None if split == "all" else split), tuple(fractions)


def _check_report_outputs(out: Path, data: Any, model: Any) -> None:
    """Refuse an ``out`` whose report files would replace an input (a data file or the model file)."""
    from turbosim_hep.io.atomic import check_outputs

    inputs: list[Path] = []
    if isinstance(model, str | os.PathLike):
        from turbosim_hep.simulation.registry import resolve_model_path

        inputs.append(resolve_model_path(model))
    if not isinstance(data, Mapping) and not hasattr(data, "fields"):
        from turbosim_hep.io.datasets import resolve_paths

        given = [data] if isinstance(data, str | os.PathLike) else list(data)
        inputs += [*map(Path, given), *resolve_paths(given)]
    if out.exists() and not out.is_dir():
        raise FileExistsError(f"evaluate --out {str(out)!r} exists and is not a directory")
    outputs = [out / "report.json", out / "report.md", *(out / "plots").glob("*.png")]
    check_outputs(outputs, inputs, verb="evaluate --out")


def run_model(
    transform: Any, feats: FeatureSet, *, batch_size: int = 100_000, timings: dict[str, float] | None = None
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None, np.ndarray | None]:
    """x̃ = D(z), z̃ = E(x), x̂ = D(E(x)), ẑ = E(D(z)) of ``feats`` [GeV], each from its own noise stream.

    x̃ and x̂ have their jets sorted as ``simulate()`` returns them. A transform that only simulates
    (``transform.directions == ("simulate",)``) gives ``None`` for the other three.
    """
    from turbosim_hep.runtime.progress import progress_bar

    timings = {} if timings is None else timings
    unfolds = "unfold" in getattr(transform, "directions", ("simulate", "unfold"))
    z_gen = x_rec = z_rec = None
    with progress_bar(4 if unfolds else 1, "running the model", unit="passes") as bar:
        t1 = time.perf_counter()
        x_gen = _run_model(transform.simulate_features, feats.z, feats, batch_size, "simulate")
        bar.advance()
        timings["simulate_events_per_s"] = len(feats) / max(time.perf_counter() - t1, 1e-9)
        if unfolds:
            t1 = time.perf_counter()
            z_gen = _run_model(transform.unfold_features, feats.x, feats, batch_size, "unfold")
            bar.advance()
            timings["unfold_events_per_s"] = len(feats) / max(time.perf_counter() - t1, 1e-9)
            x_rec = _run_model(transform.simulate_features, z_gen, feats, batch_size, "simulate_after_unfold")
            bar.advance()
            z_rec = _run_model(transform.unfold_features, x_gen, feats, batch_size, "unfold_after_simulate")
            bar.advance()
    return x_gen, z_gen, x_rec, z_rec


def score_transform(
    transform: Any,
    feats: FeatureSet,
    *,
    seed: int = 0,
    classifier: bool = True,
    classifier_max_events: int = 50_000,
    response: bool = True,
    batch_size: int = 100_000,
    reconstruct: Reconstruct | None = None,
    meta: Mapping[str, Any] | None = None,
) -> tuple[Report, dict[str, SpaceSamples], dict[str, np.ndarray | None]]:
    """Run ``transform`` on ``feats`` (:func:`run_model`) and compare its outputs with the truth.

    The halves A/B of the independent scheme come from the event ids, so every model scored on the same events
    is compared on the same halves. Returns the report, the compared samples and the outputs
    (``x_tilde``, ``z_tilde``, ``x_hat``, ``z_hat`` [GeV], ``None`` where the transform lacks a direction).
    """
    from turbosim_hep.events.split import split_uniform

    meta = dict(meta or {})
    timings = meta.setdefault("timing", {})
    x_gen, z_gen, x_rec, z_rec = run_model(transform, feats, batch_size=batch_size, timings=timings)
    samples = make_samples(feats.z, feats.x, z_gen, x_gen, z_rec=z_rec, x_rec=x_rec, reconstruct=reconstruct)
    half = split_uniform(feats.run, feats.event, salt=_HALF_SALT) < 0.5
    if half.all() or not half.any():
        half = _default_half(len(feats), seed)
    report = _report_with_response(
        samples, feats.z, feats.x, x_gen, half=half, seed=seed, classifier=classifier,
        classifier_max_events=classifier_max_events, response=response, meta=meta,
    )  # fmt: skip
    outputs = {"x_tilde": x_gen, "z_tilde": z_gen, "x_hat": x_rec, "z_hat": z_rec}
    return report, samples, outputs


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
    model : Turbo-Sim or OTUS checkpoint path (``turbosim_hep.simulation.registry.load_transform``) or any object with
        ``simulate_features(z, *, run, luminosity_block, event)`` (x̃ = D(z)) and
        ``unfold_features(x, *, run, luminosity_block, event)`` (z̃ = E(x)), ``(n, 24)`` GeV in and out.
    data : see :func:`load_features` (ROOT files, directories, fileset JSON, events array or ``{"z", "x"}``).
    out : output directory (created).
    split : "test" (default: the model's test split, by the split fractions saved with it), "validation" (only
        for a model that did not select on it) or "all" (every event: a dedicated sample made with other seeds;
        refused for files the model trained on). See :func:`check_split`.
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

    t0 = time.perf_counter()
    transform = _load_model(model, seed)
    _check_report_outputs(Path(out), data, model)
    read_split, fractions = check_split(transform, data, split)
    feats = load_features(data, split=read_split, fractions=fractions, max_events=max_events)
    timings: dict[str, float] = {"load_s": time.perf_counter() - t0}
    meta = {
        "model": str(model) if isinstance(model, str | os.PathLike) else type(model).__name__,
        "data": list(feats.sources),
        "split": split,
        "split_fractions": list(fractions),
        "timing": timings,  # shared with the report's meta, so the stages after this point still reach report.json
    }
    t1 = time.perf_counter()
    report, samples, _ = score_transform(
        transform,
        feats,
        seed=seed,
        classifier=classifier,
        classifier_max_events=classifier_max_events,
        response=response,
        batch_size=batch_size,
        reconstruct=reconstruct,
        meta=meta,
    )
    timings["metrics_s"] = time.perf_counter() - t1
    out = Path(out)
    if plots:
        from turbosim_hep.evaluation.plotting import plot_samples

        t1 = time.perf_counter()
        plot_samples(samples, out / "plots", formats=plot_formats, variables=plot_variables)
        timings["plots_s"] = time.perf_counter() - t1
    timings["total_s"] = time.perf_counter() - t0
    report.write(out)
    return report
