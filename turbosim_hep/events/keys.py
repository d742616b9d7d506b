"""Counter-based hashing of event ids: the splitmix64 finaliser (Steele, Lea & Flood 2014) on uint64 arrays.

Used wherever a number must depend on *which* event it belongs to and on nothing else (dataset split, per-event
noise), so results do not change with file order, chunking, executor or retries.
"""

from __future__ import annotations

import numpy as np

__all__ = ("GOLDEN", "hash_ids", "splitmix64")

#: 2^64 / golden ratio, the splitmix64 increment.
GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def splitmix64(x: np.ndarray) -> np.ndarray:
    """splitmix64 of each element of a uint64 array (wrapping arithmetic)."""
    with np.errstate(over="ignore"):
        x = np.asarray(x, dtype=np.uint64) + GOLDEN
        x = (x ^ (x >> np.uint64(30))) * _M1
        x = (x ^ (x >> np.uint64(27))) * _M2
        return x ^ (x >> np.uint64(31))


def hash_ids(*keys: np.ndarray | int) -> np.ndarray:
    """One uint64 per event from several integer keys (broadcast), chaining splitmix64 over them in order."""
    arrays = np.broadcast_arrays(*(np.asarray(k).astype(np.uint64) for k in keys))
    h = np.zeros(arrays[0].shape, dtype=np.uint64)
    for a in arrays:
        h = splitmix64(h ^ a)
    return h
