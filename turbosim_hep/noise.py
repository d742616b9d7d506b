"""Per-event standard-normal noise keyed by the event ids: counter-based, vectorised, order-independent.

Row i of :func:`event_noise` depends only on ``(seed, stream, run[i], luminosityBlock[i], event[i], sample[i])``
and the column, never on the row's position, the batch size, the executor or a retry. Each pair of columns is made
by Box-Muller from two splitmix64 hashes of the row key and the pair index.

The numba kernel exists for speed: generating the noise must cost much less than the network forward it feeds
(measured in ``benchmarks/throughput.py``); :func:`event_noise_reference` is the numpy twin the tests compare it with.
"""

from __future__ import annotations

import numba
import numpy as np

from turbosim_hep.hashing import GOLDEN, hash_ids, splitmix64

__all__ = ("STREAMS", "event_noise", "event_noise_reference", "row_keys")

#: Independent noise streams: one per network call, so simulate and unfold never share numbers.
STREAMS: dict[str, int] = {"simulate": 1, "unfold": 2, "simulate_after_unfold": 3, "unfold_after_simulate": 4}

_TWO_PI = 2.0 * np.pi
_INV_2_53 = 2.0**-53


def row_keys(
    seed: int, stream: int, run: np.ndarray, luminosity_block: np.ndarray, event: np.ndarray, sample: np.ndarray | int
) -> np.ndarray:
    """One uint64 key per event from the model seed, the stream and the event's ids; shape ``(n,)``."""
    return hash_ids(seed, stream, run, luminosity_block, event, sample)


@numba.njit(cache=True, error_model="numpy")
def _mix(x: np.uint64) -> np.uint64:
    x = x + np.uint64(0x9E3779B97F4A7C15)
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


@numba.njit(cache=True, error_model="numpy")
def _noise_kernel(keys: np.ndarray, dim: int, out: np.ndarray) -> None:
    n_pairs = (dim + 1) // 2
    for i in range(keys.shape[0]):
        k = keys[i]
        for p in range(n_pairs):
            h1 = _mix(k ^ (np.uint64(p) * np.uint64(0x9E3779B97F4A7C15)))
            h2 = _mix(h1)
            u1 = (np.float64(h1 >> np.uint64(11)) + 1.0) * 1.1102230246251565e-16
            u2 = np.float64(h2 >> np.uint64(11)) * 1.1102230246251565e-16
            r = np.sqrt(-2.0 * np.log(u1))
            a = 6.283185307179586 * u2
            out[i, 2 * p] = r * np.cos(a)
            if 2 * p + 1 < dim:
                out[i, 2 * p + 1] = r * np.sin(a)


def event_noise(keys: np.ndarray, dim: int) -> np.ndarray:
    """``(n, dim)`` float32 standard normals, row i a pure function of ``keys[i]`` (see :func:`row_keys`)."""
    keys = np.ascontiguousarray(keys, dtype=np.uint64)
    out = np.empty((len(keys), dim), dtype=np.float32)
    if len(keys) and dim:
        _noise_kernel(keys, int(dim), out)
    return out


def event_noise_reference(keys: np.ndarray, dim: int) -> np.ndarray:
    """Pure-numpy twin of :func:`event_noise` (slow; the tests' oracle)."""
    keys = np.asarray(keys, dtype=np.uint64)[:, None]
    pairs = np.arange((dim + 1) // 2, dtype=np.uint64)[None, :]
    with np.errstate(over="ignore"):
        h1 = splitmix64(keys ^ (pairs * GOLDEN))
    h2 = splitmix64(h1)
    u1 = ((h1 >> np.uint64(11)).astype(np.float64) + 1.0) * _INV_2_53
    u2 = (h2 >> np.uint64(11)).astype(np.float64) * _INV_2_53
    r = np.sqrt(-2.0 * np.log(u1))
    out = np.stack([r * np.cos(_TWO_PI * u2), r * np.sin(_TWO_PI * u2)], axis=-1).reshape(len(keys), -1)
    return out[:, :dim].astype(np.float32)
