"""The detector card's jet energy scale and the jet threshold it implies, for numpy arrays and torch tensors alike.

The jet finder keeps jets above ``pt_min`` (20 GeV) *before* the energy scale, which then multiplies each jet's
four-vector by ``sqrt((a − b|η|)² / pT + 1)`` (Delphes CMS card, pT in GeV). So no measured jet lies below
``pt_min · sqrt((a − b|η|)² / pt_min + 1)``: 22.9 GeV at η = 0, 21.5 GeV at |η| = 5. A fast simulation that
truncates at 20 GeV puts events where the detector has none (the four jets' pT alone told a classifier apart).
"""

from __future__ import annotations

from typing import TypeVar

__all__ = ("jet_energy_scale_factor", "scaled_jet_pt_threshold")

Array = TypeVar("Array")  # numpy.ndarray or torch.Tensor (only arithmetic and ** are used)


def _offset(abs_eta: Array, a: float, b: float) -> Array:
    return (a - b * abs_eta) ** 2


def jet_energy_scale_factor(pt: Array, abs_eta: Array, a: float, b: float) -> Array:
    """Factor ``sqrt((a − b|η|)² / pT + 1)`` of jets with clustered ``pt`` [GeV] (> 0) and ``abs_eta``."""
    return (_offset(abs_eta, a, b) / pt + 1.0) ** 0.5


def scaled_jet_pt_threshold(abs_eta: Array, pt_min: float, a: float, b: float) -> Array:
    """Lowest measured jet pT [GeV] at ``abs_eta``: ``pt_min`` after the energy scale (``a = b = 0``: ``pt_min``)."""
    return pt_min * jet_energy_scale_factor(pt_min, abs_eta, a, b)
