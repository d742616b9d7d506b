"""Dask clients for scale-out: ``open_client("local:4")`` here, ``open_client("tcp://host:8786")`` on a cluster.

``distributed`` is imported only here and only when a client is asked for, so ``import turbosim_hep`` stays light.
Workers should run one thread each: the chunk and file tasks hold the GIL most of the time (threads gain nothing)
and the generation stack (Pythia, fastjet, numba kernels) is not checked for thread safety.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from distributed import Client

__all__ = ("distributed_module", "local_workers", "open_client", "run_tasks")

#: Seconds to wait for a remote scheduler to answer before giving up.
CONNECT_TIMEOUT_S = 30


def distributed_module():
    """The ``distributed`` module, or a one-line ``ModuleNotFoundError`` that says how to install it."""
    try:
        import distributed
    except ImportError as err:
        raise ModuleNotFoundError(
            "running on a dask cluster needs the 'distributed' package: pip install 'turbosim-hep[dask]'"
        ) from err
    return distributed


def local_workers(scheduler: str) -> int | None:
    """Worker count of a ``"local"`` / ``"local:N"`` spec (``"local"``: one per usable core); None for an address."""
    if scheduler != "local" and not scheduler.startswith("local:"):
        return None
    if scheduler == "local":
        return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    count = scheduler.removeprefix("local:")
    if not count.isdigit() or int(count) < 1:
        raise ValueError(
            f"scheduler {scheduler!r}: expected 'local', 'local:N' with N >= 1 workers, or an address such as "
            "'tcp://host:8786'"
        )
    return int(count)


@contextlib.contextmanager
def open_client(scheduler: str) -> Iterator[Client]:
    """A ``distributed.Client`` for ``scheduler``, closed (with any cluster it started) when the block ends.

    Parameters
    ----------
    scheduler : str
        ``"local"`` or ``"local:N"``: start a ``LocalCluster`` of N worker processes with one thread each on this
        machine (``"local"``: one per usable core), no dashboard. Anything else is the address of a running
        scheduler (``"tcp://host:8786"``, ``"tls://..."``), whose workers the caller does not own: only the client
        is closed afterwards.

    Example
    -------
    >>> from turbosim_hep.runtime.cluster import open_client
    >>> with open_client("local:2") as client:  # doctest: +SKIP
    ...     generate(10_000, "ttbar", client=client)
    """
    if not isinstance(scheduler, str) or not scheduler:
        raise ValueError(
            f"scheduler must be 'local', 'local:N' or an address such as 'tcp://host:8786', got {scheduler!r}"
        )
    n_workers = local_workers(scheduler)
    distributed = distributed_module()
    if n_workers is None:
        try:
            client = distributed.Client(scheduler, timeout=CONNECT_TIMEOUT_S)
        except OSError as err:  # distributed's connect timeout is an OSError
            raise OSError(
                f"no dask scheduler answered at {scheduler!r} within {CONNECT_TIMEOUT_S} s ({err}); "
                "start one (dask scheduler, or a dask-jobqueue cluster) or use 'local:N'"
            ) from err
        with client:
            yield client
        return
    with (
        distributed.LocalCluster(
            n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


def run_tasks(
    client: Client,
    fn: Callable,
    items: Sequence,
    *,
    keys: Sequence[str],
    retries: int,
    on_result: Callable,
    lost: Callable[[object], str],
) -> None:
    """Submit ``fn(item)`` for every item (``pure=False``, the given task ``keys``) and call
    ``on_result(item, result)`` as each finishes, in completion order.

    A task lost with its worker more often than the scheduler's ``allowed-failures`` is a ``RuntimeError`` with the
    message ``lost(item)``; on any error or interrupt the tasks still queued are cancelled.
    """
    distributed = distributed_module()
    futures = {
        client.submit(fn, item, key=key, pure=False, retries=retries): item
        for item, key in zip(items, keys, strict=True)
    }
    try:
        for future in distributed.as_completed(futures):
            item = futures[future]
            try:
                result = future.result()
            except distributed.KilledWorker as err:
                raise RuntimeError(lost(item)) from err
            on_result(item, result)
    except BaseException:
        client.cancel(list(futures))
        raise
