"""The selection-efficiency model ε(z): features, learning a known efficiency, its plain-data entry."""

import math

import numpy as np
import pytest
import torch

from tests.conftest import toy_features
from turbosim_hep.evaluation.features import four_vectors, pt_eta_phi_mass
from turbosim_hep.model.efficiency_training import fit_efficiency
from turbosim_hep.simulation.efficiency import FEATURE_NAMES, EfficiencyModel, efficiency_features


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Train on one thread as the project runs (two threads on a shared 2-core machine run the loop ~15x slower)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def constant_efficiency(p: float) -> EfficiencyModel:
    """An efficiency model whose ε(z) is ``p`` for every event (zero weights, the output bias at logit p)."""
    model = EfficiencyModel(hidden=(8,))
    with torch.no_grad():
        for param in model.parameters():
            param.zero_()
        model.net[-1].bias.fill_(math.log(p / (1.0 - p)))
    return model.eval()


def true_efficiency(z: np.ndarray) -> np.ndarray:
    """A known efficiency: high for a hard, central electron, low otherwise (smooth turn-ons)."""
    pt, eta, _, _ = pt_eta_phi_mass(four_vectors(z))
    turn_on = 1.0 / (1.0 + np.exp(-(pt[:, 0] - 50.0) / 10.0)) / (1.0 + np.exp(-(1.5 - np.abs(eta[:, 0])) / 0.3))
    return 0.1 + 0.7 * turn_on


def test_features_are_log_pt_abs_eta_and_delta_r_as_the_numpy_reference():
    from turbosim_hep.evaluation.features import delta_r

    z = toy_features(200, np.random.default_rng(1))
    got = efficiency_features(torch.from_numpy(z).double()).numpy()
    pt, eta, phi, _ = pt_eta_phi_mass(four_vectors(z))
    assert got.shape == (200, len(FEATURE_NAMES)) == (200, 25)
    np.testing.assert_allclose(got[:, :6], np.log(pt), rtol=1e-6)
    np.testing.assert_allclose(got[:, 6:12], np.abs(eta), rtol=1e-6, atol=1e-6)
    j = FEATURE_NAMES.index("dr_b_dbar")
    np.testing.assert_allclose(got[:, j], delta_r(eta[:, 2], phi[:, 2], eta[:, 5], phi[:, 5]), rtol=1e-6, atol=1e-6)


def test_classifier_learns_a_known_efficiency_and_is_calibrated():
    rng = np.random.default_rng(3)
    z = toy_features(12_000, rng)
    eps = true_efficiency(z)
    passed = rng.uniform(size=len(z)) < eps
    u = rng.uniform(size=len(z))
    model, history = fit_efficiency(
        z, passed, u < 0.6, (u >= 0.6) & (u < 0.8), seed=0, epochs=12, batch_size=256, learning_rate=5e-3
    )
    test = u >= 0.8
    got = model.efficiency(z[test])
    assert np.mean(np.abs(got - eps[test])) < 0.05
    assert abs(got.mean() - passed[test].mean()) < 3 * math.sqrt(0.2 / test.sum()) + 0.01
    low, high = got < np.quantile(got, 0.3), got > np.quantile(got, 0.7)  # the ends a recalibration must get right
    for part in (low, high):
        assert abs(got[part].mean() - passed[test][part].mean()) < 4 * math.sqrt(0.25 / part.sum())
    assert history[-1]["epoch"] == len(history) - 1


def test_recalibration_is_monotone_and_undoes_a_distorted_logit():
    from turbosim_hep.model.efficiency_training import fit_recalibration
    from turbosim_hep.simulation.efficiency import recalibrate

    gen = torch.Generator().manual_seed(0)
    true_logit = 2.0 * torch.randn(40_000, generator=gen) - 1.0
    y = (torch.rand(40_000, generator=gen) < torch.sigmoid(true_logit)).float()
    distorted = torch.sign(true_logit) * true_logit.abs() ** 1.5  # too confident at both ends: no Platt line undoes it
    knots, values = fit_recalibration(distorted, y, knots=12)
    assert torch.all(knots[1:] > knots[:-1]) and torch.all(values[1:] >= values[:-1])
    fixed = torch.sigmoid(recalibrate(distorted, knots, values))
    assert torch.mean(torch.abs(fixed - torch.sigmoid(true_logit))) < 0.02
    np.testing.assert_allclose(recalibrate(knots, knots, values), values, atol=1e-5)


def test_training_is_reproducible_with_its_seed():
    rng = np.random.default_rng(4)
    z = toy_features(3000, rng)
    passed = rng.uniform(size=len(z)) < true_efficiency(z)
    train, val = np.arange(3000) < 2000, np.arange(3000) >= 2000
    a, _ = fit_efficiency(z, passed, train, val, seed=5, epochs=2)
    b, _ = fit_efficiency(z, passed, train, val, seed=5, epochs=2)
    np.testing.assert_array_equal(a.efficiency(z), b.efficiency(z))


def test_entry_round_trips_and_a_foreign_entry_is_refused():
    rng = np.random.default_rng(5)
    model = EfficiencyModel(hidden=(16, 8), feature_mean=rng.normal(size=25), feature_std=rng.uniform(1, 2, 25))
    model.provenance = {"events": 10}
    z = toy_features(50, rng)
    back = EfficiencyModel.from_entry(model.to_entry())
    np.testing.assert_array_equal(back.efficiency(z), model.eval().efficiency(z))
    assert back.provenance == {"events": 10} and back.hidden == (16, 8)
    with pytest.raises(ValueError, match="not an efficiency model"):
        EfficiencyModel.from_entry({"format": "something else"}, source="m.pt")


def test_efficiency_is_a_probability_per_event_and_checks_the_shape():
    model = constant_efficiency(0.3)
    got = model.efficiency(toy_features(10, np.random.default_rng(0)))
    assert got.dtype == np.float32 and got.shape == (10,)
    np.testing.assert_allclose(got, 0.3, rtol=1e-6)
    assert model.efficiency(np.zeros((0, 24), np.float32)).shape == (0,)
    with pytest.raises(ValueError, match=r"shape \(n, 24\)"):
        model.efficiency(np.zeros((3, 23)))
