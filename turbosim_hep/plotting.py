"""Comparison plots with ratio panels (as the Turbo-Sim paper's Figure 2): truth, sampled and reconstructed outputs.

Histograms are ``hist.Hist`` objects drawn with ``mplhep.histplot`` in mplhep's CMS style (applied in a context, so
nothing global changes). Figures are ``matplotlib.figure.Figure`` objects made without pyplot: nothing is shown,
nothing is kept in pyplot's registry, and saving needs no GUI backend. Every function that draws into axes takes
them as arguments and returns the artists; :func:`plot_samples` writes one PNG/PDF per variable plus an overview.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = (
    "DEFAULT_LABELS",
    "auto_range",
    "comparison_figure",
    "header_label",
    "overview_figure",
    "plot_comparison",
    "plot_samples",
    "save_figure",
)

#: Legend entries of truth, sampled and reconstructed.
DEFAULT_LABELS: tuple[str, str, str] = ("Full simulation", "Turbo-Sim sampled", "Turbo-Sim reconstructed")

_COLORS = ("#9ecae1", "#d62728", "#2ca02c")
_SOURCES = ("truth", "sampled", "reconstructed")


@contextlib.contextmanager
def _quiet_fonts() -> Iterator[None]:
    import logging

    # the CMS style names fonts that may be absent; matplotlib falls back to DejaVu and logs every lookup
    font_log = logging.getLogger("matplotlib.font_manager")
    level = font_log.level
    font_log.setLevel(logging.ERROR)
    try:
        yield
    finally:
        font_log.setLevel(level)


@contextlib.contextmanager
def _style() -> Iterator[None]:
    import matplotlib.style
    import mplhep

    with _quiet_fonts(), matplotlib.style.context(mplhep.style.CMS):
        yield


def auto_range(truth: np.ndarray, *, quantiles: tuple[float, float] = (0.005, 0.995)) -> tuple[float, float]:
    """Histogram range [same unit as ``truth``]: the truth's central quantiles, padded by 5 %."""
    t = np.asarray(truth, dtype=np.float64)
    t = t[np.isfinite(t)]
    if len(t) == 0:
        return 0.0, 1.0
    lo, hi = np.quantile(t, quantiles)
    if not hi > lo:
        lo, hi = lo - 0.5, hi + 0.5
    pad = 0.05 * (hi - lo)
    return float(lo - pad), float(hi + pad)


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
    ratio_limits: tuple[float, float] = (0.5, 1.5),
    legend: bool = True,
    legend_title: str | None = None,
) -> dict[str, Any]:
    """Draw normalised histograms of truth (filled), sampled and reconstructed into ``ax``; ratios into ``rax``.

    Each histogram is normalised to unit area over all its finite entries (out-of-range ones included, so a model
    that puts events outside the range shows a deficit). The ratio panel shows model / truth with the model's
    statistical error bars and the truth's relative uncertainty as a grey band.

    Returns a dict with the drawn ``Hist`` objects (``"hists"``) and artists (``"main"``, ``"ratio"``).
    """
    import mplhep

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
    ax.set_ylabel("Normalised events / bin width")
    ax.set_xlim(spec[1], spec[2])
    if legend:
        ax.legend(fontsize="x-small", title_fontsize="x-small", loc="best", title=legend_title)
    if rax is not None:
        ratio = _draw_ratio(rax, hists, ratio_limits)
        rax.set_xlabel(xlabel)
        ax.set_xlabel("")
    else:
        ax.set_xlabel(xlabel)
    return {"hists": hists, "main": main, "ratio": ratio}


def _draw_ratio(rax: Any, hists: Mapping[str, Any], limits: tuple[float, float]) -> dict[str, Any]:
    truth = hists["truth"]
    edges = truth.axes[0].edges
    centres = truth.axes[0].centers
    t_val, t_var = truth.values(), truth.variances()
    out: dict[str, Any] = {}
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(t_val > 0, np.sqrt(t_var) / t_val, np.nan)
        out["band"] = rax.stairs(1 + rel, edges, baseline=1 - rel, fill=True, color="grey", alpha=0.35, lw=0)
        for source, color, marker in (("sampled", _COLORS[1], "o"), ("reconstructed", _COLORS[2], "s")):
            if source not in hists:
                continue
            h = hists[source]
            r = np.where(t_val > 0, h.values() / t_val, np.nan)
            err = np.where(t_val > 0, np.sqrt(h.variances()) / t_val, np.nan)
            out[source] = rax.errorbar(centres, r, yerr=err, fmt=marker, color=color, markersize=4, elinewidth=1)
    out["unity"] = rax.axhline(1.0, color="black", linewidth=1)
    rax.set_ylim(*limits)
    rax.set_ylabel("Model / full sim.", fontsize="small")
    return out


def header_label(ax: Any, text: str) -> tuple[Any, Any, Any]:
    """Bold "Turbo-Sim", italic ``text`` beside it (placed from the first text's extent), process on the right.

    Drawn by hand: mplhep's experiment label packs the two texts by font metrics that are off when the style's font
    is missing, and adds its own "Simulation".
    """
    kw = {"transform": ax.transAxes, "va": "bottom"}
    exp = ax.text(0.0, 1.01, "Turbo-Sim", fontweight="bold", fontsize="large", ha="left", **kw)
    sub = ax.annotate(
        text, xy=(1.0, 0.0), xycoords=exp, xytext=(8, 0), textcoords="offset points", style="italic", va="bottom"
    )
    right = ax.text(1.0, 1.01, r"$t\bar{t}$, 13 TeV", ha="right", **kw)
    return exp, sub, right


def comparison_figure(
    truth: np.ndarray,
    sampled: np.ndarray | None = None,
    reconstructed: np.ndarray | None = None,
    *,
    xlabel: str = "",
    bins: int = 40,
    range: tuple[float, float] | None = None,
    labels: Sequence[str] = DEFAULT_LABELS,
    text: str = "Simulation",
    legend_title: str | None = None,
):
    """A two-panel figure (histograms above, ratio below) of one variable; returns a matplotlib ``Figure``."""
    from matplotlib.figure import Figure

    with _style():
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
):
    """A grid of normalised histograms without ratio panels, one per ``(xlabel, truth, sampled, reconstructed)``."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    nrows = -(-len(panels) // ncols)
    with _style():
        fig = Figure(figsize=(6 * ncols, 5.5 * nrows), layout="constrained")
        axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel()
        for ax, (xlabel, t, s, r) in zip(axes, panels, strict=False):
            plot_comparison(t, s, r, ax=ax, bins=bins, xlabel=xlabel, labels=labels, legend=False)
            ax.set_ylabel("")
            ax.tick_params(labelsize="x-small")
            ax.xaxis.set_major_locator(MaxNLocator(5))
            ax.xaxis.label.set_size("small")
        for ax in axes[len(panels) :]:
            ax.set_visible(False)
        handles, names = axes[0].get_legend_handles_labels()
        fig.legend(handles, names, loc="outside upper center", ncols=len(names), fontsize="small")
    return fig


def save_figure(fig: Any, stem: str | os.PathLike, *, formats: Sequence[str] = ("png", "pdf"), dpi: int = 100):
    """Save ``fig`` as ``stem.<format>`` for each format, atomically, with ``bbox_inches="tight"``; returns paths."""
    from turbosim_hep.io.root import atomic_path

    paths = []
    for fmt in formats:
        path = Path(f"{stem}.{fmt}")
        with atomic_path(path) as tmp, _quiet_fonts():
            fig.savefig(tmp, format=fmt, bbox_inches="tight", dpi=dpi)
        paths.append(path)
    return paths


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
    the given ``(space, name)`` pairs. Returns the written paths.
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
            title = "parton level (Z)" if space == "Z" else "detector level (X)"
            fig = comparison_figure(*arrays(s, name), xlabel=label, bins=bins, legend_title=title)
            written += save_figure(fig, out_dir / f"{space}_{name}", formats=formats)
    if overview:
        panels = []
        for _, _, space, name in TABLE1_COLUMNS:
            s = samples[space]
            panels.append((s.labels[s.names.index(name)], *arrays(s, name)))
        written += save_figure(overview_figure(panels, bins=bins), out_dir / "overview", formats=formats)
    return written
