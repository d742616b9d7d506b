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

from turbosim_hep.constants import PARTON_NAMES, PARTON_PDG_IDS

__all__ = ("BEHAVIOR", "fixed_collection", "has_partons", "has_reco", "make_events", "make_partons", "momentum4d")

#: Awkward behaviour dictionary of scikit-hep vector; passed explicitly so nothing is registered globally.
BEHAVIOR = vector.backends.awkward.behavior


def momentum4d(fields: Mapping[str, object]) -> ak.Array:
    """Zip per-object fields (pt, eta, phi, mass [GeV] and extras) into ``var * Momentum4D``."""
    return ak.zip(dict(fields), with_name="Momentum4D", behavior=BEHAVIOR)


def fixed_collection(fields: Mapping[str, np.ndarray]) -> ak.Array:
    """``var * Momentum4D`` with the same number k of objects in every event, from ``(n, k)`` arrays per field.

    Builds the awkward layout directly (one shared offsets array, the field buffers as they are): the same array
    as ``momentum4d({f: ak.from_regular(ak.Array(v))})``, several times faster on the simulate path.
    """
    arrays = [np.ascontiguousarray(v) for v in fields.values()]
    n, k = arrays[0].shape
    offsets = ak.index.Index64(np.arange(0, n * k + 1, k, dtype=np.int64))
    content = ak.contents.RecordArray(
        [ak.contents.NumpyArray(a.reshape(-1)) for a in arrays], list(fields), parameters={"__record__": "Momentum4D"}
    )
    return ak.Array(ak.contents.ListOffsetArray(offsets, content), behavior=BEHAVIOR)


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
    return fixed_collection(cols)


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
