"""Chunked, parallel, resumable generation: Pythia -> detector -> selection -> ``DIR/chunk-NNNN.root``.

Layout of an output directory::

    DIR/chunk-0000.root   events of generated ids 0 ... chunk_size-1 that pass the selection (atomic write)
    DIR/chunk-0000.json   sidecar: seeds, counts, cutflow, cross-section, timing; written after the ROOT file
    ...
    DIR/fileset.json      {"ttbar": {"files": {"/abs/DIR/chunk-0000.root": "Events", ...}, "metadata": {...}}}
    DIR/provenance.json   versions, Pythia settings, detector card, seeds, cross-section, summed cutflow, timing
    DIR/plots/*.png       with ``plots=True``

Chunks run serially, on a local pool of spawned worker processes, or as one task each on a ``dask.distributed``
cluster (``client=``, :mod:`turbosim_hep.generation.dask_runner`), whose workers write the chunk files themselves and
so must see the output directory at the same path. Every chunk has its own seeds, derived from the run seed and the
chunk index only, so a chunk's events do not depend on the executor, the number of workers, the order chunks finish
in, interruptions or retries. A chunk is complete when both files exist, the sidecar's settings equal the run's,
and the ROOT file holds the sidecar's number of entries; a rerun skips complete chunks, remakes incomplete ones and
refuses a directory made with other settings.

Event ids: ``run`` = seed + 1 (:func:`run_number`), ``luminosityBlock`` = chunk index + 1, ``event`` = chunk
index * chunk_size + position in the chunk *before* the selection, so ids are stable whatever the selection keeps
and two samples made with different seeds never share an id (their per-event noise and split differ too). Samples
made before this rule have ``run`` = 1; extending one is refused (the run spec differs in ``run``).

Limits: at most :data:`MAX_EVENTS` events and :data:`MAX_CHUNKS` chunk files per directory; seeds 0 ...
:data:`MAX_SEED` (``run`` is a uint32).
"""

from __future__ import annotations

import concurrent.futures as cf
import json
import math
import multiprocessing
import os
import queue
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from turbosim_hep.constants import TREE_NAME
from turbosim_hep.generation.chunks import (
    DEFAULT_BATCH_SIZE,
    ChunkTask,
    chunk_is_complete,
    chunk_seeds,
    run_chunk,
    run_spec,
    versions,
)
from turbosim_hep.generation.dask_runner import describe_client, run_on_client
from turbosim_hep.generation.detector_card import DetectorCard
from turbosim_hep.io.atomic import atomic_path
from turbosim_hep.io.locks import directory_lock
from turbosim_hep.runtime.advice import option
from turbosim_hep.runtime.progress import progress_bar
from turbosim_hep.runtime.seeds import MAX_SEED as _MAX_SEED
from turbosim_hep.runtime.seeds import check_seed

if TYPE_CHECKING:
    from distributed import Client

__all__ = ("generate",)

#: Name of the dataset in ``fileset.json``.
DATASET_NAME = "ttbar"

#: Largest run seed: ``run`` = seed + 1 must fit NanoAOD's uint32 (one rule for all: :mod:`turbosim_hep.runtime.seeds`).
MAX_SEED = _MAX_SEED
#: Largest sample one call makes: 10^10 events are ~1600 core-years of Pythia (~5 ms per event per core).
MAX_EVENTS = 10**10
#: Most chunk files in one directory (a larger chunk_size keeps the listing and fileset.json manageable).
MAX_CHUNKS = 100_000
#: Pythia + detector cost per event on one core [s] (REFERENCE.md, measured), for the time estimate printed.
SECONDS_PER_EVENT = 5e-3

#: pid); a multiprocessing queue can only reach pool workers through their initializer.
_WORKER: dict = {}


def _init_worker(progress_queue, parent_pid: int) -> None:
    _WORKER.update(queue=progress_queue, parent_pid=parent_pid)


def _worker_run(task: ChunkTask) -> dict:
    def report(n: int) -> None:
        # a worker whose parent was killed (SIGTERM, OOM) is re-parented: exit at once rather than generate unseen
        # chunks (an exception would only return to the pool loop, which then waits forever); the unfinished chunk's
        # temporary file is removed by the next run
        if os.getppid() != _WORKER["parent_pid"]:
            os._exit(1)
        _WORKER["queue"].put(n)

    return run_chunk(task, report=report)


def _check_args(n_events: int, workers: int, seed: int, chunk_size: int, batch_size: int) -> None:
    for name, flag, value in (
        ("n_events", "--events", n_events),
        ("workers", "--workers", workers),
        ("chunk_size", "--chunk-size", chunk_size),
        ("batch_size", "--batch-size", batch_size),
    ):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
            raise ValueError(f"{option(python=name, cli=flag)} must be an integer >= 1, got {value!r}")
    check_seed(seed)
    if n_events > MAX_EVENTS:
        raise ValueError(
            f"{option(python='n_events', cli='--events')} {n_events:,} is more than {MAX_EVENTS:,} "
            f"(~{n_events * SECONDS_PER_EVENT / 3.15e7:,.0f} core-years); split the sample into several runs with "
            "different seeds"
        )
    if math.ceil(n_events / chunk_size) > MAX_CHUNKS:
        raise ValueError(
            f"{n_events:,} events in chunks of {chunk_size:,} make {math.ceil(n_events / chunk_size):,} files, more "
            f"than {MAX_CHUNKS:,}; use a {option(python='chunk_size', cli='--chunk-size')} of at least "
            f"{math.ceil(n_events / MAX_CHUNKS):,}"
        )


def generate(
    n_events: int | None,
    out: str | Path,
    *,
    lhe: str | os.PathLike | None = None,
    run: int | None = None,
    strict: bool = False,
    workers: int | None = None,
    client: Client | None = None,
    seed: int = 1,
    chunk_size: int = 5000,
    select: bool = True,
    card: DetectorCard | None = None,
    plots: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: bool | None = None,
    log: Callable[[str], None] | None = None,
) -> Path:
    """Generate ``n_events`` pp -> t tbar -> e- nubar b bbar u dbar events into the directory ``out``.

    Parameters
    ----------
    n_events : int or None
        Events to generate (before the selection); with ``lhe``, the most events to read from the file (None: all).
    out : str or Path
        Output directory (created); see the module docstring for its layout. Rerunning with the same settings
        resumes: complete chunks are kept, and a larger ``n_events`` extends the sample.
    workers : int or None
        Worker processes (spawned) on this machine; None or 1 runs in this process. Not with ``client``.
    client : distributed.Client or None
        Run one task per chunk on this dask cluster instead (:func:`~turbosim_hep.runtime.cluster.open_client`).
        Its workers write the chunks, so ``out`` must be on a filesystem they share, at the same path; start them
        with one thread each. The events are the same as with the local pool.
    seed : int
        Run seed (>= 0); each chunk's seeds derive from it and the chunk index.
    chunk_size : int
        Generated events per chunk file (5000-10000 keeps files large and restarts cheap).
    select : bool
        Keep only events passing :func:`~turbosim_hep.generation.selection.otus_selection` (default), else all.
    card : DetectorCard
        Detector numbers; default the Delphes CMS card (R = 0.5).
    lhe : path or None
        Shower the t tbar events of this Les Houches file (``.lhe`` or ``.lhe.gz``, e.g. from MadGraph) instead of
        making hard processes with Pythia (:mod:`turbosim_hep.generation.lhe_showers`): the partons and ids are
        those of :func:`turbosim_hep.io.lhe.read_lhe`, chunk k holds the file's events k * chunk_size ... ; events
        of other channels are counted and skipped (``strict``: refused).
    run : int or None
        The ``run`` id of every event; default seed + 1 (:func:`run_number`), with ``lhe`` 1 (as ``turbosim
        simulate FILE.lhe``). Give it to remake a sample made before run ids came from the seed (``run = 1``).
    strict : bool
        With ``lhe``: refuse an event of another decay channel instead of skipping it.
    plots : bool
        Write validation plots to ``out/plots``.
    batch_size : int
        Events per Pythia ``nextBatch`` call.
    progress : bool or None
        Show a progress bar (None: when stderr is a terminal).
    log : callable or None
        Receives one line before the work starts: events, chunks, chunks already complete, estimated core-hours.

    Returns
    -------
    Path
        ``out``.

    Example
    -------
    >>> from turbosim_hep import generate
    >>> generate(2000, "ttbar-small", workers=2, seed=7)  # doctest: +SKIP
    >>> from turbosim_hep.runtime.cluster import open_client
    >>> with open_client("local:2") as client:  # doctest: +SKIP
    ...     generate(2000, "ttbar-small", client=client, seed=7)
    """

    if workers is not None and client is not None:
        raise ValueError(
            f"got workers={workers!r} and a dask client; the cluster's workers run the chunks: pass one of them"
        )
    workers = 1 if workers is None else workers
    if lhe is None and n_events is None:
        raise ValueError("give the number of events to generate, or a Les Houches file (lhe=) to shower")
    _check_args(1 if n_events is None else n_events, workers, seed, chunk_size, batch_size)
    card = DetectorCard() if card is None else card
    if not isinstance(card, DetectorCard):
        raise TypeError(f"card must be a DetectorCard, got {type(card).__name__}")
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise FileExistsError(f"{str(out)!r} exists and is not a directory; choose another output directory")
    with directory_lock(out, verb="generate", flag=option(python="out", cli="--out")):
        _remove_temporaries(out)
        spec = run_spec(seed, chunk_size, select, card, batch_size)
        if run is not None or lhe is not None:
            run = 1 if run is None else run
            if isinstance(run, bool) or not isinstance(run, int | np.integer) or not 0 <= run < 2**32:
                raise ValueError(f"run must be an integer in 0 ... 2**32 - 1, got {run!r}")
            spec["run"] = int(run)
        lhe_chunks = None
        if lhe is not None:
            from turbosim_hep.generation.lhe_showers import split_lhe

            try:
                lhe_chunks = split_lhe(lhe, out, spec, chunk_size=chunk_size, strict=strict, max_events=n_events)
            except ValueError:
                _remove_temporaries(out)
                raise
            n_events = sum(c.n_read for c in lhe_chunks)
        t_start = time.perf_counter()
        out_abs = out.resolve()  # the tasks' paths: workers may run in another directory or on another machine
        n_chunks = math.ceil(n_events / chunk_size)
        records: dict[int, dict] = {}
        tasks: list[ChunkTask] = []
        for i in range(n_chunks):
            n = min(chunk_size, n_events - i * chunk_size) if lhe_chunks is None else len(lhe_chunks[i].positions)
            root, sidecar = out_abs / f"chunk-{i:04d}.root", out_abs / f"chunk-{i:04d}.json"
            done = chunk_is_complete(root, sidecar, spec, n)
            if done is not None:
                records[i] = done
                continue
            p_seed, d_seed = chunk_seeds(seed, i)
            extra = {}
            if lhe_chunks is not None:
                extra = {"lhe": str(lhe_chunks[i].path.resolve()), "lhe_positions": lhe_chunks[i].positions}
            tasks.append(
                ChunkTask(
                    i, n, i * chunk_size, p_seed, d_seed, select, card, str(root), str(sidecar), spec, batch_size,
                    **extra,
                )
            )  # fmt: skip
        skipped = sum(r["n_generated"] for r in records.values())
        if log is not None:
            seconds = (n_events - skipped) * SECONDS_PER_EVENT
            cost = f"{seconds / 3600:,.1f} core-hours" if seconds >= 3600 else f"{seconds / 60:.1f} core-minutes"
            where = "a dask cluster" if client is not None else f"{workers} worker(s)"
            log(
                f"{n_events:,} events in {n_chunks:,} chunk(s) into {out} ({len(records)} complete, {len(tasks)} to "
                f"make: about {cost} at {1e3 * SECONDS_PER_EVENT:.0f} ms per event, {where})"
            )
        description = f"generating into {out.name}"
        executor = "serial" if tasks else "none (every chunk was complete)"
        with progress_bar(n_events, description, disable=None if progress is None else not progress) as bar:
            bar.advance(skipped)
            if tasks and client is not None:
                executor = describe_client(client)
                records.update(run_on_client(client, tasks, bar, description=description, n_chunks=n_chunks))
                _remove_temporaries(out)  # left by attempts lost with their worker
            elif tasks and workers == 1:
                for task in tasks:
                    records[task.index] = run_chunk(task, report=bar.advance)
            elif tasks:
                executor = f"local pool ({min(workers, len(tasks))} workers)"
                records.update(_run_parallel(tasks, workers, bar))
        ordered = [records[i] for i in range(n_chunks)]
        made = {"chunks": len(tasks), "events": sum(t.n_events for t in tasks), "executor": executor}
        extra = None
        if lhe_chunks is not None:
            from turbosim_hep.generation.lhe_showers import lhe_record

            _remove_temporaries(out)
            extra = {"lhe": lhe_record(lhe_chunks, ordered, spec)}
            if log is not None:
                log(extra["lhe"]["summary"])
        _write_outputs(out, ordered, spec, card, n_events, time.perf_counter() - t_start, made, extra)
        if plots:
            from turbosim_hep.generation.plots import validation_plots

            validation_plots(out)
        return out


def _remove_temporaries(out: Path) -> None:
    """Remove the temporary files of chunk writes that never finished (a crash, a killed worker) and the per-chunk
    Les Houches files of a ``lhe=`` run."""
    for pattern in (".chunk-*.tmp", ".lhe-chunk-*.lhe"):
        for stale in out.glob(pattern):
            stale.unlink(missing_ok=True)


def _run_parallel(tasks: list[ChunkTask], workers: int, bar) -> dict[int, dict]:
    ctx = multiprocessing.get_context("spawn")
    records = {}
    progress_queue = ctx.Queue()
    pool = cf.ProcessPoolExecutor(
        max_workers=min(workers, len(tasks)),
        mp_context=ctx,
        initializer=_init_worker,
        initargs=(progress_queue, os.getpid()),
    )
    try:
        futures = {pool.submit(_worker_run, task): task for task in tasks}
        pending = set(futures)
        while pending:
            finished, pending = cf.wait(pending, timeout=0.5, return_when=cf.FIRST_COMPLETED)
            _drain(progress_queue, bar)
            for fut in finished:
                record = fut.result()
                records[record["chunk"]] = record
        _drain(progress_queue, bar)
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return records


def _drain(progress_queue, bar) -> None:
    while True:
        try:
            bar.advance(progress_queue.get_nowait())
        except queue.Empty:
            return


def _write_outputs(
    out: Path,
    records: list[dict],
    spec: dict,
    card: DetectorCard,
    n_events: int,
    wall_s: float,
    made: dict,
    extra: dict | None = None,
) -> None:

    n_gen = sum(r["n_generated"] for r in records)
    weights = np.array([r["n_generated"] for r in records], dtype=float)
    sigma = float(np.average([r["sigma_pb"] for r in records], weights=weights))
    sigma_err = float(np.sqrt(np.sum((weights * [r["sigma_err_pb"] for r in records]) ** 2)) / weights.sum())
    cutflow: dict[str, int] = {}
    for r in records:
        for k, v in r["cutflow"].items():
            cutflow[k] = cutflow.get(k, 0) + v
    with_mult = [r["jet_multiplicity"] for r in records if "jet_multiplicity" in r]
    multiplicity = {k: np.sum([m[k] for m in with_mult], axis=0).tolist() for k in with_mult[0]} if with_mult else None
    timing_sum: dict[str, float] = {}
    for r in records:
        for k, v in r["timing"].items():
            timing_sum[k] = timing_sum.get(k, 0.0) + v
    files = {str((out / f"chunk-{r['chunk']:04d}.root").resolve()): TREE_NAME for r in records}
    fileset = {DATASET_NAME: {"files": files, "metadata": {"xsec_pb": sigma, "n_generated": n_gen}}}
    worker_s = timing_sum.get("total_s", 0.0)
    provenance = {
        "what": "pp -> t tbar -> (b u dbar)(bbar e- nubar_e), 13 TeV, Pythia 8 + parametric Delphes-CMS detector",
        "versions": versions(),
        "n_events_generated": n_gen,
        "n_events_written": sum(r["n_written"] for r in records),
        "selection": spec["selection"],
        "seed": spec["seed"],
        "run": spec["run"],
        "chunk_size": spec["chunk_size"],
        "pythia_settings": spec["pythia_settings"],
        "detector_card": card.to_dict(),
        "cross_section_pb": sigma,
        "cross_section_err_pb": sigma_err,
        "cutflow": cutflow,
        "jet_multiplicity_before_selection": multiplicity,
        "chunks": [
            {k: r[k] for k in ("chunk", "n_generated", "n_written", "first_event", "pythia_seed", "detector_seed")}
            for r in records
        ],
        "timing": {
            "wall_s_last_invocation": wall_s,
            "chunks_made_last_invocation": made["chunks"],
            "events_made_last_invocation": made["events"],
            "executor_last_invocation": made["executor"],
            "worker_seconds_all_chunks": timing_sum,
            "events_per_worker_second": n_gen / worker_s if worker_s else None,
        },
        "notes": "Jet_partonIdx: index (2..5) of the quark within Delta R 0.4 of the jet, else -1. "
        "isoMuonCount/isoPhotonCount: isolated identified muons/photons per event.",
        **(extra or {}),
    }
    for name, payload in (("fileset.json", fileset), ("provenance.json", provenance)):
        with atomic_path(out / name) as tmp:
            tmp.write_text(json.dumps(payload, indent=2) + "\n")
