"""Fitting the lookup baseline on the train split, from files or from paired feature arrays."""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from turbosim_hep.baselines.lookup.checkpoint import save_lookup
from turbosim_hep.baselines.lookup.config import LookupConfig
from turbosim_hep.baselines.lookup.tables import fit_lookup
from turbosim_hep.runtime.advice import option

__all__ = ("fit_lookup_arrays", "fit_lookup_files")


def _sha256(*arrays: np.ndarray) -> str:
    h = hashlib.sha256()
    for a in arrays:
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


def _refuse(out: Path, inputs: Sequence[str | os.PathLike], overwrite: bool) -> None:
    from turbosim_hep.io.atomic import check_outputs

    check_outputs([out], inputs, verb="baseline-lookup --out")
    if out.exists() and not overwrite:
        raise FileExistsError(
            f"{str(out)!r} exists; {option(python='pass overwrite=True', cli='rerun with --overwrite')} or choose "
            f"another {option(python='out', cli='--out')}"
        )


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
