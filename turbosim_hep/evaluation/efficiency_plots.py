"""Plots of the selection-efficiency model against the full simulation (:mod:`turbosim_hep.evaluation.efficiency`).

One panel per observable and one for the calibration: the full simulation's efficiency with its binomial error bars,
the model's mean ε(z) as a line with its ±σ band, and a pull panel below. matplotlib and mplhep are imported here
only.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ("draw_efficiency", "efficiency_figure")


def _centres(rows: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    lo, hi = np.asarray(rows["lo"], float), np.asarray(rows["hi"], float)
    width = np.diff(lo).mean() if len(lo) > 1 else 1.0
    hi = np.where(np.isfinite(hi), hi, lo + width)  # the overflow bin drawn one mean width wide
    return lo, hi, 0.5 * (lo + hi)


def draw_efficiency(ax: Any, pull_ax: Any, rows: Mapping[str, Any], *, xlabel: str) -> list[Any]:
    """Draw one binned comparison (:func:`~turbosim_hep.evaluation.efficiency.binned_efficiency`) on ``ax`` with
    its pulls on ``pull_ax``; returns the artists."""
    lo, hi, mid = _centres(rows)
    model, sigma = np.asarray(rows["model"], float), np.asarray(rows["sigma"], float)
    edges = np.append(lo, hi[-1])
    artists = [
        ax.stairs(model, edges, color="C0", label=r"Turbo-Sim $\langle\varepsilon(z)\rangle$"),
        ax.stairs(
            model + sigma, edges, baseline=model - sigma, fill=True, color="C0", alpha=0.25, label=r"$\pm\sigma$"
        ),
        ax.errorbar(mid, rows["full_sim"], yerr=rows["full_sim_error"], fmt="o", color="k", label="Full sim."),
    ]
    ax.set_ylabel("Selection efficiency")
    ax.set_ylim(0.0, max(0.05, 2.0 * np.nanmax([*rows["full_sim"], *model])))  # the legend above the points
    ax.set_xlim(edges[0], edges[-1])
    ax.legend(fontsize="x-small", loc="upper right", title=f"$\\chi^2$/ndf = {rows['chi2']:.1f}/{rows['ndf']}",
              title_fontsize="x-small")  # fmt: skip
    artists.append(pull_ax.bar(mid, rows["pull"], width=hi - lo, color="C0", alpha=0.6))
    pull_ax.axhline(0.0, color="k", lw=0.8)
    for level in (-2, 2):
        pull_ax.axhline(level, color="k", lw=0.6, ls="--")
    lim = max(3.0, 1.2 * np.nanmax(np.abs(rows["pull"]))) if np.isfinite(rows["pull"]).any() else 3.0
    pull_ax.set_ylim(-lim, lim)
    pull_ax.set_ylabel("Pull", fontsize="small")
    pull_ax.set_xlabel(xlabel)
    pull_ax.set_xlim(edges[0], edges[-1])
    return artists


def efficiency_figure(
    report: Mapping[str, Any], stem: str | os.PathLike, *, formats: Sequence[str] = ("png", "pdf")
) -> list[Path]:
    """Every binned comparison of an :func:`~turbosim_hep.evaluation.efficiency.efficiency_report` and its
    calibration in one figure, saved atomically as ``stem.<format>``; returns the paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from turbosim_hep.evaluation.efficiency import OBSERVABLE_LABELS
    from turbosim_hep.figures.style import header_label, save_figure, style

    panels = [*report["bins"].items(), ("efficiency", report["calibration"])]
    with style():
        fig, axes = plt.subplots(
            2, len(panels), figsize=(8.0 * len(panels), 7.5),
            gridspec_kw={"height_ratios": (3, 1), "hspace": 0.05, "wspace": 0.3},
            sharex="col", squeeze=False,
        )  # fmt: skip
        for i, (name, rows) in enumerate(panels):
            label = OBSERVABLE_LABELS.get(name, name) if name != "efficiency" else r"$\varepsilon(z)$ (calibration)"
            draw_efficiency(axes[0, i], axes[1, i], rows, xlabel=label)
            header_label(axes[0, i], "")
        paths = save_figure(fig, stem, formats=formats)
        plt.close(fig)
    return paths
