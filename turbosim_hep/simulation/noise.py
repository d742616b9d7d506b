"""Per-event standard-normal noise keyed by the event ids: counter-based, vectorised, order-independent.

Row i of :func:`event_noise` depends only on ``(seed, stream, run[i], luminosityBlock[i], event[i], sample[i])``
and the column, never on the row's position, the batch size, the executor or a retry. Each pair of columns is made
by Box-Muller from the two 32-bit halves of one splitmix64 hash of the row key and the pair index (the tails reach
6.6 sigma, far beyond what a detector response needs).

The numba kernel exists for speed: generating the noise must cost much less than the network forward it feeds
(measured in ``benchmarks/throughput.py``); :func:`event_noise_reference` is the numpy twin the tests compare it with.
"""

from __future__ import annotations

import numpy as np

from turbosim_hep.events.keys import GOLDEN, hash_ids, splitmix64
from turbosim_hep.physics.jit import jit

__all__ = ("STREAMS", "event_noise", "event_noise_reference", "keyed_uniform", "redraw_keys", "row_keys")

#: Independent noise streams: one per network call, so simulate and unfold never share numbers; "selection" draws
#: whether an event of an unselected sample passes the selection (independent of its detector response's noise).
STREAMS: dict[str, int] = {
    "simulate": 1,
    "unfold": 2,
    "simulate_after_unfold": 3,
    "unfold_after_simulate": 4,
    "selection": 5,
}

_TWO_PI = 2.0 * np.pi
_INV_2_32 = 2.0**-32


def row_keys(
    seed: int, stream: int, run: np.ndarray, luminosity_block: np.ndarray, event: np.ndarray, sample: np.ndarray | int
) -> np.ndarray:
    """One uint64 key per event from the model seed, the stream and the event's ids; shape ``(n,)``."""
    return hash_ids(seed, stream, run, luminosity_block, event, sample)


def redraw_keys(keys: np.ndarray, attempt: int | np.ndarray) -> np.ndarray:
    """The keys of an event's ``attempt``-th draw (0: ``keys`` themselves): a truncated decoder redraws an event
    outside the phase space with the noise of its next key, so the draw kept depends on the event's ids only.
    ``attempt``: one for all keys, or one per key."""
    keys = np.asarray(keys, dtype=np.uint64)
    if np.ndim(attempt) == 0 and attempt == 0:
        return keys
    attempt = np.asarray(attempt, dtype=np.uint64)
    with np.errstate(over="ignore"):
        hashed = splitmix64(keys ^ (attempt * np.uint64(0xD1B54A32D192ED03)))
    return hashed if attempt.ndim == 0 else np.where(attempt == 0, keys, hashed)


@jit
def _mix(x: np.uint64) -> np.uint64:
    x = x + np.uint64(0x9E3779B97F4A7C15)
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


@jit
def _noise_kernel(keys: np.ndarray, dim: int, out: np.ndarray) -> None:
    n_pairs = (dim + 1) // 2
    for i in range(keys.shape[0]):
        k = keys[i]
        for p in range(n_pairs):
            h = _mix(k ^ (np.uint64(p) * np.uint64(0x9E3779B97F4A7C15)))
            # float32 math (half the time of float64): ample precision for noise that feeds float32 networks
            u1 = np.float32((np.float64(h >> np.uint64(32)) + 1.0) * 2.3283064365386963e-10)
            u2 = np.float32(np.float64(h & np.uint64(0xFFFFFFFF)) * 2.3283064365386963e-10)
            r = np.sqrt(np.float32(-2.0) * np.log(u1))
            a = np.float32(6.283185307179586) * u2
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


def keyed_uniform(keys: np.ndarray) -> np.ndarray:
    """``(n,)`` float64 uniform numbers in [0, 1), element i a pure function of ``keys[i]``: the top 53 bits of
    splitmix64 of the key (as :func:`turbosim_hep.events.split.split_uniform`)."""
    return (splitmix64(np.asarray(keys, dtype=np.uint64)) >> np.uint64(11)).astype(np.float64) * 2.0**-53


def event_noise_reference(keys: np.ndarray, dim: int) -> np.ndarray:
    """Pure-numpy twin of :func:`event_noise` (the tests' oracle; numpy's float32 log/sin/cos may differ from the
    kernel's in the last bit)."""
    keys = np.asarray(keys, dtype=np.uint64)[:, None]
    pairs = np.arange((dim + 1) // 2, dtype=np.uint64)[None, :]
    with np.errstate(over="ignore"):
        h = splitmix64(keys ^ (pairs * GOLDEN))
    u1 = (((h >> np.uint64(32)).astype(np.float64) + 1.0) * _INV_2_32).astype(np.float32)
    u2 = ((h & np.uint64(0xFFFFFFFF)).astype(np.float64) * _INV_2_32).astype(np.float32)
    r = np.sqrt(np.float32(-2.0) * np.log(u1))
    a = np.float32(_TWO_PI) * u2
    out = np.stack([r * np.cos(a), r * np.sin(a)], axis=-1).reshape(len(keys), -1)
    return out[:, :dim].astype(np.float32)


def keyed_inputs(
    events, direction: str, *, seed: int, stream: int, noise_dim: int, draws: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """A network's inputs for a chunk of events: ``(n, 24)`` float32 features [GeV] of the side ``direction`` reads
    ("simulate": the partons, "unfold": the detector objects) and the ``(n, noise_dim)`` noise keyed on the seed,
    ``stream`` and each event's ``(run, luminosityBlock, event)`` (sample 0), as the transform draws it.

    What an exported network needs beside the events (the TorchScript and ONNX coffea wrappers).
    """
    import awkward as ak

    from turbosim_hep.events.features import partons_to_features, reco_to_features

    features = partons_to_features(events["Parton"]) if direction == "simulate" else reco_to_features(events)
    ids = [ak.to_numpy(events[k]) for k in ("run", "luminosityBlock", "event")]
    keys = row_keys(seed, stream, *ids, 0)
    if draws == 1:
        return features.astype(np.float32), event_noise(keys, noise_dim)
    # an exported truncated decoder: the noise of draws 0 .. draws - 1 side by side (noise_dim is their total)
    width = noise_dim // draws
    noise = np.concatenate([event_noise(redraw_keys(keys, a), width) for a in range(draws)], axis=1)
    return features.astype(np.float32), noise
