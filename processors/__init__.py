"""coffea processors of turbosim-hep (installed as ``turbosim_hep.processors``)."""

from turbosim_hep.processors.turbosim_processor import MASSES, SAMPLES, TurboSimProcessor, check_fileset

__all__ = ("MASSES", "SAMPLES", "TurboSimProcessor", "check_fileset")
