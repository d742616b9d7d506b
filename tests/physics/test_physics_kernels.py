"""The numba kernels against the vector reference and against constructed kinematics."""

from __future__ import annotations

import numpy as np
import pytest
import vector

from turbosim_hep.constants import M_TOP_GEV, M_W_GEV
from turbosim_hep.physics import kernels
from turbosim_hep.physics.reconstruction import reconstruct_features

SIGMAS = (5.0, 10.0, 15.0)
FLOAT_KEYS = ("m_tt", "m_w_had", "m_w_lep", "m_t_lep", "m_t_had", "chi2", "nu_pz")
INDEX_KEYS = ("b_lep", "b_had", "q1", "q2", "complex_root")


@pytest.fixture(scope="module")
def smeared_x(toy) -> np.ndarray:
    rng = np.random.default_rng(20211220)
    return toy.toy_detector_features(toy.toy_ttbar_partons(10_000, rng), rng, resolution=0.15)


def test_kernels_agree_with_vector_reference_on_10k_random_events(smeared_x, reference):
    got = reconstruct_features(smeared_x, level="reco")
    want = reference.reconstruct(smeared_x.reshape(-1, 6, 4))
    # the sample must exercise both root types and the signed-mass branch
    assert 0.02 < got["complex_root"].mean() < 0.9
    assert (got["m_t_had"] < 0).any() or (got["m_w_had"] < 0).any()
    for key in INDEX_KEYS:
        np.testing.assert_array_equal(got[key], want[key], err_msg=key)
    for key in FLOAT_KEYS:
        np.testing.assert_allclose(got[key], want[key], rtol=1e-6, atol=1e-6, err_msg=key)


def test_kernels_agree_with_vector_reference_with_true_neutrino(toy, reference):
    z = toy.toy_ttbar_partons(2000, np.random.default_rng(5))
    got = reconstruct_features(z, level="parton", neutrino="true")
    want = reference.reconstruct(z.reshape(-1, 6, 4), true_neutrino=True)
    for key in INDEX_KEYS:
        np.testing.assert_array_equal(got[key], want[key], err_msg=key)
    for key in FLOAT_KEYS:
        np.testing.assert_allclose(got[key], want[key], rtol=1e-6, atol=1e-6, err_msg=key)


def test_neutrino_pz_recovers_true_pz_when_w_on_shell(toy):
    z = toy.toy_ttbar_partons(5000, np.random.default_rng(1), w_width=0.0).reshape(-1, 6, 4)
    ele, nu = z[:, 0], z[:, 1]
    pz, is_complex = kernels.neutrino_pz(ele[:, 0], ele[:, 1], ele[:, 2], ele[:, 3], nu[:, 0], nu[:, 1], M_W_GEV)
    assert not is_complex.any()
    # the other root from Vieta: pz_true * pz_other = c / a
    k = 0.5 * M_W_GEV**2 + ele[:, 0] * nu[:, 0] + ele[:, 1] * nu[:, 1]
    a = ele[:, 3] ** 2 - ele[:, 2] ** 2
    c = ele[:, 3] ** 2 * (nu[:, 0] ** 2 + nu[:, 1] ** 2) - k**2
    other = c / (a * nu[:, 2])
    true_is_smaller = np.abs(nu[:, 2]) <= np.abs(other)
    np.testing.assert_allclose(pz[true_is_smaller], nu[true_is_smaller, 2], rtol=1e-7, atol=1e-6)
    np.testing.assert_allclose(pz[~true_is_smaller], other[~true_is_smaller], rtol=1e-7, atol=1e-6)
    # and either root puts e + nu exactly on the W mass
    nu_e = np.sqrt(nu[:, 0] ** 2 + nu[:, 1] ** 2 + pz**2)
    m_w = kernels.invariant_mass(np.stack([ele, np.column_stack([nu[:, :2], pz, nu_e])], axis=1))
    np.testing.assert_allclose(m_w, M_W_GEV, rtol=1e-9)
    fraction = true_is_smaller.mean()
    print(f"smaller-|pz| root is the true one in {fraction:.1%} of on-shell toy events")
    assert 0.5 < fraction < 0.8


def test_neutrino_pz_complex_root_returns_real_part_and_flag():
    # transverse mass of e + MET (80 GeV back to back... 89 GeV) exceeds m_W: no real solution
    ele = np.array([[40.0, 0.0, 30.0, 50.0]])
    met = np.array([[-50.0, 0.0]])
    pz, is_complex = kernels.neutrino_pz(ele[:, 0], ele[:, 1], ele[:, 2], ele[:, 3], met[:, 0], met[:, 1], M_W_GEV)
    k = 0.5 * M_W_GEV**2 - 40.0 * 50.0
    a, b = 50.0**2 - 30.0**2, -2.0 * k * 30.0
    assert is_complex.tolist() == [True]
    assert pz[0] == pytest.approx(-b / (2.0 * a), rel=1e-12)


def test_neutrino_pz_degenerate_electron_along_beam():
    one = np.ones(1)
    pz, flag = kernels.neutrino_pz(0 * one, 0 * one, 30 * one, 30 * one, 20 * one, 0 * one, M_W_GEV)
    nu = np.array([[20.0, 0.0, pz[0], np.hypot(20.0, pz[0])]])
    ele = np.array([[0.0, 0.0, 30.0, 30.0]])
    assert not flag[0]
    assert kernels.invariant_mass(np.stack([ele, nu], axis=1))[0] == pytest.approx(M_W_GEV, rel=1e-9)
    pz, flag = kernels.neutrino_pz(0 * one, 0 * one, 0 * one, 0 * one, 20 * one, 0 * one, M_W_GEV)
    assert np.isnan(pz[0]) and not flag[0]


def test_signed_negative_mass_matches_vector_convention():
    p = np.array([[[3.0, 0.0, 0.0, 2.0]], [[0.0, 4.0, 0.0, 5.0]], [[1.0, 1.0, 1.0, np.sqrt(3.0)]]])
    got = kernels.invariant_mass(p)
    want = vector.zip({"px": p[:, 0, 0], "py": p[:, 0, 1], "pz": p[:, 0, 2], "E": p[:, 0, 3]}).mass
    np.testing.assert_allclose(got, [-np.sqrt(5.0), 3.0, 0.0], atol=1e-7)
    np.testing.assert_allclose(got, np.asarray(want), atol=1e-7)


def test_signed_negative_mass_reaches_reconstructed_masses():
    # jets with E far below |p| (an unphysical network output): every W / top candidate has m^2 < 0
    x = np.zeros((1, 6, 4))
    x[0, 0] = [30.0, 0.0, 0.0, 30.0]
    x[0, 1] = [-20.0, 10.0, 0.0, 0.0]
    x[0, 2] = [100.0, 0.0, 0.0, 10.0]
    x[0, 3] = [0.0, 100.0, 0.0, 10.0]
    x[0, 4] = [0.0, 0.0, 100.0, 10.0]
    x[0, 5] = [60.0, 60.0, 60.0, 10.0]
    out = reconstruct_features(x.reshape(1, 24), level="reco")
    jets = x[0, 2:]

    def signed(*idx: int) -> float:
        s = jets[list(idx)].sum(axis=0)
        m2 = s[3] ** 2 - s[:3] @ s[:3]
        return float(np.copysign(np.sqrt(abs(m2)), m2))

    q1, q2, bh = (int(out[k][0]) for k in ("q1", "q2", "b_had"))
    assert out["m_w_had"][0] < 0 and out["m_t_had"][0] < 0
    assert out["m_w_had"][0] == pytest.approx(signed(q1, q2), rel=1e-12)
    assert out["m_t_had"][0] == pytest.approx(signed(q1, q2, bh), rel=1e-12)


def test_assignment_does_not_depend_on_jet_order(toy):
    rng = np.random.default_rng(11)
    z = toy.toy_ttbar_partons(3000, rng).reshape(-1, 6, 4)
    lep, nu, jets = np.ascontiguousarray(z[:, 0]), np.ascontiguousarray(z[:, 1]), np.ascontiguousarray(z[:, 2:])
    base, chi2 = kernels.assign_jets(lep, nu, jets, M_W_GEV, M_TOP_GEV, *SIGMAS)
    perm = rng.permuted(np.tile(np.arange(4), (len(z), 1)), axis=1)
    shuffled = np.take_along_axis(jets, perm[..., None], axis=1)
    got, chi2_shuffled = kernels.assign_jets(lep, nu, shuffled, M_W_GEV, M_TOP_GEV, *SIGMAS)
    back = np.take_along_axis(perm, got, axis=1)  # shuffled slot -> original slot
    np.testing.assert_array_equal(back[:, :2], base[:, :2])
    np.testing.assert_array_equal(np.sort(back[:, 2:], axis=1), base[:, 2:])
    np.testing.assert_allclose(chi2_shuffled, chi2, rtol=1e-9, atol=1e-9)


def test_non_finite_inputs_give_nan_and_minus_one_not_a_number():
    x = np.full((2, 24), 50.0)
    x[0] = np.nan
    out = reconstruct_features(x, level="reco")
    assert np.isnan(out["chi2"][0]) and np.isnan(out["m_t_had"][0]) and np.isnan(out["m_tt"][0])
    assert [int(out[k][0]) for k in ("b_lep", "b_had", "q1", "q2")] == [-1, -1, -1, -1]


def test_empty_input_gives_empty_outputs():
    out = reconstruct_features(np.zeros((0, 24), dtype=np.float32), level="parton")
    assert all(len(v) == 0 for v in out.values())
    assert {"m_tt", "m_w_had", "m_t_lep", "m_t_had", "chi2", "b_correct"} <= set(out)


def test_ties_go_to_the_first_assignment_in_lexicographic_order(reference):
    assert len(reference.COMBINATIONS) == kernels.N_COMBINATIONS
    lep = np.array([[30.0, 0.0, 10.0, np.hypot(30.0, 10.0)]])
    nu = np.array([[-20.0, 5.0, 0.0, np.hypot(20.0, 5.0)]])
    jets = np.tile(np.array([40.0, 30.0, 20.0, 60.0]), (1, 4, 1))  # four identical jets: all 12 chi^2 equal
    assignment, _ = kernels.assign_jets(lep, nu, jets, M_W_GEV, M_TOP_GEV, *SIGMAS)
    assert tuple(assignment[0]) == reference.COMBINATIONS[0] == (0, 3, 1, 2)
