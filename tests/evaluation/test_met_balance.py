"""The missing-pT balance: each object's pT response beside the missing pT along it, model against full simulation."""

from __future__ import annotations

import numpy as np
import torch

from tests.conftest import toy_features
from turbosim_hep.evaluation.met_balance import BALANCE_OBJECTS, balance_observables, met_balance_correlations


def _detector(z: np.ndarray, rng: np.random.Generator, *, carried: bool) -> np.ndarray:
    """Detector events from partons ``z``: every visible object's momentum times a log-normal response (σ 0.2), the
    missing pT the neutrino's minus the objects' mismeasurement (``carried``) or plus an independent one."""
    objects = z.reshape(-1, 6, 4).astype(np.float64).copy()
    response = np.exp(0.2 * rng.standard_normal((len(objects), 6, 1)))
    response[:, 1] = 1.0
    reco = objects * response
    lost = (reco - objects)[:, [0, 2, 3, 4, 5], :2].sum(1)
    if not carried:
        lost = lost[rng.permutation(len(lost))]
    reco[:, 1, :2] = objects[:, 1, :2] - lost
    return reco.reshape(-1, 24)


def test_balance_is_the_response_beside_the_missing_pt_along_the_parton_and_tells_a_broken_balance():
    rng = np.random.default_rng(0)
    z = toy_features(3000, rng).astype(np.float64)
    x, broken = _detector(z, rng, carried=True), _detector(z, rng, carried=False)
    obs = balance_observables(z, x)
    assert set(obs) == set(BALANCE_OBJECTS) and obs["b"].shape == (3000, 2)
    zp = z.reshape(-1, 6, 4)
    np.testing.assert_allclose(obs["electron"][:, 0], np.log(np.hypot(*x[:, :2].T) / np.hypot(*zp[:, 0, :2].T)))
    phi = np.arctan2(zp[:, 2, 1], zp[:, 2, 0])
    along = (x[:, 4] - z[:, 4]) * np.cos(phi) + (x[:, 5] - z[:, 5]) * np.sin(phi)
    np.testing.assert_allclose(obs["b"][:, 1], along)

    card = met_balance_correlations(z, x, broken, n_boot=20)
    assert card["b"]["full"] < -0.2  # a softer b jet leaves more missing pT along it
    for name in BALANCE_OBJECTS:
        assert abs(card[name]["model"]) < 0.1  # the broken balance has none
        assert card[name]["shift"] > 3 * card[name]["spread"] > 0
    same = met_balance_correlations(z, x, x, n_boot=5)
    assert all(v["shift"] == 0.0 for v in same.values())


def test_the_training_losss_balance_groups_are_the_evaluations():
    from turbosim_hep.model.observables import response_observables

    rng = np.random.default_rng(1)
    z = toy_features(500, rng).astype(np.float64)
    x = _detector(z, rng, carried=True)
    model = response_observables(torch.from_numpy(x), torch.from_numpy(z), balance=True)
    evaluation = balance_observables(z, x)
    for name in BALANCE_OBJECTS:
        got = model[f"{name}_balance"].numpy()
        np.testing.assert_allclose(got[:, 0], evaluation[name][:, 0], atol=1e-9)
        np.testing.assert_allclose(got[:, 1] * 50.0, evaluation[name][:, 1], atol=1e-7)
