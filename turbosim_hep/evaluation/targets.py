"""The targets a model is judged against, each decided beyond its spread: met, within noise or missed.

The bounds are those of the simulation and unfolding issues (19–21): events inside the detector's phase space, rich
and pair classifier AUCs, mass-peak positions, on-shell unfolded partons, parton-level masses near the floor,
calibrated posteriors, refolding closure and prior dependence. :func:`scorecard_targets` applies them to one
:func:`~.scorecard.scorecard`; given the lookup baseline's scorecard it adds "clearly better than the lookup".
Every row is ``(target, verdict, figure)`` with the verdict from :func:`~.uncertainty.verdict`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from turbosim_hep.evaluation.uncertainty import combined_std, verdict
from turbosim_hep.evaluation.unfolding_targets import UNFOLDING_TARGETS, unfolding_figures

__all__ = ("TARGETS", "scorecard_targets")

#: The bounds: name -> value (shares and AUCs as fractions, shifts in GeV).
TARGETS: dict[str, float] = {
    "phase_space_excess": 0.005,  # outside-share of x̃ above the full simulation's
    "rich_x_auc": 0.60,
    "pair_simulation_auc": 0.65,
    "better_than_lookup_auc": 0.05,
    "median_shift_gev": 0.3,
    **UNFOLDING_TARGETS,
}

_PEAK_MASSES = ("m_w_had", "m_t_had", "m_t_lep")


def _pm(v: float, s: float, scale: float = 1.0, digits: int = 3) -> str:
    if v is None or not math.isfinite(v):
        return "–"
    return f"{v * scale:.{digits}f} ± {s * scale:.{digits}f}"


def _auc_rows(card: Mapping[str, Any], lookup: Mapping[str, Any] | None) -> list[tuple[str, str, str]]:
    clf = card.get("classifiers") or {}
    rows = []
    for key, bound in (
        ("rich_x", TARGETS["rich_x_auc"]),
        ("pair_simulation", TARGETS["pair_simulation_auc"]),
    ):
        if key not in clf:
            continue
        c = clf[key]
        rows.append((f"{c['description']}: AUC ≤ {bound}", verdict(c["auc"], bound, c["spread"]),
                     _pm(c["auc"], c["spread"])))  # fmt: skip
    other = (lookup or {}).get("classifiers") or {}
    for key in ("rich_x", "pair_simulation"):
        if key in clf and key in other:
            c, o = clf[key], other[key]
            bound = o["auc"] - TARGETS["better_than_lookup_auc"]
            spread = combined_std(c["spread"], o["spread"])
            rows.append((f"{c['description']}: AUC ≤ lookup's {o['auc']:.3f} − {TARGETS['better_than_lookup_auc']}",
                         verdict(c["auc"], bound, spread), _pm(c["auc"], c["spread"])))  # fmt: skip
    return rows


def _table1_rows(card: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """Each Table-1 X column ≤ the paper's Turbo-Sim row (the Z columns are :func:`unfolding_figures`')."""
    from turbosim_hep.evaluation.table1 import PAPER_TABLE1, TABLE1_COLUMNS

    paper = PAPER_TABLE1["Turbo-Sim (arXiv:2112.10629)"]
    rows = []
    for (_, label, space, _), ks, ref in zip(TABLE1_COLUMNS, card["table1"]["model"], paper, strict=True):
        if ks is None or space == "Z":
            continue
        rows.append((f"{label} KS ≤ paper's Turbo-Sim {ref}", verdict(100 * ks["value"], ref, 100 * ks["spread"]),
                     _pm(ks["value"], ks["spread"], 100, 2)))  # fmt: skip
    return rows


def scorecard_targets(
    card: Mapping[str, Any], *, lookup: Mapping[str, Any] | None = None
) -> list[tuple[str, str, str]]:
    """``(target, verdict, figure)`` rows of one model's scorecard; ``lookup`` is the lookup baseline's scorecard.

    The simulation's targets first, then the unfolding's (:func:`~.unfolding_targets.unfolding_figures`, those the
    scorecard computed).
    """
    ps = card["phase_space"]
    full, sim = ps["full_sim"], ps["x_tilde"]
    bound = full["outside"] + TARGETS["phase_space_excess"]
    rows = [
        (f"events outside the detector's phase space ≤ full sim ({100 * full['outside']:.2f} %) + 0.5 pp",
         verdict(sim["outside"], bound, combined_std(sim["outside_spread"], full["outside_spread"])),
         _pm(sim["outside"], sim["outside_spread"], 100, 2) + " %"),
    ]  # fmt: skip
    rows += _table1_rows(card)
    rows += _auc_rows(card, lookup)
    tol = TARGETS["median_shift_gev"]
    for key in _PEAK_MASSES:
        p = card["peaks"][key]
        shift, spread = p["median_shift"], p["median_shift_spread"]
        rows.append((f"median {key} within {tol} GeV of full sim", verdict(abs(shift), tol, spread),
                     _pm(shift, spread, 1, 2) + " GeV"))  # fmt: skip
    return rows + [f.row() for f in unfolding_figures(card) if not f.missing]
