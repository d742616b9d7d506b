"""The full chain from a Les Houches file: Pythia showers and hadronises its t tbar events, then the detector.

``turbosim generate --lhe run.lhe.gz`` splits the file into chunks of ``chunk_size`` events; each chunk's kept
events (e- nubar_e b bbar u dbar, :func:`turbosim_hep.io.lhe.read_lhe`'s choice) are written to a file of their own
that one Pythia instance reads (``Beams:frameType = 4``, REFERENCE.md §11), with the chunk's own seeds. The parton
truth is the file's decay products, exactly as ``read_lhe`` gives them, and the ids are the same
(``run`` from the option, ``luminosityBlock`` 1, ``event`` = position in the file), so ``turbosim simulate
run.lhe.gz`` and ``turbosim generate --lhe run.lhe.gz`` describe the same events under the same ids.

Pythia may fail an event (rare); it then reads the next one. Each showered event is matched to its Les Houches event
by the t and tbar momenta, which Pythia keeps unchanged in event-record lines 5 and 6, and failures are counted.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from pathlib import Path

import awkward as ak
import numpy as np

from turbosim_hep.generation.assemble import build_events
from turbosim_hep.generation.detector import run_detector
from turbosim_hep.generation.pythia import particle_batch
from turbosim_hep.io.lhe import read_lhe

__all__ = ("lhe_record", "match_showered", "shower_lhe_chunk", "split_lhe")

#: Relative tolerance of the top-momentum match (the file is written with 17 significant digits: exact in practice).
_MATCH_RTOL = 1e-9


def split_lhe(lhe, out: Path, spec: dict, *, chunk_size: int, strict: bool, max_events: int | None) -> list:
    """Write each chunk's kept events to ``out/.lhe-chunk-NNNN.lhe`` and record the file in the run ``spec``.

    Returns the :class:`~turbosim_hep.io.lhe_write.LheChunk` list; a chunk without an event of the channel is a
    ``ValueError`` (Pythia needs at least one event).
    """
    from turbosim_hep.generation.pythia import lhef_settings
    from turbosim_hep.io.digests import file_sha256
    from turbosim_hep.io.lhe_write import split_kept

    lhe = Path(lhe)
    spec.update(
        lhe={"file": lhe.name, "sha256": file_sha256(lhe), "strict": bool(strict), "max_events": max_events},
        pythia_settings=[*lhef_settings("<lhe chunk>")],
    )
    chunks = split_kept(lhe, chunk_size, out, strict=strict, max_events=max_events)
    empty = [c for c in chunks if not c.positions]
    if empty:
        first = empty[0].index * chunk_size
        raise ValueError(
            f"{str(lhe)!r}: events {first} ... {first + empty[0].n_read - 1} hold no t t~ -> e- ve~ b b~ u d~ "
            f"event ({empty[0].skipped!r}); a chunk needs at least one: use a larger --chunk-size"
        )
    return chunks


def lhe_record(chunks: list, records: list[dict], spec: dict) -> dict:
    """The ``lhe`` entry of ``provenance.json``: the file, events read and kept, skipped channels, Pythia's failures
    and the one-line summary."""
    from turbosim_hep.io.lhe import skip_summary

    skipped: dict[str, int] = {}
    for c in chunks:
        for k, v in c.skipped.items():
            skipped[k] = skipped.get(k, 0) + v
    n_read = sum(c.n_read for c in chunks)
    n_kept = sum(len(c.positions) for c in chunks)
    return {
        **spec["lhe"],
        "n_read": n_read,
        "n_kept": n_kept,
        "skipped_channels": skipped,
        "pythia_failed": sum(r.get("pythia_failed", 0) for r in records),
        "summary": skip_summary(spec["lhe"]["file"], n_read, n_kept, skipped),
    }


def _showered_top_pz(batch: ak.Array) -> np.ndarray:
    """``(n, 2)`` pz [GeV] of the t and tbar in event-record lines 5 and 6 of a ``nextBatch`` record."""
    prt = batch["prt"]
    ids = ak.to_numpy(prt["id"][:, 5:7])
    pz = ak.to_numpy(prt["p"]["pz"][:, 5:7])
    return np.where(ids[:, :1] == 6, pz, pz[:, ::-1])


def match_showered(showered: np.ndarray, source: np.ndarray) -> np.ndarray:
    """Index into ``source`` ``(m, 2)`` of each row of ``showered`` ``(n, 2)`` (top pz), in order; a row of
    ``source`` with no partner was an event Pythia failed. ``ValueError`` when an event finds no partner."""
    out = np.empty(len(showered), dtype=np.int64)
    j = 0
    for i, row in enumerate(showered):
        while j < len(source) and not np.allclose(row, source[j], rtol=_MATCH_RTOL, atol=1e-9):
            j += 1
        if j == len(source):
            raise ValueError(
                f"showered event {i} matches no Les Houches event by its top momenta; the record Pythia read is not "
                "the one split from the file"
            )
        out[i] = j
        j += 1
    return out


def shower_lhe_chunk(
    pythia, task, card, rng: np.random.Generator, timing: dict, report: Callable[[int], None] | None = None
) -> tuple[ak.Array, int]:
    """Shower, hadronise and detect every event of the chunk's Les Houches file; (events, Pythia failures).

    The events carry the ids and ``genWeight`` of :func:`~turbosim_hep.io.lhe.read_lhe` and its partons.
    """

    sample = read_lhe(task.lhe, run=task.spec["run"])
    positions = np.asarray(task.lhe_positions, dtype=np.uint64)
    if len(sample.events) != len(positions):
        raise ValueError(f"{task.lhe!r}: {len(sample.events)} events where the split wrote {len(positions)}")
    parts = []
    done = 0
    info = pythia.infoPython()
    while done < len(positions):
        t = time.perf_counter()
        batch = pythia.nextBatch(min(task.batch_size, len(positions) - done), "skip")
        timing["pythia_s"] += time.perf_counter() - t
        if len(batch) == 0:
            if info.atEndOfFile():
                break
            continue
        rows = match_showered(_showered_top_pz(batch), sample.top_pz[done:]) + done
        showered = particle_batch(pythia, batch)
        showered = dataclasses.replace(showered, partons=sample.p4[rows], parton_masses=sample.masses[rows])
        det = run_detector(showered, card, rng)
        timing["detector_s"] += det.timing["detector_s"]
        timing["clustering_s"] += det.timing["clustering_s"]
        t = time.perf_counter()
        events = build_events(showered, det, first_event=0, luminosity_block=1, run=task.spec["run"])
        events = ak.with_field(events, positions[rows], "event")
        events = ak.with_field(events, ak.to_numpy(sample.events["genWeight"])[rows], "genWeight")
        parts.append(events)
        timing["events_s"] += time.perf_counter() - t
        n_consumed = int(rows[-1]) + 1 - done
        done = int(rows[-1]) + 1
        if report is not None:
            report(n_consumed)
    if not parts:
        raise RuntimeError(f"Pythia showered none of the {len(positions)} events of {task.lhe!r}")
    events = ak.concatenate(parts) if len(parts) > 1 else parts[0]
    return events, len(positions) - len(events)
