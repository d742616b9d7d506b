import numpy as np
import pytest

from turbosim_hep.evaluation.response import (
    DEFAULT_PT_BINS_GEV,
    RESPONSE_GROUPS,
    conditional_response,
    match_jets_to_quarks,
    response_ratios,
)


def test_matching_recovers_the_quark_each_jet_came_from(ttbar):
    z, _ = ttbar
    x = z.copy()
    obj = x.reshape(len(x), 6, 4)
    perm = np.random.default_rng(1).permuted(np.tile(np.arange(4), (len(x), 1)), axis=1)
    obj[:, 2:] = np.take_along_axis(obj[:, 2:], perm[..., None], axis=1)
    jet_index, matched = match_jets_to_quarks(z, x)
    truth = np.argsort(perm, axis=1)  # quark q sits in jet slot truth[q]
    assert matched.all()
    np.testing.assert_array_equal(jet_index, truth)


def test_response_of_identical_samples_has_zero_ks_in_every_bin(ttbar):
    z, x = ttbar
    res = conditional_response(z, x, x.copy())
    n_bins = len(DEFAULT_PT_BINS_GEV) - 1
    assert len(res.bins) == len(RESPONSE_GROUPS) * n_bins
    for group in RESPONSE_GROUPS:
        ks = res.ks(group)
        assert ks.shape == (n_bins,)
        assert np.all(ks[np.isfinite(ks)] == 0)
    assert res.efficiency_full["b jet"] > 0.95


def test_response_sees_a_jet_scale_error_that_the_floor_does_not(ttbar, toy_detector_fn):
    z, x = ttbar
    rng = np.random.default_rng(11)
    good = conditional_response(z, x, toy_detector_fn(z, rng))
    bad = conditional_response(z, x, toy_detector_fn(z, rng, jet_scale=1.15))
    for b in good.bins:
        if b.n_full > 500:
            assert b.ks < 3 * b.ks_floor, b
    for b in bad.bins:
        if b.group != "electron" and b.n_full > 500:
            assert b.ks > 5 * b.ks_floor, b
            assert b.median_turbo / b.median_full == pytest.approx(1.15, rel=0.03)
    # the electron is untouched by the jet scale
    for b in bad.bins:
        if b.group == "electron" and b.n_full > 0:
            assert b.ks < 3 * b.ks_floor, b


def test_response_ratios_are_nan_for_unmatched_objects(ttbar):
    z, x = ttbar
    x = x.copy()
    x[:5, 0:3] *= -1  # electron flipped: far away in phi
    ratio, parton_pt, matched = response_ratios(z[:50], x[:50])
    assert ratio.shape == parton_pt.shape == matched.shape == (50, 5)
    assert not matched[:5, 0].any() and np.isnan(ratio[:5, 0]).all()
    assert matched[5:, 0].all()


def test_response_rejects_unpaired_inputs(ttbar):
    z, x = ttbar
    with pytest.raises(ValueError, match="paired"):
        conditional_response(z, x[:10], x[:10])
    with pytest.raises(ValueError, match="pt_bins"):
        conditional_response(z, x, x, pt_bins=(50.0, 10.0))
