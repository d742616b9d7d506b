"""Comparison plots with ratio panels (as the Turbo-Sim paper's Figure 2): truth, sampled and reconstructed outputs.

Histograms are ``hist.Hist`` objects drawn with ``mplhep.histplot`` in mplhep's CMS style (applied in a context, so
nothing global changes). Figures are ``matplotlib.figure.Figure`` objects made without pyplot: nothing is shown,
nothing is kept in pyplot's registry, and saving needs no GUI backend. Every function that draws into axes takes
them as arguments and returns the artists; :func:`plot_samples` writes one PNG/PDF per variable plus an overview.

The truth is the parton level in Z and the full simulation in X (:data:`SPACE_LABELS`). Ratio panels choose their
range from the points they show (:func:`ratio_range`) and mark the points beyond it with triangles at the edge.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from turbosim_hep.figures.style import (
    RATIO_LABELS,
    auto_range,
    density_label,
    header_label,
    ratio_panel,
    save_figure,
    style,
)

__all__ = (
    "DEFAULT_LABELS",
    "RECO_MASS_RANGES_GEV",
    "SPACE_LABELS",
    "comparison_figure",
    "overview_figure",
    "plot_comparison",
    "plot_range",
    "plot_samples",
)


#: Legend entries of truth, sampled and reconstructed per space: the Z truth is the parton level (the generator's
#: partons), the X truth the full (Delphes-like) simulation.
SPACE_LABELS: dict[str, tuple[str, str, str]] = {
    "Z": ("Parton level (truth)", "Turbo-Sim sampled", "Turbo-Sim reconstructed"),
    "X": ("Full simulation", "Turbo-Sim sampled", "Turbo-Sim reconstructed"),
}


#: Legend entries of truth, sampled and reconstructed of a detector-level (X) variable.
DEFAULT_LABELS: tuple[str, str, str] = SPACE_LABELS["X"]


_SPACE_TITLES = {"Z": "parton level (Z)", "X": "detector level (X)"}


_COLORS = ("#9ecae1", "#d62728", "#2ca02c")


_SOURCES = ("truth", "sampled", "reconstructed")


# the legend sits in the top ~30 % of the main panel: the histograms stay below it
_HEADROOM = 1.5


#: Plot ranges [GeV] of the masses reconstructed from detector-level events (X): the peak and its shoulders. The
#: truth's 0.5-99.5 % quantiles reach 1.2 TeV for m_t(had) (the chi^2 assignment's tail: 11 % of full-sim events
#: above 400 GeV), which squeezed the peak into three of 40 bins. Events outside still count in the normalisation,
#: so a model that puts too many there shows a deficit in range.
RECO_MASS_RANGES_GEV: dict[str, tuple[float, float]] = {
    "m_t_had": (50.0, 450.0),
    "m_t_lep": (50.0, 450.0),
    "m_w_had": (0.0, 200.0),
    "m_tt": (250.0, 1500.0),
}


def plot_range(space: str, name: str, truth: np.ndarray) -> tuple[float, float]:
    """The x range of variable ``name`` of ``space`` ("Z" or "X"): :data:`RECO_MASS_RANGES_GEV` for X masses, else
    :func:`auto_range` of the truth."""
    if space == "X" and name in RECO_MASS_RANGES_GEV:
        return RECO_MASS_RANGES_GEV[name]
    return auto_range(truth)


def _density_hist(values: np.ndarray, edges_spec: tuple[int, float, float], label: str):
    """Weight-storage Hist of ``values`` normalised to unit area over all entries (flow included)."""
    import hist

    bins, lo, hi = edges_spec
    h = hist.Hist(hist.axis.Regular(bins, lo, hi, label=label), storage=hist.storage.Weight())
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    h.fill(v)
    width = (hi - lo) / bins
    return h * (1.0 / (max(len(v), 1) * width))


def plot_comparison(
    truth: np.ndarray,
    sampled: np.ndarray | None = None,
    reconstructed: np.ndarray | None = None,
    *,
    ax: Any,
    rax: Any | None = None,
    bins: int = 40,
    range: tuple[float, float] | None = None,
    xlabel: str = "",
    labels: Sequence[str] = DEFAULT_LABELS,
    ratio_label: str = RATIO_LABELS["X"],
    ratio_limits: tuple[float, float] | None = None,
    legend: bool = True,
    legend_title: str | None = None,
) -> dict[str, Any]:
    """Draw normalised histograms of truth (filled), sampled and reconstructed into ``ax``; ratios into ``rax``.

    Each histogram is normalised to unit area over all its finite entries (out-of-range ones included, so a model
    that puts events outside the range shows a deficit). The ratio panel shows model / truth with the model's
    statistical error bars and the truth's relative uncertainty as a grey band, in ``ratio_limits`` (default:
    chosen from the points, see :func:`ratio_range`). With ``legend`` the main panel gets headroom for it.

    Returns a dict with the drawn ``Hist`` objects (``"hists"``) and artists (``"main"``, ``"ratio"``).
    """
    import mplhep
    from matplotlib.ticker import MaxNLocator

    spec = (bins, *(range or auto_range(truth)))
    hists, main, ratio = {}, {}, {}
    for source, values, label, color in zip(_SOURCES, (truth, sampled, reconstructed), labels, _COLORS, strict=True):
        if values is None:
            continue
        h = _density_hist(values, spec, xlabel)
        hists[source] = h
        if source == "truth":
            main[source] = mplhep.histplot(
                h, ax=ax, histtype="fill", color=color, alpha=0.8, label=label, yerr=False, flow="none"
            )
        else:
            main[source] = mplhep.histplot(
                h,
                ax=ax,
                histtype="step",
                color=color,
                linewidth=2,
                linestyle="-" if source == "sampled" else "--",
                label=label,
                yerr=True,
                flow="none",
            )
    ax.set_ylabel(density_label(xlabel))
    ax.set_xlim(spec[1], spec[2])
    # at most six x ticks: wide labels such as "-1500" run into each other at the style's font size
    ax.xaxis.set_major_locator(MaxNLocator(5))
    if legend:
        top = max((float(np.max(h.values(), initial=0.0)) for h in hists.values()), default=0.0)
        if top > 0:
            ax.set_ylim(0.0, _HEADROOM * top)
        ax.legend(fontsize="x-small", title_fontsize="x-small", loc="upper right", title=legend_title)
    if rax is not None:
        truth_h = hists["truth"]
        others = {
            s: (hists[s].values(), hists[s].variances(), {"color": c, "fmt": m})
            for s, c, m in (("sampled", _COLORS[1], "o"), ("reconstructed", _COLORS[2], "s"))
            if s in hists
        }
        edges = truth_h.axes[0].edges
        ratio = ratio_panel(
            rax, edges, truth_h.values(), truth_h.variances(), others, limits=ratio_limits, ylabel=ratio_label
        )
        rax.set_xlabel(xlabel)
        ax.set_xlabel("")
    else:
        ax.set_xlabel(xlabel)
    return {"hists": hists, "main": main, "ratio": ratio}


def comparison_figure(
    truth: np.ndarray,
    sampled: np.ndarray | None = None,
    reconstructed: np.ndarray | None = None,
    *,
    xlabel: str = "",
    bins: int = 40,
    range: tuple[float, float] | None = None,
    labels: Sequence[str] = DEFAULT_LABELS,
    ratio_label: str = RATIO_LABELS["X"],
    text: str = "Simulation",
    legend_title: str | None = None,
):
    """A two-panel figure (histograms above, ratio below) of one variable; returns a matplotlib ``Figure``.

    ``labels`` and ``ratio_label`` name the truth: the defaults are the detector level's; pass
    ``SPACE_LABELS["Z"]`` and ``RATIO_LABELS["Z"]`` for a parton-level variable.
    """
    from matplotlib.figure import Figure

    with style():
        fig = Figure(figsize=(10, 10))
        ax, rax = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": (3, 1), "hspace": 0.06})
        plot_comparison(
            truth,
            sampled,
            reconstructed,
            ax=ax,
            rax=rax,
            bins=bins,
            range=range,
            xlabel=xlabel,
            labels=labels,
            ratio_label=ratio_label,
            legend_title=legend_title,
        )
        header_label(ax, text)
    return fig


def overview_figure(
    panels: Sequence[tuple[str, np.ndarray, np.ndarray | None, np.ndarray | None]],
    *,
    ncols: int = 5,
    bins: int = 40,
    labels: Sequence[str] = DEFAULT_LABELS,
    titles: Sequence[str] | None = None,
    ranges: Sequence[tuple[float, float] | None] | None = None,
):
    """A grid of normalised histograms without ratio panels, one per ``(xlabel, truth, sampled, reconstructed)``.

    ``titles`` (one per panel, e.g. "parton level (Z)") are written small above each panel; ``ranges`` (one per
    panel, None: from the truth) fix the x ranges.
    """
    from matplotlib.figure import Figure

    nrows = -(-len(panels) // ncols)
    with style():
        fig = Figure(figsize=(6 * ncols, 5.5 * nrows), layout="constrained")
        axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel()
        for i, (ax, (xlabel, t, s, r)) in enumerate(zip(axes, panels, strict=False)):
            x_range = None if ranges is None else ranges[i]
            plot_comparison(t, s, r, ax=ax, bins=bins, xlabel=xlabel, labels=labels, legend=False, range=x_range)
            ax.yaxis.label.set_size("x-small")
            ax.tick_params(labelsize="x-small")
            ax.xaxis.label.set_size("small")
            if titles is not None:
                ax.set_title(titles[i], fontsize="x-small", loc="left")
        for ax in axes[len(panels) :]:
            ax.set_visible(False)
        handles, names = axes[0].get_legend_handles_labels()
        fig.legend(handles, names, loc="outside upper center", ncols=len(names), fontsize="small")
    return fig


def plot_samples(
    samples: Mapping[str, Any],
    out_dir: str | os.PathLike,
    *,
    formats: Sequence[str] = ("png", "pdf"),
    variables: Sequence[tuple[str, str]] | None = None,
    overview: bool = True,
    bins: int = 40,
) -> list[Path]:
    """One comparison figure per variable of ``samples`` (from ``evaluation.report.make_samples``) plus an overview.

    Files are ``out_dir/<space>_<variable>.<format>`` (e.g. ``X_m_tt.png``) and ``out_dir/overview.<format>`` (the
    ten Table-1 variables, truth vs sampled and reconstructed). ``variables`` restricts the per-variable figures to
    the given ``(space, name)`` pairs. Z figures call the truth "parton level", X figures "full simulation".
    Returns the written paths.
    """
    from turbosim_hep.evaluation.table1 import TABLE1_COLUMNS

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    wanted = None if variables is None else set(variables)

    def arrays(s: Any, name: str) -> tuple[np.ndarray, ...]:
        return tuple(s.column(src, name) if src in s.columns else None for src in _SOURCES)

    written: list[Path] = []
    for space in ("Z", "X"):
        s = samples[space]
        for name, label in zip(s.names, s.labels, strict=True):
            if wanted is not None and (space, name) not in wanted:
                continue
            columns = arrays(s, name)
            fig = comparison_figure(
                *columns,
                xlabel=label,
                bins=bins,
                range=plot_range(space, name, columns[0]),
                labels=SPACE_LABELS[space],
                ratio_label=RATIO_LABELS[space],
                legend_title=_SPACE_TITLES[space],
            )
            written += save_figure(fig, out_dir / f"{space}_{name}", formats=formats)
    if overview:
        panels, titles, ranges = [], [], []
        for _, _, space, name in TABLE1_COLUMNS:
            s = samples[space]
            panels.append((s.labels[s.names.index(name)], *arrays(s, name)))
            titles.append(_SPACE_TITLES[space])
            ranges.append(plot_range(space, name, panels[-1][1]))
        truth = "Truth: parton level (Z) / full simulation (X)"
        fig = overview_figure(panels, bins=bins, labels=(truth, *DEFAULT_LABELS[1:]), titles=titles, ranges=ranges)
        written += save_figure(fig, out_dir / "overview", formats=formats)
    return written
