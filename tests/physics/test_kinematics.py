import numpy as np
import vector

from turbosim_hep.physics.kinematics import (
    p4_from_ptetaphim,
    p4_from_ptetaphim_reference,
    ptetaphim_from_p4,
    ptetaphim_from_p4_reference,
)


def _sample(rng, n=5000):
    pt = rng.uniform(0.0, 500.0, n)
    eta = rng.uniform(-5.0, 5.0, n)
    phi = rng.uniform(-np.pi, np.pi, n)
    mass = rng.uniform(-20.0, 50.0, n)  # negative: off-shell network outputs
    return pt, eta, phi, mass


def test_kernels_match_their_numpy_twins(rng):
    pt, eta, phi, mass = _sample(rng)
    p4 = p4_from_ptetaphim(pt, eta, phi, mass)
    np.testing.assert_allclose(p4, p4_from_ptetaphim_reference(pt, eta, phi, mass), rtol=1e-12, atol=1e-9)
    for got, want in zip(ptetaphim_from_p4(p4), ptetaphim_from_p4_reference(p4), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-6)


def test_round_trip_and_agreement_with_vector(rng):
    pt, eta, phi, mass = _sample(rng)
    mass = np.abs(mass)
    p4 = p4_from_ptetaphim(pt.reshape(50, 100), eta.reshape(50, 100), phi.reshape(50, 100), mass.reshape(50, 100))
    assert p4.shape == (50, 100, 4)
    v = vector.array({"pt": pt, "eta": eta, "phi": phi, "mass": mass})
    np.testing.assert_allclose(p4.reshape(-1, 4)[:, 3], v.E, rtol=1e-9)
    back = ptetaphim_from_p4(p4)
    np.testing.assert_allclose(back[0].ravel(), pt, rtol=1e-9)
    np.testing.assert_allclose(back[1].ravel(), eta, rtol=1e-7, atol=1e-9)


def test_float32_inputs_are_computed_in_float64():
    p4 = np.array([[1000.0, 0.0, 0.0, 1000.0001]], dtype=np.float32)
    pt, _, _, mass = ptetaphim_from_p4(p4)
    assert pt.dtype == np.float64 and mass.dtype == np.float64
    assert np.isfinite(mass).all()


def test_zero_pt_gives_infinite_eta_with_the_sign_of_pz():
    _, eta, _, _ = ptetaphim_from_p4(np.array([[0.0, 0.0, -5.0, 5.0], [0.0, 0.0, 5.0, 5.0]]))
    assert eta[0] == -np.inf and eta[1] == np.inf
