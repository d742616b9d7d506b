"""The (n, 24) feature arrays of the networks and their round trip to the awkward event layout.

Z features: e-, nubar_e, b, bbar, u, dbar, each (px, py, pz, E) [GeV] (:data:`~turbosim_hep.constants.Z_FEATURES`);
X features: electron, MET, jet1..jet4 by descending pT, each (px, py, pz, E) [GeV]
(:data:`~turbosim_hep.constants.X_FEATURES`). The event layout itself is :mod:`turbosim_hep.events.layout`.
"""

from __future__ import annotations

import awkward as ak
import numpy as np

from turbosim_hep.constants import N_FEATURES, PARTON_NAMES, PDG_ELECTRON
from turbosim_hep.events.layout import fixed_collection, make_events, make_partons
from turbosim_hep.physics.kinematics import p4_from_ptetaphim, ptetaphim_from_p4

__all__ = (
    "events_from_features",
    "features_to_partons",
    "features_to_reco",
    "partons_to_features",
    "reco_as_stored",
    "reco_to_features",
    "sort_jets",
)

_KINEMATICS = ("pt", "eta", "phi", "mass")
_RECO_FIELDS = ("Electron", "MET", "Jet")


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
    return p4_from_ptetaphim(*(flat[f][idx] for f in _KINEMATICS))


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
    return p4_from_ptetaphim(*(flat[f] for f in _KINEMATICS), dtype=np.float32).reshape(len(partons), N_FEATURES)


def reco_to_features(events: ak.Array) -> np.ndarray:
    """The ``(n, 24)`` float32 X features: leading electron, MET, four leading jets x (px, py, pz, E) [GeV].

    MET's four components are (px, py, pzMiss, |p_miss|), the OTUS convention. Every event needs at least one
    electron and four jets; otherwise a ``ValueError`` names the first bad event. A missing ``Electron``, ``MET`` or
    ``Jet`` field is a ``ValueError`` naming it.
    """
    fields = ak.fields(events)
    missing = [name for name in _RECO_FIELDS if name not in fields]
    if missing:
        raise ValueError(
            f"detector-level events need the fields {', '.join(_RECO_FIELDS)}, but {', '.join(map(repr, missing))} "
            f"{'is' if len(missing) == 1 else 'are'} missing (fields: {fields!r}); read a file with its detector "
            "branches (read_events(path, collections=('Electron', 'MET', 'Jet')))"
        )
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


def _objects_from_features(feats: np.ndarray, dtype: type = np.float64) -> dict[str, np.ndarray]:
    """pt, eta, phi, signed mass of ``(n, k, 4)`` px, py, pz, E arrays (computed in float64, stored as ``dtype``)."""
    return dict(zip(_KINEMATICS, ptetaphim_from_p4(feats, dtype=dtype), strict=True))


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
    ele_fields = _objects_from_features(obj[:, :1], dt)
    ele_fields["charge"] = np.full((n, 1), -1, dtype=np.int32)
    ele_fields["pdgId"] = np.full((n, 1), PDG_ELECTRON, dtype=np.int32)
    jet_fields = _objects_from_features(obj[:, 2:], dt)
    if not np.all(jet_fields["pt"][:, :-1] >= jet_fields["pt"][:, 1:]):  # sorting costs as much as the rest
        order = np.argsort(-jet_fields["pt"], axis=1, kind="stable")
        jet_fields = {k: np.take_along_axis(v, order, axis=1) for k, v in jet_fields.items()}
    met_px, met_py, met_pz = (obj[:, 1, i].astype(np.float64) for i in range(3))
    met = ak.zip(
        {
            "pt": np.hypot(met_px, met_py).astype(dt),
            "phi": np.arctan2(met_py, met_px).astype(dt),
            "pzMiss": met_pz.astype(dt),
        }
    )
    return {"electrons": fixed_collection(ele_fields), "jets": fixed_collection(jet_fields), "met": met}


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
