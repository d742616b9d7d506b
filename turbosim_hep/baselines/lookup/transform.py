"""The lookup baseline: the classical parametric fast simulation, learned from paired events in seconds.

Every parton (electron, b, bbar, u, dbar) draws one stored detector response of its kind from its bin of parton pT
and |η|, and the MET is the neutrino smeared by a stored residual (:mod:`~turbosim_hep.baselines.lookup.tables`).
This is the floor a learned model must beat. It simulates only (parton -> detector).

Here: :class:`LookupTransform`, the same feature-level and awkward API as Turbo-Sim's, noise keyed on the event ids.
The fit is :mod:`~turbosim_hep.baselines.lookup.fit`.

Example
-------
>>> from turbosim_hep.baselines.lookup.fit import fit_lookup_files
>>> from turbosim_hep.baselines.lookup.transform import LookupTransform
>>> fit_lookup_files(["data/"], out="lookup.pt")                                  # doctest: +SKIP
>>> tf = LookupTransform.load("lookup.pt")                                         # doctest: +SKIP
>>> x = tf.simulate_features(z, run=run, event=event)                              # doctest: +SKIP
"""

from __future__ import annotations

import numpy as np

from turbosim_hep.baselines.lookup.checkpoint import FORMAT, LoadedLookup, load_lookup
from turbosim_hep.baselines.lookup.config import LookupConfig
from turbosim_hep.baselines.lookup.tables import NOISE_DIM, LookupTables, simulate_lookup
from turbosim_hep.io.safe_torch import ModelFile
from turbosim_hep.simulation.registry import register_model_kind
from turbosim_hep.simulation.transform import EventTransform

__all__ = ("LookupTransform",)


class _LookupSampler:
    """The lookup as the "network" :class:`EventTransform` calls: ``(z [GeV], standard normals) -> x [GeV]``."""

    noise_dim = NOISE_DIM

    def __init__(self, tables: LookupTables) -> None:
        self.tables = tables

    def __call__(self, inputs, noise):
        import torch
        from scipy.special import ndtr

        u = ndtr(noise.cpu().numpy().astype(np.float64))
        x = simulate_lookup(self.tables, inputs.cpu().numpy(), u)
        return torch.from_numpy(x.astype(np.float32))


class LookupTransform(EventTransform):
    """A fitted lookup baseline as a transform: feature arrays [GeV] and awkward events, simulation only.

    The noise of each event (which stored responses it draws) is a pure function of the seed and the event's ids
    (:class:`~turbosim_hep.simulation.transform.EventTransform`), so results do not depend on batching or order.

    Example
    -------
    >>> tf = LookupTransform.load("lookup.pt")                                     # doctest: +SKIP
    >>> reco = tf.simulate(events)                                                 # doctest: +SKIP
    """

    directions = ("simulate",)

    def __init__(self, loaded: LoadedLookup, **kwargs) -> None:
        super().__init__(loaded, **kwargs)
        self._sampler = _LookupSampler(loaded.tables)

    @classmethod
    def _read(cls, model_file: ModelFile, device: str | None) -> LoadedLookup:
        """The lookup runs on the CPU; ``device`` is accepted for a uniform signature."""
        return load_lookup(model_file)

    @classmethod
    def from_tables(cls, tables: LookupTables, *, seed: int = 0, batch_size: int = 65_536) -> LookupTransform:
        """A transform of tables fitted in memory (:func:`fit_lookup`), without a file."""
        config = LookupConfig(
            pt_bins_gev=tables.pt_bins_gev, abs_eta_bins=tables.abs_eta_bins, met_bins_gev=tables.met_bins_gev,
            met_balance=tables.met_balance, min_entries=tables.min_entries, max_dr=tables.max_dr, seed=seed,
        )  # fmt: skip
        return cls(LoadedLookup(tables=tables, config=config, provenance={}, path=None), batch_size=batch_size)

    def _network(self, direction: str):
        if direction != "simulate":
            self._no_unfold()
        return self._sampler, None, None

    @staticmethod
    def _no_unfold():
        raise NotImplementedError(
            "the lookup baseline simulates only (parton -> detector); unfold with a Turbo-Sim or OTUS model"
        )

    def unfold_features(self, x, **ids):
        """Not available: the lookup baseline simulates only (``directions == ("simulate",)``)."""
        self._no_unfold()

    def __repr__(self) -> str:
        path = None if self.loaded.path is None else str(self.loaded.path)
        return f"LookupTransform(path={path!r}, seed={self.seed})"


register_model_kind(FORMAT, LookupTransform.from_model_file, description="lookup baseline, 'turbosim baseline-lookup'")
