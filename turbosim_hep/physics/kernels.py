"""Numba kernels for the tt-bar reconstruction: neutrino pz, chi^2 jet assignment, invariant masses.

Every kernel takes float64 NumPy arrays (four-momenta as ``(..., 4)`` = px, py, pz, E in GeV) and returns NumPy
arrays; :mod:`turbosim_hep.physics.reconstruction` is the front end that casts and shapes the inputs. All kernels are
compiled with one policy, lazily on first call and cached on disk (``cache=True``; numba writes its cache beside this
file, or in the user cache directory when the install is read-only). Definitions follow the Turbo-Sim validation
(arXiv:2112.10629, REFERENCE.md §6); the pure vector/awkward twin that checks them lives in ``tests/physics``.

Masses use vector's signed convention, ``m = copysign(sqrt(|m^2|), m^2)``: an unphysical system (E < |p|, possible
for network outputs) gets a negative mass instead of NaN, so it shows up in histograms rather than vanishing.
"""

from __future__ import annotations

import math

import numpy as np

from turbosim_hep.physics.jit import jit

__all__ = ("N_COMBINATIONS", "assign_jets", "invariant_mass", "massless_p4", "neutrino_pz", "ttbar_masses")

#: The one compilation policy of this package's kernels.

#: Number of jet assignments tried: 4 choices of b_lep x 3 unordered W pairs among the other three jets.
N_COMBINATIONS: int = 12

#: For each b_lep, the three (q1, q2, b_had) splits of the other three jets, q1 < q2, in lexicographic order of
#: (b_lep, q1, q2): the search order of :func:`assign_jets` and so its tie-break (the first minimum wins).
_SPLITS = np.array(
    [
        [[1, 2, 3], [1, 3, 2], [2, 3, 1]],
        [[0, 2, 3], [0, 3, 2], [2, 3, 0]],
        [[0, 1, 3], [0, 3, 1], [1, 3, 0]],
        [[0, 1, 2], [0, 2, 1], [1, 2, 0]],
    ],
    dtype=np.int64,
)


@jit
def _mass(px: float, py: float, pz: float, e: float) -> float:
    m2 = e * e - (px * px + py * py + pz * pz)
    return math.copysign(math.sqrt(abs(m2)), m2)


@jit
def _solve_one(
    ele_px: float, ele_py: float, ele_pz: float, ele_e: float, met_px: float, met_py: float, m_w: float
) -> tuple[float, bool]:
    # The electron's own m^2 (0 for the massless detector objects) makes (e + nu)^2 = m_w^2 exact for a real root.
    m_e2 = ele_e * ele_e - (ele_px * ele_px + ele_py * ele_py + ele_pz * ele_pz)
    k = 0.5 * (m_w * m_w - m_e2) + ele_px * met_px + ele_py * met_py
    a = ele_e * ele_e - ele_pz * ele_pz
    b = -2.0 * k * ele_pz
    c = ele_e * ele_e * (met_px * met_px + met_py * met_py) - k * k
    if a == 0.0:
        # electron along the beam line with E = |pz|: the equation is linear (or void for a null electron)
        if b == 0.0:
            return np.nan, False
        return -c / b, False
    disc = b * b - 4.0 * a * c
    if disc < 0.0:
        return -b / (2.0 * a), True
    # q carries the larger-magnitude numerator, so c / q is the smaller-|pz| root without cancellation
    q = -0.5 * (b + math.copysign(math.sqrt(disc), b))
    if q == 0.0:
        return 0.0, False
    return c / q, False


@jit
def neutrino_pz(
    ele_px: np.ndarray,
    ele_py: np.ndarray,
    ele_pz: np.ndarray,
    ele_e: np.ndarray,
    met_px: np.ndarray,
    met_py: np.ndarray,
    m_w: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Neutrino pz [GeV] from the W mass constraint (e + nu)^2 = m_w^2 with a massless neutrino.

    With k = (m_w^2 - m_e^2)/2 + pT(e).pT(miss), solves (E_e^2 - pz_e^2) pz^2 - 2 k pz_e pz + E_e^2 MET^2 - k^2 = 0
    and keeps the root of smaller |pz|; when the roots are complex it returns their real part -b/2a and sets the
    flag. m_e^2 is the electron's own E^2 - p^2 (0 for massless detector electrons). An electron with E = |pz| and no
    pT gives the linear equation's root; a null electron gives NaN.

    Parameters
    ----------
    ele_px, ele_py, ele_pz, ele_e : (n,) float64
        Electron four-momentum [GeV].
    met_px, met_py : (n,) float64
        Missing transverse momentum [GeV], taken as the neutrino's px, py.
    m_w : float
        W mass [GeV] of the constraint.

    Returns
    -------
    pz : (n,) float64
        Neutrino pz [GeV].
    is_complex : (n,) bool
        True where the discriminant is negative (pz is then the real part).
    """
    n = ele_px.shape[0]
    pz = np.empty(n, dtype=np.float64)
    is_complex = np.empty(n, dtype=np.bool_)
    for i in range(n):
        pz[i], is_complex[i] = _solve_one(ele_px[i], ele_py[i], ele_pz[i], ele_e[i], met_px[i], met_py[i], m_w)
    return pz, is_complex


@jit
def massless_p4(px: np.ndarray, py: np.ndarray, pz: np.ndarray) -> np.ndarray:
    """(n, 4) four-momenta (px, py, pz, E = |p|) [GeV] of massless particles, e.g. the solved neutrino."""
    n = px.shape[0]
    out = np.empty((n, 4), dtype=np.float64)
    for i in range(n):
        out[i, 0] = px[i]
        out[i, 1] = py[i]
        out[i, 2] = pz[i]
        out[i, 3] = math.sqrt(px[i] * px[i] + py[i] * py[i] + pz[i] * pz[i])
    return out


@jit
def invariant_mass(objects: np.ndarray) -> np.ndarray:
    """Signed invariant mass [GeV] of the sum of k objects per event.

    Parameters
    ----------
    objects : (n, k, 4) float64
        Four-momenta (px, py, pz, E) [GeV].

    Returns
    -------
    (n,) float64
        ``copysign(sqrt(|m^2|), m^2)`` of each event's summed four-momentum.
    """
    n, k = objects.shape[0], objects.shape[1]
    out = np.empty(n, dtype=np.float64)
    for i in range(n):
        px = py = pz = e = 0.0
        for j in range(k):
            px += objects[i, j, 0]
            py += objects[i, j, 1]
            pz += objects[i, j, 2]
            e += objects[i, j, 3]
        out[i] = _mass(px, py, pz, e)
    return out


@jit
def assign_jets(
    lepton: np.ndarray,
    neutrino: np.ndarray,
    jets: np.ndarray,
    m_w: float,
    m_top: float,
    sigma_top_lep: float,
    sigma_w_had: float,
    sigma_top_had: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Chi^2 assignment of four jets to (b_lep, b_had, q1, q2) in t tbar -> (b_lep l nu)(b_had q1 q2).

    Tries the 12 assignments (which jet is b_lep: 4; which unordered pair of the other three forms the hadronic W:
    3; the last is b_had) and keeps the one with the smallest
    chi^2 = ((m_t^lep - m_top)/sigma_top_lep)^2 + ((m_W^had - m_w)/sigma_w_had)^2 + ((m_t^had - m_top)/sigma_top_had)^2
    with signed masses. Ties go to the first assignment in the order of ``_SPLITS``; NaN chi^2 values are never chosen.

    Parameters
    ----------
    lepton, neutrino : (n, 4) float64
        Charged lepton and neutrino four-momenta [GeV].
    jets : (n, 4, 4) float64
        Four jets (any order), four-momenta [GeV].
    m_w, m_top : float
        W and top masses [GeV] of the constraint.
    sigma_top_lep, sigma_w_had, sigma_top_had : float
        Widths [GeV] of the three chi^2 terms.

    Returns
    -------
    assignment : (n, 4) int64
        Jet indices (into axis 1 of ``jets``) of b_lep, b_had, q1, q2 with q1 < q2; all -1 when every chi^2 is NaN.
    chi2 : (n,) float64
        The minimum chi^2 (NaN when every assignment's chi^2 is NaN).
    """
    n = jets.shape[0]
    assignment = np.full((n, 4), -1, dtype=np.int64)
    chi2 = np.full(n, np.nan, dtype=np.float64)
    j = np.empty((4, 4), dtype=np.float64)
    tops = np.empty(4, dtype=np.float64)  # both top terms, per b_lep
    w_term = np.empty((4, 4), dtype=np.float64)  # W term, per jet pair (upper triangle)
    inv_t_lep, inv_w_had, inv_t_had = 1.0 / sigma_top_lep, 1.0 / sigma_w_had, 1.0 / sigma_top_had
    for i in range(n):
        for a in range(4):
            for c in range(4):
                j[a, c] = jets[i, a, c]
        lx = lepton[i, 0] + neutrino[i, 0]
        ly = lepton[i, 1] + neutrino[i, 1]
        lz = lepton[i, 2] + neutrino[i, 2]
        le = lepton[i, 3] + neutrino[i, 3]
        for bl in range(4):
            # the hadronic top is the three jets other than b_lep, whichever pair of them forms the W
            q1, q2, bh = _SPLITS[bl, 0, 0], _SPLITS[bl, 0, 1], _SPLITS[bl, 0, 2]
            d_lep = (_mass(lx + j[bl, 0], ly + j[bl, 1], lz + j[bl, 2], le + j[bl, 3]) - m_top) * inv_t_lep
            d_had = (
                _mass(
                    j[q1, 0] + j[q2, 0] + j[bh, 0],
                    j[q1, 1] + j[q2, 1] + j[bh, 1],
                    j[q1, 2] + j[q2, 2] + j[bh, 2],
                    j[q1, 3] + j[q2, 3] + j[bh, 3],
                )
                - m_top
            ) * inv_t_had
            tops[bl] = d_lep * d_lep + d_had * d_had
            for b in range(bl + 1, 4):
                d_w = (
                    _mass(j[bl, 0] + j[b, 0], j[bl, 1] + j[b, 1], j[bl, 2] + j[b, 2], j[bl, 3] + j[b, 3]) - m_w
                ) * inv_w_had
                w_term[bl, b] = d_w * d_w
        best = np.inf
        best_k = -1
        for bl in range(4):
            for s in range(3):
                c = tops[bl] + w_term[_SPLITS[bl, s, 0], _SPLITS[bl, s, 1]]
                if c < best:
                    best = c
                    best_k = 3 * bl + s
        if best_k >= 0:
            bl, s = best_k // 3, best_k % 3
            assignment[i, 0] = bl
            assignment[i, 1] = _SPLITS[bl, s, 2]
            assignment[i, 2] = _SPLITS[bl, s, 0]
            assignment[i, 3] = _SPLITS[bl, s, 1]
            chi2[i] = best
    return assignment, chi2


@jit
def ttbar_masses(
    lepton: np.ndarray, neutrino: np.ndarray, jets: np.ndarray, assignment: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Signed masses [GeV] of the reconstructed t tbar system for a given jet assignment.

    Parameters
    ----------
    lepton, neutrino : (n, 4) float64
        Charged lepton and neutrino four-momenta [GeV].
    jets : (n, 4, 4) float64
        Four jets, four-momenta [GeV].
    assignment : (n, 4) int64
        b_lep, b_had, q1, q2 jet indices as returned by :func:`assign_jets`; a row with -1 gives NaN for the
        assignment-dependent masses.

    Returns
    -------
    m_tt, m_w_had, m_w_lep, m_t_lep, m_t_had : (n,) float64
        Masses of lepton + neutrino + all four jets (independent of the assignment), q1 + q2, lepton + neutrino,
        lepton + neutrino + b_lep, and q1 + q2 + b_had.
    """
    n = jets.shape[0]
    out = np.empty((5, n), dtype=np.float64)
    for i in range(n):
        lx = lepton[i, 0] + neutrino[i, 0]
        ly = lepton[i, 1] + neutrino[i, 1]
        lz = lepton[i, 2] + neutrino[i, 2]
        le = lepton[i, 3] + neutrino[i, 3]
        jx = jets[i, 0, 0] + jets[i, 1, 0] + jets[i, 2, 0] + jets[i, 3, 0]
        jy = jets[i, 0, 1] + jets[i, 1, 1] + jets[i, 2, 1] + jets[i, 3, 1]
        jz = jets[i, 0, 2] + jets[i, 1, 2] + jets[i, 2, 2] + jets[i, 3, 2]
        je = jets[i, 0, 3] + jets[i, 1, 3] + jets[i, 2, 3] + jets[i, 3, 3]
        out[0, i] = _mass(lx + jx, ly + jy, lz + jz, le + je)
        out[2, i] = _mass(lx, ly, lz, le)
        bl, bh, q1, q2 = assignment[i, 0], assignment[i, 1], assignment[i, 2], assignment[i, 3]
        if bl < 0 or bh < 0 or q1 < 0 or q2 < 0:
            out[1, i] = out[3, i] = out[4, i] = np.nan
            continue
        wx = jets[i, q1, 0] + jets[i, q2, 0]
        wy = jets[i, q1, 1] + jets[i, q2, 1]
        wz = jets[i, q1, 2] + jets[i, q2, 2]
        we = jets[i, q1, 3] + jets[i, q2, 3]
        out[1, i] = _mass(wx, wy, wz, we)
        out[3, i] = _mass(lx + jets[i, bl, 0], ly + jets[i, bl, 1], lz + jets[i, bl, 2], le + jets[i, bl, 3])
        out[4, i] = _mass(wx + jets[i, bh, 0], wy + jets[i, bh, 1], wz + jets[i, bh, 2], we + jets[i, bh, 3])
    return out[0], out[1], out[2], out[3], out[4]
