"""Was an input file of partons selected? What ``turbosim simulate`` assumes when it is not told.

A Turbo-Sim model learns the detector response of *selected* events, so its output is right for partons that
passed the selection. Partons that never met one (a MadGraph/LHE file, ``turbosim generate --no-select``) need the
efficiency model ε(z) to say which events pass (:meth:`~turbosim_hep.simulation.transform.EventTransform.simulate`
with ``selected_input=False``). Without being told, a file is taken as

- **unselected** when it is a Les Houches file (generator output: no detector, no selection ever ran), or a ROOT
  file of a ``turbosim generate`` directory whose ``provenance.json`` records ``"selection": null``
  (``--no-select``);
- **selected** otherwise: what ``turbosim generate`` writes by default, and today's behaviour for any other file.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

__all__ = ("recorded_selection",)


def recorded_selection(path: str | os.PathLike) -> bool:
    """``True`` when the partons of ``path`` are taken as selected, ``False`` when they are known not to be (see the
    module docstring)."""
    from turbosim_hep.io.lhe import is_lhe_path

    path = Path(path)
    if is_lhe_path(path):
        return False
    provenance = path.parent / "provenance.json"
    try:
        record = json.loads(provenance.read_text())
    except (OSError, ValueError):
        return True
    made_by_generate = isinstance(record, dict) and "selection" in record and "n_events_generated" in record
    return not (made_by_generate and record["selection"] is None)
