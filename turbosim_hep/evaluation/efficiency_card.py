"""The selection efficiency ε(z) in a model card: its provenance and test-split figures as Markdown, and a slice check.

A model file that carries an efficiency (:mod:`turbosim_hep.simulation.efficiency_file`) keeps, in the efficiency's
``provenance``, how it was trained and its figures on the test split (:func:`turbosim_hep.evaluation.efficiency.
efficiency_report`). :func:`efficiency_card_section` renders them for the model card (``benchmarks/ship_model.py
--efficiency``), and :func:`efficiency_check` computes the figures that ``tests/test_shipped_models.py`` reproduces on
a slice of the unselected sample.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ("efficiency_card_section", "efficiency_check")


def efficiency_card_section(provenance: Mapping[str, Any], *, command: str = "") -> str:
    """The model card's section on ε(z): data, training, and the test-split tables (full sim against ε, pulls,
    χ²/ndf, calibration), from the efficiency's ``provenance``; ``command`` is the one that trained it."""
    from turbosim_hep.evaluation.efficiency import efficiency_markdown

    data, test = provenance.get("data", {}), provenance["test"]
    remake = data.get("remake") or ", ".join(data.get("files", [])) or "–"
    digest = data.get("content_sha256") or data.get("files_sha256") or "–"
    cal, bins = test["calibration"], test["bins"]
    lines = [
        "## Selection efficiency ε(z)",
        "",
        "`simulate(..., selected_input=False)` and `turbosim simulate --unselected-input` mark each event with "
        "`passSelection` (drawn with probability ε(z)) and the weight `efficiency`.",
        "",
        f"- data: `{data.get('name', '–')}`, remade by `{remake}`, content SHA-256 `{digest}`: "
        f"{provenance.get('events', '–')} events, {provenance.get('pass_fraction', float('nan')):.2%} pass the "
        f"selection ({provenance.get('selection', '–')}); split {provenance.get('split_events', '–')}",
        f"- command: `{command or '–'}`",
        f"- network {provenance.get('hidden', '–')}, seed {provenance.get('seed', '–')}, "
        f"{provenance.get('epochs_run', '–')} epochs (best {provenance.get('best_epoch', '–')}), validation BCE "
        f"{provenance.get('validation_bce', float('nan')):.4f}, {provenance.get('training_seconds', '–')} s",
        "- test split: calibration χ²/ndf "
        f"{cal['chi2']:.1f}/{cal['ndf']}; "
        + ", ".join(f"{name} χ²/ndf {rows['chi2']:.1f}/{rows['ndf']}" for name, rows in bins.items()),
        "",
        "### On the test split (never seen in training or recalibration)",
        "",
        efficiency_markdown(test),
    ]
    return "\n".join(lines)


def efficiency_check(model: str | os.PathLike, files: Sequence[str | os.PathLike]) -> dict[str, Any]:
    """Figures of the ε(z) that ``model`` carries on every event of ``files`` (an unselected sample): events,
    events passing (full sim), the mean of ε, and χ²/ndf in bins of m_tt. ``ValueError`` if it has no efficiency."""
    from turbosim_hep.evaluation.efficiency import efficiency_report
    from turbosim_hep.evaluation.selection_sample import efficiency_sample
    from turbosim_hep.simulation.registry import load_transform

    tf = load_transform(model, device="cpu")
    if tf.efficiency is None:
        raise ValueError(f"model {str(model)!r} carries no selection efficiency")
    sample = efficiency_sample([Path(f) for f in files])
    report = efficiency_report(tf.efficiency.efficiency(sample.z), sample.passed, sample.z)
    return {
        "files": [Path(f).name for f in files],
        "n_events": len(sample),
        "n_passed": int(sample.passed.sum()),
        "mean_efficiency": float(np.mean(report["model"])),
        "m_tt_chi2": report["bins"]["m_tt"]["chi2"],
        "m_tt_ndf": report["bins"]["m_tt"]["ndf"],
    }
