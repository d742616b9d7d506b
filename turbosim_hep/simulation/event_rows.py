"""Rows of a transform's output: the event ids of its input and, when oversampling, which input each row comes from.

Shared by :class:`~turbosim_hep.simulation.transform.EventTransform`'s ``simulate`` and ``unfold``.
"""

from __future__ import annotations

import warnings

import awkward as ak
import numpy as np

__all__ = ("IDS", "event_ids", "output_rows")

#: The id fields of an event, in key order.
IDS: tuple[str, ...] = ("run", "luminosityBlock", "event")


def event_ids(data: ak.Array, run, luminosity_block, event) -> dict[str, np.ndarray]:
    """The ids ``run`` (uint32), ``luminosityBlock`` (uint32), ``event`` (uint64) ``(n,)`` of the ``n`` events of
    ``data``: the given values (broadcast), else the events' own fields, else 1 (and for ``event`` the row index,
    with a warning: the noise then depends on the row's position)."""
    n = len(data)
    fields = ak.fields(data)
    given = {"run": run, "luminosityBlock": luminosity_block, "event": event}
    ids = {}
    for name in IDS:
        if given[name] is not None:
            ids[name] = np.broadcast_to(np.asarray(given[name]), (n,))
        elif name in fields:
            ids[name] = ak.to_numpy(data[name])
        elif name == "event":
            warnings.warn(
                "no event ids: using the row index as 'event', so the noise depends on the row's position; "
                "pass event= (and run=, luminosity_block=) for reproducible results",
                stacklevel=3,
            )
            ids[name] = np.arange(n, dtype=np.uint64)
        else:
            ids[name] = np.ones(n, dtype=np.uint32)
    ids["run"] = ids["run"].astype(np.uint32)
    ids["luminosityBlock"] = ids["luminosityBlock"].astype(np.uint32)
    ids["event"] = ids["event"].astype(np.uint64)
    return ids


def output_rows(n: int, n_samples: int, first_sample: int) -> tuple[np.ndarray, np.ndarray]:
    """Source event ``(n * n_samples,)`` and sample index of each output row, sample-major within each event."""
    if int(n_samples) != n_samples or n_samples < 1:
        raise ValueError(f"n_samples must be a positive integer, got {n_samples!r}")
    if int(first_sample) != first_sample or first_sample < 0:
        raise ValueError(f"first_sample must be a non-negative integer, got {first_sample!r}")
    source = np.repeat(np.arange(n), n_samples)
    return source, np.tile(np.arange(first_sample, first_sample + n_samples), n)
