"""Running a model on the test events and scoring it: :func:`evaluate` writes ``report.md``, ``report.json``, plots.

:func:`run_model` computes the four outputs x̃ = D(z), z̃ = E(x), x̂ = D(E(x)), ẑ = E(D(z)) and
:func:`posterior_draws` K draws z̃ ~ q(z|x) per event, each from the model's own keyed noise streams;
:func:`score_transform` compares them with the truth (:mod:`.report`: Table 1 and every variable; :mod:`.scorecard`:
phase space, rich and pair classifiers, peaks, unfolding physics and calibration); :func:`evaluate` is the whole run
behind ``turbosim evaluate``. :func:`check_split` refuses events a model trained or selected on.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from turbosim_hep.evaluation.report import Report, _default_half, _report_with_response
from turbosim_hep.evaluation.samples import FeatureSet, Reconstruct, SpaceSamples, load_features, make_samples
from turbosim_hep.runtime.advice import option

__all__ = (
    "EVALUATION_SPLITS",
    "N_POSTERIOR_DRAWS",
    "check_not_trained_on",
    "check_split",
    "draw_subset",
    "evaluate",
    "posterior_draws",
    "run_model",
    "score_transform",
)

_HALF_SALT = 0x7E57_4A1F
_DRAW_SALT = 0x0D2A_3C51
#: Posterior draws per event of the calibration test.
N_POSTERIOR_DRAWS: int = 20


def _load_model(model: Any, seed: int | None) -> Any:
    if hasattr(model, "simulate_features"):
        return model
    from turbosim_hep.simulation.registry import load_transform

    return load_transform(model, seed=seed)


def _run_model(
    method: Callable[..., np.ndarray], inputs: np.ndarray, data: FeatureSet, batch: int, stream: str, sample: int = 0
) -> np.ndarray:
    import inspect

    # a user's transform may take no noise stream: then it is responsible for drawing fresh noise per call
    params = inspect.signature(method).parameters
    extra: dict[str, Any] = {"stream": stream} if "stream" in params else {}
    if sample and "sample" in params:
        extra["sample"] = sample
    out = []
    for s in range(0, len(inputs), batch):
        sl = slice(s, s + batch)
        ids = {"run": data.run[sl], "luminosity_block": data.luminosity_block[sl], "event": data.event[sl]}
        out.append(np.asarray(method(inputs[sl], **ids, **extra), dtype=np.float64))
    return np.concatenate(out)


def posterior_draws(
    transform: Any, feats: FeatureSet, *, n_draws: int = N_POSTERIOR_DRAWS, batch_size: int = 100_000
) -> np.ndarray | None:
    """``n_draws`` unfoldings z̃ ~ q(z|x) of every event, ``(n_draws, n, 24)`` [GeV]; ``None`` if the model cannot.

    Draw k uses the unfold stream's noise sample k (:mod:`turbosim_hep.simulation.noise`), so draws differ and are
    reproducible; a transform without ``sample`` draws fresh noise per call.
    """
    if "unfold" not in getattr(transform, "directions", ("simulate", "unfold")):
        return None
    if n_draws < 2:
        raise ValueError(f"the calibration needs at least 2 posterior draws, got n_draws={n_draws!r}")
    return np.stack(
        [_run_model(transform.unfold_features, feats.x, feats, batch_size, "unfold", k) for k in range(n_draws)]
    )


def draw_subset(feats: FeatureSet, n_events: int | None) -> np.ndarray | None:
    """Rows of the ``n_events`` events whose posterior is drawn (``None``: every event), chosen from the event ids.

    The choice depends on the ids only (not on file order or the halves A/B), so every model scored on the same
    events is calibrated on the same subset.
    """
    from turbosim_hep.events.split import split_uniform

    if n_events is None or n_events >= len(feats):
        return None
    if n_events < 1:
        raise ValueError(f"draw_events must be at least 1 (or None for every event), got {n_events!r}")
    u = split_uniform(feats.run, feats.event, salt=_DRAW_SALT)
    return np.sort(np.argsort(u, kind="stable")[:n_events])


def _subset(feats: FeatureSet, rows: np.ndarray) -> FeatureSet:
    import dataclasses

    fields = ("z", "x", "run", "luminosity_block", "event")
    return dataclasses.replace(feats, **{f: getattr(feats, f)[rows] for f in fields})


#: ``split`` values of :func:`evaluate`: one split of the model's own fractions, or every event (``"all"``).
EVALUATION_SPLITS: tuple[str, ...] = ("test", "validation", "all")


def _training_record(transform: Any) -> list[dict]:
    """The per-file records of the data a loaded model was trained on (from its provenance; empty when unknown)."""
    provenance = getattr(getattr(transform, "loaded", None), "provenance", None) or {}
    data = provenance.get("data", provenance) if isinstance(provenance, dict) else {}
    files = data.get("files", []) if isinstance(data, dict) else []
    return [f for f in files if isinstance(f, dict) and "path" in f]


def _training_files(transform: Any) -> set[str]:
    """Resolved paths of the files a loaded model was trained on (from its provenance; empty when unknown)."""
    return {str(Path(f["path"]).resolve()) for f in _training_record(transform)}


def _use_test_split() -> str:
    return option(python="split='test'", cli="--split test")


def check_split(transform: Any, data: Any, split: str | None) -> tuple[str | None, tuple[float, float, float]]:
    """The split to read and the model's own split fractions; refuses events the model trained or selected on.

    ``split`` is ``"test"`` (the model's test split, by the fractions saved with it), ``"validation"`` (only for a
    model that did not select on it: ``transform.used_splits``) or ``"all"``/``None`` (every event: for a
    dedicated sample made with other seeds; refused when a file is one the model was trained on, by path or by
    content: the SHA-256 recorded at training, so a copied or moved training file is recognised too). The event
    ids are checked after reading (:func:`check_not_trained_on`).
    """
    from turbosim_hep.events.split import DEFAULT_FRACTIONS

    if split not in (*EVALUATION_SPLITS, None):
        raise ValueError(f"split must be one of {EVALUATION_SPLITS!r}, got {split!r}")
    fractions = getattr(transform, "split_fractions", None) or DEFAULT_FRACTIONS
    used = tuple(getattr(transform, "used_splits", ("train", "validation")))
    everything = option(python="split='all'", cli="--split all")
    if split in used:
        raise ValueError(
            f"the model was trained or selected on its {split!r} split (fractions {fractions!r}); evaluate on "
            f"{_use_test_split()}, or on a dedicated sample with {everything}"
        )
    if split in ("all", None) and not isinstance(data, Mapping) and not hasattr(data, "fields"):
        from turbosim_hep.io.datasets import resolve_paths
        from turbosim_hep.io.digests import file_sha256

        given = resolve_paths(data)
        overlap = sorted({str(p.resolve()) for p in given} & _training_files(transform))
        if overlap:
            raise ValueError(
                f"{everything} would score events the model trained on: {overlap[0]!r} (and {len(overlap) - 1} "
                f"more) is in its training data; use {_use_test_split()} there, or a sample made with other seeds"
            )
        digests = {f["sha256"]: f["path"] for f in _training_record(transform) if "sha256" in f}
        if digests:
            for p in given:
                trained = digests.get(file_sha256(p))
                if trained is not None:
                    raise ValueError(
                        f"{everything} would score events the model trained on: {str(p)!r} has the same content "
                        f"(SHA-256) as its training file {trained!r}; use {_use_test_split()} there, or a sample "
                        "made with other seeds"
                    )
    return (None if split == "all" else split), tuple(fractions)


def check_not_trained_on(transform: Any, feats: FeatureSet) -> None:
    """Refuse ``feats`` if their event ids fall inside the id ranges the model's training files recorded.

    Catches training events rewritten into a new file (other bytes, same events). Ids with ``run`` 1 are not
    compared: every sample made before ``run`` = seed + 1 has them, so they cannot tell samples apart.
    """
    from turbosim_hep.events.ids import id_ranges_overlap

    for f in _training_record(transform):
        hit = id_ranges_overlap(f.get("id_ranges") or [], feats.run, feats.event, ignore_runs=(1,))
        if hit is not None:
            run, event = hit
            src = next(iter(feats.sources), "the data")
            everything = option(python="split='all'", cli="--split all")
            raise ValueError(
                f"{everything} would score events the model trained on: "
                f"event id (run {run}, event {event}) of {src!r} is in the id range of its training file "
                f"{f['path']!r}; use {_use_test_split()} there, or a sample made with other seeds"
            )


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
    n_draws: int = N_POSTERIOR_DRAWS,
    draw_events: int | None = None,
    card: Any = None,
) -> tuple[Report, dict[str, SpaceSamples], dict[str, np.ndarray | None]]:
    """Run ``transform`` on ``feats`` (:func:`run_model`) and compare its outputs with the truth.

    The report holds Table 1 and every variable (:mod:`.report`), the response test and the scorecard
    (:func:`~.scorecard.scorecard`: phase space, rich and pair classifiers when ``classifier``, peaks, unfolding
    physics with ``n_draws`` posterior draws per event, 0 to skip the calibration, of ``draw_events`` events chosen by
    :func:`draw_subset` or of every event). The halves A/B of the independent
    scheme come from the event ids, so every model scored on the same events is compared on the same halves.
    Returns the report, the compared samples and the outputs (``x_tilde``, ``z_tilde``, ``x_hat``, ``z_hat``
    [GeV], ``None`` where the transform lacks a direction).
    """
    import dataclasses

    from turbosim_hep.evaluation.scorecard import scorecard
    from turbosim_hep.events.split import split_uniform

    meta = dict(meta or {})
    timings = meta.setdefault("timing", {})
    x_gen, z_gen, x_rec, z_rec = run_model(transform, feats, batch_size=batch_size, timings=timings)
    t0 = time.perf_counter()
    draw_rows = draw_subset(feats, draw_events) if n_draws else None
    drawn = feats if draw_rows is None else _subset(feats, draw_rows)
    draws = posterior_draws(transform, drawn, n_draws=n_draws, batch_size=batch_size) if n_draws else None
    timings["posterior_draws_s"] = time.perf_counter() - t0
    samples = make_samples(feats.z, feats.x, z_gen, x_gen, z_rec=z_rec, x_rec=x_rec, reconstruct=reconstruct)
    half = split_uniform(feats.run, feats.event, salt=_HALF_SALT) < 0.5
    if half.all() or not half.any():
        half = _default_half(len(feats), seed)
    t0 = time.perf_counter()
    report = _report_with_response(
        samples, feats.z, feats.x, x_gen, half=half, seed=seed, classifier=False, response=response, meta=meta,
    )  # fmt: skip
    timings["table1_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    outputs = {"x_tilde": x_gen, "z_tilde": z_gen, "x_hat": x_rec, "z_hat": z_rec}
    card_dict = scorecard(
        feats.z, feats.x, outputs, half, draws=draws, draw_rows=draw_rows, card=card, classifier=classifier,
        classifier_max_events=classifier_max_events, reconstruct=reconstruct, seed=seed,
    )  # fmt: skip
    timings["scorecard_s"] = time.perf_counter() - t0
    if card_dict.get("classifiers_skipped"):
        report.meta["classifier_skipped"] = card_dict["classifiers_skipped"]
    return dataclasses.replace(report, scorecard=card_dict), samples, outputs


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
    plots, classifier, response : switch the comparison plots, the classifier tests and the response test.
    plot_formats, plot_variables : file formats of the plots; ``(space, name)`` pairs to plot (default: all).
    seed : model noise seed (for a path) and classifier seed.

    The halves A/B of the independent scheme are chosen from the event ids (``split_uniform`` with its own salt),
    so they do not depend on file order.

    Returns
    -------
    Report (also written to ``out``).
    """

    from turbosim_hep.runtime.seeds import check_seed

    t0 = time.perf_counter()
    check_seed(seed)
    transform = _load_model(model, seed)
    _check_report_outputs(Path(out), data, model)
    read_split, fractions = check_split(transform, data, split)
    feats = load_features(data, split=read_split, fractions=fractions, max_events=max_events)
    if read_split is None:
        check_not_trained_on(transform, feats)
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
        from turbosim_hep.evaluation.scorecard_plots import plot_scorecard

        t1 = time.perf_counter()
        plot_samples(samples, out / "plots", formats=plot_formats, variables=plot_variables)
        plot_scorecard({"this model": report.scorecard}, out / "plots", formats=plot_formats)
        timings["plots_s"] = time.perf_counter() - t1
    timings["total_s"] = time.perf_counter() - t0
    report.write(out)
    return report
