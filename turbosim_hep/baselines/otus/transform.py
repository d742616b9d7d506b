"""The OTUS baseline (Howard et al. 2021, arXiv:2101.08944) for side-by-side comparison with Turbo-Sim.

Here: :class:`OtusTransform`, the trained model as the feature-level functions the evaluation calls.

Example
-------
>>> from turbosim_hep.baselines.otus.config import OtusConfig
>>> from turbosim_hep.baselines.otus.training import train_otus
>>> from turbosim_hep.baselines.otus.transform import OtusTransform
>>> from turbosim_hep.evaluation.scoring import evaluate
>>> train_otus(["data/"], config=OtusConfig(epochs=300), out="otus.pt")           # doctest: +SKIP
>>> evaluate(OtusTransform.load("otus.pt"), ["data/"], out="eval-otus")          # doctest: +SKIP
"""

from __future__ import annotations

from turbosim_hep.baselines.otus.checkpoint import FORMAT, LoadedOtus, load_otus
from turbosim_hep.io.safe_torch import ModelFile
from turbosim_hep.simulation.registry import register_model_kind
from turbosim_hep.simulation.transform import EventTransform

__all__ = ("OtusTransform",)


class OtusTransform(EventTransform):
    """A trained OTUS model in both directions: feature arrays [GeV] and awkward events, like Turbo-Sim's.

    OTUS networks take and return GeV (their normalisation is inside), so no affine maps are needed. The noise of each
    event is a pure function of the seed and the event's ids (:class:`EventTransform`), so
    results do not depend on batching or order.
    """

    @classmethod
    def _read(cls, model_file: ModelFile, device: str | None) -> LoadedOtus:
        return load_otus(model_file, device=device)

    def _network(self, direction: str):
        model = self.loaded.model
        return (model.decoder if direction == "simulate" else model.encoder), None, None

    def __repr__(self) -> str:
        return f"OtusTransform(path={str(self.loaded.path)!r}, seed={self.seed}, device={str(self.device)!r})"


register_model_kind(FORMAT, OtusTransform.from_model_file, description="OTUS baseline, 'turbosim baseline-otus'")
