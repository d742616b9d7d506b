"""Toy t tbar -> (b u dbar)(bbar e- nubar) parton events built kinematically with NumPy (test and benchmark input).

Not a physics generator: tops get exponential pT, Gaussian rapidity-like eta and Breit-Wigner masses; the decays are
isotropic two-body decays boosted to the lab. Good enough to give the reconstruction realistic combinatorics, with
exact truth. Returns Z features in the paper's order (e-, nubar, b, bbar, u, dbar) x (px, py, pz, E) [GeV].
"""

from __future__ import annotations

import numpy as np

M_TOP, GAMMA_TOP = 172.76, 1.42
M_W, GAMMA_W = 80.379, 2.085
M_B = 4.7


def _breit_wigner(rng: np.random.Generator, n: int, mass: float, width: float, lo: float, hi: float) -> np.ndarray:
    if width == 0.0:
        return np.full(n, mass)
    out = mass + 0.5 * width * rng.standard_cauchy(n)
    bad = (out < lo) | (out > hi)
    while bad.any():
        out[bad] = mass + 0.5 * width * rng.standard_cauchy(int(bad.sum()))
        bad = (out < lo) | (out > hi)
    return out


def _boost(p: np.ndarray, parent: np.ndarray) -> np.ndarray:
    """Boost (n, 4) four-momenta from the rest frame of ``parent`` (n, 4) to the frame where it has that momentum."""
    beta = parent[:, :3] / parent[:, 3:4]
    b2 = np.sum(beta * beta, axis=1)
    gamma = 1.0 / np.sqrt(1.0 - b2)
    bp = np.sum(beta * p[:, :3], axis=1)
    g2 = np.where(b2 > 0, (gamma - 1.0) / np.where(b2 > 0, b2, 1.0), 0.0)
    out = np.empty_like(p)
    out[:, :3] = p[:, :3] + (g2 * bp + gamma * p[:, 3])[:, None] * beta
    out[:, 3] = gamma * (p[:, 3] + bp)
    return out


def _two_body(rng: np.random.Generator, parent: np.ndarray, mass: np.ndarray, m1: float, m2: float):
    """Isotropic decay of ``parent`` (n, 4) with invariant mass ``mass`` into daughters of masses m1, m2."""
    n = len(parent)
    m1 = np.broadcast_to(np.asarray(m1, dtype=float), (n,))
    m2 = np.broadcast_to(np.asarray(m2, dtype=float), (n,))
    p = np.sqrt((mass**2 - (m1 + m2) ** 2) * (mass**2 - (m1 - m2) ** 2)) / (2.0 * mass)
    cos_t = rng.uniform(-1.0, 1.0, n)
    sin_t = np.sqrt(1.0 - cos_t**2)
    phi = rng.uniform(-np.pi, np.pi, n)
    d = np.stack([sin_t * np.cos(phi), sin_t * np.sin(phi), cos_t], axis=1) * p[:, None]
    d1 = np.concatenate([d, np.sqrt(p**2 + m1**2)[:, None]], axis=1)
    d2 = np.concatenate([-d, np.sqrt(p**2 + m2**2)[:, None]], axis=1)
    return _boost(d1, parent), _boost(d2, parent)


def _top(rng: np.random.Generator, n: int, mass: np.ndarray) -> np.ndarray:
    pt = rng.exponential(100.0, n)
    eta = rng.normal(0.0, 1.4, n)
    phi = rng.uniform(-np.pi, np.pi, n)
    px, py, pz = pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)
    # a 13 TeV collision: the rare steeper tops (about 1e-4) are tilted back to E <= 6 TeV, so no decay product
    # carries more than sqrt(s) (the readers refuse such events)
    pz_max = np.sqrt(np.maximum(6000.0**2 - pt**2 - mass**2, 0.0))
    pz = np.clip(pz, -pz_max, pz_max)
    return np.stack([px, py, pz, np.sqrt(px**2 + py**2 + pz**2 + mass**2)], axis=1)


def toy_ttbar_partons(n: int, rng: np.random.Generator, *, w_width: float = GAMMA_W) -> np.ndarray:
    """``(n, 24)`` float64 Z features of toy t tbar events; ``w_width=0`` puts both Ws exactly on shell at M_W."""
    m_t = _breit_wigner(rng, n, M_TOP, GAMMA_TOP, 150.0, 200.0)
    m_tbar = _breit_wigner(rng, n, M_TOP, GAMMA_TOP, 150.0, 200.0)
    m_wp = _breit_wigner(rng, n, M_W, w_width, 60.0, 100.0)
    m_wm = _breit_wigner(rng, n, M_W, w_width, 60.0, 100.0)
    top, tbar = _top(rng, n, m_t), _top(rng, n, m_tbar)
    w_plus, b = _two_body(rng, top, m_t, m_wp, M_B)
    w_minus, bbar = _two_body(rng, tbar, m_tbar, m_wm, M_B)
    u, dbar = _two_body(rng, w_plus, m_wp, 0.0, 0.0)
    electron, nubar = _two_body(rng, w_minus, m_wm, 0.0, 0.0)
    return np.concatenate([electron, nubar, b, bbar, u, dbar], axis=1)


def toy_detector_features(z: np.ndarray, rng: np.random.Generator, *, resolution: float = 0.1) -> np.ndarray:
    """``(n, 24)`` X-like features from toy partons: each component smeared by a relative Gaussian ``resolution``.

    Jets are the smeared quarks sorted by descending pT; MET is the smeared nubar (px, py) with pz, E set to junk
    values (as the detector artefacts are). Smearing components independently makes some objects unphysical
    (E < |p|), which exercises the signed-mass convention.
    """
    n = len(z)
    obj = z.reshape(n, 6, 4) * (1.0 + resolution * rng.standard_normal((n, 6, 4)))
    jets = obj[:, 2:]
    order = np.argsort(-np.hypot(jets[..., 0], jets[..., 1]), axis=1)
    obj[:, 2:] = np.take_along_axis(jets, order[..., None], axis=1)
    obj[:, 1, 2] = rng.normal(0.0, 500.0, n)
    obj[:, 1, 3] = np.abs(rng.normal(0.0, 500.0, n))
    return obj.reshape(n, 24)
