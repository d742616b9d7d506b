"""Models loaded once per worker process: coffea processor chunks and dask simulate tasks share one cache.

The cache is keyed by the file, its modification time, the seed, the device, the batch size and the thread count,
so a worker loads a model once and again only if the file changes. Transforms stay out of pickles: tasks carry the
model's path (or a shipped model's name), never the network. ``threads`` sets torch's CPU threads in the worker:
several torch threads per dask/futures worker oversubscribe the cores and run ~100x slower (REFERENCE.md §8).
"""

from __future__ import annotations

import functools
import os

from turbosim_hep.simulation.registry import load_transform, resolve_model_path

__all__ = ("cached_transform",)


@functools.lru_cache(maxsize=4)
def _cached(path: str, mtime_ns: int, seed: int | None, device: str, batch_size: int, threads: int):
    import torch

    if threads > 0:
        torch.set_num_threads(threads)
    return load_transform(path, device=device, seed=seed, batch_size=batch_size)


def cached_transform(
    model: str | os.PathLike,
    *,
    seed: int | None = None,
    device: str = "cpu",
    batch_size: int = 65_536,
    threads: int = 1,
):
    """The transform of ``model`` (a file, or a shipped model's name), loaded at most once per process (and again
    only if the file changes)."""
    path = str(resolve_model_path(model))
    return _cached(path, os.stat(path).st_mtime_ns, seed, device, batch_size, threads)
