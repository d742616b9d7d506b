"""Comparison plots with ratio panels (as the Turbo-Sim paper's Figure 2): truth, sampled and reconstructed outputs.

Histograms are ``hist.Hist`` objects drawn with ``mplhep.histplot`` in mplhep's CMS style (applied in a context, so
nothing global changes). Figures are ``matplotlib.figure.Figure`` objects made without pyplot: nothing is shown,
nothing is kept in pyplot's registry, and saving needs no GUI backend. Every function that draws into axes takes
them as arguments and returns the artists; :func:`plot_samples` writes one PNG/PDF per variable plus an overview.

The truth is the parton level in Z and the full simulation in X (:data:`SPACE_LABELS`). Ratio panels choose their
range from the points they show (:func:`ratio_range`) and mark the points beyond it with triangles at the edge.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = (
    "DEFAULT_LABELS",
    "RATIO_LABELS",
    "RECO_MASS_RANGES_GEV",
    "SPACE_LABELS",
    "auto_range",
    "comparison_figure",
    "density_label",
    "header_label",
    "overview_figure",
    "plot_comparison",
    "plot_range",
    "plot_samples",
    "ratio_panel",
    "ratio_range",
    "save_figure",
    "style",
)

#: Legend entries of truth, sampled and reconstructed per space: the Z truth is the parton level (the generator's
#: partons), the X truth the full (Delphes-like) simulation.
SPACE_LABELS: dict[str, tuple[str, str, str]] = {
    "Z": ("Parton level (truth)", "Turbo-Sim sampled", "Turbo-Sim reconstructed"),
    "X": ("Full simulation", "Turbo-Sim sampled", "Turbo-Sim reconstructed"),
}

#: Legend entries of truth, sampled and reconstructed of a detector-level (X) variable.
DEFAULT_LABELS: tuple[str, str, str] = SPACE_LABELS["X"]

#: y label of the ratio panel per space.
RATIO_LABELS: dict[str, str] = {"Z": "Model / truth", "X": "Model / full sim."}

_SPACE_TITLES = {"Z": "parton level (Z)", "X": "detector level (X)"}
_COLORS = ("#9ecae1", "#d62728", "#2ca02c")
_SOURCES = ("truth", "sampled", "reconstructed")
# the legend sits in the top ~30 % of the main panel: the histograms stay below it
_HEADROOM = 1.5


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
def style() -> Iterator[None]:
    """mplhep's CMS style for the figures made inside the context (nothing global changes)."""
    import matplotlib.style
    import mplhep

    with _quiet_fonts(), matplotlib.style.context(mplhep.style.CMS):
        yield


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


def density_label(xlabel: str) -> str:
    """y label of a unit-area histogram of ``xlabel``: ``"Density [1/GeV]"`` for ``"$p_T$ [GeV]"``."""
    unit = re.search(r"\[([^\]]+)\]\s*$", xlabel)
    return f"Density [1/{unit.group(1)}]" if unit else "Density"


def ratio_range(
    ratios: Sequence[np.ndarray],
    *,
    coverage: float = 0.95,
    span: tuple[float, float] = (0.5, 1.5),
    clip: tuple[float, float] = (0.0, 3.0),
) -> tuple[float, float]:
    """y range of a ratio panel: the central ``coverage`` of the finite ``ratios``, padded by 8 % of the range.

    The range always holds ``span`` (a good model does not get a magnified panel of noise) and never leaves
    ``clip`` (one empty truth bin does not flatten the rest); points outside are for :func:`ratio_panel` to mark.
    """
    r = np.concatenate([np.ravel(np.asarray(a, dtype=np.float64)) for a in ratios] or [np.empty(0)])
    r = r[np.isfinite(r)]
    lo, hi = span
    if len(r):
        q_lo, q_hi = np.quantile(r, [(1 - coverage) / 2, (1 + coverage) / 2])
        pad = 0.08 * (max(hi, q_hi) - min(lo, q_lo))
        lo, hi = min(lo, q_lo - pad), max(hi, q_hi + pad)
    return float(max(lo, clip[0])), float(min(hi, clip[1]))


def _ratio_ticks(lo: float, hi: float) -> np.ndarray:
    """At most five ticks at multiples of 0.1, 0.2, 0.25, 0.5 or 1 (so 1 is a tick, for spans up to 5); none at the
    top edge, where its label would touch the main panel's lowest one."""
    steps = (0.1, 0.2, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0)
    step = next((s for s in steps if (hi - lo) / s <= 5), float(10 ** np.ceil(np.log10((hi - lo) / 5))))
    ticks = np.arange(np.ceil(lo / step - 1e-9), np.floor(hi / step + 1e-9) + 1) * step + 0.0  # no -0
    return ticks[ticks < hi - 0.05 * (hi - lo)]


def ratio_panel(
    rax: Any,
    edges: np.ndarray,
    reference: np.ndarray,
    reference_variance: np.ndarray,
    others: Mapping[str, tuple[np.ndarray, np.ndarray, Mapping[str, Any]]],
    *,
    limits: tuple[float, float] | None = None,
    ylabel: str = RATIO_LABELS["X"],
) -> dict[str, Any]:
    """Draw ``other / reference`` per bin with error bars into ``rax``, the reference's uncertainty as a grey band.

    Arguments
    ---------
    edges : bin edges ``(n_bins + 1,)``.
    reference, reference_variance : the reference histogram's values and variances ``(n_bins,)``.
    others : ``{key: (values, variances, errorbar_kwargs)}`` of the histograms to divide (same normalisation).
    limits : y range; None chooses it from the points (:func:`ratio_range`). Points beyond it, and bins where the
        reference is empty but the other is not, are drawn as triangles at the top or bottom edge.

    Returns the artists: ``"band"``, ``"unity"``, one errorbar per key and the triangles ``"<key>_above"``,
    ``"<key>_below"`` where some points fell off the scale.
    """
    from matplotlib.ticker import FixedLocator
    from matplotlib.transforms import blended_transform_factory

    edges = np.asarray(edges, dtype=np.float64)
    centres = 0.5 * (edges[1:] + edges[:-1])
    ref = np.asarray(reference, dtype=np.float64)
    out: dict[str, Any] = {}
    ratios = {}
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(ref > 0, np.sqrt(reference_variance) / ref, np.nan)
        for key, (values, variances, _) in others.items():
            v = np.asarray(values, dtype=np.float64)
            r = np.where(ref > 0, v / ref, np.where(v > 0, np.inf, np.nan))
            ratios[key] = (r, np.where(ref > 0, np.sqrt(variances) / ref, np.nan))
    lo, hi = limits or ratio_range([r for r, _ in ratios.values()])
    out["band"] = rax.stairs(1 + rel, edges, baseline=1 - rel, fill=True, color="grey", alpha=0.35, lw=0)
    edge_y = blended_transform_factory(rax.transData, rax.transAxes)
    for i, (key, (r, err)) in enumerate(ratios.items()):
        kw = {"fmt": "o", "markersize": 4, "elinewidth": 1, **others[key][2]}
        out[key] = rax.errorbar(centres, np.where(np.isfinite(r), r, np.nan), yerr=err, **kw)
        # off-scale points as triangles at the edge, staggered per source so that two in one bin both show
        for side, mask, y, marker in (("above", r > hi, 0.94 - 0.07 * i, "^"), ("below", r < lo, 0.06 + 0.07 * i, "v")):
            if mask.any():
                out[f"{key}_{side}"] = rax.scatter(
                    centres[mask],
                    np.full(mask.sum(), y),
                    marker=marker,
                    s=30,
                    transform=edge_y,
                    zorder=5,
                    color=kw.get("color"),
                )
    out["unity"] = rax.axhline(1.0, color="black", linewidth=1)
    rax.set_ylim(lo, hi)
    rax.yaxis.set_major_locator(FixedLocator(_ratio_ticks(lo, hi)))
    rax.set_ylabel(ylabel, fontsize="small")
    return out


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


def save_figure(fig: Any, stem: str | os.PathLike, *, formats: Sequence[str] = ("png", "pdf"), dpi: int = 100):
    """Save ``fig`` as ``stem.<format>`` for each format, atomically, with ``bbox_inches="tight"``; returns paths."""
    from turbosim_hep.io.atomic import atomic_path

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
