"""Event ids ``(run, luminosityBlock, event)`` must be unique within one input set.

The per-event noise and the dataset split are keyed on the ids, so two copies of an event would be trained and
scored twice and receive the same noise. Generated samples cannot collide: ``run`` = seed + 1
(:func:`turbosim_hep.generation.chunks.run_number`), ``luminosityBlock`` = chunk + 1.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ("IdBlock", "check_unique_ids", "id_ranges", "id_ranges_overlap")

#: ids of one source: (name, run, luminosityBlock, event), arrays of equal length.
IdBlock = tuple[str, np.ndarray, np.ndarray, np.ndarray]


def check_unique_ids(blocks: Sequence[IdBlock]) -> None:
    """Raise ``ValueError`` naming both sources (files) and the id when an event id occurs twice.

    ``blocks`` are ``(source, run, luminosityBlock, event)`` per file, in input order. Cost: one sort of all ids.
    """
    if not blocks:
        return
    sources = [b[0] for b in blocks]
    sizes = np.array([len(b[3]) for b in blocks])
    if sizes.sum() < 2:
        return
    ids = np.stack(
        [np.concatenate([np.asarray(b[k], dtype=np.uint64).reshape(-1) for b in blocks]) for k in (1, 2, 3)], axis=1
    )
    order = np.lexsort((ids[:, 2], ids[:, 1], ids[:, 0]))
    ranked = ids[order]
    same = np.all(ranked[1:] == ranked[:-1], axis=1)
    if not same.any():
        return
    k = int(np.flatnonzero(same)[0])
    first, second = sorted((int(order[k]), int(order[k + 1])))
    owner = np.searchsorted(np.cumsum(sizes), [first, second], side="right")
    run, lumi, event = (int(v) for v in ids[first])
    n_dup = int(same.sum())
    where = (
        f"twice in {sources[owner[0]]!r}"
        if owner[0] == owner[1]
        else f"in both {sources[owner[0]]!r} and {sources[owner[1]]!r}"
    )
    raise ValueError(
        f"duplicate event id (run {run}, luminosityBlock {lumi}, event {event}) {where} ({n_dup} duplicated ids in "
        "all); the same events given twice, or two samples made with the same seed? Give each sample once"
    )


def id_ranges(run: np.ndarray, event: np.ndarray) -> list[list[int]]:
    """Compact record of a set of event ids: ``[run, first event, last event, count]`` per run (JSON-ready).

    A training file's ranges are saved with the model, so that evaluate can recognise its events in another file
    (:func:`id_ranges_overlap`).
    """
    run = np.asarray(run, dtype=np.uint64).reshape(-1)
    event = np.asarray(event, dtype=np.uint64).reshape(-1)
    out = []
    for r in np.unique(run):
        ev = event[run == r]
        out.append([int(r), int(ev.min()), int(ev.max()), int(len(ev))])
    return out


def id_ranges_overlap(
    ranges: Sequence[Sequence[int]], run: np.ndarray, event: np.ndarray, *, ignore_runs: Sequence[int] = ()
) -> tuple[int, int] | None:
    """The first ``(run, event)`` of the given ids that falls inside one of ``ranges`` (:func:`id_ranges`), or None.

    Runs in ``ignore_runs`` are skipped (run 1 is shared by every sample made before ``run`` = seed + 1).
    """
    run = np.asarray(run, dtype=np.uint64).reshape(-1)
    event = np.asarray(event, dtype=np.uint64).reshape(-1)
    for item in ranges:
        r, lo, hi = (int(v) for v in item[:3])
        if r in ignore_runs:
            continue
        inside = (run == r) & (event >= lo) & (event <= hi)
        if inside.any():
            i = int(np.flatnonzero(inside)[0])
            return r, int(event[i])
    return None
