"""One generation chunk: its seeds, its Pythia -> detector -> selection run, its files and when they are complete.

A chunk is the unit of work of :func:`turbosim_hep.generation.pipeline.generate` (a local pool process or a dask
task): it has its own seeds, derived from the run seed and the chunk index only, writes ``chunk-NNNN.root`` (atomic)
and its sidecar ``chunk-NNNN.json`` (seeds, counts, cutflow, cross-section, timing), and is complete when both exist,
the sidecar's settings equal the run's and the ROOT file holds the sidecar's number of entries.

Event ids: ``run`` = seed + 1 (:func:`run_number`), ``luminosityBlock`` = chunk index + 1, ``event`` = chunk
index * chunk_size + position in the chunk *before* the selection.
"""

from __future__ import annotations

import json
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import awkward as ak
import numpy as np

from turbosim_hep.constants import LAYOUT_VERSION
from turbosim_hep.generation.assemble import build_events
from turbosim_hep.generation.detector import run_detector, warm_up
from turbosim_hep.generation.detector_card import DetectorCard
from turbosim_hep.generation.lhe_showers import shower_lhe_chunk
from turbosim_hep.generation.pythia import (
    PYTHIA_SETTINGS,
    generate_batch,
    lhef_settings,
    make_pythia,
    pythia_seed,
    sigma_pb,
)
from turbosim_hep.generation.selection import otus_selection
from turbosim_hep.io.atomic import atomic_path
from turbosim_hep.io.root import open_tree, write_events
from turbosim_hep.runtime.advice import option

__all__ = (
    "DEFAULT_BATCH_SIZE",
    "ChunkTask",
    "chunk_is_complete",
    "chunk_seeds",
    "run_chunk",
    "run_number",
    "run_spec",
)

#: Events per ``nextBatch`` call (nextBatch holds ~0.33 MB per event, REFERENCE.md §9).
DEFAULT_BATCH_SIZE = 500
#: Jet multiplicities recorded before the selection are binned 0 ... MAX_JET_BIN (the last bin holds the overflow).
MAX_JET_BIN = 15


def run_number(seed: int) -> int:
    """The ``run`` id of every event of a sample made with ``seed``: seed + 1 (``run`` 0 is avoided)."""
    return int(seed) + 1


def chunk_seeds(seed: int, chunk_index: int) -> tuple[int, int]:
    """(Pythia seed, detector seed) of a chunk, derived from the run seed and the chunk index only."""
    state = np.random.SeedSequence([int(seed), int(chunk_index)]).generate_state(2, dtype=np.uint64)
    return pythia_seed(int(state[0])), int(state[1])


@dataclass(frozen=True)
class ChunkTask:
    """Everything one worker needs to make one chunk (picklable)."""

    index: int
    n_events: int
    first_event: int
    pythia_seed: int
    detector_seed: int
    select: bool
    card: DetectorCard
    root_path: str
    sidecar_path: str
    spec: dict
    batch_size: int = DEFAULT_BATCH_SIZE
    #: Les Houches file of the chunk's kept events (``generate(lhe=...)``), and their positions in the original file.
    lhe: str | None = None
    lhe_positions: tuple[int, ...] = ()


def run_chunk(task: ChunkTask, report: Callable[[int], None] | None = None) -> dict:
    """Generate, simulate, select and write one chunk; return its sidecar record.

    ``report(n)`` is called after every batch with the number of events just generated.
    """

    t_start = time.perf_counter()
    timing = {"pythia_s": 0.0, "detector_s": 0.0, "clustering_s": 0.0, "events_s": 0.0, "write_s": 0.0}
    t = time.perf_counter()
    pythia = make_pythia(task.pythia_seed, settings=PYTHIA_SETTINGS if task.lhe is None else lhef_settings(task.lhe))
    warm_up(task.card)
    timing["init_s"] = time.perf_counter() - t
    rng = np.random.default_rng(task.detector_seed)
    pythia_failed = 0
    if task.lhe is not None:
        events, pythia_failed = shower_lhe_chunk(pythia, task, task.card, rng, timing, report)
    else:
        parts = []
        done = 0
        while done < task.n_events:
            n = min(task.batch_size, task.n_events - done)
            t = time.perf_counter()
            batch = generate_batch(pythia, n)
            timing["pythia_s"] += time.perf_counter() - t
            det = run_detector(batch, task.card, rng)
            timing["detector_s"] += det.timing["detector_s"]
            timing["clustering_s"] += det.timing["clustering_s"]
            t = time.perf_counter()
            parts.append(
                build_events(
                    batch, det, first_event=task.first_event + done, luminosity_block=task.index + 1,
                    run=task.spec["run"],
                )
            )  # fmt: skip
            timing["events_s"] += time.perf_counter() - t
            done += n
            if report is not None:
                report(n)
        events = ak.concatenate(parts) if len(parts) > 1 else parts[0]
    mask, cutflow = otus_selection(events)
    n_jet = np.minimum(ak.to_numpy(ak.num(events["Jet"], axis=1)), MAX_JET_BIN)
    lepton_ok = ak.to_numpy(ak.num(events["Electron"], axis=1)) == 1
    lepton_ok &= (ak.to_numpy(events["isoMuonCount"]) == 0) & (ak.to_numpy(events["isoPhotonCount"]) == 0)
    jet_multiplicity = {
        "all": np.bincount(n_jet, minlength=MAX_JET_BIN + 1).tolist(),
        "one_electron_no_muon_no_photon": np.bincount(n_jet[lepton_ok], minlength=MAX_JET_BIN + 1).tolist(),
    }
    if task.select:
        events = events[mask]
    t = time.perf_counter()
    write_events(task.root_path, events)
    timing["write_s"] = time.perf_counter() - t
    sigma, sigma_err = sigma_pb(pythia)
    timing["total_s"] = time.perf_counter() - t_start
    record = {
        "chunk": task.index,
        "n_generated": task.n_events,
        "n_written": len(events),
        "pythia_failed": pythia_failed,
        "first_event": task.first_event,
        "pythia_seed": task.pythia_seed,
        "detector_seed": task.detector_seed,
        "sigma_pb": sigma,
        "sigma_err_pb": sigma_err,
        "cutflow": cutflow,
        "jet_multiplicity": jet_multiplicity,
        "timing": timing,
        "spec": task.spec,
    }
    with atomic_path(task.sidecar_path) as tmp:
        tmp.write_text(json.dumps(record, indent=1) + "\n")
    return record


def _recorded_spec(record: dict) -> dict:
    """A chunk sidecar's run spec; specs written before ``batch_size`` was recorded used the default (500)."""
    spec = dict(record.get("spec", {}))
    if spec:
        spec.setdefault("batch_size", DEFAULT_BATCH_SIZE)
    return spec


def chunk_is_complete(root: Path, sidecar: Path, spec: dict, n_events: int) -> dict | None:
    """The sidecar record if the chunk is complete and made with ``spec``; None if it must be (re)made.

    A chunk made with other settings is refused (``ValueError``), and so is a complete chunk of another size:
    growing or shrinking it would replace events already made (the detector's draws follow the batches, so even its
    first events would change). A sample is extended by whole chunks: a larger ``n_events`` adds chunks after the
    last full one.
    """
    if not (root.exists() and sidecar.exists()):
        return None
    try:
        record = json.loads(sidecar.read_text())
    except (OSError, json.JSONDecodeError):
        return None
    recorded = _recorded_spec(record)
    if recorded != spec:
        diff = sorted(k for k in set(spec) | set(recorded) if spec.get(k) != recorded.get(k))
        why = (
            " (it was made before run ids came from the seed: its events have run = 1)"
            if "run" not in record.get("spec", {})
            else ""
        )
        given = ", ".join(f"{k}={spec.get(k)!r} (recorded {recorded.get(k)!r})" for k in diff if k != "card")
        raise ValueError(
            f"{str(root)!r} was made with other settings (differing: {given or ', '.join(diff)}){why}; use a new "
            "output directory or rerun with the original settings"
        )
    try:
        entries = open_tree(root).num_entries
    except ValueError:
        return None
    if entries != record.get("n_written"):
        return None
    if record.get("n_generated") != n_events:
        events = option(python="n_events", cli="--events")
        raise ValueError(
            f"{str(root)!r} is a complete chunk of {record.get('n_generated')!r} generated events, but this run needs "
            f"{n_events} in it; a sample grows by whole chunks only (resizing a chunk changes its events): rerun with "
            f"{events} {record.get('first_event', 0) + record.get('n_generated', 0)} (as made), or choose another "
            "output directory"
        )
    return record


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for pkg in ("turbosim-hep", "pythia8mc", "fastjet", "awkward", "uproot", "numpy", "vector", "coffea"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def run_spec(
    seed: int, chunk_size: int, select: bool, card: DetectorCard, batch_size: int = DEFAULT_BATCH_SIZE
) -> dict:
    return json.loads(
        json.dumps(
            {
                "seed": int(seed),
                "run": run_number(seed),
                "chunk_size": int(chunk_size),
                # the detector's random draws follow the batches: a resume with another batch size would mix streams
                "batch_size": int(batch_size),
                "select": bool(select),
                "selection": "otus_selection" if select else None,
                "layout_version": LAYOUT_VERSION,
                "pythia_settings": list(PYTHIA_SETTINGS),
                "pythia8mc": versions()["pythia8mc"],
                "card": card.to_dict(),
            }
        )
    )


#: Per-process state of a generation worker, set once by :func:`_init_worker` (the progress queue and the parent's
