"""One validation policy for every reader: what makes an event unusable, and how each reader answers it.

An event is *invalid* when a kinematic field is NaN or infinite, a pT is negative, or a four-momentum is
unphysical: mass below zero beyond float32 rounding, which in the (pt, eta, phi, mass) layout is the same as
E < |p|. The tolerance is relative, ``m|m| >= -MASS2_TOLERANCE * max(|p|^2, 1 GeV^2)`` (float32 keeps E^2 - p^2 to
about 2e-7 of E^2; jets of massless particles are stored with masses down to -3e-5 GeV).

It is also invalid when it lies beyond what a 13 TeV collision and the detector allow: an object (or MET) with
more energy than sqrt(s) (:data:`~turbosim_hep.constants.SQRT_S_GEV`), an electron or jet beyond the detector's
coverage ``|eta| > DETECTOR_ABS_ETA_MAX`` (checked for files read as the detector's truth: training and evaluation
data, the processor's full simulation; Turbo-Sim outputs may stray a little beyond it, and the scorecard counts
that) or with zero pT, jets not sorted by descending pT (the layout's promise), or partons with other pdgIds than
e-, nubar_e, b, bbar, u, dbar in that order.

Readers answer in one of two ways:

- ``turbosim train``, ``evaluate``, ``simulate`` and ``import-otus`` (and :func:`turbosim_hep.io.root.read_events`
  / ``iterate_events``) stop with a ``ValueError`` naming the file, tree, branch, entry and event id
  (:func:`validate`);
- the coffea processor drops invalid events, counts them in its cutflow and warns (:func:`invalid_events`), since an
  analysis over many files would rather keep going.

Feature arrays ``(n, 24)`` (px, py, pz, E per object; OTUS files, model outputs) are checked by
:func:`check_features`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import awkward as ak
import numpy as np

from turbosim_hep.constants import (
    COMPONENTS,
    DETECTOR_ABS_ETA_MAX,
    N_FEATURES,
    PARTON_NAMES,
    PARTON_PDG_IDS,
    SQRT_S_GEV,
)

__all__ = ("MASS2_TOLERANCE", "check_features", "invalid_events", "validate")

#: Relative tolerance on m|m| (and on E^2 - |p|^2 of feature arrays) before a four-momentum counts as unphysical.
MASS2_TOLERANCE = 1e-6

_KINEMATICS = ("pt", "eta", "phi", "mass")
_ID_FIELDS = ("run", "luminosityBlock", "event")


def _first(mask: np.ndarray) -> int | None:
    idx = np.flatnonzero(mask)
    return int(idx[0]) if len(idx) else None


def _problems(events: ak.Array, detector: bool = False) -> Iterator[tuple]:
    """(branch, per-object bad mask, owner event of each object, what[, shown values]) for each value check of the
    layout; the message shows the branch's value unless the check gives its own (e.g. the energy)."""
    fields = ak.fields(events)
    for coll in ("Parton", "Electron", "Jet"):
        if coll not in fields:
            continue
        sub = events[coll]
        counts = ak.to_numpy(ak.num(sub, axis=1))
        owner = np.repeat(np.arange(len(counts)), counts)
        flat = {k: ak.to_numpy(ak.flatten(sub[k])).astype(np.float64) for k in _KINEMATICS}
        for k, v in flat.items():
            yield f"{coll}_{k}", ~np.isfinite(v), owner, "holds NaN or infinity"
        with np.errstate(invalid="ignore", over="ignore"):
            yield f"{coll}_pt", flat["pt"] < 0, owner, "has a negative pT [GeV]"
            p2 = (flat["pt"] * np.cosh(flat["eta"])) ** 2
            bad = flat["mass"] * np.abs(flat["mass"]) < -MASS2_TOLERANCE * np.maximum(p2, 1.0)
        yield f"{coll}_mass", bad, owner, "has a negative mass beyond rounding (E < |p|) [GeV]"
        with np.errstate(invalid="ignore", over="ignore"):
            if coll != "Parton" and detector:
                outside = np.abs(flat["eta"]) > DETECTOR_ABS_ETA_MAX
                what = f"lies outside the detector (|eta| > {DETECTOR_ABS_ETA_MAX:g})"
                yield f"{coll}_eta", outside, owner, what
            energy = np.sqrt(p2 + np.maximum(flat["mass"], 0.0) ** 2)
            above = np.isfinite(energy) & (energy > SQRT_S_GEV)
            yield f"{coll}_pt", above, owner, f"has E [GeV] above sqrt(s) = {SQRT_S_GEV:g}", energy
            if coll != "Parton":
                yield f"{coll}_pt", flat["pt"] == 0, owner, "has zero pT [GeV]"
            if coll == "Jet":
                # jet k of an event after jet k-1 of the same event with a larger pT
                later = np.zeros(len(owner), dtype=bool)
                later[1:] = (owner[1:] == owner[:-1]) & (flat["pt"][1:] > flat["pt"][:-1])
                yield "Jet_pt", later, owner, "has a larger pT than the jet before it (jets must be sorted by pT) [GeV]"
        if coll == "Parton" and "pdgId" in ak.fields(sub) and len(counts) and (counts == len(PARTON_PDG_IDS)).all():
            pdg = ak.to_numpy(ak.flatten(sub["pdgId"])).reshape(-1, len(PARTON_PDG_IDS))
            wrong = (pdg != np.asarray(PARTON_PDG_IDS)).reshape(-1)
            yield "Parton_pdgId", wrong, owner, f"has another pdgId than {list(PARTON_PDG_IDS)!r} in order; pdgId"
    if "MET" in fields:
        met = events["MET"]
        owner = np.arange(len(events))
        for k in ("pt", "phi", "pzMiss"):
            if k in ak.fields(met):
                v = ak.to_numpy(met[k]).astype(np.float64)
                yield f"MET_{k}", ~np.isfinite(v), owner, "holds NaN or infinity"
        v = ak.to_numpy(met["pt"]).astype(np.float64)
        with np.errstate(invalid="ignore"):
            yield "MET_pt", v < 0, owner, "has a negative pT [GeV]"
            yield "MET_pt", np.isfinite(v) & (v > SQRT_S_GEV), owner, f"is above sqrt(s) = {SQRT_S_GEV:g} GeV"


def _structure(events: ak.Array, where) -> None:
    """Raise for layout errors no reader can drop: missing fields, wrong parton count or pdgIds."""
    from turbosim_hep.events.layout import has_partons, has_reco

    fields = ak.fields(events)
    for f in _ID_FIELDS:
        if f not in fields:
            raise ValueError(f"{where()}: missing branch {f!r} (every event needs run, luminosityBlock, event)")
    if not (has_partons(events) or has_reco(events)):
        raise ValueError(
            f"{where()}: neither a Parton collection nor the reco collections (Electron, Jet, MET) are present; "
            f"fields are {fields!r}"
        )
    for coll in ("Parton", "Electron", "Jet"):
        if coll in fields:
            for k in _KINEMATICS:
                if k not in ak.fields(events[coll]):
                    raise ValueError(f"{where()}: collection {coll!r} lacks branch {coll}_{k}")
    if "MET" in fields:
        for k in ("pt", "phi", "pzMiss"):
            if k not in ak.fields(events["MET"]):
                raise ValueError(f"{where()}: collection 'MET' lacks branch MET_{k}")
    if "Parton" in fields:
        counts = ak.to_numpy(ak.num(events["Parton"], axis=1))
        i = _first(counts != len(PARTON_NAMES))
        if i is not None:
            raise ValueError(
                f"{where('nParton', i)}: has {counts[i]} partons, expected 6 (e-, nubar_e, b, bbar, u, dbar)"
            )
        if "pdgId" in ak.fields(events["Parton"]) and len(events):
            pdg = ak.to_numpy(ak.to_regular(events["Parton"]["pdgId"], axis=1))
            i = _first(np.any(pdg != np.asarray(PARTON_PDG_IDS), axis=1))
            if i is not None:
                raise ValueError(
                    f"{where('Parton_pdgId', i)}: has pdgIds {pdg[i].tolist()!r}, expected {list(PARTON_PDG_IDS)!r}"
                )


def validate(
    events: ak.Array, *, source: str = "events", tree: str | None = None, first_entry: int = 0, detector: bool = False
) -> None:
    """Raise ``ValueError`` at the first invalid event of ``events`` (see the module docstring for the policy).

    The message names ``source`` (a file), the ``tree``, the branch, the entry (``first_entry`` + position: the
    entry number in the file when ``events`` is a slice of it), the event id and the bad value. Layout errors (no
    ids, a missing branch, not six partons, wrong parton pdgIds) are raised the same way. ``detector`` adds the
    detector's coverage (electrons and jets within ``|eta| <= DETECTOR_ABS_ETA_MAX``), for files read as the
    detector's truth (training and evaluation data).
    """
    ids = ak.to_numpy(events["event"]) if "event" in ak.fields(events) else None

    def where(branch: str | None = None, i: int | None = None) -> str:
        head = source if tree is None else f"{source}: TTree {tree!r}"
        if branch is None:
            return head
        which = f"entry {first_entry + i}" if tree is not None else f"event {i}"
        return f"{head}, branch {branch!r}, {which} (event id {int(ids[i])})"

    _structure(events, where)
    for branch, bad, owner, what, *shown in _problems(events, detector):
        j = _first(bad)
        if j is not None:
            i = int(owner[j])
            coll, _, field = branch.partition("_")
            if coll == "MET":
                value, obj = float(events[coll][field][i]), "MET"
            else:
                k = j - int(np.searchsorted(owner, i))  # position of the object within its event
                value, obj = float(events[coll][field][i][k]), f"{coll}[{k}]"
            if shown:
                value = float(shown[0][j])
            raise ValueError(f"{where(branch, i)}: {obj} {what}: {value!r}")


def invalid_events(events: ak.Array, *, detector: bool = False) -> tuple[np.ndarray, dict[str, int]]:
    """Boolean mask ``(n,)`` of invalid events and the number of events failing each branch's check.

    For readers that drop rather than stop (the processor). Layout errors still raise: they concern every event.
    ``detector`` as in :func:`validate`.
    """
    n = len(events)
    mask = np.zeros(n, dtype=bool)
    counts: dict[str, int] = {}
    for branch, bad, owner, *_ in _problems(events, detector):
        if bad.any():
            per_event = np.zeros(n, dtype=bool)
            per_event[owner[bad]] = True
            counts[branch] = counts.get(branch, 0) + int(per_event.sum())
            mask |= per_event
    return mask, counts


def check_features(
    features: np.ndarray, *, source: str, objects: Sequence[str], what: str = "features", row_offset: int = 0
) -> None:
    """Raise ``ValueError`` at the first non-numeric, non-finite or unphysical (E < |p| or E > sqrt(s)) value of
    ``(n, 24)`` four-momentum features (px, py, pz, E [GeV] per object, objects named by ``objects``); names the source,
    ``what`` (a dataset), the row and the column."""
    features = np.asarray(features)
    if not np.issubdtype(features.dtype, np.number) or np.issubdtype(features.dtype, np.complexfloating):
        raise ValueError(f"{source}: {what} holds {features.dtype} values; expected real numbers (px, py, pz, E [GeV])")
    if features.ndim != 2 or features.shape[1] != N_FEATURES:
        raise ValueError(f"{source}: {what} has shape {features.shape!r}, expected (n, {N_FEATURES})")
    f = features.astype(np.float64)
    bad = ~np.isfinite(f)
    if bad.any():
        row, col = (int(i[0]) for i in np.nonzero(bad))
        name = f"{objects[col // 4]}_{COMPONENTS[col % 4]}"
        raise ValueError(f"{source}: {what} row {row + row_offset} column {col} ({name}) holds {float(f[row, col])!r}")
    p4 = f.reshape(len(f), -1, 4)
    p2 = (p4[..., :3] ** 2).sum(-1)
    e = p4[..., 3]
    above = e > SQRT_S_GEV
    if above.any():
        row, obj = (int(i[0]) for i in np.nonzero(above))
        raise ValueError(
            f"{source}: {what} row {row + row_offset}: {objects[obj]} has E {float(e[row, obj])!r} GeV, above "
            f"sqrt(s) = {SQRT_S_GEV:g} GeV (column {4 * obj + 3})"
        )
    unphysical = (e < 0) | (e * e - p2 < -MASS2_TOLERANCE * np.maximum(p2, 1.0))
    if unphysical.any():
        row, obj = (int(i[0]) for i in np.nonzero(unphysical))
        raise ValueError(
            f"{source}: {what} row {row + row_offset}: {objects[obj]} has E {float(e[row, obj])!r} GeV < |p| "
            f"{float(np.sqrt(p2[row, obj]))!r} GeV (unphysical four-momentum, columns {4 * obj}-{4 * obj + 3})"
        )
