import json

import numpy as np
import pytest

from turbosim_hep.constants import X_FEATURES, Z_FEATURES
from turbosim_hep.evaluation.report import MASS_NAMES, PAPER_TABLE1, TABLE1_COLUMNS, build_report
from turbosim_hep.evaluation.samples import load_features
from turbosim_hep.evaluation.scoring import evaluate
from turbosim_hep.events.split import split_mask


@pytest.fixture(scope="module")
def outputs(ttbar, fresh_partons, toy_detector_fn):
    """Outputs of a perfect toy model: E draws fresh partons of the same law, D is the toy detector.

    (Adding Gaussian noise to the partons would not do: it takes them off their mass shell and smears the W and top
    masses, which the classifier rightly sees.)
    """
    z, _ = ttbar
    z_gen, z_rec = fresh_partons
    rng = np.random.default_rng(99)
    return {"z_gen": z_gen, "x_gen": toy_detector_fn(z, rng), "x_rec": toy_detector_fn(z_gen, rng), "z_rec": z_rec}


@pytest.fixture(scope="module")
def report(ttbar, outputs):
    z, x = ttbar
    return build_report(
        z,
        x,
        outputs["z_gen"],
        outputs["x_gen"],
        z_rec=outputs["z_rec"],
        x_rec=outputs["x_rec"],
        classifier_max_events=1500,
    )


def test_report_has_every_table1_column_with_model_rows_floors_and_paper_rows(report):
    t1 = report.table1
    assert [c["key"] for c in t1["columns"]] == [c[0] for c in TABLE1_COLUMNS]
    assert set(t1["independent"]) == {"sampled", "reconstructed", "floor", "floor_expected"}
    assert set(t1["paired"]) == {"sampled", "reconstructed", "floor_expected"}
    for scheme in ("independent", "paired"):
        for row in t1[scheme].values():
            assert len(row) == 10 and all(np.isfinite(v) and 0 <= v <= 1 for v in row)
    assert t1["paper"]["Turbo-Sim (arXiv:2112.10629)"][0] == pytest.approx(0.0528)
    assert set(t1["paper"]) == set(PAPER_TABLE1)


def test_a_good_model_sits_near_the_floor(report):
    ind = report.table1["independent"]
    for v, floor in zip(ind["sampled"], ind["floor_expected"], strict=True):
        assert v < 4 * floor
    # 2000 vs 2000 events: expected floor 0.87 sqrt(2/2000) = 2.75e-2
    assert report.meta["ks_floor_expected_independent"] == pytest.approx(0.0275, rel=0.01)


def test_report_covers_all_48_features_and_the_masses_of_both_spaces(report):
    names = {(v["space"], v["variable"]) for v in report.variables}
    assert {("Z", f) for f in Z_FEATURES} <= names
    assert {("X", f) for f in X_FEATURES} <= names
    assert {(s, m) for s in "ZX" for m in MASS_NAMES} <= names
    rec = report.variable("X", "jet1_E")
    for key in ("ks", "w1", "chi2"):
        assert np.isfinite(rec["independent"]["sampled"][key])
        assert np.isfinite(rec["independent"]["floor"][key])
    assert report.meta["n_half_a"] + report.meta["n_half_b"] == report.meta["n_events"] == 4000


def test_a_biased_model_is_far_above_the_floor(ttbar, outputs, toy_detector_fn):
    z, x = ttbar
    biased = toy_detector_fn(z, np.random.default_rng(5), jet_scale=1.1)
    rep = build_report(z, x, outputs["z_gen"], biased, classifier=False, response=False)
    rec = rep.variable("X", "jet1_E")["independent"]
    assert rec["sampled"]["ks"] > 4 * rec["floor"]["ks"]
    assert rec["sampled"]["w1"] > 2.5 * rec["floor"]["w1"]  # W1 has a heavier-tailed floor than KS
    assert rec["sampled"]["chi2"] > 2.5 * rec["floor"]["chi2"]
    assert "reconstructed" not in rec
    assert set(rep.table1["independent"]) == {"sampled", "floor", "floor_expected"}


def test_classifier_auc_floor_and_response_are_in_the_report(report):
    for space in ("Z", "X"):
        c = report.classifier[space]
        assert len(c["features"]) == 28
        assert abs(c["floor"] - 0.5) < 5 * c["null_std"] + 0.02
        assert abs(c["sampled"] - 0.5) < 5 * c["null_std"] + 0.02
    assert report.response["bins"] and "ks" in report.response["bins"][0]


def test_report_writes_json_and_markdown(report, tmp_path):
    js, md = report.write(tmp_path / "out")
    data = json.loads(js.read_text())
    assert data["table1"]["independent"]["floor"][0] > 0
    text = md.read_text()
    for needle in ("Table 1", "p_y^b", "m_t^had", "floor", "Turbo-Sim (arXiv:2112.10629) [paper]", "5.28", "met_pz †"):
        assert needle in text, needle
    assert not list((tmp_path / "out").glob("*.tmp"))


def test_nonfinite_outputs_are_counted_not_propagated(ttbar, outputs):
    z, x = ttbar
    x_gen = outputs["x_gen"].copy()
    x_gen[:100, 9] = np.nan
    rep = build_report(z, x, outputs["z_gen"], x_gen, classifier=False, response=False)
    rec = rep.variable("X", "jet1_py")
    assert rec["paired"]["sampled"]["nonfinite"] == 100
    assert np.isfinite(rec["paired"]["sampled"]["ks"])
    json.dumps(rep.to_dict(), allow_nan=False)


def test_evaluate_runs_the_model_on_the_test_split_of_a_root_file(tmp_path, ttbar, fake_transform_cls):
    from turbosim_hep.events.features import events_from_features
    from turbosim_hep.io.root import write_events

    z, x = ttbar
    event = np.arange(10_000, 10_000 + len(z))
    path = write_events(tmp_path / "data.root", events_from_features(z=z, x=x, event=event, run=3))
    model = fake_transform_cls(z, event)
    rep = evaluate(
        model,
        tmp_path,
        out=tmp_path / "eval",
        classifier=False,
        plot_formats=("png",),
        plot_variables=[("X", "m_t_had"), ("Z", "b_pz")],
    )
    n_test = int(split_mask(np.full(len(z), 3), event, "test").sum())
    assert rep.meta["n_events"] == n_test
    assert rep.meta["data"] == [str(path)]
    assert model.calls == ["simulate", "unfold", "simulate", "unfold"] + 20 * ["unfold"]  # + 20 posterior draws
    for name in ("report.md", "report.json", "plots/X_m_t_had.png", "plots/Z_b_pz.png", "plots/overview.png",
                 "plots/phase_space.png", "plots/calibration_this_model.png"):  # fmt: skip
        assert (tmp_path / "eval" / name).stat().st_size > 1000, name
    assert rep.classifier is None and rep.response["bins"]


def test_load_features_reads_arrays_and_respects_max_events(ttbar):
    z, x = ttbar
    feats = load_features({"z": z, "x": x}, split=None, max_events=100)
    assert len(feats) == 100 and feats.event[-1] == 99
    test = load_features({"z": z, "x": x, "event": np.arange(len(z)) + 5})
    assert 0.1 < len(test) / len(z) < 0.2
    with pytest.raises(ValueError, match="'z' and 'x'"):
        load_features({"z": z})
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_features("/nonexistent/data.root")
