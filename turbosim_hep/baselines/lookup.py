"""The lookup baseline: the classical parametric fast simulation, learned from paired events in seconds.

Every parton (electron, b, bbar, u, dbar) draws one stored detector response of its kind from its bin of parton pT
and |η|, and the MET is the neutrino smeared by a stored residual (:mod:`~turbosim_hep.baselines.lookup_tables`).
This is the floor a learned model must beat. It simulates only (parton -> detector).

- :mod:`~turbosim_hep.baselines.lookup_tables`: the fit (:func:`fit_lookup`) and the vectorised simulation;
- :mod:`~turbosim_hep.baselines.lookup_checkpoint`: :class:`LookupConfig` and safe files (:func:`load_lookup`);
- here: :class:`LookupTransform` (same feature-level and awkward API as Turbo-Sim's, noise keyed on the event ids)
  and the fits from files or arrays on the train split.

Example
-------
>>> from turbosim_hep.baselines.lookup import LookupTransform, fit_lookup_files
>>> fit_lookup_files(["data/"], out="lookup.pt")                                  # doctest: +SKIP
>>> tf = LookupTransform.load("lookup.pt")                                         # doctest: +SKIP
>>> x = tf.simulate_features(z, run=run, event=event)                              # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from turbosim_hep.baselines.lookup_checkpoint import FORMAT, LoadedLookup, LookupConfig, load_lookup, save_lookup
from turbosim_hep.baselines.lookup_tables import NOISE_DIM, LookupTables, fit_lookup, simulate_lookup
from turbosim_hep.registry import register_model_kind
from turbosim_hep.transform import EventTransform

__all__ = (
    "FORMAT",
    "LoadedLookup",
    "LookupConfig",
    "LookupTables",
    "LookupTransform",
    "fit_lookup",
    "fit_lookup_arrays",
    "fit_lookup_files",
    "load_lookup",
    "simulate_lookup",
)


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
    (:class:`~turbosim_hep.transform.EventTransform`), so results do not depend on batching or order.

    Example
    -------
    >>> tf = LookupTransform.load("lookup.pt")                                     # doctest: +SKIP
    >>> reco = tf.simulate(events)                                                 # doctest: +SKIP
    """

    directions = ("simulate",)

    def __init__(self, loaded: LoadedLookup, *, seed: int | None = None, batch_size: int = 65_536) -> None:
        super().__init__(loaded, seed=seed, batch_size=batch_size)
        self._sampler = _LookupSampler(loaded.tables)

    @classmethod
    def load(
        cls, path: str | os.PathLike, *, device: str | None = None, seed: int | None = None, batch_size: int = 65_536
    ) -> LookupTransform:
        """Load a file written by ``turbosim baseline-lookup``. ``device`` is accepted for a uniform signature: the
        lookup runs on the CPU."""
        return cls(load_lookup(path), seed=seed, batch_size=batch_size)

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


def _sha256(*arrays: np.ndarray) -> str:
    h = hashlib.sha256()
    for a in arrays:
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


def _refuse(out: Path, inputs: Sequence[str | os.PathLike], overwrite: bool) -> None:
    from turbosim_hep.io.output_safety import check_outputs

    check_outputs([out], inputs, verb="baseline-lookup --out")
    if out.exists() and not overwrite:
        raise FileExistsError(f"{str(out)!r} exists; pass overwrite=True (CLI: --overwrite) or choose another --out")


def fit_lookup_arrays(
    z: np.ndarray,
    x: np.ndarray,
    run: np.ndarray | int,
    event: np.ndarray,
    *,
    out: str | os.PathLike,
    overwrite: bool = False,
    provenance: dict[str, Any] | None = None,
    inputs: Sequence[str | os.PathLike] = (),
    log: Callable[[str], None] | None = None,
    **options: Any,
) -> Path:
    """Fit the lookup on the train split of paired features ``z``, ``x`` ``(n, 24)`` [GeV] and write it to ``out``.

    ``run`` (``(n,)`` or one number) and ``event`` ``(n,)`` choose the split; ``options`` are :class:`LookupConfig`
    fields (``split_fractions=``, ``seed=``, ``pt_bins_gev=``, ...). ``provenance`` describes the data (default:
    their digest); ``inputs`` are files ``out`` must not replace. Returns the path written.
    """
    from turbosim_hep.model.checkpoint import versions
    from turbosim_hep.model.data import PairedData

    config = LookupConfig(**options)
    out = Path(out)
    _refuse(out, inputs, overwrite)
    data = PairedData.from_arrays(z, x, run, event)
    train = data.split("train", fractions=config.split_fractions)
    if len(train) == 0:
        raise ValueError(f"no events in the train split of {len(data)} (fractions {config.split_fractions!r})")
    t0 = time.perf_counter()
    tables = fit_lookup(train.z, train.x, **config.fit_options())
    seconds = time.perf_counter() - t0
    full_provenance = {
        "data": provenance if provenance is not None else data.provenance,
        "split_fractions": list(config.split_fractions),
        "split_events": {"total": len(data), "train": len(train)},
        "train_sha256": _sha256(train.z, train.x, train.run, train.event),
        "fit_seconds": round(seconds, 3),
        "versions": versions(),
    }
    if log is not None:
        log(f"fitted the lookup on {len(train)} train events of {len(data)} in {seconds:.1f} s")
    return save_lookup(
        out, tables=tables, config=config, provenance=full_provenance, inputs=inputs, overwrite=overwrite
    )


def fit_lookup_files(
    paths: str | os.PathLike | Sequence[str | os.PathLike],
    *,
    out: str | os.PathLike,
    overwrite: bool = False,
    progress: bool | None = None,
    log: Callable[[str], None] | None = None,
    **options: Any,
) -> Path:
    """Fit the lookup on the train split of files of the event layout (ROOT files, directories, fileset JSON).

    Reads with :func:`turbosim_hep.model.data.load_pairs`; ``options`` are :class:`LookupConfig` fields, e.g.
    ``split_fractions=(0.7, 0.15, 0.15)`` (the evaluation's test split must be the one of the file). Refuses to
    overwrite an input, and an existing ``out`` unless ``overwrite``. Returns the path written.

    Example
    -------
    >>> fit_lookup_files(["data/"], out="lookup.pt", seed=3)                       # doctest: +SKIP
    """
    from turbosim_hep.io.datasets import resolve_paths
    from turbosim_hep.model.data import load_pairs

    given = [paths] if isinstance(paths, str | os.PathLike) else list(paths)
    inputs = [*given, *resolve_paths(given)]
    LookupConfig(**options)  # bad options fail before the files are read
    _refuse(Path(out), inputs, overwrite)
    data = load_pairs(given, progress=progress)
    return fit_lookup_arrays(
        data.z, data.x, data.run, data.event, out=out, overwrite=overwrite, provenance=data.provenance,
        inputs=inputs, log=log, **options,
    )  # fmt: skip


register_model_kind(FORMAT, LookupTransform.load, description="lookup baseline, 'turbosim baseline-lookup'")
