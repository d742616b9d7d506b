"""TurboSimTransform: a trained Turbo-Sim model as a function on awkward arrays, in both directions.

``simulate`` turns partons (Z) into detector objects (X) in exactly the generator's record layout (Electron, MET,
Jet with vector behaviour, jets sorted by pT); ``unfold`` goes back. Everything but the networks (keyed noise,
batching, the awkward front end, oversampling) is the shared :class:`~turbosim_hep.simulation.transform.EventTransform`.

Example
-------
>>> import turbosim_hep as ts
>>> from turbosim_hep.io.root import read_events
>>> tf = ts.TurboSimTransform.load("model.pt")                  # or a shipped model: "ttbar-physics"
>>> reco = tf.simulate(read_events("partons.root"))            # ak.Array: run, ..., Electron, MET, Jet
>>> m_jj = (reco.Jet[:, 0] + reco.Jet[:, 1]).mass
"""

from __future__ import annotations

from turbosim_hep.io.safe_torch import ModelFile
from turbosim_hep.model.checkpoint import FORMAT, LoadedModel, load_model
from turbosim_hep.simulation.registry import register_model_kind
from turbosim_hep.simulation.transform import EventTransform, affine

__all__ = ("TurboSimTransform",)


class TurboSimTransform(EventTransform):
    """A trained Turbo-Sim model: the decoder simulates, the encoder unfolds, in GeV (normalisation folded in).

    Example
    -------
    >>> tf = TurboSimTransform.load("model.pt")                         # doctest: +SKIP
    >>> reco = tf.simulate(events)                                      # doctest: +SKIP
    """

    @classmethod
    def _read(cls, model_file: ModelFile, device: str | None) -> LoadedModel:
        return load_model(model_file, device=device)

    def _network(self, direction: str):
        m = self.loaded
        if direction == "simulate" and getattr(m.model.decoder, "physical", False):
            return m.model.decoder.in_gev(), None, None  # GeV in and out: no normalisation round trip
        if direction == "unfold" and getattr(m.model.encoder, "physical", False):
            return m.model.encoder.in_gev(), None, None  # on-shell partons exactly as built, in GeV
        if direction == "simulate":
            net, (mi, si), (mo, so) = m.model.decoder, (m.z_mean, m.z_std), (m.x_mean, m.x_std)
        else:
            net, (mi, si), (mo, so) = m.model.encoder, (m.x_mean, m.x_std), (m.z_mean, m.z_std)
        return net, affine(1.0 / si, -mi / si), affine(so, mo)

    def __repr__(self) -> str:
        return f"TurboSimTransform(path={str(self.loaded.path)!r}, seed={self.seed}, device={str(self.device)!r})"


register_model_kind(FORMAT, TurboSimTransform.from_model_file, description="Turbo-Sim, 'turbosim train'")
