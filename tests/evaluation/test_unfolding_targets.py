"""The unfolding's must-show figures (issue 21): each judged, each able to fail, none silently dropped."""

from __future__ import annotations

import numpy as np
import pytest

from turbosim_hep.evaluation.classifiers import classifier_scorecard
from turbosim_hep.evaluation.non_regression import no_worse_than
from turbosim_hep.evaluation.samples import FeatureSet
from turbosim_hep.evaluation.scorecard import scorecard
from turbosim_hep.evaluation.scoring import draw_subset, score_transform
from turbosim_hep.evaluation.targets import scorecard_targets
from turbosim_hep.evaluation.uncertainty import verdict
from turbosim_hep.evaluation.unfolding_targets import unfolding_figures

COLUMNS = [
    "off-shell", "m_w_had KS", "m_t_had KS", "m_t_lep KS", "m_w_lep KS", "m_tt KS",
    "p_y^b KS", "p_y^b KS", "p_z^b KS", "p_z^b KS", "E^b KS", "E^b KS", "rich Z AUC", "pair AUC",
    "cov68 top_pt_had", "cov68 top_pt_lep", "cov68 m_tt", "cov68 y_tt", "cov68 nu_pz", "refold AUC", "prior recovered",
]  # fmt: skip


@pytest.fixture(scope="module")
def half(ttbar):
    return np.random.default_rng(5).random(len(ttbar[0])) < 0.5


def _posterior_draws(z: np.ndarray, width: float, *, k: int = 20, seed: int = 0) -> np.ndarray:
    """Draws of a toy posterior around a fake measurement m = z + 5 GeV·ε₀ per component, ``width`` × 5 GeV wide.

    With ``width`` 1 the truth and the draws are exchangeable given m (both m + 5 GeV·N(0, 1)): calibrated for any
    function of z.
    """
    rng = np.random.default_rng(seed)
    m = z + 5.0 * rng.standard_normal(z.shape)
    return m[None] + width * 5.0 * rng.standard_normal((k, *z.shape))


def test_the_unfolding_classifiers_tell_apart_what_differs_and_not_two_halves_of_one(
    ttbar, fresh_partons, toy_detector_fn, half
):
    z, x = ttbar
    tests = ("rich_z", "pair_unfolding", "refolding")
    honest = {"z_tilde": z, "x_hat": toy_detector_fn(z, np.random.default_rng(12))}
    # a posterior that ignores x: partons of the right law, of other events; a refolding 10 % too hot in jet energy
    ignoring = {"z_tilde": fresh_partons[0], "x_hat": toy_detector_fn(z, np.random.default_rng(12), jet_scale=1.1)}
    good = classifier_scorecard(z, x, honest, half, tests=tests)
    bad = classifier_scorecard(z, x, ignoring, half, tests=tests)
    for key, bound in (("rich_z", 0.65), ("pair_unfolding", 0.70), ("refolding", 0.65)):
        assert verdict(good[key]["auc"], bound, good[key]["spread"]) == "met", (key, good[key])
    assert verdict(bad["rich_z"]["auc"], 0.65, bad["rich_z"]["spread"]) == "met"  # the marginal is right ...
    assert bad["pair_unfolding"]["auc"] > 0.9  # ... but not the event's own partons
    assert verdict(bad["refolding"]["auc"], 0.65, bad["refolding"]["spread"]) == "missed"


def test_every_must_show_figure_is_listed_in_the_issues_order_even_when_not_computed(ttbar, toy_detector_fn, half):
    z, x = ttbar
    outputs = {"x_tilde": toy_detector_fn(z, np.random.default_rng(13)), "z_tilde": z}
    figures = unfolding_figures(scorecard(z, x, outputs, half, classifier=False))
    assert [f.column for f in figures] == COLUMNS
    skipped = {f.column for f in figures if f.missing}
    assert skipped == {c for c in COLUMNS if "AUC" in c or c.startswith("cov68")}
    assert all(f.verdict == "missed" for f in figures if f.missing)  # not computed proves nothing
    targets = {t for t, _, _ in scorecard_targets(scorecard(z, x, outputs, half, classifier=False))}
    assert not any("not computed" in t or "no posterior draws" in t for t in targets)


def test_a_calibrated_posterior_meets_the_coverage_target_and_a_too_narrow_one_misses_it(ttbar, toy_detector_fn, half):
    z, x = ttbar
    outputs = {"x_tilde": toy_detector_fn(z, np.random.default_rng(14)), "z_tilde": z}
    rows = np.arange(0, len(z), 2)  # the draws of half the events, as quality.py --draw-events does
    verdicts = {}
    for width in (1.0, 0.3):
        card = scorecard(z, x, outputs, half, draws=_posterior_draws(z[rows], width), draw_rows=rows,
                         classifier=False)  # fmt: skip
        cov = {f.column: f for f in unfolding_figures(card) if f.column.startswith("cov68")}
        n_events = [c["n_events"] for c in card["unfolding"]["calibration"].values()]
        assert max(n_events) == len(rows) and min(n_events) > 0.99 * len(rows)  # a few smeared draws are unphysical
        verdicts[width] = {c: f.verdict for c, f in cov.items()}
        if width == 0.3:
            assert all(f.value < 0.6 for f in cov.values()), cov
    assert set(verdicts[1.0].values()) <= {"met", "within noise"}, verdicts[1.0]
    assert set(verdicts[0.3].values()) == {"missed"}


def test_draws_of_the_wrong_shape_are_refused(ttbar, toy_detector_fn, half):
    z, x = ttbar
    outputs = {"x_tilde": toy_detector_fn(z, np.random.default_rng(15)), "z_tilde": z}
    with pytest.raises(ValueError, match=r"draws must have shape \(K, 10, 24\)"):
        scorecard(z, x, outputs, half, draws=np.zeros((4, 11, 24)), draw_rows=np.arange(10), classifier=False)


def test_the_drawn_events_depend_on_the_event_ids_only():
    rng = np.random.default_rng(16)
    n = 1000
    feats = FeatureSet(rng.normal(size=(n, 24)), rng.normal(size=(n, 24)), np.full(n, 7), np.ones(n, int),
                       rng.permutation(10 * n)[:n])  # fmt: skip
    order = rng.permutation(n)
    shuffled = FeatureSet(feats.z[order], feats.x[order], feats.run[order], feats.luminosity_block[order],
                          feats.event[order])  # fmt: skip
    rows, rows_shuffled = draw_subset(feats, 300), draw_subset(shuffled, 300)
    assert len(rows) == 300 and len(np.unique(rows)) == 300
    assert set(feats.event[rows]) == set(shuffled.event[rows_shuffled])
    assert draw_subset(feats, n) is None and draw_subset(feats, None) is None
    with pytest.raises(ValueError, match="draw_events"):
        draw_subset(feats, 0)


def test_score_transform_draws_the_posterior_of_the_chosen_events_only(ttbar, fake_transform_cls):
    z, x = ttbar
    n = len(z)
    feats = FeatureSet(z, x, np.full(n, 3), np.ones(n, int), np.arange(n))
    report, _, _ = score_transform(fake_transform_cls(z, feats.event), feats, classifier=False, response=False,
                                   n_draws=3, draw_events=500)  # fmt: skip
    cal = report.scorecard["unfolding"]["calibration"]
    assert {c["n_events"] for c in cal.values()} == {500} and {c["n_draws"] for c in cal.values()} == {3}


def test_a_simulation_made_worse_is_caught_and_an_unchanged_one_is_not(ttbar, toy_detector_fn, half):
    z, x = ttbar
    same = toy_detector_fn(z, np.random.default_rng(17))
    ref = scorecard(z, x, {"x_tilde": same}, half, classifier=False)
    again = no_worse_than(ref, ref)
    assert again and {f.verdict for f in again} <= {"met", "within noise"}
    hot = scorecard(z, x, {"x_tilde": toy_detector_fn(z, np.random.default_rng(17), jet_scale=1.05)}, half,
                    classifier=False)  # fmt: skip
    worse = {f.column for f in no_worse_than(hot, ref) if f.verdict == "missed"}
    assert {"m_t^had KS", "|Δmedian| m_t_had"} <= worse, worse
    fewer = scorecard(z[:-10], x[:-10], {"x_tilde": same[:-10]}, half[:-10], classifier=False)
    with pytest.raises(ValueError, match="other events"):
        no_worse_than(fewer, ref)
