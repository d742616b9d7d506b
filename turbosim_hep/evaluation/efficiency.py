"""The selection-efficiency model against the full simulation: ε(z) in bins of parton-level observables, calibration.

In each bin of an observable, the full simulation's efficiency k / n (k of the n events pass the selection) is
compared with the model's, the mean of ε(z) over the same events. Under the hypothesis that ε is right, k is a sum
of independent Bernoulli(ε_i) draws, so its spread is σ = sqrt(Σ ε_i (1 − ε_i)) / n (the Poisson-binomial
variance; the usual binomial error sqrt(p(1 − p) / n) is shown beside it); pull = (k / n − mean ε) / σ and
χ² = Σ pull² over the bins, ndf = the number of bins (nothing is fitted to these bins). *Calibration*
(reliability) is the same comparison in bins of ε itself.

Observables are the partons' (:func:`turbosim_hep.evaluation.features.parton_observables`): m_tt, the pT of the
hadronic top (b u d̄) and |y_tt|. (The leptonic top's pT is the same number: the six partons are the hard process's
decay products, before any radiation, so the tt̄ pair has no transverse momentum.)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

__all__ = (
    "DEFAULT_BINS",
    "OBSERVABLE_LABELS",
    "binned_efficiency",
    "calibration",
    "efficiency_markdown",
    "efficiency_report",
)

#: Bin edges of each observable ([GeV] but |y_tt|); the last bin holds the overflow.
DEFAULT_BINS: dict[str, tuple[float, ...]] = {
    "m_tt": (300.0, 400.0, 450.0, 500.0, 575.0, 700.0, 900.0, np.inf),
    "top_pt_had": (0.0, 40.0, 80.0, 120.0, 170.0, 250.0, 400.0, np.inf),
    "abs_y_tt": (0.0, 0.25, 0.5, 0.75, 1.0, 1.4, 2.0, np.inf),
}
#: Axis labels with units.
OBSERVABLE_LABELS: dict[str, str] = {
    "m_tt": r"$m_{t\bar{t}}$ [GeV]",
    "top_pt_had": r"$p_T^{t,\mathrm{had}}$ [GeV]",
    "top_pt_lep": r"$p_T^{t,\mathrm{lep}}$ [GeV]",
    "abs_y_tt": r"$|y_{t\bar{t}}|$",
    "efficiency": r"$\varepsilon(z)$",
}


def binned_efficiency(eps: np.ndarray, passed: np.ndarray, values: np.ndarray, edges) -> dict[str, Any]:
    """Full-simulation efficiency against the model's in bins of ``values``.

    Arguments
    ---------
    eps : (n,)
        The model's ε(z) per event.
    passed : (n,) bool
        The full simulation's selection outcome.
    values : (n,)
        The observable; events outside ``edges`` are left out.
    edges : (n_bins + 1,)
        Increasing bin edges (the last may be ``inf``).

    Returns
    -------
    dict of lists, one entry per bin: ``lo``, ``hi``, ``n``, ``passed``, ``full_sim`` (k / n),
    ``full_sim_error`` (binomial), ``model`` (mean ε), ``sigma`` (the Poisson-binomial spread), ``pull``; and
    ``chi2``, ``ndf``.
    """
    eps, passed, values = np.asarray(eps, float), np.asarray(passed, bool), np.asarray(values, float)
    edges = np.asarray(edges, float)
    if eps.shape != passed.shape or eps.shape != values.shape:
        raise ValueError(
            f"eps, passed and values must share one shape, got {eps.shape}, {passed.shape}, {values.shape}"
        )
    if edges.ndim != 1 or len(edges) < 2 or np.any(np.diff(edges) <= 0):
        raise ValueError(f"edges must increase, got {edges.tolist()!r}")
    index = np.searchsorted(edges, values, side="right") - 1
    rows: dict[str, list] = {k: [] for k in ("lo", "hi", "n", "passed", "full_sim", "full_sim_error", "model", "sigma",
                                             "pull")}  # fmt: skip
    for b in range(len(edges) - 1):
        sel = index == b
        n, k = int(sel.sum()), int(passed[sel].sum())
        observed = k / n if n else np.nan
        model = float(eps[sel].mean()) if n else np.nan
        sigma = float(np.sqrt(np.sum(eps[sel] * (1.0 - eps[sel])))) / n if n else np.nan
        rows["lo"].append(float(edges[b]))
        rows["hi"].append(float(edges[b + 1]))
        rows["n"].append(n)
        rows["passed"].append(k)
        rows["full_sim"].append(observed)
        rows["full_sim_error"].append(float(np.sqrt(observed * (1.0 - observed) / n)) if n else np.nan)
        rows["model"].append(model)
        rows["sigma"].append(sigma)
        rows["pull"].append((observed - model) / sigma if n and sigma > 0 else np.nan)
    pulls = np.asarray(rows["pull"], float)
    good = np.isfinite(pulls)
    return {**rows, "chi2": float(np.sum(pulls[good] ** 2)), "ndf": int(good.sum())}


def calibration(eps: np.ndarray, passed: np.ndarray, *, n_bins: int = 10) -> dict[str, Any]:
    """Reliability of ε: :func:`binned_efficiency` in ``n_bins`` bins of ε holding equal numbers of events."""
    edges = np.unique(np.quantile(np.asarray(eps, float), np.linspace(0.0, 1.0, n_bins + 1)))
    edges[0], edges[-1] = 0.0, float(np.max(eps)) + 1e-9
    return binned_efficiency(eps, passed, eps, edges)


def efficiency_report(
    eps: np.ndarray, passed: np.ndarray, z: np.ndarray, *, bins: Mapping[str, tuple[float, ...]] | None = None
) -> dict[str, Any]:
    """The figures of ε on a sample (the test split): overall efficiency, binary cross-entropy, the binned
    comparisons of :data:`DEFAULT_BINS` and the calibration.

    Arguments
    ---------
    eps : (n,)
        ε(z) of the events.
    passed : (n,) bool
        Their full-simulation selection outcome.
    z : (n, 24)
        Their parton features [GeV].
    """
    from turbosim_hep.evaluation.features import parton_observables

    eps, passed = np.asarray(eps, float), np.asarray(passed, bool)
    obs = parton_observables(np.asarray(z))
    obs["abs_y_tt"] = np.abs(obs["y_tt"])
    clipped = np.clip(eps, 1e-7, 1.0 - 1e-7)
    bce = float(-np.mean(np.where(passed, np.log(clipped), np.log1p(-clipped))))
    n = len(eps)
    return {
        "events": n,
        "passed": int(passed.sum()),
        "full_sim": float(passed.mean()),
        "full_sim_error": float(np.sqrt(passed.mean() * (1.0 - passed.mean()) / n)),
        "model": float(eps.mean()),
        "sigma": float(np.sqrt(np.sum(eps * (1.0 - eps)))) / n,
        "bce": bce,
        "bins": {
            name: binned_efficiency(eps, passed, obs[name], edges) for name, edges in (bins or DEFAULT_BINS).items()
        },
        "calibration": calibration(eps, passed),
    }


def _table(name: str, rows: dict[str, Any]) -> list[str]:
    lines = [
        f"| {name} bin | events | passed | full sim | model ε | σ | pull |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for i in range(len(rows["lo"])):
        lo, hi = rows["lo"][i], rows["hi"][i]
        interval = f"≥ {lo:g}" if not np.isfinite(hi) else f"{lo:g} – {hi:g}"
        lines.append(
            f"| {interval} | {rows['n'][i]} | {rows['passed'][i]} | {rows['full_sim'][i]:.4f} ± "
            f"{rows['full_sim_error'][i]:.4f} | {rows['model'][i]:.4f} | {rows['sigma'][i]:.4f} | "
            f"{rows['pull'][i]:+.2f} |"
        )
    lines.append(f"\nχ²/ndf = {rows['chi2']:.1f}/{rows['ndf']}\n")
    return lines


def efficiency_markdown(report: Mapping[str, Any]) -> str:
    """:func:`efficiency_report` as Markdown: the overall efficiency, one table per observable, the calibration."""
    lines = [
        f"Events: {report['events']}, passing the selection (full sim): {report['passed']} "
        f"({report['full_sim']:.4f} ± {report['full_sim_error']:.4f}); mean ε(z) {report['model']:.4f} "
        f"(σ {report['sigma']:.4f}); binary cross-entropy {report['bce']:.4f}.\n",
    ]
    for name, rows in report["bins"].items():
        lines += _table(name, rows)
    lines += ["Calibration (bins of ε holding equal numbers of events):\n", *_table("ε", report["calibration"])]
    return "\n".join(lines)
