"""Generation chunks as tasks on a ``dask.distributed`` cluster: one task per chunk, the local pool's seeds and files.

Each task is :func:`~turbosim_hep.generation.chunks.run_chunk` on one :class:`ChunkTask`, so a chunk's events
depend only on the run seed and the chunk index, and a sample made on a cluster has the same arrays as one made
serially or with the local pool. The worker writes the chunk itself (ROOT file, then its sidecar, each to a
unique temporary file renamed into place), so the output directory must be seen by every worker at the same
absolute path (a shared filesystem); this process only collects the small sidecar records.

Retries are safe: a task whose worker dies is rerun by the scheduler (up to ``distributed.scheduler.allowed-failures``
times, 3 by default), and one that raises is rerun up to :data:`CHUNK_RETRIES` times; an attempt rewrites the same
events, and two attempts of a chunk running at once (a worker presumed lost but still running) each rename a
complete file of their own onto the same name. Workers should run one thread each
(:mod:`~turbosim_hep.runtime.cluster`).
"""

from __future__ import annotations

import socket
import uuid
import warnings
from pathlib import Path

from turbosim_hep.generation.chunks import ChunkTask, run_chunk
from turbosim_hep.runtime.cluster import run_tasks

__all__ = ("CHUNK_RETRIES", "describe_client", "run_chunk_task", "run_on_client")

#: Reruns of a chunk task that raised (a transient filesystem error, say); a lost worker is counted separately.
CHUNK_RETRIES = 2


def run_chunk_task(task: ChunkTask) -> dict:
    """Make one chunk on a dask worker and return its sidecar record (:func:`run_chunk` without progress reports)."""
    out_dir = Path(task.root_path).parent
    if not out_dir.is_dir():
        raise FileNotFoundError(
            f"the dask worker on {socket.gethostname()!r} does not see the output directory {str(out_dir)!r}; "
            "workers must see it at the same path: put it on a filesystem shared with them"
        )
    return run_chunk(task)


def describe_client(client) -> str:
    """``"dask.distributed (N workers)"``, for the provenance."""
    return f"dask.distributed ({len(client.nthreads())} workers)"


def run_on_client(client, tasks: list[ChunkTask], bar, *, description: str, n_chunks: int) -> dict[int, dict]:
    """Run ``tasks`` on ``client``'s cluster; return their records by chunk index.

    ``bar`` advances by a chunk's generated events when it finishes, and its description counts the chunks done
    out of ``n_chunks`` (those complete before this run included). On an error or an interrupt the chunks still
    queued are cancelled; the complete ones stay on disk for a rerun.
    """
    threads = client.nthreads()
    if any(n > 1 for n in threads.values()):
        warnings.warn(
            f"dask workers with {max(threads.values())} threads run several chunks in one process, which is not "
            "faster (the GIL) and not checked for thread safety; start workers with one thread "
            "(dask worker --nthreads 1, LocalCluster(threads_per_worker=1))",
            stacklevel=3,
        )
    run_id = uuid.uuid4().hex[:8]  # a new key per run: a rerun must not be answered with a result the cluster holds
    records: dict[int, dict] = {}
    done = n_chunks - len(tasks)
    bar.update(description=f"{description} (chunk {done}/{n_chunks})")

    def finished(task: ChunkTask, record: dict) -> None:
        nonlocal done
        if not Path(task.root_path).exists():
            raise FileNotFoundError(
                f"a dask worker wrote {task.root_path!r}, but this machine does not see it; workers must see the "
                "output directory at the same path: put it on a filesystem shared with them"
            )
        records[task.index] = record
        done += 1
        bar.advance(record["n_generated"])
        bar.update(description=f"{description} (chunk {done}/{n_chunks})")

    run_tasks(
        client,
        run_chunk_task,
        tasks,
        keys=[f"turbosim-chunk-{t.index:04d}-{run_id}" for t in tasks],
        retries=CHUNK_RETRIES,
        on_result=finished,
        lost=lambda t: (
            f"chunk {t.index} was lost with its worker too many times "
            "(distributed.scheduler.allowed-failures); complete chunks are kept: rerun to resume"
        ),
    )
    return records
