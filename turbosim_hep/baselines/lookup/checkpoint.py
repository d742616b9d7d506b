"""Lookup-baseline files: its configuration and one ``torch.save`` dict of plain values and tensors.

Keys: ``format`` (:data:`FORMAT`), ``format_version``, ``layout_version``
(:data:`turbosim_hep.constants.LAYOUT_VERSION`), ``z_features``, ``x_features``, ``config``
(:meth:`LookupConfig.to_dict`: binning, seed, split fractions), ``provenance`` (fit data: files or array digest, event
counts, the train split's SHA-256, split fractions, fit time, versions), ``tables`` (the response pools and their bin
ranges as tensors) and ``digest`` (SHA-256 of all the rest: an edited file is refused).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from turbosim_hep.baselines.lookup.config import LookupConfig
from turbosim_hep.baselines.lookup.tables import (
    OBJECT_KINDS,
    LookupTables,
    ResponseTable,
)
from turbosim_hep.io.safe_torch import ModelFile, content_digest, model_file_header, read_model_file

__all__ = ("FORMAT", "LoadedLookup", "load_lookup", "read_lookup", "save_lookup")

#: Value of the ``format`` key of every lookup-baseline file (what the model registry dispatches on).
FORMAT = "turbosim-hep lookup"
_FORMAT_VERSION = 1
_KEYS = (
    "config",
    "provenance",
    "tables",
)
_TABLE_FIELDS = ("pool", "start", "stop", "entries", "efficiency")
_WIDTH = {"electron": 3, "b": 4, "light": 4, "met": 3}


def _table_content(t: ResponseTable) -> dict[str, torch.Tensor]:
    return {name: torch.from_numpy(np.ascontiguousarray(getattr(t, name))) for name in _TABLE_FIELDS}


def save_lookup(
    path: str | os.PathLike,
    *,
    tables: LookupTables,
    config: LookupConfig,
    provenance: dict[str, Any],
    inputs: Iterable[str | os.PathLike] = (),
    overwrite: bool = False,
) -> Path:
    """Write a lookup file atomically; refuses to replace one of ``inputs`` or (unless ``overwrite``) any file."""
    from turbosim_hep.io.atomic import atomic_path

    content: dict[str, Any] = {
        **model_file_header(FORMAT, _FORMAT_VERSION),
        "config": config.to_dict(),
        "provenance": provenance,
        "tables": {
            "objects": {kind: _table_content(t) for kind, t in tables.objects.items()},
            "met": _table_content(tables.met),
            "n_events": int(tables.n_events),
        },
    }
    content["digest"] = content_digest(content)
    with atomic_path(path, inputs=inputs, overwrite=overwrite) as tmp:
        torch.save(content, tmp)
    return Path(path)


def read_lookup(source: str | os.PathLike | ModelFile) -> dict[str, Any]:
    """Load (or take ``source`` already read) and check a lookup file's content; ``ValueError`` naming the file on
    any mismatch."""
    return read_model_file(
        source,
        file_format=FORMAT,
        format_version=_FORMAT_VERSION,
        keys=_KEYS,
        what="lookup baseline file",
        hint="; other model files load with turbosim_hep.simulation.registry.load_transform",
    )


def _table(raw: Any, name: str, shape: tuple[int, ...], where: str) -> ResponseTable:
    if not isinstance(raw, dict) or any(not isinstance(raw.get(f), torch.Tensor) for f in _TABLE_FIELDS):
        raise ValueError(f"{where}: table {name!r} lacks tensors {list(_TABLE_FIELDS)!r}")
    a = {f: raw[f].numpy() for f in _TABLE_FIELDS}
    pool = a["pool"]
    if pool.ndim != 2 or pool.shape[1] != _WIDTH[name] or len(pool) == 0:
        raise ValueError(f"{where}: table {name!r} pool has shape {pool.shape!r}, expected (N > 0, {_WIDTH[name]})")
    for f in ("start", "stop", "entries", "efficiency"):
        if a[f].shape != shape:
            raise ValueError(f"{where}: table {name!r} {f} has shape {a[f].shape!r}, the binning needs {shape!r}")
    if np.any(a["start"] < 0) or np.any(a["stop"] > len(pool)) or np.any(a["start"] >= a["stop"]):
        raise ValueError(f"{where}: table {name!r} has empty or out-of-range bins")
    return ResponseTable(**{f: a[f].astype(np.int64) if f in ("start", "stop", "entries") else a[f] for f in a})


def _tables(content: dict[str, Any], config: LookupConfig, where: str) -> LookupTables:
    raw = content["tables"]
    shape = (len(config.pt_bins_gev) - 1, len(config.abs_eta_bins) - 1)
    if not isinstance(raw, dict) or not isinstance(raw.get("objects"), dict):
        raise ValueError(f"{where}: 'tables' holds no object tables")
    missing = [k for k in OBJECT_KINDS if k not in raw["objects"]]
    if missing:
        raise ValueError(f"{where}: object tables {missing!r} are missing")
    return LookupTables(
        pt_bins_gev=config.pt_bins_gev,
        abs_eta_bins=config.abs_eta_bins,
        met_bins_gev=config.met_bins_gev,
        met_balance=float(config.met_balance),
        min_entries=int(config.min_entries),
        max_dr=float(config.max_dr),
        objects={k: _table(raw["objects"][k], k, shape, where) for k in OBJECT_KINDS},
        met=_table(raw.get("met"), "met", (len(config.met_bins_gev) - 1,), where),
        n_events=int(raw.get("n_events", 0)),
    )


@dataclasses.dataclass
class LoadedLookup:
    """A fitted lookup: its tables, config, provenance and file (``path`` None for tables fitted in memory)."""

    tables: LookupTables
    config: LookupConfig
    provenance: dict[str, Any]
    path: Path | None

    @property
    def device(self) -> torch.device:
        return torch.device("cpu")


def load_lookup(source: str | os.PathLike | ModelFile) -> LoadedLookup:
    """Load a lookup file (a path, or a :class:`ModelFile` already read; safely: no code in the file can run)."""
    path = source.path if isinstance(source, ModelFile) else Path(source)
    content = read_lookup(source)
    where = f"lookup baseline file {str(path)!r}"
    try:
        config = LookupConfig.from_dict(content["config"])
    except (ValueError, TypeError) as err:
        raise ValueError(f"{where} holds an invalid config: {err}") from err
    return LoadedLookup(
        tables=_tables(content, config, where), config=config, provenance=dict(content["provenance"]), path=Path(path)
    )
