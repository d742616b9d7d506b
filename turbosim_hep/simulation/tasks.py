"""``simulate_files`` on a ``dask.distributed`` cluster: one task per input file, the model loaded once per worker.

Each task runs :func:`~turbosim_hep.simulation.file_job.simulate_file` on the worker, which reads the input and
writes the
output and its sidecar itself (temporary file renamed into place), so inputs and the output directory must be seen
by every worker at the same absolute path (a shared filesystem). The per-event noise is keyed on the event ids and
the seed, so the outputs equal those of a serial run. A retried task (a lost worker) rewrites the same events.
Workers should run one thread each (:mod:`turbosim_hep.runtime.cluster`); the model runs with one torch thread.
"""

from __future__ import annotations

import socket
import uuid
from pathlib import Path

from turbosim_hep.runtime.cluster import run_tasks
from turbosim_hep.simulation.file_job import simulate_file
from turbosim_hep.simulation.worker_cache import cached_transform

__all__ = ("run_on_client", "simulate_task")

#: Reruns of a file task that raised; a lost worker is counted by distributed's ``allowed-failures``.
FILE_RETRIES = 2


def simulate_task(job: dict) -> str:
    """Simulate one file on a dask worker (``job``: src, dst, tree, record, model, seed, device, n_samples,
    step_size); returns the output path."""
    dst = Path(job["dst"])
    for path, what in ((Path(job["src"]), "input file"), (dst.parent, "output directory")):
        if not path.exists():
            raise FileNotFoundError(
                f"the dask worker on {socket.gethostname()!r} does not see the {what} {str(path)!r}; workers must see "
                "it at the same path: put it on a filesystem shared with them"
            )
    transform = cached_transform(job["model"], seed=job["seed"], device=job["device"], threads=1)
    simulate_file(
        Path(job["src"]),
        dst,
        transform,
        tree=job["tree"],
        record=job["record"],
        n_samples=job["n_samples"],
        step_size=job["step_size"],
    )
    return str(dst)


def run_on_client(client, jobs: list[dict], bar) -> None:
    """Run the file ``jobs`` on ``client``'s cluster; ``bar`` advances by a file's parton events when it finishes.

    On an error or an interrupt the files still queued are cancelled; finished ones stay complete for a rerun.
    """
    run_id = uuid.uuid4().hex[:8]  # a new key per run: a rerun must not be answered with a result the cluster holds
    run_tasks(
        client,
        simulate_task,
        jobs,
        keys=[f"turbosim-simulate-{i:05d}-{run_id}" for i in range(len(jobs))],
        retries=FILE_RETRIES,
        on_result=lambda job, _: bar.advance(job["record"]["input_entries"]),
        lost=lambda job: (
            f"simulating {job['src']!r} was lost with its worker too many times; finished files are "
            "kept: rerun to resume"
        ),
    )
