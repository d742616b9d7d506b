"""Import and export of the OTUS HDF5 format (Howard et al., arXiv:2101.08944).

An OTUS file holds two ``(N, 24)`` float datasets: ``FDL`` (Z, partons) and ``ROL`` (X, detector objects), in the
column orders of :data:`~turbosim_hep.constants.Z_FEATURES` and :data:`~turbosim_hep.constants.X_FEATURES`. An older
pre-split file keeps them in groups as ``FDL/zData`` and ``ROL/xData``; both are read. Rows are paired by index only,
so imported events get ``event`` = row index and ``run`` = 1 (or the ``run`` given: give each file its own
when several are imported, or their ids collide). Every value is checked
(:func:`~turbosim_hep.events.validity.check_features`):
a non-numeric dataset, NaN, infinity or E < |p| is an error naming the file, dataset, row and column.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import awkward as ak
import numpy as np

from turbosim_hep.constants import PARTON_NAMES, RECO_NAMES
from turbosim_hep.events.features import events_from_features, partons_to_features, reco_to_features
from turbosim_hep.events.validity import check_features
from turbosim_hep.io.atomic import atomic_path

__all__ = ("read_otus", "read_otus_features", "write_otus")

_DATASETS = {"FDL": ("FDL", "FDL/zData"), "ROL": ("ROL", "ROL/xData")}


def _dataset(f, key: str, path: Path) -> np.ndarray:
    import h5py

    for name in _DATASETS[key]:
        obj = f.get(name)
        if isinstance(obj, h5py.Dataset):
            data = obj[()]
            break
    else:
        raise ValueError(
            f"{str(path)!r}: no dataset {' or '.join(repr(n) for n in _DATASETS[key])}; it holds {sorted(f.keys())!r}"
        )
    objects = PARTON_NAMES if key == "FDL" else RECO_NAMES
    check_features(data, source=repr(str(path)), objects=objects, what=f"dataset {name!r}")
    return data


def read_otus_features(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """The ``(N, 24)`` Z (``FDL``) and X (``ROL``) arrays of an OTUS file, as stored (GeV)."""
    import h5py

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{str(path)!r} does not exist")
    try:
        f = h5py.File(path, "r")
    except OSError as err:
        raise ValueError(f"{str(path)!r} is not a readable HDF5 file: {err}") from err
    with f:
        z = _dataset(f, "FDL", path)
        x = _dataset(f, "ROL", path)
    if len(z) != len(x):
        raise ValueError(f"{str(path)!r}: FDL has {len(z)} rows but ROL has {len(x)}; rows must pair one to one")
    return z, x


def read_otus(path: str | os.PathLike, *, run: int = 1) -> ak.Array:
    """Read an OTUS HDF5 file into an events array (``event`` = row index, ``run`` as given).

    Rows only pair by index, so two imported files share event ids unless each gets its own ``run``.
    """
    if isinstance(run, bool) or not isinstance(run, int | np.integer) or not 0 <= run < 2**32:
        raise ValueError(f"run must be an integer in [0, 2^32), got {run!r}")
    from turbosim_hep.events.features import sort_jets

    z, x = read_otus_features(path)
    # the layout keeps jets sorted by pT (the readers refuse unsorted ones); OTUS rows already are, as a rule
    return events_from_features(z=z, x=sort_jets(np.asarray(x)), run=run)


def write_otus(path: str | os.PathLike, events: ak.Array, *, inputs: Iterable[str | os.PathLike] = ()) -> Path:
    """Export events (both sides present, >= 4 jets) to an OTUS-format HDF5 file, atomically. Float32 datasets."""
    import h5py

    z = partons_to_features(events["Parton"])
    x = reco_to_features(events)
    path = Path(path)
    with atomic_path(path, inputs=inputs) as tmp:
        with h5py.File(tmp, "w") as f:
            f.create_dataset("FDL", data=z)
            f.create_dataset("ROL", data=x)
    return path
