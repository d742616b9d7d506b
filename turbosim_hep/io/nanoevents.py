"""coffea NanoEvents schema for files of the turbosim layout.

``TurboSimSchema`` is NanoAODSchema with the ``Parton`` collection given four-vector behaviour and the warnings about
NanoAOD cross-references (which our files do not have) switched off. It is a subclass so that the setting reaches
worker processes (REFERENCE.md §10).
"""

from __future__ import annotations

from coffea.nanoevents import NanoAODSchema, NanoEventsFactory

__all__ = ("TurboSimSchema", "open_nanoevents")


class TurboSimSchema(NanoAODSchema):
    """NanoAODSchema for turbosim ntuples: Parton is a ``PtEtaPhiMCollection``; no cross-reference warnings."""

    warn_missing_crossrefs = False
    mixins = {**NanoAODSchema.mixins, "Parton": "PtEtaPhiMCollection"}


def open_nanoevents(path: str, *, mode: str = "eager", entry_stop: int | None = None):
    """Open one file of the layout as NanoEvents (``mode`` "eager", "virtual" or "dask")."""
    return NanoEventsFactory.from_root(
        {str(path): "Events"}, schemaclass=TurboSimSchema, mode=mode, entry_stop=entry_stop
    ).events()
