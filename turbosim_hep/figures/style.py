"""The toolkit's one figure style: mplhep's CMS look in a context, the "Turbo-Sim" header, unit-aware axis labels,
ratio panels whose range follows the points they show, and atomic saving.

Every figure of the toolkit uses it: the evaluation's comparison plots (:mod:`turbosim_hep.evaluation.plotting`),
the generator's validation plots and the coffea processor's plots. Functions take axes and return artists; nothing
global changes and nothing is shown.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from turbosim_hep.io.atomic import atomic_path

__all__ = (
    "RATIO_LABELS",
    "auto_range",
    "density_label",
    "header_label",
    "quiet_fonts",
    "ratio_panel",
    "ratio_range",
    "save_figure",
    "style",
)


#: y label of the ratio panel per space.
RATIO_LABELS: dict[str, str] = {"Z": "Model / truth", "X": "Model / full sim."}


@contextlib.contextmanager
def quiet_fonts() -> Iterator[None]:
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

    with quiet_fonts(), matplotlib.style.context(mplhep.style.CMS):
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


def save_figure(fig: Any, stem: str | os.PathLike, *, formats: Sequence[str] = ("png", "pdf"), dpi: int = 100):
    """Save ``fig`` as ``stem.<format>`` for each format, atomically, with ``bbox_inches="tight"``; returns paths."""
    paths = []
    for fmt in formats:
        path = Path(f"{stem}.{fmt}")
        with atomic_path(path) as tmp, quiet_fonts():
            fig.savefig(tmp, format=fmt, bbox_inches="tight", dpi=dpi)
        paths.append(path)
    return paths
