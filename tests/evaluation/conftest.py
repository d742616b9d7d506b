"""Seeded toy t tbar samples for the evaluation tests: LHE-like partons, a toy detector, a fake Turbo-Sim model.

The partons come from real two-body decays (t -> b W, W -> q q' / e nu) of a t tbar pair, so the reconstructed
masses peak where they should; the toy detector smears the electron by 2 % and the jets by 12 % in pT, makes
everything massless and sorts the jets by pT, as the OTUS files do.
"""

from __future__ import annotations

import numpy as np
import pytest

from turbosim_hep.constants import M_TOP_GEV, M_W_GEV

M_B = 4.7


def _boost(p: np.ndarray, parent: np.ndarray) -> np.ndarray:
    """Boost four-vectors ``p`` (n, 4: px, py, pz, E) from the rest frame of ``parent`` (n, 4) to the lab."""
    m = np.sqrt(np.maximum(parent[:, 3] ** 2 - (parent[:, :3] ** 2).sum(1), 1e-12))
    beta = parent[:, :3] / parent[:, 3:4]
    gamma = parent[:, 3] / m
    bp = (beta * p[:, :3]).sum(1)
    b2 = (beta**2).sum(1)
    coef = np.where(b2 > 0, (gamma - 1) * bp / np.where(b2 > 0, b2, 1), 0.0) + gamma * p[:, 3]
    out = np.empty_like(p)
    out[:, :3] = p[:, :3] + coef[:, None] * beta
    out[:, 3] = gamma * (p[:, 3] + bp)
    return out


def _two_body(parent: np.ndarray, m1: np.ndarray, m2: np.ndarray, rng: np.random.Generator):
    n = len(parent)
    m = np.sqrt(np.maximum(parent[:, 3] ** 2 - (parent[:, :3] ** 2).sum(1), 1e-12))
    p = np.sqrt(np.maximum((m**2 - (m1 + m2) ** 2) * (m**2 - (m1 - m2) ** 2), 0)) / (2 * m)
    cos = rng.uniform(-1, 1, n)
    phi = rng.uniform(-np.pi, np.pi, n)
    sin = np.sqrt(1 - cos**2)
    d = np.stack([sin * np.cos(phi), sin * np.sin(phi), cos], 1) * p[:, None]
    a = np.concatenate([d, np.sqrt(p**2 + m1**2)[:, None]], 1)
    b = np.concatenate([-d, np.sqrt(p**2 + m2**2)[:, None]], 1)
    return _boost(a, parent), _boost(b, parent)


def toy_partons(n: int, rng: np.random.Generator) -> np.ndarray:
    """(n, 24) float64 Z: e-, nubar, b, bbar, u, dbar x (px, py, pz, E) [GeV] from t tbar decays."""
    m_t = M_TOP_GEV + 1.4 * rng.standard_normal((2, n))
    m_w = np.clip(M_W_GEV + 2.1 * rng.standard_cauchy((2, n)), 60.0, 100.0)
    m_tt = 2 * M_TOP_GEV + 20 + rng.exponential(150.0, n)
    y = rng.normal(0.0, 0.8, n)
    system = np.stack([np.zeros(n), np.zeros(n), m_tt * np.sinh(y), m_tt * np.cosh(y)], 1)
    top, atop = _two_body(system, m_t[0], m_t[1], rng)
    b, w_plus = _two_body(top, np.full(n, M_B), m_w[0], rng)
    bbar, w_minus = _two_body(atop, np.full(n, M_B), m_w[1], rng)
    u, dbar = _two_body(w_plus, np.zeros(n), np.zeros(n), rng)
    e, nu = _two_body(w_minus, np.zeros(n), np.zeros(n), rng)
    return np.concatenate([e, nu, b, bbar, u, dbar], 1)


def toy_detector(z: np.ndarray, rng: np.random.Generator, *, jet_scale: float = 1.0) -> np.ndarray:
    """(n, 24) float64 X from Z: smeared massless electron, MET, four pT-sorted jets [GeV]."""
    obj = np.asarray(z, dtype=np.float64).reshape(len(z), 6, 4)
    pt = np.hypot(obj[..., 0], obj[..., 1])
    eta = np.arcsinh(obj[..., 2] / pt)
    phi = np.arctan2(obj[..., 1], obj[..., 0])
    res = np.array([0.02, 0, 0.12, 0.12, 0.12, 0.12])
    scale = np.array([1.0, 1.0, *(4 * [0.97 * jet_scale])])
    pt_s = pt * scale * (1 + res * rng.standard_normal(pt.shape))
    eta_s = eta + 0.03 * rng.standard_normal(eta.shape) * (res > 0)
    eta_s = np.clip(eta_s, -4.9, 4.9)  # the detector's coverage (the readers refuse objects beyond |eta| = 5.5)
    phi_s = phi + 0.03 * rng.standard_normal(phi.shape) * (res > 0)
    px, py, pz = pt_s * np.cos(phi_s), pt_s * np.sin(phi_s), pt_s * np.sinh(eta_s)
    out = np.stack([px, py, pz, np.sqrt(px**2 + py**2 + pz**2)], -1)
    vis = out[:, [0, 2, 3, 4, 5]]
    met = -vis[..., :3].sum(1)
    met[:, :2] = obj[:, 1, :2] + 15.0 * rng.standard_normal((len(z), 2))
    out[:, 1, :3] = met
    out[:, 1, 3] = np.linalg.norm(met, axis=1)
    jets = out[:, 2:]
    order = np.argsort(-np.hypot(jets[..., 0], jets[..., 1]), axis=1)
    out[:, 2:] = np.take_along_axis(jets, order[..., None], axis=1)
    return out.reshape(len(z), 24)


class FakeTransform:
    """Stand-in for ``TurboSimTransform``: D = the toy detector (noise seeded per call), E = truth lookup + noise."""

    def __init__(self, z: np.ndarray, event: np.ndarray, *, unfold_noise_gev: float = 1.0, jet_scale: float = 1.0):
        self._z = {int(e): row for e, row in zip(event, np.asarray(z, dtype=np.float64), strict=True)}
        self.unfold_noise_gev = unfold_noise_gev
        self.jet_scale = jet_scale
        self.calls: list[str] = []

    def simulate_features(self, z, *, run, luminosity_block, event):
        self.calls.append("simulate")
        rng = np.random.default_rng(int(np.sum(event)) + 17)
        return toy_detector(z, rng, jet_scale=self.jet_scale)

    def unfold_features(self, x, *, run, luminosity_block, event):
        self.calls.append("unfold")
        rng = np.random.default_rng(int(np.sum(event)) + 29)
        z = np.stack([self._z[int(e)] for e in event])
        return z + self.unfold_noise_gev * rng.standard_normal(z.shape)


@pytest.fixture(scope="session")
def ttbar():
    """(z, x): 4000 toy t tbar events, parton and toy-detector level, float64."""
    rng = np.random.default_rng(2021)
    z = toy_partons(4000, rng)
    return z, toy_detector(z, rng)


@pytest.fixture(scope="session")
def fresh_partons():
    """Two more independent 4000-event parton samples of the same law as ``ttbar``'s (a perfect generator's)."""
    rng = np.random.default_rng(77)
    return toy_partons(4000, rng), toy_partons(4000, rng)


@pytest.fixture(scope="session")
def toy_detector_fn():
    return toy_detector


@pytest.fixture(scope="session")
def fake_transform_cls():
    return FakeTransform
