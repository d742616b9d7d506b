"""The must-show figures of the unfolding (issue 21), each with its target and verdict, in the issue's order.

From one :func:`~.scorecard.scorecard` (test events of the reference sample, spreads from the scorecard),
:func:`unfolding_figures` returns:

1. the share of events with an unfolded parton off-shell (E < |p| beyond float rounding): 0;
2. the KS of each parton-level mass (m_W had, m_t had, m_t lep, m_W lep, m_tt) of z̃ = E(x) ≤ 2× its
   truth-vs-truth floor;
3. the Table-1 Z columns (p_y^b, p_z^b, E^b) each ≤ 2× floor and ≤ the paper's Turbo-Sim row;
4. the rich Z classifier AUC (z̃ vs z, held-out events) ≤ 0.65 and the pair AUC of (E(x), x) vs (z, x) ≤ 0.70;
5. the central-68 % coverage of the posterior draws within 68 ± 3 % for top pT (both), m_tt, y_tt and ν pz;
6. refolding closure: D(E(x)) vs x rich AUC ≤ 0.65; prior dependence: the reweighting recovered ≥ 50 %.

A figure the scorecard lacks (no classifiers, no posterior draws) is a row with a NaN value and the verdict
"missed": a figure that was not computed proves nothing. Every :class:`Figure` carries a ``column`` so an ablation
table (:mod:`.ablation`) can put the runs side by side.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from turbosim_hep.evaluation.scorecard import CALIBRATED_QUANTITIES
from turbosim_hep.evaluation.table1 import PAPER_TABLE1, TABLE1_COLUMNS
from turbosim_hep.evaluation.uncertainty import VERDICTS, combined_std, verdict

__all__ = ("PARTON_MASSES", "UNFOLDING_TARGETS", "Figure", "unfolding_figures", "worst_verdict")

#: The bounds of issue 21 (shares and AUCs as fractions).
UNFOLDING_TARGETS: dict[str, float] = {
    "rich_z_auc": 0.65,
    "pair_unfolding_auc": 0.70,
    "refolding_auc": 0.65,
    "parton_ks_over_floor": 2.0,
    "coverage_tolerance": 0.03,
    "prior_recovered": 0.5,
}

#: Parton-level masses whose KS must sit near the floor (keys of ``parton_observables``).
PARTON_MASSES: tuple[str, ...] = ("m_w_had", "m_t_had", "m_t_lep", "m_w_lep", "m_tt")

_NAN = float("nan")


@dataclass(frozen=True)
class Figure:
    """One judged figure: ``value ± spread`` (fractions), the ``target`` it is judged against and the ``verdict``.

    ``column`` names the figure in an ablation table (two targets on one figure share it); ``scale``, ``digits`` and
    ``unit`` say how it is printed (KS ×10⁻²: scale 100); ``missing`` marks a figure the scorecard did not compute
    (classifiers or posterior draws switched off).
    """

    column: str
    target: str
    value: float
    spread: float
    verdict: str
    scale: float = 1.0
    digits: int = 3
    unit: str = ""
    missing: bool = False

    def text(self) -> str:
        """``"value ± spread unit"`` as printed; ``"–"`` for a figure not computed."""
        if self.value is None or not math.isfinite(self.value):
            return "–"
        exact = not math.isfinite(self.spread) or self.spread == 0  # a count that must be zero has no spread
        tail = "" if exact else f" ± {self.spread * self.scale:.{self.digits}f}"
        return f"{self.value * self.scale:.{self.digits}f}{tail}{self.unit}"

    def row(self) -> tuple[str, str, str]:
        """``(target, verdict, figure)`` as :func:`~.targets.scorecard_targets` lists them."""
        return self.target, self.verdict, self.text()


def worst_verdict(verdicts: Sequence[str]) -> str:
    """The worst of ``verdicts`` ("missed" over "within noise" over "met")."""
    return max(verdicts, key=VERDICTS.index)


def _auc(clf: Mapping[str, Any], key: str, column: str, label: str, bound: float) -> Figure:
    c = clf.get(key)
    if c is None:
        return Figure(column, f"{label}: AUC ≤ {bound:g} (not computed)", _NAN, _NAN, "missed", missing=True)
    return Figure(column, f"{c['description']}: AUC ≤ {bound:g}", c["auc"], c["spread"],
                  verdict(c["auc"], bound, c["spread"]))  # fmt: skip


def _ks_vs_floor(column: str, label: str, ks: Mapping[str, float], floor: Mapping[str, float]) -> Figure:
    k = UNFOLDING_TARGETS["parton_ks_over_floor"]
    bound = k * floor["value"]
    spread = combined_std(ks["spread"], k * floor["spread"])
    return Figure(column, f"{label} KS ≤ {k:g}× floor ({100 * bound:.2f})", ks["value"], ks["spread"],
                  verdict(ks["value"], bound, spread), 100, 2)  # fmt: skip


def _table1_z(card: Mapping[str, Any]) -> list[Figure]:
    paper = PAPER_TABLE1["Turbo-Sim (arXiv:2112.10629)"]
    out = []
    for (_, label, space, _), ks, floor, ref in zip(
        TABLE1_COLUMNS, card["table1"]["model"], card["table1"]["floor"], paper, strict=True
    ):
        if space != "Z":
            continue
        column = f"{label} KS"
        if ks is None:
            out.append(Figure(column, f"{label} KS (no unfolding)", _NAN, _NAN, "missed", 100, 2, missing=True))
            continue
        out.append(_ks_vs_floor(column, label, ks, floor))
        out.append(Figure(column, f"{label} KS ≤ paper's Turbo-Sim {ref}", ks["value"], ks["spread"],
                          verdict(100 * ks["value"], ref, 100 * ks["spread"]), 100, 2))  # fmt: skip
    return out


def _coverage(unf: Mapping[str, Any]) -> list[Figure]:
    tol = UNFOLDING_TARGETS["coverage_tolerance"]
    cal = unf.get("calibration") or {}
    out = []
    for q in CALIBRATED_QUANTITIES:
        target = f"posterior {q}: central-68 % coverage within 68 ± {100 * tol:.0f} %"
        if q not in cal:
            out.append(Figure(f"cov68 {q}", f"{target} (no posterior draws)", _NAN, _NAN, "missed", 100, 1, " %",
                              missing=True))  # fmt: skip
            continue
        cov = cal[q]["coverage"]["68"]
        out.append(Figure(f"cov68 {q}", target, cov["value"], cov["spread"],
                          verdict(abs(cov["value"] - 0.68), tol, cov["spread"]), 100, 1, " %"))  # fmt: skip
    return out


def unfolding_figures(card: Mapping[str, Any]) -> list[Figure]:
    """The must-show figures of issue 21 of one scorecard, in the issue's order (empty if the model cannot unfold)."""
    unf = card.get("unfolding")
    if not unf:
        return []
    clf = card.get("classifiers") or {}
    off = unf["off_shell"]["any"]
    figures = [Figure("off-shell", "unfolded partons off-shell (E < |p|, any slot): 0", off, 0.0,
                      verdict(off, 0.0, 0.0), 100, 2, " %")]  # fmt: skip
    for key in PARTON_MASSES:
        m = unf["parton_masses"][key]
        figures.append(_ks_vs_floor(f"{key} KS", f"parton-level {key}", m["ks"], m["floor"]))
    figures += _table1_z(card)
    figures.append(_auc(clf, "rich_z", "rich Z AUC", "z̃ = E(x) vs z, rich features",
                        UNFOLDING_TARGETS["rich_z_auc"]))  # fmt: skip
    figures.append(_auc(clf, "pair_unfolding", "pair AUC", "(E(x), x) vs (z, x) pairs",
                        UNFOLDING_TARGETS["pair_unfolding_auc"]))  # fmt: skip
    figures += _coverage(unf)
    figures.append(_auc(clf, "refolding", "refold AUC", "x̂ = D(E(x)) vs x, rich features",
                        UNFOLDING_TARGETS["refolding_auc"]))  # fmt: skip
    prior = unf["prior_dependence"]
    bound = UNFOLDING_TARGETS["prior_recovered"]
    figures.append(Figure("prior recovered", f"prior dependence: reweighting recovered ≥ {bound:.0%}",
                          prior["recovered"], prior["spread"],
                          verdict(prior["recovered"], bound, prior["spread"], upper=False), 100, 0, " %"))  # fmt: skip
    return figures
