"""Conversions between (pt, eta, phi, signed mass) and (px, py, pz, E), in float64, for whole arrays.

They sit on the hot path of every simulation (features in, awkward records out): compiled with numba because the
numpy expressions (kept below as the tests' oracle) cost as much as the network itself at 5e5 events
(``benchmarks/throughput.py``). Masses follow vector's signed convention: ``m = copysign(sqrt(|E^2 - p^2|), E^2 - p^2)``
and ``E = sqrt(max(p^2 + m|m|, 0))``.
"""

from __future__ import annotations

import math

import numpy as np

from turbosim_hep.physics.jit import jit

__all__ = ("p4_from_ptetaphim", "p4_from_ptetaphim_reference", "ptetaphim_from_p4", "ptetaphim_from_p4_reference")


@jit
def _p4_kernel(pt, eta, phi, mass, out):
    for i in range(pt.size):
        p_t = np.float64(pt[i])
        m = np.float64(mass[i])
        px = p_t * math.cos(phi[i])
        py = p_t * math.sin(phi[i])
        pz = p_t * math.sinh(eta[i])
        e2 = px * px + py * py + pz * pz + math.copysign(m * m, m)
        out[i, 0] = px
        out[i, 1] = py
        out[i, 2] = pz
        out[i, 3] = math.sqrt(e2) if e2 > 0.0 else 0.0


@jit
def _ptetaphim_kernel(p4, pt, eta, phi, mass):
    for i in range(p4.shape[0]):
        px = np.float64(p4[i, 0])
        py = np.float64(p4[i, 1])
        pz = np.float64(p4[i, 2])
        e = np.float64(p4[i, 3])
        pt2 = px * px + py * py
        p_t = math.sqrt(pt2)  # not hypot: 25 % faster, and momenta never approach its overflow guard
        pt[i] = p_t
        eta[i] = math.asinh(pz / p_t) if p_t > 0.0 else math.copysign(math.inf, pz)
        phi[i] = math.atan2(py, px)
        m2 = e * e - (pt2 + pz * pz)
        mass[i] = math.copysign(math.sqrt(abs(m2)), m2)


def p4_from_ptetaphim(pt, eta, phi, mass, *, dtype: type = np.float64) -> np.ndarray:
    """``(..., 4)`` px, py, pz, E [GeV] from same-shape pt [GeV], eta, phi [rad], signed mass [GeV].

    Computed in float64 whatever the inputs; ``dtype`` is the type the result is stored in (float32 writes it
    directly, without a float64 copy).
    """
    arrays = [np.ascontiguousarray(a) for a in np.broadcast_arrays(pt, eta, phi, mass)]
    shape = arrays[0].shape
    out = np.empty((arrays[0].size, 4), dtype=dtype)
    if out.shape[0]:
        _p4_kernel(*(a.reshape(-1) for a in arrays), out)
    return out.reshape(*shape, 4)


def ptetaphim_from_p4(
    p4: np.ndarray, *, dtype: type = np.float64
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """pt [GeV], eta, phi [rad], signed mass [GeV] (each ``p4.shape[:-1]``) from ``(..., 4)`` px, py, pz, E.

    Computed in float64 whatever the input; ``dtype`` is the type the results are stored in.
    """
    p4 = np.ascontiguousarray(p4)
    if p4.shape[-1] != 4:
        raise ValueError(f"four-momenta need a last axis of length 4, got shape {p4.shape!r}")
    flat = p4.reshape(-1, 4)
    outs = [np.empty(len(flat), dtype=dtype) for _ in range(4)]
    if len(flat):
        _ptetaphim_kernel(flat, *outs)
    return tuple(o.reshape(p4.shape[:-1]) for o in outs)


def p4_from_ptetaphim_reference(pt, eta, phi, mass) -> np.ndarray:
    """Numpy twin of :func:`p4_from_ptetaphim` (the tests' oracle)."""
    pt, eta, phi, mass = (np.asarray(a, dtype=np.float64) for a in (pt, eta, phi, mass))
    px, py, pz = pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)
    e = np.sqrt(np.maximum(px * px + py * py + pz * pz + np.copysign(mass * mass, mass), 0.0))
    return np.stack([px, py, pz, e], axis=-1)


def ptetaphim_from_p4_reference(p4: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Numpy twin of :func:`ptetaphim_from_p4` (the tests' oracle)."""
    px, py, pz, e = (np.asarray(p4[..., i], dtype=np.float64) for i in range(4))
    pt = np.hypot(px, py)
    eta = np.arcsinh(np.divide(pz, pt, out=np.copysign(np.full_like(pz, np.inf), pz), where=pt > 0))
    m2 = e * e - (px * px + py * py + pz * pz)
    return pt, eta, np.arctan2(py, px), np.copysign(np.sqrt(np.abs(m2)), m2)
