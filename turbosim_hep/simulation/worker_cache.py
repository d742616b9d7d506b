"""Models loaded once per worker process: coffea processor chunks and dask simulate tasks share one cache.

The cache is keyed by the file, its modification time, the seed, the device, the batch size and the thread count,
so a worker loads a model once and again only if the file changes. Transforms stay out of pickles: tasks carry the
model's path (or a shipped model's name), never the network. ``threads`` sets torch's CPU threads in the worker:
several torch threads per dask/futures worker oversubscribe the cores and run ~100x slower (REFERENCE.md §8).
"""

from __future__ import annotations

import functools
import os

__all__ = ("load_transform",)


@functools.lru_cache(maxsize=4)
def _cached_transform(path: str, mtime_ns: int, seed: int | None, device: str, batch_size: int, threads: int):
    import torch

    from turbosim_hep.simulation.transform import load_transform as _load

    if threads > 0:
        torch.set_num_threads(threads)
    return _load(path, device=device, seed=seed, batch_size=batch_size)


def load_transform(
    path: str | os.PathLike, *, seed: int | None = None, device: str = "cpu", batch_size: int = 65_536, threads: int = 1
):
    """The transform for ``path`` (or a shipped model's name), loaded at most once per process (and again only if
    the file changes)."""
    from turbosim_hep.simulation.registry import resolve_model_path

    path = str(resolve_model_path(path))
    if not os.path.exists(path):
        raise FileNotFoundError(f"model file {path!r} does not exist on this worker; give a path all workers see")
    return _cached_transform(path, os.stat(path).st_mtime_ns, seed, device, batch_size, threads)
