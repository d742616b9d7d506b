import numpy as np
import pytest
from scipy import stats

from turbosim_hep.evaluation import metrics


def test_ks_of_identical_samples_is_zero(rng):
    a = rng.normal(size=1000)
    assert metrics.ks_statistic(a, a.copy()) == 0.0


def test_ks_of_shifted_normals_matches_the_analytic_supremum(rng):
    a = rng.normal(0.0, 1.0, 200_000)
    b = rng.normal(0.5, 1.0, 200_000)
    expected = 2 * stats.norm.cdf(0.25) - 1  # sup |Phi(x) - Phi(x - 0.5)| at x = 0.25
    assert expected == pytest.approx(0.1974, abs=1e-4)
    assert metrics.ks_statistic(a, b) == pytest.approx(expected, abs=0.006)


def test_ks_statistics_is_columnwise_and_checks_shapes(rng):
    a = rng.normal(size=(500, 3))
    b = a + np.array([0.0, 10.0, 0.0])
    ks = metrics.ks_statistics(a, b)
    assert ks.shape == (3,)
    assert ks[0] == 0 and ks[2] == 0 and ks[1] == 1.0
    with pytest.raises(ValueError, match="same k"):
        metrics.ks_statistics(a, b[:, :2])
    with pytest.raises(ValueError, match="non-empty"):
        metrics.ks_statistic(a[:0, 0], b[:, 0])


def test_expected_ks_floor_is_087_sqrt_2_over_n():
    assert metrics.ks_expected_floor(100_000) == pytest.approx(0.87 * np.sqrt(2 / 100_000), rel=2e-3)
    assert 100 * metrics.ks_expected_floor(100_000) == pytest.approx(0.39, abs=0.005)
    assert metrics.ks_expected_floor(100, 300) == pytest.approx(metrics.KS_MEAN_COEFFICIENT * np.sqrt(4 / 300))
    with pytest.raises(ValueError, match="positive"):
        metrics.ks_expected_floor(0)


def test_statistical_floor_matches_expectation_and_scales_like_one_over_sqrt_n():
    # 100 halvings per size: the mean's spread is ~3 % and the ratio's ~5 %, so the bands below are five standard
    # deviations wide (with 12 halvings the ratio ranged 3.1-4.6 over seeds 0-7, checked once by hand)
    rng = np.random.default_rng(7)
    means = {}
    for n in (2_000, 32_000):
        draws = [metrics.statistical_floor(rng.exponential(size=n), seed=s) for s in range(100)]
        means[n] = np.mean(draws)
        # halves of n events: E[KS] = 0.87 sqrt(2 / (n/2))
        assert means[n] == pytest.approx(metrics.ks_expected_floor(n // 2), rel=0.2)
    assert means[2_000] / means[32_000] == pytest.approx(4.0, rel=0.25)


def test_statistical_floor_accepts_a_fixed_half_and_any_statistic(rng):
    t = rng.normal(size=101)
    half = np.arange(101) < 50
    assert metrics.statistical_floor(t, metrics.wasserstein1, half=half) == pytest.approx(
        stats.wasserstein_distance(t[:50], t[50:])
    )
    with pytest.raises(ValueError, match="half mask"):
        metrics.statistical_floor(t, half=half[:-1])


def test_w1_of_shifted_samples_is_the_shift(rng):
    a = rng.normal(50.0, 10.0, 50_000)
    assert metrics.wasserstein1(a, a + 3.0) == pytest.approx(3.0, abs=1e-9)
    b = rng.normal(53.0, 10.0, 50_000)
    assert metrics.wasserstein1(a, b) == pytest.approx(3.0, abs=0.2)


def test_reduced_chi2_is_about_one_for_one_distribution_and_large_for_two(rng):
    a, b = rng.normal(size=40_000), rng.normal(size=60_000)
    assert 0.4 < metrics.reduced_chi2(a, b) < 2.0
    assert metrics.reduced_chi2(a, b + 0.3) > 20


def test_reduced_chi2_skips_bins_empty_in_both_samples():
    # two clusters at the ends of the range: 18 of the 20 bins are empty in both samples
    a = np.r_[np.zeros(30), np.full(70, 10.0)]
    b = np.r_[np.zeros(50), np.full(50, 10.0)]
    got = metrics.reduced_chi2(a, b, range=(0.0, 10.0))
    n_i, m_i = np.array([30.0, 70.0]), np.array([50.0, 50.0])
    chi2 = np.sum((100 * n_i - 100 * m_i) ** 2 / (n_i + m_i)) / (100 * 100)
    assert np.isfinite(got)
    assert got == pytest.approx(chi2 / 1)


def test_reduced_chi2_of_a_constant_sample_is_nan_and_outliers_land_in_edge_bins():
    assert np.isnan(metrics.reduced_chi2(np.ones(50), np.ones(60)))
    a = np.r_[np.linspace(0, 1, 1000)]
    b = np.r_[np.linspace(0, 1, 1000)[:-1], 1e9]  # one far outlier neither stretches the bins nor vanishes
    assert metrics.reduced_chi2(a, b) < 0.1


def test_classifier_auc_is_half_on_one_distribution_and_one_on_separated_samples():
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=(3000, 5)), rng.normal(size=(3000, 5))
    auc = metrics.classifier_auc(a, b, max_iter=50, seed=1)
    assert abs(auc - 0.5) < 4 * metrics.auc_null_std(3000, 3000) + 0.01
    far = rng.normal(size=(3000, 5)) + np.array([0, 0, 4.0, 0, 0])
    assert metrics.classifier_auc(a, far, max_iter=50, seed=1) > 0.97


def test_classifier_auc_is_seeded_and_tolerates_nan(rng):
    a, b = rng.normal(size=(800, 3)), rng.normal(0.3, 1, size=(800, 3))
    a[::50, 1] = np.nan
    b[::70, 2] = np.inf
    first = metrics.classifier_auc(a, b, max_iter=30, seed=4)
    assert first == metrics.classifier_auc(a, b, max_iter=30, seed=4)
    assert 0.55 < first < 0.9
