"""The OTUS event selection (arXiv:2101.08944; REFERENCE.md §1), with its cutflow."""

from __future__ import annotations

import awkward as ak
import numpy as np

__all__ = ("OTUS_CUTS", "otus_selection")

#: Names of the cutflow steps of :func:`otus_selection`, in order (each count includes all earlier cuts).
OTUS_CUTS: tuple[str, ...] = (
    "generated",
    "exactly one electron",
    "electron is e-",
    "no muon",
    "no isolated photon",
    "exactly four jets",
)


def otus_selection(events: ak.Array) -> tuple[np.ndarray, dict[str, int]]:
    """Select events as OTUS did: exactly one electron and it is an e-, no muon, no isolated photon, exactly 4 jets.

    No b-tag and no MET cut. ``events`` needs ``Electron`` (with ``charge``), ``Jet`` and the per-event counts
    ``isoMuonCount`` and ``isoPhotonCount`` written by the generator (isolated identified muons and photons).

    Returns
    -------
    mask : (n,) bool
        True for selected events.
    cutflow : dict[str, int]
        Events left after each step of :data:`OTUS_CUTS`, in order.
    """
    fields = ak.fields(events)
    for need in ("Electron", "Jet", "isoMuonCount", "isoPhotonCount"):
        if need not in fields:
            raise ValueError(
                f"otus_selection needs the field {need!r}; the events have {fields!r} "
                "(generate them with turbosim_hep.generation, which writes the muon and photon counts)"
            )
    n_ele = ak.to_numpy(ak.num(events["Electron"], axis=1))
    charge = ak.to_numpy(ak.fill_none(ak.firsts(events["Electron"]["charge"]), 0))
    steps = (
        n_ele == 1,
        charge == -1,
        ak.to_numpy(events["isoMuonCount"]) == 0,
        ak.to_numpy(events["isoPhotonCount"]) == 0,
        ak.to_numpy(ak.num(events["Jet"], axis=1)) == 4,
    )
    mask = np.ones(len(events), dtype=bool)
    cutflow = {OTUS_CUTS[0]: int(len(events))}
    for name, step in zip(OTUS_CUTS[1:], steps, strict=True):
        mask &= step
        cutflow[name] = int(mask.sum())
    return mask, cutflow
