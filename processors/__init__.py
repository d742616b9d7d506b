"""coffea processors of turbosim-hep (installed as ``turbosim_hep.processors``)."""

from turbosim_hep.processors.turbosim_processor import MASSES, SAMPLES, TurboSimProcessor

__all__ = ("MASSES", "SAMPLES", "TurboSimProcessor")
