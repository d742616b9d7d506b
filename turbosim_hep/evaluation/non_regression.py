"""Does a new model simulate at least as well as a reference? The simulation figures of two scorecards, compared.

A change made for the unfolding (a new encoder, a new loss term) must not make the simulation x̃ = D(z) worse.
:func:`simulation_figures` picks the headline simulation figures of one :func:`~.scorecard.scorecard` (share of
events outside the detector's phase space, rich and pair classifier AUCs, the Table-1 X columns, the absolute
median shifts of the reconstructed mass peaks); :func:`no_worse_than` judges each against the reference's with the
combined spread of both: "met" when better beyond two spreads, "within noise" when the two cannot be told apart
(the usual outcome of an unchanged decoder), "missed" when worse beyond two spreads.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from turbosim_hep.evaluation.table1 import TABLE1_COLUMNS
from turbosim_hep.evaluation.uncertainty import combined_std, verdict
from turbosim_hep.evaluation.unfolding_targets import Figure

__all__ = ("no_worse_than", "simulation_figures")

_PEAK_MASSES = ("m_w_had", "m_t_had", "m_t_lep")
_NAN = float("nan")


def simulation_figures(card: Mapping[str, Any]) -> list[Figure]:
    """The headline simulation figures of one scorecard (lower is better for each), not yet judged (verdict "")."""
    out = []
    ps = card["phase_space"]["x_tilde"]
    out.append(Figure("outside", "events outside the detector's phase space", ps["outside"], ps["outside_spread"],
                      "", 100, 2, " %"))  # fmt: skip
    clf = card.get("classifiers") or {}
    for key, column in (("rich_x", "rich X AUC"), ("pair_simulation", "pair sim AUC")):
        c = clf.get(key)
        if c is None:
            out.append(Figure(column, f"{column} (not computed)", _NAN, _NAN, "", missing=True))
        else:
            out.append(Figure(column, c["description"] + ": AUC", c["auc"], c["spread"], ""))
    for (_, label, space, _), ks in zip(TABLE1_COLUMNS, card["table1"]["model"], strict=True):
        if space == "X":
            out.append(Figure(f"{label} KS", f"Table-1 {label} KS", ks["value"], ks["spread"], "", 100, 2))
    for key in _PEAK_MASSES:
        p = card["peaks"][key]
        out.append(Figure(f"|Δmedian| {key}", f"|median shift| of {key} from full sim", abs(p["median_shift"]),
                          p["median_shift_spread"], "", 1, 2, " GeV"))  # fmt: skip
    return out


def no_worse_than(card: Mapping[str, Any], reference: Mapping[str, Any], *, label: str = "reference") -> list[Figure]:
    """Each simulation figure of ``card`` judged against the same figure of ``reference`` (both scorecards).

    The reference must be scored on the same events (same data, split and halves); figures missing from either are
    left out.
    """
    if card.get("n_events") != reference.get("n_events") or card.get("n_half") != reference.get("n_half"):
        raise ValueError(
            f"the reference scorecard was made on other events ({reference.get('n_events')!r} events, halves "
            f"{reference.get('n_half')!r}) than this one ({card.get('n_events')!r}, {card.get('n_half')!r}); score "
            "both on the same data and split"
        )
    ref = {f.column: f for f in simulation_figures(reference) if not f.missing}
    out = []
    for f in simulation_figures(card):
        r = ref.get(f.column)
        if f.missing or r is None:
            continue
        spread = combined_std(f.spread, r.spread)
        shown = f"{r.value * r.scale:.{r.digits}f}" if math.isfinite(r.value) else "–"
        out.append(Figure(f.column, f"{f.target} ≤ {label}'s {shown}{r.unit}", f.value, f.spread,
                          verdict(f.value, r.value, spread), f.scale, f.digits, f.unit))  # fmt: skip
    return out
