"""Plots of ``TurboSimProcessor`` output: full simulation and Turbo-Sim of the same events, with ratio panels.

The processor fills one ``hist.Hist`` per observable with a ``simulation`` category axis ("full-sim", "turbo-sim")
and one regular axis. :func:`plot_simulations` draws one such histogram (unit area, Turbo-Sim / full sim. below),
:func:`processor_figure` a row of them; :func:`unfolding_figure` draws the processor's ``unfold=True`` histograms
(``level`` axis: "truth", "unfolded") the same way, unfolded / truth below. The legend says which fraction of each
sample lies outside the plotted range (boost-histogram counts NaN fills, e.g. failed reconstructions, as overflow).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from turbosim_hep.figures.style import density_label, header_label, ratio_panel, ratio_range, style

__all__ = (
    "LEVEL_LABELS",
    "SAMPLE_LABELS",
    "flow_fractions",
    "plot_simulations",
    "processor_figure",
    "shared_ratio_limits",
    "unfolding_figure",
)

#: Legend names of the processor's ``simulation`` categories.
SAMPLE_LABELS: dict[str, str] = {"full-sim": "Full simulation", "turbo-sim": "Turbo-Sim"}
#: Legend names of the ``level`` categories of the processor's unfolded histograms.
LEVEL_LABELS: dict[str, str] = {"truth": "Truth partons", "unfolded": "Turbo-Sim unfolded"}

_STYLES = {
    "full-sim": {"histtype": "fill", "color": "#9ecae1", "alpha": 0.8},
    "turbo-sim": {"histtype": "step", "color": "#d62728", "linewidth": 2},
    "truth": {"histtype": "fill", "color": "#c7e9c0", "alpha": 0.8},
    "unfolded": {"histtype": "step", "color": "#6a3d9a", "linewidth": 2},
}
_HEADROOM = 1.6


def flow_fractions(h: Any) -> tuple[float, float]:
    """(underflow, overflow) fractions of the entries of a 1D ``hist.Hist``; (nan, nan) when it is empty."""
    values = np.asarray(h.values(flow=True), dtype=np.float64)
    total = values.sum()
    if not total > 0:
        return float("nan"), float("nan")
    return float(values[0] / total), float(values[-1] / total)


def _percent(fraction: float) -> str:
    if not np.isfinite(fraction):
        return "–"
    if fraction == 0:
        return "0 %"
    return "< 0.1 %" if fraction < 1e-3 else f"{100 * fraction:.1f} %"


def _density(h: Any) -> tuple[np.ndarray, np.ndarray]:
    """Values and variances of ``h`` scaled to unit area over all entries (flow included) [1 / axis unit]."""
    values = np.asarray(h.values(), dtype=np.float64)
    variances = h.variances()
    variances = values if variances is None else np.asarray(variances, dtype=np.float64)
    scale = float(np.asarray(h.values(flow=True)).sum()) * np.diff(h.axes[0].edges)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(scale > 0, values / scale, 0.0), np.where(scale > 0, variances / scale**2, 0.0)


def plot_simulations(
    h: Any,
    *,
    ax: Any,
    rax: Any | None = None,
    axis: str = "simulation",
    reference: str = "full-sim",
    labels: Mapping[str, str] = SAMPLE_LABELS,
    ratio_label: str = "Turbo-Sim /\nfull sim.",
    ratio_limits: tuple[float, float] | None = None,
    legend: bool = True,
) -> dict[str, Any]:
    """Draw each ``axis`` category of ``h`` normalised to unit area into ``ax``, ``other / reference`` into ``rax``.

    Each legend entry says how much of the sample lies below and above the plotted range; the main panel keeps
    headroom for the legend, so it covers no bin. ``ratio_limits`` fixes the ratio panel's y range (default: from
    its points). Returns the artists: ``"main"`` per category, ``"ratio"``.
    """
    import mplhep

    categories = list(h.axes[axis])
    if reference not in categories:
        raise ValueError(f"reference {reference!r} is not a category of axis {axis!r}: {categories!r}")
    edges = h.axes[-1].edges
    xlabel = h.axes[-1].label
    main, dens = {}, {}
    for cat in categories:
        one = h[{axis: cat}]
        values, variances = dens[cat] = _density(one)
        under, over = flow_fractions(one)
        label = f"{labels.get(cat, cat)}\n{_percent(under)} below, {_percent(over)} above range"
        kw = _STYLES.get(cat, {"histtype": "step", "linewidth": 2})
        yerr = None if kw["histtype"] == "fill" else np.sqrt(variances)
        main[cat] = mplhep.histplot(values, edges, ax=ax, yerr=yerr, label=label, **kw)
    top = max(float(np.max(v, initial=0.0)) for v, _ in dens.values())
    if top > 0:
        ax.set_ylim(0.0, _HEADROOM * top)
    ax.set_xlim(edges[0], edges[-1])
    ax.set_ylabel(density_label(xlabel))
    if legend:
        ax.legend(fontsize="x-small", loc="upper right")
    ratio = {}
    if rax is not None:
        others = {
            cat: (v, var, {"color": _STYLES.get(cat, {}).get("color", "black")})
            for cat, (v, var) in dens.items()
            if cat != reference
        }
        ratio = ratio_panel(rax, edges, *dens[reference], others, limits=ratio_limits, ylabel=ratio_label)
        rax.set_xlabel(xlabel)
        ax.set_xlabel("")
    else:
        ax.set_xlabel(xlabel)
    return {"main": main, "ratio": ratio}


def shared_ratio_limits(
    hists: Sequence[Any], *, axis: str = "simulation", reference: str = "full-sim"
) -> tuple[float, float]:
    """One ratio-panel y range for all of ``hists`` (:func:`turbosim_hep.figures.style.ratio_range` of every
    ``other / reference`` ratio), so panels side by side compare at a glance."""
    ratios = []
    for h in hists:
        ref, _ = _density(h[{axis: reference}])
        for cat in h.axes[axis]:
            if cat != reference:
                values, _ = _density(h[{axis: cat}])
                with np.errstate(divide="ignore", invalid="ignore"):
                    ratios.append(np.where(ref > 0, values / ref, np.nan))
    return ratio_range(ratios)


def processor_figure(hists: Mapping[str, Any], names: Sequence[str] | None = None, *, text: str = "Simulation"):
    """A row of full sim vs Turbo-Sim comparisons (ratio panels below) of ``hists[name]`` for each of ``names``.

    ``hists`` is one dataset's ``output[dataset]["hists"]`` of ``TurboSimProcessor``; ``names`` default to all.
    Every ratio panel has the same y range (:func:`shared_ratio_limits`). Returns a matplotlib ``Figure`` (made
    without pyplot).
    """
    return _comparison_row(hists, names, text=text, axis="simulation", reference="full-sim", labels=SAMPLE_LABELS,
                           ratio_label="Turbo-Sim /\nfull sim.")  # fmt: skip


def unfolding_figure(hists: Mapping[str, Any], names: Sequence[str] | None = None, *, text: str = "Simulation"):
    """A row of truth vs unfolded parton-level comparisons (unfolded / truth below), as :func:`processor_figure`.

    ``hists`` is one dataset's ``output[dataset]["unfolded"]`` of ``TurboSimProcessor(model, unfold=True)``
    (m_tt, top pTs, y_tt); ``names`` default to all. Returns a matplotlib ``Figure``.

    Example
    -------
    >>> fig = unfolding_figure(out["ttbar"]["unfolded"], ["m_tt", "top_pt_had"])
    >>> fig.savefig("unfolded.png")
    """
    return _comparison_row(hists, names, text=text, axis="level", reference="truth", labels=LEVEL_LABELS,
                           ratio_label="Unfolded /\ntruth")  # fmt: skip


def _comparison_row(hists, names, *, text, axis, reference, labels, ratio_label):
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    names = list(hists) if names is None else list(names)
    missing = [n for n in names if n not in hists]
    if missing:
        raise KeyError(f"no histogram {missing!r}; the processor output has {sorted(hists)!r}")
    with style():
        fig = Figure(figsize=(9 * len(names), 9), layout="constrained")
        fig.get_layout_engine().set(hspace=0.0, h_pad=0.02, w_pad=0.15)
        axes = fig.subplots(2, len(names), sharex="col", squeeze=False, gridspec_kw={"height_ratios": (3, 1)})
        limits = shared_ratio_limits([hists[n] for n in names], axis=axis, reference=reference)
        for col, name in enumerate(names):
            ax, rax = axes[0, col], axes[1, col]
            plot_simulations(hists[name], ax=ax, rax=rax, axis=axis, reference=reference, labels=labels,
                             ratio_label=ratio_label, ratio_limits=limits)  # fmt: skip
            # at most five x ticks: the last label of one column must not run into the first of the next
            rax.xaxis.set_major_locator(MaxNLocator(5))
            header_label(ax, text)
    return fig
