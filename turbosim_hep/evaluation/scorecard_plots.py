"""Plots of the scorecard: posterior rank histograms (calibration) and the phase-space table as bars.

Functions that draw take an ``ax`` and return artists; :func:`plot_scorecard` makes and saves the figures.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from turbosim_hep.evaluation.phase_space import CONDITIONS

__all__ = ("calibration_plot_stem", "plot_phase_space", "plot_rank_histogram", "plot_scorecard")

_QUANTITY_TEX = {
    "top_pt_had": r"$p_T(t_\mathrm{had})$",
    "top_pt_lep": r"$p_T(t_\mathrm{lep})$",
    "m_tt": r"$m_{t\bar{t}}$",
    "y_tt": r"$y_{t\bar{t}}$",
    "nu_pz": r"$p_z(\bar{\nu})$",
}


def calibration_plot_stem(label: str) -> str:
    """File stem of a model's rank-histogram figure in :func:`plot_scorecard`'s folder (``calibration_<label>``)."""
    return "calibration_" + "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in label)


def plot_rank_histogram(ax: Any, histogram: Sequence[int], *, label: str = "") -> list[Any]:
    """Rank of the truth among K posterior draws as a step histogram, with the flat line of a calibrated posterior.

    ``histogram`` holds K + 1 counts. A U shape means the posterior is too narrow, a dome too wide, a slope biased.
    The grey band is ±2 standard deviations of a calibrated posterior's bin at this many events (Poisson).
    """
    h = np.asarray(histogram, dtype=np.float64)
    density = h / h.sum() * len(h)
    ranks = np.arange(len(h) + 1) - 0.5
    noise = 2.0 * np.sqrt(len(h) / h.sum())
    artists = [ax.axhspan(1.0 - noise, 1.0 + noise, color="grey", alpha=0.2, lw=0)]
    artists.append(ax.stairs(density, ranks, label=label or None))
    artists.append(ax.axhline(1.0, color="grey", ls="--", lw=1))
    ax.set_xlabel(f"rank of the truth among {len(h) - 1} draws")
    ax.set_ylabel("events / calibrated")
    return artists


def plot_phase_space(ax: Any, cards: Mapping[str, Mapping[str, Any]]) -> list[Any]:
    """Horizontal bars: share of events breaking each phase-space condition [%], full simulation and each model."""
    first = next(iter(cards.values()))["phase_space"]["full_sim"]
    series = [("full sim", first)] + [(f"{k} D(z)", c["phase_space"]["x_tilde"]) for k, c in cards.items()]
    keys = [*CONDITIONS, "outside"]
    y = np.arange(len(keys))
    height = 0.8 / len(series)
    artists = []
    for i, (name, p) in enumerate(series):
        vals = [100 * (p["outside"] if k == "outside" else p["shares"][k]) for k in keys]
        artists.append(ax.barh(y + i * height, vals, height=height, label=name))
    ax.set_yticks(y + 0.4 - height / 2, [*(CONDITIONS[k] for k in CONDITIONS), "outside (union)"], fontsize="small")
    ax.invert_yaxis()
    ax.set_xlabel("events [%]")
    ax.legend(fontsize="small")
    return artists


def plot_scorecard(
    cards: Mapping[str, Mapping[str, Any]], out_dir: str | os.PathLike, *, formats: Sequence[str] = ("png", "pdf")
) -> list[Path]:
    """``out_dir/phase_space.<fmt>`` and, per model that unfolds, ``out_dir/calibration_<label>.<fmt>``."""
    import matplotlib.pyplot as plt

    from turbosim_hep.figures.style import save_figure

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    fig, ax = plt.subplots(figsize=(9, 6))
    plot_phase_space(ax, cards)
    written += save_figure(fig, out_dir / "phase_space", formats=formats)
    plt.close(fig)
    for label, card in cards.items():
        cal = (card.get("unfolding") or {}).get("calibration")
        if not cal:
            continue
        fig, axes = plt.subplots(1, len(cal), figsize=(3.2 * len(cal), 3.2), sharey=True, squeeze=False)
        for ax, (q, c) in zip(axes[0], cal.items(), strict=True):
            plot_rank_histogram(ax, c["rank_histogram"])
            cov = c["coverage"]["68"]["value"]
            ax.set_title(f"{_QUANTITY_TEX.get(q, q)}: 68 % → {100 * cov:.0f} %", fontsize="medium")
            if ax is not axes[0][0]:
                ax.set_ylabel("")
        written += save_figure(fig, out_dir / calibration_plot_stem(label), formats=formats)
        plt.close(fig)
    return written
