"""Numba kernels of the calorimeter towers: energy deposits summed per (event, tower) and turned into tower
four-vectors.

Flat arrays in, arrays out, as :mod:`~turbosim_hep.generation.detector_kernels`; compiled with the toolkit's one
policy (:mod:`turbosim_hep.physics.jit`). The pure NumPy twins live in ``tests/generation/test_detector_kernels.py``.
They exist for speed: a stable radix sort by (event, tower) instead of ``np.lexsort`` on every batch.
"""

from __future__ import annotations

import math

import numpy as np

from turbosim_hep.generation.detector_kernels import lognormal, table_row
from turbosim_hep.physics.jit import jit

__all__ = ("tower_finalize", "tower_sums")


@jit
def _counting_pass(order: np.ndarray, digit: np.ndarray, n_buckets: int) -> np.ndarray:
    """Reorder ``order`` stably by ``digit[order]`` (one pass of a least-significant-digit radix sort)."""
    starts = np.zeros(n_buckets + 1, dtype=np.int64)
    for i in order:
        starts[digit[i] + 1] += 1
    for b in range(n_buckets):
        starts[b + 1] += starts[b]
    out = np.empty_like(order)
    for i in order:
        d = digit[i]
        out[starts[d]] = i
        starts[d] += 1
    return out


@jit
def tower_sums(
    idx: np.ndarray,
    energy: np.ndarray,
    owner: np.ndarray,
    eta: np.ndarray,
    phi: np.ndarray,
    n_events: int,
    edges: np.ndarray,
    deta: np.ndarray,
    nphi: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Sum calorimeter deposits into (eta, phi) towers per event.

    Parameters
    ----------
    idx : (k,) int64
        Particle index of each deposit.
    energy : (k,) float64
        Deposited energy [GeV].
    owner, eta, phi : (m,) int64, float64, float64
        Event index and direction of every particle.
    edges, deta, nphi : (g,) float64, float64, int64
        Tower regions: upper |eta| edge, eta width and number of phi bins (<= 512); deposits beyond the last edge
        are lost.

    Returns
    -------
    t_owner, t_region, t_ieta, t_iphi : (t,) int64
        Event, region and bin indices of each tower, ordered by (event, region, eta bin, phi bin).
    t_energy : (t,) float64
        Summed energy [GeV], added in deposit order.
    """
    k = len(idx)
    n_regions = len(edges)
    region = np.empty(k, dtype=np.int64)
    ieta = np.empty(k, dtype=np.int64)
    iphi = np.empty(k, dtype=np.int64)
    low = np.empty(k, dtype=np.int64)
    high = np.empty(k, dtype=np.int64)
    dep_owner = np.empty(k, dtype=np.int64)
    inside = np.empty(k, dtype=np.int64)
    n_in = 0
    for j in range(k):
        i = idx[j]
        r = table_row(edges, abs(eta[i]))
        if r >= n_regions:
            continue
        ie = np.int64(math.floor(eta[i] / deta[r]))
        ip = np.int64(math.floor((phi[i] + np.pi) / (2 * np.pi) * nphi[r])) % nphi[r]
        region[j] = r
        ieta[j] = ie
        iphi[j] = ip
        local = (r * 4096 + (ie + 2048)) * 512 + ip  # < 2**24: region < 8, |eta bin| < 2048, phi bin < 512
        low[j] = local & 4095
        high[j] = local >> 12
        dep_owner[j] = owner[i]
        inside[n_in] = j
        n_in += 1
    order = _counting_pass(inside[:n_in], low, 4096)
    order = _counting_pass(order, high, 4096)
    order = _counting_pass(order, dep_owner, n_events)
    t_owner = np.empty(n_in, dtype=np.int64)
    t_region = np.empty(n_in, dtype=np.int64)
    t_ieta = np.empty(n_in, dtype=np.int64)
    t_iphi = np.empty(n_in, dtype=np.int64)
    t_energy = np.empty(n_in)
    n_t = 0
    prev = -1
    for j in order:
        if n_t > 0 and dep_owner[j] == t_owner[n_t - 1] and low[j] == low[prev] and high[j] == high[prev]:
            t_energy[n_t - 1] += energy[j]
        else:
            t_owner[n_t] = dep_owner[j]
            t_region[n_t] = region[j]
            t_ieta[n_t] = ieta[j]
            t_iphi[n_t] = iphi[j]
            t_energy[n_t] = energy[j]
            n_t += 1
        prev = j
    return t_owner[:n_t], t_region[:n_t], t_ieta[:n_t], t_iphi[:n_t], t_energy[:n_t]


@jit
def tower_finalize(
    owner: np.ndarray,
    energy: np.ndarray,
    sigma: np.ndarray,
    ieta: np.ndarray,
    iphi: np.ndarray,
    deta: np.ndarray,
    nphi: np.ndarray,
    z: np.ndarray,
    u_eta: np.ndarray,
    u_phi: np.ndarray,
    energy_min: float,
    significance_min: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Smear tower energies log-normally, threshold them, and place each at a random point inside its tower.

    All inputs are per tower (t,): ``sigma`` [GeV], bin indices, eta width and phi bin count of the tower's region,
    standard-normal ``z`` and uniform ``u_eta``/``u_phi`` draws. A tower survives with smeared E > energy_min and
    E > significance_min·sigma.

    Returns
    -------
    owner, energy, eta, phi : (s,) int64, float64, float64, float64
        Event, smeared energy [GeV] and direction of the surviving towers, in input order.
    """
    smeared = lognormal(energy, sigma, z)
    t = len(energy)
    keep = np.empty(t, dtype=np.int64)
    n_keep = 0
    for i in range(t):
        if smeared[i] > energy_min and smeared[i] > significance_min * sigma[i]:
            keep[n_keep] = i
            n_keep += 1
    k_owner = np.empty(n_keep, dtype=np.int64)
    k_energy = np.empty(n_keep)
    k_eta = np.empty(n_keep)
    k_phi = np.empty(n_keep)
    for j in range(n_keep):
        i = keep[j]
        k_owner[j] = owner[i]
        k_energy[j] = smeared[i]
        k_eta[j] = (ieta[i] + u_eta[i]) * deta[i]
        k_phi[j] = (iphi[i] + u_phi[i]) * (2 * np.pi / nphi[i]) - np.pi
    return k_owner, k_energy, k_eta, k_phi
