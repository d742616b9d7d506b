"""The events array of one generated batch: the parton truth, the detector's electrons, jets and MET, and the counts
the selection needs, in the event layout (:mod:`turbosim_hep.events.layout`)."""

from __future__ import annotations

import awkward as ak
import numpy as np

from turbosim_hep.constants import M_ELECTRON_GEV
from turbosim_hep.events.layout import make_events, make_partons, momentum4d
from turbosim_hep.generation.detector import DetectorOutput
from turbosim_hep.generation.pythia import ParticleBatch
from turbosim_hep.physics.kinematics import ptetaphim_from_p4

__all__ = ("build_events",)


def _jagged(flat: np.ndarray, counts: np.ndarray) -> ak.Array:
    return ak.unflatten(np.asarray(flat), np.asarray(counts, dtype=np.int64))


def build_events(
    batch: ParticleBatch, det: DetectorOutput, *, first_event: int, luminosity_block: int, run: int = 1
) -> ak.Array:
    """The events array (layout of :mod:`turbosim_hep.events.layout`) of a simulated batch.

    Besides the layout's collections it carries ``Jet_partonIdx`` (index 2..5 of the quark, in the six-parton
    collection, within Delta R 0.4 of the jet's axis, from the quarks' event-record copies; -1 if none) and the
    per-event counts ``isoMuonCount`` and ``isoPhotonCount`` used by the selection.
    """
    n = len(batch)
    ppt, peta, pphi, _ = ptetaphim_from_p4(batch.partons)
    partons = make_partons(ppt, peta, pphi, batch.parton_masses)
    ecount = det.electron_counts
    electrons = momentum4d(
        {
            "pt": _jagged(det.electron_pt.astype(np.float32), ecount),
            "eta": _jagged(det.electron_eta.astype(np.float32), ecount),
            "phi": _jagged(det.electron_phi.astype(np.float32), ecount),
            "mass": _jagged(np.full(len(det.electron_pt), M_ELECTRON_GEV, dtype=np.float32), ecount),
            "charge": _jagged(det.electron_charge, ecount),
            "pdgId": _jagged(det.electron_pdg, ecount),
        }
    )
    jpt, jeta, jphi, jm = ptetaphim_from_p4(det.jets)
    jc = det.jet_counts
    jets = momentum4d(
        {
            "pt": _jagged(jpt.astype(np.float32), jc),
            "eta": _jagged(jeta.astype(np.float32), jc),
            "phi": _jagged(jphi.astype(np.float32), jc),
            "mass": _jagged(jm.astype(np.float32), jc),
            "partonIdx": _jagged(det.jet_parton_idx, jc),
        }
    )
    met = ak.zip(
        {
            "pt": det.met_pt.astype(np.float32),
            "phi": det.met_phi.astype(np.float32),
            "pzMiss": det.met_pz_miss.astype(np.float32),
        }
    )
    return make_events(
        event=np.arange(first_event, first_event + n, dtype=np.uint64),
        run=run,
        luminosity_block=luminosity_block,
        partons=partons,
        electrons=electrons,
        jets=jets,
        met=met,
        extra={
            "isoMuonCount": det.n_muons.astype(np.int32),
            "isoPhotonCount": det.n_photons.astype(np.int32),
        },
    )
