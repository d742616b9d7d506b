"""The two event layouts (partons Z, detector objects X) as awkward arrays with vector behaviour.

An *events* array is an ``ak.Array`` of records with the fields

- ``run``, ``luminosityBlock`` (uint32), ``event`` (uint64): event ids;
- ``Parton``: ``var * Momentum4D`` of exactly six partons (pt, eta, phi, mass [GeV], pdgId), order
  e-, nubar_e, b, bbar, u, dbar (:data:`~turbosim_hep.constants.PARTON_NAMES`);
- ``Electron``: ``var * Momentum4D`` (pt, eta, phi, mass [GeV], charge, pdgId), sorted by pT;
- ``Jet``: ``var * Momentum4D`` (pt, eta, phi, mass [GeV]), all jets, sorted by pT;
- ``MET``: ``Momentum2D`` (pt, phi [GeV, rad]) plus ``pzMiss`` [GeV] = minus the summed pz of the visible objects
  (the OTUS files' MET "pz"; a detector artefact, *not* the neutrino's pz).

Either side may be absent (a parton-only or reco-only file). Extra fields (e.g. ``Jet_partonIdx``) are allowed and
carried along. On disk the same names appear flattened NanoAOD-style (``nJet``, ``Jet_pt``, ...), see
:mod:`turbosim_hep.io.root`.

Masses follow vector's signed convention: ``mass = copysign(sqrt(|E^2 - p^2|), E^2 - p^2)``, so a network output with
E < |p| survives a round trip through the layout.
"""

from __future__ import annotations

from collections.abc import Mapping

import awkward as ak
import numpy as np
import vector

from turbosim_hep.constants import (
    N_FEATURES,
    PARTON_NAMES,
    PARTON_PDG_IDS,
    PDG_ELECTRON,
)
from turbosim_hep.kinematics import p4_from_ptetaphim, ptetaphim_from_p4

__all__ = (
    "BEHAVIOR",
    "events_from_features",
    "features_to_partons",
    "features_to_reco",
    "has_partons",
    "has_reco",
    "make_events",
    "make_partons",
    "momentum4d",
    "partons_to_features",
    "reco_to_features",
    "reco_as_stored",
    "sort_jets",
    "validate",
)

#: Awkward behaviour dictionary of scikit-hep vector; passed explicitly so nothing is registered globally.
BEHAVIOR = vector.backends.awkward.behavior

_KINEMATICS = ("pt", "eta", "phi", "mass")


def momentum4d(fields: Mapping[str, object]) -> ak.Array:
    """Zip per-object fields (pt, eta, phi, mass [GeV] and extras) into ``var * Momentum4D``."""
    return ak.zip(dict(fields), with_name="Momentum4D", behavior=BEHAVIOR)


def _px_py_pz_e(pt, eta, phi, mass) -> np.ndarray:
    """(..., 4) array of px, py, pz, E [GeV] from pt, eta, phi, signed mass, in float64."""
    return p4_from_ptetaphim(pt, eta, phi, mass)


def make_partons(pt, eta, phi, mass, pdg_id=None, *, dtype: np.dtype | type = np.float32) -> ak.Array:
    """Build the parton collection from ``(n, 6)`` arrays of pt, eta, phi, mass [GeV] (and pdgId).

    Returns ``var * Momentum4D`` with six partons per event, in the order of
    :data:`~turbosim_hep.constants.PARTON_NAMES`; pdgId defaults to that order's ids. Kinematics are stored as
    ``dtype`` (float32 as in NanoAOD; float64 keeps float64 inputs exact).
    """
    pt = np.asarray(pt, dtype=dtype)
    if pt.ndim != 2 or pt.shape[1] != len(PARTON_NAMES):
        raise ValueError(f"parton arrays must have shape (n, 6), got {pt.shape!r}")
    if pdg_id is None:
        pdg_id = np.broadcast_to(np.asarray(PARTON_PDG_IDS, dtype=np.int32), pt.shape)
    cols = {
        "pt": pt,
        "eta": np.asarray(eta, dtype=dtype),
        "phi": np.asarray(phi, dtype=dtype),
        "mass": np.asarray(mass, dtype=dtype),
        "pdgId": np.asarray(pdg_id, dtype=np.int32),
    }
    return momentum4d({k: ak.from_regular(ak.Array(v)) for k, v in cols.items()})


def make_events(
    *,
    event: np.ndarray,
    run: np.ndarray | int = 1,
    luminosity_block: np.ndarray | int = 1,
    partons: ak.Array | None = None,
    electrons: ak.Array | None = None,
    jets: ak.Array | None = None,
    met: ak.Array | None = None,
    extra: Mapping[str, object] | None = None,
) -> ak.Array:
    """Assemble an events array from event ids and collections (any side may be omitted).

    ``electrons`` and ``jets`` are ``var * Momentum4D``; ``met`` is a record array with ``pt``, ``phi`` and
    ``pzMiss`` (it is given the ``Momentum2D`` behaviour). ``extra`` adds further per-event fields.
    """
    event = np.asarray(event, dtype=np.uint64)
    n = len(event)
    fields: dict[str, object] = {
        "run": np.broadcast_to(np.asarray(run, dtype=np.uint32), (n,)).copy(),
        "luminosityBlock": np.broadcast_to(np.asarray(luminosity_block, dtype=np.uint32), (n,)).copy(),
        "event": event,
    }
    for name, coll in (("Parton", partons), ("Electron", electrons), ("Jet", jets)):
        if coll is not None:
            fields[name] = ak.with_name(coll, "Momentum4D", behavior=BEHAVIOR)
    if met is not None:
        fields["MET"] = ak.zip(
            {k: met[k] for k in ak.fields(met)}, with_name="Momentum2D", behavior=BEHAVIOR, depth_limit=1
        )
    if extra:
        fields.update(extra)
    for name, value in fields.items():
        if len(value) != n:
            raise ValueError(f"field {name!r} has {len(value)} entries but there are {n} events")
    return ak.Array(ak.zip(fields, depth_limit=1), behavior=BEHAVIOR)


def has_partons(events: ak.Array) -> bool:
    """True if ``events`` carries the parton (Z) side."""
    return "Parton" in ak.fields(events)


def has_reco(events: ak.Array) -> bool:
    """True if ``events`` carries the detector (X) side: Electron, Jet and MET."""
    return all(f in ak.fields(events) for f in ("Electron", "Jet", "MET"))


def _leading_components(coll: ak.Array, k: int) -> np.ndarray:
    """(n, k, 4) float64 px, py, pz, E of the ``k`` leading objects (by pT) of a jagged collection.

    Every event must hold at least ``k`` objects (checked by the callers). Gathers from the flat arrays with the
    offsets instead of slicing the jagged array: on NanoEvents this is ~5x faster, and the feature conversion sits
    on the hot path of simulation and of the processor (benchmarks/throughput.py).
    """
    counts = ak.to_numpy(ak.num(coll, axis=1)).astype(np.int64)
    flat = {f: ak.to_numpy(ak.flatten(coll[f])).astype(np.float64) for f in _KINEMATICS}
    starts = np.cumsum(counts) - counts
    if np.any(counts > k):
        # the layout keeps collections sorted by pT; make sure before taking the first k
        pt = flat["pt"]
        inner = np.ones(len(pt), dtype=bool)
        inner[starts[counts > 0]] = False
        if np.any(np.diff(pt, prepend=np.inf)[inner] > 0):
            order = ak.to_numpy(ak.flatten(ak.argsort(coll["pt"], axis=1, ascending=False) + starts))
            flat = {f: v[order] for f, v in flat.items()}
    idx = starts[:, None] + np.arange(k)
    return _px_py_pz_e(*(flat[f][idx] for f in _KINEMATICS))


def partons_to_features(partons: ak.Array) -> np.ndarray:
    """Flatten the six partons into the ``(n, 24)`` float32 Z features (e-, nubar, b, bbar, u, dbar x px, py, pz, E).

    ``partons`` is the ``Parton`` collection (or an events array holding it). Units GeV.
    """
    if "Parton" in ak.fields(partons):
        partons = partons["Parton"]
    counts = ak.to_numpy(ak.num(partons, axis=1))
    if len(counts) and not np.all(counts == len(PARTON_NAMES)):
        bad = int(np.flatnonzero(counts != len(PARTON_NAMES))[0])
        raise ValueError(f"Parton: event {bad} has {counts[bad]} partons, expected 6")
    if len(partons) == 0:
        return np.zeros((0, N_FEATURES), dtype=np.float32)
    flat = {f: ak.to_numpy(ak.flatten(partons[f])).reshape(-1, 6) for f in _KINEMATICS}
    return _px_py_pz_e(*(flat[f] for f in _KINEMATICS)).reshape(len(partons), N_FEATURES).astype(np.float32)


def reco_to_features(events: ak.Array) -> np.ndarray:
    """The ``(n, 24)`` float32 X features: leading electron, MET, four leading jets x (px, py, pz, E) [GeV].

    MET's four components are (px, py, pzMiss, |p_miss|), the OTUS convention. Every event needs at least one
    electron and four jets; otherwise a ``ValueError`` names the first bad event.
    """
    n = len(events)
    if n == 0:
        return np.zeros((0, N_FEATURES), dtype=np.float32)
    for coll, need in (("Electron", 1), ("Jet", 4)):
        counts = ak.to_numpy(ak.num(events[coll], axis=1))
        if np.any(counts < need):
            bad = int(np.flatnonzero(counts < need)[0])
            raise ValueError(
                f"{coll}: event {bad} (event id {int(events['event'][bad])}) has {counts[bad]} objects, "
                f"need at least {need}; apply the selection first (turbosim_hep.generation.selection)"
            )
    out = np.empty((n, 6, 4), dtype=np.float64)
    out[:, 0] = _leading_components(events["Electron"], 1)[:, 0]
    met_pt = ak.to_numpy(events["MET"]["pt"]).astype(np.float64)
    met_phi = ak.to_numpy(events["MET"]["phi"]).astype(np.float64)
    met_pz = ak.to_numpy(events["MET"]["pzMiss"]).astype(np.float64)
    out[:, 1, 0] = met_pt * np.cos(met_phi)
    out[:, 1, 1] = met_pt * np.sin(met_phi)
    out[:, 1, 2] = met_pz
    out[:, 1, 3] = np.hypot(met_pt, met_pz)
    out[:, 2:] = _leading_components(events["Jet"], 4)
    return out.reshape(n, N_FEATURES).astype(np.float32)


def sort_jets(x: np.ndarray) -> np.ndarray:
    """The ``(n, 24)`` X features with the four jet slots reordered by descending pT (a copy; stable for ties).

    This is the order :func:`features_to_reco` (and so ``simulate()``) gives the jets, and the order of the
    full simulation's X features, so every comparison of jet slots goes through it.
    """
    x = _check_features(x, "detector (X)")
    jets = x.reshape(len(x), 6, 4)[:, 2:]
    pt2 = jets[..., 0].astype(np.float64) ** 2 + jets[..., 1].astype(np.float64) ** 2
    out = x.copy()
    if np.all(pt2[:, :-1] >= pt2[:, 1:]):  # already sorted (the physics decoder's output): the copy is the answer
        return out
    order = np.argsort(-pt2, axis=1, kind="stable")
    out.reshape(len(x), 6, 4)[:, 2:] = np.take_along_axis(jets, order[..., None], axis=1)
    return out


def reco_as_stored(x: np.ndarray) -> np.ndarray:
    """The ``(n, 24)`` X features as a round trip through the event layout returns them: jets sorted by pT
    (:func:`sort_jets`) and the MET's fourth component |p_miss| = sqrt(px² + py² + pzMiss²), which the layout does
    not store but implies. ``reco_to_features(features_to_reco(x))`` equals ``reco_as_stored(x)`` up to rounding.
    """
    out = sort_jets(x)
    met = out[:, 4:8].astype(np.float64)
    out[:, 7] = np.sqrt(met[:, 0] ** 2 + met[:, 1] ** 2 + met[:, 2] ** 2)
    return out


def _objects_from_features(feats: np.ndarray) -> dict[str, np.ndarray]:
    """pt, eta, phi, signed mass of ``(n, k, 4)`` px, py, pz, E arrays, in float64."""
    return dict(zip(_KINEMATICS, ptetaphim_from_p4(feats), strict=True))


def _check_features(x: np.ndarray, what: str) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim != 2 or x.shape[1] != N_FEATURES:
        raise ValueError(f"{what} features must have shape (n, {N_FEATURES}), got {x.shape!r}")
    return x


def _out_dtype(x: np.ndarray) -> type:
    """float64 collections for float64 features (exact round trip), float32 otherwise."""
    return np.float64 if x.dtype == np.float64 else np.float32


def features_to_partons(z: np.ndarray) -> ak.Array:
    """Inverse of :func:`partons_to_features`: ``(n, 24)`` Z features to the ``Parton`` collection.

    Kinematics are float64 when ``z`` is float64, else float32.
    """
    z = _check_features(z, "parton (Z)")
    obj = _objects_from_features(z.reshape(len(z), 6, 4))
    return make_partons(obj["pt"], obj["eta"], obj["phi"], obj["mass"], dtype=_out_dtype(z))


def features_to_reco(x: np.ndarray) -> dict[str, ak.Array]:
    """Inverse of :func:`reco_to_features`: ``(n, 24)`` X features to ``Electron``, ``MET`` and ``Jet``.

    The electron gets charge -1 and pdgId 11; the four jets are sorted by descending pT; MET keeps px, py and pzMiss
    (its fourth component, |p_miss|, is implied by the other three and is not stored). Kinematics are float64 when
    ``x`` is float64, else float32. Returns a dict of collections ready for :func:`make_events`.
    """
    x = _check_features(x, "detector (X)")
    n = len(x)
    dt = _out_dtype(x)
    obj = x.reshape(n, 6, 4)
    ele = _objects_from_features(obj[:, :1])
    ele_fields = {k: ak.from_regular(ak.Array(v.astype(dt))) for k, v in ele.items()}
    ele_fields["charge"] = ak.from_regular(ak.Array(np.full((n, 1), -1, dtype=np.int32)))
    ele_fields["pdgId"] = ak.from_regular(ak.Array(np.full((n, 1), PDG_ELECTRON, dtype=np.int32)))
    jet = _objects_from_features(obj[:, 2:])
    if not np.all(jet["pt"][:, :-1] >= jet["pt"][:, 1:]):  # sorting costs as much as the rest (sorted: skip)
        order = np.argsort(-jet["pt"], axis=1, kind="stable")
        jet = {k: np.take_along_axis(v, order, axis=1) for k, v in jet.items()}
    jet_fields = {k: ak.from_regular(ak.Array(v.astype(dt))) for k, v in jet.items()}
    met_px, met_py, met_pz = (obj[:, 1, i].astype(np.float64) for i in range(3))
    met = ak.zip(
        {
            "pt": np.hypot(met_px, met_py).astype(dt),
            "phi": np.arctan2(met_py, met_px).astype(dt),
            "pzMiss": met_pz.astype(dt),
        }
    )
    return {"electrons": momentum4d(ele_fields), "jets": momentum4d(jet_fields), "met": met}


def events_from_features(
    *,
    z: np.ndarray | None = None,
    x: np.ndarray | None = None,
    event: np.ndarray | None = None,
    run: np.ndarray | int = 1,
    luminosity_block: np.ndarray | int = 1,
) -> ak.Array:
    """Events array from Z and/or X feature arrays; ``event`` defaults to the row index."""
    n = len(z) if z is not None else len(x) if x is not None else None
    if n is None:
        raise ValueError("give at least one of z= or x=")
    if z is not None and x is not None and len(z) != len(x):
        raise ValueError(f"z has {len(z)} rows but x has {len(x)}")
    if event is None:
        event = np.arange(n, dtype=np.uint64)
    reco = features_to_reco(x) if x is not None else {}
    partons = features_to_partons(z) if z is not None else None
    return make_events(event=event, run=run, luminosity_block=luminosity_block, partons=partons, **reco)


def validate(events: ak.Array, *, source: str = "events") -> None:
    """Check an events array against the layout; raise ``ValueError`` naming the field and first bad event.

    The checks are the toolkit's one validation policy, :func:`turbosim_hep.validity.validate`: ids present, six
    partons with the expected pdgIds, no NaN or infinity, no negative pT, no mass below zero beyond rounding.
    """
    from turbosim_hep.validity import validate as _validate

    _validate(events, source=source)
