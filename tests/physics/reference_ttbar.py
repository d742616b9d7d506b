"""Pure vector/awkward reference of the t tbar reconstruction: the test oracle for turbosim_hep.physics.kernels.

Written straight from the definitions (REFERENCE.md §6) with scikit-hep vector four-vectors and the textbook
quadratic formula, one combination at a time; no code shared with the kernels. Input ``objects`` is ``(n, 6, 4)``
float64: lepton, MET (or nubar), four jets, each (px, py, pz, E) [GeV].
"""

from __future__ import annotations

import itertools

import numpy as np
import vector

#: (b_lep, b_had, q1, q2) of the 12 assignments, in the order the reference tries them.
COMBINATIONS: tuple[tuple[int, int, int, int], ...] = tuple(
    (bl, next(j for j in range(4) if j not in (bl, q1, q2)), q1, q2)
    for bl in range(4)
    for q1, q2 in itertools.combinations([j for j in range(4) if j != bl], 2)
)


def four_vectors(p: np.ndarray):
    """vector Momentum4D awkward array from an ``(n, 4)`` px, py, pz, E array."""
    return vector.zip({"px": p[:, 0], "py": p[:, 1], "pz": p[:, 2], "E": p[:, 3]})


def neutrino_pz(lepton: np.ndarray, met_px: np.ndarray, met_py: np.ndarray, m_w: float):
    """Smaller-|pz| root of the W constraint (real part when complex) and the complex flag."""
    ele = four_vectors(lepton)
    met = vector.zip({"px": met_px, "py": met_py})
    k = (m_w**2 - ele.mass2) / 2 + ele.to_xy().dot(met)
    a = ele.E**2 - ele.pz**2
    b = -2 * k * ele.pz
    c = ele.E**2 * met.pt**2 - k**2
    a, b, c = (np.asarray(v, dtype=np.float64) for v in (a, b, c))
    disc = b**2 - 4 * a * c
    is_complex = disc < 0
    root = np.sqrt(np.where(is_complex, 0.0, disc))
    plus, minus = (-b + root) / (2 * a), (-b - root) / (2 * a)
    real = np.where(np.abs(plus) < np.abs(minus), plus, minus)
    return np.where(is_complex, -b / (2 * a), real), is_complex


def reconstruct(
    objects: np.ndarray,
    *,
    true_neutrino: bool = False,
    m_w: float = 80.379,
    m_top: float = 172.76,
    sigmas: tuple[float, float, float] = (5.0, 10.0, 15.0),
) -> dict[str, np.ndarray]:
    """Same keys as ``reconstruct_features`` (without truth flags)."""
    lepton = four_vectors(objects[:, 0])
    if true_neutrino:
        nu_p = objects[:, 1]
        pz, is_complex = nu_p[:, 2], np.zeros(len(nu_p), dtype=bool)
    else:
        pz, is_complex = neutrino_pz(objects[:, 0], objects[:, 1, 0], objects[:, 1, 1], m_w)
        met = vector.zip({"px": objects[:, 1, 0], "py": objects[:, 1, 1], "pz": pz, "mass": np.zeros(len(pz))})
        nu_p = np.stack([np.asarray(met.px), np.asarray(met.py), np.asarray(met.pz), np.asarray(met.E)], axis=1)
    nu = four_vectors(nu_p)
    jets = [four_vectors(objects[:, 2 + j]) for j in range(4)]
    w_lep = lepton + nu
    per_combination = []
    for bl, bh, q1, q2 in COMBINATIONS:
        t_lep = (w_lep + jets[bl]).mass
        w_had = (jets[q1] + jets[q2]).mass
        t_had = (jets[q1] + jets[q2] + jets[bh]).mass
        chi2 = (
            ((t_lep - m_top) / sigmas[0]) ** 2 + ((w_had - m_w) / sigmas[1]) ** 2 + ((t_had - m_top) / sigmas[2]) ** 2
        )
        per_combination.append([np.asarray(v, dtype=np.float64) for v in (chi2, w_had, t_lep, t_had)])
    table = np.stack([np.stack(c, axis=1) for c in per_combination], axis=1)  # (n, 12, 4)
    best = np.argmin(table[:, :, 0], axis=1)
    chosen = table[np.arange(len(best)), best]
    assignment = np.asarray(COMBINATIONS, dtype=np.int64)[best]
    m_tt = (w_lep + jets[0] + jets[1] + jets[2] + jets[3]).mass
    return {
        "m_tt": np.asarray(m_tt, dtype=np.float64),
        "m_w_had": chosen[:, 1],
        "m_w_lep": np.asarray(w_lep.mass, dtype=np.float64),
        "m_t_lep": chosen[:, 2],
        "m_t_had": chosen[:, 3],
        "chi2": chosen[:, 0],
        "b_lep": assignment[:, 0],
        "b_had": assignment[:, 1],
        "q1": assignment[:, 2],
        "q2": assignment[:, 3],
        "nu_pz": np.asarray(pz, dtype=np.float64),
        "complex_root": np.asarray(is_complex),
    }
