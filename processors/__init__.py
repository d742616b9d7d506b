"""coffea processors of turbosim-hep (installed as ``turbosim_hep.processors``)."""

from turbosim_hep.processors.turbosim_processor import (
    LEVELS,
    MASSES,
    PARTON_OBSERVABLES,
    SAMPLES,
    TurboSimProcessor,
    check_fileset,
)

__all__ = ("LEVELS", "MASSES", "PARTON_OBSERVABLES", "SAMPLES", "TurboSimProcessor", "check_fileset")
