"""Training data: paired (z, x) feature arrays read from files of the event layout, and their deterministic split.

``DATA`` arguments may be ROOT files, directories (their ``chunk-*.root``, else every ``*.root``) or a coffea
fileset JSON (``{"dataset": {"files": {"path.root": "Events"}}}`` or ``{"dataset": ["path.root", ...]}``;
relative paths are relative to the JSON file).
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import warnings
from collections.abc import Sequence
from typing import Any

import awkward as ak
import numpy as np

from turbosim_hep.events.split import split_mask

__all__ = ("PairedData", "load_pairs")

_COLLECTIONS = ("Parton", "Electron", "Jet", "MET")


@dataclasses.dataclass(frozen=True)
class PairedData:
    """Paired features of the same events: ``z``, ``x`` ``(n, 24)`` float32 [GeV]; ids ``run``, ``event`` ``(n,)``.

    ``provenance`` records where they came from (files, event counts) as plain dicts and lists.
    """

    z: np.ndarray
    x: np.ndarray
    run: np.ndarray
    event: np.ndarray
    provenance: dict[str, Any] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        n = len(self.z)
        for name in ("z", "x"):
            a = getattr(self, name)
            if a.ndim != 2 or a.shape[1] != 24:
                raise ValueError(f"{name} must have shape (n, 24), got {a.shape!r}")
        for name in ("x", "run", "event"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"z has {n} rows but {name} has {len(getattr(self, name))}")
        for name in ("z", "x"):
            a = getattr(self, name)
            if not np.all(np.isfinite(a)):
                row = int(np.flatnonzero(~np.all(np.isfinite(a), axis=1))[0])
                raise ValueError(f"{name} holds NaN or infinity (row {row}, event id {int(self.event[row])})")

    def __len__(self) -> int:
        return len(self.z)

    @classmethod
    def from_arrays(cls, z, x, run, event) -> PairedData:
        """Paired data from in-memory arrays; ``run`` may be one number. Provenance records their SHA-256."""
        event = np.asarray(event, dtype=np.uint64)
        z = np.asarray(z, dtype=np.float32)
        x = np.asarray(x, dtype=np.float32)
        h = hashlib.sha256()
        for a in (z, x, event):
            h.update(np.ascontiguousarray(a).tobytes())
        provenance = {"source": "arrays", "events": len(z), "sha256": h.hexdigest()}
        return cls(z, x, np.broadcast_to(np.asarray(run, dtype=np.uint64), event.shape), event, provenance)

    def split(self, name: str, *, fractions: tuple[float, float, float]) -> PairedData:
        """The events of split ``name`` ("train", "validation", "test"), by
        :func:`~turbosim_hep.events.split.split_mask`."""
        mask = split_mask(self.run, self.event, name, fractions=fractions)
        return PairedData(self.z[mask], self.x[mask], self.run[mask], self.event[mask], self.provenance)


def _joined(parts: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(parts) if parts else np.zeros(0, np.uint64)


def load_pairs(
    paths: str | os.PathLike | Sequence[str | os.PathLike], *, step_size: int = 200_000, progress: bool | None = None
) -> PairedData:
    """Read Parton, Electron, Jet and MET from every file and return the paired ``(n, 24)`` features.

    Events that cannot form the X features (no electron or fewer than four jets: not passing the selection) are
    dropped with a warning and counted in the provenance. ``progress=None`` shows a bar when stderr is a terminal.
    """
    from turbosim_hep.events.features import partons_to_features, reco_to_features
    from turbosim_hep.events.ids import check_unique_ids, id_ranges
    from turbosim_hep.io.datasets import resolve_inputs
    from turbosim_hep.io.digests import file_sha256
    from turbosim_hep.io.root import iterate_events, open_tree
    from turbosim_hep.runtime.progress import progress_bar

    inputs = resolve_inputs(paths)
    total = sum(open_tree(f.path, tree=f.tree).num_entries for f in inputs)
    zs, xs, runs, lumis, events, per_file = [], [], [], [], [], []
    dropped = 0
    blocks = []
    with progress_bar(total, "reading", disable=None if progress is None else not progress) as bar:
        for f, tree, _ in inputs:
            n_read = n_kept = 0
            first = len(runs)
            for chunk in iterate_events(f, step_size=step_size, collections=_COLLECTIONS, tree=tree, detector=True):
                ok = (ak.to_numpy(ak.num(chunk["Electron"], axis=1)) >= 1) & (
                    ak.to_numpy(ak.num(chunk["Jet"], axis=1)) >= 4
                )
                n_read += len(chunk)
                bar.advance(len(chunk))
                chunk = chunk[ok]
                n_kept += len(chunk)
                try:
                    zs.append(partons_to_features(chunk))
                    xs.append(reco_to_features(chunk))
                except ValueError as err:
                    raise ValueError(f"{str(f)!r}: {err}") from err
                runs.append(ak.to_numpy(chunk["run"]).astype(np.uint64))
                lumis.append(ak.to_numpy(chunk["luminosityBlock"]).astype(np.uint64))
                events.append(ak.to_numpy(chunk["event"]).astype(np.uint64))
            dropped += n_read - n_kept
            block = (str(f), *(_joined(a[first:]) for a in (runs, lumis, events)))
            blocks.append(block)
            per_file.append(
                {
                    "path": str(f.resolve()),
                    "events": n_read,
                    "used": n_kept,
                    # the file's identity beyond its path: evaluate refuses a copy of it, or its events in another file
                    "sha256": file_sha256(f),
                    "id_ranges": id_ranges(block[1], block[3]),
                }
            )
    check_unique_ids(blocks)
    if dropped:
        warnings.warn(
            f"dropped {dropped} events without an electron and four jets (not selected); apply the selection "
            "when writing training files",
            stacklevel=2,
        )
    provenance = {"files": per_file, "events": sum(p["used"] for p in per_file), "dropped": dropped}
    return PairedData(
        np.concatenate(zs) if zs else np.zeros((0, 24), np.float32),
        np.concatenate(xs) if xs else np.zeros((0, 24), np.float32),
        np.concatenate(runs) if runs else np.zeros(0, np.uint64),
        np.concatenate(events) if events else np.zeros(0, np.uint64),
        provenance,
    )
